"""The operator page in a real browser (Debian's chromium driven by Playwright): sign in with an admin key,
see the charts, filter to 👎 turns, open one, make an eval item from it, export.

The page runs in-process on a loopback port over a SQLite store seeded with known turns (tests/admin_seed.py,
moved so the last seeded day is today) plus two weeks of generated traffic for the charts. The test fails if
the page requests anything from a non-loopback host. Screenshots go to the test's tmp dir and the final ones
are copied to artifacts/admin/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from admin_seed import DAY3, SPECS, Spec, seed
from browser import chromium
from servers import free_port

from assistant.corpus import load_corpus
from assistant.evaluation import load_dataset
from assistant.oversight.derive import LOCAL_TZ
from assistant.settings import Settings
from assistant.sql_store import SqlStore

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "artifacts" / "admin"
ADMIN_KEY = "browser-admin-key-0123456789"
TIMEOUT = 30_000


def traffic(today) -> list[Spec]:
    """The seeded turns moved to end today, and 14 days of generated turns with a known 👎 pattern."""
    shift = today - DAY3
    moved = [dataclasses.replace(s, at=s.at + shift) for s in SPECS]
    kinds = [
        ("自建平台补贴多少？", "【三(四)】补贴。", "policy_answer", ("三(四)", "附件-11")),
        ("区域总部奖励？", "【三(一)】奖励。", "policy_answer", ("三(一)",)),
        ("交易额2亿能拿多少？", "可获30万元。", "calculation", ("三(四)",)),
        ("能拿多少？", "请提供交易额。", "clarification", ()),
        ("上海有什么政策？", "超出范围。", "out_of_scope", ()),
    ]
    generated = []
    for back in range(1, 15):
        day = today - timedelta(days=back)
        for n in range(1 + back % 4):
            message, answer, answer_type, cites = kinds[(back + n) % len(kinds)]
            at = datetime(day.year, day.month, day.day, 9 + n, 15, tzinfo=LOCAL_TZ)
            vote = "down" if (back + n) % 5 == 0 else ("up" if n == 1 else None)
            generated.append(
                Spec(
                    f"g{back}x{n}",
                    f"user-{back % 6}",
                    message,
                    answer,
                    answer_type,
                    at,
                    150 + 40 * n + back,
                    cites,
                    vote=vote,
                )
            )
    return moved + generated


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    from ui.admin import Console, launch

    data_dir = tmp_path_factory.mktemp("admin-ui")
    settings = Settings(
        data_dir=data_dir,
        admin_keys=ADMIN_KEY,
        api_keys="",
        user_id_salt="browser-salt",
        llm_base_url=None,
        database_url=None,
    )
    store = SqlStore(f"sqlite:///{data_dir / 'assistant.db'}")
    seed(store, traffic(datetime.now(LOCAL_TZ).date()))
    titles = {c.clause_id: c.title for c in load_corpus(settings.corpus_dir).clauses}
    port = free_port()
    demo = launch("127.0.0.1", port, console=Console(store, settings, titles), block=False)
    try:
        yield f"http://127.0.0.1:{port}/", data_dir
    finally:
        demo.close()
        store.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_operator_signs_in_filters_to_thumbs_down_and_makes_an_eval_item(browser, page_url, tmp_path):
    from playwright.sync_api import expect

    url, data_dir = page_url
    shots = tmp_path / "shots"
    shots.mkdir()

    def shot(name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shots / f"{name}.png", ARTIFACTS / f"{name}.png")  # kept even when a later step fails

    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    off_host: list[str] = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("data:", "blob:")) or urlparse(r.url).hostname in ("127.0.0.1", "localhost")
            else off_host.append(r.url)
        ),
    )
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)

    # a wrong key shows nothing
    key = page.locator("#pa-admin-key input")
    expect(key).to_be_visible(timeout=60_000)
    key.fill("not-the-key")
    page.locator("#pa-admin-login-btn").click()
    expect(page.locator("#pa-admin-login-msg")).to_contain_text("管理密钥无效")
    expect(page.locator("#pa-admin-main")).to_be_hidden()
    shot("01-login-refused")

    # the right key: summary and charts
    key.fill(ADMIN_KEY)
    page.locator("#pa-admin-login-btn").click()
    expect(page.locator("#pa-admin-summary")).to_contain_text("轮对话", timeout=TIMEOUT)
    total = 7 + sum(1 + back % 4 for back in range(1, 15))
    expect(page.locator("#pa-admin-summary")).to_contain_text(f"{total} 轮对话")
    for plot in ("#pa-admin-turns-plot", "#pa-admin-mix-plot", "#pa-admin-down-plot"):
        expect(page.locator(f"{plot} canvas, {plot} svg").first).to_be_visible(timeout=TIMEOUT)
    expect(page.locator("#pa-admin-clauses")).to_contain_text("支持")  # clause titles from the corpus
    shot("02-dashboard")

    # filter to 踩 (👎) turns only
    page.locator("#pa-admin-view input").click()
    page.get_by_role("option", name="踩（差评）").click()
    grid = page.locator("#pa-admin-turns [role=grid]")
    expected_down = sum(1 for s in traffic(datetime.now(LOCAL_TZ).date()) if s.vote == "down")
    expect(grid).to_have_attribute("aria-rowcount", str(expected_down + 1))  # header + one row per 踩
    lines = [line.strip() for line in grid.inner_text().splitlines()]
    assert lines.count("踩") == expected_down and "赞" not in lines, lines
    shot("03-thumbs-down")

    # open the seeded calculation turn that got a 踩, and make an eval item from it
    page.locator("#pa-admin-turns span", has_text="交易额3亿能拿多少？").first.click()
    detail = page.locator("#pa-admin-detail")
    expect(detail).to_contain_text("引用")
    expect(page.locator("#pa-admin-draft")).to_contain_text("expected")
    page.locator("#pa-admin-make-item").click()
    expect(page.locator("#pa-admin-make-msg")).to_contain_text("已生成评测条目", timeout=TIMEOUT)
    shot("04-eval-item")
    items = load_dataset(data_dir / "eval" / "operator-items.jsonl")
    assert len(items) == 1
    assert items[0].expected == {"answer_type": "calculation", "clause_ids_any": ["三(四)"], "amounts_yuan": [300000]}
    stored = json.loads((data_dir / "eval" / "operator-items.jsonl").read_text(encoding="utf-8"))
    shown = detail.inner_text()
    assert stored["turns"][-1] in shown

    # export
    page.locator("#pa-admin-export").click()
    expect(page.locator("#pa-admin-export-file")).to_contain_text("turns-", timeout=TIMEOUT)
    shot("05-export")
    context.close()
    assert not off_host, f"the page requested non-loopback hosts: {off_host}"
