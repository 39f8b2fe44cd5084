"""The calculate endpoint's declared schema against the calculator: every amount the OpenAPI document
admits is accepted and computed without error, every amount it rejects is refused with 422, and no
calculator field goes undeclared."""

from __future__ import annotations

import json
import re
import typing
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Strict, ValidationError

from assistant.api.profile_request import (
    MAX_YEARLY_FIGURES,
    MONEY,
    NUMERIC_FIELDS,
    RATE,
    WHOLE_YEARS,
    YEARS,
    ProfileRequest,
    to_profile,
)
from assistant.calculator import EnterpriseProfile, calculate


def test_every_calculator_field_is_declared_with_its_real_rule():
    assert list(ProfileRequest.model_fields) == list(EnterpriseProfile.model_fields)
    for name, info in EnterpriseProfile.model_fields.items():
        if name in NUMERIC_FIELDS:
            continue
        # the rest must be fields whose pydantic schema is already exact: strict booleans and enums
        args = {a for a in typing.get_args(info.annotation) if a is not type(None)}
        strict_bool = typing.Annotated[bool, Strict()]
        assert all(a == strict_bool or typing.get_origin(a) is typing.Literal for a in args), (name, info.annotation)


def _in_grid(rule) -> st.SearchStrategy[Decimal]:
    step = Decimal(1).scaleb(-rule.places)
    low = int(rule.minimum / step) + (1 if rule.exclusive else 0)
    high = int(rule.maximum / step) - (1 if rule.exclusive else 0)
    return st.integers(low, high).map(lambda k: (k * step).normalize() if k else Decimal(0))


RULES = {"money": MONEY, "years": YEARS, "rate": RATE, "whole_years": WHOLE_YEARS}
FIELD_OF = {"money": "office_annual_rent_yuan", "years": "years_in_operation", "rate": "usd_cny_rate",
            "whole_years": "rent_years"}


@pytest.mark.parametrize("kind", list(RULES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_admitted_numbers_and_strings_are_accepted_by_the_calculator(kind, data):
    rule, field = RULES[kind], FIELD_OF[kind]
    number = data.draw(_in_grid(rule))
    plain = format(number, "f")
    spellings = [number, plain, int(number) if number == int(number) else plain, json.loads(plain, parse_float=Decimal)]
    if not re.fullmatch(rule.pattern, plain):  # the string form's own limits (the maximum itself is numbers-only)
        spellings = [v for v in spellings if not isinstance(v, str)]
    spelled = data.draw(st.sampled_from(spellings))
    base = {"new_hq_type": "regional_hq", "registered_in_beibei": True, "local_legal_entity": True}
    if kind == "rate":
        base["cross_border_retail_usd"] = 1000000
    request = ProfileRequest.model_validate({**base, field: spelled})
    result = calculate(to_profile(request))
    assert result.items
    text = data.draw(st.from_regex(re.compile(rule.pattern), fullmatch=True))
    request = ProfileRequest.model_validate({**base, field: text})
    assert getattr(request, field) == Decimal(text)
    calculate(to_profile(request))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("registered_capital_yuan", 10**15 + Decimal("0.01")),
        ("registered_capital_yuan", Decimal("-0.01")),
        ("registered_capital_yuan", Decimal("1.001")),
        ("registered_capital_yuan", Decimal("0.0100000000000000000000000000000000000000000000000000000000000000000000000000000000001")),
        ("registered_capital_yuan", True),
        ("registered_capital_yuan", "1e5"),
        ("registered_capital_yuan", " 5"),
        ("registered_capital_yuan", "+5"),
        ("registered_capital_yuan", "05"),
        ("registered_capital_yuan", "٣"),
        ("registered_capital_yuan", "1000000000000000"),
        ("registered_capital_yuan", Decimal("1E+999999999")),
        ("registered_capital_yuan", Decimal("1E-999999999")),
        ("years_in_operation", Decimal("200.00001")),
        ("usd_cny_rate", 0),
        ("usd_cny_rate", 100),
        ("usd_cny_rate", "0.10"),
        ("rent_years", Decimal("2.5")),
        ("rent_years", 0),
        ("rent_years", 101),
        ("annual_local_contribution_yuan", []),
        ("annual_local_contribution_yuan", [1, 2, 3, 4, 5, 6]),
        ("annual_local_contribution_yuan", [1, "x"]),
        ("new_hq_type", "headquarters"),
        ("registered_in_beibei", 1),
    ],
)
def test_what_the_schema_rejects_is_refused(field, value):
    with pytest.raises(ValidationError) as exc:
        ProfileRequest.model_validate({field: value})
    assert exc.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    ("field", "value", "canonical"),
    [
        ("registered_capital_yuan", 10**15, Decimal(10**15)),
        ("registered_capital_yuan", Decimal("1.50"), Decimal("1.5")),
        ("registered_capital_yuan", Decimal("1E+2"), Decimal(100)),
        ("registered_capital_yuan", Decimal("-0.0"), Decimal(0)),
        ("registered_capital_yuan", Decimal("2." + "0" * 300), Decimal(2)),
        ("registered_capital_yuan", "999999999999999.99", Decimal("999999999999999.99")),
        ("rent_years", Decimal("3.0"), Decimal(3)),
        ("usd_cny_rate", Decimal("0.00000001"), Decimal("0.00000001")),
        ("annual_local_contribution_yuan", [1, "2.5"], [Decimal(1), Decimal("2.5")]),
    ],
)
def test_admitted_values_reach_the_calculator_as_canonical_decimals(field, value, canonical):
    request = ProfileRequest.model_validate({field: value})
    assert getattr(request, field) == canonical
    profile = to_profile(request)
    calculate(profile)
    if isinstance(canonical, Decimal):
        assert str(getattr(request, field)) == str(canonical)  # no exponent, no trailing zeros


def test_only_stated_facts_reach_the_calculator():
    profile = to_profile(ProfileRequest.model_validate({"registered_capital_yuan": 5}))
    assert profile.model_fields_set == {"registered_capital_yuan"}


@pytest.mark.parametrize(
    ("field", "edge", "beyond"),
    [
        ("registered_capital_yuan", MONEY.maximum, MONEY.maximum + Decimal("0.01")),
        ("registered_capital_yuan", MONEY.minimum, MONEY.minimum - Decimal("0.01")),
        ("years_in_operation", YEARS.maximum, YEARS.maximum + Decimal("0.0001")),
        ("usd_cny_rate", RATE.maximum - Decimal("0.00000001"), RATE.maximum),
        ("usd_cny_rate", Decimal("0.00000001"), RATE.minimum),
        ("rent_years", WHOLE_YEARS.maximum, WHOLE_YEARS.maximum + 1),
        ("rent_years", WHOLE_YEARS.minimum, WHOLE_YEARS.minimum - 1),
        ("annual_local_contribution_yuan", [1] * MAX_YEARLY_FIGURES, [1] * (MAX_YEARLY_FIGURES + 1)),
        ("office_annual_rent_yuan", Decimal("0.01"), Decimal("0.001")),
        ("years_in_operation", Decimal("0.0001"), Decimal("0.00001")),
        ("usd_cny_rate", Decimal("7.12345678"), Decimal("7.123456789")),
    ],
)
def test_the_api_rules_are_the_calculators_own_bounds(field, edge, beyond):
    """The API states the calculator's limits a second time (JSON Schema cannot see validator code): pin
    them to the calculator's behaviour, so a change on either side fails here instead of in production."""
    EnterpriseProfile.model_validate({field: edge})
    ProfileRequest.model_validate({field: edge})
    with pytest.raises(ValidationError):
        EnterpriseProfile.model_validate({field: beyond})
    with pytest.raises(ValidationError):
        ProfileRequest.model_validate({field: beyond})
