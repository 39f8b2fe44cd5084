"""Feedback: one vote per (session, turn); a second vote replaces the first.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01

Existing duplicates are collapsed to the latest vote (highest id) before the unique index is built. A
unique index rather than a constraint: SQLite can add one without rebuilding the table, and both SQLite
and PostgreSQL accept it as the target of ``INSERT … ON CONFLICT (session_id, turn) DO UPDATE``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM feedback WHERE id NOT IN "
        "(SELECT keep FROM (SELECT MAX(id) AS keep FROM feedback GROUP BY session_id, turn) AS latest)"
    )
    op.add_column("feedback", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_feedback_session_id", table_name="feedback")
    op.create_index("uq_feedback_session_id_turn", "feedback", ["session_id", "turn"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_feedback_session_id_turn", table_name="feedback")
    op.create_index("ix_feedback_session_id", "feedback", ["session_id"])
    op.drop_column("feedback", "updated_at")  # SQLite ≥ 3.35 drops a plain column in place
