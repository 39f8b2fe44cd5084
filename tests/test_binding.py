"""Binding figures to what they measure: period, ordinal, scope, and figures that are never facts.

Table-driven over ``assistant.numbers.extract``. Every row is worded differently from the eval items
(eval/gold.jsonl, eval/fresh.jsonl): a rule is tested as a kind, not as one question.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.numbers import extract, extract_amounts

D = Decimal
RENT = "office_annual_rent_yuan"
PLATFORM = "platform_first_year_online_transactions_yuan"
CONTRIB = "annual_local_contribution_yuan"
HQ_SALES = "online_annual_sales_yuan"


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        # per month → ×12, whichever side of the figure the period word stands
        ("我们营销中心每个月的办公室租金1.5万", RENT, D(180000)),
        ("写字楼房租每月两万", RENT, D(240000)),
        ("月租金8000元的办公室，新设结算中心", RENT, D(96000)),
        ("办公室一个月租金2万5", RENT, D(300000)),
        # per year stays
        ("办公室一年租金50万", RENT, D(500000)),
        ("每年租金三十万的写字楼", RENT, D(300000)),
        # average monthly sales for the first year: exactly 12 times
        ("自建商城首年月均网上交易额1500万", PLATFORM, D(180000000)),
        ("我们自建平台第一年平均每月交易额900万", PLATFORM, D(108000000)),
        # only the first year counts for the self-built platform
        ("自建平台上线第一年交易额1.3亿，第三年做到7亿", PLATFORM, D(130000000)),
        ("自建平台第二年交易额4亿，首年交易额9000万", PLATFORM, D(90000000)),
        # declared unit for bare numbers
        ("年度贡献依次为50、60、70、80、90（单位：万元）", CONTRIB, [D(500000), D(600000), D(700000), D(800000), D(900000)]),
    ],
)
def test_bound(text: str, field: str, value) -> None:
    out = extract(text)
    assert out.facts.get(field) == value, (out.facts, out.unclear, out.notes)
    assert not [u for u in out.unclear if u[0] == field]


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("新设区域总部，办公楼房租4万，补贴多少", RENT, "period"),  # a month's or a year's?
        ("运营中心的租金25万能补多少", RENT, "period"),
        ("自建平台上个月交易额3000万", PLATFORM, "monthly"),  # one month is not a year
        ("总部前年对区里贡献了150万", CONTRIB, "which_year"),  # which year of the five?
        ("贡献第三年200万，第四年260万", CONTRIB, "series"),  # the series must start at year 1
        ("第1年贡献100万，第3年贡献300万", CONTRIB, "series"),  # a gap
        ("我们做B2B跨境批发，年交易额2.5亿美元", "cross_border_retail_usd", "not_retail"),
    ],
)
def test_unclear_is_asked_not_guessed(text: str, field: str, reason: str) -> None:
    out = extract(text)
    assert field not in out.facts, out.facts
    assert (field, reason) in [(u[0], u[1]) for u in out.unclear], out.unclear


@pytest.mark.parametrize(
    "text",
    [
        "跨境那200万的扶持是不是一次性给",  # the subsidy itself
        "自建平台的50万奖励怎么发",
        "示范基地那30万要交税吗",
        "跨境零售门槛是不是2亿美元",  # a threshold being asked about
        "首年交易额起步要达到1亿吗",
        "算一下是30万还是50万",  # award amounts being compared
    ],
)
def test_subsidies_and_thresholds_are_never_facts(text: str) -> None:
    out = extract(text)
    money_facts = {k: v for k, v in out.facts.items() if k.endswith(("_yuan", "_usd", "_cny"))}
    assert money_facts == {}, money_facts


def test_series_in_year_order_with_the_cue_in_an_earlier_clause() -> None:
    out = extract("落户后每年对北碚的贡献：第1年60万，第2年90万，第3年120万，第4年80万，第5年40万")
    assert out.facts[CONTRIB] == [D(600000), D(900000), D(1200000), D(800000), D(400000)]


def test_calendar_years_form_a_series() -> None:
    out = extract("我们结算中心地方经济发展贡献2021年100万，2022年110万，2023年130万")
    assert out.facts[CONTRIB] == [D(1000000), D(1100000), D(1300000)]


def test_single_yearly_contribution_applies_to_every_year() -> None:
    assert extract("区域总部每年地方经济发展贡献80万").facts[CONTRIB] == D(800000)


def test_domestic_figure_is_not_the_cross_border_one() -> None:
    out = extract("我们跨境电商公司，内销交易额4亿，跨境零售1.2亿美元")
    assert out.facts.get("cross_border_retail_usd") == D(120000000)
    assert "cross_border_retail_cny" not in out.facts


def test_monthly_hq_sales_become_yearly() -> None:
    out = extract("新设运营中心，线上月销1000万，注册资本3000万")
    assert out.facts[HQ_SALES] == D(120000000)


def test_contract_years_are_the_lease_length() -> None:
    out = extract("合同签了两年，年租金20万")
    assert out.facts["rent_years"] == 2


def test_not_registered_here_is_a_fact() -> None:
    assert extract("公司注册在江北，平台在北碚").facts["registered_in_beibei"] is False
    assert extract("We are registered in Singapore").facts["registered_in_beibei"] is False


def test_statistics_negation() -> None:
    assert extract("销售数据还没纳入统计").facts["sales_in_statistics"] is False


def test_old_company_is_not_newly_set_up() -> None:
    assert extract("我们2012年就在北碚注册了，现在设营销中心").facts.get("new_hq_type") == "none"


@pytest.mark.parametrize(("text", "value"), [("3万5", D(35000)), ("1亿2", D(120000000)), ("两万5", D(25000)), ("6万5千", D(65000))])
def test_trailing_digit_is_a_tenth_of_the_unit(text: str, value: Decimal) -> None:
    assert [a.value for a in extract_amounts(text)] == [value]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=99_999), st.sampled_from(["每月", "每个月", "月"]))
def test_monthly_rent_is_always_twelve_times(amount: int, marker: str) -> None:
    text = f"办公室房租{marker}{amount}元" if marker != "月" else f"月租金{amount}元"
    assert extract(text).facts[RENT] == D(amount) * 12


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=9_999), st.integers(min_value=2, max_value=5))
def test_a_later_year_never_becomes_the_first_year(wan: int, year: int) -> None:
    out = extract(f"我们自建平台第{year}年交易额{wan}万")
    assert PLATFORM not in out.facts


def test_a_unit_price_is_not_the_rent() -> None:
    out = extract("写字楼租金每平方米60元，租了800平")
    assert RENT not in out.facts
    assert (RENT, "unit_price") in [(u[0], u[1]) for u in out.unclear]


@pytest.mark.parametrize(("text", "hq"), [("We just opened a settlement centre in Beibei", "settlement_center"),
                                         ("我们刚成立的营销中心", "marketing_center"),
                                         ("Our HQ was established in 2012 in Beibei", "none")])
def test_newly_set_up_or_not(text: str, hq: str) -> None:
    assert extract(text).facts.get("new_hq_type") == hq


@pytest.mark.parametrize("text", ["第一年租金40万、第二年44万，新设营销中心", "自建平台首年交易额1.5亿和2亿"])
def test_two_figures_for_one_thing_are_asked_about(text: str) -> None:
    out = extract(text)
    assert "two_values" in [u[1] for u in out.unclear]
    assert not {k for k in out.facts if k.endswith("_yuan")}


def test_a_unit_written_once_after_a_list() -> None:
    out = extract("贡献五年依次是80、90、100、110、120万")
    assert out.facts[CONTRIB] == [D(800000), D(900000), D(1000000), D(1100000), D(1200000)]
    out = extract("we contributed 1.2, 1.4, 1.6, 1.8 and 2 million yuan in years one to five")
    assert out.facts[CONTRIB] == [D(1200000), D(1400000), D(1600000), D(1800000), D(2000000)]


def test_a_rule_the_owner_quotes_is_not_their_figure() -> None:
    assert extract("文件里说首年交易额1亿以上才有，对吧").facts == {}


@pytest.mark.parametrize(("text", "years"), [("three-year lease on the office, rent 300,000 yuan a year", 3), ("租约4年，年租金20万", 4)])
def test_lease_length_in_words(text: str, years: int) -> None:
    assert extract(text).facts["rent_years"] == years
