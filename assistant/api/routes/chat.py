"""POST /v1/chat and /v1/chat/stream: one question, answered by the assistant (this module never knows how).

Sessions belong to their creator: the server issues every session id (a turn without ``session_id`` starts
a new session), and a ``session_id`` that this user was not issued is refused with 404, whether it belongs
to someone else or to nobody. So no one can pre-create, and thereby squat, another user's session id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.answering import AnswererDep
from assistant.api.deps import AssistantDep, SettingsDep, UserIdDep
from assistant.api.errors import STATUS_CODES, ApiError, sse_event
from assistant.api.jsonbody import JsonRoute
from assistant.api.logs import log, request_id_of
from assistant.api.openapi import BODY_ERRORS, ERROR_EVENT, error_responses, sse_event_schema
from assistant.api.schemas import CHAT_EXAMPLE, ChatRequest, is_blank
from assistant.schemas import ChatResponse
from assistant.settings import Settings
from assistant.store import SessionNotFound

router = APIRouter(route_class=JsonRoute)

_END = object()


def checked_message(message: str, settings: Settings) -> str:
    """The limits ChatRequest declares: at most max_message_chars as sent, no NUL, not blank."""
    if len(message) > settings.max_message_chars:
        raise ApiError(
            422,
            "message_too_long",
            f"问题过长：最多 {settings.max_message_chars} 个字符，当前 {len(message)} 个。",
            field="message",
        )
    if "\x00" in message:
        raise ApiError(422, "validation_error", "字段 message 不能包含空字符（\\u0000）。", field="message")
    if is_blank(message):
        raise ApiError(422, "empty_message", "问题不能为空。", field="message")
    return message.strip()


def session_not_found() -> ApiError:
    return ApiError(404, "session_not_found", "会话不存在或不属于当前用户。")


def require_session(assistant: Any, session_id: str, user_id: str | None) -> None:
    """404 unless ``session_id`` exists and belongs to ``user_id`` (the server issued it to them)."""
    exists = getattr(getattr(assistant, "store", None), "has_session", None)
    if exists is not None:
        if not exists(session_id, user_id):
            raise session_not_found()
        return
    try:  # a store without has_session: its history says the same
        assistant.history(session_id, user_id=user_id)
    except SessionNotFound:
        raise session_not_found() from None


def _links() -> dict[str, Any]:
    """OpenAPI links: what a client (or the stateful fuzzer) does next with the session it got."""
    same_user = {"header.X-User-Id": "$request.header.X-User-Id"}
    return {
        "ContinueChat": {
            "operationId": "chat",
            "parameters": same_user,
            "requestBody": {"message": "那首年交易额要达到多少？", "session_id": "$response.body#/session_id"},
        },
        "GetSession": {
            "operationId": "get_session",
            "parameters": {"path.session_id": "$response.body#/session_id", **same_user},
        },
        "RateFirstTurn": {
            "operationId": "post_feedback",
            "parameters": same_user,
            "requestBody": {"session_id": "$response.body#/session_id", "turn": 0},
        },
    }


@router.post(
    "/chat",
    operation_id="chat",
    response_model=ChatResponse,
    summary="提问（一次返回完整回答）",
    responses={
        200: {"content": {"application/json": {"example": CHAT_EXAMPLE}}, "links": _links()},
        **error_responses(404, *BODY_ERRORS),
    },
)
def chat(
    body: ChatRequest, assistant: AssistantDep, user_id: UserIdDep, settings: SettingsDep, answerer: AnswererDep
) -> Response:
    """回答一轮提问。不带 `session_id` 时由服务端签发新会话；带上的 `session_id` 必须是服务端签发给当前用户的，
    否则 404。用户这一问在作答前、回答在返回前都已写入存储。"""
    message = checked_message(body.message, settings)
    if body.session_id is not None:
        require_session(assistant, body.session_id, user_id)
    try:
        response = answerer.ask(message, session_id=body.session_id, user_id=user_id)
    except SessionNotFound:
        raise session_not_found() from None
    return Response(response.model_dump_json(), media_type="application/json")


@router.post(
    "/chat/stream",
    operation_id="chat_stream",
    summary="提问（Server-Sent Events 流式返回）",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": '`text/event-stream`：若干 `event: delta`（data 为 `{"text": "…"}`），最后一个 '
            "`event: done`（data 为完整 ChatResponse）；出错时为 `event: error`（data 为错误结构）。",
            "content": {
                "text/event-stream": {
                    "schema": {
                        "oneOf": [
                            sse_event_schema(
                                "delta",
                                {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                            ),
                            sse_event_schema("done", {"$ref": "#/components/schemas/ChatResponse"}),
                            ERROR_EVENT,
                        ]
                    },
                    "example": 'event: delta\ndata: {"text":"新设立的区域总部……"}\n\n'
                    'event: done\ndata: {"answer":"新设立的区域总部……","answer_type":"policy_answer",'
                    '"citations":[],"calculation":null,"session_id":"9b2f…","notices":[],"mode":"grounded"}\n\n',
                }
            },
        },
        **error_responses(404, *BODY_ERRORS),
    },
)
async def chat_stream(
    body: ChatRequest,
    assistant: AssistantDep,
    user_id: UserIdDep,
    settings: SettingsDep,
    request: Request,
    answerer: AnswererDep,
) -> StreamingResponse:
    """与 `/v1/chat` 相同，但以 SSE 分段返回（微信 `wx.request` 的 `enableChunked` 可用）。

    本端点的错误也以 SSE 返回：`event: error`，HTTP 状态码与 JSON 接口一致（流开始后出错时为 200）。
    """
    message = checked_message(body.message, settings)
    if body.session_id is not None:
        await run_in_threadpool(require_session, assistant, body.session_id, user_id)
    pieces = answerer.ask_stream(message, session_id=body.session_id, user_id=user_id)
    try:
        # The answer is complete (stored and verified) before its first piece: errors here are still
        # ordinary HTTP errors with a status code.
        first = await run_in_threadpool(next, pieces, _END)
    except SessionNotFound:
        raise session_not_found() from None
    return StreamingResponse(
        _sse_events(first, pieces, request_id_of(request.scope)),
        media_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse_events(first: Any, pieces: Iterator, request_id: str | None) -> AsyncIterator[bytes]:
    item = first
    try:
        while item is not _END:
            if isinstance(item, ChatResponse):
                yield sse_event("done", item.model_dump_json())
                return
            yield sse_event("delta", {"text": str(item)})
            item = await run_in_threadpool(next, pieces, _END)
        raise RuntimeError("answer stream ended without a final ChatResponse")
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - the client gets `event: error`, the log the traceback
        log.exception("error while streaming the answer")
        code, message = STATUS_CODES[500]
        yield sse_event("error", {"error": {"code": code, "message": message, "request_id": request_id}})
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
