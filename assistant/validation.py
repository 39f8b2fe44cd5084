"""Pydantic validation errors in the words an owner or integrator reads: one describer for the API (422
details), the CLI (one line, exit 2) and the web page (under the form), so the three never word the same
mistake differently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

# Chinese wording for pydantic's error types (FastAPI's own request validation and our request models).
PYDANTIC_MESSAGES = {
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
LOC_ROOTS = {"body": "", "query": "查询参数 ", "path": "路径参数 ", "header": "请求头 ", "cookie": "Cookie "}


def describe_error(err: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> tuple[str, str, str]:
    """(field, type, Chinese message) for one pydantic/FastAPI error.

    With ``labels`` (a form's field labels) the message names the label the owner sees, 「注册资金（万元）」：…,
    and keeps only the Chinese half of our bilingual validator messages; without, it names the JSON field.
    """
    loc = list(err.get("loc") or ())
    prefix = ""
    if loc and loc[0] in LOC_ROOTS:
        prefix = LOC_ROOTS[loc[0]]
        loc = loc[1:]
    field = ".".join(str(p) for p in loc)
    kind = err.get("type", "value_error")
    ctx = err.get("ctx") or {}
    if kind == "value_error":  # our validators' own (Chinese, often bilingual) message
        what = str(ctx.get("error") or err.get("msg") or "取值无效").removeprefix("Value error, ")
    else:
        # pa_* are our own PydanticCustomError types: their message is already Chinese
        own = str(err.get("msg") or "取值无效") if kind.startswith("pa_") else "取值无效"
        what = PYDANTIC_MESSAGES.get(kind, own)
        if kind == "literal_error" and "expected" in ctx:
            what += f"，可选值：{ctx['expected']}"
        elif kind in ("string_too_long", "too_long") and "max_length" in ctx:
            what += f"（最多 {ctx['max_length']}）"
        elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            bound = next((ctx[k] for k in ("gt", "ge", "lt", "le") if k in ctx), None)
            if bound is not None:
                what += f"（界限 {bound}）"
    if labels is not None and field:
        first = str(loc[0])
        label = labels.get(first, first)
        if len(loc) > 1 and isinstance(loc[1], int):
            label = f"{label}第{loc[1] + 1}年"
        return field, kind, f"「{label}」：{what.split(' (', 1)[0].strip()}"
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


def describe_validation_error(
    exc: ValidationError | Sequence[Mapping[str, Any]], labels: Mapping[str, str] | None = None
) -> str:
    """Every error of ``exc`` on one line, joined with "；"."""
    errors = exc.errors() if isinstance(exc, ValidationError) else exc
    return "；".join(message for _f, _k, message in (describe_error(e, labels) for e in errors)) or "输入有误。"
