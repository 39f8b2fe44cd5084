"""TestClients on apps built per test: opened with their lifespan, all closed when the test ends. Shared by the
API test modules, whose `make_client` fixtures differ only in how they build the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient


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
