"""POST /v1/wechat/login: a mini-program's ``wx.login`` code in, an assistant login token out.

The route is public (a mini-program has no API key): the code itself is the credential, and WeChat
checks it. WeChat's answer is turned into our error shape code by code, so the client can tell "log in
again" (400) from "slow down" (429), "this account may not use the service" (403) and "try later" (503).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from assistant.api.deps import AssistantDep, SettingsDep
from assistant.api.errors import ApiError
from assistant.api.jsonbody import JsonRoute
from assistant.api.openapi import BODY_ERRORS, error_responses
from assistant.api.schemas import ErrorResponse
from assistant.api.wechat_auth import issue_token, wechat_client
from assistant.wechat import (
    ERR_CODE_USED,
    ERR_HIGH_RISK,
    ERR_INVALID_CODE,
    ERR_RATE_LIMITED,
    WeChatClient,
    WeChatError,
)
from assistant.wechat_users import wechat_users_for

log = logging.getLogger(__name__)

public_router = APIRouter(route_class=JsonRoute)

RATE_LIMIT_RETRY_AFTER_S = 60
UNAVAILABLE_RETRY_AFTER_S = 5


class WeChatLoginRequest(BaseModel):
    code: str = Field(
        min_length=1, max_length=128, description="小程序 `wx.login()` 返回的 code（一次性，5 分钟内有效）。"
    )


class WeChatLoginResponse(BaseModel):
    token: str = Field(
        description="助手登录凭证：之后请求 /v1/chat、/v1/sessions、/v1/feedback（本人的对话）以及 /v1/clauses、"
        "/v1/calculate、/v1/match 时带 `Authorization: Bearer <token>`。"
    )
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="有效期（秒）；过期后接口返回 401 token_expired，需重新登录。")
    user_id: str = Field(description="助手内的用户 id（不是 openid）。")


def _error(status: int, code: str, description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": f"{description}（{code}）"}


LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error(400, "wechat_invalid_code", "code 无效、已使用或已过期（微信 40029/40163），或请求体不是合法的 JSON"),
    403: _error(403, "wechat_high_risk_user", "微信判定为高风险用户（40226）"),
    429: _error(429, "wechat_rate_limited", "微信登录频率受限（45011），或本服务的请求频率限制（rate_limited）"),
    503: _error(503, "wechat_unavailable", "微信接口繁忙、超时或不可达；或未配置微信登录（wechat_not_configured）"),
}


def login_client(request: Request, settings: SettingsDep) -> WeChatClient:
    client = wechat_client(request, settings)
    if client is None or not settings.wechat_login_configured:
        raise ApiError(503, "wechat_not_configured", "本服务未配置微信登录（PA_WECHAT_APPID 等）。")
    return client


def login_error(exc: WeChatError) -> ApiError:
    """WeChat's errcode as our status and code; anything not the user's doing is 503 and logged."""
    if exc.errcode in (ERR_INVALID_CODE, ERR_CODE_USED):
        return ApiError(400, "wechat_invalid_code", "登录码无效或已使用，请重新登录。", field="code")
    if exc.errcode == ERR_RATE_LIMITED:
        return ApiError(
            429,
            "wechat_rate_limited",
            "微信登录过于频繁，请稍后再试。",
            headers={"Retry-After": str(RATE_LIMIT_RETRY_AFTER_S)},
        )
    if exc.errcode == ERR_HIGH_RISK:
        return ApiError(403, "wechat_high_risk_user", "当前微信账号存在风险，暂时无法使用本服务。")
    if exc.unavailable:
        log.warning("wechat login: WeChat unavailable (%s)", exc)
    else:  # 40013 / 40125 and the like: our configuration, not the user
        log.error("wechat login: WeChat refused the request (%s); check PA_WECHAT_APPID / PA_WECHAT_SECRET", exc)
    return ApiError(
        503,
        "wechat_unavailable",
        "微信服务暂时不可用，请稍后重试。",
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)},
    )


@public_router.post(
    "/wechat/login",
    operation_id="wechat_login",
    response_model=WeChatLoginResponse,
    summary="小程序登录：用 wx.login 的 code 换取助手登录凭证",
    tags=["wechat"],
    responses={**LOGIN_ERRORS, **error_responses(413, 422, *BODY_ERRORS)},
)
def wechat_login(
    body: WeChatLoginRequest,
    client: Annotated[WeChatClient, Depends(login_client)],
    settings: SettingsDep,
    assistant: AssistantDep,
) -> WeChatLoginResponse:
    """无需 API 密钥。服务端调用微信 `jscode2session`，把 openid（有 unionid 时按 unionid）对应到助手用户，
    返回有效期为 `expires_in` 秒的登录凭证。session_key 不会离开服务端，也不保存。"""
    try:
        identity = client.code2session(body.code)
    except WeChatError as exc:
        raise login_error(exc) from None
    user_id = wechat_users_for(assistant.store).user_for(identity)
    token = issue_token(user_id, identity.openid, settings)
    log.info("wechat login", extra={"event": "wechat_login", "user_id": user_id})
    return WeChatLoginResponse(token=token, expires_in=settings.wechat_token_ttl, user_id=user_id)
