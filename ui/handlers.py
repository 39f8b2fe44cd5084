"""What the page does when an owner acts: ask, vote, open a clause, calculate, match.

Each handler is a Gradio callback, so each is a process boundary: it catches what it must, logs the reason,
and shows our Chinese words (服务暂时不可用…) instead of a traceback. The layout that wires them is in
`ui.page`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.calculator import CalculationResult
from assistant.schemas import ChatResponse
from assistant.store import SessionNotFound
from ui.forms import CALC_FIELDS, MATCH_FIELDS, FormError, build_profile
from ui.render import (
    CLAUSE_PLACEHOLDER,
    EMPTY_MESSAGE,
    THINKING_MESSAGE,
    TOO_LONG_MESSAGE,
    UNAVAILABLE_MESSAGE,
    calc_table_html,
    citation_row_html,
    clause_panel_html,
    esc,
    linkify_citations,
    match_html,
    render_answer,
    status_html,
)

if TYPE_CHECKING:
    from assistant.assistant import PolicyAssistant

log = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 2000


class PageHandlers:
    """The callbacks of one page, bound to one `PolicyAssistant` (one instance per `build_app`)."""

    def __init__(self, assistant: PolicyAssistant) -> None:
        self.assistant = assistant
        settings = getattr(assistant, "settings", None)
        self.max_chars = int(getattr(settings, "max_message_chars", DEFAULT_MAX_CHARS) or DEFAULT_MAX_CHARS)
        self.known = {c.clause_id for c in assistant.corpus.clauses}

    def turn_index(self, session_id: str, message: str, response: ChatResponse) -> int | None:
        """The stored turn this answer belongs to, for feedback."""
        try:
            turns = self.assistant.history(session_id)
        except SessionNotFound:
            return None
        for t in reversed(turns):
            if t.response is not None and t.message == message and t.response.answer == response.answer:
                return t.index
        return turns[-1].index if turns else None

    def respond(self, message: str, transcript: list, session_id: str | None, turns: dict, quotes: dict):
        """Yields (textbox, chatbot, status, citation row, session, turns, quotes, transcript state)."""
        message = message or ""
        transcript = list(transcript or [])
        skip = gr.skip()
        text = message.strip()
        if not text:
            yield skip, skip, status_html(EMPTY_MESSAGE), skip, session_id, turns, quotes, skip
            return
        if len(text) > self.max_chars:
            msg = TOO_LONG_MESSAGE.format(n=len(text), limit=self.max_chars)
            yield skip, skip, status_html(msg), skip, session_id, turns, quotes, skip
            return
        session_id = session_id or uuid.uuid4().hex
        before = list(transcript)
        transcript.append({"role": "user", "content": esc(text)})
        transcript.append({"role": "assistant", "content": f'<span class="pa-thinking">{THINKING_MESSAGE}</span>'})
        yield "", transcript, status_html(), citation_row_html([]), session_id, turns, quotes, transcript

        final: ChatResponse | None = None
        streamed = ""
        try:
            for piece in self.assistant.ask_stream(text, session_id):
                if isinstance(piece, ChatResponse):
                    final = piece
                    break
                streamed += str(piece)
                transcript = [
                    *transcript[:-1],
                    {"role": "assistant", "content": linkify_citations(streamed, self.known)},
                ]
                yield skip, transcript, skip, skip, session_id, turns, quotes, transcript
        except ValueError as exc:  # the library's own input check (e.g. empty after normalisation)
            log.info("question rejected: %s", exc)
            yield message, before, status_html(str(exc) or EMPTY_MESSAGE), skip, session_id, turns, quotes, before
            return
        except Exception:
            log.exception("chat back end failed")
            transcript = [*transcript[:-1], {"role": "assistant", "content": UNAVAILABLE_MESSAGE}]
            yield skip, transcript, status_html(UNAVAILABLE_MESSAGE), skip, session_id, turns, quotes, transcript
            return
        if final is None:
            log.error("ask_stream ended without a ChatResponse")
            transcript = [*transcript[:-1], {"role": "assistant", "content": UNAVAILABLE_MESSAGE}]
            yield skip, transcript, status_html(UNAVAILABLE_MESSAGE), skip, session_id, turns, quotes, transcript
            return

        session_id = final.session_id or session_id
        transcript = [*transcript[:-1], {"role": "assistant", "content": render_answer(final, self.known)}]
        citations = [c.model_dump() for c in final.citations]
        quotes = {}
        for c in citations:
            quotes.setdefault(c["clause_id"], []).append(c.get("quote", ""))
        turns = dict(turns or {})
        turn = self.turn_index(session_id, text, final)
        if turn is not None:
            turns[str(len(transcript) - 1)] = turn
        yield skip, transcript, status_html(), citation_row_html(citations), session_id, turns, quotes, transcript

    def on_like(self, session_id: str | None, turns: dict, data: gr.LikeData):
        try:
            index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            turn = (turns or {}).get(str(index))
            if not session_id or turn is None or not isinstance(data.liked, bool):
                return status_html("这条消息无法评价。", "info")
            rating = "up" if data.liked else "down"
            self.assistant.feedback(session_id, int(turn), rating, None)
            return status_html("已记录您的反馈（" + ("有帮助" if data.liked else "没帮助") + "），谢谢！", "ok")
        except Exception:
            log.exception("feedback failed")
            return status_html("反馈未能保存，请稍后再试。")

    def new_conversation(self) -> tuple:
        return (
            "",
            [],
            status_html("已开始新对话。", "info"),
            citation_row_html([]),
            None,
            {},
            {},
            [],
            f'<div class="pa-clause" data-shown=""><p class="pa-placeholder">{esc(CLAUSE_PLACEHOLDER)}</p></div>',
        )

    def show_clause(self, quotes: dict, evt: gr.EventData):
        clause_id = ""
        try:
            clause_id = str(getattr(evt, "_data", {}).get("clause", "") or "")
            if not clause_id:
                return gr.skip()
            return clause_panel_html(self.assistant, clause_id, quotes or {})
        except Exception:
            log.exception("clause panel failed for %r", clause_id)
            return status_html(UNAVAILABLE_MESSAGE)

    def pick_clause(self, clause_id: str | None, quotes: dict):
        if not clause_id:
            return gr.skip()
        try:
            return clause_panel_html(self.assistant, clause_id, quotes or {})
        except Exception:
            log.exception("clause panel failed for %r", clause_id)
            return status_html(UNAVAILABLE_MESSAGE)

    def calculated(self, fields: list[str], values: Sequence[Any], render: Callable[[CalculationResult], str]) -> str:
        """Form -> profile -> calculator -> HTML; bad input and back-end failures become messages."""
        try:
            profile = build_profile(fields, list(values))
        except FormError as exc:
            return status_html(f"输入有误：{exc}")
        try:
            result = self.assistant.calculate(profile)
        except Exception:
            log.exception("calculator failed")
            return status_html(UNAVAILABLE_MESSAGE)
        return render(result)

    def run_calc(self, *values: Any) -> str:
        return self.calculated(CALC_FIELDS, values, lambda r: calc_table_html(r, only_touched=True))

    def run_match(self, *values: Any) -> str:
        return self.calculated(MATCH_FIELDS, values, match_html)
