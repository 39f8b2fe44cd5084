"""`SqlStore`: the durable `assistant.store.Store`, sessions, turns and feedback in SQLite (default) or
PostgreSQL through SQLAlchemy 2.x, its schema brought to the newest Alembic revision on start."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, create_engine, event, func, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from assistant.oversight.derive import cited_clause_ids, local_day, reply_columns
from assistant.schemas import ChatResponse, Turn
from assistant.store import SessionNotFound, check_flag, check_text
from assistant.tables import (
    MAX_CLAUSE_ID_CHARS,
    MAX_ID_CHARS,
    MAX_TURN,
    RATINGS,
    feedback_table,
    sessions_table,
    turn_citations_table,
    turns_table,
)

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
SQLITE_BUSY_TIMEOUT_MS = 30_000  # policy-literal: ok (milliseconds)
_OWNER_CACHE_SIZE = 100_000  # policy-literal: ok (a cache size)
_MIGRATION_LOCK_KEY = 0x50415F4D4947  # pg_advisory_xact_lock key: "PA_MIG"

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
        flag=bindparam("flag"),
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


def alembic_config(url: str | URL) -> Any:
    """Alembic's config for this package's revisions on ``url`` (also what tests use to stop at an old one)."""
    from alembic.config import Config

    rendered = normalize_database_url(url).render_as_string(hide_password=False)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))  # configparser interpolation
    return cfg


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

        cfg = alembic_config(self.url)
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

    def add_reply(self, session_id: str, turn: int, response: ChatResponse, flag: str | None = None) -> None:
        check_flag(flag)
        payload = response.model_dump_json()
        with self._write() as conn:
            created = conn.execute(_TURN_CREATED, {"sid": session_id, "turn": turn}).scalar()
            if created is None:
                raise SessionNotFound(f"{session_id}#{turn}")
            now = _utcnow()
            params = {"sid": session_id, "turn": turn, "response_json": payload, "answered_at": now, "flag": flag}
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
            insert = insert_on_conflict(self.dialect, feedback_table)
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
            insert = insert_on_conflict(self.dialect, sessions_table)
            conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["id"]))
        else:
            with conn.begin_nested():
                try:
                    conn.execute(sessions_table.insert().values(**values))
                except IntegrityError:
                    pass
        return conn.execute(_OWNER, {"sid": session_id}).scalar_one()


def insert_on_conflict(dialect: str, table: Table) -> Any:
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
