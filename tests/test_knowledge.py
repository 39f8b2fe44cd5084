"""corpus/policies.yaml and assistant.knowledge: every figure is the policy's own, units come from the corpus,
both languages carry the same figures, and the calculator's primitives are exact at every boundary."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal, DecimalException
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assistant import knowledge
from assistant.calculator import (
    FACT_LABELS,
    POLICY_IDS,
    POLICY_UNITS,
    EnterpriseProfile,
    HqType,
    RecognitionLevel,
    calculate,
    fixed_amount,
    percent_with_cap,
    tier_index,
    yearly_percent_with_cap,
    yearly_schedule,
)
from assistant.corpus import load_corpus
from assistant.knowledge import ByLevelRule, TiersRule, load_policies, render
from assistant.money import extract_amounts

D = Decimal
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BOOK = load_policies(CORPUS)
DOC = load_corpus(CORPUS)
RAW_YAML: dict[str, Any] = yaml.safe_load((CORPUS / "policies.yaml").read_text(encoding="utf-8"))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# The policy as received: the raw document and the hand-copied task table, whitespace removed ("30 万元").
POLICY_TEXT = squeeze((CORPUS / "raw" / "000_2cbc706aa22fe855.txt").read_text(encoding="utf-8")) + squeeze(
    (CORPUS / "annex.yaml").read_text(encoding="utf-8")
)
_PERCENT = re.compile(r"\d+(?:\.\d+)?%")
_YEARS = re.compile(r"(\d+)年")


def figures(text: str) -> set[tuple[Decimal, str]]:
    """Money (value, currency), percentages (value, '%') and year counts (value, '年') a text states."""
    out = {(a.value, a.currency) for a in extract_amounts(text)}
    out |= {(D(p[:-1]) / 100, "%") for p in _PERCENT.findall(text)}
    out |= {(D(n), "年") for n in _YEARS.findall(text)}
    return out


POLICY_FIGURES = figures(POLICY_TEXT)


def as_figure(q: knowledge.Quantity) -> tuple[Decimal, str]:
    return q.value, {"percent": "%", "year": "年"}.get(q.unit, q.unit)


def strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return []


# --------------------------------------------------------------------------------------------------
# Figures: every one is the policy's, parsed right, and quoted from its clause
# --------------------------------------------------------------------------------------------------

FIGURES = [
    ("hq_establishment", "min_capital", "1000万元", D(10_000_000), "CNY"),
    ("hq_establishment", "min_sales", "1亿元", D(100_000_000), "CNY"),
    ("hq_establishment", "min_years", "1年", D(1), "year"),
    ("hq_establishment", "amount", "100万元", D(1_000_000), "CNY"),
    ("hq_office_purchase", "rate", "20%", D("0.2"), "percent"),
    ("hq_office_purchase", "cap", "50万元", D(500_000), "CNY"),
    ("hq_office_rent", "rate", "20%", D("0.2"), "percent"),
    ("hq_office_rent", "max_years", "3年", D(3), "year"),
    ("hq_office_rent", "cap", "30万元", D(300_000), "CNY"),
    ("hq_contribution_reward", "stage1_years", "3年", D(3), "year"),
    ("hq_contribution_reward", "stage1_rate", "100%", D(1), "percent"),
    ("hq_contribution_reward", "stage2_years", "2年", D(2), "year"),
    ("hq_contribution_reward", "stage2_rate", "50%", D("0.5"), "percent"),
    ("demo_base", "national", "30万元", D(300_000), "CNY"),
    ("demo_base", "municipal", "20万元", D(200_000), "CNY"),
    ("demo_enterprise", "national", "20万元", D(200_000), "CNY"),
    ("demo_enterprise", "municipal", "10万元", D(100_000), "CNY"),
    ("self_built_platform", "min_investment", "100万元", D(1_000_000), "CNY"),
    ("self_built_platform", "tier1_floor", "1亿元", D(100_000_000), "CNY"),
    ("self_built_platform", "tier1_amount", "30万元", D(300_000), "CNY"),
    ("self_built_platform", "tier2_floor", "5亿元", D(500_000_000), "CNY"),
    ("self_built_platform", "tier2_amount", "50万元", D(500_000), "CNY"),
    ("cross_border", "min_retail", "2亿美元", D(200_000_000), "USD"),
    ("cross_border", "amount", "200万元", D(2_000_000), "CNY"),
]


@pytest.mark.parametrize(("policy_id", "name", "text", "value", "unit"), FIGURES)
def test_figure_is_parsed_and_appears_in_the_policy_text(policy_id, name, text, value, unit):
    q = BOOK.policy(policy_id).params()[name]
    assert (q.text, q.value, q.unit) == (text, value, unit)
    assert text in POLICY_TEXT


def test_figure_table_covers_every_figure_in_the_file():
    listed = {(p, n) for p, n, *_ in FIGURES}
    in_file = {(p.id, n) for p in BOOK.policies for n, q in p.params().items() if q.unit != "count"}
    in_file -= {("self_built_platform", "volume")}  # the lowest tier floor, named again for its condition
    assert in_file == listed


def _quoted(policy: knowledge.Policy) -> list[tuple[knowledge.Quantity, str]]:
    """(figure, the quote it must come from) for every figure of a policy."""
    rule = policy.amount
    pairs = [(c.threshold, c.quote or "") for c in policy.conditions if c.threshold is not None]
    if isinstance(rule, ByLevelRule):
        pairs += [(award.amount, award.quote) for award in rule.levels.values()]
    elif isinstance(rule, TiersRule):
        pairs += [(q, rule.quote) for t in rule.tiers for q in (t.at_least, t.amount)]
    else:
        names = {"amount", "rate", "cap", "max_years"} | {f"stage{i}_{k}" for i in (1, 2) for k in ("years", "rate")}
        pairs += [(q, rule.quote) for n, q in policy.params().items() if n in names]
    return pairs


@pytest.mark.parametrize("policy", BOOK.policies, ids=lambda p: p.id)
def test_each_figure_comes_from_its_verbatim_quote(policy):
    clause_texts = [squeeze(DOC.get(c).text) for c in policy.clauses]
    quotes = [c.quote for c in policy.conditions if c.quote] + [getattr(policy.amount, "quote", None) or ""]
    if isinstance(policy.amount, ByLevelRule):
        quotes += [a.quote for a in policy.amount.levels.values()]
    for quote in filter(None, quotes):
        assert any(squeeze(quote) in t for t in clause_texts), f"{policy.id}: {quote!r} is not in {policy.clauses}"
    for q, quote in _quoted(policy):
        assert as_figure(q) in figures(quote), f"{policy.id}: {q.text} is not in its quote {quote!r}"


@pytest.mark.parametrize("policy", BOOK.policies, ids=lambda p: p.id)
def test_inclusive_thresholds_say_so_in_the_text(policy):
    for c in policy.conditions:
        if c.threshold is not None:
            assert c.inclusive
            assert "以上" in (c.quote or "") or "（含）" in (c.quote or ""), c.id


# A figure in a sentence of the file that is not a policy figure: the exchange-rate label "1美元=?元".
NOT_POLICY_FIGURES = {(D(1), "USD")}


def test_every_figure_anywhere_in_the_file_is_in_the_policy_text():
    stray = {}
    for text in strings(RAW_YAML):
        for fig in figures(text) - POLICY_FIGURES - NOT_POLICY_FIGURES:
            stray[text[:60]] = fig
    assert not stray
    # and the check has teeth: a figure the policy never states is caught
    assert figures("最高40万元") - POLICY_FIGURES


# --------------------------------------------------------------------------------------------------
# Units, names and notices come from the corpus or are written once
# --------------------------------------------------------------------------------------------------


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_units_are_read_from_the_corpus_never_typed():
    assert not _keys(RAW_YAML) & {"lead_unit", "responsible_units"}
    annex_rows = {f"附件-{r['number']}": r for r in yaml.safe_load((CORPUS / "annex.yaml").read_text("utf-8"))["rows"]}
    for p in BOOK.policies:
        source = DOC.get(p.units_from)
        assert (p.lead_unit, p.responsible_units) == (source.lead_unit, source.responsible_units)
        assert POLICY_UNITS[p.id] == (p.lead_unit, p.responsible_units)
        rows = [annex_rows[c] for c in p.clauses if c in annex_rows]
        if p.annex_row == "none":
            assert not rows and DOC.get(p.units_from).source == "main"
        else:
            assert (rows[0]["lead_unit"], rows[0]["responsible_units"]) == (p.lead_unit, p.responsible_units)


def test_policies_without_an_annex_row_say_so():
    assert {p.id for p in BOOK.policies if p.annex_row == "none"} == {"demo_base", "demo_enterprise"}


def test_hq_types_and_levels_are_defined_once_and_match_the_schema():
    assert get_args(HqType)[:-1] == tuple(t.id for t in BOOK.hq_types)
    assert get_args(RecognitionLevel)[:-1] == tuple(lv.id for lv in BOOK.levels)
    annex_10 = DOC.get("附件-10").text
    for t in BOOK.hq_types:
        assert t.zh in annex_10 and t.zh in t.aliases
        assert t.zh in FACT_LABELS["new_hq_type"]  # the label is built from the list, not retyped
    assert "营运中心" in knowledge.policy("talent").conditions[0].quote  # 三(六)'s spelling, an alias
    assert any("营运中心" in t.aliases for t in BOOK.hq_types)
    for lv in BOOK.levels:
        assert lv.zh in DOC.get("三(二)").text + DOC.get("三(三)").text


def test_notices_match_the_document():
    zh, en = knowledge.notice("validity"), knowledge.notice("validity", "en")
    assert DOC.doc_number in zh and DOC.doc_number in en
    assert DOC.issued in en and "2019年12月5日" in zh
    deadlines = {r.deadline for r in DOC.clauses if r.source == "annex" and r.deadline}
    assert deadlines == {"2022年12月"} and "2022年12月" in zh
    support_rows = [c for p in BOOK.policies for c in p.clauses if c.startswith("附件-")]
    assert all(DOC.get(c).deadline is None for c in support_rows)  # 支持政策各项未列完成时间


def test_threshold_ambiguity_notice_cites_the_thresholds_from_data():
    text = knowledge.notice("hq_threshold_ambiguity")
    for name in ("min_capital", "min_sales", "min_years"):
        assert knowledge.param("hq_establishment", name).text in text
    assert "{" not in text


def test_typed_accessors():
    assert knowledge.policy_ids() == POLICY_IDS
    assert knowledge.threshold("hq_establishment", "min_capital") == D(10_000_000)
    assert knowledge.units("talent")[0] == "区人力社保局"
    assert knowledge.fact_label("registered_capital_yuan", "en") == "registered capital (CNY)"
    assert BOOK.hq_type_name("operations_center") == "运营中心"
    assert BOOK.level_name("municipal", "en") == "municipal"
    assert knowledge.format_quantity(knowledge.param("hq_office_rent", "max_years"), "en") == "3 years"
    assert set(FACT_LABELS) == set(EnterpriseProfile.model_fields)
    assert load_policies(CORPUS) is load_policies(CORPUS)  # cached: make run parses the YAML once


def test_render_refuses_unknown_placeholders():
    assert render("给予{amount}", {"amount": "30万元"}) == "给予30万元"
    with pytest.raises(KeyError):
        render("给予{amonut}", {"amount": "30万元"})


# --------------------------------------------------------------------------------------------------
# The loader rejects bad data (each edit below breaks one rule)
# --------------------------------------------------------------------------------------------------

BAD_EDITS = [
    pytest.param("threshold: 1000万元", "threshold: lots", id="unparseable-figure"),
    pytest.param("units_from: 附件-11", "units_from: 附件-12", id="units-from-outside-its-clauses"),
    pytest.param("clauses: [三(五), 附件-12]", "clauses: [三(五), 附件-99]", id="unknown-clause"),
    pytest.param("    annex_row: none  # the task table has no row for 三(二); units come from the main clause\n", "",
                 id="missing-annex-row-flag"),
    pytest.param("    units_from: 附件-12\n", "    units_from: 附件-12\n    lead_unit: 区商务委\n", id="typed-units"),
    pytest.param("test: not_none", "test: maybe", id="unknown-test"),
    pytest.param("facts: [demo_base_level]", "facts: [demo_base_levels]", id="unknown-fact"),
    pytest.param('en: "Recognised as {name}: one-time reward of {amount}"',
                 'en: "Recognised as {name}: one-time reward"', id="en-drops-a-figure"),
    pytest.param("{hq_establishment.min_capital}（含）", "{hq_establishment.min_capitol}（含）", id="bad-reference"),
    pytest.param("          amount: 20万元\n          name:\n            zh: \"市级", "          amount: 20万元\n"
                 "          nme:\n            zh: \"市级", id="schema-typo"),
]


@pytest.mark.parametrize(("old", "new"), BAD_EDITS)
def test_loader_rejects(tmp_path, old, new):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    path = corpus / "policies.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises((ValueError, ValidationError)):
        load_policies(corpus)


def test_loader_accepts_the_unedited_copy(tmp_path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    assert load_policies(tmp_path / "corpus").ids() == POLICY_IDS


# --------------------------------------------------------------------------------------------------
# Primitives, boundary by boundary
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "rate", "cap", "raw", "amount", "position"),
    [
        ("2500000", "0.2", "500000", "500000", "500000", "equal"),  # 250万×20% = exactly 最高50万
        ("2490000", "0.2", "500000", "498000", "498000", "under"),
        ("2500000.05", "0.2", "500000", "500000.010", "500000", "over"),  # 1分 over the cap
        ("3000000", "0.2", "500000", "600000", "500000", "over"),
        ("1234567.89", "0.2", "500000", "246913.578", "246913.578", "under"),  # exact 厘, never rounded
        ("0", "0.2", "500000", "0", "0", "under"),
    ],
)
def test_percent_with_cap(base, rate, cap, raw, amount, position):
    got = percent_with_cap(D(base), D(rate), D(cap))
    assert (got.raw, got.amount, got.position) == (D(raw), D(amount), position)


@pytest.mark.parametrize(
    ("rent", "years", "per_year", "raw", "amount", "position"),
    [
        ("500000", 3, "100000", "300000", "300000", "equal"),  # 50万×20%×3 = exactly 累计最高30万
        ("400000", 3, "80000", "240000", "240000", "under"),
        ("400000", 1, "80000", "80000", "80000", "under"),
        ("500000.01", 3, "100000.002", "300000.006", "300000", "over"),
        ("600000", 3, "120000", "360000", "300000", "over"),
        ("123456.78", 2, "24691.356", "49382.712", "49382.712", "under"),
    ],
)
def test_yearly_percent_with_cap(rent, years, per_year, raw, amount, position):
    got_per_year, got = yearly_percent_with_cap(D(rent), D("0.2"), years, D(300_000))
    assert (got_per_year, got.raw, got.amount, got.position) == (D(per_year), D(raw), D(amount), position)


FLOORS = [D(100_000_000), D(500_000_000)]


@pytest.mark.parametrize(
    ("value", "index"),
    [("0", None), ("99999999.99", None), ("100000000", 0), ("300000000", 0), ("499999999.99", 0),
     ("500000000", 1), ("5000000000", 1)],
)
def test_tier_index_inclusive_floors(value, index):
    assert tier_index(D(value), FLOORS) == index


RATES = [D(1), D(1), D(1), D("0.5"), D("0.5")]


@pytest.mark.parametrize(
    ("figures_", "rewards"),
    [
        (["100"] * 5, ["100", "100", "100", "50", "50"]),
        (["1", "2", "3"], ["1", "2", "3"]),
        (["1", "2", "3", "4", "5"], ["1", "2", "3", "2", "2.5"]),
        (["0.01"] * 5, ["0.01", "0.01", "0.01", "0.005", "0.005"]),
        ([], []),
    ],
)
def test_yearly_schedule(figures_, rewards):
    assert yearly_schedule([D(f) for f in figures_], RATES) == [D(r) for r in rewards]


def test_yearly_schedule_refuses_more_years_than_scheduled():
    with pytest.raises(ValueError):
        yearly_schedule([D(1)] * 6, RATES)


def test_schedule_rates_come_from_the_stages():
    assert BOOK.policy("hq_contribution_reward").amount.rates == RATES


@pytest.mark.parametrize(("amount", "ok"), [("300000", True), ("0.01", True), ("0", False), ("-1", False),
                                            ("NaN", False), ("Infinity", False)])
def test_fixed_amount(amount, ok):
    if ok:
        assert fixed_amount(D(amount)) == D(amount)
    else:
        with pytest.raises(ValueError):
            fixed_amount(D(amount))


def test_primitives_raise_instead_of_rounding():
    eighty_nines = D("9" * 80)  # ×0.2 needs 81 digits: the exact context must refuse, not round
    with pytest.raises(DecimalException):
        percent_with_cap(eighty_nines, D("0.2"), D(1))
    with pytest.raises(DecimalException):
        yearly_percent_with_cap(eighty_nines, D("0.2"), 3, D(1))
    with pytest.raises(DecimalException):
        yearly_schedule([eighty_nines], [D("0.5")])


# --------------------------------------------------------------------------------------------------
# English output: same numbers, English words
# --------------------------------------------------------------------------------------------------


def fen(max_yuan: int = 10**11) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=0, max_value=max_yuan * 100).map(lambda cents: Decimal(cents) / 100)


money = st.none() | fen() | st.sampled_from([D(10_000_000), D(100_000_000), D(500_000_000), D(200_000_000)])
profiles = st.fixed_dictionaries(
    {},
    optional={
        "registered_in_beibei": st.booleans(),
        "local_legal_entity": st.booleans(),
        "new_hq_type": st.sampled_from(list(get_args(HqType))),
        "registered_capital_yuan": money,
        "online_annual_sales_yuan": money,
        "sales_in_statistics": st.booleans(),
        "years_in_operation": st.decimals(min_value=0, max_value=200, places=2),
        "office_purchase_price_yuan": money,
        "office_annual_rent_yuan": money,
        "rent_years": st.integers(min_value=1, max_value=100),
        "annual_local_contribution_yuan": fen() | st.lists(fen(), min_size=1, max_size=5),
        "demo_base_level": st.sampled_from(list(get_args(RecognitionLevel))),
        "demo_enterprise_level": st.sampled_from(list(get_args(RecognitionLevel))),
        "platform_project_investment_yuan": money,
        "platform_first_year_online_transactions_yuan": money,
        "cross_border_retail_usd": money,
        "cross_border_retail_cny": money | st.just(D(1_420_000_000)),
        "usd_cny_rate": st.just(D("7.1")) | st.integers(min_value=1, max_value=99_9999).map(lambda n: D(n) / 10_000),
    },
)
_CJK = re.compile(r"[\u3400-\u9fff]")
SAME = ("policy_id", "status", "amount_yuan", "is_upper_bound", "missing_facts", "touched", "clause_ids",
        "lead_unit", "responsible_units")


@settings(max_examples=300, deadline=None)
@given(profile=profiles)
def test_english_and_chinese_results_agree_on_every_number(profile):
    p = EnterpriseProfile(**profile)
    zh, en = calculate(p), calculate(p, lang="en")
    assert (zh.total_yuan, zh.total_is_upper_bound, len(zh.notes)) == (en.total_yuan, en.total_is_upper_bound,
                                                                        len(en.notes))
    for a, b in zip(zh.items, en.items, strict=True):
        assert {k: getattr(a, k) for k in SAME} == {k: getattr(b, k) for k in SAME}
        assert (len(a.conditions_unmet), len(a.notes)) == (len(b.conditions_unmet), len(b.notes))
        for text in (b.title, b.basis, *b.conditions_unmet):
            assert not _CJK.search(text), text  # nothing left untranslated
        for text in (a.basis, b.basis, *a.notes, *b.notes, *a.conditions_unmet, *b.conditions_unmet):
            assert "{" not in text and "}" not in text, text  # every placeholder filled


def test_english_basis_reads_the_same_figures():
    p = EnterpriseProfile(new_hq_type="regional_hq", office_purchase_price_yuan="3000000")
    zh, en = calculate(p).item("hq_office_purchase"), calculate(p, lang="en").item("hq_office_purchase")
    assert "购房总价300万元×20%=60万元" in zh.basis
    assert "CNY 3,000,000 × 20% = CNY 600,000" in en.basis and "CNY 500,000" in en.basis
    assert en.title == "Office purchase subsidy for e-commerce headquarters"
    cb = calculate(EnterpriseProfile(cross_border_retail_cny="1500000000", usd_cny_rate="7.1"), lang="en")
    assert "about USD 211,267,605.63" in cb.item("cross_border").basis
    assert cb.notes[0] == knowledge.notice("validity", "en")
