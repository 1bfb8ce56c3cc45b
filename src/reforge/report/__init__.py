"""Report: aggregate scored results into statistics, tables and figures."""

from reforge.report.analysis import Analysis, analyse
from reforge.report.build import report_summary, write_report
from reforge.report.experiment_page import render_experiment_report
from reforge.report.figures import Figure, write_report_figures
from reforge.report.frame import load_funnel_frame, load_score_frame, load_tier_frame
from reforge.report.paired import PairedAnalysis, analyse_pairs
from reforge.report.tables import Table, write_report_tables, write_table

__all__ = [
    "Analysis",
    "Figure",
    "PairedAnalysis",
    "Table",
    "analyse",
    "analyse_pairs",
    "load_funnel_frame",
    "load_score_frame",
    "load_tier_frame",
    "render_experiment_report",
    "report_summary",
    "write_report",
    "write_report_figures",
    "write_report_tables",
    "write_table",
]
