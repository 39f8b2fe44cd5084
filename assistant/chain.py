"""The answering chain (LangChain LCEL): one interface, two generation modes.

Grounded mode is the composer alone. LLM mode runs the guarded LLM and falls back to the composer on any
failure (timeout, server error, a guard rejection after one retry), adding a notice that says so, so the
user always gets an answer and always knows which mode produced it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.compose import Composer

if TYPE_CHECKING:
    from assistant.llm import GuardedLLM

FALLBACK_NOTICE = "大模型回答未通过核验或不可用，本回答由离线规则引擎（grounded 模式）生成。"


def build_chain(composer: Composer, guarded: "GuardedLLM | None" = None) -> Runnable:
    """Input {"message", "history"} -> ChatResponse (session_id left for the caller to fill)."""
    grounded: Runnable = RunnableLambda(lambda x: composer.answer(x["message"], x["history"]), name="grounded_composer")
    if guarded is None:
        return grounded
    llm: Runnable = RunnableLambda(lambda x: guarded.answer(x["message"], x["history"]), name="guarded_llm")

    def fallback(x: dict):
        response = composer.answer(x["message"], x["history"])
        return response.model_copy(update={"notices": [*response.notices, FALLBACK_NOTICE]})

    return llm.with_fallbacks([RunnableLambda(fallback, name="grounded_fallback")])
