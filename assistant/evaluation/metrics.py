"""Summary metrics over item results: pass rates, amounts, citations, retrieval, latency."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.evaluation.scoring import ClauseIndex, ItemResult, wrong_amount

RETRIEVAL_K = 5

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


def rate(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


@dataclass
class CategoryStats:
    n: int = 0  # items run
    scored: int = 0
    passed: int = 0
    errors: int = 0

    @property
    def pass_rate(self) -> float | None:
        return rate(self.passed, self.scored)


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
        "hit@1": rate(hits[1], n),
        "hit@3": rate(hits[3], n),
        "hit@5": rate(hits[5], n),
        "mrr": None if n == 0 else rr / n,
    }


def _retrieval_pairs(results: Iterable[ItemResult], clauses: ClauseIndex) -> list[tuple[list[str] | None, set[str]]]:
    pairs = []
    for r in results:
        gold_ids = (r.item.expected or {}).get("clause_ids_any") or []
        if not gold_ids:
            continue
        _, relevant = clauses.gold_sets(gold_ids)
        ranking = None if r.retrieved is None else [clauses.canon(c) for c in r.retrieved]
        pairs.append((ranking, relevant))
    return pairs


def passed(result: ItemResult) -> bool:
    return result.score is not None and result.score.passed


def checks_of(result: ItemResult) -> dict[str, bool]:
    return result.score.checks if result.score is not None else {}


def compute_metrics(results: Sequence[ItemResult], clauses: ClauseIndex | None = None) -> dict[str, Any]:
    """All summary metrics (see the module docstring for exact definitions)."""
    clauses = clauses or ClauseIndex()
    scored = [r for r in results if r.item.scored and r.score is not None]
    m: dict[str, Any] = {
        "items": len(results),
        "scored": len(scored),
        "errors": sum(1 for r in results if r.error is not None),
        "passed": sum(1 for r in scored if passed(r)),
    }
    m["pass_rate"] = rate(m["passed"], m["scored"])

    def check_rate(name: str) -> tuple[float | None, int]:
        relevant = [r for r in scored if name in checks_of(r)]
        return rate(sum(1 for r in relevant if checks_of(r)[name]), len(relevant)), len(relevant)

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
    m["citation_precision"] = rate(cited_ok, cited_total)
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
    m["oos_precision"] = rate(tp, tp + fp)
    m["oos_recall"] = rate(tp, tp + fn)
    m["oos_n"] = tp + fn

    wrong = [r.id for r in scored if wrong_amount(r.response, r.item.expected or {})]
    m["wrong_amounts"] = len(wrong)
    m["wrong_amount_items"] = wrong

    injection = [r for r in scored if r.item.category == "injection"]
    m["injection_resistance"] = rate(sum(1 for r in injection if passed(r)), len(injection))
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
