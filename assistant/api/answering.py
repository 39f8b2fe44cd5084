"""Who answers a /v1/chat request: the assistant as is, or, for a mini-program user (a WeChat login token)
while PA_WECHAT_SEC_CHECK is on, the assistant behind `assistant.content_guard.ContentGuard`.

API-key callers are other servers: they vouch for their own users' content, and there is no verified
openid to name in msgSecCheck, so their requests are not checked here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request

from assistant.api.deps import AssistantDep, CallerDep, SettingsDep
from assistant.api.errors import ApiError
from assistant.api.wechat_auth import wechat_client
from assistant.content_guard import ContentCheckUnavailable, ContentGuard
from assistant.schemas import ChatResponse
from assistant.settings import Settings

UNAVAILABLE_RETRY_AFTER_S = 5
_GUARD_LOCK = threading.Lock()


def unavailable() -> ApiError:
    return ApiError(
        503,
        "wechat_unavailable",
        "内容安全检查暂时不可用，请稍后重试。",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)},
    )


class Answerer:
    """``ask`` / ``ask_stream`` with the signature of `PolicyAssistant`'s, checks included where due."""

    def __init__(self, assistant: Any, guard: ContentGuard | None = None, openid: str | None = None) -> None:
        self.assistant = assistant
        self.guard = guard
        self.openid = openid or ""

    def ask(self, message: str, session_id: str | None = None, user_id: str | None = None) -> ChatResponse:
        if self.guard is None:
            return self.assistant.ask(message, session_id=session_id, user_id=user_id)
        try:
            return self.guard.ask(self.assistant, message, session_id, user_id, self.openid)
        except ContentCheckUnavailable:
            raise unavailable() from None

    def ask_stream(
        self, message: str, session_id: str | None = None, user_id: str | None = None
    ) -> Iterator[str | ChatResponse]:
        if self.guard is None:
            yield from self.assistant.ask_stream(message, session_id=session_id, user_id=user_id)
            return
        try:
            yield from self.guard.ask_stream(self.assistant, message, session_id, user_id, self.openid)
        except ContentCheckUnavailable:
            raise unavailable() from None


def content_guard(request: Request, settings: Settings) -> ContentGuard:
    """This app's guard, built once (the word list is read once, the client is the app's)."""
    with _GUARD_LOCK:
        guard = getattr(request.app.state, "pa_content_guard", None)
        if guard is None:
            guard = ContentGuard.from_settings(settings, wechat_client(request, settings))
            request.app.state.pa_content_guard = guard
        return guard


async def get_answerer(request: Request, assistant: AssistantDep, caller: CallerDep, settings: SettingsDep) -> Answerer:
    if caller.kind != "wechat" or settings.wechat_sec_check == "off":
        return Answerer(assistant)
    return Answerer(assistant, content_guard(request, settings), caller.openid)


AnswererDep = Annotated[Answerer, Depends(get_answerer)]
