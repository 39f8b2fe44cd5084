"""What the operator's queries group and filter by, worked out once when a reply is stored.

Aggregating over a million turns cannot parse ``response_json`` per row, so the store writes these facts into
plain columns of ``turns`` (and one row per cited clause into ``turn_citations``) next to the JSON; the
migration fills them in for turns stored before it. Both go through this module, so a turn gets the same
values whichever way it was written.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from assistant.schemas import ChatResponse

#: Days in statistics and date filters are days in Chongqing (UTC+8, no daylight saving): an office
#: reading "turns on 3 March" means its own calendar day, not UTC's.
LOCAL_TZ = timezone(timedelta(hours=8), "UTC+08:00")
#: An answer that says the policy is silent on the question (the eval's ``unspecified`` convention).
UNSPECIFIED_MARKS = ("文件没有规定", "does not specify")
#: The notice `assistant.chain` adds when the LLM answer failed and the grounded composer answered instead
#: (kept literal here so storing a reply does not import LangChain; a test pins it to the chain's text).
FALLBACK_NOTICE = "大模型回答未通过核验或不可用，本回答由离线规则引擎（grounded 模式）生成。"
#: Answer types an operator reviews as refusals. Extend here (and in `refused_condition`) when the store
#: learns other refusal signals, e.g. a moderation flag.
REFUSED_ANSWER_TYPES = ("out_of_scope",)
#: turns.latency_ms is an INTEGER (32 bits on PostgreSQL): a reply written weeks after its question (a
#: re-answered old turn, a backfill) is recorded as this cap rather than failing the write.
MAX_LATENCY_MS = 2**31 - 1


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back without an offset; this store only ever writes UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def local_day(at: datetime) -> date:
    return as_utc(at).astimezone(LOCAL_TZ).date()


def day_start_utc(day: date) -> datetime:
    """The instant a local day begins, in UTC: date filters compare ``created_at`` against these bounds."""
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def is_unspecified(answer: str) -> bool:
    return any(mark in answer for mark in UNSPECIFIED_MARKS)


def is_fallback(response: ChatResponse) -> bool:
    return response.mode == "grounded" and FALLBACK_NOTICE in response.notices


def cited_clause_ids(response: ChatResponse) -> list[str]:
    """Each cited clause once, in citation order (an answer may quote one clause several times)."""
    return list(dict.fromkeys(c.clause_id for c in response.citations))


def reply_columns(response: ChatResponse, created_at: datetime | None, answered_at: datetime) -> dict[str, Any]:
    """The ``turns`` columns derived from a reply. ``primary_clause`` (the first citation) is the turn's topic."""
    latency = None
    if created_at is not None:
        elapsed_ms = round((as_utc(answered_at) - as_utc(created_at)).total_seconds() * 1000)
        latency = min(max(0, elapsed_ms), MAX_LATENCY_MS)
    cited = cited_clause_ids(response)
    return {
        "answer_type": response.answer_type,
        "mode": response.mode,
        "unspecified": is_unspecified(response.answer),
        "fallback": is_fallback(response),
        "latency_ms": latency,
        "primary_clause": cited[0] if cited else None,
    }
