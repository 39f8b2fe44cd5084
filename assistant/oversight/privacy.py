"""User ids as operators see them: a keyed hash, stable across restarts, useless without the key.

A plain hash of an openid could be reversed by anyone holding a list of openids (hash them all and compare);
HMAC with a key that never leaves the server cannot. The key is PA_USER_ID_SALT, or else one generated on
first use and kept in ``<data_dir>/user_id_salt`` (mode 0600), so the same user keeps the same hash in every
export and every page across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from assistant.settings import Settings

SALT_FILE = "user_id_salt"
HASH_HEX_CHARS = 16  # 64 bits: no collisions to worry about among an office's users
HASH_PREFIX = "u_"


def load_or_create_salt(data_dir: Path) -> bytes:
    path = Path(data_dir) / SALT_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(32).encode()
    try:
        # O_EXCL: of two processes starting at once, one writes and both read the same key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(salt)
    return salt


def salt_for(settings: Settings) -> bytes:
    if settings.user_id_salt is not None and settings.user_id_salt.get_secret_value():
        return settings.user_id_salt.get_secret_value().encode()
    return load_or_create_salt(settings.data_dir)


def make_hasher(salt: bytes) -> Callable[[str | None], str | None]:
    """``user id → "u_" + 16 hex digits`` (None for anonymous turns). Cached: a page repeats the same users."""

    @lru_cache(maxsize=65_536)
    def hash_user(user_id: str | None) -> str | None:
        if user_id is None:
            return None
        digest = hmac.new(salt, user_id.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
        return HASH_PREFIX + digest[:HASH_HEX_CHARS]

    return hash_user


def hasher_for(settings: Settings) -> Callable[[str | None], str | None]:
    return make_hasher(salt_for(settings))
