"""Policy knowledge as data: loads and validates corpus/policies.yaml; the one place policy facts live.

Why: thresholds, amounts, clause ids, HQ type names and fact labels used to be retyped in several modules and
drifted. Here they are read once from YAML, validated (pydantic), joined with the parsed corpus (lead and
responsible units are read from the clause named by ``units_from``, never retyped) and cached, so
``make run`` pays for it once. Everything else asks this module.

Figures in the YAML are written in the policy's own notation ("1000万元", "20%", "2亿美元", "3年") and become
``Quantity`` objects; templates name them as ``{name}`` (same policy) or ``{policy_id.name}`` and get them
formatted per language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import model_validator

from assistant.policy_schema import (
    ByLevelRule,
    Condition,
    FactSpec,
    FixedRule,
    Lang,
    LevelAward,
    Named,
    NonMonetaryRule,
    Note,
    PercentWithCapRule,
    Policy,
    Quantity,
    Record,
    Stage,
    Text,
    Tier,
    TiersRule,
    YearlyPercentWithCapRule,
    YearlyScheduleRule,
    format_quantity,
)

# The record models live in assistant.policy_schema; they are re-exported here, where they were defined before.
__all__ = [
    "POLICIES_FILE",
    "ByLevelRule",
    "Condition",
    "FactSpec",
    "FixedRule",
    "Lang",
    "LevelAward",
    "NonMonetaryRule",
    "Note",
    "PercentWithCapRule",
    "Policy",
    "PolicyBook",
    "Quantity",
    "Stage",
    "Text",
    "Tier",
    "TiersRule",
    "YearlyPercentWithCapRule",
    "YearlyScheduleRule",
    "fact_label",
    "format_quantity",
    "load_policies",
    "notice",
    "param",
    "policies",
    "policy",
    "policy_ids",
    "render",
    "threshold",
    "units",
]

POLICIES_FILE = "policies.yaml"


_MEMO: dict[int, tuple[PolicyBook, dict[tuple[str, ...], Any]]] = {}


class PolicyBook(Record):
    """The whole file, validated, with accessors whose formatted results are memoised per book (the book is
    immutable, so a cached sentence can never go stale)."""

    version: int
    source: str
    hq_types: list[Named]
    levels: list[Named]
    statuses: dict[str, Text]
    notices: dict[str, Text]
    facts: dict[str, FactSpec]
    policies: list[Policy]

    @model_validator(mode="after")
    def _consistent(self) -> PolicyBook:
        ids = [p.id for p in self.policies]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate policy ids")
        for p in self.policies:
            where = f"policy {p.id}"
            unknown = [f for f in p.facts if f not in self.facts]
            if unknown:
                raise ValueError(f"{where}: unknown facts {unknown}")
            for c in p.conditions:
                for name in (c.fact, c.cny_fact, c.rate_fact):
                    if name is not None and name not in p.facts:
                        raise ValueError(f"{where}: condition {c.id} reads {name}, not in the policy's facts")
                if c.test == "reaches_tier" and not isinstance(p.amount, TiersRule):
                    raise ValueError(f"{where}: reaches_tier needs a tiers rule")
            if p.units_from not in p.clauses:
                raise ValueError(f"{where}: units_from {p.units_from} is not one of its clauses")
            if p.thresholds_unclear_from is not None and p.thresholds_unclear_from not in ids:
                raise ValueError(f"{where}: thresholds_unclear_from names unknown policy")
            if isinstance(p.amount, ByLevelRule):
                known = {lv.id for lv in self.levels}
                if set(p.amount.levels) != known:
                    raise ValueError(f"{where}: by_level must give an award for each of {sorted(known)}")
        return self

    def _memoised(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        # Keyed by id() with the book itself kept in the entry, so an id can never be reused while cached.
        entry = _MEMO.get(id(self))
        if entry is None or entry[0] is not self:
            entry = _MEMO[id(self)] = (self, {})
        memo = entry[1]
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    # -- policies ---------------------------------------------------------------------------------

    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.policies)

    def policy(self, policy_id: str) -> Policy:
        for p in self.policies:
            if p.id == policy_id:
                return p
        raise KeyError(policy_id)

    def cross_refs(self, lang: Lang) -> dict[str, str]:
        """{policy_id.name} → formatted figure, for texts that cite another policy's threshold."""
        return self._memoised(
            ("refs", lang),
            lambda: {f"{p.id}.{k}": format_quantity(q, lang) for p in self.policies for k, q in p.params().items()},
        )

    def params_text(self, policy_id: str, lang: Lang) -> dict[str, str]:
        """The policy's figures formatted for templates, plus {lead_unit} and (non-monetary) {preferences}."""

        def compute() -> dict[str, str]:
            p = self.policy(policy_id)
            out = {k: format_quantity(q, lang) for k, q in p.params().items()}
            out["lead_unit"] = p.lead_unit
            if isinstance(p.amount, NonMonetaryRule):
                out["preferences"] = ("、" if lang == "zh" else ", ").join(t.get(lang) for t in p.amount.preferences)
            return out

        return self._memoised(("params", policy_id, lang), compute)

    def text(self, policy_id: str, key: str, lang: Lang, values: Mapping[str, str] | None = None) -> str:
        """A policy sentence filled with its own figures and ``values`` (profile figures, computed amounts)."""
        template = self.policy(policy_id).texts[key].get(lang)
        return render(template, {**self.params_text(policy_id, lang), **(values or {})})

    def notes(self, policy_id: str, lang: Lang, when: str) -> list[str]:
        """The policy's standing notes (its open questions), filled with its figures."""
        return self._memoised(
            ("notes", policy_id, lang, when),
            lambda: [
                render(n.get(lang), self.params_text(policy_id, lang))
                for n in self.policy(policy_id).notes
                if n.when == when
            ],
        )

    # -- facts, names, notices --------------------------------------------------------------------

    def _fact_values(self, lang: Lang) -> dict[str, str]:
        sep = "/" if lang == "zh" else ", "
        return {
            **self.cross_refs(lang),
            "hq_types": sep.join(t.get(lang) for t in self.hq_types),
            "levels": sep.join(lv.get(lang) for lv in self.levels),
        }

    def fact_label(self, name: str, lang: Lang = "zh") -> str:
        return self._memoised(
            ("label", name, lang), lambda: render(self.facts[name].label.get(lang), self._fact_values(lang))
        )

    def fact_description(self, name: str, lang: Lang = "zh") -> str:
        return self._memoised(
            ("desc", name, lang), lambda: render(self.facts[name].description.get(lang), self._fact_values(lang))
        )

    def notice(self, name: str, lang: Lang = "zh", **values: str) -> str:
        """A shared sentence; figures of other policies are filled in, per-call values ({asks}) from ``values``."""
        return render(self.notices[name].get(lang), {**self.cross_refs(lang), **values})

    def hq_type_name(self, type_id: str, lang: Lang = "zh") -> str:
        return next(t for t in self.hq_types if t.id == type_id).get(lang)

    def level_name(self, level_id: str, lang: Lang = "zh") -> str:
        return next(lv for lv in self.levels if lv.id == level_id).get(lang)


# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*(?:\.\w+)?)\}")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill {name} / {policy.name}. An unknown name raises KeyError: a typo in the YAML never reaches a user."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def _with_units(book: PolicyBook, corpus_dir: Path) -> PolicyBook:
    """Lead/responsible units come from the clause ``units_from`` names in the parsed corpus."""
    from assistant.corpus import load_corpus

    corpus = load_corpus(corpus_dir)
    filled = []
    for p in book.policies:
        for clause_id in p.clauses:
            if not corpus.has(clause_id):
                raise ValueError(f"policy {p.id}: unknown clause {clause_id}")
        source = corpus.get(p.units_from)
        if source.lead_unit is None:
            raise ValueError(f"policy {p.id}: clause {p.units_from} names no lead unit")
        annex_rows = [c for c in p.clauses if corpus.get(c).source == "annex"]
        if (p.annex_row == "none") == bool(annex_rows):
            raise ValueError(f"policy {p.id}: annex_row: none must be set exactly when it has no annex row")
        filled.append(
            p.model_copy(update={"lead_unit": source.lead_unit, "responsible_units": list(source.responsible_units)})
        )
    return book.model_copy(update={"policies": filled})


def _check_templates(book: PolicyBook) -> None:
    """Both languages of every sentence must use the same figures, and every {policy.name} must exist, so an
    English answer can never quietly drop or invent a number."""
    refs = book.cross_refs("zh")
    texts: list[tuple[str, Text | Note]] = [(f"notice {k}", t) for k, t in book.notices.items()]
    texts += [(f"fact {k}", t) for k, f in book.facts.items() for t in (f.label, f.description)]
    for p in book.policies:
        texts += [(f"{p.id}.texts.{k}", t) for k, t in p.texts.items()]
        texts += [(f"{p.id}.{c.id}", c.unmet) for c in p.conditions]
        texts += [(f"{p.id}.notes", n) for n in p.notes]
    for where, text in texts:
        zh, en = _placeholders(text.zh), _placeholders(text.en)
        if zh != en:
            raise ValueError(f"{where}: zh uses {sorted(zh)} but en uses {sorted(en)}")
        unknown = [ph for ph in zh if "." in ph and ph not in refs]
        if unknown:
            raise ValueError(f"{where}: unknown reference(s) {unknown}")


@lru_cache(maxsize=8)
def _load(path: Path, stamp: tuple[tuple[str, int, int], ...]) -> PolicyBook:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: cold start
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    book = _with_units(PolicyBook.model_validate(data), path.parent)
    _check_templates(book)
    return book


def load_policies(corpus_dir: Path | str | None = None) -> PolicyBook:
    """The validated policy book of a corpus directory (default: settings.corpus_dir).

    Cached per file stamp (mtime, size) of policies.yaml and the corpus it reads units from, like
    ``load_corpus``: free after the first call, and an edited file is picked up on the next one.
    """
    if corpus_dir is None:
        from assistant.settings import get_settings

        corpus_dir = get_settings().corpus_dir
    path = Path(corpus_dir).resolve() / POLICIES_FILE
    # The units come from the corpus, so its files are part of the stamp too.
    files = [path, path.parent / "annex.yaml", *sorted((path.parent / "raw").glob("*"))]
    stamp = tuple((f.name, st.st_mtime_ns, st.st_size) for f in files if f.is_file() and (st := f.stat()))
    return _load(path, stamp)


# --------------------------------------------------------------------------------------------------
# Accessors on the default book. Code that runs per request should keep ``load_policies()`` once (as the
# calculator does) instead of calling these, which stat the file each time to notice edits.
# --------------------------------------------------------------------------------------------------


def policies() -> list[Policy]:
    return list(load_policies().policies)


def policy_ids() -> tuple[str, ...]:
    return load_policies().ids()


def policy(policy_id: str) -> Policy:
    return load_policies().policy(policy_id)


def param(policy_id: str, name: str) -> Quantity:
    """A named figure of a policy: param('hq_office_rent', 'cap') → 30万元."""
    return policy(policy_id).params()[name]


def threshold(policy_id: str, condition_id: str) -> Decimal:
    """The value a condition compares with: threshold('hq_establishment', 'min_capital') → 10000000."""
    return param(policy_id, condition_id).value


def units(policy_id: str) -> tuple[str, list[str]]:
    """(lead unit, responsible units) as the corpus clause ``units_from`` states them."""
    p = policy(policy_id)
    return p.lead_unit, list(p.responsible_units)


def fact_label(name: str, lang: Lang = "zh") -> str:
    return load_policies().fact_label(name, lang)


def notice(name: str, lang: Lang = "zh", **values: str) -> str:
    return load_policies().notice(name, lang, **values)
