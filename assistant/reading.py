"""Message → frame: what is asked, in which language the answer is wanted, what the owner calls things.

Why a frame: the first version decided the intent by the order of its keyword rules, so the first rule
that fired won even when a later one described the question better ("怎么认定" ran a calculation; "那30万
扶持要交税吗" became a sales figure). Here every kind of question in ``corpus/asks.yaml`` scores the
evidence for itself and the best-supported reading wins; a few adjustments below encode how pieces of
evidence interact (a bound figure supports an amount; an unspecified topic outranks a generic yes/no).

Figures (with their unit, period, ordinal and scope) are read by ``assistant.numbers``; this module only
decides what is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from assistant.lexicon import Lexicon, Term, Unspecified

Lang = Literal["zh", "en"]

__all__ = ["OWN_STATEMENT", "Frame", "answer_language", "language_only", "read_frame"]

# Kinds answered by their own planner (assistant.answers); the others go to the document lookups and
# the calculator path of the composer.
PLANNED = ("greeting", "thanks", "help", "unspecified", "definition", "relation", "section", "count", "match")

# The owner speaking of their own case ("我们被认定为…", "my company is …"), as opposed to asking what a
# level or a policy is worth in general.
OWN_STATEMENT = re.compile(
    r"我|咱|本(?:公司|园区|企业)|被认定|认定为|被评|评为|评上|获评|拿到了|挂牌|授牌|获批|批下来|批了|通过了|\bwe\b|\bour\b|\bmy\b|\bwas\b|\bwere\b|\bgot\b|\bis\b|\bare\b",
    re.IGNORECASE,
)
_PROCEDURES = ("recognition", "application", "payment", "funding_source", "contact")
_WANTS_EN = re.compile(
    r"(?:用|以|请用|翻译成|换成|改用|说|讲)\s*英(?:文|语)|英(?:文|语)(?:回答|回复|介绍|说明|解释|版)|in\s+english|english\s+(?:please|version|answer)",
    re.IGNORECASE,
)
_WANTS_ZH = re.compile(r"(?:用|以|请用)\s*中文|中文(?:回答|回复)|in\s+chinese|answer\s+in\s+chinese", re.IGNORECASE)
_LATIN = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MONEY_WORDS = re.compile(r"补贴|补助|奖励|扶持|资金|奖金|钱|subsid|grant|reward|fund|money", re.IGNORECASE)


_LANGUAGE_ONLY = re.compile(
    r"^\W*(?:(?:please|pls|can\s+you|could\s+you)\s+)?(?:answer|reply|respond|say\s+(?:it|that)|repeat\s+(?:it|that)|"
    r"tell\s+me)?\s*(?:again\s+)?in\s+(?P<en>english)(?:\s+please)?\W*$|"
    r"^\W*(?:请|麻烦)?(?:你)?(?:用|以|换成|改用)?(?:(?P<en2>英)|(?P<zh>中))(?:文|语)(?:再)?(?:回答|回复|说|讲|解释|介绍)?(?:一下|一遍)?(?:吧|呢|好吗|可以吗)?\W*$",
    re.IGNORECASE,
)


def language_only(text: str) -> Lang | None:
    """ "Please answer in English" / "用中文说" with nothing else: the language wanted, else None."""
    m = _LANGUAGE_ONLY.match(text.strip())
    if not m:
        return None
    return "zh" if m.group("zh") else "en"


def answer_language(text: str) -> Lang:
    """An explicit request ("请用英文介绍…", "answer in Chinese") wins; otherwise the message's script."""
    if _WANTS_EN.search(text):
        return "en"
    if _WANTS_ZH.search(text):
        return "zh"
    latin, cjk = len(_LATIN.findall(text)), len(_CJK.findall(text))
    return "en" if latin >= 3 and latin >= 3 * cjk else "zh"


@dataclass(frozen=True)
class Frame:
    ask: str  # a kind from asks.yaml, or "other" (no kind reached its floor)
    lang: Lang
    scores: dict[str, float] = field(default_factory=dict)
    unspecified: Unspecified | None = None
    terms: tuple[Term, ...] = ()

    @property
    def planned(self) -> bool:
        return self.ask in PLANNED


def read_frame(
    text: str,
    lexicon: Lexicon,
    *,
    has_facts: bool = False,
    names_policy: bool = False,
    about_policy: bool = False,
) -> Frame:
    """Score every kind and keep the best one that reaches its floor.

    ``has_facts``: the message states a figure or condition bound to a policy (a calculation is possible);
    ``names_policy``: it names a subsidy policy; ``about_policy``: it names anything the document is about
    (then "谢谢，那跨境呢" is a question, not chit-chat).
    """
    scores = {name: kind.score(text) for name, kind in lexicon.kinds.items()}
    unspecified = lexicon.unspecified_in(text)
    if unspecified:
        scores["unspecified"] = 4.5
        if any(u.id in _PROCEDURES for u in unspecified):
            scores["unspecified"] += 2  # "哪个部门负责审核认定": who runs a procedure the document does not set
    terms = tuple(lexicon.terms_in(text))
    # Chit-chat only when the message is chit-chat and nothing else.
    for name in ("greeting", "thanks", "help"):
        limit = 90 if answer_language(text) == "en" else 40
        if scores.get(name) and (about_policy or names_policy or terms or len(text.strip()) > limit):
            scores[name] = 0.0
    if has_facts:
        # A stated figure is there to be used: "首年交易额3亿，能同时拿吗" is a calculation with a note.
        scores["amount"] = scores.get("amount", 0) + 2
        scores["eligibility"] = scores.get("eligibility", 0) + 1
        for name in ("definition", "count", "section"):
            scores[name] = max(0.0, scores.get(name, 0) - 2)
        if unspecified and all(u.id == "stacking" for u in unspecified) and scores.get("amount", 0) >= 5:
            scores["unspecified"] = 0.0  # "…能拿多少，能同时拿吗": compute, the answer notes stacking
    if (
        scores.get("definition")
        and (scores.get("unspecified") or 0)
        and any(u.id in ("recognition", "statistics", "normal_operation") for u in unspecified)
    ):
        scores["definition"] = 0.0  # "怎么认定" is a recognition procedure: unspecified, with the text's criteria
    if scores.get("match") and has_facts:
        scores["match"] += 1
    if scores.get("relation") and scores.get("section"):
        scores["section"] = 0.0
    best, best_score = "other", 0.0
    for name, score in scores.items():
        kind = lexicon.kinds.get(name)
        floor = kind.floor if kind else 3.0
        if score >= floor and score > best_score:
            best, best_score = name, score
    chosen = unspecified[0] if unspecified and best == "unspecified" else None
    return Frame(best, answer_language(text), scores, chosen, terms)


def money_question(text: str) -> bool:
    return bool(_MONEY_WORDS.search(text))
