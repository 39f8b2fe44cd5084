"""Which assistant user a WeChat login is: the ``wechat_users`` table (migration 0003_wechat).

The assistant's user id (``wx_`` + random) is not the openid, so sessions, logs and the operator console
never carry WeChat identifiers. A row per WeChat key: ``unionid:<unionid>`` when WeChat sent one (the same
person across every app of the same open-platform account), and ``openid:<appid>:<openid>`` always (an
openid is only unique within its app). A user who first logged in without a unionid and later with one
keeps the user id: the unionid row is added pointing at the openid row's user.

Stored per row: the key, the appid of the login that created it, the user id, created_at and
last_login_at. Not stored: the session_key (never, not even hashed), nicknames, phone numbers.
"""

from __future__ import annotations

import secrets
import threading
import weakref
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import Column, DateTime, String, Table, bindparam, select

from assistant.sql_store import SqlStore, insert_on_conflict
from assistant.tables import MAX_ID_CHARS, metadata
from assistant.wechat import WeChatIdentity

wechat_users_table = Table(
    "wechat_users",
    metadata,
    Column("wechat_key", String(200), primary_key=True),
    Column("appid", String(64), nullable=False),
    Column("user_id", String(MAX_ID_CHARS), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True), nullable=False),
)

_W = wechat_users_table.c
_USER_OF = select(_W.wechat_key, _W.user_id).where(_W.wechat_key.in_(bindparam("keys", expanding=True)))
_TOUCH = (
    wechat_users_table.update()
    .where(_W.wechat_key.in_(bindparam("keys", expanding=True)))
    .values(last_login_at=bindparam("now"))
)


def wechat_keys(identity: WeChatIdentity) -> list[str]:
    """The keys of one login, the most general first (a unionid outranks an app's openid)."""
    keys = [f"openid:{identity.appid}:{identity.openid}"]
    if identity.unionid:
        keys.insert(0, f"unionid:{identity.unionid}")
    return keys


def new_user_id() -> str:
    return "wx_" + secrets.token_urlsafe(16)


class WeChatUsers(Protocol):
    def user_for(self, identity: WeChatIdentity) -> str: ...


class SqlWeChatUsers:
    """On the conversation database (SQLite or PostgreSQL), through the `SqlStore`'s engine."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def user_for(self, identity: WeChatIdentity) -> str:
        keys = wechat_keys(identity)
        now = datetime.now(timezone.utc)
        insert = insert_on_conflict(self.store.dialect, wechat_users_table)
        # _write: the store's write transaction (BEGIN IMMEDIATE on SQLite, so the lookup and the inserts
        # below are one atomic step; on PostgreSQL ON CONFLICT plus the re-read settles concurrent logins).
        with self.store._write() as conn:
            found = dict(conn.execute(_USER_OF, {"keys": keys}).all())
            user_id = next((found[k] for k in keys if k in found), None) or new_user_id()
            missing = [k for k in keys if k not in found]
            for key in missing:
                values = {
                    "wechat_key": key,
                    "appid": identity.appid,
                    "user_id": user_id,
                    "created_at": now,
                    "last_login_at": now,
                }
                conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["wechat_key"]))
            if missing:  # another instance may have won the race: its user id is the one
                found = dict(conn.execute(_USER_OF, {"keys": keys}).all())
                user_id = next(found[k] for k in keys if k in found)
            conn.execute(_TOUCH, {"keys": keys, "now": now})
        return user_id


class MemoryWeChatUsers:
    """For `MemoryStore` deployments and tests: the same rules, nothing persisted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rows: dict[str, dict[str, Any]] = {}

    def user_for(self, identity: WeChatIdentity) -> str:
        keys = wechat_keys(identity)
        now = datetime.now(timezone.utc)
        with self._lock:
            user_id = next((self.rows[k]["user_id"] for k in keys if k in self.rows), None) or new_user_id()
            for key in keys:
                row = self.rows.setdefault(
                    key, {"appid": identity.appid, "user_id": user_id, "created_at": now, "last_login_at": now}
                )
                row["last_login_at"] = now
        return user_id


_BY_STORE: weakref.WeakKeyDictionary[Any, WeChatUsers] = weakref.WeakKeyDictionary()
_BY_STORE_LOCK = threading.Lock()


def wechat_users_for(store: Any) -> WeChatUsers:
    """The mapping that lives where the conversations do; one per store, shared by every request."""
    with _BY_STORE_LOCK:
        users = _BY_STORE.get(store)
        if users is None:
            users = SqlWeChatUsers(store) if isinstance(store, SqlStore) else MemoryWeChatUsers()
            _BY_STORE[store] = users
        return users
