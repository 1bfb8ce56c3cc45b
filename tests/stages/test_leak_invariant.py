"""The invariant: a prompt shows only what the stripped binary itself contains.

The synthetic corpus is built at -O0 and -O2 and run through every stage. Then
every prompt of every template is rendered from the LLM view. No ground-truth
identifier may occur in a prompt as a whole word unless the stripped binary
also contains it, in its printable strings (``strings -a -n 4``) or its dynamic
symbols (``readelf --dyn-syms``). Ground-truth identifiers are read
independently of the code under test, from ``readelf --debug-dump=info`` of the
debug binary and from the case's manifest.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from readelf_reference import parse_readelf_info
from sqlalchemy import select

from reforge.config import Settings
from reforge.corpus import get_program, list_programs
from reforge.experiments import ExperimentConfig
from reforge.llm.prompt import load_template
from reforge.llm.runner import build_prompt
from reforge.store.db import Store, open_store
from reforge.store.functions import iter_llm_functions, truth_rows
from reforge.store.models import Build, Program

from .binutils import dynamic_symbol_names, printable_strings
from .conftest import PipelineRun, run_pipeline

MIN_IDENTIFIER_LENGTH = 4
LEVELS = ("O0", "O2")
# NOTE: t12_goto_cleanup is left out because flatline 0.1.2 does not return
# from decompiling its computed-goto function `run_filter_program` (at -O0 and -O2).
EXCLUDED_CASES = frozenset({"t12_goto_cleanup"})
CASES = tuple(
    manifest.name
    for manifest in list_programs(include_realworld=False)
    if manifest.name not in EXCLUDED_CASES
)

# Every template, each with all metadata a prompt may show.
PROMPT_CONFIGS = [
    ExperimentConfig(
        id=f"leak-{template}",
        model="baseline-trivial",
        provider="baseline-trivial",
        prompt_template_id=template,
        context_level=level,
        metadata_mode="ANALYST_FULL",
        top_k=top_k,
    )
    for template, level, top_k in [
        ("function_naming_v1", "L0", 1),
        ("function_naming_v2_L0", "L0", 1),
        ("function_naming_v2_L1", "L1", 1),
        ("function_naming_v2_L2", "L2", 1),
        ("function_naming_topk_L2", "L2", 5),
    ]
]


@dataclass(frozen=True, slots=True)
class BinaryFacts:
    """Ground-truth identifiers of one build and what its stripped binary contains."""

    identifiers: frozenset[str]
    strings: str
    dynamic_symbols: frozenset[str]

    def survives(self, identifier: str) -> bool:
        """Check whether the stripped binary itself contains `identifier`."""
        return (
            identifier in self.dynamic_symbols
            or whole_word(identifier).search(self.strings) is not None
        )


def whole_word(identifier: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(identifier)}(?![A-Za-z0-9_])")


def dwarf_subprogram_names(debug: Path) -> set[str]:
    """Return the names of every subprogram that the program defines, inlined ones included."""
    text = subprocess.run(
        ["readelf", "--debug-dump=info", "--wide", str(debug)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = set()
    for die in parse_readelf_info(text).values():
        if die.tag != "DW_TAG_subprogram" or die.has("DW_AT_declaration"):
            continue
        if die.has("DW_AT_name"):
            names.add(die.string("DW_AT_name"))
    return names


def ground_truth_identifiers(program: str, debug: Path) -> frozenset[str]:
    """Return the DWARF function names, source file names and program name of a build."""
    manifest = get_program(program)
    files = {Path(path).name for path in [*manifest.sources, *manifest.headers]}
    identifiers = dwarf_subprogram_names(debug) | files | {program}
    return frozenset(name for name in identifiers if len(name) >= MIN_IDENTIFIER_LENGTH)


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory, stage_settings: Settings
) -> Iterator[PipelineRun]:
    """The synthetic corpus at -O0 and -O2 through every stage, in a SQLite store."""
    folder = tmp_path_factory.mktemp("leak-invariant")
    store = open_store(f"sqlite:///{folder / 'store.sqlite'}")
    try:
        yield run_pipeline(store, stage_settings, CASES, LEVELS)
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def facts(corpus: PipelineRun) -> dict[tuple[str, str], BinaryFacts]:
    """`BinaryFacts` of every build, keyed by (program, opt)."""
    result = {}
    with corpus.store.session() as session:
        statement = select(Program.name, Build).join(Program, Program.id == Build.program_id)
        for program, build in session.execute(statement):
            debug, stripped = Path(build.debug_path), Path(build.stripped_path)
            result[program, build.opt] = BinaryFacts(
                identifiers=ground_truth_identifiers(program, debug),
                strings=printable_strings(stripped),
                dynamic_symbols=frozenset(dynamic_symbol_names(stripped)),
            )
    return result


def rendered_prompts(store: Store) -> Iterator[tuple[str, str, str, str, str]]:
    """Yield (program, opt, Ghidra name, template id, prompt) for every view and template."""
    templates = {config.id: load_template(config.prompt_template_id) for config in PROMPT_CONFIGS}
    with store.session() as session:
        views = list(iter_llm_functions(session))
    for view in views:
        data = view.model_dump()
        for config in PROMPT_CONFIGS:
            prompt = build_prompt(config, templates[config.id], data)
            yield view.test_case, view.opt, view.ghidra_name, config.prompt_template_id, prompt


def test_corpus_ran_cleanly(corpus: PipelineRun) -> None:
    assert corpus.build.failed == []
    assert corpus.truth.failed == {}
    assert corpus.analysis.failed == {}
    assert corpus.join.missing_inputs == {}
    assert len(corpus.join.joined) == len(CASES) * len(LEVELS)


def test_prompts_hold_no_ground_truth(
    corpus: PipelineRun, facts: dict[tuple[str, str], BinaryFacts]
) -> None:
    violations = []
    rendered = 0
    for program, opt, ghidra_name, template, prompt in rendered_prompts(corpus.store):
        rendered += 1
        build_facts = facts[program, opt]
        for identifier in build_facts.identifiers:
            if whole_word(identifier).search(prompt) and not build_facts.survives(identifier):
                violations.append((program, opt, ghidra_name, template, identifier))

    assert rendered >= len(CASES) * len(LEVELS) * len(PROMPT_CONFIGS) * 3
    assert violations == []


def test_every_case_has_tiered_functions(corpus: PipelineRun) -> None:
    with corpus.store.session() as session:
        programs = {view.test_case for view in iter_llm_functions(session)}

    assert programs == set(CASES)


def test_name_in_own_code_sets_leak(corpus: PipelineRun) -> None:
    with corpus.store.session() as session:
        rows = truth_rows(session, include_unjoined=False)
    visible = [
        row
        for row in rows
        if row["name"] and row["c_raw"] and whole_word(row["name"]).search(row["c_raw"])
    ]
    missed = [(row["program"], row["opt"], row["name"]) for row in visible if not row["leak"]]

    assert missed == []
    # The deliberate leak case names its functions in assert messages.
    assert {row["name"] for row in visible if row["program"] == "t16_assert_name_leak"} >= {
        "sift_up",
        "task_queue_pop",
        "main",
    }


def test_assert_leak_case_flags_full_names(
    corpus: PipelineRun, facts: dict[tuple[str, str], BinaryFacts]
) -> None:
    # glibc's assert() keeps __PRETTY_FUNCTION__, so these names are in the strings.
    with corpus.store.session() as session:
        rows = truth_rows(session, program="t16_assert_name_leak", opt="O0")
    leaked = {row["name"] for row in rows if row["leak"]}
    strings = facts["t16_assert_name_leak", "O0"].strings.splitlines()

    for name in ("sift_up", "task_queue_pop", "main"):
        assert name in strings, name
        assert name in leaked, name
