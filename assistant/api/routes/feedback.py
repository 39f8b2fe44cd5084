"""POST /v1/feedback: a thumbs up or down on one turn. One vote per (session, turn, user): voting again
replaces the earlier vote (a session has exactly one owner, so the store keys votes by session and turn)."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.api.deps import AssistantDep, UserIdDep
from assistant.api.errors import ApiError
from assistant.api.jsonbody import JsonRoute
from assistant.api.openapi import BODY_ERRORS, error_responses
from assistant.api.schemas import FeedbackAck, FeedbackRequest
from assistant.store import SessionNotFound

router = APIRouter(route_class=JsonRoute)


@router.post(
    "/feedback",
    operation_id="post_feedback",
    response_model=FeedbackAck,
    status_code=201,
    summary="对某一轮回答点赞/点踩（再次评价替换上一次）",
    responses=error_responses(404, *BODY_ERRORS),
)
def post_feedback(body: FeedbackRequest, assistant: AssistantDep, user_id: UserIdDep) -> FeedbackAck:
    try:
        assistant.feedback(body.session_id, body.turn, body.rating, body.comment, user_id=user_id)
    except SessionNotFound:
        raise ApiError(404, "turn_not_found", "会话或轮次不存在，或不属于当前用户。") from None
    return FeedbackAck(session_id=body.session_id, turn=body.turn, rating=body.rating)
