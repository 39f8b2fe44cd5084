"""The operator console's storage side: the 0004 migration's backfill, retention (`purge` deletes exactly the
turns before a date, with their feedback and citations, in one transaction), the CLI around it, and the
derived columns written with each reply. SQLite and a real PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from admin_seed import DAY1, DAY2, DAY3, SPECS, backdate, local, response_for, seed
from sqlalchemy import create_engine, func, select, text

from assistant import cli
from assistant.chain import FALLBACK_NOTICE
from assistant.oversight import derive
from assistant.oversight.retention import RetentionThread, parse_day, purge_before, purge_expired
from assistant.settings import get_settings
from assistant.sql_store import MIGRATIONS_DIR, SqlStore, normalize_database_url
from assistant.tables import feedback_table, sessions_table, turn_citations_table, turns_table


def counts(store: SqlStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (sessions_table, turns_table, feedback_table, turn_citations_table)
        }


def turn_keys(store: SqlStore) -> set[tuple[str, int]]:
    with store.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(select(turns_table.c.session_id, turns_table.c.idx))}


# --- derived columns ----------------------------------------------------------------------------------


def test_fallback_notice_is_the_chains():
    assert derive.FALLBACK_NOTICE == FALLBACK_NOTICE


def test_reply_columns_are_written_with_the_reply(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'd.db'}")
    seed(store)
    c = turns_table.c
    with store.engine.connect() as conn:
        rows = {(r.session_id, r.idx): r for r in conn.execute(select(turns_table))}
        cited = conn.execute(
            select(turn_citations_table.c.clause_id).where(
                turn_citations_table.c.session_id == "sa", turn_citations_table.c.turn == 0
            )
        ).scalars()
        assert sorted(cited) == ["三(四)", "附件-11"]
    assert rows[("sa", 0)].user_id == "owner-alice" and rows[("se", 0)].user_id is None
    assert rows[("sa", 0)].day == DAY1 and rows[("sb", 0)].day == DAY1  # 23:59 UTC+8 is still 1 March
    assert rows[("sc", 0)].fallback and not rows[("sc", 1)].fallback and rows[("sc", 1)].mode == "llm"
    assert rows[("sc", 1)].unspecified and rows[("se", 0)].unspecified and not rows[("sa", 0)].unspecified
    assert rows[("sa", 0)].primary_clause == "三(四)" and rows[("sb", 0)].primary_clause is None
    assert rows[("sb", 0)].answer_type == "out_of_scope"
    assert c.latency_ms is not None and rows[("sd", 0)].latency_ms == 600
    store.close()


def test_upgrade_from_0002_backfills_existing_turns(db_url):
    from alembic import command
    from alembic.config import Config

    url = normalize_database_url(db_url).render_as_string(hide_password=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "0002")
    created = datetime(2025, 3, 1, 16, 30, tzinfo=timezone.utc)  # 00:30 on 2 March in UTC+8
    answered = created + timedelta(milliseconds=250)
    good = response_for(SPECS[4]).model_dump_json()  # llm, 文件没有规定, cites 一(一)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sessions (id, user_id, created_at) VALUES ('s', 'u', :at)"), {"at": created})
        insert = text(
            "INSERT INTO turns (session_id, idx, message, response_json, created_at, answered_at) "
            "VALUES ('s', :i, 'q', :r, :c, :a)"
        )
        conn.execute(
            insert,
            [
                {"i": 0, "r": good, "c": created, "a": answered},
                {"i": 1, "r": "{not json", "c": created, "a": answered},
                {"i": 2, "r": None, "c": created, "a": None},
            ],
        )
    engine.dispose()
    store = SqlStore(db_url)  # migrates to head
    with store.engine.connect() as conn:
        rows = conn.execute(select(turns_table).order_by(turns_table.c.idx)).all()
        cited = conn.execute(select(turn_citations_table.c.clause_id, turn_citations_table.c.day)).all()
    assert (rows[0].answer_type, rows[0].mode, rows[0].unspecified, rows[0].latency_ms) == (
        "policy_answer",
        "llm",
        True,
        250,
    )
    assert rows[0].day == date(2025, 3, 2) and rows[0].user_id == "u" and rows[0].primary_clause == "一(一)"
    assert rows[1].answer_type is None and rows[1].day == date(2025, 3, 2)  # unparseable: derived columns null
    assert rows[2].answer_type is None and rows[2].user_id == "u"
    assert cited == [("一(一)", date(2025, 3, 2))]
    store.close()


# --- retention ------------------------------------------------------------------------------------------


def test_purge_deletes_exactly_the_turns_before_the_date(db_url):
    store = SqlStore(db_url)
    seed(store)
    # the edges: the last millisecond of 1 March and the first instant of 2 March (UTC+8)
    store.ensure_session("edge", "u")
    store.add_user_turn("edge", "u", "早")
    store.add_user_turn("edge", "u", "晚")
    backdate(store, "edge", 0, local(DAY1, 23, 59) + timedelta(seconds=59, milliseconds=999), 1)
    backdate(store, "edge", 1, local(DAY2, 0, 0), 1)
    before = turn_keys(store)
    result = purge_before(store.engine, DAY2)
    after = turn_keys(store)
    assert before - after == {("sa", 0), ("sa", 1), ("sb", 0), ("edge", 0)}
    assert (result.turns, result.feedback, result.citations, result.sessions) == (4, 3, 3, 2)
    assert counts(store) == {"sessions": 4, "turns": 5, "feedback": 1, "turn_citations": 3}
    fresh = SqlStore(db_url)  # (the purging store's own owner cache may still remember the deleted ids)
    assert fresh.has_session("sa", "owner-alice") is False and fresh.has_session("edge", "u") is True
    fresh.close()
    assert purge_before(store.engine, DAY2).turns == 0  # idempotent
    store.close()


def test_a_failed_purge_deletes_nothing(tmp_path, monkeypatch):
    store = SqlStore(f"sqlite:///{tmp_path / 'p.db'}")
    seed(store)
    before = counts(store)
    real_delete = __import__("assistant.oversight.retention", fromlist=["delete"]).delete
    calls = {"n": 0}

    def failing_delete(table):
        calls["n"] += 1
        if table is turns_table:
            raise RuntimeError("disk full")
        return real_delete(table)

    monkeypatch.setattr("assistant.oversight.retention.delete", failing_delete)
    with pytest.raises(RuntimeError):
        purge_before(store.engine, DAY3)
    assert calls["n"] == 3 and counts(store) == before  # feedback and citations deletes were rolled back
    store.close()


def test_retention_keeps_the_last_n_days(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'r.db'}")
    seed(store)
    assert purge_expired(store.engine, 0, today=DAY3) is None
    assert purge_expired(store.engine, 2, today=DAY3).turns == 3  # keeps 2 and 3 March
    assert {d for (d,) in store.engine.connect().execute(select(turns_table.c.day).distinct())} == {DAY2, DAY3}
    store.close()


def test_retention_thread_purges_once_the_store_is_there(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 't.db'}")
    seed(store)
    ready = {"engine": None}
    thread = RetentionThread(lambda: ready["engine"], days=1, interval_s=3600)
    thread.start()
    ready["engine"] = store.engine
    for _ in range(100):
        if thread.last is not None:
            break
        thread.stopped.wait(0.05)
    thread.stop()
    thread.join(5)
    assert thread.last is not None and thread.last.turns == len(SPECS) and counts(store)["turns"] == 0
    store.close()


# --- CLI ---------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    for name in ("PA_API_KEYS", "PA_ADMIN_KEYS", "PA_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_purge_before_a_date(cli_env, capsys):
    store = SqlStore(f"sqlite:///{cli_env / 'cli.db'}")
    seed(store)
    assert cli.main(["purge", "--before", "2025-03-03"]) == 0
    assert "已删除 2025-03-03 之前的 5 轮对话" in capsys.readouterr().out
    assert {k[0] for k in turn_keys(store)} == {"sd", "se"}
    store.close()


@pytest.mark.parametrize("bad", ["2025-13-01", "20250301", "yesterday", "2025-02-30", ""])
def test_cli_purge_bad_date_exits_2_with_one_line(cli_env, capsys, bad):
    assert cli.main(["purge", "--before", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and err.count("\n") == 1


def test_cli_purge_by_retention_needs_the_setting(cli_env, capsys, monkeypatch):
    assert cli.main(["purge", "--older-than-retention"]) == 2
    assert "PA_RETENTION_DAYS" in capsys.readouterr().err
    monkeypatch.setenv("PA_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    assert cli.main(["purge", "--older-than-retention"]) == 0


def test_cli_admin_refuses_to_start_without_keys(cli_env, capsys):
    assert cli.main(["admin"]) == 2
    assert "PA_ADMIN_KEYS" in capsys.readouterr().err


def test_parse_day_is_strict():
    assert parse_day(" 2025-03-01 ") == DAY1
    with pytest.raises(ValueError):
        parse_day("2025-3-1")


def test_a_turn_content_security_refused_counts_as_refused_and_ordinary_turns_do_not(tmp_path):
    """Refused = out_of_scope, or flagged risky by content security, whatever type the stored reply has; a
    turn without a flag (NULL) is still an ordinary, not-refused turn."""
    from assistant.oversight.turns import TurnFilter, page
    from assistant.schemas import ChatResponse

    store = SqlStore(f"sqlite:///{tmp_path / 'flags.db'}")
    try:
        for sid, answer_type, flag in [
            ("plain", "policy_answer", None),
            ("oos", "out_of_scope", None),
            ("risky", "policy_answer", "risky"),
            ("review", "policy_answer", "review"),
        ]:
            turn = store.add_user_turn(sid, "u", "问题")
            store.add_reply(sid, turn, ChatResponse(answer="答", answer_type=answer_type, session_id=sid), flag=flag)

        def sessions(refused: bool) -> dict[str, str | None]:
            items = page(store.engine, TurnFilter(refused=refused), lambda u: u).items
            return {item["session_id"]: item["flag"] for item in items}

        assert sessions(True) == {"oos": None, "risky": "risky"}
        assert sessions(False) == {"plain": None, "review": "review"}  # operators see what to review
    finally:
        store.close()


def test_a_reply_weeks_after_its_question_is_stored_with_the_latency_capped(db_url):
    """turns.latency_ms is 32 bits on PostgreSQL (24.8 days in ms): a late reply must not fail the write."""
    from assistant.oversight.derive import MAX_LATENCY_MS
    from assistant.schemas import ChatResponse

    store = SqlStore(db_url)
    try:
        turn = store.add_user_turn("late", "u", "问题")
        with store.engine.begin() as conn:
            conn.execute(
                turns_table.update()
                .where(turns_table.c.session_id == "late")
                .values(created_at=datetime.now(timezone.utc) - timedelta(days=30))
            )
        store.add_reply("late", turn, ChatResponse(answer="答", answer_type="policy_answer", session_id="late"))
        with store.engine.connect() as conn:
            latency = conn.execute(select(turns_table.c.latency_ms).where(turns_table.c.session_id == "late")).scalar()
        assert latency == MAX_LATENCY_MS
        assert [t.response.answer for t in store.turns("late", "u") if t.response] == ["答"]
    finally:
        store.close()
