"""WeChat login and login tokens, against `wechat_stub.WeChatStub` (a contract test of our side, not of
WeChat): in-process through TestClient on a real PolicyAssistant and SQLite store, and once end to end
against the real API server (uvicorn) started by `servers.start_api_server`.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest
import servers
from api_clients import QUESTION, assert_error
from sqlalchemy import text
from wechat_stub import APPID, RISKY_WORD, SECRET, WeChatStub
from wechat_support import TOKEN_SECRET, bearer, login, wechat_settings

from assistant.api.wechat_auth import AUDIENCE, TOKEN_PREFIX, issue_token
from assistant.content_guard import REFUSAL
from assistant.sql_store import SqlStore
from assistant.wechat import WeChatIdentity
from assistant.wechat_users import SqlWeChatUsers

pytest_plugins = ["wechat_support"]  # the fixtures: stub, data_dir, store, pa, make_client

# --- login ---------------------------------------------------------------------------------------------


def test_login_returns_exactly_the_token_contract_and_asks_wechat_correctly(make_client, stub, store):
    client = make_client(api_keys="server-key")  # the login needs no key even where keys are required
    response = client.post("/v1/wechat/login", json={"code": "abc123"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token", "token_type", "expires_in", "user_id"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200
    assert body["token"].startswith(TOKEN_PREFIX)
    assert body["user_id"].startswith("wx_") and "oStub_" not in body["user_id"]  # not the openid
    claims = jwt.decode(body["token"].removeprefix(TOKEN_PREFIX), TOKEN_SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["sub"] == body["user_id"] and claims["oid"] == "oStub_abc123"
    assert claims["exp"] - claims["iat"] == 7200
    path, params = stub.calls[-1]
    assert path == "/sns/jscode2session"
    assert params == {"appid": APPID, "secret": SECRET, "js_code": "abc123", "grant_type": "authorization_code"}
    session_key = stub.jscode2session(
        {"appid": APPID, "secret": SECRET, "js_code": "abc123", "grant_type": "authorization_code"}
    )["session_key"]
    assert session_key not in response.text and session_key not in str(claims)


def test_session_key_is_not_stored_and_the_mapping_is_stable(make_client, stub, store, data_dir):
    client = make_client()
    first = login(client, "same-person")["user_id"]
    assert login(client, "same-person")["user_id"] == first
    assert login(client, "someone-else")["user_id"] != first
    with store.engine.connect() as conn:
        columns = {c[1] for c in conn.execute(text("PRAGMA table_info(wechat_users)")).all()}
        row = conn.execute(
            text("SELECT appid, user_id, created_at, last_login_at FROM wechat_users WHERE wechat_key = :k"),
            {"k": f"openid:{APPID}:oStub_same-person"},
        ).one()
    assert columns == {"wechat_key", "appid", "user_id", "created_at", "last_login_at"}
    assert row[0] == APPID and row[1] == first and row[3] >= row[2]
    session_key = stub.jscode2session(
        {"appid": APPID, "secret": SECRET, "js_code": "same-person", "grant_type": "authorization_code"}
    )["session_key"]
    store_bytes = b"".join(p.read_bytes() for p in Path(data_dir).glob("wechat.db*"))
    assert b"oStub_same-person" in store_bytes  # the search below would find a stored session_key
    assert session_key.encode() not in store_bytes


def test_same_unionid_is_the_same_user_across_openids(store):
    users = SqlWeChatUsers(store)
    a = users.user_for(WeChatIdentity("wxappone", "oA_1", "u_shared"))
    b = users.user_for(WeChatIdentity("wxapptwo", "oB_1", "u_shared"))
    assert a == b
    # a unionid seen later (after the user followed the official account) keeps the user id
    before = users.user_for(WeChatIdentity("wxappone", "oA_2", None))
    assert users.user_for(WeChatIdentity("wxappone", "oA_2", "u_late")) == before
    assert users.user_for(WeChatIdentity("wxapptwo", "oB_2", "u_late")) == before
    # the same openid string in another app is another person
    assert users.user_for(WeChatIdentity("wxapptwo", "oA_2", None)) != before


def test_unionid_from_wechat_is_used(make_client):
    client = make_client()
    assert login(client, "union-42")["user_id"] == login(client, "union-42")["user_id"]


@pytest.mark.parametrize(
    ("code", "status", "error_code"),
    [
        ("invalid", 400, "wechat_invalid_code"),
        ("ratelimit", 429, "wechat_rate_limited"),
        ("highrisk", 403, "wechat_high_risk_user"),
        ("busy", 503, "wechat_unavailable"),
        ("slow", 503, "wechat_unavailable"),
    ],
)
def test_wechat_errors_become_our_errors(make_client, code, status, error_code):
    client = make_client(wechat_timeout_s=0.5)
    started = time.monotonic()
    response = client.post("/v1/wechat/login", json={"code": code})
    assert_error(response, status, error_code)
    assert time.monotonic() - started < 2.5  # "slow" answers after 3 s: we gave up at the timeout
    if status in (429, 503):
        assert int(response.headers["retry-after"]) > 0


def test_wechat_unreachable_is_503(make_client):
    client = make_client(wechat_api_base=f"http://127.0.0.1:{servers.free_port()}")
    assert_error(client.post("/v1/wechat/login", json={"code": "abc"}), 503, "wechat_unavailable")


def test_wrong_app_credentials_are_503_and_the_secret_is_not_logged(make_client, caplog):
    client = make_client(wechat_secret="wrong-secret-value")
    with caplog.at_level("INFO"):
        assert_error(client.post("/v1/wechat/login", json={"code": "abc"}), 503, "wechat_unavailable")
    assert "40125" in caplog.text  # the operator learns why
    assert "wrong-secret-value" not in caplog.text and TOKEN_SECRET not in caplog.text


@pytest.mark.parametrize("missing", ["wechat_appid", "wechat_secret", "wechat_token_secret"])
def test_login_without_configuration_is_503_not_configured(make_client, stub, missing):
    client = make_client(**{missing: None})
    assert_error(client.post("/v1/wechat/login", json={"code": "abc"}), 503, "wechat_not_configured")
    assert stub.calls == []


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": "x" * 129}, {"code": 5}])
def test_bad_login_bodies_are_422(make_client, stub, body):
    assert_error(make_client().post("/v1/wechat/login", json=body), 422, "validation_error")
    assert stub.calls == []


def test_short_token_secret_is_refused_at_startup(data_dir, stub):
    with pytest.raises(ValueError, match="32 bytes"):
        wechat_settings(data_dir, stub.url, wechat_token_secret="too-short")


# --- the token on the conversation endpoints -----------------------------------------------------------


def test_token_opens_chat_sessions_and_feedback_as_its_user(make_client, store):
    client = make_client(api_keys="server-key")
    me = login(client, "alice")
    chat = client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"]))
    assert chat.status_code == 200, chat.text
    session_id = chat.json()["session_id"]
    assert store.has_session(session_id, me["user_id"])  # stored under the token's user
    history = client.get(f"/v1/sessions/{session_id}", headers=bearer(me["token"]))
    assert history.status_code == 200 and history.json()["turns"][0]["message"] == QUESTION
    vote = client.post(
        "/v1/feedback", json={"session_id": session_id, "turn": 0, "rating": "up"}, headers=bearer(me["token"])
    )
    assert vote.status_code == 201, vote.text
    stream = client.post(
        "/v1/chat/stream", json={"message": QUESTION, "session_id": session_id}, headers=bearer(me["token"])
    )
    assert stream.status_code == 200 and "event: done" in stream.text
    # an X-User-Id that says the same thing is fine
    same = client.get(f"/v1/sessions/{session_id}", headers={**bearer(me["token"]), "X-User-Id": me["user_id"]})
    assert same.status_code == 200


def test_a_token_cannot_read_or_continue_another_users_session(make_client):
    client = make_client(api_keys="server-key")
    alice, bob = login(client, "alice"), login(client, "bob")
    session_id = client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(alice["token"])).json()[
        "session_id"
    ]
    assert_error(client.get(f"/v1/sessions/{session_id}", headers=bearer(bob["token"])), 404, "session_not_found")
    assert_error(
        client.post("/v1/chat", json={"message": QUESTION, "session_id": session_id}, headers=bearer(bob["token"])),
        404,
        "session_not_found",
    )
    assert_error(
        client.post(
            "/v1/feedback", json={"session_id": session_id, "turn": 0, "rating": "down"}, headers=bearer(bob["token"])
        ),
        404,
        "turn_not_found",
    )
    # claiming to be alice with bob's token is refused outright
    error = assert_error(
        client.get(f"/v1/sessions/{session_id}", headers={**bearer(bob["token"]), "X-User-Id": alice["user_id"]}),
        403,
        "user_mismatch",
    )
    assert error["field"] == "X-User-Id"


def test_expired_token_is_401_token_expired(make_client, data_dir, stub):
    client = make_client(api_keys="server-key")
    settings = wechat_settings(data_dir, stub.url)
    old = issue_token("wx_someone", "oStub_someone", settings, now=time.time() - settings.wechat_token_ttl - 1)
    error = assert_error(client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(old)), 401, "token_expired")
    assert error["message"]
    fresh = issue_token("wx_someone", "oStub_someone", settings)
    assert client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(fresh)).status_code == 200


def _forged(claims: dict, key: str = TOKEN_SECRET, algorithm: str = "HS256") -> str:
    return TOKEN_PREFIX + jwt.encode(claims, key, algorithm=algorithm)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            _forged({"sub": "wx_a", "oid": "o", "aud": AUDIENCE, "iat": 1, "exp": 2**40}, key="x" * 40), id="other-key"
        ),
        pytest.param(
            _forged({"sub": "wx_a", "oid": "o", "aud": "someone-else", "iat": 1, "exp": 2**40}), id="other-audience"
        ),
        pytest.param(_forged({"sub": "wx_a", "oid": "o", "aud": AUDIENCE, "iat": 1}), id="no-expiry"),
        pytest.param(
            TOKEN_PREFIX
            + jwt.encode({"sub": "wx_a", "oid": "o", "aud": AUDIENCE, "iat": 1, "exp": 2**40}, None, algorithm="none"),
            id="alg-none",
        ),
        pytest.param(TOKEN_PREFIX + "not.a.jwt", id="garbage"),
    ],
)
def test_forged_or_broken_tokens_are_401_invalid_token(make_client, token):
    for keys in ("server-key", ""):
        client = make_client(api_keys=keys)
        assert_error(client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(token)), 401, "invalid_token")


def test_token_opens_what_the_mini_program_reads_where_keys_are_required(make_client):
    """Clause text (citation chips) and the calculator hold nothing of any user: a logged-in owner may read them
    on a server that requires keys. A wrong token still gets nothing."""
    client = make_client(api_keys="server-key")
    token = login(client, "alice")["token"]
    clause = client.get("/v1/clauses/三(四)", headers=bearer(token))
    assert clause.status_code == 200 and "电子商务平台" in clause.text
    calc = client.post("/v1/calculate", json={"registered_capital_yuan": 1}, headers=bearer(token))
    assert calc.status_code == 200 and "items" in calc.json()
    assert_error(client.get("/v1/clauses/三(四)", headers=bearer(token + "x")), 401, "invalid_token")


@pytest.mark.parametrize(
    "path, opened",
    [
        ("/v1/chat", True),
        ("/v1/chat/stream", True),
        ("/v1/sessions/abc/turns", True),
        ("/v1/clauses/三(四)", True),
        ("/v1/chatty", False),  # a prefix of a word is not the route
        ("/v1/admin/stats", False),
        ("/v1/wechat/login", False),
        ("/healthz", False),
    ],
)
def test_token_scope_is_the_listed_routes_only(path, opened):
    from starlette.requests import Request

    from assistant.api.wechat_auth import token_allowed

    assert token_allowed(Request({"type": "http", "path": path, "root_path": "", "headers": []})) is opened


def test_on_an_open_api_a_token_still_binds_the_user(make_client, store):
    client = make_client(api_keys="")
    me = login(client, "carol")
    session_id = client.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"])).json()["session_id"]
    assert store.has_session(session_id, me["user_id"]) and not store.has_session(session_id, None)
    assert_error(client.get(f"/v1/sessions/{session_id}"), 404, "session_not_found")  # anonymous is not carol
    assert_error(
        client.get(f"/v1/sessions/{session_id}", headers={**bearer(me["token"]), "X-User-Id": "mallory"}),
        403,
        "user_mismatch",
    )
    assert client.get("/v1/clauses", headers=bearer(me["token"])).status_code == 200  # open anyway


def test_api_keys_and_x_user_id_work_as_before(make_client, store):
    client = make_client(api_keys="server-key,other-key")
    headers = {**bearer("other-key"), "X-User-Id": "oBackendUser"}
    chat = client.post("/v1/chat", json={"message": QUESTION}, headers=headers)
    assert chat.status_code == 200
    assert store.has_session(chat.json()["session_id"], "oBackendUser")
    assert client.get("/v1/clauses", headers={**bearer("server-key"), "X-User-Id": "u"}).status_code == 200
    assert_error(client.post("/v1/chat", json={"message": QUESTION}, headers={"X-User-Id": "u"}), 401, "unauthorized")
    assert_error(
        client.post("/v1/chat", json={"message": QUESTION}, headers=bearer("server-key")), 400, "missing_user_id"
    )


def test_openapi_documents_the_login_without_security(make_client):
    spec = make_client(api_keys="server-key").get("/openapi.json").json()
    operation = spec["paths"]["/v1/wechat/login"]["post"]
    assert "security" not in operation
    assert set(operation["responses"]) >= {"200", "400", "403", "422", "429", "503"}
    schema = spec["components"]["schemas"]["WeChatLoginResponse"]
    assert set(schema["properties"]) == {"token", "token_type", "expires_in", "user_id"}


# --- end to end: the real server (uvicorn) -----------------------------------------------------------------


@pytest.mark.slow
def test_login_then_chat_with_the_bearer_token_on_the_real_server(tmp_path):
    with WeChatStub() as wechat:
        env = {
            "PA_API_KEYS": "server-key",
            "PA_WECHAT_APPID": APPID,
            "PA_WECHAT_SECRET": SECRET,
            "PA_WECHAT_API_BASE": wechat.url,
            "PA_WECHAT_TOKEN_SECRET": TOKEN_SECRET,
            "PA_WECHAT_TOKEN_TTL": "600",
            "PA_WECHAT_SEC_CHECK": "input",
        }
        url, proc, log_path = servers.start_api_server(tmp_path, env=env)
        try:
            with httpx.Client(base_url=url, timeout=60, trust_env=False) as http:
                logged_in = http.post("/v1/wechat/login", json={"code": "e2e-user"})
                assert logged_in.status_code == 200, logged_in.text
                me = logged_in.json()
                assert me["expires_in"] == 600
                chat = http.post("/v1/chat", json={"message": QUESTION}, headers=bearer(me["token"]))
                assert chat.status_code == 200, chat.text
                assert chat.json()["answer_type"] == "policy_answer"
                session_id = chat.json()["session_id"]
                history = http.get(f"/v1/sessions/{session_id}", headers=bearer(me["token"])).json()
                assert [t["message"] for t in history["turns"]] == [QUESTION]
                refused = http.post("/v1/chat", json={"message": f"{RISKY_WORD}在哪里"}, headers=bearer(me["token"]))
                assert refused.status_code == 200 and refused.json()["answer"] == REFUSAL
                other = http.post("/v1/wechat/login", json={"code": "e2e-other"}).json()
                assert http.get(f"/v1/sessions/{session_id}", headers=bearer(other["token"])).status_code == 404
                assert http.get("/v1/clauses", headers=bearer(me["token"])).status_code == 200  # chips open clauses
            assert [c["openid"] for p, c in wechat.calls if p == "/wxa/msg_sec_check"] == ["oStub_e2e-user"] * 2
            server_log = log_path.read_text()
            assert SECRET not in server_log and TOKEN_SECRET not in server_log and me["token"] not in server_log
        finally:
            servers.stop_process(proc)
    store = SqlStore(f"sqlite:///{tmp_path / 'data' / 'assistant.db'}", migrate=False)
    try:
        with store.engine.connect() as conn:
            users = conn.execute(text("SELECT user_id FROM wechat_users")).scalars().all()
        assert me["user_id"] in users
    finally:
        store.close()
