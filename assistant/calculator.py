"""Subsidy calculator for 北碚府发〔2019〕75号 三、支持政策: interprets the rules in corpus/policies.yaml.

Deterministic and model-free on purpose: a money figure shown to an enterprise must be reproducible by a
reviewer holding the clause text. The rules are data (``assistant.knowledge``); this module holds the few
``Decimal`` primitives that interpret them — fixed amount, tiers, percentage with cap, per-year percentage
with a cumulative cap, yearly schedule — and every item still names its clauses. All arithmetic runs under a
context that *raises* on any rounding (``EXACT``), so a 分 can never be lost silently.

Decisions the policy text leaves open are written down in the YAML and repeated in the result's notes:

* 以上/以下/不超过/以内 include the number itself (《民法典》第1259条): a figure exactly at a threshold meets it.
* 不超过/最高 make the amount an upper bound (``is_upper_bound=True``); the answer says "最高".
* A fact the profile does not state is never assumed: the item is ``needs_info`` and ``missing_facts`` names it.
  A stated fact that fails a condition makes the item ``not_eligible``, with ``conditions_unmet``.
* Where the text does not say whether one policy's thresholds also gate another (``thresholds_unclear_from``)
  we compute without them, say so, and warn when this profile would fail them.
* The text says nothing about stacking several policies: ``total_yuan`` is the plain sum of eligible items and
  is flagged as an upper bound whenever more than one item is summed.

Output amount format (``amount_yuan``, ``total_yuan``): see ``assistant.money.canonical_amount``; never rounded.
``amount_yuan`` is None unless the item is ``eligible``; an eligible item always has a positive amount.
``calculate(profile, lang="en")`` gives the same statuses and amounts with English titles, basis and notes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import (
    ROUND_DOWN,
    Decimal,
    localcontext,
)
from typing import Any

from assistant.arithmetic import (
    DISPLAY,
    EXACT,
    Capped,
    fixed_amount,
    percent_with_cap,
    tier_index,
    yearly_percent_with_cap,
    yearly_schedule,
)
from assistant.knowledge import load_policies, render
from assistant.money import canonical_amount, format_compact, format_money_en, format_percent, format_usd, format_yuan
from assistant.policy_schema import (
    ByLevelRule,
    Condition,
    FixedRule,
    Lang,
    NonMonetaryRule,
    PercentWithCapRule,
    Policy,
    TiersRule,
    YearlyPercentWithCapRule,
    YearlyScheduleRule,
)
from assistant.profile import (
    CalculationItem,
    CalculationResult,
    EnterpriseProfile,
    HqType,
    PolicyId,
    RecognitionLevel,
    Status,
    parse_profile,
    relevant_items,
)

__all__ = [  # unchanged names other modules import, now derived from policies.yaml
    "VALIDITY_NOTICE",
    "VALIDITY_NOTICE_EN",
    "INCLUSIVE_BOUNDARY_NOTE",
    "HQ_THRESHOLD_AMBIGUITY_NOTE",
    "STACKING_NOTE",
    "POLICY_IDS",
    "POLICY_TITLES",
    "POLICY_TITLES_EN",
    "POLICY_CLAUSES",
    "POLICY_FACTS",
    "POLICY_UNITS",
    "FACT_LABELS",
    "FACT_LABELS_EN",
    "STATUS_LABELS",
    "HQ_MIN_CAPITAL",
    "HQ_MIN_ONLINE_SALES",
    "HQ_MIN_YEARS",
    "PLATFORM_MIN_INVESTMENT",
    "HqType",
    "RecognitionLevel",
    "Status",
    "PolicyId",
    "EnterpriseProfile",
    "CalculationItem",
    "CalculationResult",
    "calculate",
    "relevant_items",
    "parse_profile",
    "canonical_amount",
    "format_usd",
    "format_yuan",
    "render_table",
    # the primitives
    "Capped",
    "fixed_amount",
    "percent_with_cap",
    "yearly_percent_with_cap",
    "tier_index",
    "yearly_schedule",
]

_BOOK = load_policies()

# --------------------------------------------------------------------------------------------------
# Names other modules import, derived from the data (one place for each fact)
# --------------------------------------------------------------------------------------------------

VALIDITY_NOTICE = _BOOK.notice("validity", "zh")
VALIDITY_NOTICE_EN = _BOOK.notice("validity", "en")
INCLUSIVE_BOUNDARY_NOTE = _BOOK.notice("inclusive_boundary")
HQ_THRESHOLD_AMBIGUITY_NOTE = _BOOK.notice("hq_threshold_ambiguity")
STACKING_NOTE = _BOOK.notice("stacking")

POLICY_IDS: tuple[str, ...] = _BOOK.ids()
POLICY_TITLES: dict[str, str] = {p.id: p.title.zh for p in _BOOK.policies}
POLICY_TITLES_EN: dict[str, str] = {p.id: p.title.en for p in _BOOK.policies}
POLICY_CLAUSES: dict[str, list[str]] = {p.id: list(p.clauses) for p in _BOOK.policies}
POLICY_UNITS: dict[str, tuple[str, list[str]]] = {
    p.id: (p.lead_unit, list(p.responsible_units)) for p in _BOOK.policies
}
# The profile facts each policy reads, gates first; an item is "touched" when the profile states one of them.
POLICY_FACTS: dict[str, tuple[str, ...]] = {p.id: tuple(p.facts) for p in _BOOK.policies}
FACT_LABELS: dict[str, str] = {name: _BOOK.fact_label(name, "zh") for name in _BOOK.facts}
FACT_LABELS_EN: dict[str, str] = {name: _BOOK.fact_label(name, "en") for name in _BOOK.facts}
STATUS_LABELS: dict[str, str] = {status: text.zh for status, text in _BOOK.statuses.items()}


def _figure(policy_id: str, name: str) -> Decimal:
    return _BOOK.policy(policy_id).params()[name].value


HQ_MIN_CAPITAL = _figure("hq_establishment", "min_capital")
HQ_MIN_ONLINE_SALES = _figure("hq_establishment", "min_sales")
HQ_MIN_YEARS = _figure("hq_establishment", "min_years")
PLATFORM_MIN_INVESTMENT = _figure("self_built_platform", "min_investment")

# --------------------------------------------------------------------------------------------------
# Interpreting one policy
# --------------------------------------------------------------------------------------------------

_SEP: dict[str, tuple[str, str]] = {"zh": ("；", "、"), "en": ("; ", ", ")}


def _money(amount: Decimal, lang: Lang) -> str:
    return format_money_en(amount) if lang == "en" else format_compact(amount)


def _fact_value(name: str, value: Any, lang: Lang) -> str:
    """A stated fact as the text shows it: money compact (zh) or exact (en), USD grouped, counts as written."""
    spec = _BOOK.facts[name]
    if spec.kind in ("money", "money_by_year") and isinstance(value, Decimal):
        if spec.unit == "USD":
            return format_money_en(value, "USD") if lang == "en" else format_usd(value)
        return format_money_en(value) if lang == "en" else format_compact(value, spec.zh_unit or "元")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class _Check:
    """One policy against one profile: collects missing facts, unmet conditions and notes, in clause order."""

    def __init__(self, policy: Policy, profile: EnterpriseProfile, lang: Lang) -> None:
        self.policy = policy
        self.p = profile
        self.lang = lang
        self.params = policy.params()
        self.missing: list[str] = []
        self.unmet: list[str] = []
        self.notes: list[str] = []
        self.condition_notes: list[str] = []  # raised while testing; shown after the standing notes
        self.at_boundary = False
        self.basis_key, self.rule_key = "basis", "rule"
        self.values: dict[str, str] = {}  # extra template values found while testing (a converted figure)

    def t(self, key: str, **values: str) -> str:
        return _BOOK.text(self.policy.id, key, self.lang, {**self.values, **values})

    def stated(self) -> dict[str, str]:
        """Every stated fact of this policy, formatted, plus the HQ type's name: the basis templates' inputs."""
        out = {
            f: _fact_value(f, getattr(self.p, f), self.lang)
            for f in self.policy.facts
            if getattr(self.p, f) is not None
        }
        if self.p.new_hq_type not in (None, "none"):
            out["hq_kind"] = _BOOK.hq_type_name(self.p.new_hq_type, self.lang)
        return out

    def test(self, cond: Condition) -> None:
        if cond.test == "at_least_usd":
            self._test_usd(cond)
            return
        value = getattr(self.p, cond.fact)
        if value is None:
            self.missing.append(cond.fact)
            return
        threshold = self.params.get(cond.id)
        if cond.test in ("at_least", "reaches_tier"):
            assert threshold is not None  # guaranteed by the YAML schema
            self.at_boundary |= value == threshold.value
            ok = value >= threshold.value
        elif cond.test == "not_none":
            ok = value != "none"
        elif cond.test == "is_true":
            ok = value is True
        else:  # positive
            ok = any(x > 0 for x in (value if isinstance(value, list) else [value]))
        if not ok:
            shown = {"value": _fact_value(cond.fact, value, self.lang)}
            if threshold is not None:
                shown["threshold"] = _BOOK.params_text(self.policy.id, self.lang)[cond.id]
            self.unmet.append(render(cond.unmet.get(self.lang), shown))

    def _test_usd(self, cond: Condition) -> None:
        """A USD threshold: decided by the USD figure, else by a CNY figure at a *stated* rate, never an assumed one.

        With a rate the test is CNY ≥ threshold × rate, which is exact (no division) and equivalent.
        """
        threshold = self.params[cond.id].value
        usd, cny = getattr(self.p, cond.fact), getattr(self.p, cond.cny_fact or "")
        rate = getattr(self.p, cond.rate_fact or "")
        if usd is not None:
            if cny is not None:
                self.condition_notes.append(self.t("both_given"))
            self.at_boundary |= usd == threshold
            if usd < threshold:
                self.unmet.append(
                    render(
                        cond.unmet.get(self.lang),
                        {
                            "value": _fact_value(cond.fact, usd, self.lang),
                            "threshold": _BOOK.params_text(self.policy.id, self.lang)[cond.id],
                        },
                    )
                )
            return
        if cny is None:
            self.missing.append(cond.fact)
            self.condition_notes.append(self.t("cny_alternative"))
            return
        self.values[cond.cny_fact or ""] = _fact_value(cond.cny_fact or "", cny, self.lang)
        if rate is None:
            self.missing.append(cond.rate_fact or "")
            self.condition_notes.append(self.t("rate_needed"))
            self.rule_key = "rule_known_cny"
            return
        with localcontext(DISPLAY):
            usd_shown = (cny / rate).quantize(Decimal("0.01"), rounding=ROUND_DOWN)  # never rounded up to qualify
            exact = usd_shown * rate == cny
        about = "" if exact else ("about " if self.lang == "en" else "约")
        shown_usd = format_money_en(usd_shown, "USD") if self.lang == "en" else format_usd(usd_shown)
        self.values.update(rate=_fact_value(cond.rate_fact or "", rate, self.lang), converted=about + shown_usd)
        self.condition_notes.append(self.t("rate_used"))
        threshold_cny = threshold * rate
        self.at_boundary |= cny == threshold_cny
        self.basis_key = "basis_cny"
        if cny < threshold_cny:
            self.unmet.append(self.t("unmet_cny"))

    @property
    def passed(self) -> bool:
        return not self.missing and not self.unmet

    def item(
        self, *, basis: str, amount: Decimal | None = None, upper: bool = False, status: Status | None = None
    ) -> CalculationItem:
        if status is None:
            status = "not_eligible" if self.unmet else "needs_info" if self.missing else "eligible"
        if self.at_boundary:
            self.notes.insert(0, _BOOK.notice("inclusive_boundary", self.lang))
        if status == "needs_info" and self.missing:
            asks = _SEP[self.lang][1].join(_BOOK.fact_label(f, self.lang) for f in self.missing)
            basis += _BOOK.notice("needs_info_suffix", self.lang, asks=asks)
        pol = self.policy
        return CalculationItem(
            policy_id=pol.id,
            title=pol.title.get(self.lang),
            clause_ids=list(pol.clauses),
            status=status,
            amount_yuan=canonical_amount(amount) if status == "eligible" and amount is not None else None,
            is_upper_bound=upper,
            basis=basis,
            missing_facts=self.missing if status in ("needs_info", "non_monetary") else [],
            conditions_unmet=self.unmet,
            notes=self.notes,
            lead_unit=pol.lead_unit,
            responsible_units=list(pol.responsible_units),
            touched=any(getattr(self.p, f) is not None for f in pol.facts),
        )


def _unclear_thresholds(c: _Check, source_id: str) -> None:
    """The text may or may not gate this item by another policy's thresholds: say so, and warn on a failure."""
    c.notes.append(_BOOK.notice("hq_threshold_ambiguity", c.lang))
    source = _BOOK.policy(source_id)
    probe = _Check(source, c.p, c.lang)
    own = {cond.id for cond in c.policy.conditions}
    for cond in source.conditions:
        if cond.id not in own:
            probe.test(cond)
    if probe.unmet:
        failing = _SEP[c.lang][0].join(probe.unmet)
        c.notes.append(_BOOK.notice("hq_threshold_warning", c.lang, failing=failing))


# One function per kind of amount rule; each reads only its rule and the checked profile.


def _apply_fixed(c: _Check, rule: FixedRule) -> CalculationItem:
    if not c.passed:
        return c.item(basis=c.t(c.rule_key, rule=c.t("rule")), upper=rule.upper_bound)
    amount = fixed_amount(rule.amount.value)
    return c.item(
        amount=amount, upper=rule.upper_bound, basis=c.t(c.basis_key, **c.stated(), amount=_money(amount, c.lang))
    )


def _apply_percent_with_cap(c: _Check, rule: PercentWithCapRule) -> CalculationItem:
    if not c.passed:
        return c.item(basis=c.t("rule"), upper=rule.upper_bound)
    capped = percent_with_cap(getattr(c.p, rule.fact), rule.rate.value, rule.cap.value)
    return c.item(
        amount=capped.amount,
        upper=rule.upper_bound,
        basis=c.t(
            "basis",
            **c.stated(),
            raw=_money(capped.raw, c.lang),
            tail=c.t(f"tail_{capped.position}"),
            amount=_money(capped.amount, c.lang),
        ),
    )


def _apply_yearly_percent_with_cap(c: _Check, rule: YearlyPercentWithCapRule) -> CalculationItem:
    """Years beyond the 补贴期限 earn nothing; an unstated lease is read as the full term (the most it can give)."""
    if not c.passed:
        return c.item(basis=c.t("rule"), upper=rule.upper_bound)
    term = int(rule.max_years.value)
    given = getattr(c.p, rule.years_fact)
    if given is None:
        years = term
        c.notes.append(c.t("years_default"))
    elif given > term:
        years = term
        c.notes.append(c.t("years_capped", years=str(given)))
    else:
        years = given
    per_year, capped = yearly_percent_with_cap(getattr(c.p, rule.fact), rule.rate.value, years, rule.cap.value)
    return c.item(
        amount=capped.amount,
        upper=rule.upper_bound,
        basis=c.t(
            "basis",
            **c.stated(),
            per_year=_money(per_year, c.lang),
            years=str(years),
            raw=_money(capped.raw, c.lang),
            tail=c.t(f"tail_{capped.position}"),
            amount=_money(capped.amount, c.lang),
        ),
    )


def _apply_yearly_schedule(c: _Check, rule: YearlyScheduleRule) -> CalculationItem:
    """A shorter list is computed for the years given (those are certain) and the note says the rest is not
    included; one figure is read as the same contribution in every scheduled year."""
    if not c.passed:
        return c.item(basis=c.t("rule"), upper=rule.upper_bound)
    rates = rule.rates
    given = getattr(c.p, rule.fact)
    if isinstance(given, list):
        figures = given
        if len(figures) < len(rates):
            c.notes.append(c.t("partial", count=str(len(figures)), next=str(len(figures) + 1)))
    else:
        figures = [given] * len(rates)
        c.notes.append(c.t("single"))
    rewards = yearly_schedule(figures, rates)
    parts = [
        c.t("part", year=str(i), figure=_money(f, c.lang), rate=format_percent(r), reward=_money(w, c.lang))
        for i, (f, r, w) in enumerate(zip(figures, rates, rewards), start=1)
    ]
    sep = _SEP[c.lang][0]
    with localcontext(EXACT):
        amount = sum(rewards, Decimal(0))
    if amount == 0:  # unreachable: the positive condition requires a figure > 0; kept so a rule never pays 0.
        return c.item(basis=sep.join(parts), status="not_eligible")
    return c.item(
        amount=amount, upper=rule.upper_bound, basis=sep.join(parts) + sep + c.t("total", amount=_money(amount, c.lang))
    )


def _apply_by_level(c: _Check, rule: ByLevelRule) -> CalculationItem:
    if not c.passed:
        return c.item(basis=c.t("rule"), upper=rule.upper_bound)
    award = rule.levels[getattr(c.p, rule.fact)]
    c.notes += _BOOK.notes(c.policy.id, c.lang, "eligible")
    amount = fixed_amount(award.amount.value)
    return c.item(
        amount=amount,
        upper=rule.upper_bound,
        basis=c.t("basis", name=award.name.get(c.lang), amount=_money(amount, c.lang)),
    )


def _apply_tiers(c: _Check, rule: TiersRule) -> CalculationItem:
    """Overlapping tiers ("1-5亿元", "5亿元以上") resolve upward, since 以上 includes the number."""
    value = getattr(c.p, rule.fact)
    floors = [t.at_least.value for t in rule.tiers]
    c.at_boundary |= value is not None and value in floors
    if not c.passed:
        return c.item(basis=c.t("rule"), upper=rule.upper_bound)
    index = tier_index(value, floors)
    assert index is not None  # the reaches_tier condition passed
    tier = rule.tiers[index]
    amount = fixed_amount(tier.amount.value)
    label = render(tier.label.get(c.lang), _BOOK.params_text(c.policy.id, c.lang))
    return c.item(
        amount=amount,
        upper=rule.upper_bound,
        basis=c.t("basis", **c.stated(), tier=label, amount=_money(amount, c.lang)),
    )


def _apply_non_monetary(c: _Check, rule: NonMonetaryRule) -> CalculationItem:
    """No money. A stated failure is not_eligible; an unknown subject stays non_monetary and is asked for."""
    basis = c.t("basis")
    if c.unmet:
        return c.item(basis=basis, status="not_eligible")
    if c.missing:
        c.notes.append(c.t("ask_hq"))
    return c.item(basis=basis, status="non_monetary")


_APPLY: dict[type, Callable[[_Check, Any], CalculationItem]] = {
    FixedRule: _apply_fixed,
    PercentWithCapRule: _apply_percent_with_cap,
    YearlyPercentWithCapRule: _apply_yearly_percent_with_cap,
    YearlyScheduleRule: _apply_yearly_schedule,
    ByLevelRule: _apply_by_level,
    TiersRule: _apply_tiers,
    NonMonetaryRule: _apply_non_monetary,
}


def _evaluate(policy: Policy, profile: EnterpriseProfile, lang: Lang) -> CalculationItem:
    c = _Check(policy, profile, lang)
    for cond in policy.conditions:
        c.test(cond)
    if policy.thresholds_unclear_from is not None:
        _unclear_thresholds(c, policy.thresholds_unclear_from)
    c.notes += _BOOK.notes(policy.id, lang, "always")
    c.notes += c.condition_notes
    return _APPLY[type(policy.amount)](c, policy.amount)


def calculate(profile: EnterpriseProfile, lang: Lang = "zh") -> CalculationResult:
    """All items, always in POLICY_IDS order, so callers can index and diff results across turns.

    ``lang`` changes only words (titles, basis, notes, unmet conditions); statuses and amounts are the same.
    """
    with localcontext(EXACT):
        items = [_evaluate(p, profile, lang) for p in _BOOK.policies]
        eligible = [it for it in items if it.status == "eligible" and it.amount_yuan is not None]
        total = sum((Decimal(it.amount_yuan) for it in eligible), Decimal(0))  # type: ignore[arg-type]
    notes = [_BOOK.notice("validity", lang)]
    stacked = len(eligible) > 1
    has_ceiling = any(it.is_upper_bound for it in eligible)
    if stacked:
        notes.append(_BOOK.notice("stacking", lang))
    if has_ceiling:
        notes.append(_BOOK.notice("upper_bound_total", lang))
    if any(_BOOK.policy(it.policy_id).thresholds_unclear_from for it in eligible):
        notes.append(_BOOK.notice("hq_threshold_ambiguity", lang))
    return CalculationResult(
        items=items,
        total_yuan=canonical_amount(total),
        total_is_upper_bound=stacked or has_ceiling,
        notes=notes,
    )


def render_table(result: CalculationResult, *, only_touched: bool = False) -> str:
    """The CLI's table of a result (`assistant.calculation_table`, imported late: it builds on this module)."""
    from assistant.calculation_table import render_table as table

    return table(result, only_touched=only_touched)
