"""The HTTP API through FastAPI's TestClient, against one real PolicyAssistant (grounded mode) on a SqlStore.

Error handling of the failure paths the real assistant cannot be made to take (a crash deep inside, a
stream that breaks after its first piece, a slow start) uses small stub assistants.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from urllib.parse import quote

import pytest
from api_clients import QUESTION, assert_error, open_clients, settings_for
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from assistant.api import configure_app, create_app, get_assistant, router
from assistant.assistant import PolicyAssistant
from assistant.calculator import CalculationResult, calculate, parse_profile
from assistant.schemas import ChatResponse
from assistant.sql_store import SqlStore

# --- fixtures ------------------------------------------------------------------------------------




@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("api-data")


@pytest.fixture(scope="module")
def store(data_dir):
    s = SqlStore(f"sqlite:///{data_dir / 'api.db'}")
    yield s
    s.close()


@pytest.fixture(scope="module")
def pa(data_dir, store):
    return PolicyAssistant(settings=settings_for(data_dir), store=store, mode="grounded")


@pytest.fixture
def make_client(pa, data_dir):
    with open_clients() as open_client:

        def make(assistant=None, **overrides) -> TestClient:
            return open_client(create_app(assistant or pa, settings_for(data_dir, **overrides)))

        yield make


@pytest.fixture
def client(make_client):
    return make_client()




def parse_sse(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


# --- health ---------------------------------------------------------------------------------------


def test_healthz_and_readyz(client, make_client, pa):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}  # nothing about the deployment to an anonymous caller
    keyed = make_client(api_keys="k")
    body = keyed.get("/readyz", headers={"Authorization": "Bearer k"}).json()
    assert body["status"] == "ready"
    details = body["details"]
    assert details["mode"] == "grounded"
    assert details["store"] == "SqlStore(sqlite)"
    assert details["index"]["count"] == len(pa.corpus) == details["clauses"]


def test_readyz_is_503_until_the_assistant_is_loaded(pa, data_dir):
    release = threading.Event()

    def slow_factory(settings):
        release.wait(30)
        return pa

    app = create_app(settings=settings_for(data_dir), assistant_factory=slow_factory)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/healthz").status_code == 200  # answers at once
        error = assert_error(c.get("/readyz"), 503, "not_ready")
        assert "加载" in error["message"]
        not_ready = c.post("/v1/chat", json={"message": QUESTION})
        assert_error(not_ready, 503, "not_ready")
        assert int(not_ready.headers["retry-after"]) >= 1
        release.set()
        deadline = time.monotonic() + 30
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert c.post("/v1/chat", json={"message": QUESTION}).status_code == 200


def test_startup_failure_is_reported_without_details(data_dir):
    def broken(settings):
        raise RuntimeError("secret: cannot open /etc/shadow")

    app = create_app(settings=settings_for(data_dir), assistant_factory=broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        deadline = time.monotonic() + 10
        while (r := c.get("/readyz")).json()["error"]["code"] != "startup_failed":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert_error(r, 503, "startup_failed")
        assert "secret" not in r.text
        assert c.get("/healthz").status_code == 200


# --- chat ----------------------------------------------------------------------------------------


def test_chat_issues_a_session_and_stores_both_turns(client, store):
    first = client.post("/v1/chat", json={"message": QUESTION}, headers={"X-User-Id": "openid-chat"})
    assert first.status_code == 200, first.text
    reply = ChatResponse.model_validate(first.json())
    assert reply.answer and reply.mode == "grounded"
    assert len(reply.session_id) == 32
    assert reply.answer[:8].encode("utf-8") in first.content  # raw UTF-8, not \u escapes

    second = client.post(
        "/v1/chat",
        json={"message": "首年交易额要达到多少？", "session_id": reply.session_id},
        headers={"X-User-Id": "openid-chat"},
    )
    assert second.status_code == 200
    assert second.json()["session_id"] == reply.session_id

    history = client.get(f"/v1/sessions/{reply.session_id}", headers={"X-User-Id": "openid-chat"})
    assert history.status_code == 200
    turns = history.json()["turns"]
    assert [t["index"] for t in turns] == [0, 1]
    assert [t["message"] for t in turns] == [QUESTION, "首年交易额要达到多少？"]
    assert ChatResponse.model_validate(turns[0]["response"]) == reply
    assert turns[1]["response"] == second.json()
    # the store itself has them, committed
    assert [t.message for t in store.turns(reply.session_id, "openid-chat")] == [QUESTION, "首年交易额要达到多少？"]


def test_another_users_session_is_404_everywhere(client):
    sid = client.post("/v1/chat", json={"message": QUESTION}, headers={"X-User-Id": "openid-owner"}).json()[
        "session_id"
    ]
    for headers in ({"X-User-Id": "openid-intruder"}, {}):
        assert_error(client.get(f"/v1/sessions/{sid}", headers=headers), 404, "session_not_found")
        assert_error(
            client.post("/v1/chat", json={"message": "继续", "session_id": sid}, headers=headers),
            404,
            "session_not_found",
        )
        assert_error(
            client.post("/v1/feedback", json={"session_id": sid, "turn": 0, "rating": "up"}, headers=headers),
            404,
            "turn_not_found",
        )
    assert client.get(f"/v1/sessions/{sid}", headers={"X-User-Id": "openid-owner"}).status_code == 200


def test_anonymous_users_have_their_own_sessions(client):
    sid = client.post("/v1/chat", json={"message": QUESTION}).json()["session_id"]
    assert len(client.get(f"/v1/sessions/{sid}").json()["turns"]) == 1
    assert_error(client.get(f"/v1/sessions/{sid}", headers={"X-User-Id": "someone"}), 404, "session_not_found")


def test_unknown_and_malformed_session_ids_are_404(client):
    assert_error(client.get(f"/v1/sessions/{uuid.uuid4().hex}"), 404, "session_not_found")
    assert_error(client.get("/v1/sessions/%E4%BC%9A%E8%AF%9D"), 404, "session_not_found")


def test_over_long_and_empty_messages_are_422(make_client):
    c = make_client(max_message_chars=50)
    error = assert_error(c.post("/v1/chat", json={"message": "问" * 51}), 422, "message_too_long")
    assert error["field"] == "message" and "50" in error["message"]
    assert c.post("/v1/chat", json={"message": "问" * 20}).status_code == 200
    assert_error(c.post("/v1/chat", json={"message": "   "}), 422, "empty_message")
    assert_error(c.post("/v1/chat", json={"message": ""}), 422, "empty_message")


def test_chat_validation_errors_name_the_field(client):
    error = assert_error(client.post("/v1/chat", json={"message": 42}), 422, "validation_error")
    assert error["field"] == "message"
    error = assert_error(client.post("/v1/chat", json={}), 422, "validation_error")
    assert error["field"] == "message" and "缺少" in error["message"]
    error = assert_error(
        client.post("/v1/chat", json={"message": "你好", "session_id": "../etc/passwd"}), 422, "validation_error"
    )
    assert error["field"] == "session_id"
    assert_error(client.post("/v1/chat", json=["message"]), 422, "validation_error")
    error = assert_error(
        client.post("/v1/chat", json={"message": "你好"}, headers={"X-User-Id": "x" * 200}), 422, "invalid_user_id"
    )
    assert error["field"] == "X-User-Id"


def test_malformed_json_is_a_json_error(client):
    r = client.post("/v1/chat", content=b'{"message": "\xe4\xbd\xa0', headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_json")
    r = client.post(
        "/v1/calculate", content=b"{registered_capital_yuan: 1}", headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400, "invalid_json")
    # no Content-Type: not parsed as JSON (CSRF guard), still our shape
    r = client.post("/v1/chat", content=json.dumps({"message": "你好"}).encode())
    assert_error(r, 422, "validation_error")


# --- streaming -----------------------------------------------------------------------------------


def test_stream_sends_deltas_then_the_full_response(client, store):
    r = client.post("/v1/chat/stream", json={"message": QUESTION}, headers={"X-User-Id": "openid-stream"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    events = parse_sse(r.text)
    kinds = [k for k, _ in events]
    assert kinds[-1] == "done" and set(kinds[:-1]) == {"delta"} and len(kinds) >= 2
    done = ChatResponse.model_validate(events[-1][1])
    assert "".join(d["text"] for _, d in events[:-1]) == done.answer
    stored = store.turns(done.session_id, "openid-stream")
    assert stored[-1].response == done


def test_stream_errors_are_sse_error_events(make_client):
    c = make_client(api_keys="k")
    r = c.post("/v1/chat/stream", json={"message": QUESTION})
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/event-stream")
    ((kind, body),) = parse_sse(r.text)
    assert kind == "error" and body["error"]["code"] == "unauthorized"
    assert body["error"]["request_id"] == r.headers["x-request-id"]

    auth = {"Authorization": "Bearer k"}
    sid = c.post("/v1/chat", json={"message": QUESTION}, headers={**auth, "X-User-Id": "a"}).json()["session_id"]
    r = c.post("/v1/chat/stream", json={"message": "继续", "session_id": sid}, headers={**auth, "X-User-Id": "b"})
    assert r.status_code == 404
    assert parse_sse(r.text)[0][1]["error"]["code"] == "session_not_found"

    r = c.post("/v1/chat/stream", json={"message": 1}, headers={**auth, "X-User-Id": "a"})
    assert r.status_code == 422
    assert parse_sse(r.text)[0][1]["error"]["field"] == "message"


class _BreaksMidStream:
    """Yields one piece, then fails: the client must get `event: error`, not a cut-off stream."""

    corpus = []

    def ask_stream(self, message, session_id=None, user_id=None):
        yield "第一句。"
        raise RuntimeError("secret: vector store exploded")


def test_failure_mid_stream_ends_with_an_error_event(make_client):
    r = make_client(_BreaksMidStream()).post("/v1/chat/stream", json={"message": QUESTION})
    assert r.status_code == 200
    events = parse_sse(r.text)
    assert events[0] == ("delta", {"text": "第一句。"})
    assert events[-1][0] == "error" and events[-1][1]["error"]["code"] == "internal_error"
    assert "secret" not in r.text


# --- calculate -----------------------------------------------------------------------------------


def test_calculate_matches_the_calculator(client):
    profile = {
        "registered_in_beibei": True,
        "local_legal_entity": True,
        "new_hq_type": "regional_hq",
        "registered_capital_yuan": 20000000,
        "online_annual_sales_yuan": "150000000",
        "sales_in_statistics": True,
        "years_in_operation": 2,
        "office_purchase_price_yuan": 1234567.89,
    }
    r = client.post("/v1/calculate", json=profile)
    assert r.status_code == 200, r.text
    result = CalculationResult.model_validate(r.json())
    assert result == calculate(parse_profile(json.dumps(profile)))


def test_calculate_keeps_exact_decimals(client):
    body = b'{"office_purchase_price_yuan": 999999999999999.99}'  # not representable as a binary float
    r = client.post("/v1/calculate", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json() == json.loads(calculate(parse_profile(body.decode())).model_dump_json())


def test_calculate_empty_profile_asks_for_facts(client):
    r = client.post("/v1/calculate", json={})
    assert r.status_code == 200
    assert r.json()["total_yuan"] == "0"


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"registered_capital_yuan": -5}, "registered_capital_yuan"),
        ({"registered_capital_yuan": "三亿"}, "registered_capital_yuan"),
        ({"registered_in_beibei": "yes"}, "registered_in_beibei"),
        ({"new_hq_type": "headquarters"}, "new_hq_type"),
        ({"capital": 1}, "capital"),
        ({"office_purchase_price_yuan": 1.234}, "office_purchase_price_yuan"),
    ],
)
def test_calculate_validation_names_the_field(client, profile, field):
    error = assert_error(client.post("/v1/calculate", json=profile), 422, "validation_error")
    assert error["field"] == field
    assert field in error["message"]


# --- clauses -------------------------------------------------------------------------------------


def test_clause_list(client, pa):
    r = client.get("/v1/clauses")
    assert r.status_code == 200
    body = r.json()
    assert "2019" in (body["document"]["doc_number"] or "")
    ids = [c["clause_id"] for c in body["clauses"]]
    assert ids == [c.clause_id for c in pa.corpus.clauses]
    for c in body["clauses"]:
        assert c["title"] and c["source"] in ("main", "annex", "meta")
        assert "text" not in c
    assert any(c["lead_unit"] for c in body["clauses"])


@pytest.mark.parametrize("variant", ["三(四)", "三（四）", "【三(四)】", " 三(四) "])
def test_clause_by_chinese_id_and_variants(client, variant):
    r = client.get("/v1/clauses/" + quote(variant, safe=""))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["clause"]["clause_id"] == "三(四)"
    assert body["clause"]["text"]
    assert [c["clause_id"] for c in body["counterparts"]] == body["clause"]["related"]


@pytest.mark.parametrize("variant", ["附件-11", "附件11", "annex-11", "附件 11"])
def test_annex_clause_variants(client, variant):
    r = client.get("/v1/clauses/" + quote(variant, safe=""))
    assert r.status_code == 200, r.text
    assert r.json()["clause"]["clause_id"] == "附件-11"


@pytest.mark.parametrize("bad", ["九(九)", "附件-99", "nonsense", "a/b/c", "三" * 100])
def test_unknown_clause_is_404(client, bad):
    error = assert_error(client.get("/v1/clauses/" + quote(bad, safe="")), 404, "clause_not_found")
    assert "未找到条款" in error["message"]


# --- feedback ------------------------------------------------------------------------------------


def test_feedback_is_stored(client, store):
    headers = {"X-User-Id": "openid-fb"}
    sid = client.post("/v1/chat", json={"message": QUESTION}, headers=headers).json()["session_id"]
    r = client.post(
        "/v1/feedback",
        json={"session_id": sid, "turn": 0, "rating": "down", "comment": "没说申报材料"},
        headers=headers,
    )
    assert r.status_code == 201
    assert r.json() == {"stored": True, "session_id": sid, "turn": 0, "rating": "down"}
    assert [(f["turn"], f["rating"], f["comment"]) for f in store.feedback_for(sid)] == [(0, "down", "没说申报材料")]


def test_feedback_errors(client):
    headers = {"X-User-Id": "openid-fb2"}
    sid = client.post("/v1/chat", json={"message": QUESTION}, headers=headers).json()["session_id"]
    assert_error(
        client.post("/v1/feedback", json={"session_id": sid, "turn": 5, "rating": "up"}, headers=headers),
        404,
        "turn_not_found",
    )
    assert_error(
        client.post("/v1/feedback", json={"session_id": uuid.uuid4().hex, "turn": 0, "rating": "up"}, headers=headers),
        404,
        "turn_not_found",
    )
    error = assert_error(
        client.post("/v1/feedback", json={"session_id": sid, "turn": 0, "rating": "meh"}, headers=headers),
        422,
        "validation_error",
    )
    assert error["field"] == "rating"
    error = assert_error(
        client.post("/v1/feedback", json={"session_id": sid, "turn": -1, "rating": "up"}, headers=headers),
        422,
        "validation_error",
    )
    assert error["field"] == "turn"
    error = assert_error(
        client.post("/v1/feedback", json={"session_id": sid, "turn": "zero", "rating": "up"}, headers=headers),
        422,
        "validation_error",
    )
    assert error["field"] == "turn"


# --- auth ----------------------------------------------------------------------------------------


def test_api_keys(make_client):
    c = make_client(api_keys="key-one, key-two", auth_failure_burst=100)
    missing = c.get("/v1/clauses")
    assert_error(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    assert_error(c.get("/v1/clauses", headers={"Authorization": "Bearer key-three"}), 401, "unauthorized")
    assert_error(c.get("/v1/clauses", headers={"Authorization": "Basic key-one"}), 401, "unauthorized")
    assert_error(c.get("/v1/clauses", headers={"Authorization": "Bearer "}), 401, "unauthorized")
    assert_error(c.post("/v1/chat", json={"message": QUESTION}), 401, "unauthorized")
    for key in ("key-one", "key-two"):
        assert c.get("/v1/clauses", headers={"Authorization": f"Bearer {key}", "X-User-Id": "u"}).status_code == 200
    # health probes and the schema stay open
    assert c.get("/healthz").status_code == 200
    assert c.get("/readyz").status_code == 200
    assert c.get("/openapi.json").status_code == 200


def test_no_keys_means_no_auth(client):
    assert client.get("/v1/clauses").status_code == 200


# --- limits --------------------------------------------------------------------------------------


def test_rate_limit_per_user_then_per_ip(make_client):
    c = make_client(rate_limit_per_minute=6, rate_limit_burst=3)
    for _ in range(3):
        assert c.get("/v1/clauses", headers={"X-User-Id": "busy"}).status_code == 200
    limited = c.get("/v1/clauses", headers={"X-User-Id": "busy"})
    assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 10
    # other users have their own bucket; without X-User-Id the client IP is the key
    assert c.get("/v1/clauses", headers={"X-User-Id": "calm"}).status_code == 200
    for _ in range(3):
        assert c.get("/v1/clauses").status_code == 200
    assert_error(c.get("/v1/clauses"), 429, "rate_limited")


def test_token_bucket_refills():
    from assistant.api import TokenBucketLimiter

    limiter = TokenBucketLimiter(per_minute=60, burst=2)
    assert limiter.acquire("k", now=0.0) == 0
    assert limiter.acquire("k", now=0.0) == 0
    assert limiter.acquire("k", now=0.0) == pytest.approx(1.0)
    assert limiter.acquire("k", now=1.0) == 0  # one token per second
    small = TokenBucketLimiter(per_minute=60, burst=1, max_keys=2)
    for key in "abc":
        small.acquire(key, now=0.0)
    assert len(small._buckets) == 2  # bounded memory


def test_body_limit_on_content_length(make_client):
    c = make_client(max_body_bytes=2048)
    error = assert_error(c.post("/v1/chat", json={"message": "问" * 1000}), 413, "payload_too_large")
    assert "2048" in error["message"]
    assert c.post("/v1/chat", json={"message": "问" * 100}).status_code == 200


def test_body_limit_on_streamed_body_without_content_length(make_client):
    c = make_client(max_body_bytes=2048)

    def chunks():
        yield b'{"message": "'
        for _ in range(10):
            yield ("问" * 100).encode()
        yield b'"}'

    r = c.post("/v1/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "payload_too_large")


def test_unknown_path_and_wrong_method(client):
    assert_error(client.get("/v2/chat"), 404, "not_found")
    assert_error(client.get("/v1/chat"), 405, "method_not_allowed")


# --- cross-cutting -------------------------------------------------------------------------------


class _Crashes:
    corpus = []

    def ask(self, *args, **kwargs):
        raise RuntimeError("secret: password=hunter2 in /srv/app/db.py line 42")

    def history(self, *args, **kwargs):
        raise ZeroDivisionError("deep failure")


def test_unexpected_errors_are_500_without_a_stack_trace(make_client):
    c = make_client(_Crashes())
    for r in (c.post("/v1/chat", json={"message": QUESTION}), c.get(f"/v1/sessions/{uuid.uuid4().hex}")):
        error = assert_error(r, 500, "internal_error")
        assert "secret" not in r.text and "hunter2" not in r.text and "ZeroDivision" not in r.text
        assert "服务器内部错误" in error["message"]


def test_request_ids(client):
    r = client.get("/v1/clauses", headers={"X-Request-Id": "wx-req-123"})
    assert r.headers["x-request-id"] == "wx-req-123"
    bad = client.get("/v1/clauses", headers={"X-Request-Id": "bad id with spaces\t"})
    assert bad.headers["x-request-id"] != "bad id with spaces\t" and len(bad.headers["x-request-id"]) == 32
    err = client.get("/v1/clauses/nothing", headers={"X-Request-Id": "trace-42"})
    assert err.json()["error"]["request_id"] == "trace-42"


def test_request_id_is_logged(client, caplog):
    with caplog.at_level("INFO", logger="assistant.api"):
        client.get("/v1/clauses", headers={"X-Request-Id": "log-me-7"})
    assert any(
        "request_id=log-me-7" in rec.getMessage() and "/v1/clauses" in rec.getMessage() for rec in caplog.records
    )


def test_cors(make_client, client):
    c = make_client(cors_origins="https://servicewechat.com,https://admin.example.cn")
    pre = c.options(
        "/v1/chat",
        headers={
            "Origin": "https://admin.example.cn",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-user-id",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "https://admin.example.cn"
    r = c.get("/v1/clauses", headers={"Origin": "https://servicewechat.com"})
    assert r.headers["access-control-allow-origin"] == "https://servicewechat.com"
    assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in c.get("/v1/clauses", headers={"Origin": "https://evil.example"}).headers
    assert "access-control-allow-origin" not in client.get("/v1/clauses", headers={"Origin": "https://x.cn"}).headers


def test_openapi_has_every_endpoint_and_chinese_examples(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/v1/chat", "post"),
        ("/v1/chat/stream", "post"),
        ("/v1/calculate", "post"),
        ("/v1/clauses", "get"),
        ("/v1/clauses/{clause_id}", "get"),
        ("/v1/sessions/{session_id}", "get"),
        ("/v1/feedback", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ]:
        assert method in paths[path], path
    text = json.dumps(spec, ensure_ascii=False)
    assert "自建电商平台有什么补贴？" in text  # ChatRequest example
    assert "text/event-stream" in json.dumps(paths["/v1/chat/stream"])
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert "ApiKey" not in spec["components"].get("securitySchemes", {})  # no keys configured: none required
    assert "X-User-Id" in json.dumps(paths["/v1/chat"]["post"]["parameters"])


# --- mounting in an existing FastAPI backend ------------------------------------------------------


class Order(BaseModel):
    qty: int


def test_router_in_a_host_app(pa):
    host = FastAPI()

    @host.post("/orders")
    def orders(order: Order) -> dict:
        return {"ok": order.qty}

    host.include_router(router)
    configure_app(host, settings_for(pa.settings.data_dir))
    host.dependency_overrides[get_assistant] = lambda: pa
    c = TestClient(host, raise_server_exceptions=False)
    assert c.get("/v1/clauses").status_code == 200
    assert c.post("/v1/chat", json={"message": QUESTION}).status_code == 200
    assert_error(c.get("/v1/clauses/none"), 404, "clause_not_found")
    # the host's own routes keep FastAPI's default error shape (or the host's own handlers)
    assert "detail" in c.post("/orders", json={"qty": "many"}).json()
    assert c.get("/nowhere").json() == {"detail": "Not Found"}
    assert c.post("/orders", json={"qty": 2}).json() == {"ok": 2}


def test_router_via_app_state(pa):
    host = FastAPI()
    host.include_router(router)
    configure_app(host, settings_for(pa.settings.data_dir))
    c = TestClient(host, raise_server_exceptions=False)
    assert_error(c.get("/v1/clauses"), 503, "not_ready")
    host.state.policy_assistant = pa
    assert c.get("/v1/clauses").status_code == 200


def test_library_use_with_sql_store(pa, tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'lib.db'}")
    lib = PolicyAssistant(settings=pa.settings, store=store, mode="grounded")
    reply = lib.ask(QUESTION, user_id="openid-lib")
    lib.feedback(reply.session_id, 0, "up", "清楚", user_id="openid-lib")
    assert [t.response for t in lib.history(reply.session_id, user_id="openid-lib")] == [reply]
    assert store.feedback_for(reply.session_id)[0]["rating"] == "up"
    store.close()
