"""Operator console: derived columns on turns, one row per cited clause, and the indexes the operator's
statistics and turn list read.

Revision ID: 0004_oversight
Revises: 0003_wechat
Create Date: 2025-07-01

The new columns are facts of ``response_json`` (answer type, mode, 文件没有规定, LLM fallback, latency, the
first cited clause) and of the turn (its local day, the session owner) that aggregation over a million turns
cannot re-derive per row. Existing turns are backfilled here in batches, by the same code the store uses for
new replies (`assistant.oversight.derive`), so old and new rows agree. A ``response_json`` that no longer
parses leaves its turn's derived columns null (counted as unanswered) instead of failing the upgrade.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pydantic import ValidationError

from assistant.oversight.derive import cited_clause_ids, local_day, reply_columns
from assistant.schemas import ChatResponse

revision: str = "0004_oversight"
down_revision: str | None = "0003_wechat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
BATCH = 2000
NEW_COLUMNS: dict[str, sa.types.TypeEngine] = {
    "user_id": sa.String(128),
    "day": sa.Date(),
    "answer_type": sa.String(16),
    "mode": sa.String(8),
    "unspecified": sa.Boolean(),
    "fallback": sa.Boolean(),
    "latency_ms": sa.Integer(),
    "primary_clause": sa.String(64),
}
TURN_INDEXES = {
    "ix_turns_day_stats": ["day", "answer_type", "mode", "unspecified", "fallback", "latency_ms"],
    "ix_turns_day_user_id": ["day", "user_id"],
    "ix_turns_day_session_id": ["day", "session_id"],
    "ix_turns_day_primary_clause": ["day", "primary_clause"],
    "ix_turns_created_at": ["created_at", "session_id", "idx"],
}


def upgrade() -> None:
    for name, type_ in NEW_COLUMNS.items():
        op.add_column("turns", sa.Column(name, type_, nullable=True))
    op.create_table(
        "turn_citations",
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("turn", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("clause_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id", "turn"],
            ["turns.session_id", "turns.idx"],
            name="fk_turn_citations_session_id_turns",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "turn", "clause_id", name="pk_turn_citations"),
    )
    _backfill(op.get_bind())
    for name, columns in TURN_INDEXES.items():
        op.create_index(name, "turns", columns)
    op.create_index("ix_turn_citations_day_clause_id", "turn_citations", ["day", "clause_id"])


def _backfill(conn: sa.Connection) -> None:
    """Derive the new columns of every stored turn, keyset-paged so memory stays flat on a large table."""
    turns = sa.table(
        "turns",
        sa.column("session_id", sa.String),
        sa.column("idx", sa.Integer),
        sa.column("response_json", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("answered_at", sa.DateTime(timezone=True)),
        *(sa.column(name, type_) for name, type_ in NEW_COLUMNS.items()),
    )
    sessions = sa.table("sessions", sa.column("id", sa.String), sa.column("user_id", sa.String))
    citations = sa.table(
        "turn_citations",
        sa.column("session_id", sa.String),
        sa.column("turn", sa.Integer),
        sa.column("clause_id", sa.String),
        sa.column("day", sa.Date),
    )
    t = turns.c
    update = (
        turns.update()
        .where(t.session_id == sa.bindparam("sid"), t.idx == sa.bindparam("turn"))
        .values({name: sa.bindparam(f"v_{name}") for name in NEW_COLUMNS})
    )
    query = (
        sa.select(t.session_id, t.idx, t.response_json, t.created_at, t.answered_at, sessions.c.user_id)
        .join(sessions, sessions.c.id == t.session_id)
        .order_by(t.session_id, t.idx)
        .limit(BATCH)
    )
    after: tuple[str, int] | None = None
    skipped = 0
    while True:
        page = query if after is None else query.where(sa.tuple_(t.session_id, t.idx) > sa.tuple_(*after))
        rows = conn.execute(page).all()
        if not rows:
            break
        updates, cited = [], []
        for sid, idx, payload, created, answered, user_id in rows:
            values: dict = dict.fromkeys(NEW_COLUMNS)
            values.update(user_id=user_id, day=local_day(created))
            if payload:
                try:
                    response = ChatResponse.model_validate_json(payload)
                except ValidationError:
                    skipped += 1
                else:
                    values.update(reply_columns(response, created, answered or created))
                    day = values["day"]
                    cited += [
                        {"session_id": sid, "turn": idx, "clause_id": c, "day": day}
                        for c in cited_clause_ids(response)
                        if len(c) <= 64
                    ]
            updates.append({"sid": sid, "turn": idx, **{f"v_{k}": v for k, v in values.items()}})
        conn.execute(update, updates)
        if cited:
            conn.execute(citations.insert(), cited)
        after = (rows[-1][0], rows[-1][1])
    if skipped:
        log.warning("0004_oversight: %d stored replies did not parse; their derived columns stay null", skipped)


def downgrade() -> None:
    op.drop_index("ix_turn_citations_day_clause_id", table_name="turn_citations")
    op.drop_table("turn_citations")
    for name in TURN_INDEXES:
        op.drop_index(name, table_name="turns")
    for name in reversed(NEW_COLUMNS):
        op.drop_column("turns", name)
