"""One error shape for every failure: ``{"error": {"code", "message" (Chinese), "request_id", ...}}``.

Clients branch on ``code`` and show ``message``; nothing else about the server (stack traces, paths,
exception names) ever reaches them. On the streaming endpoint the same body travels as an SSE
``event: error`` with the same status, because an ``EventSource``-style reader cannot parse JSON bodies.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from assistant.api.logs import log, request_id_of
from assistant.validation import describe_error

STREAM_SUFFIX = "/chat/stream"

STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式有误。"),
    401: ("unauthorized", "缺少或无效的 API 密钥。"),
    403: ("forbidden", "无权访问。"),
    404: ("not_found", "请求的接口或资源不存在。"),
    405: ("method_not_allowed", "该接口不支持此请求方法。"),
    406: ("not_acceptable", "无法提供所请求的响应格式。"),
    413: ("payload_too_large", "请求体过大。"),
    415: ("unsupported_media_type", "不支持的请求体格式，请使用 application/json。"),
    422: ("validation_error", "请求参数有误。"),
    429: ("rate_limited", "请求过于频繁，请稍后再试。"),
    431: ("header_too_large", "请求头过大。"),
    500: ("internal_error", "服务器内部错误，请稍后重试。"),
    503: ("not_ready", "服务暂不可用，请稍后重试。"),
}


class ApiError(StarletteHTTPException):
    """An error with our code and Chinese message. Subclasses HTTPException so a host app without our
    handlers still returns the right status (as ``{"detail": {...}}``)."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        field: str | None = None,
        details: list[dict] | None = None,
    ) -> None:
        # detail as a dict: what a host app without our handlers shows as {"detail": {...}}
        super().__init__(
            status_code=status_code,
            detail={"code": code, "message": message},  # type: ignore[arg-type]
            headers=headers,
        )
        self.code = code
        self.message = message
        self.field = field
        self.details = details


def is_stream_path(path: str) -> bool:
    return path.rstrip("/").endswith(STREAM_SUFFIX)


def sse_event(event: str, data: Any) -> bytes:
    """One Server-Sent Event; ``data`` is JSON on a single line (UTF-8, no \\u escapes)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def error_body(
    code: str, message: str, request_id: str | None, *, field: str | None = None, details: list[dict] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if field is not None:
        error["field"] = field
    if details:
        error["details"] = details
    return {"error": error}


def error_response(
    scope: Scope,
    status_code: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    field: str | None = None,
    details: list[dict] | None = None,
) -> Response:
    """Our error shape; on the streaming endpoint the same body as an ``event: error`` (same status)."""
    request_id = request_id_of(scope)
    body = error_body(code, message, request_id, field=field, details=details)
    headers = dict(headers or {})
    if request_id:
        headers["X-Request-Id"] = request_id
    if is_stream_path(scope.get("path", "")):
        headers.setdefault("Cache-Control", "no-cache")
        return Response(
            sse_event("error", body),
            status_code=status_code,
            headers=headers,
            media_type="text/event-stream; charset=utf-8",
        )
    return JSONResponse(body, status_code=status_code, headers=headers)


def standard_error(scope: Scope, status_code: int, *, headers: Mapping[str, str] | None = None) -> Response:
    code, message = STATUS_CODES.get(status_code, ("http_error", "请求失败。"))
    return error_response(scope, status_code, code, message, headers=headers)


def validation_error_response(scope: Scope, errors: list[dict]) -> Response:
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(scope, 400, "invalid_json", "请求体不是合法的 JSON。")
    described = [describe_error(e) for e in errors] or [("", "value_error", "请求参数有误。")]
    field, _kind, message = described[0]
    if len(described) > 1:
        message = message.rstrip("。") + f"（共 {len(described)} 处错误，见 details）。"
    details = [{"field": f, "code": k, "message": m} for f, k, m in described]
    return error_response(scope, 422, "validation_error", message, field=field or None, details=details)


async def _call_handler(handler: Callable, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    return await result if inspect.isawaitable(result) else result


def install_error_handlers(app: FastAPI, prefix: str) -> None:
    """Our shape for paths under ``prefix``; a host app keeps its own handlers (or FastAPI's) elsewhere."""
    from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler

    previous_http = app.exception_handlers.get(StarletteHTTPException, http_exception_handler)
    previous_validation = app.exception_handlers.get(RequestValidationError, request_validation_exception_handler)
    previous_unexpected = app.exception_handlers.get(Exception)

    def ours(request: Request) -> bool:
        return request.scope.get("path", "").startswith(prefix)

    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not ours(request):
            return await _call_handler(previous_http, request, exc)
        if isinstance(exc, ApiError):
            return error_response(
                request.scope,
                exc.status_code,
                exc.code,
                exc.message,
                headers=exc.headers,
                field=exc.field,
                details=exc.details,
            )
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            return error_response(request.scope, 400, "invalid_json", "请求体不是合法的 JSON。")
        return standard_error(request.scope, exc.status_code, headers=exc.headers)

    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not ours(request):
            return await _call_handler(previous_validation, request, exc)
        return validation_error_response(request.scope, list(exc.errors()))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if not ours(request):
            if previous_unexpected is not None:
                return await _call_handler(previous_unexpected, request, exc)
            return Response("Internal Server Error", status_code=500, media_type="text/plain")
        log.error("unhandled %s", type(exc).__name__, exc_info=exc)
        return standard_error(request.scope, 500)

    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, on_unexpected)
