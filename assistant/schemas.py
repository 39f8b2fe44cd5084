"""ChatResponse: the one answer shape shared by the CLI, the API, the UI and the eval (a public contract)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.profile import CalculationResult

AnswerType = Literal["policy_answer", "calculation", "clarification", "out_of_scope"]


class Citation(BaseModel):
    clause_id: str
    title: str
    quote: str = Field(description="A verbatim substring of the clause text.")


class ChatResponse(BaseModel):
    answer: str = Field(description="Markdown, with inline citations like 【<clause id>】.")
    answer_type: AnswerType
    citations: list[Citation] = Field(default_factory=list)
    calculation: CalculationResult | None = None
    session_id: str
    notices: list[str] = Field(default_factory=list)
    mode: Literal["grounded", "llm"] = "grounded"


class Turn(BaseModel):
    """One stored exchange: the user's message and the assistant's reply (None while unanswered)."""

    index: int
    message: str
    response: ChatResponse | None = None
    created_at: str | None = None
