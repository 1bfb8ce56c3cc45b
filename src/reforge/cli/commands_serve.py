"""``reforge serve``: the HTTP API on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from reforge.cli.common import load_settings


def register(app: typer.Typer) -> None:
    """Add the server command to `app`."""
    app.command("serve")(serve_command)


def serve_command(
    host: Annotated[
        str, typer.Option(help="Address to bind; non-loopback needs an API token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8080,
) -> None:
    """Serve the reforge API (experiments, LLM view, results, scores, pipeline)."""
    import uvicorn

    from reforge.api import create_app
    from reforge.api.security import check_bind_address

    settings = load_settings()
    token = settings.api_token.get_secret_value() if settings.api_token is not None else None
    check_bind_address(host, token)
    uvicorn.run(create_app(settings=settings), host=host, port=port, log_level="info")
