"""PolicyAssistant: the one facade the CLI, the API, the web page and the eval call.

It owns the loaded corpus, the index, the retriever and the answering chain, and keeps every turn in a
store before returning, so a reply the user saw is never lost.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from assistant.calculator import CalculationResult, EnterpriseProfile, calculate
from assistant.corpus import Clause, Corpus, canonical_clause_id, load_corpus
from assistant.embeddings import get_embeddings
from assistant.index import IndexStatus, ensure_index
from assistant.retrieval import ClauseSearch, Hit
from assistant.schemas import ChatResponse, Turn
from assistant.settings import Settings, get_settings
from assistant.store import MemoryStore, Store

log = logging.getLogger(__name__)
SESSION_LOCK_STRIPES = 64

#: A last look at a reply before it is stored (content security): the reply to store and return, and the
#: moderation flag of the turn (None for an ordinary turn; see `assistant.tables.FLAGS`).
Screen = Callable[[ChatResponse], tuple[ChatResponse, str | None]]


class ClauseNotFound(KeyError):
    pass


@dataclass
class ClauseView:
    clause: Clause
    counterparts: list[Clause]


class PolicyAssistant:
    def __init__(
        self,
        settings: Settings | None = None,
        store: Store | None = None,
        mode: str | None = None,
        progress=None,
    ) -> None:
        from assistant.chain import build_chain
        from assistant.compose import Composer

        self.settings = settings or get_settings()
        self.store: Store = store if store is not None else MemoryStore()
        self.corpus: Corpus = load_corpus(self.settings.corpus_dir)
        self.embeddings = get_embeddings(self.settings.embedding_model)
        self.collection, self.index_status = ensure_index(self.corpus, self.embeddings, self.settings, progress)
        self.search_engine = ClauseSearch(self.corpus, self.collection, self.embeddings, self.settings.retrieval_mode)
        self.mode = mode or ("llm" if self.settings.llm_base_url else "grounded")
        if self.mode == "llm" and not self.settings.llm_base_url:
            raise ValueError("LLM 模式需要设置 PA_LLM_BASE_URL。")
        self.composer = Composer(self.corpus, self.search_engine)
        self.llm = None
        if self.mode == "llm":
            from assistant.llm import GuardedLLM

            self.llm = GuardedLLM(self.settings, self.corpus, self.search_engine, self.composer)
        self.chain = build_chain(self.composer, self.llm)
        self._locks = [threading.Lock() for _ in range(SESSION_LOCK_STRIPES)]

    # --- answering -------------------------------------------------------------------------------
    def ask(
        self, message: str, session_id: str | None = None, user_id: str | None = None, screen: Screen | None = None
    ) -> ChatResponse:
        """Answer one user turn; the user turn is stored before answering and the reply before returning.

        ``screen`` sees the reply before it is stored, so a replaced reply is the one on record."""
        message = (message or "").strip()
        if not message:
            raise ValueError("问题不能为空。")
        session_id = session_id or new_session_id()
        with self._session_lock(session_id):
            self.store.ensure_session(session_id, user_id)
            history = [t for t in self.store.turns(session_id, user_id) if t.response is not None]
            turn = self.store.add_user_turn(session_id, user_id, message)
            response = self.chain.invoke({"message": message, "history": history})
            response = response.model_copy(update={"session_id": session_id})
            flag = None
            if screen is not None:
                response, flag = screen(response)
            if flag is None:
                self.store.add_reply(session_id, turn, response)
            else:
                self.store.add_reply(session_id, turn, response, flag=flag)
        return response

    def ask_stream(
        self, message: str, session_id: str | None = None, user_id: str | None = None, screen: Screen | None = None
    ) -> Iterator[str | ChatResponse]:
        """Yield the answer text in pieces, then the full ChatResponse.

        The answer is verified before the first piece leaves, so a streamed number is never retracted.
        """
        response = self.ask(message, session_id, user_id, screen=screen)
        for piece in split_for_stream(response.answer):
            yield piece
        yield response

    def calculate(self, profile: EnterpriseProfile | dict) -> CalculationResult:
        if isinstance(profile, dict):
            profile = EnterpriseProfile.model_validate(profile)
        return calculate(profile)

    def clause(self, clause_id: str) -> ClauseView:
        cid = canonical_clause_id(clause_id, self.corpus)
        if cid is None:
            raise ClauseNotFound(clause_id)
        return ClauseView(self.corpus.get(cid), self.corpus.counterparts(cid))

    def history(self, session_id: str, user_id: str | None = None) -> list[Turn]:
        return self.store.turns(session_id, user_id)

    def feedback(
        self, session_id: str, turn: int, rating: str, comment: str | None = None, user_id: str | None = None
    ) -> None:
        self.store.add_feedback(session_id, user_id, turn, rating, comment)

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        return self.search_engine.search(query, k=k or self.settings.top_k)

    def _session_lock(self, session_id: str) -> threading.Lock:
        """Turns of one session are answered in order; other sessions mostly run in parallel.

        A fixed set of striped locks keeps memory bounded in a long-running API, at the price of two
        sessions occasionally sharing a stripe.
        """
        return self._locks[zlib.crc32(session_id.encode()) % SESSION_LOCK_STRIPES]


def new_session_id() -> str:
    return uuid.uuid4().hex


def split_for_stream(text: str) -> list[str]:
    """Cut after sentence ends and line breaks: chunks a phone can render as they arrive."""
    parts = re.split(r"(?<=[。！？；\n])", text)
    return [p for p in parts if p]


def index_status(settings: Settings | None = None, progress=None) -> IndexStatus:
    """Build or reuse the index without loading the rest of the assistant (for `policy-assistant ingest`)."""
    settings = settings or get_settings()
    corpus = load_corpus(settings.corpus_dir)
    _collection, status = ensure_index(corpus, get_embeddings(settings.embedding_model), settings, progress)
    return status
