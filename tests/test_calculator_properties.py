"""Properties the policy implies for *every* input: caps hold, more never pays less, Decimal stays exact."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.calculator import (
    POLICY_IDS,
    VALIDITY_NOTICE,
    EnterpriseProfile,
    calculate,
    canonical_amount,
    format_yuan,
)

settings.register_profile("calculator", max_examples=200, deadline=None)
settings.load_profile("calculator")

HQ = {"new_hq_type": "regional_hq"}
PLATFORM_OK = {"registered_in_beibei": True, "local_legal_entity": True, "platform_project_investment_yuan": 1_000_000}


def fen(max_yuan: int = 10**12) -> st.SearchStrategy[Decimal]:
    """Amounts in 分 precision: what a real enterprise would state."""
    return st.integers(min_value=0, max_value=max_yuan * 100).map(lambda cents: Decimal(cents) / 100)


def amount(profile: dict, policy_id: str) -> Decimal:
    it = calculate(EnterpriseProfile(**profile)).item(policy_id)
    return Decimal(it.amount_yuan) if it.status == "eligible" else Decimal(0)


def exact_string(value: str) -> Decimal:
    """An amount string must be plain decimal notation that parses back to itself."""
    assert "e" not in value.lower() and "," not in value
    d = Decimal(value)
    assert canonical_amount(d) == value
    return d


# --------------------------------------------------------------------------------------------------
# Caps
# --------------------------------------------------------------------------------------------------


@given(price=fen())
def test_purchase_never_exceeds_cap_and_is_exact(price):
    it = calculate(EnterpriseProfile(**HQ, office_purchase_price_yuan=price)).item("hq_office_purchase")
    if price == 0:
        assert it.status == "not_eligible"
        return
    got = exact_string(it.amount_yuan)
    assert got <= Decimal(500_000)
    assert got == min(price * Decimal("0.2"), Decimal(500_000))
    assert it.is_upper_bound


@given(rent=fen(), years=st.none() | st.integers(min_value=1, max_value=100))
def test_rent_never_exceeds_cap_and_is_exact(rent, years):
    profile = {**HQ, "office_annual_rent_yuan": rent, "rent_years": years}
    it = calculate(EnterpriseProfile(**profile)).item("hq_office_rent")
    if rent == 0:
        assert it.status == "not_eligible"
        return
    got = exact_string(it.amount_yuan)
    counted = 3 if years is None else min(years, 3)
    assert got <= Decimal(300_000)
    assert got == min(rent * Decimal("0.2") * counted, Decimal(300_000))


@given(volume=fen(10**11))
def test_platform_award_is_one_of_the_tiers(volume):
    got = amount({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": volume}, "self_built_platform")
    expected = Decimal(500_000) if volume >= 500_000_000 else Decimal(300_000) if volume >= 100_000_000 else 0
    assert got == expected


@given(usd=fen(10**10))
def test_cross_border_award_fixed(usd):
    got = amount({"cross_border_retail_usd": usd}, "cross_border")
    assert got == (Decimal(2_000_000) if usd >= 200_000_000 else 0)


# --------------------------------------------------------------------------------------------------
# Monotonic in the driving figure
# --------------------------------------------------------------------------------------------------


@given(a=fen(), b=fen())
def test_purchase_monotonic(a, b):
    lo, hi = sorted((a, b))
    assert amount({**HQ, "office_purchase_price_yuan": lo}, "hq_office_purchase") <= amount(
        {**HQ, "office_purchase_price_yuan": hi}, "hq_office_purchase"
    )


@given(a=fen(), b=fen(), years=st.integers(min_value=1, max_value=10))
def test_rent_monotonic_in_rent_and_years(a, b, years):
    lo, hi = sorted((a, b))
    base = {**HQ, "rent_years": years}
    assert amount({**base, "office_annual_rent_yuan": lo}, "hq_office_rent") <= amount(
        {**base, "office_annual_rent_yuan": hi}, "hq_office_rent"
    )
    more_years = {**HQ, "rent_years": years + 1, "office_annual_rent_yuan": lo}
    assert amount({**base, "office_annual_rent_yuan": lo}, "hq_office_rent") <= amount(more_years, "hq_office_rent")


@given(a=fen(10**10), b=fen(10**10))
def test_platform_monotonic(a, b):
    lo, hi = sorted((a, b))
    key = "platform_first_year_online_transactions_yuan"
    assert amount({**PLATFORM_OK, key: lo}, "self_built_platform") <= amount(
        {**PLATFORM_OK, key: hi}, "self_built_platform"
    )


@given(a=fen(10**10), b=fen(10**10))
def test_cross_border_monotonic_usd(a, b):
    lo, hi = sorted((a, b))
    assert amount({"cross_border_retail_usd": lo}, "cross_border") <= amount(
        {"cross_border_retail_usd": hi}, "cross_border"
    )


@given(
    a=fen(10**11),
    b=fen(10**11),
    rate=st.integers(min_value=1, max_value=99_9999).map(lambda n: Decimal(n) / 10_000),
)
def test_cross_border_monotonic_cny_and_exact_threshold(a, b, rate):
    lo, hi = sorted((a, b))
    low = amount({"cross_border_retail_cny": lo, "usd_cny_rate": rate}, "cross_border")
    high = amount({"cross_border_retail_cny": hi, "usd_cny_rate": rate}, "cross_border")
    assert low <= high
    assert low == (Decimal(2_000_000) if lo >= Decimal(200_000_000) * rate else 0)


@given(
    figures=st.lists(fen(10**11), min_size=1, max_size=5),
    index=st.integers(min_value=0, max_value=4),
    bump=fen(10**9),
)
def test_contribution_monotonic_and_exact(figures, index, bump):
    base = amount({**HQ, "annual_local_contribution_yuan": figures}, "hq_contribution_reward")
    rates = [Decimal(1), Decimal(1), Decimal(1), Decimal("0.5"), Decimal("0.5")]
    assert base == sum((f * r for f, r in zip(figures, rates)), Decimal(0))
    bumped = list(figures)
    bumped[index % len(bumped)] += bump
    assert amount({**HQ, "annual_local_contribution_yuan": bumped}, "hq_contribution_reward") >= base


@given(figure=fen(10**11))
def test_single_contribution_figure_is_four_times(figure):
    got = amount({**HQ, "annual_local_contribution_yuan": figure}, "hq_contribution_reward")
    assert got == figure * 4


# --------------------------------------------------------------------------------------------------
# Whole-result invariants
# --------------------------------------------------------------------------------------------------

maybe_money = st.none() | fen(10**11)
profiles = st.fixed_dictionaries(
    {},
    optional={
        "registered_in_beibei": st.booleans(),
        "local_legal_entity": st.booleans(),
        "new_hq_type": st.sampled_from(
            ["regional_hq", "marketing_center", "settlement_center", "operations_center", "none"]
        ),
        "registered_capital_yuan": maybe_money,
        "online_annual_sales_yuan": maybe_money,
        "sales_in_statistics": st.booleans(),
        "years_in_operation": st.decimals(min_value=0, max_value=200, places=2),
        "office_purchase_price_yuan": maybe_money,
        "office_annual_rent_yuan": maybe_money,
        "rent_years": st.integers(min_value=1, max_value=100),
        "annual_local_contribution_yuan": fen(10**11) | st.lists(fen(10**11), min_size=1, max_size=5),
        "demo_base_level": st.sampled_from(["national", "municipal", "none"]),
        "demo_enterprise_level": st.sampled_from(["national", "municipal", "none"]),
        "platform_project_investment_yuan": maybe_money,
        "platform_first_year_online_transactions_yuan": maybe_money,
        "cross_border_retail_usd": maybe_money,
        "cross_border_retail_cny": maybe_money,
        "usd_cny_rate": st.integers(min_value=1, max_value=99_9999).map(lambda n: Decimal(n) / 10_000),
    },
)


@given(profile=profiles)
def test_result_invariants(profile):
    result = calculate(EnterpriseProfile(**profile))
    assert [it.policy_id for it in result.items] == list(POLICY_IDS)
    assert VALIDITY_NOTICE in result.notes
    eligible = []
    for it in result.items:
        if it.status == "eligible":
            value = exact_string(it.amount_yuan)
            assert value > 0
            eligible.append(value)
            assert not it.missing_facts and not it.conditions_unmet
        else:
            assert it.amount_yuan is None
        if it.status == "needs_info":
            assert it.missing_facts
        if it.status == "not_eligible":
            assert it.conditions_unmet
        assert it.touched == any(profile.get(f) is not None for f in _facts(it.policy_id))
        assert all(f in EnterpriseProfile.model_fields for f in it.missing_facts)
        assert all(profile.get(f) is None for f in it.missing_facts)  # never ask for what was given
    assert exact_string(result.total_yuan) == sum(eligible, Decimal(0))
    # JSON round trip keeps every digit
    assert type(result).model_validate_json(result.model_dump_json()) == result


def _facts(policy_id: str) -> tuple[str, ...]:
    from assistant.calculator import POLICY_FACTS

    return POLICY_FACTS[policy_id]


@given(value=fen(10**13))
def test_format_yuan_keeps_exact_value(value):
    text = format_yuan(value)
    exact = text.split("(")[-1].rstrip(")").removesuffix("元") if "(" in text else text.removesuffix("元")
    assert Decimal(exact.replace(",", "")) == value
