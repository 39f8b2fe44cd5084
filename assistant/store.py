"""Conversation storage behind one small interface, so the assistant, API and UI share one history.

`MemoryStore` serves the library and CLI when nothing is configured; `SqlStore` (SQLAlchemy 2.x, SQLite or
PostgreSQL, schema managed by the Alembic revisions in `assistant/migrations/`) is the durable default of
the API and UI; `create_store(settings)` picks one from PA_DATABASE_URL.

Both stores keep the same promises: a session belongs to the user who created it (`has_session` answers
without creating, so a caller can refuse ids it did not issue); text is checked to be storable on SQLite
and PostgreSQL alike before anything is written; and a user has one vote per turn, a later vote replacing
the earlier one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

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
    bindparam,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from assistant.oversight.derive import cited_clause_ids, local_day, reply_columns
from assistant.schemas import ChatResponse, Turn


class SessionNotFound(KeyError):
    """Unknown session, or one that belongs to another user (the two are indistinguishable on purpose)."""


class Store(Protocol):
    def ensure_session(self, session_id: str, user_id: str | None) -> None: ...
    def has_session(self, session_id: str, user_id: str | None) -> bool: ...
    def add_user_turn(self, session_id: str, user_id: str | None, message: str) -> int: ...
    def add_reply(self, session_id: str, turn: int, response: ChatResponse) -> None: ...
    def turns(self, session_id: str, user_id: str | None) -> list[Turn]: ...
    def add_feedback(self, session_id: str, user_id: str | None, turn: int, rating: str, comment: str | None) -> None:
        """Record the user's vote on a turn; a later vote on the same turn replaces the earlier one."""
        ...


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: dict[str, str | None] = {}
        self._turns: dict[str, list[Turn]] = defaultdict(list)
        self._feedback: dict[tuple[str, int], dict] = {}

    @property
    def feedback(self) -> list[dict]:
        """Stored votes, one per (session, turn), in the order they were first given."""
        with self._lock:
            return list(self._feedback.values())

    def has_session(self, session_id: str, user_id: str | None) -> bool:
        with self._lock:
            return session_id in self._owner and self._owner[session_id] == user_id

    def ensure_session(self, session_id: str, user_id: str | None) -> None:
        with self._lock:
            if session_id in self._owner and self._owner[session_id] != user_id:
                raise SessionNotFound(session_id)
            self._owner.setdefault(session_id, user_id)

    def add_user_turn(self, session_id: str, user_id: str | None, message: str) -> int:
        check_text(message)
        self.ensure_session(session_id, user_id)
        with self._lock:
            turns = self._turns[session_id]
            turns.append(Turn(index=len(turns), message=message, created_at=_now()))
            return len(turns) - 1

    def add_reply(self, session_id: str, turn: int, response: ChatResponse) -> None:
        with self._lock:
            self._turns[session_id][turn].response = response

    def turns(self, session_id: str, user_id: str | None) -> list[Turn]:
        with self._lock:
            if session_id not in self._owner or self._owner[session_id] != user_id:
                raise SessionNotFound(session_id)
            return [t.model_copy() for t in self._turns[session_id]]

    def add_feedback(self, session_id: str, user_id: str | None, turn: int, rating: str, comment: str | None) -> None:
        turns = self.turns(session_id, user_id)
        if not 0 <= turn < len(turns):
            raise SessionNotFound(f"{session_id}#{turn}")
        if comment is not None:
            check_text(comment)
        with self._lock:
            self._feedback[(session_id, turn)] = {
                "session_id": session_id,
                "turn": turn,
                "rating": rating,
                "comment": comment,
            }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------------
# SQL store (SQLAlchemy 2.x): SQLite by default, PostgreSQL via PA_DATABASE_URL
# --------------------------------------------------------------------------------------------------
#
# Durability. Every write below is its own committed transaction, and the facade commits the user turn
# before answering and the reply before returning, so a reply the user saw is on disk.
#   * SQLite runs in WAL mode with synchronous=NORMAL by default. A commit is then durable against a crash
#     of the process (kill -9, OOM): the transaction is in the WAL file the moment COMMIT returns, and the
#     next open replays it. Only an OS crash or power loss can roll back the last few commits (never
#     corrupt the file). synchronous=FULL closes that window too, at one fsync per commit: measured
#     5.2 ms per commit on the reference VM against 0.02 ms, which would cap a single writer below the
#     /v1/chat throughput goal (two commits per turn). Set PA_SQLITE_SYNCHRONOUS=FULL where power-loss
#     durability matters more than throughput.
#   * PostgreSQL keeps its server defaults (synchronous_commit=on: a COMMIT is fsynced).
#
# Concurrency. Turn numbers are allocated inside one write transaction that first locks the session:
#   * SQLite: writes start with BEGIN IMMEDIATE (the database write lock is taken up front, so the
#     read-max-then-insert cannot interleave with another writer, in this process or another one);
#     busy_timeout makes other processes wait instead of failing, and an in-process lock keeps this
#     process's threads out of SQLite's sleeping busy handler.
#   * PostgreSQL: SELECT … FOR UPDATE on the session row serializes turns of one session across API
#     instances; the (session_id, idx) primary key is the backstop, with a retry on a conflict.

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MAX_ID_CHARS = 128
MAX_CLAUSE_ID_CHARS = 64
#: Turn numbers live in an INTEGER column: 32 bits on PostgreSQL.
MAX_TURN = 2**31 - 1
RATINGS = ("up", "down")
SQLITE_BUSY_TIMEOUT_MS = 30_000  # policy-literal: ok (milliseconds)
_OWNER_CACHE_SIZE = 100_000  # policy-literal: ok (a cache size)
_MIGRATION_LOCK_KEY = 0x50415F4D4947  # pg_advisory_xact_lock key: "PA_MIG"

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
    # Statistics read these indexes alone (covering), never the wide rows; the list walks created_at.
    Index("ix_turns_day_stats", "day", "answer_type", "mode", "unspecified", "fallback", "latency_ms"),
    Index("ix_turns_day_user_id", "day", "user_id"),
    Index("ix_turns_day_session_id", "day", "session_id"),
    Index("ix_turns_day_primary_clause", "day", "primary_clause"),
    Index("ix_turns_created_at", "created_at", "session_id", "idx"),
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


# Statements built once: constructing a SQLAlchemy statement per call costs more CPU than running it on SQLite.
_S, _T, _F, _C = sessions_table.c, turns_table.c, feedback_table.c, turn_citations_table.c
_OWNER = select(_S.user_id).where(_S.id == bindparam("sid"))
_OWNER_FOR_UPDATE = _OWNER.with_for_update()
_LAST_TURN = select(func.max(_T.idx)).where(_T.session_id == bindparam("sid"))
_INSERT_TURN = turns_table.insert()
_SET_REPLY = (
    turns_table.update()
    .where(_T.session_id == bindparam("sid"), _T.idx == bindparam("turn"))
    .values(
        response_json=bindparam("response_json"),
        answered_at=bindparam("answered_at"),
        **{name: bindparam(name) for name in ("answer_type", "mode", "unspecified", "fallback", "latency_ms")},
        primary_clause=bindparam("primary_clause"),
    )
)
_TURN_CREATED = select(_T.created_at).where(_T.session_id == bindparam("sid"), _T.idx == bindparam("turn"))
_DROP_CITATIONS = turn_citations_table.delete().where(_C.session_id == bindparam("sid"), _C.turn == bindparam("turn"))
_TURNS = (
    select(_T.idx, _T.message, _T.response_json, _T.created_at)
    .where(_T.session_id == bindparam("sid"))
    .order_by(_T.idx)
)
_TURN_EXISTS = select(_T.idx).where(_T.session_id == bindparam("sid"), _T.idx == bindparam("turn"))
_FEEDBACK = (
    select(_F.turn, _F.rating, _F.comment, _F.created_at, _F.updated_at)
    .where(_F.session_id == bindparam("sid"))
    .order_by(_F.id)
)
_FEEDBACK_KEY = ["session_id", "turn"]


def normalize_database_url(url: str | URL) -> URL:
    """`postgres://` and `postgresql://` mean psycopg 3 here (the only PostgreSQL driver we depend on)."""
    u = make_url(url) if isinstance(url, str) else url
    if u.drivername in ("postgres", "postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    return u


class SqlStore:
    """The durable `Store`: sessions, turns and feedback in SQLite (default) or PostgreSQL.

    ``SqlStore()`` opens the configured database (``PA_DATABASE_URL``, default ``sqlite:///<data_dir>/assistant.db``),
    ``SqlStore("postgresql+psycopg://user:pw@host/db")`` another one. The schema is brought to the newest
    Alembic revision on construction (safe when several instances start at once). Thread-safe; share one
    instance per process.
    """

    def __init__(self, url: str | URL | None = None, *, synchronous: str | None = None, migrate: bool = True) -> None:
        if url is None or synchronous is None:
            from assistant.settings import get_settings

            settings = get_settings()
            url = url if url is not None else settings.resolved_database_url
            synchronous = synchronous or getattr(settings, "sqlite_synchronous", "NORMAL")
        self.url = normalize_database_url(url)
        self.dialect = self.url.get_backend_name()
        self.synchronous = (synchronous or "NORMAL").upper()
        if self.synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"unknown SQLite synchronous level {synchronous!r}")
        self.engine: Engine = self._create_engine()
        # SQLite has one writer at a time anyway: queue this process's writers on a lock instead of letting
        # them spin in SQLite's busy handler (which sleeps up to 100 ms per retry and wrecks tail latency).
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        self._memory = self.dialect == "sqlite" and self.url.database in (None, "", ":memory:")
        # A session's owner never changes once the row exists (sessions are never re-owned), so it is safe to
        # remember across threads and instances; it saves a query per ownership check. Retention purges may
        # delete a session: a remembered owner then still holds its id, which only that owner can revive.
        self._owners: dict[str, str | None] = {}
        if migrate:
            self.migrate()

    # --- engine ----------------------------------------------------------------------------------
    def _create_engine(self) -> Engine:
        if self.dialect != "sqlite":
            return create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        database = self.url.database
        memory = database in (None, "", ":memory:")
        if memory:
            engine = create_engine(self.url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            Path(database or "").expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                pool_size=10,
                max_overflow=30,
            )
        synchronous = self.synchronous

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:
            # Take transaction control away from pysqlite (it would BEGIN lazily and DEFERRED); we emit
            # our own BEGIN below, IMMEDIATE for writes.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                if not memory:
                    cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA synchronous={synchronous}")
                cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            options = conn.get_execution_options()
            if options.get("pa_write", False):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif not options.get("pa_read", False):
                conn.exec_driver_sql("BEGIN")
            # pa_read: no transaction at all; each SELECT reads its own WAL snapshot (one round trip less)

        return engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, committed on exit (rolled back on an exception)."""
        with self._write_lock or nullcontext():
            with self.engine.connect() as conn:
                conn.execution_options(pa_write=True)
                with conn.begin():
                    yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read. On SQLite without BEGIN: every read here is one SELECT, or several whose results do not
        need one snapshot (a session's owner never changes; turns only get appended)."""
        # An in-memory database is one shared connection: serialize readers with the writers.
        with (self._write_lock or nullcontext()) if self._memory else nullcontext():
            with self.engine.connect() as conn:
                conn.execution_options(pa_read=True)
                with conn.begin():
                    yield conn

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision, in one transaction under a cross-instance lock."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url.render_as_string(hide_password=False).replace("%", "%%"))
        with self._write() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.engine.dispose()

    # --- Store protocol --------------------------------------------------------------------------
    def ensure_session(self, session_id: str, user_id: str | None) -> None:
        _check_ids(session_id, user_id)
        owner = self._owners.get(session_id, _MISSING)
        if owner is _MISSING:
            with self._read() as conn:
                owner = self._owner(conn, session_id)
            if owner is _MISSING:
                with self._write() as conn:
                    owner = self._create_session(conn, session_id, user_id)
            self._remember(session_id, owner)
        if owner != user_id:
            raise SessionNotFound(session_id)

    def has_session(self, session_id: str, user_id: str | None) -> bool:
        """Whether the session exists and belongs to ``user_id``; creates nothing (the API asks this before
        continuing a client-supplied session id, so ids cannot be squatted)."""
        if not session_id or len(session_id) > MAX_ID_CHARS:
            return False
        owner = self._owners.get(session_id, _MISSING)
        if owner is _MISSING:
            with self._read() as conn:
                owner = self._owner(conn, session_id)
            if owner is _MISSING:
                return False
            self._remember(session_id, owner)
        return owner == user_id

    def add_user_turn(self, session_id: str, user_id: str | None, message: str) -> int:
        _check_ids(session_id, user_id)
        check_text(message)
        for attempt in range(5):
            try:
                with self._write() as conn:
                    owner = self._lock_session(conn, session_id)
                    if owner is _MISSING:
                        self._create_session(conn, session_id, user_id)
                        owner = self._lock_session(conn, session_id)
                    self._remember(session_id, owner)
                    if owner != user_id:
                        raise SessionNotFound(session_id)
                    last = conn.execute(_LAST_TURN, {"sid": session_id}).scalar()
                    idx = 0 if last is None else last + 1
                    now = _utcnow()
                    conn.execute(
                        _INSERT_TURN,
                        {
                            "session_id": session_id,
                            "idx": idx,
                            "message": message,
                            "created_at": now,
                            "user_id": user_id,
                            "day": local_day(now),
                        },
                    )
                return idx
            except IntegrityError:
                # Another instance took this index between our read and insert (only possible without the
                # row lock, e.g. a session created concurrently): try again with a fresh maximum.
                if attempt == 4:
                    raise
                log.warning("turn index conflict in session %s; retrying (%d)", session_id, attempt + 1)
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    def add_reply(self, session_id: str, turn: int, response: ChatResponse) -> None:
        payload = response.model_dump_json()
        with self._write() as conn:
            created = conn.execute(_TURN_CREATED, {"sid": session_id, "turn": turn}).scalar()
            if created is None:
                raise SessionNotFound(f"{session_id}#{turn}")
            now = _utcnow()
            params = {"sid": session_id, "turn": turn, "response_json": payload, "answered_at": now}
            result = conn.execute(_SET_REPLY, {**params, **reply_columns(response, created, now)})
            if result.rowcount != 1:
                raise SessionNotFound(f"{session_id}#{turn}")
            conn.execute(_DROP_CITATIONS, {"sid": session_id, "turn": turn})
            day = local_day(created)
            cited = [c for c in cited_clause_ids(response) if len(c) <= MAX_CLAUSE_ID_CHARS]
            if cited:
                conn.execute(
                    turn_citations_table.insert(),
                    [{"session_id": session_id, "turn": turn, "clause_id": c, "day": day} for c in cited],
                )

    def turns(self, session_id: str, user_id: str | None) -> list[Turn]:
        with self._read() as conn:
            owner = self._owners.get(session_id, _MISSING)
            if owner is _MISSING:
                owner = self._owner(conn, session_id)
                if owner is not _MISSING:
                    self._remember(session_id, owner)
            if owner is _MISSING or owner != user_id:
                raise SessionNotFound(session_id)
            rows = conn.execute(_TURNS, {"sid": session_id}).all()
        return [
            Turn(
                index=idx,
                message=message,
                response=ChatResponse.model_validate_json(response_json) if response_json else None,
                created_at=_iso(created_at),
            )
            for idx, message, response_json, created_at in rows
        ]

    def add_feedback(self, session_id: str, user_id: str | None, turn: int, rating: str, comment: str | None) -> None:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, got {rating!r}")
        if comment is not None:
            check_text(comment)
        if not 0 <= turn <= MAX_TURN:  # beyond the column (and so beyond any stored turn)
            raise SessionNotFound(f"{session_id}#{turn}")
        with self._write() as conn:
            owner = self._lock_session(conn, session_id)
            if owner is _MISSING or owner != user_id:
                raise SessionNotFound(session_id)
            exists = conn.execute(_TURN_EXISTS, {"sid": session_id, "turn": turn}).first()
            if exists is None:
                raise SessionNotFound(f"{session_id}#{turn}")
            self._upsert_feedback(conn, session_id, turn, rating, comment)

    def _upsert_feedback(self, conn: Connection, session_id: str, turn: int, rating: str, comment: str | None) -> None:
        now = _utcnow()
        values = {"session_id": session_id, "turn": turn, "rating": rating, "comment": comment, "created_at": now}
        change = {"rating": rating, "comment": comment, "updated_at": now}
        if self.dialect in ("sqlite", "postgresql"):
            insert = _insert_with_on_conflict(self.dialect, feedback_table)
            conn.execute(insert.values(**values).on_conflict_do_update(index_elements=_FEEDBACK_KEY, set_=change))
            return
        # Other dialects: the session row lock taken above serializes votes on this session.
        updated = conn.execute(
            feedback_table.update().where(_F.session_id == session_id, _F.turn == turn).values(**change)
        )
        if updated.rowcount == 0:
            conn.execute(feedback_table.insert().values(**values))

    # --- extras (not part of the Store protocol) ------------------------------------------------
    def feedback_for(self, session_id: str) -> list[dict]:
        """Stored feedback rows of one session, oldest first (for reviews and tests)."""
        with self._read() as conn:
            rows = conn.execute(_FEEDBACK, {"sid": session_id}).all()
        return [
            {"turn": t, "rating": r, "comment": c, "created_at": _iso(at), "updated_at": _iso(up)}
            for t, r, c, at, up in rows
        ]

    # --- helpers ---------------------------------------------------------------------------------
    def _owner(self, conn: Connection, session_id: str):
        row = conn.execute(_OWNER, {"sid": session_id}).first()
        return _MISSING if row is None else row[0]

    def _remember(self, session_id: str, owner: str | None) -> None:
        if len(self._owners) >= _OWNER_CACHE_SIZE:
            self._owners.clear()  # crude but bounded; it refills from the database
        self._owners[session_id] = owner

    def _lock_session(self, conn: Connection, session_id: str):
        """The session's owner, with the row locked for this transaction (PostgreSQL; SQLite holds the DB lock)."""
        row = conn.execute(_OWNER_FOR_UPDATE, {"sid": session_id}).first()
        return _MISSING if row is None else row[0]

    def _create_session(self, conn: Connection, session_id: str, user_id: str | None) -> str | None:
        """Insert the session unless it exists; return its owner either way."""
        values = {"id": session_id, "user_id": user_id, "created_at": _utcnow()}
        if self.dialect in ("sqlite", "postgresql"):
            insert = _insert_with_on_conflict(self.dialect, sessions_table)
            conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["id"]))
        else:
            with conn.begin_nested():
                try:
                    conn.execute(sessions_table.insert().values(**values))
                except IntegrityError:
                    pass
        return conn.execute(_OWNER, {"sid": session_id}).scalar_one()


def _insert_with_on_conflict(dialect: str, table: Table) -> Any:
    """INSERT … ON CONFLICT, which SQLite and PostgreSQL spell alike but SQLAlchemy builds per dialect."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert(table)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def check_text(text: str) -> None:
    """Text both databases can store: valid Unicode (no lone surrogate, which UTF-8 cannot encode) and no
    NUL (PostgreSQL text cannot hold one). Checked before anything is written."""
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from None


def _check_ids(session_id: str, user_id: str | None) -> None:
    if not session_id or len(session_id) > MAX_ID_CHARS:
        raise ValueError(f"session_id must be 1-{MAX_ID_CHARS} characters")
    if user_id is not None and len(user_id) > MAX_ID_CHARS:
        raise ValueError(f"user_id must be at most {MAX_ID_CHARS} characters")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # a driver that hands back text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite keeps no offset: we only ever write UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def create_store(settings=None) -> Store:
    """The store the API and UI use: `SqlStore` on PA_DATABASE_URL (default SQLite under data_dir).

    ``PA_DATABASE_URL=memory`` gives a `MemoryStore` (nothing persisted; for demos and tests).
    """
    if settings is None:
        from assistant.settings import get_settings

        settings = get_settings()
    url = settings.resolved_database_url
    if url.strip().lower() in ("memory", "memory://"):
        return MemoryStore()
    return SqlStore(url, synchronous=getattr(settings, "sqlite_synchronous", "NORMAL"))
