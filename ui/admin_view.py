"""What the operator page shows, as plain data: chart frames, the turn table, the detail of one turn.

Kept apart from the Gradio wiring in `ui.admin` so it can be read (and tested) without a browser. Everything
here formats what `assistant.oversight` returns; user ids arrive already hashed.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

ANSWER_TYPE_LABELS = {
    "policy_answer": "政策解答",
    "calculation": "补贴测算",
    "clarification": "追问澄清",
    "out_of_scope": "拒答（超出范围）",
}
# Words, not emoji: a server's browser (and many office PCs) has no colour-emoji font.
RATING_LABELS = {"up": "赞", "down": "踩"}
TURN_COLUMNS = ["时间 (UTC+8)", "用户", "问题", "回答类型", "评价", "引用条款"]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def summary_markdown(stats: dict[str, Any]) -> str:
    t, unspecified, modes = stats["totals"], stats["unspecified"], stats["modes"]
    latency = stats["latency_ms"]
    p50 = "—" if latency["p50"] is None else f"{latency['p50']} ms"
    p95 = "—" if latency["p95"] is None else f"{latency['p95']} ms"
    types = "，".join(f"{ANSWER_TYPE_LABELS[k]} {v}" for k, v in stats["answer_types"].items())
    topics = "、".join(f"{x['clause_id']}（{x['count']}）" for x in stats["top_topics"][:5]) or "—"
    return (
        f"**{stats['since']} 至 {stats['until']}**：{t['turns']} 轮对话，{t['sessions']} 个会话，{t['users']} 位用户；"
        f"赞 {t['up']} / 踩 {t['down']}（踩率 {_percent(t['down_rate'])}）\n\n"
        f"回答类型：{types}；“文件没有规定” {unspecified['count']} 次（{_percent(unspecified['share'])}）\n\n"
        f"模式：grounded {modes['grounded']}，llm {modes['llm']}，大模型回退 {stats['llm_fallbacks']} 次；"
        f"耗时 p50 {p50}，p95 {p95}；热门主题：{topics}"
    )


def turns_frame(stats: dict[str, Any]) -> pd.DataFrame:
    days = pd.to_datetime([d["day"] for d in stats["days"]])
    return pd.DataFrame({"日期": days, "对话轮数": [d["turns"] for d in stats["days"]]})


def mix_frame(stats: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {"日期": d["day"][5:], "回答类型": label, "轮数": d[key]}
        for d in stats["days"]
        for key, label in ANSWER_TYPE_LABELS.items()
    ]
    return pd.DataFrame(rows, columns=["日期", "回答类型", "轮数"])


def down_rate_frame(stats: dict[str, Any]) -> pd.DataFrame:
    days = pd.to_datetime([d["day"] for d in stats["days"]])
    rates = [round((d["down_rate"] or 0.0) * 100, 2) for d in stats["days"]]
    return pd.DataFrame({"日期": days, "踩率 (%)": rates})


def clauses_frame(stats: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        [[c["clause_id"], c["title"] or "", c["count"]] for c in stats["top_clauses"]],
        columns=["条款", "标题", "引用次数"],
    )


def turn_rows(items: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for item in items:
        rating = (item["feedback"] or {}).get("rating")
        rows.append(
            [
                local_time(item["created_at"]),
                item["user"] or "匿名",
                item["message"],
                ANSWER_TYPE_LABELS.get(item["answer_type"] or "", "未回答"),
                RATING_LABELS.get(rating or "", ""),
                " ".join(c["clause_id"] for c in item["citations"]),
            ]
        )
    return pd.DataFrame(rows, columns=TURN_COLUMNS)


def local_time(iso_utc: str) -> str:
    stamp = pd.Timestamp(iso_utc).tz_convert("Asia/Shanghai")
    return stamp.strftime("%Y-%m-%d %H:%M")


def turn_detail_html(item: dict[str, Any]) -> str:
    """The full answer and every citation with its quote, escaped: stored text is user-controlled."""
    esc = html.escape
    feedback = item["feedback"] or {}
    vote = RATING_LABELS.get(feedback.get("rating") or "", "无")
    comment = f"（{esc(feedback['comment'])}）" if feedback.get("comment") else ""
    citations = "".join(
        f"<li><b>【{esc(c['clause_id'])}】{esc(c.get('title') or '')}</b><br>「{esc(c.get('quote') or '')}」</li>"
        for c in item["citations"]
    )
    notices = "".join(f"<li>{esc(n)}</li>" for n in item["notices"])
    answer = esc(item["answer"] or "（尚无回答）").replace("\n", "<br>")
    total = (item["calculation"] or {}).get("total_yuan")
    calc = f"<p>测算合计：{esc(str(total))} 元</p>" if total is not None else ""
    return (
        f'<div class="pa-admin-detail" data-session="{esc(item["session_id"])}" data-turn="{item["turn"]}">'
        f"<p><b>问：</b>{esc(item['message'])}</p>"
        f"<p><b>答</b>（{esc(ANSWER_TYPE_LABELS.get(item['answer_type'] or '', '未回答'))}，"
        f"{esc(item['mode'] or '—')}，{item['latency_ms'] if item['latency_ms'] is not None else '—'} ms）：</p>"
        f"<div class='pa-admin-answer'>{answer}</div>{calc}"
        f"<p><b>引用：</b></p><ul>{citations or '<li>无</li>'}</ul>"
        f"<p><b>评价：</b>{vote}{comment}　<b>用户：</b>{esc(item['user'] or '匿名')}　"
        f"<b>会话：</b>{esc(item['session_id'])} 轮次 #{item['turn']}</p>"
        f"{'<p><b>提示：</b></p><ul>' + notices + '</ul>' if notices else ''}</div>"
    )
