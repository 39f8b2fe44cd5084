"""The general 公文 parser (GB/T 9704 layout): a Chinese government document, as PDF extraction leaves it, read
into its title block, preamble, numbered section tree (一、 > （一） > 1. > （1）), signature, date and annex text.

Nothing here knows this policy: `assistant.corpus` turns the parsed document into citable clauses. Text is
normalised without rewording, because every quote downstream must match the source character for character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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
CN_NUMERALS = "一二三四五六七八九十"


def _cn_to_int(s: str) -> int:
    """Chinese numerals up to 99 (一, 十, 十二, 二十, 二十三), which is all headings need."""
    if "十" not in s:
        return _CN_DIGITS[s]
    tens, _, ones = s.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


# The 公文 numbering hierarchy (GB/T 9704): 一、 > （一） > 1. > （1） > ①.
_HEADINGS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"([{CN_NUMERALS}]{{1,3}})、")),
    (2, re.compile(rf"[（(]([{CN_NUMERALS}]{{1,3}})[）)]")),
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
DATE = re.compile(
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
        (i for i in range(first_heading, len(lines)) if DATE.fullmatch(normalize(lines[i]))),
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
