"""/healthz and /readyz: probes outside /v1, without API key or rate limit.

/readyz says only whether the assistant is ready. What it runs on (mode, store, index location) helps an
operator and an attacker alike, so it goes to the log at start-up, and to a caller only with a valid API
key (when keys are configured).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from assistant.api.deps import get_assistant, optional_api_key
from assistant.api.openapi import error_responses
from assistant.api.schemas import Health, Readiness, ReadinessDetails

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", response_model=Health, summary="存活检查")
async def healthz() -> Health:
    return Health()


def readiness_details(assistant: Any) -> ReadinessDetails:
    status = getattr(assistant, "index_status", None)
    store = getattr(assistant, "store", None)
    store_name = type(store).__name__
    dialect = getattr(store, "dialect", None)
    if dialect:
        store_name += f"({dialect})"
    is_record = dataclasses.is_dataclass(status) and not isinstance(status, type)
    return ReadinessDetails(
        mode=str(getattr(assistant, "mode", "grounded")),
        store=store_name,
        clauses=len(assistant.corpus),
        index=dataclasses.asdict(status) if is_record else {},  # type: ignore[arg-type]
    )


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    response_model_exclude_none=True,
    summary="就绪检查：索引加载完成前为 503",
    description="未带密钥时只返回 `status`。配置了 PA_API_KEYS 且请求带 `Authorization: Bearer <key>` 时另含 "
    "`details`；带了错误的密钥为 401（计入该地址的密钥错误次数，超限为 429）。",
    responses=error_responses(401, 429, 503),
)
async def readyz(request: Request, authenticated: Annotated[bool, Depends(optional_api_key)]) -> Readiness:
    assistant = await get_assistant(request)
    return Readiness(details=readiness_details(assistant) if authenticated else None)
