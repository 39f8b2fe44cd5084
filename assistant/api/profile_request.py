"""The calculator's input as the API accepts it: `EnterpriseProfile`, with an exact schema.

The calculator is liberal on purpose (a CLI user may type "300000" or "٣٠٠"), and its rules (two decimal
places, at most 10^15 yuan, …) live in validator code that JSON Schema cannot see. The API promises
exactly what its OpenAPI document says, so in front of the calculator it checks each amount against the
same rule the document declares, then hands the calculator a canonical `Decimal`:

* a JSON number within the bounds and a multiple of the step (checked on the exact decimal, never a float);
* or a plain decimal string (ASCII digits, no sign, no exponent, no spaces) that means such a number.

Every value this admits, the calculator accepts (``tests/test_api_profile.py`` proves it property by
property), so the document never promises more than the server does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from assistant.calculator import EnterpriseProfile


@dataclass(frozen=True)
class Amount:
    """One numeric rule: bounds, the decimal step, and the string spelling of the same set."""

    minimum: Decimal
    maximum: Decimal
    places: int
    pattern: str
    exclusive: bool = False
    integer: bool = False

    def number_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        low, high = _json_number(self.minimum), _json_number(self.maximum)
        if self.exclusive:
            schema.update(exclusiveMinimum=low, exclusiveMaximum=high)
        else:
            schema.update(minimum=low, maximum=high)
        if not self.integer:
            schema["multipleOf"] = float(Decimal(1).scaleb(-self.places))
        return schema

    def schemas(self) -> list[dict[str, Any]]:
        return [self.number_schema(), {"type": "string", "pattern": self.pattern}]

    def check(self, value: Any) -> Decimal:
        """The exact amount ``value`` stands for, or a validation error naming the broken rule."""
        if isinstance(value, str):
            return self._check_string(value)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
            raise PydanticCustomError("pa_amount", "应为数值或数字字符串")
        number = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
        if not number.is_finite():
            raise PydanticCustomError("pa_amount", "应为有限数值")
        too_low = number <= self.minimum if self.exclusive else number < self.minimum
        too_high = number >= self.maximum if self.exclusive else number > self.maximum
        if too_low or too_high:
            sign = "<" if self.exclusive else "≤"
            raise PydanticCustomError("pa_amount", f"应满足 {self.minimum} {sign} 数值 {sign} {self.maximum:f}")
        canonical = _canonical(number)
        if canonical.as_tuple().exponent < -self.places:  # type: ignore[operator]
            what = "应为整数" if self.places == 0 else f"最多保留 {self.places} 位小数"
            raise PydanticCustomError("pa_amount", what)
        return canonical

    def _check_string(self, text: str) -> Decimal:
        if not re.fullmatch(self.pattern, text, flags=re.ASCII):
            raise PydanticCustomError(
                "pa_amount", "数字字符串格式不正确（只允许阿拉伯数字和小数点，不带正负号、空格、指数）或超出范围"
            )
        return _canonical(Decimal(text))


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _canonical(number: Decimal) -> Decimal:
    """The same amount without trailing zeros or an exponent (1.50 → 1.5, 1E+2 → 100, -0 → 0), computed
    on the digits, so no context precision can round it."""
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    if not any(digits):
        return Decimal(0)
    stripped = list(digits)
    while stripped[-1] == 0:
        stripped.pop()
        exponent += 1
    if exponent > 0:
        stripped += [0] * exponent
        exponent = 0
    return Decimal((sign, tuple(stripped), exponent))


MONEY = Amount(Decimal(0), Decimal(10) ** 15, 2, r"^(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,2})?$")
YEARS = Amount(Decimal(0), Decimal(200), 4, r"^(?:(?:[0-9]|[1-9][0-9]|1[0-9][0-9])(?:\.[0-9]{1,4})?|200(?:\.0{1,4})?)$")
RATE = Amount(Decimal(0), Decimal(100), 8, r"^(?:[1-9][0-9]?(?:\.[0-9]{1,8})?|0\.[0-9]{0,7}[1-9])$", exclusive=True)
WHOLE_YEARS = Amount(Decimal(1), Decimal(100), 0, r"^(?:[1-9][0-9]?|100)$", integer=True)
MAX_YEARLY_FIGURES = 5

#: EnterpriseProfile's numeric fields and the rule the API applies to each. A test fails when the
#: calculator grows a numeric field that is missing here.
NUMERIC_FIELDS: dict[str, Amount] = {
    "registered_capital_yuan": MONEY,
    "online_annual_sales_yuan": MONEY,
    "years_in_operation": YEARS,
    "office_purchase_price_yuan": MONEY,
    "office_annual_rent_yuan": MONEY,
    "rent_years": WHOLE_YEARS,
    "annual_local_contribution_yuan": MONEY,  # or a list of 1-5 such amounts
    "platform_project_investment_yuan": MONEY,
    "platform_first_year_online_transactions_yuan": MONEY,
    "cross_border_retail_usd": MONEY,
    "cross_border_retail_cny": MONEY,
    "usd_cny_rate": RATE,
}
YEARLY_FIELDS = frozenset({"annual_local_contribution_yuan"})


def _scalar_field(rule: Amount) -> Any:
    def validate(value: Any) -> Decimal | None:
        return None if value is None else rule.check(value)

    return Annotated[Any, PlainValidator(validate), WithJsonSchema({"anyOf": [*rule.schemas(), {"type": "null"}]})]


def _yearly_field(rule: Amount) -> Any:
    def validate(value: Any) -> Decimal | list[Decimal] | None:
        if value is None:
            return None
        if isinstance(value, list):
            if not 1 <= len(value) <= MAX_YEARLY_FIGURES:
                raise PydanticCustomError("pa_amount", f"应为 1 至 {MAX_YEARLY_FIGURES} 个年度的金额")
            return [rule.check(v) for v in value]
        return rule.check(value)

    array = {"type": "array", "minItems": 1, "maxItems": MAX_YEARLY_FIGURES, "items": {"anyOf": rule.schemas()}}
    return Annotated[
        Any, PlainValidator(validate), WithJsonSchema({"anyOf": [*rule.schemas(), array, {"type": "null"}]})
    ]


def _build_request_model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, info in EnterpriseProfile.model_fields.items():
        rule = NUMERIC_FIELDS.get(name)
        if rule is None:
            annotation = info.annotation
        elif name in YEARLY_FIELDS:
            annotation = _yearly_field(rule)
        else:
            annotation = _scalar_field(rule)
        fields[name] = (annotation, Field(None, description=info.description))
    return create_model(
        "EnterpriseProfile",
        __config__=ConfigDict(extra="forbid", title="EnterpriseProfile"),
        __doc__=EnterpriseProfile.__doc__,
        **fields,
    )


#: The request body of POST /v1/calculate (named EnterpriseProfile in the OpenAPI document).
ProfileRequest = _build_request_model()


def to_profile(request: BaseModel) -> EnterpriseProfile:
    """The calculator's profile for a validated request: only the facts the client stated."""
    return EnterpriseProfile.model_validate(request.model_dump(exclude_unset=True))
