"""The grounded composer: answers from the clause text and the calculator alone (no LLM, offline).

Why it is built this way:

* Every figure a business owner reads is either a verbatim quote of the policy or a
  ``assistant.calculator.calculate`` result. This module does no arithmetic on money at all; it formats
  what the calculator returns (``format_yuan``) and quotes what the clauses say.
* Every 【id】 in an answer is a citation whose quote is a verbatim substring of that clause, and every
  citation appears in the answer (``Draft`` enforces both).
* What is asked is read first as a frame (``assistant.reading``): every kind in corpus/asks.yaml scores
  its evidence, and the frame's planner answers (chit-chat, "文件没有规定…", parts and counts, definitions,
  a unit's tasks, a business the policy covers, one figure of a subsidy, matching; ``assistant.answers``).
  What no planner takes goes to the document lookups (validity, task-table structure, main-vs-annex
  differences, header, who/when, targets, clause ids; ``assistant.compose_docs``) and the money answers
  (``assistant.compose_money``), then to general retrieval. Those lookups still run in a fixed order after
  the planners; their cues are the next to move into asks.yaml.
* When the owner gives the driving figure of a subsidy but not its side conditions (e.g. a platform's
  first-year volume without its investment or registration), the calculator is run on a profile where only
  those unstated side conditions are assumed, the answer says 可能 and names them. A policy's own thresholds
  (the HQ support's capital, sales, statistics, years) are never assumed. A missing or unclear figure gets
  one short question; a missing exchange rate is never assumed.
* Conversation state comes from the stored history only (``conversation.replay``), so follow-ups survive restarts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from assistant.calculator import (
    POLICY_FACTS,
    VALIDITY_NOTICE,
    VALIDITY_NOTICE_EN,
    CalculationResult,
)
from assistant.compose_draft import (
    CONTACT,
    OOS_LEAD,
    SCOPE_EN,
    SCOPE_ZH,
    Draft,
    TurnContext,
    _t,
    _title_of,
    _units,
)
from assistant.compose_money import MoneyAnswers
from assistant.conversation import assign_followup, merge_facts, replay, resolve_unclear, select_topics
from assistant.intent import (
    APPLY_CUE,
    DEADLINE_CUE,
    DISCREPANCY_CUE,
    DRIVING_FACTS,
    FOLLOWUP_CUE,
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
    explicit_clause_ids,
    lexical_evidence,
    out_of_scope_reason,
    rank_clauses,
    read_message,
    units_in,
)
from assistant.knowledge import Lang
from assistant.lexicon import Lexicon, load_lexicon
from assistant.reading import OWN_STATEMENT, Frame, language_only, read_frame
from assistant.retrieval import tokenize
from assistant.schemas import ChatResponse, Turn

__all__ = ["Composer"]
log = logging.getLogger(__name__)

_BROAD = re.compile(
    r"哪些|哪几|什么|怎么|如何|内容|包括|说了|说法|做什么|要做|事情|部署|措施|打算|支持些|扶持|\bwhat\b|\bhow\b|\bwhich\b",
    re.IGNORECASE,
)
_GENERIC = re.compile(
    r"电商|电子商务|政策|文件|补贴|扶持|奖励|优惠|网店|e-?commerce|polic|subsid|support", re.IGNORECASE
)
_LISTING = re.compile(
    r"所有|全部|列出|列一下|列举|哪些条款|条款编号|哪几条|哪些条|区别|异同|有啥不同|有什么不同|difference|compare|\ball\s+(?:the\s+)?(?:clauses|provisions)|\blist\b",
    re.IGNORECASE,
)
_FILLER = re.compile(r"[\W_]+|不对|对吧|好的|好|嗯|哦|啊|呢|吗|那|是吗|ok|okay", re.IGNORECASE)


class Composer(MoneyAnswers):
    """``answer(message, history)`` → ChatResponse (session_id left empty for the facade to fill)."""

    def __init__(self, corpus: Any, search_engine: Any, lexicon: Lexicon | None = None) -> None:
        super().__init__(corpus, search_engine)
        if lexicon is None:
            from assistant.settings import get_settings

            lexicon = load_lexicon(get_settings().corpus_dir)
        self.lexicon = lexicon

    # --- entry point -------------------------------------------------------------------------------
    def answer(self, message: str, history: list[Turn], lang: str | None = None) -> ChatResponse:
        if history and (wanted := language_only(message)):
            # "Please answer in English" after a question: the same question again, in that language
            return self.answer(history[-1].message, history[:-1], lang=wanted)
        state = replay(history)
        reading = read_message(message, state.topics)
        asked: Lang | None = "en" if lang == "en" else "zh" if lang == "zh" else None
        if asked is not None and reading.lang != asked:
            reading = replace(reading, lang=asked)
        hits = self.search.search(reading.text, k=5, expand=False) if reading.text else []
        turn = TurnContext(reading, state, hits, set(tokenize(reading.text)) if reading.text else set())
        draft = Draft(self.corpus, turn.lang)
        try:
            answer_type, calculation = self._dispatch(turn, draft)
        except Exception:
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
        if frame.ask in ("section", "count") and (
            DISCREPANCY_CUE.search(text) or explicit_clause_ids(text, self.corpus)
        ):
            frame = replace(frame, ask="other")  # "正文和附件有什么不一致": the differences, not the annex itself
        named = [t for t in turn.reading.topics if t in MONETARY_POLICIES]
        if named and any(set(v.policies) & set(named) for v in self.lexicon.vetoes_in(text)):
            topics, facts, _figures = self._money_request(turn)  # "淘宝店算不算自建平台": 不能, before anything else
            return self._money(turn, draft, [t for t in topics if t in named] or named, facts)
        if frame.ask == "match" and not [t for t in turn.reading.topics if t in MONETARY_POLICIES][1:]:
            if (
                not turn.reading.facts
                and not turn.state.facts
                and (answer := self._business(frame, turn, draft, own=True))
            ):
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
        money_first = frame.ask in ("amount", "eligibility", "match") and frame.scores.get(
            frame.ask, 0
        ) > frame.scores.get("who", 0)
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
        if named and (MONEY_CUE.search(text) or PERSONAL_CUE.search(text) or frame.ask in ("amount", "eligibility")):
            return self._money(turn, draft, named, facts)  # a subsidy named without its figure
        if frame.ask in ("amount", "eligibility") and not turn.reading.topics and topics and FOLLOWUP_CUE.search(text):
            return self._money(turn, draft, topics, facts)  # "那按第二年的能申请吗": the subsidy under discussion
        loose = turn.reading.extraction.unassigned  # a figure that names no policy ("我们去年卖了3个亿")
        if (
            not turn.reading.topics
            and (loose or MONEY_CUE.search(text) and PERSONAL_CUE.search(text))
            and not self._lexical_targets(turn)
        ):
            if topics and FOLLOWUP_CUE.search(text):
                return self._money(turn, draft, topics, facts)
            return self._clarify_which(turn, draft)
        return self._general(turn, draft)

    def _asks_like_before(self, turn: TurnContext) -> bool:
        """ "那乡村旅游那块呢" after "农产品这块哪个部门牵头": the same who/when question about a new subject."""
        before = turn.state.last_text
        if turn.frame is not None and turn.frame.ask not in ("other", "who", "when"):
            return False  # "它要培育好多个市场主体": a new kind of question about the same subject
        if not before or not FOLLOWUP_CUE.search(turn.text) or len(turn.text) > 24 or turn.reading.extraction.amounts:
            return False
        if not (LEAD_CUE.search(before) or RESP_CUE.search(before) or DEADLINE_CUE.search(before)):
            return False
        return bool(self._lexical_targets(turn) or self.lexicon.terms_in(turn.text))

    def _frame(self, turn: TurnContext) -> Frame:
        """What this turn asks, weighed against whether it states a figure the calculator can use."""
        _topics, _facts, figures = self._money_request(turn)
        about = bool(
            turn.reading.topics
            or turn.reading.extraction.amounts
            or lexical_evidence(turn.text, self.corpus)
            or MONEY_CUE.search(turn.text)
            or TARGET_CUE.search(turn.text)
        )
        return read_frame(
            turn.text, self.lexicon, has_facts=figures, names_policy=bool(turn.reading.topics), about_policy=about
        )

    def _money_request(self, turn: TurnContext) -> tuple[list[str], dict[str, Any], bool]:
        """(policies under discussion, facts so far, whether this turn gives something to compute).

        A turn computes when it states a figure or condition of a policy whose driving figure is known
        by now: "首年交易额3亿", a follow-up "那5亿呢", or "那项目投资只有50万呢" after a figure.
        """
        if turn.money is None:
            turn.money = self._work_out_money_request(turn)
        return turn.money

    def _work_out_money_request(self, turn: TurnContext) -> tuple[list[str], dict[str, Any], bool]:
        reading, state = turn.reading, turn.state
        topics = [t for t in select_topics(reading, state) if t in MONETARY_POLICIES]
        # A loose figure goes to the policy under discussion only when that policy is unambiguous: a real
        # follow-up ("那5亿呢"), or one policy named. With several (the HQ family) it would be a guess.
        single = len([t for t in topics if t != "hq_establishment"]) == 1
        followup = (
            assign_followup(reading, topics, state.facts)
            if not reading.topics or (reading.extraction.unassigned and single)
            else {}
        )
        own = merge_facts(merge_facts(followup, reading.facts), resolve_unclear(reading, state))
        facts = merge_facts(state.facts, own)
        touched = any(f in own for t in topics for f in (*POLICY_FACTS[t], "usd_cny_rate"))
        known = any(f in facts for t in topics for f in DRIVING_FACTS[t])
        if (
            own
            and reading.topics
            and set(own) <= {"demo_base_level", "demo_enterprise_level"}
            and not OWN_STATEMENT.search(reading.text)
        ):
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
            draft.add(
                en,
                "",
                SCOPE_EN,
                "",
                "For anything else, please contact the Beibei District Commerce Commission (区商务委).",
            )
        else:
            draft.add(zh, "", SCOPE_ZH, "", f"其他问题请咨询北碚区商务委员会（{CONTACT}）。")
        return "out_of_scope", None

    # --- money: calculation, clarification, rule ---------------------------------------------------
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
            draft.add(
                _t(
                    lang,
                    f"相关条款共{len(chosen)}条：{'、'.join(chosen)}。",
                    f"{len(chosen)} related clauses: {', '.join(chosen)}.",
                )
            )
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
                draft.quoted(f"**{title}**", c, quote)
        leads = list(dict.fromkeys(unit for c in chosen if (unit := self.corpus.get(c).lead_unit)))
        if leads:
            draft.add(
                "",
                _t(
                    lang,
                    f"牵头单位：{_units(leads, lang)}（办理或咨询请联系）。",
                    f"Lead unit to contact: {_units(leads, lang)}.",
                ),
            )
        return "policy_answer", None
