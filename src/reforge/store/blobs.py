"""Content-addressed storage of large texts (decompiled C, prompts, replies).

A text is stored once under the sha256 of its UTF-8 bytes; rows refer to it
by that hash::

    digest = put_blob(session, c_code)
    assert get_blob(session, digest) == c_code
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from reforge.store.models import Blob


def text_sha256(text: str) -> str:
    """Return the sha256 hex digest of the UTF-8 bytes of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def put_blob(session: Session, text: str) -> str:
    """Store `text` if it is not stored yet and return its digest.

    The insert ignores a conflicting row, so concurrent writers of the same
    text (two runners posting one prompt) never fail each other.
    """
    digest = text_sha256(text)
    values = {"sha256": digest, "text": text, "size": len(text.encode("utf-8"))}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Blob).values(**values).on_conflict_do_nothing(index_elements=["sha256"]))
    return digest


def get_blob(session: Session, digest: str | None) -> str | None:
    """Return the text stored under `digest`, or None when absent."""
    if digest is None:
        return None
    return session.scalar(select(Blob.text).where(Blob.sha256 == digest))
