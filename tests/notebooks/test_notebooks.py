"""Execute notebooks/benchmark.ipynb and notebooks/analysis.ipynb against a live test stack.

Each notebook runs in a real Jupyter kernel of this interpreter with nbclient,
against ``reforge serve`` and the scripted model server (see conftest.py).
The numbers the notebooks print are checked against the API and against the
SQLite file of the store, read here with plain SQL.

Two rounds run in order. The first uses the notebook's default slice (one
model, GOLD, L2) with the opt level O0 set through ``REFORGE_NOTEBOOK_OPT``.
The second widens it to two models, O0 and O2, L0 and L2. One of its
experiments is the first round's again, so it must resume with nothing new.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .stack import FOREIGN_ENV, KERNEL_NAME, OPTS, Servers

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = pytest.mark.notebooks

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
CELL_TIMEOUT = 300  # seconds per cell
FIGURES = {"model_ranking.png", "model_opt_heatmap.png", "context_ladder.png", "cost_per_model.png"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# A stand-in OpenRouter key, which must never appear in any notebook output.
SECRET_KEY = f"sk-or-v1-notebooktest{uuid.uuid4().hex}"

FIRST_SLICE = {"REFORGE_NOTEBOOK_OPT": "O0"}
SECOND_SLICE = {
    "REFORGE_NOTEBOOK_MODELS": "gpt4o-mini,gpt4o",
    "REFORGE_NOTEBOOK_OPT": ",".join(OPTS),
    "REFORGE_NOTEBOOK_CONTEXT": "L0,L2",
}
FIRST_EXPERIMENT = "bench_gpt4o-mini_gold_O0_L2"
SECOND_EXPERIMENTS = {
    f"bench_{label}_gold_{opt}_{level}": opt
    for label in ("gpt4o-mini", "gpt4o")
    for opt in OPTS
    for level in ("L0", "L2")
}

REGISTERED = re.compile(r"Registered (\d+) experiments with the API \((\d+) new, (\d+) updated\)")
FUNCTION_COUNT = re.compile(r"^\s+GOLD\s+(O\d)\s*:\s+(\d+) functions$", re.MULTILINE)
DRY_RUN = re.compile(
    r"^\s+(\S+): Total: (\d+), New: (\d+), Skipped: (\d+), Errors: (\d+) -> (PASS|FAIL|EMPTY.*)$",
    re.MULTILINE,
)
RUN = re.compile(r"^\s+(\S+): Completed: (\d+), New: (\d+), Errors: (\d+),", re.MULTILINE)
EXPERIMENT_F1 = re.compile(r"^\s+(bench_\S+): Mean token F1: ([0-9.]+|n/a),", re.MULTILINE)
MODEL_F1 = re.compile(r"^\s+([\w.-]+): Mean token F1: ([0-9.]+|nan) \[", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ExecutedNotebook:
    """A notebook after execution: printed text per cell id, and every output's text."""

    stdout: dict[str, str]
    all_text: str

    def cell(self, cell_id: str) -> str:
        """Return what the cell `cell_id` printed to stdout."""
        return self.stdout[cell_id]


@dataclass(frozen=True, slots=True)
class Round:
    """One round: both notebooks executed, and where the figures went."""

    benchmark: ExecutedNotebook
    analysis: ExecutedNotebook
    figures: Path
    model_f1: dict[str, float]
    """Model slug -> mean token F1 in the store when the round ended, read with SQL."""


def _output_text(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join([output.get("ename", ""), output.get("evalue", "")])
    return str(output.get("data", {}).get("text/plain", ""))


def execute_notebook(name: str, workdir: Path) -> ExecutedNotebook:
    """Execute notebooks/`name` in a kernel whose working folder is `workdir`."""
    notebook = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        startup_timeout=120,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    stdout: dict[str, str] = {}
    texts: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = cell.get("outputs", [])
        stdout[cell.id] = "".join(
            output["text"]
            for output in outputs
            if output.get("output_type") == "stream" and output.get("name") == "stdout"
        )
        texts.extend(_output_text(output) for output in outputs)
    return ExecutedNotebook(stdout, "\n".join(texts))


@pytest.fixture(scope="module")
def kernel_env(servers: Servers, jupyter_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """The process environment the kernels inherit: the test stack and a fake key."""
    with pytest.MonkeyPatch.context() as patch:
        for name in (*FOREIGN_ENV, "REFORGE_NOTEBOOK_TIER", "REFORGE_NOTEBOOK_PHASE"):
            patch.delenv(name, raising=False)
        patch.setenv("JUPYTER_PATH", str(jupyter_path))
        patch.setenv("REFORGE_API_URL", servers.api_url)
        patch.setenv("REFORGE_LLM_BASE_URL", servers.llm_base_url)
        patch.setenv("REFORGE_DATA_DIR", str(servers.data_dir))
        patch.setenv("OPENROUTER_API_KEY", SECRET_KEY)
        yield patch


def run_round(
    patch: pytest.MonkeyPatch, servers: Servers, workdir: Path, slice_env: dict[str, str]
) -> Round:
    """Execute the benchmark notebook for a slice, then the analysis notebook."""
    for name in ("REFORGE_NOTEBOOK_MODELS", "REFORGE_NOTEBOOK_OPT", "REFORGE_NOTEBOOK_CONTEXT"):
        patch.delenv(name, raising=False)
    for name, value in slice_env.items():
        patch.setenv(name, value)
    figures = workdir / "figures"
    patch.setenv("REFORGE_NOTEBOOK_OUT", str(figures))
    benchmark = execute_notebook("benchmark.ipynb", workdir)
    analysis = execute_notebook("analysis.ipynb", workdir)
    model_f1 = dict(db_query(servers, MEAN_F1_PER_MODEL))
    return Round(benchmark, analysis, figures, model_f1)


@pytest.fixture(scope="module")
def first_round(
    kernel_env: pytest.MonkeyPatch, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Round:
    """Both notebooks with the benchmark notebook's default slice."""
    return run_round(kernel_env, servers, tmp_path_factory.mktemp("round-1"), FIRST_SLICE)


@pytest.fixture(scope="module")
def second_round(
    first_round: Round,
    kernel_env: pytest.MonkeyPatch,
    servers: Servers,
    tmp_path_factory: pytest.TempPathFactory,
) -> Round:
    """Both notebooks with two models, two opt levels and two context levels."""
    return run_round(kernel_env, servers, tmp_path_factory.mktemp("round-2"), SECOND_SLICE)


# Reference values read from the store with SQL, independently of the API.


def db_query(servers: Servers, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Run one read-only query on the store's SQLite file."""
    with sqlite3.connect(f"file:{servers.database}?mode=ro", uri=True) as connection:
        return connection.execute(sql, params).fetchall()


def gold_function_count(servers: Servers, opt: str) -> int:
    """Count GOLD functions of `opt` that have decompiled code (what the LLM view lists)."""
    rows = db_query(
        servers,
        """
        SELECT COUNT(*) FROM joined_functions AS j
        JOIN builds AS b ON b.id = j.build_id
        JOIN binary_functions AS f ON f.id = j.binary_function_id
        WHERE j.confidence_tier = 'GOLD' AND b.opt = ? AND b.variant = 'nopie'
          AND f.status = 'ok' AND f.c_raw_sha256 IS NOT NULL
        """,
        opt,
    )
    return rows[0][0]


MEAN_F1_SQL = """
SELECT AVG(s.token_f1), COUNT(*) FROM scores AS s
JOIN results AS r ON r.id = s.result_id
JOIN experiments AS e ON e.id = r.experiment_id
WHERE s.outcome = 'answered' AND {column} = ?
"""
MEAN_F1_BY_EXPERIMENT = MEAN_F1_SQL.format(column="r.experiment_id")
MEAN_F1_PER_MODEL = """
SELECT e.model, AVG(s.token_f1) FROM scores AS s
JOIN results AS r ON r.id = s.result_id
JOIN experiments AS e ON e.id = r.experiment_id
WHERE s.outcome = 'answered'
GROUP BY e.model
"""


def db_mean_f1(servers: Servers, sql: str, key: str) -> tuple[float, int]:
    """Return (mean token F1, count) over answered scores of one experiment or one model."""
    mean, count = db_query(servers, sql, key)[0]
    return mean, count


def api_get(servers: Servers, path: str, **params: object) -> Any:
    """GET a JSON document from the test API."""
    response = httpx.get(f"{servers.api_url}{path}", params=params, timeout=60.0)
    response.raise_for_status()
    return response.json()


def registration(notebook: ExecutedNotebook) -> tuple[int, int, int]:
    """Return (registered, created, updated) as the matrix cell printed them."""
    match = REGISTERED.search(notebook.cell("matrix"))
    assert match is not None, notebook.cell("matrix")
    return int(match[1]), int(match[2]), int(match[3])


def printed_runs(notebook: ExecutedNotebook) -> dict[str, tuple[int, int, int]]:
    """Return experiment id -> (completed, new, errors) as the execution cell printed them."""
    return {
        match[1]: (int(match[2]), int(match[3]), int(match[4]))
        for match in RUN.finditer(notebook.cell("execute"))
    }


def test_store_has_gold_functions(servers: Servers) -> None:
    for opt in OPTS:
        assert gold_function_count(servers, opt) > 0, opt


def test_benchmark_output_never_shows_key(first_round: Round, second_round: Round) -> None:
    for notebook in (first_round.benchmark, second_round.benchmark):
        assert "OPENROUTER_API_KEY:   set" in notebook.cell("setup")
        assert SECRET_KEY not in notebook.all_text
        assert SECRET_KEY[-8:] not in notebook.all_text


def test_benchmark_registers_default_slice(first_round: Round) -> None:
    matrix = first_round.benchmark.cell("matrix")
    assert "Benchmark matrix: 1 experiments" in matrix
    assert FIRST_EXPERIMENT in matrix
    assert registration(first_round.benchmark) == (1, 1, 0)


def test_benchmark_budget_counts_store_functions(first_round: Round, servers: Servers) -> None:
    counts = dict(FUNCTION_COUNT.findall(first_round.benchmark.cell("budget")))
    assert counts == {"O0": str(gold_function_count(servers, "O0"))}
    assert f"Total LLM calls:     {gold_function_count(servers, 'O0')}" in (
        first_round.benchmark.cell("budget")
    )


def test_benchmark_dry_run_covers_every_function(first_round: Round, servers: Servers) -> None:
    dry_runs = DRY_RUN.findall(first_round.benchmark.cell("dry-run"))
    expected = gold_function_count(servers, "O0")
    assert dry_runs == [(FIRST_EXPERIMENT, str(expected), str(expected), "0", "0", "PASS")]


def test_benchmark_dry_run_shows_l2_prompt(first_round: Round) -> None:
    preview = first_round.benchmark.cell("preview")
    assert "RENDERED PROMPT (L2)" in preview
    assert "```c" in preview
    assert "FUN_" in preview


def test_benchmark_run_matches_stored_results(first_round: Round, servers: Servers) -> None:
    runs = printed_runs(first_round.benchmark)
    completed, new, errors = runs[FIRST_EXPERIMENT]
    results = api_get(servers, f"/results/{FIRST_EXPERIMENT}")
    assert list(runs) == [FIRST_EXPERIMENT]
    assert errors == 0
    assert completed == gold_function_count(servers, "O0")
    assert new == len(results)
    assert completed == sum(result["status"] == "ok" for result in results)


def test_benchmark_f1_matches_scores(first_round: Round, servers: Servers) -> None:
    printed = dict(EXPERIMENT_F1.findall(first_round.benchmark.cell("score")))
    summary = api_get(servers, f"/results/{FIRST_EXPERIMENT}/scores")["summary"]
    db_f1, db_answered = db_mean_f1(servers, MEAN_F1_BY_EXPERIMENT, FIRST_EXPERIMENT)
    assert db_answered == summary["answered"]
    assert float(printed[FIRST_EXPERIMENT]) == pytest.approx(summary["mean_token_f1"], abs=5e-5)
    assert float(printed[FIRST_EXPERIMENT]) == pytest.approx(db_f1, abs=5e-5)


def test_analysis_one_model_writes_figures(first_round: Round) -> None:
    written = {path.name for path in first_round.figures.glob("*.png")}
    assert written == FIGURES
    for name in FIGURES:
        assert (first_round.figures / name).read_bytes()[:8] == PNG_MAGIC, name
    ranking = dict(MODEL_F1.findall(first_round.analysis.cell("ranking")))
    assert list(ranking) == ["gpt4o-mini"]
    assert float(ranking["gpt4o-mini"]) == pytest.approx(
        first_round.model_f1["openai/gpt-4o-mini"], abs=5e-5
    )
    assert "no paired tests" in first_round.analysis.cell("ladder")


def test_second_round_registers_and_resumes(second_round: Round, servers: Servers) -> None:
    benchmark = second_round.benchmark
    # The first round's experiment is registered again unchanged: its config is
    # the same and its "completed" status survives, so nothing counts as updated.
    assert registration(benchmark) == (8, 7, 0)
    runs = printed_runs(benchmark)
    assert set(runs) == set(SECOND_EXPERIMENTS)
    for experiment, opt in SECOND_EXPERIMENTS.items():
        completed, new, errors = runs[experiment]
        results = api_get(servers, f"/results/{experiment}")
        expected_new = 0 if experiment == FIRST_EXPERIMENT else len(results)
        assert (completed, new, errors) == (
            gold_function_count(servers, opt),
            expected_new,
            0,
        ), experiment
        assert completed == sum(result["status"] == "ok" for result in results), experiment


def test_second_round_f1_matches_scores(second_round: Round, servers: Servers) -> None:
    printed = dict(EXPERIMENT_F1.findall(second_round.benchmark.cell("score")))
    assert set(printed) == set(SECOND_EXPERIMENTS)
    for experiment, value in printed.items():
        summary = api_get(servers, f"/results/{experiment}/scores")["summary"]
        assert float(value) == pytest.approx(summary["mean_token_f1"], abs=5e-5), experiment


def test_second_round_analysis_pairs_levels(second_round: Round) -> None:
    ranking = dict(MODEL_F1.findall(second_round.analysis.cell("ranking")))
    assert set(ranking) == {"gpt4o-mini", "gpt4o"}
    for label, slug in (("gpt4o-mini", "openai/gpt-4o-mini"), ("gpt4o", "openai/gpt-4o")):
        expected = second_round.model_f1[slug]
        assert float(ranking[label]) == pytest.approx(expected, abs=5e-5), label
    ladder = second_round.analysis.cell("ladder")
    assert ladder.count("L0->L2") == 2
    heatmap = second_round.analysis.cell("heatmap")
    assert "O0" in heatmap
    assert "O2" in heatmap
    assert {path.name for path in second_round.figures.glob("*.png")} == FIGURES


def test_notebooks_have_no_stored_outputs() -> None:
    for name in ("benchmark.ipynb", "analysis.ipynb"):
        notebook = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
        nbformat.validate(notebook)
        assert notebook.nbformat == 4
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], (name, cell.id)
                assert cell.execution_count is None, (name, cell.id)


def test_notebooks_read_settings_from_environment() -> None:
    for name in ("benchmark.ipynb", "analysis.ipynb"):
        source = "\n".join(
            cell.source for cell in nbformat.read(NOTEBOOK_DIR / name, as_version=4).cells
        )
        assert 'os.environ.get("REFORGE_API_URL", "http://127.0.0.1:8080")' in source
        assert "sys.path" not in source
        assert "sk-" not in source
