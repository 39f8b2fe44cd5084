"""Conversation storage behind one small interface, so the assistant, API and UI share one history.

`MemoryStore` serves the library and CLI when nothing is configured; `assistant.sql_store.SqlStore`
(SQLAlchemy 2.x, SQLite or PostgreSQL, schema in `assistant.tables`, managed by the Alembic revisions in
`assistant/migrations/`) is the durable default of the API and UI; `create_store(settings)` picks one
from PA_DATABASE_URL.

Both stores keep the same promises: a session belongs to the user who created it (`has_session` answers
without creating, so a caller can refuse ids it did not issue); text is checked to be storable on SQLite
and PostgreSQL alike before anything is written; and a user has one vote per turn, a later vote replacing
the earlier one.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Protocol

from assistant.schemas import ChatResponse, Turn
from assistant.tables import FLAGS


class SessionNotFound(KeyError):
    """Unknown session, or one that belongs to another user (the two are indistinguishable on purpose)."""


class Store(Protocol):
    def ensure_session(self, session_id: str, user_id: str | None) -> None: ...
    def has_session(self, session_id: str, user_id: str | None) -> bool: ...
    def add_user_turn(self, session_id: str, user_id: str | None, message: str) -> int: ...
    def add_reply(self, session_id: str, turn: int, response: ChatResponse, flag: str | None = None) -> None:
        """Store the reply; ``flag`` marks the turn for moderation (see FLAGS)."""
        ...

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
        self.flags: dict[tuple[str, int], str] = {}

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

    def add_reply(self, session_id: str, turn: int, response: ChatResponse, flag: str | None = None) -> None:
        check_flag(flag)
        with self._lock:
            self._turns[session_id][turn].response = response
            if flag is not None:
                self.flags[(session_id, turn)] = flag

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


def check_flag(flag: str | None) -> None:
    """A moderation flag is one of FLAGS (or None); anything else is a bug in the caller."""
    if flag is not None and flag not in FLAGS:
        raise ValueError(f"flag must be one of {FLAGS}, got {flag!r}")


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
    from assistant.sql_store import SqlStore  # late: SqlStore builds on this module

    return SqlStore(url, synchronous=getattr(settings, "sqlite_synchronous", "NORMAL"))


#: Names that lived in this module before `SqlStore` and the schema got modules of their own. They still import
#: from here (``from assistant.store import SqlStore`` is the documented library use), loaded on first use
#: because `assistant.sql_store` builds on this module.
_MOVED = {
    "SqlStore": "assistant.sql_store",
    "normalize_database_url": "assistant.sql_store",
    "alembic_config": "assistant.sql_store",
    "MIGRATIONS_DIR": "assistant.sql_store",
    "metadata": "assistant.tables",
    "sessions_table": "assistant.tables",
    "turns_table": "assistant.tables",
    "feedback_table": "assistant.tables",
    "MAX_ID_CHARS": "assistant.tables",
    "MAX_TURN": "assistant.tables",
    "SQLITE_BUSY_TIMEOUT_MS": "assistant.sql_store",
    "RATINGS": "assistant.tables",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
