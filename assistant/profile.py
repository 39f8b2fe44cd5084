"""The calculator's data contracts: ``EnterpriseProfile`` in, ``CalculationItem`` / ``CalculationResult`` out.

Kept apart from the rules so the contracts (also the API's JSON schema) can be read on their own; import them
from ``assistant.calculator`` as before. Field
descriptions and the number of contribution years come from corpus/policies.yaml, so the schema cannot
disagree with the policy. Input parsing is strict-ish: numbers may be JSON numbers, ``Decimal``, or plain
numeric strings such as "300000" or "99999999.99". Booleans, words ("三亿", "abc"), exponents ("3e8"),
thousands separators ("300,000"), NaN and Infinity are rejected; yuan/USD amounts may carry at most 2
decimals (分/cent), which also catches float noise such as 0.30000000000000004.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Context, Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from assistant.knowledge import load_policies
from assistant.money import MAX_MONEY
from assistant.policy_schema import YearlyScheduleRule
from assistant.validation import describe_validation_error

__all__ = [
    "CalculationItem",
    "CalculationResult",
    "EnterpriseProfile",
    "HqType",
    "PolicyId",
    "RecognitionLevel",
    "Status",
    "ProfileError",
    "parse_profile",
    "read_profile",
    "relevant_items",
]

_BOOK = load_policies()
_NUMERIC_STR = re.compile(r"[+-]?\d+(?:\.\d+)?")
_NUMERIC_HELP = 'a JSON number or a plain numeric string such as "300000"'
_WIDE = Context(prec=80)  # counting decimals must not round a 40-digit input first


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
    exponent = d.normalize(_WIDE).as_tuple().exponent
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


_money_validator = _number(ge=Decimal(0), le=MAX_MONEY, max_places=2)

# Yuan (or USD) amount: 0 ≤ x ≤ MAX_MONEY, at most 2 decimals.
Money = Annotated[Decimal, BeforeValidator(_money_validator)]
Years = Annotated[Decimal, BeforeValidator(_number(ge=Decimal(0), le=Decimal(200), max_places=4))]
Rate = Annotated[Decimal, BeforeValidator(_number(gt=Decimal(0), lt=Decimal(100), max_places=8))]


def _to_rent_years(value: Any) -> int:
    """Whole years only: the rent subsidy is granted per year."""
    d = _to_decimal(value)
    if d != d.to_integral_value():
        raise ValueError(f"租用年限须为整数年 (must be a whole number of years), got {d}")
    if not 1 <= d <= 100:
        raise ValueError(f"租用年限须在1到100年之间 (must be between 1 and 100), got {d}")
    return int(d)


def _reward_years() -> int:
    """How many yearly contribution figures the reward can use: the length of its schedule."""
    for p in _BOOK.policies:
        if isinstance(p.amount, YearlyScheduleRule) and p.amount.fact == "annual_local_contribution_yuan":
            return len(p.amount.rates)
    raise LookupError("policies.yaml has no yearly schedule over annual_local_contribution_yuan")


_REWARD_YEARS = _reward_years()


def _to_contributions(value: Any) -> Decimal | list[Decimal]:
    """One figure or one per reward year; more figures than reward years is an error, not something to drop."""
    if isinstance(value, (list, tuple)):
        if not 1 <= len(value) <= _REWARD_YEARS:
            raise ValueError(
                f"须为1至{_REWARD_YEARS}个年度的贡献额 (give 1 to {_REWARD_YEARS} yearly figures; "
                f"the reward covers {_REWARD_YEARS} years), got {len(value)}"
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

# The Literals are the API's enum; the YAML names them. They must agree, or the schema would lie.
if get_args(HqType)[:-1] != tuple(t.id for t in _BOOK.hq_types):
    raise RuntimeError("HqType and policies.yaml hq_types disagree")
if get_args(RecognitionLevel)[:-1] != tuple(lv.id for lv in _BOOK.levels):
    raise RuntimeError("RecognitionLevel and policies.yaml levels disagree")


def _about(name: str) -> Any:
    return Field(None, description=_BOOK.fact_description(name))


class EnterpriseProfile(BaseModel):
    """What the enterprise tells us. Every field is optional because unknown must stay unknown, not False."""

    model_config = ConfigDict(extra="forbid")

    registered_in_beibei: StrictBool | None = _about("registered_in_beibei")
    local_legal_entity: StrictBool | None = _about("local_legal_entity")
    new_hq_type: HqType | None = _about("new_hq_type")
    registered_capital_yuan: Money | None = _about("registered_capital_yuan")
    online_annual_sales_yuan: Money | None = _about("online_annual_sales_yuan")
    sales_in_statistics: StrictBool | None = _about("sales_in_statistics")
    years_in_operation: Years | None = _about("years_in_operation")
    office_purchase_price_yuan: Money | None = _about("office_purchase_price_yuan")
    office_annual_rent_yuan: Money | None = _about("office_annual_rent_yuan")
    rent_years: Annotated[int, BeforeValidator(_to_rent_years)] | None = _about("rent_years")
    annual_local_contribution_yuan: Annotated[Decimal | list[Decimal], BeforeValidator(_to_contributions)] | None = (
        _about("annual_local_contribution_yuan")
    )
    demo_base_level: RecognitionLevel | None = _about("demo_base_level")
    demo_enterprise_level: RecognitionLevel | None = _about("demo_enterprise_level")
    platform_project_investment_yuan: Money | None = _about("platform_project_investment_yuan")
    platform_first_year_online_transactions_yuan: Money | None = _about("platform_first_year_online_transactions_yuan")
    cross_border_retail_usd: Money | None = _about("cross_border_retail_usd")
    cross_border_retail_cny: Money | None = _about("cross_border_retail_cny")
    usd_cny_rate: Rate | None = _about("usd_cny_rate")


if set(EnterpriseProfile.model_fields) != set(_BOOK.facts):
    raise RuntimeError("EnterpriseProfile fields and policies.yaml facts disagree")


class ProfileError(ValueError):
    """A profile that cannot be read: the message is one Chinese line naming what is wrong and where."""


def parse_profile(data: dict[str, Any] | str) -> EnterpriseProfile:
    """The one profile loader. JSON text is parsed with Decimal floats so 99999999.99 never passes through a
    binary float. Raises what it always raised (json.JSONDecodeError, pydantic's ValidationError); a caller
    that shows the error to a person uses `read_profile`."""
    if isinstance(data, str):
        data = json.loads(data, parse_float=Decimal)
    return EnterpriseProfile.model_validate(data)


def read_profile(text: str) -> EnterpriseProfile:
    """`parse_profile` for text a person wrote (the CLI's file or stdin): every failure is a `ProfileError`
    whose message is one Chinese line naming what is wrong and where."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"企业情况不是合法的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）") from None
    if not isinstance(data, dict):
        raise ProfileError(
            '企业情况应是一个 JSON 对象，例如 {"platform_first_year_online_transactions_yuan": 300000000}'
        )
    try:
        return parse_profile(data)
    except ValidationError as exc:
        raise ProfileError(describe_validation_error(exc)) from None


# --------------------------------------------------------------------------------------------------
# Output: one item per policy, in the order of policies.yaml
# --------------------------------------------------------------------------------------------------

Status = Literal["eligible", "not_eligible", "needs_info", "non_monetary"]
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
if get_args(PolicyId) != tuple(p.id for p in _BOOK.policies):
    raise RuntimeError("PolicyId and the policies in policies.yaml disagree")
if set(get_args(Status)) != set(_BOOK.statuses):
    raise RuntimeError("Status and policies.yaml statuses disagree")


class CalculationItem(BaseModel):
    policy_id: PolicyId
    title: str
    clause_ids: list[str]
    status: Status
    amount_yuan: str | None = Field(
        None, description="Exact decimal string in yuan (see module doc); null unless status is eligible."
    )
    is_upper_bound: bool = Field(False, description="True where the text says 不超过/最高.")
    basis: str = Field(
        "", description="The rule with the profile's numbers filled in (Chinese; English with lang='en')."
    )
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
