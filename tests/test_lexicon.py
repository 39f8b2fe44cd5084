"""The data the question reader and the answers stand on: asks.yaml, vocabulary.yaml, unspecified.yaml and
phrasing.yaml. Each entry must point at things that exist (clauses, units, policies), each regex must
compile, every figure placeholder must resolve, and each entry must do the job it is there for.
"""

from __future__ import annotations

import re

import pytest

from assistant.calculator import POLICY_IDS
from assistant.corpus import load_corpus
from assistant.lexicon import load_lexicon
from assistant.phrasing import load_phrasing
from assistant.reading import answer_language, read_frame
from assistant.settings import get_settings

CORPUS_DIR = get_settings().corpus_dir


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon(CORPUS_DIR)


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(CORPUS_DIR)


def test_every_clause_and_unit_named_in_the_data_exists(lexicon, corpus) -> None:
    units = {u for c in corpus.clauses for u in [c.lead_unit, *c.responsible_units] if u}
    for term in lexicon.terms:
        assert all(corpus.has(c) for c in term.clauses), term.zh
        assert set(term.policies) <= set(POLICY_IDS), term.zh
        # what the document calls it is in one of its clauses
        assert any(term.called in corpus.get(c).text for c in term.clauses), (term.zh, term.called)
    for topic in lexicon.unspecified:
        assert all(corpus.has(c) for c in topic.nearest), topic.id
        assert topic.ask == "lead" or topic.ask in units, topic.id
    for veto in lexicon.vetoes:
        assert corpus.has(veto.clause) and veto.phrase in corpus.get(veto.clause).text
        assert set(veto.policies) <= set(POLICY_IDS)
    phrasing = load_phrasing(CORPUS_DIR)
    assert set(phrasing.clause_titles_en) == {c.clause_id for c in corpus.clauses if c.source != "annex"}
    assert set(phrasing.clause_aliases) <= set(phrasing.clause_titles_en)
    assert units <= set(phrasing.unit_names_en), units - set(phrasing.unit_names_en)
    assert set(phrasing.rule_sentence) <= set(POLICY_IDS)


def test_phrasing_figures_come_from_the_policies(corpus) -> None:
    phrasing = load_phrasing(CORPUS_DIR)
    # placeholders are resolved (no "{…}" left) and the figure is the policy's
    for zh, en in [*phrasing.conditions.values(), phrasing.rate_ask, *phrasing.award_noun.values()]:
        assert "{" not in zh and "{" not in en
    assert "100万元" in phrasing.conditions["platform_project_investment_yuan"][0]
    assert "CNY 1,000,000" in phrasing.conditions["platform_project_investment_yuan"][1]
    assert "2亿美元" in phrasing.rate_ask[0]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("哈喽", "greeting"),
        ("好嘞，太感谢了", "thanks"),
        ("请问你能帮我做些什么", "help"),
        ("自建平台补贴的钱多久到账", "unspecified"),
        ("这两个奖励可以一起领吗", "unspecified"),
        ("总部认定由哪个部门负责审核", "unspecified"),
        ("示范企业是什么意思", "definition"),
        ("这个意见是根据哪个上级文件出的", "relation"),
        ("第一部分讲了什么", "section"),
        ("支持政策总共有多少条", "count"),
        ("像我们这样的企业能申请哪些补贴", "match"),
        ("农产品电商谁牵头", "who"),
    ],
)
def test_each_kind_is_read_from_its_evidence(lexicon, text: str, kind: str) -> None:
    assert read_frame(text, lexicon).ask == kind


def test_chitchat_inside_a_question_is_a_question(lexicon) -> None:
    assert read_frame("你好，跨境电商补贴要什么条件", lexicon, about_policy=True).ask != "greeting"


def test_a_stated_figure_outweighs_a_generic_yes_no(lexicon) -> None:
    frame = read_frame("首年交易额3亿能拿多少钱", lexicon, has_facts=True)
    assert frame.ask == "amount"


def test_a_requirement_subject_is_extracted(lexicon) -> None:
    topic = next(u for u in lexicon.unspecified if u.id == "requirement")
    assert topic.subject_in("园区对入驻企业数量有要求吗") == "入驻企业数量"


@pytest.mark.parametrize(
    ("text", "lang"),
    [("请用英文介绍一下租房补贴", "en"), ("麻烦英文回答：购房补贴最高多少", "en"), ("What is the rent subsidy? Answer in Chinese", "zh"),
     ("租房补贴是多少", "zh"), ("How much is the rent subsidy?", "en")],
)
def test_answer_language_follows_an_explicit_request(text: str, lang: str) -> None:
    assert answer_language(text) == lang


def test_vetoes_apply_only_where_they_should(lexicon) -> None:
    applies = lambda text: {p for v in lexicon.vetoes_in(text) for p in v.policies}  # noqa: E731
    assert "self_built_platform" in applies("我们天猫旗舰店一年卖了两个亿")
    assert "self_built_platform" not in applies("我们自建了商城，另外也在天猫开了店")
    assert "hq_office_purchase" in applies("办公楼买在江北区")
    assert not applies("我们在北碚区内买了办公楼")


def test_parameters_name_real_figures() -> None:
    from assistant import knowledge

    lexicon = load_lexicon(CORPUS_DIR)
    names = {n for p in knowledge.policies() for n in p.params()}
    for parameter in lexicon.parameters:
        assert parameter.names(sorted(names)), parameter.id
        re.compile(parameter.cue)
