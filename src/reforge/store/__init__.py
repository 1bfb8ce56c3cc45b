"""The reforge store: SQLAlchemy models, migrations and content-addressed blobs."""

from reforge.store.blobs import get_blob, put_blob, text_sha256
from reforge.store.db import Store, migrate, open_store

__all__ = ["Store", "get_blob", "migrate", "open_store", "put_blob", "text_sha256"]
