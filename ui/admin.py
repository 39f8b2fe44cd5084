"""The operator page (区商务委): charts over time, the 👎 and refused turns with their full answers, "make eval
item", and the export. Served by ``policy-assistant admin`` (its own Gradio server, default port 7861), or
mounted on a FastAPI app with `mount` (e.g. under /admin of the API).

Access: the page opens on a key box. The key is checked with `assistant.api.deps.admin_key_is_valid` (the
same constant-time comparison as the /v1/admin API) and kept in a `gr.State`, which lives on the server: every
handler checks it again, so calling the page's event endpoints directly without a good key gets nothing.
Wrong keys count against a failed-attempt budget per client address, as on the API. No data reaches the
browser before a good key (the page's initial values are empty).

Data comes from the library in this process (`assistant.oversight`), on the same database as the API
(`create_store(settings)`), not over HTTP. Offline like the owners' page: system fonts, Gradio's bundled
plots, no CDN.
"""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.api.deps import admin_key_is_valid
from assistant.api.limits import TokenBucketLimiter
from assistant.evaluation import DatasetError
from assistant.oversight import evalitems, stats
from assistant.oversight.derive import LOCAL_TZ
from assistant.oversight.export import export_chunks
from assistant.oversight.privacy import hasher_for
from assistant.oversight.retention import parse_day
from assistant.oversight.turns import TurnFilter, page
from assistant.settings import Settings, get_settings
from assistant.sql_store import SqlStore
from assistant.store import create_store
from ui import admin_view as view
from ui.page import serve

log = logging.getLogger(__name__)
TITLE = "北碚电商政策助手 · 运营后台"
PAGE_SIZE = 50
FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]
CSS = """
.pa-admin-detail { line-height: 1.6; }
.pa-admin-answer { background: var(--block-background-fill); padding: 8px 12px; border-radius: 6px; }
"""
VIEWS = {
    "踩与拒答": [TurnFilter(feedback="down"), TurnFilter(refused=True)],
    "踩（差评）": [TurnFilter(feedback="down")],
    "拒答（超出范围）": [TurnFilter(refused=True)],
    "文件没有规定": [TurnFilter(unspecified=True)],
    "全部": [TurnFilter()],
}
NOT_SIGNED_IN = "请先输入管理密钥。"


class Console:
    """The page's server side: one store, the settings, and the failed-key budget."""

    def __init__(self, store: SqlStore, settings: Settings, titles: dict[str, str] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.titles = titles or {}
        self.hash_user = hasher_for(settings)
        self.failures = TokenBucketLimiter(settings.auth_failures_per_minute, settings.auth_failure_burst)

    def sign_in(self, key: str, address: str) -> tuple[bool, str]:
        if self.failures.wait_time(address) > 0:
            return False, "密钥错误次数过多，请稍后再试。"
        if admin_key_is_valid(key, self.settings):
            return True, "已登录。"
        self.failures.acquire(address)
        return False, "管理密钥无效。"

    def ok(self, key: str | None) -> bool:
        return admin_key_is_valid(key, self.settings)

    def window(self, since: str, until: str) -> stats.Window:
        start = parse_day(since) if since.strip() else None
        end = parse_day(until) if until.strip() else None
        if start and end and start > end:
            raise ValueError("起始日不能晚于截止日。")
        return stats.Window.around(start, end)

    def items(self, view_name: str, window: stats.Window, q: str) -> list[dict[str, Any]]:
        """Newest first; a view of several filters (👎 or refused) is their union, each capped at a page."""
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for base in VIEWS.get(view_name, VIEWS["全部"]):
            f = TurnFilter(**{**base.__dict__, "since": window.since, "until": window.until, "q": q.strip() or None})
            for item in page(self.store.engine, f, self.hash_user, limit=PAGE_SIZE).items:
                found[(item["session_id"], item["turn"])] = item
        return sorted(found.values(), key=lambda i: i["created_at"], reverse=True)[:PAGE_SIZE]

    def export(self, window: stats.Window, fmt: str) -> str:
        """Streams the export to a temp file (flat memory) and returns its path for the download."""
        stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
        path = Path(tempfile.mkdtemp(prefix="pa-export-")) / f"turns-{stamp}.{fmt}"
        f = TurnFilter(since=window.since, until=window.until)
        with open(path, "wb") as out:
            for chunk in export_chunks(self.store.engine, f, self.hash_user, "csv" if fmt == "csv" else "jsonl"):
                out.write(chunk)
        return str(path)


def _empty_turns() -> pd.DataFrame:
    return pd.DataFrame([], columns=view.TURN_COLUMNS)


def build_admin_app(console: Console) -> gr.Blocks:
    today = datetime.now(LOCAL_TZ).date()

    def sign_in(key: str, request: gr.Request):
        address = getattr(getattr(request, "client", None), "host", None) or "unknown"
        ok, message = console.sign_in(key or "", address)
        return (key if ok else None), gr.update(visible=not ok), gr.update(visible=ok), message

    def refresh(key: str | None, since: str, until: str, view_name: str, q: str):
        if not console.ok(key):
            return (NOT_SIGNED_IN, None, None, None, None, _empty_turns(), [], "", None)
        try:
            window = console.window(since, until)
        except ValueError as exc:
            return (f"错误：{exc}", gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), "", None)
        figures = stats.compute(console.store.engine, window, titles=console.titles)
        items = console.items(view_name, window, q)
        return (
            view.summary_markdown(figures),
            view.turns_frame(figures),
            view.mix_frame(figures),
            view.down_rate_frame(figures),
            view.clauses_frame(figures),
            view.turn_rows(items) if items else _empty_turns(),
            items,
            "",
            None,
        )

    def select(key: str | None, items: list[dict[str, Any]], evt: gr.SelectData):
        if not console.ok(key) or not items:
            return "", "", None, ""
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not isinstance(row, int) or not 0 <= row < len(items):
            return "", "", None, ""
        item = items[row]
        chosen = {"session_id": item["session_id"], "turn": item["turn"]}
        try:
            draft = evalitems.draft_item(console.store.engine, item["session_id"], item["turn"])
        except (evalitems.TurnNotFound, evalitems.TurnUnanswered):
            return view.turn_detail_html(item), "", chosen, "该轮无法生成评测条目（未回答或已被清理）。"
        draft.pop("source", None)
        return view.turn_detail_html(item), json.dumps(draft, ensure_ascii=False, indent=2), chosen, ""

    def make_item(key: str | None, chosen: dict[str, Any] | None, edited: str):
        if not console.ok(key):
            return NOT_SIGNED_IN
        if not chosen:
            return "请先在表格中选择一轮对话。"
        try:
            changes = json.loads(edited or "{}")
            if not isinstance(changes, dict):
                raise ValueError("应为 JSON 对象")
            draft = evalitems.draft_item(console.store.engine, chosen["session_id"], chosen["turn"])
            expected = changes.get("expected") or {}
            removed = {k: None for k in draft["expected"] if k not in expected}  # deleted in the editor
            item = evalitems.corrected(draft, {**changes, "expected": {**removed, **expected}})
            count = evalitems.append_item(evalitems.dataset_path(console.settings.data_dir), item)
        except evalitems.ItemExists as exc:
            return f"错误：评测条目 {exc} 已存在，请修改 id。"
        except (ValueError, DatasetError) as exc:  # json.JSONDecodeError is a ValueError
            return f"错误：条目无效：{exc}"
        except (evalitems.TurnNotFound, evalitems.TurnUnanswered):
            return "错误：该轮已不存在或尚无回答。"
        return f"已生成评测条目 {item['id']}，写入 {evalitems.DATASET.as_posix()}（共 {count} 条）。"

    def export(key: str | None, since: str, until: str, fmt: str):
        if not console.ok(key):
            return None, NOT_SIGNED_IN
        try:
            window = console.window(since, until)
        except ValueError as exc:
            return None, f"错误：{exc}"
        return console.export(window, fmt), f"已导出 {window.since} 至 {window.until} 的对话（{fmt}）。"

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        key_state = gr.State(None)
        items_state = gr.State([])
        chosen_state = gr.State(None)
        gr.Markdown(f"# {TITLE}")
        with gr.Column(visible=True, elem_id="pa-admin-login") as login:
            key_box = gr.Textbox(label="管理密钥", type="password", elem_id="pa-admin-key", max_lines=1)
            login_btn = gr.Button("登录", variant="primary", elem_id="pa-admin-login-btn")
        login_msg = gr.Markdown(elem_id="pa-admin-login-msg")
        with gr.Column(visible=False, elem_id="pa-admin-main") as main:
            with gr.Row():
                since = gr.Textbox(
                    label="起始日", value=(today - timedelta(days=stats.DEFAULT_DAYS - 1)).isoformat(), max_lines=1
                )
                until = gr.Textbox(label="截止日", value=today.isoformat(), max_lines=1, elem_id="pa-admin-until")
                refresh_btn = gr.Button("刷新", elem_id="pa-admin-refresh")
            summary = gr.Markdown(elem_id="pa-admin-summary")
            with gr.Row():
                turns_plot = gr.LinePlot(x="日期", y="对话轮数", title="每日对话轮数", elem_id="pa-admin-turns-plot")
                down_plot = gr.LinePlot(x="日期", y="踩率 (%)", title="每日踩率", elem_id="pa-admin-down-plot")
            with gr.Row():
                mix_plot = gr.BarPlot(
                    x="日期",
                    y="轮数",
                    color="回答类型",
                    title="回答类型构成（月-日）",
                    x_label_angle=-45,
                    elem_id="pa-admin-mix-plot",
                )
                clauses = gr.Dataframe(label="引用最多的条款", interactive=False, elem_id="pa-admin-clauses")
            gr.Markdown("## 对话")
            with gr.Row():
                view_pick = gr.Dropdown(list(VIEWS), value="踩与拒答", label="显示", elem_id="pa-admin-view")
                q_box = gr.Textbox(label="搜索问题或回答", max_lines=1, elem_id="pa-admin-q")
            table = gr.Dataframe(
                value=_empty_turns(), interactive=False, wrap=True, elem_id="pa-admin-turns", label="点击一行查看详情"
            )
            detail = gr.HTML(elem_id="pa-admin-detail")
            with gr.Accordion("生成评测条目（按需修改 expected 后保存）", open=True):
                draft_box = gr.Code(language="json", interactive=True, elem_id="pa-admin-draft", label="评测条目")
                make_btn = gr.Button("生成评测条目", variant="primary", elem_id="pa-admin-make-item")
                make_msg = gr.Markdown(elem_id="pa-admin-make-msg")
            with gr.Row():
                fmt = gr.Radio(["jsonl", "csv"], value="jsonl", label="导出格式")
                export_btn = gr.Button("导出", elem_id="pa-admin-export")
            export_file = gr.File(label="导出文件", elem_id="pa-admin-export-file")
            export_msg = gr.Markdown()

        outputs = [summary, turns_plot, mix_plot, down_plot, clauses, table, items_state, detail, chosen_state]
        inputs = [key_state, since, until, view_pick, q_box]
        signed_in = login_btn.click(sign_in, [key_box], [key_state, login, main, login_msg])
        key_box.submit(sign_in, [key_box], [key_state, login, main, login_msg]).then(refresh, inputs, outputs)
        signed_in.then(refresh, inputs, outputs)
        refresh_btn.click(refresh, inputs, outputs)
        view_pick.change(refresh, inputs, outputs)
        q_box.submit(refresh, inputs, outputs)
        table.select(select, [key_state, items_state], [detail, draft_box, chosen_state, make_msg])
        make_btn.click(make_item, [key_state, chosen_state, draft_box], [make_msg])
        export_btn.click(export, [key_state, since, until, fmt], [export_file, export_msg])
    demo.queue(default_concurrency_limit=4)
    return demo


def page_assets() -> dict[str, Any]:
    return {"theme": gr.themes.Default(font=FONTS, primary_hue="red"), "css": CSS}


def create_console(settings: Settings | None = None) -> Console:
    from assistant.corpus import load_corpus

    settings = settings or get_settings()
    store = create_store(settings)
    if not isinstance(store, SqlStore):
        raise ValueError("运营后台需要 SQL 存储（PA_DATABASE_URL 不能为 memory）。")
    titles = {c.clause_id: c.title for c in load_corpus(settings.corpus_dir).clauses}
    return Console(store, settings, titles)


def launch(host: str = "127.0.0.1", port: int = 7861, *, console: Console | None = None, block: bool = True):
    """Serve the operator page at http://host:port. Nothing is fetched from the internet."""
    return serve(build_admin_app(console or create_console()), host, port, block=block, assets=page_assets())


def mount(app: Any, console: Console, path: str = "/admin") -> Any:
    """One process: the page under ``path`` of an existing FastAPI app (e.g. the API's)."""
    return gr.mount_gradio_app(
        app, build_admin_app(console), path=path, show_error=False, footer_links=[], ssr_mode=False, **page_assets()
    )
