"""assistant.matching: grouping and ranking of the calculator's items; the calculator decides every amount."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.calculator import POLICY_IDS, EnterpriseProfile, calculate
from assistant.matching import match, max_award


def test_groups_partition_every_policy() -> None:
    m = match({"new_hq_type": "regional_hq", "registered_capital_yuan": 5_000_000, "demo_base_level": "municipal"})
    ids = [it.policy_id for group in (m.eligible, m.possible, m.non_monetary, m.ruled_out) for it in group]
    assert sorted(ids) == sorted(POLICY_IDS)
    assert [it.policy_id for it in m.eligible] == ["demo_base"]
    assert "hq_establishment" in [it.policy_id for it in m.ruled_out]  # capital below the threshold


def test_eligible_are_ranked_by_amount_largest_first() -> None:
    m = match({"demo_base_level": "national", "demo_enterprise_level": "municipal",
               "cross_border_retail_usd": 300_000_000})
    amounts = [it.amount for it in m.eligible]
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == 3
    assert Decimal(m.total_yuan) == sum(amounts)


def test_possible_puts_the_policies_the_owner_spoke_about_first() -> None:
    m = match({"new_hq_type": "operations_center"})
    first = [it.policy_id for it in m.possible[:4]]
    assert set(first) == {"hq_establishment", "hq_office_purchase", "hq_office_rent", "hq_contribution_reward"}


def test_max_award_is_the_cap_or_top_amount() -> None:
    assert max_award("hq_office_rent") == Decimal(300_000)
    assert max_award("self_built_platform") == Decimal(500_000)  # the top tier's award, not its floor
    assert max_award("hq_contribution_reward") is None  # a share of the contribution: no cap


def test_english_match_has_the_same_numbers() -> None:
    profile = {"platform_first_year_online_transactions_yuan": 600_000_000, "registered_in_beibei": True,
               "local_legal_entity": True, "platform_project_investment_yuan": 2_000_000}
    zh, en = match(profile), match(profile, lang="en")
    assert [(i.policy_id, i.amount) for i in zh.eligible] == [(i.policy_id, i.amount) for i in en.eligible]
    assert zh.total_yuan == en.total_yuan == "500000"


@settings(max_examples=150, deadline=None)
@given(
    capital=st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)),
    level=st.sampled_from([None, "national", "municipal", "none"]),
    usd=st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)),
)
def test_match_never_changes_a_calculator_number(capital, level, usd) -> None:
    data = {k: v for k, v in {"registered_capital_yuan": capital, "demo_enterprise_level": level,
                              "cross_border_retail_usd": usd, "new_hq_type": "regional_hq"}.items() if v is not None}
    m = match(data)
    direct = calculate(EnterpriseProfile.model_validate(data))
    assert m.total_yuan == str(direct.total_yuan)
    for group in (m.eligible, m.possible, m.ruled_out, m.non_monetary):
        for it in group:
            assert it == direct.item(it.policy_id)
