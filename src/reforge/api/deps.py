"""FastAPI dependencies shared by the routers: the store session and paging parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from reforge.store.db import Store

MAX_PAGE_SIZE = 10_000
# OFFSET is a signed 64-bit integer in SQLite and PostgreSQL; a larger value
# would fail in the database driver instead of in request validation.
MAX_OFFSET = 2**63 - 1


def get_store(request: Request) -> Store:
    """Return the store the application was created with."""
    return request.app.state.store


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session that commits when the endpoint returns normally."""
    with get_store(request).session() as session:
        yield session


# scope="function" commits before the response is sent. With FastAPI's default
# ("request") the commit runs after the client already has its 200, so a client
# could read before the write is visible, and a failed commit would go unreported.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
StoreDep = Annotated[Store, Depends(get_store)]
LimitParam = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
OffsetParam = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
