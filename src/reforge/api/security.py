"""Who may reach the API: loopback by default, a bearer token otherwise.

`reforge serve` refuses to bind a non-loopback address unless an API token is
configured (``REFORGE_API_TOKEN``); with a token set, every write endpoint
requires ``Authorization: Bearer <token>``. Read endpoints stay open to
whoever can reach the socket.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from reforge.errors import ConfigError


def is_loopback(host: str) -> bool:
    """Return True when `host` names only the local machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind_address(host: str, token: str | None) -> None:
    """Raise ConfigError when `host` is reachable from other machines and no token is set."""
    if is_loopback(host) or token:
        return
    raise ConfigError(
        f"refusing to serve on {host!r} without an API token: set REFORGE_API_TOKEN "
        "(clients then send 'Authorization: Bearer <token>') or bind 127.0.0.1"
    )


def require_write_token(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """FastAPI dependency: enforce the bearer token on write endpoints when one is set."""
    token: str | None = request.app.state.api_token
    if not token:
        return
    scheme, _, supplied = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip(), token):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="this endpoint needs 'Authorization: Bearer <REFORGE_API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


WriteAccess = Depends(require_write_token)
