"""Request and response models of the HTTP API, with the limits they declare.

Every limit the server enforces is declared here, in the schema clients and fuzzers read, and declared
exactly: a value the schema admits is accepted, a value it rejects is refused. Where JSON Schema and
Python disagree on a word (which characters are "whitespace", what "integer" means), the rule is spelled
out character by character so both sides read it the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from assistant.api.examples import example
from assistant.corpus import Clause, Discrepancy
from assistant.schemas import Turn

SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_USER_ID_CHARS = 128
#: X-User-Id: visible ASCII only (a WeChat openid is [A-Za-z0-9_-]); headers carry bytes, not text.
USER_ID_PATTERN = r"^[!-~]+$"
MAX_COMMENT_CHARS = 1000
#: Turn numbers are stored in a 32-bit INTEGER column (PostgreSQL ``integer``).
MAX_TURN = 2**31 - 1

#: Whitespace for "blank": Python's str.isspace() and ECMAScript's \s together, so neither a client's
#: regex nor the server's strip() can disagree about whether a message is empty.
BLANK_CHARS = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\ufeff"
_BLANK_CLASS = "".join(f"\\u{ord(c):04x}" for c in BLANK_CHARS)
#: Non-blank, and no NUL (PostgreSQL text cannot hold one).
MESSAGE_PATTERN = f"^[^\\u0000]*[^\\u0000{_BLANK_CLASS}][^\\u0000]*$"
NO_NUL_PATTERN = "^[^\\u0000]*$"


def is_blank(text: str) -> bool:
    return not text.strip(BLANK_CHARS)


def _json_integer(value: Any) -> Any:
    """JSON integers only: 7 and 7.0 (the same number in JSON), never true, "7" or 7.5."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    if isinstance(value, int):
        return value
    number = Decimal(value) if isinstance(value, float) else value
    if not number.is_finite() or number != number.to_integral_value():
        raise PydanticCustomError("int_from_float", "Input should be a valid integer")
    if number.adjusted() > 30:  # outside every bound here; int() of 1e999999999 would never finish
        return 10**31 if number > 0 else -(10**31)  # policy-literal: ok (a bound on JSON integers)
    return int(number)


def _no_nul(text: str | None) -> str | None:
    if text is not None and "\x00" in text:
        raise PydanticCustomError("pa_text", "不能包含空字符（\\u0000）")
    return text


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


class ChatRequest(BaseModel):
    message: str = Field(
        description="用户的问题（中文或英文）：不能为空白，不能含空字符；"
        "长度上限见 PA_MAX_MESSAGE_CHARS（默认 2000 字符）。",
        examples=[example("chat_message", "")],
        json_schema_extra={"minLength": 1, "maxLength": 2000, "pattern": MESSAGE_PATTERN},
    )
    session_id: str | None = Field(
        None,
        pattern=SESSION_ID_PATTERN,
        description="会话 id：首轮不传，由服务端签发；之后每轮带上以延续上下文。只接受服务端签发给当前用户的 id，"
        "其他值（包括自选的新 id）一律 404 session_not_found。",
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


CHAT_EXAMPLE: dict = example("chat_response", {})


class FeedbackRequest(BaseModel):
    session_id: str = Field(pattern=SESSION_ID_PATTERN, examples=["9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2"])
    turn: JsonInt = Field(
        ge=0, le=MAX_TURN, description="轮次序号（从 0 开始，见 /v1/sessions/{session_id} 的 index）。"
    )
    rating: Literal["up", "down"] = Field(description="up = 有帮助，down = 没帮助。同一轮再次评价会替换上一次。")
    comment: (
        Annotated[
            str,
            Field(max_length=MAX_COMMENT_CHARS, json_schema_extra={"pattern": NO_NUL_PATTERN}),
            AfterValidator(_no_nul),
        ]
        | None
    ) = Field(None, description="可选的文字意见，不能含空字符。", examples=["金额说得很清楚，谢谢！"])

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2",
                    "turn": 0,
                    "rating": "down",
                    "comment": "没有说明申报材料。",
                }
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
    clause_id: str = Field(examples=[example("clause_id", "")])
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


class ReadinessDetails(BaseModel):
    mode: str = Field(examples=["grounded"])
    store: str = Field(examples=["SqlStore(sqlite)"])
    clauses: int
    index: dict[str, Any] = Field(description="collection, count, built, seconds, location")


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    details: ReadinessDetails | None = Field(
        None, description="仅在配置了 PA_API_KEYS 且请求带有效密钥时返回；其他调用方只看到 status。"
    )


class ErrorDetail(BaseModel):
    field: str = Field(description="出错字段（点号路径，如 message、registered_capital_yuan）。")
    code: str = Field(description="错误类型，如 missing、string_too_long。")
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
