"""The OpenAPI document tells the truth about this deployment.

Routes declare their models and error statuses; `adapt_openapi` then fixes what only the running
configuration knows, on the generated document of the app (or of a host app, for our paths only):

* without PA_API_KEYS no operation claims to need a key; with keys, ``X-User-Id`` is required;
* ``message`` declares the configured PA_MAX_MESSAGE_CHARS;
* every error of the streaming endpoint is documented as ``text/event-stream`` (that is what is sent);
* 431 (headers too large) is documented everywhere, since any request can get it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from assistant.api.errors import is_stream_path
from assistant.api.schemas import ErrorResponse
from assistant.settings import Settings

ERROR_DESCRIPTIONS = {
    400: "请求体不是合法的 JSON（invalid_json）、Content-Length 无效，或缺少 X-User-Id（missing_user_id）",
    401: "缺少或无效的 API 密钥（unauthorized），或微信登录凭证过期（token_expired）/无效（invalid_token）",
    404: "资源不存在，或属于其他用户",
    413: "请求体过大（payload_too_large）",
    415: "请求体不是 application/json（unsupported_media_type）",
    422: "参数校验失败（validation_error / invalid_user_id / message_too_long / empty_message）",
    429: "请求过于频繁，或密钥错误次数过多（rate_limited），见 Retry-After",
    431: "请求头过大（header_too_large）",
    500: "服务器内部错误（internal_error）",
    503: "索引加载中（not_ready，见 Retry-After）、初始化失败（startup_failed）或内容检查不可用（wechat_unavailable）",
}

#: Every /v1 operation can answer these.
COMMON_ERRORS = (400, 401, 413, 422, 429, 500, 503)
#: Operations with a JSON request body also these.
BODY_ERRORS = (415,)

_RETRY_AFTER = {"Retry-After": {"description": "需等待的秒数", "schema": {"type": "integer", "minimum": 1}}}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        responses[code] = {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[code]}
        if code in (429, 503):
            responses[code]["headers"] = _RETRY_AFTER
    return responses


def sse_event_schema(event: str, data_schema: dict[str, Any]) -> dict[str, Any]:
    """One Server-Sent Event as OpenAPI 3.1 describes an event stream item: ``event`` and ``data``, the
    data being JSON text whose content has ``data_schema``."""
    return {
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": {"const": event},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data_schema},
        },
    }


ERROR_EVENT = sse_event_schema("error", {"$ref": "#/components/schemas/ErrorResponse"})


def _sse_error(description: str) -> dict[str, Any]:
    return {
        "description": description + "。以 SSE 返回：一个 `event: error`，data 为错误结构（同 ErrorResponse）。",
        "content": {
            "text/event-stream": {
                "schema": ERROR_EVENT,
                "example": 'event: error\ndata: {"error":{"code":"rate_limited",'
                '"message":"请求过于频繁，请 2 秒后再试。",'
                '"request_id":"3f1c2a9e8b7d4c6a9e0f1a2b3c4d5e6f"}}\n\n',
            }
        },
    }


def adapt_openapi(schema: dict[str, Any], settings: Settings, prefix: str) -> dict[str, Any]:
    keys = bool(settings.api_key_list)
    components = schema.setdefault("components", {})
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if not keys:
                operation.pop("security", None)
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") == "header" and parameter.get("name") == "X-User-Id":
                    parameter["required"] = keys
            responses.setdefault(
                "431", {"description": ERROR_DESCRIPTIONS[431], "content": {"application/json": {"schema": error_ref}}}
            )
            if is_stream_path(path):
                for status, response in list(responses.items()):
                    if status.startswith(("4", "5")):
                        sse = _sse_error(response.get("description", "错误"))
                        if status == "431":  # a parser-level 431 (policy-assistant serve) is plain JSON
                            sse["content"]["application/json"] = {"schema": error_ref}
                        responses[status] = {**response, **sse}
    if not keys:
        schemes = components.get("securitySchemes", {})
        schemes.pop("ApiKey", None)
        if not schemes:
            components.pop("securitySchemes", None)
    message = components.get("schemas", {}).get("ChatRequest", {}).get("properties", {}).get("message")
    if message is not None:
        message["maxLength"] = settings.max_message_chars
    return schema


def install_openapi(app: FastAPI, settings: Callable[[], Settings], prefix: str) -> None:
    """Wrap ``app.openapi`` (the host's own generator stays in charge of everything else)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "pa_openapi_adapted", False):
            app.openapi_schema = adapt_openapi(generate(), settings(), prefix)
            app.state.pa_openapi_adapted = True
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
