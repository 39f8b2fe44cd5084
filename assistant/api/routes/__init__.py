"""The /v1 resources, one module per resource, each exporting ``router``.

Every module in this package that defines ``router`` is mounted under /v1, in module-name order, behind
the same dependencies (API key, then user id, then rate limit) and the same error statuses. Adding a
resource is adding a module: build its router with ``APIRouter(route_class=JsonRoute)`` (bodies are then
decoded by `assistant.api.jsonbody`), take what it needs through the aliases in `assistant.api.deps`, and
declare its own error statuses with `assistant.api.openapi.error_responses`.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, Depends

from assistant.api.deps import enforce_rate_limit, require_api_key
from assistant.api.jsonbody import JsonRoute
from assistant.api.openapi import COMMON_ERRORS, error_responses

API_PREFIX = "/v1"

router = APIRouter(
    prefix=API_PREFIX,
    tags=["v1"],
    dependencies=[Depends(require_api_key), Depends(enforce_rate_limit)],
    responses=error_responses(*COMMON_ERRORS),
    route_class=JsonRoute,
)

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    _resource = getattr(_module, "router", None)
    if isinstance(_resource, APIRouter):
        router.include_router(_resource)

__all__ = ["API_PREFIX", "router"]
