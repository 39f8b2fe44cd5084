"""HTTP API: the policy assistant as a JSON service (a WeChat mini-program backend, a web page, other systems).

Two ways to serve it:

* ``app`` / ``create_app(assistant=None, settings=None)``: a complete FastAPI application. Without an
  ``assistant`` it builds ``PolicyAssistant(settings, store=create_store(settings))`` in a background thread
  at start-up, so ``/healthz`` answers at once and ``/readyz`` says 503 until the index is loaded.
  ``serve(host, port)`` runs it under uvicorn (``policy-assistant serve``).
* ``router``: the ``/v1`` endpoints as an ``APIRouter`` for an existing FastAPI backend::

      from assistant.api import configure_app, get_assistant, router
      app.include_router(router)                      # /v1/chat, /v1/calculate, ...
      configure_app(app)                              # error shape, request ids, body limit, CORS (on /v1 only)
      app.state.policy_assistant = PolicyAssistant(store=SqlStore())
      # or: app.dependency_overrides[get_assistant] = lambda: my_assistant

  The router finds its assistant through the ``get_assistant`` dependency (``app.state.policy_assistant``
  unless overridden) and its settings through ``get_api_settings`` (``app.state.pa_settings``, else the
  PA_* environment). Auth and the rate limit are router dependencies, so they travel with the router.

Conventions: every error is ``{"error": {"code", "message" (Chinese), "request_id", ...}}``, never a stack
trace; every response carries ``X-Request-Id`` (an incoming one is kept); users are identified by the
``X-User-Id`` header (the WeChat openid, set by the backend that called code2Session), and another user's
session is indistinguishable from a missing one (404).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import hmac
import inspect
import json
import logging
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Path, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.calculator import CalculationResult, EnterpriseProfile, calculate, parse_profile
from assistant.corpus import Clause, Discrepancy, canonical_clause_id
from assistant.schemas import ChatResponse, Turn
from assistant.settings import Settings, get_settings
from assistant.store import SessionNotFound, create_store

log = logging.getLogger("assistant.api")

API_PREFIX = "/v1"
STREAM_SUFFIX = "/chat/stream"
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_SESSION_ID_RE = re.compile(SESSION_ID_PATTERN)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_USER_ID_CHARS = 128
MAX_COMMENT_CHARS = 1000
NOT_READY_RETRY_AFTER_S = 2

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("pa_request_id", default=None)


class RequestIdLogFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) so a log format can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


# --------------------------------------------------------------------------------------------------
# Error shape
# --------------------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    field: str = Field(description="出错字段（点号路径，如 message、registered_capital_yuan）。")
    code: str = Field(description="pydantic 错误类型，如 missing、string_too_long。")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="稳定的英文错误码，客户端据此分支。")
    message: str = Field(description="给用户看的中文说明。")
    request_id: str | None = Field(None, description="与响应头 X-Request-Id 相同，报障时请提供。")
    field: str | None = Field(None, description="校验错误时，第一个出错的字段。")
    details: list[ErrorDetail] | None = Field(None, description="校验错误时，全部出错字段。")


class ErrorResponse(BaseModel):
    error: ErrorBody

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "message_too_long",
                        "message": "问题过长：最多 2000 个字符，当前 2417 个。",
                        "request_id": "3f1c2a9e8b7d4c6a9e0f1a2b3c4d5e6f",
                        "field": "message",
                    }
                }
            ]
        }
    )


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
        super().__init__(status_code=status_code, detail={"code": code, "message": message}, headers=headers)
        self.code = code
        self.message = message
        self.field = field
        self.details = details


_STATUS_CODES = {
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
    500: ("internal_error", "服务器内部错误，请稍后重试。"),
    503: ("not_ready", "服务暂不可用，请稍后重试。"),
}


def _is_stream_path(path: str) -> bool:
    return path.rstrip("/").endswith(STREAM_SUFFIX)


def sse_event(event: str, data: Any) -> bytes:
    """One Server-Sent Event; ``data`` is JSON on a single line (UTF-8, no \\u escapes)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def error_response(
    scope: Scope,
    status_code: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    field: str | None = None,
    details: list[dict] | None = None,
) -> Response:
    """Our error shape; on the streaming endpoint the same body as an ``event: error`` (same status)."""
    request_id = (scope.get("state") or {}).get("request_id")
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if field is not None:
        error["field"] = field
    if details:
        error["details"] = details
    body = {"error": error}
    headers = dict(headers or {})
    if request_id:
        headers["X-Request-Id"] = request_id
    if _is_stream_path(scope.get("path", "")):
        headers.setdefault("Cache-Control", "no-cache")
        return Response(sse_event("error", body), status_code=status_code, headers=headers,
                        media_type="text/event-stream; charset=utf-8")
    return JSONResponse(body, status_code=status_code, headers=headers)


# Chinese wording for pydantic's error types (FastAPI's own request validation and the calculator's models).
_PYDANTIC_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不支持的字段",
    "string_type": "应为字符串",
    "string_too_short": "不能为空或过短",
    "string_too_long": "过长",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为布尔值（true/false）",
    "bool_parsing": "应为布尔值（true/false）",
    "float_type": "应为数值",
    "float_parsing": "应为数值",
    "decimal_type": "应为数值",
    "decimal_parsing": "应为数值",
    "literal_error": "取值无效",
    "enum": "取值无效",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "list_type": "应为数组",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "too_long": "元素过多",
    "too_short": "元素过少",
}
_LOC_ROOTS = {"body": "", "query": "查询参数 ", "path": "路径参数 ", "header": "请求头 ", "cookie": "Cookie "}


def _describe(err: dict) -> tuple[str, str, str]:
    """(field, type, Chinese message) for one pydantic/FastAPI error."""
    loc = list(err.get("loc") or ())
    prefix = ""
    if loc and loc[0] in _LOC_ROOTS:
        prefix = _LOC_ROOTS[loc[0]]
        loc = loc[1:]
    field = ".".join(str(p) for p in loc)
    kind = err.get("type", "value_error")
    ctx = err.get("ctx") or {}
    if kind == "value_error":  # our validators' own (Chinese, often bilingual) message
        what = str(ctx.get("error") or err.get("msg") or "取值无效").removeprefix("Value error, ")
    else:
        what = _PYDANTIC_MESSAGES.get(kind, "取值无效")
        if kind == "literal_error" and "expected" in ctx:
            what += f"，可选值：{ctx['expected']}"
        elif kind in ("string_too_long", "too_long") and "max_length" in ctx:
            what += f"（最多 {ctx['max_length']}）"
        elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            bound = next((ctx[k] for k in ("gt", "ge", "lt", "le") if k in ctx), None)
            if bound is not None:
                what += f"（界限 {bound}）"
    if not field:
        if kind == "missing":
            return "", kind, "请求体不能为空，应为 JSON 对象。"
        if prefix == "" and kind in ("model_attributes_type", "dict_type", "model_type"):
            return "", kind, "请求体应为 JSON 对象（Content-Type: application/json）。"
        return "", kind, f"请求{what}。"
    label = f"{prefix}{field}"
    if kind == "missing":
        return field, kind, f"缺少必填字段 {label}。"
    if kind == "extra_forbidden":
        return field, kind, f"不支持的字段 {label}。"
    return field, kind, f"字段 {label} {what.rstrip('。')}。"


def validation_error_response(scope: Scope, errors: list[dict]) -> Response:
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(scope, 400, "invalid_json", "请求体不是合法的 JSON。")
    described = [_describe(e) for e in errors] or [("", "value_error", "请求参数有误。")]
    field, _kind, message = described[0]
    if len(described) > 1:
        message = message.rstrip("。") + f"（共 {len(described)} 处错误，见 details）。"
    details = [{"field": f, "code": k, "message": m} for f, k, m in described]
    return error_response(scope, 422, "validation_error", message, field=field or None, details=details)


# --------------------------------------------------------------------------------------------------
# Middleware (pure ASGI: no per-request task or body copy beyond what is needed)
# --------------------------------------------------------------------------------------------------


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContextMiddleware:
    """Request id (incoming ``X-Request-Id`` kept if sane), one log line per request, and the catch-all:
    an exception that escapes the app becomes ``500 internal_error`` in our shape (logged with its
    traceback and the request id), never a stack trace to the client."""

    def __init__(self, app: ASGIApp, prefix: str = "") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
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
            if not scope.get("path", "").startswith(self.prefix):
                raise
            log.exception("request_id=%s unhandled error in %s %s", request_id, scope.get("method"), scope.get("path"))
            if not status:
                code, message = _STATUS_CODES[500]
                await error_response(scope, 500, code, message)(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "request_id=%s %s %s %s %.1fms",
                    request_id, scope.get("method"), scope.get("path"), status[0] if status else "-",
                    (time.perf_counter() - started) * 1000,
                )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """413 when the body is larger than ``max_body_bytes``: on Content-Length before reading anything, and
    on the bytes actually received (chunked uploads, lying headers). Bodies are small (64 KiB), so the
    request is buffered and replayed to the app."""

    _NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})

    def __init__(self, app: ASGIApp, max_bytes: int | Callable[[], int], prefix: str = "") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    def _too_large(self, scope: Scope, limit: int) -> Response:
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
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                declared_n = int(declared)
            except ValueError:
                await error_response(scope, 400, "bad_request", "Content-Length 无效。")(scope, receive, send)
                return
            if declared_n > limit:
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


# --------------------------------------------------------------------------------------------------
# Dependencies: settings, assistant, user, auth, rate limit
# --------------------------------------------------------------------------------------------------


async def get_api_settings(request: Request) -> Settings:
    """The settings of this app (``app.state.pa_settings``), else the PA_* environment."""
    settings = getattr(request.app.state, "pa_settings", None)
    return settings if settings is not None else get_settings()


async def get_assistant(request: Request):
    """The `PolicyAssistant` behind the router: ``app.state.policy_assistant``.

    A host app sets that attribute, or overrides this dependency
    (``app.dependency_overrides[get_assistant] = lambda: assistant``). While it is still loading: 503.
    """
    assistant = getattr(request.app.state, "policy_assistant", None)
    if assistant is None:
        if getattr(request.app.state, "pa_startup_error", None):
            raise ApiError(503, "startup_failed", "助手初始化失败，请联系管理员查看服务日志。")
        raise ApiError(503, "not_ready", "服务正在加载政策索引，请稍后重试。",
                       headers={"Retry-After": str(NOT_READY_RETRY_AFTER_S)})
    return assistant


async def get_user_id(
    x_user_id: Annotated[
        str | None,
        Header(
            alias="X-User-Id",
            description="当前用户（微信 openid，由调用方后端经 code2Session 取得后填入）。缺省 = 匿名用户。",
            examples=["oAbCd1234567890EfGhIjKlMnOpQ"],
        ),
    ] = None,
) -> str | None:
    if x_user_id is None:
        return None
    user_id = x_user_id.strip()
    if not user_id:
        return None
    if len(user_id) > MAX_USER_ID_CHARS or not user_id.isprintable():
        raise ApiError(422, "invalid_user_id", f"请求头 X-User-Id 无效（最多 {MAX_USER_ID_CHARS} 个可打印字符）。",
                       field="X-User-Id")
    return user_id


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="设置 PA_API_KEYS 后，每个 /v1 请求需带 `Authorization: Bearer <key>`。",
)


@lru_cache(maxsize=8)
def _encoded_keys(api_keys: str) -> tuple[bytes, ...]:
    return tuple(k.strip().encode() for k in api_keys.split(",") if k.strip())


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    settings: Annotated[Settings, Depends(get_api_settings)],
) -> None:
    keys = _encoded_keys(settings.api_keys)
    if not keys:
        return
    given = (credentials.credentials.strip() if credentials else "").encode()
    ok = False
    for key in keys:  # every key is compared, in constant time: no early exit that times which one matched
        ok |= hmac.compare_digest(given, key)
    if not ok or not given:
        raise ApiError(401, "unauthorized", "缺少或无效的 API 密钥（请求头 Authorization: Bearer <key>）。",
                       headers={"WWW-Authenticate": "Bearer"})


class TokenBucketLimiter:
    """Per-key token bucket: ``burst`` requests at once, refilled at ``per_minute`` / 60 per second.

    Memory is bounded: the least recently seen keys are forgotten beyond ``max_keys`` (a forgotten key
    starts again with a full bucket, which is what an idle key would have anyway).
    """

    def __init__(self, per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key: str, now: float | None = None) -> float:
        """Take one token; return 0.0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
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


def _limiter(request: Request, settings: Settings) -> TokenBucketLimiter:
    state = request.app.state
    limiter = getattr(state, "pa_rate_limiter", None)
    if limiter is None or (limiter.rate, limiter.burst) != (settings.rate_limit_per_minute / 60.0,
                                                            float(settings.rate_limit_burst)):
        limiter = TokenBucketLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        state.pa_rate_limiter = limiter
    return limiter


async def enforce_rate_limit(
    request: Request,
    settings: Annotated[Settings, Depends(get_api_settings)],
    user_id: Annotated[str | None, Depends(get_user_id)],
) -> None:
    """Per user (X-User-Id), else per client IP. Behind a reverse proxy run uvicorn with --proxy-headers."""
    if user_id:
        key = f"u:{user_id}"
    else:
        key = f"ip:{request.client.host if request.client else 'unknown'}"
    wait = _limiter(request, settings).acquire(key)
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        raise ApiError(429, "rate_limited", f"请求过于频繁，请 {retry_after} 秒后再试。",
                       headers={"Retry-After": str(retry_after)})


# --------------------------------------------------------------------------------------------------
# Request and response models (Chinese examples for the OpenAPI page)
# --------------------------------------------------------------------------------------------------


class ChatRequest(BaseModel):
    message: str = Field(
        description="用户的问题（中文或英文）。长度上限见 PA_MAX_MESSAGE_CHARS（默认 2000 字符）。",
        examples=["我们在北碚新设立了区域总部，注册资金2000万，能拿多少奖励？"],
    )
    session_id: str | None = Field(
        None,
        pattern=SESSION_ID_PATTERN,
        description="会话 id；首轮不传，服务端签发，之后每轮带上以延续上下文。",
        examples=["9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2"],
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"message": "自建电商平台有什么补贴？"},
                {"message": "那首年交易额要达到多少？", "session_id": "9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2"},
            ]
        }
    )


_CHAT_EXAMPLE = {
    "answer": "文件对此的规定如下：\n- 企业自建电子商务平台一次性财政扶持【三(四)】：“对自建电子商务平台且建成运营后"
    "首年网上交易额达1-5亿元、5亿元以上的企业，分别给予30万元、50万元一次性财政扶持。”",
    "answer_type": "policy_answer",
    "citations": [
        {
            "clause_id": "三(四)",
            "title": "支持企业自建电子商务平台",
            "quote": "对自建电子商务平台且建成运营后首年网上交易额达1-5亿元、5亿元以上的企业，分别给予30万元、50万元一次性财政扶持",
        }
    ],
    "calculation": None,
    "session_id": "9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2",
    "notices": ["测算金额仅供参考，最终以主管部门审核认定为准。"],
    "mode": "grounded",
}


class FeedbackRequest(BaseModel):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, examples=["9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2"])
    turn: int = Field(ge=0, description="轮次序号（从 0 开始，见 /v1/sessions/{session_id} 的 index）。")
    rating: Literal["up", "down"] = Field(description="up = 有帮助，down = 没帮助。")
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS, examples=["金额说得很清楚，谢谢！"])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"session_id": "9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2", "turn": 0, "rating": "down",
                 "comment": "没有说明申报材料。"}
            ]
        }
    )


class FeedbackAck(BaseModel):
    stored: bool = True
    session_id: str
    turn: int
    rating: Literal["up", "down"]


class SessionHistory(BaseModel):
    session_id: str
    turns: list[Turn] = Field(description="按轮次顺序；response 为 null 表示该轮尚未答完。")


class ClauseSummary(BaseModel):
    clause_id: str = Field(examples=["三(四)"])
    title: str = Field(examples=["支持企业自建电子商务平台"])
    source: Literal["main", "annex", "meta"]
    section: str = ""
    lead_unit: str | None = Field(None, examples=["区商务委"])
    responsible_units: list[str] = Field(default_factory=list)
    deadline: str | None = None
    related: list[str] = Field(default_factory=list, description="对应条款（正文 ↔ 附件）。")


class DocumentInfo(BaseModel):
    title: str = Field(examples=["重庆市北碚区人民政府关于加快电子商务产业发展的实施意见"])
    doc_number: str | None = Field(None, examples=["北碚府发〔2019〕75号"])
    issuer: str | None = Field(None, examples=["重庆市北碚区人民政府"])
    issued: str | None = Field(None, examples=["2019-12-05"])


class ClauseList(BaseModel):
    document: DocumentInfo
    clauses: list[ClauseSummary]


class ClauseDetail(BaseModel):
    clause: Clause
    counterparts: list[Clause] = Field(description="正文条款对应的附件条目（或反之），金额与条件以附件为准。")
    discrepancies: list[Discrepancy] = Field(default_factory=list, description="正文与附件表述不一致之处。")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    mode: str = Field(examples=["grounded"])
    store: str = Field(examples=["SqlStore(sqlite)"])
    clauses: int
    index: dict[str, Any] = Field(description="collection, count, built, seconds, location")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "请求体不是合法的 JSON（invalid_json）",
        401: "缺少或无效的 API 密钥（unauthorized）",
        404: "资源不存在，或属于其他用户",
        413: "请求体过大（payload_too_large）",
        422: "参数校验失败（validation_error / message_too_long / empty_message）",
        429: "请求过于频繁（rate_limited），见 Retry-After",
        500: "服务器内部错误（internal_error）",
        503: "索引加载中（not_ready），见 Retry-After",
    }
    return {c: {"model": ErrorResponse, "description": descriptions[c]} for c in codes}


_COMMON_ERRORS = (401, 413, 422, 429, 500, 503)

router = APIRouter(
    prefix=API_PREFIX,
    tags=["v1"],
    dependencies=[Depends(require_api_key), Depends(enforce_rate_limit)],
    responses=_errors(*_COMMON_ERRORS),
)


# --------------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------------


def _json(model: BaseModel, status_code: int = 200) -> Response:
    """Serialize once, here. With a declared response_model FastAPI would dump the model, validate the dump
    and dump it again: measurable on a 5 KB ChatResponse. The declared model still documents the shape."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def _checked_message(message: str, settings: Settings) -> str:
    text = message.strip()
    if not text:
        raise ApiError(422, "empty_message", "问题不能为空。", field="message")
    if len(text) > settings.max_message_chars:
        raise ApiError(422, "message_too_long",
                       f"问题过长：最多 {settings.max_message_chars} 个字符，当前 {len(text)} 个。", field="message")
    return text


def _session_not_found() -> ApiError:
    return ApiError(404, "session_not_found", "会话不存在或不属于当前用户。")


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="提问（一次返回完整回答）",
    responses={200: {"content": {"application/json": {"example": _CHAT_EXAMPLE}}}, **_errors(400, 404)},
)
def chat(
    body: ChatRequest,
    assistant: Annotated[Any, Depends(get_assistant)],
    user_id: Annotated[str | None, Depends(get_user_id)],
    settings: Annotated[Settings, Depends(get_api_settings)],
) -> Response:
    """回答一轮提问。不带 `session_id` 时签发新会话；用户这一问在作答前、回答在返回前都已写入存储。"""
    message = _checked_message(body.message, settings)
    try:
        response = assistant.ask(message, session_id=body.session_id, user_id=user_id)
    except SessionNotFound:
        raise _session_not_found() from None
    return _json(response)


_END = object()


@router.post(
    "/chat/stream",
    summary="提问（Server-Sent Events 流式返回）",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`text/event-stream`：若干 `event: delta`（data 为 `{\"text\": \"…\"}`），最后一个 "
            "`event: done`（data 为完整 ChatResponse）；出错时为 `event: error`（data 为错误结构）。",
            "content": {
                "text/event-stream": {
                    "example": 'event: delta\ndata: {"text":"新设立的区域总部……"}\n\n'
                    'event: done\ndata: {"answer":"新设立的区域总部……","answer_type":"policy_answer",'
                    '"citations":[],"calculation":null,"session_id":"9b2f…","notices":[],"mode":"grounded"}\n\n'
                }
            },
        },
        **_errors(400, 404),
    },
)
async def chat_stream(
    body: ChatRequest,
    assistant: Annotated[Any, Depends(get_assistant)],
    user_id: Annotated[str | None, Depends(get_user_id)],
    settings: Annotated[Settings, Depends(get_api_settings)],
    request: Request,
) -> StreamingResponse:
    """与 `/v1/chat` 相同，但以 SSE 分段返回（微信 `wx.request` 的 `enableChunked` 可用）。

    本端点的错误也以 SSE 返回：`event: error`，HTTP 状态码与 JSON 接口一致（流开始后出错时为 200）。
    """
    message = _checked_message(body.message, settings)
    pieces = assistant.ask_stream(message, session_id=body.session_id, user_id=user_id)
    try:
        # The answer is complete (stored and verified) before its first piece: errors here are still
        # ordinary HTTP errors with a status code.
        first = await run_in_threadpool(next, pieces, _END)
    except SessionNotFound:
        raise _session_not_found() from None
    request_id = (request.scope.get("state") or {}).get("request_id")
    return StreamingResponse(
        _sse_events(first, pieces, request_id),
        media_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse_events(first: Any, pieces: Iterator, request_id: str | None) -> AsyncIterator[bytes]:
    item = first
    try:
        while item is not _END:
            if isinstance(item, ChatResponse):
                yield sse_event("done", item.model_dump_json())
                return
            yield sse_event("delta", {"text": str(item)})
            item = await run_in_threadpool(next, pieces, _END)
        raise RuntimeError("answer stream ended without a final ChatResponse")
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("request_id=%s error while streaming the answer", request_id)
        code, message = _STATUS_CODES[500]
        yield sse_event("error", {"error": {"code": code, "message": message, "request_id": request_id}})
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


_FRACTION = re.compile(rb"\d[.eE]")  # a JSON number with a fraction or exponent somewhere in the body

_PROFILE_EXAMPLES = {
    "区域总部": {
        "summary": "新设区域总部，买了办公用房",
        "value": {
            "registered_in_beibei": True,
            "local_legal_entity": True,
            "new_hq_type": "regional_hq",
            "registered_capital_yuan": 20000000,
            "online_annual_sales_yuan": "150000000",
            "sales_in_statistics": True,
            "years_in_operation": 2,
            "office_purchase_price_yuan": 3000000,
        },
    },
    "自建平台": {
        "summary": "自建电商平台",
        "value": {"platform_project_investment_yuan": 5000000, "platform_first_year_online_transactions_yuan": 60000000},
    },
}


def _calculation_example() -> dict:
    """A real result for the first request example, so the documented response is never out of date."""
    try:
        profile = EnterpriseProfile.model_validate(_PROFILE_EXAMPLES["区域总部"]["value"])
        return json.loads(calculate(profile).model_dump_json())
    except Exception:  # noqa: BLE001 - documentation only
        return {}


@router.post(
    "/calculate",
    response_model=CalculationResult,
    summary="按企业情况精确计算可享补贴",
    responses={200: {"content": {"application/json": {"example": _calculation_example()}}}, **_errors(400)},
)
async def calculate_subsidies(
    profile: Annotated[EnterpriseProfile, Body(openapi_examples=_PROFILE_EXAMPLES)],
    request: Request,
) -> Response:
    """所有字段可选：未提供的事实不会被假设，相应条目为 `needs_info` 并在 `missing_facts` 中列出。
    金额为精确十进制字符串（元）。"""
    # Re-read the body with Decimal floats: a JSON number like 999999999999999.99 must not pass through a
    # binary float (FastAPI's parse above only validated it).
    raw = await request.body()
    if _FRACTION.search(raw):
        try:
            profile = parse_profile(raw.decode("utf-8"))
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
            ) from None
    return _json(calculate(profile))


@router.get("/clauses", response_model=ClauseList, summary="条款列表")
async def list_clauses(assistant: Annotated[Any, Depends(get_assistant)]) -> ClauseList:
    corpus = assistant.corpus
    return ClauseList(
        document=DocumentInfo(title=corpus.title, doc_number=corpus.doc_number, issuer=corpus.issuer,
                              issued=corpus.issued),
        clauses=[ClauseSummary.model_validate(c.model_dump(exclude={"text"})) for c in corpus.clauses],
    )


@router.get(
    "/clauses/{clause_id:path}",
    response_model=ClauseDetail,
    summary="条款原文及对应条款",
    responses=_errors(404),
)
async def get_clause(
    clause_id: Annotated[
        str,
        Path(description="条款编号，接受常见写法：`三(四)`、`三（四）`、`附件-11`、`附件11`、`annex-11`（需 URL 编码）。",
             examples=["三(四)"]),
    ],
    assistant: Annotated[Any, Depends(get_assistant)],
) -> ClauseDetail:
    from assistant.assistant import ClauseNotFound

    shown = clause_id if len(clause_id) <= 40 else clause_id[:40] + "…"
    not_found = ApiError(404, "clause_not_found", f"未找到条款「{shown}」。")
    if len(clause_id) > 64:
        raise not_found
    corpus = getattr(assistant, "corpus", None)
    canonical = canonical_clause_id(clause_id, corpus) if corpus is not None else clause_id
    if canonical is None:
        raise not_found
    try:
        view = assistant.clause(canonical)
    except (ClauseNotFound, KeyError):
        raise not_found from None
    discrepancies = corpus.discrepancies_for(view.clause.clause_id) if corpus is not None else []
    return ClauseDetail(clause=view.clause, counterparts=view.counterparts, discrepancies=discrepancies)


@router.get(
    "/sessions/{session_id}",
    response_model=SessionHistory,
    summary="会话历史（仅限本人）",
    responses=_errors(404),
)
def get_session(
    session_id: Annotated[str, Path(description="/v1/chat 返回的 session_id。", examples=["9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2"])],
    assistant: Annotated[Any, Depends(get_assistant)],
    user_id: Annotated[str | None, Depends(get_user_id)],
) -> Response:
    if not _SESSION_ID_RE.match(session_id):
        raise _session_not_found()
    try:
        turns = assistant.history(session_id, user_id=user_id)
    except SessionNotFound:
        raise _session_not_found() from None
    return _json(SessionHistory(session_id=session_id, turns=turns))


@router.post(
    "/feedback",
    response_model=FeedbackAck,
    status_code=201,
    summary="对某一轮回答点赞/点踩",
    responses=_errors(400, 404),
)
def post_feedback(
    body: FeedbackRequest,
    assistant: Annotated[Any, Depends(get_assistant)],
    user_id: Annotated[str | None, Depends(get_user_id)],
) -> FeedbackAck:
    try:
        assistant.feedback(body.session_id, body.turn, body.rating, body.comment, user_id=user_id)
    except SessionNotFound:
        raise ApiError(404, "turn_not_found", "会话或轮次不存在，或不属于当前用户。") from None
    return FeedbackAck(session_id=body.session_id, turn=body.turn, rating=body.rating)


# --- health (outside /v1: no auth, no rate limit) ---------------------------------------------------

health_router = APIRouter(tags=["health"])


@health_router.get("/healthz", response_model=Health, summary="存活检查")
async def healthz() -> Health:
    return Health()


@health_router.get(
    "/readyz",
    response_model=Readiness,
    summary="就绪检查：索引加载完成前为 503",
    responses={503: {"model": ErrorResponse, "description": "索引加载中（not_ready）或初始化失败（startup_failed）"}},
)
async def readyz(request: Request) -> Readiness:
    assistant = await get_assistant(request)
    status = getattr(assistant, "index_status", None)
    store = getattr(assistant, "store", None)
    store_name = type(store).__name__
    if getattr(store, "dialect", None):
        store_name += f"({store.dialect})"
    return Readiness(
        mode=str(getattr(assistant, "mode", "grounded")),
        store=store_name,
        clauses=len(assistant.corpus),
        index=dataclasses.asdict(status) if dataclasses.is_dataclass(status) else {},
    )


# --------------------------------------------------------------------------------------------------
# App assembly
# --------------------------------------------------------------------------------------------------


async def _call_handler(handler: Callable, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    return await result if inspect.isawaitable(result) else result


def configure_app(app: FastAPI, settings: Settings | None = None, *, prefix: str = API_PREFIX) -> FastAPI:
    """Install our error shape, request ids, body limit and CORS on ``app``, for paths under ``prefix``
    (``""`` = everything). Other paths of a host app keep FastAPI's default behaviour."""
    if settings is not None:
        app.state.pa_settings = settings
    current = lambda: getattr(app.state, "pa_settings", None) or get_settings()  # noqa: E731

    def ours(request: Request) -> bool:
        return request.scope.get("path", "").startswith(prefix)

    # A host app keeps its own handlers (or FastAPI's defaults) for its other paths.
    from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler

    previous_http = app.exception_handlers.get(StarletteHTTPException, http_exception_handler)
    previous_validation = app.exception_handlers.get(RequestValidationError, request_validation_exception_handler)
    previous_unexpected = app.exception_handlers.get(Exception)

    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not ours(request):
            return await _call_handler(previous_http, request, exc)
        if isinstance(exc, ApiError):
            return error_response(request.scope, exc.status_code, exc.code, exc.message, headers=exc.headers,
                                  field=exc.field, details=exc.details)
        code, message = _STATUS_CODES.get(exc.status_code, ("http_error", "请求失败。"))
        return error_response(request.scope, exc.status_code, code, message, headers=exc.headers)

    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not ours(request):
            return await _call_handler(previous_validation, request, exc)
        return validation_error_response(request.scope, list(exc.errors()))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if not ours(request):
            if previous_unexpected is not None:
                return await _call_handler(previous_unexpected, request, exc)
            return Response("Internal Server Error", status_code=500, media_type="text/plain")
        log.error("request_id=%s unhandled %s", (request.scope.get("state") or {}).get("request_id"),
                  type(exc).__name__, exc_info=exc)
        code, message = _STATUS_CODES[500]
        return error_response(request.scope, 500, code, message)

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)

    # Added innermost first: RequestContext (outermost) → CORS → BodyLimit → app.
    app.add_middleware(BodyLimitMiddleware, max_bytes=lambda: current().max_body_bytes, prefix=prefix)
    origins = [o.strip() for o in (settings or current()).cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-User-Id", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware, prefix=prefix)
    return app


def _default_factory(settings: Settings):
    from assistant.assistant import PolicyAssistant

    return PolicyAssistant(settings=settings, store=create_store(settings))


def _load_in_background(app: FastAPI, settings: Settings, factory: Callable[[Settings], Any]) -> threading.Thread:
    def run() -> None:
        started = time.perf_counter()
        try:
            assistant = factory(settings)
        except Exception:  # noqa: BLE001 - reported by /readyz and the log, the process stays up for /healthz
            log.exception("policy assistant failed to start")
            app.state.pa_startup_error = True
            return
        app.state.policy_assistant = assistant
        log.info("policy assistant ready in %.1fs (mode=%s)", time.perf_counter() - started,
                 getattr(assistant, "mode", "?"))

    thread = threading.Thread(target=run, name="policy-assistant-loader", daemon=True)
    thread.start()
    return thread


def _ensure_logging() -> None:
    """Under a bare `uvicorn assistant.api:app` nobody configures logging: give our loggers a stderr handler
    at INFO so the per-request lines (with their request ids) are not lost. A configured host wins."""
    ours = logging.getLogger("assistant")
    if logging.getLogger().handlers or ours.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RequestIdLogFilter())
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)


def create_app(
    assistant: Any | None = None,
    settings: Settings | None = None,
    *,
    assistant_factory: Callable[[Settings], Any] | None = None,
) -> FastAPI:
    """The complete API application.

    ``assistant``: a ready `PolicyAssistant` (used as is, ready at once). Without it the app builds one at
    start-up in a background thread with ``assistant_factory(settings)`` (default:
    ``PolicyAssistant(settings, store=create_store(settings))``) and closes its store at shutdown.
    """
    if settings is None:
        settings = getattr(assistant, "settings", None) or get_settings()
    factory = assistant_factory or _default_factory

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        _ensure_logging()
        if app.state.policy_assistant is None and not getattr(app.state, "pa_loader", None):
            app.state.pa_loader = _load_in_background(app, settings, factory)
        try:
            yield
        finally:
            if app.state.pa_owns_assistant and app.state.policy_assistant is not None:
                close = getattr(getattr(app.state.policy_assistant, "store", None), "close", None)
                if close is not None:
                    close()

    app = FastAPI(
        title="北碚电商政策助手 API",
        version="1.0",
        description=(
            "北碚府发〔2019〕75号《重庆市北碚区人民政府关于加快电子商务产业发展的实施意见》的问答与补贴计算服务。"
            "回答均引用条款原文；金额由确定性计算器给出。"
        ),
        lifespan=lifespan,
    )
    app.state.pa_settings = settings
    app.state.policy_assistant = assistant
    app.state.pa_owns_assistant = assistant is None
    app.state.pa_startup_error = None
    app.state.pa_loader = None
    configure_app(app, settings, prefix="")
    app.include_router(router)
    app.include_router(health_router)
    return app


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API under uvicorn (one process; put a reverse proxy with TLS in front for the internet)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="info", access_log=False)


app = create_app()

__all__ = [
    "ApiError",
    "ErrorResponse",
    "RequestIdLogFilter",
    "TokenBucketLimiter",
    "app",
    "configure_app",
    "create_app",
    "enforce_rate_limit",
    "get_api_settings",
    "get_assistant",
    "get_user_id",
    "require_api_key",
    "router",
    "serve",
]
