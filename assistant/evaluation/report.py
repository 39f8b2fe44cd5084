"""The summary of a run, its Markdown report and chart, and the CI gate."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import CategoryStats
from assistant.evaluation.scoring import CHECK_NAMES, ItemResult, short

GATE_PASS_RATE = 0.95
GATE_AMOUNT_RATE = 1.0

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


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_ms(value: float | None) -> str:
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
            value = fmt_num(m.get(key)) if key == "mrr" else fmt_pct(m.get(key))
            n = "" if n_key is None else str(m.get(n_key, ""))
            lines.append(f"| {label} | {value} | {n} |")
        lines.append(f"| Wrong amounts (an eligible amount that is not the one due) | {m.get('wrong_amounts', 0)} | |")
        lines.append(f"| Latency p50 (last turn) | {fmt_ms(m.get('latency_p50_ms'))} | |")
        lines.append(f"| Latency p95 (last turn) | {fmt_ms(m.get('latency_p95_ms'))} | |")
        lines.append(f"| Items run / scored / errors | {m['items']} / {m['scored']} / {m['errors']} | |")
        return "\n".join(lines)

    def category_table(self) -> str:
        lines = ["| Category | Pass rate | Passed / scored | Errors |", "|---|---:|---:|---:|"]
        order = sorted(
            self.categories.items(), key=lambda kv: (kv[1].pass_rate if kv[1].pass_rate is not None else 2, kv[0])
        )
        for cat, s in order:
            lines.append(f"| {cat} | {fmt_pct(s.pass_rate)} | {s.passed} / {s.scored} | {s.errors} |")
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
            f"amount exact-match {amount * 100:.1f}% < 100% "  # policy-literal: ok (a gate, not a policy figure)
            f"({len(bad)} item(s): {', '.join(bad[:10])}" + (" …" if len(bad) > 10 else "") + ")"
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
    rc: dict[str, Any] = {"font.family": [font, "DejaVu Sans"]} if font else {}
    cats = [(c, s) for c, s in summary.categories.items() if s.scored]
    # barh draws the first bar at the bottom: sort best first so the weakest category ends up on top.
    cats.sort(key=lambda cs: (-(cs[1].pass_rate or 0.0), cs[0]))
    with plt.rc_context(rc):  # type: ignore[arg-type]  # matplotlib types keys as a Literal of rc names
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
        gate_label = f" gate {GATE_PASS_RATE:.0%}"  # policy-literal: ok (a format spec)
        ax.text(GATE_PASS_RATE * 100, len(cats) - 0.4, gate_label, fontsize=7, color="#555", va="bottom")
        ax.set_xlim(0, 118)
        ax.set_xlabel("pass rate (%)")
        overall = summary.metrics.get("pass_rate")
        ax.set_title(
            f"Pass rate by category — overall {fmt_pct(overall)} ({summary.metrics['passed']}/"
            f"{summary.metrics['scored']}), mode {summary.mode}",
            fontsize=10,
        )
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        plt.close(fig)
    return path


def md_escape(text: str) -> str:
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
            lines.append(f"- **{prefix}:** {md_escape(turn)}")
        if r.error:
            lines.append(f"- **Error:** `{md_escape(r.error)}`")
        if r.response:
            answer = short(r.response.get("answer") or "", answer_chars)
            cited = ", ".join(c.get("clause_id", "") for c in r.response.get("citations") or []) or "none"
            total = (r.response.get("calculation") or {}).get("total_yuan")
            lines.append(
                f"- **Answer** ({r.response.get('answer_type')}; cited: {cited}"
                + (f"; total_yuan: {total}" if total is not None else "")
                + f"): {md_escape(answer)}"
            )
        if r.item.expected:
            lines.append(f"- **Expected:** `{json.dumps(r.item.expected, ensure_ascii=False)}`")
        if r.retrieved is not None:
            lines.append(f"- **Retrieved top-5:** {', '.join(r.retrieved) or 'nothing'}")
        if r.score:
            failed = [name for name, ok in r.score.checks.items() if not ok]
            lines.append(f"- **Failed checks:** {', '.join(failed) or '—'}")
            lines += [f"  - {md_escape(f)}" for f in r.score.failures]
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
