"""北碚电商政策助手 web page (Gradio 6 Blocks): 政策问答, 补贴测算, 政策匹配 and a clause panel.

The page is thin on purpose: every answer, figure and clause comes from `PolicyAssistant` (called
in-process, not over HTTP); this module only parses form input (万元 → exact yuan with `Decimal`) and turns
the library's results into HTML. No policy rule lives here.

Serving choice: the page runs as its own Gradio server (`launch()`, http://127.0.0.1:7860), which is what
`policy-assistant ui` and `make run` start. It needs nothing from the API process and keeps working when the
API is not running; feedback and history still land in the same database because both build their store
with `create_store(settings)`. `mount()` is provided for deployments that prefer one process: it mounts the
same page on the API's FastAPI app with `gr.mount_gradio_app`, sharing that app's `PolicyAssistant`.

Gradio 6 notes (checked against the installed package, 6.x):
* `theme`, `css`, `head` and `js` moved from `gr.Blocks(...)` to `launch()` / `mount_gradio_app()`;
  `page_assets()` returns theme and css once for both.
* Custom CSS is scoped: top-level rules are kept as written, but rules inside `@media` are prefixed with
  `.gradio-container .contain`, so phone-only rules can only reach elements inside `.contain` (the page
  padding outside it is scaled with `clamp()` instead).
* Fonts are system fonts given as plain strings ("Noto Sans CJK SC", sans-serif). A string is not turned into
  a web font, so the page requests nothing from Google Fonts and works with the network cut.
* Citation chips are `<a href="#pa-clause=三(四)" data-clause="三(四)">` links inside chat messages and result
  tables. The Chatbot's sanitizer strips data-* attributes from messages, so the id also rides in the href.
  The clause panel is a `gr.HTML` whose `js_on_load` installs one document-level click handler; it calls the
  panel's `trigger("click", {clause})`, which reaches Python as `gr.EventData` (`evt._data["clause"]`).
* Chatbot input values are normalised to content blocks in Gradio 6, so the transcript is kept in a
  `gr.State` of plain dicts and only ever *output* to the Chatbot.
* A Textbox with `lines > 1` submits on Shift+Enter only; the question box uses `lines=1, max_lines=6` so
  Enter sends. Events default to `trigger_mode="once"`: a second Enter while an answer is running is dropped.
* `show_error=False` and every handler catches its own exceptions, so the page shows our Chinese messages
  (服务暂时不可用…) and never a traceback.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import gradio as gr
from pydantic import ValidationError

from assistant.calculator import (
    FACT_LABELS,
    STATUS_LABELS,
    VALIDITY_NOTICE,
    CalculationItem,
    CalculationResult,
    EnterpriseProfile,
    format_yuan,
    relevant_items,
)
from assistant.matching import group as group_matches
from assistant.money import parse_form_amount
from assistant.schemas import ChatResponse

if TYPE_CHECKING:
    from assistant.assistant import PolicyAssistant
    from assistant.settings import Settings

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# Words shown to users
# --------------------------------------------------------------------------------------------------

APP_TITLE = "北碚电商政策助手"
EMPTY_MESSAGE = "请输入问题。"
TOO_LONG_MESSAGE = "问题过长（{n}字），请精简到{limit}字以内后再提问。"
UNAVAILABLE_MESSAGE = "服务暂时不可用，请稍后再试。如果问题持续，请联系区商务委或系统管理员。"
THINKING_MESSAGE = "正在查找相关条款…"
CLAUSE_PLACEHOLDER = "点击回答或测算结果中的条款编号（如【三(四)】）即可在这里查看条款原文，也可以从上方列表选择条款。"
DEFAULT_MAX_CHARS = 2000

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
# Calculator form: one entry per EnterpriseProfile field, with the unit the owner types in
# --------------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")

UNKNOWN = "unknown"
BOOL_CHOICES = [("是", "yes"), ("否", "no"), ("不确定", UNKNOWN)]
HQ_TYPE_CHOICES = [
    ("不确定/未填", UNKNOWN),
    ("区域总部", "regional_hq"),
    ("营销中心", "marketing_center"),
    ("结算中心", "settlement_center"),
    ("运营中心", "operations_center"),
    ("不属于新设立的总部类机构", "none"),
]
LEVEL_CHOICES = [("不确定/未填", UNKNOWN), ("国家级", "national"), ("市级", "municipal"), ("未获认定", "none")]

# field → (label shown on the form, kind). Kinds: wan (万元 amount), usd_wan (万美元), years, int_years,
# rate, wan_list (1–5 yearly 万元 figures), bool, hq, level.
FORM_FIELDS: dict[str, tuple[str, str]] = {
    "new_hq_type": ("在北碚区新设立的机构类型", "hq"),
    "registered_capital_yuan": ("注册资金（万元）", "wan"),
    "online_annual_sales_yuan": ("线上年销售收入（万元）", "wan"),
    "sales_in_statistics": ("线上销售数据是否入统", "bool"),
    "years_in_operation": ("正常经营年限（年）", "years"),
    "office_purchase_price_yuan": ("在区内购买办公用房总价（万元）", "wan"),
    "office_annual_rent_yuan": ("在区内租用办公用房年租金（万元）", "wan"),
    "rent_years": ("租用年限（整年）", "int_years"),
    "annual_local_contribution_yuan": ("各年度对北碚区地方经济发展贡献（万元/年）", "wan_list"),
    "demo_base_level": ("示范基地（园区）认定级别", "level"),
    "demo_enterprise_level": ("示范企业认定级别", "level"),
    "registered_in_beibei": ("是否在北碚区注册", "bool"),
    "local_legal_entity": ("是否为本地法人企业", "bool"),
    "platform_project_investment_yuan": ("自建平台项目投资（万元）", "wan"),
    "platform_first_year_online_transactions_yuan": ("自建平台建成运营后首年网上交易额（万元）", "wan"),
    "cross_border_retail_usd": ("跨境电商零售交易额（万美元）", "usd_wan"),
    "cross_border_retail_cny": ("跨境电商零售交易额（万元人民币）", "wan"),
    "usd_cny_rate": ("美元兑人民币汇率（1美元=?元）", "rate"),
}

CALC_GROUPS: list[tuple[str, str, list[str]]] = [
    (
        "总部企业",
        "三(一)、附件-10",
        [
            "new_hq_type",
            "registered_capital_yuan",
            "online_annual_sales_yuan",
            "sales_in_statistics",
            "years_in_operation",
            "office_purchase_price_yuan",
            "office_annual_rent_yuan",
            "rent_years",
            "annual_local_contribution_yuan",
        ],
    ),
    ("示范基地/示范企业", "三(二)、三(三)", ["demo_base_level", "demo_enterprise_level"]),
    (
        "自建电商平台",
        "三(四)、附件-11",
        [
            "registered_in_beibei",
            "local_legal_entity",
            "platform_project_investment_yuan",
            "platform_first_year_online_transactions_yuan",
        ],
    ),
    ("跨境电商", "三(五)、附件-12", ["cross_border_retail_usd", "cross_border_retail_cny", "usd_cny_rate"]),
]
CALC_FIELDS = [f for _title, _clauses, fields in CALC_GROUPS for f in fields]

MATCH_FIELDS = [
    "registered_in_beibei",
    "local_legal_entity",
    "new_hq_type",
    "registered_capital_yuan",
    "online_annual_sales_yuan",
    "sales_in_statistics",
    "years_in_operation",
    "demo_base_level",
    "demo_enterprise_level",
    "platform_project_investment_yuan",
    "platform_first_year_online_transactions_yuan",
    "cross_border_retail_usd",
]

PLACEHOLDERS = {
    "wan": "如 300，或 1.2亿 / 300万",
    "usd_wan": "如 25000，或 2.5亿美元",
    "years": "如 2",
    "int_years": "如 3",
    "rate": "如 7.1",
    "wan_list": "1–5个年度，用顿号或空格分隔，如 100、120、150",
}


class FormError(ValueError):
    """A form value the owner has to correct; the message is Chinese and names the field."""


def parse_amount(text: str | None, label: str, *, usd: bool = False) -> Decimal | None:
    """'300' (万), '1.2亿', '300万', '300000元', '3,000' → exact yuan (or USD) as Decimal; blank → None.
    Parsing is the money module's; this only turns its error into a message naming the field."""
    try:
        return parse_form_amount(text, usd=usd)
    except ValueError:
        example = "25000 或 2.5亿美元" if usd else "300 或 1.2亿"
        raise FormError(f"「{label}」请填写数字，例如 {example}。") from None


def parse_plain_number(text: str | None, label: str, *, suffix: str = "") -> Decimal | None:
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "")
    if suffix and t.endswith(suffix):
        t = t[: -len(suffix)]
    if not t:
        return None
    if not _NUMBER.fullmatch(t) or len(t) > 30:
        raise FormError(f"「{label}」请填写数字。")
    return Decimal(t)


def parse_amount_list(text: str | None, label: str) -> list[Decimal] | None:
    if text is None or not str(text).strip():
        return None
    parts = [p for p in re.split(r"[、，；;/\s]+", str(text).strip()) if p]
    values = []
    for i, part in enumerate(parts, start=1):
        value = parse_amount(part, f"{label}第{i}年")
        if value is not None:
            values.append(value)
    return values or None


def form_to_profile_data(fields: list[str], values: list[Any]) -> dict[str, Any]:
    """Form strings/choices → EnterpriseProfile input (unknown stays absent, never False or 0)."""
    data: dict[str, Any] = {}
    for field, raw in zip(fields, values):
        label, kind = FORM_FIELDS[field]
        if kind == "wan":
            value = parse_amount(raw, label)
        elif kind == "usd_wan":
            value = parse_amount(raw, label, usd=True)
        elif kind == "wan_list":
            value = parse_amount_list(raw, label)
        elif kind in ("years", "int_years"):
            value = parse_plain_number(raw, label, suffix="年")
        elif kind == "rate":
            value = parse_plain_number(raw, label)
        elif kind == "bool":
            value = {"yes": True, "no": False}.get(raw)
        else:  # hq, level
            value = None if raw in (None, "", UNKNOWN) else raw
        if value is not None:
            data[field] = value
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """'「注册资金（万元）」：不能小于0' — the form label, and the Chinese half of the library's message."""
    lines = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        field = str(loc[0]) if loc else ""
        label = FORM_FIELDS.get(field, (FACT_LABELS.get(field, field), ""))[0]
        if len(loc) > 1 and isinstance(loc[1], int):
            label = f"{label}第{loc[1] + 1}年"
        msg = str(err.get("msg", ""))
        msg = re.sub(r"^(Value error|Assertion failed),\s*", "", msg)
        chinese = msg.split(" (", 1)[0].strip()
        lines.append(f"「{label}」：{chinese or msg}")
    return "；".join(lines) or "输入有误，请检查后重试。"


def build_profile(fields: list[str], values: list[Any]) -> EnterpriseProfile:
    """Raises FormError with a Chinese message naming the field."""
    data = form_to_profile_data(fields, values)
    try:
        return EnterpriseProfile.model_validate(data)
    except ValidationError as exc:
        raise FormError(describe_validation_error(exc)) from None


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
    finder = getattr(assistant.corpus, "discrepancies_for", None)
    try:
        return list(finder(clause_id)) if finder else []
    except Exception:  # a display extra: never let it break the panel
        return []


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
    return FORM_FIELDS[field][0] if field in FORM_FIELDS else FACT_LABELS.get(field, field)


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


# --------------------------------------------------------------------------------------------------
# Page assets: CSS and the chip click handler
# --------------------------------------------------------------------------------------------------

FONT_STACK = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]
MONO_STACK = ["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"]

CSS = """
.gradio-container { max-width: 1440px !important; }
/* Gradio scopes @media rules to elements inside .contain; the page padding lives outside it, so it scales
   with the viewport here instead (8px on a 390px phone, 32px on desktop). */
.main.app { padding-left: clamp(6px, 4vw - 10px, 32px) !important; padding-right: clamp(6px, 4vw - 10px, 32px) !important; }
#pa-header h1 { font-size: 1.5rem; margin: 0 0 2px 0; }
#pa-header .pa-sub-title { color: var(--body-text-color-subdued); font-size: 0.9rem; margin: 0 0 6px 0; }
#pa-header .pa-mode { font-size: 0.8rem; color: var(--body-text-color-subdued); }
.pa-notice { background: #fffbeb; border: 1px solid #f59e0b; color: #78350f; font-size: 0.82rem;
  line-height: 1.5; padding: 6px 10px; border-radius: 8px; margin: 6px 0; }
a.pa-chip, a.pa-cite { display: inline-block; padding: 0 7px; margin: 1px 2px; border-radius: 999px;
  background: #eff6ff; border: 1px solid #93c5fd; color: #1d4ed8 !important; text-decoration: none !important;
  cursor: pointer; font-size: 0.9em; line-height: 1.65; white-space: nowrap; }
a.pa-chip:hover, a.pa-cite:hover { background: #dbeafe; }
a.pa-chip { white-space: normal; }
.pa-chip-row-empty { display: none !important; }
.pa-chip-row { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; min-height: 0; }
.pa-chip-label { font-size: 0.85rem; color: var(--body-text-color-subdued); }
.pa-status { padding: 6px 10px; border-radius: 8px; font-size: 0.9rem; margin: 4px 0; }
.pa-status-error { background: #fef2f2; border: 1px solid #fca5a5; color: #991b1b; }
.pa-status-ok { background: #f0fdf4; border: 1px solid #86efac; color: #166534; }
.pa-status-empty { display: none; }
.pa-status-info { background: #eff6ff; border: 1px solid #93c5fd; color: #1e3a8a; }
.pa-answer-notice { font-size: 0.85em; color: #6b7280; margin-top: 6px; }
#pa-examples { gap: 6px !important; flex-wrap: wrap !important; }
#pa-examples button { flex: 0 1 auto !important; min-width: 0 !important; white-space: normal; font-size: 0.85rem; }
#pa-chat-actions { flex-wrap: wrap; gap: 8px; }
#pa-clause-panel { position: sticky; top: 8px; max-height: calc(100vh - 24px); overflow-y: auto; }
.pa-clause h3 { font-size: 1.05rem; margin: 4px 0; }
.pa-clause h4.pa-sub { font-size: 0.95rem; margin: 14px 0 4px; color: #4b5563; }
.pa-panel-title { font-size: 1.05rem; margin: 4px 0; }
.pa-clause h5 { font-size: 0.95rem; margin: 4px 0; }
.pa-clause-text { line-height: 1.75; margin: 6px 0; }
.pa-clause mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.pa-badge { display: inline-block; font-size: 0.75rem; padding: 0 6px; border-radius: 4px; background: #e5e7eb;
  color: #374151; vertical-align: middle; }
.pa-badge-annex { background: #ede9fe; color: #5b21b6; }
.pa-badge-main { background: #dcfce7; color: #166534; }
.pa-units { font-size: 0.85rem; color: #374151; margin: 3px 0; }
.pa-diff { font-size: 0.88rem; }
.pa-back { display: none; margin-top: 10px; font-size: 0.85rem; padding: 2px 10px; border-radius: 6px;
  border: 1px solid #d1d5db; background: #f9fafb; cursor: pointer; }
.pa-placeholder { color: var(--body-text-color-subdued); font-size: 0.9rem; }
#pa-chatbot .placeholder { padding: 0 16px; color: var(--body-text-color-subdued); }
.pa-total { font-size: 1.05rem; margin: 6px 0 10px; }
.pa-muted { color: var(--body-text-color-subdued); font-size: 0.85rem; margin-left: 4px; }
table.pa-calc { width: 100%; border-collapse: collapse; font-size: 0.88rem; }
table.pa-calc th, table.pa-calc td { border: 1px solid #e5e7eb; padding: 6px; vertical-align: top; text-align: left; }
table.pa-calc th { background: #f9fafb; }
table.pa-calc ul, .pa-notes { margin: 0; padding-left: 1.1em; }
.pa-item-notes { font-size: 0.78rem; color: #6b7280; margin-top: 4px !important; }
.pa-basis-cell { min-width: 220px; }
.pa-units-cell { min-width: 120px; font-size: 0.8rem; }
td.pa-units-cell .pa-units { font-size: 0.8rem; }
table.pa-calc td:nth-child(2) { white-space: nowrap; }
table.pa-calc td:nth-child(5) { min-width: 110px; }
.pa-table-wrap { overflow-x: auto; }
.pa-notes { font-size: 0.82rem; color: #4b5563; margin: 8px 0; }
.pa-amount { font-weight: 600; white-space: nowrap; }
.pa-status-tag { display: inline-block; padding: 0 6px; border-radius: 4px; white-space: nowrap; }
.pa-tag-eligible { background: #dcfce7; color: #166534; }
.pa-tag-not_eligible { background: #fee2e2; color: #991b1b; }
.pa-tag-needs_info { background: #fef9c3; color: #854d0e; }
.pa-tag-non_monetary { background: #e0e7ff; color: #3730a3; }
.pa-unmet { color: #991b1b; font-size: 0.85rem; margin-top: 2px; }
.pa-missing { color: #854d0e; font-size: 0.85rem; }
.pa-basis { font-size: 0.88rem; margin: 2px 0; }
.pa-card { border: 1px solid #e5e7eb; border-left-width: 4px; border-radius: 8px; padding: 8px 10px; margin: 6px 0; }
.pa-card.pa-eligible { border-left-color: #16a34a; }
.pa-card.pa-needs_info { border-left-color: #eab308; }
.pa-card.pa-not_eligible { border-left-color: #dc2626; }
.pa-card.pa-non_monetary { border-left-color: #6366f1; }
.pa-card-head { display: flex; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
.pa-match-section h3 { font-size: 1rem; margin: 12px 0 4px; }
/* Gradio wraps consecutive form fields of a Row in one .form div: lay that out as a responsive grid */
.pa-form-grid > .form { display: grid !important; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
  width: 100% !important; flex: 1 1 100% !important; }
.pa-form-grid > .form > * { min-width: 0 !important; width: auto !important; margin: 0 !important; }
.pa-form-grid > .form { background: transparent !important; border: none !important; gap: 8px !important;
  box-shadow: none !important; overflow: visible !important; }
.pa-form-grid > .form > .block { border: 1px solid var(--block-border-color) !important;
  border-radius: var(--block-radius) !important; }
.pa-group-note { font-size: 0.8rem; color: var(--body-text-color-subdued); }
@media (max-width: 900px) {
  #pa-clause-panel { position: static; max-height: none; overflow: visible; }
  .pa-back { display: inline-block; }
}
@media (max-width: 640px) {
  .pa-notice { font-size: 0.72rem; line-height: 1.4; padding: 4px 8px; margin: 4px 0; }
  #pa-header h1 { font-size: 1.15rem; }
  #pa-header .pa-sub-title { font-size: 0.75rem; margin-bottom: 2px; }
  #pa-header .pa-mode { font-size: 0.7rem; }
  #pa-chatbot { height: 40vh !important; }
  table.pa-calc thead { display: none; }
  table.pa-calc, table.pa-calc tbody, table.pa-calc tr, table.pa-calc td { display: block; width: 100%; box-sizing: border-box; }
  table.pa-calc { border: none !important; }
  table.pa-calc td:nth-child(n) { min-width: 0; white-space: normal; }
  table.pa-calc tr { border: 1px solid #e5e7eb; border-radius: 8px; margin-bottom: 10px; padding: 4px 6px; }
  table.pa-calc td { border: none; padding: 3px 2px; }
  table.pa-calc td::before { content: attr(data-label) "："; font-weight: 600; color: #6b7280; }
  .pa-amount { white-space: normal; }
}
"""

# Runs once when the clause panel mounts. One capture-phase listener on the document serves every chip
# (chat messages, the citation row, calculator and matching results, the panel itself).
CLAUSE_PANEL_JS = r"""
window.__paOpenClause = (id) => { window.__paScrollPending = true; trigger('click', {clause: id}); };
if (!window.__paDelegate) {
  window.__paDelegate = true;
  document.addEventListener('click', (ev) => {
    const t = ev.target;
    if (!t || !t.closest) return;
    const back = t.closest('[data-pa-back]');
    if (back) {
      ev.preventDefault();
      const top = document.getElementById('pa-tabs') || document.body;
      top.scrollIntoView({behavior: 'auto', block: 'start'});
      return;
    }
    const el = t.closest('[data-clause], a[href^="#pa-clause="]');
    if (!el) return;
    let id = el.getAttribute('data-clause');
    if (!id) {
      try { id = decodeURIComponent((el.getAttribute('href') || '').slice('#pa-clause='.length)); }
      catch (e) { id = ''; }
    }
    if (!id) return;
    ev.preventDefault();
    ev.stopPropagation();
    window.__paOpenClause(id);
  }, true);
}
watch('value', () => {
  if (!window.__paScrollPending) return;
  window.__paScrollPending = false;
  const panel = document.getElementById('pa-clause-col') || document.getElementById('pa-clause-panel') || element;
  const r = panel.getBoundingClientRect();
  if (window.matchMedia('(max-width: 900px)').matches || r.top < 0 || r.top > window.innerHeight - 80) {
    panel.scrollIntoView({behavior: 'auto', block: 'start'});
  }
});
"""


def page_assets() -> dict[str, Any]:
    """theme/css for `launch()` and `gr.mount_gradio_app()` (Gradio 6 takes them there, not in Blocks)."""
    theme = gr.themes.Default(font=FONT_STACK, font_mono=MONO_STACK, primary_hue="red")
    return {"theme": theme, "css": CSS}


# --------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------


def _max_chars(assistant: PolicyAssistant) -> int:
    settings = getattr(assistant, "settings", None)
    return int(getattr(settings, "max_message_chars", DEFAULT_MAX_CHARS) or DEFAULT_MAX_CHARS)


def _known_ids(assistant: PolicyAssistant) -> set[str]:
    try:
        return {c.clause_id for c in assistant.corpus.clauses}
    except Exception:
        return set()


def _clause_choices(assistant: PolicyAssistant) -> list[tuple[str, str]]:
    try:
        return [(f"{c.clause_id} {c.title}", c.clause_id) for c in assistant.corpus.clauses if c.source != "meta"]
    except Exception:
        return []


def _turn_index(assistant: PolicyAssistant, session_id: str, message: str, response: ChatResponse) -> int | None:
    """The stored turn this answer belongs to, for feedback."""
    try:
        turns = assistant.history(session_id)
    except Exception:
        return None
    for t in reversed(turns):
        if t.response is not None and t.message == message and t.response.answer == response.answer:
            return t.index
    return turns[-1].index if turns else None


def _form_component(form: str, field: str):
    """One input; its DOM id is pa-<form>-<field> (e.g. pa-calc-registered_capital_yuan)."""
    label, kind = FORM_FIELDS[field]
    elem_id = f"pa-{form}-{field}"
    if kind == "bool":
        return gr.Radio(BOOL_CHOICES, value=UNKNOWN, label=label, elem_id=elem_id)
    if kind == "hq":
        return gr.Dropdown(HQ_TYPE_CHOICES, value=UNKNOWN, label=label, elem_id=elem_id)
    if kind == "level":
        return gr.Dropdown(LEVEL_CHOICES, value=UNKNOWN, label=label, elem_id=elem_id)
    return gr.Textbox(label=label, placeholder=PLACEHOLDERS.get(kind, ""), elem_id=elem_id, max_lines=1)


def _reset_value(field: str) -> Any:
    return UNKNOWN if FORM_FIELDS[field][1] in ("bool", "hq", "level") else ""


def build_app(assistant: PolicyAssistant) -> gr.Blocks:
    """The whole page around one `PolicyAssistant`. Launch it with `page_assets()` (see `launch`)."""
    max_chars = _max_chars(assistant)
    known = _known_ids(assistant)
    mode = getattr(assistant, "mode", "grounded")

    # ---- handlers (each catches everything: the page shows our words, never a traceback) ----------

    def respond(message: str, transcript: list, session_id: str | None, turns: dict, quotes: dict):
        """Yields (textbox, chatbot, status, citation row, session, turns, quotes, transcript state)."""
        message = message or ""
        transcript = list(transcript or [])
        skip = gr.skip()
        text = message.strip()
        if not text:
            yield skip, skip, status_html(EMPTY_MESSAGE), skip, session_id, turns, quotes, skip
            return
        if len(text) > max_chars:
            msg = TOO_LONG_MESSAGE.format(n=len(text), limit=max_chars)
            yield skip, skip, status_html(msg), skip, session_id, turns, quotes, skip
            return
        session_id = session_id or uuid.uuid4().hex
        before = list(transcript)
        transcript.append({"role": "user", "content": esc(text)})
        transcript.append({"role": "assistant", "content": f'<span class="pa-thinking">{THINKING_MESSAGE}</span>'})
        yield "", transcript, status_html(), citation_row_html([]), session_id, turns, quotes, transcript

        final: ChatResponse | None = None
        streamed = ""
        try:
            for piece in assistant.ask_stream(text, session_id):
                if isinstance(piece, ChatResponse):
                    final = piece
                    break
                streamed += str(piece)
                transcript = [*transcript[:-1], {"role": "assistant", "content": linkify_citations(streamed, known)}]
                yield skip, transcript, skip, skip, session_id, turns, quotes, transcript
        except ValueError as exc:  # the library's own input check (e.g. empty after normalisation)
            log.info("question rejected: %s", exc)
            yield message, before, status_html(str(exc) or EMPTY_MESSAGE), skip, session_id, turns, quotes, before
            return
        except Exception:
            log.exception("chat back end failed")
            transcript = [*transcript[:-1], {"role": "assistant", "content": UNAVAILABLE_MESSAGE}]
            yield skip, transcript, status_html(UNAVAILABLE_MESSAGE), skip, session_id, turns, quotes, transcript
            return
        if final is None:
            log.error("ask_stream ended without a ChatResponse")
            transcript = [*transcript[:-1], {"role": "assistant", "content": UNAVAILABLE_MESSAGE}]
            yield skip, transcript, status_html(UNAVAILABLE_MESSAGE), skip, session_id, turns, quotes, transcript
            return

        session_id = final.session_id or session_id
        transcript = [*transcript[:-1], {"role": "assistant", "content": render_answer(final, known)}]
        citations = [c.model_dump() for c in final.citations]
        quotes = {}
        for c in citations:
            quotes.setdefault(c["clause_id"], []).append(c.get("quote", ""))
        turns = dict(turns or {})
        turn = _turn_index(assistant, session_id, text, final)
        if turn is not None:
            turns[str(len(transcript) - 1)] = turn
        yield skip, transcript, status_html(), citation_row_html(citations), session_id, turns, quotes, transcript

    def on_like(session_id: str | None, turns: dict, data: gr.LikeData):
        try:
            index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            turn = (turns or {}).get(str(index))
            if not session_id or turn is None or not isinstance(data.liked, bool):
                return status_html("这条消息无法评价。", "info")
            rating = "up" if data.liked else "down"
            assistant.feedback(session_id, int(turn), rating, None)
            return status_html("已记录您的反馈（" + ("有帮助" if data.liked else "没帮助") + "），谢谢！", "ok")
        except Exception:
            log.exception("feedback failed")
            return status_html("反馈未能保存，请稍后再试。")

    def new_conversation():
        return (
            "",
            [],
            status_html("已开始新对话。", "info"),
            citation_row_html([]),
            None,
            {},
            {},
            [],
            f'<div class="pa-clause" data-shown=""><p class="pa-placeholder">{esc(CLAUSE_PLACEHOLDER)}</p></div>',
        )

    def show_clause(quotes: dict, evt: gr.EventData):
        clause_id = ""
        try:
            clause_id = str(getattr(evt, "_data", {}).get("clause", "") or "")
            if not clause_id:
                return gr.skip()
            return clause_panel_html(assistant, clause_id, quotes or {})
        except Exception:
            log.exception("clause panel failed for %r", clause_id)
            return status_html(UNAVAILABLE_MESSAGE)

    def pick_clause(clause_id: str | None, quotes: dict):
        if not clause_id:
            return gr.skip()
        try:
            return clause_panel_html(assistant, clause_id, quotes or {})
        except Exception:
            log.exception("clause panel failed for %r", clause_id)
            return status_html(UNAVAILABLE_MESSAGE)

    def calculated(fields, values, render):
        """Form -> profile -> calculator -> HTML; bad input and back-end failures become messages."""
        try:
            profile = build_profile(fields, list(values))
        except FormError as exc:
            return status_html(f"输入有误：{exc}")
        try:
            result = assistant.calculate(profile)
        except Exception:
            log.exception("calculator failed")
            return status_html(UNAVAILABLE_MESSAGE)
        return render(result)

    def run_calc(*values):
        return calculated(CALC_FIELDS, values, lambda r: calc_table_html(r, only_touched=True))

    def run_match(*values):
        return calculated(MATCH_FIELDS, values, match_html)

    # ---- layout ------------------------------------------------------------------------------------

    with gr.Blocks(title=APP_TITLE, analytics_enabled=False, fill_width=False) as demo:
        session_state = gr.State(None)
        transcript_state = gr.State([])
        turns_state = gr.State({})
        quotes_state = gr.State({})

        gr.HTML(
            f'<div id="pa-header"><h1>{APP_TITLE}</h1>'
            '<p class="pa-sub-title">解读《重庆市北碚区人民政府关于加快电子商务产业发展的实施意见》'
            "（北碚府发〔2019〕75号）：政策问答、补贴测算、政策匹配。</p>"
            f'<div class="pa-mode">回答方式：{esc(MODE_LABELS.get(mode, mode))}</div></div>' + notice_html(),
            js_on_load=None,
            elem_id="pa-top",
        )

        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=340):
                with gr.Tabs(elem_id="pa-tabs"):
                    with gr.Tab("政策问答", id="chat", elem_id="pa-tab-chat"):
                        chatbot = gr.Chatbot(
                            value=[],
                            label="政策问答",
                            show_label=False,
                            elem_id="pa-chatbot",
                            height="min(52vh, 540px)",
                            buttons=["copy"],
                            feedback_options=("Like", "Dislike"),
                            sanitize_html=True,
                            layout="bubble",
                            placeholder=(
                                "您好！我可以解答北碚区电商扶持政策（北碚府发〔2019〕75号）的问题，"
                                "回答中的【条款编号】可点击查看原文。"
                            ),
                        )
                        cite_row = gr.HTML(citation_row_html([]), js_on_load=None, elem_id="pa-cite-row")
                        with gr.Row(elem_id="pa-input-row", equal_height=True):
                            msg = gr.Textbox(
                                show_label=False,
                                placeholder="请输入您的问题，例如：自建电商平台首年交易额3亿元能拿多少？",
                                lines=1,  # Enter sends (Gradio: with lines>1 only Shift+Enter submits)
                                max_lines=6,
                                scale=5,
                                min_width=200,
                                elem_id="pa-input",
                            )
                        with gr.Row(elem_id="pa-chat-actions"):
                            send = gr.Button("发送", variant="primary", elem_id="pa-send", scale=2, min_width=80)
                            reset = gr.Button("新对话", variant="secondary", elem_id="pa-new", scale=1, min_width=80)
                        chat_status = gr.HTML(status_html(), js_on_load=None, elem_id="pa-chat-status")
                        gr.HTML('<div class="pa-group-note">试试这些问题：</div>', js_on_load=None)
                        with gr.Row(elem_id="pa-examples"):
                            example_buttons = [
                                gr.Button(q, size="sm", variant="secondary", elem_classes=["pa-example"])
                                for q in EXAMPLE_QUESTIONS
                            ]

                    with gr.Tab("补贴测算", id="calc", elem_id="pa-tab-calc"):
                        gr.HTML(
                            '<div class="pa-group-note">按实际情况填写，不知道的留空或选“不确定”。金额单位为'
                            "<b>万元</b>（也可直接写“1.2亿”“300万”“300000元”），跨境零售额单位为<b>万美元</b>。</div>",
                            js_on_load=None,
                        )
                        calc_inputs = []
                        for title, clauses, fields in CALC_GROUPS:
                            with gr.Accordion(f"{title}（{clauses}）", open=True):
                                with gr.Row(equal_height=False, elem_classes=["pa-form-grid"]):
                                    for field in fields:
                                        calc_inputs.append(_form_component("calc", field))
                        with gr.Row():
                            calc_btn = gr.Button("开始测算", variant="primary", elem_id="pa-calc-run")
                            calc_clear = gr.Button("清空", variant="secondary", elem_id="pa-calc-clear")
                        calc_out = gr.HTML(
                            '<div class="pa-placeholder">填写后点击“开始测算”，结果按政策逐项列出。</div>',
                            js_on_load=None,
                            elem_id="pa-calc-result",
                        )

                    with gr.Tab("政策匹配", id="match", elem_id="pa-tab-match"):
                        gr.HTML(
                            '<div class="pa-group-note">填一份简要的企业情况，查看可以申请、可能可以申请和暂不符合的全部政策。'
                            "金额单位：万元（跨境：万美元）。</div>",
                            js_on_load=None,
                        )
                        match_inputs = []
                        with gr.Row(equal_height=False, elem_classes=["pa-form-grid"]):
                            for field in MATCH_FIELDS:
                                match_inputs.append(_form_component("match", field))
                        match_btn = gr.Button("查看可申请的政策", variant="primary", elem_id="pa-match-run")
                        match_out = gr.HTML(
                            '<div class="pa-placeholder">填写后点击“查看可申请的政策”。</div>',
                            js_on_load=None,
                            elem_id="pa-match-result",
                        )

            with gr.Column(scale=2, min_width=300, elem_id="pa-clause-col"):
                gr.HTML('<h3 class="pa-panel-title">条款原文</h3>', js_on_load=None)
                clause_pick = gr.Dropdown(
                    _clause_choices(assistant),
                    value=None,
                    label="选择条款查看原文",
                    show_label=True,
                    elem_id="pa-clause-pick",
                    filterable=True,
                )
                clause_panel = gr.HTML(
                    f'<div class="pa-clause" data-shown=""><p class="pa-placeholder">{esc(CLAUSE_PLACEHOLDER)}</p></div>',
                    js_on_load=CLAUSE_PANEL_JS,
                    elem_id="pa-clause-panel",
                    container=True,
                    padding=True,
                )

        # ---- events --------------------------------------------------------------------------------
        chat_inputs = [msg, transcript_state, session_state, turns_state, quotes_state]
        chat_outputs = [msg, chatbot, chat_status, cite_row, session_state, turns_state, quotes_state, transcript_state]
        msg.submit(respond, chat_inputs, chat_outputs, show_progress="hidden")
        send.click(respond, chat_inputs, chat_outputs, show_progress="hidden")

        for button, question in zip(example_buttons, EXAMPLE_QUESTIONS):

            def _example(transcript, session_id, turns, quotes, _q=question):
                yield from respond(_q, transcript, session_id, turns, quotes)

            button.click(
                _example,
                [transcript_state, session_state, turns_state, quotes_state],
                chat_outputs,
                show_progress="hidden",
            )

        reset.click(
            new_conversation,
            None,
            [*chat_outputs, clause_panel],
        )
        chatbot.clear(new_conversation, None, [*chat_outputs, clause_panel])
        chatbot.like(on_like, [session_state, turns_state], chat_status)

        clause_panel.click(show_clause, [quotes_state], clause_panel, show_progress="hidden")
        clause_pick.change(pick_clause, [clause_pick, quotes_state], clause_panel, show_progress="hidden")

        calc_btn.click(run_calc, calc_inputs, calc_out)
        calc_clear.click(
            lambda: (
                [_reset_value(f) for f in CALC_FIELDS]
                + ['<div class="pa-placeholder">填写后点击“开始测算”，结果按政策逐项列出。</div>']
            ),
            None,
            [*calc_inputs, calc_out],
        )
        match_btn.click(run_match, match_inputs, match_out)

    demo.queue(default_concurrency_limit=8)
    return demo


# --------------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------------


def create_assistant(settings: Settings | None = None) -> PolicyAssistant:
    """The assistant the page serves, on the same store as the API (`create_store(settings)`)."""
    from assistant.assistant import PolicyAssistant
    from assistant.settings import get_settings

    settings = settings or get_settings()
    store = None
    try:
        from assistant.store import create_store
    except ImportError:  # older tree: the assistant falls back to its in-memory store
        create_store = None
    if create_store is not None:
        store = create_store(settings)
    return PolicyAssistant(settings=settings, store=store)


def launch(
    host: str = "127.0.0.1", port: int = 7860, *, assistant: PolicyAssistant | None = None, block: bool = True
) -> gr.Blocks:
    """Serve the page at http://host:port (blocking unless block=False). Nothing is fetched from the internet."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    demo = build_app(assistant or create_assistant())
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        show_error=False,
        inbrowser=False,
        footer_links=[],
        prevent_thread_lock=not block,
        quiet=not block,
        ssr_mode=False,
        **page_assets(),
    )
    return demo


def mount(app, assistant: PolicyAssistant, path: str = "/ui"):
    """Alternative to `launch`: serve the page under `path` of an existing FastAPI app (one process)."""
    return gr.mount_gradio_app(
        app, build_app(assistant), path=path, show_error=False, footer_links=[], ssr_mode=False, **page_assets()
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    from assistant.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=APP_TITLE)
    parser.add_argument("--host", default=settings.ui_host)
    parser.add_argument("--port", type=int, default=settings.ui_port)
    args = parser.parse_args(argv)
    launch(args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
