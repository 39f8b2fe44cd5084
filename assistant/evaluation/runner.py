"""Running a dataset through the assistant: each item in its own session, written line by line, never aborting."""

from __future__ import annotations

import json
import sys
import time
import traceback
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.evaluation.dataset import EXPECTED_KEYS, GoldItem, default_dataset, load_dataset
from assistant.evaluation.metrics import RETRIEVAL_K, compute_metrics, per_category
from assistant.evaluation.report import EvalSummary, write_report
from assistant.evaluation.scoring import ClauseIndex, ItemResult, as_dict, error_score, score_response


def _session_id() -> str:
    return f"eval-{uuid.uuid4().hex}"


def clause_index_for(assistant: Any) -> ClauseIndex:
    return ClauseIndex(getattr(assistant, "corpus", None))


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

    clauses = clause_index_for(assistant)
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
                result.response = as_dict(response)
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
                except Exception as exc:  # noqa: BLE001 - a failed retrieval is recorded (None) and shown
                    result.retrieved = None
                    if result.error is None and progress:
                        bar.write(f"[eval] {item.id}: retrieval failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            if item.scored:
                if result.error is not None:
                    result.score = error_score(item.expected, result.error)
                else:
                    try:
                        result.score = score_response(result.response, item.expected, clauses)
                    except Exception as exc:  # noqa: BLE001 - e.g. a response of an unexpected shape
                        result.error = f"{type(exc).__name__}: scoring failed: {exc}"
                        result.score = error_score(item.expected, result.error)
            results.append(result)
            if handle is not None:
                handle.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
                handle.flush()
    finally:
        if handle is not None:
            handle.close()
    return results


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------


def dataset_warnings(items: Sequence[GoldItem], clauses: ClauseIndex) -> list[str]:
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
    clauses: ClauseIndex,
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
    clauses = clause_index_for(assistant)
    warnings = dataset_warnings(items, clauses)
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
