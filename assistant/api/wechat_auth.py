"""WeChat identity in the HTTP API: the assistant's login tokens, where they are accepted, and this app's
`WeChatClient`.

A token is ``pawx.`` followed by a JWT (HS256 via PyJWT, key PA_WECHAT_TOKEN_SECRET) with ``sub`` = the
assistant user id, ``oid`` = the openid (msgSecCheck v2 must name the user it checks), ``aud``, ``iat`` and
``exp``. The prefix lets `assistant.api.deps.authenticate` tell a token from an API key at a glance, so a
wrong token is answered as a token problem (401 token_expired / invalid_token), not as a guessed key.
The token is the user's own: it holds nothing the user may not read (no session_key, no secret).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import jwt
from fastapi import Request

from assistant.api.errors import ApiError
from assistant.settings import Settings
from assistant.wechat import WeChatClient

TOKEN_PREFIX = "pawx."
AUDIENCE = "beibei-policy-assistant/wechat"
ALGORITHM = "HS256"
#: Paths a WeChat token opens (with everything below them): its own user's conversation, and the reads the
#: mini-program shows next to it (clause text behind a citation chip, the calculator, matching), which hold
#: nothing of any user. Anything else a key guards stays closed to a token.
TOKEN_ROUTES = ("/v1/chat", "/v1/sessions", "/v1/feedback", "/v1/clauses", "/v1/calculate", "/v1/match")

_CLIENT_LOCK = threading.Lock()


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    openid: str


def is_token(credential: str) -> bool:
    return credential.startswith(TOKEN_PREFIX)


def issue_token(user_id: str, openid: str, settings: Settings, *, now: float | None = None) -> str:
    if settings.wechat_token_secret is None:
        raise RuntimeError("PA_WECHAT_TOKEN_SECRET is not set")
    issued = int(time.time() if now is None else now)
    claims = {"sub": user_id, "oid": openid, "aud": AUDIENCE, "iat": issued, "exp": issued + settings.wechat_token_ttl}
    return TOKEN_PREFIX + jwt.encode(claims, settings.wechat_token_secret.get_secret_value(), algorithm=ALGORITHM)


def verify_token(credential: str, settings: Settings) -> TokenClaims:
    """The claims of a token this server signed and that has not expired; else 401 in our shape."""
    secret = settings.wechat_token_secret.get_secret_value() if settings.wechat_token_secret else ""
    if not secret:
        raise invalid_token()
    try:
        claims = jwt.decode(
            credential.removeprefix(TOKEN_PREFIX),
            secret,
            algorithms=[ALGORITHM],  # never "none", never whatever the token's header claims
            audience=AUDIENCE,
            options={"require": ["sub", "oid", "aud", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(
            401,
            "token_expired",
            "登录已过期，请重新登录。",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except jwt.InvalidTokenError:
        raise invalid_token() from None
    user_id, openid = claims.get("sub"), claims.get("oid")
    if not isinstance(user_id, str) or not isinstance(openid, str):
        raise invalid_token()
    return TokenClaims(user_id, openid)


def invalid_token() -> ApiError:
    return ApiError(
        401, "invalid_token", "登录凭证无效，请重新登录。", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def token_allowed(request: Request) -> bool:
    """Whether this request is one a WeChat token opens. The path checked is the one the router matched
    (without any root_path), and only whole segments count: /v1/chat and /v1/chat/stream, not /v1/chatx."""
    path: str = request.scope.get("path", "")
    root: str = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return any(path == base or path.startswith(base + "/") for base in TOKEN_ROUTES)


def wechat_client(request: Request, settings: Settings) -> WeChatClient | None:
    """This app's client (one connection pool, one cached access token), or None without AppID/secret."""
    if not settings.wechat_appid or settings.wechat_secret is None or not settings.wechat_secret.get_secret_value():
        return None
    state = request.app.state
    with _CLIENT_LOCK:
        client = getattr(state, "pa_wechat_client", None)
        if client is None:
            client = WeChatClient(
                settings.wechat_appid,
                settings.wechat_secret.get_secret_value(),
                base_url=settings.wechat_api_base,
                timeout_s=settings.wechat_timeout_s,
            )
            state.pa_wechat_client = client
        return client
