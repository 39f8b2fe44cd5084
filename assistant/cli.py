"""`policy-assistant`: a thin command line over the library.

Bad input exits 2 with one readable line; nothing here prints a traceback (set PA_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

USAGE_ERROR = 2


class CliError(Exception):
    """A problem with what the user typed or pointed at: one line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return USAGE_ERROR
    try:
        return args.handler(args) or 0
    except CliError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("PA_DEBUG"):
            raise
        from pydantic import ValidationError

        from assistant.validation import describe_validation_error

        if isinstance(exc, ValidationError):
            print(f"错误：{describe_validation_error(exc)}", file=sys.stderr)
            return USAGE_ERROR
        print(f"内部错误：{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="policy-assistant", description="北碚电商政策助手 (北碚府发〔2019〕75号)")
    sub = p.add_subparsers(dest="command")

    clauses = sub.add_parser("clauses", help="条款：list / show ID / diff")
    csub = clauses.add_subparsers(dest="clauses_command")
    for name, fn, help_ in (
        ("list", cmd_clauses_list, "列出全部条款"),
        ("diff", cmd_clauses_diff, "正文与附件的不一致之处"),
    ):
        c = csub.add_parser(name, help=help_)
        c.add_argument("--json", action="store_true", help="machine-readable output")
        c.set_defaults(handler=fn)
    show = csub.add_parser("show", help="显示一个条款及其对应条款")
    show.add_argument("clause_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_clauses_show)

    calc = sub.add_parser("calc", help="按企业情况测算补贴金额")
    calc.add_argument("--profile", required=True, help="EnterpriseProfile JSON file, or - for stdin")
    calc.add_argument("--json", action="store_true")
    calc.set_defaults(handler=cmd_calc)

    ingest = sub.add_parser("ingest", help="构建或复用 Chroma 索引")
    ingest.set_defaults(handler=cmd_ingest)

    search = sub.add_parser("search", help="检索相关条款")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default=None)
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=cmd_search)

    ask = sub.add_parser("ask", help="提问")
    ask.add_argument("message")
    ask.add_argument("--session", default=None)
    ask.add_argument("--mode", choices=["grounded", "llm"], default=None)
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=cmd_ask)

    ev = sub.add_parser("eval", help="运行评测集")
    ev.add_argument("--dataset", type=Path, default=None)
    ev.add_argument("--output", type=Path, default=Path(".data/eval/out.jsonl"))
    ev.add_argument("--report", type=Path, default=None)
    ev.add_argument("--mode", choices=["grounded", "llm"], default="grounded")
    ev.add_argument("--limit", type=int, default=None)
    ev.add_argument("--ablation", action="store_true", help="compare retrieval modes and embedders")
    ev.add_argument("--gate", action="store_true", help="exit 1 when the CI gate fails")
    ev.set_defaults(handler=cmd_eval)

    serve = sub.add_parser("serve", help="启动 HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)

    ui = sub.add_parser("ui", help="启动网页")
    ui.add_argument("--host", default=None)
    ui.add_argument("--port", type=int, default=None)
    ui.set_defaults(handler=cmd_ui)

    admin = sub.add_parser("admin", help="启动运营后台网页（需 PA_ADMIN_KEYS）")
    admin.add_argument("--host", default="127.0.0.1")
    admin.add_argument("--port", type=int, default=7861)
    admin.set_defaults(handler=cmd_admin)

    purge = sub.add_parser("purge", help="删除旧对话及其评价")
    when = purge.add_mutually_exclusive_group(required=True)
    when.add_argument("--before", metavar="YYYY-MM-DD", help="删除该日（UTC+8）0 点之前的对话")
    when.add_argument("--older-than-retention", action="store_true", help="按 PA_RETENTION_DAYS 删除")
    purge.set_defaults(handler=cmd_purge)

    demo = sub.add_parser("demo", help="命令行演示")
    demo.set_defaults(handler=cmd_demo)
    return p


# --- helpers ------------------------------------------------------------------------------------


def emit_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _corpus():
    from assistant.corpus import load_corpus
    from assistant.settings import get_settings

    return load_corpus(get_settings().corpus_dir)


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    print(f"\r索引 [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)


# --- commands -----------------------------------------------------------------------------------


def cmd_clauses_list(args) -> int:
    corpus = _corpus()
    if args.json:
        emit_json([c.model_dump() for c in corpus.clauses])
        return 0
    for c in corpus.clauses:
        lead = f"  牵头：{c.lead_unit}" if c.lead_unit else ""
        print(f"{c.clause_id:<8} [{c.source}] {c.title}{lead}")
    return 0


def cmd_clauses_show(args) -> int:
    from assistant.corpus import canonical_clause_id

    corpus = _corpus()
    cid = canonical_clause_id(args.clause_id, corpus)
    if cid is None:
        raise CliError(f"没有条款 {args.clause_id!r}；用 `policy-assistant clauses list` 查看全部编号。")
    clause = corpus.get(cid)
    others = corpus.counterparts(cid)
    if args.json:
        emit_json({"clause": clause.model_dump(), "counterparts": [o.model_dump() for o in others]})
        return 0
    for i, c in enumerate([clause, *others]):
        if i:
            print("\n—— 对应条款 ——")
        print(f"【{c.clause_id}】{c.title}  ({c.source})")
        print(c.text)
        if c.lead_unit:
            print(f"牵头单位：{c.lead_unit}")
        if c.responsible_units:
            print(f"责任单位：{'、'.join(c.responsible_units)}")
        if c.deadline:
            print(f"完成时间：{c.deadline}")
    return 0


def cmd_clauses_diff(args) -> int:
    corpus = _corpus()
    if args.json:
        emit_json([d.model_dump() for d in corpus.discrepancies])
        return 0
    for d in corpus.discrepancies:
        print(f"【{d.main_clause_id}】↔【{d.annex_clause_id}】 {d.description}")
    print(f"共 {len(corpus.discrepancies)} 处")
    return 0


def cmd_calc(args) -> int:
    from assistant.calculation_table import render_table
    from assistant.calculator import calculate
    from assistant.profile import ProfileError, read_profile

    try:
        profile = read_profile(_read_input(args.profile))
    except ProfileError as exc:
        raise CliError(str(exc)) from None
    result = calculate(profile)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(render_table(result))
    return 0


def _read_input(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise CliError(f"找不到文件 {source}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"文件 {source} 不是 UTF-8 文本") from None


def cmd_ingest(args) -> int:
    from assistant.assistant import index_status

    status = index_status(progress=_progress)
    verb = "已构建" if status.built else "已是最新，复用"
    print(f"{verb}索引 {status.collection}：{status.count} 条，{status.seconds:.2f} 秒（{status.location}）")
    return 0


def cmd_search(args) -> int:
    from assistant.assistant import PolicyAssistant

    assistant = PolicyAssistant()
    hits = assistant.search_engine.search(args.query, k=args.k, mode=args.mode)
    if args.json:
        emit_json([h.__dict__ for h in hits])
        return 0
    for rank, h in enumerate(hits, start=1):
        clause = assistant.corpus.get(h.clause_id)
        via = f" ← {h.expanded_from} 的对应条款" if h.expanded_from else ""
        print(f"{rank:>2}. {h.score:.4f}  【{h.clause_id}】{clause.title}{via}")
    return 0


def cmd_ask(args) -> int:
    from assistant.assistant import PolicyAssistant

    message = args.message.strip()
    if not message:
        raise CliError("问题不能为空。")
    assistant = PolicyAssistant(mode=args.mode)
    response = assistant.ask(message, session_id=args.session)
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    print(response.answer)
    for n in response.notices:
        print(f"\n> {n}")
    print(f"\n(session {response.session_id}, mode {response.mode})")
    return 0


def cmd_eval(args) -> int:
    from assistant import evaluation

    if args.dataset is not None and not args.dataset.is_file():
        raise CliError(f"找不到评测集 {args.dataset}")
    if args.ablation:
        table = evaluation.run_ablation(args.dataset)
        print(table.render())
        return 0
    try:
        summary = evaluation.run_eval(args.dataset, args.output, args.report, mode=args.mode, limit=args.limit)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(summary.render() if hasattr(summary, "render") else summary)
    if args.gate:
        failures = evaluation.check_gate(summary)
        for f in failures:
            print(f"GATE FAIL: {f}", file=sys.stderr)
        return 1 if failures else 0
    return 0


def cmd_serve(args) -> int:
    from assistant.api import serve

    serve(host=args.host, port=args.port)
    return 0


def cmd_ui(args) -> int:
    from assistant.settings import get_settings

    settings = get_settings()
    launch = _page("ui")
    launch(host=args.host or settings.ui_host, port=args.port or settings.ui_port)
    return 0


PAGE_ENTRY_POINTS = "policy_assistant.pages"


def _page(name: str) -> Any:
    """The `launch` of a web page. Pages register themselves under the ``policy_assistant.pages`` entry-point
    group (pyproject.toml), so the library never imports the UI package: the UI depends on the library, not
    the reverse, and a deployment without the UI still has a working CLI."""
    from importlib.metadata import entry_points

    found = entry_points(group=PAGE_ENTRY_POINTS, name=name)
    if not found:
        raise CliError(f"网页 {name!r} 未安装（重新运行 `pip install -e .` 或 `make run`）。")
    return next(iter(found)).load()


def cmd_admin(args) -> int:
    from assistant.settings import get_settings

    if not get_settings().admin_key_list:
        raise CliError("运营后台未启用：请先设置 PA_ADMIN_KEYS。")
    launch = _page("admin")
    launch(host=args.host, port=args.port)
    return 0


def cmd_purge(args) -> int:
    from assistant.oversight.retention import parse_day, purge_configured
    from assistant.settings import get_settings

    try:
        before = parse_day(args.before) if args.before is not None else None
        result = purge_configured(get_settings(), before)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(result.render())
    return 0


def _demo_questions() -> list[str]:
    from assistant.phrasing import default_phrasing

    return default_phrasing().demo_questions


def cmd_demo(args) -> int:
    from assistant.assistant import PolicyAssistant

    assistant = PolicyAssistant(progress=_progress)
    session = None
    for q in _demo_questions():
        response = assistant.ask(q, session_id=session)
        session = response.session_id
        print(f"\n### 问：{q}\n{response.answer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
