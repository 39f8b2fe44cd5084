"""Answers about money: the calculation with its verdict first, what to ask when a figure is missing or
unclear, the rule of a subsidy, matching, and the policies a stated fact rules out.

A mixin of ``assistant.compose.Composer`` (split out to keep each module about one idea). Nothing here does
arithmetic on money: every amount is ``assistant.calculator.calculate``'s, formatted by ``assistant.money``.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from assistant.calculator import (
    PLATFORM_MIN_INVESTMENT,
    POLICY_CLAUSES,
    POLICY_FACTS,
    POLICY_TITLES,
    POLICY_UNITS,
    VALIDITY_NOTICE,
    VALIDITY_NOTICE_EN,
    CalculationItem,
    CalculationResult,
    calculate,
)
from assistant.compose_clarify import ClarifyingAnswers
from assistant.compose_draft import (
    ASK,
    AWARD_NOUN,
    CONDITION_TEXT,
    CONTACT,
    POLICY_TITLES_EN,
    RATE_ASK,
    RULE_SENTENCE,
    Draft,
    TurnContext,
    _label,
    _money,
    _t,
    _units,
)
from assistant.conversation import merge_facts
from assistant.intent import (
    DRIVING_FACTS,
    HQ_FAMILY,
    MONETARY_POLICIES,
    PERSONAL_CUE,
)
from assistant.knowledge import load_policies
from assistant.matching import match, max_award
from assistant.money import format_money_en
from assistant.numbers import format_cn_amount

__all__ = ["MoneyAnswers"]
log = logging.getLogger(__name__)


# Side conditions assumed (only to show a tier amount) when the owner did not state them.
ASSUMABLE: dict[str, dict[str, Any]] = {
    "self_built_platform": {
        "registered_in_beibei": True,
        "local_legal_entity": True,
        "platform_project_investment_yuan": PLATFORM_MIN_INVESTMENT,
    },
    # The one-time HQ support is decided by its four thresholds themselves: none is assumed (a missing one
    # leaves the item 需补充信息 and the answer says 可能, naming it), only the kind of HQ.
    "hq_establishment": {"new_hq_type": "regional_hq"},
    "hq_office_purchase": {"new_hq_type": "regional_hq"},
    "hq_office_rent": {"new_hq_type": "regional_hq"},
    "hq_contribution_reward": {"new_hq_type": "regional_hq"},
}


class MoneyAnswers(ClarifyingAnswers):
    """Calculation, clarification, rule and matching answers; each writes into a Draft."""

    def _money(self, turn: TurnContext, draft: Draft, topics: list[str], facts: dict[str, Any]) -> tuple[str, Any]:
        """Compute the policies whose driving figure is known; ask for what is missing; explain the rule
        when the question is general (no figure, nobody's own case)."""
        vetoes = [v for v in self.lexicon.vetoes_in(turn.text) if set(v.policies) & set(topics)]
        if vetoes:
            ruled_out = {p for v in vetoes for p in v.policies}
            self._ruled_out(turn, draft, vetoes, topics)
            topics = [t for t in topics if t not in ruled_out]
            if not topics:
                return "policy_answer", None
        ready, missing, need_rate = [], [], []
        for t in topics:
            if t == "cross_border":
                if "cross_border_retail_usd" in facts or (
                    "cross_border_retail_cny" in facts and "usd_cny_rate" in facts
                ):
                    ready.append(t)
                elif "cross_border_retail_cny" in facts:
                    need_rate.append(t)
                else:
                    missing.append(t)
            elif any(f in facts for f in DRIVING_FACTS[t]):
                ready.append(t)
            else:
                missing.append(t)
        if missing:  # a stated fact may already rule a policy out ("不是总部" for the contribution reward)
            known = calculate(self._profile(facts)[0])
            ruled = [t for t in missing if t in MONETARY_POLICIES and known.item(t).status == "not_eligible"]
            ready += ruled
            missing = [t for t in missing if t not in ruled]
        if ready:
            asked = [t for t in missing if (t in turn.reading.topics and t not in HQ_FAMILY) or t in need_rate]
            return self._calculation(turn, draft, ready, facts, asked)
        if (
            need_rate
            or PERSONAL_CUE.search(turn.text)
            or turn.state.last_type == "clarification"
            or turn.reading.extraction.unassigned
        ):
            if turn.frame is not None and turn.frame.ask == "eligibility" and not need_rate:
                self._verdict_without_amount(turn, draft, missing, facts)
            return self._clarification(turn, draft, need_rate + missing, need_rate)
        return self._rule(turn, draft, topics)

    def _calculation(
        self, turn: TurnContext, draft: Draft, topics: list[str], facts: dict[str, Any], asked: list[str]
    ) -> tuple[str, CalculationResult | None]:
        lang = turn.lang
        fields = {"new_hq_type"} if set(topics) & set(HQ_FAMILY) else set()
        for t in topics:
            fields.update(POLICY_FACTS[t])
        stated = {k: v for k, v in facts.items() if k in fields}
        assumed: dict[str, dict[str, Any]] = {}
        profile_data = dict(stated)
        for t in topics:
            for name, value in ASSUMABLE.get(t, {}).items():
                if name not in stated:
                    assumed.setdefault(t, {})[name] = value
                    profile_data[name] = value
        profile, dropped = self._profile(profile_data)
        result = calculate(profile, lang=lang)
        items = [result.item(t) for t in topics]
        spans = {k: v for k, v in turn.reading.extraction.ranges.items() if k in stated}
        if spans and self._range_matters(result, profile_data, spans, topics):
            return self._range_clarification(turn, draft, topics, spans)
        if assumed:  # a boundary note caused by an assumed threshold value (e.g. 100万 investment) is noise
            bare = calculate(self._profile(stated)[0], lang=lang)
            boundary = load_policies().notice("inclusive_boundary", lang)
            items = [
                it
                if boundary in bare.item(it.policy_id).notes
                else it.model_copy(update={"notes": [n for n in it.notes if n != boundary]})
                for it in items
            ]

        used = {v for v in facts.values() if isinstance(v, Decimal)}
        used |= {
            x for v in facts.values() if isinstance(v, list) for x in v if isinstance(x, Decimal)
        }  # a yearly series
        figures = turn.reading.extraction.figures
        later = [a for a in turn.reading.extraction.unassigned if (figures.get(a.start, (None, None))[1] or 1) > 1]
        loose = [
            a
            for a in turn.reading.extraction.unassigned
            if a.value not in used and a.value * 12 not in used and a not in later
        ]
        later_notes = [
            _t(
                lang,
                f"“{a.raw}”是后来年份的数字，首年网上交易额等按首年计的条件不看它，未用于测算。",
                f"“{a.raw}” is a later year's figure; first-year conditions do not use it.",
            )
            for a in later
        ]
        if assumed and loose:
            # a figure we could not bind while a side condition would be assumed: it may be that very
            # condition ("线上月销800万"), so ask instead of assuming
            return self._ask_loose(turn, draft, topics, loose)
        draft.add(self._verdict(lang, items, assumed), "")
        draft.add(_t(lang, "**测算结果**", "**Estimate**"), "")
        for item in items:
            self._item_lines(turn, draft, item, assumed.get(item.policy_id, {}), stated)
        eligible = [it for it in items if it.status == "eligible"]
        if len(eligible) > 1:
            total = _money(result.total_yuan, lang)
            draft.add(
                _t(
                    lang,
                    f"**合计：最高{total}**。条文未规定多项政策能否同时享受，合计为上限，请向{CONTACT}确认。",
                    f"**Total: at most {total}.** The policy does not say whether these items can be combined;"
                    " treat the "
                    f"total as an upper bound and confirm with the District Commerce Commission (区商务委).",
                ),
                "",
            )
        other = [t for t in turn.reading.topics if t in MONETARY_POLICIES and t not in topics]
        if other and (extra := self._parameter_lines(turn, draft, other)):
            draft.add("", _t(lang, "另外您问到的：", "You also asked:"), *extra)  # "…顺便问下买房最高补多少"
            asked = [t for t in asked if t not in other]
        for t in asked:
            if t in ASK:
                ask = RATE_ASK if t == "cross_border" and "cross_border_retail_cny" in facts else ASK[t]
                draft.add(
                    _t(
                        lang,
                        f"另：如需测算“{POLICY_TITLES[t]}”，请提供{ask[0]}。",
                        f"To also estimate “{POLICY_TITLES_EN[t]}”, please provide {ask[1]}.",
                    )
                )
        notes = list(
            dict.fromkeys(later_notes + turn.reading.extraction.notes + dropped + [n for it in items for n in it.notes])
        )
        validity = VALIDITY_NOTICE_EN if lang == "en" else VALIDITY_NOTICE
        notes += [n for n in result.notes if n != validity and n not in notes and len(eligible) > 1]
        if notes:
            draft.add("", _t(lang, "说明：", "Notes:"))
            draft.add(*[f"- {n}" for n in notes])
        lead_units = list(dict.fromkeys(POLICY_UNITS[it.policy_id][0] for it in items))
        draft.add(
            "",
            _t(
                lang,
                f"办理和确认请联系牵头单位：{_units(lead_units, lang)}。",
                f"To apply or confirm, contact the lead unit: {_units(lead_units, lang)}.",
            ),
        )
        return "calculation", result

    @staticmethod
    def _verdict(lang: str, items: list[CalculationItem], assumed: dict[str, dict[str, Any]]) -> str:
        """The first sentence: 能 / 不能 / 可能 (naming what is missing), with the amount."""
        parts = []
        for it in items:
            title = POLICY_TITLES_EN[it.policy_id] if lang == "en" else it.title
            if it.status == "eligible":
                amount = _money(it.amount_yuan or "0", lang)
                most = _t(lang, "最高", "at most ") if it.is_upper_bound else ""
                if assumed.get(it.policy_id) and set(assumed[it.policy_id]) - {"new_hq_type"}:
                    conds = "、".join(CONDITION_TEXT[n][0] for n in assumed[it.policy_id] if n in CONDITION_TEXT)
                    conds_en = "; ".join(CONDITION_TEXT[n][1] for n in assumed[it.policy_id] if n in CONDITION_TEXT)
                    parts.append(
                        _t(
                            lang,
                            f"可能：{title}{most}{amount}，前提是还满足{conds}",
                            f"Possibly: {title}, {most}{amount}, if you also meet: {conds_en}",
                        )
                    )
                elif assumed.get(it.policy_id):
                    parts.append(
                        _t(
                            lang,
                            f"可能：{title}{most}{amount}，前提是属于新设立的电商区域总部等",
                            f"Possibly: {title}, {most}{amount}, if you are a newly established e-commerce HQ",
                        )
                    )
                else:
                    parts.append(_t(lang, f"能：{title}{most}{amount}", f"Yes: {title}, {most}{amount}"))
            elif it.status == "not_eligible":
                reason = ("；" if lang != "en" else "; ").join(it.conditions_unmet)
                parts.append(_t(lang, f"不能：{title}（{reason}）", f"No: {title} ({reason})"))
            else:  # name each open condition with its threshold where the policy sets one
                sep = "、" if lang != "en" else "; "
                asks = sep.join(
                    CONDITION_TEXT[f][lang == "en"] if f in CONDITION_TEXT else _label(f, lang)
                    for f in it.missing_facts
                )
                parts.append(
                    _t(
                        lang,
                        f"可能：{title}，还取决于是否满足{asks}",
                        f"Possibly: {title}, depending on whether you meet: {asks}",
                    )
                )
        return ("；" if lang != "en" else "; ").join(parts) + _t(lang, "。", ".")

    def _match(self, turn: TurnContext, draft: Draft) -> tuple[str, Any]:
        """ "我们这种情况能享受哪些政策": every policy the stated facts make possible, ranked, with what is
        missing, and the ones the facts rule out (assistant.matching, the same as the page and /v1/match)."""
        lang = turn.lang
        facts = merge_facts(turn.state.facts, turn.reading.facts)
        profile, dropped = self._profile(facts)
        found = match(profile, lang=lang)
        vetoed = {p for v in self.lexicon.vetoes_in(turn.text) for p in v.policies}
        possible = [it for it in found.possible if it.policy_id not in vetoed]
        ruled_out = found.ruled_out + [it for it in found.possible if it.policy_id in vetoed]
        name = (lambda it: POLICY_TITLES_EN[it.policy_id]) if lang == "en" else (lambda it: it.title)
        short = (
            (lambda v: format_money_en(Decimal(v), "CNY")) if lang == "en" else (lambda v: format_cn_amount(Decimal(v)))
        )
        summary = [f"{name(it)}（{short(it.amount_yuan or '0')}）" for it in found.eligible]
        summary += [
            f"{name(it)}（{_t(lang, '最高', 'up to ')}{short(cap)}）" if (cap := max_award(it.policy_id)) else name(it)
            for it in possible
        ]
        draft.add(
            _t(
                lang,
                f"按您提供的信息，可能适用{len(summary)}项资金政策：{'、'.join(summary)}。"
                if summary
                else "按您提供的信息，暂无可适用的资金政策。",
                f"From what you told us, {len(summary)} funding policies may apply: {'; '.join(summary)}."
                if summary
                else "From what you told us, no funding policy applies yet.",
            )
        )
        if ruled_out:
            draft.add(
                _t(
                    lang,
                    f"不适用：{'、'.join(name(it) for it in ruled_out)}。",
                    f"Ruled out: {'; '.join(name(it) for it in ruled_out)}.",
                )
            )
        draft.add("")
        for it in found.eligible + possible + ruled_out:
            cid = it.clause_ids[-1]
            mark = draft.cite(cid, self._quote(cid, turn.tokens, RULE_SENTENCE.get(it.policy_id)))
            if it.status == "eligible":
                detail = _t(
                    lang,
                    f"符合，{_money(it.amount_yuan or '0', lang)}",
                    f"eligible, {_money(it.amount_yuan or '0', lang)}",
                )
            elif it.policy_id in vetoed:
                detail = next(
                    v.zh if lang != "en" else v.en
                    for v in self.lexicon.vetoes_in(turn.text)
                    if it.policy_id in v.policies
                )
            elif it.status == "not_eligible":
                detail = _t(lang, "不符合：", "not eligible: ") + "；".join(it.conditions_unmet)
            else:
                detail = _t(lang, "还需提供：", "still needed: ") + ("、" if lang != "en" else ", ").join(
                    _label(f, lang) for f in it.missing_facts
                )
            draft.add(f"- **{name(it)}**{mark}：{detail}")
        if found.non_monetary:
            it = found.non_monetary[0]
            cid = it.clause_ids[0]
            mark = draft.cite(cid, self._quote(cid, turn.tokens, RULE_SENTENCE.get(it.policy_id)))
            draft.add(
                _t(
                    lang,
                    f"- 另有非资金类：{it.title}{mark}",
                    f"- Also non-monetary: {POLICY_TITLES_EN[it.policy_id]} {mark}",
                )
            )
        draft.add(
            "",
            _t(
                lang,
                f"多项能否同时享受文件没有规定；办理和确认请联系{CONTACT}。",
                "The document does not say whether several can be combined (文件没有规定); confirm with the "
                "District Commerce Commission (区商务委).",
            ),
        )
        stated = bool({k for k in facts if k != "usd_cny_rate"})
        return ("calculation", found.calculation) if stated else ("policy_answer", None)

    def _ruled_out(self, turn: TurnContext, draft: Draft, vetoes: list[Any], topics: list[str]) -> None:
        """ "不能" first, with the clause phrase that decides it; nothing is computed for these policies."""
        lang = turn.lang
        for v in vetoes:
            titles = "、".join(
                POLICY_TITLES_EN[p] if lang == "en" else POLICY_TITLES[p] for p in v.policies if p in topics
            )
            quote = self._quote(v.clause, turn.tokens, re.escape(v.phrase))
            draft.add(
                _t(
                    lang,
                    f"不能：{v.zh}，不能享受{titles}{draft.cite(v.clause, quote)}。",
                    f"No: {v.en}, so {titles} does not apply {draft.cite(v.clause, quote)}.",
                )
            )
            draft.add(_t(lang, f"条文原文：“{quote}”", f"The clause reads: “{quote}”"), "")

    def _item_lines(
        self, turn: TurnContext, draft: Draft, item: CalculationItem, assumed: dict[str, Any], stated: dict[str, Any]
    ) -> None:
        lang, pid = turn.lang, item.policy_id
        title = POLICY_TITLES_EN[pid] if lang == "en" else item.title
        marks = "".join(
            draft.cite(
                cid, self._quote(cid, turn.tokens, RULE_SENTENCE.get(pid), avoid_amounts=item.status != "eligible")
            )
            for cid in item.clause_ids
        )
        noun_zh, noun_en = AWARD_NOUN.get(pid, ("", ""))
        if item.status == "eligible":
            amount = _money(item.amount_yuan or "0", lang)
            most = _t(lang, "最高", "at most ") if item.is_upper_bound else ""
            if assumed:
                conds_zh = "、".join(CONDITION_TEXT[n][0] for n in assumed)
                conds_en = "; ".join(CONDITION_TEXT[n][1] for n in assumed)
                draft.add(
                    _t(
                        lang,
                        f"- **{title}**：若同时满足{conds_zh}，可获{most}{amount}{noun_zh}{marks}。"
                        f"这些条件您尚未说明，本测算仅为显示档位金额而暂按满足计算，须向{CONTACT}确认；不满足任一条件则不能享受。",
                        f"- **{title}**: if you also meet these conditions — {conds_en} — you could receive "
                        f"{most}**{amount}** "
                        f"as {noun_en} {marks}. You did not state these conditions; they are assumed here "
                        "only to show the "
                        f"tier amount and must be confirmed with the District Commerce Commission (区商务委).",
                    )
                )
            else:
                draft.add(
                    _t(
                        lang,
                        f"- **{title}**：可获{most}{amount}{noun_zh}{marks}。",
                        f"- **{title}**: you could receive {most}**{amount}** as {noun_en} {marks}.",
                    )
                )
            if not (set(assumed) - {"new_hq_type"}):
                draft.add(_t(lang, f"  - 计算依据：{item.basis}", f"  - Basis: {item.basis}"))
            else:
                given = [
                    f"{_label(k, lang)}{_t(lang, '：', ': ')}{self._fact_text(k, v)}"
                    for k, v in stated.items()
                    if k in POLICY_FACTS[pid]
                ]
                if given:
                    draft.add(
                        _t(lang, "  - 您提供的信息：" + "；".join(given), "  - What you told us: " + "; ".join(given))
                    )
        elif item.status == "not_eligible":
            draft.add(
                _t(
                    lang,
                    f"- **{title}**：按您提供的信息，暂不符合条件（不符合）{marks}："
                    f"{'；'.join(item.conditions_unmet)}。",
                    f"- **{title}**: based on what you told us, you do not qualify {marks}: "
                    f"{'; '.join(item.conditions_unmet)}.",
                )
            )
        else:
            asks = ("、" if lang != "en" else ", ").join(_label(f, lang) for f in item.missing_facts)
            draft.add(
                _t(lang, f"- **{title}**{marks}：尚需补充：{asks}。", f"- **{title}** {marks}: still needed: {asks}.")
            )

    def _rule(self, turn: TurnContext, draft: Draft, topics: list[str]) -> tuple[str, None]:
        """What a subsidy gives, first (its rule from policies.yaml), then the clause sentence that says it."""
        lang = turn.lang
        book = load_policies()
        for t in topics:
            pol = book.policy(t)
            levels = getattr(pol.amount, "levels", None) or {}
            quote_text = getattr(pol.amount, "quote", None) or next((lv.quote for lv in levels.values()), None)
            cid = next((c for c in reversed(pol.clauses) if quote_text and quote_text in self.corpus.get(c).text), None)
            if "rule" not in pol.texts or cid is None:
                self._rule_quotes(turn, draft, [t])
                continue
            title = POLICY_TITLES_EN[t] if lang == "en" else POLICY_TITLES[t]
            quote = self._quote(cid, turn.tokens, re.escape(quote_text or ""))
            draft.add(f"- **{title}**{_t(lang, '：', ': ')}{book.text(t, 'rule', lang)}{draft.cite(cid, quote)}")
            draft.add(_t(lang, f"  - 条文原文：“{quote}”", f"  - The clause reads: “{quote}”"))
        pairs = {POLICY_CLAUSES[t][0] for t in topics if t in POLICY_CLAUSES}
        extra = [d for d in self.corpus.discrepancies if d.main_clause_id in pairs and d.kind == "extra_condition"]
        if extra:
            draft.add(
                "",
                _t(
                    lang,
                    "注意正文与任务分解表的差异：",
                    "Note the differences between the main text and the task table:",
                ),
            )
            for d in extra[:3]:
                draft.add(
                    f"- {d.description}{draft.cite(d.main_clause_id, self._disc_quote(d.main_clause_id, d.main_quote))}"
                    f"{draft.cite(d.annex_clause_id, self._disc_quote(d.annex_clause_id, d.annex_quote))}"
                )
        draft.add(
            "",
            _t(
                lang,
                f"如需测算具体金额，请告诉我企业的具体情况；办理请咨询{CONTACT}。",
                "Tell me your figures for an estimate; for applications contact the District Commerce Commission "
                "(区商务委).",
            ),
        )
        return "policy_answer", None

    # --- general -----------------------------------------------------------------------------------
