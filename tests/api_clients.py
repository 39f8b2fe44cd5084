"""What the API test modules share: settings independent of the machine's PA_* variables, the check of our
error shape, and TestClients on apps built per test (opened with their lifespan, all closed when the test
ends), so the `make_client` fixtures differ only in how they build the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from assistant.settings import Settings

QUESTION = "自建电商平台有什么补贴？"


def settings_for(data_dir: Any, **overrides: Any) -> Settings:
    """Settings that do not depend on PA_* variables of the machine running the tests."""
    base: dict[str, Any] = dict(
        data_dir=data_dir,
        api_keys="",
        cors_origins="",
        rate_limit_per_minute=100_000,
        rate_limit_burst=100_000,
        max_message_chars=2000,
        max_body_bytes=65536,
        llm_base_url=None,
    )
    return Settings(**{**base, **overrides})


def assert_error(response: Any, status: int, code: str) -> dict:
    """Our error shape: JSON, a stable code, a Chinese message, the request id, no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])  # Chinese
    assert error["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return error


@contextmanager
def open_clients() -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def open_client(app: Any, **kwargs: Any) -> TestClient:
        client = TestClient(app, raise_server_exceptions=False, **kwargs)
        client.__enter__()
        clients.append(client)
        return client

    try:
        yield open_client
    finally:
        for client in clients:
            client.__exit__(None, None, None)
