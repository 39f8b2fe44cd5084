"""The words around a figure that say what it is: cue words (年租金, 首年交易额 …), its period, ordinal and scope,
the yes/no, level and HQ-type facts owners state in words, and a unit written once for a list of figures.

Patterns only; `assistant.numbers` applies them. Kept apart so the rules an owner's wording is read by can be
read (and argued with) in one place.
"""

from __future__ import annotations

import re
from decimal import Decimal

from assistant.money import Amount, parse_money, parse_numeral

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
CUE_RE = re.compile("|".join(f"(?P<k{i}>{p})" for i, (p, _k) in enumerate(_CUES)), re.IGNORECASE)
CUE_KIND = {f"k{i}": kind for i, (_p, kind) in enumerate(_CUES)}

SEGMENT_END = re.compile(r"[，。；;！？!?\n]|,\s|\.\s|\.$")
UPPER_BOUND_BEFORE = re.compile(
    r"(?:不到|不足|低于|少于|差一点|差点|接近|将近|快|没到|未到|不超过|below|under|less\s+than|almost|nearly|close\s+to)\s*$",
    re.IGNORECASE,
)
LOWER_BOUND_BEFORE = re.compile(r"(?:超过|至少|多于|above|over|more\s+than|at\s+least)\s*$", re.IGNORECASE)
LOWER_BOUND_AFTER = re.compile(r"\s*(?:以上|多|余|plus)")

MONEY_FIELDS = {
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

CROSS_BORDER = re.compile(r"跨境|跨竟|cross[-\s]?border", re.IGNORECASE)
PLATFORM = re.compile(
    r"自建|自己(?:搭|建|做)|自主搭建|平台|self[-\s]?built|own\s+(?:e-?commerce\s+)?platform", re.IGNORECASE
)
HQ = re.compile(r"总部|营销中心|结算中心|运营中心|营运中心|headquarters|\bHQ\b", re.IGNORECASE)

# Recognition levels and HQ types.
LEVEL = (
    r"(?P<lvl>国家级|国字号|国家商务部|商务部|重庆市级|市一级|市级|省级|区级"
    r"|national(?:[-\s]level)?|municipal(?:[-\s]level)?|city[-\s]level|provincial(?:[-\s]level)?)"
)
_BASE_NOUN = r"示范基地|示范园区|孵化基地|产业园区?|电商楼宇|基地|园区|demonstration\s+(?:base|park|zone)"
_ENTERPRISE_NOUN = r"示范企业|demonstration\s+(?:enterprise|company|firm)"
_GAP = r"[^，。；,.!?？！]{0,14}?"
DEMO_PATTERNS = [
    (re.compile(rf"{LEVEL}{_GAP}(?:{_ENTERPRISE_NOUN})", re.IGNORECASE), "demo_enterprise_level"),
    (re.compile(rf"{LEVEL}{_GAP}(?:{_BASE_NOUN})", re.IGNORECASE), "demo_base_level"),
    (re.compile(rf"(?:{_ENTERPRISE_NOUN})[^，。；,.!?？！是]{{0,3}}?{LEVEL}", re.IGNORECASE), "demo_enterprise_level"),
    (re.compile(rf"(?:{_BASE_NOUN})[^，。；,.!?？！是]{{0,3}}?{LEVEL}", re.IGNORECASE), "demo_base_level"),
]
BARE_LEVEL = re.compile(
    rf"^\W*(?:是|我们是|属于|is|it's|it\s+is|we\s+are)?\s*{LEVEL}\s*(?:的|认定)?\W*$", re.IGNORECASE
)
HQ_TYPES = [
    (re.compile(r"区域总部|regional\s+(?:HQ|headquarters?)", re.IGNORECASE), "regional_hq"),
    (re.compile(r"营销中心|marketing\s+cent(?:er|re)", re.IGNORECASE), "marketing_center"),
    (re.compile(r"结算中心|settlement\s+cent(?:er|re)", re.IGNORECASE), "settlement_center"),
    (re.compile(r"(?<!海外)(?:运营中心|营运中心)|operations?\s+cent(?:er|re)", re.IGNORECASE), "operations_center"),
    (re.compile(r"总部|headquarters|\bHQ\b", re.IGNORECASE), "regional_hq"),
]

NOT_YET_RECOGNISED = re.compile(
    r"在申报|正在申报|准备申报|打算申报|申请中|申报中|还没(?:有)?(?:批|认定|评上|下来|通过)|尚未(?:批|认定|获批|通过)|没批下来|没评上|想(?:申报|评|争取)|"
    r"applying\s+for|not\s+yet\s+(?:recogni[sz]ed|approved)|hoping\s+to",
    re.IGNORECASE,
)
NEWLY_SET_UP = re.compile(
    r"新设|新成立|新落户|新引进|新开|刚开|刚设|刚成立|刚落户|(?:在北碚|在我区|在区内)(?:区)?(?:新)?设立|设立了|落户北碚|\bnew(?:ly)?\b|"
    r"\b(?:just\s+)?(?:opened|set\s+up|established|moved)\b",
    re.IGNORECASE,
)
NOT_NEW_HQ = re.compile(
    r"(?:不是|并非|不属于)(?:新设|新成立)|(?:不是|并非|不属于)(?:啥子|什么|啥)?(?:总部|区域总部|营销中心|结算中心|运营中心)|not\s+newly|not\s+an?\s+(?:HQ|headquarters)|(?:established|registered|set\s+up|founded|opened)\s+(?:back\s+)?in\s+(?:19|20)\d\d|been\s+(?:here|in\s+Beibei)\s+(?:for|since)|早就(?:在北碚)?(?:注册|成立)|老企业|(?:19|20)\d\d\s*年就(?:已经)?(?:在北碚)?(?:注册|成立)|"
    r"(?:已经|已)(?:在北碚)?(?:注册|成立|经营)(?:了)?(?:很多|好几|十几|[\d一二两三四五六七八九十]+)\s*年",
    re.IGNORECASE,
)

# Yes/no facts. Negative patterns are tried first. A clause that asks about the condition
# ("必须在北碚注册吗") states nothing.
BOOL_FACTS: list[tuple[str, re.Pattern, re.Pattern]] = [
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
QUESTION_CLAUSE = re.compile(
    r"必须|需要|需不需要|要求|是否|要不要|是不是|吗|么|呢|\?|？|\bmust\b|\bneed\b|\brequired?\b", re.IGNORECASE
)

_YEAR_NUM = r"(?P<n>\d+(?:\.\d+)?|[一二两三四五六七八九十]+|半|one|two|three|four|five|six|seven|eight|nine|ten)"
_EN_NUMBERS = {
    w: i for i, w in enumerate(("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"), 1)
}


def count_word(word: str) -> Decimal | None:
    """'3' / '三' / 'three' → 3 (years and counts, not money)."""
    if word.lower() in _EN_NUMBERS:
        return Decimal(_EN_NUMBERS[word.lower()])
    return parse_numeral(word)


YEARS_IN_OPERATION = [
    re.compile(
        rf"(?:正常)?(?:经营|运营|营业|成立|开业|开了|开张|开店|开门)(?:了|已|已经|满|超过|达|到现在|至今|才|只有|刚|刚刚)*\s*(?P<almost>快|将近|接近|差不多|近)?\s*{_YEAR_NUM}\s*(?P<u>个月|月|年)(?P<half>半)?"
    ),
    re.compile(
        rf"(?:operat(?:ing|ed|ion)|in\s+(?:business|operation))(?:\s+normally)?\s+(?:for\s+)?(?:about\s+|over\s+)?{_YEAR_NUM}\s*(?P<u>years?|months?)",
        re.IGNORECASE,
    ),
]
RENT_YEARS = [
    re.compile(rf"(?:租期为?|租了|租用|连续租|租|合同(?:签了|签的|期为?|为)?|签了|租约|租赁期为?)\s*{_YEAR_NUM}\s*年"),
    re.compile(rf"连续\s*{_YEAR_NUM}\s*年"),
    re.compile(rf"(?:lease|rent(?:ing|ed)?)\s+(?:for\s+)?{_YEAR_NUM}\s*years?", re.IGNORECASE),
    re.compile(rf"{_YEAR_NUM}\s*年(?:(?:都|都会|一直)(?:在这里?|在这儿)?|(?:在这里?|在这儿))租"),
    re.compile(rf"{_YEAR_NUM}[-\s]years?[-\s](?:lease|contract|tenancy)", re.IGNORECASE),
    re.compile(rf"lease\s+(?:of|for)\s+{_YEAR_NUM}\s+years?", re.IGNORECASE),
]
CONTRIBUTION_YEARS = re.compile(rf"(?:前|连续|头)\s*{_YEAR_NUM}\s*(?:个)?年.{{0,12}}每年")
MONTHLY_AFTER = re.compile(r"\s*(?:/月|每月|一个月|a\s+month|per\s+month|monthly)", re.IGNORECASE)
_YEARLY_AFTER = re.compile(r"\s*(?:/年|每年|一年|a\s+year|per\s+year|annually)", re.IGNORECASE)


# What a figure measures is decided by more than its cue word: its period (per month / per year), its
# ordinal (the first year or a later one), its scope (cross-border or domestic), and whether it is the
# subsidy itself or a threshold being asked about rather than a fact about the business.
PERIOD_MONTH = re.compile(
    r"每个?月|平均每?月|月(?:租|均|销|营业|交易|流水|收入|贡献|度)|/\s*月|一个月|per\s+month|monthly|a\s+month|(?:every|each)\s+month|/\s*mo\b",
    re.IGNORECASE,
)
ONE_MONTH = re.compile(r"(?<!线)上个?月|这个?月|本月|当月|last\s+month|this\s+month", re.IGNORECASE)
PERIOD_YEAR = re.compile(
    r"每年|年(?:租|均|销|营业|交易|流水|收入|贡献|度)|/\s*年|一年|全年|per\s+(?:year|annum)|annual(?:ly)?|yearly|a\s+year|(?:every|each)\s+year|/\s*yr\b",
    re.IGNORECASE,
)
ORDINAL = re.compile(
    r"(?:第\s*(?P<n>[一二两三四五六七八九十\d]{1,3})\s*(?:个)?年(?:度)?|(?P<first>首年|头一?年|第一年|头年|first[-\s]year|(?:in\s+)?year\s*(?:one|1)\b)"
    r"|(?P<next>次年|第二年|second[-\s]year|(?:in\s+)?year\s*(?:two|2)\b)|(?P<cal>20\d\d)\s*年(?!\d*月))",
    re.IGNORECASE,
)
ORDINAL_RANGE = re.compile(
    r"第?\s*[一二两三四五1-5]\s*(?:个)?年?\s*(?:到|至|-|~|～|—)\s*第?\s*[一二两三四五1-5]\s*(?:个)?年|"
    r"years?\s+(?:one|1)\s+(?:to|through|-)\s+(?:two|three|four|five|[2-5])",
    re.IGNORECASE,
)
# "附件里说自建平台5亿以上给500万元": the owner quoting (or misquoting) the rule, not stating a fact
QUOTED_RULE = re.compile(
    r"(?:文件|附件|正文|政策|条文|规定|表)(?:里|上|中|里面)?(?:说|写|规定|讲)(?:的)?|according\s+to\s+the\s+(?:document|policy)",
    re.IGNORECASE,
)
CORRECTION = re.compile(r"其实|不对|说错|改成|改为|更正|应该是|纠正|actually|sorry|correction|I\s+meant", re.IGNORECASE)
LIST_SEPARATOR = re.compile(r"\s*(?:、|,|，|;|；|和|及|与|以及|and|,\s*and)\s*", re.IGNORECASE)
UNIT_PRICE = re.compile(
    r"每平(?:方)?米?|一平(?:方)?米?|/\s*(?:平|㎡|m2|平方米)|每㎡|per\s+(?:square\s+)?(?:metre|meter|m2|sqm)",
    re.IGNORECASE,
)
DOMESTIC = re.compile(r"国内|境内|内贸|内销|domestic", re.IGNORECASE)
CLAIM_AFTER = re.compile(
    r"\s*(?:元|块)?(?:的)?(?:一次性|产业|财政|购房|租房|专项|政策)*(?:补贴|补助|扶持|奖励|奖金|资助|subsid|grant|reward|support)",
    re.IGNORECASE,
)
THRESHOLD_ASKED = re.compile(
    r"门槛|标准|要求|起步|最低|至少要|必须|得达到|要达到|需达到|够不够|到没到|达没达到|过没过|够线|(?:那|这)条线|的线|threshold|minimum|required",
    re.IGNORECASE,
)
THRESHOLD_QUESTION = re.compile(r"够不够|到没到|达没达到|过没过|那条线|这条线", re.IGNORECASE)
NOT_RETAIL = re.compile(r"B2B|批发|一般贸易|大宗|to\s*B\b", re.IGNORECASE)
RETAIL = re.compile(r"零售|B2C|retail", re.IGNORECASE)


HOW_COUNTED = re.compile(
    r"还算|算不算|算吗|怎么算|如何算|从.{0,15}算|还是.{0,12}算|起算|是指|指什么|什么意思|怎么认定|如何认定|怎么理解|how\s+is\b.{0,30}\b(?:counted|measured|defined)",
    re.IGNORECASE,
)
SERIES_MARK = re.compile(
    r"每年|年均|连续|前\s*[\d一二两三四五]\s*年|各年|\d\s*年(?:都|均)|per\s+year|a\s+year|annual|each\s+year|every\s+year",
    re.IGNORECASE,
)
PERSONAL = re.compile(r"我|咱|本公司|\bwe\b|\bour\b|\bI\b|\bmy\b", re.IGNORECASE)
PERIOD_FIELDS = {  # fields whose figure has a period; the calculator wants the yearly (or first-year) one
    "office_annual_rent_yuan",
    "online_annual_sales_yuan",
    "annual_local_contribution_yuan",
    "platform_first_year_online_transactions_yuan",
    "cross_border_retail_usd",
    "cross_border_retail_cny",
}


UNIT_DECLARED = re.compile(r"单位(?:是|为)?[:：]?\s*(?P<a>万元|亿元|元|万|亿)|[（(]\s*(?P<b>万元|亿元)\s*[)）]")
BARE_NUMBER = re.compile(
    r"(?<![\d.,])\d+(?:\.\d+)?(?![\d.]|\s*(?:%|％|年|个?月|日|天|家|个|项|倍|号|人|次|条|美元|万|亿|元))"
)


SHARED_UNIT = re.compile(
    r"(?P<bare>(?:\d+(?:\.\d+)?\s*(?:、|,|，|和|及|and|,\s*and)\s*)+)\d+(?:\.\d+)?\s*(?P<unit>万元|万|亿元|亿|(?:million|billion)(?:\s+(?:yuan|RMB|CNY))?)",
    re.IGNORECASE,
)
BARE = re.compile(r"\d+(?:\.\d+)?")


def with_shared_unit(text: str, amounts: list[Amount]) -> list[Amount]:
    """ "分别是70、100、120万" / "1.5, 1.8 and 2.5 million yuan": the unit written once, after the last figure,
    is every figure's unit."""
    taken = [(a.start, a.end) for a in amounts]
    extra = []
    for m in SHARED_UNIT.finditer(text):
        for b in BARE.finditer(text, m.start("bare"), m.end("bare")):
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


def with_declared_unit(text: str, amounts: list[Amount]) -> list[Amount]:
    """ "分别是200、200、300（单位万元）": bare numbers take the unit the owner declared once."""
    m = UNIT_DECLARED.search(text)
    if not m:
        return amounts
    unit = m.group("a") or m.group("b")
    taken = [(a.start, a.end) for a in amounts] + [m.span()]
    extra = []
    for b in BARE_NUMBER.finditer(text):
        value = parse_numeral(b.group(0) + unit.removesuffix("元"))  # "60" + "万" → 600000, exactly
        if value is not None and not any(s <= b.start() < e for s, e in taken):
            extra.append(Amount(value, "CNY", b.start(), b.end(), b.group(0) + unit))
    return sorted(amounts + extra, key=lambda a: a.start)


def not_retail(text: str) -> bool:
    """B2B or wholesale volume with no retail part named: not the 零售交易额 the cross-border rule counts."""
    return bool(NOT_RETAIL.search(text)) and not RETAIL.search(text)


def scope(segment: str) -> str | None:
    """Cross-border or domestic, when the clause around a figure says so."""
    if CROSS_BORDER.search(segment):
        return "cross_border"
    if DOMESTIC.search(segment):
        return "domestic"
    return None
