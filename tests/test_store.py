"""SqlStore: schema migrations, the Store contract, ownership, concurrency across threads, store instances
and processes, on SQLite and on a real PostgreSQL (the ``postgres_url`` fixture)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from assistant.schemas import ChatResponse, Citation
from assistant.settings import Settings
from assistant.sql_store import SqlStore, normalize_database_url
from assistant.store import MemoryStore, SessionNotFound, create_store

REPO = Path(__file__).resolve().parent.parent


def _reply(session_id: str, text_: str = "答复。") -> ChatResponse:
    return ChatResponse(
        answer=text_,
        answer_type="policy_answer",
        citations=[Citation(clause_id="三(四)", title="支持自建电商平台", quote="给予补贴")],
        session_id=session_id,
        notices=["提示"],
    )


@pytest.fixture
def store(db_url):
    s = SqlStore(db_url)
    yield s
    s.close()


# --- schema --------------------------------------------------------------------------------------


def test_migration_creates_schema_at_head(store):
    insp = inspect(store.engine)
    assert {
        "sessions",
        "turns",
        "feedback",
        "wechat_users",
        "turn_citations",
        "alembic_version",
        "stats_daily",
        "stats_latency",
        "stats_topics",
        "stats_clauses",
        "stats_votes",
        "session_days",
        "user_days",
    } <= set(insp.get_table_names())
    assert [c["name"] for c in insp.get_columns("turns")] == [
        "session_id",
        "idx",
        "message",
        "response_json",
        "created_at",
        "answered_at",
        "flag",
        "user_id",
        "day",
        "answer_type",
        "mode",
        "unspecified",
        "fallback",
        "latency_ms",
        "primary_clause",
    ]
    assert insp.get_pk_constraint("turns")["constrained_columns"] == ["session_id", "idx"]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0005_rollups"


def test_reopening_is_idempotent_and_keeps_data(db_url):
    first = SqlStore(db_url)
    first.ensure_session("s1", "u1")
    first.add_user_turn("s1", "u1", "你好")
    first.close()
    second = SqlStore(db_url)  # runs the migration again: a no-op at head
    assert [t.message for t in second.turns("s1", "u1")] == ["你好"]
    second.close()


def test_migration_matches_the_table_definitions(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assistant.oversight.search_index import PG_INDEXES, SQLITE_TABLES
    from assistant.tables import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    # The text-search index is outside the metadata: SQLite's FTS5 virtual table with its shadow tables, and
    # PostgreSQL's trigram indexes on expressions. It is all of the difference.
    search = [
        d
        for d in diff
        if (d[0] == "remove_table" and d[1].name in SQLITE_TABLES)
        or (d[0] == "remove_index" and d[1].name in PG_INDEXES)
    ]
    assert len(search) == (len(SQLITE_TABLES) if store.dialect == "sqlite" else len(PG_INDEXES))
    assert [d for d in diff if d not in search] == []


def test_instances_starting_at_once_all_migrate(db_url):
    errors: list[BaseException] = []
    stores: list[SqlStore] = []

    def start() -> None:
        try:
            stores.append(SqlStore(db_url))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(stores) == 4
    for s in stores:
        s.close()


# --- the Store contract --------------------------------------------------------------------------


def test_turns_round_trip_in_order(store):
    store.ensure_session("s1", "u1")
    assert store.add_user_turn("s1", "u1", "第一问") == 0
    assert store.add_user_turn("s1", "u1", "第二问") == 1
    reply = _reply("s1", "第一答【三(四)】")
    store.add_reply("s1", 0, reply)
    turns = store.turns("s1", "u1")
    assert [(t.index, t.message) for t in turns] == [(0, "第一问"), (1, "第二问")]
    assert turns[0].response == reply
    assert turns[1].response is None  # stored before it was answered
    assert turns[0].created_at and turns[0].created_at.endswith("+00:00")


def test_add_user_turn_creates_the_session(store):
    assert store.add_user_turn("fresh", None, "匿名提问") == 0
    assert [t.message for t in store.turns("fresh", None)] == ["匿名提问"]


def test_sessions_belong_to_their_user(store):
    store.ensure_session("mine", "openid-a")
    store.add_user_turn("mine", "openid-a", "问题")
    store.ensure_session("mine", "openid-a")  # the owner again: fine
    for user in ("openid-b", None):
        with pytest.raises(SessionNotFound):
            store.ensure_session("mine", user)
        with pytest.raises(SessionNotFound):
            store.add_user_turn("mine", user, "偷看")
        with pytest.raises(SessionNotFound):
            store.turns("mine", user)
        with pytest.raises(SessionNotFound):
            store.add_feedback("mine", user, 0, "up", None)
    with pytest.raises(SessionNotFound):
        store.turns("never-created", "openid-a")
    assert [t.message for t in store.turns("mine", "openid-a")] == ["问题"]


def test_anonymous_session_is_not_readable_by_a_user(store):
    store.add_user_turn("anon", None, "问题")
    with pytest.raises(SessionNotFound):
        store.turns("anon", "openid-a")
    assert len(store.turns("anon", None)) == 1


def test_feedback_is_stored_and_a_second_vote_replaces_the_first(store):
    store.add_user_turn("s", "u", "问题")
    store.add_reply("s", 0, _reply("s"))
    store.add_user_turn("s", "u", "第二问")
    store.add_feedback("s", "u", 0, "down", "没说申报材料")
    rows = store.feedback_for("s")
    assert [(r["turn"], r["rating"], r["comment"], r["updated_at"]) for r in rows] == [
        (0, "down", "没说申报材料", None)
    ]
    store.add_feedback("s", "u", 0, "up", None)
    store.add_feedback("s", "u", 1, "up", "好")
    rows = store.feedback_for("s")
    assert [(r["turn"], r["rating"], r["comment"]) for r in rows] == [(0, "up", None), (1, "up", "好")]
    assert rows[0]["updated_at"] is not None and rows[0]["created_at"] <= rows[0]["updated_at"]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM feedback")).scalar_one() == 2
    with pytest.raises(SessionNotFound):
        store.add_feedback("s", "u", 2, "up", None)  # no such turn
    with pytest.raises(ValueError):
        store.add_feedback("s", "u", 0, "meh", None)


def test_reply_to_unknown_turn_is_an_error(store):
    store.add_user_turn("s", "u", "问题")
    with pytest.raises(SessionNotFound):
        store.add_reply("s", 7, _reply("s"))


def test_overlong_ids_are_rejected(store):
    with pytest.raises(ValueError):
        store.ensure_session("x" * 129, None)
    with pytest.raises(ValueError):
        store.add_user_turn("s", "u" * 129, "问题")


def test_unicode_and_long_messages_survive(store):
    message = "北碚区🚀电商" * 500
    store.add_user_turn("s", "用户甲", message)
    assert store.turns("s", "用户甲")[0].message == message


# --- concurrency -----------------------------------------------------------------------------------


def test_parallel_turns_from_two_instances_are_numbered_without_gaps(db_url):
    """Two store instances (= two API processes) and 16 threads appending to 4 sessions."""
    a, b = SqlStore(db_url), SqlStore(db_url)
    per_thread = 15

    def work(i: int) -> list[tuple[str, int, str]]:
        s = (a, b)[i % 2]
        session = f"s{i % 4}"
        out = []
        for j in range(per_thread):
            message = f"t{i}-m{j}"
            idx = s.add_user_turn(session, "u", message)
            s.add_reply(session, idx, _reply(session, f"re:{message}"))
            out.append((session, idx, message))
        return out

    with ThreadPoolExecutor(16) as pool:
        results = [r for chunk in pool.map(work, range(16)) for r in chunk]
    for k in range(4):
        turns = a.turns(f"s{k}", "u")
        assert [t.index for t in turns] == list(range(4 * per_thread))
        assert all(t.response is not None and t.response.answer == f"re:{t.message}" for t in turns)
    by_key = {(s, i): m for s, i, m in results}
    assert len(by_key) == len(results)  # no index handed out twice
    for (session, idx), message in by_key.items():
        assert a.turns(session, "u")[idx].message == message
    a.close()
    b.close()


def test_parallel_turns_from_separate_processes(db_url, tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from assistant.sql_store import SqlStore
        url, tag = sys.argv[1], sys.argv[2]
        s = SqlStore(url)
        for j in range(25):
            s.add_user_turn("shared", "u", f"{tag}-{j}")
        s.close()
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, db_url, f"p{i}"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for i in range(3)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    store = SqlStore(db_url)
    turns = store.turns("shared", "u")
    assert [t.index for t in turns] == list(range(75))
    assert sorted(t.message for t in turns) == sorted(f"p{i}-{j}" for i in range(3) for j in range(25))
    # each process's own turns keep their order
    for i in range(3):
        mine = [int(t.message.split("-")[1]) for t in turns if t.message.startswith(f"p{i}-")]
        assert mine == sorted(mine)
    store.close()


# --- SQLite specifics, factory, URLs --------------------------------------------------------------


def test_sqlite_runs_in_wal_with_busy_timeout(tmp_path):
    s = SqlStore(f"sqlite:///{tmp_path / 'w.db'}")
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    s.close()
    full = SqlStore(f"sqlite:///{tmp_path / 'f.db'}", synchronous="FULL")
    with full.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    full.close()


def test_committed_turn_is_visible_to_a_plain_sqlite_reader(tmp_path):
    path = tmp_path / "c.db"
    s = SqlStore(f"sqlite:///{path}")
    s.add_user_turn("s", "u", "问题")
    s.add_reply("s", 0, _reply("s"))
    with sqlite3.connect(path) as raw:
        ((message, response_json),) = raw.execute("SELECT message, response_json FROM turns").fetchall()
    assert message == "问题"
    assert ChatResponse.model_validate_json(response_json) == _reply("s")
    s.close()


def test_in_memory_sqlite_works_for_library_use():
    s = SqlStore("sqlite://")
    s.add_user_turn("s", None, "问题")
    assert len(s.turns("s", None)) == 1


def test_create_store_follows_settings(tmp_path):
    s = create_store(Settings(data_dir=tmp_path, database_url=None))
    assert isinstance(s, SqlStore)
    assert Path(s.url.database) == tmp_path / "assistant.db"
    assert (tmp_path / "assistant.db").exists()
    s.close()
    assert isinstance(create_store(Settings(data_dir=tmp_path, database_url="memory")), MemoryStore)
    other = create_store(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'x' / 'y.db'}"))
    assert (tmp_path / "x" / "y.db").exists()
    other.close()


def test_postgres_urls_use_psycopg3():
    assert normalize_database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_database_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_database_url("sqlite:///x.db").drivername == "sqlite"


def test_votes_racing_on_one_turn_leave_one_row(db_url):
    """Two store instances voting on the same turn at once: the unique index and the upsert keep one row."""
    a, b = SqlStore(db_url), SqlStore(db_url)
    a.add_user_turn("race", "u", "问题")

    def vote(i: int) -> None:
        (a, b)[i % 2].add_feedback("race", "u", 0, ("up", "down")[i % 2], f"第{i}次")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(vote, range(40)))
    rows = a.feedback_for("race")
    assert len(rows) == 1 and rows[0]["rating"] in ("up", "down")
    a.close()
    b.close()


def test_upgrade_from_0001_keeps_the_latest_of_duplicate_votes(db_url):
    """A database created at revision 0001 (duplicates allowed) upgrades to one vote per turn, the latest."""
    from alembic import command

    from assistant.sql_store import alembic_config, normalize_database_url

    url = normalize_database_url(db_url).render_as_string(hide_password=False)
    command.upgrade(alembic_config(url), "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sessions (id, user_id, created_at) VALUES ('s', 'u', CURRENT_TIMESTAMP)"))
        conn.execute(
            text(
                "INSERT INTO turns (session_id, idx, message, created_at) "
                "VALUES ('s', 0, 'q0', CURRENT_TIMESTAMP), ('s', 1, 'q1', CURRENT_TIMESTAMP)"
            )
        )
        for turn, rating in [(0, "up"), (0, "down"), (1, "down"), (0, "up"), (1, "up")]:
            conn.execute(
                text(
                    "INSERT INTO feedback (session_id, turn, rating, created_at) "
                    "VALUES ('s', :t, :r, CURRENT_TIMESTAMP)"
                ),
                {"t": turn, "r": rating},
            )
    engine.dispose()
    store = SqlStore(db_url)  # migrates to head
    assert [(r["turn"], r["rating"]) for r in store.feedback_for("s")] == [(0, "up"), (1, "up")]
    store.add_feedback("s", "u", 1, "down", None)
    assert [(r["turn"], r["rating"]) for r in store.feedback_for("s")] == [(0, "up"), (1, "down")]
    store.close()


def test_has_session_answers_without_creating(store):
    assert store.has_session("nobody-made-this", "u") is False
    assert store.has_session("x" * 200, "u") is False
    store.add_user_turn("mine", "u", "问题")
    assert store.has_session("mine", "u") is True
    assert store.has_session("mine", "other") is False
    assert store.has_session("mine", None) is False
    with pytest.raises(SessionNotFound):
        store.turns("nobody-made-this", "u")  # still not created


@pytest.mark.parametrize("bad", ["\ud800", "前\udfff后", "NUL\x00"])
def test_text_a_database_cannot_hold_is_refused_before_writing(store, bad):
    with pytest.raises(ValueError):
        store.add_user_turn("fresh-bad", "u", bad)
    assert store.has_session("fresh-bad", "u") is False  # no session row left behind
    store.add_user_turn("ok", "u", "问题")
    with pytest.raises(ValueError):
        store.add_feedback("ok", "u", 0, "up", bad)
    assert store.feedback_for("ok") == []


def test_turn_numbers_beyond_the_column_are_not_found(store):
    store.add_user_turn("s", "u", "问题")
    for turn in (2**31, 2**63, 10**30):
        with pytest.raises(SessionNotFound):
            store.add_feedback("s", "u", turn, "up", None)


def test_memory_store_keeps_one_vote_per_turn():
    s = MemoryStore()
    s.add_user_turn("m", "u", "问题")
    assert s.has_session("m", "u") and not s.has_session("m", None) and not s.has_session("n", "u")
    s.add_feedback("m", "u", 0, "down", "差")
    s.add_feedback("m", "u", 0, "up", None)
    assert s.feedback == [{"session_id": "m", "turn": 0, "rating": "up", "comment": None}]


def test_the_documented_library_imports_still_work():
    """README: ``from assistant.store import SqlStore``; the schema names imported from here before the split."""
    from assistant import sql_store, tables
    from assistant.store import MIGRATIONS_DIR, SqlStore, metadata, normalize_database_url, turns_table

    assert SqlStore is sql_store.SqlStore and normalize_database_url is sql_store.normalize_database_url
    assert metadata is tables.metadata and turns_table is tables.turns_table
    assert MIGRATIONS_DIR == sql_store.MIGRATIONS_DIR
    with pytest.raises(ImportError):
        from assistant.store import no_such_name  # noqa: F401
