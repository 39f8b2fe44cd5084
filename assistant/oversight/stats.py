"""Operator statistics, each figure one SQL aggregation over the derived columns and their covering indexes.

Nothing here reads a row's ``response_json``: per day, the answer-type / mode / 文件没有规定 / fallback mix comes
from one GROUP BY over ``ix_turns_day_stats``; distinct sessions and users per day from DISTINCT over their
(day, id) indexes; votes from the feedback rows joined to their turns; top clauses and topics from GROUP BY
over ``turn_citations`` and ``turns.primary_clause``. Latency percentiles are exact: the database returns
a histogram (latency value → count), and the percentile is read off its running sum.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from assistant.oversight.derive import LOCAL_TZ
from assistant.oversight.turns import ANSWER_TYPES
from assistant.tables import feedback_table, turn_citations_table, turns_table

DEFAULT_DAYS = 30
TOP = 10
_T, _F, _C = turns_table.c, feedback_table.c, turn_citations_table.c


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


def percentile(histogram: list[tuple[int, int]], q: float) -> int | None:
    """Nearest-rank percentile of a sorted (value, count) histogram."""
    total = sum(n for _, n in histogram)
    if total == 0:
        return None
    rank = max(1, math.ceil(round(q * total, 9)))  # round first: 0.95 * 20 must be 19, not 19.000000000000004
    running = 0
    for value, n in histogram:
        running += n
        if running >= rank:
            return value
    return histogram[-1][0]


def compute(
    engine: Engine, window: Window, *, titles: Mapping[str, str] | None = None, top: int = TOP
) -> dict[str, Any]:
    titles = titles or {}
    in_window = _T.day.between(window.since, window.until)
    mix_q = (
        select(_T.day, _T.answer_type, _T.mode, _T.unspecified, _T.fallback, func.count())
        .where(in_window)
        .group_by(_T.day, _T.answer_type, _T.mode, _T.unspecified, _T.fallback)
    )
    distinct_sessions = select(_T.day, _T.session_id).where(in_window).distinct().subquery()
    distinct_users = select(_T.day, _T.user_id).where(in_window, _T.user_id.is_not(None)).distinct().subquery()
    sessions_q = select(distinct_sessions.c.day, func.count()).group_by(distinct_sessions.c.day)
    users_q = select(distinct_users.c.day, func.count()).group_by(distinct_users.c.day)
    total_sessions_q = select(func.count(func.distinct(_T.session_id))).where(in_window)
    total_users_q = select(func.count(func.distinct(_T.user_id))).where(in_window)
    # Votes are few (a few % of turns): walk them and look up each one's day, rather than let the planner
    # walk every turn of the window probing for a vote (SQLite picks that order for a plain join).
    vote_day = select(_T.day).where(_T.session_id == _F.session_id, _T.idx == _F.turn).scalar_subquery().label("day")
    votes_sub = select(vote_day, _F.rating).subquery()
    votes_q = (
        select(votes_sub.c.day, votes_sub.c.rating, func.count())
        .where(votes_sub.c.day.between(window.since, window.until))
        .group_by(votes_sub.c.day, votes_sub.c.rating)
    )
    latency_q = (
        select(_T.latency_ms, func.count())
        .where(in_window, _T.latency_ms.is_not(None))
        .group_by(_T.latency_ms)
        .order_by(_T.latency_ms)
    )
    clauses_q = (
        select(_C.clause_id, func.count().label("n"))
        .where(_C.day.between(window.since, window.until))
        .group_by(_C.clause_id)
        .order_by(func.count().desc(), _C.clause_id)
        .limit(top)
    )
    topics_q = (
        select(_T.primary_clause, func.count().label("n"))
        .where(in_window, _T.primary_clause.is_not(None))
        .group_by(_T.primary_clause)
        .order_by(func.count().desc(), _T.primary_clause)
        .limit(top)
    )
    with engine.connect() as conn:
        mix = conn.execute(mix_q).all()
        sessions = {_day(d): n for d, n in conn.execute(sessions_q)}
        users = {_day(d): n for d, n in conn.execute(users_q)}
        total_sessions = conn.execute(total_sessions_q).scalar_one()
        total_users = conn.execute(total_users_q).scalar_one()
        votes = conn.execute(votes_q).all()
        latency = [(int(v), int(n)) for v, n in conn.execute(latency_q)]
        clauses = conn.execute(clauses_q).all()
        topics = conn.execute(topics_q).all()

    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for day, answer_type, mode, unspecified, fallback, n in mix:
        c = per_day[_day(day)]
        c["turns"] += n
        if answer_type is None:
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
        "latency_ms": {
            "count": sum(n for _, n in latency),
            "p50": percentile(latency, 0.50),
            "p95": percentile(latency, 0.95),
        },
        "top_clauses": [{"clause_id": c, "title": titles.get(c), "count": n} for c, n in clauses],
        "top_topics": [{"clause_id": c, "title": titles.get(c), "count": n} for c, n in topics],
        "days": days,
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
