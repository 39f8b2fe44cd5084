"""HTTP API: the policy assistant as a JSON service (a WeChat mini-program backend, a web page, other systems).

Two ways to serve it:

* ``app`` / ``create_app(assistant=None, settings=None)``: a complete FastAPI application. Without an
  ``assistant`` it builds ``PolicyAssistant(settings, store=create_store(settings))`` in a background thread
  at start-up, so ``/healthz`` answers at once and ``/readyz`` says 503 until the index is loaded.
  ``serve(host, port)`` runs it under uvicorn (``policy-assistant serve``), with the header limit in the
  HTTP parser.
* ``router``: the ``/v1`` endpoints as an ``APIRouter`` for an existing FastAPI backend::

      from assistant.api import configure_app, get_assistant, router
      app.include_router(router)                      # /v1/chat, /v1/calculate, ...
      configure_app(app)                              # error shape, request ids, limits, CORS (on /v1 only)
      app.state.policy_assistant = PolicyAssistant(store=SqlStore())
      # or: app.dependency_overrides[get_assistant] = lambda: my_assistant

Layout: `app` (assembly), `deps` (dependencies and their typed aliases), `errors` (the error shape),
`limits` (sizes, rates, failed-auth throttling), `jsonbody` (decoding request bodies), `schemas` and
`profile_request` (request/response models), `openapi` (the document as configured), `logs`, `middleware`,
`server` (uvicorn), `health`, and `routes/` with one module per /v1 resource.

Conventions: every error is ``{"error": {"code", "message" (Chinese), "request_id", ...}}``, never a stack
trace; every response carries ``X-Request-Id`` (an incoming one is kept); users are identified by the
``X-User-Id`` header (the WeChat openid, set by the backend that called code2Session; required when API
keys are configured), and another user's session is indistinguishable from a missing one (404).
"""

from __future__ import annotations

from assistant.api.app import configure_app, create_app
from assistant.api.deps import (
    AssistantDep,
    SettingsDep,
    UserIdDep,
    enforce_rate_limit,
    get_api_settings,
    get_assistant,
    get_user_id,
    require_api_key,
)
from assistant.api.errors import ApiError
from assistant.api.limits import TokenBucketLimiter
from assistant.api.logs import JsonLinesFormatter, RequestIdLogFilter
from assistant.api.routes import router
from assistant.api.schemas import ErrorResponse
from assistant.api.server import serve

#: The service as ``uvicorn assistant.api:app`` serves it. (This name shadows the ``assistant.api.app``
#: submodule on the package; import the module's names from ``assistant.api`` or ``assistant.api.app``.)
app = create_app()

__all__ = [
    "ApiError",
    "AssistantDep",
    "ErrorResponse",
    "JsonLinesFormatter",
    "RequestIdLogFilter",
    "SettingsDep",
    "TokenBucketLimiter",
    "UserIdDep",
    "app",
    "configure_app",
    "create_app",
    "enforce_rate_limit",
    "get_api_settings",
    "get_assistant",
    "get_user_id",
    "require_api_key",
    "router",
    "serve",
]
