"""北碚电商政策助手 web page (Gradio 6 Blocks): 政策问答, 补贴测算, 政策匹配 and a clause panel.

The page is thin on purpose: every answer, figure and clause comes from `PolicyAssistant` (called
in-process, not over HTTP). This module holds the layout and serving; `ui.forms` parses form input (万元 →
exact yuan with `Decimal`), `ui.render` turns the library's results into HTML, `ui.handlers` holds the
callbacks, and `ui/static/` the CSS and the chip click handler, served from this package (never a CDN).
No policy rule lives here.

Serving choice: the page runs as its own Gradio server (`launch()`, http://127.0.0.1:7860), which is what
`policy-assistant ui` and `make run` start. It needs nothing from the API process and keeps working when the
API is not running; feedback and history still land in the same database because both build their store
with `create_store(settings)`. `mount()` is provided for deployments that prefer one process: it mounts the
same page on the API's FastAPI app with `gr.mount_gradio_app`, sharing that app's `PolicyAssistant`.

Gradio 6 notes (checked against the installed package, 6.x):
* `theme`, `css`, `head` and `js` moved from `gr.Blocks(...)` to `launch()` / `mount_gradio_app()`;
  `page_assets()` returns theme and css once for both.
* Custom CSS is scoped: top-level rules are kept as written, but rules inside `@media` are prefixed with
  `.gradio-container .contain`, so phone-only rules can only reach elements inside `.contain` (the page
  padding outside it is scaled with `clamp()` instead).
* Fonts are system fonts given as plain strings ("Noto Sans CJK SC", sans-serif). A string is not turned into
  a web font, so the page requests nothing from Google Fonts and works with the network cut.
* Citation chips are `<a href="#pa-clause=三(四)" data-clause="三(四)">` links inside chat messages and result
  tables. The Chatbot's sanitizer strips data-* attributes from messages, so the id also rides in the href.
  The clause panel is a `gr.HTML` whose `js_on_load` installs one document-level click handler; it calls the
  panel's `trigger("click", {clause})`, which reaches Python as `gr.EventData` (`evt._data["clause"]`).
* Chatbot input values are normalised to content blocks in Gradio 6, so the transcript is kept in a
  `gr.State` of plain dicts and only ever *output* to the Chatbot.
* A Textbox with `lines > 1` submits on Shift+Enter only; the question box uses `lines=1, max_lines=6` so
  Enter sends. Events default to `trigger_mode="once"`: a second Enter while an answer is running is dropped.
* `show_error=False` and every handler catches its own exceptions, so the page shows our Chinese messages
  (服务暂时不可用…) and never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ui.forms import (
    BOOL_CHOICES,
    CALC_FIELDS,
    CALC_GROUPS,
    FORM_FIELDS,
    HQ_TYPE_CHOICES,
    LEVEL_CHOICES,
    MATCH_FIELDS,
    PLACEHOLDERS,
    UNKNOWN,
)
from ui.handlers import PageHandlers
from ui.render import (
    APP_TITLE,
    CLAUSE_PLACEHOLDER,
    EXAMPLE_QUESTIONS,
    MODE_LABELS,
    citation_row_html,
    esc,
    notice_html,
    status_html,
)

if TYPE_CHECKING:
    from assistant.assistant import PolicyAssistant
    from assistant.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
FONT_STACK = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]
MONO_STACK = ["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"]
CSS = (STATIC_DIR / "app.css").read_text(encoding="utf-8")
CLAUSE_PANEL_JS = (STATIC_DIR / "app.js").read_text(encoding="utf-8")


def page_assets() -> dict[str, Any]:
    """theme/css for `launch()` and `gr.mount_gradio_app()` (Gradio 6 takes them there, not in Blocks)."""
    theme = gr.themes.Default(font=FONT_STACK, font_mono=MONO_STACK, primary_hue="red")
    return {"theme": theme, "css": CSS}


def _clause_choices(assistant: PolicyAssistant) -> list[tuple[str, str]]:
    return [(f"{c.clause_id} {c.title}", c.clause_id) for c in assistant.corpus.clauses if c.source != "meta"]


def _form_component(form: str, field: str) -> gr.components.Component:
    """One input; its DOM id is pa-<form>-<field> (e.g. pa-calc-registered_capital_yuan)."""
    label, kind = FORM_FIELDS[field]
    elem_id = f"pa-{form}-{field}"
    if kind == "bool":
        return gr.Radio(BOOL_CHOICES, value=UNKNOWN, label=label, elem_id=elem_id)
    if kind == "hq":
        return gr.Dropdown(HQ_TYPE_CHOICES, value=UNKNOWN, label=label, elem_id=elem_id)
    if kind == "level":
        return gr.Dropdown(LEVEL_CHOICES, value=UNKNOWN, label=label, elem_id=elem_id)
    return gr.Textbox(label=label, placeholder=PLACEHOLDERS.get(kind, ""), elem_id=elem_id, max_lines=1)


def reset_value(field: str) -> Any:
    """What an input shows when the form is cleared."""
    return UNKNOWN if FORM_FIELDS[field][1] in ("bool", "hq", "level") else ""


def build_app(assistant: PolicyAssistant) -> gr.Blocks:
    """The whole page around one `PolicyAssistant`. Launch it with `page_assets()` (see `launch`)."""
    page = PageHandlers(assistant)
    mode = getattr(assistant, "mode", "grounded")

    # ---- layout ------------------------------------------------------------------------------------

    with gr.Blocks(title=APP_TITLE, analytics_enabled=False, fill_width=False) as demo:
        session_state = gr.State(None)
        transcript_state = gr.State([])
        turns_state = gr.State({})
        quotes_state = gr.State({})

        gr.HTML(
            f'<div id="pa-header"><h1>{APP_TITLE}</h1>'
            '<p class="pa-sub-title">解读《重庆市北碚区人民政府关于加快电子商务产业发展的实施意见》'
            "（北碚府发〔2019〕75号）：政策问答、补贴测算、政策匹配。</p>"
            f'<div class="pa-mode">回答方式：{esc(MODE_LABELS.get(mode, mode))}</div></div>' + notice_html(),
            js_on_load=None,
            elem_id="pa-top",
        )

        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=340):
                with gr.Tabs(elem_id="pa-tabs"):
                    with gr.Tab("政策问答", id="chat", elem_id="pa-tab-chat"):
                        chatbot = gr.Chatbot(
                            value=[],
                            label="政策问答",
                            show_label=False,
                            elem_id="pa-chatbot",
                            height="min(52vh, 540px)",
                            buttons=["copy"],
                            feedback_options=("Like", "Dislike"),
                            sanitize_html=True,
                            layout="bubble",
                            placeholder=(
                                "您好！我可以解答北碚区电商扶持政策（北碚府发〔2019〕75号）的问题，"
                                "回答中的【条款编号】可点击查看原文。"
                            ),
                        )
                        cite_row = gr.HTML(citation_row_html([]), js_on_load=None, elem_id="pa-cite-row")
                        with gr.Row(elem_id="pa-input-row", equal_height=True):
                            msg = gr.Textbox(
                                show_label=False,
                                placeholder="请输入您的问题，例如：自建电商平台首年交易额3亿元能拿多少？",
                                lines=1,  # Enter sends (Gradio: with lines>1 only Shift+Enter submits)
                                max_lines=6,
                                scale=5,
                                min_width=200,
                                elem_id="pa-input",
                            )
                        with gr.Row(elem_id="pa-chat-actions"):
                            send = gr.Button("发送", variant="primary", elem_id="pa-send", scale=2, min_width=80)
                            reset = gr.Button("新对话", variant="secondary", elem_id="pa-new", scale=1, min_width=80)
                        chat_status = gr.HTML(status_html(), js_on_load=None, elem_id="pa-chat-status")
                        gr.HTML('<div class="pa-group-note">试试这些问题：</div>', js_on_load=None)
                        with gr.Row(elem_id="pa-examples"):
                            example_buttons = [
                                gr.Button(q, size="sm", variant="secondary", elem_classes=["pa-example"])
                                for q in EXAMPLE_QUESTIONS
                            ]

                    with gr.Tab("补贴测算", id="calc", elem_id="pa-tab-calc"):
                        gr.HTML(
                            '<div class="pa-group-note">按实际情况填写，不知道的留空或选“不确定”。金额单位为'
                            "<b>万元</b>（也可直接写“1.2亿”“300万”“300000元”），跨境零售额单位为<b>万美元</b>。</div>",
                            js_on_load=None,
                        )
                        calc_inputs = []
                        for title, clauses, fields in CALC_GROUPS:
                            with gr.Accordion(f"{title}（{clauses}）", open=True):
                                with gr.Row(equal_height=False, elem_classes=["pa-form-grid"]):
                                    for field in fields:
                                        calc_inputs.append(_form_component("calc", field))
                        with gr.Row():
                            calc_btn = gr.Button("开始测算", variant="primary", elem_id="pa-calc-run")
                            calc_clear = gr.Button("清空", variant="secondary", elem_id="pa-calc-clear")
                        calc_out = gr.HTML(
                            '<div class="pa-placeholder">填写后点击“开始测算”，结果按政策逐项列出。</div>',
                            js_on_load=None,
                            elem_id="pa-calc-result",
                        )

                    with gr.Tab("政策匹配", id="match", elem_id="pa-tab-match"):
                        gr.HTML(
                            '<div class="pa-group-note">填一份简要的企业情况，查看可以申请、可能可以申请和暂不符合的'
                            "全部政策。"
                            "金额单位：万元（跨境：万美元）。</div>",
                            js_on_load=None,
                        )
                        match_inputs = []
                        with gr.Row(equal_height=False, elem_classes=["pa-form-grid"]):
                            for field in MATCH_FIELDS:
                                match_inputs.append(_form_component("match", field))
                        match_btn = gr.Button("查看可申请的政策", variant="primary", elem_id="pa-match-run")
                        match_out = gr.HTML(
                            '<div class="pa-placeholder">填写后点击“查看可申请的政策”。</div>',
                            js_on_load=None,
                            elem_id="pa-match-result",
                        )

            with gr.Column(scale=2, min_width=300, elem_id="pa-clause-col"):
                gr.HTML('<h3 class="pa-panel-title">条款原文</h3>', js_on_load=None)
                clause_pick = gr.Dropdown(
                    _clause_choices(assistant),
                    value=None,
                    label="选择条款查看原文",
                    show_label=True,
                    elem_id="pa-clause-pick",
                    filterable=True,
                )
                clause_panel = gr.HTML(
                    f'<div class="pa-clause" data-shown=""><p class="pa-placeholder">{esc(CLAUSE_PLACEHOLDER)}</p><'
                    "/div>",
                    js_on_load=CLAUSE_PANEL_JS,
                    elem_id="pa-clause-panel",
                    container=True,
                    padding=True,
                )

        # ---- events --------------------------------------------------------------------------------
        chat_inputs = [msg, transcript_state, session_state, turns_state, quotes_state]
        chat_outputs = [msg, chatbot, chat_status, cite_row, session_state, turns_state, quotes_state, transcript_state]
        msg.submit(page.respond, chat_inputs, chat_outputs, show_progress="hidden")
        send.click(page.respond, chat_inputs, chat_outputs, show_progress="hidden")

        for button, question in zip(example_buttons, EXAMPLE_QUESTIONS):

            def _example(transcript, session_id, turns, quotes, _q=question):
                yield from page.respond(_q, transcript, session_id, turns, quotes)

            button.click(
                _example,
                [transcript_state, session_state, turns_state, quotes_state],
                chat_outputs,
                show_progress="hidden",
            )

        reset.click(
            page.new_conversation,
            None,
            [*chat_outputs, clause_panel],
        )
        chatbot.clear(page.new_conversation, None, [*chat_outputs, clause_panel])
        chatbot.like(page.on_like, [session_state, turns_state], chat_status)

        clause_panel.click(page.show_clause, [quotes_state], clause_panel, show_progress="hidden")
        clause_pick.change(page.pick_clause, [clause_pick, quotes_state], clause_panel, show_progress="hidden")

        calc_btn.click(page.run_calc, calc_inputs, calc_out)
        calc_clear.click(
            lambda: (
                [reset_value(f) for f in CALC_FIELDS]
                + ['<div class="pa-placeholder">填写后点击“开始测算”，结果按政策逐项列出。</div>']
            ),
            None,
            [*calc_inputs, calc_out],
        )
        match_btn.click(page.run_match, match_inputs, match_out)

    demo.queue(default_concurrency_limit=8)
    return demo


def create_assistant(settings: Settings | None = None) -> PolicyAssistant:
    """The assistant the page serves, on the same store as the API (`create_store(settings)`)."""
    from assistant.assistant import PolicyAssistant
    from assistant.settings import get_settings
    from assistant.store import create_store

    settings = settings or get_settings()
    return PolicyAssistant(settings=settings, store=create_store(settings))


def launch(
    host: str = "127.0.0.1", port: int = 7860, *, assistant: PolicyAssistant | None = None, block: bool = True
) -> gr.Blocks:
    """Serve the page at http://host:port (blocking unless block=False). Nothing is fetched from the internet."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return serve(build_app(assistant or create_assistant()), host, port, block=block, assets=page_assets())


def serve(demo: gr.Blocks, host: str, port: int, *, block: bool, assets: dict[str, Any]) -> gr.Blocks:
    """How every page here is served: no share link, no browser opened, our own error words instead of
    Gradio's (show_error=False), no server-side rendering, and the theme and CSS from this package."""
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        show_error=False,
        inbrowser=False,
        footer_links=[],
        prevent_thread_lock=not block,
        quiet=not block,
        ssr_mode=False,
        **assets,
    )
    return demo


def mount(app, assistant: PolicyAssistant, path: str = "/ui"):
    """Alternative to `launch`: serve the page under `path` of an existing FastAPI app (one process)."""
    return gr.mount_gradio_app(
        app, build_app(assistant), path=path, show_error=False, footer_links=[], ssr_mode=False, **page_assets()
    )
