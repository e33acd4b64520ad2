"""Evaluation beyond one number: metrics, bootstrap CIs, slices, behavioural cases, report.

Everything here is a pure function of arrays except ``write_report``. Importing the
package does no work: matplotlib, jinja2 and scikit-learn are imported where used.
"""

from tagwise.evaluate.behavioural import (
    BehaviouralCase,
    BehaviouralResult,
    load_cases,
    run_cases,
)
from tagwise.evaluate.bootstrap import bootstrap_ci
from tagwise.evaluate.metrics import (
    MULTILABEL_METRIC_NAMES,
    confusion_counts,
    micro_pr_curve,
    multilabel_metrics,
    per_tag_table,
    single_label_metrics,
    threshold_curve,
)
from tagwise.evaluate.report import ReportData, render_report, write_report
from tagwise.evaluate.slices import default_slices, slice_table

__all__ = [
    "MULTILABEL_METRIC_NAMES",
    "BehaviouralCase",
    "BehaviouralResult",
    "ReportData",
    "bootstrap_ci",
    "confusion_counts",
    "default_slices",
    "load_cases",
    "micro_pr_curve",
    "multilabel_metrics",
    "per_tag_table",
    "render_report",
    "run_cases",
    "single_label_metrics",
    "slice_table",
    "threshold_curve",
    "write_report",
]
