"""What to ask instead of computing: a figure whose period, year, measure or scope is unclear, two figures that
conflict, a range across a threshold, a missing fact that decides the amount. One short question, never a
guessed number: a wrong amount costs an owner real money, an extra question costs a reply.

A link in the planner chain (``FramedAnswers`` → ``ClarifyingAnswers`` → ``MoneyAnswers``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from assistant.answers import FramedAnswers
from assistant.calculator import (
    POLICY_CLAUSES,
    POLICY_TITLES,
    CalculationResult,
    EnterpriseProfile,
    calculate,
)
from assistant.compose_draft import (
    ASK,
    POLICY_TITLES_EN,
    RATE_ASK,
    RULE_SENTENCE,
    Draft,
    TurnContext,
    _label,
    _t,
)
from assistant.intent import (
    DRIVING_FACTS,
    MONETARY_POLICIES,
)
from assistant.knowledge import load_policies
from assistant.money import Currency
from assistant.numbers import format_cn_amount
from assistant.phrasing import default_phrasing


class ClarifyingAnswers(FramedAnswers):
    """The questions the money planners ask when a figure cannot be bound with confidence."""

    def _verdict_without_amount(
        self, turn: TurnContext, draft: Draft, topics: list[str], facts: dict[str, Any]
    ) -> None:
        """ "新设营销中心租了办公室，租房补贴能拿不": 能 when every condition but the amount's figure is met,
        可能 when conditions are still open; the amount waits for the figure."""
        lang = turn.lang
        known = calculate(self._profile(facts)[0], lang=lang)
        book = load_policies()
        for t in topics:
            item = known.item(t)
            # a missing figure leaves the verdict open unless any stated value would pay (rent, price):
            # "线上一年卖1.3亿" without the registered capital is 可能, not 能
            gating = {c.fact for c in book.policy(t).conditions if c.test != "positive"}
            drivers = set(DRIVING_FACTS.get(t, ())) - gating
            open_conditions = [f for f in item.missing_facts if f not in drivers]
            rule = book.text(t, "rule", lang) if "rule" in book.policy(t).texts else ""
            title = POLICY_TITLES_EN[t] if lang == "en" else POLICY_TITLES[t]
            if open_conditions:
                asks = ("、" if lang != "en" else ", ").join(_label(f, lang) for f in open_conditions)
                draft.add(
                    _t(
                        lang,
                        f"可能：{title}还取决于{asks}；{rule}。",
                        f"Possibly: {title} also depends on {asks}; {rule}.",
                    )
                )
            else:
                draft.add(
                    _t(
                        lang,
                        f"能：按您说的情况可以享受{title}（{rule}），金额取决于下面的数字。",
                        f"Yes: from what you say, {title} applies ({rule}); the amount depends on the figure below.",
                    )
                )
        draft.add("")

    def _profile(self, facts: dict[str, Any]) -> tuple[EnterpriseProfile, list[str]]:
        """A valid profile from the facts; a fact the calculator rejects is dropped with a note."""
        data = dict(facts)
        notes: list[str] = []
        for _ in range(len(data) + 1):
            try:
                return EnterpriseProfile(**data), notes
            except ValidationError as exc:
                for err in exc.errors():
                    name = str(err["loc"][0]) if err.get("loc") else None
                    if name in data:
                        notes.append(f"“{_label(name)}”的数值无法用于测算，已忽略。")
                        data.pop(name)
        return EnterpriseProfile(), notes

    def _rule_quotes(self, turn: TurnContext, draft: Draft, topics: list[str]) -> None:
        seen: set[tuple[str, str]] = set()
        for t in topics:
            for cid in POLICY_CLAUSES.get(t, []):
                quote = self._quote(cid, turn.tokens, RULE_SENTENCE.get(t))
                if (cid, quote) in seen:
                    continue
                seen.add((cid, quote))
                title = POLICY_TITLES_EN[t] if turn.lang == "en" else POLICY_TITLES[t]
                draft.quoted(title, cid, quote)

    def _ask_loose(self, turn: TurnContext, draft: Draft, topics: list[str], loose: list[Any]) -> tuple[str, None]:
        lang = turn.lang
        raw = "、".join(a.raw for a in loose[:3])
        draft.add(
            _t(
                lang,
                f"您提到的“{raw}”是指哪一项数字（例如线上年销售收入、首年网上交易额、年租金）？是全年的还是每月的？请说明后我再测算。",
                f"What does “{raw}” measure (annual online sales, first-year platform volume, annual rent "
                "…), and is it per year or per month? Please tell me and I will estimate.",
            )
        )
        draft.add("", _t(lang, "政策原文：", "What the policy says:"))
        self._rule_quotes(turn, draft, topics)
        return "clarification", None

    def _range_matters(self, low: CalculationResult, data: dict[str, Any], spans: dict, topics: list[str]) -> bool:
        """Does the top of a stated range ("1-3亿美元") change any outcome? Then the range cannot be answered."""
        high = calculate(self._profile({**data, **{k: v[1] for k, v in spans.items()}})[0])
        return any(
            (low.item(t).status, low.item(t).amount_yuan) != (high.item(t).status, high.item(t).amount_yuan)
            for t in topics
        )

    def _range_clarification(self, turn: TurnContext, draft: Draft, topics: list[str], spans: dict) -> tuple[str, None]:
        lang = turn.lang
        for name, (low, high) in spans.items():
            currency: Currency = "USD" if name.endswith("_usd") else "CNY"
            draft.add(
                _t(
                    lang,
                    f"您给出的{_label(name)}是一个区间（{format_cn_amount(low, currency)}至"
                    f"{format_cn_amount(high, currency)}），"
                    f"跨越了政策的门槛或档位，是否符合、能拿多少取决于确切数额。请提供确切的{_label(name)}。",
                    f"You gave a range ({format_cn_amount(low, currency)} to {format_cn_amount(high, currency)}) "
                    "that spans a "
                    "threshold or tier of the policy; the outcome depends on the exact figure. Please give "
                    "the exact figure.",
                )
            )
        draft.add("", _t(lang, "政策原文：", "What the policy says:"))
        self._rule_quotes(turn, draft, topics)
        return "clarification", None

    @staticmethod
    def _fact_text(name: str, value: Any) -> str:
        if isinstance(value, str):  # an HQ type or a level id: its name as policies.yaml gives it
            book = load_policies()
            for name_of in (book.hq_type_name, book.level_name):
                try:
                    return name_of(value)
                except StopIteration:
                    continue
            return "无" if value == "none" else value
        if isinstance(value, list):
            return "、".join(format_cn_amount(v) for v in value)
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, Decimal) and name.endswith(("_yuan", "_cny")):
            return format_cn_amount(value)
        if isinstance(value, Decimal) and name.endswith("_usd"):
            return format_cn_amount(value, "USD")
        return str(value)

    def _ask_unclear(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """A figure whose period, year or meaning is unclear: ask one short question, compute nothing."""
        lang = turn.lang
        for name, reason, raw, _value in turn.reading.extraction.unclear[:2]:
            label = _label(name)
            if reason == "period":
                draft.add(
                    _t(
                        lang,
                        f"您说的“{raw}”是月租金还是年租金？租房补贴按年租金计算，请说明后我再测算。",
                        f"Is “{raw}” the monthly or the yearly rent? The subsidy is based on the annual rent;"
                        " please tell me which.",
                    )
                )
            elif reason == "monthly":
                draft.add(
                    _t(
                        lang,
                        f"“{raw}”是按月的数字，而政策看的是{label}（全年或首年合计）。月度数字乘以12只是估计，请提供全年的实际数额。",
                        f"“{raw}” is a monthly figure, but the policy looks at {label} for the whole (first) "
                        "year. Please give the yearly figure; 12 × a month would be a guess.",
                    )
                )
            elif reason == "two_values":
                draft.add(
                    _t(
                        lang,
                        f"您给出了两个不同的{label}（{raw}），本助手按单一数额测算，不猜哪个算数。请确认用哪一个；"
                        f"如果是逐年不同的数额，请向区商务委按年核算。",
                        f"You gave two different figures for {label} ({raw}); I compute on one figure and "
                        "do not guess which. "
                        "Please say which one applies (for a rent that changes each year the subsidy is "
                        "worked out year by year; "
                        f"ask the District Commerce Commission).",
                    )
                )
            elif reason == "unit_price":
                draft.add(
                    _t(
                        lang,
                        f"“{raw}”是单价，不是{label}本身。请直接告诉我{label}的总额，并说明是每月还是每年。",
                        f"“{raw}” is a unit price, not the {label} itself. Please give the total {label},"
                        " and say whether it is per month or per year.",
                    )
                )
            elif reason == "not_retail":
                draft.add(
                    _t(
                        lang,
                        f"不能按“{raw}”计算：跨境电商扶持只看跨境电子商务**零售**交易额，B2B、批发等不是零售，不计入。如有零售部分，请提供零售额。",
                        f"No, not on “{raw}”: the cross-border support counts only cross-border e-commerce "
                        "**retail** (零售) volume; B2B or wholesale trade does not count. If part of it "
                        "is retail, give that figure.",
                    )
                )
            elif reason == "which_year":
                draft.add(
                    _t(
                        lang,
                        f"您给的{label}（{raw}）是哪一年的？奖励比例按年度不同，请说明是自产生贡献起的第几年，或按年度依次提供每年的数额（每年相同可说“每年…”）。",
                        f"Which year is your {label} ({raw}) for? The reward rate depends on the year; say "
                        "which year it is counted from the first, or give each year's figure (or “every "
                        "year …”).",
                    )
                )
            else:
                draft.add(
                    _t(
                        lang,
                        f"您给出的{label}（{raw}）不是从第1年起逐年连续的，请按第1年到第5年依次提供每年的数额。",
                        f"Your {label} figures ({raw}) are not year 1, 2, 3… in order; please give each year "
                        "from year 1 to year 5.",
                    )
                )
        topics = [t for t in turn.reading.topics or turn.state.topics if t in MONETARY_POLICIES]
        if topics:
            draft.add("", _t(lang, "政策原文：", "What the policy says:"))
            self._rule_quotes(turn, draft, topics)
        return "clarification", None

    def _clarification(
        self, turn: TurnContext, draft: Draft, topics: list[str], need_rate: list[str]
    ) -> tuple[str, None]:
        lang = turn.lang
        draft.add(_t(lang, "要测算补贴金额，还需要您提供：", "To estimate the amount, please tell me:"))
        for t in topics:
            if t not in ASK:
                continue
            ask = RATE_ASK if t in need_rate else ASK[t]
            title = POLICY_TITLES_EN[t] if lang == "en" else POLICY_TITLES[t]
            draft.add(f"- {title}：{ask[0] if lang != 'en' else ask[1]}")
        draft.add("", _t(lang, "政策原文：", "What the policy says:"))
        self._rule_quotes(turn, draft, topics)
        return "clarification", None

    def _clarify_which(self, turn: TurnContext, draft: Draft, overview: bool = False) -> tuple[str, None]:
        """No policy named: list the funding policies with their rule sentences (and ask, unless this is
        a general "有什么补贴" question)."""
        lang = turn.lang
        if overview:
            draft.add(
                _t(
                    lang,
                    "本文件（北碚府发〔2019〕75号）的资金类支持政策有：",
                    "The funding policies of this document (北碚府发〔2019〕75号) are:",
                )
            )
        else:
            draft.add(
                _t(
                    lang,
                    "请问您想了解哪一项补贴？本文件的资金类支持政策有：",
                    "Which support are you asking about? The document's funding policies are:",
                )
            )
        for t in ("hq_establishment", "demo_base", "demo_enterprise", "self_built_platform", "cross_border"):
            cid = POLICY_CLAUSES[t][-1]
            quote = self._quote(cid, set(), RULE_SENTENCE[t])
            title = POLICY_TITLES_EN[t] if lang == "en" else POLICY_TITLES[t]
            draft.quoted(title, cid, quote)
        talent = POLICY_CLAUSES["talent"][0]
        quote = self._quote(talent, set(), RULE_SENTENCE["talent"])
        draft.quoted(POLICY_TITLES_EN["talent"] if lang == "en" else POLICY_TITLES["talent"], talent, quote)
        zh, en = default_phrasing().situation_example
        draft.add(
            "",
            _t(lang, f"请说明企业情况（{zh}），我来测算。", f"Tell me your situation ({en}) and I will estimate it."),
        )
        return ("policy_answer" if overview else "clarification"), None
