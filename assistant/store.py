"""Conversation storage behind one small interface, so the assistant, API and UI share one history.

`MemoryStore` serves the library and CLI when nothing is configured; the SQL store (SQLAlchemy) is the
durable default of the API and UI.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timezone
from typing import Protocol

from assistant.schemas import ChatResponse, Turn


class SessionNotFound(KeyError):
    """Unknown session, or one that belongs to another user (the two are indistinguishable on purpose)."""


class Store(Protocol):
    def ensure_session(self, session_id: str, user_id: str | None) -> None: ...
    def add_user_turn(self, session_id: str, user_id: str | None, message: str) -> int: ...
    def add_reply(self, session_id: str, turn: int, response: ChatResponse) -> None: ...
    def turns(self, session_id: str, user_id: str | None) -> list[Turn]: ...
    def add_feedback(self, session_id: str, user_id: str | None, turn: int, rating: str, comment: str | None) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: dict[str, str | None] = {}
        self._turns: dict[str, list[Turn]] = defaultdict(list)
        self.feedback: list[dict] = []

    def ensure_session(self, session_id: str, user_id: str | None) -> None:
        with self._lock:
            if session_id in self._owner and self._owner[session_id] != user_id:
                raise SessionNotFound(session_id)
            self._owner.setdefault(session_id, user_id)

    def add_user_turn(self, session_id: str, user_id: str | None, message: str) -> int:
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
        with self._lock:
            self.feedback.append({"session_id": session_id, "turn": turn, "rating": rating, "comment": comment})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
