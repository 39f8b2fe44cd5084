"""Regression tests for issue 10 (API hardening) that do not depend on the wire: bounds and strict types,
unstorable text, session ownership, failed-auth throttling, /readyz disclosure, CORS on errors, feedback
idempotency and the OpenAPI document. The wire-level items (body encodings, headers, logs) are in
tests/test_api_wire.py, the fuzzing in tests/test_api_fuzz.py."""

from __future__ import annotations

import json
import logging
import uuid
from typing import ClassVar

import pytest
from api_clients import QUESTION, assert_error, open_clients, settings_for
from fastapi.testclient import TestClient
from sqlalchemy import text
from test_api import parse_sse

from assistant.api import create_app
from assistant.api.limits import TokenBucketLimiter
from assistant.api.logs import JsonLinesFormatter, escape_field
from assistant.api.schemas import BLANK_CHARS, MESSAGE_PATTERN, is_blank
from assistant.assistant import PolicyAssistant
from assistant.sql_store import SqlStore
from assistant.store import SessionNotFound


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("hardening-data")


@pytest.fixture(scope="module")
def store(data_dir):
    s = SqlStore(f"sqlite:///{data_dir / 'hardening.db'}")
    yield s
    s.close()


@pytest.fixture(scope="module")
def pa(data_dir, store):
    return PolicyAssistant(settings=settings_for(data_dir), store=store, mode="grounded")


@pytest.fixture
def make_client(pa, data_dir):
    with open_clients() as open_client:

        def make(assistant=None, client=("testclient", 50000), **overrides) -> TestClient:
            return open_client(create_app(assistant or pa, settings_for(data_dir, **overrides)), client=client)

        yield make


@pytest.fixture
def client(make_client):
    return make_client()


def new_session(client, user="openid-h") -> str:
    r = client.post("/v1/chat", json={"message": QUESTION}, headers={"X-User-Id": user})
    assert r.status_code == 200, r.text
    return r.json()["session_id"]


def count(store, table: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


# --- 1. integers are bounded to what the store holds, and strict -----------------------------------


def assert_turn_refused(client, turn) -> None:
    """The feedback ``turn``, as written into the JSON body, is 422 on field ``turn`` (never a 500)."""
    sid = new_session(client)
    body = f'{{"session_id": "{sid}", "turn": {turn}, "rating": "up"}}'
    error = assert_error(
        client.post(
            "/v1/feedback", content=body, headers={"X-User-Id": "openid-h", "Content-Type": "application/json"}
        ),
        422,
        "validation_error",
    )
    assert error["field"] == "turn"


@pytest.mark.parametrize("turn", [2**63, 2**31, 10**400, 1e308])
def test_feedback_turn_beyond_the_column_is_422_not_500(client, turn):
    assert_turn_refused(client, turn)


@pytest.mark.parametrize("turn", ["true", '"0"', "0.5", "null", "[0]"])
def test_feedback_turn_must_be_a_json_integer(client, turn):
    assert_turn_refused(client, turn)


@pytest.mark.parametrize("turn", ["0", "0.0", "-0", "0e5"])
def test_feedback_turn_zero_in_any_json_spelling(client, turn):
    """JSON has one number 0; 0.0 and 0e5 are integers in JSON Schema too, so they must be accepted."""
    sid = new_session(client)
    body = f'{{"session_id": "{sid}", "turn": {turn}, "rating": "up"}}'
    r = client.post("/v1/feedback", content=body, headers={"X-User-Id": "openid-h", "Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["turn"] == 0


# --- 2. unstorable text is refused before anything is written ------------------------------------------


@pytest.mark.parametrize("path", ["/v1/chat", "/v1/chat/stream"])
@pytest.mark.parametrize("message", ['"\\ud800"', '"前\\udfff后"', '"\\udc00\\ud800"'])
def test_lone_surrogate_is_422_and_nothing_is_written(client, store, path, message):
    sessions, turns = count(store, "sessions"), count(store, "turns")
    r = client.post(
        path,
        content=b'{"message": ' + message.encode() + b"}",
        headers={"Content-Type": "application/json", "X-User-Id": "openid-sur"},
    )
    assert r.status_code == 422
    error = (parse_sse(r.text)[0][1] if path.endswith("stream") else r.json())["error"]
    assert error["code"] == "validation_error" and error["field"] == "message"
    assert (count(store, "sessions"), count(store, "turns")) == (sessions, turns)


def test_surrogates_in_feedback_comments_and_keys_are_422(client, store):
    sid = new_session(client)
    headers = {"Content-Type": "application/json", "X-User-Id": "openid-h"}
    r = client.post(
        "/v1/feedback",
        headers=headers,
        content=f'{{"session_id": "{sid}", "turn": 0, "rating": "up", "comment": "\\ud83d"}}'.encode(),
    )
    assert assert_error(r, 422, "validation_error")["field"] == "comment"
    r = client.post("/v1/calculate", headers=headers, content=b'{"\\ud800": 1}')
    assert_error(r, 422, "validation_error")
    assert store.feedback_for(sid) == []


def test_a_paired_surrogate_escape_is_ordinary_text(client):
    r = client.post(
        "/v1/chat",
        content='{"message": "北碚\\ud83d\\ude80电商补贴"}'.encode(),
        headers={"Content-Type": "application/json", "X-User-Id": "openid-h"},
    )
    assert r.status_code == 200, r.text


# --- 6. the message limits the schema declares are the ones enforced -----------------------------------


@pytest.mark.parametrize("blank", [" ", "\u3000", "\x1c", "\ufeff", "\u2028\t", "\xa0\u205f"])
def test_blank_in_any_reading_is_empty_message(client, blank):
    assert is_blank(blank)
    assert_error(client.post("/v1/chat", json={"message": blank}), 422, "empty_message")


def test_nul_in_a_message_is_422(client):
    error = assert_error(client.post("/v1/chat", json={"message": "你好\x00"}), 422, "validation_error")
    assert error["field"] == "message"


def test_length_is_counted_as_sent(make_client):
    c = make_client(max_message_chars=10)
    assert_error(c.post("/v1/chat", json={"message": "问" * 10 + " "}), 422, "message_too_long")
    assert c.post("/v1/chat", json={"message": " " + "问" * 9}).status_code == 200


def test_the_message_pattern_means_what_the_server_does():
    import re

    pattern = re.compile(MESSAGE_PATTERN)
    for ch in BLANK_CHARS:
        assert not pattern.search(ch * 3)
    for sample in ("问", " a ", "\u200b", "x\u3000y"):
        assert bool(pattern.search(sample)) == (not is_blank(sample) and "\x00" not in sample)
    assert not pattern.search("a\x00b")


@pytest.mark.parametrize("user_id", ["", "a b", "é", "x" * 129, "tab\there"])
def test_x_user_id_must_be_visible_ascii(client, user_id):
    r = client.get("/v1/clauses", headers={"X-User-Id": user_id.encode("latin-1")})
    assert assert_error(r, 422, "invalid_user_id")["field"] == "X-User-Id"


def test_non_json_content_type_is_415(client):
    r = client.post("/v1/chat", content=b'{"message": "hi"}', headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")


# --- 7. failed auth is rate limited per client address -------------------------------------------------


def test_failed_auth_is_throttled_per_address_and_then_even_a_right_key_waits(make_client):
    c = make_client(api_keys="right", auth_failure_burst=3, auth_failures_per_minute=1, client=("198.51.100.7", 1))
    wrong = {"Authorization": "Bearer guess", "X-User-Id": "u"}
    for _ in range(3):
        assert_error(c.get("/v1/clauses", headers=wrong), 401, "unauthorized")
    limited = c.get("/v1/clauses", headers=wrong)
    assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    right = c.get("/v1/clauses", headers={"Authorization": "Bearer right", "X-User-Id": "u"})
    assert_error(right, 429, "rate_limited")  # otherwise a 200 among the 429s would reveal the key
    no_key = c.get("/v1/clauses", headers={"X-User-Id": "u"})
    assert_error(no_key, 429, "rate_limited")
    assert_error(c.get("/readyz", headers={"Authorization": "Bearer guess"}), 429, "rate_limited")


def test_failed_auth_budget_is_per_address(make_client, pa, data_dir):
    settings = settings_for(data_dir, api_keys="right", auth_failure_burst=2, auth_failures_per_minute=1)
    app = create_app(pa, settings)
    with (
        TestClient(app, raise_server_exceptions=False, client=("203.0.113.1", 1)) as attacker,
        TestClient(app, raise_server_exceptions=False, client=("203.0.113.2", 1)) as backend,
    ):
        for _ in range(3):
            attacker.get("/v1/clauses", headers={"Authorization": "Bearer guess", "X-User-Id": "u"})
        assert attacker.get("/v1/clauses", headers={"X-User-Id": "u"}).status_code == 429
        ok = backend.get("/v1/clauses", headers={"Authorization": "Bearer right", "X-User-Id": "u"})
        assert ok.status_code == 200


def test_successful_auth_costs_no_failure_budget(make_client):
    c = make_client(api_keys="right", auth_failure_burst=1, auth_failures_per_minute=1, client=("192.0.2.9", 1))
    for _ in range(20):
        assert c.get("/v1/clauses", headers={"Authorization": "Bearer right", "X-User-Id": "u"}).status_code == 200


def test_token_bucket_wait_time_does_not_take_a_token():
    limiter = TokenBucketLimiter(per_minute=60, burst=1)
    assert limiter.wait_time("k", now=0.0) == 0
    assert limiter.acquire("k", now=0.0) == 0
    assert limiter.wait_time("k", now=0.0) == pytest.approx(1.0)
    assert limiter.wait_time("k", now=0.5) == pytest.approx(0.5)
    assert limiter.acquire("k", now=1.0) == 0


# --- 8. /readyz discloses nothing without a key ------------------------------------------------------------


def test_readyz_is_status_only_for_anonymous_callers(make_client, data_dir):
    for c in (make_client(), make_client(api_keys="k")):
        r = c.get("/readyz")
        assert r.json() == {"status": "ready"}
        assert str(data_dir) not in r.text and "SqlStore" not in r.text and "chroma" not in r.text
    open_ = make_client()
    assert open_.get("/readyz", headers={"Authorization": "Bearer anything"}).json() == {"status": "ready"}


def test_readyz_details_need_the_right_key(make_client):
    c = make_client(api_keys="k", auth_failure_burst=50)
    assert_error(c.get("/readyz", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    details = c.get("/readyz", headers={"Authorization": "Bearer k"}).json()["details"]
    assert details["store"] == "SqlStore(sqlite)" and details["index"]["count"] > 0


def test_readiness_details_go_to_the_log(pa, data_dir, caplog):
    app = create_app(settings=settings_for(data_dir), assistant_factory=lambda settings: pa)
    with caplog.at_level(logging.INFO, logger="assistant.api"), TestClient(app) as c:
        import time

        deadline = time.monotonic() + 30
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    ready = [r for r in caplog.records if getattr(r, "event", None) == "ready"]
    assert ready and "SqlStore(sqlite)" in ready[0].getMessage() and ready[0].index["count"] > 0


# --- 9. CORS headers on every response ---------------------------------------------------------------------


class _Crashes:
    corpus: ClassVar[list] = []

    def ask(self, *args, **kwargs):
        raise RuntimeError("secret: boom")


def test_cors_headers_on_500_413_and_429(make_client):
    origin = {"Origin": "https://servicewechat.com"}
    c = make_client(_Crashes(), cors_origins="https://servicewechat.com")
    r = c.post("/v1/chat", json={"message": QUESTION}, headers=origin)
    assert_error(r, 500, "internal_error")
    assert r.headers["access-control-allow-origin"] == "https://servicewechat.com"
    assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
    small = make_client(
        cors_origins="https://servicewechat.com", max_body_bytes=1024, rate_limit_burst=1, rate_limit_per_minute=1
    )
    r = small.post("/v1/chat", json={"message": "问" * 600}, headers=origin)
    assert_error(r, 413, "payload_too_large")
    assert r.headers["access-control-allow-origin"] == "https://servicewechat.com"
    small.get("/v1/clauses", headers=origin)
    r = small.get("/v1/clauses", headers=origin)
    assert_error(r, 429, "rate_limited")
    assert r.headers["access-control-allow-origin"] == "https://servicewechat.com"


def test_header_limit_middleware_answers_431_in_our_shape_with_cors(make_client):
    c = make_client(cors_origins="https://a.example", max_header_bytes=2048)
    r = c.get("/v1/clauses", headers={"X-Filler": "x" * 4096, "Origin": "https://a.example"})
    assert_error(r, 431, "header_too_large")
    assert r.headers["access-control-allow-origin"] == "https://a.example"
    assert c.get("/v1/clauses", headers={"X-Filler": "x" * 1024}).status_code == 200


# --- sessions belong to their creator ----------------------------------------------------------------------


def test_client_chosen_session_ids_are_refused_and_never_created(client, store):
    squat = "victim-session-0001"
    for path in ("/v1/chat", "/v1/chat/stream"):
        r = client.post(path, json={"message": QUESTION, "session_id": squat}, headers={"X-User-Id": "attacker"})
        assert r.status_code == 404
    assert not store.has_session(squat, "attacker")
    with pytest.raises(SessionNotFound):
        store.turns(squat, "attacker")
    sid = new_session(client, "victim")
    assert len(sid) == 32 and int(sid, 16) >= 0  # issued by the server
    follow = client.post(
        "/v1/chat", json={"message": "首年交易额要达到多少？", "session_id": sid}, headers={"X-User-Id": "victim"}
    )
    assert follow.status_code == 200 and follow.json()["session_id"] == sid


def test_missing_user_id_is_400_when_keys_are_configured(make_client):
    c = make_client(api_keys="k")
    auth = {"Authorization": "Bearer k"}
    for method, path, body in [
        ("GET", "/v1/clauses", None),
        ("POST", "/v1/chat", {"message": QUESTION}),
        ("POST", "/v1/calculate", {}),
        ("GET", f"/v1/sessions/{uuid.uuid4().hex}", None),
        ("POST", "/v1/feedback", {"session_id": "x", "turn": 0, "rating": "up"}),
    ]:
        r = c.request(method, path, json=body, headers=auth)
        assert assert_error(r, 400, "missing_user_id")["field"] == "X-User-Id"
    r = c.post("/v1/chat/stream", json={"message": QUESTION}, headers=auth)
    assert r.status_code == 400 and parse_sse(r.text)[0][1]["error"]["code"] == "missing_user_id"
    assert c.get("/v1/clauses", headers={**auth, "X-User-Id": "u"}).status_code == 200


def test_without_keys_anonymous_callers_still_work(client):
    sid = client.post("/v1/chat", json={"message": QUESTION}).json()["session_id"]
    assert client.get(f"/v1/sessions/{sid}").status_code == 200


# --- feedback is idempotent per (session, turn, user) ------------------------------------------------------


def test_a_second_vote_replaces_the_first(client, store):
    sid = new_session(client, "openid-vote")
    headers = {"X-User-Id": "openid-vote"}
    for rating, comment in [("down", "没说材料"), ("down", "没说材料"), ("up", None)]:
        r = client.post(
            "/v1/feedback", json={"session_id": sid, "turn": 0, "rating": rating, "comment": comment}, headers=headers
        )
        assert r.status_code == 201
    assert [(f["turn"], f["rating"], f["comment"]) for f in store.feedback_for(sid)] == [(0, "up", None)]


# --- 4. log fields are escaped -----------------------------------------------------------------------------


def test_escape_field_leaves_no_line_break_or_reordering_character():
    forged = "/v1/x\r\nPOST /v1/chat 200\u2028\u0085\u202e\x1b[31m\\n\ud800"
    escaped = escape_field(forged)
    assert escaped.isprintable() and "\\" in escaped
    assert len(escaped.splitlines()) == 1
    assert escape_field("/v1/clauses/三(四)") == "/v1/clauses/三(四)"


def test_json_lines_formatter_writes_one_parsable_line():
    record = logging.LogRecord(
        "assistant.api", logging.INFO, __file__, 1, "path %s", ("a\r\nb\u2028c\u202ed\ud800",), None
    )
    record.path = "x\ny\u2029"
    line = JsonLinesFormatter().format(record)
    assert len(line.splitlines()) == 1  # splitlines() also breaks at U+2028, U+0085, \x1c …
    assert "\u2028" not in line and "\u2029" not in line and "\u202e" not in line and "\ud800" not in line
    entry = json.loads(line)
    assert entry["message"] == "path a\r\nb\u2028c\u202ed\ud800"
    assert entry["path"] == "x\ny\u2029"


# --- 6. the OpenAPI document declares what the server does --------------------------------------------------


def test_openapi_follows_the_configuration(make_client):
    open_spec = make_client(max_message_chars=300).get("/openapi.json").json()
    keyed_spec = make_client(api_keys="k").get("/openapi.json").json()
    for spec, keys in ((open_spec, False), (keyed_spec, True)):
        chat = spec["paths"]["/v1/chat"]["post"]
        user = next(p for p in chat["parameters"] if p["name"] == "X-User-Id")
        assert user["required"] is keys
        assert user["schema"]["maxLength"] == 128 and user["schema"]["pattern"] == "^[!-~]+$"
        assert ("security" in chat) is keys
        assert ("ApiKey" in spec["components"].get("securitySchemes", {})) is keys
        for path, item in spec["paths"].items():
            for operation in item.values():
                assert "431" in operation["responses"], path
    message = open_spec["components"]["schemas"]["ChatRequest"]["properties"]["message"]
    assert message["maxLength"] == 300 and message["minLength"] == 1 and message["pattern"] == MESSAGE_PATTERN
    turn = open_spec["components"]["schemas"]["FeedbackRequest"]["properties"]["turn"]
    assert turn["type"] == "integer" and turn["maximum"] == 2**31 - 1


def test_stream_errors_are_documented_as_event_streams(client):
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/v1/chat/stream"]["post"]["responses"]
    for status, response in responses.items():
        media = set(response.get("content", {}))
        if status == "431":
            assert media == {"text/event-stream", "application/json"}
        else:
            assert media == {"text/event-stream"}, status
    error_event = responses["422"]["content"]["text/event-stream"]["schema"]
    assert error_event["properties"]["event"] == {"const": "error"}
    assert error_event["properties"]["data"]["contentSchema"] == {"$ref": "#/components/schemas/ErrorResponse"}


def test_calculator_amounts_are_declared_as_numbers_or_decimal_strings(client):
    spec = client.get("/openapi.json").json()
    capital = spec["components"]["schemas"]["EnterpriseProfile"]["properties"]["registered_capital_yuan"]["anyOf"]
    number, string, null = capital
    assert number == {"type": "number", "minimum": 0, "maximum": 10**15, "multipleOf": 0.01}
    assert string["type"] == "string" and string["pattern"].startswith("^")
    assert null == {"type": "null"}


@pytest.mark.parametrize("path", ["/v1/calculate", "/v1/chat", "/v1/feedback"])
@pytest.mark.parametrize("body", ["0.0", "0", "1e2", "false", "[]", '"x"', "null"])
def test_a_body_that_is_not_an_object_is_422(client, path, body):
    """Found by the long schemathesis run: FastAPI read the JSON number 0.0 as an empty profile (200)."""
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert_error(r, 422, "validation_error")
