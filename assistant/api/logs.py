"""Request-scoped logging that cannot be forged from the outside.

Anything a client controls (the path, headers, body text) may carry CR/LF, other control characters or
Unicode line/paragraph separators. Written raw, one request could append a fake "POST /v1/chat 200" line
to the log. So every field is escaped before it reaches a handler (`escape_field`), and the handler we
install writes one JSON object per line (`JsonLinesFormatter`), whose encoder escapes the rest.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from starlette.types import Scope

log = logging.getLogger("assistant.api")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("pa_request_id", default=None)


def request_id_of(scope: Scope) -> str | None:
    return (scope.get("state") or {}).get("request_id")


def _unsafe_class() -> str:
    """Characters that end, hide or reorder a log line in some viewer: controls (Cc), format characters
    such as bidi overrides (Cf), line/paragraph separators (Zl, Zp) and lone surrogates (Cs)."""
    bad = [cp for cp in range(0x10000) if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zl", "Zp", "Cs")]
    bad += [
        0x110BD,
        0x110CD,
        *range(0x13430, 0x13440),
        *range(0x1BCA0, 0x1BCA4),
        *range(0x1D173, 0x1D17B),
        0xE0001,
        *range(0xE0020, 0xE0080),
    ]  # the format characters outside the BMP
    ranges: list[tuple[int, int]] = []
    for cp in bad:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


_UNSAFE = re.compile(f"[{_unsafe_class()}]")
_UNSAFE_OR_BACKSLASH = re.compile(f"[\\\\{_unsafe_class()}]")


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\\":
        return "\\\\"
    cp = ord(ch)
    return f"\\x{cp:02x}" if cp < 0x100 else (f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}")


def escape_field(value: Any) -> str:
    """A client-controlled value made safe for a text log line: no control, format or separator
    characters survive (a backslash is doubled, so an escape cannot be faked either)."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    return _UNSAFE_OR_BACKSLASH.sub(_escape_char, text)


class RequestIdLogFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) so a log format can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        return True


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record, one record per line: ``ts``, ``level``, ``logger``, ``message``,
    ``request_id``, then the record's ``extra`` fields, and ``exc`` with the traceback. JSON escapes C0
    controls; the few characters it leaves raw that some readers treat as line breaks or that reorder
    text (U+0085, U+2028, bidi overrides, lone surrogates) are escaped here."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get() or "-",
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        line = json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":"))
        return _UNSAFE.sub(_escape_char_json, line)


def _escape_char_json(match: re.Match[str]) -> str:
    cp = ord(match.group())
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    cp -= 0x10000  # JSON spells astral characters as a surrogate pair
    return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"


def ensure_logging() -> None:
    """Under a bare `uvicorn assistant.api:app` nobody configures logging: give our loggers a stderr handler
    that writes JSON lines at INFO, so the per-request lines (with their request ids) are not lost. A
    configured host wins."""
    ours = logging.getLogger("assistant")
    if logging.getLogger().handlers or ours.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLinesFormatter())
    handler.addFilter(RequestIdLogFilter())
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
