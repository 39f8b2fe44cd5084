"""The web page in a real browser (Debian's chromium driven by Playwright), against the real assistant.

One UI server (in-process, on a free loopback port, data in a temp dir, grounded mode, SQLite store) and one
chromium serve every test here. Each test opens a fresh browser context (a fresh conversation) and fails if
the page requested anything from a non-loopback host. Screenshots of every step go to
artifacts/screenshots/ (git-ignored) for a human to look at.

Needs /usr/bin/chromium and fonts-noto-cjk (scripts/install-system-deps.sh); never `playwright install`.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHOTS = REPO_ROOT / "artifacts" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
LONG = 60_000  # ms: first answers may wait for the index and the composer to warm up
SHORT = 20_000

PLATFORM_QUESTION = "自建电商平台首年交易额3亿元能拿多少？"
CHIP_IDS = re.compile(r"【(三\(四\)|附件-11)】")
HQ_FORM = {  # a new regional HQ: capital 1000万, online sales 1.2亿 入统, 2 years, office bought for 300万
    "registered_capital_yuan": "1000",
    "online_annual_sales_yuan": "1.2亿",
    "years_in_operation": "2",
    "office_purchase_price_yuan": "300",
}
HQ_PROFILE = {
    "new_hq_type": "regional_hq",
    "registered_capital_yuan": 10_000_000,
    "online_annual_sales_yuan": 120_000_000,
    "sales_in_statistics": True,
    "years_in_operation": 2,
    "office_purchase_price_yuan": 3_000_000,
}


# --------------------------------------------------------------------------------------------------
# Fixtures: the assistant, the UI server, the browser
# --------------------------------------------------------------------------------------------------


class FeedbackSpy:
    """Records the UI's calls to `assistant.feedback` and passes them through to the real store."""

    def __init__(self, assistant) -> None:
        self.calls: list[tuple] = []
        self._inner = assistant.feedback
        self._lock = threading.Lock()

    def __call__(self, session_id, turn, rating, comment=None, user_id=None):
        with self._lock:
            self.calls.append((session_id, turn, rating))
        return self._inner(session_id, turn, rating, comment, user_id=user_id)


@pytest.fixture(scope="module")
def ui_assistant(tmp_path_factory):
    from assistant.settings import Settings
    from ui.page import create_assistant

    data_dir = tmp_path_factory.mktemp("ui-data")
    settings = Settings(data_dir=data_dir, llm_base_url=None, database_url=None, chroma_url=None)
    assistant = create_assistant(settings)
    assistant.feedback = FeedbackSpy(assistant)
    yield assistant
    close = getattr(assistant.store, "close", None)
    if close:
        close()


@pytest.fixture(scope="module")
def ui_url(ui_assistant) -> Iterator[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from servers import free_port

    from ui.page import launch

    port = free_port()
    demo = launch("127.0.0.1", port, assistant=ui_assistant, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect

    expect.set_options(timeout=SHORT)
    try:
        with chromium() as b:
            yield b
    finally:
        expect.set_options(timeout=5_000)  # Playwright's default, for other modules


@pytest.fixture(scope="module", autouse=True)
def _screenshot_dir():
    SHOTS.mkdir(parents=True, exist_ok=True)


def _open(browser, ui_url: str, device: dict):
    """A fresh context and page; returns (context, page, off_host_requests)."""
    context = browser.new_context(**device)
    context.set_default_timeout(SHORT)
    page = context.new_page()
    off_host: list[str] = []

    def on_request(request) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith(("data:", "blob:")):
            return
        if host not in ("127.0.0.1", "localhost", "::1"):
            off_host.append(request.url)

    page.on("request", on_request)
    page.goto(ui_url, wait_until="domcontentloaded", timeout=LONG)
    from playwright.sync_api import expect

    expect(page.locator("#pa-input textarea")).to_be_visible(timeout=LONG)
    expect(page.locator(".pa-notice").first).to_contain_text("时效提示")
    return context, page, off_host


@pytest.fixture
def desktop(browser, ui_url):
    context, page, off_host = _open(browser, ui_url, DESKTOP)
    yield page
    context.close()
    assert not off_host, f"the page requested non-loopback hosts: {off_host}"


@pytest.fixture
def phone(browser, ui_url):
    context, page, off_host = _open(browser, ui_url, PHONE)
    yield page
    context.close()
    assert not off_host, f"the page requested non-loopback hosts: {off_host}"


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def shot(page, name: str, *, full_page: bool = False) -> None:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 0


def wait_idle(page) -> None:
    """Gradio drops a trigger while the same event is still running (trigger_mode="once"): wait it out."""
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"status-tracker\"]:not(.hide)').length === 0",
        timeout=LONG,
    )


def ask(page, question: str) -> None:
    wait_idle(page)
    box = page.locator("#pa-input textarea")
    box.fill(question)
    box.press("Enter")


def last_bot(page):
    return page.locator("#pa-chatbot [data-testid='bot']").last


def field(page, form: str, name: str):
    """The text input of form field `name` (DOM id pa-<form>-<name>)."""
    return page.locator(f"#pa-{form}-{name} input, #pa-{form}-{name} textarea").first


def choose(page, form: str, name: str, option: str) -> None:
    """Click a radio option of form field `name`."""
    page.locator(f"#pa-{form}-{name}").get_by_text(option, exact=True).click()


def fill_hq_form(page) -> None:
    pick_dropdown(page, "#pa-calc-new_hq_type", "区域总部")
    for name, value in HQ_FORM.items():
        field(page, "calc", name).fill(value)
    choose(page, "calc", "sales_in_statistics", "是")


def pick_dropdown(page, elem: str, option: str) -> None:
    from playwright.sync_api import expect

    page.locator(f"{elem} input").first.click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.locator(f"{elem} input").first).to_have_value(option)


def assert_no_overlap(page, selectors: list[str]) -> None:
    boxes = []
    for sel in selectors:
        box = page.locator(sel).first.bounding_box()
        assert box, f"{sel} is not laid out"
        boxes.append((sel, box))
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1 :]:
            dx = min(ba["x"] + ba["width"], bb["x"] + bb["width"]) - max(ba["x"], bb["x"])
            dy = min(ba["y"] + ba["height"], bb["y"] + bb["height"]) - max(ba["y"], bb["y"])
            assert dx <= 1 or dy <= 1, f"{a} overlaps {b}: {ba} vs {bb}"


def assert_no_horizontal_scroll(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport + 1, f"page is {width}px wide on a {viewport}px screen"


def body_text(page) -> str:
    return page.locator("body").inner_text()


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------


def test_chat_answer_chip_clause_panel_and_feedback(desktop, ui_assistant):
    from playwright.sync_api import expect

    page = desktop
    shot(page, "01-desktop-start")
    ask(page, PLATFORM_QUESTION)
    bot = last_bot(page)
    expect(bot).to_contain_text("30万元", timeout=LONG)
    chip = page.locator("#pa-chatbot a.pa-cite").filter(has_text=CHIP_IDS).first
    expect(chip).to_be_visible()
    expect(page.locator("#pa-cite-row a.pa-chip").first).to_be_visible()
    shot(page, "02-desktop-answer")

    chip_id = CHIP_IDS.search(chip.inner_text()).group(1)
    clause = ui_assistant.corpus.get(chip_id)
    chip.click()
    panel = page.locator("#pa-clause-panel")
    expect(panel.locator(f".pa-clause[data-shown='{chip_id}']")).to_be_attached(timeout=SHORT)
    expect(panel).to_contain_text(clause.text[:30])
    expect(panel).to_contain_text("牵头单位")
    counterpart = ui_assistant.corpus.counterparts(chip_id)
    if counterpart:
        expect(panel).to_contain_text(counterpart[0].text[:30])
    assert panel.locator("mark").count() >= 1, "the cited span is not highlighted"
    shot(page, "03-desktop-clause-panel")

    # 👎 on the answer goes through the assistant into the store
    page.locator("#pa-chatbot button[aria-label='踩'], #pa-chatbot button[aria-label='Dislike']").last.click()
    expect(page.locator("#pa-chat-status")).to_contain_text("已记录您的反馈")
    spy: FeedbackSpy = ui_assistant.feedback
    assert spy.calls, "the page did not call assistant.feedback"
    session_id, turn, rating = spy.calls[-1]
    assert (turn, rating) == (0, "down")
    stored = ui_assistant.store.feedback_for(session_id) if hasattr(ui_assistant.store, "feedback_for") else None
    if stored is not None:
        assert any(f.get("rating") == "down" and f.get("turn") == 0 for f in stored), stored

    # 新对话 clears the conversation and the panel
    page.locator("#pa-new").click()
    expect(page.locator("#pa-chatbot [data-testid='bot']")).to_have_count(0)
    expect(page.locator("#pa-chat-status")).to_contain_text("已开始新对话")
    expect(page.locator("#pa-cite-row a")).to_have_count(0)


def test_input_errors_and_failed_back_end(desktop, ui_assistant, monkeypatch):
    from playwright.sync_api import expect

    page = desktop
    status = page.locator("#pa-chat-status")
    page.locator("#pa-send").click()  # empty input
    expect(status).to_contain_text("请输入问题")
    status.scroll_into_view_if_needed()
    shot(page, "04-desktop-empty-input")

    limit = ui_assistant.settings.max_message_chars
    ask(page, "电" * (limit + 1))
    expect(status).to_contain_text("问题过长")
    expect(status).to_contain_text(str(limit))
    status.scroll_into_view_if_needed()
    shot(page, "05-desktop-too-long")

    ask(page, "  \n  ")  # blank after trimming
    expect(status).to_contain_text("请输入问题")
    assert page.locator("#pa-chatbot [data-testid='bot']").count() == 0

    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated outage: Traceback sentinel")
        yield  # pragma: no cover

    monkeypatch.setattr(ui_assistant, "ask_stream", broken)
    ask(page, "农产品电商由哪个部门牵头？")
    expect(status).to_contain_text("服务暂时不可用", timeout=SHORT)
    expect(last_bot(page)).to_contain_text("服务暂时不可用")
    text = body_text(page)
    assert "Traceback" not in text and "simulated outage" not in text and "RuntimeError" not in text
    status.scroll_into_view_if_needed()
    shot(page, "06-desktop-back-end-down")


def test_calculator_hq_profile_and_validation(desktop, ui_assistant):
    from playwright.sync_api import expect

    from assistant.calculator import format_yuan

    page = desktop
    page.get_by_role("tab", name="补贴测算").click()
    expect(page.locator("#pa-calc-run")).to_be_visible()
    fill_hq_form(page)
    page.locator("#pa-calc-run").click()

    expected = ui_assistant.calculate(HQ_PROFILE)
    total = ("最高" if expected.total_is_upper_bound else "") + format_yuan(expected.total_yuan)
    result = page.locator("#pa-calc-result")
    expect(result.locator("#pa-calc-total")).to_contain_text(total, timeout=SHORT)
    hq = result.locator("tr[data-policy='hq_establishment']")
    expect(hq).to_contain_text("符合")
    expect(hq).to_contain_text("100万元 (1,000,000元)")
    purchase = result.locator("tr[data-policy='hq_office_purchase']")
    expect(purchase).to_contain_text("最高50万元 (500,000元)")
    expect(purchase).to_contain_text("300万元×20%")
    expect(result).to_contain_text("牵头单位")
    expect(result).to_contain_text("需补充信息")  # rent and contribution are unknown
    expect(result.locator(".pa-notice")).to_contain_text("时效提示")
    shot(page, "07-desktop-calculator-hq", full_page=True)

    capital = field(page, "calc", "registered_capital_yuan")
    capital.fill("一千万")
    page.locator("#pa-calc-run").click()
    expect(result).to_contain_text("「注册资金（万元）」请填写数字")
    capital.fill("-5")
    page.locator("#pa-calc-run").click()
    expect(result).to_contain_text("「注册资金（万元）」：不能小于0")
    result.scroll_into_view_if_needed()
    shot(page, "08-desktop-calculator-error")


def test_policy_matching_ranks_and_links_clauses(desktop):
    from playwright.sync_api import expect

    page = desktop
    page.get_by_role("tab", name="政策匹配").click()
    expect(page.locator("#pa-match-run")).to_be_visible()
    choose(page, "match", "registered_in_beibei", "是")
    choose(page, "match", "local_legal_entity", "是")
    field(page, "match", "platform_project_investment_yuan").fill("200")
    field(page, "match", "platform_first_year_online_transactions_yuan").fill("3亿")
    page.locator("#pa-match-run").click()

    result = page.locator("#pa-match-result")
    eligible = result.locator(".pa-sec-eligible")
    expect(eligible).to_contain_text("企业自建电子商务平台一次性财政扶持", timeout=SHORT)
    expect(eligible).to_contain_text("30万元 (300,000元)")
    expect(eligible).to_contain_text("区商务委")
    expect(result.locator(".pa-sec-maybe")).to_contain_text("还需提供")
    shot(page, "09-desktop-matching", full_page=True)

    eligible.locator("a[data-clause='附件-11']").first.click()
    expect(page.locator("#pa-clause-panel .pa-clause[data-shown='附件-11']")).to_be_attached()
    expect(page.locator("#pa-clause-panel")).to_contain_text("本地法人企业")


def test_phone_layout(phone, ui_assistant):
    from playwright.sync_api import expect

    page = phone
    assert_no_horizontal_scroll(page)
    for sel in ("#pa-input", "#pa-send", ".pa-notice"):  # one can start typing without scrolling
        expect(page.locator(sel).first).to_be_in_viewport()
    shot(page, "10-phone-start")

    page.locator("#pa-examples button").filter(has_text=PLATFORM_QUESTION).first.click()
    expect(last_bot(page)).to_contain_text("30万元", timeout=LONG)
    chip = page.locator("#pa-chatbot a.pa-cite").filter(has_text=CHIP_IDS).first
    expect(chip).to_be_visible()
    expect(page.locator("#pa-cite-row a.pa-chip").first).to_be_visible()  # the answer has finished streaming
    chip.scroll_into_view_if_needed()
    shot(page, "11-phone-answer")
    assert_no_horizontal_scroll(page)
    assert_no_overlap(page, ["#pa-chatbot", "#pa-cite-row", "#pa-input", "#pa-send", "#pa-new"])

    chip.click()
    panel = page.locator("#pa-clause-panel")
    expect(panel.locator(".pa-clause[data-shown]:not([data-shown=''])")).to_be_attached()
    # on phones the panel sits below the chat; opening a clause scrolls it to the top of the screen
    expect(panel.locator(".pa-clause-title").first).to_be_in_viewport()
    expect(panel).to_contain_text("首年网上交易额")
    shot(page, "12-phone-clause-panel")
    assert_no_horizontal_scroll(page)

    page.get_by_role("tab", name="补贴测算").click()
    fill_hq_form(page)
    page.locator("#pa-calc-run").click()
    expect(page.locator("#pa-calc-total")).to_contain_text("合计", timeout=SHORT)
    expect(page.locator("tr[data-policy='hq_establishment']")).to_contain_text("100万元 (1,000,000元)")
    assert_no_horizontal_scroll(page)
    page.locator("#pa-calc-total").scroll_into_view_if_needed()
    shot(page, "13-phone-calculator")
    shot(page, "14-phone-calculator-full", full_page=True)
