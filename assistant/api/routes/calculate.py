"""POST /v1/calculate: exact subsidy amounts for an enterprise profile (the calculator does the work)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from assistant.api.examples import example
from assistant.api.jsonbody import JsonRoute
from assistant.api.openapi import BODY_ERRORS, error_responses
from assistant.api.profile_request import ProfileRequest, to_profile
from assistant.calculator import CalculationResult, EnterpriseProfile, calculate

router = APIRouter(route_class=JsonRoute)

PROFILE_EXAMPLES: dict[str, Any] = example("profiles", {})


def _calculation_example() -> dict:
    """A real result for the first request example, so the documented response is never out of date."""
    profile = EnterpriseProfile.model_validate(next(iter(PROFILE_EXAMPLES.values()))["value"])
    return json.loads(calculate(profile).model_dump_json())


@router.post(
    "/calculate",
    operation_id="calculate_subsidies",
    response_model=CalculationResult,
    summary="按企业情况精确计算可享补贴",
    responses={
        200: {"content": {"application/json": {"example": _calculation_example()}}},
        **error_responses(*BODY_ERRORS),
    },
)
async def calculate_subsidies(
    profile: Annotated[ProfileRequest, Body(openapi_examples=PROFILE_EXAMPLES)],  # type: ignore[valid-type]
) -> Response:
    """所有字段可选：未提供的事实不会被假设，相应条目为 `needs_info` 并在 `missing_facts` 中列出。
    金额可写 JSON 数值（按十进制精确读取，不经二进制浮点）或数字字符串（如 `"150000000"`、`"1234567.89"`）；
    结果金额为精确十进制字符串（元）。"""
    try:
        validated = to_profile(profile)
    except ValidationError as exc:  # the calculator is stricter than the declared schema: say so as a 422
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    return Response(calculate(validated).model_dump_json(), media_type="application/json")
