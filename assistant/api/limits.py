"""Limits that keep one client from costing the server more than a request's worth: header size, body
size, request rate per user, and failed API-key attempts per client address.

The size limits are pure ASGI middleware (no per-request task, no body copy beyond the one replay).
`policy-assistant serve` additionally caps headers inside the HTTP parser (see `assistant.api.server`),
so an oversized header is refused before it is buffered; the middleware is the same rule for servers
started any other way.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api.errors import ApiError, error_response
from assistant.settings import Settings


def header_value(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def header_bytes(scope: Scope) -> int:
    """Bytes of the request line and header block as they were on the wire (give or take whitespace)."""
    size = len(scope.get("method", "")) + len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
    size += 12  # " ", "?", " HTTP/1.1\r\n"
    return size + sum(len(k) + len(v) + 4 for k, v in scope.get("headers", ()))  # "k: v\r\n"


#: Clients remembered at once by a limiter (memory bound, not a policy figure).
MAX_TRACKED_KEYS = 100_000  # policy-literal: ok (a key count)


class HeaderLimitMiddleware:
    """431 when the request line plus headers exceed ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int | Callable[[], int], prefix: str = "") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(self.prefix):
            limit = self.max_bytes() if callable(self.max_bytes) else self.max_bytes
            if header_bytes(scope) > limit:
                response = error_response(
                    scope, 431, "header_too_large", f"请求头过大：上限 {limit} 字节。", headers={"Connection": "close"}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """413 when the body is larger than ``max_bytes``: on Content-Length before reading anything, and on
    the bytes actually received (chunked uploads, lying headers). Bodies are small (64 KiB), so the
    request is buffered and replayed to the app."""

    _NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})

    def __init__(self, app: ASGIApp, max_bytes: int | Callable[[], int], prefix: str = "") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    def _too_large(self, scope: Scope, limit: int):
        return error_response(scope, 413, "payload_too_large", f"请求体过大：上限 {limit} 字节。")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") in self._NO_BODY
            or not scope.get("path", "").startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes() if callable(self.max_bytes) else self.max_bytes
        declared = header_value(scope, b"content-length")
        if declared is not None:
            if not declared.isascii() or not declared.strip().isdigit():
                await error_response(scope, 400, "bad_request", "Content-Length 无效。")(scope, receive, send)
                return
            if int(declared) > limit:
                await self._too_large(scope, limit)(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(scope, limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # afterwards: wait for http.disconnect (streaming responses need it)

        await self.app(scope, replay, send)


class TokenBucketLimiter:
    """Per-key token bucket: ``burst`` requests at once, refilled at ``per_minute`` / 60 per second.

    Memory is bounded: the least recently seen keys are forgotten beyond ``max_keys`` (a forgotten key
    starts again with a full bucket, which is what an idle key would have anyway).
    """

    def __init__(self, per_minute: int, burst: int, max_keys: int = MAX_TRACKED_KEYS) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def acquire(self, key: str, now: float | None = None) -> float:
        """Take one token; return 0.0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens = self._tokens(key, now)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def wait_time(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` has a token, without taking one (0.0: it has one now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if key not in self._buckets:
                return 0.0
            tokens = self._tokens(key, now)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate


def client_address(request: Request) -> str:
    """The peer address (behind a reverse proxy, uvicorn's --proxy-headers puts the real client here)."""
    return request.client.host if request.client else "unknown"


def _limiter(request: Request, attr: str, per_minute: int, burst: int) -> TokenBucketLimiter:
    state = request.app.state
    limiter = getattr(state, attr, None)
    if limiter is None or (limiter.rate, limiter.burst) != (per_minute / 60.0, float(burst)):
        limiter = TokenBucketLimiter(per_minute, burst)
        setattr(state, attr, limiter)
    return limiter


def request_limiter(request: Request, settings: Settings) -> TokenBucketLimiter:
    return _limiter(request, "pa_rate_limiter", settings.rate_limit_per_minute, settings.rate_limit_burst)


def auth_failure_limiter(request: Request, settings: Settings) -> TokenBucketLimiter:
    return _limiter(request, "pa_auth_failure_limiter", settings.auth_failures_per_minute, settings.auth_failure_burst)


def too_many(wait: float, message: str = "请求过于频繁") -> ApiError:
    retry_after = max(1, math.ceil(wait))
    return ApiError(
        429, "rate_limited", f"{message}，请 {retry_after} 秒后再试。", headers={"Retry-After": str(retry_after)}
    )
