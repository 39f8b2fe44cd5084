"""The operator's turn list: one filter for the page, the export and the eval-item picker; keyset pagination;
rows streamed in batches for the export.

Order is newest first by (created_at, session_id, idx), a unique key. A cursor is the key of the last row
shown, and the next page is every row strictly after it, so a page is stable while new turns arrive: they sort
before the first page and never shift, repeat or hide a row on later pages (a turn whose commit is delayed
past a later-stamped one can be missed by a walk already past its timestamp; it is never shown twice).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    Text,
    and_,
    exists,
    false,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from assistant.oversight import search_index
from assistant.oversight.derive import REFUSED_ANSWER_TYPES, as_utc, day_start_utc
from assistant.tables import feedback_table, turn_citations_table, turns_table

Feedback = Literal["up", "down", "none", "any"]
ANSWER_TYPES = ("policy_answer", "calculation", "clarification", "out_of_scope")
MAX_PAGE = 200
EXPORT_BATCH = 1000

_T, _F, _C = turns_table.c, feedback_table.c, turn_citations_table.c
_ANSWER_END = search_index.ANSWER_END  # one marker for the filter and the index built on its expression


class AnswerText(FunctionElement[str]):
    """The answer part of a stored ``response_json``: ``answer`` is its first field, and the text up to the
    first ``","answer_type":"`` is exactly it (a quote inside the answer is escaped, so the marker cannot occur
    there). Searching it instead of the whole JSON keeps calculation field names and quotes out of matches."""

    type = Text()
    inherit_cache = True


@compiles(AnswerText)
def _answer_text_default(element: AnswerText, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"substr({column}, 1, instr({column}, '{_ANSWER_END}'))"


@compiles(AnswerText, "postgresql")
def _answer_text_postgresql(element: AnswerText, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"substr({column}, 1, strpos({column}, '{_ANSWER_END}'))"


class BadCursor(ValueError):
    """A cursor this server did not issue (or one mangled on the way)."""


@dataclass(frozen=True)
class TurnFilter:
    since: date | None = None  # local days, both ends inclusive
    until: date | None = None
    answer_types: tuple[str, ...] = ()
    feedback: Feedback | None = None
    q: str | None = None  # substring of the question or the stored reply, case-insensitive
    clause_id: str | None = None  # the reply cites this clause
    refused: bool | None = None
    mode: str | None = None
    fallback: bool | None = None
    unspecified: bool | None = None
    extra: tuple[ColumnElement[bool], ...] = field(default=(), compare=False)


def refused_condition() -> ColumnElement[bool]:
    """What counts as a refusal: an out-of-scope answer, or a question content security refused (flag risky;
    stored as out_of_scope too, named here so the definition does not hang on how the refusal is typed)."""
    # `flag IS NOT NULL AND …`: never NULL itself, so NOT(refused) keeps the ordinary turns (SQL's NOT NULL is NULL)
    return or_(_T.answer_type.in_(REFUSED_ANSWER_TYPES), and_(_T.flag.is_not(None), _T.flag == "risky"))


def conditions(f: TurnFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.since is not None:
        where.append(_T.created_at >= day_start_utc(f.since))
    if f.until is not None:
        where.append(_T.created_at < day_start_utc(f.until + timedelta(days=1)))
    if f.answer_types:
        where.append(_T.answer_type.in_(f.answer_types))
    if f.feedback is not None:
        where.append(_feedback_condition(f.feedback))
    if f.q:
        pattern = _like(f.q)
        where.append(
            or_(_T.message.ilike(pattern, escape="\\"), AnswerText(_T.response_json).ilike(pattern, escape="\\"))
        )
    if f.clause_id:
        where.append(exists().where(_C.session_id == _T.session_id, _C.turn == _T.idx, _C.clause_id == f.clause_id))
    if f.refused is not None:
        refused = refused_condition()
        where.append(refused if f.refused else ~refused | _T.answer_type.is_(None))
    if f.mode is not None:
        where.append(_T.mode == f.mode)
    if f.fallback is not None:
        where.append(_T.fallback == (true() if f.fallback else false()))
    if f.unspecified is not None:
        where.append(_T.unspecified == (true() if f.unspecified else false()))
    where.extend(f.extra)
    return where


def _feedback_condition(kind: Feedback) -> ColumnElement[bool]:
    if kind in ("up", "down"):
        return _F.rating == kind
    return _F.id.is_(None) if kind == "none" else _F.id.is_not(None)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _query(f: TurnFilter, narrowed: Select[Any] | None = None):
    """``narrowed``: the (session_id, turn) pairs the trigram index allows (`search_index.candidates`), few
    enough to fetch and sort; ``+created_at`` then keeps SQLite from walking the whole created_at index."""
    order = literal_column("+turns.created_at") if narrowed is not None else _T.created_at
    where = conditions(f)
    if narrowed is not None:
        where.append(tuple_(_T.session_id, _T.idx).in_(narrowed))
    joined = turns_table.outerjoin(feedback_table, and_(_F.session_id == _T.session_id, _F.turn == _T.idx))
    return (
        select(
            _T.session_id,
            _T.idx,
            _T.user_id,
            _T.message,
            _T.response_json,
            _T.created_at,
            _T.answered_at,
            _T.answer_type,
            _T.mode,
            _T.fallback,
            _T.unspecified,
            _T.latency_ms,
            _T.flag,
            _F.rating,
            _F.comment,
        )
        .select_from(joined)
        .where(*where)
        .order_by(order.desc(), _T.session_id.desc(), _T.idx.desc())
    )


# --- cursor ------------------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, session_id: str, idx: int) -> str:
    raw = json.dumps([as_utc(created_at).isoformat(), session_id, idx], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, sid, idx = json.loads(raw)
        if not isinstance(sid, str) or not isinstance(idx, int) or isinstance(idx, bool):
            raise TypeError
        return as_utc(datetime.fromisoformat(at)), sid, idx
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise BadCursor(cursor) from None


# --- rows --------------------------------------------------------------------------------------------


def row_item(row: Row[Any], hash_user: Callable[[str | None], str | None]) -> dict[str, Any]:
    """One turn as operators see it: the user as a hash, the reply's answer, citations and calculation."""
    response = json.loads(row.response_json) if row.response_json else None
    return {
        "session_id": row.session_id,
        "turn": row.idx,
        "user": hash_user(row.user_id),
        "created_at": as_utc(row.created_at).isoformat(timespec="milliseconds"),
        "answered_at": as_utc(row.answered_at).isoformat(timespec="milliseconds") if row.answered_at else None,
        "latency_ms": row.latency_ms,
        "message": row.message,
        "answer_type": row.answer_type,
        "mode": row.mode,
        "fallback": None if row.fallback is None else bool(row.fallback),
        "unspecified": None if row.unspecified is None else bool(row.unspecified),
        "flag": row.flag,  # content security: risky (refused), review (answered, to be looked at), sec_unavailable
        "answer": response.get("answer") if response else None,
        "citations": response.get("citations", []) if response else [],
        "calculation": response.get("calculation") if response else None,
        "notices": response.get("notices", []) if response else [],
        "feedback": {"rating": row.rating, "comment": row.comment} if row.rating else None,
    }


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def page(
    engine: Engine,
    f: TurnFilter,
    hash_user: Callable[[str | None], str | None],
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    limit = max(1, min(limit, MAX_PAGE))
    after = decode_cursor(cursor) if cursor else None
    with engine.connect() as conn:
        query = _query(f, search_index.candidates(conn, f.q)).limit(limit + 1)
        if after is not None:
            query = query.where(tuple_(_T.created_at, _T.session_id, _T.idx) < tuple_(*after))
        rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return Page(
        items=[row_item(r, hash_user) for r in rows],
        next_cursor=encode_cursor(last.created_at, last.session_id, last.idx) if last is not None else None,
    )


def stream_rows(engine: Engine, f: TurnFilter, *, batch: int = EXPORT_BATCH) -> Iterator[Sequence[Row[Any]]]:
    """Every matching turn, newest first, ``batch`` rows at a time from a server-side cursor: memory holds
    one batch, whatever the table's size. The connection stays open until the iterator is exhausted or closed."""
    with engine.connect() as conn:
        query = _query(f, search_index.candidates(conn, f.q))
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        for partition in result.partitions(batch):
            yield partition
