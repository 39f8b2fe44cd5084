"""Smoke tests: each real-server fixture starts and answers."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.slow


def test_llama_server_chat_completion(llama_server):
    import httpx

    base_url, model = llama_server
    r = httpx.get(f"{base_url}/models", timeout=10)
    r.raise_for_status()
    assert model in [m["id"] for m in r.json()["data"]]

    r = httpx.post(
        f"{base_url}/chat/completions",
        json={
            "model": model,
            "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
            "max_tokens": 16,
            "temperature": 0,
        },
        timeout=120,
    )
    r.raise_for_status()
    body = r.json()
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert body["usage"]["completion_tokens"] > 0


def test_chroma_server_heartbeat_and_collection(chroma_server):
    import chromadb
    import httpx
    from chromadb.config import Settings

    r = httpx.get(f"{chroma_server}/api/v2/heartbeat", timeout=10)
    r.raise_for_status()
    assert "nanosecond heartbeat" in r.json()

    u = urlparse(chroma_server)
    client = chromadb.HttpClient(
        host=u.hostname, port=u.port, settings=Settings(anonymized_telemetry=False)
    )
    # embedding_function=None: never fall back to Chroma's default (it downloads a model)
    col = client.create_collection("smoke", embedding_function=None)
    col.add(
        ids=["a", "b"],
        documents=["北碚区电商政策", "补贴金额"],
        embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
    )
    assert col.count() == 2
    hit = col.query(query_embeddings=[[0.9, 0.1, 0.0]], n_results=1)
    assert hit["ids"] == [["a"]]
    assert hit["documents"] == [["北碚区电商政策"]]
    client.delete_collection("smoke")


def test_postgres_select_1(postgres_url):
    import sqlalchemy as sa

    assert postgres_url.startswith("postgresql+psycopg://")
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("show server_encoding")).scalar_one() == "UTF8"
    finally:
        engine.dispose()
