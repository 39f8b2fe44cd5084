"""The operator API under /v1/admin (issue 12), for the office that runs the assistant, kept apart from owners.

Mounted by `create_app` beside the owner router, never inside it: `assistant.api.routes` puts everything it
holds behind the owner chain. Every route here depends on `require_admin_key` (see `assistant.api.deps` for
the rules of the two key kinds). The routes are left out of the public OpenAPI document, which is the owners'
contract; they are described in README.md ("Operator console").

* ``GET /v1/admin/stats?since&until``: per-day turns, sessions, users, answer-type mix, 文件没有规定 share,
  modes and LLM fallbacks, votes, latency p50/p95, top clauses and topics (`assistant.oversight.stats`).
* ``GET /v1/admin/turns``: the filtered turn list with a cursor (`assistant.oversight.turns`).
* ``GET /v1/admin/export?format=jsonl|csv``: the same filter, streamed.
* ``GET /v1/admin/eval-items/draft?session_id&turn`` and ``POST /v1/admin/eval-items``: a turn as a gold item.

User ids appear only as keyed hashes; nothing here returns a key, the salt or a server path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from assistant.api.deps import SettingsDep, get_assistant, require_admin_key
from assistant.api.errors import ApiError
from assistant.api.jsonbody import JsonRoute
from assistant.evaluation import DatasetError
from assistant.oversight import evalitems, stats
from assistant.oversight.derive import LOCAL_TZ
from assistant.oversight.export import MEDIA_TYPES, ExportFormat, export_chunks
from assistant.oversight.privacy import hasher_for
from assistant.oversight.turns import MAX_PAGE, BadCursor, Feedback, TurnFilter, page
from assistant.schemas import AnswerType

ADMIN_PREFIX = "/v1/admin"

router = APIRouter(
    prefix=ADMIN_PREFIX,
    tags=["admin"],
    dependencies=[Depends(require_admin_key)],
    route_class=JsonRoute,
    include_in_schema=False,
)


@dataclass
class Oversight:
    """What the operator routes read: the store's engine, the user-id hasher, clause titles, the data dir."""

    engine: Engine
    hash_user: Callable[[str | None], str | None]
    titles: dict[str, str]
    data_dir: Path


async def get_oversight(request: Request, settings: SettingsDep) -> Oversight:
    assistant = await get_assistant(request)
    engine = getattr(getattr(assistant, "store", None), "engine", None)
    if not isinstance(engine, Engine):
        raise ApiError(503, "admin_needs_sql_store", "运营后台需要 SQL 存储（PA_DATABASE_URL 不能为 memory）。")
    cached = getattr(request.app.state, "pa_oversight", None)
    if cached is not None and cached.engine is engine and cached.data_dir == settings.data_dir:
        return cached
    corpus = getattr(assistant, "corpus", None)
    titles = {c.clause_id: c.title for c in getattr(corpus, "clauses", ())}
    oversight = Oversight(engine, hasher_for(settings), titles, Path(settings.data_dir))
    request.app.state.pa_oversight = oversight
    return oversight


OversightDep = Annotated[Oversight, Depends(get_oversight)]


def turn_filter(
    since: Annotated[date | None, Query(description="起始日（含，UTC+8），YYYY-MM-DD")] = None,
    until: Annotated[date | None, Query(description="截止日（含，UTC+8），YYYY-MM-DD")] = None,
    answer_type: Annotated[list[AnswerType] | None, Query(description="可重复")] = None,
    feedback: Annotated[Feedback | None, Query(description="up / down / none（无评价）/ any（有评价）")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="问题或回答中的文字")] = None,
    clause_id: Annotated[str | None, Query(min_length=1, max_length=64, description="回答引用了该条款")] = None,
    refused: Annotated[bool | None, Query(description="true = 拒答（out_of_scope）")] = None,
    mode: Annotated[Literal["grounded", "llm"] | None, Query()] = None,
    fallback: Annotated[bool | None, Query(description="true = 大模型失败后回退到 grounded")] = None,
    unspecified: Annotated[bool | None, Query(description="true = 回答含“文件没有规定”")] = None,
) -> TurnFilter:
    if since is not None and until is not None and since > until:
        raise ApiError(422, "invalid_range", "起始日不能晚于截止日。", field="since")
    return TurnFilter(
        since=since,
        until=until,
        answer_types=tuple(answer_type or ()),
        feedback=feedback,
        q=q,
        clause_id=clause_id,
        refused=refused,
        mode=mode,
        fallback=fallback,
        unspecified=unspecified,
    )


FilterDep = Annotated[TurnFilter, Depends(turn_filter)]


@router.get("/stats", operation_id="admin_stats")
def get_stats(
    oversight: OversightDep,
    since: Annotated[date | None, Query(description="起始日（含，UTC+8）；缺省为截止日前 29 天")] = None,
    until: Annotated[date | None, Query(description="截止日（含，UTC+8）；缺省为今天")] = None,
    top: Annotated[int, Query(ge=1, le=50)] = stats.TOP,
) -> dict[str, Any]:
    if since is not None and until is not None and since > until:
        raise ApiError(422, "invalid_range", "起始日不能晚于截止日。", field="since")
    window = stats.Window.around(since, until)
    if (window.until - window.since).days > 3660:
        raise ApiError(422, "invalid_range", "统计区间最长 10 年。", field="since")
    return stats.compute(oversight.engine, window, titles=oversight.titles, top=top)


@router.get("/turns", operation_id="admin_turns")
def get_turns(
    oversight: OversightDep,
    f: FilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000, description="上一页返回的 next_cursor")] = None,
) -> dict[str, Any]:
    try:
        result = page(oversight.engine, f, oversight.hash_user, limit=limit, cursor=cursor)
    except BadCursor:
        raise ApiError(422, "invalid_cursor", "cursor 无效：请使用上一页返回的 next_cursor。", field="cursor") from None
    return {"items": result.items, "next_cursor": result.next_cursor}


@router.get("/export", operation_id="admin_export")
def get_export(
    oversight: OversightDep, f: FilterDep, format: Annotated[ExportFormat, Query()] = "jsonl"
) -> StreamingResponse:
    stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        export_chunks(oversight.engine, f, oversight.hash_user, format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="turns-{stamp}.{format}"', "Cache-Control": "no-store"},
    )


class ExpectedFields(BaseModel):
    """Corrections of the prefilled ``expected``: a given key replaces it, null removes it."""

    model_config = ConfigDict(extra="forbid")
    answer_type: AnswerType | None = None
    amounts_yuan: list[Annotated[int, Field(ge=0)]] | None = None
    clause_ids_any: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = None
    unspecified: bool | None = None
    must_contain: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = None
    must_not_contain: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = None


class EvalItemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: str = Field(min_length=1, max_length=128)
    turn: int = Field(ge=0, le=2**31 - 1)
    id: str | None = Field(None, min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    category: str | None = Field(None, min_length=1, max_length=60)
    turns: list[Annotated[str, Field(min_length=1, max_length=4000)]] | None = Field(None, min_length=1, max_length=20)
    expected: ExpectedFields | None = None


def _draft(oversight: Oversight, session_id: str, turn: int) -> dict[str, Any]:
    try:
        return evalitems.draft_item(oversight.engine, session_id, turn)
    except evalitems.TurnNotFound:
        raise ApiError(404, "turn_not_found", "该会话或轮次不存在（可能已被清理）。") from None
    except evalitems.TurnUnanswered:
        raise ApiError(409, "turn_unanswered", "该轮尚无回答，不能生成评测条目。") from None


@router.get("/eval-items/draft", operation_id="admin_eval_item_draft")
def get_eval_item_draft(
    oversight: OversightDep,
    session_id: Annotated[str, Query(min_length=1, max_length=128)],
    turn: Annotated[int, Query(ge=0, le=2**31 - 1)],
) -> dict[str, Any]:
    return {"item": _draft(oversight, session_id, turn), "dataset": evalitems.DATASET.as_posix()}


@router.post("/eval-items", operation_id="admin_eval_item_create", status_code=201)
def post_eval_item(body: EvalItemRequest, oversight: OversightDep) -> dict[str, Any]:
    draft = _draft(oversight, body.session_id, body.turn)
    changes = body.model_dump(exclude_unset=True)
    if body.expected is not None:
        changes["expected"] = body.expected.model_dump(exclude_unset=True)
    item = evalitems.corrected(draft, changes)
    try:
        count = evalitems.append_item(evalitems.dataset_path(oversight.data_dir), item)
    except evalitems.ItemExists:
        raise ApiError(409, "eval_item_exists", f"评测条目 {item['id']} 已存在，请换一个 id。", field="id") from None
    except DatasetError as exc:
        raise ApiError(422, "invalid_eval_item", f"评测条目无效：{exc}") from None
    return {"item": item, "dataset": evalitems.DATASET.as_posix(), "items_in_dataset": count}
