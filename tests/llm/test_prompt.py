"""Tests of prompt templates: loading, context levels, metadata allow-list and hashes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from reforge.errors import ConfigError
from reforge.llm.prompt import (
    ALLOWED_METADATA_KEYS,
    PACKAGE_TEMPLATE_DIR,
    TEMPLATE_DIR_ENV_VAR,
    list_templates,
    load_template,
    prompt_hash,
    render_prompt,
)

ALL_TEMPLATES = [
    "function_naming_topk_L2",
    "function_naming_v1",
    "function_naming_v2_L0",
    "function_naming_v2_L1",
    "function_naming_v2_L2",
]

# Decompiled code with every character a naive formatter would interpret.
TRICKY_CODE = (
    "undefined8 FUN_00101189(char *param_1)\n"
    "{\n"
    '  printf("${calls} $HOME {0} {} %s $$\\n", param_1);\n'
    "  if (*param_1 == '{') { return 0x7b; }\n"
    "  return 0;\n"
    "}"
)
CALLS = "CALLEE_MARKER_strlen\nCALLEE_MARKER_memcpy"
CFG = "CFG_MARKER: 4 basic blocks, 1 loop"
VARIABLES = "VARIABLES_MARKER: char *param_1; int local_14"


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    """A private copy of the packaged template folder that tests may edit."""
    folder = tmp_path / "templates"
    shutil.copytree(PACKAGE_TEMPLATE_DIR, folder)
    return folder


def test_known_templates() -> None:
    assert list_templates() == ALL_TEMPLATES


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_code_with_braces_and_dollars_intact(name: str) -> None:
    prompt = render_prompt(name, TRICKY_CODE, calls=CALLS, cfg_summary=CFG, variables=VARIABLES)

    assert f"```c\n{TRICKY_CODE}\n```" in prompt
    assert "$HOME {0} {} %s $$" in prompt


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_no_placeholder_left(name: str) -> None:
    prompt = render_prompt(
        name, "int f(void) { return 1; }", calls=CALLS, cfg_summary=CFG, variables=VARIABLES
    )

    for placeholder in (
        "${code_block}",
        "${calls}",
        "${cfg_summary}",
        "${variables}",
        "${analyst_section}",
        "${top_k}",
    ):
        assert placeholder not in prompt


@pytest.mark.parametrize("name", ["function_naming_v1", "function_naming_v2_L0"])
def test_l0_leaves_out_context(name: str) -> None:
    prompt = render_prompt(name, TRICKY_CODE, calls=CALLS, cfg_summary=CFG, variables=VARIABLES)

    assert "CALLEE_MARKER" not in prompt
    assert "CFG_MARKER" not in prompt
    assert "VARIABLES_MARKER" not in prompt


def test_l1_shows_calls_only() -> None:
    prompt = render_prompt(
        "function_naming_v2_L1", TRICKY_CODE, calls=CALLS, cfg_summary=CFG, variables=VARIABLES
    )

    assert CALLS in prompt
    assert "CFG_MARKER" not in prompt
    assert "VARIABLES_MARKER" not in prompt


@pytest.mark.parametrize("name", ["function_naming_v2_L2", "function_naming_topk_L2"])
def test_l2_shows_all_context(name: str) -> None:
    prompt = render_prompt(name, TRICKY_CODE, calls=CALLS, cfg_summary=CFG, variables=VARIABLES)

    assert CALLS in prompt
    assert CFG in prompt
    assert VARIABLES in prompt


def test_missing_context_renders_none() -> None:
    prompt = render_prompt(
        "function_naming_v2_L2", TRICKY_CODE, calls=None, cfg_summary="  ", variables=[]
    )

    assert prompt.count("(none)") == 3


def test_list_context_joined_by_lines() -> None:
    prompt = render_prompt("function_naming_v2_L1", "int f(void);", calls=["puts", "exit"])

    assert "puts\nexit" in prompt


def test_seed_style_call_with_none_values() -> None:
    fn = {"c_raw": TRICKY_CODE, "calls_text": None, "cfg_text": None, "variables_text": None}
    template = load_template("function_naming_v2_L2")

    prompt = render_prompt(
        template,
        fn.get("c_raw", ""),
        calls=fn.get("calls_text"),
        cfg_summary=fn.get("cfg_text"),
        variables=fn.get("variables_text"),
    )

    assert TRICKY_CODE in prompt
    assert prompt == template.render(TRICKY_CODE)


def test_empty_code_renders_none() -> None:
    prompt = render_prompt("function_naming_v2_L0", "")

    assert "```c\n(none)\n```" in prompt


def test_backticks_in_code_get_longer_fence() -> None:
    code = 'puts("```");'

    prompt = render_prompt("function_naming_v2_L0", code)

    assert f"````c\n{code}\n````" in prompt


def test_top_k_template_includes_k() -> None:
    prompt = render_prompt("function_naming_topk_L2", TRICKY_CODE, top_k=7)

    assert "suggest 7 candidate names" in prompt
    assert "Give exactly 7 different candidate names" in prompt
    assert '{"candidates": [{"name":' in prompt


def test_top_k_needs_json_template() -> None:
    with pytest.raises(ConfigError, match="top_k=3 cannot be rendered"):
        render_prompt("function_naming_v2_L2", TRICKY_CODE, top_k=3)


@pytest.mark.parametrize("top_k", [0, 11, True])
def test_top_k_range(top_k: int) -> None:
    with pytest.raises(ConfigError, match="top_k must be an integer from 1 to 10"):
        render_prompt("function_naming_topk_L2", TRICKY_CODE, top_k=top_k)


def test_unknown_template_lists_known() -> None:
    with pytest.raises(
        ConfigError, match="known templates: function_naming_topk_L2, function_naming_v1"
    ):
        load_template("function_naming_v3")


def test_template_properties() -> None:
    topk = load_template("function_naming_topk_L2")
    v1 = load_template("function_naming_v1")

    assert (topk.context_level, topk.expects_json) == ("L2", True)
    assert (v1.context_level, v1.expects_json) == ("L0", False)
    assert topk.template_hash == hashlib.sha256(topk.path.read_bytes()).hexdigest()


def test_hash_changes_with_file_text(template_copy: Path) -> None:
    before = load_template("function_naming_v2_L0", template_copy)
    path = template_copy / "function_naming_v2_L0.txt"
    path.write_text(path.read_text(encoding="utf-8") + "Be brief.\n", encoding="utf-8")

    after = load_template("function_naming_v2_L0", template_copy)

    assert after.template_hash != before.template_hash
    assert after.template_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert render_prompt(after, "int f(void);").endswith("Be brief.\n")


def test_env_var_selects_template_dir(template_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = template_copy / "function_naming_v1.txt"
    path.write_text(
        path.read_text(encoding="utf-8").replace("reverse engineer", "analyst"), encoding="utf-8"
    )
    monkeypatch.setenv(TEMPLATE_DIR_ENV_VAR, str(template_copy))

    template = load_template("function_naming_v1")

    assert template.path == path
    assert "You are a analyst" in template.text
    assert (
        template.template_hash
        != load_template("function_naming_v1", PACKAGE_TEMPLATE_DIR).template_hash
    )


def test_template_with_wrong_placeholder_rejected(template_copy: Path) -> None:
    path = template_copy / "function_naming_v2_L0.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nCallees: ${calls}\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"not allowed \['calls'\]"):
        load_template("function_naming_v2_L0", template_copy)


def test_template_with_stray_dollar_rejected(template_copy: Path) -> None:
    path = template_copy / "function_naming_v2_L0.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nCosts $ 5\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"write '\$\$' for a literal dollar sign"):
        load_template("function_naming_v2_L0", template_copy)


def test_missing_template_file(template_copy: Path) -> None:
    (template_copy / "function_naming_v2_L1.txt").unlink()

    with pytest.raises(ConfigError, match=r"function_naming_v2_L1\.txt' not found"):
        load_template("function_naming_v2_L1", template_copy)


def test_missing_template_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_template("function_naming_v1", tmp_path / "nowhere")


# Field names and value shapes of reforge.llm.view.prompt_metadata().
METADATA = {
    "loc_decompiled": 17,
    "bb_count": 5,
    "cyclomatic": None,
    "instruction_count": 52,
    "cfg_completeness": "HIGH",
    "ghidra_entry_va": 0x4011FA,
    "size": 120,
    "warning_codes": ["UNRESOLVED_JUMPTABLE", "UNREACHABLE_BLOCKS_REMOVED"],
}


def test_strict_mode_shows_no_metadata() -> None:
    plain = render_prompt("function_naming_v2_L0", TRICKY_CODE)

    strict = render_prompt("function_naming_v2_L0", TRICKY_CODE, metadata=METADATA)

    assert strict == plain
    assert "Decompiler metrics" not in strict


def test_analyst_mode_shows_metrics_only() -> None:
    prompt = render_prompt(
        "function_naming_v2_L0", TRICKY_CODE, metadata=METADATA, metadata_mode="ANALYST"
    )

    assert "- decompiled lines of code: 17\n" in prompt
    assert "- basic blocks: 5\n" in prompt
    assert "- cyclomatic complexity: unknown\n" in prompt
    assert "- machine instructions: 52\n" in prompt
    assert "- control-flow graph completeness: HIGH\n" in prompt
    assert "004011fa" not in prompt
    assert "UNRESOLVED_JUMPTABLE" not in prompt
    assert "size in bytes" not in prompt


def test_analyst_full_adds_address_size_warnings() -> None:
    prompt = render_prompt(
        "function_naming_v2_L0", TRICKY_CODE, metadata=METADATA, metadata_mode="ANALYST_FULL"
    )

    assert "- entry address: 0x004011fa\n" in prompt
    assert "- size in bytes: 120\n" in prompt
    assert (
        "- decompiler warning codes: UNRESOLVED_JUMPTABLE, UNREACHABLE_BLOCKS_REMOVED\n" in prompt
    )
    assert prompt.index("Decompiler metrics") < prompt.index("```c")


def test_analyst_full_without_warnings() -> None:
    metadata = {**METADATA, "warning_codes": []}

    prompt = render_prompt(
        "function_naming_v2_L0", TRICKY_CODE, metadata=metadata, metadata_mode="ANALYST_FULL"
    )

    assert "- decompiler warning codes: (none)\n" in prompt


@pytest.mark.parametrize("mode", ["STRICT", "ANALYST", "ANALYST_FULL"])
@pytest.mark.parametrize("key", ["name", "decl_file", "test_case", "dwarf_function_id"])
def test_metadata_allow_list_rejects_key(key: str, mode: str) -> None:
    with pytest.raises(ConfigError, match=f"metadata keys \\['{key}'\\] are not allowed"):
        render_prompt(
            "function_naming_v2_L2", TRICKY_CODE, metadata={key: "parse_config"}, metadata_mode=mode
        )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("loc_decompiled", "parse_config"),
        ("bb_count", -1),
        ("cfg_completeness", "parse_config"),
        ("ghidra_entry_va", "main"),
        ("size", 3.5),
        ("warning_codes", "UNRESOLVED_JUMPTABLE"),
        ("warning_codes", ["two\nlines"]),
    ],
)
def test_metadata_values_checked(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        render_prompt("function_naming_v2_L0", TRICKY_CODE, metadata={key: value})


def test_unknown_metadata_mode() -> None:
    with pytest.raises(ConfigError, match="unknown metadata mode 'VERBOSE'"):
        render_prompt("function_naming_v2_L0", TRICKY_CODE, metadata_mode="VERBOSE")  # type: ignore[arg-type]


def test_prompt_hash_is_sha256() -> None:
    # SHA-256 of "abc" from FIPS 180-2, appendix B.1.
    assert prompt_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_allow_list_matches_llm_view() -> None:
    from reforge.llm.view import PROMPT_FIELDS, prompt_metadata

    metadata = prompt_metadata(dict.fromkeys(PROMPT_FIELDS))

    assert set(metadata) == ALLOWED_METADATA_KEYS
    prompt = render_prompt(
        "function_naming_v2_L0", TRICKY_CODE, metadata=metadata, metadata_mode="ANALYST_FULL"
    )
    assert "- entry address: unknown\n" in prompt
