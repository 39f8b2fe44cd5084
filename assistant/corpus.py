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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

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
# Text normalisation
# --------------------------------------------------------------------------------------------------

# Characters that never take a space next to them in Chinese typesetting: ideographs, CJK and
# full-width punctuation, and the curly quotes the PDF uses around Chinese phrases.
_CJK = (
    "\u2018-\u201f\u2014\u2026\u00b7"  # ‘’“” — … ·
    "\u2e80-\u2fff\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u3200-\u33ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0002fa1f"
)
_SPACE_NEXT_TO_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Canonical form for all clause text and for anything compared with it.

    PDF extraction puts spaces around half-width runs ("到 2022 年", "30 万元") and breaks lines
    mid-word; Chinese has no inter-word spaces, so whitespace touching a CJK character is an
    artefact and goes. Whitespace between two Latin/digit tokens is real and is kept as one space.
    The result is a fixed point: normalize(normalize(x)) == normalize(x).
    """
    text = _SPACE_NEXT_TO_CJK.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _width(line: str) -> int:
    """Layout width in half-width cells: wrapped lines of a page all have about the same width."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line.strip())


_SENTENCE_PUNCT = set("，。；：！？,;:!?")


def _has_sentence_punct(s: str) -> bool:
    return any(c in _SENTENCE_PUNCT for c in s)


# --------------------------------------------------------------------------------------------------
# Page furniture
# --------------------------------------------------------------------------------------------------

# Running headers/footers and page numbers that PDF extraction interleaves with the body.
FURNITURE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"[-—–－]\s*\d{1,3}\s*[-—–－]",  # - 3 -
        r"第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?",  # 第 3 页 共 8 页
        r"\d{1,3}\s*/\s*\d{1,3}",  # 3 / 8
        r"\S{2,40}行政规范性文件",  # series header of 规范性文件
        r"\S{2,40}(?:办公室|办公厅)发布",  # publisher footer
    )
)


def _is_furniture(line: str, patterns: Iterable[re.Pattern[str]]) -> bool:
    s = line.strip()
    # Body lines of a wrapped page nearly always carry punctuation; furniture never does. This keeps a
    # body line that happens to end in "…行政规范性文件" from being dropped.
    if not s or _has_sentence_punct(s):
        return False
    return any(p.fullmatch(s) for p in patterns)


def strip_page_furniture(lines: Iterable[str], extra_patterns: Iterable[str | re.Pattern[str]] = ()) -> list[str]:
    """Drop running headers, footers and page numbers; keep every other line (blank ones too).

    A lone one- or two-character line next to furniture (the stray "重" left over from a
    rotated header) is furniture as well; elsewhere such a line can be real text, so it stays.
    ``extra_patterns`` are full-line regexes for a document's own headers.
    """
    lines = list(lines)
    patterns = FURNITURE_PATTERNS + tuple(re.compile(p) if isinstance(p, str) else p for p in extra_patterns)
    furniture = [_is_furniture(line, patterns) for line in lines]
    content = [i for i, line in enumerate(lines) if line.strip()]
    for k, i in enumerate(content):
        s = lines[i].strip()
        if furniture[i] or len(s) > 2 or _has_sentence_punct(s):
            continue
        neighbours = content[max(k - 1, 0) : k] + content[k + 1 : k + 2]
        if any(furniture[j] for j in neighbours):
            furniture[i] = True
    return [line for line, drop in zip(lines, furniture) if not drop]


# --------------------------------------------------------------------------------------------------
# General 公文 parser
# --------------------------------------------------------------------------------------------------

_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUM = "一二三四五六七八九十"


def _cn_to_int(s: str) -> int:
    """Chinese numerals up to 99 (一, 十, 十二, 二十, 二十三), which is all headings need."""
    if "十" not in s:
        return _CN_DIGITS[s]
    tens, _, ones = s.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


# The 公文 numbering hierarchy (GB/T 9704): 一、 > （一） > 1. > （1） > ①.
_HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"([{_CN_NUM}]{{1,3}})、")),
    (2, re.compile(rf"[（(]([{_CN_NUM}]{{1,3}})[）)]")),
    (3, re.compile(r"(\d{1,2})[.．、](?!\d)")),
    (4, re.compile(r"[（(](\d{1,2})[）)]")),
    (5, re.compile("([\u2460-\u2473])")),  # ① … ⑳
)


def _match_heading(line: str) -> tuple[int, int, str, str] | None:
    """(level, number, label, marker) if the line starts with a heading marker."""
    for level, pattern in _HEADINGS:
        m = pattern.match(line)
        if not m:
            continue
        label = m.group(1)
        if level in (1, 2):
            number = _cn_to_int(label)
        elif level == 5:
            number = ord(label) - 0x245F
        else:
            number = int(label)
        return level, number, label, m.group(0)
    return None


@dataclass
class Section:
    """One numbered unit of a 公文 and the units nested under it.

    ``title`` is the heading: either a standalone heading line ("（一）壮大电子商务产业集群") or the
    run-in first sentence of the paragraph ("（四）支持企业自建电子商务平台。对…"), without its
    full stop. ``paragraphs`` is the normalised text under the marker, excluding children; for a
    run-in title it starts with the title sentence, for a standalone heading it does not contain it.
    So the source reads as ``marker + (title if not run_in) + text``.
    """

    level: int
    number: int
    label: str  # the numeral as printed: "三", "四", "1"
    marker: str  # the marker as printed: "三、", "（四）", "1."
    title: str
    run_in: bool
    paragraphs: list[str] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    @property
    def text(self) -> str:
        # Chinese paragraphs end in sentence punctuation, so concatenation reads correctly and stays
        # a fixed point of normalize().
        return "".join(self.paragraphs)

    @property
    def heading(self) -> str:
        return f"{self.marker}{self.title}"

    @property
    def id_part(self) -> str:
        """Level 2 and 4 numerals are parenthesised in ids, as in the source: 二(一)1, 三(四)."""
        return f"({self.label})" if self.level in (2, 4) else self.label

    def walk(self, path: tuple[Section, ...] = ()) -> Iterator[tuple[tuple[Section, ...], Section]]:
        """Pre-order (ancestors, section) pairs."""
        yield path, self
        for child in self.children:
            yield from child.walk(path + (self,))


@dataclass
class GongwenDocument:
    """The parts of a 公文 around its numbered body."""

    title: str = ""
    doc_number: str | None = None  # 文号
    addressees: str | None = None  # 主送机关, without the trailing colon
    preamble: str = ""  # text before the first numbered heading
    sections: list[Section] = field(default_factory=list)
    attachment_note: str | None = None  # "附件：…" line(s) after the body
    signature: str | None = None  # 发文机关署名
    date: str | None = None  # 成文日期 as printed, normalised ("2019年12月5日")
    annex_text: str = ""  # raw text after the date: the attachments themselves, unparsed


_DOC_NUMBER = re.compile(r"\S{1,20}[〔\[［(（]\d{4}[〕\]］)）]\d{1,4}号")
_DATE = re.compile(
    r"(\d{4})年(\d{1,2})月(\d{1,2})日|[〇零○一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"
)
_ATTACHMENT = re.compile(r"附件\s*\d*\s*[：:]")
_TITLE_SENTENCE = re.compile(r"([^。！？；，：]{1,40}?)([。！？])")
_SHORT_LINE = 0.85  # a wrapped line narrower than this share of the page width ends its paragraph


def _page_width(lines: list[str]) -> int | None:
    """Typical full-line width, or None when the text was not wrapped (one paragraph per line).

    In a wrapped PDF most lines run to the right margin; short lines end paragraphs. Without that
    regularity line ends mean nothing, so every line is its own paragraph.
    """
    widths = sorted(_width(line) for line in lines)
    if len(widths) < 4:
        return None
    full = widths[int(len(widths) * 0.9)]
    near_full = sum(w >= _SHORT_LINE * full for w in widths)
    return full if near_full >= len(widths) / 2 else None


def _paragraphs(lines: list[str], page_width: int | None) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if page_width is None or _width(line) < _SHORT_LINE * page_width:
            paragraphs.append(normalize(" ".join(current)))
            current = []
    if current:
        paragraphs.append(normalize(" ".join(current)))
    return [p for p in paragraphs if p]


def _make_section(level: int, number: int, label: str, marker: str, paragraphs: list[str]) -> Section:
    first = paragraphs[0] if paragraphs else ""
    if first and not _has_sentence_punct(first) and len(first) <= 40:
        return Section(level, number, label, marker, title=first, run_in=False, paragraphs=paragraphs[1:])
    m = _TITLE_SENTENCE.match(first)
    title = m.group(1) if m else ""
    return Section(level, number, label, marker, title=title, run_in=bool(title), paragraphs=paragraphs)


def _find_headings(lines: list[str]) -> list[tuple[int, tuple[int, int, str, str]]]:
    """Indices of heading lines, accepting a marker only if it continues its level's numbering.

    The sequence check is what keeps a wrapped line that merely starts with "1." or "（一）" from
    being taken for a heading.
    """
    found = []
    last: dict[int, int] = {}
    for i, line in enumerate(lines):
        h = _match_heading(line)
        if h is None or h[1] != last.get(h[0], 0) + 1:
            continue
        last[h[0]] = h[1]
        for deeper in [lvl for lvl in last if lvl > h[0]]:
            del last[deeper]
        found.append((i, h))
    return found


def _build_sections(lines: list[str], page_width: int | None) -> list[Section]:
    headings = _find_headings(lines)
    roots: list[Section] = []
    stack: list[Section] = []
    for k, (start, (level, number, label, marker)) in enumerate(headings):
        end = headings[k + 1][0] if k + 1 < len(headings) else len(lines)
        # Split paragraphs on the printed lines (the marker counts toward line width), then drop it.
        paragraphs = _paragraphs(lines[start:end], page_width)
        paragraphs[0] = paragraphs[0].removeprefix(normalize(marker))
        section = _make_section(level, number, label, marker, [p for p in paragraphs if p])
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else roots).append(section)
        stack.append(section)
    return roots


def parse_document(text: str) -> GongwenDocument:
    """Split a 公文 into title block, preamble, numbered body and closing, and parse the body.

    Expected layout (each part optional): title lines, 文号, 主送机关 ending in "：", preamble,
    numbered sections, "附件：…", signature, date, then the attachments themselves.
    """
    raw_lines = text.splitlines()
    lines = [line.strip() for line in strip_page_furniture(raw_lines) if line.strip()]
    doc = GongwenDocument()

    first_heading = next((i for i, line in enumerate(lines) if (h := _match_heading(line)) and h[1] == 1), len(lines))

    # Closing: the first full-line date after the body starts; the line before it is the signature.
    date_idx = next(
        (i for i in range(first_heading, len(lines)) if _DATE.fullmatch(normalize(lines[i]))),
        None,
    )
    body_end = len(lines)
    if date_idx is not None:
        doc.date = normalize(lines[date_idx])
        body_end = date_idx
        if date_idx > first_heading and not _has_sentence_punct(lines[date_idx - 1]):
            doc.signature = normalize(lines[date_idx - 1])
            body_end -= 1
        attach = next(
            (i for i in range(body_end - 1, first_heading, -1) if _ATTACHMENT.match(lines[i])),
            None,
        )
        if attach is not None:
            doc.attachment_note = normalize(" ".join(lines[attach:body_end]))
            body_end = attach
        doc.annex_text = "\n".join(lines[date_idx + 1 :])

    front, body = lines[:first_heading], lines[first_heading:body_end]
    page_width = _page_width(front + body)

    # Title block: lines before the 文号, or else the leading lines without sentence punctuation.
    number_idx = next((i for i, line in enumerate(front[:8]) if _DOC_NUMBER.fullmatch(normalize(line))), None)
    if number_idx is not None:
        doc.doc_number = normalize(front[number_idx])
    if number_idx:
        title_lines, rest = front[:number_idx], front[number_idx + 1 :]
    else:
        rest = front[1:] if number_idx == 0 else front
        n = next((i for i, line in enumerate(rest) if _has_sentence_punct(line)), len(rest))
        title_lines, rest = rest[:n], rest[n:]
    doc.title = normalize("".join(title_lines))

    # 主送机关: a short run of lines ending in a colon, before any full sentence.
    addr_end = next((i for i, line in enumerate(rest[:4]) if line.endswith(("：", ":"))), None)
    if addr_end is not None and not any("。" in line for line in rest[: addr_end + 1]):
        doc.addressees = normalize(" ".join(rest[: addr_end + 1]))[:-1]
        rest = rest[addr_end + 1 :]
    doc.preamble = "".join(_paragraphs(rest, page_width))

    doc.sections = _build_sections(body, page_width)
    return doc


def parse_gongwen(text: str) -> list[Section]:
    """The numbered body of a Chinese policy document as a section tree (一、 > （一） > 1. > （1））."""
    return parse_document(text).sections


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
    m = _DATE.fullmatch(date or "")
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
_MAIN_ID = re.compile(rf"([{_CN_NUM}]{{1,3}})、?(?:\(([{_CN_NUM}]{{1,3}})\))?(?:第)?(\d{{1,2}})?(?:项|条)?")


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
