"""The reforge HTTP API (FastAPI).

`create_app()` wires the routers to one store. The error handlers here turn
errors of the reforge tree, and database errors caused by a request's values,
into 4xx responses with a message. Request validation errors are FastAPI's 422,
with the offending inputs made JSON-safe and short. A request body above
`MAX_BODY_BYTES` gets 413. Nothing a client sends should produce a 500.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from reforge import __version__
from reforge.api import routes_data, routes_llm, routes_pipeline, routes_results
from reforge.api.jobs import JobRunner
from reforge.config import Settings, get_settings
from reforge.errors import ConfigError, NotFoundError, ReforgeError
from reforge.store.db import Store, open_store

logger = logging.getLogger(__name__)

SERVICE_NAME = "reforge-api"
# A result batch of the runner is a few hundred kB; the largest valid batch
# (1000 results with long prompts) stays far below this.
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_ECHOED_CHARS = 200


def create_app(store: Store | None = None, settings: Settings | None = None) -> FastAPI:
    """Create the API application; opens the configured store when none is given."""
    settings = settings or get_settings()
    owns_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.store is None:
            app.state.store = open_store(settings.effective_database_url)
        yield
        app.state.jobs.shutdown()
        if owns_store and app.state.store is not None:
            app.state.store.dispose()

    app = FastAPI(
        title="reforge", version=__version__, lifespan=lifespan, max_body_size=MAX_BODY_BYTES
    )
    app.state.store = store
    app.state.settings = settings
    app.state.jobs = JobRunner()
    app.state.api_token = (
        settings.api_token.get_secret_value() if settings.api_token is not None else None
    )

    @app.get("/health")
    def health() -> dict[str, str]:
        """Report that the service runs."""
        return {"status": "healthy", "service": SERVICE_NAME, "version": __version__}

    app.include_router(routes_data.router)
    app.include_router(routes_llm.router)
    app.include_router(routes_results.router)
    app.include_router(routes_pipeline.router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFoundError)
    async def not_found(_request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(ConfigError)
    async def bad_config(_request: Request, exc: ConfigError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.exception_handler(ReforgeError)
    async def reforge_error(_request: Request, exc: ReforgeError) -> JSONResponse:
        status = 400 if isinstance(exc, ValueError | LookupError) else 409
        logger.warning("request failed: %s", exc)
        return JSONResponse(status_code=status, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _safe_errors(exc.errors())})

    @app.exception_handler(DataError)
    async def invalid_value(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value that passed validation: a NUL character
        # in PostgreSQL text, or an integer beyond the column's range.
        logger.warning(
            "%s %s: the database rejected a value: %s", request.method, request.url.path, exc.orig
        )
        detail = f"the database rejected a value of this request: {_clip(str(exc.orig))}"
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError) -> JSONResponse:
        logger.warning(
            "%s %s conflicts with stored rows: %s", request.method, request.url.path, exc.orig
        )
        detail = f"the request conflicts with stored rows: {_clip(str(exc.orig))}; retry it"
        return JSONResponse(status_code=409, content={"detail": detail})

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        logger.error("%s %s failed in the database: %s", request.method, request.url.path, exc.orig)
        detail = f"the database is unavailable or busy: {_clip(str(exc.orig))}; retry later"
        return JSONResponse(status_code=503, content={"detail": detail})


def _clip(text: str) -> str:
    """Return `text` as valid UTF-8, cut to `MAX_ECHOED_CHARS` characters."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > MAX_ECHOED_CHARS:
        return text[:MAX_ECHOED_CHARS] + "..."
    return text


def _safe_value(value: Any) -> Any:
    """Return a short JSON-safe stand-in for a value echoed in a validation error."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _clip(value)
    if isinstance(value, list | tuple | dict):
        return f"<{type(value).__name__} of {len(value)} items>"
    return _clip(repr(value))


def _safe_errors(errors: Any) -> list[dict[str, Any]]:
    """Return pydantic's error list without inputs that JSON cannot encode or that are huge.

    FastAPI's own handler echoes each error's input as is, so a NaN, a lone
    surrogate or a 10,000-item list in a request made the error response
    itself fail with a 500.
    """
    safe = []
    for error in errors:
        entry: dict[str, Any] = {
            "type": error.get("type"),
            "loc": [_safe_value(part) for part in error.get("loc", ())],
            "msg": _clip(str(error.get("msg", ""))),
        }
        if "input" in error:
            entry["input"] = _safe_value(error["input"])
        if isinstance(error.get("ctx"), dict):
            entry["ctx"] = {str(key): _safe_value(item) for key, item in error["ctx"].items()}
        safe.append(entry)
    return safe
