"""Content security (msgSecCheck v2, the word list, the fail modes) and the WeChat client's access token,
against `wechat_stub.WeChatStub`: a contract test of our side, not of WeChat. In-process (TestClient) on
a real PolicyAssistant and SQLite store; the moderation flag is read from the database itself.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import servers
from api_clients import QUESTION, assert_error
from sqlalchemy import create_engine, inspect, text
from wechat_stub import APPID, REVIEW_WORD, RISKY_WORD, SECRET, WeChatStub
from wechat_support import bearer, login, turn_flags

from assistant.content_guard import REFUSAL
from assistant.schemas import ChatResponse
from assistant.sql_store import SqlStore, alembic_config, normalize_database_url
from assistant.store import MemoryStore
from assistant.wechat import MAX_CHECK_CHARS, WeChatClient, WeChatError

pytest_plugins = ["wechat_support"]  # the fixtures: stub, data_dir, store, pa, make_client


class ExplodingChain:
    """Stands in for the answering pipeline where the test proves it is never run."""

    def invoke(self, _inputs: dict) -> ChatResponse:
        raise AssertionError("the pipeline ran on a refused question")


class FixedChain:
    """An answer of our choosing, to see what happens to a risky *answer*."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def invoke(self, _inputs: dict) -> ChatResponse:
        return ChatResponse(answer=self.answer, answer_type="policy_answer", session_id="")


def sec_checks(stub: WeChatStub) -> list[dict]:
    return [params for path, params in stub.calls if path == "/wxa/msg_sec_check"]


# --- what happens to a question -----------------------------------------------------------------------


def test_risky_question_is_refused_stored_and_flagged_without_running_the_pipeline(
    make_client, stub, store, pa, monkeypatch
):
    client = make_client(api_keys="server-key", wechat_sec_check="input")
    me = login(client, "risky-user")
    monkeypatch.setattr(pa, "chain", ExplodingChain())
    question = f"请问{RISKY_WORD}怎么申请？"
    response = client.post("/v1/chat", json={"message": question}, headers=bearer(me["token"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"] == REFUSAL and body["answer_type"] == "out_of_scope" and body["citations"] == []
    session_id = body["session_id"]
    [turn] = store.turns(session_id, me["user_id"])
    assert turn.message == question and turn.response is not None and turn.response.answer == REFUSAL
    assert turn_flags(store, session_id) == ["risky"]
    [check] = sec_checks(stub)  # msgSecCheck v2, as documented, for the logged-in openid
    assert check["version"] == 2 and check["scene"] == 2 and check["openid"] == "oStub_risky-user"
    assert check["content"] == question and check["access_token"].startswith("stubtoken_")


def test_review_question_is_answered_and_flagged(make_client, stub, store):
    client = make_client(wechat_sec_check="input")
    me = login(client, "review-user")
    response = client.post("/v1/chat", json={"message": f"{QUESTION}{REVIEW_WORD}"}, headers=bearer(me["token"]))
    assert response.status_code == 200 and response.json()["answer_type"] == "policy_answer"
    assert turn_flags(store, response.json()["session_id"]) == ["review"]
    ordinary = client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"]))
    assert turn_flags(store, ordinary.json()["session_id"]) == [None]
    assert len(sec_checks(stub)) == 2  # input mode: questions only, never the answers


def test_risky_question_on_the_stream_gets_the_refusal_as_done(make_client, store):
    client = make_client(wechat_sec_check="input")
    me = login(client, "stream-user")
    response = client.post("/v1/chat/stream", json={"message": RISKY_WORD}, headers=bearer(me["token"]))
    assert response.status_code == 200 and "event: done" in response.text and REFUSAL[:10] in response.text


def test_api_key_callers_are_not_checked(make_client, stub):
    client = make_client(api_keys="server-key", wechat_sec_check="both")
    response = client.post(
        "/v1/chat", json={"message": f"{QUESTION}{RISKY_WORD}"}, headers={**bearer("server-key"), "X-User-Id": "u1"}
    )
    assert response.status_code == 200 and response.json()["answer"] != REFUSAL
    assert stub.calls == []


def test_sec_check_off_asks_nothing(make_client, stub):
    client = make_client(wechat_sec_check="off")
    me = login(client, "off-user")
    assert client.post("/v1/chat", json={"message": RISKY_WORD}, headers=bearer(me["token"])).status_code == 200
    assert sec_checks(stub) == []


# --- what happens to an answer ("both") -------------------------------------------------------------------


def test_both_replaces_a_risky_answer_before_it_is_stored(make_client, stub, store, pa, monkeypatch):
    client = make_client(wechat_sec_check="both")
    me = login(client, "answer-user")
    monkeypatch.setattr(pa, "chain", FixedChain(f"答案里有{RISKY_WORD}。"))
    response = client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"]))
    assert response.status_code == 200
    assert response.json()["answer"] == REFUSAL and response.json()["answer_type"] == "out_of_scope"
    session_id = response.json()["session_id"]
    [turn] = store.turns(session_id, me["user_id"])
    assert turn.response is not None and turn.response.answer == REFUSAL  # the risky text is not on record
    assert turn_flags(store, session_id) == ["risky"]
    assert [c["content"] for c in sec_checks(stub)] == [QUESTION, f"答案里有{RISKY_WORD}。"]


def test_both_flags_a_review_answer_and_keeps_it(make_client, store, pa, monkeypatch):
    client = make_client(wechat_sec_check="both")
    me = login(client, "answer-review")
    monkeypatch.setattr(pa, "chain", FixedChain(f"需要{REVIEW_WORD}的答案。"))
    response = client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"]))
    assert response.json()["answer"] == f"需要{REVIEW_WORD}的答案。"
    assert turn_flags(store, response.json()["session_id"]) == ["review"]


# --- WeChat unreachable ----------------------------------------------------------------------------------


def test_unreachable_fail_closed_is_503_and_nothing_is_stored(make_client, stub, store, caplog):
    client = make_client(wechat_sec_check="input", wechat_sec_fail="closed")
    me = login(client, "closed-user")  # logged in while WeChat was up
    down = make_client(
        wechat_sec_check="input", wechat_sec_fail="closed", wechat_api_base=f"http://127.0.0.1:{servers.free_port()}"
    )
    with caplog.at_level("WARNING"):
        response = down.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"]))
    assert_error(response, 503, "wechat_unavailable")
    assert int(response.headers["retry-after"]) > 0
    assert "PA_WECHAT_SEC_FAIL=closed" in caplog.text
    with store.engine.connect() as conn:
        owned = conn.execute(text("SELECT count(*) FROM sessions WHERE user_id = :u"), {"u": me["user_id"]}).scalar()
    assert owned == 0
    stream = down.post("/v1/chat/stream", json={"message": QUESTION}, headers=bearer(me["token"]))
    assert stream.status_code == 503 and "event: error" in stream.text and "wechat_unavailable" in stream.text


def test_unreachable_fail_open_answers_and_flags(make_client, store, caplog):
    client = make_client(wechat_sec_check="both", wechat_sec_fail="open")
    me = login(client, "open-user")
    down = make_client(
        wechat_sec_check="both", wechat_sec_fail="open", wechat_api_base=f"http://127.0.0.1:{servers.free_port()}"
    )
    with caplog.at_level("WARNING"):
        response = down.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"]))
    assert response.status_code == 200 and response.json()["answer_type"] == "policy_answer"
    assert turn_flags(store, response.json()["session_id"]) == ["sec_unavailable"]
    assert "PA_WECHAT_SEC_FAIL=open" in caplog.text
    assert SECRET not in caplog.text


def test_busy_wechat_counts_as_unavailable(make_client, stub, store, monkeypatch):
    client = make_client(wechat_sec_check="input", wechat_sec_fail="open")
    me = login(client, "busy-check")
    monkeypatch.setattr(stub, "msg_sec_check", lambda params, body: {"errcode": -1, "errmsg": "system error"})
    response = client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"]))
    assert turn_flags(store, response.json()["session_id"]) == ["sec_unavailable"]


# --- the word list ---------------------------------------------------------------------------------------


def test_word_list_hit_is_risky_without_asking_wechat(make_client, stub, store, tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("# 运营方自己的词表\nForbidden Phrase\n\n  本地禁词  # 注释\n", encoding="utf-8")
    client = make_client(wechat_sec_check="input", wechat_wordlist=words)
    me = login(client, "word-user")
    for message in ("这里有本地禁词吗", "ＦＯＲＢＩＤＤＥＮ phrase?"):  # full-width and case folded
        response = client.post("/v1/chat", json={"message": message}, headers=bearer(me["token"]))
        assert response.json()["answer"] == REFUSAL, message
        assert turn_flags(store, response.json()["session_id"]) == ["risky"]
    assert sec_checks(stub) == []  # decided locally
    passed = client.post("/v1/chat", json={"message": f"{QUESTION}注释"}, headers=bearer(me["token"]))
    assert passed.json()["answer"] != REFUSAL  # a comment is not a word
    assert len(sec_checks(stub)) == 1


def test_a_missing_word_list_file_is_refused_at_startup(data_dir, stub, tmp_path):
    from wechat_support import wechat_settings

    with pytest.raises(ValueError):
        wechat_settings(data_dir, stub.url, wechat_wordlist=tmp_path / "nope.txt")


# --- the access token ------------------------------------------------------------------------------------


@pytest.fixture
def wx(stub):
    client = WeChatClient(APPID, SECRET, base_url=stub.url, timeout_s=2)
    yield client
    client.close()


def test_access_token_is_cached_and_refreshed_on_42001(wx, stub):
    assert wx.msg_sec_check(QUESTION, "oStub_a").suggest == "pass"
    assert wx.msg_sec_check(QUESTION, "oStub_a").suggest == "pass"
    assert stub.paths() == ["/cgi-bin/token", "/wxa/msg_sec_check", "/wxa/msg_sec_check"]  # fetched once
    first = stub.calls[1][1]["access_token"]
    stub.expire_tokens()
    assert wx.msg_sec_check(f"{QUESTION}{REVIEW_WORD}", "oStub_a").suggest == "review"
    assert stub.paths()[3:] == ["/wxa/msg_sec_check", "/cgi-bin/token", "/wxa/msg_sec_check"]
    assert stub.calls[3][1]["access_token"] == first and stub.calls[5][1]["access_token"] != first
    token_call = stub.calls[4][1]
    assert token_call == {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}


def test_access_token_is_refreshed_on_40001(wx, stub):
    wx.msg_sec_check(QUESTION, "oStub_a")
    stub.invalidate_tokens()
    assert wx.msg_sec_check(RISKY_WORD, "oStub_a").suggest == "risky"
    assert stub.paths() == [
        "/cgi-bin/token",
        "/wxa/msg_sec_check",
        "/wxa/msg_sec_check",
        "/cgi-bin/token",
        "/wxa/msg_sec_check",
    ]


def test_access_token_is_refetched_when_it_expires(stub):
    stub.token_expires_in = 1
    client = WeChatClient(APPID, SECRET, base_url=stub.url, timeout_s=2)
    try:
        client.msg_sec_check(QUESTION, "oStub_a")
        client.msg_sec_check(QUESTION, "oStub_a")
        time.sleep(1.1)
        client.msg_sec_check(QUESTION, "oStub_a")
    finally:
        client.close()
    assert stub.paths().count("/cgi-bin/token") == 2
    assert "42001" not in str(stub.calls)  # refreshed ahead of time, not after a refusal


def test_a_token_that_keeps_failing_is_an_error_not_a_loop(wx, stub, monkeypatch):
    monkeypatch.setattr(stub, "msg_sec_check", lambda params, body: {"errcode": 40001, "errmsg": "invalid"})
    with pytest.raises(WeChatError) as caught:
        wx.msg_sec_check(QUESTION, "oStub_a")
    assert caught.value.errcode == 40001
    assert stub.paths().count("/wxa/msg_sec_check") == 2


def test_long_text_is_checked_in_pieces_and_the_worst_wins(wx, stub):
    text_ = "政" * (2 * MAX_CHECK_CHARS) + REVIEW_WORD
    assert wx.msg_sec_check(text_, "oStub_a").suggest == "review"
    pieces = [c["content"] for c in sec_checks(stub)]
    assert len(pieces) == 3 and all(len(p) <= MAX_CHECK_CHARS for p in pieces) and "".join(pieces) == text_


def test_wrong_app_secret_is_a_typed_error_with_the_errcode(stub):
    client = WeChatClient(APPID, "wrong", base_url=stub.url)
    with pytest.raises(WeChatError) as caught:
        client.msg_sec_check(QUESTION, "oStub_a")
    assert caught.value.errcode == 40125 and not caught.value.unavailable


# --- the store ------------------------------------------------------------------------------------------


def test_flags_are_checked_and_kept_by_both_stores(store):
    memory = MemoryStore()
    for s in (memory, store):
        turn = s.add_user_turn("flag-session", "u", "问题")
        with pytest.raises(ValueError):
            s.add_reply(
                "flag-session",
                turn,
                ChatResponse(answer="a", answer_type="policy_answer", session_id="flag-session"),
                flag="bogus",
            )
        s.add_reply(
            "flag-session",
            turn,
            ChatResponse(answer="a", answer_type="out_of_scope", session_id="flag-session"),
            flag="risky",
        )
    assert memory.flags == {("flag-session", 0): "risky"}
    assert turn_flags(store, "flag-session") == ["risky"]


def _fresh_postgres_database(server_url: str) -> str:
    """A database of our own on the shared test cluster, so other tests' tables are never touched."""
    admin = create_engine(normalize_database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS pa_wechat_migration"))
        conn.execute(text("CREATE DATABASE pa_wechat_migration"))
    admin.dispose()
    return normalize_database_url(server_url).set(database="pa_wechat_migration").render_as_string(hide_password=False)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0003_upgrades_existing_data_and_downgrades(backend, tmp_path, request):
    from alembic import command

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = _fresh_postgres_database(request.getfixturevalue("postgres_url"))
    cfg = alembic_config(url)
    command.upgrade(cfg, "0002")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sessions (id, user_id, created_at) VALUES ('m', 'u', CURRENT_TIMESTAMP)"))
        conn.execute(
            text("INSERT INTO turns (session_id, idx, message, created_at) VALUES ('m', 0, 'q', CURRENT_TIMESTAMP)")
        )
    store = SqlStore(url)  # to head
    try:
        assert [t.message for t in store.turns("m", "u")] == ["q"] and turn_flags(store, "m") == [None]
        assert store.dialect == backend
    finally:
        store.close()
    command.downgrade(cfg, "0002")
    assert "flag" not in [c["name"] for c in inspect(engine).get_columns("turns")]
    assert "wechat_users" not in inspect(engine).get_table_names()
    engine.dispose()


def test_sec_settings_are_documented_in_env_example():
    documented = Path(__file__).resolve().parent.parent.joinpath(".env.example").read_text(encoding="utf-8")
    for name in (
        "APPID",
        "SECRET",
        "API_BASE",
        "TIMEOUT_S",
        "TOKEN_SECRET",
        "TOKEN_TTL",
        "SEC_CHECK",
        "SEC_FAIL",
        "WORDLIST",
    ):
        assert f"# PA_WECHAT_{name}=" in documented, name
