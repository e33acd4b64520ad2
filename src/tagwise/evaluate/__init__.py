"""Evaluation beyond one number: metrics, CIs, slices, behavioural cases, errors, report.

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
from tagwise.evaluate.error_analysis import error_analysis
from tagwise.evaluate.label_noise import (
    LabelIssues,
    MultiLabelIssues,
    find_label_issues,
    find_multilabel_issues,
)
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
    "LabelIssues",
    "MultiLabelIssues",
    "ReportData",
    "bootstrap_ci",
    "confusion_counts",
    "default_slices",
    "error_analysis",
    "find_label_issues",
    "find_multilabel_issues",
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
