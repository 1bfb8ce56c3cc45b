"""Tests of ExperimentConfig: derived defaults, validation rules and JSON-ready dumps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from reforge.experiments import ExperimentConfig


def test_defaults_derive_template_and_format() -> None:
    cfg = ExperimentConfig(id="exp01", model="openai/gpt-4o-mini")

    assert cfg.name == "exp01"
    assert cfg.task == "function_naming"
    assert cfg.status == "ready"
    assert cfg.context_level == "L0"
    assert cfg.prompt_template_id == "function_naming_v2_L0"
    assert cfg.response_format == "text"
    assert cfg.max_tokens == 64
    assert cfg.metadata_mode == "STRICT"
    assert cfg.provider == "openrouter"
    assert cfg.top_k == 1
    assert cfg.temperature == 0.0


def test_template_follows_context_level() -> None:
    cfg = ExperimentConfig(id="x", model="m", context_level="L2")

    assert cfg.prompt_template_id == "function_naming_v2_L2"


def test_top_k_derives_json_template() -> None:
    cfg = ExperimentConfig(id="x", model="m", context_level="L2", top_k=5)

    assert cfg.prompt_template_id == "function_naming_topk_L2"
    assert cfg.response_format == "json"
    assert cfg.max_tokens == 512


def test_dump_is_json_ready() -> None:
    stamp = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    cfg = ExperimentConfig(id="x", model="m", tags=["a"], created_at=stamp)

    dumped = cfg.model_dump()

    assert dumped["created_at"] == "2026-03-01T12:30:00+00:00"
    assert dumped["updated_at"] is None
    assert json.loads(json.dumps(dumped))["tags"] == ["a"]


def test_dump_round_trips() -> None:
    cfg = ExperimentConfig(
        id="bench_x_gold_O1_L1",
        model="openai/gpt-4o",
        tier="GOLD",
        opt="O1",
        context_level="L1",
        limit=10,
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )

    assert ExperimentConfig.model_validate(cfg.model_dump()) == cfg


def test_legacy_v1_config_is_valid() -> None:
    cfg = ExperimentConfig(
        id="exp01_funcnaming_gpt4omini_gold_O0",
        model="openai/gpt-4o-mini",
        prompt_template_id="function_naming_v1",
        tier="GOLD",
        opt="O0",
        status="legacy",
    )

    assert cfg.context_level == "L0"
    assert cfg.response_format == "text"


@pytest.mark.parametrize(
    "bad_id",
    ["", "has space", "slash/in/id", "x" * 121, "brace{}"],
    ids=["empty", "space", "slash", "too-long", "brace"],
)
def test_id_must_be_safe_slug(bad_id: str) -> None:
    with pytest.raises(ValidationError, match="id"):
        ExperimentConfig(id=bad_id, model="m")


def test_id_of_120_characters_is_accepted() -> None:
    assert ExperimentConfig(id="a" * 120, model="m").id == "a" * 120


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", -0.1),
        ("temperature", 2.5),
        ("max_tokens", 0),
        ("max_tokens", 32769),
        ("limit", 0),
        ("top_k", 0),
        ("top_k", 11),
        ("status", "finished"),
        ("tier", "PLATINUM"),
        ("opt", "Os"),
        ("context_level", "L3"),
        ("metadata_mode", "LOOSE"),
        ("provider", "Open Router"),
    ],
)
def test_field_range_violations(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        ExperimentConfig(id="x", model="m", **{field: value})


def test_unknown_template_is_rejected() -> None:
    with pytest.raises(ValidationError, match="known templates: function_naming_topk_L2"):
        ExperimentConfig(id="x", model="m", prompt_template_id="function_naming_v9")


@pytest.mark.parametrize(
    ("template", "level"),
    [
        ("function_naming_v2_L1", "L2"),
        ("function_naming_v2_L2", "L0"),
        ("function_naming_v1", "L1"),
        ("function_naming_topk_L2", "L1"),
    ],
)
def test_template_must_match_context_level(template: str, level: str) -> None:
    with pytest.raises(ValidationError, match="renders context level"):
        ExperimentConfig(id="x", model="m", prompt_template_id=template, context_level=level)


def test_top_k_needs_topk_template() -> None:
    with pytest.raises(ValidationError, match="top_k=3 needs the ranked-candidate template"):
        ExperimentConfig(
            id="x",
            model="m",
            context_level="L2",
            top_k=3,
            prompt_template_id="function_naming_v2_L2",
        )


def test_top_k_at_l1_is_rejected() -> None:
    # The derived top-k template is L2 only, so L1 cannot carry ranked candidates.
    with pytest.raises(ValidationError, match="renders context level L2"):
        ExperimentConfig(id="x", model="m", context_level="L1", top_k=3)


def test_response_format_must_match_template() -> None:
    with pytest.raises(ValidationError, match="replies in text"):
        ExperimentConfig(id="x", model="m", response_format="json")
    with pytest.raises(ValidationError, match="replies in json"):
        ExperimentConfig(
            id="x",
            model="m",
            context_level="L2",
            prompt_template_id="function_naming_topk_L2",
            response_format="text",
        )


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ValidationError, match="temprature"):
        ExperimentConfig(id="x", model="m", temprature=0.5)


def test_empty_tag_is_rejected() -> None:
    with pytest.raises(ValidationError, match="tags must be non-empty"):
        ExperimentConfig(id="x", model="m", tags=["ok", " "])


def test_config_is_immutable() -> None:
    cfg = ExperimentConfig(id="x", model="m")

    with pytest.raises(ValidationError, match="frozen"):
        cfg.temperature = 1.0  # type: ignore[misc]


def test_replace_validates_changes() -> None:
    cfg = ExperimentConfig(id="x", model="m")

    assert cfg.replace(status="completed").status == "completed"
    with pytest.raises(ValidationError, match="temperature"):
        cfg.replace(temperature=5)
