"""A calculation as a Markdown table: the view `policy-assistant calc` prints, every figure next to its clause
and formula. Kept out of `assistant.calculator`, which interprets the rules; `calculator.render_table` still
answers for library callers."""

from __future__ import annotations

from assistant.calculator import FACT_LABELS, STATUS_LABELS, format_yuan, relevant_items
from assistant.profile import CalculationResult


def render_table(result: CalculationResult, *, only_touched: bool = False) -> str:
    """The CLI view: every figure next to its clause and formula, so the user can check it by hand."""

    def cell(text: str) -> str:
        return (text or "—").replace("|", "\\|").replace("\n", " ")

    items = relevant_items(result) if only_touched else result.items
    lines = [
        "| 政策 | 条款 | 状态 | 金额 | 计算依据 / 未满足条件 | 需补充信息 |",
        "|---|---|---|---|---|---|",
    ]
    for it in items:
        if it.amount_yuan is not None:
            amount = ("最高" if it.is_upper_bound else "") + format_yuan(it.amount_yuan)
        else:
            amount = "—"
        basis = it.basis
        if it.conditions_unmet:
            basis = f"{basis}；未满足：{'；'.join(it.conditions_unmet)}"
        missing = "；".join(FACT_LABELS.get(f, f) for f in it.missing_facts)
        lines.append(
            f"| {cell(it.title)} | {cell('、'.join(it.clause_ids))} | {STATUS_LABELS[it.status]} | "
            f"{cell(amount)} | {cell(basis)} | {cell(missing)} |"
        )
    total = ("最高" if result.total_is_upper_bound else "") + format_yuan(result.total_yuan)
    lines += ["", f"**合计：{total}**（仅计“符合”项）"]
    noted = [it for it in items if it.notes or it.lead_unit]
    if noted:
        lines += ["", "各项说明："]
        for it in noted:
            where = f"牵头单位：{it.lead_unit}；责任单位：{'、'.join(it.responsible_units)}"
            lines.append(f"- {it.title}（{where}）")
            lines += [f"  - {n}" for n in it.notes]
    if result.notes:
        lines += ["", "说明："]
        lines += [f"- {n}" for n in result.notes]
    return "\n".join(lines)
