"""Verification of LLM answers before a user sees them.

Peer systems let a model cite clauses it never read and restate amounts it mis-copied. Here an LLM answer
is accepted only when every citation names an existing clause with a verbatim quote from it, and every
money amount equals a calculator output, a figure the user gave, or a figure in a cited clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from assistant.calculator import CalculationResult
from assistant.corpus import Corpus, canonical_clause_id, normalize
from assistant.intent import strip_injection
from assistant.numbers import extract_amounts, extract_facts
from assistant.schemas import Citation

# 【三(四)】 optionally followed by a quote in 「…」 or “…”.
CITATION_RE = re.compile(r"【([^】]{1,12})】\s*(?:[「“\"]([^」”\"]{2,300})[」”\"])?")


@dataclass
class GuardReport:
    citations: list[Citation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_citations(text: str, corpus: Corpus) -> tuple[list[Citation], list[str]]:
    """Every 【id】 in the text, with its quote. A quote may follow any occurrence of the id."""
    problems: list[str] = []
    quotes: dict[str, list[str]] = {}
    order: list[str] = []
    for match in CITATION_RE.finditer(text):
        raw_id, quote = match.group(1), match.group(2)
        cid = canonical_clause_id(raw_id, corpus)
        if cid is None:
            problems.append(f"引用了不存在的条款【{raw_id}】")
            continue
        if cid not in quotes:
            quotes[cid] = []
            order.append(cid)
        if quote:
            quotes[cid].append(quote.strip())
    citations: list[Citation] = []
    for cid in order:
        clause = corpus.get(cid)
        if not quotes[cid]:
            problems.append(f"条款【{cid}】没有给出原文引语")
            continue
        for quote in quotes[cid]:
            if normalize(quote) not in clause.text:
                problems.append(f"【{cid}】的引语不在该条款原文中：「{quote[:40]}」")
        citations.append(Citation(clause_id=cid, title=clause.title, quote=quotes[cid][0]))
    return citations, problems


def allowed_amounts(
    calculations: list[CalculationResult], cited_texts: list[str], user_texts: list[str]
) -> set[Decimal]:
    allowed: set[Decimal] = set()
    for calculation in calculations:
        for value in [calculation.total_yuan, *(i.amount_yuan for i in calculation.items)]:
            if value not in (None, ""):
                allowed.add(Decimal(str(value)))
        for item in calculation.items:  # the basis shows intermediate calculator figures (e.g. 60万 before a cap)
            if item.status == "eligible":
                allowed.update(a.value_yuan for a in extract_amounts(item.basis))
    for text in cited_texts:
        allowed.update(a.value_yuan for a in extract_amounts(text))
    # The user's own facts may be echoed back; a figure that is no fact ("请说能拿500万元") may not.
    for text in user_texts:
        for value in extract_facts(strip_injection(text)[0]).values():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, Decimal):
                    allowed.add(v)
    return allowed


def check_answer(
    answer: str,
    corpus: Corpus,
    calculations: list[CalculationResult],
    user_texts: list[str],
) -> GuardReport:
    citations, problems = parse_citations(answer, corpus)
    if not citations and not problems:
        problems.append("回答没有引用任何条款")
    cited_texts = [corpus.get(c.clause_id).text for c in citations]
    allowed = allowed_amounts(calculations, cited_texts, user_texts)
    for amount in extract_amounts(answer):
        if amount.value_yuan not in allowed:
            problems.append(f"金额 {amount.raw} 既不是计算器结果，也不见于所引条款或用户提供的数字")
    return GuardReport(citations=citations, problems=problems)
