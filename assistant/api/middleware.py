"""Request context and the last line of defence, as pure ASGI middleware.

`RequestContextMiddleware` (outermost) gives each request its id (an incoming sane ``X-Request-Id`` is
kept) and writes one escaped log line per request. `ErrorBoundaryMiddleware` sits *inside* CORS, so the
500 it makes of an escaped exception still carries the CORS headers a browser needs to read it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api.errors import standard_error
from assistant.api.limits import header_value
from assistant.api.logs import escape_field, log, request_id_var

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    """Request id on the scope, the response and every log record; one access line per request."""

    def __init__(self, app: ASGIApp, prefix: str = "") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = header_value(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status: list[int] = []
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", raw_id))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not scope.get("path", "").startswith(self.prefix) or status:
                raise
            log.exception(
                "unhandled error in %s %s", escape_field(scope.get("method")), escape_field(scope.get("path"))
            )
            await standard_error(scope, 500)(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                method, path = escape_field(scope.get("method", "")), escape_field(scope.get("path", ""))
                code = status[0] if status else None
                elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
                log.info(
                    "request_id=%s %s %s %s %.1fms",
                    request_id,
                    method,
                    path,
                    code if code else "-",
                    elapsed_ms,
                    extra={"event": "request", "method": method, "path": path, "status": code, "ms": elapsed_ms},
                )
            request_id_var.reset(token)


class ErrorBoundaryMiddleware:
    """An exception that escapes the app becomes ``500 internal_error`` in our shape (logged with its
    traceback and request id), never a stack trace; if the response had started, the connection is cut."""

    def __init__(self, app: ASGIApp, prefix: str = "") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise
            log.exception(
                "unhandled error in %s %s", escape_field(scope.get("method")), escape_field(scope.get("path"))
            )
            await standard_error(scope, 500)(scope, receive, send)
