"""A small, fully known conversation history for the operator-console tests: every turn's day, answer type,
mode, citations, vote and latency are chosen here, so the tests can state exact expected figures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import update

from assistant.calculator import calculate, parse_profile
from assistant.chain import FALLBACK_NOTICE
from assistant.oversight.derive import LOCAL_TZ, local_day
from assistant.schemas import ChatResponse, Citation
from assistant.sql_store import SqlStore
from assistant.tables import sessions_table, turn_citations_table, turns_table

PLATFORM_PROFILE = {
    "platform_first_year_online_transactions_yuan": 300_000_000,
    "platform_project_investment_yuan": 2_000_000,
    "registered_in_beibei": True,
    "local_legal_entity": True,
}
DAY1, DAY2, DAY3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)


@dataclass(frozen=True)
class Spec:
    session: str
    user: str | None
    message: str
    answer: str
    answer_type: str
    at: datetime  # local time of the question
    latency_ms: int
    cites: tuple[str, ...] = ()
    mode: str = "grounded"
    fallback: bool = False
    vote: str | None = None
    calc: bool = False


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


SPECS = [
    Spec(
        "sa",
        "owner-alice",
        "自建电商平台有什么补贴？",
        "【三(四)】给予补贴。",
        "policy_answer",
        local(DAY1, 0, 5),
        100,
        ("三(四)", "附件-11"),
        vote="up",
    ),
    Spec(
        "sa",
        "owner-alice",
        "交易额3亿能拿多少？",
        "可获30万元。",
        "calculation",
        local(DAY1, 0, 6),
        200,
        ("三(四)",),
        calc=True,
        vote="down",
    ),
    Spec(
        "sb",
        "owner-bob",
        "今天天气怎么样？",
        "超出范围，请咨询区商务委。",
        "out_of_scope",
        local(DAY1, 23, 59),
        300,
        (),
        vote="down",
    ),
    Spec(
        "sc",
        "owner-carol",
        "能拿多少？",
        "请提供交易额。",
        "clarification",
        local(DAY2, 9),
        400,
        ("三(四)",),
        mode="grounded",
        fallback=True,
    ),
    Spec(
        "sc",
        "owner-carol",
        "文件有没有说税收优惠？",
        "文件没有规定税收优惠。【一(一)】",
        "policy_answer",
        local(DAY2, 10),
        500,
        ("一(一)",),
        mode="llm",
    ),
    Spec("sd", "owner-dave", "北京有什么政策？", "超出范围。", "out_of_scope", local(DAY3, 8), 600, (), vote="up"),
    Spec(
        "se",
        None,
        "Platform subsidy 100% please",
        "The document does not specify that.",
        "policy_answer",
        local(DAY3, 12),
        700,
        ("三(四)",),
        mode="llm",
    ),
]


def response_for(spec: Spec) -> ChatResponse:
    calculation = None
    if spec.calc:
        calculation = calculate(parse_profile(json.dumps(PLATFORM_PROFILE)))
    return ChatResponse(
        answer=spec.answer,
        answer_type=spec.answer_type,  # type: ignore[arg-type]
        citations=[Citation(clause_id=c, title=f"标题{c}", quote="原文") for c in spec.cites],
        calculation=calculation,
        session_id=spec.session,
        notices=["提示", FALLBACK_NOTICE] if spec.fallback else ["提示"],
        mode=spec.mode,  # type: ignore[arg-type]
    )


def backdate(store: SqlStore, session: str, idx: int, at: datetime, latency_ms: int) -> None:
    """Move a stored turn to ``at`` (the store stamps "now"), keeping its derived columns consistent."""
    t, c = turns_table.c, turn_citations_table.c
    at = at.astimezone(timezone.utc)  # as the store writes: SQLite keeps no offset, so it must be UTC
    answered = at + timedelta(milliseconds=latency_ms)
    with store.engine.begin() as conn:
        s = sessions_table.c  # a session is never younger than its turns
        conn.execute(update(sessions_table).where(s.id == session, s.created_at > at).values(created_at=at))
        conn.execute(
            update(turns_table)
            .where(t.session_id == session, t.idx == idx)
            .values(created_at=at, answered_at=answered, day=local_day(at), latency_ms=latency_ms)
        )
        conn.execute(
            update(turn_citations_table).where(c.session_id == session, c.turn == idx).values(day=local_day(at))
        )


def seed(store: SqlStore, specs: list[Spec] = SPECS) -> list[tuple[str, int]]:
    keys = []
    for spec in specs:
        store.ensure_session(spec.session, spec.user)
        idx = store.add_user_turn(spec.session, spec.user, spec.message)
        store.add_reply(spec.session, idx, response_for(spec))
        backdate(store, spec.session, idx, spec.at, spec.latency_ms)
        if spec.vote:
            store.add_feedback(spec.session, spec.user, idx, spec.vote, "评论" if spec.vote == "down" else None)
        keys.append((spec.session, idx))
    return keys
