"""The /v1 resources, one module per resource, each exporting ``router``.

Every module in this package that defines ``router`` is mounted under /v1, in module-name order, behind
the same dependencies (credentials, then user id, then rate limit) and the same error statuses. Adding a
resource is adding a module: build its router with ``APIRouter(route_class=JsonRoute)`` (bodies are then
decoded by `assistant.api.jsonbody`), take what it needs through the aliases in `assistant.api.deps`, and
declare its own error statuses with `assistant.api.openapi.error_responses`.

A module may instead export ``public_router``: its routes are mounted under /v1 without credentials, rate
limited per client address (the WeChat login, which a mini-program calls before it has any credential).
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, Depends

from assistant.api.deps import enforce_client_rate_limit, enforce_rate_limit, require_api_key
from assistant.api.jsonbody import JsonRoute
from assistant.api.openapi import COMMON_ERRORS, error_responses

API_PREFIX = "/v1"

router = APIRouter(prefix=API_PREFIX, tags=["v1"], route_class=JsonRoute)
_guarded = APIRouter(
    dependencies=[Depends(require_api_key), Depends(enforce_rate_limit)],
    responses=error_responses(*COMMON_ERRORS),
    route_class=JsonRoute,
)
_public = APIRouter(dependencies=[Depends(enforce_client_rate_limit)], route_class=JsonRoute)

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    _resource = getattr(_module, "router", None)
    if isinstance(_resource, APIRouter):
        _guarded.include_router(_resource)
    _open = getattr(_module, "public_router", None)
    if isinstance(_open, APIRouter):
        _public.include_router(_open)

router.include_router(_guarded)
router.include_router(_public)

__all__ = ["API_PREFIX", "router"]
