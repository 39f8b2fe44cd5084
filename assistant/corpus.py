"""The policy corpus: 北碚府发〔2019〕75号 as citable clauses, with its annex and known discrepancies.

Everything downstream (retrieval, citations, the calculator, the eval) quotes clause text verbatim,
so the text here must read exactly like the source: the PDF's line breaks and page furniture are
removed, nothing is reworded. The annex table is too broken in the extraction to parse, so it is
curated in ``corpus/annex.yaml``; the places where the annex and the main text disagree are curated
in ``corpus/discrepancies.yaml``. Both are checked against the raw text by ``tests/test_corpus.py``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from assistant.gongwen import (
    CN_NUMERALS,
    DATE,
    GongwenDocument,
    Section,
    normalize,
    parse_document,
    parse_gongwen,
    strip_page_furniture,
)

__all__ = [
    "Clause",
    "Corpus",
    "Discrepancy",
    "GongwenDocument",
    "Section",
    "canonical_clause_id",
    "load_corpus",
    "normalize",
    "parse_document",
    "parse_gongwen",
    "strip_page_furniture",
]

# Bump when parsing changes what clause text looks like, so content_hash (and any index built on it)
# changes even though the input files did not.
PARSER_VERSION = "1"

ANNEX_FILE = "annex.yaml"
DISCREPANCIES_FILE = "discrepancies.yaml"

# --------------------------------------------------------------------------------------------------
# Clauses
# --------------------------------------------------------------------------------------------------


class Clause(BaseModel):
    """The unit of retrieval and citation.

    ``text`` is normalised source text, so any quote cut from it is verbatim. Main clauses keep the
    run-in title sentence and the trailing "（牵头单位：…；责任单位：…）" in ``text``; a clause whose
    heading stands on its own line (二(四)) has only its body there. ``deadline`` is only what the
    clause's own source says: main-text clauses never state one, the annex rows do (see
    ``Corpus.counterparts``), so a deadline is never cited to text that does not contain it.
    Frozen because loaded corpora are cached and shared.
    """

    model_config = ConfigDict(frozen=True)

    clause_id: str
    title: str
    text: str
    source: Literal["main", "annex", "meta"]
    section: str = ""
    lead_unit: str | None = None
    responsible_units: list[str] = Field(default_factory=list)
    deadline: str | None = None
    related: list[str] = Field(default_factory=list)


class Discrepancy(BaseModel):
    """A place where the annex row and its main-text clause say different things."""

    model_config = ConfigDict(frozen=True)

    main_clause_id: str
    annex_clause_id: str
    kind: str  # quantity | extra_condition | amount_detail | wording | units_order | units
    description: str
    main_quote: str | None = None
    annex_quote: str | None = None


_UNITS = re.compile(r"（牵头(?:单位|部门)：(?P<lead>[^；）]+)(?:；(?:责任|配合)(?:单位|部门)：(?P<resp>[^）]+))?）$")


def _parse_units(text: str) -> tuple[str | None, list[str]]:
    m = _UNITS.search(text)
    if not m:
        return None, []
    resp = [u.strip() for u in (m.group("resp") or "").split("、") if u.strip()]
    return m.group("lead").strip(), resp


def _iso_date(date: str | None) -> str | None:
    m = DATE.fullmatch(date or "")
    if not m or not m.group(1):
        return None
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


class Corpus:
    """The clauses of one policy document, in document order, with counterparts and discrepancies."""

    def __init__(
        self,
        clauses: list[Clause],
        discrepancies: list[Discrepancy],
        *,
        document: GongwenDocument,
        content_hash: str,
        annex_title: str = "",
    ) -> None:
        self.clauses = clauses
        self.discrepancies = discrepancies
        self.document = document
        self.content_hash = content_hash
        self.annex_title = annex_title
        self._by_id = {c.clause_id: c for c in clauses}
        if len(self._by_id) != len(clauses):
            raise ValueError("duplicate clause ids in corpus")

    @property
    def title(self) -> str:
        return self.document.title

    @property
    def doc_number(self) -> str | None:
        return self.document.doc_number

    @property
    def issuer(self) -> str | None:
        return self.document.signature

    @property
    def issued(self) -> str | None:
        """ISO date (2019-12-05)."""
        return _iso_date(self.document.date)

    def get(self, clause_id: str) -> Clause:
        return self._by_id[clause_id]

    def has(self, clause_id: str) -> bool:
        return clause_id in self._by_id

    def ids(self) -> list[str]:
        return [c.clause_id for c in self.clauses]

    def counterparts(self, clause_id: str) -> list[Clause]:
        return [self._by_id[r] for r in self.get(clause_id).related]

    def discrepancies_for(self, clause_id: str) -> list[Discrepancy]:
        return [d for d in self.discrepancies if clause_id in (d.main_clause_id, d.annex_clause_id)]

    def __len__(self) -> int:
        return len(self.clauses)

    def __iter__(self) -> Iterator[Clause]:
        return iter(self.clauses)


def _meta_clause(doc: GongwenDocument) -> Clause:
    """文件信息 is not a paragraph of the source: it gathers the title block and closing into one
    readable block so questions like "文号是多少" have something verbatim to cite."""
    parts = [f"标题：《{doc.title}》"]
    if doc.signature:
        parts.append(f"发文机关：{doc.signature}")
    if doc.doc_number:
        parts.append(f"文号：{doc.doc_number}")
    if doc.date:
        parts.append(f"成文日期：{doc.date}")
    if doc.addressees:
        parts.append(f"主送：{doc.addressees}")
    if doc.attachment_note:
        parts.append(doc.attachment_note)
    return Clause(
        clause_id="文件信息",
        title="文件信息",
        text=normalize("。".join(parts) + "。"),
        source="meta",
        section="文件信息",
    )


def _main_clauses(doc: GongwenDocument) -> list[Clause]:
    """Every section with text of its own is a clause. Here that is exactly the leaves: a heading
    with sub-items (二(一)) has no text, so it is not citable."""
    clauses = []
    if doc.preamble:
        clauses.append(Clause(clause_id="前言", title="前言", text=doc.preamble, source="main", section="前言"))
    for root in doc.sections:
        for path, sec in root.walk():
            if not sec.text:
                continue
            lead, resp = _parse_units(sec.text)
            clauses.append(
                Clause(
                    clause_id="".join(s.id_part for s in (*path, sec)),
                    title=sec.title,
                    text=sec.text,
                    source="main",
                    section=" > ".join(s.heading for s in (*path, sec)),
                    lead_unit=lead,
                    responsible_units=resp,
                )
            )
    return clauses


def _annex_clauses(annex: dict) -> list[Clause]:
    return [
        Clause(
            clause_id=f"附件-{row['number']}",
            title=row["task"],
            text=normalize(row["content"]),
            source="annex",
            section=f"附件：任务分解表 > {row['group']} > {row['number']}.{row['task']}",
            lead_unit=row["lead_unit"],
            responsible_units=list(row["responsible_units"]),
            deadline=row["deadline"],
            related=[row["main_clause"]],
        )
        for row in annex["rows"]
    ]


def _hash(parts: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256(PARSER_VERSION.encode())
    for name, data in parts:
        h.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def _build(corpus_dir: Path) -> Corpus:
    annex_bytes = (corpus_dir / ANNEX_FILE).read_bytes()
    disc_bytes = (corpus_dir / DISCREPANCIES_FILE).read_bytes()
    annex = yaml.safe_load(annex_bytes)
    raw_path = corpus_dir / annex["source"]
    raw_bytes = raw_path.read_bytes()

    doc = parse_document(raw_bytes.decode("utf-8"))
    main = _main_clauses(doc)
    annex_clauses = _annex_clauses(annex)
    by_id = {c.clause_id: c for c in main}
    for a in annex_clauses:
        for main_id in a.related:
            if main_id not in by_id:
                raise ValueError(f"{ANNEX_FILE}: {a.clause_id} names unknown main clause {main_id!r}")
            by_id[main_id].related.append(a.clause_id)

    discrepancies = [Discrepancy(**d) for d in yaml.safe_load(disc_bytes)["discrepancies"]]
    clauses = [_meta_clause(doc), *main, *annex_clauses]
    content_hash = _hash([(annex["source"], raw_bytes), (ANNEX_FILE, annex_bytes), (DISCREPANCIES_FILE, disc_bytes)])
    corpus = Corpus(clauses, discrepancies, document=doc, content_hash=content_hash, annex_title=annex["title"])
    for d in discrepancies:
        if d.annex_clause_id not in corpus.get(d.main_clause_id).related:
            raise ValueError(f"{DISCREPANCIES_FILE}: {d.main_clause_id} and {d.annex_clause_id} are not counterparts")
    return corpus


def _stamp(corpus_dir: Path) -> tuple[tuple[str, int, int], ...]:
    files = [corpus_dir / ANNEX_FILE, corpus_dir / DISCREPANCIES_FILE, *sorted((corpus_dir / "raw").glob("*"))]
    return tuple((f.name, (st := f.stat()).st_mtime_ns, st.st_size) for f in files if f.is_file())


@lru_cache(maxsize=8)
def _load_cached(corpus_dir: Path, stamp: tuple[tuple[str, int, int], ...]) -> Corpus:
    return _build(corpus_dir)


def load_corpus(corpus_dir: Path | None = None) -> Corpus:
    """Load a corpus directory (default: settings.corpus_dir).

    Cached per directory and per file stamp (mtime, size), so repeated calls are free while an
    edited file is picked up on the next call.
    """
    if corpus_dir is None:
        from assistant.settings import get_settings

        corpus_dir = get_settings().corpus_dir
    path = Path(corpus_dir).resolve()
    return _load_cached(path, _stamp(path))


# --------------------------------------------------------------------------------------------------
# Clause ids as users type them
# --------------------------------------------------------------------------------------------------

_ANNEX_ID = re.compile(r"(?:附件|附表|annex)[-_—–]?(?:第)?(\d{1,2})(?:项|条|行)?", re.IGNORECASE)
_MAIN_ID = re.compile(rf"([{CN_NUMERALS}]{{1,3}})、?(?:\(([{CN_NUMERALS}]{{1,3}})\))?(?:第)?(\d{{1,2}})?(?:项|条)?")


def canonical_clause_id(s: str, corpus: Corpus | None = None) -> str | None:
    """Map what people type ("三（四）", "附件 11", "annex-11", "二(一)1.") to a clause id.

    Returns None unless the id exists in ``corpus`` (default: the configured corpus), so callers
    can treat None as "no such clause" without a second lookup.
    """
    if not s:
        return None
    t = unicodedata.normalize("NFKC", s)  # full-width digits and brackets to ASCII
    t = re.sub(r"\s+", "", t).strip("【】[]<>《》「」").rstrip(".、。")
    if m := _ANNEX_ID.fullmatch(t):
        candidate = f"附件-{int(m.group(1))}"
    elif m := _MAIN_ID.fullmatch(t):
        candidate = m.group(1) + (f"({m.group(2)})" if m.group(2) else "") + (m.group(3) or "")
    else:
        candidate = t
    corpus = corpus or load_corpus()
    return candidate if corpus.has(candidate) else None
