"""Drafting layer of the grounded composer: wording, formatting, verified citations and quoting.

Kept apart from ``assistant.compose`` so the composer reads as intent → answer. Nothing here computes money:
amounts are formatted from calculator strings (``format_yuan``) and quotes are cut verbatim from clauses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from assistant.calculator import FACT_LABELS, FACT_LABELS_EN, CalculationResult, format_yuan
from assistant.calculator import POLICY_TITLES_EN as _POLICY_TITLES_EN
from assistant.conversation import State
from assistant.corpus import Clause, Corpus
from assistant.intent import Reading
from assistant.knowledge import Lang
from assistant.money import format_money_en, format_yuan_en
from assistant.numbers import extract_amounts
from assistant.phrasing import default_phrasing
from assistant.retrieval import tokenize
from assistant.schemas import ChatResponse, Citation

# --------------------------------------------------------------------------------------------------
# Wording tables
# --------------------------------------------------------------------------------------------------

CONTACT = "区商务委"
SCOPE_ZH = (
    "本助手只解答《重庆市北碚区人民政府关于加快电子商务产业发展的实施意见》（北碚府发〔2019〕75号）及其任务分解表，"
    "包括：电子商务总部企业引进（一次性扶持、租房/购房补贴、地方经济发展贡献奖励）、示范基地/示范企业奖励、"
    "企业自建电商平台扶持、跨境电商扶持、电商人才政策，以及各项任务的分工（牵头单位、责任单位、完成时间）。"
)
SCOPE_EN = (
    "This assistant only answers questions about Beibei District document 北碚府发〔2019〕75号 (opinions on "
    "accelerating e-commerce) and its task table: headquarters attraction (one-time support, rent/purchase "
    "subsidies, contribution rewards), demonstration base/enterprise rewards, self-built platform support, "
    "cross-border e-commerce support, talent policies, and which units lead each task and by when."
)
OOS_LEAD = {
    "region": (
        "其他地区的政策不在本文件范围内，本助手无法回答。",
        "Other regions' policies are outside this document.",
    ),
    "tax": (
        "税率等税收问题本文件没有规定，请咨询税务部门。",
        "Tax rates are not covered by this document; please ask the tax authority.",
    ),
    "off_topic": (
        "抱歉，这个问题与北碚电商政策无关。",
        "Sorry, this question is not about the Beibei e-commerce policy.",
    ),
    "chitchat": ("您好！", "Hello!"),
    "empty": (
        "抱歉，这条消息没有可以依据政策回答的内容。",
        "Sorry, there is nothing in this message the policy can answer.",
    ),
    "error": ("抱歉，这个问题暂时无法回答，请换个说法再问。", "Sorry, I could not answer this; please rephrase."),
    "unknown": ("抱歉，文件中没有与这个问题相关的规定。", "Sorry, the document has nothing on this question."),
}
_PHRASING = default_phrasing()
AWARD_NOUN = _PHRASING.award_noun
POLICY_TITLES_EN = _POLICY_TITLES_EN
CONDITION_TEXT = _PHRASING.conditions
ASK = _PHRASING.ask
RATE_ASK = _PHRASING.rate_ask
RULE_SENTENCE = _PHRASING.rule_sentence  # the sentence of a clause that states each policy's rule
UNIT_EN = _PHRASING.unit_names_en
CLAUSE_TITLES_EN = _PHRASING.clause_titles_en

_UNITS_SPAN = re.compile(r"（牵头(?:单位|部门)：[^）]*）$")
_SENTENCE = re.compile(r"[^。；]+[。；]?")
_MARKER = re.compile(r"【([^【】]{1,12})】")
_AMOUNT_WORDS = re.compile(r"，(?:分别)?给予|，一次性给予|，按其")


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _money(amount: str | Decimal, lang: str) -> str:
    """'30万元 (300,000元)' in Chinese, '300,000 yuan (30万元)' in English: formatting only, no arithmetic."""
    return format_yuan_en(amount) if lang == "en" else format_yuan(amount)


def _title_of(clause: Clause, lang: str) -> str:
    """Clause title in the answer's language (an annex row takes its main clause's English title)."""
    if lang != "en":
        return clause.title
    key = clause.related[0] if clause.source == "annex" and clause.related else clause.clause_id
    return CLAUSE_TITLES_EN.get(key, clause.title)


def _label(name: str, lang: str = "zh") -> str:
    """A fact's label without the unit in brackets ("注册资金（元）" → "注册资金"), since values carry units."""
    if lang == "en":
        return re.sub(r"\s*\([^)]*\)$", "", FACT_LABELS_EN.get(name, name))
    return re.sub(r"（[^）]*(?:元|年|美元)[^）]*）$", "", FACT_LABELS.get(name, name))


def _unit(name: str, lang: str) -> str:
    return f"{UNIT_EN[name]} ({name})" if lang == "en" and name in UNIT_EN else name


def _units(names: list[str], lang: str) -> str:
    return ("; " if lang == "en" else "、").join(_unit(n, lang) for n in names) or _t(lang, "（未列）", "(none listed)")


_QUOTED = re.compile(r"“([^”]*)”")
_COUNT = re.compile(r"(\d+)\s*(?:家|个)(以上)?")


def _in_words(value: Decimal) -> str:
    """300亿 → '30 billion', 2000万 → '20 million': how an English reader says a large figure."""
    for size, word in ((Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million")):
        if value >= size:
            return f"{format((value / size).normalize(), 'f')} {word}"
    return format(value.normalize(), "f")


def with_english_figures(line: str) -> str:
    """An English answer quotes the Chinese text verbatim; the figures in the quote are added in English
    ("30万元 = CNY 300,000"), converted by the money module, never retyped."""
    figures: list[str] = []
    for quoted in _QUOTED.findall(line):
        amounts = extract_amounts(quoted)
        for i, amount in enumerate(amounts):
            if amount.range_part == "high":
                continue  # shown with its lower end: "1-5亿元 = CNY 100,000,000–500,000,000"
            shown = format_money_en(amount.value, amount.currency)
            if amount.range_part == "low" and i + 1 < len(amounts):
                shown += "–" + format_money_en(amounts[i + 1].value, amount.currency).split(" ", 1)[1]
            if amount.range_part is None and amount.value >= 10**6:  # policy-literal: ok (English number words)
                shown += f" ({_in_words(amount.value)})"
            figures.append(f"{amount.raw} = {shown}")
        for m in _COUNT.finditer(quoted):
            figures.append(f"{m.group(0)} = {int(m.group(1)):,}{' or more' if m.group(2) else ''}")
    if not figures:
        return line
    return f"{line} (figures: {'; '.join(dict.fromkeys(figures))})"


@dataclass
class Draft:
    corpus: Corpus
    lang: Lang
    lines: list[str] = field(default_factory=list)
    quotes: dict[str, str] = field(default_factory=dict)

    def cite(self, clause_id: str, quote: str) -> str:
        """Record a citation (first quote per clause wins unless a later one covers more) and return 【id】."""
        text = self.corpus.get(clause_id).text
        if quote not in text:  # never ship a quote that is not verbatim
            quote = text[:80]
        old = self.quotes.get(clause_id)
        if old is None:
            self.quotes[clause_id] = quote
        elif old not in quote and quote not in old:
            start = min(text.index(old), text.index(quote))
            end = max(text.index(old) + len(old), text.index(quote) + len(quote))
            self.quotes[clause_id] = text[start:end]
        elif old in quote:
            self.quotes[clause_id] = quote
        return f"【{clause_id}】"

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def quoted(self, title: str, clause_id: str, quote: str) -> None:
        """One bullet "- title【id】：“quote”": the shown quote and the recorded citation come from one value."""
        self.add(f"- {title}{self.cite(clause_id, quote)}：“{quote}”")

    def response(
        self, answer_type: str, notices: list[str], calculation: CalculationResult | None = None
    ) -> ChatResponse:
        lines = [with_english_figures(line) for line in self.lines] if self.lang == "en" else self.lines
        answer = "\n".join(lines).strip()
        cited = list(dict.fromkeys(_MARKER.findall(answer)))
        for cid in cited:
            if cid not in self.quotes and self.corpus.has(cid):
                self.quotes[cid] = self.corpus.get(cid).text[:80]
        for cid in [c for c in cited if not self.corpus.has(c)]:
            answer = answer.replace(f"【{cid}】", "")
        citations = [
            Citation(clause_id=cid, title=self.corpus.get(cid).title, quote=self.quotes[cid])
            for cid in cited
            if self.corpus.has(cid)
        ]
        return ChatResponse(
            answer=answer,
            answer_type=answer_type,
            citations=citations,
            calculation=calculation,
            session_id="",
            notices=list(dict.fromkeys(notices)),
            mode="grounded",
        )


@dataclass
class TurnContext:
    """Everything one answer needs: the message as read, the conversation state, retrieval hits."""

    reading: Reading
    state: State
    hits: list[Any]
    tokens: set[str]
    frame: Any = None  # assistant.reading.Frame, once read
    money: Any = None  # Composer._money_request's answer, once worked out (the frame and the dispatch both ask)

    @property
    def lang(self) -> Lang:
        return self.reading.lang

    @property
    def text(self) -> str:
        return self.reading.text


# --------------------------------------------------------------------------------------------------
# Quoting
# --------------------------------------------------------------------------------------------------


class Quoter:
    """Sentence spans of every clause, and the verbatim quotes cut from them."""

    def __init__(self, corpus: Corpus, search_engine: Any) -> None:
        self.corpus = corpus
        self.search = search_engine
        self._sentences: dict[str, list[tuple[int, int, set[str]]]] = {}
        for clause in corpus.clauses:
            self._sentences[clause.clause_id] = self._split(clause)
        self._annex_of = {c.clause_id: c.related for c in corpus.clauses if c.source == "main"}

    def _split(self, clause: Clause) -> list[tuple[int, int, set[str]]]:
        """Content sentences (spans) of a clause: not its run-in title, not its （牵头单位…） tail."""
        text = clause.text
        end = len(text)
        if m := _UNITS_SPAN.search(text):
            end = m.start()
        spans = []
        for m in _SENTENCE.finditer(text, 0, end):
            piece = m.group(0)
            if clause.source == "main" and clause.title and piece.rstrip("。；") == clause.title:
                continue
            if piece.strip():
                spans.append((m.start(), m.end(), set(tokenize(piece))))
        return spans or [(0, len(text), set(tokenize(text)))]

    def _quote(self, cid: str, tokens: set[str], prefer: str | None = None, avoid_amounts: bool = False) -> str:
        """The clause's most relevant sentence (verbatim), optionally cut before its award amounts."""
        text = self.corpus.get(cid).text
        pattern = re.compile(prefer) if prefer else None
        best = max(
            self._sentences[cid],
            key=lambda s: (len(s[2] & tokens) + (10 if pattern and pattern.search(text, s[0], s[1]) else 0), -s[0]),
        )
        end = best[1]
        if pattern:  # a rule stated in several ；-separated parts (国家级…；市级…) is quoted whole
            spans = self._sentences[cid]
            i = spans.index(best)
            while (
                text[end - 1] == "；" and i + 1 < len(spans) and pattern.search(text, spans[i + 1][0], spans[i + 1][1])
            ):
                i += 1
                end = spans[i][1]
        quote = text[best[0] : end]
        if avoid_amounts and (m := _AMOUNT_WORDS.search(quote)):
            quote = quote[: m.start()]
        return quote

    def _quote_broad(self, cid: str, tokens: set[str]) -> str:
        """For "what does it cover" questions: the whole clause when short, else its best two sentences."""
        full = self._full(cid)
        if len(full) <= 220:
            return full
        text = self.corpus.get(cid).text
        spans = self._sentences[cid]
        scores = [len(s[2] & tokens) for s in spans]
        i = max(range(len(spans)), key=lambda k: (scores[k] + (scores[k + 1] if k + 1 < len(spans) else 0), -k))
        j = min(i + 1, len(spans) - 1)
        return text[spans[i][0] : spans[j][1]]

    def _matching_span(self, cid: str, pattern: str) -> str:
        """The verbatim span from the first to the last sentence matching ``pattern``."""
        text = self.corpus.get(cid).text
        rx = re.compile(pattern)
        hits = [s for s in self._sentences[cid] if rx.search(text, s[0], s[1])] or self._sentences[cid]
        return text[hits[0][0] : hits[-1][1]]

    def _full(self, cid: str) -> str:
        """All content sentences of a clause as one verbatim span."""
        spans = self._sentences[cid]
        return self.corpus.get(cid).text[spans[0][0] : spans[-1][1]]

    def _units_quote(self, cid: str) -> str | None:
        m = _UNITS_SPAN.search(self.corpus.get(cid).text)
        return m.group(0) if m else None

    def _group(self, cid: str) -> list[str]:
        return [cid, *self._annex_of.get(cid, [])]
