"""The 0005 rollups and the text-search index, on SQLite and a real PostgreSQL: after any mix of turns, replies
written twice, votes that flip, turns moved to another day and purges, the trigger-kept rollups equal a
from-scratch recomputation, the statistics equal direct aggregation over the turns, and the ``q`` filter
returns exactly the case-insensitive substring matches, whichever way the index is used."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
from admin_seed import SPECS, backdate, local, response_for
from sqlalchemy import func, select

from assistant.oversight import rollups, search_index, stats
from assistant.oversight.retention import purge_before
from assistant.oversight.turns import TurnFilter, page
from assistant.schemas import ChatResponse, Citation
from assistant.sql_store import SqlStore, alembic_config
from assistant.tables import ROLLUP_TABLES, turns_table

START = date(2025, 3, 1)
_T = turns_table.c


@pytest.fixture
def store(db_url):
    s = SqlStore(db_url)
    yield s
    s.close()


def snapshot(store: SqlStore) -> dict[str, list[tuple]]:
    with store.engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, r)) for r in conn.execute(select(t))) for t in ROLLUP_TABLES}


def recomputed(store: SqlStore) -> dict[str, list[tuple]]:
    """The rollups as the migration's set-based backfill builds them from the base tables (then rolled back)."""
    with store.engine.connect() as conn:
        tx = conn.begin()
        rollups.backfill(conn)
        result = {t.name: sorted(tuple(map(str, r)) for r in conn.execute(select(t))) for t in ROLLUP_TABLES}
        tx.rollback()
    return result


def direct_distinct(store: SqlStore, since: date, until: date) -> tuple[int, int, int]:
    in_window = _T.day.between(since, until)
    with store.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).where(in_window)).scalar_one(),
            conn.execute(select(func.count(func.distinct(_T.session_id))).where(in_window)).scalar_one(),
            conn.execute(select(func.count(func.distinct(_T.user_id))).where(in_window)).scalar_one(),
        )


def direct_latency(store: SqlStore, since: date, until: date) -> list[int]:
    with store.engine.connect() as conn:
        return sorted(
            conn.execute(
                select(_T.latency_ms).where(_T.day.between(since, until), _T.latency_ms.is_not(None))
            ).scalars()
        )


def nearest_rank(values: list[int], q: float) -> int | None:
    return values[max(1, -(-round(q * len(values) * 1e9) // 10**9)) - 1] if values else None


def test_rollups_follow_every_write_and_equal_a_recomputation(store):
    rng = random.Random(7)
    turns: list[tuple[str, str, int]] = []
    for step in range(160):
        action = rng.random()
        if action < 0.45 or not turns:
            sid = f"s{rng.randrange(25)}"
            user = None if sid in ("s0", "s1") else f"u{int(sid[1:]) % 7}"
            spec = rng.choice(SPECS)
            store.ensure_session(sid, user)
            idx = store.add_user_turn(sid, user, spec.message)
            turns.append((sid, user, idx))
            if rng.random() < 0.8:
                store.add_reply(sid, idx, response_for(spec))
            # spread over 12 days, out of order: prev_day links must be inserted in the middle of chains
            backdate(
                store,
                sid,
                idx,
                local(START + timedelta(days=rng.randrange(12)), rng.randrange(24)),
                rng.randrange(3000),
            )
        elif action < 0.6:
            sid, _, idx = rng.choice(turns)  # a reply written again: the old contribution must go
            # asked "now" first: a reply now to a question of 2025 has a latency beyond PostgreSQL's INTEGER
            backdate(store, sid, idx, datetime.now(timezone.utc), 0)
            store.add_reply(sid, idx, response_for(rng.choice(SPECS)))
            backdate(store, sid, idx, local(START + timedelta(days=rng.randrange(12)), 7), rng.randrange(3000))
        elif action < 0.85:
            sid, user, idx = rng.choice(turns)  # a vote, often replacing an earlier one (up -> down)
            store.add_feedback(sid, user, idx, rng.choice(("up", "down")), None)
        else:
            sid, _, idx = rng.choice(turns)  # a turn moved to another day, with its vote and citations
            backdate(store, sid, idx, local(START + timedelta(days=rng.randrange(12)), 12), rng.randrange(3000))
        if step % 40 == 39:
            assert snapshot(store) == recomputed(store)
    assert sum(len(rows) for rows in snapshot(store).values()) > 50  # the walk really filled the rollups
    purge_before(store.engine, START + timedelta(days=4))  # a purge empties whole days, keeps the chains right
    after = snapshot(store)
    assert after == recomputed(store)
    assert all(row[1] >= str(START + timedelta(days=4)) for row in after["session_days"])
    for since, until in [(0, 11), (3, 8), (5, 5), (4, 11), (7, 30)]:
        window = stats.Window(START + timedelta(days=since), START + timedelta(days=until))
        figures = stats.compute(store.engine, window)
        n, sessions, users = direct_distinct(store, window.since, window.until)
        assert (figures["totals"]["turns"], figures["totals"]["sessions"], figures["totals"]["users"]) == (
            n,
            sessions,
            users,
        )
        latencies = direct_latency(store, window.since, window.until)
        assert figures["latency_ms"] == {
            "count": len(latencies),
            "p50": nearest_rank(latencies, 0.50),
            "p95": nearest_rank(latencies, 0.95),
        }


def test_downgrade_to_0004_and_back_keeps_the_statistics(store):
    from alembic import command

    rng = random.Random(3)
    for i, spec in enumerate(SPECS * 3):
        sid = f"d{i % 5}"
        store.ensure_session(sid, f"u{i % 5}")
        idx = store.add_user_turn(sid, f"u{i % 5}", spec.message)
        store.add_reply(sid, idx, response_for(spec))
        backdate(store, sid, idx, local(START + timedelta(days=rng.randrange(5)), 9), 100 * i)
    window = stats.Window(START, START + timedelta(days=4))
    before = stats.compute(store.engine, window)
    cfg = alembic_config(store.url)
    command.downgrade(cfg, "0004_oversight")
    with store.engine.connect() as conn:
        assert "stats_daily" not in conn.dialect.get_table_names(conn)
    command.upgrade(cfg, "head")  # the backfill rebuilds every figure
    assert stats.compute(store.engine, window) == before
    assert before["totals"]["turns"] == len(SPECS) * 3


# --- text search ------------------------------------------------------------------------------------------

SEARCH_TURNS = [
    ("q1", "Platform SUBSIDY for 跨境电商?", "【三(四)】给予一次性奖励。"),
    ("q2", "能拿多少？", "按交易额给予 Platform subsidy 补贴，50% 封顶。"),
    ("q3", "文件有没有说税收优惠？", "文件没有规定税收优惠。"),
    ("q4", "跨境电商 100%_奖励", "超出范围。"),
    ("q5", "自建电商平台有什么补贴？", None),  # not answered yet
]


def reply(sid: str, answer: str) -> ChatResponse:
    cites = [Citation(clause_id="三(四)", title="标题", quote="原文")]
    return ChatResponse(answer=answer, answer_type="policy_answer", citations=cites, session_id=sid)


def expected(store: SqlStore, q: str) -> set[tuple[str, int]]:
    """Substring of the question or of the stored answer, ASCII case-insensitive (all the data is ASCII/CJK)."""
    found = set()
    for sid, turn in [(s, 0) for s, _, _ in SEARCH_TURNS]:
        (stored,) = store.turns(sid, "searcher")[turn : turn + 1]
        texts = [stored.message] + ([stored.response.answer] if stored.response else [])
        if any(q.lower() in t.lower() for t in texts):
            found.add((sid, turn))
    return found


def searched(store: SqlStore, q: str, limit: int = 2) -> set[tuple[str, int]]:
    """Every page of the q filter (limit 2: the cursor is walked too)."""
    items, cursor = [], None
    while True:
        p = page(store.engine, TurnFilter(q=q), lambda u: u, limit=limit, cursor=cursor)
        items += p.items
        if p.next_cursor is None:
            break
        cursor = p.next_cursor
    keys = [(i["session_id"], i["turn"]) for i in items]
    assert len(keys) == len(set(keys))
    return set(keys)


QUERIES = [
    "platform sub",  # question (upper case stored) and answer (lower case stored)
    "给予一次性",  # only in an answer
    "跨境电商",  # only in questions
    "税收优惠",  # question and answer of the same turn: one row
    "50% 封顶",  # a literal % (not a wildcard)
    "100%_奖",  # % and _ literal
    "0%_",  # nothing: _ must not match any character
    "补贴",  # 2 characters: the plain scan
    "电商平台有什么",  # an unanswered turn's question
    "no such text",
    '"引号"',  # FTS5 query syntax characters stay literal
]


@pytest.mark.parametrize("cap", [search_index.CANDIDATE_CAP, 0])
def test_text_search_is_exactly_the_substring_match(store, monkeypatch, cap):
    monkeypatch.setattr(search_index, "CANDIDATE_CAP", cap)  # 0: every query takes the newest-first scan
    for sid, question, answer in SEARCH_TURNS:
        store.ensure_session(sid, "searcher")
        store.add_user_turn(sid, "searcher", question)
        if answer is not None:
            store.add_reply(sid, 0, reply(sid, answer))
    for q in QUERIES:
        assert searched(store, q) == expected(store, q), q
    assert searched(store, "给予一次性") == {("q1", 0)}
    assert searched(store, "跨境电商") == {("q1", 0), ("q4", 0)}
    assert searched(store, "platform sub") == {("q1", 0), ("q2", 0)}
    store.add_reply("q1", 0, reply("q1", "改写后的答复。"))  # a reply written again: the index follows it
    assert searched(store, "给予一次性") == set() and searched(store, "改写后的") == {("q1", 0)}
    purge_before(store.engine, date.today() + timedelta(days=2))
    assert searched(store, "跨境电商") == set()
    if store.dialect == "sqlite":
        with store.engine.begin() as conn:  # a contentless FTS5 index told wrong values on delete is corrupt
            conn.exec_driver_sql("INSERT INTO turns_fts (turns_fts) VALUES ('integrity-check')")


def test_sqlite_narrows_by_trigrams_and_falls_back_for_short_or_common_queries(tmp_path, monkeypatch):
    store = SqlStore(f"sqlite:///{tmp_path / 's.db'}")
    for i in range(5):
        store.ensure_session(f"c{i}", "u")
        store.add_user_turn(f"c{i}", "u", f"问题{i}：自建电商平台")
    with store.engine.connect() as conn:
        assert search_index.candidates(conn, "问题3") is not None
        assert len(conn.execute(search_index.candidates(conn, "问题3")).all()) == 1  # type: ignore[arg-type]
        assert search_index.candidates(conn, "问题") is None  # under 3 characters
        monkeypatch.setattr(search_index, "CANDIDATE_CAP", 4)
        assert search_index.candidates(conn, "自建电商") is None  # 5 candidates > cap: scan instead
    assert search_index.fts_query('a"bc') == '"a""b" AND """bc"'
    store.close()
