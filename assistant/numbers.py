"""Money, rates, years and profile facts from the free text business owners type.

Owners write figures every way at once: "3亿", "3.5亿元", "三亿五千万", "六个亿", "1,000万", "2.5亿美元",
"RMB 300m", "$200 million", "年租金四十万". Every figure that reaches the calculator passes through here, so
this module is deliberately small and table-tested:

* ``extract_amounts(text)`` finds money (value as exact ``Decimal``, currency CNY|USD, span, raw text).
  A number is money only if it carries a currency (元, 美元, $, RMB, yuan…) or a 万/亿 (million/billion)
  magnitude, and is not a count ("1000家", "3万单"). "第2条", "2022年", "连续5年" are not money.
  Chinese numerals are converted by ``cn2an``; Arabic mantissas are scaled with Decimal, never float.
  "1-5亿" is a range: both ends come back (1亿, 5亿), marked ``range_part`` low/high.
* ``extract_facts(text)`` maps the figures and phrases to ``EnterpriseProfile`` fields by the cue word
  nearest to each figure in its clause (年租金 → office_annual_rent_yuan, 首年交易额 → the platform figure …).
  ``extract(text, topic_hint)`` returns the same plus what could not be placed (``unassigned``), a bare
  recognition level ("是国家级的"), and notes that the answer must show (月租金×12, a range read at its
  lower end, a figure dropped because the owner only said "不到5亿").

Figures the owner quotes as an outcome ("能拿200万吗", "购房补贴最高100万元", "说成1000万") are claims, not
facts, and are never placed: amounts come only from the calculator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from typing import Any

from assistant import fact_cues as cues

# Numerals, money figures and exchange rates are read by the one money module; this module binds them.
from assistant.money import (
    Amount,
    extract_amounts,
    extract_rate,
    format_cn_amount,
    parse_numeral,
    prepare,
    read_money,
)

__all__ = [
    "Amount",
    "Extraction",
    "extract",
    "extract_amounts",
    "extract_facts",
    "extract_rate",
    "format_cn_amount",
    "parse_numeral",
    "prepare",
]


@dataclass
class Extraction:
    """What one message says, ready to merge into a conversation's facts."""

    facts: dict[str, Any] = field(default_factory=dict)
    unassigned: list[Amount] = field(default_factory=list)  # money with no cue: a follow-up's bare "5亿"
    level: str | None = None  # a bare "国家级" / "市级" with no 示范基地/示范企业 next to it
    ranges: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # field → (low, high) of "1-3亿"
    notes: list[str] = field(default_factory=list)
    amounts: list[Amount] = field(default_factory=list)
    # figures that could not be bound with confidence: (field, what is unclear, the figure as written).
    # The composer asks about these instead of computing (never a guess).
    unclear: list[tuple[str, str, str, Decimal]] = field(default_factory=list)
    figures: dict[int, tuple[str | None, int | None]] = field(default_factory=dict)  # start → (period, ordinal)


def _segment(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for m in cues.SEGMENT_END.finditer(text, 0, pos):
        start = m.end()
    end = cues.SEGMENT_END.search(text, pos)
    return start, (end.start() if end else len(text))


def _cue_for(text: str, amount: Amount, others: list[Amount]) -> str | None:
    """Kind of the cue nearest before the figure within its clause, else nearest after."""
    seg_start, seg_end = _segment(text, amount.start)
    blocked = [(a.start, a.end) for a in others]
    before = [
        m
        for m in cues.CUE_RE.finditer(text, seg_start, amount.start)
        if not any(s <= m.start() < e for s, e in blocked)
    ]
    if before:
        return cues.CUE_KIND[before[-1].lastgroup]  # type: ignore[index]
    for m in cues.CUE_RE.finditer(text, amount.end, max(seg_end, amount.end)):
        if not any(s <= m.start() < e for s, e in blocked):
            return cues.CUE_KIND[m.lastgroup]  # type: ignore[index]
    return None


_FIRST_YEAR = re.compile(r"首年|头一?年|第一年|网上交易额|first[-\s]year", re.IGNORECASE)


def _sales_field(amount: Amount, text: str, topics: set[str]) -> str | None:
    """交易额 means different figures under different policies: decide by the policy being discussed.
    None when nothing says which (a bare "卖了3个亿" could be any of them)."""
    cross = "cross_border" in topics or cues.CROSS_BORDER.search(text)
    platform = "self_built_platform" in topics or (cues.PLATFORM.search(text) and not cross)
    if amount.currency == "USD" or (cross and not platform):
        return "cross_border_retail_usd" if amount.currency == "USD" else "cross_border_retail_cny"
    if not platform and (cues.HQ.search(text) or topics & {"hq_establishment"}):
        return "online_annual_sales_yuan"
    if platform or _FIRST_YEAR.search(text):
        return "platform_first_year_online_transactions_yuan"
    return None


_HALF = Decimal(1) / 2  # 半年: half a year, a unit of time, not a policy figure


def _years(m: re.Match) -> Decimal | None:
    n = m.group("n")
    value = _HALF if n == "半" else cues.count_word(n)
    if value is None:
        return None
    unit = m.group("u").lower()
    if unit.startswith(("个月", "月", "month")):
        return (value / 12).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
    if m.groupdict().get("half"):
        value += _HALF
    if m.groupdict().get("almost"):  # "快两年": surely more than a year, not yet two
        value = max(Decimal(0), value - 1)
    return value


def _field_for(kind: str, amount: Amount, text: str, topics: set[str]) -> str | None:
    if kind == "office":
        return None
    if kind in ("sales", "retail"):
        return _sales_field(amount, text, topics | ({"cross_border"} if kind == "retail" else set()))
    if kind == "month_rent":
        return "office_annual_rent_yuan"
    return cues.MONEY_FIELDS.get(kind)


def _period(text: str, seg_start: int, amount: Amount, seg_end: int) -> str | None:
    """'month' | 'year' | None: the period marker nearest the figure in its clause."""
    before = text[seg_start : amount.start]
    after = text[amount.end : seg_end]
    marks = [(amount.start - m.end(), "month") for m in cues.PERIOD_MONTH.finditer(before)]
    marks += [(amount.start - m.end(), "year") for m in cues.PERIOD_YEAR.finditer(before)]
    reach = 30 if re.match(r"\s*[A-Za-z]", after) else 8  # "50,000 yuan in rent every month"
    marks += [(m.start() + 1, "month") for m in cues.PERIOD_MONTH.finditer(after[:reach])]
    marks += [(m.start() + 1, "year") for m in cues.PERIOD_YEAR.finditer(after[:reach])]
    return min(marks)[1] if marks else None


def _ordinal(text: str, seg_start: int, amount: Amount) -> int | None:
    """1 for 首年/第一年, n for 第n年, the calendar year for "2021年" (as 2021), None when unmarked."""
    found = list(cues.ORDINAL.finditer(text, seg_start, amount.start))
    if not found:
        return None
    m = found[-1]
    if cues.ORDINAL_RANGE.search(text, max(seg_start, m.start() - 12), amount.start):
        return None  # "第一年到第五年…依次为": the figures are the years in order
    if m.group("first"):
        return 1
    if m.group("next"):
        return 2
    if m.group("cal"):
        return int(m.group("cal"))
    value = parse_numeral(m.group("n"))
    return int(value) if value is not None and value == value.to_integral_value() else None


def _cue_before(text: str, amount: Amount) -> str | None:
    """The last measure cue anywhere before the figure ("贡献，第1年80万": 贡献 names the series)."""
    kinds = [cues.CUE_KIND[m.lastgroup] for m in cues.CUE_RE.finditer(text, 0, amount.start)]  # type: ignore[index]
    kinds = [k for k in kinds if k != "claim"]
    return kinds[-1] if kinds else None


@lru_cache(maxsize=1)
def _award_amounts() -> frozenset[Decimal]:
    """Every amount a policy awards or caps (policies.yaml): a figure equal to one, named as the award
    ("自建平台那30万", "应该是30万还是50万"), is the subsidy itself, not a fact about the business."""
    from pydantic import BaseModel

    from assistant.knowledge import Quantity, policies

    found: set[Decimal] = set()

    def walk(obj: Any, name: str | None = None) -> None:
        if isinstance(obj, Quantity):
            if name in ("amount", "cap") and obj.unit == "CNY":
                found.add(obj.value)
        elif isinstance(obj, BaseModel):
            for key in type(obj).model_fields:
                walk(getattr(obj, key), key)
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item, name)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item, name)

    for policy in policies():
        walk(policy)
    return frozenset(found)


def _place_amounts(text: str, amounts: list[Amount], topics: set[str], out: Extraction) -> None:
    """Give each figure the field its cue names, once its period, ordinal and scope are consistent with
    that field; a figure that cannot be bound with confidence goes to ``out.unclear`` (the composer asks).

    The later of two figures for one field wins, except that a first-year figure beats a later year's;
    contributions given for several years form a list in year order.
    """
    contributions: list[tuple[int | None, Decimal]] = []
    conflicting: set[str] = set()
    placed: dict[str, tuple[Decimal, str | None, tuple[Decimal, Decimal] | None, int | None, bool]] = {}
    last_kind: str | None = None
    last_ordinal: int | None = None
    for i, amount in enumerate(amounts):
        if amount.range_part == "high":
            continue  # a range is read at its lower end, with a note
        partner = amounts[i + 1] if amount.range_part == "low" else amount
        seg_start, seg_end = _segment(text, amount.start)
        head = text[seg_start : amount.start]
        clause = text[seg_start:seg_end]
        if cues.UPPER_BOUND_BEFORE.search(head):
            out.notes.append(f"“{amount.raw}”是上限或约数，不能据此判断是否达到门槛，未用于测算。")
            continue
        if cues.CLAIM_AFTER.match(text, partner.end):
            last_kind = "claim"
            continue  # "那30万扶持要交税吗": the subsidy itself, never a fact about the business
        if re.search(r"(?:那|这)(?:个|笔)?\s*$", head) and amount.value in _award_amounts():
            last_kind = "claim"
            continue  # "新设立总部那100万": the award, pointed at
        if (
            (cues.QUESTION_CLAUSE.search(clause) or cues.THRESHOLD_QUESTION.search(clause))
            and cues.THRESHOLD_ASKED.search(clause)
            and not cues.PERSONAL.search(clause)
        ):
            continue  # "门槛是不是1亿": a threshold being asked about
        if cues.QUOTED_RULE.search(clause) and not cues.PERSONAL.search(clause):
            continue  # "附件里说…5亿以上给500万": the rule as the owner quotes it
        ordinal = _ordinal(text, seg_start, amount)
        period = _period(text, seg_start, amount, seg_end)
        out.figures[amount.start] = (period, ordinal)
        kind = _cue_for(text, partner, [a for a in amounts if a is not partner and a is not amount])
        if kind is None and ordinal == 1 and ("self_built_platform" in topics or cues.PLATFORM.search(text)):
            kind = "sales"  # "客户首年做了3.6亿": the platform's first-year volume
        if kind is None and ordinal is not None and (last_ordinal is not None or last_kind is None):
            kind = last_kind or _cue_before(text, amount)  # a series continues only from a figure with a year
        if (
            kind is None
            and last_kind
            and i > 0
            and cues.LIST_SEPARATOR.fullmatch(text, amounts[i - 1].end, amount.start)
        ):
            kind = last_kind  # "分别是100万、120万 and 150万" / "1 million, 2 million and 4 million": one list
        if kind == "claim" and last_kind == "claim" and _cue_for(text, partner, []) is None:
            pass  # "贡献，第1年80万，第2年120万": the series continues
        if kind in ("retail_weak", "sales_weak"):
            if amount.value in _award_amounts():
                last_kind = "claim"
                continue  # "自建平台30万和示范企业10万": a policy's award named next to its policy
            kind = kind.removesuffix("_weak")
        if (
            kind is None
            and amount.value in _award_amounts()
            and amount.currency == "CNY"
            and re.search(r"还是|是不是|应该|能不能|能否|可以|可不可以|吗", clause)
        ):
            continue  # "应该是30万还是50万", "能申请100万吗": a bare award amount is the award, not a fact
        if kind is None:
            out.unassigned.append(amount)
            continue
        if kind == "part_payment":
            continue  # "首付75万": part of a price, never the price
        if kind == "claim":
            last_kind, last_ordinal = "claim", ordinal
            continue  # "能拿200万吗", "补贴最高100万元": what the owner hopes or quotes, not a fact
        if kind == "office":  # "600万元的办公楼": bought or rented, as the sentence says
            kind = (
                "rent"
                if re.search(r"租|rent|lease", text, re.IGNORECASE)
                else "purchase"
                if re.search(r"买|购|bought|buy|purchas", text, re.IGNORECASE)
                else "office"
            )
        if kind == "rent" and cues.MONTHLY_AFTER.match(text, partner.end):
            kind = "month_rent"
        scope = cues.scope(clause)
        if kind in ("sales", "retail") and scope == "domestic":
            # a domestic figure is never the cross-border one, even when the message also names 跨境
            name = None if kind == "retail" else _sales_field(amount, clause, topics - {"cross_border"})
            if name in ("cross_border_retail_usd", "cross_border_retail_cny"):
                name = None
        elif kind in ("sales", "retail") and scope == "cross_border":
            name = _field_for(kind, amount, clause, topics | {"cross_border"})
        else:
            name = _field_for(kind, amount, text, topics)
        if name is None:
            out.unassigned.append(amount)
            continue
        last_kind, last_ordinal = kind, ordinal
        if name in cues.CNY_FIELDS and amount.currency == "USD":
            out.notes.append(f"“{amount.raw}”是美元金额，该项以人民币计，未用于测算。")
            continue
        if kind == "month_rent":
            period = "month"
        if cues.UNIT_PRICE.search(text[max(seg_start, amount.start - 6) : min(seg_end, partner.end + 6)]):
            out.unclear.append((name, "unit_price", amount.raw, amount.value))  # 80元/平米 is a price, not the rent
            continue
        if name in cues.PERIOD_FIELDS and cues.ONE_MONTH.search(head):
            out.unclear.append((name, "monthly", amount.raw, amount.value))  # one month's figure: 12 × it is a guess
            continue
        if name in ("cross_border_retail_usd", "cross_border_retail_cny") and cues.not_retail(text):
            out.unclear.append((name, "not_retail", amount.raw, amount.value))  # B2B is not 零售 (三(五))
            continue
        if name == "office_annual_rent_yuan" and period is None and kind == "rent":
            out.unclear.append((name, "period", amount.raw, amount.value))  # 房租3万: a month's or a year's?
            continue
        if name == "platform_first_year_online_transactions_yuan" and ordinal is not None and ordinal != 1:
            if ordinal < 1000:  # 第二年…: only the first year's volume counts (三(四) 首年网上交易额)
                out.notes.append(
                    f"“{amount.raw}”是第{ordinal}年的数字，政策只看建成运营后首年的网上交易额，未用于测算。"
                )
                continue
        value = amount.value
        if kind == "month_rent" or (name == "office_annual_rent_yuan" and period == "month"):
            value = value * 12
            out.notes.append(f"按月租金{format_cn_amount(amount.value)}×12个月折算年租金{format_cn_amount(value)}。")
        elif name in cues.PERIOD_FIELDS and period == "month":
            value = value * 12  # "每月/月均2500万": every month of the year, so the year is exactly 12 times it
            out.notes.append(
                f"按每月{format_cn_amount(amount.value, amount.currency)}×12个月"
                f"折算全年{format_cn_amount(value, amount.currency)}。"
            )
        note, span = None, None
        if amount.range_part == "low" and partner.range_part == "high":
            span = (value, partner.value * 12 if value != amount.value else partner.value)
            note = f"“{amount.raw}”是一个区间，按下限{format_cn_amount(value, amount.currency)}测算。"
        elif (
            amount.approximate
            or cues.LOWER_BOUND_BEFORE.search(head)
            or cues.LOWER_BOUND_AFTER.match(text, partner.end)
        ):
            note = f"“{amount.raw}”按{format_cn_amount(value, amount.currency)}（下限）测算。"
        if name == "annual_local_contribution_yuan":
            contributions.append((ordinal, value))
            if note:
                out.notes.append(note)
            continue
        previous = placed.get(name)
        if (
            previous is not None
            and previous[3] == 1
            and ordinal not in (None, 1)
            and name == "platform_first_year_online_transactions_yuan"
        ):
            continue  # the first year's volume stays
        own = bool(cues.PERSONAL.search(clause))
        if previous is not None and previous[0] != value and not cues.CORRECTION.search(text):
            if previous[4] and not own:
                continue  # the owner's own figure stays; the other one quotes the rule ("1亿以上")
            if own == previous[4]:
                # two different figures for one thing ("第一年租金30万、第二年33万", "1.2亿和2亿"): not guessed
                conflicting.add(name)
                out.unclear.append(
                    (name, "two_values", f"{format_cn_amount(previous[0])}、{format_cn_amount(value)}", value)
                )
        placed[name] = (value, note, span, ordinal, own)  # a correction ("其实是…") overrides an earlier figure
    for name in conflicting:
        placed.pop(name, None)
    for name, (value, note, span, _ordinal_, _own) in placed.items():
        out.facts[name] = value
        if note:
            out.notes.append(note)
        if span:
            out.ranges[name] = span
    _place_contributions(text, contributions, out)


def _place_contributions(text: str, contributions: list[tuple[int | None, Decimal]], out: Extraction) -> None:
    """One figure, or a series in year order (第1年…第5年, 2020年…2024年)."""
    if not contributions:
        return
    shown = "、".join(format_cn_amount(v) for _o, v in contributions)
    ordinals = [o for o, _v in contributions if o is not None]
    if ordinals:
        # Years must be 1, 2, 3… (or consecutive calendar years) and one figure each; anything else is asked.
        if len(ordinals) != len(contributions) or len(set(ordinals)) != len(ordinals):
            out.unclear.append(("annual_local_contribution_yuan", "series", shown, contributions[0][1]))
            return
        contributions = sorted(contributions, key=lambda ov: ov[0] or 0)
        first = contributions[0][0] or 0
        consecutive = [o for o, _v in contributions] == list(range(first, first + len(contributions)))
        if (first < 1000 and first != 1) or not consecutive:
            out.unclear.append(("annual_local_contribution_yuan", "series", shown, contributions[0][1]))
            return
        out.facts["annual_local_contribution_yuan"] = [v for _o, v in contributions][:5]
        return
    values = [v for _o, v in contributions]
    if len(values) == 1 and not cues.SERIES_MARK.search(text):
        # "去年贡献了300万": one year's figure; which year of the five it is decides the rate
        out.unclear.append(("annual_local_contribution_yuan", "which_year", shown, values[0]))
        return
    if len(values) == 1:
        years = cues.CONTRIBUTION_YEARS.search(text)
        count = parse_numeral(years.group("n")) if years else None
        if count is not None and 1 <= count < 5 and count == count.to_integral_value():
            # "前3年每年200万": three known years, not five (the calculator would read one figure as five)
            out.facts["annual_local_contribution_yuan"] = [values[0]] * int(count)
        else:
            out.facts["annual_local_contribution_yuan"] = values[0]
        return
    if len(values) > 5:
        out.notes.append("贡献奖励只覆盖5个年度，仅取前5个年度的贡献额。")
    out.facts["annual_local_contribution_yuan"] = values[:5]


def _clause_at(text: str, pos: int) -> str:
    start, end = _segment(text, pos)
    return text[start:end]


def _place_words(text: str, out: Extraction) -> None:
    for pattern, name in cues.DEMO_PATTERNS:
        if name not in out.facts and (m := pattern.search(text)):
            if cues.NOT_YET_RECOGNISED.search(_clause_at(text, m.start())):
                out.facts[name] = "none"  # "在申报市级示范基地，还没批下来": not recognised yet
                out.notes.append("尚未获得认定：奖励以被认定为国家级或市级为前提。")
                continue
            out.facts[name] = _level(m.group("lvl"), out)
    if "demo_base_level" not in out.facts and "demo_enterprise_level" not in out.facts:
        bare = re.sub(
            rf"[，,、]?\s*(?:而)?(?:不是|并非|不属于)\s*{cues.LEVEL.replace('?P<lvl>', '?:')}(?:的)?", "", text.strip()
        )
        if m := cues.BARE_LEVEL.match(bare):
            out.level = _level(m.group("lvl"), out)
        elif len(bare) <= 24 and (m := re.search(cues.LEVEL, bare, re.IGNORECASE)):
            out.level = _level(m.group("lvl"), out)  # "国家商务部认定的，国字号": a short answer naming the level
    if cues.NOT_NEW_HQ.search(text):
        out.facts["new_hq_type"] = "none"
    else:
        for pattern, hq_type in cues.HQ_TYPES:
            m = pattern.search(text)
            if m and cues.NEWLY_SET_UP.search(_clause_at(text, m.start())):
                out.facts["new_hq_type"] = hq_type  # only a *newly set up* cues.HQ in Beibei qualifies (附件-10)
                break
    for name, negative, positive in cues.BOOL_FACTS:
        if negative.search(text):
            out.facts[name] = False
        elif (m := positive.search(text)) and not cues.QUESTION_CLAUSE.search(_clause_at(text, m.start())):
            out.facts[name] = True
    for pattern in cues.YEARS_IN_OPERATION:
        m = pattern.search(text)
        if m and not cues.PERSONAL.search(text) and cues.HOW_COUNTED.search(text):
            continue  # "正常经营1年以上，从哪天算": the condition quoted, not the owner's years
        if m and (years := _years(m)) is not None:
            out.facts["years_in_operation"] = years
            break
    for i, pattern in enumerate(cues.RENT_YEARS):
        for m in pattern.finditer(text):
            if i == 1 and "租" not in _clause_at(text, m.start()):
                continue  # "连续5年" is a lease length only where the clause is about renting
            years = cues.count_word(m.group("n")) if m.group("n") != "半" else None
            if years is not None and years == years.to_integral_value() and 1 <= years <= 100:
                out.facts["rent_years"] = int(years)
                break
        if "rent_years" in out.facts:
            break


def _level(word: str, out: Extraction) -> str:
    word = word.lower()
    if word.startswith(("国家", "national", "国字号", "商务部")):
        return "national"
    if word in ("市级", "重庆市级", "市一级") or word.startswith(("municipal", "city")):
        return "municipal"
    out.notes.append(f"条文只对国家级、（重庆）市级认定给予奖励，“{word}”不在其列。")
    return "none"


def extract(text: str, topic_hint: set[str] | frozenset[str] = frozenset()) -> Extraction:
    """Facts, unplaced figures and notes from one message; ``topic_hint`` = policy ids under discussion."""
    money = read_money(text)
    masked = money.masked
    out = Extraction()
    if money.rate is not None:
        out.facts["usd_cny_rate"] = money.rate
    out.amounts = cues.with_shared_unit(masked, cues.with_declared_unit(masked, money.amounts))
    _place_amounts(masked, out.amounts, set(topic_hint), out)
    _place_words(masked, out)
    return out


def extract_facts(text: str) -> dict[str, Any]:
    """EnterpriseProfile field → value for what the text states (see ``extract`` for the rest)."""
    return extract(text).facts
