"""Request bodies are decoded once, here, for every route of the API.

* Every encoding JSON allows is read: UTF-8, UTF-16 and UTF-32, with or without a byte order mark,
  detected from the first bytes as RFC 8259 (and 4627 before it) describe. A ``charset`` parameter has no
  effect on JSON (RFC 8259 §11), so it is ignored rather than trusted.
* Numbers with a fraction or exponent become `Decimal`, never a binary float: 999999999999999.99 arrives
  as written, on every path (the calculator needs exact amounts).
* Text that cannot be stored (a lone UTF-16 surrogate such as ``"\\ud800"``) is refused with 422 before
  any handler runs, so nothing is half-written.

`JsonRoute` plugs this into FastAPI: routers built with ``route_class=JsonRoute`` hand their endpoints a
request whose ``json()`` is `decode_json_body`.
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from assistant.api.errors import ApiError

_MAX_INT_DIGITS = 4000  # below Python's int() digit limit; longer integers stay exact as Decimal


def _parse_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _MAX_INT_DIGITS else Decimal(text)


def _reject_constant(name: str) -> Any:
    raise ApiError(400, "invalid_json", f"请求体不是合法的 JSON（不支持 {name}）。")


def decode_text(raw: bytes) -> str:
    """The JSON text in ``raw``: UTF-8/16/32 by BOM or by the position of the zero bytes."""
    encoding = json.detect_encoding(raw)
    try:
        return raw.decode(encoding)  # strict: malformed sequences and encoded surrogates are errors
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "请求体不是合法的 JSON（应为 UTF-8、UTF-16 或 UTF-32 编码）。") from None


def decode_json_body(raw: bytes) -> Any:
    """Parse a request body; raises `json.JSONDecodeError` (→ 400 invalid_json) or `ApiError`."""
    value = json.loads(decode_text(raw), parse_float=Decimal, parse_int=_parse_int, parse_constant=_reject_constant)
    where = unencodable_text(value)
    if where is not None:
        field = ".".join(str(p) for p in where)
        label = f"字段 {field} " if field else "请求体"
        raise ApiError(
            422,
            "validation_error",
            f"{label}含有无法编码的字符（孤立的 UTF-16 代理项）。",
            field=field or None,
            details=[
                {
                    "field": field,
                    "code": "pa_unencodable_text",
                    "message": "文本必须是合法的 Unicode（不能包含孤立的代理项 \\ud800-\\udfff）。",
                }
            ],
        )
    return value


def unencodable_text(value: Any) -> tuple[str | int, ...] | None:
    """Path to the first string (key or value) that UTF-8 cannot encode, else None. Iterative, because
    a 64 KiB body can nest deeper than Python's recursion limit."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if not _encodable(key):
                    return (*path, key.encode("utf-8", "backslashreplace").decode())
                stack.append(((*path, key), child))
        elif isinstance(item, list):
            stack.extend(((*path, i), child) for i, child in enumerate(item))
    return None


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_json_media_type(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class JsonRequest(Request):
    """A request whose ``json()`` decodes with `decode_json_body` (once: the result is cached), and, for
    a route whose body is a model, insists on a JSON object: FastAPI would read some scalars (``0.0``) as
    an empty object."""

    expects_object = False

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            value = decode_json_body(await self.body())
            if self.expects_object and not isinstance(value, dict):
                raise ApiError(
                    422,
                    "validation_error",
                    "请求体应为 JSON 对象（Content-Type: application/json）。",
                    details=[{"field": "", "code": "model_attributes_type", "message": "请求体应为 JSON 对象。"}],
                )
            self._json = value
        return self._json


class JsonRoute(APIRoute):
    """An APIRoute that parses JSON bodies with `decode_json_body` and answers a declared non-JSON
    ``Content-Type`` with 415 instead of trying to validate the raw bytes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None
        annotation = getattr(getattr(self.body_field, "field_info", None), "annotation", None)
        expects_object = isinstance(annotation, type) and issubclass(annotation, BaseModel)

        async def route_handler(request: Request) -> Response:
            json_request = JsonRequest(request.scope, request.receive)  # one object: the body is read once
            json_request.expects_object = expects_object
            if takes_body:
                content_type = json_request.headers.get("content-type")
                if content_type and not is_json_media_type(content_type) and await json_request.body():
                    raise ApiError(
                        415, "unsupported_media_type", "不支持的请求体格式，请使用 Content-Type: application/json。"
                    )
            return await handler(json_request)

        return route_handler
