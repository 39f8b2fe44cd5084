"""Fixtures and helpers shared by the WeChat tests (imported by them; pytest picks the fixtures up there).

The WeChat side is `wechat_stub.WeChatStub`, a local stand-in: these are contract tests of our side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_clients import open_clients, settings_for
from fastapi.testclient import TestClient
from sqlalchemy import text
from wechat_stub import APPID, SECRET, WeChatStub

from assistant.api import create_app
from assistant.assistant import PolicyAssistant
from assistant.settings import Settings
from assistant.sql_store import SqlStore

TOKEN_SECRET = "test-token-secret-0123456789abcdef-not-for-production"


def wechat_settings(data_dir: Any, stub_url: str, **overrides: Any) -> Settings:
    """The API test settings with WeChat login configured against the stand-in at ``stub_url``."""
    wechat: dict[str, Any] = dict(
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_api_base=stub_url,
        wechat_timeout_s=1.0,
        wechat_token_secret=TOKEN_SECRET,
        wechat_token_ttl=7200,
        wechat_sec_check="off",
        wechat_sec_fail="closed",
        wechat_wordlist=None,
    )
    return settings_for(data_dir, **{**wechat, **overrides})




def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def turn_flags(store: SqlStore, session_id: str) -> list[str | None]:
    """turns.flag of a session, read straight from the database (the API does not show it)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT flag FROM turns WHERE session_id = :sid ORDER BY idx"), {"sid": session_id}
        ).all()
    return [row[0] for row in rows]


@pytest.fixture
def stub() -> Iterator[WeChatStub]:
    with WeChatStub() as running:
        yield running


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tmp_path_factory.mktemp("wechat-data")


@pytest.fixture(scope="module")
def store(data_dir: Any) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{data_dir / 'wechat.db'}")
    yield s
    s.close()


@pytest.fixture(scope="module")
def pa(data_dir: Any, store: SqlStore) -> PolicyAssistant:
    return PolicyAssistant(settings=wechat_settings(data_dir, "http://unused.invalid"), store=store, mode="grounded")


@pytest.fixture
def make_client(pa: PolicyAssistant, data_dir: Any, stub: WeChatStub) -> Iterator[Callable[..., TestClient]]:
    with open_clients() as open_client:

        def make(**overrides: Any) -> TestClient:
            return open_client(create_app(pa, wechat_settings(data_dir, stub.url, **overrides)))

        yield make


def login(client: TestClient, code: str) -> dict:
    response = client.post("/v1/wechat/login", json={"code": code})
    assert response.status_code == 200, response.text
    return response.json()
