"""Prompt templates of the function-naming task and how they are rendered.

A template is a text file named ``<template id>.txt`` in ``reforge/llm/templates``,
or in the folder given by the ``template_dir`` argument or the
``REFORGE_TEMPLATE_DIR`` environment variable. Placeholders use the
`string.Template` syntax (``${name}``). Substitution makes one pass and never
interprets the inserted values, so decompiled code full of ``{``, ``}`` and
``$`` reaches the model unchanged::

    template = load_template("function_naming_v2_L2")
    prompt = render_prompt(template, c_raw, calls=calls, cfg_summary=cfg, variables=variables)

Placeholders, and which templates must contain them:

- ``${code_block}``: the decompiled C in a fenced ``c`` block (every template).
- ``${calls}``: the callees listed by the decompiler (context levels L1 and L2).
- ``${cfg_summary}`` and ``${variables}``: control-flow summary and recovered
  variables (context level L2).
- ``${analyst_section}``: the metadata block, alone on its line; the line is
  removed when the metadata mode shows nothing (every template).
- ``${top_k}``: the number of requested candidates (JSON templates only).

A template uses exactly the context of its level, so context passed for another
level is left out. Context that is missing for the template's level renders as
``(none)``.

Metadata modes, and exactly which ``metadata`` fields each may show:

- ``STRICT``: none. The prompt contains the code and the level's context only.
- ``ANALYST``: ``loc_decompiled``, ``bb_count``, ``cyclomatic``,
  ``instruction_count`` and ``cfg_completeness`` (HIGH, MEDIUM or LOW).
- ``ANALYST_FULL``: the ANALYST fields plus ``warning_codes`` (the decompiler
  warning codes of the function), ``ghidra_entry_va`` (its entry address as
  Ghidra shows it) and ``size`` (its body size in bytes).

The names are those of the LLM view (`reforge.llm.view`), and every field is
derived from the stripped binary. A ``metadata`` key outside these eight raises
`ConfigError` in every mode: that allow-list keeps ground truth (a DWARF name, a
source file, a test case) out of prompts even when a caller passes a whole
database row by mistake.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from reforge.errors import ConfigError

ContextLevel = Literal["L0", "L1", "L2"]
MetadataMode = Literal["STRICT", "ANALYST", "ANALYST_FULL"]

CONTEXT_LEVELS: tuple[ContextLevel, ...] = ("L0", "L1", "L2")
METADATA_MODES: tuple[MetadataMode, ...] = ("STRICT", "ANALYST", "ANALYST_FULL")

TEMPLATE_DIR_ENV_VAR = "REFORGE_TEMPLATE_DIR"
PACKAGE_TEMPLATE_DIR = Path(__file__).with_name("templates")

MAX_TOP_K = 10
MISSING_TEXT = "(none)"


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """Context level and reply format of a known template id."""

    context_level: ContextLevel
    expects_json: bool


# Each v2 template renders the context level named in its id. The top-k
# template renders L2 context, and v1 renders code only, so it counts as L0.
TEMPLATE_SPECS: Mapping[str, TemplateSpec] = MappingProxyType(
    {
        "function_naming_v1": TemplateSpec("L0", expects_json=False),
        "function_naming_v2_L0": TemplateSpec("L0", expects_json=False),
        "function_naming_v2_L1": TemplateSpec("L1", expects_json=False),
        "function_naming_v2_L2": TemplateSpec("L2", expects_json=False),
        "function_naming_topk_L2": TemplateSpec("L2", expects_json=True),
    }
)

_CONTEXT_PLACEHOLDERS: Mapping[ContextLevel, frozenset[str]] = MappingProxyType(
    {
        "L0": frozenset(),
        "L1": frozenset({"calls"}),
        "L2": frozenset({"calls", "cfg_summary", "variables"}),
    }
)

ANALYST_FIELDS: tuple[str, ...] = (
    "loc_decompiled",
    "bb_count",
    "cyclomatic",
    "instruction_count",
    "cfg_completeness",
)
ANALYST_FULL_FIELDS: tuple[str, ...] = (*ANALYST_FIELDS, "warning_codes", "ghidra_entry_va", "size")
METADATA_FIELDS: Mapping[MetadataMode, tuple[str, ...]] = MappingProxyType(
    {"STRICT": (), "ANALYST": ANALYST_FIELDS, "ANALYST_FULL": ANALYST_FULL_FIELDS}
)
ALLOWED_METADATA_KEYS: frozenset[str] = frozenset(ANALYST_FULL_FIELDS)

_FIELD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "loc_decompiled": "decompiled lines of code",
        "bb_count": "basic blocks",
        "cyclomatic": "cyclomatic complexity",
        "instruction_count": "machine instructions",
        "cfg_completeness": "control-flow graph completeness",
        "ghidra_entry_va": "entry address",
        "size": "size in bytes",
    }
)

CFG_COMPLETENESS_LEVELS: tuple[str, ...] = ("HIGH", "MEDIUM", "LOW")

_ANALYST_LINE = re.compile(r"^\$\{analyst_section\}[ \t]*\r?\n", re.MULTILINE)
_BACKTICK_RUN = re.compile(r"`+")


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """One loaded template file with the facts a result records about it."""

    name: str
    text: str
    context_level: ContextLevel
    expects_json: bool
    template_hash: str
    """sha256 hex digest of the template file's bytes."""
    path: Path

    def render(
        self,
        c_raw: str | None,
        calls: str | Sequence[str] | None = None,
        cfg_summary: str | None = None,
        variables: str | Sequence[str] | None = None,
        *,
        metadata: Mapping[str, object] | None = None,
        metadata_mode: MetadataMode = "STRICT",
        top_k: int = 1,
    ) -> str:
        """Render this template; see `render_prompt`."""
        return render_prompt(
            self,
            c_raw,
            calls,
            cfg_summary,
            variables,
            metadata=metadata,
            metadata_mode=metadata_mode,
            top_k=top_k,
        )


def list_templates() -> list[str]:
    """Return the known template ids, sorted."""
    return sorted(TEMPLATE_SPECS)


def resolve_template_dir(template_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder templates are read from: the argument, the env var, or the package."""
    if template_dir is not None:
        directory = Path(template_dir)
    elif os.environ.get(TEMPLATE_DIR_ENV_VAR):
        directory = Path(os.environ[TEMPLATE_DIR_ENV_VAR])
    else:
        directory = PACKAGE_TEMPLATE_DIR
    if not directory.is_dir():
        raise ConfigError(
            f"prompt template folder {str(directory)!r} does not exist; "
            f"point {TEMPLATE_DIR_ENV_VAR} or template_dir at a folder of template files, "
            "or unset it to use the packaged templates"
        )
    return directory


def load_template(name: str, template_dir: str | os.PathLike[str] | None = None) -> PromptTemplate:
    """Load and check the template file of a known template id.

    Loaded templates are cached by file path, modification time and size, so
    an edited file is read again on the next call.
    """
    spec = TEMPLATE_SPECS.get(name)
    if spec is None:
        raise ConfigError(
            f"unknown prompt template {name!r}; known templates: {', '.join(list_templates())}"
        )
    path = resolve_template_dir(template_dir) / f"{name}.txt"
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ConfigError(
            f"prompt template file {str(path)!r} not found; add {name}.txt to that folder "
            f"or unset {TEMPLATE_DIR_ENV_VAR} to use the packaged templates"
        ) from None
    return _read_template(name, str(path), stat.st_mtime_ns, stat.st_size)


def clear_template_cache() -> None:
    """Forget every cached template so the next `load_template` reads the files again."""
    _read_template.cache_clear()


@lru_cache(maxsize=64)
def _read_template(name: str, path: str, mtime_ns: int, size: int) -> PromptTemplate:
    # mtime_ns and size only key the cache: an edited file gets a new entry.
    del mtime_ns, size
    spec = TEMPLATE_SPECS[name]
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"prompt template file {path!r} is not valid UTF-8 ({error}); save it as UTF-8"
        ) from error
    _check_placeholders(name, path, text, spec)
    return PromptTemplate(
        name=name,
        text=text,
        context_level=spec.context_level,
        expects_json=spec.expects_json,
        template_hash=hashlib.sha256(raw).hexdigest(),
        path=Path(path),
    )


def _check_placeholders(name: str, path: str, text: str, spec: TemplateSpec) -> None:
    template = string.Template(text)
    if not template.is_valid():
        raise ConfigError(
            f"prompt template file {path!r} contains a '$' that starts no valid placeholder; "
            "write '$$' for a literal dollar sign"
        )
    expected = {"code_block", "analyst_section"} | _CONTEXT_PLACEHOLDERS[spec.context_level]
    if spec.expects_json:
        expected.add("top_k")
    found = set(template.get_identifiers())
    if found != expected:
        raise ConfigError(
            f"prompt template {name!r} ({path}) must use exactly the placeholders "
            f"{sorted(expected)} for context level {spec.context_level}; "
            f"missing {sorted(expected - found)}, not allowed {sorted(found - expected)}"
        )
    if not _ANALYST_LINE.search(text):
        raise ConfigError(
            f"prompt template {name!r} ({path}) must have ${{analyst_section}} alone on a line"
        )


def render_prompt(
    template: PromptTemplate | str,
    c_raw: str | None,
    calls: str | Sequence[str] | None = None,
    cfg_summary: str | None = None,
    variables: str | Sequence[str] | None = None,
    *,
    metadata: Mapping[str, object] | None = None,
    metadata_mode: MetadataMode = "STRICT",
    top_k: int = 1,
    template_dir: str | os.PathLike[str] | None = None,
) -> str:
    """Render the prompt for one decompiled function.

    `template` is a `PromptTemplate` or a template id. Context beyond the
    template's level is ignored; missing context of its level renders as
    "(none)". `metadata` may only hold the fields listed in the module
    docstring, and `metadata_mode` decides which of them appear. `top_k` above
    1 needs a JSON template. Raises `ConfigError` for any violation.
    """
    if not isinstance(template, PromptTemplate):
        template = load_template(template, template_dir)
    _check_top_k(template, top_k)

    analyst_section = render_metadata(metadata, metadata_mode)
    text = template.text
    if not analyst_section:
        text = _ANALYST_LINE.sub("", text)

    values = {
        "code_block": _code_block(c_raw),
        "analyst_section": analyst_section + "\n" if analyst_section else "",
        "calls": _context_text(calls),
        "cfg_summary": _context_text(cfg_summary),
        "variables": _context_text(variables),
        "top_k": str(top_k),
    }
    return string.Template(text).substitute(values)


def prompt_hash(text: str) -> str:
    """Return the sha256 hex digest of a rendered prompt's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_top_k(template: PromptTemplate, top_k: int) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise ConfigError(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}")
    if top_k > 1 and not template.expects_json:
        raise ConfigError(
            f"template {template.name!r} asks for a single name, so top_k={top_k} cannot be "
            "rendered with it; use function_naming_topk_L2 for ranked candidates"
        )


def _code_block(c_raw: str | None) -> str:
    code = (c_raw or "").rstrip("\n")
    if not code.strip():
        code = MISSING_TEXT
    # A fence longer than any backtick run inside the code cannot be closed by
    # the code itself (CommonMark fenced code blocks).
    longest_run = max((len(run) for run in _BACKTICK_RUN.findall(code)), default=0)
    fence = "`" * max(3, longest_run + 1)
    return f"{fence}c\n{code}\n{fence}"


def _context_text(value: str | Sequence[str] | None) -> str:
    if value is None:
        return MISSING_TEXT
    if not isinstance(value, str):
        value = "\n".join(str(item) for item in value)
    value = value.rstrip("\n")
    return value if value.strip() else MISSING_TEXT


def render_metadata(metadata: Mapping[str, object] | None, mode: MetadataMode) -> str:
    """Render the metadata block a mode shows, or "" for STRICT or no metadata.

    Every key of `metadata` is checked against the allow-list in every mode,
    including STRICT, so a ground-truth field fails loudly instead of waiting
    for a mode that would print it.
    """
    if mode not in METADATA_FIELDS:
        raise ConfigError(f"unknown metadata mode {mode!r}; use one of {', '.join(METADATA_MODES)}")
    if metadata is None:
        return ""
    if not isinstance(metadata, Mapping):
        raise ConfigError(f"metadata must be a mapping, got {type(metadata).__name__}")
    unknown = sorted(str(key) for key in metadata if key not in ALLOWED_METADATA_KEYS)
    if unknown:
        raise ConfigError(
            f"metadata keys {unknown} are not allowed in prompts; allowed keys are "
            f"{sorted(ALLOWED_METADATA_KEYS)}. Pass only decompiler-derived fields, "
            "never ground truth"
        )
    # Values are checked even where the mode hides them, so a bad caller fails in every mode.
    for key, value in metadata.items():
        _format_field(key, value)
    visible_fields = METADATA_FIELDS[mode]
    if not visible_fields:
        return ""

    lines = ["Decompiler metrics:"]
    for key in visible_fields:
        if key != "warning_codes":
            lines.append(f"- {_FIELD_LABELS[key]}: {_format_field(key, metadata.get(key))}")
    if "warning_codes" in visible_fields:
        codes = _format_warning_codes(metadata.get("warning_codes"))
        lines.append(f"- decompiler warning codes: {', '.join(codes) or MISSING_TEXT}")
    return "\n".join(lines)


def _format_field(key: str, value: object) -> str:
    if key == "warning_codes":
        return ", ".join(_format_warning_codes(value))
    if value is None:
        return "unknown"
    if key == "ghidra_entry_va":
        return _format_address(value)
    if key == "cfg_completeness":
        return _format_completeness(value)
    return _format_count(key, value)


def _format_count(key: str, value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"metadata field {key!r} must be a non-negative integer, got {value!r}")
    return str(value)


def _format_completeness(value: object) -> str:
    if isinstance(value, str) and value.upper() in CFG_COMPLETENESS_LEVELS:
        return value.upper()
    raise ConfigError(
        f"metadata field 'cfg_completeness' must be one of {list(CFG_COMPLETENESS_LEVELS)}, "
        f"got {value!r}"
    )


def _format_address(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        # Eight hex digits at least, as in Ghidra's FUN_%08x names.
        return f"0x{value:08x}"
    raise ConfigError(
        f"metadata field 'ghidra_entry_va' must be a non-negative integer, got {value!r}"
    )


def _format_warning_codes(value: object) -> list[str]:
    if value is None:
        return []
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence)
        or not all(isinstance(code, str) and code.strip() and "\n" not in code for code in value)
    ):
        raise ConfigError(
            f"metadata field 'warning_codes' must be a list of one-line strings, got {value!r}"
        )
    return [code.strip() for code in value]
