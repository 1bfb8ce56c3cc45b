"""`ExperimentConfig`: one benchmark experiment, the unit the runner executes.

An experiment is one model asked to name the functions of one slice of the
corpus (tier, optimisation level, optionally a test case) with one prompt
template, context level and metadata mode. Configs are immutable pydantic
models; `model_dump()` returns JSON-ready values (timestamps as ISO 8601
strings), which is what the API stores and serves::

    cfg = ExperimentConfig(id="bench_gpt4o-mini_gold_O3_L2", model="openai/gpt-4o-mini",
                           tier="GOLD", opt="O3", context_level="L2")
    cfg.prompt_template_id  # "function_naming_v2_L2"

Fields left out are derived: `name` from `id`, `prompt_template_id` from
`context_level` and `top_k`, `response_format` from the template, and
`max_tokens` from `top_k`. Consistency rules between template, context level,
`top_k` and `response_format` are listed on `ExperimentConfig`. Invalid input
raises `pydantic.ValidationError`, which is a `ValueError`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from reforge.llm.prompt import (
    CONTEXT_LEVELS,
    MAX_TOP_K,
    TEMPLATE_SPECS,
    ContextLevel,
    MetadataMode,
)

ExperimentStatus = Literal["draft", "ready", "running", "completed", "legacy"]


def kept_status(stored: str, incoming: str) -> str:
    """Status of an experiment registered again with `incoming` over `stored`.

    A run sets "running" and "completed". Registering the same config again
    (re-running a notebook that builds the matrix) sends "ready" or "draft",
    which must not make a finished experiment look unrun. So those two keep a
    run status, and any other incoming status replaces it.
    """
    if stored in ("running", "completed") and incoming in ("draft", "ready"):
        return stored
    return incoming


Tier = Literal["GOLD", "SILVER", "BRONZE"]
Opt = Literal["O0", "O1", "O2", "O3"]
ResponseFormat = Literal["text", "json"]

EXPERIMENT_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,120}$"
PROVIDER_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,39}$"

TOPK_TEMPLATE_ID = "function_naming_topk_L2"

# Completion budgets: a bare snake_case name fits in a few tokens, and 64 leaves
# room for a model that adds a short remark. Ranked JSON candidates need about
# 20 tokens each, so the top-k budget covers MAX_TOP_K of them with margin.
SINGLE_NAME_MAX_TOKENS = 64
TOP_K_MAX_TOKENS = 512


def default_template_id(context_level: ContextLevel, top_k: int = 1) -> str:
    """Return the template the benchmark uses for a context level and candidate count."""
    if top_k > 1:
        return TOPK_TEMPLATE_ID
    return f"function_naming_v2_{context_level}"


def default_max_tokens(top_k: int = 1) -> int:
    """Return the completion budget in tokens for one name or for `top_k` ranked candidates."""
    return TOP_K_MAX_TOKENS if top_k > 1 else SINGLE_NAME_MAX_TOKENS


class ExperimentConfig(BaseModel):
    """One experiment: model, corpus slice, prompt template and sampling settings.

    Consistency rules, checked on construction:

    - `prompt_template_id` is a known template, and its context level equals
      `context_level`: ``function_naming_v2_Lx`` needs level ``Lx``,
      ``function_naming_topk_L2`` needs L2, and ``function_naming_v1`` (code
      only) needs L0.
    - `response_format` is ``"json"`` exactly when the template requests JSON
      (the top-k template) and ``"text"`` otherwise.
    - `top_k` above 1 needs the top-k template, and so JSON.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=EXPERIMENT_ID_PATTERN, description="Unique experiment id.")
    name: str = Field(default="", description="Short human-readable title; defaults to the id.")
    description: str = Field(default="", description="What the experiment measures.")
    task: str = Field(default="function_naming", min_length=1, description="Benchmark task.")
    status: ExperimentStatus = Field(default="ready", description="Life-cycle state.")
    tags: list[str] = Field(default_factory=list, description="Free-form labels for filtering.")
    model: str = Field(
        min_length=1, max_length=200, description="OpenRouter model slug or baseline name."
    )
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(
        default=SINGLE_NAME_MAX_TOKENS, ge=1, le=32768, description="Completion token limit."
    )
    prompt_template_id: str = Field(default="", description="Id of the prompt template file.")
    tier: Tier | None = Field(default=None, description="Confidence tier of the functions.")
    opt: Opt | None = Field(default=None, description="Optimisation level of the binaries.")
    test_case: str | None = Field(default=None, description="Restrict to one corpus program.")
    limit: int | None = Field(default=None, ge=1, description="At most this many functions.")
    metadata_mode: MetadataMode = Field(
        default="STRICT", description="Which decompiler metrics the prompt shows."
    )
    context_level: ContextLevel = Field(
        default="L0", description="L0 code, L1 adds calls, L2 adds calls, CFG and variables."
    )
    top_k: int = Field(default=1, ge=1, le=MAX_TOP_K, description="Ranked names requested.")
    response_format: ResponseFormat = Field(
        default="text", description="text for one bare name, json for ranked candidates."
    )
    provider: str = Field(
        default="openrouter",
        pattern=PROVIDER_PATTERN,
        description="openrouter, openai-compatible, baseline-nn or baseline-trivial.",
    )
    created_at: datetime | None = Field(default=None, description="When it was first stored.")
    updated_at: datetime | None = Field(default=None, description="When it was last stored.")

    @model_validator(mode="before")
    @classmethod
    def _fill_derived_defaults(cls, data: Any) -> Any:
        # Derived fields are filled before field validation because the model
        # is frozen; values of the wrong type are left for field validation.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        top_k = data.get("top_k", 1)
        top_k = top_k if isinstance(top_k, int) and not isinstance(top_k, bool) else 1
        context_level = data.get("context_level") or "L0"
        if not data.get("name") and isinstance(data.get("id"), str):
            data["name"] = data["id"]
        if not data.get("prompt_template_id") and context_level in CONTEXT_LEVELS:
            data["prompt_template_id"] = default_template_id(context_level, top_k)
        spec = TEMPLATE_SPECS.get(data.get("prompt_template_id") or "")
        if data.get("response_format") is None and spec is not None:
            data["response_format"] = "json" if spec.expects_json else "text"
        if data.get("max_tokens") is None:
            data["max_tokens"] = default_max_tokens(top_k)
        for key in ("created_at", "updated_at", "tier", "opt", "test_case", "limit"):
            if key in data and data[key] == "":
                data[key] = None
        return data

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        spec = TEMPLATE_SPECS.get(self.prompt_template_id)
        if spec is None:
            raise ValueError(
                f"unknown prompt_template_id {self.prompt_template_id!r}; "
                f"known templates: {', '.join(sorted(TEMPLATE_SPECS))}"
            )
        if spec.context_level != self.context_level:
            raise ValueError(
                f"prompt_template_id {self.prompt_template_id!r} renders context level "
                f"{spec.context_level} but context_level is {self.context_level}; use "
                f"{default_template_id(self.context_level, self.top_k)!r} or change the level"
            )
        expected_format = "json" if spec.expects_json else "text"
        if self.response_format != expected_format:
            raise ValueError(
                f"prompt_template_id {self.prompt_template_id!r} replies in "
                f"{expected_format}, but response_format is {self.response_format!r}"
            )
        if self.top_k > 1 and not spec.expects_json:
            raise ValueError(
                f"top_k={self.top_k} needs the ranked-candidate template {TOPK_TEMPLATE_ID!r} "
                f"(context level L2, response_format 'json'), not {self.prompt_template_id!r}"
            )
        if any(not tag.strip() for tag in self.tags):
            raise ValueError(f"tags must be non-empty strings, got {self.tags!r}")
        return self

    @field_serializer("created_at", "updated_at")
    def _serialize_timestamp(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    def replace(self, **changes: Any) -> ExperimentConfig:
        """Return a copy with `changes` applied and every rule checked again.

        Unlike `model_copy(update=...)`, this validates the result. Derived
        fields are kept unless `changes` names them, so changing
        `context_level` usually needs a matching `prompt_template_id`.
        """
        return ExperimentConfig.model_validate({**self.model_dump(), **changes})
