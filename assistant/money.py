"""The one module that reads and writes money: parsing what owners type, formatting what the assistant shows.

Why one module: a figure is parsed in the chat reader, the page forms and the evaluator, and formatted in the
calculator, the composer and the page. Four copies of these rules used to drift (one read "30 万元", another did
not; one printed "123.5元", another "123.50元"). Everything here is exact ``Decimal``; nothing is ever a float.

Parsing
  * ``parse_numeral`` — one figure: "3.5亿", "三亿五千万", "壹亿伍仟万元", "1,000万", "2亿美元", "3 million".
  * ``parse_money`` — the same, plus the currency ("CNY" | "USD").
  * ``extract_amounts`` — every money figure in a sentence (``Amount``: value, currency, span, raw text),
    with exchange-rate phrases masked so "1美元兑7.1元" is not money; ``extract_rate`` reads that rate.
  * ``parse_form_amount`` — one form field where a bare number means 万 ("300" → 300万元).
  * ``yuan_values`` — the CNY figures of a text, for comparing an answer's amounts with expected ones.

Formatting
  * ``canonical_amount`` — the API spelling: "300000", "123.50", "246913.578".
  * ``format_yuan`` — for people: "30万元 (300,000元)", "约24.6913万元 (246,913.578元)".
  * ``format_yuan_en`` — the same in English: "300,000 yuan (30万元)".
  * ``format_compact`` — exact compact figure for running text: "3亿元", "49.8万元", "123.50元".
  * ``format_cn_amount`` — compact figure as owners write it: "2.5亿美元", "123.5元".
  * ``format_usd`` / ``format_money_en`` / ``format_percent``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Literal

import cn2an

__all__ = [
    "MAX_MONEY",
    "NUMERAL",
    "WAN",
    "YI",
    "Amount",
    "Currency",
    "MoneyReading",
    "canonical_amount",
    "extract_amounts",
    "extract_rate",
    "format_cn_amount",
    "format_compact",
    "format_money_en",
    "format_percent",
    "format_usd",
    "format_yuan",
    "format_yuan_en",
    "parse_form_amount",
    "parse_money",
    "parse_numeral",
    "prepare",
    "read_money",
    "yuan_values",
]

Currency = Literal["CNY", "USD"]

WAN = Decimal(10_000)
YI = Decimal(100_000_000)
# The largest figure any input may carry (10^15 yuan): far above any real enterprise, low enough that a typo
# such as an extra six zeros is still caught.
MAX_MONEY = Decimal(10) ** 15

# Display may round (and says so with 约); parsing and canonical spelling never need to.
_DISPLAY = Context(prec=80, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])

# --------------------------------------------------------------------------------------------------
# Text preparation: full-width digits, letters and a few symbols to ASCII, one character for one, so
# spans found in the prepared text are spans of the original.
# --------------------------------------------------------------------------------------------------

_WIDTH_TABLE: dict[int, int | str] = {0xFF10 + i: ord("0") + i for i in range(10)}
_WIDTH_TABLE.update({0xFF21 + i: ord("A") + i for i in range(26)})
_WIDTH_TABLE.update({0xFF41 + i: ord("a") + i for i in range(26)})
_WIDTH_TABLE.update({ord("．"): ".", ord("％"): "%", ord("＄"): "$", ord("＝"): "=", ord("萬"): "万", ord("億"): "亿"})


_W_FOR_WAN = re.compile(r"(?<=\d)[wW](?![A-Za-z])")


def prepare(text: str) -> str:
    """Same length as ``text``: spans stay valid. "235w" is how owners type 235万."""
    return _W_FOR_WAN.sub("万", text.translate(_WIDTH_TABLE))


# --------------------------------------------------------------------------------------------------
# Numerals
# --------------------------------------------------------------------------------------------------

_CN_DIGIT = "零〇一二两三四五六七八九壹贰貳叁肆伍陆柒捌玖"
_CN_MULT = "十拾百佰千仟万亿"
_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# Arabic mantissa, optionally continued Chinese-style: 3亿5千万, 4千5百万, 3亿5000万.
_MIXED = rf"(?:{_ARABIC})(?:[{_CN_MULT}]+(?:(?:{_ARABIC}|[{_CN_DIGIT}])(?=[{_CN_MULT}]))?)*"
_CN_DEC = rf"[{_CN_DIGIT}十拾][{_CN_DIGIT}{_CN_MULT}]*点[{_CN_DIGIT}]+[万亿]*"
_CN_INT = rf"[{_CN_DIGIT}十拾][{_CN_DIGIT}{_CN_MULT}]*"
NUMERAL = rf"(?:{_MIXED}|{_CN_DEC}|{_CN_INT})"

_SCALE = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10**4, "亿": 10**8}
_ENGLISH_SCALE = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "mn": 10**6,
    "m": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "b": 10**9,
}
_ARABIC_SCALED = re.compile(r"(\d+(?:\.\d+)?)([十拾百佰千仟万亿]*)")
_ARABIC_ENGLISH = re.compile(r"(\d+(?:\.\d+)?)\s*(thousand|million|billion|mn|bn|k|m|b)", re.IGNORECASE)
_CN_TAIL = re.compile(r"(.+[亿])([一二两三四五六七八九])")  # cn2an rejects 三亿五; 两万五, 一千五 it reads itself
_CN_DEC_SCALED = re.compile(rf"([{_CN_DIGIT}十拾][{_CN_DIGIT}{_CN_MULT}]*点[{_CN_DIGIT}]+)([万亿]*)")
_USD_WORDS = re.compile(r"美元|美金|美刀|USD|US\$|\$|dollar", re.IGNORECASE)
_CURRENCY_PREFIX = re.compile(r"^(?:US\$|\$|USD|RMB|CNY|¥|￥|人民币)\s*", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(
    r"\s*(?:元人民币|元整|元|块钱|块|人民币|美元|美金|美刀|US\s?dollars?|dollars?|USD|RMB|CNY|yuan)$", re.IGNORECASE
)


def _scale(units: str) -> Decimal:
    factor = Decimal(1)
    for ch in units:
        factor *= _SCALE[ch]
    return factor


def _split_currency(text: str) -> tuple[str, Currency, bool]:
    """Strip one currency word at either end; report which currency and whether one was there at all."""
    s = prepare(text).strip()
    pre = _CURRENCY_PREFIX.match(s)
    head = pre.group(0) if pre else ""
    s = s[len(head) :]
    suf = _CURRENCY_SUFFIX.search(s)
    tail = suf.group(0) if suf else ""
    s = s[: len(s) - len(tail)] if tail else s
    currency: Currency = "USD" if _USD_WORDS.search(head + tail) else "CNY"
    return s.strip(), currency, bool(head or tail)


def parse_numeral(text: str) -> Decimal | None:
    """'3.5亿' → 350000000, '三亿五千万' → 350000000, '1,000万' → 10000000, '一点九亿' → 190000000,
    '壹亿伍仟万元' → 150000000, '2亿美元' → 200000000, '3 million' → 3000000.

    A currency word at either end is ignored (``parse_money`` reports it). Arabic mantissas are scaled exactly
    with Decimal ("5万亿" = 5×10^12 works although cn2an rejects it); everything else goes to cn2an's "smart"
    mode. None when it is not a number.
    """
    s, _currency, _ = _split_currency(text)
    s = s.replace(",", "").strip()
    if not s:
        return None
    if m := _ARABIC_SCALED.fullmatch(s):
        return Decimal(m.group(1)) * _scale(m.group(2))
    if m := _ARABIC_ENGLISH.fullmatch(s):
        return Decimal(m.group(1)) * _ENGLISH_SCALE[m.group(2).lower()]
    try:
        if m := _CN_DEC_SCALED.fullmatch(s):
            return Decimal(str(cn2an.cn2an(m.group(1), "smart"))) * _scale(m.group(2))
        return Decimal(str(cn2an.cn2an(s, "smart")))
    except (ValueError, KeyError, IndexError, InvalidOperation):
        pass
    if (m := _CN_TAIL.fullmatch(s)) and (head := parse_numeral(m.group(1))) is not None:
        return head + Decimal(str(cn2an.cn2an(m.group(2), "smart"))) * _SCALE[m.group(1)[-1]] / 10  # 三亿五 = 3.5亿
    return None


def parse_money(text: str) -> tuple[Decimal, Currency] | None:
    """One money figure with its currency: '2亿美元' → (200000000, 'USD'); a bare number is CNY."""
    _s, currency, _ = _split_currency(text)
    value = parse_numeral(text)
    return None if value is None else (value, currency)


# --------------------------------------------------------------------------------------------------
# Amounts in running text
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Amount:
    value: Decimal
    currency: Currency
    start: int
    end: int
    raw: str
    approximate: bool = False  # "3亿多", "4个多亿": the value is a lower bound
    range_part: Literal["low", "high"] | None = None

    @property
    def value_yuan(self) -> Decimal:
        """The figure as a number, for comparing figures across texts (dollars for a USD amount)."""
        return self.value


_AMOUNT = re.compile(
    rf"""
    (?P<pre>(?:US\$|\$|USD|RMB|CNY|¥|￥|人民币)\s*)?
    (?P<num>{NUMERAL})
    (?:(?P<ge>个)?(?P<more>多|余|来)?(?P<mult>[十百千万亿]+))?
    (?P<more2>多|余)?
    (?:\s*(?P<eng>million|billion|thousand|mn|bn|m|k|b)\b)?
    (?P<cur>\s*(?:元人民币|元|块钱|块|人民币|美元|美金|美刀|US\s?dollars?|dollars?|USD|RMB|CNY|yuan)(?![A-Za-z]))?
    """,
    re.VERBOSE | re.IGNORECASE,
)
# A figure followed by one of these counts things, not money: 1000家, 3万单, 20%.
_COUNTER_AFTER = re.compile(
    r"\s*(?:家|个(?![多亿万])|人|名|户|件|单|笔|次|平|㎡|吨|条|项|套|台|辆|份|位|张|倍|粉|%|年|月|日|天|小时|号|届)"
)
# "2万5", "3亿5", "1千5": one trailing digit is a tenth of the unit before it (2.5万), as owners say it. Not when
# the digit starts a word or counts something: "30万一次性扶持", "年租金40万3年", "100万5个人" keep 30万/40万/100万.
_COUNTER_WORDS = r"家|个|人|名|户|件|单|笔|次|平|㎡|吨|条|项|套|台|辆|份|位|张|倍|粉|%|年|月|日|天|小时|号|届"
_TAIL_DIGIT = re.compile(
    r"(?:([0-9])|([一二两三四五六七八九])(?=\s*(?:元|块)|[^\u3400-\u9fff]|$))"
    rf"(?![0-9十百千万亿点.%．]|,\d|\s*[0-9]|\s*(?:{_COUNTER_WORDS}))(?:\s*(?:元|块钱|块))?"
)
_TAIL_UNIT = {"千": 1000, "万": 10**4, "亿": 10**8}
_RANGE_BEFORE = re.compile(rf"({NUMERAL})\s*(?:-|－|—|–|~|～|到|至)\s*$")
_TRAILING_MULT = re.compile(r"[十百千万亿]+$")
_MASK = "\u25a1"  # □ : blanks out rate phrases so "1美元兑7.1元" is not read as money


def _tidy(value: Decimal) -> Decimal:
    """350000000.0 → 350000000: one spelling per value, as the calculator prints it."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _is_arabic(num: str) -> bool:
    return num[:1].isdigit()


def _amounts_in(text: str) -> list[Amount]:
    out: list[Amount] = []
    for m in _AMOUNT.finditer(text):
        if out and m.start() < out[-1].end:
            continue  # the digit already read as the tail of "2万5元"
        num, eng = m.group("num"), (m.group("eng") or "").lower()
        pre, cur = m.group("pre") or "", (m.group("cur") or "").strip()
        mult = m.group("mult") or ""
        if eng and not _is_arabic(num):
            eng = ""
        big = any(ch in "万亿" for ch in num + mult) or eng in ("million", "billion")
        last_unit = (num + mult)[-1:]
        tail = _TAIL_DIGIT.match(text, m.end()) if not (cur or eng or m.group("more2")) else None
        tail = tail if last_unit in _TAIL_UNIT else None
        # "1千5元": the currency after the tail digit belongs to the whole figure.
        has_currency = bool(pre or cur or (tail and tail.group(0).rstrip().endswith(("元", "块", "块钱"))))
        if eng in ("m", "k", "b", "mn", "bn") and not has_currency:
            continue  # "300m" alone may be metres
        if not (has_currency or big):
            continue
        if not has_currency and _COUNTER_AFTER.match(text, m.end()):
            continue
        value = parse_numeral(num)
        if value is None:
            continue
        value = value * _scale(mult) * _ENGLISH_SCALE.get(eng, 1)
        end = m.end()
        if tail:
            digit = parse_numeral(tail.group(1) or tail.group(2))
            if digit is not None:
                value += digit * _TAIL_UNIT[last_unit] / 10
                end = tail.end()
        value = _tidy(value)
        currency: Currency = "USD" if _USD_WORDS.search(pre + cur) else "CNY"
        approximate = bool(m.group("more") or m.group("more2"))
        raw = text[m.start() : end].strip()
        amount = Amount(value, currency, m.start(), end, raw, approximate)
        low = _range_low(text, m, amount)
        if low is not None:
            if out and out[-1].end > low.start:  # "1亿-5亿": the lower end was already read as money
                out.pop()
            out.append(low)
            amount = Amount(value, currency, amount.start, amount.end, raw, approximate, "high")
        out.append(amount)
    return out


def _range_low(text: str, m: re.Match[str], high: Amount) -> Amount | None:
    """'1-5亿元': the unit of the upper end applies to a bare lower end."""
    before = _RANGE_BEFORE.search(text, 0, m.start())
    if not before:
        return None
    low_num = before.group(1)
    unit = ""
    if not _TRAILING_MULT.search(low_num):
        trailing = _TRAILING_MULT.search(m.group("num"))
        unit = (trailing.group(0) if trailing else "") + (m.group("mult") or "")
    value = parse_numeral(low_num + unit)
    if value is None:
        return None
    eng = (m.group("eng") or "").lower() if _is_arabic(m.group("num")) else ""
    value = _tidy(value * _ENGLISH_SCALE.get(eng, 1))
    raw = text[before.start(1) : m.end()].strip()
    return Amount(value, high.currency, before.start(1), before.end(1), raw, False, "low")


# Exchange rates, read (and masked) before amounts. Each pattern's group "r" is the CNY per 1 USD.
_RATE_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(?<![\d.])1\s*美元\s*(?:兑换?|=|换|折合|合|约合?|等于)\s*(?:人民币\s*)?(?P<r>\d+(?:\.\d+)?)\s*(?:元|块)?(?:人民币)?",
        r"美元兑人民币\s*(?:汇率)?\s*(?:按|为|是|取)?\s*(?:1\s*[:：]\s*)?(?P<r>\d+(?:\.\d+)?)",
        r"汇率\s*(?:就|都|先|暂|可以|的话)?\s*(?:按照?|是|为|取|用|:|：|约)?\s*(?:1\s*[:：]\s*)?(?P<r>\d+(?:\.\d+)?)",
        r"按\s*(?P<r>\d+(?:\.\d+)?)\s*的?汇率",
        r"(?:USD|US\$|\$)\s*1\s*=\s*(?:CNY|RMB|¥)?\s*(?P<r>\d+(?:\.\d+)?)",
        r"1\s*(?:USD|US\s?dollars?|dollars?)\s*=\s*(?P<r>\d+(?:\.\d+)?)",
        r"(?:exchange\s+)?rate\s+(?:of\s+|is\s+|at\s+)?(?:1\s*:\s*)?(?P<r>\d+(?:\.\d+)?)",
        r"(?<![\d.,])1\s*[:：]\s*(?P<r>\d+(?:\.\d+)?)(?![\d])",
    )
]


def _find_rate(text: str) -> tuple[Decimal | None, list[tuple[int, int]]]:
    spans: list[tuple[int, int]] = []
    rate: Decimal | None = None
    for pattern in _RATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue
            value = Decimal(m.group("r"))
            if not 0 < value < 100:
                continue
            spans.append((m.start(), m.end()))
            rate = value if rate is None else rate
    return rate, spans


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        chars[s:e] = _MASK * (e - s)
    return "".join(chars)


@dataclass(frozen=True)
class MoneyReading:
    """One pass over a message: the rate it states, and its money figures with the rate phrases blanked out.

    ``masked`` has the length of the input and □ over each rate phrase, so a caller that binds figures to
    cue words reads the same text the amounts were found in and never mistakes "1美元兑7.1元" for money.
    """

    masked: str
    rate: Decimal | None
    amounts: list[Amount]


def read_money(text: str) -> MoneyReading:
    prepared = prepare(text)
    rate, spans = _find_rate(prepared)
    masked = _masked(prepared, spans)
    return MoneyReading(masked, rate, _amounts_in(masked))


def extract_rate(text: str) -> Decimal | None:
    """CNY per USD stated in the text ("1美元兑7.1元", "汇率7.1", "按7.1的汇率", "1:7.1"), else None."""
    return _find_rate(prepare(text))[0]


def extract_amounts(text: str) -> list[Amount]:
    """All money figures in text order. Exchange-rate phrases are not money."""
    return read_money(text).amounts


_SPACE_BEFORE_UNIT = re.compile(r"(?<=\d)\s+(?=[十百千万亿]*(?:元|美元|万|亿))")


def yuan_values(text: str) -> list[Decimal]:
    """The CNY figures a text states, for checking an answer's amounts ("2亿美元" is not a yuan figure).

    The text is NFKC-normalised and a space between a number and its unit is closed first, so a figure copied
    from the raw policy ("30 万元") counts like "30万元". Spans are not returned, so changing lengths is safe.
    """
    t = _SPACE_BEFORE_UNIT.sub("", unicodedata.normalize("NFKC", text or ""))
    return [a.value for a in extract_amounts(t) if a.currency == "CNY"]


_FORM_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_FORM_YUAN_SUFFIXES = (("亿元", YI), ("亿", YI), ("万元", WAN), ("万", WAN), ("元", Decimal(1)))
_FORM_USD_SUFFIXES = (("亿美元", YI), ("亿", YI), ("万美元", WAN), ("万", WAN), ("美元", Decimal(1)))


def parse_form_amount(text: str | None, *, usd: bool = False, bare_unit: Decimal = WAN) -> Decimal | None:
    """A form field: '300' (in ``bare_unit``, 万 by default), '1.2亿', '300万', '300000元', '3,000' → exact
    Decimal; blank → None. Raises ValueError for anything else, so the page can name the field to fix.

    Forms ask in 万 because owners think in 万; a unit typed after the number always wins.
    """
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", str(text)).strip().replace(",", "").replace(" ", "")
    if not t:
        return None
    multiplier = bare_unit
    for suffix, mult in _FORM_USD_SUFFIXES if usd else _FORM_YUAN_SUFFIXES:
        if t.endswith(suffix):
            t, multiplier = t[: -len(suffix)], mult
            break
    if not _FORM_NUMBER.fullmatch(t) or len(t) > 30:
        raise ValueError(f"not a number: {text!r}")
    with localcontext(_DISPLAY):  # 80 digits: 30 digits × 10^8 never rounds
        return Decimal(t) * multiplier


# --------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------


def _places(d: Decimal) -> int:
    exponent = d.normalize(_DISPLAY).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def canonical_amount(amount: Decimal | str | int) -> str:
    """One spelling per value, so API payloads compare as strings and nothing is rounded away.

    Whole amounts have no decimal point ("300000"); otherwise at least two decimals ("123.50"), and more only
    when the exact value needs them ("246913.578").
    """
    with localcontext(_DISPLAY):
        d = Decimal(amount) if not isinstance(amount, Decimal) else amount
        if not d.is_finite():
            raise ValueError(f"amount must be finite, got {amount!r}")
        if d == d.to_integral_value():
            return format(d.quantize(Decimal(1)) + 0, "f")  # +0 turns -0 into 0
        if _places(d) < 2:
            d = d.quantize(Decimal("0.01"))
        else:
            d = d.normalize()
        return format(d, "f")


def _grouped(amount: Decimal | str) -> str:
    return format(Decimal(canonical_amount(amount)), ",f")


def format_yuan(amount: Decimal | str) -> str:
    """Readable 万元 for people, plus the exact yuan in parentheses so the figure is never rounded away."""
    with localcontext(_DISPLAY):
        d = Decimal(canonical_amount(amount))
        if abs(d) < WAN:
            return f"{_grouped(d)}元"
        wan = d / WAN
        shown = wan.quantize(Decimal("0.0001"), rounding=ROUND_DOWN)  # never overstate: 99999999.99 ≠ 1亿
        prefix = "" if shown == wan else "约"
        return f"{prefix}{format(shown.normalize(), 'f')}万元 ({_grouped(d)}元)"


_YUAN_PARTS = re.compile(r"(约)?(\S+万元) \(([\d,.]+)元\)")


def format_yuan_en(amount: Decimal | str) -> str:
    """``format_yuan`` for English answers: '300,000 yuan (30万元)', 'about 246,913.578 yuan (24.6913万元)'.

    Derived from ``format_yuan`` so the two languages can never show different figures.
    """
    text = format_yuan(amount)
    m = _YUAN_PARTS.fullmatch(text)
    if m:
        return f"{'about ' if m.group(1) else ''}{m.group(3)} yuan ({m.group(2)})"
    return text.replace("元", " yuan")


def format_usd(amount: Decimal | str) -> str:
    """'200,000,000美元': dollars are shown exactly, grouped, because the 2亿美元 threshold is compared exactly."""
    return f"{_grouped(amount)}美元"


def format_money_en(amount: Decimal | str, currency: Currency = "CNY") -> str:
    """'CNY 300,000', 'USD 200,000,000', 'CNY 123.50': the exact figure for English running text."""
    return f"{currency} {_grouped(amount)}"


def format_compact(amount: Decimal | str, unit: str = "元") -> str:
    """Exact compact Chinese figure for calculation text: 3亿元, 49.8万元, 9999.999999万元, 123.50元.

    Unlike ``format_cn_amount`` a figure below 1万 keeps its canonical 分 ("123.50元"), because a calculation
    line must show the same digits as ``amount_yuan``.
    """
    with localcontext(_DISPLAY):
        d = Decimal(canonical_amount(amount))
        for size, word in ((YI, "亿"), (WAN, "万")):
            if abs(d) >= size:
                return f"{format((d / size).normalize(), 'f')}{word}{unit}"
        return f"{canonical_amount(d)}{unit}"


def format_cn_amount(value: Decimal, currency: Currency = "CNY") -> str:
    """Exact compact figure as owners write it: 3亿元, 2.5亿美元, 40万元, 5000元, 123.5元 (never rounded)."""
    unit = "美元" if currency == "USD" else "元"
    with localcontext(_DISPLAY):
        for size, word in ((YI, "亿"), (WAN, "万")):
            if abs(value) >= size:
                return f"{_plain(value / size)}{word}{unit}"
        return f"{_plain(value)}{unit}"


def _plain(d: Decimal) -> str:
    return format(d.normalize(), "f")


def format_percent(rate: Decimal) -> str:
    """Decimal('0.2') → '20%', Decimal(1) → '100%'."""
    with localcontext(_DISPLAY):
        return f"{format((rate * 100).normalize(), 'f')}%"
