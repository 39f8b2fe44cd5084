"""The page's formatting layer without a browser: form parsing (万元 → exact yuan), error wording, citation
chips, highlighting, and the chat handler's guards against empty, over-long input and a failing back end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.calculator import VALIDITY_NOTICE, EnterpriseProfile, calculate
from assistant.schemas import ChatResponse, Citation
from ui import forms, page, render

# --- form parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "yuan"),
    [
        ("300", Decimal("3000000")),
        ("1.2亿", Decimal("120000000")),
        ("1.2亿元", Decimal("120000000")),
        ("300万", Decimal("3000000")),
        ("300000元", Decimal("300000")),
        ("3,000", Decimal("30000000")),
        ("０.０１", Decimal("100")),  # full-width digits
        ("99999999.99元", Decimal("99999999.99")),
        ("0.000001", Decimal("0.01")),
        ("  ", None),
        (None, None),
    ],
)
def test_parse_amount_is_exact(text, yuan):
    assert forms.parse_amount(text, "注册资金（万元）") == yuan


def test_parse_amount_usd_units():
    assert forms.parse_amount("2.5亿美元", "x", usd=True) == Decimal("250000000")
    assert forms.parse_amount("25000", "x", usd=True) == Decimal("250000000")


@pytest.mark.parametrize("bad", ["abc", "一千万", "3e8", "1.2.3", "亿"])
def test_parse_amount_rejects_words_naming_the_field(bad):
    with pytest.raises(forms.FormError, match="「注册资金（万元）」请填写数字"):
        forms.parse_amount(bad, "注册资金（万元）")


def test_form_unknown_stays_unknown():
    values = ["unknown", "", "", "unknown", "", "", "", "", "", "unknown", "unknown", "unknown", "unknown", "", "", "", "", ""]
    assert forms.form_to_profile_data(forms.CALC_FIELDS, values) == {}


def test_build_profile_hq_example_matches_library():
    values = {f: page.reset_value(f) for f in forms.CALC_FIELDS}
    values.update(
        new_hq_type="regional_hq",
        registered_capital_yuan="1000",
        online_annual_sales_yuan="1.2亿",
        sales_in_statistics="yes",
        years_in_operation="2年",
        office_purchase_price_yuan="300",
        annual_local_contribution_yuan="100、120，150",
    )
    profile = forms.build_profile(forms.CALC_FIELDS, [values[f] for f in forms.CALC_FIELDS])
    assert profile.registered_capital_yuan == Decimal("10000000")
    assert profile.online_annual_sales_yuan == Decimal("120000000")
    assert profile.sales_in_statistics is True
    assert profile.office_purchase_price_yuan == Decimal("3000000")
    assert profile.annual_local_contribution_yuan == [Decimal("1000000"), Decimal("1200000"), Decimal("1500000")]
    assert profile.registered_in_beibei is None


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("registered_capital_yuan", "-5", "「注册资金（万元）」：不能小于0"),
        ("rent_years", "2.5", "「租用年限（整年）」：租用年限须为整数年"),
        ("annual_local_contribution_yuan", "1 2 3 4 5 6", "「各年度对北碚区地方经济发展贡献（万元/年）」"),
        ("usd_cny_rate", "0", "「美元兑人民币汇率（1美元=?元）」：必须大于0"),
    ],
)
def test_validation_errors_are_chinese_and_name_the_field(field, value, expected):
    values = {f: page.reset_value(f) for f in forms.CALC_FIELDS}
    values[field] = value
    with pytest.raises(forms.FormError) as info:
        forms.build_profile(forms.CALC_FIELDS, [values[f] for f in forms.CALC_FIELDS])
    assert expected in str(info.value)
    assert "must be" not in str(info.value)  # the English half of the library's message is dropped


# --- rendering --------------------------------------------------------------------------------------


def test_citation_chips_carry_the_id_in_href_and_data_attribute():
    html = render.linkify_citations("见【三(四)】和【附件-11】，【不存在】不链接。", {"三(四)", "附件-11"})
    assert 'data-clause="三(四)"' in html and 'href="#pa-clause=%E4%B8%89%28%E5%9B%9B%29"' in html
    assert 'data-clause="附件-11"' in html
    assert "【不存在】" in html and 'data-clause="不存在"' not in html


def test_bold_next_to_cjk_becomes_strong():
    assert render.strong_cjk("可获**30万元 (300,000元)**一次性") == "可获<strong>30万元 (300,000元)</strong>一次性"


def test_highlight_escapes_and_marks_every_quote():
    out = render.highlight("a<b>给予30万元、50万元一次性财政扶持。", ["30万元", "50万元一次性", "x"])
    assert out.startswith("a&lt;b&gt;")
    assert "<mark>30万元</mark>" in out and "<mark>50万元一次性</mark>" in out


def test_calc_table_shows_status_amount_basis_units_and_total():
    result = calculate(
        EnterpriseProfile(
            new_hq_type="regional_hq",
            registered_capital_yuan=10_000_000,
            online_annual_sales_yuan=120_000_000,
            sales_in_statistics=True,
            years_in_operation=2,
            office_purchase_price_yuan=3_000_000,
        )
    )
    html = render.calc_table_html(result)
    assert "100万元 (1,000,000元)" in html and "最高50万元 (500,000元)" in html
    assert "符合" in html and "需补充信息" in html and "区商务委" in html
    assert 'id="pa-calc-total"' in html and VALIDITY_NOTICE in html
    assert html.count(VALIDITY_NOTICE) == 1  # not repeated among the notes


def test_match_ranks_eligible_by_amount():
    result = calculate(
        EnterpriseProfile(
            cross_border_retail_usd=250_000_000,
            registered_in_beibei=True,
            local_legal_entity=True,
            platform_project_investment_yuan=2_000_000,
            platform_first_year_online_transactions_yuan=300_000_000,
        )
    )
    html = render.match_html(result)
    eligible = html.split('pa-sec-eligible', 1)[1].split("</section>", 1)[0]
    assert eligible.index("跨境电子商务发展一次性财政扶持") < eligible.index("企业自建电子商务平台一次性财政扶持")
    assert "还需提供" in html


# --- the chat handler -------------------------------------------------------------------------------


class FakeAssistant:
    mode = "grounded"

    def __init__(self, fail: bool = False) -> None:
        from assistant.corpus import load_corpus
        from assistant.settings import Settings

        self.settings = Settings()
        self.corpus = load_corpus(self.settings.corpus_dir)
        self.fail = fail
        self.turns: list = []

    def ask_stream(self, message, session_id=None, user_id=None):
        if self.fail:
            raise RuntimeError("database exploded")
        answer = "可获**30万元 (300,000元)**【三(四)】。"
        yield answer
        yield ChatResponse(
            answer=answer,
            answer_type="calculation",
            citations=[Citation(clause_id="三(四)", title="t", quote="30万元")],
            session_id=session_id,
            notices=[VALIDITY_NOTICE],
        )

    def history(self, session_id, user_id=None):
        return []


def _respond(assistant, message):
    demo = page.build_app(assistant)
    fn = next(
        b.fn for b in demo.fns.values() if getattr(b.fn, "__name__", "") == "respond"
    )
    return list(fn(message, [], None, {}, {}))


def test_handler_rejects_empty_and_overlong_input():
    assistant = FakeAssistant()
    (out,) = _respond(assistant, "   ")
    assert render.EMPTY_MESSAGE in out[2]
    (out,) = _respond(assistant, "电" * (assistant.settings.max_message_chars + 1))
    assert "问题过长" in out[2] and str(assistant.settings.max_message_chars) in out[2]


def test_handler_answers_with_chips_and_hides_back_end_errors():
    outs = _respond(FakeAssistant(), "自建平台？")
    final = outs[-1]
    transcript = final[1]
    assert transcript[-1]["role"] == "assistant"
    assert 'data-clause="三(四)"' in transcript[-1]["content"]
    assert VALIDITY_NOTICE not in transcript[-1]["content"]  # shown once, in the page banner
    assert "pa-chip" in final[3]
    assert final[6] == {"三(四)": ["30万元"]}

    outs = _respond(FakeAssistant(fail=True), "自建平台？")
    final = outs[-1]
    assert render.UNAVAILABLE_MESSAGE in final[2]
    assert "exploded" not in str(final) and "Traceback" not in str(final)


def test_mount_on_fastapi_serves_the_page_with_local_fonts_only():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = page.mount(FastAPI(), FakeAssistant(), path="/ui")
    with TestClient(app) as client:
        served = client.get("/ui/")
        assert served.status_code == 200
        config = client.get("/ui/config").json()
    assert "fonts.googleapis" not in served.text and "fonts.googleapis" not in str(config)
    assert render.APP_TITLE in served.text
