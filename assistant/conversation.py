"""A conversation's state, rebuilt from the stored history alone (facts, topics, the clauses last cited), so a
follow-up such as "那5亿呢" works after a restart and two API instances answer the same session alike."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.fact_cues import not_retail
from assistant.intent import DRIVING_FACTS, HQ_FAMILY, MONETARY_POLICIES, STACK_CUE, Reading, read_message
from assistant.schemas import Turn


@dataclass
class State:
    facts: dict[str, Any] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)  # the policies last discussed
    focus: list[str] = field(default_factory=list)  # clause ids the last answer cited
    last_type: str | None = None
    turns: int = 0
    unclear: list[tuple[str, str, str, Any]] = field(default_factory=list)  # figures the last turn asked about
    last_text: str = ""  # the previous message as read: a follow-up "那乡村旅游呢" asks the same kind of question


def select_topics(reading: Reading, state: State) -> list[str]:
    """The policies this turn is about: its own topics (plus the earlier ones when it says 同时/一共…),
    or, for a follow-up that names none ("那5亿呢", "是国家级的"), the earlier ones."""
    own = list(reading.topics)
    if reading.extraction.level and not own:
        own = [t for t in state.topics if t in ("demo_base", "demo_enterprise")]
    if own and state.topics and STACK_CUE.search(reading.text) and set(own) - set(state.topics):
        return [t for t in MONETARY_POLICIES + ("talent",) if t in set(own) | set(state.topics)]
    if own:
        # facts that only repeat the HQ type ("我们是新设的区域总部") do not replace a narrower earlier topic
        if set(own) == set(HQ_FAMILY) and state.topics and set(state.topics) <= set(HQ_FAMILY):
            return list(state.topics)
        return own
    return list(state.topics)


def merge_facts(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    merged.update(new)
    return merged


def assign_followup(reading: Reading, topics: list[str], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Place a bare figure or level of a follow-up ("那5亿呢", "是国家级的") on the policy under discussion.

    Only one figure is placed: two different bare figures cannot be told apart, so neither is guessed.
    The figure keeps its period (每月 → ×12 for rent) and ordinal (a second year's volume is not the first
    year's); a continuing series of yearly contributions extends the one already given.
    """
    facts: dict[str, Any] = {}
    drivers = [DRIVING_FACTS[t][0] for t in topics if t in DRIVING_FACTS and t != "hq_establishment"]
    drivers.sort(key=lambda f: f not in (previous or {}))  # the figure the owner gave before is the one corrected
    amounts = reading.extraction.unassigned
    figures = reading.extraction.figures
    if amounts and drivers:
        field_name = drivers[0]
        info = [figures.get(a.start, (None, None)) for a in amounts]
        if field_name == "annual_local_contribution_yuan" and all(o is not None for _p, o in info):
            earlier = (previous or {}).get(field_name)
            earlier = earlier if isinstance(earlier, list) else []
            ordinals = [o for _p, o in info]
            if ordinals == list(range(len(earlier) + 1, len(earlier) + 1 + len(amounts))):
                facts[field_name] = (earlier + [a.value for a in amounts])[:5]
            return facts
        if field_name == "annual_local_contribution_yuan" and len(amounts) > 1 and _IN_ORDER.search(reading.text):
            facts[field_name] = [a.value for a in amounts][:5]  # "五年分别是70、100、120、140、160万"
            return facts
        if len({(a.value, a.currency) for a in amounts}) > 1:
            return facts
        amount = amounts[-1]
        period, ordinal = info[-1]
        if field_name == "cross_border_retail_usd":
            if not_retail(reading.text):
                return facts  # B2B volume is not 零售交易额
            field_name = "cross_border_retail_usd" if amount.currency == "USD" else "cross_border_retail_cny"
        if field_name.startswith("demo_"):
            return facts
        if amount.currency == "USD" and field_name != "cross_border_retail_usd":
            return facts
        if field_name == "platform_first_year_online_transactions_yuan" and ordinal not in (None, 1):
            return facts  # "第二年做到3亿": not the first year's volume
        if field_name == "annual_local_contribution_yuan":
            return facts  # a bare yearly figure without its year is not placed
        facts[field_name] = amount.value * 12 if period == "month" else amount.value
    if reading.extraction.level:
        for t in topics:
            if t in ("demo_base", "demo_enterprise"):
                facts[f"{t}_level"] = reading.extraction.level
                break
    return facts


_IN_ORDER = re.compile(
    r"分别|依次|逐年|各年|respectively|in\s+order|years?\s+(?:one|1)\s+(?:to|through)", re.IGNORECASE
)
# The answer to "月租金还是年租金？": a period word, not a duration ("三年都在这租" is the lease, not the period).
_SAYS_MONTH = re.compile(
    r"月租|每个?月|按月|月付|一个月|月的|月交|monthly|per\s+month|a\s+month|every\s+month", re.IGNORECASE
)
_SAYS_YEAR = re.compile(
    r"年租|每年|按年|年付|一年的?|年的|年交|annual|yearly|per\s+(?:year|annum)|a\s+year|every\s+year", re.IGNORECASE
)


def resolve_unclear(reading: Reading, state: State) -> dict[str, Any]:
    """Answer to "是月租金还是年租金？": "每月的" / "年租金" binds the figure the last turn asked about."""
    facts: dict[str, Any] = {}
    if not state.unclear or reading.extraction.amounts:
        return facts
    month, year = bool(_SAYS_MONTH.search(reading.text)), bool(_SAYS_YEAR.search(reading.text))
    if month == year:
        return facts
    for name, reason, _raw, value in state.unclear:
        if reason != "period" or name != "office_annual_rent_yuan":
            continue
        facts[name] = value * 12 if month else value
    return facts


def replay(history: list["Turn"], max_turns: int = 8) -> State:
    """Fold earlier turns into a State exactly as they were read when asked (same rules, same order)."""
    state = State()
    for turn in history[-max_turns:]:
        reading = read_message(turn.message, state.topics)
        topics = select_topics(reading, state)
        facts = merge_facts(assign_followup(reading, topics, state.facts), reading.facts)
        facts = merge_facts(resolve_unclear(reading, state), facts)
        state.facts = merge_facts(state.facts, facts)
        state.unclear = list(reading.extraction.unclear)
        state.last_text = reading.text
        if reading.topics or facts:
            state.topics = [t for t in topics if t in MONETARY_POLICIES + ("talent",)]
        response = turn.response
        if response is not None:
            state.focus = [c.clause_id for c in response.citations]
            state.last_type = response.answer_type
        state.turns += 1
    return state
