"""GET /v1/sessions/{session_id}: a user's own conversation (another user's is indistinguishable from a
missing one: 404 either way)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from assistant.api.deps import AssistantDep, UserIdDep
from assistant.api.errors import ApiError
from assistant.api.jsonbody import JsonRoute
from assistant.api.openapi import error_responses
from assistant.api.schemas import SESSION_ID_PATTERN, SessionHistory
from assistant.store import SessionNotFound

router = APIRouter(route_class=JsonRoute)

_SESSION_ID = re.compile(SESSION_ID_PATTERN)


@router.get(
    "/sessions/{session_id}",
    operation_id="get_session",
    response_model=SessionHistory,
    summary="会话历史（仅限本人）",
    responses=error_responses(404),
)
def get_session(
    session_id: Annotated[
        str,
        Path(
            description="/v1/chat 返回的 session_id（其他值一律 404）。",
            examples=["9b2f0c4e5d6a47b1a3c8e7f6d5c4b3a2"],
            json_schema_extra={"pattern": SESSION_ID_PATTERN},
        ),
    ],
    assistant: AssistantDep,
    user_id: UserIdDep,
) -> Response:
    if not _SESSION_ID.fullmatch(session_id):
        raise ApiError(404, "session_not_found", "会话不存在或不属于当前用户。")
    try:
        turns = assistant.history(session_id, user_id=user_id)
    except SessionNotFound:
        raise ApiError(404, "session_not_found", "会话不存在或不属于当前用户。") from None
    return Response(SessionHistory(session_id=session_id, turns=turns).model_dump_json(), media_type="application/json")
