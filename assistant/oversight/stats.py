"""Operator statistics, read from the per-day rollups the database keeps (`assistant.oversight.rollups`).

A window of up to a year is then a few thousand rollup rows, whatever the number of turns: the answer-type /
mode / 文件没有规定 / fallback mix, votes, cited clauses and topics are sums of per-day counts; distinct sessions
and users are counts of (key, day) rows whose previous active day lies before the window (exact, no DISTINCT).
Latency percentiles are exact: the rollup holds 32 ms buckets per day, which locate the bucket the rank falls
in, and only that bucket's turns are read for the exact value (through the (latency_ms, day) index).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, case, func, or_, select

from assistant.oversight.derive import LOCAL_TZ
from assistant.oversight.turns import ANSWER_TYPES
from assistant.tables import (
    LATENCY_BUCKET_MS,
    session_days_table,
    stats_clauses_table,
    stats_daily_table,
    stats_latency_table,
    stats_topics_table,
    stats_votes_table,
    turns_table,
    user_days_table,
)

DEFAULT_DAYS = 30
TOP = 10
_T, _D, _L, _V = turns_table.c, stats_daily_table.c, stats_latency_table.c, stats_votes_table.c


@dataclass(frozen=True)
class Window:
    since: date
    until: date  # inclusive

    @classmethod
    def around(cls, since: date | None, until: date | None, today: date | None = None) -> Window:
        """Missing ends: the last `DEFAULT_DAYS` local days up to today, or that long from/to the given end."""
        today = today or datetime.now(LOCAL_TZ).date()
        if until is None:
            until = today if since is None else max(since, today)
        if since is None:
            since = until - timedelta(days=DEFAULT_DAYS - 1)
        return cls(since, until)

    def days(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _rank(total: int, q: float) -> int:
    return max(1, math.ceil(round(q * total, 9)))  # round first: 0.95 * 20 must be 19, not 19.000000000000004


def _top(table: Table, window: Window, top: int) -> Any:
    c = table.c
    total = func.sum(c.n)
    return (
        select(c.clause_id, total)
        .where(c.day.between(window.since, window.until))
        .group_by(c.clause_id)
        .order_by(total.desc(), c.clause_id)
        .limit(top)
    )


def _active(table: Table, window: Window) -> Any:
    """Per day: keys active that day, and those of them active for the first time in the window."""
    c = table.c
    first = or_(c.prev_day.is_(None), c.prev_day < window.since)
    return (
        select(c.day, func.count(), func.sum(case((first, 1), else_=0)))
        .where(c.day.between(window.since, window.until))
        .group_by(c.day)
    )


def _latency(conn: Connection, window: Window) -> tuple[int, int | None, int | None]:
    """Count, exact p50 and p95: the bucket histogram finds each rank's bucket, that bucket's turns the value."""
    buckets_q = (
        select(_L.bucket, func.sum(_L.n))
        .where(_L.day.between(window.since, window.until))
        .group_by(_L.bucket)
        .order_by(_L.bucket)
    )
    buckets = [(int(b), int(n)) for b, n in conn.execute(buckets_q)]
    total = sum(n for _, n in buckets)
    return (
        total,
        _exact_percentile(conn, window, buckets, total, 0.50),
        _exact_percentile(conn, window, buckets, total, 0.95),
    )


def _exact_percentile(
    conn: Connection, window: Window, buckets: list[tuple[int, int]], total: int, q: float
) -> int | None:
    if total == 0:
        return None
    rank = _rank(total, q)
    below = 0
    for bucket, n in buckets:
        if below + n >= rank:
            low = bucket * LATENCY_BUCKET_MS
            exact_q = (
                select(_T.latency_ms, func.count())
                .where(
                    _T.latency_ms.between(low, low + LATENCY_BUCKET_MS - 1), _T.day.between(window.since, window.until)
                )
                .group_by(_T.latency_ms)
                .order_by(_T.latency_ms)
            )
            histogram = [(int(v), int(c)) for v, c in conn.execute(exact_q)]
            running = below
            for value, count in histogram:
                running += count
                if running >= rank:
                    return value
            return histogram[-1][0] if histogram else low
        below += n
    return None


def compute(
    engine: Engine, window: Window, *, titles: Mapping[str, str] | None = None, top: int = TOP
) -> dict[str, Any]:
    titles = titles or {}
    mix_q = select(_D.day, _D.answer_type, _D.mode, _D.unspecified, _D.fallback, _D.n).where(
        _D.day.between(window.since, window.until)
    )
    votes_q = select(_V.day, _V.rating, _V.n).where(_V.day.between(window.since, window.until))
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one snapshot: buckets and the bucket's turns must agree
            conn.execution_options(isolation_level="REPEATABLE READ")
        mix = conn.execute(mix_q).all()
        session_rows = conn.execute(_active(session_days_table, window)).all()
        user_rows = conn.execute(_active(user_days_table, window)).all()
        votes = conn.execute(votes_q).all()
        latency_count, p50, p95 = _latency(conn, window)
        clauses = conn.execute(_top(stats_clauses_table, window, top)).all()
        topics = conn.execute(_top(stats_topics_table, window, top)).all()
    sessions = {_day(d): n for d, n, _ in session_rows}
    users = {_day(d): n for d, n, _ in user_rows}
    total_sessions = sum(int(first) for _, _, first in session_rows)
    total_users = sum(int(first) for _, _, first in user_rows)

    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for day, answer_type, mode, unspecified, fallback, n in mix:
        c = per_day[_day(day)]
        c["turns"] += n
        if not answer_type:  # '' in the rollup: no reply yet
            c["unanswered"] += n
            continue
        c[answer_type] += n
        c[mode or "grounded"] += n
        c["unspecified"] += n if unspecified else 0
        c["fallback"] += n if fallback else 0
    for day, rating, n in votes:
        per_day[_day(day)][rating] += n
    keys = ("turns", *ANSWER_TYPES, "unanswered", "grounded", "llm", "fallback", "unspecified", "up", "down")
    days = []
    for day in window.days():
        c = per_day.get(day, Counter())
        row: dict[str, Any] = {"day": day.isoformat(), **{k: c[k] for k in keys}}
        row["sessions"], row["users"] = sessions.get(day, 0), users.get(day, 0)
        row["down_rate"] = _share(c["down"], c["turns"])
        days.append(row)
    total: Counter[str] = Counter()
    for c in per_day.values():
        total.update(c)
    answered = total["turns"] - total["unanswered"]
    return {
        "since": window.since.isoformat(),
        "until": window.until.isoformat(),
        "totals": {
            "turns": total["turns"],
            "answered": answered,
            "sessions": total_sessions,
            "users": total_users,
            "up": total["up"],
            "down": total["down"],
            "down_rate": _share(total["down"], total["turns"]),
        },
        "answer_types": {t: total[t] for t in ANSWER_TYPES},
        "unspecified": {"count": total["unspecified"], "share": _share(total["unspecified"], answered)},
        "modes": {"grounded": total["grounded"], "llm": total["llm"]},
        "llm_fallbacks": total["fallback"],
        "latency_ms": {"count": latency_count, "p50": p50, "p95": p95},
        "top_clauses": [{"clause_id": c, "title": titles.get(c), "count": n} for c, n in clauses],
        "top_topics": [{"clause_id": c, "title": titles.get(c), "count": n} for c, n in topics],
        "days": days,
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
