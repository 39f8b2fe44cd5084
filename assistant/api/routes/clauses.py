"""GET /v1/clauses and /v1/clauses/{clause_id}: the policy text, clause by clause."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from assistant.api.deps import AssistantDep
from assistant.api.errors import ApiError
from assistant.api.examples import example
from assistant.api.jsonbody import JsonRoute
from assistant.api.openapi import error_responses
from assistant.api.schemas import ClauseDetail, ClauseList, ClauseSummary, DocumentInfo
from assistant.corpus import canonical_clause_id

router = APIRouter(route_class=JsonRoute)

MAX_CLAUSE_ID_CHARS = 64


@router.get("/clauses", operation_id="list_clauses", response_model=ClauseList, summary="条款列表")
async def list_clauses(assistant: AssistantDep) -> ClauseList:
    corpus = assistant.corpus
    return ClauseList(
        document=DocumentInfo(
            title=corpus.title, doc_number=corpus.doc_number, issuer=corpus.issuer, issued=corpus.issued
        ),
        clauses=[ClauseSummary.model_validate(c.model_dump(exclude={"text"})) for c in corpus.clauses],
    )


@router.get(
    "/clauses/{clause_id:path}",
    operation_id="get_clause",
    response_model=ClauseDetail,
    summary="条款原文及对应条款",
    responses=error_responses(404),
)
async def get_clause(
    clause_id: Annotated[
        str,
        Path(
            description="条款编号，接受常见写法："
            + "、".join(f"`{f}`" for f in example("clause_id_forms", []))
            + "（需 URL 编码）。",
            examples=[example("clause_id", "")],
        ),
    ],
    assistant: AssistantDep,
) -> ClauseDetail:
    from assistant.assistant import ClauseNotFound

    shown = clause_id if len(clause_id) <= 40 else clause_id[:40] + "…"
    not_found = ApiError(404, "clause_not_found", f"未找到条款「{shown}」。")
    if len(clause_id) > MAX_CLAUSE_ID_CHARS:
        raise not_found
    corpus = getattr(assistant, "corpus", None)
    canonical = canonical_clause_id(clause_id, corpus) if corpus is not None else clause_id
    if canonical is None:
        raise not_found
    try:
        view = assistant.clause(canonical)
    except (ClauseNotFound, KeyError):
        raise not_found from None
    discrepancies = corpus.discrepancies_for(view.clause.clause_id) if corpus is not None else []
    return ClauseDetail(clause=view.clause, counterparts=view.counterparts, discrepancies=discrepancies)
