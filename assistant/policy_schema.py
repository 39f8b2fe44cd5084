"""The shape of one record in ``corpus/policies.yaml``: its facts, conditions (thresholds, inclusivity), amount
rule (one model per primitive in `assistant.arithmetic`), notes and texts, validated by pydantic so a
misspelt key or a rule without its figures fails at load time, not in an owner's answer.

Figures are written in the policy's own notation ("1000万元", "20%", "3年") and become `Quantity` objects.
`assistant.knowledge` loads the records into a `PolicyBook`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from assistant.money import format_compact, format_money_en, format_percent, parse_money

Lang = Literal["zh", "en"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(Record):
    """One sentence in both languages; the calculator never falls back from one to the other."""

    zh: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.zh


# --------------------------------------------------------------------------------------------------
# Quantities: "1000万元" → (10000000, CNY), "20%" → (0.2, percent), "3年" → (3, year)
# --------------------------------------------------------------------------------------------------

Unit = Literal["CNY", "USD", "percent", "year", "count"]
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
_YEARS = re.compile(r"(\d+)年")


class Quantity(Record):
    """A figure as the policy writes it (``text``) and as arithmetic uses it (``value``)."""

    text: str
    value: Decimal
    unit: Unit


def _quantity(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if m := _PERCENT.fullmatch(text):
        return Quantity(text=text, value=Decimal(m.group(1)) / 100, unit="percent")
    if m := _YEARS.fullmatch(text):
        return Quantity(text=text, value=Decimal(m.group(1)), unit="year")
    money = parse_money(text)
    if money is None or not text.endswith("元"):
        notation = "30万元, 20%, 3年"  # policy-literal: ok (an example of the notation, in an error message)
        raise ValueError(f"not a policy figure (write it as the text does, e.g. {notation}): {raw!r}")
    return Quantity(text=text, value=money[0], unit=money[1])


Q = Annotated[Quantity, BeforeValidator(_quantity)]


def format_quantity(q: Quantity, lang: Lang) -> str:
    """zh as the policy writes it (1000万元, 2亿美元, 3年); en exact (CNY 10,000,000, 3 years)."""
    if q.unit in ("CNY", "USD"):
        if lang == "en":
            return format_money_en(q.value, q.unit)
        return format_compact(q.value, "美元" if q.unit == "USD" else "元")
    if q.unit == "percent":
        return format_percent(q.value)
    number = format(q.value.normalize(), "f")
    if q.unit == "year":
        return f"{number} year{'' if q.value == 1 else 's'}" if lang == "en" else f"{number}年"
    return number


# --------------------------------------------------------------------------------------------------
# Schema of policies.yaml
# --------------------------------------------------------------------------------------------------


class Named(Record):
    """An HQ type or a recognition level: stable id, display names, the words owners use for it."""

    id: str
    zh: str
    en: str
    aliases: list[str] = Field(default_factory=list)

    def get(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.zh


class FactSpec(Record):
    """One EnterpriseProfile field: what kind of value it holds, its unit, and how questions name it."""

    kind: Literal["money", "money_by_year", "count", "bool", "enum", "rate"]
    unit: Literal["CNY", "USD", "year", "CNY_per_USD"] | None = None
    zh_unit: str | None = None  # unit word after a Chinese figure when 元 alone would be ambiguous
    integer: bool = False
    values: Literal["hq_types", "levels"] | None = None
    label: Text
    description: Text


ConditionTest = Literal["not_none", "is_true", "positive", "at_least", "reaches_tier", "at_least_usd"]


class Condition(Record):
    """One eligibility condition as the clause states it; ``unmet`` is what the answer says when it fails."""

    id: str
    fact: str
    test: ConditionTest
    threshold: Q | None = None
    inclusive: bool = True
    quote: str | None = None
    unmet: Text
    cny_fact: str | None = None  # at_least_usd: a CNY figure that may stand in for the USD one …
    rate_fact: str | None = None  # … at this stated rate

    @model_validator(mode="after")
    def _threshold_where_needed(self) -> Condition:
        needs = self.test in ("at_least", "at_least_usd")
        if needs != (self.threshold is not None):
            raise ValueError(f"condition {self.id}: threshold {'required' if needs else 'not allowed'} for {self.test}")
        if self.test == "at_least_usd" and not (self.cny_fact and self.rate_fact):
            raise ValueError(f"condition {self.id}: at_least_usd needs cny_fact and rate_fact")
        return self


class Note(Text):
    """An open question of the text, shown with the item (``eligible``: only once the item qualifies)."""

    when: Literal["always", "eligible"] = "always"


# Amount rules: one model per primitive the calculator interprets (see assistant.calculator).


class FixedRule(Record):
    kind: Literal["fixed"]
    amount: Q
    quote: str
    upper_bound: bool = False


class PercentWithCapRule(Record):
    kind: Literal["percent_with_cap"]
    fact: str
    rate: Q
    cap: Q
    quote: str
    upper_bound: bool = True


class YearlyPercentWithCapRule(Record):
    kind: Literal["yearly_percent_with_cap"]
    fact: str
    years_fact: str
    rate: Q
    max_years: Q
    cap: Q
    quote: str
    upper_bound: bool = True


class Stage(Record):
    years: Q
    rate: Q


class YearlyScheduleRule(Record):
    kind: Literal["yearly_schedule"]
    fact: str
    stages: list[Stage]
    quote: str
    upper_bound: bool = False

    @property
    def rates(self) -> list[Decimal]:
        """One rate per reward year: 前3年100%、后2年50% → [1, 1, 1, 0.5, 0.5]."""
        return [s.rate.value for s in self.stages for _ in range(int(s.years.value))]


class LevelAward(Record):
    amount: Q
    name: Text
    quote: str


class ByLevelRule(Record):
    kind: Literal["by_level"]
    fact: str
    levels: dict[str, LevelAward]
    upper_bound: bool = False


class Tier(Record):
    at_least: Q
    amount: Q
    label: Text


class TiersRule(Record):
    kind: Literal["tiers"]
    fact: str
    tiers: list[Tier]
    quote: str
    upper_bound: bool = False

    @model_validator(mode="after")
    def _ascending(self) -> TiersRule:
        floors = [t.at_least.value for t in self.tiers]
        if not floors or floors != sorted(set(floors)):
            raise ValueError("tiers must be non-empty and strictly ascending")
        return self


class NonMonetaryRule(Record):
    kind: Literal["non_monetary"]
    preferences: list[Text]
    quote: str
    upper_bound: bool = False


Rule = Annotated[
    FixedRule
    | PercentWithCapRule
    | YearlyPercentWithCapRule
    | YearlyScheduleRule
    | ByLevelRule
    | TiersRule
    | NonMonetaryRule,
    Field(discriminator="kind"),
]


class Policy(Record):
    """One subsidy: its clauses, the facts it reads, its conditions in clause order, its amount rule, and the
    sentences that explain it in both languages."""

    id: str
    title: Text
    clauses: list[str]
    units_from: str
    annex_row: Literal["none"] | None = None
    facts: list[str]
    thresholds_unclear_from: str | None = None
    conditions: list[Condition]
    amount: Rule
    notes: list[Note] = Field(default_factory=list)
    texts: dict[str, Text] = Field(default_factory=dict)
    # Filled by the loader from the parsed corpus, never written in the YAML:
    lead_unit: str = ""
    responsible_units: list[str] = Field(default_factory=list)
    _params: dict[str, Quantity] | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _units_not_typed(cls, data: Any) -> Any:
        """Units are read from the corpus; a typed copy would drift, so the file may not carry one."""
        if isinstance(data, dict) and {"lead_unit", "responsible_units"} & set(data):
            raise ValueError(f"policy {data.get('id')}: lead/responsible units come from units_from, not the YAML")
        return data

    def params(self) -> dict[str, Quantity]:
        """Every named figure of this policy, the names templates use (computed once; the policy is frozen)."""
        if self._params is None:
            self._params = self._compute_params()
        return self._params

    def _compute_params(self) -> dict[str, Quantity]:
        rule = self.amount
        out: dict[str, Quantity] = {}
        if isinstance(rule, FixedRule):
            out["amount"] = rule.amount
        elif isinstance(rule, PercentWithCapRule):
            out.update(rate=rule.rate, cap=rule.cap)
        elif isinstance(rule, YearlyPercentWithCapRule):
            out.update(rate=rule.rate, cap=rule.cap, max_years=rule.max_years)
        elif isinstance(rule, YearlyScheduleRule):
            for i, stage in enumerate(rule.stages, start=1):
                out[f"stage{i}_years"], out[f"stage{i}_rate"] = stage.years, stage.rate
            total = sum((s.years.value for s in rule.stages), Decimal(0))
            out["total_years"] = Quantity(text=str(total), value=total, unit="count")
        elif isinstance(rule, ByLevelRule):
            out.update({level: award.amount for level, award in rule.levels.items()})
        elif isinstance(rule, TiersRule):
            for i, tier in enumerate(rule.tiers, start=1):
                out[f"tier{i}_floor"], out[f"tier{i}_amount"] = tier.at_least, tier.amount
        for c in self.conditions:
            if c.threshold is not None:
                out[c.id] = c.threshold
            elif c.test == "reaches_tier" and isinstance(rule, TiersRule):
                out[c.id] = rule.tiers[0].at_least
        return out
