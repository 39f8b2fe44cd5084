"""Assembling the API: `create_app` builds the complete service, `configure_app` puts our error shape,
request ids, limits and CORS on any FastAPI app that includes our router.

Middleware, outermost first: request context (id, access log) → CORS → error boundary (500 in our shape,
still inside CORS) → header limit (431) → body limit (413) → FastAPI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from assistant.api.admin import router as admin_router
from assistant.api.errors import install_error_handlers
from assistant.api.health import readiness_details
from assistant.api.health import router as health_router
from assistant.api.limits import BodyLimitMiddleware, HeaderLimitMiddleware
from assistant.api.logs import ensure_logging, log
from assistant.api.middleware import ErrorBoundaryMiddleware, RequestContextMiddleware
from assistant.api.openapi import install_openapi
from assistant.api.routes import API_PREFIX, router
from assistant.settings import Settings, get_settings
from assistant.store import create_store


def configure_app(app: FastAPI, settings: Settings | None = None, *, prefix: str = API_PREFIX) -> FastAPI:
    """Install our error shape, request ids, size limits, CORS and OpenAPI corrections on ``app``, for
    paths under ``prefix`` (``""`` = everything). Other paths of a host app keep FastAPI's behaviour."""
    if settings is not None:
        app.state.pa_settings = settings

    def current() -> Settings:
        return getattr(app.state, "pa_settings", None) or get_settings()

    install_error_handlers(app, prefix)
    install_openapi(app, current, prefix)
    # add_middleware wraps: the last added is the outermost.
    app.add_middleware(BodyLimitMiddleware, max_bytes=lambda: current().max_body_bytes, prefix=prefix)
    app.add_middleware(HeaderLimitMiddleware, max_bytes=lambda: current().max_header_bytes, prefix=prefix)
    app.add_middleware(ErrorBoundaryMiddleware, prefix=prefix)
    origins = [o.strip() for o in (settings or current()).cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-User-Id", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware, prefix=prefix)
    return app


def _default_factory(settings: Settings) -> Any:
    from assistant.assistant import PolicyAssistant

    return PolicyAssistant(settings=settings, store=create_store(settings))


def _load_in_background(app: FastAPI, settings: Settings, factory: Callable[[Settings], Any]) -> threading.Thread:
    def run() -> None:
        started = time.perf_counter()
        try:
            assistant = factory(settings)
        except Exception:  # noqa: BLE001 - reported by /readyz and the log, the process stays up for /healthz
            log.exception("policy assistant failed to start")
            app.state.pa_startup_error = True
            return
        app.state.policy_assistant = assistant
        seconds = time.perf_counter() - started
        try:
            details = readiness_details(assistant)
        except Exception:  # noqa: BLE001 - an assistant without index details is still ready
            log.info("policy assistant ready in %.1fs", seconds)
            return
        # What /readyz no longer tells anonymous callers goes to the operator's log.
        log.info(
            "policy assistant ready in %.1fs (mode=%s, store=%s, clauses=%d)",
            seconds,
            details.mode,
            details.store,
            details.clauses,
            extra={"event": "ready", "index": details.index},
        )

    thread = threading.Thread(target=run, name="policy-assistant-loader", daemon=True)
    thread.start()
    return thread


def create_app(
    assistant: Any | None = None,
    settings: Settings | None = None,
    *,
    assistant_factory: Callable[[Settings], Any] | None = None,
) -> FastAPI:
    """The complete API application.

    ``assistant``: a ready `PolicyAssistant` (used as is, ready at once). Without it the app builds one at
    start-up in a background thread with ``assistant_factory(settings)`` (default:
    ``PolicyAssistant(settings, store=create_store(settings))``) and closes its store at shutdown.
    """
    if settings is None:
        settings = getattr(assistant, "settings", None) or get_settings()
    factory = assistant_factory or _default_factory

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ensure_logging()
        if app.state.policy_assistant is None and not getattr(app.state, "pa_loader", None):
            app.state.pa_loader = _load_in_background(app, settings, factory)
        retention = _start_retention(app, settings)
        try:
            yield
        finally:
            if retention is not None:
                retention.stop()
            if app.state.pa_owns_assistant and app.state.policy_assistant is not None:
                close = getattr(getattr(app.state.policy_assistant, "store", None), "close", None)
                if close is not None:
                    close()

    app = FastAPI(
        title="北碚电商政策助手 API",
        version="1.1",
        description=(
            "北碚府发〔2019〕75号《重庆市北碚区人民政府关于加快电子商务产业发展的实施意见》的问答与补贴计算服务。"
            "回答均引用条款原文；金额由确定性计算器给出。"
        ),
        lifespan=lifespan,
    )
    app.state.pa_settings = settings
    app.state.policy_assistant = assistant
    app.state.pa_owns_assistant = assistant is None
    app.state.pa_startup_error = None
    app.state.pa_loader = None
    configure_app(app, settings, prefix="")
    app.include_router(router)
    app.include_router(admin_router)
    app.include_router(health_router)
    return app


def _start_retention(app: FastAPI, settings: Settings) -> Any:
    """PA_RETENTION_DAYS > 0: purge old turns once the store is loaded, then daily (assistant.oversight)."""
    if settings.retention_days <= 0:
        return None
    from assistant.oversight.retention import RetentionThread

    def engine() -> Any:
        return getattr(getattr(app.state.policy_assistant, "store", None), "engine", None)

    thread = RetentionThread(engine, settings.retention_days)
    thread.start()
    return thread
