"""The clause index in Chroma.

A collection is named after the corpus content hash and the embedding model, so a new document version
or a new embedder gets a fresh collection by construction and a stale one can never answer. Ingest is an
idempotent upsert keyed by clause_id. A corrupt embedded directory is moved aside and rebuilt: the index is
derived data, the corpus is the source of truth.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from langchain_core.embeddings import Embeddings

from assistant.corpus import Clause, Corpus
from assistant.embeddings import ChromaEmbeddingFunction, model_id, slug
from assistant.settings import Settings

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "clauses-"
Progress = Callable[[int, int], None]


@dataclass
class IndexStatus:
    collection: str
    count: int
    built: bool  # False when an up-to-date collection was reused
    seconds: float
    location: str


def collection_name(corpus: Corpus, embeddings: Embeddings) -> str:
    name = f"{COLLECTION_PREFIX}{corpus.content_hash[:12]}-{slug(model_id(embeddings))}"
    return name[:120].rstrip("-")


def clause_document(clause: Clause) -> str:
    """What gets embedded: the title carries the topic words owners use, the text the terms."""
    return f"{clause.title}\n{clause.text}"


def chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=True)


def connect(settings: Settings):
    """A Chroma client: HTTP when PA_CHROMA_URL is set, else embedded under chroma_dir (rebuilt if corrupt)."""
    import chromadb
    from chromadb.utils.embedding_functions import register_embedding_function

    register_embedding_function(ChromaEmbeddingFunction)  # so Chroma can rebuild it from collection config

    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings(),
        )
    path = settings.resolved_chroma_dir
    path.mkdir(parents=True, exist_ok=True)
    try:
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings())
        client.list_collections()  # touches the sqlite file: fails here, not mid-query, when it is corrupt
        return client
    except Exception as exc:  # noqa: BLE001 - any failure to open means "rebuild"
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        log.warning("Chroma directory %s unreadable (%s); moving it to %s and rebuilding", path, exc, aside)
        _forget_client(path)
        shutil.move(str(path), str(aside))
        path.mkdir(parents=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings())


def _forget_client(path: Path) -> None:
    """Chroma caches one system per path in-process; drop it so a deleted or moved directory is reopened."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(path), None)


def ensure_index(
    corpus: Corpus,
    embeddings: Embeddings,
    settings: Settings,
    progress: Progress | None = None,
    client=None,
):
    """Return (collection, status), building only when the keyed collection is missing or incomplete."""
    started = time.perf_counter()
    if client is None and not settings.chroma_url:
        path = settings.resolved_chroma_dir
        if not path.exists():
            _forget_client(path)
    client = client or connect(settings)
    name = collection_name(corpus, embeddings)
    function = ChromaEmbeddingFunction(embeddings)
    try:
        collection = client.get_or_create_collection(
            name=name,
            embedding_function=function,
            metadata={"hnsw:space": "cosine", "corpus_hash": corpus.content_hash, "model": model_id(embeddings)},
        )
    except Exception as exc:  # noqa: BLE001 - a half-written collection: drop it and start again
        log.warning("collection %s unusable (%s); recreating", name, exc)
        client.delete_collection(name)
        collection = client.create_collection(name=name, embedding_function=function, metadata={"hnsw:space": "cosine"})
    ids = [c.clause_id for c in corpus.clauses]
    present = set(collection.get(ids=ids, include=[])["ids"]) if ids else set()
    built = present != set(ids) or collection.count() != len(ids)
    if built:
        _drop_stale(client, keep=name, model_slug=slug(model_id(embeddings)))
        if collection.count() != len(ids):
            extra = [i for i in collection.get(include=[])["ids"] if i not in set(ids)]
            if extra:
                collection.delete(ids=extra)
        _ingest(collection, corpus.clauses, progress)
    location = settings.chroma_url or str(settings.resolved_chroma_dir)
    return collection, IndexStatus(name, collection.count(), built, time.perf_counter() - started, location)


def _ingest(collection, clauses: list[Clause], progress: Progress | None, batch: int = 8) -> None:
    total = len(clauses)
    for start in range(0, total, batch):
        chunk = clauses[start : start + batch]
        collection.upsert(
            ids=[c.clause_id for c in chunk],
            documents=[clause_document(c) for c in chunk],
            metadatas=[{"clause_id": c.clause_id, "title": c.title, "source": c.source} for c in chunk],
        )
        if progress:
            progress(min(start + batch, total), total)


def _drop_stale(client, keep: str, model_slug: str) -> None:
    """Drop older corpus versions of this embedder; other embedders' collections (ablation) stay."""
    for item in client.list_collections():
        name = item if isinstance(item, str) else item.name
        if name.startswith(COLLECTION_PREFIX) and name != keep and name.endswith(model_slug):
            client.delete_collection(name)
