"""Scoring one response against its expected block, and the results that carry the score."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from assistant.corpus import Corpus, canonical_clause_id
from assistant.evaluation.dataset import GoldItem
from assistant.money import yuan_values

UNSPECIFIED_MARKERS = ("文件没有规定", "does not specify")
CHECK_NAMES = ("answer_type", "amounts", "clause_ids", "must_contain", "must_not_contain", "unspecified")

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


class ClauseIndex:
    """Canonicalises clause ids and knows counterparts, from the assistant's corpus when there is one.

    Without a corpus (scoring a saved output file alone) every id is taken as written, less whitespace.
    """

    def __init__(self, corpus: Corpus | None = None) -> None:
        self.corpus = corpus

    def canon(self, clause_id: str) -> str:
        cid = unicodedata.normalize("NFKC", clause_id).strip()
        if self.corpus is not None:
            resolved = canonical_clause_id(cid, self.corpus)
            if resolved:
                return resolved
        return re.sub(r"\s+", "", cid)

    def known(self, clause_id: str) -> bool:
        return self.corpus is None or self.corpus.has(self.canon(clause_id))

    def counterparts(self, clause_id: str) -> set[str]:
        if self.corpus is None or not self.corpus.has(clause_id):
            return set()
        return set(self.corpus.get(clause_id).related)

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


def as_dict(response: Any) -> dict[str, Any]:
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


def short(text: str, n: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def score_response(response: Any, expected: dict[str, Any], clauses: ClauseIndex | None = None) -> ItemScore:
    """Score one `ChatResponse` (or its JSON dict) against an ``expected`` block; see the module docstring."""
    clauses = clauses or ClauseIndex()
    r = as_dict(response)
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
        calc: dict[str, Any] = r.get("calculation") or {}
        if not wanted:
            total = _to_decimal(calc.get("total_yuan")) if calc else None
            ok = not calc or total == 0
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


def error_score(expected: dict[str, Any], error: str) -> ItemScore:
    checks = {name: False for name in specified_checks(expected)}
    return ItemScore(passed=False, checks=checks, failures=[f"error: {error}"])


def wrong_amount(response: Any, expected: dict[str, Any]) -> bool:
    """The worst failure: the calculator says a business gets money, and the amount is not what is due.

    True when the item states its amounts (``amounts_yuan``) and the response's calculation has an eligible
    amount while none is due, or has eligible amounts that do not include every amount due. Asking instead
    of computing (no calculation, or nothing eligible) is a failure of another check, never a wrong amount.
    """
    if "amounts_yuan" not in expected:
        return False
    calc = as_dict(response).get("calculation") or {}
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
