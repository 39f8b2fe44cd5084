"""Issue 10 items that are about the wire, against the API as deployed (`python -m assistant serve` in its
own process: uvicorn with h11 and the header limit, JSON-lines log): body encodings and exact decimals,
unstorable text, log forging, header size, failed-auth throttling per client address, CORS on a 500."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
import uvicorn
from servers import free_port, start_api_server, stop_process

from assistant.api import create_app
from assistant.api.server import uvicorn_config
from assistant.calculator import calculate, parse_profile
from assistant.settings import Settings

pytestmark = pytest.mark.slow

KEY = "wire-key"
HEADER_LIMIT = 8192
AUTH = {"Authorization": f"Bearer {KEY}", "X-User-Id": "openid-wire"}
JSON_HEADERS = {**AUTH, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wire")
    url, proc, log_path = start_api_server(tmp, env={
        "PA_API_KEYS": KEY,
        "PA_CORS_ORIGINS": "https://a.example",
        "PA_MAX_HEADER_BYTES": str(HEADER_LIMIT),
        "PA_AUTH_FAILURE_BURST": "3",
        "PA_AUTH_FAILURES_PER_MINUTE": "1",
        "PA_RATE_LIMIT_PER_MINUTE": "1000000",
        "PA_RATE_LIMIT_BURST": "1000000",
    })
    try:
        yield url, log_path, tmp / "data" / "assistant.db"
    finally:
        stop_process(proc)


def post_raw(url: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url + path, content=body, headers={**JSON_HEADERS, **(headers or {})}, timeout=30)


def raw_exchange(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# --- 3. every JSON encoding, one exact result ----------------------------------------------------------


def test_utf8_bom_with_a_fraction_is_answered_exactly(server):
    """The issue's reproduction: printf '\\xef\\xbb\\xbf{"registered_capital_yuan": 1.5}' → was 500."""
    url, _, _ = server
    r = post_raw(url, "/v1/calculate", b'\xef\xbb\xbf{"registered_capital_yuan": 1.5}')
    assert r.status_code == 200, r.text
    assert r.json() == json.loads(calculate(parse_profile('{"registered_capital_yuan": 1.5}')).model_dump_json())


PROFILE_TEXT = ('{"new_hq_type": "regional_hq", "registered_in_beibei": true, "local_legal_entity": true, '
                '"office_annual_rent_yuan": 999999999999999.99, "years_in_operation": 2.5, "usd_cny_rate": 7.12345678, '
                '"cross_border_retail_usd": "12345.67", "office_purchase_price_yuan": 1e6}')


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                                      "utf-32-le", "utf-32-be"])
def test_every_json_encoding_gives_the_exact_decimal_result(server, encoding):
    url, _, _ = server
    expected = json.loads(calculate(parse_profile(PROFILE_TEXT)).model_dump_json())
    # the check can tell: through a binary float 999999999999999.99 becomes 1e15 and the result changes
    rounded = json.loads(calculate(parse_profile(PROFILE_TEXT.replace("999999999999999.99", "1e15"))).model_dump_json())
    assert expected != rounded
    r = post_raw(url, "/v1/calculate", PROFILE_TEXT.encode(encoding),
                 headers={"Content-Type": "application/json; charset=utf-8"})  # charset has no effect on JSON
    assert r.status_code == 200, r.text
    assert r.json() == expected


def test_bytes_that_are_no_unicode_encoding_are_400(server):
    url, _, _ = server
    for body in (b'{"message": "\xed\xa0\x80"}',  # a UTF-8-encoded surrogate
                 b'{"message": "\xff\xfe"}', b"\xff\xfe{\x00"):
        r = post_raw(url, "/v1/chat", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == "invalid_json"


# --- 2. a lone surrogate is 422, with nothing written ----------------------------------------------------


def test_lone_surrogate_over_the_wire_writes_nothing(server):
    url, _, db = server
    with sqlite3.connect(db) as raw:
        before = raw.execute("SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM turns)").fetchone()
    for path in ("/v1/chat", "/v1/chat/stream"):
        r = post_raw(url, path, b'{"message": "\\ud800"}')
        assert r.status_code == 422
        assert "validation_error" in r.text and "Traceback" not in r.text
    with sqlite3.connect(db) as raw:
        after = raw.execute("SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM turns)").fetchone()
    assert after == before


# --- 4. no log forging ----------------------------------------------------------------------------------


def test_control_characters_in_the_path_cannot_forge_log_lines(server):
    url, log_path, _ = server
    forged = "/v1/x%0d%0aPOST%20/v1/chat%20200%E2%80%A8GET%20/v1/y%C2%85%0bz"
    r = httpx.get(url + forged, headers={**AUTH, "X-Request-Id": "forge-1"}, timeout=10)
    assert r.status_code == 404
    time.sleep(0.3)
    lines = log_path.read_text(encoding="utf-8").splitlines()  # splitlines() breaks at U+2028/U+0085 too
    mine = [line for line in lines if "forge-1" in line]
    assert len(mine) == 1, mine
    entry = json.loads(mine[0])
    assert entry["request_id"] == "forge-1" and entry["status"] == 404
    assert "\r" not in entry["path"] and "\n" not in entry["path"] and "\u2028" not in entry["path"]
    assert "\\x0d\\x0a" in entry["path"] and "\\u2028" in entry["path"]
    assert not any(line.lstrip().startswith(("POST /v1/chat", "GET /v1/y")) for line in lines)
    ours = [line for line in lines if line.startswith("{")]
    assert ours and all(json.loads(line) for line in ours)


# --- 5. header size --------------------------------------------------------------------------------------


def test_an_oversized_header_is_431_in_our_shape(server):
    url, _, _ = server
    response = raw_exchange(url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), head
    error = json.loads(body)["error"]
    assert error["code"] == "header_too_large" and str(HEADER_LIMIT) in error["message"]
    assert httpx.get(url + "/healthz", headers={"X-Fine": "a" * (HEADER_LIMIT // 2)}, timeout=10).status_code == 200


def test_an_endless_header_is_not_read_to_the_end(server):
    """64 MB of header: the server stops reading (and closes) long before, instead of buffering it all."""
    url, _, _ = server
    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * 65536
        try:
            while sent < 64 * 2**20:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # broken pipe / reset: the server gave up on us
            pass
    assert sent < 16 * 2**20, f"the server kept reading: {sent} bytes"
    assert httpx.get(url + "/healthz", timeout=10).status_code == 200


def test_a_malformed_request_gets_our_error_shape(server):
    url, _, _ = server
    response = raw_exchange(url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["error"]["code"] == "bad_request"


# --- 7. failed auth per client address -------------------------------------------------------------------


def test_wrong_keys_are_rate_limited_per_client_address(server):
    url, _, _ = server
    guesser = {"X-Forwarded-For": "203.0.113.50", "X-User-Id": "u"}
    statuses = [httpx.get(url + "/v1/clauses", headers={**guesser, "Authorization": f"Bearer guess-{i}"},
                          timeout=10).status_code for i in range(3)]
    assert statuses == [401, 401, 401]
    limited = httpx.get(url + "/v1/clauses", headers={**guesser, "Authorization": "Bearer guess-4"}, timeout=10)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    right_key_same_address = httpx.get(url + "/v1/clauses", headers={**guesser, "Authorization": f"Bearer {KEY}"},
                                       timeout=10)
    assert right_key_same_address.status_code == 429
    other = httpx.get(url + "/v1/clauses", headers={**AUTH, "X-Forwarded-For": "198.51.100.60"}, timeout=10)
    assert other.status_code == 200


# --- 8. /readyz over the wire --------------------------------------------------------------------------


def test_readyz_tells_an_anonymous_caller_nothing_else(server):
    url, _, db = server
    anonymous = httpx.get(url + "/readyz", timeout=10)
    assert anonymous.json() == {"status": "ready"}
    assert str(db.parent) not in anonymous.text
    keyed = httpx.get(url + "/readyz", headers={"Authorization": f"Bearer {KEY}"}, timeout=10).json()
    assert keyed["details"]["index"]["count"] > 0


# --- 9. CORS on a 500, over the wire -------------------------------------------------------------------------


class _Crashes:
    corpus: ClassVar[list] = []

    def ask(self, *args, **kwargs):
        raise RuntimeError("secret: boom")


def test_a_500_carries_cors_headers_over_the_wire(tmp_path):
    settings = Settings(data_dir=tmp_path, api_keys="", cors_origins="https://a.example", llm_base_url=None)
    port = free_port()
    server = uvicorn.Server(uvicorn_config(create_app(_Crashes(), settings), port=port, settings=settings,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.02)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/chat", json={"message": "你好"},
                       headers={"Origin": "https://a.example"}, timeout=10)
        assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
        assert "secret" not in r.text
        assert r.headers["access-control-allow-origin"] == "https://a.example"
        assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_server_log_is_json_lines(server):
    _, log_path, _ = server
    ours = [line for line in Path(log_path).read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    assert any(json.loads(line).get("event") == "ready" for line in ours)
