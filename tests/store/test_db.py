"""The store migrates, keeps blobs once and scopes DIE offsets by build."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from reforge.errors import StoreError
from reforge.store import get_blob, open_store, put_blob
from reforge.store.db import Store, table_names
from reforge.store.models import Alignment, Blob, Build, DwarfFunction, Program

EXPECTED_TABLES = {
    "alembic_version",
    "alignments",
    "binary_functions",
    "blobs",
    "builds",
    "dwarf_functions",
    "experiments",
    "joined_functions",
    "programs",
    "results",
    "runs",
    "scores",
    "source_functions",
}


def _add_build(store: Store, program: str, opt: str) -> int:
    with store.session() as session:
        row = session.scalar(select(Program).where(Program.name == program))
        if row is None:
            row = Program(name=program, kind="synthetic")
            session.add(row)
            session.flush()
        build = Build(program_id=row.id, opt=opt, variant="nopie", ok=True)
        session.add(build)
        session.flush()
        return build.id


def test_migration_creates_every_table(store: Store) -> None:
    assert set(table_names(store.engine)) == EXPECTED_TABLES


def test_migration_is_idempotent(store_url: str) -> None:
    first = open_store(store_url)
    first.dispose()
    second = open_store(store_url)
    assert set(table_names(second.engine)) == EXPECTED_TABLES
    second.dispose()


def test_blob_stored_once(store: Store) -> None:
    text = "int FUN_00401000(void) { return 0; }"
    with store.session() as session:
        first = put_blob(session, text)
        second = put_blob(session, text)
    assert first == second == hashlib.sha256(text.encode()).hexdigest()
    with store.session() as session:
        assert session.scalar(select(Blob.size).where(Blob.sha256 == first)) == len(text)
        assert get_blob(session, first) == text
        assert get_blob(session, "0" * 64) is None


def test_same_die_offset_in_two_builds(store: Store) -> None:
    o0 = _add_build(store, "t01", "O0")
    o2 = _add_build(store, "t01", "O2")
    with store.session() as session:
        for build_id in (o0, o2):
            session.add(
                DwarfFunction(
                    build_id=build_id,
                    uid=f"b{build_id}:die0x2d",
                    die_offset=0x2D,
                    cu_offset=0,
                    name="parse_header",
                    verdict="ACCEPT",
                )
            )
    with store.session() as session:
        rows = session.scalars(select(DwarfFunction).where(DwarfFunction.die_offset == 0x2D))
        assert sorted(row.build_id for row in rows) == sorted([o0, o2])


def test_duplicate_die_in_one_build_rejected(store: Store) -> None:
    build_id = _add_build(store, "t02", "O0")
    with pytest.raises(IntegrityError), store.session() as session:
        for uid in ("a", "b"):
            session.add(
                DwarfFunction(
                    build_id=build_id, uid=uid, die_offset=0x40, cu_offset=0, verdict="ACCEPT"
                )
            )
            session.flush()


def test_deleting_function_deletes_alignment(store: Store) -> None:
    build_id = _add_build(store, "t03", "O0")
    with store.session() as session:
        function = DwarfFunction(
            build_id=build_id, uid="t03@O0:die0x40", die_offset=0x40, cu_offset=0, verdict="ACCEPT"
        )
        session.add(function)
        session.flush()
        session.add(Alignment(dwarf_function_id=function.id, kind="MATCH"))
    with store.session() as session:
        # An ORM delete, as the truth stage does for a function that disappeared.
        session.delete(session.scalar(select(DwarfFunction)))
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Alignment)) == 0
        assert session.scalar(select(func.count()).select_from(DwarfFunction)) == 0


def test_unreachable_postgres_is_store_error() -> None:
    with pytest.raises(StoreError, match="REFORGE_DATABASE_URL"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_invalid_url_is_store_error() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        open_store("not a url")
