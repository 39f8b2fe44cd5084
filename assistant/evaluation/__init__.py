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

from assistant.evaluation.ablation import AblationRow, AblationTable, run_ablation
from assistant.evaluation.dataset import DatasetError, GoldItem, default_dataset, load_dataset, parse_item
from assistant.evaluation.metrics import compute_metrics, per_category, percentile, retrieval_metrics
from assistant.evaluation.report import GATE_PASS_RATE, EvalSummary, check_gate, render_report, write_report
from assistant.evaluation.runner import dataset_warnings, run_eval, run_items, summarize
from assistant.evaluation.scoring import (
    ClauseIndex,
    ItemResult,
    ItemScore,
    extract_money,
    score_response,
    specified_checks,
    wrong_amount,
)

__all__ = [
    "GATE_PASS_RATE",
    "AblationRow",
    "AblationTable",
    "ClauseIndex",
    "DatasetError",
    "EvalSummary",
    "GoldItem",
    "ItemResult",
    "ItemScore",
    "check_gate",
    "compute_metrics",
    "dataset_warnings",
    "default_dataset",
    "extract_money",
    "load_dataset",
    "parse_item",
    "per_category",
    "percentile",
    "render_report",
    "retrieval_metrics",
    "run_ablation",
    "run_eval",
    "run_items",
    "score_response",
    "specified_checks",
    "summarize",
    "wrong_amount",
    "write_report",
]
