"""Writing one table as CSV, LaTeX and HTML."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from reforge.report.tables import frame_to_html, latex_escape, write_table


def test_latex_escape_specials() -> None:
    assert latex_escape("mean_token_f1") == r"mean\_token\_f1"
    assert latex_escape("50% & $5 #1") == r"50\% \& \$5 \#1"
    assert latex_escape("a{b}~c^d\\e") == r"a\{b\}\textasciitilde{}c\^{}d\textbackslash{}e"


def test_write_table_files(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"model_label": ["gpt4o_mini", "other"], "mean_token_f1": [0.123456, math.nan]}
    )
    table = write_table(
        frame, tmp_path / "tables", "demo_table", title="Demo", caption="F1 of 50% rows"
    )

    reread = pd.read_csv(table.csv_path)
    assert reread["mean_token_f1"].iloc[0] == 0.123456
    assert math.isnan(reread["mean_token_f1"].iloc[1])
    tex = table.tex_path.read_text()
    assert r"gpt4o\_mini & 0.123 \\" in tex
    assert r"other & -- \\" in tex
    assert r"\caption{Demo. F1 of 50\% rows}" in tex
    assert r"\label{tab:demo-table}" in tex


def test_html_rounds_and_dashes() -> None:
    frame = pd.DataFrame({"name": ["<b>"], "value": [0.98765], "missing": [math.nan]})
    html = frame_to_html(frame)

    assert "<td>0.988</td>" in html
    assert "<td>–</td>" in html
    assert "&lt;b&gt;" in html
    assert frame_to_html(frame.iloc[0:0]) == '<p class="empty">No rows.</p>'
