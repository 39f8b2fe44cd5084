"""Content security for mini-program users (PA_WECHAT_SEC_CHECK): a question WeChat calls risky is never
answered, and with ``both`` neither is an answer it calls risky.

Order of checks on a text: the local word list (PA_WECHAT_WORDLIST; a hit is risky, WeChat is not asked),
then msgSecCheck v2. Outcomes, and what the store keeps (``turns.flag``):

* pass → answered as usual (no flag);
* review → answered, flagged ``review`` for a person to look at;
* risky question → the pipeline is not run: the question and a polite refusal (answer_type
  ``out_of_scope``) are stored, flagged ``risky``;
* risky answer (``both``) → replaced by the same refusal before it is stored, flagged ``risky``;
* WeChat cannot be asked → PA_WECHAT_SEC_FAIL: ``open`` answers and flags ``sec_unavailable``,
  ``closed`` raises `ContentCheckUnavailable` (the API's 503). Logged either way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from assistant.assistant import new_session_id, split_for_stream
from assistant.schemas import ChatResponse
from assistant.settings import Settings
from assistant.wechat import WeChatClient, WeChatError, WordList

log = logging.getLogger(__name__)

REFUSAL = (
    "抱歉，这个问题涉及不适宜讨论的内容，我无法回答。"
    "我可以解答北碚区电子商务扶持政策（北碚府发〔2019〕75号）的相关问题，欢迎换个问题。"
)
#: When one turn earns several flags, the one kept: a refusal outranks a review outranks a skipped check.
_RANK: dict[str | None, int] = {None: 0, "sec_unavailable": 1, "review": 2, "risky": 3}


class ContentCheckUnavailable(Exception):
    """WeChat could not be asked and PA_WECHAT_SEC_FAIL=closed: nothing is answered."""


def refusal(session_id: str) -> ChatResponse:
    return ChatResponse(answer=REFUSAL, answer_type="out_of_scope", session_id=session_id)


def worst(a: str | None, b: str | None) -> str | None:
    return a if _RANK[a] >= _RANK[b] else b


@dataclass(frozen=True)
class ContentGuard:
    client: WeChatClient | None
    mode: Literal["off", "input", "both"]
    fail: Literal["open", "closed"]
    words: WordList | None = None

    @classmethod
    def from_settings(cls, settings: Settings, client: WeChatClient | None) -> ContentGuard:
        words = WordList.load(settings.wechat_wordlist) if settings.wechat_wordlist else None
        return cls(client, settings.wechat_sec_check, settings.wechat_sec_fail, words)

    @property
    def active(self) -> bool:
        return self.mode != "off"

    def flag_for(self, text: str, openid: str, what: str) -> str | None:
        """None (pass), ``review``, ``risky`` or ``sec_unavailable``; raises `ContentCheckUnavailable`."""
        if self.words is not None and self.words.hit(text):
            log.info("content check: word list hit on the %s", what, extra={"event": "sec_check", "suggest": "risky"})
            return "risky"
        if self.client is None:
            return self._unavailable(what, "PA_WECHAT_APPID / PA_WECHAT_SECRET not set")
        try:
            verdict = self.client.msg_sec_check(text, openid)
        except WeChatError as exc:
            return self._unavailable(what, str(exc))
        if verdict.suggest != "pass":
            log.info(
                "content check: %s on the %s (label %s)",
                verdict.suggest,
                what,
                verdict.label,
                extra={"event": "sec_check", "suggest": verdict.suggest, "label": verdict.label},
            )
        return None if verdict.suggest == "pass" else verdict.suggest

    def _unavailable(self, what: str, reason: str) -> str:
        if self.fail == "open":
            log.warning("content check of the %s skipped, answering anyway (PA_WECHAT_SEC_FAIL=open): %s", what, reason)
            return "sec_unavailable"
        log.warning("content check of the %s failed, refusing (PA_WECHAT_SEC_FAIL=closed): %s", what, reason)
        raise ContentCheckUnavailable(reason)

    # --- answering -------------------------------------------------------------------------------
    def ask(
        self, assistant: Any, message: str, session_id: str | None, user_id: str | None, openid: str
    ) -> ChatResponse:
        """`PolicyAssistant.ask` with the checks around it (the facade stores, this decides what)."""
        flag = self.flag_for(message, openid, "question")
        if flag == "risky":
            return self._refuse(assistant, message, session_id, user_id)

        def screen(response: ChatResponse) -> tuple[ChatResponse, str | None]:
            answer_flag = self.flag_for(response.answer, openid, "answer") if self.mode == "both" else None
            if answer_flag == "risky":
                return refusal(response.session_id), "risky"
            return response, worst(flag, answer_flag)

        return assistant.ask(message, session_id=session_id, user_id=user_id, screen=screen)

    def ask_stream(
        self, assistant: Any, message: str, session_id: str | None, user_id: str | None, openid: str
    ) -> Iterator[str | ChatResponse]:
        response = self.ask(assistant, message, session_id, user_id, openid)
        yield from split_for_stream(response.answer)
        yield response

    @staticmethod
    def _refuse(assistant: Any, message: str, session_id: str | None, user_id: str | None) -> ChatResponse:
        """The question and the refusal go on record like any turn; the pipeline never sees the question."""
        store = assistant.store
        session_id = session_id or new_session_id()
        store.ensure_session(session_id, user_id)  # SessionNotFound for someone else's session, as in ask()
        turn = store.add_user_turn(session_id, user_id, message)
        response = refusal(session_id)
        store.add_reply(session_id, turn, response, flag="risky")
        return response
