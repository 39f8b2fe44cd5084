"""The turn export as JSON Lines or CSV, produced batch by batch so a million turns never sit in memory.

JSON Lines carries each turn exactly as the turn list shows it (`turns.row_item`); CSV flattens it to one row
with the cited clause ids space-separated and the calculation as JSON text, for a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any, Literal

from sqlalchemy import Engine

from assistant.oversight.turns import TurnFilter, row_item, stream_rows

ExportFormat = Literal["jsonl", "csv"]
CSV_COLUMNS = (
    "created_at",
    "answered_at",
    "latency_ms",
    "session_id",
    "turn",
    "user",
    "message",
    "answer_type",
    "mode",
    "fallback",
    "unspecified",
    "flag",
    "rating",
    "comment",
    "clause_ids",
    "answer",
    "calculation",
    "notices",
)
MEDIA_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def csv_record(item: dict[str, Any]) -> list[Any]:
    feedback = item["feedback"] or {}
    flat = {
        **item,
        "rating": feedback.get("rating"),
        "comment": feedback.get("comment"),
        "clause_ids": " ".join(c["clause_id"] for c in item["citations"]),
        "calculation": json.dumps(item["calculation"], ensure_ascii=False) if item["calculation"] else "",
        "notices": "\n".join(item["notices"]),
    }
    return ["" if flat[c] is None else flat[c] for c in CSV_COLUMNS]


def export_chunks(
    engine: Engine, f: TurnFilter, hash_user: Callable[[str | None], str | None], fmt: ExportFormat
) -> Iterator[bytes]:
    """UTF-8 chunks of one batch each. CSV starts with a BOM so Excel reads the Chinese correctly."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield ("\ufeff" + buffer.getvalue()).encode()
        for rows in stream_rows(engine, f):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(csv_record(row_item(r, hash_user)) for r in rows)
            yield buffer.getvalue().encode()
        return
    for rows in stream_rows(engine, f):
        yield "".join(
            json.dumps(row_item(r, hash_user), ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows
        ).encode()
