"""SQLAlchemy models of the reforge store.

One schema serves SQLite (the embedded default) and PostgreSQL. The tables
follow the data flow: a `Program` has `Build` rows (program x opt level x
variant); a build's debug binary yields `DwarfFunction` and `SourceFunction`
rows joined by an `Alignment`; its stripped binary yields `BinaryFunction`
rows; `JoinedFunction` links both sides with a confidence tier. Experiments,
their `Result` rows and the `Score` of each result complete the picture.

Large texts (decompiled C, prompts, replies) live once in `Blob`, keyed by
their sha256, and other rows refer to them by hash.

Identity rule: a DWARF DIE offset is only unique inside one binary, so every
function row carries its `build_id` and the unique constraints include it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every reforge table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Blob(Base):
    """A large text stored once, addressed by the sha256 of its UTF-8 bytes."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)


class Program(Base):
    """One corpus program: a synthetic test case or a real-world project."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(60), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    builds: Mapped[list[Build]] = relationship(back_populates="program")


class Build(Base):
    """One program compiled at one optimisation level and variant (pie / nopie)."""

    __tablename__ = "builds"
    __table_args__ = (UniqueConstraint("program_id", "opt", "variant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    opt: Mapped[str] = mapped_column(String(4))
    variant: Mapped[str] = mapped_column(String(10), default="nopie")
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    debug_path: Mapped[str | None] = mapped_column(Text)
    stripped_path: Mapped[str | None] = mapped_column(Text)
    debug_sha256: Mapped[str | None] = mapped_column(String(64))
    stripped_sha256: Mapped[str | None] = mapped_column(String(64))
    compiler: Mapped[str] = mapped_column(Text, default="")
    strip_version: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    ldflags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    input_hash: Mapped[str] = mapped_column(String(64), default="")
    source_root: Mapped[str | None] = mapped_column(Text)
    preprocessed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    truth_hash: Mapped[str | None] = mapped_column(String(64))
    analysis_hash: Mapped[str | None] = mapped_column(String(64))

    program: Mapped[Program] = relationship(back_populates="builds")


class DwarfFunction(Base):
    """A concrete DW_TAG_subprogram of a build's debug binary (ground truth)."""

    __tablename__ = "dwarf_functions"
    __table_args__ = (UniqueConstraint("build_id", "die_offset"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    build_id: Mapped[int] = mapped_column(ForeignKey("builds.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(80), unique=True)
    die_offset: Mapped[int] = mapped_column(BigInteger)
    cu_offset: Mapped[int] = mapped_column(BigInteger)
    cu_name: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    linkage_name: Mapped[str | None] = mapped_column(Text)
    low_pc: Mapped[int | None] = mapped_column(BigInteger)
    high_pc: Mapped[int | None] = mapped_column(BigInteger)
    ranges: Mapped[list[Any]] = mapped_column(JSON, default=list)
    decl_file: Mapped[str | None] = mapped_column(Text)
    decl_line: Mapped[int | None] = mapped_column(Integer)
    decl_column: Mapped[int | None] = mapped_column(Integer)
    dominant_file: Mapped[str | None] = mapped_column(Text)
    dominant_file_share: Mapped[float | None] = mapped_column(Float)
    line_min: Mapped[int | None] = mapped_column(Integer)
    line_max: Mapped[int | None] = mapped_column(Integer)
    line_row_count: Mapped[int] = mapped_column(Integer, default=0)
    is_external: Mapped[bool] = mapped_column(Boolean, default=False)
    is_inlined_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    is_artificial: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)

    # The database deletes the alignment with its function (ON DELETE CASCADE);
    # without passive_deletes the ORM would first set its NOT NULL key to NULL.
    alignment: Mapped[Alignment | None] = relationship(
        back_populates="dwarf_function",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SourceFunction(Base):
    """A function definition found by the source oracle in one translation unit."""

    __tablename__ = "source_functions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    build_id: Mapped[int] = mapped_column(ForeignKey("builds.id", ondelete="CASCADE"), index=True)
    tu: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    start_line: Mapped[int] = mapped_column(Integer)
    end_line: Mapped[int] = mapped_column(Integer)
    start_column: Mapped[int] = mapped_column(Integer)
    is_static: Mapped[bool] = mapped_column(Boolean, default=False)
    is_inline: Mapped[bool] = mapped_column(Boolean, default=False)
    from_header: Mapped[bool] = mapped_column(Boolean, default=False)


class Alignment(Base):
    """How one DWARF function aligns to the source functions, with its stable key."""

    __tablename__ = "alignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dwarf_function_id: Mapped[int] = mapped_column(
        ForeignKey("dwarf_functions.id", ondelete="CASCADE"), unique=True
    )
    source_function_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_functions.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(10))
    overlap: Mapped[float] = mapped_column(Float, default=0.0)
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(60))
    stable_key: Mapped[str | None] = mapped_column(Text, index=True)

    dwarf_function: Mapped[DwarfFunction] = relationship(back_populates="alignment")


class BinaryFunction(Base):
    """A function the decompiler produced from a build's stripped binary."""

    __tablename__ = "binary_functions"
    __table_args__ = (UniqueConstraint("build_id", "entry_va"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    build_id: Mapped[int] = mapped_column(ForeignKey("builds.id", ondelete="CASCADE"), index=True)
    entry_va: Mapped[int] = mapped_column(BigInteger)
    ghidra_entry_va: Mapped[int] = mapped_column(BigInteger)
    ghidra_name: Mapped[str] = mapped_column(String(40))
    body_ranges: Mapped[list[Any]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10))
    error_code: Mapped[str | None] = mapped_column(String(60))
    error_message: Mapped[str | None] = mapped_column(Text)
    c_raw_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    c_decompiler_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    calls_text: Mapped[str | None] = mapped_column(Text)
    cfg_text: Mapped[str | None] = mapped_column(Text)
    variables_text: Mapped[str | None] = mapped_column(Text)
    loc_decompiled: Mapped[int | None] = mapped_column(Integer)
    bb_count: Mapped[int | None] = mapped_column(Integer)
    edge_count: Mapped[int | None] = mapped_column(Integer)
    cyclomatic: Mapped[int | None] = mapped_column(Integer)
    instruction_count: Mapped[int | None] = mapped_column(Integer)
    call_count: Mapped[int | None] = mapped_column(Integer)
    warning_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fatal_warning: Mapped[bool] = mapped_column(Boolean, default=False)
    cfg_completeness: Mapped[str | None] = mapped_column(String(8))
    is_thunk: Mapped[bool] = mapped_column(Boolean, default=False)
    callees: Mapped[list[Any]] = mapped_column(JSON, default=list)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class JoinedFunction(Base):
    """The join of one DWARF function and the decompiled functions, with its tier.

    Rows with no DWARF side stand for decompiled functions that joined nothing.
    """

    __tablename__ = "joined_functions"
    __table_args__ = (Index("ix_joined_tier", "build_id", "confidence_tier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    build_id: Mapped[int] = mapped_column(ForeignKey("builds.id", ondelete="CASCADE"))
    dwarf_function_id: Mapped[int | None] = mapped_column(
        ForeignKey("dwarf_functions.id", ondelete="CASCADE"), unique=True
    )
    binary_function_id: Mapped[int | None] = mapped_column(
        ForeignKey("binary_functions.id", ondelete="CASCADE"), index=True
    )
    match_kind: Mapped[str] = mapped_column(String(16))
    overlap: Mapped[float] = mapped_column(Float, default=0.0)
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    confidence_tier: Mapped[str | None] = mapped_column(String(8))
    gold_reject_reason: Mapped[str | None] = mapped_column(String(40))
    is_noise: Mapped[bool] = mapped_column(Boolean, default=False)
    noise_reason: Mapped[str | None] = mapped_column(String(40))
    leak: Mapped[bool] = mapped_column(Boolean, default=False)
    leak_tokens: Mapped[list[Any]] = mapped_column(JSON, default=list)
    stable_key: Mapped[str | None] = mapped_column(Text, index=True)


class Experiment(Base):
    """A stored `ExperimentConfig`: one model x tier x opt x context level cell."""

    __tablename__ = "experiments"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    task: Mapped[str] = mapped_column(String(40), default="function_naming")
    status: Mapped[str] = mapped_column(String(12), default="ready")
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(40), default="openrouter")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Run(Base):
    """One execution of an experiment; results are unique per experiment x function x run."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("experiment_id", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(String(60), default="main")
    provider: Mapped[str] = mapped_column(String(40), default="")
    api_base: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="running")
    budget_usd: Mapped[float | None] = mapped_column(Float)
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Result(Base):
    """One model answer (or recorded failure) for one function in one experiment run."""

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("experiment_id", "run_id", "dwarf_function_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[str] = mapped_column(String(60), default="main")
    dwarf_function_id: Mapped[int] = mapped_column(
        ForeignKey("dwarf_functions.id", ondelete="CASCADE")
    )
    function_uid: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12))
    model: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(40), default="")
    upstream_provider: Mapped[str | None] = mapped_column(String(120))
    template_id: Mapped[str] = mapped_column(String(60), default="")
    template_hash: Mapped[str] = mapped_column(String(64), default="")
    prompt_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    response_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    predicted_name: Mapped[str | None] = mapped_column(Text)
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    parse_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    parse_method: Mapped[str | None] = mapped_column(String(40))
    error_kind: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Score(Base):
    """The post-hoc score of one result under one scorer version."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("result_id", "scorer_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"), index=True)
    scorer_version: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    truth_name: Mapped[str] = mapped_column(Text)
    exact_match: Mapped[bool | None] = mapped_column(Boolean)
    exact_match_norm: Mapped[bool | None] = mapped_column(Boolean)
    token_precision: Mapped[float | None] = mapped_column(Float)
    token_recall: Mapped[float | None] = mapped_column(Float)
    token_f1: Mapped[float | None] = mapped_column(Float)
    relaxed_f1: Mapped[float | None] = mapped_column(Float)
    synonym_f1: Mapped[float | None] = mapped_column(Float)
    is_trivial: Mapped[bool | None] = mapped_column(Boolean)
    topk_best_f1: Mapped[float | None] = mapped_column(Float)
    topk_exact_any: Mapped[bool | None] = mapped_column(Boolean)
    topk_uplift: Mapped[float | None] = mapped_column(Float)
    leak: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
