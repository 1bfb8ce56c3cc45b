"""The reforge HTTP API: `create_app()` and the routers behind ``reforge serve``."""

from reforge.api.app import create_app

__all__ = ["create_app"]
