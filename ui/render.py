"""HTML for the page: answers with clickable citation chips, the clause panel, calculator and matching
results, status lines. Formatting only: every figure and clause comes from the library's results."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from assistant.calculator import (
    FACT_LABELS,
    STATUS_LABELS,
    VALIDITY_NOTICE,
    CalculationItem,
    CalculationResult,
    format_yuan,
    relevant_items,
)
from assistant.matching import group as group_matches
from assistant.schemas import ChatResponse
from ui.forms import FORM_LABELS

if TYPE_CHECKING:
    from assistant.assistant import PolicyAssistant

# --------------------------------------------------------------------------------------------------
# Words shown to users
# --------------------------------------------------------------------------------------------------

APP_TITLE = "北碚电商政策助手"
EMPTY_MESSAGE = "请输入问题。"
TOO_LONG_MESSAGE = "问题过长（{n}字），请精简到{limit}字以内后再提问。"
UNAVAILABLE_MESSAGE = "服务暂时不可用，请稍后再试。如果问题持续，请联系区商务委或系统管理员。"
THINKING_MESSAGE = "正在查找相关条款…"
CLAUSE_PLACEHOLDER = "点击回答或测算结果中的条款编号（如【三(四)】）即可在这里查看条款原文，也可以从上方列表选择条款。"

EXAMPLE_QUESTIONS = [
    "自建电商平台首年交易额3亿元能拿多少？",
    "跨境电商零售额2.5亿美元有什么扶持？",
    "总部企业购买办公用房补贴多少？",
    "农产品电商由哪个部门牵头？",
    "正文和附件有哪些不一致？",
]

MODE_LABELS = {
    "grounded": "离线规则引擎（grounded 模式）：回答逐句取自条款原文",
    "llm": "大模型（llm 模式）：回答经条款核验，未通过时改用离线规则引擎",
}


# --------------------------------------------------------------------------------------------------
# HTML rendering (formatting only)
# --------------------------------------------------------------------------------------------------

_CITATION = re.compile(r"【([^【】\n]{1,24})】")


def esc(text: Any) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


CHIP_HREF_PREFIX = "#pa-clause="


def chip(clause_id: str, label: str | None = None, *, cls: str = "pa-chip") -> str:
    """A citation chip. The id travels twice: in data-clause, and in the href because the Chatbot's HTML
    sanitizer drops data-* attributes from messages (it keeps href, class and title)."""
    shown = label if label is not None else f"【{clause_id}】"
    href = CHIP_HREF_PREFIX + quote(clause_id, safe="")
    return (
        f'<a href="{esc(href)}" class="{cls}" data-clause="{esc(clause_id)}" role="button" '
        f'title="查看条款原文 {esc(clause_id)}">{esc(shown)}</a>'
    )


_BOLD = re.compile(r"\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*")


def strong_cjk(markdown_text: str) -> str:
    """`**30万元 (300,000元)**一次性` is not bold in CommonMark (a closing `**` after punctuation must be
    followed by space or punctuation, and CJK text has no spaces), so the renderer would show the asterisks.
    Emit <strong> for every `**…**` pair on one line instead."""
    return _BOLD.sub(r"<strong>\1</strong>", markdown_text)


def linkify_citations(markdown_text: str, known: set[str] | None = None) -> str:
    """Turn 【三(四)】 into a clickable chip; ids the corpus does not know stay plain text."""

    def repl(m: re.Match[str]) -> str:
        cid = m.group(1).strip()
        if known is not None and cid not in known:
            return m.group(0)
        return chip(cid, cls="pa-cite")

    return _CITATION.sub(repl, strong_cjk(markdown_text))


def highlight(text: str, quotes: list[str]) -> str:
    """Escape `text` and wrap every occurrence of every quote in <mark> (overlaps merged)."""
    spans: list[tuple[int, int]] = []
    for q in quotes:
        q = (q or "").strip()
        if len(q) < 2:
            continue
        start = text.find(q)
        while start != -1:
            spans.append((start, start + len(q)))
            start = text.find(q, start + 1)
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out.append(esc(text[pos:s]))
        out.append(f"<mark>{esc(text[s:e])}</mark>")
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


def units_html(lead: str | None, responsible: list[str]) -> str:
    if not lead and not responsible:
        return ""
    parts = []
    if lead:
        parts.append(f"<b>牵头单位：</b>{esc(lead)}")
    if responsible:
        parts.append(f"<b>责任单位：</b>{esc('、'.join(responsible))}")
    return f'<div class="pa-units">{"；".join(parts)}</div>'


def notice_html() -> str:
    return f'<div class="pa-notice" role="note">⚠ {esc(VALIDITY_NOTICE)}</div>'


def status_html(message: str = "", kind: str = "error") -> str:
    if not message:
        return '<div class="pa-status pa-status-empty"></div>'
    icon = {"error": "⚠", "ok": "✓", "info": "●"}.get(kind, "")
    role = "alert" if kind == "error" else "status"
    return f'<div class="pa-status pa-status-{kind}" role="{role}">{icon} {esc(message)}</div>'


def citation_row_html(citations: list[dict]) -> str:
    if not citations:
        return '<div class="pa-chip-row pa-chip-row-empty"></div>'
    seen, chips = set(), []
    for c in citations:
        cid = c.get("clause_id", "")
        if cid in seen:
            continue
        seen.add(cid)
        chips.append(chip(cid, f"【{cid}】{c.get('title', '')}"))
    return f'<div class="pa-chip-row"><span class="pa-chip-label">本回答引用：</span>{"".join(chips)}</div>'


def clause_panel_html(assistant: PolicyAssistant, clause_id: str, quotes: dict[str, list[str]]) -> str:
    from assistant.assistant import ClauseNotFound

    try:
        view = assistant.clause(clause_id)
    except (ClauseNotFound, KeyError):
        return (
            f'<div class="pa-clause" data-shown="">{status_html(f"未找到条款【{clause_id}】。")}'
            f"<p>{esc(CLAUSE_PLACEHOLDER)}</p></div>"
        )
    clause = view.clause
    parts = [f'<div class="pa-clause" data-shown="{esc(clause.clause_id)}">']
    parts.append(_clause_block(clause, quotes.get(clause.clause_id, []), primary=True))
    for other in view.counterparts:
        kind = "对应的附件任务分解表条目" if other.source == "annex" else "对应的正文条款"
        parts.append(f'<h4 class="pa-sub">{kind}</h4>')
        parts.append(_clause_block(other, quotes.get(other.clause_id, []), primary=False))
    discrepancies = _discrepancies(assistant, clause.clause_id)
    if discrepancies:
        parts.append('<h4 class="pa-sub">正文与附件不一致之处</h4><ul class="pa-diff">')
        parts += [f"<li>{esc(d.description)}</li>" for d in discrepancies]
        parts.append("</ul>")
    parts.append('<button type="button" class="pa-back" data-pa-back="1">↑ 返回上方</button></div>')
    return "".join(parts)


def _discrepancies(assistant: PolicyAssistant, clause_id: str) -> list:
    if not assistant.corpus.has(clause_id):
        return []
    return list(assistant.corpus.discrepancies_for(clause_id))


def _clause_block(clause, quotes: list[str], *, primary: bool) -> str:
    source = {"main": "正文", "annex": "附件", "meta": "文件信息"}.get(clause.source, clause.source)
    tag = "h3" if primary else "h5"
    title = f"【{clause.clause_id}】{clause.title}"
    head = (
        f'<{tag} class="pa-clause-title"><span class="pa-badge pa-badge-{esc(clause.source)}">{source}</span> '
        + (esc(title) if primary else chip(clause.clause_id, title, cls="pa-cite"))
        + f"</{tag}>"
    )
    body = f'<p class="pa-clause-text">{highlight(clause.text, quotes)}</p>'
    extra = units_html(clause.lead_unit, clause.responsible_units)
    if clause.deadline:
        extra += f'<div class="pa-units"><b>完成时间：</b>{esc(clause.deadline)}</div>'
    return f'<section class="pa-clause-block">{head}{body}{extra}</section>'


def _amount_text(item: CalculationItem) -> str:
    if item.amount_yuan is None:
        return "—"
    return ("最高" if item.is_upper_bound else "") + format_yuan(item.amount_yuan)


def _total_text(result: CalculationResult) -> str:
    return ("最高" if result.total_is_upper_bound else "") + format_yuan(result.total_yuan)


def _clause_chips(item: CalculationItem) -> str:
    return " ".join(chip(c, cls="pa-cite") for c in item.clause_ids)


def _fact_label(field: str) -> str:
    """The form's wording (with the unit the owner types in), else the library's."""
    return FORM_LABELS.get(field) or FACT_LABELS.get(field, field)


def _missing_text(item: CalculationItem) -> str:
    return "；".join(_fact_label(f) for f in item.missing_facts)


def _basis_text(item: CalculationItem) -> str:
    """The library's basis, minus its "（尚需补充：…）" tail when the missing facts get their own column."""
    basis = item.basis or ""
    if item.missing_facts:
        tail = "（尚需补充：" + "、".join(FACT_LABELS.get(f, f) for f in item.missing_facts) + "）"
        if basis.endswith(tail):
            basis = basis[: -len(tail)]
    return basis or "—"


def _units_compact(item: CalculationItem) -> str:
    parts = []
    if item.lead_unit:
        parts.append(f"<div><b>牵头：</b>{esc(item.lead_unit)}</div>")
    if item.responsible_units:
        parts.append(f"<div><b>责任：</b>{esc('、'.join(item.responsible_units))}</div>")
    return f'<div class="pa-units">{"".join(parts)}</div>' if parts else "—"


def _result_notes(result: CalculationResult) -> str:
    """The result's notes, except the validity notice, which the page shows in its own box."""
    notes = [n for n in result.notes if n and n.strip() != VALIDITY_NOTICE.strip()]
    if not notes:
        return ""
    return '<ul class="pa-notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"


def calc_table_html(result: CalculationResult, *, only_touched: bool = True) -> str:
    items = relevant_items(result) if only_touched else list(result.items)
    if not items:
        return status_html("请至少填写一项企业信息后再测算。", "info")
    rows = []
    for it in items:
        basis = f'<div class="pa-basis">{esc(_basis_text(it))}</div>'
        if it.conditions_unmet:
            basis += f'<div class="pa-unmet">未满足：{esc("；".join(it.conditions_unmet))}</div>'
        if it.notes:
            basis += '<ul class="pa-item-notes">' + "".join(f"<li>{esc(n)}</li>" for n in it.notes) + "</ul>"
        units = _units_compact(it)
        rows.append(
            f'<tr class="pa-row pa-{esc(it.status)}" data-policy="{esc(it.policy_id)}">'
            f'<td data-label="政策"><b>{esc(it.title)}</b><div class="pa-chips">{_clause_chips(it)}</div></td>'
            f'<td data-label="状态"><span class="pa-status-tag pa-tag-{esc(it.status)}">'
            f"{esc(STATUS_LABELS.get(it.status, it.status))}</span></td>"
            f'<td data-label="金额" class="pa-amount">{esc(_amount_text(it))}</td>'
            f'<td data-label="计算依据与说明" class="pa-basis-cell">{basis}</td>'
            f'<td data-label="需补充信息">{esc(_missing_text(it) or "—")}</td>'
            f'<td data-label="办理部门" class="pa-units-cell">{units}</td>'
            "</tr>"
        )
    table = (
        '<div class="pa-table-wrap"><table class="pa-calc"><thead><tr><th>政策（条款）</th><th>状态</th><th>金额</th>'
        "<th>计算依据与说明</th><th>需补充信息</th><th>办理部门</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    total = (
        f'<div class="pa-total" id="pa-calc-total">合计：<b>{esc(_total_text(result))}</b>'
        '<span class="pa-muted">（仅计“符合”项）</span></div>'
    )
    notes_html = _result_notes(result)
    return f'<div class="pa-calc-result">{total}{table}{notes_html}{notice_html()}</div>'


def match_html(result: CalculationResult) -> str:
    """The 政策匹配 tab: the library's grouping and ranking (assistant.matching), the same as the chat and
    POST /v1/match."""
    found = group_matches(result)
    eligible, maybe, other, no = found.eligible, found.possible, found.non_monetary, found.ruled_out

    def card(it: CalculationItem) -> str:
        lines = [
            f'<div class="pa-card pa-{esc(it.status)}" data-policy="{esc(it.policy_id)}">',
            f'<div class="pa-card-head"><b>{esc(it.title)}</b>'
            f'<span class="pa-amount">{esc(_amount_text(it)) if it.amount_yuan else ""}</span></div>',
            f'<div class="pa-chips">依据：{_clause_chips(it)}</div>',
        ]
        if it.status == "eligible":
            lines.append(f'<div class="pa-basis">{esc(_basis_text(it))}</div>')
        if it.missing_facts:
            lines.append(f'<div class="pa-missing">还需提供：{esc(_missing_text(it))}</div>')
        if it.conditions_unmet:
            lines.append(f'<div class="pa-unmet">未满足：{esc("；".join(it.conditions_unmet))}</div>')
        if it.status == "non_monetary":
            lines.append(f'<div class="pa-basis">{esc(_basis_text(it))}</div>')
        lines.append(units_html(it.lead_unit, it.responsible_units))
        lines.append("</div>")
        return "".join(lines)

    def section(title: str, items: list[CalculationItem], cls: str) -> str:
        if not items:
            return ""
        return (
            f'<section class="pa-match-section {cls}"><h3>{esc(title)}（{len(items)}项）</h3>'
            + "".join(card(it) for it in items)
            + "</section>"
        )

    head = (
        f'<div class="pa-total" id="pa-match-total">符合条件的资金扶持合计：<b>{esc(_total_text(result))}</b>'
        '<span class="pa-muted">（按所填信息；多项能否叠加请向区商务委确认）</span></div>'
    )
    body = (
        section("✓ 符合（按金额从高到低）", eligible, "pa-sec-eligible")
        + section("？ 可能符合：补充信息后可确定（可在“补贴测算”页填写更多信息）", maybe, "pa-sec-maybe")
        + section("● 非资金类支持", other, "pa-sec-other")
        + section("× 按所填信息暂不符合", no, "pa-sec-no")
    )
    notes_html = _result_notes(result)
    return f'<div class="pa-match-result">{head}{body}{notes_html}{notice_html()}</div>'


def render_answer(response: ChatResponse, known: set[str]) -> str:
    text = linkify_citations(response.answer, known)
    notices = [n for n in response.notices if n and n.strip() != VALIDITY_NOTICE.strip()]
    if notices:
        text += "\n\n" + "\n".join(f'<div class="pa-answer-notice">注：{esc(n)}</div>' for n in notices)
    return text
