"""Evaluation statistics and presentation: bootstrap intervals, paired differences, cost per
decision, result tables (CSV / Markdown / LaTeX), figures (PNG) and the episode viewer (HTML).

Everything here is a pure function of evaluated `Episode` records or of the metrics dicts built
from them; running agents is the evaluation runner's job.
"""

from pnlc.evaluation.cost import COST_FIELDS, DecisionTraceError, cost_per_decision
from pnlc.evaluation.figures import (
    plot_calibration,
    plot_cost_vs_performance,
    plot_paired_differences,
    plot_task_metrics,
)
from pnlc.evaluation.labels import METHOD_ORDER, method_label, order_methods
from pnlc.evaluation.metrics import (
    ENV_ORDER,
    METRICS_SCHEMA,
    TASK_METRICS,
    ComparisonConfig,
    MetricsError,
    MetricSpec,
    compare_methods,
    group_by_method,
    read_metrics_json,
    summarize_method,
    write_metrics_json,
)
from pnlc.evaluation.paper import PAPER_ROWS, comparison_table, paper_value
from pnlc.evaluation.stats import PairingError, bootstrap_ci, paired_difference
from pnlc.evaluation.tables import Table, cost_table, differences_table, main_table, write_table
from pnlc.evaluation.viewer import render_viewer, write_viewer

__all__ = [
    "COST_FIELDS",
    "ComparisonConfig",
    "ENV_ORDER",
    "METHOD_ORDER",
    "METRICS_SCHEMA",
    "PAPER_ROWS",
    "TASK_METRICS",
    "DecisionTraceError",
    "MetricSpec",
    "MetricsError",
    "PairingError",
    "Table",
    "bootstrap_ci",
    "compare_methods",
    "comparison_table",
    "cost_per_decision",
    "cost_table",
    "differences_table",
    "group_by_method",
    "main_table",
    "method_label",
    "order_methods",
    "paired_difference",
    "paper_value",
    "plot_calibration",
    "plot_cost_vs_performance",
    "plot_paired_differences",
    "plot_task_metrics",
    "read_metrics_json",
    "render_viewer",
    "summarize_method",
    "write_metrics_json",
    "write_table",
    "write_viewer",
]
