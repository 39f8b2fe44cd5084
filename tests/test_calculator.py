"""Table-driven checks of every rule in assistant.calculator against the clause text, boundary by boundary."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from assistant.calculator import (
    HQ_THRESHOLD_AMBIGUITY_NOTE,
    INCLUSIVE_BOUNDARY_NOTE,
    POLICY_CLAUSES,
    POLICY_IDS,
    POLICY_TITLES,
    STACKING_NOTE,
    VALIDITY_NOTICE,
    VALIDITY_NOTICE_EN,
    CalculationResult,
    EnterpriseProfile,
    calculate,
    canonical_amount,
    format_yuan,
    parse_profile,
    relevant_items,
    render_table,
)
from assistant.profile import ProfileError, read_profile

HQ_OK = {
    "new_hq_type": "regional_hq",
    "registered_capital_yuan": "10000000",
    "online_annual_sales_yuan": "100000000",
    "sales_in_statistics": True,
    "years_in_operation": "1",
}
PLATFORM_OK = {
    "registered_in_beibei": True,
    "local_legal_entity": True,
    "platform_project_investment_yuan": "1000000",
}


def run(**profile):
    return calculate(EnterpriseProfile(**profile))


def item(result: CalculationResult, policy_id: str):
    return result.item(policy_id)


# --------------------------------------------------------------------------------------------------
# Each case: (profile, policy_id, status, amount_yuan, is_upper_bound)
# --------------------------------------------------------------------------------------------------

CASES = [
    # hq_establishment — 附件-10
    pytest.param(HQ_OK, "hq_establishment", "eligible", "1000000", False, id="hq-all-thresholds-exact"),
    pytest.param({**HQ_OK, "online_annual_sales_yuan": "99999999.99"}, "hq_establishment", "not_eligible", None, False,
                 id="hq-sales-1yi-minus-1fen"),
    pytest.param({**HQ_OK, "online_annual_sales_yuan": "100000000"}, "hq_establishment", "eligible", "1000000", False,
                 id="hq-sales-1yi"),
    pytest.param({**HQ_OK, "registered_capital_yuan": "9999999.99"}, "hq_establishment", "not_eligible", None, False,
                 id="hq-capital-1000wan-minus-1fen"),
    pytest.param({**HQ_OK, "registered_capital_yuan": 10_000_000}, "hq_establishment", "eligible", "1000000", False,
                 id="hq-capital-1000wan"),
    pytest.param({**HQ_OK, "sales_in_statistics": False}, "hq_establishment", "not_eligible", None, False,
                 id="hq-not-in-statistics"),
    pytest.param({**HQ_OK, "years_in_operation": "0.99"}, "hq_establishment", "not_eligible", None, False,
                 id="hq-years-0.99"),
    pytest.param({**HQ_OK, "years_in_operation": 1}, "hq_establishment", "eligible", "1000000", False,
                 id="hq-years-1"),
    pytest.param({**HQ_OK, "new_hq_type": "none"}, "hq_establishment", "not_eligible", None, False,
                 id="hq-not-an-hq"),
    pytest.param({**HQ_OK, "new_hq_type": "settlement_center"}, "hq_establishment", "eligible", "1000000", False,
                 id="hq-settlement-center"),
    # hq_office_purchase — 不超过总价20%，最高50万
    pytest.param({"new_hq_type": "regional_hq", "office_purchase_price_yuan": "2500000"}, "hq_office_purchase",
                 "eligible", "500000", True, id="purchase-250wan-exactly-cap"),
    pytest.param({"new_hq_type": "regional_hq", "office_purchase_price_yuan": "3000000"}, "hq_office_purchase",
                 "eligible", "500000", True, id="purchase-300wan-capped"),
    pytest.param({"new_hq_type": "regional_hq", "office_purchase_price_yuan": "2490000"}, "hq_office_purchase",
                 "eligible", "498000", True, id="purchase-249wan"),
    pytest.param({"new_hq_type": "regional_hq", "office_purchase_price_yuan": "1234567.89"}, "hq_office_purchase",
                 "eligible", "246913.578", True, id="purchase-exact-li"),
    pytest.param({"new_hq_type": "regional_hq", "office_purchase_price_yuan": "0"}, "hq_office_purchase",
                 "not_eligible", None, True, id="purchase-none-bought"),
    pytest.param({"new_hq_type": "none", "office_purchase_price_yuan": "2500000"}, "hq_office_purchase",
                 "not_eligible", None, True, id="purchase-not-an-hq"),
    # hq_office_rent — 每年不超过租金20%，3年，累计最高30万
    pytest.param({"new_hq_type": "marketing_center", "office_annual_rent_yuan": "500000", "rent_years": 3},
                 "hq_office_rent", "eligible", "300000", True, id="rent-50wan-x3-exactly-cap"),
    pytest.param({"new_hq_type": "marketing_center", "office_annual_rent_yuan": "600000"}, "hq_office_rent",
                 "eligible", "300000", True, id="rent-60wan-capped"),
    pytest.param({"new_hq_type": "marketing_center", "office_annual_rent_yuan": "400000", "rent_years": 3},
                 "hq_office_rent", "eligible", "240000", True, id="rent-40wan-x3"),
    pytest.param({"new_hq_type": "marketing_center", "office_annual_rent_yuan": "400000"}, "hq_office_rent",
                 "eligible", "240000", True, id="rent-40wan-years-absent"),
    pytest.param({"new_hq_type": "marketing_center", "office_annual_rent_yuan": "400000", "rent_years": 2},
                 "hq_office_rent", "eligible", "160000", True, id="rent-40wan-x2"),
    pytest.param({"new_hq_type": "marketing_center", "office_annual_rent_yuan": "400000", "rent_years": 10},
                 "hq_office_rent", "eligible", "240000", True, id="rent-40wan-x10-only-3-count"),
    pytest.param({"new_hq_type": "marketing_center", "office_annual_rent_yuan": "0"}, "hq_office_rent",
                 "not_eligible", None, True, id="rent-none-rented"),
    # hq_contribution_reward — 前3年100%，后2年50%
    pytest.param({"new_hq_type": "regional_hq", "annual_local_contribution_yuan": ["1000000"] * 5},
                 "hq_contribution_reward", "eligible", "4000000", False, id="contribution-100wan-x5"),
    pytest.param({"new_hq_type": "regional_hq", "annual_local_contribution_yuan": "1000000"},
                 "hq_contribution_reward", "eligible", "4000000", False, id="contribution-single-figure"),
    pytest.param({"new_hq_type": "regional_hq", "annual_local_contribution_yuan": [100, 200, 300]},
                 "hq_contribution_reward", "eligible", "600", False, id="contribution-3-years"),
    pytest.param({"new_hq_type": "regional_hq", "annual_local_contribution_yuan": [1, 2, 3, 4, 5]},
                 "hq_contribution_reward", "eligible", "10.50", False, id="contribution-varying"),
    pytest.param({"new_hq_type": "regional_hq", "annual_local_contribution_yuan": ["0.01"] * 5},
                 "hq_contribution_reward", "eligible", "0.04", False, id="contribution-fen"),
    pytest.param({"new_hq_type": "regional_hq", "annual_local_contribution_yuan": [0, 0]},
                 "hq_contribution_reward", "not_eligible", None, False, id="contribution-zero"),
    # demo_base — 三(二)
    pytest.param({"demo_base_level": "national"}, "demo_base", "eligible", "300000", False, id="base-national"),
    pytest.param({"demo_base_level": "municipal"}, "demo_base", "eligible", "200000", False, id="base-municipal"),
    pytest.param({"demo_base_level": "none"}, "demo_base", "not_eligible", None, False, id="base-none"),
    # demo_enterprise — 三(三)
    pytest.param({"demo_enterprise_level": "national"}, "demo_enterprise", "eligible", "200000", False,
                 id="enterprise-national"),
    pytest.param({"demo_enterprise_level": "municipal"}, "demo_enterprise", "eligible", "100000", False,
                 id="enterprise-municipal"),
    pytest.param({"demo_enterprise_level": "none"}, "demo_enterprise", "not_eligible", None, False,
                 id="enterprise-none"),
    # self_built_platform — 三(四), 附件-11
    pytest.param({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": "99999999.99"},
                 "self_built_platform", "not_eligible", None, False, id="platform-1yi-minus-1fen"),
    pytest.param({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": "100000000"},
                 "self_built_platform", "eligible", "300000", False, id="platform-1yi"),
    pytest.param({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": "300000000"},
                 "self_built_platform", "eligible", "300000", False, id="platform-3yi"),
    pytest.param({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": "499999999.99"},
                 "self_built_platform", "eligible", "300000", False, id="platform-5yi-minus-1fen"),
    pytest.param({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": "500000000"},
                 "self_built_platform", "eligible", "500000", False, id="platform-5yi"),
    pytest.param({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": "5000000000"},
                 "self_built_platform", "eligible", "500000", False, id="platform-50yi"),
    pytest.param({**PLATFORM_OK, "platform_project_investment_yuan": "999999.99",
                  "platform_first_year_online_transactions_yuan": "500000000"},
                 "self_built_platform", "not_eligible", None, False, id="platform-investment-short"),
    pytest.param({**PLATFORM_OK, "registered_in_beibei": False,
                  "platform_first_year_online_transactions_yuan": "500000000"},
                 "self_built_platform", "not_eligible", None, False, id="platform-not-registered"),
    pytest.param({**PLATFORM_OK, "local_legal_entity": False,
                  "platform_first_year_online_transactions_yuan": "500000000"},
                 "self_built_platform", "not_eligible", None, False, id="platform-not-local-entity"),
    # cross_border — 三(五), 附件-12
    pytest.param({"cross_border_retail_usd": "200000000"}, "cross_border", "eligible", "2000000", False,
                 id="cb-2yi-usd"),
    pytest.param({"cross_border_retail_usd": "199999999.99"}, "cross_border", "not_eligible", None, False,
                 id="cb-2yi-usd-minus-1cent"),
    pytest.param({"cross_border_retail_cny": "1500000000"}, "cross_border", "needs_info", None, False,
                 id="cb-cny-no-rate"),
    pytest.param({"cross_border_retail_cny": "1500000000", "usd_cny_rate": "7.1"}, "cross_border", "eligible",
                 "2000000", False, id="cb-cny-15yi-rate-7.1"),
    pytest.param({"cross_border_retail_cny": "1400000000", "usd_cny_rate": "7.1"}, "cross_border", "not_eligible",
                 None, False, id="cb-cny-14yi-rate-7.1"),
    pytest.param({"cross_border_retail_cny": "1420000000", "usd_cny_rate": "7.1"}, "cross_border", "eligible",
                 "2000000", False, id="cb-cny-exactly-2yi-usd"),
    pytest.param({"cross_border_retail_cny": "1419999999.99", "usd_cny_rate": "7.1"}, "cross_border",
                 "not_eligible", None, False, id="cb-cny-just-below"),
    pytest.param({"cross_border_retail_usd": "100000000", "cross_border_retail_cny": "1500000000",
                  "usd_cny_rate": "7.1"}, "cross_border", "not_eligible", None, False, id="cb-usd-wins"),
    # talent — 三(六), 附件-13
    pytest.param({"new_hq_type": "operations_center"}, "talent", "non_monetary", None, False, id="talent-hq"),
    pytest.param({}, "talent", "non_monetary", None, False, id="talent-unknown"),
    pytest.param({"new_hq_type": "none"}, "talent", "not_eligible", None, False, id="talent-not-hq"),
]


@pytest.mark.parametrize(("profile", "policy_id", "status", "amount", "upper"), CASES)
def test_rule_table(profile, policy_id, status, amount, upper):
    result = calculate(EnterpriseProfile(**profile))
    it = item(result, policy_id)
    assert it.status == status, (it.basis, it.conditions_unmet, it.missing_facts)
    assert it.amount_yuan == amount
    assert it.is_upper_bound is upper
    if status == "not_eligible":
        assert it.conditions_unmet
    if status == "eligible":
        assert it.basis and not it.missing_facts and not it.conditions_unmet
    assert it.clause_ids == POLICY_CLAUSES[policy_id]
    assert it.title == POLICY_TITLES[policy_id]
    assert it.lead_unit


# --------------------------------------------------------------------------------------------------
# needs_info: missing facts are named, never assumed
# --------------------------------------------------------------------------------------------------

MISSING_CASES = [
    pytest.param({}, "hq_establishment",
                 ["new_hq_type", "registered_capital_yuan", "online_annual_sales_yuan", "sales_in_statistics",
                  "years_in_operation"], id="hq-empty"),
    pytest.param({k: v for k, v in HQ_OK.items() if k != "sales_in_statistics"}, "hq_establishment",
                 ["sales_in_statistics"], id="hq-no-statistics"),
    pytest.param({"new_hq_type": "regional_hq"}, "hq_office_purchase", ["office_purchase_price_yuan"],
                 id="purchase-no-price"),
    pytest.param({"office_purchase_price_yuan": "2500000"}, "hq_office_purchase", ["new_hq_type"],
                 id="purchase-no-hq-type"),
    pytest.param({}, "hq_office_rent", ["new_hq_type", "office_annual_rent_yuan"], id="rent-empty"),
    pytest.param({"rent_years": 3, "new_hq_type": "regional_hq"}, "hq_office_rent", ["office_annual_rent_yuan"],
                 id="rent-years-only"),
    pytest.param({}, "hq_contribution_reward", ["new_hq_type", "annual_local_contribution_yuan"],
                 id="contribution-empty"),
    pytest.param({}, "demo_base", ["demo_base_level"], id="base-empty"),
    pytest.param({}, "demo_enterprise", ["demo_enterprise_level"], id="enterprise-empty"),
    pytest.param({}, "self_built_platform",
                 ["platform_first_year_online_transactions_yuan", "platform_project_investment_yuan",
                  "registered_in_beibei", "local_legal_entity"], id="platform-empty"),
    pytest.param({"platform_first_year_online_transactions_yuan": "300000000"}, "self_built_platform",
                 ["platform_project_investment_yuan", "registered_in_beibei", "local_legal_entity"],
                 id="platform-volume-only"),
    pytest.param({}, "cross_border", ["cross_border_retail_usd"], id="cb-empty"),
    pytest.param({"cross_border_retail_cny": "1500000000"}, "cross_border", ["usd_cny_rate"], id="cb-no-rate"),
    pytest.param({"usd_cny_rate": "7.1"}, "cross_border", ["cross_border_retail_usd"], id="cb-rate-only"),
]


@pytest.mark.parametrize(("profile", "policy_id", "missing"), MISSING_CASES)
def test_missing_facts_named(profile, policy_id, missing):
    it = item(run(**profile), policy_id)
    assert it.status == "needs_info"
    assert it.amount_yuan is None
    assert it.missing_facts == missing
    assert not it.conditions_unmet


def test_talent_unknown_asks_for_hq_type():
    it = item(run(), "talent")
    assert it.status == "non_monetary"
    assert it.missing_facts == ["new_hq_type"]
    assert not it.touched


def test_empty_profile_everything_needs_info_nothing_touched():
    result = run()
    assert [it.policy_id for it in result.items] == list(POLICY_IDS)
    assert all(it.status in ("needs_info", "non_monetary") for it in result.items)
    assert all(not it.touched for it in result.items)
    assert relevant_items(result) == []
    assert result.total_yuan == "0"
    assert result.total_is_upper_bound is False


def test_failed_fact_beats_missing_facts():
    it = item(run(registered_capital_yuan="5000000"), "hq_establishment")
    assert it.status == "not_eligible"
    assert any("1000万元" in c for c in it.conditions_unmet)


# --------------------------------------------------------------------------------------------------
# basis, notes and interpretation rules
# --------------------------------------------------------------------------------------------------


def test_platform_basis_reads_like_the_policy():
    it = item(run(**PLATFORM_OK, platform_first_year_online_transactions_yuan="300000000"), "self_built_platform")
    assert "首年网上交易额3亿元，属1-5亿元档，给予30万元一次性财政扶持" in it.basis
    assert any("附件-11" in n for n in it.notes)


@pytest.mark.parametrize(
    ("profile", "policy_id"),
    [
        pytest.param({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": "500000000"},
                     "self_built_platform", id="platform-5yi"),
        pytest.param({**PLATFORM_OK, "platform_first_year_online_transactions_yuan": "100000000"},
                     "self_built_platform", id="platform-1yi"),
        pytest.param(HQ_OK, "hq_establishment", id="hq-1000wan"),
        pytest.param({"cross_border_retail_usd": "200000000"}, "cross_border", id="cb-2yi"),
        pytest.param({"cross_border_retail_cny": "1420000000", "usd_cny_rate": "7.1"}, "cross_border",
                     id="cb-cny-2yi"),
    ],
)
def test_inclusive_boundary_noted(profile, policy_id):
    assert INCLUSIVE_BOUNDARY_NOTE in item(run(**profile), policy_id).notes


def test_purchase_basis_and_ambiguity():
    it = item(run(new_hq_type="regional_hq", office_purchase_price_yuan="3000000"), "hq_office_purchase")
    assert "购房总价300万元×20%=60万元" in it.basis
    assert HQ_THRESHOLD_AMBIGUITY_NOTE in it.notes
    assert "区商务委" in HQ_THRESHOLD_AMBIGUITY_NOTE


def test_ambiguity_warns_when_thresholds_fail():
    it = item(
        run(new_hq_type="regional_hq", registered_capital_yuan="5000000", office_purchase_price_yuan="1000000"),
        "hq_office_purchase",
    )
    assert it.status == "eligible" and it.amount_yuan == "200000"
    assert any("如区商务委认定这些门槛同样适用于本项" in n for n in it.notes)


def test_rent_notes():
    absent = item(run(new_hq_type="regional_hq", office_annual_rent_yuan="400000"), "hq_office_rent")
    assert any("按政策补贴期限3年计算" in n for n in absent.notes)
    longer = item(run(new_hq_type="regional_hq", office_annual_rent_yuan="400000", rent_years=5), "hq_office_rent")
    assert any("仅按3年计算" in n for n in longer.notes)
    exact = item(run(new_hq_type="regional_hq", office_annual_rent_yuan="400000", rent_years=3), "hq_office_rent")
    assert not any("3年计算" in n for n in exact.notes)


def test_contribution_notes():
    single = item(run(new_hq_type="regional_hq", annual_local_contribution_yuan="1000000"), "hq_contribution_reward")
    assert any("每年贡献相同" in n for n in single.notes)
    assert "第4年100万元×50%=50万元" in single.basis
    three = item(run(new_hq_type="regional_hq", annual_local_contribution_yuan=[1, 2, 3]), "hq_contribution_reward")
    assert any("第4至5年的奖励未计入" in n for n in three.notes)


def test_cross_border_notes():
    no_rate = item(run(cross_border_retail_cny="1500000000"), "cross_border")
    assert any("汇率" in n for n in no_rate.notes)
    with_rate = item(run(cross_border_retail_cny="1500000000", usd_cny_rate="7.1"), "cross_border")
    assert "211,267,605.63美元" in with_rate.basis
    below = item(run(cross_border_retail_cny="1419999999.99", usd_cny_rate="7.1"), "cross_border")
    assert any("199,999,999.99美元" in c for c in below.conditions_unmet)  # never rounded up to 2亿
    both = item(run(cross_border_retail_usd="300000000", cross_border_retail_cny="1"), "cross_border")
    assert any("按美元金额判断" in n for n in both.notes)


def test_talent_lists_preferences_and_lead_unit():
    it = item(run(new_hq_type="regional_hq"), "talent")
    text = it.basis + "".join(it.notes)
    for pref in ("居留和出入境", "落户", "子女入学", "医疗"):
        assert pref in text
    assert it.lead_unit == "区人力社保局"
    assert it.amount_yuan is None


@pytest.mark.parametrize(
    "profile",
    [{}, HQ_OK, {"demo_base_level": "none"}, {"cross_border_retail_cny": "1"},
     {**HQ_OK, "office_purchase_price_yuan": "2500000", "demo_enterprise_level": "national"}],
)
def test_validity_notice_in_every_result(profile):
    result = run(**profile)
    assert result.notes[0] == VALIDITY_NOTICE
    assert "2019" in VALIDITY_NOTICE and "2022" in VALIDITY_NOTICE and "区商务委" in VALIDITY_NOTICE
    assert "2019-12-05" in VALIDITY_NOTICE_EN


def test_full_hq_profile_total_exact():
    result = run(
        **HQ_OK,
        office_purchase_price_yuan="2500000",
        annual_local_contribution_yuan=["1000000"] * 5,
    )
    amounts = {it.policy_id: it.amount_yuan for it in result.items if it.status == "eligible"}
    assert amounts == {
        "hq_establishment": "1000000",
        "hq_office_purchase": "500000",
        "hq_contribution_reward": "4000000",
    }
    assert result.total_yuan == "5500000"
    assert result.total_is_upper_bound is True
    assert STACKING_NOTE in result.notes
    assert HQ_THRESHOLD_AMBIGUITY_NOTE in result.notes


def test_total_is_sum_of_eligible_items():
    result = run(
        **HQ_OK,
        **PLATFORM_OK,
        office_annual_rent_yuan="123456.78",
        rent_years=2,
        demo_base_level="municipal",
        demo_enterprise_level="national",
        platform_first_year_online_transactions_yuan="600000000",
        cross_border_retail_usd="250000000",
        annual_local_contribution_yuan=["12345.67", "1"],
    )
    eligible = [Decimal(it.amount_yuan) for it in result.items if it.status == "eligible"]
    assert Decimal(result.total_yuan) == sum(eligible)
    assert item(result, "hq_office_rent").amount_yuan == "49382.712"  # 123456.78 × 20% × 2


def test_single_eligible_fixed_item_total_not_upper_bound():
    result = run(demo_base_level="national")
    assert result.total_yuan == "300000"
    assert result.total_is_upper_bound is False
    assert STACKING_NOTE not in result.notes


def test_touched_and_relevant_items():
    result = run(office_annual_rent_yuan="400000")
    touched = {it.policy_id for it in relevant_items(result)}
    assert touched == {"hq_office_rent"}


# --------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("300000", "30万元 (300,000元)"),
        (Decimal("1000000"), "100万元 (1,000,000元)"),
        ("25000", "2.5万元 (25,000元)"),
        ("10000", "1万元 (10,000元)"),
        ("9999.99", "9,999.99元"),
        ("123.45", "123.45元"),
        ("123.5", "123.50元"),
        ("0", "0元"),
        ("246913.578", "约24.6913万元 (246,913.578元)"),
        ("99999999.99", "约9999.9999万元 (99,999,999.99元)"),
        ("300000.00", "30万元 (300,000元)"),
    ],
)
def test_format_yuan(amount, expected):
    assert format_yuan(amount) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("300000.00", "300000"), ("123.5", "123.50"), ("0.002", "0.002"), ("1E+5", "100000"), ("-0", "0")],
)
def test_canonical_amount(amount, expected):
    assert canonical_amount(amount) == expected


def test_render_table():
    result = run(**HQ_OK, office_purchase_price_yuan="3000000", cross_border_retail_cny="1500000000")
    table = render_table(result)
    assert "| 政策 |" in table
    assert "符合" in table and "需补充信息" in table and "非资金类" in table
    assert "最高50万元 (500,000元)" in table
    assert "合计" in table and "150万元 (1,500,000元)" in table
    assert VALIDITY_NOTICE in table
    assert "美元兑人民币汇率" in table  # missing fact shown by its Chinese label
    short = render_table(result, only_touched=True)
    assert "示范企业" not in short.split("各项说明")[0]


# --------------------------------------------------------------------------------------------------
# Input validation: each bad value raises a ValidationError that names the field
# --------------------------------------------------------------------------------------------------

BAD_INPUTS = [
    ("registered_capital_yuan", -1),
    ("registered_capital_yuan", "-0.01"),
    ("registered_capital_yuan", float("nan")),
    ("registered_capital_yuan", float("inf")),
    ("registered_capital_yuan", "NaN"),
    ("registered_capital_yuan", "Infinity"),
    ("registered_capital_yuan", Decimal("NaN")),
    ("registered_capital_yuan", "三亿"),
    ("registered_capital_yuan", "abc"),
    ("registered_capital_yuan", "300,000"),
    ("registered_capital_yuan", "3e8"),
    ("registered_capital_yuan", True),
    ("registered_capital_yuan", [1]),
    ("registered_capital_yuan", 10**15 + 1),
    ("registered_capital_yuan", "0.001"),
    ("online_annual_sales_yuan", "一亿"),
    ("office_purchase_price_yuan", -5),
    ("office_annual_rent_yuan", False),
    ("cross_border_retail_usd", 10**15 + 1),
    ("cross_border_retail_cny", "abc"),
    ("usd_cny_rate", 0),
    ("usd_cny_rate", -7),
    ("usd_cny_rate", 100),
    ("usd_cny_rate", "七"),
    ("years_in_operation", -1),
    ("years_in_operation", True),
    ("rent_years", 0),
    ("rent_years", -1),
    ("rent_years", 101),
    ("rent_years", 2.5),
    ("rent_years", True),
    ("annual_local_contribution_yuan", [1] * 6),
    ("annual_local_contribution_yuan", []),
    ("annual_local_contribution_yuan", [1, "abc"]),
    ("annual_local_contribution_yuan", [1, -1]),
    ("annual_local_contribution_yuan", True),
    ("sales_in_statistics", "yes"),
    ("sales_in_statistics", 1),
    ("registered_in_beibei", "true"),
    ("new_hq_type", "headquarters"),
    ("demo_base_level", "provincial"),
    ("demo_enterprise_level", 1),
    ("platform_project_investment_yuan", "一百万"),
    ("platform_first_year_online_transactions_yuan", float("-inf")),
]


@pytest.mark.parametrize(("field", "value"), BAD_INPUTS, ids=[f"{f}={v!r}" for f, v in BAD_INPUTS])
def test_bad_input_names_field(field, value):
    with pytest.raises(ValidationError) as exc:
        EnterpriseProfile(**{field: value})
    assert field in str(exc.value)


def test_unknown_field_rejected():
    with pytest.raises(ValidationError) as exc:
        EnterpriseProfile.model_validate({"registered_capital": 1})
    assert "registered_capital" in str(exc.value)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("registered_capital_yuan", "300000", Decimal("300000")),
        ("registered_capital_yuan", " 300000.5 ", Decimal("300000.5")),
        ("registered_capital_yuan", 300000, Decimal("300000")),
        ("registered_capital_yuan", 99999999.99, Decimal("99999999.99")),
        ("registered_capital_yuan", 10**15, Decimal(10**15)),
        ("registered_capital_yuan", 0, Decimal(0)),
        ("usd_cny_rate", "7.1234", Decimal("7.1234")),
        ("years_in_operation", "0.99", Decimal("0.99")),
        ("rent_years", "3", 3),
        ("rent_years", 3.0, 3),
    ],
)
def test_good_numeric_input(field, value, expected):
    assert getattr(EnterpriseProfile(**{field: value}), field) == expected


def test_parse_profile_json_keeps_decimals_exact():
    profile = parse_profile('{"online_annual_sales_yuan": 99999999.99, "annual_local_contribution_yuan": [1000000]}')
    assert profile.online_annual_sales_yuan == Decimal("99999999.99")
    assert profile.annual_local_contribution_yuan == [Decimal("1000000")]
    with pytest.raises(ValidationError):
        parse_profile('{"cross_border_retail_usd": "二亿"}')


def test_read_profile_says_what_is_wrong_in_one_line():
    with pytest.raises(ProfileError, match="cross_border_retail_usd"):  # one readable line, naming the field
        read_profile('{"cross_border_retail_usd": "二亿"}')
    with pytest.raises(ProfileError, match="JSON"):
        read_profile('{"cross_border_retail_usd": ')
    with pytest.raises(ProfileError, match="JSON 对象"):
        read_profile("[1, 2]")
    assert read_profile('{"online_annual_sales_yuan": 99999999.99}').online_annual_sales_yuan == Decimal("99999999.99")


def test_result_round_trips_as_json():
    result = run(**HQ_OK)
    again = CalculationResult.model_validate_json(result.model_dump_json())
    assert again == result
