"""The words owners use, as data: what a question asks (asks.yaml), lay vocabulary (vocabulary.yaml) and
what the document leaves unspecified (unspecified.yaml).

Kept as data under ``corpus/`` so that covering a new kind of question means adding an entry and a test,
not another branch in the composer. Loaded once per corpus directory and validated on load, so a typo in
a regex fails at start-up rather than in the middle of an answer.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path
from re import Pattern

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["AskKind", "Cue", "Lexicon", "Parameter", "Term", "Unspecified", "Veto", "load_lexicon"]


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


class Cue(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    re: str
    w: float = 1.0

    @field_validator("re")
    @classmethod
    def _valid(cls, value: str) -> str:
        _compile(value)
        return value

    @property
    def pattern(self) -> Pattern[str]:
        return _compile(self.re)


class AskKind(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    floor: float = 3.0
    cues: tuple[Cue, ...] = ()

    def score(self, text: str) -> float:
        return sum(c.w for c in self.cues if c.pattern.search(text))


class Term(BaseModel):
    """A lay word and the clauses (and subsidy policies) it concerns."""

    model_config = ConfigDict(frozen=True)

    words: str
    zh: str
    en: str
    called: str
    business: bool = True
    clauses: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()

    @field_validator("words")
    @classmethod
    def _valid(cls, value: str) -> str:
        _compile(value)
        return value

    def found_in(self, text: str) -> bool:
        return bool(_compile(self.words).search(text))


class Veto(BaseModel):
    """Something the owner says that rules a policy out whatever the figures (a Taobao shop is not a
    self-built platform; an office outside the district gets no purchase subsidy)."""

    model_config = ConfigDict(frozen=True)

    when: str
    unless: str | None = None
    policies: tuple[str, ...]
    zh: str
    en: str
    clause: str
    phrase: str

    def applies(self, text: str) -> bool:
        if not _compile(self.when).search(text):
            return False
        return not (self.unless and _compile(self.unless).search(text))


class Unspecified(BaseModel):
    """Something the document does not specify, where to point, and whom to ask."""

    model_config = ConfigDict(frozen=True)

    id: str
    zh: str
    en: str
    cues: tuple[str, ...]
    needs: str | None = None
    nearest: tuple[str, ...] = Field(min_length=1)
    ask: str = "lead"
    prefer: str | None = None  # "lexical": the clauses the question names first; "topic": this entry's own nearest
    subject: str | None = None  # regex naming what is asked about; unspecified only if the clauses omit it

    def subject_in(self, text: str) -> str | None:
        if not self.subject:
            return None
        m = _compile(self.subject).search(text)
        if not m:
            return None
        found = next((g for g in m.groups() if g), "")
        found = found.split("对")[-1]  # "园区对入驻企业数量有要求吗": the subject follows 对
        return re.sub(r"^(?:文件|政策|这个|那个|园区的?|企业的?)", "", found).strip() or None

    @field_validator("cues")
    @classmethod
    def _valid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            _compile(pattern)
        return value

    def found_in(self, text: str) -> bool:
        if not any(_compile(p).search(text) for p in self.cues):
            return False
        return self.needs is None or bool(_compile(self.needs).search(text))


class Parameter(BaseModel):
    """A figure of a subsidy an owner may ask about by itself: its term, maximum, rate or threshold."""

    model_config = ConfigDict(frozen=True)

    id: str
    cue: str
    params: tuple[str, ...]
    pick: str = "all"  # "largest": one figure, the largest of those found
    zh: str
    en: str

    def found_in(self, text: str) -> bool:
        return bool(_compile(self.cue).search(text))

    def names(self, available: list[str]) -> list[str]:
        """The policy's figure names matching ``params`` (shell-style: tier*_amount), in that order."""
        out: list[str] = []
        for pattern in self.params:
            out += [n for n in available if fnmatch.fnmatchcase(n, pattern) and n not in out]
        return out


class Lexicon(BaseModel):
    model_config = ConfigDict(frozen=True)

    kinds: dict[str, AskKind]
    terms: tuple[Term, ...]
    unspecified: tuple[Unspecified, ...]
    vetoes: tuple[Veto, ...] = ()
    parameters: tuple[Parameter, ...] = ()

    def parameters_in(self, text: str) -> list[Parameter]:
        return [p for p in self.parameters if p.found_in(text)]

    def vetoes_in(self, text: str) -> list[Veto]:
        return [v for v in self.vetoes if v.applies(text)]

    def terms_in(self, text: str) -> list[Term]:
        return [t for t in self.terms if t.found_in(text)]

    def unspecified_in(self, text: str) -> list[Unspecified]:
        return [u for u in self.unspecified if u.found_in(text)]


def _read(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


@lru_cache(maxsize=8)
def load_lexicon(corpus_dir: str | Path) -> Lexicon:
    base = Path(corpus_dir)
    asks_file = _read(base / "asks.yaml")
    kinds = {name: AskKind(name=name, **spec) for name, spec in asks_file["kinds"].items()}
    parameters = tuple(Parameter(**p) for p in asks_file.get("parameters") or [])
    vocabulary = _read(base / "vocabulary.yaml")
    terms = tuple(Term(**t) for t in vocabulary["terms"])
    vetoes = tuple(Veto(**v) for v in vocabulary.get("vetoes") or [])
    unspecified = tuple(Unspecified(**u) for u in _read(base / "unspecified.yaml")["topics"])
    return Lexicon(kinds=kinds, terms=terms, unspecified=unspecified, vetoes=vetoes, parameters=parameters)
