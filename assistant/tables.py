"""The SQL schema the Alembic revisions in ``assistant/migrations/`` build: sessions, turns (with the moderation
flag and the columns the operator queries read), turn citations and feedback. Shared by the store that writes
it and the operator queries that read it, so neither redefines a column."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

MAX_ID_CHARS = 128
MAX_CLAUSE_ID_CHARS = 64
#: Turn numbers live in an INTEGER column: 32 bits on PostgreSQL.
MAX_TURN = 2**31 - 1
RATINGS = ("up", "down")
#: turns.flag: refused as risky, answered but to be reviewed, answered while the content check was down.
FLAGS = ("risky", "review", "sec_unavailable")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sessions_table = Table(
    "sessions",
    metadata,
    Column("id", String(MAX_ID_CHARS), primary_key=True),
    Column("user_id", String(MAX_ID_CHARS), nullable=True, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

turns_table = Table(
    "turns",
    metadata,
    Column("session_id", String(MAX_ID_CHARS), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("message", Text, nullable=False),
    Column("response_json", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Column("flag", String(16), nullable=True),  # FLAGS, NULL for an ordinary turn (migration 0003_wechat)
    # Written with the turn and its reply for the operator's queries (assistant/oversight/derive.py); null on
    # rows the 0004 migration could not derive (an unparseable response_json).
    Column("user_id", String(MAX_ID_CHARS), nullable=True),  # the session owner's, copied: no join per row
    Column("day", Date, nullable=True),  # local (UTC+8) day of created_at
    Column("answer_type", String(16), nullable=True),
    Column("mode", String(8), nullable=True),
    Column("unspecified", Boolean, nullable=True),
    Column("fallback", Boolean, nullable=True),
    Column("latency_ms", Integer, nullable=True),
    Column("primary_clause", String(MAX_CLAUSE_ID_CHARS), nullable=True),
    # The list walks created_at; statistics read the per-day rollups below, and this index only for the exact
    # latencies inside the one 32 ms bucket a percentile falls in (assistant/oversight/stats.py).
    Index("ix_turns_created_at", "created_at", "session_id", "idx"),
    Index("ix_turns_latency_ms", "latency_ms", "day"),
)

# One row per clause a reply cites, for "top cited clauses" and the clause filter.
turn_citations_table = Table(
    "turn_citations",
    metadata,
    Column("session_id", String(MAX_ID_CHARS), primary_key=True),
    Column("turn", Integer, primary_key=True, autoincrement=False),
    Column("clause_id", String(MAX_CLAUSE_ID_CHARS), primary_key=True),
    Column("day", Date, nullable=True),
    ForeignKeyConstraint(["session_id", "turn"], ["turns.session_id", "turns.idx"], ondelete="CASCADE"),
    Index("ix_turn_citations_day_clause_id", "day", "clause_id"),
)

# One vote per (session, turn): a session has exactly one owner, so this is one vote per (session, turn,
# user). A second vote replaces the first (upsert on the unique index); updated_at says when.
feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(MAX_ID_CHARS), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("rating", String(8), nullable=False),
    Column("comment", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    ForeignKeyConstraint(["session_id", "turn"], ["turns.session_id", "turns.idx"], ondelete="CASCADE"),
    CheckConstraint("rating IN ('up', 'down')", name="rating"),
    Index("uq_feedback_session_id_turn", "session_id", "turn", unique=True),
)


# --- per-day rollups (migration 0005_rollups) -------------------------------------------------------------
# Kept equal to an aggregation over turns / feedback / turn_citations by triggers the migration installs
# (assistant/oversight/rollups.py), in the writing transaction, whoever writes. Statistics over a year read
# a few thousand of these rows instead of a million turns. Nullable facts are stored as '' / false so they
# can be part of the key (NULLs never conflict in a unique index).


def _counts(name: str, *key: Column) -> Table:
    return Table(name, metadata, Column("day", Date, primary_key=True), *key, Column("n", Integer, nullable=False))


stats_daily_table = _counts(
    "stats_daily",
    Column("answer_type", String(16), primary_key=True),  # '' = not answered yet
    Column("mode", String(8), primary_key=True),
    Column("unspecified", Boolean, primary_key=True),
    Column("fallback", Boolean, primary_key=True),
)
LATENCY_BUCKET_MS = 32
stats_latency_table = _counts("stats_latency", Column("bucket", Integer, primary_key=True))  # latency_ms // 32
stats_topics_table = _counts("stats_topics", Column("clause_id", String(MAX_CLAUSE_ID_CHARS), primary_key=True))
stats_clauses_table = _counts("stats_clauses", Column("clause_id", String(MAX_CLAUSE_ID_CHARS), primary_key=True))
stats_votes_table = _counts("stats_votes", Column("rating", String(8), primary_key=True))


def _active_days(name: str, key: str) -> Table:
    """One row per (key, day) with turns that day; ``prev_day`` is the key's previous such day. The keys active
    in [since, until] are then the rows of those days whose prev_day is before ``since``: an exact distinct
    count that is one index range scan, with no DISTINCT over a year of ids."""
    return Table(
        name,
        metadata,
        Column(key, String(MAX_ID_CHARS), primary_key=True),
        Column("day", Date, primary_key=True),
        Column("n", Integer, nullable=False),
        Column("prev_day", Date, nullable=True),
        Index(f"ix_{name}_day_prev_day", "day", "prev_day"),
    )


session_days_table = _active_days("session_days", "session_id")
user_days_table = _active_days("user_days", "user_id")
ROLLUP_TABLES = (
    stats_daily_table,
    stats_latency_table,
    stats_topics_table,
    stats_clauses_table,
    stats_votes_table,
    session_days_table,
    user_days_table,
)
