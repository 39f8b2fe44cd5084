"""How answers name things (corpus/phrasing.yaml): English clause titles, unit names and their short forms,
lay aliases of clauses, and per-policy phrasing (what to ask for, the award's name, the rule's sentence).

Kept as data so the composer holds no clause id, unit name or figure of its own; figures in the texts are
{policy.param} placeholders filled from corpus/policies.yaml, so each threshold is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.knowledge import load_policies, render

__all__ = ["Phrasing", "load_phrasing"]

Pair = tuple[str, str]  # (zh, en)


@dataclass(frozen=True)
class Phrasing:
    clause_titles_en: dict[str, str]
    unit_names_en: dict[str, str]
    unit_aliases: dict[str, str]  # unit → regex of the short forms owners use
    clause_aliases: dict[str, str]  # main clause id → regex of lay words
    award_noun: dict[str, Pair]
    ask: dict[str, Pair]
    rule_sentence: dict[str, str]  # policy id → regex picking the clause sentence that states its rule
    rate_ask: Pair
    conditions: dict[str, Pair]  # profile field → the condition as a phrase
    situation_example: Pair
    example_questions: dict[str, list[str]]  # lang → example questions (help texts)
    demo_questions: list[str]  # one conversation, for `policy-assistant demo`


def _pair(node: dict, figures: dict[str, dict[str, str]]) -> Pair:
    return render(node["zh"], figures["zh"]), render(node["en"], figures["en"])


@lru_cache(maxsize=8)
def load_phrasing(corpus_dir: str | Path) -> Phrasing:
    base = Path(corpus_dir)
    data = yaml.safe_load((base / "phrasing.yaml").read_text(encoding="utf-8"))
    book = load_policies(base)
    figures = {"zh": book.cross_refs("zh"), "en": book.cross_refs("en")}
    units = data["units"]
    policies = data["policies"]
    return Phrasing(
        clause_titles_en=dict(data["clause_titles_en"]),
        unit_names_en={u: spec["en"] for u, spec in units.items() if spec.get("en")},
        unit_aliases={u: spec["aliases"] for u, spec in units.items() if spec.get("aliases")},
        clause_aliases=dict(data["clause_aliases"]),
        award_noun={p: _pair(spec["award_noun"], figures) for p, spec in policies.items() if spec.get("award_noun")},
        ask={p: _pair(spec["ask"], figures) for p, spec in policies.items() if spec.get("ask")},
        rule_sentence={p: spec["rule_sentence"] for p, spec in policies.items() if spec.get("rule_sentence")},
        rate_ask=_pair(data["rate_ask"], figures),
        conditions={f: _pair(spec, figures) for f, spec in data["conditions"].items()},
        situation_example=(data["examples"]["situation"]["zh"], data["examples"]["situation"]["en"]),
        example_questions={lang: list(qs) for lang, qs in data["examples"]["questions"].items()},
        demo_questions=list(data["examples"]["demo"]),
    )


def default_phrasing() -> Phrasing:
    from assistant.settings import get_settings

    return load_phrasing(get_settings().corpus_dir)
