"""Per-day rollups for the operator's statistics, the triggers that keep them, and a trigram search index.

Revision ID: 0005_rollups
Revises: 0004_oversight
Create Date: 2025-07-15

Statistics over a year had to aggregate a million turns (2 s); they now read per-day counts the database
keeps itself (`assistant.oversight.rollups`), backfilled here with one INSERT … SELECT … GROUP BY per table.
The four (day, …) indexes on turns that those aggregations scanned go; one (latency_ms, day) index comes for
the exact percentiles. The text filter gets a trigram index (`assistant.oversight.search_index`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from assistant.oversight import rollups, search_index

revision: str = "0005_rollups"
down_revision: str | None = "0004_oversight"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TURN_INDEXES = {
    "ix_turns_day_stats": ["day", "answer_type", "mode", "unspecified", "fallback", "latency_ms"],
    "ix_turns_day_user_id": ["day", "user_id"],
    "ix_turns_day_session_id": ["day", "session_id"],
    "ix_turns_day_primary_clause": ["day", "primary_clause"],
}
COUNTS: dict[str, list[sa.Column]] = {
    "stats_daily": [
        sa.Column("answer_type", sa.String(16), primary_key=True),
        sa.Column("mode", sa.String(8), primary_key=True),
        sa.Column("unspecified", sa.Boolean(), primary_key=True),
        sa.Column("fallback", sa.Boolean(), primary_key=True),
    ],
    "stats_latency": [sa.Column("bucket", sa.Integer(), primary_key=True, autoincrement=False)],
    "stats_topics": [sa.Column("clause_id", sa.String(64), primary_key=True)],
    "stats_clauses": [sa.Column("clause_id", sa.String(64), primary_key=True)],
    "stats_votes": [sa.Column("rating", sa.String(8), primary_key=True)],
}
ACTIVE_DAYS = {"session_days": "session_id", "user_days": "user_id"}


def upgrade() -> None:
    conn = op.get_bind()
    for name, key in COUNTS.items():
        op.create_table(
            name,
            sa.Column("day", sa.Date(), primary_key=True),
            *key,
            sa.Column("n", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("day", *(c.name for c in key), name=f"pk_{name}"),
        )
    for name, key_name in ACTIVE_DAYS.items():
        op.create_table(
            name,
            sa.Column(key_name, sa.String(128), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.Column("prev_day", sa.Date(), nullable=True),
            sa.PrimaryKeyConstraint(key_name, "day", name=f"pk_{name}"),
        )
        op.create_index(f"ix_{name}_day_prev_day", name, ["day", "prev_day"])
    rollups.backfill(conn)
    rollups.create_triggers(conn)
    for name in OLD_TURN_INDEXES:
        op.drop_index(name, table_name="turns")
    op.create_index("ix_turns_latency_ms", "turns", ["latency_ms", "day"])
    search_index.create(conn)


def downgrade() -> None:
    conn = op.get_bind()
    search_index.drop(conn)
    rollups.drop_triggers(conn)
    op.drop_index("ix_turns_latency_ms", table_name="turns")
    for name, columns in OLD_TURN_INDEXES.items():
        op.create_index(name, "turns", columns)
    for name in ACTIVE_DAYS:
        op.drop_index(f"ix_{name}_day_prev_day", table_name=name)
        op.drop_table(name)
    for name in COUNTS:
        op.drop_table(name)
