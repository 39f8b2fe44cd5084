"""Hybrid clause retrieval: BM25 over jieba tokens plus dense similarity, fused by reciprocal rank.

Owners type the policy's own terms (交易额, 示范基地) as often as loose paraphrases (搞了个网店平台), and
English; BM25 catches the first, the multilingual embedder the rest. Every main clause pulls in its annex
counterpart and the reverse, because the annex holds the exact amounts and conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.corpus import Corpus
from assistant.index import clause_document
from assistant.typos import correct_typos

Mode = Literal["hybrid", "bm25", "dense"]
RRF_K = 60
# Up to this many clauses the dense ranking is an exact dot product over vectors read once from Chroma
# (3,500 clauses: ~0.3 ms, against ~1.6 ms for a Chroma query, and no network hop with PA_CHROMA_URL);
# beyond it each query goes to Chroma's HNSW index.
EXACT_SEARCH_MAX = 50_000  # policy-literal: ok (a clause count, not money)

_STOPWORDS = set(
    "的 了 吗 呢 啊 吧 么 是 在 和 与 及 或 对 等 有 我 我们 你 你们 他 它 这 那 个 能 可以 可 多少 什么 "
    "怎么 怎样 如何 "
    "哪些 哪个 一下 请问 请 给 要 会 就 都 也 还 又 被 把 为 以 之 其 该 各 将 并 从 到 由 上 下 中 "
    "what which who how does do the a an of to in for is are and or on with by my our can i we".split()
)
# Domain terms jieba would otherwise split, so BM25 matches them whole.
_DOMAIN_WORDS = [
    "电子商务",
    "电商",
    "跨境电商",
    "跨境电子商务",
    "自建平台",
    "示范基地",
    "示范企业",
    "示范园区",
    "区域总部",
    "营销中心",
    "结算中心",
    "运营中心",
    "营运中心",
    "办公用房",
    "交易额",
    "网上交易额",
    "注册资金",
    "数据入统",
    "区商务委",
    "区财政局",
    "区招商投资局",
    "区经济信息委",
    "区农业农村委",
    "区文化旅游委",
    "区扶贫办",
    "区人力社保局",
    "区民营经济发展局",
    "区发展改革委",
    "区科技局",
    "区教委",
    "区卫生健康委",
    "区公安分局",
    "区供销联社",
    "各涉农街镇",
    "牵头单位",
    "责任单位",
    "完成时间",
    "发展目标",
    "网络零售额",
    "农产品电商",
    "旅游电商",
    "精准扶贫",
    "工业互联网",
    "海外仓",
    "孵化基地",
    "产业园区",
    "网商",
    "微商",
    "联席会议",
]


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    for word in _DOMAIN_WORDS:
        jieba.add_word(word, freq=200000)  # policy-literal: ok (a jieba word frequency)
    return jieba


_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")


def tokenize(text: str) -> list[str]:
    jieba = _jieba()
    tokens = []
    for tok in jieba.lcut_for_search(text.lower()):
        tok = tok.strip()
        if tok and _TOKEN_OK.search(tok) and tok not in _STOPWORDS:
            tokens.append(tok)
    return tokens


@dataclass
class Hit:
    clause_id: str
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None
    via: str = "hybrid"  # hybrid | bm25 | dense | counterpart
    expanded_from: str | None = None


@dataclass
class ClauseSearch:
    """The retrieval engine; `ClauseRetriever` exposes it to LangChain."""

    corpus: Corpus
    collection: Any  # a Chroma collection (local or HTTP client)
    embeddings: Embeddings
    mode: Mode = "hybrid"
    ids: list[str] = field(init=False)

    def __post_init__(self) -> None:
        import bm25s

        self.ids = [c.clause_id for c in self.corpus.clauses]
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokenize(clause_document(c)) or ["∅"] for c in self.corpus.clauses], show_progress=False)
        self._matrix = self._load_vectors() if len(self.ids) <= EXACT_SEARCH_MAX else None

    def _load_vectors(self) -> np.ndarray | None:
        """The stored clause vectors in corpus order, unit length; None (query Chroma instead) if incomplete."""
        got = self.collection.get(ids=self.ids, include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        if set(by_id) != set(self.ids):
            return None
        matrix = np.asarray([by_id[i] for i in self.ids], dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)

    def bm25_ranking(self, query: str, k: int) -> list[tuple[str, float]]:
        tokens = [t for t in tokenize(query)]
        if not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        order = np.argsort(-scores)[:k]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def dense_ranking(self, query: str, k: int) -> list[tuple[str, float]]:
        """(clause_id, cosine similarity), best first."""
        vector = self.embeddings.embed_query(query)
        if self._matrix is not None:
            q = np.asarray(vector, dtype=np.float32)
            scores = self._matrix @ (q / (np.linalg.norm(q) or 1.0))
            order = np.argsort(-scores)[:k]
            return [(self.ids[i], float(scores[i])) for i in order]
        result = self.collection.query(
            query_embeddings=[vector], n_results=min(k, len(self.ids)), include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

    def search(self, query: str, k: int = 5, expand: bool = True, mode: Mode | None = None) -> list[Hit]:
        mode = mode or self.mode
        query = correct_typos(query)
        depth = max(k * 4, 20)
        bm25 = self.bm25_ranking(query, depth) if mode in ("hybrid", "bm25") else []
        dense = self.dense_ranking(query, depth) if mode in ("hybrid", "dense") else []
        hits: dict[str, Hit] = {}
        for ranking, attr in ((bm25, "bm25_rank"), (dense, "dense_rank")):
            for rank, (cid, _score) in enumerate(ranking, start=1):
                hit = hits.setdefault(cid, Hit(cid, 0.0, via=mode))
                setattr(hit, attr, rank)
                hit.score += 1.0 / (RRF_K + rank)
        ranked = sorted(hits.values(), key=lambda h: -h.score)[:k]
        if not expand:
            return ranked
        return self._with_counterparts(ranked)

    def _with_counterparts(self, ranked: list[Hit]) -> list[Hit]:
        """Place each hit's counterpart right after it, scored just below it, unless already present."""
        out: list[Hit] = []
        seen: set[str] = set()
        for hit in ranked:
            if hit.clause_id in seen:
                continue
            out.append(hit)
            seen.add(hit.clause_id)
            for other in self.corpus.get(hit.clause_id).related:
                if other not in seen:
                    out.append(Hit(other, hit.score * 0.999, via="counterpart", expanded_from=hit.clause_id))
                    seen.add(other)
        return out


class ClauseRetriever(BaseRetriever):
    """LangChain face of `ClauseSearch`: Documents carry clause_id and score in metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    engine: ClauseSearch
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun | None = None
    ) -> list[Document]:
        docs = []
        for hit in self.engine.search(query, k=self.k):
            clause = self.engine.corpus.get(hit.clause_id)
            docs.append(
                Document(
                    page_content=clause.text,
                    metadata={
                        "clause_id": clause.clause_id,
                        "title": clause.title,
                        "score": hit.score,
                        "via": hit.via,
                        "source": clause.source,
                    },
                )
            )
        return docs
