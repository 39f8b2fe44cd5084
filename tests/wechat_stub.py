"""A local stand-in for the three WeChat server APIs we call: a contract test of our side, not of WeChat.

It answers the way the documented endpoints do (paths, parameters, JSON fields, error codes), so tests
can check that *our* client sends what WeChat expects and maps every documented answer correctly. It
cannot tell us whether WeChat still behaves as documented; only the real API can.

* ``GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code``
  (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html)
* ``GET /cgi-bin/token?grant_type=client_credential&appid&secret``
  (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getAccessToken.html)
* ``POST /wxa/msg_sec_check?access_token=…`` with ``{"content", "version": 2, "scene", "openid"}``
  (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/sec-center/sec-check/msgSecCheck.html)

Valid credentials: appid ``wxstubappid``, secret ``wxstubsecret`` (else 40013 / 40125, like WeChat).
Login codes: ``invalid`` → 40029, ``ratelimit`` → 45011, ``highrisk`` → 40226, ``busy`` → -1, ``slow`` →
answers after 3 s; ``union-<x>`` → also ``unionid`` ``uStub_<x>``; anything else → openid ``oStub_<code>``.
Content: ``风险测试词`` → suggest risky (label 20001), ``复核测试词`` → review (label 20002), else pass.
An unknown access token → 40001, one retired by `WeChatStub.expire_tokens` → 42001.

Use it as a context manager (``with WeChatStub() as stub: … stub.url …``), or run
``python tests/wechat_stub.py`` to serve on a free port (printed) until killed. To simulate WeChat
being unreachable, point the client at a closed port instead (`servers.free_port`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

APPID = "wxstubappid"
SECRET = "wxstubsecret"
RISKY_WORD = "风险测试词"
REVIEW_WORD = "复核测试词"
SLOW_SECONDS = 3.0
TOKEN_EXPIRES_IN = 7200

_LOGIN_ERRORS: dict[str, tuple[int, str]] = {
    "invalid": (40029, "invalid code"),
    "ratelimit": (45011, "api minute-quota reach limit  mustslower  retry next minute"),
    "highrisk": (40226, "code blocked"),
    "busy": (-1, "system error"),
}


class WeChatStub:
    """The stand-in server, on 127.0.0.1 and a free port, served by a daemon thread."""

    def __init__(self, *, token_expires_in: int = TOKEN_EXPIRES_IN) -> None:
        self.token_expires_in = token_expires_in
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._live_tokens: set[str] = set()
        self._expired_tokens: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="wechat-stub", daemon=True)
        self._thread.start()

    def __enter__(self) -> WeChatStub:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 42001 (expired), as WeChat's do after 2 hours."""
        with self._lock:
            self._expired_tokens |= self._live_tokens
            self._live_tokens.clear()

    def invalidate_tokens(self) -> None:
        """Every access token issued so far now answers 40001 (invalid), as after a secret reset or after
        another server fetched a new token."""
        with self._lock:
            self._live_tokens.clear()
            self._expired_tokens.clear()

    def paths(self) -> list[str]:
        """The paths called so far, in order (a convenience over `calls`)."""
        with self._lock:
            return [path for path, _ in self.calls]

    # --- the endpoints ---------------------------------------------------------------------------
    def _credentials_error(self, params: dict[str, str]) -> dict[str, Any] | None:
        if params.get("appid") != APPID:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if params.get("secret") != SECRET:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        return None

    def jscode2session(self, params: dict[str, str]) -> dict[str, Any]:
        error = self._credentials_error(params)
        if error:
            return error
        code = params.get("js_code", "")
        if params.get("grant_type") != "authorization_code" or not code:
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if code == "slow":
            time.sleep(SLOW_SECONDS)
        if code in _LOGIN_ERRORS:
            errcode, errmsg = _LOGIN_ERRORS[code]
            return {"errcode": errcode, "errmsg": errmsg}
        answer: dict[str, Any] = {
            "openid": "oStub_" + code,
            "session_key": hashlib.sha256(code.encode()).hexdigest()[:24],
        }
        if code.startswith("union-"):
            answer["unionid"] = "uStub_" + code.removeprefix("union-")
        return answer

    def token(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        error = self._credentials_error(params)
        if error:
            return error
        token = "stubtoken_" + secrets.token_urlsafe(16)
        with self._lock:
            self._live_tokens.add(token)
        return {"access_token": token, "expires_in": self.token_expires_in}

    def msg_sec_check(self, params: dict[str, str], body: Any) -> dict[str, Any]:
        token = params.get("access_token", "")
        with self._lock:
            expired, live = token in self._expired_tokens, token in self._live_tokens
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        if expired:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if not live:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        if not isinstance(body, dict) or body.get("version") != 2 or not isinstance(body.get("content"), str):
            return {"errcode": 47001, "errmsg": "data format error"}
        if body.get("scene") not in (1, 2, 3, 4):
            return {"errcode": 40003, "errmsg": "invalid scene"}
        if not str(body.get("openid", "")).startswith("oStub_"):
            return {"errcode": 40003, "errmsg": "invalid openid"}
        content = body["content"]
        suggest, label = "pass", 100
        if RISKY_WORD in content:
            suggest, label = "risky", 20001
        elif REVIEW_WORD in content:
            suggest, label = "review", 20002
        return {
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": suggest, "label": label},
            "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}],
            "trace_id": secrets.token_hex(8),
        }


def _handler_for(stub: WeChatStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:  # keep test output clean
            pass

        def _reply(self, payload: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            try:
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test): fine
                pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query))
            with stub._lock:
                stub.calls.append((url.path, dict(params)))
            if url.path == "/sns/jscode2session":
                self._reply(stub.jscode2session(params))
            elif url.path == "/cgi-bin/token":
                self._reply(stub.token(params))
            else:
                self._reply({"errcode": 404, "errmsg": "not found"}, status=404)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw or b"null")
            except ValueError:
                body = None
            with stub._lock:
                stub.calls.append((url.path, {**params, **(body if isinstance(body, dict) else {})}))
            if url.path == "/wxa/msg_sec_check":
                self._reply(stub.msg_sec_check(params, body))
            else:
                self._reply({"errcode": 404, "errmsg": "not found"}, status=404)

    return Handler


if __name__ == "__main__":
    with WeChatStub() as running:
        print(running.url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            sys.exit(0)
