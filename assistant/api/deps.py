"""FastAPI dependencies, declared once and used through typed aliases (``SettingsDep``, ``AssistantDep``,
``UserIdDep``), as in the FastAPI full-stack template.

Order on every /v1 request (the router's dependencies): credentials (`authenticate`: an API key, whose failed
attempts are counted per client address and answered 429 once that address is over its budget, or a
WeChat login token), then the user id, then the per-user rate limit. A host app can override
`get_assistant`, `get_user_id` and `get_api_settings`.

A bearer credential starting ``pawx.`` is a WeChat login token (`assistant.api.wechat_auth`): it opens its own
user's conversation (/v1/chat*, /v1/sessions*, /v1/feedback) and the reads the mini-program shows
(/v1/clauses*, /v1/calculate, /v1/match), and only as its own user (the token decides the user id; an
``X-User-Id`` that says otherwise is 403 user_mismatch). Anything else is a key.

Two kinds of key, two chains, one comparison: owner keys (PA_API_KEYS) open the owner endpoints and admin
keys (PA_ADMIN_KEYS) the operator ones under /v1/admin (`require_admin_key`). Each chain refuses the other
kind with 403 (``admin_key_not_owner_key`` / ``owner_key_not_admin_key``), even where the owner endpoints
need no key, and the settings refuse a key listed in both. Missing or wrong keys are 401 on both chains and
count against the same failed-attempt budget of the client address.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal, NoReturn

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.errors import ApiError
from assistant.api.limits import auth_failure_limiter, client_address, request_limiter, too_many
from assistant.api.schemas import MAX_USER_ID_CHARS, USER_ID_PATTERN
from assistant.api.wechat_auth import is_token, token_allowed, verify_token
from assistant.settings import Settings, get_settings

NOT_READY_RETRY_AFTER_S = 2


async def get_api_settings(request: Request) -> Settings:
    """The settings of this app (``app.state.pa_settings``), else the PA_* environment."""
    settings = getattr(request.app.state, "pa_settings", None)
    return settings if settings is not None else get_settings()


SettingsDep = Annotated[Settings, Depends(get_api_settings)]


async def get_assistant(request: Request) -> Any:
    """The `PolicyAssistant` behind the router: ``app.state.policy_assistant``.

    A host app sets that attribute, or overrides this dependency
    (``app.dependency_overrides[get_assistant] = lambda: assistant``). While it is still loading: 503.
    """
    assistant = getattr(request.app.state, "policy_assistant", None)
    if assistant is None:
        if getattr(request.app.state, "pa_startup_error", None):
            raise ApiError(503, "startup_failed", "助手初始化失败，请联系管理员查看服务日志。")
        raise ApiError(
            503,
            "not_ready",
            "服务正在加载政策索引，请稍后重试。",
            headers={"Retry-After": str(NOT_READY_RETRY_AFTER_S)},
        )
    return assistant


AssistantDep = Annotated[Any, Depends(get_assistant)]


def valid_user_id(value: str) -> bool:
    """The rule USER_ID_PATTERN declares, without a regex engine in the way."""
    return 0 < len(value) <= MAX_USER_ID_CHARS and all("!" <= c <= "~" for c in value)


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="设置 PA_API_KEYS 后，每个 /v1 请求需带 `Authorization: Bearer <key>`。",
)


@lru_cache(maxsize=8)
def _encoded_keys(api_keys: str) -> tuple[bytes, ...]:
    return tuple(k.strip().encode() for k in api_keys.split(",") if k.strip())


def _given(credentials: HTTPAuthorizationCredentials | None) -> bytes:
    return (credentials.credentials.strip() if credentials else "").encode("utf-8", "surrogateescape")


def _matches(given: bytes, keys_csv: str) -> bool:
    ok = False
    for key in _encoded_keys(keys_csv):  # every key, in constant time: no early exit timing which one matched
        ok |= hmac.compare_digest(given, key)
    return ok and bool(given)


def key_is_valid(credentials: HTTPAuthorizationCredentials | None, settings: Settings) -> bool:
    return _matches(_given(credentials), settings.api_keys)


def admin_key_is_valid(key: str | None, settings: Settings) -> bool:
    """For the operator page, which has no HTTP request of its own to hand to `check_admin_key`."""
    return bool(settings.admin_key_list) and _matches(
        (key or "").strip().encode("utf-8", "surrogateescape"), settings.admin_keys
    )


def _refuse_admin_key(credentials: HTTPAuthorizationCredentials | None, settings: Settings) -> None:
    if settings.admin_key_list and _matches(_given(credentials), settings.admin_keys):
        raise ApiError(403, "admin_key_not_owner_key", "管理密钥不能用于用户接口，请使用 API 密钥。")


def check_api_key(request: Request, credentials: HTTPAuthorizationCredentials | None, settings: Settings) -> bool:
    """True for a valid key, False when none is configured; raises 401, or 429 for an address that has
    used up its failed attempts (then even a right key waits: otherwise a 200 among the 429s would still
    tell a guesser which key is right). An admin key is 403, and not counted as a failed guess."""
    if not settings.api_key_list:
        _refuse_admin_key(credentials, settings)
        return False
    _wait_out_failures(request, settings)
    if key_is_valid(credentials, settings):
        return True
    _refuse_admin_key(credentials, settings)
    _failed_attempt(request, settings, "缺少或无效的 API 密钥（请求头 Authorization: Bearer <key>）。")


def _wait_out_failures(request: Request, settings: Settings) -> None:
    """429 for an address that has used up its failed attempts, before its key is even looked at."""
    wait = auth_failure_limiter(request, settings).wait_time(client_address(request))
    if wait > 0:
        raise too_many(wait, "密钥错误次数过多")


def _failed_attempt(request: Request, settings: Settings, message: str) -> NoReturn:
    """A missing or wrong key (owner or admin): counted against the address's one budget, then 401."""
    wait = auth_failure_limiter(request, settings).acquire(client_address(request))
    if wait > 0:
        raise too_many(wait, "密钥错误次数过多")
    raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class Caller:
    """Who is calling. ``user_id``/``openid`` are set for a WeChat login token only."""

    kind: Literal["anonymous", "api_key", "wechat"]
    user_id: str | None = None
    openid: str | None = None


ANONYMOUS = Caller("anonymous")


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    settings: SettingsDep,
) -> Caller:
    """The one place credentials are read. A WeChat token is checked (401 token_expired / invalid_token)
    and then scoped: outside its routes it opens nothing that keys guard (403 token_not_allowed) and is
    ignored where the API is open. Everything else goes through the API-key rules."""
    given = credentials.credentials.strip() if credentials else ""
    if is_token(given) and not key_is_valid(credentials, settings):  # a key that happens to start pawx. wins
        claims = verify_token(given, settings)
        if token_allowed(request):
            return Caller("wechat", claims.user_id, claims.openid)
        if settings.api_key_list:
            raise ApiError(403, "token_not_allowed", "微信登录凭证不能访问此接口。")
        return ANONYMOUS
    return Caller("api_key") if check_api_key(request, credentials, settings) else ANONYMOUS


CallerDep = Annotated[Caller, Depends(authenticate)]


async def require_api_key(caller: CallerDep) -> None:
    """The /v1 router's gate (the name predates WeChat tokens): `authenticate` raises for what it refuses."""


async def get_user_id(
    settings: SettingsDep,
    caller: CallerDep,
    x_user_id: Annotated[
        str | None,
        Header(
            alias="X-User-Id",
            description="当前用户（微信 openid，由调用方后端经 code2Session 取得后填入）：1-128 个可见 ASCII 字符。"
            "配置了 PA_API_KEYS 时必填（缺少为 400）；未配置时缺省 = 匿名用户。"
            "用微信登录凭证（/v1/wechat/login）访问时可省略，用户即凭证的用户。",
            examples=["oAbCd1234567890EfGhIjKlMnOpQ"],
            json_schema_extra={"minLength": 1, "maxLength": MAX_USER_ID_CHARS, "pattern": USER_ID_PATTERN},
        ),
    ] = None,
) -> str | None:
    if caller.kind == "wechat":
        if x_user_id is not None and x_user_id != caller.user_id:
            raise ApiError(403, "user_mismatch", "请求头 X-User-Id 与登录用户不一致。", field="X-User-Id")
        return caller.user_id
    if x_user_id is None:
        if settings.api_key_list:
            raise ApiError(
                400, "missing_user_id", "缺少请求头 X-User-Id（配置了 API 密钥时必须指明用户）。", field="X-User-Id"
            )
        return None
    if not valid_user_id(x_user_id):
        raise ApiError(
            422,
            "invalid_user_id",
            f"请求头 X-User-Id 无效（1-{MAX_USER_ID_CHARS} 个可见 ASCII 字符）。",
            field="X-User-Id",
        )
    return x_user_id


UserIdDep = Annotated[str | None, Depends(get_user_id)]


async def optional_api_key(request: Request, settings: SettingsDep) -> bool:
    """For open endpoints that show more to an authenticated caller. The header is read, not declared: the
    endpoint does not require auth, so its schema must not say it does. No credentials = anonymous;
    wrong credentials count as a failed attempt like anywhere else."""
    header = request.headers.get("authorization")
    if header is None:
        return False
    scheme, _, token = header.partition(" ")
    credentials = (
        HTTPAuthorizationCredentials(scheme=scheme, credentials=token) if scheme.lower() == "bearer" and token else None
    )
    return check_api_key(request, credentials, settings)


async def enforce_rate_limit(request: Request, settings: SettingsDep, user_id: UserIdDep) -> None:
    """Per user (X-User-Id), else per client address. Behind a reverse proxy run uvicorn with --proxy-headers."""
    key = f"u:{user_id}" if user_id else f"ip:{client_address(request)}"
    wait = request_limiter(request, settings).acquire(key)
    if wait > 0:
        raise too_many(wait)


async def enforce_client_rate_limit(request: Request, settings: SettingsDep) -> None:
    """For the routes without credentials (WeChat login): the same budget, per client address."""
    wait = request_limiter(request, settings).acquire(f"ip:{client_address(request)}")
    if wait > 0:
        raise too_many(wait)


admin_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AdminKey",
    description="运营接口（/v1/admin/*）需带 `Authorization: Bearer <PA_ADMIN_KEYS 中的一个>`。",
)


def check_admin_key(request: Request, credentials: HTTPAuthorizationCredentials | None, settings: Settings) -> None:
    """The operator chain: 404 while PA_ADMIN_KEYS is empty (the console is off, and says so by its code),
    429 for an address out of failed attempts, 403 for an owner key, 401 for a missing or wrong key."""
    if not settings.admin_key_list:
        raise ApiError(404, "admin_disabled", "运营后台未启用（未配置 PA_ADMIN_KEYS）。")
    _wait_out_failures(request, settings)
    given = _given(credentials)
    if _matches(given, settings.admin_keys):
        return
    if _matches(given, settings.api_keys):
        raise ApiError(403, "owner_key_not_admin_key", "API 密钥不能用于运营接口，请使用管理密钥。")
    _failed_attempt(request, settings, "缺少或无效的管理密钥（请求头 Authorization: Bearer <key>）。")


async def require_admin_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(admin_bearer)],
    settings: SettingsDep,
) -> None:
    check_admin_key(request, credentials, settings)
