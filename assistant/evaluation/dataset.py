"""The gold dataset: one JSON object per line, validated so a misspelt check can never silently pass."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXPECTED_KEYS = frozenset(
    {"answer_type", "amounts_yuan", "clause_ids_any", "must_contain", "must_not_contain", "unspecified"}
)
ANSWER_TYPES = frozenset({"policy_answer", "calculation", "clarification", "out_of_scope"})


class DatasetError(ValueError):
    """A malformed dataset line; the message names the file and the 1-based line number."""


@dataclass
class GoldItem:
    id: str
    turns: list[str]
    category: str = "uncategorized"
    expected: dict[str, Any] | None = None
    line: int = 0

    @property
    def scored(self) -> bool:
        return bool(self.expected)

    @property
    def retrieval_query(self) -> str:
        """The last turn for single-turn items; all turns joined by newlines for multi-turn items."""
        return self.turns[0] if len(self.turns) == 1 else "\n".join(self.turns)


def default_dataset(settings=None) -> Path:
    """``eval/gold.jsonl`` next to the corpus directory (the repository's own dataset)."""
    if settings is not None:
        return Path(settings.corpus_dir).parent / "eval" / "gold.jsonl"
    from assistant.settings import REPO_ROOT

    return REPO_ROOT / "eval" / "gold.jsonl"


def _is_str_list(value: Any, *, allow_empty: bool = True) -> bool:
    return (
        isinstance(value, list)
        and (allow_empty or bool(value))
        and all(isinstance(v, str) and v.strip() for v in value)
    )


def parse_item(obj: Any, where: str, line: int) -> GoldItem:
    """One dataset item, validated; `DatasetError` names ``where``. Also used to check an item before it is
    appended to a file (the operator console), so a written item always loads."""
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    item_id = obj.get("id")
    if not isinstance(item_id, str) or not item_id.strip():
        raise DatasetError(f"{where}: 'id' must be a non-empty string")
    turns = obj.get("turns")
    if not _is_str_list(turns, allow_empty=False):
        raise DatasetError(f"{where} (id {item_id!r}): 'turns' must be a non-empty list of non-empty strings")
    category = obj.get("category", "uncategorized")
    if not isinstance(category, str) or not category.strip():
        raise DatasetError(f"{where} (id {item_id!r}): 'category' must be a non-empty string")
    expected = obj.get("expected")
    if expected is not None:
        if not isinstance(expected, dict):
            raise DatasetError(f"{where} (id {item_id!r}): 'expected' must be an object")
        # Unknown keys are not checks this runner knows: the item is still scored on the rest and the run
        # reports them (see dataset_warnings), so one new key in a shared dataset cannot sink a whole run.
        if "unspecified" in expected and not isinstance(expected["unspecified"], bool):
            raise DatasetError(f"{where} (id {item_id!r}): 'unspecified' must be true or false")
        if "answer_type" in expected and expected["answer_type"] not in ANSWER_TYPES:
            raise DatasetError(
                f"{where} (id {item_id!r}): 'answer_type' must be one of {', '.join(sorted(ANSWER_TYPES))}"
            )
        if "amounts_yuan" in expected:
            amounts = expected["amounts_yuan"]
            if not isinstance(amounts, list) or not all(
                isinstance(a, int) and not isinstance(a, bool) and a >= 0 for a in amounts
            ):
                raise DatasetError(
                    f"{where} (id {item_id!r}): 'amounts_yuan' must be a list of non-negative integers (yuan)"
                )
        for key in ("clause_ids_any", "must_contain", "must_not_contain"):
            if key in expected and not _is_str_list(expected[key]):
                raise DatasetError(f"{where} (id {item_id!r}): {key!r} must be a list of non-empty strings")
    return GoldItem(id=item_id, turns=list(turns or ()), category=category, expected=expected, line=line)


def load_dataset(path: Path | str) -> list[GoldItem]:
    """Parse and validate a JSONL gold file; raises `DatasetError` naming the line of the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"dataset not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 ({exc})") from None
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}, line {line_no}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        item = parse_item(obj, where, line_no)
        if item.id in seen:
            raise DatasetError(f"{where}: duplicate id {item.id!r} (first used on line {seen[item.id]})")
        seen[item.id] = line_no
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: dataset is empty")
    return items
