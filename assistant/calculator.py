"""Subsidy calculator for 北碚府发〔2019〕75号 三、支持政策 and its annex rows 附件-10 … 附件-13.

Deterministic and model-free on purpose: a money figure shown to an enterprise must be reproducible by a
reviewer holding the clause text, so every rule below is one small function that names the clause it
implements, and all arithmetic is `Decimal` under a context that *raises* on any rounding (see `_EXACT`).

Decisions that the policy text leaves open are written down here and repeated in the result's notes:

* 以上/以下/不超过/以内 include the number itself (《民法典》第1259条): 1亿 exactly is in the 1-5亿 tier,
  5亿 exactly is in the 5亿以上 tier, 1000万 capital exactly qualifies, 2亿美元 exactly qualifies.
* 不超过/最高 make the amount an upper bound (`is_upper_bound=True`); the answer says "最高".
* A fact the profile does not state is never assumed: the item is `needs_info` and `missing_facts` names it.
  A stated fact that fails a condition makes the item `not_eligible`, with `conditions_unmet` in Chinese.
* The HQ office subsidies (purchase / rent / contribution reward) sit in the same sentence as the
  1000万/1亿/入统/1年 thresholds of the HQ award, but the text does not say whether those thresholds also
  gate them. We compute them without the thresholds and flag the question for 区商务委.
* The text says nothing about stacking several policies: `total_yuan` is the plain sum of eligible items and
  is flagged as an upper bound to confirm with 区商务委 whenever more than one item is summed.

Output amount format (`amount_yuan`, `total_yuan`): an exact decimal string in yuan, never rounded. Whole
amounts have no decimal point ("300000"); otherwise at least two decimals ("123.50"), and more only when the
exact value needs them (20% of a price in 分 can end in 厘: "246913.578"). `amount_yuan` is null (None)
unless the item is `eligible`; an eligible item always has a positive amount. `total_yuan` is "0" when
nothing is eligible.

Input parsing is strict-ish: numbers may be JSON numbers, `Decimal`, or plain numeric strings such as
"300000" or "99999999.99". Booleans, words ("三亿", "abc"), exponents ("3e8"), thousands separators
("300,000"), NaN and Infinity are rejected; yuan/USD amounts may carry at most 2 decimals (分/cent), which
also catches float noise such as 0.30000000000000004.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_UP,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    localcontext,
)
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

__all__ = [
    "VALIDITY_NOTICE",
    "VALIDITY_NOTICE_EN",
    "INCLUSIVE_BOUNDARY_NOTE",
    "HQ_THRESHOLD_AMBIGUITY_NOTE",
    "STACKING_NOTE",
    "POLICY_IDS",
    "POLICY_TITLES",
    "POLICY_CLAUSES",
    "POLICY_FACTS",
    "POLICY_UNITS",
    "FACT_LABELS",
    "STATUS_LABELS",
    "HqType",
    "RecognitionLevel",
    "Status",
    "PolicyId",
    "EnterpriseProfile",
    "CalculationItem",
    "CalculationResult",
    "calculate",
    "relevant_items",
    "parse_profile",
    "canonical_amount",
    "format_yuan",
    "render_table",
]

# --------------------------------------------------------------------------------------------------
# Notices (exported: the chat layer, API and UI show the same words)
# --------------------------------------------------------------------------------------------------

VALIDITY_NOTICE = (
    "时效提示：本测算依据《重庆市北碚区人民政府关于加快电子商务产业发展的实施意见》"
    "（北碚府发〔2019〕75号，2019年12月5日印发），其任务分解表所列任务完成时间为2022年12月"
    "（支持政策各项未列完成时间）。该政策现在是否仍然有效、是否已被修订或替代，请向区商务委确认；"
    "测算金额仅供参考，最终以主管部门审核认定为准。"
)
VALIDITY_NOTICE_EN = (
    "Validity notice: this estimate is based on Beibei District Government document 北碚府发〔2019〕75号, "
    "issued on 2019-12-05; the tasks in its annex were due by December 2022 (the support-policy rows list "
    "no deadline). Confirm with the District Commerce Commission (区商务委) that the policy still applies "
    "and has not been amended or replaced; the amounts are estimates and the authorities decide on review."
)
INCLUSIVE_BOUNDARY_NOTE = "“以上”“以下”“不超过”均包括本数（《民法典》第1259条），恰好等于门槛的数值视为达到门槛。"
HQ_THRESHOLD_AMBIGUITY_NOTE = (
    "条文未明确购房补贴、租房补贴及地方经济发展贡献奖励是否同样要求“注册资金1000万元（含）以上、"
    "线上年销售收入1亿元以上且数据入统、正常经营1年以上”；本项测算未以这些条件为前提，请向区商务委确认。"
)
STACKING_NOTE = (
    "条文未规定多项政策能否同时享受（叠加）；合计金额为各符合项的简单加总，应视为上限，请向区商务委确认。"
)
_UPPER_BOUND_TOTAL_NOTE = "合计中含“不超过/最高”类补贴，相应金额为上限，实际以审核认定为准。"

# --------------------------------------------------------------------------------------------------
# Policy catalogue
# --------------------------------------------------------------------------------------------------

PolicyId = Literal[
    "hq_establishment",
    "hq_office_purchase",
    "hq_office_rent",
    "hq_contribution_reward",
    "demo_base",
    "demo_enterprise",
    "self_built_platform",
    "cross_border",
    "talent",
]
POLICY_IDS: tuple[str, ...] = (
    "hq_establishment",
    "hq_office_purchase",
    "hq_office_rent",
    "hq_contribution_reward",
    "demo_base",
    "demo_enterprise",
    "self_built_platform",
    "cross_border",
    "talent",
)
POLICY_TITLES: dict[str, str] = {
    "hq_establishment": "电子商务总部企业引进一次性产业扶持",
    "hq_office_purchase": "电子商务总部企业购买办公用房补贴",
    "hq_office_rent": "电子商务总部企业租用办公用房补贴",
    "hq_contribution_reward": "电子商务总部企业地方经济发展贡献奖励",
    "demo_base": "电子商务示范基地（园区）一次性奖励",
    "demo_enterprise": "电子商务示范企业一次性奖励",
    "self_built_platform": "企业自建电子商务平台一次性财政扶持",
    "cross_border": "跨境电子商务发展一次性财政扶持",
    "talent": "电子商务高层次人才优惠政策",
}
POLICY_CLAUSES: dict[str, list[str]] = {
    "hq_establishment": ["三(一)", "附件-10"],
    "hq_office_purchase": ["三(一)", "附件-10"],
    "hq_office_rent": ["三(一)", "附件-10"],
    "hq_contribution_reward": ["三(一)", "附件-10"],
    "demo_base": ["三(二)"],
    "demo_enterprise": ["三(三)"],
    "self_built_platform": ["三(四)", "附件-11"],
    "cross_border": ["三(五)", "附件-12"],
    "talent": ["三(六)", "附件-13"],
}
# (lead unit, responsible units), copied from each clause's （牵头单位；责任单位） so users know where to go.
_PARKS = ["两江新区水土高新技术产业园管委会", "两江新区蔡家智慧新城管委会", "缙云人文科技城管委会"]
POLICY_UNITS: dict[str, tuple[str, list[str]]] = {
    "hq_establishment": ("区商务委", ["区财政局", "区招商投资局"]),
    "hq_office_purchase": ("区商务委", ["区财政局", "区招商投资局"]),
    "hq_office_rent": ("区商务委", ["区财政局", "区招商投资局"]),
    "hq_contribution_reward": ("区商务委", ["区财政局", "区招商投资局"]),
    "demo_base": ("区商务委", ["区财政局", *_PARKS]),
    "demo_enterprise": ("区商务委", ["区财政局"]),
    "self_built_platform": ("区商务委", ["区财政局", "区民营经济发展局"]),
    "cross_border": ("区商务委", ["区财政局", "区民营经济发展局"]),
    "talent": ("区人力社保局", ["区教委", "区商务委", "区卫生健康委", "区公安分局"]),
}
# The profile facts each policy reads, in the order worth asking about (gates first). An item is
# "touched" when the profile states at least one of them; `missing_facts` follows this order.
POLICY_FACTS: dict[str, tuple[str, ...]] = {
    "hq_establishment": (
        "new_hq_type",
        "registered_capital_yuan",
        "online_annual_sales_yuan",
        "sales_in_statistics",
        "years_in_operation",
    ),
    "hq_office_purchase": ("new_hq_type", "office_purchase_price_yuan"),
    "hq_office_rent": ("new_hq_type", "office_annual_rent_yuan", "rent_years"),
    "hq_contribution_reward": ("new_hq_type", "annual_local_contribution_yuan"),
    "demo_base": ("demo_base_level",),
    "demo_enterprise": ("demo_enterprise_level",),
    "self_built_platform": (
        "platform_first_year_online_transactions_yuan",
        "platform_project_investment_yuan",
        "registered_in_beibei",
        "local_legal_entity",
    ),
    "cross_border": ("cross_border_retail_usd", "cross_border_retail_cny", "usd_cny_rate"),
    "talent": ("new_hq_type",),
}
# Chinese wording of each profile field, for follow-up questions and the CLI table.
FACT_LABELS: dict[str, str] = {
    "registered_in_beibei": "是否在北碚区注册",
    "local_legal_entity": "是否为本地法人企业",
    "new_hq_type": "在北碚区新设立的电商机构类型（区域总部/营销中心/结算中心/运营中心）",
    "registered_capital_yuan": "注册资金（元）",
    "online_annual_sales_yuan": "线上年销售收入（元）",
    "sales_in_statistics": "线上销售数据是否入统",
    "years_in_operation": "正常经营年限（年）",
    "office_purchase_price_yuan": "在区内购买办公用房总价（元）",
    "office_annual_rent_yuan": "在区内租用办公用房年租金（元）",
    "rent_years": "租用年限（年）",
    "annual_local_contribution_yuan": "对北碚区地方经济发展贡献（元/年，最多5个年度）",
    "demo_base_level": "示范基地（园区）认定级别（国家级/市级）",
    "demo_enterprise_level": "示范企业认定级别（国家级/重庆市级）",
    "platform_project_investment_yuan": "自建电商平台项目投资（元）",
    "platform_first_year_online_transactions_yuan": "自建平台建成运营后首年网上交易额（元）",
    "cross_border_retail_usd": "跨境电子商务零售交易额（美元）",
    "cross_border_retail_cny": "跨境电子商务零售交易额（人民币元）",
    "usd_cny_rate": "美元兑人民币汇率（1美元=?元）",
}
STATUS_LABELS: dict[str, str] = {
    "eligible": "符合",
    "not_eligible": "不符合",
    "needs_info": "需补充信息",
    "non_monetary": "非资金类",
}

# Thresholds and amounts, named as the text names them.
WAN = Decimal(10_000)
YI = Decimal(100_000_000)
HQ_MIN_CAPITAL = 1000 * WAN  # 注册资金在1000万元（含）以上
HQ_MIN_ONLINE_SALES = 1 * YI  # 实现线上年销售收入1亿元以上
HQ_MIN_YEARS = Decimal(1)  # 正常经营1年以上
HQ_AWARD = 100 * WAN  # 给予100万元的一次性产业扶持资金
PURCHASE_RATE = Decimal("0.2")  # 不超过所购办公用房总价20%
PURCHASE_CAP = 50 * WAN  # 最高50万元
RENT_RATE = Decimal("0.2")  # 每年不超过租金20%
RENT_YEARS = 3  # 补贴期限为3年
RENT_CAP = 30 * WAN  # 累计最高补贴30万元
CONTRIBUTION_RATES = (Decimal(1), Decimal(1), Decimal(1), Decimal("0.5"), Decimal("0.5"))  # 前3年100%、后2年50%
DEMO_BASE_AWARD = {"national": 30 * WAN, "municipal": 20 * WAN}
DEMO_ENTERPRISE_AWARD = {"national": 20 * WAN, "municipal": 10 * WAN}
PLATFORM_MIN_INVESTMENT = 100 * WAN  # 项目投资100万元以上
PLATFORM_TIER_LOW = 1 * YI  # 首年网上交易额达1-5亿元 → 30万元
PLATFORM_TIER_HIGH = 5 * YI  # 5亿元以上 → 50万元
PLATFORM_AWARD_LOW = 30 * WAN
PLATFORM_AWARD_HIGH = 50 * WAN
CROSS_BORDER_MIN_USD = Decimal(200_000_000)  # 跨境电子零售交易额达2亿美元以上
CROSS_BORDER_AWARD = 200 * WAN
TALENT_PREFERENCES = ("居留和出入境", "落户", "子女入学", "医疗")

_HQ_TYPE_NAMES = {
    "regional_hq": "区域总部",
    "marketing_center": "营销中心",
    "settlement_center": "结算中心",
    "operations_center": "运营中心",
}
_LEVEL_NAMES = {"national": "国家级", "municipal": "市级"}

# All calculation arithmetic runs in this context: any rounding raises instead of silently losing a 分.
_EXACT = Context(prec=80, traps=[Inexact, Rounded, InvalidOperation, DivisionByZero, Overflow, Clamped])
# Display-only helpers (万 approximations, USD conversions) may round, and say so with 约.
_DISPLAY = Context(prec=80, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])

# --------------------------------------------------------------------------------------------------
# Input: EnterpriseProfile
# --------------------------------------------------------------------------------------------------

_MAX_MONEY = Decimal(10) ** 15
_NUMERIC_STR = re.compile(r"[+-]?\d+(?:\.\d+)?")
_NUMERIC_HELP = 'a JSON number or a plain numeric string such as "300000"'


def _to_decimal(value: Any) -> Decimal:
    """Accepts only what unambiguously is a number, so "三亿" or True never turns into money."""
    if isinstance(value, bool):
        raise ValueError(f"布尔值不能作为数值 (booleans are not numbers; give {_NUMERIC_HELP})")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr() is the shortest string that round-trips, i.e. the number the caller wrote.
        value = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not _NUMERIC_STR.fullmatch(text):
            raise ValueError(f"不是有效数值 (not a number: {value!r}; give {_NUMERIC_HELP})")
        value = Decimal(text)
    elif not isinstance(value, Decimal):
        raise ValueError(f"不是有效数值 (expected {_NUMERIC_HELP}, got {type(value).__name__})")
    if not value.is_finite():
        raise ValueError("数值必须是有限数 (NaN and Infinity are not allowed)")
    return value


def _places(d: Decimal) -> int:
    exponent = d.normalize(_DISPLAY).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _number(
    *,
    ge: Decimal | None = None,
    gt: Decimal | None = None,
    le: Decimal | None = None,
    lt: Decimal | None = None,
    max_places: int | None = None,
) -> Callable[[Any], Decimal]:
    """Builds one validator so every numeric field rejects bad input with a bilingual, specific message."""

    def validate(value: Any) -> Decimal:
        d = _to_decimal(value)
        if ge is not None and d < ge:
            raise ValueError(f"不能小于{ge} (must be ≥ {ge}), got {d}")
        if gt is not None and d <= gt:
            raise ValueError(f"必须大于{gt} (must be > {gt}), got {d}")
        if le is not None and d > le:
            raise ValueError(f"数值过大，不能超过{le:f} (must be ≤ {le:f}), got {d}")
        if lt is not None and d >= lt:
            raise ValueError(f"必须小于{lt} (must be < {lt}), got {d}")
        if max_places is not None and _places(d) > max_places:
            raise ValueError(f"最多保留{max_places}位小数 (at most {max_places} decimal places), got {d}")
        return d

    return validate


_money_validator = _number(ge=Decimal(0), le=_MAX_MONEY, max_places=2)

# Yuan (or USD) amount: 0 ≤ x ≤ 10^15, at most 2 decimals.
Money = Annotated[Decimal, BeforeValidator(_money_validator)]
Years = Annotated[Decimal, BeforeValidator(_number(ge=Decimal(0), le=Decimal(200), max_places=4))]
Rate = Annotated[Decimal, BeforeValidator(_number(gt=Decimal(0), lt=Decimal(100), max_places=8))]


def _to_rent_years(value: Any) -> int:
    """Whole years only: the subsidy is granted per year (每年…补贴期限为3年)."""
    d = _to_decimal(value)
    if d != d.to_integral_value():
        raise ValueError(f"租用年限须为整数年 (must be a whole number of years), got {d}")
    if not 1 <= d <= 100:
        raise ValueError(f"租用年限须在1到100年之间 (must be between 1 and 100), got {d}")
    return int(d)


def _to_contributions(value: Any) -> Decimal | list[Decimal]:
    """One figure or one per reward year; the reward runs 5 years, so more than 5 figures is an error."""
    if isinstance(value, (list, tuple)):
        if not 1 <= len(value) <= 5:
            raise ValueError(
                f"须为1至5个年度的贡献额 (give 1 to 5 yearly figures; the reward covers 5 years), got {len(value)}"
            )
        out = []
        for i, item in enumerate(value, start=1):
            try:
                out.append(_money_validator(item))
            except ValueError as exc:
                raise ValueError(f"第{i}年 (year {i}): {exc}") from None
        return out
    return _money_validator(value)


HqType = Literal["regional_hq", "marketing_center", "settlement_center", "operations_center", "none"]
RecognitionLevel = Literal["national", "municipal", "none"]


class EnterpriseProfile(BaseModel):
    """What the enterprise tells us. Every field is optional because unknown must stay unknown, not False."""

    model_config = ConfigDict(extra="forbid")

    registered_in_beibei: StrictBool | None = Field(None, description="是否在北碚区注册 (附件-11)。")
    local_legal_entity: StrictBool | None = Field(None, description="是否为本地法人企业 (附件-11)。")
    new_hq_type: HqType | None = Field(
        None,
        description="在北碚区新设立的电商机构类型 (附件-10)；'none' = 不属于新设立的区域总部/营销中心/结算中心/运营中心。",
    )
    registered_capital_yuan: Money | None = Field(None, description="注册资金，元。")
    online_annual_sales_yuan: Money | None = Field(None, description="线上年销售收入，元。")
    sales_in_statistics: StrictBool | None = Field(None, description="线上销售数据是否入统。")
    years_in_operation: Years | None = Field(None, description="正常经营年限，年（可有小数）。")
    office_purchase_price_yuan: Money | None = Field(
        None, description="在区内购买办公用房总价，元；0 = 未购买。"
    )
    office_annual_rent_yuan: Money | None = Field(None, description="在区内租用办公用房年租金，元；0 = 未租用。")
    rent_years: Annotated[int, BeforeValidator(_to_rent_years)] | None = Field(
        None, description="租用年限，整数年（1-100）；缺省按政策补贴期限3年计。"
    )
    annual_local_contribution_yuan: Annotated[
        Decimal | list[Decimal], BeforeValidator(_to_contributions)
    ] | None = Field(
        None,
        description="自产生贡献起各年度对北碚区地方经济发展的贡献，元：1-5个年度的列表，或一个数（视为5年每年相同）。",
    )
    demo_base_level: RecognitionLevel | None = Field(
        None, description="示范基地（园区）认定级别：national=国家级，municipal=市级，none=未获认定。"
    )
    demo_enterprise_level: RecognitionLevel | None = Field(
        None, description="示范企业认定级别：national=国家级，municipal=重庆市级，none=未获认定。"
    )
    platform_project_investment_yuan: Money | None = Field(None, description="自建电商平台项目投资，元。")
    platform_first_year_online_transactions_yuan: Money | None = Field(
        None, description="自建平台建成运营后首年网上交易额，元。"
    )
    cross_border_retail_usd: Money | None = Field(None, description="跨境电子商务零售交易额，美元。")
    cross_border_retail_cny: Money | None = Field(None, description="跨境电子商务零售交易额，人民币元。")
    usd_cny_rate: Rate | None = Field(None, description="汇率：1美元兑多少人民币元（0 < rate < 100）。")


def parse_profile(data: dict[str, Any] | str) -> EnterpriseProfile:
    """JSON text is parsed with Decimal floats so 99999999.99 never passes through a binary float."""
    if isinstance(data, str):
        data = json.loads(data, parse_float=Decimal)
    return EnterpriseProfile.model_validate(data)


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------

Status = Literal["eligible", "not_eligible", "needs_info", "non_monetary"]


class CalculationItem(BaseModel):
    policy_id: PolicyId
    title: str
    clause_ids: list[str]
    status: Status
    amount_yuan: str | None = Field(
        None, description="Exact decimal string in yuan (see module doc); null unless status is eligible."
    )
    is_upper_bound: bool = Field(False, description="True where the text says 不超过/最高.")
    basis: str = Field("", description="The rule with the profile's numbers filled in (Chinese).")
    missing_facts: list[str] = Field(default_factory=list, description="EnterpriseProfile field names, ask in order.")
    conditions_unmet: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    lead_unit: str
    responsible_units: list[str] = Field(default_factory=list)
    touched: bool = Field(False, description="The profile stated at least one fact this policy reads.")

    @property
    def amount(self) -> Decimal | None:
        return None if self.amount_yuan is None else Decimal(self.amount_yuan)


class CalculationResult(BaseModel):
    items: list[CalculationItem]
    total_yuan: str = Field(description="Exact sum of eligible items' amount_yuan; '0' when none.")
    total_is_upper_bound: bool = Field(
        False, description="True when the total includes a 不超过/最高 item or stacks several items."
    )
    notes: list[str] = Field(default_factory=list)

    def item(self, policy_id: str) -> CalculationItem:
        for it in self.items:
            if it.policy_id == policy_id:
                return it
        raise KeyError(policy_id)


def relevant_items(result: CalculationResult) -> list[CalculationItem]:
    """Only what the profile speaks to, so an answer does not lecture a renter about cross-border awards."""
    return [it for it in result.items if it.touched]


# --------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------


def canonical_amount(amount: Decimal | str | int) -> str:
    """One spelling per value, so API payloads compare as strings and nothing is rounded away."""
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


def _short(amount: Decimal, unit: str = "元") -> str:
    """Exact compact Chinese figure for `basis` text: 3亿元, 49.8万元, 9999.999999万元, 123.45元."""
    with localcontext(_DISPLAY):
        d = Decimal(canonical_amount(amount))
        for size, word in ((YI, "亿"), (WAN, "万")):
            if abs(d) >= size:
                scaled = (d / size).normalize()
                return f"{format(scaled, 'f')}{word}{unit}"
        return f"{canonical_amount(d)}{unit}"


def _pct(rate: Decimal) -> str:
    with localcontext(_DISPLAY):
        return f"{format((rate * 100).normalize(), 'f')}%"


def render_table(result: CalculationResult, *, only_touched: bool = False) -> str:
    """The CLI view: every figure next to its clause and formula, so the user can check it by hand."""

    def cell(text: str) -> str:
        return (text or "—").replace("|", "\\|").replace("\n", " ")

    items = relevant_items(result) if only_touched else result.items
    lines = [
        "| 政策 | 条款 | 状态 | 金额 | 计算依据 / 未满足条件 | 需补充信息 |",
        "|---|---|---|---|---|---|",
    ]
    for it in items:
        if it.amount_yuan is not None:
            amount = ("最高" if it.is_upper_bound else "") + format_yuan(it.amount_yuan)
        else:
            amount = "—"
        basis = it.basis
        if it.conditions_unmet:
            basis = f"{basis}；未满足：{'；'.join(it.conditions_unmet)}"
        missing = "；".join(FACT_LABELS.get(f, f) for f in it.missing_facts)
        lines.append(
            f"| {cell(it.title)} | {cell('、'.join(it.clause_ids))} | {STATUS_LABELS[it.status]} | "
            f"{cell(amount)} | {cell(basis)} | {cell(missing)} |"
        )
    total = ("最高" if result.total_is_upper_bound else "") + format_yuan(result.total_yuan)
    lines += ["", f"**合计：{total}**（仅计“符合”项）"]
    noted = [it for it in items if it.notes or it.lead_unit]
    if noted:
        lines += ["", "各项说明："]
        for it in noted:
            where = f"牵头单位：{it.lead_unit}；责任单位：{'、'.join(it.responsible_units)}"
            lines.append(f"- {it.title}（{where}）")
            lines += [f"  - {n}" for n in it.notes]
    if result.notes:
        lines += ["", "说明："]
        lines += [f"- {n}" for n in result.notes]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Rule machinery
# --------------------------------------------------------------------------------------------------


class _Check:
    """Collects condition outcomes so each rule reads as a list of the clause's conditions."""

    def __init__(self, policy_id: str, profile: EnterpriseProfile) -> None:
        self.policy_id = policy_id
        self.p = profile
        self.missing: list[str] = []
        self.unmet: list[str] = []
        self.notes: list[str] = []
        self.at_boundary = False

    def need(self, field: str, ok: Callable[[Any], bool], unmet: Callable[[Any], str]) -> None:
        value = getattr(self.p, field)
        if value is None:
            self.missing.append(field)
        elif not ok(value):
            self.unmet.append(unmet(value))

    def at_least(self, field: str, threshold: Decimal, unmet: Callable[[Any], str]) -> None:
        """以上 includes the number itself (《民法典》第1259条)."""
        value = getattr(self.p, field)
        if value is not None and value == threshold:
            self.at_boundary = True
        self.need(field, lambda v: v >= threshold, unmet)

    def need_hq(self) -> None:
        """附件-10's subject: 在我区新设立的电子商务区域总部、营销中心、结算中心、运营中心等."""
        self.need(
            "new_hq_type",
            lambda v: v != "none",
            lambda v: "不属于在我区新设立的电子商务区域总部、营销中心、结算中心、运营中心等",
        )

    @property
    def passed(self) -> bool:
        return not self.missing and not self.unmet

    def item(
        self,
        *,
        basis: str,
        amount: Decimal | None = None,
        upper: bool = False,
        status: Status | None = None,
    ) -> CalculationItem:
        if status is None:
            status = "not_eligible" if self.unmet else "needs_info" if self.missing else "eligible"
        if self.at_boundary:
            self.notes.insert(0, INCLUSIVE_BOUNDARY_NOTE)
        if status == "needs_info" and self.missing:
            asks = "、".join(FACT_LABELS[f] for f in self.missing)
            basis = f"{basis}（尚需补充：{asks}）"
        lead, units = POLICY_UNITS[self.policy_id]
        return CalculationItem(
            policy_id=self.policy_id,
            title=POLICY_TITLES[self.policy_id],
            clause_ids=list(POLICY_CLAUSES[self.policy_id]),
            status=status,
            amount_yuan=canonical_amount(amount) if status == "eligible" and amount is not None else None,
            is_upper_bound=upper,
            basis=basis,
            missing_facts=self.missing if status in ("needs_info", "non_monetary") else [],
            conditions_unmet=self.unmet,
            notes=self.notes,
            lead_unit=lead,
            responsible_units=list(units),
            touched=any(getattr(self.p, f) is not None for f in POLICY_FACTS[self.policy_id]),
        )


def _hq_threshold_note(c: _Check) -> None:
    """Purchase/rent/contribution share 附件-10 with the HQ thresholds; say whether this profile would clear them."""
    c.notes.append(HQ_THRESHOLD_AMBIGUITY_NOTE)
    failing = _hq_thresholds(c.p).unmet
    if failing:
        c.notes.append(
            "注意：按所填信息，企业未达到总部企业一次性扶持的门槛（" + "；".join(failing) + "）；"
            "如区商务委认定这些门槛同样适用于本项，则本项不能享受。"
        )


def _hq_thresholds(p: EnterpriseProfile) -> _Check:
    c = _Check("hq_establishment", p)
    c.at_least(
        "registered_capital_yuan",
        HQ_MIN_CAPITAL,
        lambda v: f"注册资金{_short(v)}，未达到1000万元（含）",
    )
    c.at_least(
        "online_annual_sales_yuan",
        HQ_MIN_ONLINE_SALES,
        lambda v: f"线上年销售收入{_short(v)}，未达到1亿元",
    )
    c.need("sales_in_statistics", lambda v: v is True, lambda v: "线上销售数据未入统")
    c.at_least(
        "years_in_operation",
        HQ_MIN_YEARS,
        lambda v: f"正常经营{format(v, 'f')}年，未满1年",
    )
    return c


# --------------------------------------------------------------------------------------------------
# One function per policy_id
# --------------------------------------------------------------------------------------------------


def hq_establishment(p: EnterpriseProfile) -> CalculationItem:
    """附件-10 (三(一)): 在我区新设立的电子商务区域总部、营销中心、结算中心、运营中心等，注册资金在1000万元（含）
    以上，实现线上年销售收入1亿元以上且数据入统的，正常经营1年以上，给予100万元的一次性产业扶持资金。

    The amount is fixed (no 不超过), so it is not an upper bound.
    """
    c = _Check("hq_establishment", p)
    c.need_hq()
    thresholds = _hq_thresholds(p)
    c.missing += thresholds.missing
    c.unmet += thresholds.unmet
    c.at_boundary = thresholds.at_boundary
    c.notes.append("条文列举的机构类型带“等”字，其他类型的总部性机构能否适用请向区商务委确认。")
    if not c.passed:
        return c.item(
            basis="新设立的区域总部/营销中心/结算中心/运营中心等，注册资金≥1000万元、线上年销售收入≥1亿元且数据入统、"
            "正常经营≥1年，给予100万元一次性产业扶持资金"
        )
    kind = _HQ_TYPE_NAMES[p.new_hq_type]  # type: ignore[index]
    return c.item(
        amount=HQ_AWARD,
        basis=(
            f"新设立{kind}，注册资金{_short(p.registered_capital_yuan)}（≥1000万元），"  # type: ignore[arg-type]
            f"线上年销售收入{_short(p.online_annual_sales_yuan)}（≥1亿元）且数据入统，"  # type: ignore[arg-type]
            f"正常经营{format(p.years_in_operation, 'f')}年（≥1年），给予100万元一次性产业扶持资金"
        ),
    )


def hq_office_purchase(p: EnterpriseProfile) -> CalculationItem:
    """附件-10 (三(一)): 在区内购买办公用房的，一次性给予不超过所购办公用房总价20%的补贴，最高50万元。

    不超过 and 最高 make min(总价×20%, 50万) a ceiling, not a promise.
    """
    c = _Check("hq_office_purchase", p)
    c.need_hq()
    c.need("office_purchase_price_yuan", lambda v: v > 0, lambda v: "未在区内购买办公用房（购房总价为0）")
    _hq_threshold_note(c)
    if not c.passed:
        return c.item(basis="购房补贴 = 不超过所购办公用房总价×20%，最高50万元（一次性）", upper=True)
    price = p.office_purchase_price_yuan
    raw = price * PURCHASE_RATE  # type: ignore[operator]
    amount = min(raw, PURCHASE_CAP)
    if raw > PURCHASE_CAP:
        tail = "超过最高50万元，按50万元计"
    elif raw == PURCHASE_CAP:
        tail = "恰好等于最高50万元"
    else:
        tail = "未超过最高50万元"
    return c.item(
        amount=amount,
        upper=True,
        basis=f"购房总价{_short(price)}×20%={_short(raw)}，{tail}；一次性补贴不超过{_short(amount)}",  # type: ignore[arg-type]
    )


def hq_office_rent(p: EnterpriseProfile) -> CalculationItem:
    """附件-10 (三(一)): 在区内租用办公用房的，给予每年不超过租金20%的补贴，补贴期限为3年，累计最高补贴30万元。

    Years beyond the 3-year 补贴期限 earn nothing; an unstated lease length is read as the full 3 years
    (the most the policy can give), and the note says so.
    """
    c = _Check("hq_office_rent", p)
    c.need_hq()
    c.need("office_annual_rent_yuan", lambda v: v > 0, lambda v: "未在区内租用办公用房（年租金为0）")
    _hq_threshold_note(c)
    if not c.passed:
        return c.item(basis="租房补贴 = 每年不超过租金×20%，补贴期限3年，累计最高30万元", upper=True)
    if p.rent_years is None:
        years = RENT_YEARS
        c.notes.append("未提供租用年限，按政策补贴期限3年计算。")
    elif p.rent_years > RENT_YEARS:
        years = RENT_YEARS
        c.notes.append(f"租用年限{p.rent_years}年，超过补贴期限3年，仅按3年计算。")
    else:
        years = p.rent_years
    rent = p.office_annual_rent_yuan
    per_year = rent * RENT_RATE  # type: ignore[operator]
    raw = per_year * years
    amount = min(raw, RENT_CAP)
    if raw > RENT_CAP:
        tail = "超过累计最高30万元，按30万元计"
    elif raw == RENT_CAP:
        tail = "恰好等于累计最高30万元"
    else:
        tail = "未超过累计最高30万元"
    return c.item(
        amount=amount,
        upper=True,
        basis=(
            f"年租金{_short(rent)}×20%={_short(per_year)}/年，×{years}年={_short(raw)}，{tail}；"  # type: ignore[arg-type]
            f"补贴累计不超过{_short(amount)}"
        ),
    )


def hq_contribution_reward(p: EnterpriseProfile) -> CalculationItem:
    """附件-10 (三(一)): 自产生北碚区地方经济发展贡献起，按其对北碚区地方经济发展贡献前3年100%、后2年50%的额度给予奖励。

    A list shorter than 5 is computed for the years given (and the note says later years are not included)
    rather than withheld as needs_info, because the known years are already certain. One figure is read as the
    same contribution in each of the 5 years.
    """
    c = _Check("hq_contribution_reward", p)
    c.need_hq()
    c.need(
        "annual_local_contribution_yuan",
        lambda v: any(x > 0 for x in (v if isinstance(v, list) else [v])),
        lambda v: "尚未产生对北碚区地方经济发展的贡献（贡献额为0）",
    )
    _hq_threshold_note(c)
    c.notes.append("“地方经济发展贡献”的统计口径及起算年度由区商务委、区财政局核定。")
    if not c.passed:
        return c.item(basis="贡献奖励 = 自产生贡献起前3年贡献额×100% + 后2年贡献额×50%")
    given = p.annual_local_contribution_yuan
    if isinstance(given, list):
        figures = given
        if len(figures) < len(CONTRIBUTION_RATES):
            c.notes.append(
                f"仅提供了{len(figures)}个年度的贡献额，只计算这{len(figures)}年；"
                f"第{len(figures) + 1}至5年的奖励未计入合计。"
            )
    else:
        figures = [given] * len(CONTRIBUTION_RATES)  # type: ignore[list-item]
        c.notes.append("只提供了一个贡献额，按5个奖励年度每年贡献相同计算。")
    parts, amount = [], Decimal(0)
    for year, (figure, rate) in enumerate(zip(figures, CONTRIBUTION_RATES), start=1):
        reward = figure * rate
        amount += reward
        parts.append(f"第{year}年{_short(figure)}×{_pct(rate)}={_short(reward)}")
    if amount == 0:  # unreachable: need() above requires a positive figure; kept so the rule never pays 0.
        return c.item(basis="；".join(parts), status="not_eligible")
    return c.item(amount=amount, basis="；".join(parts) + f"；合计奖励{_short(amount)}")


def demo_base(p: EnterpriseProfile) -> CalculationItem:
    """三(二): 对认定为国家级电子商务示范基地的，给予30万元一次性奖励；被认定为市级电子商务示范园区（基地）的，
    给予20万元一次性奖励。"""
    c = _Check("demo_base", p)
    c.need("demo_base_level", lambda v: v != "none", lambda v: "未被认定为国家级或市级电子商务示范基地（园区）")
    if not c.passed:
        return c.item(basis="国家级电子商务示范基地30万元；市级电子商务示范园区（基地）20万元（一次性奖励）")
    level = p.demo_base_level
    name = "国家级电子商务示范基地" if level == "national" else "市级电子商务示范园区（基地）"
    amount = DEMO_BASE_AWARD[level]  # type: ignore[index]
    c.notes.append("同一载体先后获市级、国家级认定能否分别获奖，条文未明确，请向区商务委确认。")
    return c.item(amount=amount, basis=f"被认定为{name}，给予{_short(amount)}一次性奖励")


def demo_enterprise(p: EnterpriseProfile) -> CalculationItem:
    """三(三): 被认定为国家级电子商务示范企业的，给予20万元一次性奖励，被认定为重庆市级电子商务示范企业的，
    给予10万元一次性奖励。"""
    c = _Check("demo_enterprise", p)
    c.need(
        "demo_enterprise_level", lambda v: v != "none", lambda v: "未被认定为国家级或重庆市级电子商务示范企业"
    )
    if not c.passed:
        return c.item(basis="国家级电子商务示范企业20万元；重庆市级电子商务示范企业10万元（一次性奖励）")
    level = p.demo_enterprise_level
    name = "国家级电子商务示范企业" if level == "national" else "重庆市级电子商务示范企业"
    amount = DEMO_ENTERPRISE_AWARD[level]  # type: ignore[index]
    c.notes.append("同一企业先后获市级、国家级认定能否分别获奖，条文未明确，请向区商务委确认。")
    return c.item(amount=amount, basis=f"被认定为{name}，给予{_short(amount)}一次性奖励")


def self_built_platform(p: EnterpriseProfile) -> CalculationItem:
    """三(四) with 附件-11: 在北碚区注册的电子商务企业，对自建电子商务平台，项目投资100万元以上且建成运营后首年
    网上交易额达1-5亿元、5亿元以上的本地法人企业，分别给予30万元、50万元一次性财政扶持。

    The registration, 100万 investment and 本地法人 conditions appear only in 附件-11, not in 三(四); we apply
    them (the stricter reading) and say so. The tiers overlap at 5亿 ("1-5亿" vs "5亿元以上"); since 以上
    includes the number, 5亿 exactly earns 50万.
    """
    c = _Check("self_built_platform", p)
    c.at_least(
        "platform_first_year_online_transactions_yuan",
        PLATFORM_TIER_LOW,
        lambda v: f"首年网上交易额{_short(v)}，未达到1亿元",
    )
    c.at_least(
        "platform_project_investment_yuan",
        PLATFORM_MIN_INVESTMENT,
        lambda v: f"项目投资{_short(v)}，未达到100万元",
    )
    c.need("registered_in_beibei", lambda v: v is True, lambda v: "未在北碚区注册")
    c.need("local_legal_entity", lambda v: v is True, lambda v: "不是本地法人企业")
    if p.platform_first_year_online_transactions_yuan == PLATFORM_TIER_HIGH:
        c.at_boundary = True
    c.notes.append(
        "正文三(四)未写明“在北碚区注册”“项目投资100万元以上”“本地法人企业”等条件，这些条件出自任务分解表附件-11，"
        "本测算一并适用。"
    )
    if not c.passed:
        return c.item(
            basis="首年网上交易额1亿元（含）至5亿元给予30万元、5亿元（含）以上给予50万元一次性财政扶持"
            "（另需在北碚区注册、本地法人、项目投资≥100万元）"
        )
    volume = p.platform_first_year_online_transactions_yuan
    if volume >= PLATFORM_TIER_HIGH:  # type: ignore[operator]
        amount, tier = PLATFORM_AWARD_HIGH, "属5亿元以上档"
    else:
        amount, tier = PLATFORM_AWARD_LOW, "属1-5亿元档"
    return c.item(
        amount=amount,
        basis=(
            f"首年网上交易额{_short(volume)}，{tier}，给予{_short(amount)}一次性财政扶持"  # type: ignore[arg-type]
            f"（项目投资{_short(p.platform_project_investment_yuan)}≥100万元，在北碚区注册的本地法人企业）"  # type: ignore[arg-type]
        ),
    )


def cross_border(p: EnterpriseProfile) -> CalculationItem:
    """三(五) with 附件-12: 对在自主平台和第三方合作平台上开展跨境电子商务零售交易额达2亿美元以上的企业，
    给予200万元一次性财政扶持。

    The threshold is in USD, so a CNY figure decides nothing without a stated rate: we never assume one.
    With a rate, the test is CNY ≥ 2亿 × rate, which is exact (no division) and equivalent.
    """
    c = _Check("cross_border", p)
    c.notes.append("条文未写明交易额的统计期间（如自然年度），请以区商务委认定口径为准。")
    usd, cny, rate = p.cross_border_retail_usd, p.cross_border_retail_cny, p.usd_cny_rate
    rule = "自主平台和第三方合作平台跨境电子商务零售交易额≥2亿美元，给予200万元一次性财政扶持"
    if usd is not None:
        if cny is not None:
            c.notes.append("同时提供了美元和人民币金额，按美元金额判断。")
        if usd == CROSS_BORDER_MIN_USD:
            c.at_boundary = True
        if usd < CROSS_BORDER_MIN_USD:
            c.unmet.append(f"跨境电子商务零售交易额{format_usd(usd)}，未达到2亿美元")
            return c.item(basis=rule)
        return c.item(
            amount=CROSS_BORDER_AWARD,
            basis=f"跨境电子商务零售交易额{format_usd(usd)}（≥2亿美元），给予200万元一次性财政扶持",
        )
    if cny is not None:
        if rate is None:
            c.missing.append("usd_cny_rate")
            c.notes.append(
                "门槛以美元计（2亿美元）；只提供了人民币金额，是否达标取决于所用汇率，请提供汇率（或直接提供美元金额）。"
            )
            return c.item(basis=f"{rule}；已知交易额{_short(cny, '元人民币')}")
        threshold_cny = CROSS_BORDER_MIN_USD * rate
        with localcontext(_DISPLAY):
            usd_shown = (cny / rate).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            exact = usd_shown * rate == cny
        converted = f"{'' if exact else '约'}{format_usd(usd_shown)}"
        c.notes.append(f"按所提供汇率1美元={format(rate, 'f')}元人民币折算；实际认定所用汇率以主管部门为准。")
        if cny == threshold_cny:
            c.at_boundary = True
        if cny < threshold_cny:
            c.unmet.append(
                f"跨境电子商务零售交易额{_short(cny, '元人民币')}，按汇率{format(rate, 'f')}折合{converted}，未达到2亿美元"
            )
            return c.item(basis=rule)
        return c.item(
            amount=CROSS_BORDER_AWARD,
            basis=(
                f"跨境电子商务零售交易额{_short(cny, '元人民币')}，按汇率{format(rate, 'f')}折合{converted}"
                f"（≥2亿美元），给予200万元一次性财政扶持"
            ),
        )
    c.missing.append("cross_border_retail_usd")
    c.notes.append("也可提供人民币金额（cross_border_retail_cny）及汇率（usd_cny_rate）。")
    return c.item(basis=rule)


def format_usd(amount: Decimal) -> str:
    return f"{_grouped(amount)}美元"


def talent(p: EnterpriseProfile) -> CalculationItem:
    """三(六) with 附件-13: 对在我区设立区域总部、营销中心、结算中心、营运中心等电子商务企业高层次人才，按照重庆市人才
    引进相关规定享受居留和出入境、落户、子女入学、医疗等方面的优惠政策。

    No money: the item is non_monetary. Which people count as 高层次人才 is decided under the municipal talent
    rules, not here. An unknown HQ type stays non_monetary (the preferences exist) with the condition in the notes
    and new_hq_type asked for; an explicit 'none' is not_eligible, because the clause is limited to such entities.
    """
    c = _Check("talent", p)
    c.need_hq()
    prefs = "、".join(TALENT_PREFERENCES)
    c.notes.append(f"优惠内容：{prefs}等方面，按照重庆市人才引进相关规定执行；牵头单位为区人力社保局。")
    c.notes.append("适用对象为企业引进的高层次人才，具体认定以重庆市人才引进相关规定为准。")
    basis = f"在我区设立区域总部、营销中心、结算中心、营运中心等的电子商务企业高层次人才，享受{prefs}等方面优惠政策（非资金类）"
    if c.unmet:
        return c.item(basis=basis, status="not_eligible")
    if c.missing:
        c.notes.append("适用条件：企业须在我区设立区域总部、营销中心、结算中心、营运中心等；请说明企业是否属于此类。")
    return c.item(basis=basis, status="non_monetary")


_RULES: dict[str, Callable[[EnterpriseProfile], CalculationItem]] = {
    "hq_establishment": hq_establishment,
    "hq_office_purchase": hq_office_purchase,
    "hq_office_rent": hq_office_rent,
    "hq_contribution_reward": hq_contribution_reward,
    "demo_base": demo_base,
    "demo_enterprise": demo_enterprise,
    "self_built_platform": self_built_platform,
    "cross_border": cross_border,
    "talent": talent,
}
assert tuple(_RULES) == POLICY_IDS


def calculate(profile: EnterpriseProfile) -> CalculationResult:
    """All nine items, always in POLICY_IDS order, so callers can index and diff results across turns."""
    with localcontext(_EXACT):
        items = [_RULES[pid](profile) for pid in POLICY_IDS]
        eligible = [it for it in items if it.status == "eligible" and it.amount_yuan is not None]
        total = sum((Decimal(it.amount_yuan) for it in eligible), Decimal(0))  # type: ignore[arg-type]
    notes = [VALIDITY_NOTICE]
    stacked = len(eligible) > 1
    has_ceiling = any(it.is_upper_bound for it in eligible)
    if stacked:
        notes.append(STACKING_NOTE)
    if has_ceiling:
        notes.append(_UPPER_BOUND_TOTAL_NOTE)
    if any(it.policy_id in ("hq_office_purchase", "hq_office_rent", "hq_contribution_reward") for it in eligible):
        notes.append(HQ_THRESHOLD_AMBIGUITY_NOTE)
    return CalculationResult(
        items=items,
        total_yuan=canonical_amount(total),
        total_is_upper_bound=stacked or has_ceiling,
        notes=notes,
    )
