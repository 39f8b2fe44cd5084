"""The grounded composer: answers from the clause text and the calculator alone (no LLM, offline).

Why it is built this way:

* Every figure a business owner reads is either a verbatim quote of the policy or a
  ``assistant.calculator.calculate`` result. This module does no arithmetic on money at all; it formats
  what the calculator returns (``format_yuan``) and quotes what the clauses say.
* Every 【id】 in an answer is a citation whose quote is a verbatim substring of that clause, and every
  citation appears in the answer (``Draft`` enforces both).
* The intent is read by rules (``assistant.intent``) in a fixed order (``Composer._dispatch``), one small
  method per intent: out of scope → validity / task-table structure / main-vs-annex differences / document
  header → who/when lookups and a unit's tasks → amounts (a figure for a subsidy) → how to apply →
  a part of the document / targets / an explicit clause → subsidy rules and clarifications → general
  retrieval. Document questions live in ``assistant.compose_docs``; wording, citations and quoting in
  ``assistant.compose_draft``.
* When the owner gives the driving figure of a subsidy but not its side conditions (e.g. a platform's
  first-year volume without its investment or registration), the calculator is run on a profile where only
  those unstated side conditions are assumed, and the answer says which conditions were assumed and must be
  confirmed; the amount is always stated as conditional. A missing driving figure gets a clarification
  that names exactly what is needed; a missing exchange rate is never assumed.
* Conversation state comes from the stored history only (``intent.replay``), so follow-ups survive restarts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

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
    EnterpriseProfile,
    calculate,
)
from assistant.answers import FramedAnswers
from assistant.compose_draft import (
    ASK,
    AWARD_NOUN,
    CONDITION_TEXT,
    CONTACT,
    OOS_LEAD,
    POLICY_TITLES_EN,
    RATE_ASK,
    RULE_SENTENCE,
    SCOPE_EN,
    SCOPE_ZH,
    Draft,
    TurnContext,
    _label,
    _money,
    _t,
    _title_of,
    _units,
)
from assistant.intent import (
    APPLY_CUE,
    DEADLINE_CUE,
    DISCREPANCY_CUE,
    DRIVING_FACTS,
    FOLLOWUP_CUE,
    HQ_FAMILY,
    INJECTION_NOTICE,
    INJECTION_NOTICE_EN,
    LEAD_CUE,
    META_CUE,
    MONETARY_POLICIES,
    MONEY_CUE,
    PERSONAL_CUE,
    PREAMBLE_CUE,
    RESP_CUE,
    SECTION_CUE,
    TABLE_STRUCTURE_CUE,
    TARGET_CUE,
    UNIT_TASK_CUE,
    VALIDITY_CUE,
    assign_followup,
    explicit_clause_ids,
    lexical_evidence,
    merge_facts,
    out_of_scope_reason,
    rank_clauses,
    read_message,
    replay,
    resolve_unclear,
    select_topics,
    units_in,
)
from assistant.knowledge import load_policies
from assistant.lexicon import Lexicon, load_lexicon
from assistant.matching import match, max_award
from assistant.money import format_money_en
from assistant.numbers import format_cn_amount
from assistant.phrasing import default_phrasing
from assistant.reading import OWN_STATEMENT, Frame, read_frame
from assistant.retrieval import tokenize
from assistant.schemas import ChatResponse, Turn

__all__ = ["Composer"]
log = logging.getLogger(__name__)

_BROAD = re.compile(
    r"哪些|哪几|什么|怎么|如何|内容|包括|说了|说法|做什么|要做|事情|部署|措施|打算|支持些|扶持|\bwhat\b|\bhow\b|\bwhich\b",
    re.IGNORECASE,
)
_GENERIC = re.compile(r"电商|电子商务|政策|文件|补贴|扶持|奖励|优惠|网店|e-?commerce|polic|subsid|support", re.IGNORECASE)
_LISTING = re.compile(r"所有|全部|列出|列一下|列举|哪些条款|条款编号|哪几条|哪些条|\ball\s+(?:the\s+)?(?:clauses|provisions)|\blist\b", re.IGNORECASE)
_FILLER = re.compile(r"[\W_]+|不对|对吧|好的|好|嗯|哦|啊|呢|吗|那|是吗|ok|okay", re.IGNORECASE)

_VALUE_NAMES = {
    "regional_hq": "区域总部", "marketing_center": "营销中心", "settlement_center": "结算中心",
    "operations_center": "运营中心", "national": "国家级", "municipal": "市级", "none": "无",
}

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

class Composer(FramedAnswers):
    """``answer(message, history)`` → ChatResponse (session_id left empty for the facade to fill)."""

    def __init__(self, corpus: Any, search_engine: Any, lexicon: Lexicon | None = None) -> None:
        super().__init__(corpus, search_engine)
        if lexicon is None:
            from assistant.settings import get_settings

            lexicon = load_lexicon(get_settings().corpus_dir)
        self.lexicon = lexicon

    # --- entry point -------------------------------------------------------------------------------
    def answer(self, message: str, history: list[Turn]) -> ChatResponse:
        state = replay(history)
        reading = read_message(message, state.topics)
        hits = self.search.search(reading.text, k=5, expand=False) if reading.text else []
        turn = TurnContext(reading, state, hits, set(tokenize(reading.text)) if reading.text else set())
        draft = Draft(self.corpus, turn.lang)
        try:
            answer_type, calculation = self._dispatch(turn, draft)
        except Exception:  # noqa: BLE001 - a rule bug must not cost the owner an answer; it is logged loudly
            log.exception("grounded composer failed on %r", message)
            draft = Draft(self.corpus, turn.lang)
            answer_type, calculation = self._out_of_scope(turn, draft, "error")
        notices = [VALIDITY_NOTICE_EN if turn.lang == "en" else VALIDITY_NOTICE]
        if reading.injected:
            notices.append(INJECTION_NOTICE_EN if turn.lang == "en" else INJECTION_NOTICE)
        return draft.response(answer_type, notices, calculation)

    def _dispatch(self, turn: TurnContext, draft: Draft) -> tuple[str, CalculationResult | None]:
        """First matching rule wins; the order is the product's precedence."""
        text = turn.text
        frame = self._frame(turn)
        turn.frame = frame
        if frame.ask in ("greeting", "thanks", "help"):
            return self._chitchat(turn, draft, frame.ask)
        if not _FILLER.sub("", text):  # nothing left ("不对", or only injected instructions)
            return self._empty(turn, draft)
        reason = out_of_scope_reason(text)
        if reason == "tax" and frame.ask == "unspecified":
            reason = None  # "那30万补贴要交税吗": about the subsidy, which the document is silent on
        if reason:
            return self._out_of_scope(turn, draft, reason)
        if frame.ask in ("section", "count") and (DISCREPANCY_CUE.search(text) or explicit_clause_ids(text, self.corpus)):
            frame = replace(frame, ask="other")  # "正文和附件有什么不一致": the differences, not the annex itself
        named = [t for t in turn.reading.topics if t in MONETARY_POLICIES]
        if named and any(set(v.policies) & set(named) for v in self.lexicon.vetoes_in(text)):
            topics, facts, _figures = self._money_request(turn)  # "淘宝店算不算自建平台": 不能, before anything else
            return self._money(turn, draft, [t for t in topics if t in named] or named, facts)
        if frame.ask == "match" and not [t for t in turn.reading.topics if t in MONETARY_POLICIES][1:]:
            if not turn.reading.facts and not turn.state.facts and (answer := self._business(frame, turn, draft, own=True)):
                return answer  # "做微商的能享受啥": what the document says about that business first
            return self._match(turn, draft)
        if planned := self._planned(frame, turn, draft):
            return planned
        for cue, handler in (
            (VALIDITY_CUE, self._validity),
            (TABLE_STRUCTURE_CUE, self._numbering),
            (DISCREPANCY_CUE, self._discrepancy),
            (PREAMBLE_CUE, self._preamble),
            (META_CUE, self._meta),
        ):
            if cue.search(text):
                return handler(turn, draft)
        if turn.reading.extraction.unclear and frame.ask not in ("who", "when"):
            return self._ask_unclear(turn, draft)
        names_unit_tasks = bool(units_in(text) and UNIT_TASK_CUE.search(text))
        if names_unit_tasks and not DEADLINE_CUE.search(text):
            return self._unit_tasks(turn, draft)
        # "合作社牵头成立了公司，首年成交1亿…能拿多少": a stated 牵头 is not a who-question when the amount
        # reading has more evidence
        money_first = frame.ask in ("amount", "eligibility", "match") and frame.scores.get(frame.ask, 0) > frame.scores.get("who", 0)
        if not money_first and self._asks_like_before(turn):
            return self._lookup(turn, draft)
        if not money_first and (DEADLINE_CUE.search(text) or LEAD_CUE.search(text) or RESP_CUE.search(text)):
            if names_unit_tasks and not self._lexical_targets(turn):
                return self._unit_tasks(turn, draft)
            return self._lookup(turn, draft)
        if names_unit_tasks:
            return self._unit_tasks(turn, draft)
        topics, facts, figures = self._money_request(turn)
        if figures:
            return self._money(turn, draft, topics, facts)
        if APPLY_CUE.search(text):
            return self._apply(turn, draft)
        if SECTION_CUE.search(text) and not self._lexical_targets(turn):
            return self._section(turn, draft)
        if TARGET_CUE.search(text):
            return self._targets(turn, draft)
        if explicit_clause_ids(text, self.corpus):
            return self._clause(turn, draft)
        named = [t for t in turn.reading.topics if t in MONETARY_POLICIES]
        if named and (MONEY_CUE.search(text) or PERSONAL_CUE.search(text)):
            return self._money(turn, draft, named, facts)  # a subsidy named without its figure
        loose = turn.reading.extraction.unassigned  # a figure that names no policy ("我们去年卖了3个亿")
        if not turn.reading.topics and (loose or MONEY_CUE.search(text) and PERSONAL_CUE.search(text)) \
                and not self._lexical_targets(turn):
            if topics and FOLLOWUP_CUE.search(text):
                return self._money(turn, draft, topics, facts)
            return self._clarify_which(turn, draft)
        return self._general(turn, draft)

    def _asks_like_before(self, turn: TurnContext) -> bool:
        """"那乡村旅游那块呢" after "农产品这块哪个部门牵头": the same who/when question about a new subject."""
        before = turn.state.last_text
        if not before or not FOLLOWUP_CUE.search(turn.text) or len(turn.text) > 24 or turn.reading.extraction.amounts:
            return False
        if not (LEAD_CUE.search(before) or RESP_CUE.search(before) or DEADLINE_CUE.search(before)):
            return False
        return bool(self._lexical_targets(turn) or self.lexicon.terms_in(turn.text))

    def _frame(self, turn: TurnContext) -> Frame:
        """What this turn asks, weighed against whether it states a figure the calculator can use."""
        _topics, _facts, figures = self._money_request(turn)
        about = bool(turn.reading.topics or turn.reading.extraction.amounts or lexical_evidence(turn.text, self.corpus)
                     or MONEY_CUE.search(turn.text) or TARGET_CUE.search(turn.text))
        return read_frame(turn.text, self.lexicon, has_facts=figures, names_policy=bool(turn.reading.topics), about_policy=about)

    def _money_request(self, turn: TurnContext) -> tuple[list[str], dict[str, Any], bool]:
        """(policies under discussion, facts so far, whether this turn gives something to compute).

        A turn computes when it states a figure or condition of a policy whose driving figure is known
        by now: "首年交易额3亿", a follow-up "那5亿呢", or "那项目投资只有50万呢" after a figure.
        """
        reading, state = turn.reading, turn.state
        topics = [t for t in select_topics(reading, state) if t in MONETARY_POLICIES]
        # A loose figure goes to the policy under discussion only when that policy is unambiguous: a real
        # follow-up ("那5亿呢"), or one policy named. With several (the HQ family) it would be a guess.
        single = len([t for t in topics if t != "hq_establishment"]) == 1
        followup = assign_followup(reading, topics, state.facts) if not reading.topics or (reading.extraction.unassigned and single) else {}
        own = merge_facts(merge_facts(followup, reading.facts), resolve_unclear(reading, state))
        facts = merge_facts(state.facts, own)
        touched = any(f in own for t in topics for f in (*POLICY_FACTS[t], "usd_cny_rate"))
        known = any(f in facts for t in topics for f in DRIVING_FACTS[t])
        if own and reading.topics and set(own) <= {"demo_base_level", "demo_enterprise_level"} \
                and not OWN_STATEMENT.search(reading.text):
            touched = False  # "市级示范园区奖多少": what a level is worth, not this owner's case
        return topics, facts, bool(topics and touched and known)

    def _empty(self, turn: TurnContext, draft: Draft) -> tuple[str, CalculationResult | None]:
        """Nothing but filler or injected text: repeat the last computable answer, else say what we cover."""
        state = turn.state
        if any(f in state.facts for t in state.topics for f in DRIVING_FACTS.get(t, ())):
            return self._money(turn, draft, [t for t in state.topics if t in MONETARY_POLICIES], dict(state.facts))
        return self._out_of_scope(turn, draft, "empty" if turn.reading.injected else "chitchat")

    # --- out of scope ------------------------------------------------------------------------------
    def _out_of_scope(self, turn: TurnContext, draft: Draft, reason: str) -> tuple[str, None]:
        zh, en = OOS_LEAD.get(reason, OOS_LEAD["unknown"])
        if turn.lang == "en":
            draft.add(en, "", SCOPE_EN, "", "For anything else, please contact the Beibei District Commerce Commission (区商务委).")
        else:
            draft.add(zh, "", SCOPE_ZH, "", f"其他问题请咨询北碚区商务委员会（{CONTACT}）。")
        return "out_of_scope", None

    # --- money: calculation, clarification, rule ---------------------------------------------------
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
                if "cross_border_retail_usd" in facts or ("cross_border_retail_cny" in facts and "usd_cny_rate" in facts):
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
        if need_rate or PERSONAL_CUE.search(turn.text) or turn.state.last_type == "clarification" or turn.reading.extraction.unassigned:
            if turn.frame is not None and turn.frame.ask == "eligibility" and not need_rate:
                self._verdict_without_amount(turn, draft, missing, facts)
            return self._clarification(turn, draft, need_rate + missing, need_rate)
        return self._rule(turn, draft, topics)

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

    def _calculation(self, turn: TurnContext, draft: Draft, topics: list[str], facts: dict[str, Any], asked: list[str]) -> tuple[str, CalculationResult]:
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
        result = calculate(profile, lang=lang)  # type: ignore[arg-type]
        items = [result.item(t) for t in topics]
        spans = {k: v for k, v in turn.reading.extraction.ranges.items() if k in stated}
        if spans and self._range_matters(result, profile_data, spans, topics):
            return self._range_clarification(turn, draft, topics, spans)
        if assumed:  # a boundary note caused by an assumed threshold value (e.g. 100万 investment) is noise
            bare = calculate(self._profile(stated)[0], lang=lang)  # type: ignore[arg-type]
            boundary = load_policies().notice("inclusive_boundary", lang)  # type: ignore[arg-type]
            items = [
                it if boundary in bare.item(it.policy_id).notes
                else it.model_copy(update={"notes": [n for n in it.notes if n != boundary]})
                for it in items
            ]

        used = {v for v in facts.values() if isinstance(v, Decimal)}
        loose = [a for a in turn.reading.extraction.unassigned if a.value not in used and a.value * 12 not in used]
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
            draft.add(_t(
                lang,
                f"**合计：最高{total}**。条文未规定多项政策能否同时享受，合计为上限，请向{CONTACT}确认。",
                f"**Total: at most {total}.** The policy does not say whether these items can be combined; treat the "
                f"total as an upper bound and confirm with the District Commerce Commission (区商务委).",
            ), "")
        other = [t for t in turn.reading.topics if t in MONETARY_POLICIES and t not in topics]
        if other and (extra := self._parameter_lines(turn, draft, other)):
            draft.add("", _t(lang, "另外您问到的：", "You also asked:"), *extra)  # "…顺便问下买房最高补多少"
            asked = [t for t in asked if t not in other]
        for t in asked:
            if t in ASK:
                ask = RATE_ASK if t == "cross_border" and "cross_border_retail_cny" in facts else ASK[t]
                draft.add(_t(lang, f"另：如需测算“{POLICY_TITLES[t]}”，请提供{ask[0]}。", f"To also estimate “{POLICY_TITLES_EN[t]}”, please provide {ask[1]}."))
        notes = list(dict.fromkeys(turn.reading.extraction.notes + dropped + [n for it in items for n in it.notes]))
        validity = VALIDITY_NOTICE_EN if lang == "en" else VALIDITY_NOTICE
        notes += [n for n in result.notes if n != validity and n not in notes and len(eligible) > 1]
        if notes:
            draft.add("", _t(lang, "说明：", "Notes:"))
            draft.add(*[f"- {n}" for n in notes])
        lead_units = list(dict.fromkeys(POLICY_UNITS[it.policy_id][0] for it in items))
        draft.add("", _t(lang, f"办理和确认请联系牵头单位：{_units(lead_units, lang)}。", f"To apply or confirm, contact the lead unit: {_units(lead_units, lang)}."))
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
                    parts.append(_t(lang, f"可能：{title}{most}{amount}，前提是还满足{conds}", f"Possibly: {title}, {most}{amount}, if you also meet: {conds_en}"))
                elif assumed.get(it.policy_id):
                    parts.append(_t(lang, f"可能：{title}{most}{amount}，前提是属于新设立的电商区域总部等", f"Possibly: {title}, {most}{amount}, if you are a newly established e-commerce HQ"))
                else:
                    parts.append(_t(lang, f"能：{title}{most}{amount}", f"Yes: {title}, {most}{amount}"))
            elif it.status == "not_eligible":
                reason = ("；" if lang != "en" else "; ").join(it.conditions_unmet)
                parts.append(_t(lang, f"不能：{title}（{reason}）", f"No: {title} ({reason})"))
            else:  # name each open condition with its threshold where the policy sets one
                sep = "、" if lang != "en" else "; "
                asks = sep.join(CONDITION_TEXT[f][lang == "en"] if f in CONDITION_TEXT else _label(f, lang) for f in it.missing_facts)
                parts.append(_t(lang, f"可能：{title}，还取决于是否满足{asks}", f"Possibly: {title}, depending on whether you meet: {asks}"))
        return ("；" if lang != "en" else "; ").join(parts) + _t(lang, "。", ".")

    def _match(self, turn: TurnContext, draft: Draft) -> tuple[str, Any]:
        """"我们这种情况能享受哪些政策": every policy the stated facts make possible, ranked, with what is
        missing, and the ones the facts rule out (assistant.matching, the same as the page and /v1/match)."""
        lang = turn.lang
        facts = merge_facts(turn.state.facts, turn.reading.facts)
        profile, dropped = self._profile(facts)
        found = match(profile, lang=lang)  # type: ignore[arg-type]
        vetoed = {p for v in self.lexicon.vetoes_in(turn.text) for p in v.policies}
        possible = [it for it in found.possible if it.policy_id not in vetoed]
        ruled_out = found.ruled_out + [it for it in found.possible if it.policy_id in vetoed]
        name = (lambda it: POLICY_TITLES_EN[it.policy_id]) if lang == "en" else (lambda it: it.title)
        short = (lambda v: format_money_en(Decimal(v), "CNY")) if lang == "en" else (lambda v: format_cn_amount(Decimal(v)))
        summary = [f"{name(it)}（{short(it.amount_yuan or '0')}）" for it in found.eligible]
        summary += [f"{name(it)}（{_t(lang, '最高', 'up to ')}{short(cap)}）" if (cap := max_award(it.policy_id)) else name(it)
                    for it in possible]
        draft.add(_t(lang, f"按您提供的信息，可能适用{len(summary)}项资金政策：{'、'.join(summary)}。" if summary else "按您提供的信息，暂无可适用的资金政策。",
                     f"From what you told us, {len(summary)} funding policies may apply: {'; '.join(summary)}." if summary else "From what you told us, no funding policy applies yet."))
        if ruled_out:
            draft.add(_t(lang, f"不适用：{'、'.join(name(it) for it in ruled_out)}。", f"Ruled out: {'; '.join(name(it) for it in ruled_out)}."))
        draft.add("")
        for it in found.eligible + possible + ruled_out:
            cid = it.clause_ids[-1]
            mark = draft.cite(cid, self._quote(cid, turn.tokens, RULE_SENTENCE.get(it.policy_id)))
            if it.status == "eligible":
                detail = _t(lang, f"符合，{_money(it.amount_yuan or '0', lang)}", f"eligible, {_money(it.amount_yuan or '0', lang)}")
            elif it.policy_id in vetoed:
                detail = next(v.zh if lang != "en" else v.en for v in self.lexicon.vetoes_in(turn.text) if it.policy_id in v.policies)
            elif it.status == "not_eligible":
                detail = _t(lang, "不符合：", "not eligible: ") + "；".join(it.conditions_unmet)
            else:
                detail = _t(lang, "还需提供：", "still needed: ") + ("、" if lang != "en" else ", ").join(_label(f, lang) for f in it.missing_facts)
            draft.add(f"- **{name(it)}**{mark}：{detail}")
        if found.non_monetary:
            it = found.non_monetary[0]
            cid = it.clause_ids[0]
            draft.add(_t(lang, f"- 另有非资金类：{it.title}{draft.cite(cid, self._quote(cid, turn.tokens, RULE_SENTENCE.get(it.policy_id)))}",
                         f"- Also non-monetary: {POLICY_TITLES_EN[it.policy_id]} {draft.cite(cid, self._quote(cid, turn.tokens, RULE_SENTENCE.get(it.policy_id)))}"))
        draft.add("", _t(lang, f"多项能否同时享受文件没有规定；办理和确认请联系{CONTACT}。",
                         "The document does not say whether several can be combined (文件没有规定); confirm with the District Commerce Commission (区商务委)."))
        stated = bool({k for k in facts if k != "usd_cny_rate"})
        return ("calculation", found.calculation) if stated else ("policy_answer", None)

    def _ruled_out(self, turn: TurnContext, draft: Draft, vetoes: list[Any], topics: list[str]) -> None:
        """"不能" first, with the clause phrase that decides it; nothing is computed for these policies."""
        lang = turn.lang
        for v in vetoes:
            titles = "、".join(POLICY_TITLES_EN[p] if lang == "en" else POLICY_TITLES[p] for p in v.policies if p in topics)
            quote = self._quote(v.clause, turn.tokens, re.escape(v.phrase))
            draft.add(_t(lang, f"不能：{v.zh}，不能享受{titles}{draft.cite(v.clause, quote)}。",
                         f"No: {v.en}, so {titles} does not apply {draft.cite(v.clause, quote)}."))
            draft.add(_t(lang, f"条文原文：“{quote}”", f"The clause reads: “{quote}”"), "")

    def _verdict_without_amount(self, turn: TurnContext, draft: Draft, topics: list[str], facts: dict[str, Any]) -> None:
        """"新设营销中心租了办公室，租房补贴能拿不": 能 when every condition but the amount's figure is met,
        可能 when conditions are still open; the amount waits for the figure."""
        lang = turn.lang
        known = calculate(self._profile(facts)[0], lang=lang)  # type: ignore[arg-type]
        book = load_policies()
        for t in topics:
            item = known.item(t)
            drivers = set(DRIVING_FACTS.get(t, ()))
            open_conditions = [f for f in item.missing_facts if f not in drivers]
            rule = book.text(t, "rule", lang) if "rule" in book.policy(t).texts else ""  # type: ignore[arg-type]
            title = POLICY_TITLES_EN[t] if lang == "en" else POLICY_TITLES[t]
            if open_conditions:
                asks = ("、" if lang != "en" else ", ").join(_label(f, lang) for f in open_conditions)
                draft.add(_t(lang, f"可能：{title}还取决于{asks}；{rule}。", f"Possibly: {title} also depends on {asks}; {rule}."))
            else:
                draft.add(_t(lang, f"能：按您说的情况可以享受{title}（{rule}），金额取决于下面的数字。",
                             f"Yes: from what you say, {title} applies ({rule}); the amount depends on the figure below."))
        draft.add("")

    def _ask_loose(self, turn: TurnContext, draft: Draft, topics: list[str], loose: list[Any]) -> tuple[str, None]:
        lang = turn.lang
        raw = "、".join(a.raw for a in loose[:3])
        draft.add(_t(lang, f"您提到的“{raw}”是指哪一项数字（例如线上年销售收入、首年网上交易额、年租金）？是全年的还是每月的？请说明后我再测算。",
                     f"What does “{raw}” measure (annual online sales, first-year platform volume, annual rent …), and is it per year or per month? Please tell me and I will estimate."))
        draft.add("", _t(lang, "政策原文：", "What the policy says:"))
        self._rule_quotes(turn, draft, topics)
        return "clarification", None

    def _range_matters(self, low: CalculationResult, data: dict[str, Any], spans: dict, topics: list[str]) -> bool:
        """Does the top of a stated range ("1-3亿美元") change any outcome? Then the range cannot be answered."""
        high = calculate(self._profile({**data, **{k: v[1] for k, v in spans.items()}})[0])
        return any(
            (low.item(t).status, low.item(t).amount_yuan) != (high.item(t).status, high.item(t).amount_yuan) for t in topics
        )

    def _range_clarification(self, turn: TurnContext, draft: Draft, topics: list[str], spans: dict) -> tuple[str, None]:
        lang = turn.lang
        for name, (low, high) in spans.items():
            currency = "USD" if name.endswith("_usd") else "CNY"
            draft.add(_t(
                lang,
                f"您给出的{_label(name)}是一个区间（{format_cn_amount(low, currency)}至{format_cn_amount(high, currency)}），"
                f"跨越了政策的门槛或档位，是否符合、能拿多少取决于确切数额。请提供确切的{_label(name)}。",
                f"You gave a range ({format_cn_amount(low, currency)} to {format_cn_amount(high, currency)}) that spans a "
                f"threshold or tier of the policy; the outcome depends on the exact figure. Please give the exact figure.",
            ))
        draft.add("", _t(lang, "政策原文：", "What the policy says:"))
        self._rule_quotes(turn, draft, topics)
        return "clarification", None

    def _item_lines(self, turn: TurnContext, draft: Draft, item: CalculationItem, assumed: dict[str, Any], stated: dict[str, Any]) -> None:
        lang, pid = turn.lang, item.policy_id
        title = POLICY_TITLES_EN[pid] if lang == "en" else item.title
        marks = "".join(
            draft.cite(cid, self._quote(cid, turn.tokens, RULE_SENTENCE.get(pid), avoid_amounts=item.status != "eligible"))
            for cid in item.clause_ids
        )
        noun_zh, noun_en = AWARD_NOUN.get(pid, ("", ""))
        if item.status == "eligible":
            amount = _money(item.amount_yuan or "0", lang)
            most = _t(lang, "最高", "at most ") if item.is_upper_bound else ""
            if assumed:
                conds_zh = "、".join(CONDITION_TEXT[n][0] for n in assumed)
                conds_en = "; ".join(CONDITION_TEXT[n][1] for n in assumed)
                draft.add(_t(
                    lang,
                    f"- **{title}**：若同时满足{conds_zh}，可获{most}{amount}{noun_zh}{marks}。"
                    f"这些条件您尚未说明，本测算仅为显示档位金额而暂按满足计算，须向{CONTACT}确认；不满足任一条件则不能享受。",
                    f"- **{title}**: if you also meet these conditions — {conds_en} — you could receive {most}**{amount}** "
                    f"as {noun_en} {marks}. You did not state these conditions; they are assumed here only to show the "
                    f"tier amount and must be confirmed with the District Commerce Commission (区商务委).",
                ))
            else:
                draft.add(_t(lang, f"- **{title}**：可获{most}{amount}{noun_zh}{marks}。", f"- **{title}**: you could receive {most}**{amount}** as {noun_en} {marks}."))
            if not (set(assumed) - {"new_hq_type"}):
                draft.add(_t(lang, f"  - 计算依据：{item.basis}", f"  - Basis: {item.basis}"))
            else:
                given = [f"{_label(k, lang)}{_t(lang, '：', ': ')}{self._fact_text(k, v)}" for k, v in stated.items() if k in POLICY_FACTS[pid]]
                if given:
                    draft.add(_t(lang, "  - 您提供的信息：" + "；".join(given), "  - What you told us: " + "; ".join(given)))
        elif item.status == "not_eligible":
            draft.add(_t(
                lang,
                f"- **{title}**：按您提供的信息，暂不符合条件（不符合）{marks}：{'；'.join(item.conditions_unmet)}。",
                f"- **{title}**: based on what you told us, you do not qualify {marks}: {'; '.join(item.conditions_unmet)}.",
            ))
        else:
            asks = ("、" if lang != "en" else ", ").join(_label(f, lang) for f in item.missing_facts)
            draft.add(_t(lang, f"- **{title}**{marks}：尚需补充：{asks}。", f"- **{title}** {marks}: still needed: {asks}."))

    @staticmethod
    def _fact_text(name: str, value: Any) -> str:
        if isinstance(value, str):
            return _VALUE_NAMES.get(value, value)
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
                draft.add(_t(lang, f"您说的“{raw}”是月租金还是年租金？租房补贴按年租金计算，请说明后我再测算。",
                             f"Is “{raw}” the monthly or the yearly rent? The subsidy is based on the annual rent; please tell me which."))
            elif reason == "monthly":
                draft.add(_t(lang, f"“{raw}”是按月的数字，而政策看的是{label}（全年或首年合计）。月度数字乘以12只是估计，请提供全年的实际数额。",
                             f"“{raw}” is a monthly figure, but the policy looks at {label} for the whole (first) year. Please give the yearly figure; 12 × a month would be a guess."))
            elif reason == "unit_price":
                draft.add(_t(lang, f"“{raw}”是单价，不是{label}本身。请直接告诉我{label}的总额，并说明是每月还是每年。",
                             f"“{raw}” is a unit price, not the {label} itself. Please give the total {label}, and say whether it is per month or per year."))
            elif reason == "not_retail":
                draft.add(_t(lang, f"不能按“{raw}”计算：跨境电商扶持只看跨境电子商务**零售**交易额，B2B、批发等不是零售，不计入。如有零售部分，请提供零售额。",
                             f"No, not on “{raw}”: the cross-border support counts only cross-border e-commerce **retail** (零售) volume; B2B or wholesale trade does not count. If part of it is retail, give that figure."))
            elif reason == "which_year":
                draft.add(_t(lang, f"您给的{label}（{raw}）是哪一年的？奖励比例按年度不同，请说明是自产生贡献起的第几年，或按年度依次提供每年的数额（每年相同可说“每年…”）。",
                             f"Which year is your {label} ({raw}) for? The reward rate depends on the year; say which year it is counted from the first, or give each year's figure (or “every year …”)."))
            else:
                draft.add(_t(lang, f"您给出的{label}（{raw}）不是从第1年起逐年连续的，请按第1年到第5年依次提供每年的数额。",
                             f"Your {label} figures ({raw}) are not year 1, 2, 3… in order; please give each year from year 1 to year 5."))
        topics = [t for t in turn.reading.topics if t in MONETARY_POLICIES]
        if topics:
            draft.add("", _t(lang, "政策原文：", "What the policy says:"))
            self._rule_quotes(turn, draft, topics)
        return "clarification", None

    def _clarification(self, turn: TurnContext, draft: Draft, topics: list[str], need_rate: list[str]) -> tuple[str, None]:
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

    def _rule(self, turn: TurnContext, draft: Draft, topics: list[str]) -> tuple[str, None]:
        """What a subsidy gives, first (its rule from policies.yaml), then the clause sentence that says it."""
        lang = turn.lang
        book = load_policies()
        for t in topics:
            pol = book.policy(t)
            quote_text = getattr(pol.amount, "quote", None)
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
            draft.add("", _t(lang, "注意正文与任务分解表的差异：", "Note the differences between the main text and the task table:"))
            for d in extra[:3]:
                draft.add(f"- {d.description}{draft.cite(d.main_clause_id, self._disc_quote(d.main_clause_id, d.main_quote))}"
                          f"{draft.cite(d.annex_clause_id, self._disc_quote(d.annex_clause_id, d.annex_quote))}")
        draft.add("", _t(lang, f"如需测算具体金额，请告诉我企业的具体情况；办理请咨询{CONTACT}。",
                         "Tell me your figures for an estimate; for applications contact the District Commerce Commission (区商务委)."))
        return "policy_answer", None

    def _rule_quotes(self, turn: TurnContext, draft: Draft, topics: list[str]) -> None:
        seen: set[tuple[str, str]] = set()
        for t in topics:
            for cid in POLICY_CLAUSES.get(t, []):
                quote = self._quote(cid, turn.tokens, RULE_SENTENCE.get(t))
                if (cid, quote) in seen:
                    continue
                seen.add((cid, quote))
                title = POLICY_TITLES_EN[t] if turn.lang == "en" else POLICY_TITLES[t]
                draft.add(f"- {title}{draft.cite(cid, quote)}：“{quote}”")

    def _clarify_which(self, turn: TurnContext, draft: Draft, overview: bool = False) -> tuple[str, None]:
        """No policy named: list the funding policies with their rule sentences (and ask, unless this is
        a general "有什么补贴" question)."""
        lang = turn.lang
        if overview:
            draft.add(_t(lang, "本文件（北碚府发〔2019〕75号）的资金类支持政策有：", "The funding policies of this document (北碚府发〔2019〕75号) are:"))
        else:
            draft.add(_t(lang, "请问您想了解哪一项补贴？本文件的资金类支持政策有：", "Which support are you asking about? The document's funding policies are:"))
        for t in ("hq_establishment", "demo_base", "demo_enterprise", "self_built_platform", "cross_border"):
            cid = POLICY_CLAUSES[t][-1]
            quote = self._quote(cid, set(), RULE_SENTENCE[t])
            title = POLICY_TITLES_EN[t] if lang == "en" else POLICY_TITLES[t]
            draft.add(f"- {title}{draft.cite(cid, quote)}：“{quote}”")
        talent = POLICY_CLAUSES["talent"][0]
        quote = self._quote(talent, set(), RULE_SENTENCE["talent"])
        draft.add(f"- {POLICY_TITLES_EN['talent'] if lang == 'en' else POLICY_TITLES['talent']}{draft.cite(talent, quote)}：“{quote}”")
        zh, en = default_phrasing().situation_example
        draft.add("", _t(lang, f"请说明企业情况（{zh}），我来测算。", f"Tell me your situation ({en}) and I will estimate it."))
        return ("policy_answer" if overview else "clarification"), None

    # --- general -----------------------------------------------------------------------------------
    def _general(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """Quote the best one to three clauses; nothing relevant at all means out of scope."""
        lang = turn.lang
        lexical = lexical_evidence(turn.text, self.corpus)
        ranked = [r for r in rank_clauses(turn.text, self.corpus, turn.hits) if r.clause_id != "文件信息"]
        bm25 = self.search.bm25_ranking(turn.text, 3) if not lexical else []
        if not lexical and not any(cid != "文件信息" and score >= 2.0 for cid, score in bm25):
            if _GENERIC.search(turn.text):  # "有什么补贴", "北碚电商政策": an overview, not a refusal
                return self._clarify_which(turn, draft, overview=True)
            return self._out_of_scope(turn, draft, "unknown")
        if not ranked:
            return self._out_of_scope(turn, draft, "unknown")
        top = ranked[0].score
        listing = bool(_LISTING.search(turn.text))
        chosen = [r.clause_id for r in ranked if r.score >= (0.25 if listing else 0.75) * top][: 6 if listing else 2]
        broad = _BROAD.search(turn.text)
        if listing:
            draft.add(_t(lang, f"相关条款共{len(chosen)}条：{'、'.join(chosen)}。", f"{len(chosen)} related clauses: {', '.join(chosen)}."))
        else:
            draft.add(_t(lang, "文件中的相关规定：", "What the document says:"))
        for cid in chosen:
            shown: dict[str, str] = {}
            for c in self._group(cid):
                quote = self._quote_broad(c, turn.tokens) if broad else self._quote(c, turn.tokens)
                if quote in shown.values():  # the annex row repeats the main text word for word: cite, don't repeat
                    draft.cite(c, quote)
                    same = next(k for k, v in shown.items() if v == quote)
                    draft.lines[-1] = draft.lines[-1].replace(f"【{same}】", f"【{same}】【{c}】", 1)
                    continue
                shown[c] = quote
                title = _title_of(self.corpus.get(c), lang)
                draft.add(f"- **{title}**{draft.cite(c, quote)}：“{quote}”")
        leads = list(dict.fromkeys(self.corpus.get(c).lead_unit for c in chosen if self.corpus.get(c).lead_unit))
        if leads:
            draft.add("", _t(lang, f"牵头单位：{_units(leads, lang)}（办理或咨询请联系）。", f"Lead unit to contact: {_units(leads, lang)}."))
        return "policy_answer", None
