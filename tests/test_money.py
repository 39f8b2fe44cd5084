"""assistant.money: the one parser/formatter of money. Tables per behaviour, properties, and parity with the
copies it replaces (so swapping them in cannot change an answer)."""

from __future__ import annotations

import json
from dataclasses import astuple
from decimal import Decimal
from pathlib import Path

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.money import (
    MAX_MONEY,
    canonical_amount,
    extract_amounts,
    extract_rate,
    format_cn_amount,
    format_compact,
    format_money_en,
    format_percent,
    format_usd,
    format_yuan,
    format_yuan_en,
    parse_form_amount,
    parse_money,
    parse_numeral,
    read_money,
    yuan_values,
)

D = Decimal
EVAL = Path(__file__).resolve().parent.parent / "eval"

# --------------------------------------------------------------------------------------------------
# Parsing one figure
# --------------------------------------------------------------------------------------------------

NUMERALS = [
    ("3.5亿", D(350_000_000)),
    ("三亿五千万", D(350_000_000)),
    ("1,000万", D(10_000_000)),
    ("一点九亿", D(190_000_000)),
    ("1.5万亿", D("1.5E12")),
    ("壹亿伍仟万元", D(150_000_000)),  # 大写
    ("叁拾万元整", D(300_000)),
    ("三亿五", D(350_000_000)),  # cn2an rejects it; owners say it
    ("贰佰万", D(2_000_000)),
    ("2亿美元", D(200_000_000)),
    ("两亿美金", D(200_000_000)),
    ("3 million", D(3_000_000)),
    ("1.2 billion yuan", D(1_200_000_000)),
    ("$200 million", D(200_000_000)),
    ("RMB 300000", D(300_000)),
    ("３亿", D(300_000_000)),  # full-width digit
    ("300000", D(300_000)),
    ("abc", None),
    ("", None),
    ("元", None),
]


@pytest.mark.parametrize(("text", "value"), NUMERALS)
def test_parse_numeral(text, value):
    assert parse_numeral(text) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2亿美元", (D(200_000_000), "USD")),
        ("USD 250 million", (D(250_000_000), "USD")),
        ("30万元", (D(300_000), "CNY")),
        ("30万", (D(300_000), "CNY")),
        ("￥300", (D(300), "CNY")),
        ("一些钱", None),
    ],
)
def test_parse_money_reports_currency(text, expected):
    assert parse_money(text) == expected


# --------------------------------------------------------------------------------------------------
# Amounts in sentences (the implementation moved from assistant.numbers)
# --------------------------------------------------------------------------------------------------

AMOUNTS = [
    ("3亿", [(D(300_000_000), "CNY")]),
    ("2.5亿美元", [(D(250_000_000), "USD")]),
    ("15亿元人民币", [(D(1_500_000_000), "CNY")]),
    ("年租金40万", [(D(400_000), "CNY")]),
    ("壹亿伍仟万元", [(D(150_000_000), "CNY")]),
    ("RMB 300m", [(D(300_000_000), "CNY")]),
    ("$200 million", [(D(200_000_000), "USD")]),
    ("首年交易额3亿元，项目投资150万元", [(D(300_000_000), "CNY"), (D(1_500_000), "CNY")]),
    ("跨境零售额15亿元人民币，按1美元兑7.1元", [(D(1_500_000_000), "CNY")]),  # the rate is not money
    ("培育网商1000家以上", []),
    ("补贴比例20%", []),
    ("2022年", []),
]


@pytest.mark.parametrize(("text", "expected"), AMOUNTS)
def test_extract_amounts(text, expected):
    assert [(a.value, a.currency) for a in extract_amounts(text)] == expected


def test_range_and_spans():
    low, high = extract_amounts("首年网上交易额达1-5亿元")
    assert (low.value, low.range_part, high.value, high.range_part) == (D(100_000_000), "low", D(500_000_000), "high")
    text = "自建平台首年交易额三亿五千万元能拿多少"
    (amount,) = extract_amounts(text)
    assert text[amount.start : amount.end] == amount.raw == "三亿五千万元"


def test_read_money_masks_the_rate_phrase_in_place():
    text = "跨境零售额15亿元，1美元兑7.1元"
    reading = read_money(text)
    assert reading.rate == D("7.1") == extract_rate(text)
    assert len(reading.masked) == len(text) and "7.1" not in reading.masked
    assert [a.value for a in reading.amounts] == [D(1_500_000_000)]


def _eval_texts() -> list[str]:
    texts = []
    for name in ("gold.jsonl", "fresh.jsonl"):
        path = EVAL / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts += json.loads(line).get("turns", [])
    return texts


# Where this module deliberately reads differently from the copy in assistant.numbers (as of this commit): a
# trailing digit is a tenth of the unit ("2万5" = 25000) only when it does not start a word or count something,
# and "1千5元" / "三亿五" are read whole. The numbers copy reads these as 30.1万, 40.3万, 100.5万, 5元 and nothing.
DELIBERATE = {
    "听说自建电商平台能拿30万一次性扶持，这30万到手要不要交企业所得税？": [D(300_000), D(300_000)],
    "30万一次性扶持": [D(300_000)],
    "年租金40万3年": [D(400_000)],
    "100万5个人": [D(1_000_000)],
    "1千5元": [D(1500)],
    "三亿五": [D(350_000_000)],
    "三亿五元": [D(350_000_000)],
}
TAIL_DIGITS = [("2万5", D(25_000)), ("3亿5", D(350_000_000)), ("2万5元", D(25_000)), ("月租2万5，租3年", D(25_000)),
               ("两万五", D(25_000)), ("一千五元", D(1500))]


@pytest.mark.parametrize(("text", "value"), TAIL_DIGITS)
def test_trailing_digit_is_a_tenth_of_the_unit(text, value):
    assert [a.value for a in extract_amounts(text)] == [value]


@pytest.mark.parametrize(("text", "values"), DELIBERATE.items())
def test_trailing_digit_that_starts_a_word_is_not_part_of_the_figure(text, values):
    assert [a.value for a in extract_amounts(text)] == values


def test_extract_amounts_matches_the_numbers_copy_on_every_eval_question():
    """Until assistant.numbers imports these, both copies must read every real question the same way (except
    where this one is deliberately right, above): swapping the copy in then cannot change an answer."""
    from assistant import numbers

    texts = _eval_texts() + [t for t, _ in AMOUNTS] + [t for t, _ in NUMERALS] + [t for t, _ in TAIL_DIGITS]
    assert len(texts) > 300
    for text in texts:
        if text in DELIBERATE:
            continue
        ours = [astuple(a) for a in extract_amounts(text)]
        assert ours == [astuple(a) for a in numbers.extract_amounts(text)], text
        assert extract_rate(text) == numbers.extract_rate(text), text


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10**12))
def test_chinese_numeral_round_trip(n):
    (amount,) = extract_amounts(cn2an.an2cn(n) + "元")
    assert amount.value == n
    assert parse_numeral(cn2an.an2cn(n, "up")) == n  # 大写: 壹仟贰佰…


# --------------------------------------------------------------------------------------------------
# Form fields and answer checking
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "usd", "value"),
    [
        ("300", False, D(3_000_000)),  # a bare number is 万
        ("1.2亿", False, D(120_000_000)),
        ("300万元", False, D(3_000_000)),
        ("300000元", False, D(300_000)),
        ("3,000", False, D(30_000_000)),
        ("３００", False, D(3_000_000)),
        ("2.5亿美元", True, D(250_000_000)),
        ("25000", True, D(250_000_000)),
        ("", False, None),
        (None, False, None),
    ],
)
def test_parse_form_amount(text, usd, value):
    assert parse_form_amount(text, usd=usd) == value


@pytest.mark.parametrize("text", ["abc", "三百", "1e5", "1" * 31])
def test_parse_form_amount_rejects(text):
    with pytest.raises(ValueError):
        parse_form_amount(text)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("给予 30 万元一次性奖励", [D(300_000)]),  # spaced, as in the raw policy text
        ("¥300,000", [D(300_000)]),
        ("300,000 yuan (30万元)", [D(300_000), D(300_000)]),
        ("CNY 2 million", [D(2_000_000)]),
        ("三十万元", [D(300_000)]),
        ("2亿美元以上，给予200万元", [D(2_000_000)]),  # dollars are not yuan
        ("没有金额", []),
    ],
)
def test_yuan_values(text, values):
    assert yuan_values(text) == values


# --------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("300000.00", "300000"), ("123.5", "123.50"), ("0.002", "0.002"), ("1E+5", "100000"), ("-0", "0"),
     ("246913.578", "246913.578")],
)
def test_canonical_amount(amount, expected):
    assert canonical_amount(amount) == expected


def test_canonical_amount_rejects_nan():
    with pytest.raises(ValueError):
        canonical_amount("NaN")


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        ("300000", "30万元 (300,000元)", "300,000 yuan (30万元)"),
        ("25000", "2.5万元 (25,000元)", "25,000 yuan (2.5万元)"),
        ("10000", "1万元 (10,000元)", "10,000 yuan (1万元)"),
        ("9999.99", "9,999.99元", "9,999.99 yuan"),
        ("123.5", "123.50元", "123.50 yuan"),
        ("0", "0元", "0 yuan"),
        ("246913.578", "约24.6913万元 (246,913.578元)", "about 246,913.578 yuan (24.6913万元)"),
        ("99999999.99", "约9999.9999万元 (99,999,999.99元)", "about 99,999,999.99 yuan (9999.9999万元)"),
    ],
)
def test_format_yuan_both_languages(amount, zh, en):
    """en is exactly what compose_draft's English answers print today."""
    assert format_yuan(amount) == zh
    assert format_yuan_en(amount) == en


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [("300000000", "元", "3亿元"), ("498000", "元", "49.8万元"), ("99999999.99", "元", "9999.999999万元"),
     ("123.5", "元", "123.50元"), ("200000000", "美元", "2亿美元"), ("1500000000", "元人民币", "15亿元人民币")],
)
def test_format_compact(amount, unit, expected):
    assert format_compact(D(amount), unit) == expected


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [(D(300_000_000), "CNY", "3亿元"), (D(250_000_000), "USD", "2.5亿美元"), (D(400_000), "CNY", "40万元"),
     (D(5000), "CNY", "5000元"), (D("123.5"), "CNY", "123.5元")],
)
def test_format_cn_amount(value, currency, expected):
    assert format_cn_amount(value, currency) == expected


def test_small_formatters():
    assert format_usd(D("211267605.63")) == "211,267,605.63美元"
    assert format_money_en(D(300_000)) == "CNY 300,000"
    assert format_money_en(D("200000000"), "USD") == "USD 200,000,000"
    assert format_money_en(D("123.5")) == "CNY 123.50"
    assert format_percent(D("0.2")) == "20%" and format_percent(D(1)) == "100%" and format_percent(D("0.5")) == "50%"


def fen(max_yuan: int = 10**13) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=0, max_value=max_yuan * 100).map(lambda cents: Decimal(cents) / 100)


@settings(max_examples=300, deadline=None)
@given(value=fen(), currency=st.sampled_from(["CNY", "USD"]))
def test_compact_figures_parse_back_exactly(value, currency):
    assert parse_money(format_cn_amount(value, currency)) == (value, currency)
    unit = "美元" if currency == "USD" else "元"
    assert parse_money(format_compact(value, unit)) == (value, currency)


@settings(max_examples=300, deadline=None)
@given(value=fen())
def test_every_format_keeps_the_exact_value(value):
    assert D(canonical_amount(value)) == value
    exact = format_yuan(value).split("(")[-1].rstrip(")").removesuffix("元")
    assert D(exact.replace(",", "")) == value
    assert D(format_money_en(value).removeprefix("CNY ").replace(",", "")) == value
    assert yuan_values(format_yuan_en(value))[0] == value


def test_max_money_is_the_profile_bound():
    from assistant.calculator import EnterpriseProfile

    assert EnterpriseProfile(registered_capital_yuan=MAX_MONEY).registered_capital_yuan == MAX_MONEY
    with pytest.raises(ValueError):
        EnterpriseProfile(registered_capital_yuan=MAX_MONEY + 1)
