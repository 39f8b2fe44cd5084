"""Operator-console benchmark: statistics, filtered turn pages and the streamed export over N stored turns
(default 1,000,000) in SQLite and in PostgreSQL (a throwaway cluster from tests/servers.py, or --pg-url).

    python bench/bench_admin.py                      # both backends, 1M turns
    python bench/bench_admin.py --rows 50000 --backend sqlite

The data: sessions of three turns spread over the last 365 days, 50,000 users, the answer-type mix of a
public deployment (60 % policy answers, 20 % calculations, 10 % clarifications, 10 % refusals), 30 % LLM
mode, 1-2 citations per answer, a vote on 5 % of turns (40 % of them 踩), replies of ~700 bytes of JSON.
It is written with the DBAPI's bulk paths (executemany on SQLite, COPY on PostgreSQL), with the operator
indexes and the 0005 triggers dropped during the fill; then the indexes are rebuilt, the rollups and the
search index built set-based by the migration's code (each time printed), and the tables ANALYZEd. The per-write
cost of the triggers is timed apart: add_reply p50 over 2,000 replies into a fresh SQLite database.

Goals (issue 12): stats and a filtered page each under 300 ms; the export at least 20,000 rows/s with flat
memory. Each query is run 5 times and the median is printed. The export runs in a child process so its peak
RSS is its own (sampled every 20 ms), not the fill's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from sqlalchemy import text  # noqa: E402

from assistant.oversight import rollups, search_index, stats  # noqa: E402
from assistant.oversight.derive import LOCAL_TZ, local_day  # noqa: E402
from assistant.oversight.export import export_chunks  # noqa: E402
from assistant.oversight.privacy import make_hasher  # noqa: E402
from assistant.oversight.turns import TurnFilter, page  # noqa: E402
from assistant.sql_store import SqlStore  # noqa: E402

CLAUSES = (
    [f"二(一){i}" for i in range(1, 7)] + [f"三({c})" for c in "一二三四五六"] + [f"附件-{i}" for i in range(1, 14)]
)
TYPES = ["policy_answer"] * 6 + ["calculation"] * 2 + ["clarification", "out_of_scope"]
OPERATOR_INDEXES = {
    "ix_turns_latency_ms": "turns (latency_ms, day)",
    "ix_turns_created_at": "turns (created_at, session_id, idx)",
    "ix_turn_citations_day_clause_id": "turn_citations (day, clause_id)",
}
TURN_COLUMNS = (
    "session_id, idx, message, response_json, created_at, answered_at, user_id, day, answer_type, mode, "
    "unspecified, fallback, latency_ms, primary_clause"
)


def response_json(answer_type: str, cites: list[str], mode: str, unspecified: bool) -> str:
    answer = ("文件没有规定该事项。" if unspecified else "") + "根据北碚府发〔2019〕75号，" + "相关条款规定如下。" * 20
    return json.dumps(
        {
            "answer": answer,
            "answer_type": answer_type,
            "citations": [
                {"clause_id": c, "title": "条款标题", "quote": "对符合条件的企业给予一次性奖励"} for c in cites
            ],
            "calculation": None,
            "session_id": "",
            "notices": ["本回答依据的政策文件于2019年印发，请向区商务委确认现行有效性。"],
            "mode": mode,
        },
        ensure_ascii=False,
        separators=(",", ":"),  # as pydantic's model_dump_json writes it (the answer search depends on it)
    )


def generate(rows: int, seed: int = 12):
    """Yields (sessions, turns, citations, feedback) chunks of plain tuples."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    sessions, turns, citations, votes = [], [], [], []
    for n in range(rows):
        s, idx = divmod(n, 3)
        sid = f"{s:032x}"
        if idx == 0:
            user = f"o{rng.randrange(50_000):08d}"
            start = now - timedelta(seconds=rng.randrange(365 * 86400))
            sessions.append((sid, user, start))
        created = start + timedelta(seconds=40 * idx)
        latency = rng.randrange(50, 3000)
        answered = created + timedelta(milliseconds=latency)
        answer_type = rng.choice(TYPES)
        mode = "llm" if rng.random() < 0.3 else "grounded"
        fallback = mode == "grounded" and rng.random() < 0.03
        unspecified = answer_type == "policy_answer" and rng.random() < 0.08
        cites = [] if answer_type in ("clarification", "out_of_scope") else rng.sample(CLAUSES, rng.choice((1, 2)))
        day = local_day(created)
        turns.append(
            (
                sid,
                idx,
                f"问题{n}：自建电商平台有什么补贴？",
                response_json(answer_type, cites, mode, unspecified),
                created,
                answered,
                user,
                day,
                answer_type,
                mode,
                unspecified,
                fallback,
                latency,
                cites[0] if cites else None,
            )
        )
        citations += [(sid, idx, c, day) for c in cites]
        if rng.random() < 0.05:
            votes.append((sid, idx, "down" if rng.random() < 0.4 else "up", None, answered))
        if len(turns) >= 20_000:
            yield sessions, turns, citations, votes
            sessions, turns, citations, votes = [], [], [], []
    if turns:
        yield sessions, turns, citations, votes


def fill(store: SqlStore, rows: int) -> dict[str, float]:
    started = time.perf_counter()
    with store.engine.begin() as conn:
        for name in OPERATOR_INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))
        # Bulk load without the per-row triggers; the rollups and the search index are rebuilt set-based after
        # it, with the 0005 migration's code (the per-write cost is timed separately: add_reply_p50_ms).
        rollups.drop_triggers(conn)
        search_index.drop(conn)
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        if store.dialect == "sqlite":
            cur.execute("BEGIN")
            for sessions, turns, citations, votes in generate(rows):
                fmt = "%Y-%m-%d %H:%M:%S.%f"
                cur.executemany(
                    "INSERT INTO sessions (id, user_id, created_at) VALUES (?, ?, ?)",
                    [(a, b, c.strftime(fmt)) for a, b, c in sessions],
                )
                cur.executemany(
                    f"INSERT INTO turns ({TURN_COLUMNS}) VALUES ({', '.join('?' * 14)})",
                    [(*t[:4], t[4].strftime(fmt), t[5].strftime(fmt), t[6], t[7].isoformat(), *t[8:]) for t in turns],
                )
                cur.executemany(
                    "INSERT INTO turn_citations (session_id, turn, clause_id, day) VALUES (?, ?, ?, ?)",
                    [(a, b, c, d.isoformat()) for a, b, c, d in citations],
                )
                cur.executemany(
                    "INSERT INTO feedback (session_id, turn, rating, comment, created_at) VALUES (?, ?, ?, ?, ?)",
                    [(*v[:4], v[4].strftime(fmt)) for v in votes],
                )
            cur.execute("COMMIT")
        else:
            for sessions, turns, citations, votes in generate(rows):
                for sql, data in (
                    ("COPY sessions (id, user_id, created_at) FROM STDIN", sessions),
                    (f"COPY turns ({TURN_COLUMNS}) FROM STDIN", turns),
                    ("COPY turn_citations (session_id, turn, clause_id, day) FROM STDIN", citations),
                    ("COPY feedback (session_id, turn, rating, comment, created_at) FROM STDIN", votes),
                ):
                    with cur.copy(sql) as copy:
                        for row in data:
                            copy.write_row(row)
            raw.commit()
    finally:
        raw.close()
    filled = time.perf_counter()
    with store.engine.begin() as conn:
        for name, target in OPERATOR_INDEXES.items():
            conn.execute(text(f"CREATE INDEX {name} ON {target}"))
    indexed = time.perf_counter()
    with store.engine.begin() as conn:
        rollups.backfill(conn)
        rollups.create_triggers(conn)
    rolled = time.perf_counter()
    with store.engine.begin() as conn:
        search_index.create(conn)
    searchable = time.perf_counter()
    if store.dialect == "sqlite":
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return {
        "fill_s": filled - started,
        "index_s": indexed - filled,
        "rollups_s": rolled - indexed,
        "search_index_s": searchable - rolled,
        "analyze_s": time.perf_counter() - searchable,
    }


def time_add_reply(url: str, turns: int = 2000) -> float:
    """Median milliseconds of `SqlStore.add_reply` (the write the rollup triggers add to) on a fresh database."""
    from admin_seed import SPECS, response_for

    store = SqlStore(url)
    times = []
    for n in range(turns):
        spec = SPECS[n % len(SPECS)]
        sid, user = f"w{n // 3}", f"u{n // 3 % 50}"
        store.ensure_session(sid, user)
        idx = store.add_user_turn(sid, user, spec.message)
        t = time.perf_counter()
        store.add_reply(sid, idx, response_for(spec))
        times.append((time.perf_counter() - t) * 1000)
    store.close()
    return statistics.median(times)


def timed(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def measure(store: SqlStore) -> dict[str, float]:
    today = datetime.now(LOCAL_TZ).date()
    hash_user = make_hasher(b"bench")
    engine = store.engine
    out: dict[str, float] = {}
    out["stats_30d_ms"], s30 = timed(lambda: stats.compute(engine, stats.Window.around(None, today)))
    out["stats_365d_ms"], s365 = timed(lambda: stats.compute(engine, stats.Window(today - timedelta(days=365), today)))
    out["turns_30d"] = s30["totals"]["turns"]  # type: ignore[index]
    out["turns_365d"] = s365["totals"]["turns"]  # type: ignore[index]
    last30 = TurnFilter(since=today - timedelta(days=29), until=today)
    filters = {
        "page_down_ms": TurnFilter(feedback="down"),
        "page_refused_30d_ms": TurnFilter(refused=True, since=last30.since, until=last30.until),
        "page_clause_calc_ms": TurnFilter(answer_types=("calculation",), clause_id="三(四)"),
        "page_down_unspecified_ms": TurnFilter(feedback="down", unspecified=True),
        "page_text_search_ms": TurnFilter(q="问题12345"),
        "page_text_search_answer_ms": TurnFilter(q="规定如下。相关条款"),  # every answer: the newest-first walk
        "page_text_search_none_ms": TurnFilter(q="no such words"),
    }
    for name, f in filters.items():
        out[name], _ = timed(lambda f=f: page(engine, f, hash_user, limit=50))
    cursor = None
    for _ in range(20):  # the 21st page of 踩 turns
        cursor = page(engine, TurnFilter(feedback="down"), hash_user, limit=50, cursor=cursor).next_cursor
    out["page_down_21st_ms"], _ = timed(lambda: page(engine, TurnFilter(feedback="down"), hash_user, cursor=cursor))
    return out


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def export_child(url: str) -> None:
    """Run in a child process: stream the full export to /dev/null, print rows/s and RSS."""
    store = SqlStore(url, migrate=False)
    hash_user = make_hasher(b"bench")
    start_rss, peak = rss_kb(), [rss_kb()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_kb())

    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    size = rows = 0
    with open(os.devnull, "wb") as sink:
        for chunk in export_chunks(store.engine, TurnFilter(), hash_user, "jsonl"):
            rows += chunk.count(b"\n")
            size += len(chunk)
            sink.write(chunk)
    seconds = time.perf_counter() - started
    done.set()
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "rows_per_s": rows / seconds,
                "mb": size / 1e6,
                "rss_start_mb": start_rss / 1024,
                "rss_peak_mb": max(peak[0], rss_kb()) / 1024,
            }
        )
    )


def run(url: str, rows: int) -> dict:
    store = SqlStore(url)
    print(f"[{store.dialect}] filling {rows:,} turns …", flush=True)
    timings = fill(store, rows)
    print(
        f"[{store.dialect}] fill {timings['fill_s']:.1f}s, indexes {timings['index_s']:.1f}s, "
        f"rollups {timings['rollups_s']:.1f}s, search index {timings['search_index_s']:.1f}s, "
        f"analyze {timings['analyze_s']:.1f}s",
        flush=True,
    )
    result = {"backend": store.dialect, "rows": rows, **timings, **measure(store)}
    store.close()
    child = subprocess.run(
        [sys.executable, __file__, "--export-child", url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    result["export"] = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=None, help="an empty PostgreSQL database; default: start one")
    parser.add_argument("--export-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(args.export_child)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="pa-bench-admin-"))
    results = []
    if args.backend in ("sqlite", "both"):
        results.append(run(f"sqlite:///{tmp / 'bench.db'}", args.rows))
        results[-1]["add_reply_p50_ms"] = time_add_reply(f"sqlite:///{tmp / 'writes.db'}")
        print(f"[sqlite] add_reply p50 {results[-1]['add_reply_p50_ms']:.2f} ms", flush=True)
    if args.backend in ("postgres", "both"):
        stop = None
        url = args.pg_url
        if url is None:
            from servers import start_postgres

            url, stop = start_postgres(tmp / "pg")
        try:
            results.append(run(url, args.rows))
        finally:
            if stop is not None:
                stop()
    print(
        "\n| backend | turns | stats 30 d | stats 365 d | 踩 page | 21st 踩 page | refused 30 d | clause+type | "
        "踩+unspecified | text search: rare / every answer / none | export rows/s | export RSS start→peak | add_reply p50 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        e = r["export"]
        print(
            f"| {r['backend']} | {r['rows']:,} | {r['stats_30d_ms']:.0f} ms | {r['stats_365d_ms']:.0f} ms | "
            f"{r['page_down_ms']:.1f} ms | {r['page_down_21st_ms']:.1f} ms | {r['page_refused_30d_ms']:.1f} ms | "
            f"{r['page_clause_calc_ms']:.1f} ms | {r['page_down_unspecified_ms']:.1f} ms | "
            f"{r['page_text_search_ms']:.1f} / {r['page_text_search_answer_ms']:.1f} / "
            f"{r['page_text_search_none_ms']:.1f} ms | {e['rows_per_s']:,.0f} | "
            f"{e['rss_start_mb']:.0f}→{e['rss_peak_mb']:.0f} MB | "
            + (f"{r['add_reply_p50_ms']:.2f} ms |" if "add_reply_p50_ms" in r else "– |")
        )
    print(f"\n(data under {tmp}; delete it when done)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
