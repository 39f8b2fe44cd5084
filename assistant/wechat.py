"""The WeChat server API as this service uses it: login (code2Session), the access token, and content
security (msgSecCheck v2), plus the local word list checked before it.

Every failure is one `WeChatError` carrying WeChat's ``errcode`` (``None`` when WeChat gave no usable
answer: timeout, refused connection, a non-JSON body), so callers map codes, not exception types.

Secrets stay here: the AppSecret travels only to WeChat, and the ``session_key`` that code2Session returns
is dropped as soon as the answer is parsed (nothing in this service needs it; it is neither returned,
logged nor stored). URLs with the secret or the access token in the query are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

log = logging.getLogger(__name__)

#: msgSecCheck scene: 1 资料, 2 评论, 3 论坛, 4 社交日志. A question to the assistant is closest to a comment.
SCENE_COMMENT = 2
#: msgSecCheck accepts at most 2500 characters; longer text is checked in pieces.
MAX_CHECK_CHARS = 2500
#: Refresh the cached access token this long before WeChat says it expires (at most a tenth of its life).
TOKEN_REFRESH_MARGIN_S = 300

ERR_BUSY = -1
ERR_INVALID_CODE = 40029
ERR_CODE_USED = 40163
ERR_RATE_LIMITED = 45011
ERR_HIGH_RISK = 40226
#: The access token is invalid (40001, e.g. another server fetched a newer one) or expired (42001).
TOKEN_ERRORS = frozenset({40001, 40014, 42001})

Suggest = Literal["pass", "review", "risky"]
_SEVERITY: dict[str, int] = {"pass": 0, "review": 1, "risky": 2}


#: Query parameters that are secrets (or one-time credentials) and must never reach a log.
SECRET_PARAMS = frozenset({"secret", "access_token", "js_code"})


class RedactSecretsFilter(logging.Filter):
    """httpx logs every request URL at INFO, and WeChat wants the AppSecret and the access token in the
    query: this filter, on the ``httpx`` logger, blanks those parameters in any URL it is about to log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(_redacted(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def _redacted(url: httpx.URL) -> httpx.URL:
    if not any(key in SECRET_PARAMS for key in url.params):
        return url
    return url.copy_with(params=[(k, "***" if k in SECRET_PARAMS else v) for k, v in url.params.multi_items()])


def install_log_redaction() -> None:
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, RedactSecretsFilter) for f in httpx_log.filters):
        httpx_log.addFilter(RedactSecretsFilter())


class WeChatError(Exception):
    """WeChat said no, or said nothing. ``errcode`` is WeChat's code, ``None`` when there was no answer."""

    def __init__(self, errcode: int | None, errmsg: str, *, api: str) -> None:
        super().__init__(f"{api}: errcode={errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.api = api

    @property
    def unavailable(self) -> bool:
        """WeChat could not be asked or was busy: worth retrying later, not the caller's fault."""
        return self.errcode is None or self.errcode == ERR_BUSY


@dataclass(frozen=True)
class WeChatIdentity:
    """Who logged in. Deliberately without ``session_key``."""

    appid: str
    openid: str
    unionid: str | None = None


@dataclass(frozen=True)
class SecVerdict:
    suggest: Suggest
    label: int | None = None
    source: Literal["wechat", "wordlist"] = "wechat"


def worse(a: SecVerdict, b: SecVerdict) -> SecVerdict:
    return b if _SEVERITY[b.suggest] > _SEVERITY[a.suggest] else a


class WeChatClient:
    """One per app: thread-safe, keeps one HTTP connection pool and one cached access token."""

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        base_url: str = "https://api.weixin.qq.com",
        timeout_s: float = 5.0,
        http: httpx.Client | None = None,
    ) -> None:
        install_log_redaction()
        self.appid = appid
        self._secret = secret
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, trust_env=False)
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at = 0.0

    def close(self) -> None:
        self._http.close()

    # --- transport -------------------------------------------------------------------------------
    def _call(self, api: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One call; the JSON answer when errcode is absent or 0, else `WeChatError`."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise WeChatError(None, "timeout", api=api) from None
        except httpx.TransportError as exc:  # refused, reset, DNS: the URL (with secrets) is not logged
            raise WeChatError(None, f"unreachable ({type(exc).__name__})", api=api) from None
        if response.status_code >= 500:
            raise WeChatError(None, f"HTTP {response.status_code}", api=api)
        try:
            payload = response.json()  # WeChat sometimes labels JSON as text/plain: parse regardless
        except ValueError:
            raise WeChatError(None, f"HTTP {response.status_code}, not JSON", api=api) from None
        if not isinstance(payload, dict):
            raise WeChatError(None, "answer is not a JSON object", api=api)
        errcode = payload.get("errcode", 0)
        if not isinstance(errcode, int) or errcode != 0:
            raise WeChatError(errcode if isinstance(errcode, int) else None, str(payload.get("errmsg", "")), api=api)
        return payload

    # --- login -----------------------------------------------------------------------------------
    def code2session(self, code: str) -> WeChatIdentity:
        """Exchange a ``wx.login`` code. The session_key in the answer is discarded here, on purpose."""
        payload = self._call(
            "jscode2session",
            "GET",
            "/sns/jscode2session",
            params={"appid": self.appid, "secret": self._secret, "js_code": code, "grant_type": "authorization_code"},
        )
        openid = payload.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WeChatError(None, "answer without openid", api="jscode2session")
        unionid = payload.get("unionid")
        return WeChatIdentity(self.appid, openid, unionid if isinstance(unionid, str) and unionid else None)

    # --- access token ----------------------------------------------------------------------------
    def access_token(self, *, refresh: bool = False) -> str:
        """The cached token, fetched when missing, (nearly) expired, or ``refresh`` (after 40001/42001)."""
        with self._token_lock:  # one fetch at a time: a second fetch would invalidate the first token
            if not refresh and self._token and time.monotonic() < self._token_expires_at:
                return self._token
            payload = self._call(
                "token",
                "GET",
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self._secret},
            )
            token, expires_in = payload.get("access_token"), payload.get("expires_in")
            if not isinstance(token, str) or not token or not isinstance(expires_in, int):
                raise WeChatError(None, "answer without access_token", api="token")
            margin = min(TOKEN_REFRESH_MARGIN_S, expires_in // 10)
            self._token, self._token_expires_at = token, time.monotonic() + expires_in - margin
            log.info("wechat access token refreshed (expires in %ds)", expires_in)
            return token

    def _drop_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None

    # --- content security ------------------------------------------------------------------------
    def msg_sec_check(self, content: str, openid: str, scene: int = SCENE_COMMENT) -> SecVerdict:
        """msgSecCheck v2 on ``content`` (in pieces of at most 2500 characters; the worst verdict wins)."""
        verdict = SecVerdict("pass")
        for start in range(0, max(len(content), 1), MAX_CHECK_CHARS):
            verdict = worse(verdict, self._check_piece(content[start : start + MAX_CHECK_CHARS], openid, scene))
            if verdict.suggest == "risky":
                break
        return verdict

    def _check_piece(self, content: str, openid: str, scene: int) -> SecVerdict:
        body = {"content": content, "version": 2, "scene": scene, "openid": openid}
        token = self.access_token()
        for attempt in range(2):
            try:
                payload = self._call(
                    "msg_sec_check", "POST", "/wxa/msg_sec_check", params={"access_token": token}, json=body
                )
            except WeChatError as exc:
                if exc.errcode in TOKEN_ERRORS and attempt == 0:
                    log.info("wechat access token rejected (errcode %s); fetching a new one", exc.errcode)
                    self._drop_token(token)
                    token = self.access_token(refresh=True)
                    continue
                raise
            result = payload.get("result") or {}
            suggest = result.get("suggest") if isinstance(result, dict) else None
            if suggest not in _SEVERITY:
                raise WeChatError(None, f"unknown suggest {suggest!r}", api="msg_sec_check")
            label = result.get("label")
            return SecVerdict(suggest, label if isinstance(label, int) else None)
        raise AssertionError("unreachable")


def normalize(text: str) -> str:
    """Full-width and compatibility forms folded, case folded: ｂａｄ and BAD both match bad."""
    return unicodedata.normalize("NFKC", text).casefold()


class WordList:
    """The operator's own list, checked before WeChat: a hit is risky without a network call.

    File format: UTF-8, one word or phrase per line, ``#`` starts a comment, blank lines ignored.
    """

    def __init__(self, words: list[str]) -> None:
        self.words = sorted({normalize(w) for w in words if w}, key=len)

    @classmethod
    def load(cls, path: Path) -> WordList:
        words = []
        for line in path.read_text(encoding="utf-8").splitlines():
            word = line.split("#", 1)[0].strip()
            if word:
                words.append(word)
        log.info("wechat word list: %d entries from %s", len(words), path)
        return cls(words)

    def hit(self, text: str) -> bool:
        folded = normalize(text)
        return any(word in folded for word in self.words)

    def __len__(self) -> int:
        return len(self.words)
