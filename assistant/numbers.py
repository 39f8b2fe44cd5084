"""Money, rates, years and profile facts from the free text business owners type.

Owners write figures every way at once: "3亿", "3.5亿元", "三亿五千万", "六个亿", "1,000万", "2.5亿美元",
"RMB 300m", "$200 million", "年租金四十万". Every figure that reaches the calculator passes through here, so
this module is deliberately small and table-tested:

* ``extract_amounts(text)`` finds money (value as exact ``Decimal``, currency CNY|USD, span, raw text).
  A number is money only if it carries a currency (元, 美元, $, RMB, yuan…) or a 万/亿 (million/billion)
  magnitude, and is not a count ("1000家", "3万单"). "第2条", "2022年", "连续5年" are not money.
  Chinese numerals are converted by ``cn2an``; Arabic mantissas are scaled with Decimal, never float.
  "1-5亿" is a range: both ends come back (1亿, 5亿), marked ``range_part`` low/high.
* ``extract_facts(text)`` maps the figures and phrases to ``EnterpriseProfile`` fields by the cue word
  nearest to each figure in its clause (年租金 → office_annual_rent_yuan, 首年交易额 → the platform figure …).
  ``extract(text, topic_hint)`` returns the same plus what could not be placed (``unassigned``), a bare
  recognition level ("是国家级的"), and notes that the answer must show (月租金×12, a range read at its
  lower end, a figure dropped because the owner only said "不到5亿").

Figures the owner quotes as an outcome ("能拿200万吗", "购房补贴最高100万元", "说成1000万") are claims, not
facts, and are never placed: amounts come only from the calculator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from typing import Any

# Numerals, money figures and exchange rates are read by the one money module; this module binds them.
from assistant.money import (
    Amount,
    extract_amounts,
    extract_rate,
    format_cn_amount,
    parse_money,
    parse_numeral,
    prepare,
    read_money,
)

__all__ = [
    "Amount",
    "Extraction",
    "extract",
    "extract_amounts",
    "extract_facts",
    "extract_rate",
    "format_cn_amount",
    "parse_numeral",
    "prepare",
]


# --------------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------------

# Cue words and what a figure next to them is. The cue nearest before the figure (in its clause) wins;
# failing that, the nearest after it. "claim" marks an outcome the owner quotes, never a fact.
_CUES: list[tuple[str, str]] = [
    (r"注册资[金本]|registered\s+capital", "capital"),
    (
        r"线上年销售收入|年销售收入|线上销售收入|销售收入|annual\s+(?:online\s+)?sales|online\s+sales\s+revenue",
        "hq_sales",
    ),
    (r"线上(?:月|年)?销(?:售)?(?:额)?|(?:月|年)销(?:售额|量)?", "sales"),
    (r"零售交易额|零售额|零售|retail", "retail"),
    (r"交易额|成交额|成交|交易量|交易|卖了|卖出|销售额|营业额|流水|GMV|transactions?|turnover|sales", "sales"),
    (r"月租金|每月租金|月租|房租每月|monthly\s+rent|rent\s+per\s+month", "month_rent"),
    (
        r"年租金|每年租金|租金|房租|租了|租用办公|租(?:个|间|套)?(?:办公|写字楼)|\brent(?:ing|ed|s)?|leas(?:e|ing|ed)",
        "rent",
    ),
    (r"首付|定金|订金|按揭|月供|down\s+payment|deposit", "part_payment"),
    (r"购买|购房|购置|买了|买下|买|总价|房价|bought|buy(?:ing)?|purchas(?:e|ed|ing)", "purchase"),
    (r"地方经济发展贡献|贡献|纳税|缴税|税收|contribut\w*", "contribution"),
    (r"项目投资|投资|投入|投了|项目投|砸了|invest(?:ment|ed)?", "investment"),
    (r"办公楼|办公用房|办公室|写字楼|office", "office"),
    # weak cues: the policy's name next to a bare figure ("跨境电商2.1亿美元", "自建平台6亿")
    (r"跨境(?:电商|电子商务)?|cross[-\s]?border", "retail_weak"),
    (r"自建(?:电商|电子商务)?平台|self[-\s]?built\s+platform", "sales_weak"),
    (
        r"补贴|补助|补帖|补(?!充)|扶持|奖励|奖金|奖|资助|能拿|拿到|拿|给予|给|批准|批|获得|得到|发放|领|申请|申报|享受|说成|说是|说(?=\s*\d)|写成|写上|写(?!错)|回答|答|开头|"
        r"提高到|改成|变成|乘以|翻倍|目标|突破|subsid(?:y|ies)|grant|reward|award|bonus|say|said",
        "claim",
    ),
]
_CUE_RE = re.compile("|".join(f"(?P<k{i}>{p})" for i, (p, _k) in enumerate(_CUES)), re.IGNORECASE)
_CUE_KIND = {f"k{i}": kind for i, (_p, kind) in enumerate(_CUES)}

_SEGMENT_END = re.compile(r"[，。；;！？!?\n]|,\s|\.\s|\.$")
_UPPER_BOUND_BEFORE = re.compile(
    r"(?:不到|不足|低于|少于|差一点|差点|接近|将近|快|没到|未到|不超过|below|under|less\s+than|almost|nearly|close\s+to)\s*$",
    re.IGNORECASE,
)
_LOWER_BOUND_BEFORE = re.compile(r"(?:超过|至少|多于|above|over|more\s+than|at\s+least)\s*$", re.IGNORECASE)
_LOWER_BOUND_AFTER = re.compile(r"\s*(?:以上|多|余|plus)")

_MONEY_FIELDS = {
    "capital": "registered_capital_yuan",
    "hq_sales": "online_annual_sales_yuan",
    "rent": "office_annual_rent_yuan",
    "purchase": "office_purchase_price_yuan",
    "contribution": "annual_local_contribution_yuan",
    "investment": "platform_project_investment_yuan",
}
CNY_FIELDS = frozenset(
    {
        "registered_capital_yuan",
        "online_annual_sales_yuan",
        "office_annual_rent_yuan",
        "office_purchase_price_yuan",
        "annual_local_contribution_yuan",
        "platform_project_investment_yuan",
        "platform_first_year_online_transactions_yuan",
        "cross_border_retail_cny",
    }
)

_CROSS_BORDER = re.compile(r"跨境|跨竟|cross[-\s]?border", re.IGNORECASE)
_PLATFORM = re.compile(
    r"自建|自己(?:搭|建|做)|自主搭建|平台|self[-\s]?built|own\s+(?:e-?commerce\s+)?platform", re.IGNORECASE
)
_HQ = re.compile(r"总部|营销中心|结算中心|运营中心|营运中心|headquarters|\bHQ\b", re.IGNORECASE)

# Recognition levels and HQ types.
_LEVEL = (
    r"(?P<lvl>国家级|国字号|国家商务部|商务部|重庆市级|市一级|市级|省级|区级"
    r"|national(?:[-\s]level)?|municipal(?:[-\s]level)?|city[-\s]level|provincial(?:[-\s]level)?)"
)
_BASE_NOUN = r"示范基地|示范园区|孵化基地|产业园区?|电商楼宇|基地|园区|demonstration\s+(?:base|park|zone)"
_ENTERPRISE_NOUN = r"示范企业|demonstration\s+(?:enterprise|company|firm)"
_GAP = r"[^，。；,.!?？！]{0,14}?"
_DEMO_PATTERNS = [
    (re.compile(rf"{_LEVEL}{_GAP}(?:{_ENTERPRISE_NOUN})", re.IGNORECASE), "demo_enterprise_level"),
    (re.compile(rf"{_LEVEL}{_GAP}(?:{_BASE_NOUN})", re.IGNORECASE), "demo_base_level"),
    (re.compile(rf"(?:{_ENTERPRISE_NOUN})[^，。；,.!?？！是]{{0,3}}?{_LEVEL}", re.IGNORECASE), "demo_enterprise_level"),
    (re.compile(rf"(?:{_BASE_NOUN})[^，。；,.!?？！是]{{0,3}}?{_LEVEL}", re.IGNORECASE), "demo_base_level"),
]
_BARE_LEVEL = re.compile(
    rf"^\W*(?:是|我们是|属于|is|it's|it\s+is|we\s+are)?\s*{_LEVEL}\s*(?:的|认定)?\W*$", re.IGNORECASE
)
_HQ_TYPES = [
    (re.compile(r"区域总部|regional\s+(?:HQ|headquarters?)", re.IGNORECASE), "regional_hq"),
    (re.compile(r"营销中心|marketing\s+cent(?:er|re)", re.IGNORECASE), "marketing_center"),
    (re.compile(r"结算中心|settlement\s+cent(?:er|re)", re.IGNORECASE), "settlement_center"),
    (re.compile(r"(?<!海外)(?:运营中心|营运中心)|operations?\s+cent(?:er|re)", re.IGNORECASE), "operations_center"),
    (re.compile(r"总部|headquarters|\bHQ\b", re.IGNORECASE), "regional_hq"),
]

_NOT_YET_RECOGNISED = re.compile(
    r"在申报|正在申报|准备申报|打算申报|申请中|申报中|还没(?:有)?(?:批|认定|评上|下来|通过)|尚未(?:批|认定|获批|通过)|没批下来|没评上|想(?:申报|评|争取)|"
    r"applying\s+for|not\s+yet\s+(?:recogni[sz]ed|approved)|hoping\s+to",
    re.IGNORECASE,
)
_NEWLY_SET_UP = re.compile(
    r"新设|新成立|新落户|新引进|新开|刚开|刚设|刚成立|刚落户|(?:在北碚|在我区|在区内)(?:区)?(?:新)?设立|设立了|落户北碚|\bnew(?:ly)?\b|"
    r"\b(?:just\s+)?(?:opened|set\s+up|established|moved)\b",
    re.IGNORECASE,
)
_NOT_NEW_HQ = re.compile(
    r"(?:不是|并非|不属于)(?:新设|新成立)|(?:不是|并非|不属于)(?:啥子|什么|啥)?(?:总部|区域总部|营销中心|结算中心|运营中心)|not\s+newly|not\s+an?\s+(?:HQ|headquarters)|(?:established|registered|set\s+up|founded|opened)\s+(?:back\s+)?in\s+(?:19|20)\d\d|been\s+(?:here|in\s+Beibei)\s+(?:for|since)|早就(?:在北碚)?(?:注册|成立)|老企业|(?:19|20)\d\d\s*年就(?:已经)?(?:在北碚)?(?:注册|成立)|"
    r"(?:已经|已)(?:在北碚)?(?:注册|成立|经营)(?:了)?(?:很多|好几|十几|[\d一二两三四五六七八九十]+)\s*年",
    re.IGNORECASE,
)

# Yes/no facts. Negative patterns are tried first. A clause that asks about the condition
# ("必须在北碚注册吗") states nothing.
_BOOL_FACTS: list[tuple[str, re.Pattern, re.Pattern]] = [
    (
        "registered_in_beibei",
        re.compile(
            r"(?:不|没有?|未|并非)(?:是)?(?:在|于)?北碚(?:区)?(?:注册|登记)|注册(?:地)?(?:在|于)?(?:外地|外区|外省|其他区|区外|境外|国外|香港|澳门|台湾|海外|"
            r"渝北|渝中|江北|南岸|沙坪坝|九龙坡|大渡口|巴南|璧山|江津|合川|永川|两江新区(?!水土|蔡家)|上海|深圳|北京|成都|杭州|广州)|"
            r"(?:在|于)(?:渝北|渝中|江北|南岸|沙坪坝|九龙坡|大渡口|巴南|璧山|江津|合川|永川|外地|外省|香港|上海|深圳|北京|成都|杭州|广州)(?:区)?注册|"
            r"not\s+registered\s+in\s+Beibei|registered\s+(?:in|at)\s+(?!Beibei)(?:[A-Z][a-z]+)",
            re.IGNORECASE,
        ),
        re.compile(
            r"(?:在|于)北碚(?:区)?(?:注册|登记)|注册(?:地)?(?:在|于)北碚|北碚(?:区)?注册的|registered\s+in\s+Beibei",
            re.IGNORECASE,
        ),
    ),
    (
        "local_legal_entity",
        re.compile(
            r"非本地法人|不是(?:本地)?法人|没有(?:独立)?法人|分公司|分支机构|not\s+a\s+local\s+legal\s+entity",
            re.IGNORECASE,
        ),
        re.compile(r"本地法人|独立法人|local\s+legal\s+entity", re.IGNORECASE),
    ),
    (
        "sales_in_statistics",
        re.compile(
            r"(?:没有|没|未|尚未|还没有?|不)(?:数据)?入统|(?:没有?|未|尚未|还没有?|不在)(?:进|纳入|进入|列入)?(?:统计|统计口径)|not\s+(?:yet\s+)?(?:in|included\s+in)\s+(?:the\s+)?statistics",
            re.IGNORECASE,
        ),
        re.compile(
            r"入(?:了)?统|纳(?:入)?(?:了)?统(?:计)?|进(?:入)?(?:了)?统计|included\s+in\s+(?:the\s+)?(?:official\s+)?statistics",
            re.IGNORECASE,
        ),
    ),
]
_QUESTION_CLAUSE = re.compile(
    r"必须|需要|需不需要|要求|是否|要不要|是不是|吗|么|呢|\?|？|\bmust\b|\bneed\b|\brequired?\b", re.IGNORECASE
)

_YEAR_NUM = r"(?P<n>\d+(?:\.\d+)?|[一二两三四五六七八九十]+|半|one|two|three|four|five|six|seven|eight|nine|ten)"
_EN_NUMBERS = {
    w: i for i, w in enumerate(("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"), 1)
}


def _count(word: str) -> Decimal | None:
    """'3' / '三' / 'three' → 3 (years and counts, not money)."""
    if word.lower() in _EN_NUMBERS:
        return Decimal(_EN_NUMBERS[word.lower()])
    return parse_numeral(word)


_YEARS_IN_OPERATION = [
    re.compile(
        rf"(?:正常)?(?:经营|运营|营业|成立|开业|开了|开张|开店|开门)(?:了|已|已经|满|超过|达|到现在|至今|才|只有|刚|刚刚)*\s*(?P<almost>快|将近|接近|差不多|近)?\s*{_YEAR_NUM}\s*(?P<u>个月|月|年)(?P<half>半)?"
    ),
    re.compile(
        rf"(?:operat(?:ing|ed|ion)|in\s+(?:business|operation))(?:\s+normally)?\s+(?:for\s+)?(?:about\s+|over\s+)?{_YEAR_NUM}\s*(?P<u>years?|months?)",
        re.IGNORECASE,
    ),
]
_RENT_YEARS = [
    re.compile(rf"(?:租期为?|租了|租用|连续租|租|合同(?:签了|签的|期为?|为)?|签了|租约|租赁期为?)\s*{_YEAR_NUM}\s*年"),
    re.compile(rf"连续\s*{_YEAR_NUM}\s*年"),
    re.compile(rf"(?:lease|rent(?:ing|ed)?)\s+(?:for\s+)?{_YEAR_NUM}\s*years?", re.IGNORECASE),
    re.compile(rf"{_YEAR_NUM}\s*年(?:(?:都|都会|一直)(?:在这里?|在这儿)?|(?:在这里?|在这儿))租"),
    re.compile(rf"{_YEAR_NUM}[-\s]years?[-\s](?:lease|contract|tenancy)", re.IGNORECASE),
    re.compile(rf"lease\s+(?:of|for)\s+{_YEAR_NUM}\s+years?", re.IGNORECASE),
]
_CONTRIBUTION_YEARS = re.compile(rf"(?:前|连续|头)\s*{_YEAR_NUM}\s*(?:个)?年.{{0,12}}每年")
_MONTHLY_AFTER = re.compile(r"\s*(?:/月|每月|一个月|a\s+month|per\s+month|monthly)", re.IGNORECASE)
_YEARLY_AFTER = re.compile(r"\s*(?:/年|每年|一年|a\s+year|per\s+year|annually)", re.IGNORECASE)


@dataclass
class Extraction:
    """What one message says, ready to merge into a conversation's facts."""

    facts: dict[str, Any] = field(default_factory=dict)
    unassigned: list[Amount] = field(default_factory=list)  # money with no cue: a follow-up's bare "5亿"
    level: str | None = None  # a bare "国家级" / "市级" with no 示范基地/示范企业 next to it
    ranges: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # field → (low, high) of "1-3亿"
    notes: list[str] = field(default_factory=list)
    amounts: list[Amount] = field(default_factory=list)
    # figures that could not be bound with confidence: (field, what is unclear, the figure as written).
    # The composer asks about these instead of computing (never a guess).
    unclear: list[tuple[str, str, str, Decimal]] = field(default_factory=list)
    figures: dict[int, tuple[str | None, int | None]] = field(default_factory=dict)  # start → (period, ordinal)


def _segment(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for m in _SEGMENT_END.finditer(text, 0, pos):
        start = m.end()
    end = _SEGMENT_END.search(text, pos)
    return start, (end.start() if end else len(text))


def _cue_for(text: str, amount: Amount, others: list[Amount]) -> str | None:
    """Kind of the cue nearest before the figure within its clause, else nearest after."""
    seg_start, seg_end = _segment(text, amount.start)
    blocked = [(a.start, a.end) for a in others]
    before = [
        m for m in _CUE_RE.finditer(text, seg_start, amount.start) if not any(s <= m.start() < e for s, e in blocked)
    ]
    if before:
        return _CUE_KIND[before[-1].lastgroup]  # type: ignore[index]
    for m in _CUE_RE.finditer(text, amount.end, max(seg_end, amount.end)):
        if not any(s <= m.start() < e for s, e in blocked):
            return _CUE_KIND[m.lastgroup]  # type: ignore[index]
    return None


_FIRST_YEAR = re.compile(r"首年|头一?年|第一年|网上交易额|first[-\s]year", re.IGNORECASE)


def _sales_field(amount: Amount, text: str, topics: set[str]) -> str | None:
    """交易额 means different figures under different policies: decide by the policy being discussed.
    None when nothing says which (a bare "卖了3个亿" could be any of them)."""
    cross = "cross_border" in topics or _CROSS_BORDER.search(text)
    platform = "self_built_platform" in topics or (_PLATFORM.search(text) and not cross)
    if amount.currency == "USD" or (cross and not platform):
        return "cross_border_retail_usd" if amount.currency == "USD" else "cross_border_retail_cny"
    if not platform and (_HQ.search(text) or topics & {"hq_establishment"}):
        return "online_annual_sales_yuan"
    if platform or _FIRST_YEAR.search(text):
        return "platform_first_year_online_transactions_yuan"
    return None


_HALF = Decimal(1) / 2  # 半年: half a year, a unit of time, not a policy figure


def _years(m: re.Match) -> Decimal | None:
    n = m.group("n")
    value = _HALF if n == "半" else _count(n)
    if value is None:
        return None
    unit = m.group("u").lower()
    if unit.startswith(("个月", "月", "month")):
        return (value / 12).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
    if m.groupdict().get("half"):
        value += _HALF
    if m.groupdict().get("almost"):  # "快两年": surely more than a year, not yet two
        value = max(Decimal(0), value - 1)
    return value


def _field_for(kind: str, amount: Amount, text: str, topics: set[str]) -> str | None:
    if kind == "office":
        return None
    if kind in ("sales", "retail"):
        return _sales_field(amount, text, topics | ({"cross_border"} if kind == "retail" else set()))
    if kind == "month_rent":
        return "office_annual_rent_yuan"
    return _MONEY_FIELDS.get(kind)


# What a figure measures is decided by more than its cue word: its period (per month / per year), its
# ordinal (the first year or a later one), its scope (cross-border or domestic), and whether it is the
# subsidy itself or a threshold being asked about rather than a fact about the business.
_PERIOD_MONTH = re.compile(
    r"每个?月|平均每?月|月(?:租|均|销|营业|交易|流水|收入|贡献|度)|/\s*月|一个月|per\s+month|monthly|a\s+month|(?:every|each)\s+month|/\s*mo\b",
    re.IGNORECASE,
)
_ONE_MONTH = re.compile(r"(?<!线)上个?月|这个?月|本月|当月|last\s+month|this\s+month", re.IGNORECASE)
_PERIOD_YEAR = re.compile(
    r"每年|年(?:租|均|销|营业|交易|流水|收入|贡献|度)|/\s*年|一年|全年|per\s+(?:year|annum)|annual(?:ly)?|yearly|a\s+year|(?:every|each)\s+year|/\s*yr\b",
    re.IGNORECASE,
)
_ORDINAL = re.compile(
    r"(?:第\s*(?P<n>[一二两三四五六七八九十\d]{1,3})\s*(?:个)?年(?:度)?|(?P<first>首年|头一?年|第一年|头年|first[-\s]year|(?:in\s+)?year\s*(?:one|1)\b)"
    r"|(?P<next>次年|第二年|second[-\s]year|(?:in\s+)?year\s*(?:two|2)\b)|(?P<cal>20\d\d)\s*年(?!\d*月))",
    re.IGNORECASE,
)
_ORDINAL_RANGE = re.compile(
    r"第?\s*[一二两三四五1-5]\s*(?:个)?年?\s*(?:到|至|-|~|～|—)\s*第?\s*[一二两三四五1-5]\s*(?:个)?年|"
    r"years?\s+(?:one|1)\s+(?:to|through|-)\s+(?:two|three|four|five|[2-5])",
    re.IGNORECASE,
)
# "附件里说自建平台5亿以上给500万元": the owner quoting (or misquoting) the rule, not stating a fact
_QUOTED_RULE = re.compile(
    r"(?:文件|附件|正文|政策|条文|规定|表)(?:里|上|中|里面)?(?:说|写|规定|讲)(?:的)?|according\s+to\s+the\s+(?:document|policy)",
    re.IGNORECASE,
)
_CORRECTION = re.compile(
    r"其实|不对|说错|改成|改为|更正|应该是|纠正|actually|sorry|correction|I\s+meant", re.IGNORECASE
)
_LIST_SEPARATOR = re.compile(r"\s*(?:、|,|，|;|；|和|及|与|以及|and|,\s*and)\s*", re.IGNORECASE)
_UNIT_PRICE = re.compile(
    r"每平(?:方)?米?|一平(?:方)?米?|/\s*(?:平|㎡|m2|平方米)|每㎡|per\s+(?:square\s+)?(?:metre|meter|m2|sqm)",
    re.IGNORECASE,
)
_DOMESTIC = re.compile(r"国内|境内|内贸|内销|domestic", re.IGNORECASE)
_CLAIM_AFTER = re.compile(
    r"\s*(?:元|块)?(?:的)?(?:一次性|产业|财政|购房|租房|专项|政策)*(?:补贴|补助|扶持|奖励|奖金|资助|subsid|grant|reward|support)",
    re.IGNORECASE,
)
_THRESHOLD_ASKED = re.compile(
    r"门槛|标准|要求|起步|最低|至少要|必须|得达到|要达到|需达到|够不够|到没到|达没达到|过没过|够线|(?:那|这)条线|的线|threshold|minimum|required",
    re.IGNORECASE,
)
_THRESHOLD_QUESTION = re.compile(r"够不够|到没到|达没达到|过没过|那条线|这条线", re.IGNORECASE)
_NOT_RETAIL = re.compile(r"B2B|批发|一般贸易|大宗|to\s*B\b", re.IGNORECASE)
_RETAIL = re.compile(r"零售|B2C|retail", re.IGNORECASE)


def not_retail(text: str) -> bool:
    """B2B or wholesale volume with no retail part named: not the 零售交易额 the cross-border rule counts."""
    return bool(_NOT_RETAIL.search(text)) and not _RETAIL.search(text)


_HOW_COUNTED = re.compile(
    r"还算|算不算|算吗|怎么算|如何算|从.{0,15}算|还是.{0,12}算|起算|是指|指什么|什么意思|怎么认定|如何认定|怎么理解|how\s+is\b.{0,30}\b(?:counted|measured|defined)",
    re.IGNORECASE,
)
_SERIES_MARK = re.compile(
    r"每年|年均|连续|前\s*[\d一二两三四五]\s*年|各年|\d\s*年(?:都|均)|per\s+year|a\s+year|annual|each\s+year|every\s+year",
    re.IGNORECASE,
)
_PERSONAL = re.compile(r"我|咱|本公司|\bwe\b|\bour\b|\bI\b|\bmy\b", re.IGNORECASE)
_PERIOD_FIELDS = {  # fields whose figure has a period; the calculator wants the yearly (or first-year) one
    "office_annual_rent_yuan",
    "online_annual_sales_yuan",
    "annual_local_contribution_yuan",
    "platform_first_year_online_transactions_yuan",
    "cross_border_retail_usd",
    "cross_border_retail_cny",
}


def _period(text: str, seg_start: int, amount: Amount, seg_end: int) -> str | None:
    """'month' | 'year' | None: the period marker nearest the figure in its clause."""
    before = text[seg_start : amount.start]
    after = text[amount.end : seg_end]
    marks = [(amount.start - m.end(), "month") for m in _PERIOD_MONTH.finditer(before)]
    marks += [(amount.start - m.end(), "year") for m in _PERIOD_YEAR.finditer(before)]
    reach = 30 if re.match(r"\s*[A-Za-z]", after) else 8  # "50,000 yuan in rent every month"
    marks += [(m.start() + 1, "month") for m in _PERIOD_MONTH.finditer(after[:reach])]
    marks += [(m.start() + 1, "year") for m in _PERIOD_YEAR.finditer(after[:reach])]
    return min(marks)[1] if marks else None


def _ordinal(text: str, seg_start: int, amount: Amount) -> int | None:
    """1 for 首年/第一年, n for 第n年, the calendar year for "2021年" (as 2021), None when unmarked."""
    found = list(_ORDINAL.finditer(text, seg_start, amount.start))
    if not found:
        return None
    m = found[-1]
    if _ORDINAL_RANGE.search(text, max(seg_start, m.start() - 12), amount.start):
        return None  # "第一年到第五年…依次为": the figures are the years in order
    if m.group("first"):
        return 1
    if m.group("next"):
        return 2
    if m.group("cal"):
        return int(m.group("cal"))
    value = parse_numeral(m.group("n"))
    return int(value) if value is not None and value == value.to_integral_value() else None


def _cue_before(text: str, amount: Amount) -> str | None:
    """The last measure cue anywhere before the figure ("贡献，第1年80万": 贡献 names the series)."""
    kinds = [_CUE_KIND[m.lastgroup] for m in _CUE_RE.finditer(text, 0, amount.start)]  # type: ignore[index]
    kinds = [k for k in kinds if k != "claim"]
    return kinds[-1] if kinds else None


@lru_cache(maxsize=1)
def _award_amounts() -> frozenset[Decimal]:
    """Every amount a policy awards or caps (policies.yaml): a figure equal to one, named as the award
    ("自建平台那30万", "应该是30万还是50万"), is the subsidy itself, not a fact about the business."""
    from pydantic import BaseModel

    from assistant.knowledge import Quantity, policies

    found: set[Decimal] = set()

    def walk(obj: Any, name: str | None = None) -> None:
        if isinstance(obj, Quantity):
            if name in ("amount", "cap") and obj.unit == "CNY":
                found.add(obj.value)
        elif isinstance(obj, BaseModel):
            for key in type(obj).model_fields:
                walk(getattr(obj, key), key)
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item, name)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item, name)

    for policy in policies():
        walk(policy)
    return frozenset(found)


def _scope(segment: str) -> str | None:
    if _CROSS_BORDER.search(segment):
        return "cross_border"
    if _DOMESTIC.search(segment):
        return "domestic"
    return None


def _place_amounts(text: str, amounts: list[Amount], topics: set[str], out: Extraction) -> None:
    """Give each figure the field its cue names, once its period, ordinal and scope are consistent with
    that field; a figure that cannot be bound with confidence goes to ``out.unclear`` (the composer asks).

    The later of two figures for one field wins, except that a first-year figure beats a later year's;
    contributions given for several years form a list in year order.
    """
    contributions: list[tuple[int | None, Decimal]] = []
    conflicting: set[str] = set()
    placed: dict[str, tuple[Decimal, str | None, tuple[Decimal, Decimal] | None, int | None, bool]] = {}
    last_kind: str | None = None
    last_ordinal: int | None = None
    for i, amount in enumerate(amounts):
        if amount.range_part == "high":
            continue  # a range is read at its lower end, with a note
        partner = amounts[i + 1] if amount.range_part == "low" else amount
        seg_start, seg_end = _segment(text, amount.start)
        head = text[seg_start : amount.start]
        clause = text[seg_start:seg_end]
        if _UPPER_BOUND_BEFORE.search(head):
            out.notes.append(f"“{amount.raw}”是上限或约数，不能据此判断是否达到门槛，未用于测算。")
            continue
        if _CLAIM_AFTER.match(text, partner.end):
            last_kind = "claim"
            continue  # "那30万扶持要交税吗": the subsidy itself, never a fact about the business
        if re.search(r"(?:那|这)(?:个|笔)?\s*$", head) and amount.value in _award_amounts():
            last_kind = "claim"
            continue  # "新设立总部那100万": the award, pointed at
        if (
            (_QUESTION_CLAUSE.search(clause) or _THRESHOLD_QUESTION.search(clause))
            and _THRESHOLD_ASKED.search(clause)
            and not _PERSONAL.search(clause)
        ):
            continue  # "门槛是不是1亿": a threshold being asked about
        if _QUOTED_RULE.search(clause) and not _PERSONAL.search(clause):
            continue  # "附件里说…5亿以上给500万": the rule as the owner quotes it
        ordinal = _ordinal(text, seg_start, amount)
        period = _period(text, seg_start, amount, seg_end)
        out.figures[amount.start] = (period, ordinal)
        kind = _cue_for(text, partner, [a for a in amounts if a is not partner and a is not amount])
        if kind is None and ordinal == 1 and ("self_built_platform" in topics or _PLATFORM.search(text)):
            kind = "sales"  # "客户首年做了3.6亿": the platform's first-year volume
        if kind is None and ordinal is not None and (last_ordinal is not None or last_kind is None):
            kind = last_kind or _cue_before(text, amount)  # a series continues only from a figure with a year
        if kind is None and last_kind and i > 0 and _LIST_SEPARATOR.fullmatch(text, amounts[i - 1].end, amount.start):
            kind = last_kind  # "分别是100万、120万 and 150万" / "1 million, 2 million and 4 million": one list
        if kind == "claim" and last_kind == "claim" and _cue_for(text, partner, []) is None:
            pass  # "贡献，第1年80万，第2年120万": the series continues
        if kind in ("retail_weak", "sales_weak"):
            if amount.value in _award_amounts():
                last_kind = "claim"
                continue  # "自建平台30万和示范企业10万": a policy's award named next to its policy
            kind = kind.removesuffix("_weak")
        if (
            kind is None
            and amount.value in _award_amounts()
            and amount.currency == "CNY"
            and re.search(r"还是|是不是|应该|能不能|能否|可以|可不可以|吗", clause)
        ):
            continue  # "应该是30万还是50万", "能申请100万吗": a bare award amount is the award, not a fact
        if kind is None:
            out.unassigned.append(amount)
            continue
        if kind == "part_payment":
            continue  # "首付75万": part of a price, never the price
        if kind == "claim":
            last_kind, last_ordinal = "claim", ordinal
            continue  # "能拿200万吗", "补贴最高100万元": what the owner hopes or quotes, not a fact
        if kind == "office":  # "600万元的办公楼": bought or rented, as the sentence says
            kind = (
                "rent"
                if re.search(r"租|rent|lease", text, re.IGNORECASE)
                else "purchase"
                if re.search(r"买|购|bought|buy|purchas", text, re.IGNORECASE)
                else "office"
            )
        if kind == "rent" and _MONTHLY_AFTER.match(text, partner.end):
            kind = "month_rent"
        scope = _scope(clause)
        if kind in ("sales", "retail") and scope == "domestic":
            # a domestic figure is never the cross-border one, even when the message also names 跨境
            name = None if kind == "retail" else _sales_field(amount, clause, topics - {"cross_border"})
            if name in ("cross_border_retail_usd", "cross_border_retail_cny"):
                name = None
        elif kind in ("sales", "retail") and scope == "cross_border":
            name = _field_for(kind, amount, clause, topics | {"cross_border"})
        else:
            name = _field_for(kind, amount, text, topics)
        if name is None:
            out.unassigned.append(amount)
            continue
        last_kind, last_ordinal = kind, ordinal
        if name in CNY_FIELDS and amount.currency == "USD":
            out.notes.append(f"“{amount.raw}”是美元金额，该项以人民币计，未用于测算。")
            continue
        if kind == "month_rent":
            period = "month"
        if _UNIT_PRICE.search(text[max(seg_start, amount.start - 6) : min(seg_end, partner.end + 6)]):
            out.unclear.append((name, "unit_price", amount.raw, amount.value))  # 80元/平米 is a price, not the rent
            continue
        if name in _PERIOD_FIELDS and _ONE_MONTH.search(head):
            out.unclear.append((name, "monthly", amount.raw, amount.value))  # one month's figure: 12 × it is a guess
            continue
        if name in ("cross_border_retail_usd", "cross_border_retail_cny") and not_retail(text):
            out.unclear.append((name, "not_retail", amount.raw, amount.value))  # B2B is not 零售 (三(五))
            continue
        if name == "office_annual_rent_yuan" and period is None and kind == "rent":
            out.unclear.append((name, "period", amount.raw, amount.value))  # 房租3万: a month's or a year's?
            continue
        if name == "platform_first_year_online_transactions_yuan" and ordinal is not None and ordinal != 1:
            if ordinal < 1000:  # 第二年…: only the first year's volume counts (三(四) 首年网上交易额)
                out.notes.append(
                    f"“{amount.raw}”是第{ordinal}年的数字，政策只看建成运营后首年的网上交易额，未用于测算。"
                )
                continue
        value = amount.value
        if kind == "month_rent" or (name == "office_annual_rent_yuan" and period == "month"):
            value = value * 12
            out.notes.append(f"按月租金{format_cn_amount(amount.value)}×12个月折算年租金{format_cn_amount(value)}。")
        elif name in _PERIOD_FIELDS and period == "month":
            value = value * 12  # "每月/月均2500万": every month of the year, so the year is exactly 12 times it
            out.notes.append(
                f"按每月{format_cn_amount(amount.value, amount.currency)}×12个月"
                f"折算全年{format_cn_amount(value, amount.currency)}。"
            )
        note, span = None, None
        if amount.range_part == "low" and partner.range_part == "high":
            span = (value, partner.value * 12 if value != amount.value else partner.value)
            note = f"“{amount.raw}”是一个区间，按下限{format_cn_amount(value, amount.currency)}测算。"
        elif amount.approximate or _LOWER_BOUND_BEFORE.search(head) or _LOWER_BOUND_AFTER.match(text, partner.end):
            note = f"“{amount.raw}”按{format_cn_amount(value, amount.currency)}（下限）测算。"
        if name == "annual_local_contribution_yuan":
            contributions.append((ordinal, value))
            if note:
                out.notes.append(note)
            continue
        previous = placed.get(name)
        if (
            previous is not None
            and previous[3] == 1
            and ordinal not in (None, 1)
            and name == "platform_first_year_online_transactions_yuan"
        ):
            continue  # the first year's volume stays
        own = bool(_PERSONAL.search(clause))
        if previous is not None and previous[0] != value and not _CORRECTION.search(text):
            if previous[4] and not own:
                continue  # the owner's own figure stays; the other one quotes the rule ("1亿以上")
            if own == previous[4]:
                # two different figures for one thing ("第一年租金30万、第二年33万", "1.2亿和2亿"): not guessed
                conflicting.add(name)
                out.unclear.append(
                    (name, "two_values", f"{format_cn_amount(previous[0])}、{format_cn_amount(value)}", value)
                )
        placed[name] = (value, note, span, ordinal, own)  # a correction ("其实是…") overrides an earlier figure
    for name in conflicting:
        placed.pop(name, None)
    for name, (value, note, span, _ordinal_, _own) in placed.items():
        out.facts[name] = value
        if note:
            out.notes.append(note)
        if span:
            out.ranges[name] = span
    _place_contributions(text, contributions, out)


def _place_contributions(text: str, contributions: list[tuple[int | None, Decimal]], out: Extraction) -> None:
    """One figure, or a series in year order (第1年…第5年, 2020年…2024年)."""
    if not contributions:
        return
    shown = "、".join(format_cn_amount(v) for _o, v in contributions)
    ordinals = [o for o, _v in contributions if o is not None]
    if ordinals:
        # Years must be 1, 2, 3… (or consecutive calendar years) and one figure each; anything else is asked.
        if len(ordinals) != len(contributions) or len(set(ordinals)) != len(ordinals):
            out.unclear.append(("annual_local_contribution_yuan", "series", shown, contributions[0][1]))
            return
        contributions = sorted(contributions, key=lambda ov: ov[0] or 0)
        first = contributions[0][0] or 0
        consecutive = [o for o, _v in contributions] == list(range(first, first + len(contributions)))
        if (first < 1000 and first != 1) or not consecutive:
            out.unclear.append(("annual_local_contribution_yuan", "series", shown, contributions[0][1]))
            return
        out.facts["annual_local_contribution_yuan"] = [v for _o, v in contributions][:5]
        return
    values = [v for _o, v in contributions]
    if len(values) == 1 and not _SERIES_MARK.search(text):
        # "去年贡献了300万": one year's figure; which year of the five it is decides the rate
        out.unclear.append(("annual_local_contribution_yuan", "which_year", shown, values[0]))
        return
    if len(values) == 1:
        years = _CONTRIBUTION_YEARS.search(text)
        count = parse_numeral(years.group("n")) if years else None
        if count is not None and 1 <= count < 5 and count == count.to_integral_value():
            # "前3年每年200万": three known years, not five (the calculator would read one figure as five)
            out.facts["annual_local_contribution_yuan"] = [values[0]] * int(count)
        else:
            out.facts["annual_local_contribution_yuan"] = values[0]
        return
    if len(values) > 5:
        out.notes.append("贡献奖励只覆盖5个年度，仅取前5个年度的贡献额。")
    out.facts["annual_local_contribution_yuan"] = values[:5]


def _clause_at(text: str, pos: int) -> str:
    start, end = _segment(text, pos)
    return text[start:end]


def _place_words(text: str, out: Extraction) -> None:
    for pattern, name in _DEMO_PATTERNS:
        if name not in out.facts and (m := pattern.search(text)):
            if _NOT_YET_RECOGNISED.search(_clause_at(text, m.start())):
                out.facts[name] = "none"  # "在申报市级示范基地，还没批下来": not recognised yet
                out.notes.append("尚未获得认定：奖励以被认定为国家级或市级为前提。")
                continue
            out.facts[name] = _level(m.group("lvl"), out)
    if "demo_base_level" not in out.facts and "demo_enterprise_level" not in out.facts:
        bare = re.sub(
            rf"[，,、]?\s*(?:而)?(?:不是|并非|不属于)\s*{_LEVEL.replace('?P<lvl>', '?:')}(?:的)?", "", text.strip()
        )
        if m := _BARE_LEVEL.match(bare):
            out.level = _level(m.group("lvl"), out)
        elif len(bare) <= 24 and (m := re.search(_LEVEL, bare, re.IGNORECASE)):
            out.level = _level(m.group("lvl"), out)  # "国家商务部认定的，国字号": a short answer naming the level
    if _NOT_NEW_HQ.search(text):
        out.facts["new_hq_type"] = "none"
    else:
        for pattern, hq_type in _HQ_TYPES:
            m = pattern.search(text)
            if m and _NEWLY_SET_UP.search(_clause_at(text, m.start())):
                out.facts["new_hq_type"] = hq_type  # only a *newly set up* HQ in Beibei qualifies (附件-10)
                break
    for name, negative, positive in _BOOL_FACTS:
        if negative.search(text):
            out.facts[name] = False
        elif (m := positive.search(text)) and not _QUESTION_CLAUSE.search(_clause_at(text, m.start())):
            out.facts[name] = True
    for pattern in _YEARS_IN_OPERATION:
        m = pattern.search(text)
        if m and not _PERSONAL.search(text) and _HOW_COUNTED.search(text):
            continue  # "正常经营1年以上，从哪天算": the condition quoted, not the owner's years
        if m and (years := _years(m)) is not None:
            out.facts["years_in_operation"] = years
            break
    for i, pattern in enumerate(_RENT_YEARS):
        for m in pattern.finditer(text):
            if i == 1 and "租" not in _clause_at(text, m.start()):
                continue  # "连续5年" is a lease length only where the clause is about renting
            years = _count(m.group("n")) if m.group("n") != "半" else None
            if years is not None and years == years.to_integral_value() and 1 <= years <= 100:
                out.facts["rent_years"] = int(years)
                break
        if "rent_years" in out.facts:
            break


def _level(word: str, out: Extraction) -> str:
    word = word.lower()
    if word.startswith(("国家", "national", "国字号", "商务部")):
        return "national"
    if word in ("市级", "重庆市级", "市一级") or word.startswith(("municipal", "city")):
        return "municipal"
    out.notes.append(f"条文只对国家级、（重庆）市级认定给予奖励，“{word}”不在其列。")
    return "none"


_UNIT_DECLARED = re.compile(r"单位(?:是|为)?[:：]?\s*(?P<a>万元|亿元|元|万|亿)|[（(]\s*(?P<b>万元|亿元)\s*[)）]")
_BARE_NUMBER = re.compile(
    r"(?<![\d.,])\d+(?:\.\d+)?(?![\d.]|\s*(?:%|％|年|个?月|日|天|家|个|项|倍|号|人|次|条|美元|万|亿|元))"
)


_SHARED_UNIT = re.compile(
    r"(?P<bare>(?:\d+(?:\.\d+)?\s*(?:、|,|，|和|及|and|,\s*and)\s*)+)\d+(?:\.\d+)?\s*(?P<unit>万元|万|亿元|亿|(?:million|billion)(?:\s+(?:yuan|RMB|CNY))?)",
    re.IGNORECASE,
)
_BARE = re.compile(r"\d+(?:\.\d+)?")


def _with_shared_unit(text: str, amounts: list[Amount]) -> list[Amount]:
    """ "分别是70、100、120万" / "1.5, 1.8 and 2.5 million yuan": the unit written once, after the last figure,
    is every figure's unit."""
    taken = [(a.start, a.end) for a in amounts]
    extra = []
    for m in _SHARED_UNIT.finditer(text):
        for b in _BARE.finditer(text, m.start("bare"), m.end("bare")):
            if any(s <= b.start() < e for s, e in taken):
                continue
            money = parse_money(
                f"{b.group(0)} {m.group('unit')}" if m.group("unit")[0].isascii() else b.group(0) + m.group("unit")
            )
            if money is not None:
                value = (
                    money[0].quantize(Decimal(1)) if money[0] == money[0].to_integral_value() else money[0].normalize()
                )
                extra.append(
                    Amount(
                        value,
                        money[1],
                        b.start(),
                        b.end(),
                        f"{b.group(0)} {m.group('unit')}"
                        if m.group("unit")[0].isascii()
                        else b.group(0) + m.group("unit"),
                    )
                )
    return sorted(amounts + extra, key=lambda a: a.start)


def _with_declared_unit(text: str, amounts: list[Amount]) -> list[Amount]:
    """ "分别是200、200、300（单位万元）": bare numbers take the unit the owner declared once."""
    m = _UNIT_DECLARED.search(text)
    if not m:
        return amounts
    unit = m.group("a") or m.group("b")
    taken = [(a.start, a.end) for a in amounts] + [m.span()]
    extra = []
    for b in _BARE_NUMBER.finditer(text):
        value = parse_numeral(b.group(0) + unit.removesuffix("元"))  # "60" + "万" → 600000, exactly
        if value is not None and not any(s <= b.start() < e for s, e in taken):
            extra.append(Amount(value, "CNY", b.start(), b.end(), b.group(0) + unit))
    return sorted(amounts + extra, key=lambda a: a.start)


def extract(text: str, topic_hint: set[str] | frozenset[str] = frozenset()) -> Extraction:
    """Facts, unplaced figures and notes from one message; ``topic_hint`` = policy ids under discussion."""
    money = read_money(text)
    masked = money.masked
    out = Extraction()
    if money.rate is not None:
        out.facts["usd_cny_rate"] = money.rate
    out.amounts = _with_shared_unit(masked, _with_declared_unit(masked, money.amounts))
    _place_amounts(masked, out.amounts, set(topic_hint), out)
    _place_words(masked, out)
    return out


def extract_facts(text: str) -> dict[str, Any]:
    """EnterpriseProfile field → value for what the text states (see ``extract`` for the rest)."""
    return extract(text).facts
