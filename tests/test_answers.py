"""Kinds of question answered conclusion-first, end to end through a real PolicyAssistant.

Each test covers a kind (chit-chat, "文件没有规定…", a part of the document, a unit's role, a business the
policy covers, a figure that must be asked about) with wording that appears in no eval file. Every
response is also checked for the product's invariants: each 【id】 is a citation, each quote is verbatim.
"""

from __future__ import annotations

import re

import pytest

from assistant.assistant import PolicyAssistant
from assistant.schemas import ChatResponse
from assistant.settings import Settings

MARKER = re.compile(r"【([^【】]+)】")


@pytest.fixture(scope="module")
def pa(tmp_path_factory) -> PolicyAssistant:
    return PolicyAssistant(settings=Settings(data_dir=tmp_path_factory.mktemp("data")))


def ask(pa: PolicyAssistant, *turns: str) -> ChatResponse:
    session = None
    response = None
    for text in turns:
        response = pa.ask(text, session_id=session)
        session = response.session_id
    assert response is not None
    assert set(MARKER.findall(response.answer)) == {c.clause_id for c in response.citations}
    for c in response.citations:
        assert c.quote in pa.corpus.get(c.clause_id).text
    return response


def first_line(r: ChatResponse) -> str:
    return r.answer.strip().splitlines()[0]


def cited(r: ChatResponse) -> set[str]:
    return {c.clause_id for c in r.citations}


# --- chit-chat --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["您好呀", "早上好！", "嗨，在不在", "多谢啦", "好的，明白了，谢谢", "你都会些什么", "你是干嘛的机器人？你是谁", "hello there"])
def test_chitchat_gets_a_friendly_reply_that_says_what_it_can_do(pa, text: str) -> None:
    r = ask(pa, text)
    assert r.answer_type == "policy_answer"
    assert "无关" not in r.answer and "没有与这个问题相关" not in r.answer
    assert re.search(r"补贴|政策|policy|subsid", r.answer, re.IGNORECASE)


def test_thanks_followed_by_a_question_is_a_question(pa) -> None:
    r = ask(pa, "谢谢，那跨境电商零售额3亿美元能拿多少")
    assert r.answer_type == "calculation"
    assert r.calculation is not None and str(r.calculation.total_yuan) == "2000000"


# --- what the document does not say -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "near"),
    [
        ("申报购房补贴要带哪些资料", {"三(一)", "附件-10"}),
        ("跨境那笔扶持多长时间能到账", {"三(五)", "附件-12"}),
        ("示范企业的奖励是哪级财政拨的", {"三(三)"}),
        ("自建平台拿到的扶持款算不算应税收入", {"三(四)", "附件-11"}),
        ("商务委的咨询热线是多少", {"三(一)"}),
        ("市级示范基地由哪个部门评定", {"三(二)"}),
        ("购房补贴跟贡献奖励两个都能拿吗", {"三(一)", "附件-10"}),
        ("网络零售额突破20亿的目标现在实现了没", {"一(二)"}),
        ("拿了扶持以后公司迁出北碚要退钱吗", {"三(一)", "附件-10", "四(三)"}),
    ],
)
def test_unspecified_says_so_first_then_the_nearest_clause_and_whom_to_ask(pa, text: str, near: set[str]) -> None:
    r = ask(pa, text)
    assert r.answer_type == "policy_answer"
    assert first_line(r).startswith("文件没有规定"), r.answer
    assert cited(r) & near, (cited(r), r.answer)
    assert "请咨询" in r.answer
    assert r.calculation is None


def test_subsidy_as_figure_in_a_tax_question_is_not_sales(pa) -> None:
    r = ask(pa, "跨境电商那200万扶持款要缴企业所得税吗")
    assert first_line(r).startswith("文件没有规定")
    assert "不符合" not in r.answer and r.calculation is None


def test_a_requirement_the_clause_does_state_is_not_unspecified(pa) -> None:
    r = ask(pa, "自建平台对项目投资有要求吗")
    assert not first_line(r).startswith("文件没有规定")
    assert "100万元" in r.answer


def test_no_money_for_a_task_says_so(pa) -> None:
    r = ask(pa, "做出口商品海外仓，区里有没有奖励资金")
    assert first_line(r).startswith("文件没有规定")
    assert cited(r) & {"二(四)", "附件-9"}


def test_validity_says_the_document_does_not_specify(pa) -> None:
    r = ask(pa, "这份实施意见什么时候失效")
    assert first_line(r).startswith("文件没有规定")


# --- parts, counts, relation, definitions ------------------------------------------------------------
def test_part_by_number(pa) -> None:
    r = ask(pa, "第四部分写了些什么")
    assert "四、保障措施" in first_line(r)
    assert cited(r) == {"四(一)", "四(二)", "四(三)"}


def test_part_by_second_level_heading(pa) -> None:
    r = ask(pa, "工业电商那一块主要讲啥")
    assert cited(r) == {"二(二)1", "二(二)2", "二(二)3"}


@pytest.mark.parametrize(("text", "number"), [("支持政策一共几条", "6"), ("保障措施有几条", "3"), ("正文有几部分", "4"), ("附表一共多少行", "13")])
def test_counts_are_numbers_first(pa, text: str, number: str) -> None:
    r = ask(pa, text)
    assert number in first_line(r), r.answer


def test_annex_is_the_task_table(pa) -> None:
    r = ask(pa, "附件讲的什么")
    assert "任务分解表" in first_line(r) and "13" in first_line(r)


def test_relation_to_the_municipal_document(pa) -> None:
    r = ask(pa, "这份文件跟重庆市政府的电商文件是啥关系")
    assert "渝府发〔2019〕17号" in first_line(r)
    assert "前言" in cited(r)


def test_definition_does_not_compute(pa) -> None:
    r = ask(pa, "营销中心是指什么")
    assert r.calculation is None and r.answer_type == "policy_answer"
    assert "文件没有规定" in first_line(r)


# --- who ---------------------------------------------------------------------------------------------
def test_lead_only_lists_what_the_unit_leads(pa) -> None:
    r = ask(pa, "区文化旅游委牵头了哪些事")
    assert cited(r) >= {"二(三)2"}
    assert "二(三)1" not in cited(r)
    assert "作为责任单位" not in r.answer


def test_responsible_but_not_lead(pa) -> None:
    r = ask(pa, "区供销联社不是牵头单位，那它配合哪几项")
    assert "二(三)1" in cited(r)
    assert "牵头：" not in r.answer


def test_role_of_two_units_in_one_task(pa) -> None:
    r = ask(pa, "农产品电商这项，区农业农村委和区商务委各是什么分工")
    assert "区农业农村委" in r.answer and "牵头" in r.answer and "区商务委" in r.answer


def test_followup_keeps_the_who_question(pa) -> None:
    r = ask(pa, "精准扶贫那项谁牵头", "那旅游电商呢")
    assert "区文化旅游委" in r.answer


# --- businesses the policy covers --------------------------------------------------------------------
@pytest.mark.parametrize("text", ["我在快手开直播卖土特产，文件对我们有什么说法", "我们是家庭农场，想做网上销售，有政策吗"])
def test_a_business_is_never_refused(pa, text: str) -> None:
    r = ask(pa, text)
    assert r.answer_type != "out_of_scope"
    assert "无关" not in r.answer
    assert r.citations


def test_third_party_shop_is_not_a_self_built_platform(pa) -> None:
    r = ask(pa, "我们拼多多店首年卖了3亿，能按自建平台拿扶持吗")
    assert first_line(r).startswith("不能")
    assert r.calculation is None


def test_office_outside_the_district(pa) -> None:
    r = ask(pa, "新设的结算中心在沙坪坝租的写字楼，租房补贴能拿吗")
    assert first_line(r).startswith("不能")


# --- verdicts and figures ----------------------------------------------------------------------------
def test_not_eligible_answers_no_first(pa) -> None:
    r = ask(pa, "跨境零售额1.8亿美元，可以拿那200万吗")
    assert first_line(r).startswith("不能")


def test_monthly_rent_is_converted_and_said(pa) -> None:
    r = ask(pa, "新设营销中心，办公室每个月房租1万，租房补贴多少")
    assert r.calculation is not None
    assert str(r.calculation.item("hq_office_rent").amount_yuan) == "72000"
    assert "×12" in r.answer


def test_rent_without_period_is_asked_then_answered(pa) -> None:
    r = ask(pa, "新设区域总部，办公室房租5万，能补多少")
    assert r.answer_type == "clarification" and r.calculation is None
    assert "月租金还是年租金" in r.answer
    r = ask(pa, "新设区域总部，办公室房租5万，能补多少", "按月付的，每月")
    assert r.calculation is not None
    assert str(r.calculation.item("hq_office_rent").amount_yuan) == "300000"


def test_second_year_followup_is_not_the_first_year(pa) -> None:
    r = ask(pa, "自建平台头一年交易额7000万", "到第三年有5亿了，现在能拿吗")
    assert r.calculation is None or r.calculation.total_yuan == 0


def test_contribution_series_continued_in_a_followup(pa) -> None:
    r = ask(pa, "新设的区域总部，地方经济发展贡献第1年50万", "第2年70万，第3年90万，奖励合计多少")
    assert r.calculation is not None and str(r.calculation.total_yuan) == "2100000"


def test_a_counted_target_followup_stays_on_the_task_and_leads_with_the_figure(pa) -> None:
    r = ask(pa, "培育电子商务市场主体那项归哪个部门牵头", "它要培育几家龙头企业")
    assert "1家以上" in first_line(r) and "牵头单位" not in first_line(r)
    assert "二(一)2" in cited(r)


def test_a_short_deadline_followup_is_about_the_task_just_answered(pa) -> None:
    r = ask(pa, "农产品电商是谁牵的头", "啥时候要干完")
    assert cited(r) == {"附件-6"} and "2022年12月" in r.answer
    r = ask(pa, "农产品电商是谁牵的头", "啥时候要干完", "它要培育几个市场主体")
    assert "30个以上" in first_line(r) and "二(三)1" in cited(r)
    r = ask(pa, "农产品电商是谁牵的头", "文件里各项任务都啥时候要干完")
    assert "附件-1" in cited(r) and "附件-10" in cited(r)


def test_building_a_mall_is_the_self_built_platform(pa) -> None:
    r = ask(pa, "搭了个网上商城拿的扶持是哪个部门牵头")
    assert first_line(r).startswith("**支持企业自建电子商务平台**") and "区民营经济发展局" in first_line(r)


def test_a_corrected_series_replaces_the_flat_figure(pa) -> None:
    r = ask(pa, "地方贡献奖励帮我估一下，每年贡献60万左右", "改一下：五年依次为30、40、50、60、70万")
    assert r.answer_type == "calculation" and r.calculation is not None
    assert str(r.calculation.total_yuan) == "1850000"  # 30+40+50 at 100%, 60 and 70 at 50%
    assert "185万元" in first_line(r)


def test_two_loose_figures_are_never_guessed(pa) -> None:
    r = ask(pa, "新设的区域总部，注册资金2000万", "还有两个数：300万和80万，能拿多少")
    assert r.calculation is None or all(str(it.amount_yuan) not in ("600000", "3000000") for it in r.calculation.items)


# --- language -----------------------------------------------------------------------------------------
def test_explicit_request_for_english(pa) -> None:
    r = ask(pa, "请用英语说明一下示范企业奖励")
    assert re.search(r"[A-Za-z]{4,}", first_line(r))
    assert "demonstration" in r.answer.lower()


def test_price_per_square_metre_with_a_subsidy_named_is_asked_not_refused(pa) -> None:
    r = ask(pa, "新设运营中心，写字楼每平米70元，有600平，租房补贴怎么算")
    assert r.answer_type == "clarification" and r.calculation is None


def _units(pa):
    return sorted({u for c in pa.corpus.clauses if c.source == "main" for u in [c.lead_unit, *c.responsible_units] if u})


def test_who_questions_work_for_every_unit_as_lead_and_as_responsible(pa) -> None:
    # issue 9: every unit named in the document, both roles, checked against the parsed corpus
    for unit in _units(pa):
        leads = {c.clause_id for c in pa.corpus.clauses if c.source == "main" and c.lead_unit == unit}
        parts = {c.clause_id for c in pa.corpus.clauses if c.source == "main" and unit in c.responsible_units}
        r = ask(pa, f"{unit}牵头哪些任务？")
        main_cited = {c for c in cited(r) if not c.startswith("附件")}
        if leads:
            assert main_cited == leads, (unit, main_cited, leads)
        else:  # leads nothing: said so first, then where it takes part
            assert "牵头0项" in first_line(r) and main_cited == parts, (unit, main_cited)
        r = ask(pa, f"{unit}作为责任单位参与了哪些任务？")
        main_cited = {c for c in cited(r) if not c.startswith("附件")}
        assert main_cited == parts, (unit, main_cited, parts)


@pytest.mark.parametrize(("text", "term"), [("租房补贴领满了三年，第五年还可以继续领吗", "3年"), ("贡献奖励到第7年还能继续拿吗", "5年")])
def test_a_year_past_the_term_is_no(pa, text: str, term: str) -> None:
    r = ask(pa, text)
    assert first_line(r).startswith("不能") and term in first_line(r)
    assert r.calculation is None


def test_hq_support_never_assumes_its_thresholds(pa) -> None:
    r = ask(pa, "新设结算中心，线上年销售2亿已经入统，一次性产业扶持能拿吗")
    assert first_line(r).startswith("可能") and "注册资金" in first_line(r)
    assert r.calculation is None or r.calculation.item("hq_establishment").status == "needs_info"


@pytest.mark.parametrize("text", ["数据入了统", "销售已纳入统计"])
def test_statistics_said_colloquially(text: str) -> None:
    from assistant.numbers import extract

    assert extract(text).facts["sales_in_statistics"] is True


def test_what_a_level_is_worth_is_a_figure_not_a_calculation(pa) -> None:
    r = ask(pa, "国家级示范企业一般奖几多")
    assert r.answer_type == "policy_answer" and r.calculation is None
    assert "20万元" in first_line(r) and "10万元" not in first_line(r)
    r = ask(pa, "我们刚被认定为国家级示范企业，奖几多")
    assert r.answer_type == "calculation" and str(r.calculation.total_yuan) == "200000"


def test_a_second_question_about_another_subsidy_is_answered_too(pa) -> None:
    r = ask(pa, "新设营销中心年租金二十万，租房补贴多少？另外跨境扶持最高多少")
    assert str(r.calculation.item("hq_office_rent").amount_yuan) == "120000"
    assert "200万元" in r.answer


def test_an_open_condition_is_named_with_its_threshold(pa) -> None:
    r = ask(pa, "新设运营中心，注册资金3000万，数据已入统，经营两年，一次性扶持能拿不")
    assert first_line(r).startswith("可能") and "1亿元" in first_line(r)


def test_please_answer_in_english_repeats_the_question_in_english(pa) -> None:
    r = ask(pa, "市级示范企业奖励多少", "Please answer in English")
    assert re.match(r"[A-Za-z]", first_line(r)), first_line(r)  # the answer itself is English now
    assert "100,000" in r.answer and "示范企业一次性奖励" not in first_line(r)


def test_count_of_lead_units_and_of_areas(pa) -> None:
    r = ask(pa, "文件里负责牵头的单位总共多少个")
    units = {c.lead_unit for c in pa.corpus.clauses if c.source == "main" and c.lead_unit}
    assert str(len(units)) in first_line(r)
    r = ask(pa, "主要任务包括哪几个方面")
    assert "4" in first_line(r)


def test_level_given_as_an_answer(pa) -> None:
    r = ask(pa, "我们园区评上了电商示范基地，有奖励吗", "商务部认定的国字号")
    assert r.calculation is not None and str(r.calculation.total_yuan) == "300000"


@pytest.mark.parametrize("text", ["培训主播有培训补贴吗", "高层次人才要什么学历才算"])
def test_talent_side_questions_are_unspecified_and_point_to_the_talent_clause(pa, text: str) -> None:
    r = ask(pa, text)
    assert first_line(r).startswith("文件没有规定")
    assert "三(六)" in cited(r)


def test_rows_counted_by_deadline(pa) -> None:
    r = ask(pa, "分解表里有几项是没写完成时间的")
    dated = [c for c in pa.corpus.clauses if c.source == "annex" and c.deadline]
    undated = [c for c in pa.corpus.clauses if c.source == "annex" and not c.deadline]
    assert f"共{len(dated)}项" in first_line(r) and f"共{len(undated)}项" in first_line(r)


def test_a_yes_no_followup_uses_the_figures_already_given(pa) -> None:
    r = ask(pa, "我们自建商城头一年网上交易额8800万", "那第三年做到4亿了，能申请不")
    assert first_line(r).startswith("不能") and "首年" in r.answer


# --- verdict before the figure ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        # a threshold figure not yet given leaves the verdict open
        ("打算在北碚开个结算中心，年线上销售额大约两亿，那笔100万的一次性扶持我们够不够", "可能"),
        ("准备在北碚新设个营销中心，网上一年卖2亿上下，一次性产业扶持拿得到不", "可能"),
        ("我们要搞自建电商平台，这个一次性扶持我们能不能拿到", "可能"),
        # any rent pays: the figure only sets the amount
        ("我们是刚在北碚设立的营销中心，租了写字楼，租房补贴有没有份", "能"),
    ],
)
def test_yes_only_when_no_threshold_is_still_open(pa, text: str, verdict: str) -> None:
    r = ask(pa, text)
    line = first_line(r)
    assert line.startswith(f"{verdict}：") or line.startswith(f"**{verdict}"), line


@pytest.mark.parametrize("text", ["Please tell me in English what the demonstration base reward would pay", "what would a national demonstration base be worth, please?"])
def test_english_words_that_contain_policy_words_do_not_name_policies(pa, text: str) -> None:
    r = ask(pa, text)  # "please" holds "lease", "demonstration" holds "ratio": neither is the rent subsidy's rate
    assert cited(r) == {"三(二)"}, r.answer
    assert "CNY 300,000" in first_line(r) and "20%" not in r.answer


@pytest.mark.parametrize("text", ["每项任务分别由哪个部门牵头？列一下", "Which unit leads each of the tasks? Please list them"])
def test_lead_units_of_every_task_are_listed_with_their_rows(pa, text: str) -> None:
    r = ask(pa, text)
    assert r.answer_type == "policy_answer"
    assert {f"附件-{i}" for i in range(1, 14)} <= cited(r)
    assert re.search(r"13", first_line(r)) and re.search(r"区商务委|District Commerce Commission", first_line(r))
