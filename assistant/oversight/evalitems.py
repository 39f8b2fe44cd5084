"""Real conversations into eval items: a stored turn becomes a draft gold item in the format of
``eval/gold.jsonl``, which the operator corrects and appends to ``<data_dir>/eval/operator-items.jsonl``,
a file ``policy-assistant eval --dataset`` reads as it is.

The draft is prefilled from what the assistant answered (answer type, cited clauses, amounts, 文件没有规定),
so it records today's behaviour; an operator who disliked the answer changes ``expected`` to what it should
have been. Every item is validated by the eval runner's own parser before it is written, and appends are
serialised with an exclusive file lock, so the file always loads and ids stay unique.
"""

from __future__ import annotations

import fcntl
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from assistant.evaluation import DatasetError, parse_item
from assistant.oversight.derive import is_unspecified
from assistant.schemas import ChatResponse
from assistant.tables import turns_table

DATASET = Path("eval") / "operator-items.jsonl"
CATEGORY = "operator"
EXPECTED_KEYS = ("answer_type", "amounts_yuan", "clause_ids_any", "unspecified", "must_contain", "must_not_contain")
_T = turns_table.c


class TurnNotFound(LookupError):
    pass


class TurnUnanswered(LookupError):
    pass


class ItemExists(ValueError):
    pass


def dataset_path(data_dir: Path) -> Path:
    return Path(data_dir) / DATASET


def _amounts(response: ChatResponse) -> list[int]:
    """Whole-yuan amounts the answer commits to: the total, else each eligible item's amount."""
    calc = response.calculation
    if calc is None:
        return []
    values = [Decimal(calc.total_yuan)] if Decimal(calc.total_yuan) > 0 else []
    if not values:
        values = [Decimal(it.amount_yuan) for it in calc.items if it.amount_yuan is not None]
    return [int(v) for v in dict.fromkeys(values) if v == v.to_integral_value()]


def draft_item(engine: Engine, session_id: str, turn: int) -> dict[str, Any]:
    """The turn and the user's earlier turns of its session (the eval replays them in a fresh session)."""
    query = (
        select(_T.idx, _T.message, _T.response_json).where(_T.session_id == session_id, _T.idx <= turn).order_by(_T.idx)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows or rows[-1].idx != turn:
        raise TurnNotFound(f"{session_id}#{turn}")
    if not rows[-1].response_json:
        raise TurnUnanswered(f"{session_id}#{turn}")
    response = ChatResponse.model_validate_json(rows[-1].response_json)
    expected: dict[str, Any] = {"answer_type": response.answer_type}
    cited = list(dict.fromkeys(c.clause_id for c in response.citations))
    if cited:
        expected["clause_ids_any"] = cited
    if response.calculation is not None:
        expected["amounts_yuan"] = _amounts(response)
    if is_unspecified(response.answer):
        expected["unspecified"] = True
    return {
        "id": f"op-{session_id[:12]}-{turn}",
        "category": CATEGORY,
        "turns": [r.message for r in rows],
        "expected": expected,
        "source": {"session_id": session_id, "turn": turn},
    }


def corrected(draft: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The draft with the operator's corrections: ``id``, ``category`` and ``turns`` replace the draft's;
    each key of ``changes["expected"]`` replaces the prefilled one, and a null removes it."""
    item = {k: v for k, v in draft.items() if k != "expected"}
    for key in ("id", "category", "turns"):
        if changes.get(key) is not None:
            item[key] = changes[key]
    expected = dict(draft.get("expected") or {})
    for key, value in (changes.get("expected") or {}).items():
        if value is None:
            expected.pop(key, None)
        else:
            expected[key] = value
    item["expected"] = expected
    return item


def validate(item: dict[str, Any]) -> None:
    """The eval runner's own checks; raises `DatasetError`. Unknown ``expected`` keys are refused here
    (the runner only warns), since an operator's typo would otherwise become a check that never runs."""
    unknown = sorted(set(item.get("expected") or {}) - set(EXPECTED_KEYS))
    if unknown:
        raise DatasetError(f"unknown expected keys: {', '.join(unknown)}")
    parse_item(item, "eval item", 0)


def append_item(path: Path, item: dict[str, Any]) -> int:
    """Append one validated item; returns the number of items now in the file. Raises `ItemExists`."""
    validate(item)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released on close; other processes wait here
        handle.seek(0)
        ids = [json.loads(raw).get("id") for raw in handle if raw.strip()]
        if item["id"] in ids:
            raise ItemExists(item["id"])
        handle.seek(0, 2)
        handle.write(line)
        handle.flush()
    return len(ids) + 1
