"""Running the API under uvicorn, with the header limit enforced inside the HTTP parser.

uvicorn's default parser (httptools) buffers a request's headers without any limit: one 64 MB header costs
the server that much memory before the app can say no. `policy-assistant serve` therefore runs h11 with
``h11_max_incomplete_event_size`` = PA_MAX_HEADER_BYTES, so an oversized request line or header block is
refused while it is being read, and answers it with 431 in our error shape (uvicorn alone would say 400).
`HeaderLimitMiddleware` applies the same limit when the app is served any other way.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from assistant.api.errors import error_body
from assistant.api.logs import log
from assistant.settings import Settings, get_settings


class HeaderLimitH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering a request the parser refuses in our error shape: 431 when its
    head outgrew the buffer (uvicorn alone would say 400), 400 for any other malformed request."""

    def send_400_response(self, msg: str) -> None:
        limit = self.config.h11_max_incomplete_event_size
        buffered, _closed = self.conn.trailing_data
        request_id = uuid.uuid4().hex
        if limit is not None and len(buffered) > limit:
            status, reason = 431, b"Request Header Fields Too Large"
            body = error_body("header_too_large", f"请求头过大：上限 {limit} 字节。", request_id)
        else:
            status, reason = 400, b"Bad Request"
            body = error_body("bad_request", "HTTP 请求格式有误。", request_id)
        # the access line the app would have written (the request never reached it); nothing of the
        # malformed request itself is logged
        log.warning(
            "request refused by the HTTP parser (%d)",
            status,
            extra={"request_id": request_id, "event": "request", "status": status, "path": None},
        )
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"x-request-id", request_id.encode()),
            (b"connection", b"close"),
        ]
        try:
            for event in (
                h11.Response(status_code=status, headers=headers, reason=reason),
                h11.Data(data=payload),
                h11.EndOfMessage(),
            ):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:  # a response had already started on this connection
            pass
        self.transport.close()


def uvicorn_config(
    app: Any, host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None, **overrides: Any
) -> uvicorn.Config:
    """The uvicorn configuration `serve` uses (tests start real servers with it too)."""
    settings = settings or get_settings()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "log_level": "info",
        "access_log": False,  # our own access line is escaped and carries the request id
        "http": HeaderLimitH11Protocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
    return uvicorn.Config(app, **(options | overrides))


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API under uvicorn (one process; put a reverse proxy with TLS in front for the internet)."""
    from assistant.api import app

    uvicorn.Server(uvicorn_config(app, host, port)).run()
