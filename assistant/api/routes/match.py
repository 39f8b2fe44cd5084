"""POST /v1/match: every subsidy a profile makes possible, ranked (the page's 政策匹配 tab, as an API).

The grouping and ranking are `assistant.matching`'s, the same as the chat and the web page; every status
and amount is the calculator's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from assistant.api.jsonbody import JsonRoute
from assistant.api.openapi import BODY_ERRORS, error_responses
from assistant.api.profile_request import ProfileRequest, to_profile
from assistant.api.routes.calculate import PROFILE_EXAMPLES
from assistant.matching import MatchResult, match

router = APIRouter(route_class=JsonRoute)


@router.post(
    "/match",
    operation_id="match_policies",
    response_model=MatchResult,
    summary="按企业情况匹配可能适用的政策（排序，并列出缺少的信息）",
    responses=error_responses(*BODY_ERRORS),
)
async def match_policies(
    profile: Annotated[ProfileRequest, Body(openapi_examples=PROFILE_EXAMPLES)],  # type: ignore[valid-type]
    lang: Annotated[Literal["zh", "en"], Query(description="文字说明的语言；金额与状态不受影响。")] = "zh",
) -> Response:
    """分组：`eligible`（符合，按金额从高到低）、`possible`（可能符合，先列已提供相关信息的政策，再按最高金额；
    `missing_facts` 为还需提供的信息）、`non_monetary`（非资金类）、`ruled_out`（不符合，见 `conditions_unmet`）。
    字段规则与 /v1/calculate 相同：未提供的事实不会被假设。"""
    try:
        validated = to_profile(profile)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    return Response(match(validated, lang=lang).model_dump_json(), media_type="application/json")
