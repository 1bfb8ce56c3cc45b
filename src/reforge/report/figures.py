"""Report figures: PNG plots of the aggregates, each with a caption that states its n.

Plots use matplotlib's object-oriented API on the Agg canvas, never pyplot,
so no display is needed and no global figure state is shared between
threads of the API server. Each plotting function writes one PNG into
`out_dir` and returns a `Figure` describing it, or None when there is
nothing to plot (for example no model results)::

    figure = funnel_figure(load_funnel_frame(session), out_dir)
    figure.path, figure.caption, figure.n_functions
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from reforge.join.tiers import GOLD_GATES
from reforge.report.aggregate import transition_matrix
from reforge.report.analysis import Analysis
from reforge.report.frame import FUNNEL_STAGES, OPT_LEVELS, opt_sort_key
from reforge.report.paired import PairedAnalysis
from reforge.report.stats import DEFAULT_BOOTSTRAP_SEED, bootstrap_ci

DPI = 110
MODEL_COLOUR = "#3b6ea8"
GOLD_COLOUR = "#d9a21b"
BASELINE_COLOUR = "#9a9a9a"
BASELINE_HATCH = "//"
FAILURE_COLOURS = {"answered": "#4c9a5b", "parse_failure": "#e0a030", "provider_failure": "#c0392b"}

STAGE_LABELS = {
    "with_range": "has code range",
    "dwarf_verdict": "DWARF verdict ACCEPT",
    "source_alignment": "unique source match",
    "join_strength": "strong join",
    "decompiled": "decompiled",
    "noise": "not thunk/PLT/CRT",
    "cfg_completeness": "CFG not LOW",
    "fatal_warning": "no fatal warning",
    "gold": "GOLD tier",
}
BOOTSTRAP_NOTE = (
    f"percentile-bootstrap 95% intervals (2000 resamples, seed {DEFAULT_BOOTSTRAP_SEED})"
)


@dataclass(frozen=True, slots=True)
class Figure:
    """One PNG figure of the report."""

    name: str
    """File stem, also the anchor in the HTML report."""
    title: str
    path: Path
    """The PNG file."""
    caption: str
    """Description of the plot and of its functions and models; always contains ``n = ``."""
    n_functions: int
    """Functions (or stable keys, for cohort figures) the figure is based on."""


def new_figure(
    width: float, height: float, *, nrows: int = 1, ncols: int = 1
) -> tuple[MplFigure, np.ndarray]:
    """Create a figure on the Agg canvas and a 2-D array of its axes."""
    figure = MplFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=False)
    return figure, axes


def png_bytes(figure: MplFigure) -> bytes:
    """Render a figure to PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _save(figure: MplFigure, out_dir: Path, name: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    path.write_bytes(png_bytes(figure))
    return path


def model_display_label(label: str, is_baseline: bool) -> str:
    """Return a model's label for plots, marking offline baselines as such."""
    if is_baseline and "baseline" not in label.lower():
        return f"{label} (baseline)"
    return label


def _error_bars(means: Sequence[float], lows: Sequence[float], highs: Sequence[float]) -> Any:
    """Return matplotlib's 2 x n error array; a missing bound draws no bar.

    Lengths are clipped at zero because a bootstrap bound of a constant sample
    can differ from the mean by a rounding error in either direction.
    """
    below = [_length(mean, low) for mean, low in zip(means, lows, strict=True)]
    above = [_length(high, mean) for mean, high in zip(means, highs, strict=True)]
    return np.array([below, above])


def _length(upper: float, lower: float) -> float:
    if math.isnan(upper) or math.isnan(lower):
        return 0.0
    return max(0.0, upper - lower)


def _style_baselines(bars: Any, baselines: Sequence[bool], *, recolour: bool = True) -> None:
    """Hatch the bars of baselines, and grey them unless `recolour` is False."""
    for bar, baseline in zip(bars, baselines, strict=True):
        if baseline:
            if recolour:
                bar.set_facecolor(BASELINE_COLOUR)
            bar.set_hatch(BASELINE_HATCH)
            bar.set_edgecolor("#555555")


def _nan_to_zero(values: Sequence[float]) -> list[float]:
    return [0.0 if value is None or math.isnan(value) else float(value) for value in values]


# Confidence funnel


def funnel_figure(funnel: pd.DataFrame, out_dir: Path) -> Figure | None:
    """Plot per opt level how many DWARF functions pass each GOLD gate in order."""
    if funnel.empty or int(funnel["with_range"].sum()) == 0:
        return None
    stages = [*FUNNEL_STAGES, "gold"]
    levels = sorted(funnel["opt"], key=opt_sort_key)
    figure, axes = new_figure(9.0, 4.6)
    ax = axes[0, 0]
    positions = np.arange(len(stages))
    width = 0.8 / len(levels)
    colours = ["#3b6ea8", "#5f9ed1", "#e59c3c", "#c0392b", "#6d6d6d"]
    for index, level in enumerate(levels):
        row = funnel[funnel["opt"] == level].iloc[0]
        values = [int(row[stage]) for stage in stages]
        offset = (index - (len(levels) - 1) / 2) * width
        ax.bar(positions + offset, values, width, label=level, color=colours[index % len(colours)])
    ax.set_xticks(positions, [STAGE_LABELS[stage] for stage in stages], rotation=30, ha="right")
    ax.set_ylabel("DWARF functions")
    ax.set_title("Confidence funnel: functions passing each GOLD gate")
    ax.legend(title="opt level")
    path = _save(figure, out_dir, "funnel")

    total = int(funnel["with_range"].sum())
    gold = int(funnel["gold"].sum())
    caption = (
        "Confidence funnel: for each opt level, the DWARF functions with a code range and how "
        f"many pass each GOLD gate together with every gate before it ({', '.join(GOLD_GATES)}); "
        f"the last bar is the GOLD tier. n = {total} functions with a range over "
        f"{len(levels)} opt levels ({', '.join(levels)}), {gold} of them GOLD."
    )
    return Figure("funnel", "Confidence funnel", path, caption, total)


# Model ranking


def ranking_figure(
    ranking: pd.DataFrame, gold_ranking: pd.DataFrame, out_dir: Path, *, n_functions: int
) -> Figure | None:
    """Plot mean token F1 and exact-match rate per model, all tiers and GOLD only, with CIs."""
    plotted = ranking[ranking["n_answered"] > 0].reset_index(drop=True)
    if plotted.empty:
        return None
    gold = gold_ranking.set_index("model").reindex(plotted["model"])
    labels = [
        model_display_label(label, baseline)
        for label, baseline in zip(plotted["model_label"], plotted["is_baseline"], strict=True)
    ]
    baselines = plotted["is_baseline"].tolist()
    positions = np.arange(len(plotted))[::-1]
    figure, axes = new_figure(10.0, 1.2 + 0.45 * len(plotted), ncols=2)
    panels = (
        ("mean_token_f1", "token_f1_ci_low", "token_f1_ci_high", "mean token F1"),
        ("exact_match_rate", "exact_match_ci_low", "exact_match_ci_high", "exact-match rate"),
    )
    for ax, (mean, low, high, title) in zip(axes[0], panels, strict=True):
        bars = ax.barh(
            positions + 0.2,
            _nan_to_zero(plotted[mean]),
            0.4,
            xerr=_error_bars(plotted[mean], plotted[low], plotted[high]),
            color=MODEL_COLOUR,
            label="all tiers",
            capsize=2,
        )
        _style_baselines(bars, baselines)
        gold_bars = ax.barh(
            positions - 0.2,
            _nan_to_zero(gold[mean].tolist()),
            0.4,
            xerr=_error_bars(gold[mean].tolist(), gold[low].tolist(), gold[high].tolist()),
            color=GOLD_COLOUR,
            label="GOLD only",
            capsize=2,
        )
        _style_baselines(gold_bars, baselines, recolour=False)
        ax.set_yticks(positions, labels)
        ax.set_xlim(0, 1)
        ax.set_xlabel(title)
        ax.set_title(title)
    axes[0, 0].legend(loc="lower right", fontsize="small")
    path = _save(figure, out_dir, "model_ranking")

    n_answered = int(plotted["n_answered"].sum())
    n_gold = int(gold["n_answered"].fillna(0).sum())
    caption = (
        "Model ranking: mean token F1 (left) and exact-match rate (right) over answered "
        f"results, with {BOOTSTRAP_NOTE}; blue bars cover all tiers, yellow bars GOLD "
        "functions only, and hatched bars (grey for all tiers) are offline baselines. "
        f"n = {n_answered} answered results on {n_functions} functions across {len(plotted)} "
        f"models (GOLD only: n = {n_gold} answered results). Parse and provider failures are "
        "counted in the ranking table and do not enter the means."
    )
    return Figure("model_ranking", "Model ranking", path, caption, n_functions)


# Model x opt heatmap


def heatmap_figure(
    matrix: pd.DataFrame, opt_summary: pd.DataFrame, out_dir: Path, *, n_functions: int
) -> Figure | None:
    """Plot mean token F1 for every model and opt level as an annotated heatmap."""
    if matrix.empty or matrix.notna().sum().sum() == 0:
        return None
    counts = opt_summary.pivot_table(
        index="model_label", columns="opt", values="n_answered", aggfunc="sum"
    ).reindex(index=matrix.index, columns=matrix.columns)
    baseline = dict(zip(opt_summary["model_label"], opt_summary["is_baseline"], strict=False))
    figure, axes = new_figure(1.8 + 1.2 * len(matrix.columns), 1.2 + 0.45 * len(matrix))
    ax = axes[0, 0]
    image = ax.imshow(matrix.to_numpy(dtype=float), vmin=0.0, vmax=1.0, cmap="viridis")
    for row, model in enumerate(matrix.index):
        for column, opt in enumerate(matrix.columns):
            value = matrix.loc[model, opt]
            if pd.isna(value):
                continue
            count = counts.loc[model, opt]
            colour = "black" if value > 0.6 else "white"
            text = f"{value:.2f}\nn={int(count) if pd.notna(count) else 0}"
            ax.text(column, row, text, ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(len(matrix.columns)), list(matrix.columns))
    ax.set_yticks(
        range(len(matrix)),
        [model_display_label(label, bool(baseline.get(label))) for label in matrix.index],
    )
    ax.set_xlabel("opt level of the function's build")
    figure.colorbar(image, ax=ax, label="mean token F1")
    path = _save(figure, out_dir, "model_opt_heatmap")

    n_answered = int(opt_summary["n_answered"].sum())
    caption = (
        "Mean token F1 per model and opt level, over answered results; each cell shows the "
        f"mean and its number of answered results. n = {n_answered} answered results on "
        f"{n_functions} functions across {len(matrix)} models and {len(matrix.columns)} opt "
        "levels. Cells of different levels hold different functions; the paired O0 to O3 "
        "figure compares the same functions."
    )
    return Figure("model_opt_heatmap", "Model x opt level", path, caption, n_functions)


# Paired deltas


@dataclass(frozen=True, slots=True)
class _Delta:
    """Mean paired difference of one model's cohort, with its bootstrap interval."""

    model: str
    pairs: int
    mean: float
    low: float
    high: float


def _delta(model: str, differences: pd.Series) -> _Delta:
    values = differences.to_numpy(dtype=float)
    mean, low, high = bootstrap_ci(values)
    return _Delta(model, int(values.size), mean, low, high)


def _model_labels(models: Sequence[str], ranking: pd.DataFrame) -> tuple[list[str], list[bool]]:
    """Return the plot labels of `models` and whether each is a baseline."""
    identity = ranking.set_index("model")
    labels, baselines = [], []
    for model in models:
        known = model in identity.index
        label = str(identity.loc[model, "model_label"]) if known else model
        baseline = bool(identity.loc[model, "is_baseline"]) if known else False
        labels.append(model_display_label(label, baseline))
        baselines.append(baseline)
    return labels, baselines


def _p_label(tests: pd.DataFrame, test: str, model: str, comparison: str) -> str:
    match = tests[
        (tests["test"] == test) & (tests["model"] == model) & (tests["comparison"] == comparison)
    ]
    if match.empty or pd.isna(match["p_holm"].iloc[0]):
        return "p n/a"
    row = match.iloc[0]
    return f"p_Holm={row['p_holm']:.3g}, r={row['effect_size']:.2f}"


def opt_delta_figure(paired: PairedAnalysis, ranking: pd.DataFrame, out_dir: Path) -> Figure | None:
    """Plot per model the paired change in token F1 from O0 to O3 on its stable-key cohort."""
    low, high = OPT_LEVELS[0], OPT_LEVELS[-1]
    deltas = [
        _delta(model, cohort[high] - cohort[low])
        for model, cohort in paired.opt_cohorts.items()
        if not cohort.empty and low in cohort.columns and high in cohort.columns
    ]
    if not deltas:
        return None

    labels, baselines = _model_labels([delta.model for delta in deltas], ranking)
    figure, axes = new_figure(8.0, 1.4 + 0.5 * len(deltas))
    ax = axes[0, 0]
    positions = np.arange(len(deltas))[::-1]
    means = [delta.mean for delta in deltas]
    bars = ax.barh(
        positions,
        _nan_to_zero(means),
        0.6,
        xerr=_error_bars(means, [d.low for d in deltas], [d.high for d in deltas]),
        color=MODEL_COLOUR,
        capsize=3,
    )
    _style_baselines(bars, baselines)
    comparison = f"{low} > {high}"
    for position, delta in zip(positions, deltas, strict=True):
        text = f"n={delta.pairs}, {_p_label(paired.tests, 'wilcoxon_opt', delta.model, comparison)}"
        ax.annotate(text, (0, position), xytext=(4, 10), textcoords="offset points", fontsize=7)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(positions, labels)
    ax.set_xlabel(f"F1({high}) - F1({low}), mean over the cohort")
    ax.set_title(f"Paired change in token F1 from {low} to {high}")
    path = _save(figure, out_dir, "opt_deltas")

    keys = set().union(*(set(paired.opt_cohorts[delta.model].index) for delta in deltas))
    pairs = sum(delta.pairs for delta in deltas)
    caption = (
        f"Paired change in mean token F1 from {low} to {high} per model, F1({high}) - "
        f"F1({low}), on each model's cohort: the stable keys it answered at every opt level "
        f"it was run at, under the same prompt condition. Bars are means with {BOOTSTRAP_NOTE}. "
        f"Labels give the cohort size, the one-sided Wilcoxon signed-rank p-value "
        f"(H1: {low} scores higher) adjusted by Holm over models, and the rank-biserial r. "
        f"n = {len(keys)} stable keys ({pairs} model x key pairs) across {len(deltas)} models."
    )
    return Figure("opt_deltas", f"Paired {low} to {high} deltas", path, caption, len(keys))


def ladder_figure(paired: PairedAnalysis, ranking: pd.DataFrame, out_dir: Path) -> Figure | None:
    """Plot per model the paired change in token F1 for each context-level step."""
    deltas = {
        (model, low, high): _delta(model, cohort[high] - cohort[low])
        for (model, low, high), cohort in paired.ladder_cohorts.items()
        if not cohort.empty
    }
    if not deltas:
        return None

    models = sorted({model for model, _, _ in deltas})
    steps = sorted({(low, high) for _, low, high in deltas})
    labels, _ = _model_labels(models, ranking)
    figure, axes = new_figure(8.0, 1.6 + 0.6 * len(models))
    ax = axes[0, 0]
    height = 0.8 / len(steps)
    positions = np.arange(len(models))[::-1]
    colours = ["#3b6ea8", "#e59c3c", "#4c9a5b"]
    missing = _Delta("", 0, math.nan, math.nan, math.nan)
    for index, (low, high) in enumerate(steps):
        step = [deltas.get((model, low, high), missing) for model in models]
        means = [delta.mean for delta in step]
        ax.barh(
            positions + ((len(steps) - 1) / 2 - index) * height,
            _nan_to_zero(means),
            height,
            xerr=_error_bars(means, [d.low for d in step], [d.high for d in step]),
            color=colours[index % len(colours)],
            label=f"F1({high}) - F1({low})",
            capsize=3,
        )
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(positions, labels)
    ax.set_xlabel("paired change in mean token F1")
    ax.set_title("Context ladder L0 -> L1 -> L2")
    ax.legend(fontsize="small")
    path = _save(figure, out_dir, "context_ladder")

    functions = set().union(*(set(paired.ladder_cohorts[key].index) for key in deltas))
    sizes = ", ".join(
        f"{model} {low}->{high}: n={delta.pairs}"
        for (model, low, high), delta in sorted(deltas.items())
    )
    caption = (
        "Context ladder: paired change in mean token F1 per model when the prompt adds calls "
        "(L0 to L1) and then CFG and variables (L1 to L2), on the functions the model answered "
        f"at both levels with the same opt level, metadata mode and top-k. Bars are means with "
        f"{BOOTSTRAP_NOTE}. n = {len(functions)} functions across {len(models)} models "
        f"({sizes})."
    )
    return Figure("context_ladder", "Context ladder", path, caption, len(functions))


# Tier transitions


def tier_transition_figure(transitions: pd.DataFrame, out_dir: Path) -> Figure | None:
    """Plot the tier of each stable key at O0 against its tier at the highest other level."""
    if transitions.empty:
        return None
    target = max(transitions["to_opt"], key=opt_sort_key)
    source = transitions["from_opt"].iloc[0]
    pair = transitions[transitions["to_opt"] == target]
    matrix = transition_matrix(pair)
    figure, axes = new_figure(6.2, 5.0)
    ax = axes[0, 0]
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="Blues")
    peak = values.max() if values.size else 0.0
    for row in range(values.shape[0]):
        for column in range(values.shape[1]):
            count = int(values[row, column])
            colour = "white" if peak and count > peak / 2 else "black"
            ax.text(column, row, str(count), ha="center", va="center", fontsize=9, color=colour)
    ax.set_xticks(range(len(matrix.columns)), list(matrix.columns))
    ax.set_yticks(range(len(matrix.index)), list(matrix.index))
    ax.set_xlabel(f"tier at {target}")
    ax.set_ylabel(f"tier at {source}")
    ax.set_title(f"Tier transitions {source} -> {target}")
    figure.colorbar(image, ax=ax, label="stable keys")
    path = _save(figure, out_dir, "tier_transitions")

    total = int(pair["stable_keys"].sum())
    caption = (
        f"Tier transitions of source functions (stable keys) from {source} (rows) to {target} "
        "(columns), in programs built at both levels; 'absent' means no DWARF function with "
        "that key exists at that level (inlined everywhere or removed), 'none' a function "
        f"without a tier. n = {total} stable keys."
    )
    return Figure(
        "tier_transitions", f"Tier transitions {source} to {target}", path, caption, total
    )


# Top-k uplift


def topk_figure(topk: pd.DataFrame, out_dir: Path, *, n_functions: int) -> Figure | None:
    """Plot rank-1 token F1 against the best F1 among the top-k candidates per model."""
    if topk.empty:
        return None
    labels = [
        f"{model_display_label(label, baseline)} (k={k})"
        for label, baseline, k in zip(
            topk["model_label"], topk["is_baseline"], topk["top_k"], strict=True
        )
    ]
    figure, axes = new_figure(8.0, 1.4 + 0.5 * len(topk))
    ax = axes[0, 0]
    positions = np.arange(len(topk))[::-1]
    ax.barh(positions + 0.2, topk["mean_token_f1"], 0.4, color=MODEL_COLOUR, label="rank 1")
    ax.barh(positions - 0.2, topk["mean_topk_best_f1"], 0.4, color=GOLD_COLOUR, label="best of k")
    ax.set_yticks(positions, labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean token F1")
    ax.set_title("Top-k uplift")
    ax.legend(fontsize="small")
    path = _save(figure, out_dir, "topk_uplift")

    n_answered = int(topk["n_answered"].sum())
    caption = (
        "Top-k uplift: mean token F1 of the rank-1 name and of the best of the k ranked "
        "candidates, on answered results that returned candidates. "
        f"n = {n_answered} answered results on {n_functions} functions across "
        f"{topk['model'].nunique()} models."
    )
    return Figure("topk_uplift", "Top-k uplift", path, caption, n_functions)


# Cost and tokens


def cost_figure(ranking: pd.DataFrame, out_dir: Path, *, n_functions: int) -> Figure | None:
    """Plot cost, mean tokens per result and token F1 per dollar for every model."""
    plotted = ranking[ranking["n_results"] > 0].reset_index(drop=True)
    if plotted.empty:
        return None
    labels = [
        model_display_label(label, baseline)
        for label, baseline in zip(plotted["model_label"], plotted["is_baseline"], strict=True)
    ]
    baselines = plotted["is_baseline"].tolist()
    positions = np.arange(len(plotted))[::-1]
    figure, axes = new_figure(12.0, 1.4 + 0.45 * len(plotted), ncols=3)

    bars = axes[0, 0].barh(positions, plotted["cost_usd"], 0.6, color=MODEL_COLOUR)
    _style_baselines(bars, baselines)
    axes[0, 0].set_xlabel("cost (USD)")
    axes[0, 0].set_yticks(positions, labels)

    per_result_in = plotted["input_tokens"] / plotted["n_results"]
    per_result_out = plotted["output_tokens"] / plotted["n_results"]
    axes[0, 1].barh(positions, per_result_in, 0.6, color="#5f9ed1", label="input")
    axes[0, 1].barh(
        positions, per_result_out, 0.6, left=per_result_in, color="#e59c3c", label="output"
    )
    axes[0, 1].set_xlabel("mean tokens per result")
    axes[0, 1].set_yticks(positions, [""] * len(positions))
    axes[0, 1].legend(fontsize="small")

    per_dollar = plotted["f1_per_dollar"].tolist()
    bars = axes[0, 2].barh(positions, _nan_to_zero(per_dollar), 0.6, color=MODEL_COLOUR)
    _style_baselines(bars, baselines)
    for position, value in zip(positions, per_dollar, strict=True):
        if math.isnan(value):
            axes[0, 2].annotate(
                "no cost", (0, position), xytext=(3, -3), textcoords="offset points", fontsize=7
            )
    axes[0, 2].set_xlabel("sum of token F1 per USD")
    axes[0, 2].set_yticks(positions, [""] * len(positions))
    path = _save(figure, out_dir, "cost")

    n_results = int(plotted["n_results"].sum())
    caption = (
        "Cost per model in USD (left), mean input and output tokens per result (middle) and "
        "token F1 per dollar, the sum of token F1 over answered results divided by the cost "
        "(right; 'no cost' for models that spent nothing, such as baselines). Costs and "
        f"tokens include failed calls. n = {n_results} results on {n_functions} functions "
        f"across {len(plotted)} models."
    )
    return Figure("cost", "Cost and tokens", path, caption, n_functions)


# Outcomes


def outcome_figure(ranking: pd.DataFrame, out_dir: Path, *, n_functions: int) -> Figure | None:
    """Plot per model how many results were answered, unparseable or provider failures."""
    plotted = ranking[ranking["n_results"] > 0].reset_index(drop=True)
    if plotted.empty:
        return None
    labels = [
        model_display_label(label, baseline)
        for label, baseline in zip(plotted["model_label"], plotted["is_baseline"], strict=True)
    ]
    positions = np.arange(len(plotted))[::-1]
    figure, axes = new_figure(8.0, 1.4 + 0.45 * len(plotted))
    ax = axes[0, 0]
    left = np.zeros(len(plotted))
    for column, outcome in (
        ("n_answered", "answered"),
        ("n_parse_failures", "parse_failure"),
        ("n_provider_failures", "provider_failure"),
    ):
        values = plotted[column].to_numpy(dtype=float)
        ax.barh(positions, values, 0.6, left=left, color=FAILURE_COLOURS[outcome], label=outcome)
        left += values
    ax.set_yticks(positions, labels)
    ax.set_xlabel("results")
    ax.set_title("Outcomes per model")
    ax.legend(fontsize="small")
    path = _save(figure, out_dir, "outcomes")

    caption = (
        "Outcome of every result per model: answered, reply not parseable (parse_failure) and "
        "provider call failed (provider_failure). Only answered results enter the F1 means. "
        f"n = {int(plotted['n_results'].sum())} results on {n_functions} functions across "
        f"{len(plotted)} models."
    )
    return Figure("outcomes", "Outcomes per model", path, caption, n_functions)


# Experiment page


def f1_histogram_png(token_f1: Sequence[float], title: str) -> bytes:
    """Return a PNG histogram of token F1 values in ten bins over [0, 1]."""
    figure, axes = new_figure(6.0, 3.4)
    ax = axes[0, 0]
    ax.hist(list(token_f1), bins=np.linspace(0.0, 1.0, 11), color=MODEL_COLOUR, edgecolor="white")
    ax.set_xlabel("token F1")
    ax.set_ylabel("answered results")
    ax.set_title(title)
    return png_bytes(figure)


# The whole set

FIGURE_NAMES = (
    "funnel",
    "model_ranking",
    "outcomes",
    "model_opt_heatmap",
    "opt_deltas",
    "context_ladder",
    "tier_transitions",
    "topk_uplift",
    "cost",
)


def write_report_figures(analysis: Analysis, out_dir: Path) -> list[Figure]:
    """Write every figure the data allows into `out_dir`, in report order.

    PNG files of the report's figure names left from an earlier report are
    removed first, so a figure that has no data this time does not linger.
    """
    for name in FIGURE_NAMES:
        (out_dir / f"{name}.png").unlink(missing_ok=True)

    scores = analysis.scores
    n_functions = analysis.n_functions
    topk_rows = scores[scores["answered"] & scores["topk_best_f1"].notna()]
    candidates = (
        funnel_figure(analysis.funnel, out_dir),
        ranking_figure(analysis.ranking, analysis.gold_ranking, out_dir, n_functions=n_functions),
        outcome_figure(analysis.ranking, out_dir, n_functions=n_functions),
        heatmap_figure(analysis.opt_matrix, analysis.opt_summary, out_dir, n_functions=n_functions),
        opt_delta_figure(analysis.paired, analysis.ranking, out_dir),
        ladder_figure(analysis.paired, analysis.ranking, out_dir),
        tier_transition_figure(analysis.transitions, out_dir),
        topk_figure(analysis.topk, out_dir, n_functions=int(topk_rows["function_uid"].nunique())),
        cost_figure(analysis.ranking, out_dir, n_functions=n_functions),
    )
    return [figure for figure in candidates if figure is not None]
