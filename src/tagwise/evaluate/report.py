"""The evaluation report: one self-contained HTML file.

Self-contained (inline CSS, plots as base64 PNG, no CDN, no external links) so it can
be attached to an MLflow run, mailed, or opened offline years later and look the same.
All text goes through jinja2 autoescaping: tag names, notes and config come from data.
This is the only module of ``tagwise.evaluate`` that does I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tagwise.evaluate.behavioural import BehaviouralResult
from tagwise.fileio import atomic_write_text
from tagwise.reporting import BASE_CSS, figure_data_uri, new_figure

HEADLINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("micro_precision", "micro P"),
    ("micro_recall", "micro R"),
    ("macro_f1", "macro F1"),
    ("samples_f1", "samples F1"),
    ("p_at_1", "P@1"),
    ("r_at_5", "R@5"),
    ("ndcg_at_5", "NDCG@5"),
)


@dataclass
class ReportData:
    """Everything the report shows; the pipeline fills it, ``write_report`` renders it.

    ``models[0]`` is the main model; the others are baselines shown beside it, each
    ``{name, metrics: multilabel_metrics(...), ci: (point, low, high)}``. ``Y_true`` and
    ``scores`` are the main model's test truth and scores (for the PR curve);
    ``val_f1_curve`` is validation micro-F1 over ``thresholds_grid`` — the curve the
    threshold was tuned on, never test. ``error_analysis`` is the dict built by
    ``tagwise.evaluate.error_analysis.error_analysis``. Optional parts left as
    None/empty are omitted.
    """

    title: str
    run: dict[str, str]
    models: list[dict]
    per_tag: list[dict] = field(default_factory=list)
    threshold: float | None = None
    thresholds_grid: list[float] = field(default_factory=list)
    val_f1_curve: list[float] = field(default_factory=list)
    Y_true: np.ndarray | None = None
    scores: np.ndarray | None = None
    slices: list[dict] = field(default_factory=list)
    behavioural: BehaviouralResult | None = None
    temporal: dict | None = None
    data_summary: dict | None = None
    notes: list[str] = field(default_factory=list)
    single_label: dict | None = None
    ece: float | None = None  # set -> a calibration section with the reliability diagram
    error_analysis: dict | None = None  # ``error_analysis.error_analysis(...)`` output


# ---------------------------------------------------------------------------- plots


def _per_tag_plot(per_tag: list[dict]) -> str | None:
    if not per_tag:
        return None
    tags = [r["tag"] for r in per_tag]
    f1 = [r["f1"] for r in per_tag]
    fig = new_figure(7, max(2.5, 0.28 * len(tags) + 1))
    ax = fig.add_subplot()
    y = np.arange(len(tags))
    ax.barh(y, f1, color="#4c72b0")
    ax.set_yticks(y, [f"{t} ({r['support']})" for t, r in zip(tags, per_tag, strict=True)])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 on test (support in brackets)")
    ax.grid(axis="x", alpha=0.3)
    return figure_data_uri(fig)


def _pr_plot(
    Y_true: np.ndarray | None, scores: np.ndarray | None, threshold: float | None
) -> str | None:
    if Y_true is None or scores is None or not np.asarray(Y_true).any():
        return None
    from tagwise.evaluate.metrics import micro_pr_curve

    precision, recall, _ = micro_pr_curve(Y_true, scores)
    fig = new_figure(5.5, 4)
    ax = fig.add_subplot()
    ax.plot(recall, precision, color="#4c72b0", label="micro PR (test)")
    if threshold is not None:
        yt = np.asarray(Y_true, dtype=bool)
        yp = np.asarray(scores) >= threshold
        tp = (yt & yp).sum()
        p = tp / yp.sum() if yp.sum() else 0.0
        r = tp / yt.sum()
        ax.plot([r], [p], "o", color="#c44e52", label=f"operating point t={threshold:.3f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return figure_data_uri(fig)


def _reliability_plot(Y_true: np.ndarray | None, scores: np.ndarray | None) -> str | None:
    """Reliability diagram of the test scores (every (doc, tag) pair), with the ECE."""
    if Y_true is None or scores is None or np.asarray(scores).size == 0:
        return None
    from tagwise.evaluate.calibration import expected_calibration_error, reliability

    rel = reliability(Y_true, scores)
    ok = rel.count > 0
    fig = new_figure(4.5, 4)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#999", ls="--", lw=1, label="perfectly calibrated")
    ax.plot(rel.mean_score[ok], rel.frac_positive[ok], "o-", color="#4c72b0", label="test")
    ax.set_xlabel("mean score in bin")
    ax.set_ylabel("fraction with the tag")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"ECE {expected_calibration_error(Y_true, scores):.3f}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return figure_data_uri(fig)


def _threshold_plot(grid: list[float], curve: list[float], threshold: float | None) -> str | None:
    if not grid or len(grid) != len(curve):
        return None
    fig = new_figure(5.5, 3.5)
    ax = fig.add_subplot()
    ax.plot(grid, curve, color="#55a868", label="validation micro-F1")
    if threshold is not None:
        ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"chosen t={threshold:.3f}")
    ax.set_xlabel("threshold")
    ax.set_ylabel("micro-F1")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return figure_data_uri(fig)


def _confusion_plot(single_label: dict | None) -> str | None:
    if not single_label or not single_label.get("confusion"):
        return None
    matrix = np.asarray(single_label["confusion"], dtype=float)
    labels = list(single_label.get("labels") or range(matrix.shape[0]))
    size = max(3.5, 0.45 * len(labels) + 2)
    fig = new_figure(size, size)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, [str(x) for x in labels], rotation=60, ha="right")
    ax.set_yticks(ticks, [str(x) for x in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return figure_data_uri(fig)


# ------------------------------------------------------------------------- template


def _fmt(value: Any, digits: int = 3) -> str:
    """Numbers for humans: 3 decimals, '—' for missing or NaN."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "—" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def _ci(ci: Any) -> str:
    if not ci or len(ci) != 3 or any(v is None for v in ci):
        return "—"
    return f"[{_fmt(ci[1])}, {_fmt(ci[2])}]"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ d.title }}</title>
<style>{{ css }}</style>
</head>
<body>
<h1>{{ d.title }}</h1>

<table class="run">
{% for k, v in d.run.items() %}<tr><th class="l">{{ k }}</th>
<td class="l"><code>{{ v }}</code></td></tr>
{% endfor %}</table>

{% if d.notes %}<h2>Notes</h2><ul>{% for n in d.notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}

{% macro model_table(models) %}
<table class="models">
<tr><th class="l">model</th><th>micro F1</th><th>95% CI</th>
{% for key, head in columns %}<th>{{ head }}</th>{% endfor %}</tr>
{% for m in models %}<tr{% if loop.first %} class="main"{% endif %}>
<td class="l">{{ m.name }}</td><td>{{ fmt(m.metrics.get("micro_f1")) }}</td>
<td>{{ ci(m.get("ci")) }}</td>
{% for key, head in columns %}<td>{{ fmt(m.metrics.get(key)) }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% endmacro %}

<h2>Headline (test)</h2>
{% if d.models %}{{ model_table(d.models) }}
<p class="small">First row is the main model; the others are baselines on the same test set.
CI: bootstrap over documents, percentile interval.
{% if d.threshold is not none %}Decision threshold {{ fmt(d.threshold) }},
tuned on validation.{% endif %}</p>
{% else %}<p>No models.</p>{% endif %}

{% if d.single_label %}
<h2>Single-label metrics</h2>
<table><tr><th>accuracy</th><th>weighted F1</th><th>macro F1</th></tr>
<tr><td>{{ fmt(d.single_label.get("accuracy")) }}</td>
<td>{{ fmt(d.single_label.get("weighted_f1")) }}</td>
<td>{{ fmt(d.single_label.get("macro_f1")) }}</td></tr></table>
{% if plots.confusion %}<img alt="confusion matrix" src="{{ plots.confusion }}">{% endif %}
{% endif %}

{% if plots.pr or plots.threshold %}
<h2>Operating point</h2>
<div class="plots">
{% if plots.pr %}<img alt="micro precision-recall curve" src="{{ plots.pr }}">{% endif %}
{% if plots.threshold %}
<img alt="threshold vs validation micro-F1" src="{{ plots.threshold }}">{% endif %}
</div>
{% endif %}

{% if plots.reliability %}
<h2>Calibration (test)</h2>
<p>Expected calibration error <strong>{{ fmt(d.ece) }}</strong> (15 equal-width bins over
every (project, tag) pair): of the pairs scored about 0.7, about 70 % should carry the tag.</p>
<img alt="reliability diagram (calibration)" src="{{ plots.reliability }}">
{% endif %}

{% if d.per_tag %}
<h2>Per tag (test)</h2>
{% if plots.per_tag %}<img alt="per-tag F1" src="{{ plots.per_tag }}">{% endif %}
<table class="per-tag"><tr><th class="l">tag</th><th>support</th><th>predicted</th>
<th>precision</th><th>recall</th><th>F1</th></tr>
{% for r in d.per_tag %}<tr><td class="l">{{ r.tag }}</td><td>{{ fmt(r.support) }}</td>
<td>{{ fmt(r.predicted) }}</td><td>{{ fmt(r.precision) }}</td><td>{{ fmt(r.recall) }}</td>
<td>{{ fmt(r.f1) }}</td></tr>
{% endfor %}</table>
{% endif %}

{% if d.slices %}
<h2>Slices (test)</h2>
<table class="slices"><tr><th class="l">slice</th><th>n</th><th>micro F1</th><th>95% CI</th>
<th>micro P</th><th>micro R</th></tr>
{% for s in d.slices %}<tr><td class="l">{{ s.slice }}</td><td>{{ fmt(s.n) }}</td>
<td>{{ fmt(s.micro_f1) }}</td><td>{{ ci((s.micro_f1, s.ci_low, s.ci_high)) }}</td>
<td>{{ fmt(s.micro_precision) }}</td><td>{{ fmt(s.micro_recall) }}</td></tr>
{% endfor %}</table>
<p class="small">Slices below the minimum size are listed with “—” rather than dropped.</p>
{% endif %}

{% if d.error_analysis %}{% set e = d.error_analysis %}
{% set what, whats = ("class", "classes") if e.mode == "single" else ("tag", "tags") %}
<h2>Error analysis (test)</h2>
{% if e.slice_findings %}<h3>What the slices say</h3>
<ul class="findings">{% for s in e.slice_findings %}<li>{{ s }}</li>{% endfor %}</ul>{% endif %}

<h3>Most confused {{ whats }}</h3>
{% if e.confused %}<table class="confused"><tr><th class="l">predicted (wrongly)</th>
<th class="l">true</th><th>documents</th>
{% if e.mode == "single" %}<th>share of true {{ what }}</th>
{% else %}<th>true tag missed</th><th class="l">relation</th>{% endif %}</tr>
{% for c in e.confused %}<tr><td class="l">{{ c.predicted }}</td><td class="l">{{ c.true }}</td>
<td>{{ fmt(c.count) }}</td>
{% if e.mode == "single" %}<td>{{ fmt(c.share) }}</td>
{% else %}<td>{{ fmt(c.missed) }}</td><td class="l">{{ c.relation or "—" }}</td>{% endif %}</tr>
{% endfor %}</table>
<p class="small">{% if e.mode == "single" %}Off-diagonal cells of the confusion matrix,
largest first.{% else %}A pair counts once per project where the predicted tag is a false
positive and the true tag was missed, or is its parent, child or sibling in the
vocabulary (right branch, wrong node). Relation is the predicted tag's.{% endif %}</p>
{% else %}<p>No confusions on the test set.</p>{% endif %}

{% if e.examples %}<h3>Examples of errors</h3>
<p class="small">The {{ whats }} with the most errors. False positives highest score
first, false negatives lowest score first: the most confident mistakes.</p>
{% for t in e.examples %}<h4>{{ t.tag }} — {{ t.n_fp }}
false positive{{ "" if t.n_fp == 1 else "s" }}, {{ t.n_fn }}
false negative{{ "" if t.n_fn == 1 else "s" }}</h4>
<table class="examples"><tr><th class="l">error</th><th>score</th><th class="l">text</th>
<th class="l">true</th><th class="l">predicted</th></tr>
{% for kind, rows in (("false positive", t.false_positives),
                      ("false negative", t.false_negatives)) %}
{% for x in rows %}<tr><td class="l">{{ kind }}</td><td>{{ fmt(x.score) }}</td>
<td class="l">{{ x.text }}</td><td class="l">{{ x.true | join(", ") or "—" }}</td>
<td class="l">{{ x.predicted | join(", ") or "—" }}</td></tr>
{% endfor %}{% endfor %}</table>
{% endfor %}{% endif %}

{% if e.label_issues %}{% set li = e.label_issues %}
<h3>Suspected label issues</h3>
<p>Confident learning flags <strong>{{ li.n_issues }}</strong>
{% if e.mode == "single" %}of {{ li.n_docs }} test labels
{% else %}(project, tag) cells in {{ li.n_docs_flagged }} of {{ li.n_docs }} test
projects{% endif %}
(estimated noise rate {{ fmt(li.noise_rate) }}) where the model confidently disagrees
with the author. Review these labels before reading the errors above as model
mistakes.</p>
{% if li.per_tag %}{% if e.mode == "single" %}
<table class="label-noise"><tr><th class="l">given</th><th class="l">suggested</th>
<th>count</th></tr>
{% for r in li.per_tag %}<tr><td class="l">{{ r.given }}</td><td class="l">{{ r.suggested }}</td>
<td>{{ fmt(r.count) }}</td></tr>{% endfor %}</table>
{% else %}
<table class="label-noise"><tr><th class="l">tag</th><th>given</th>
<th>probably missing</th><th>probably extra</th></tr>
{% for r in li.per_tag %}<tr><td class="l">{{ r.tag }}</td><td>{{ fmt(r.given) }}</td>
<td>{{ fmt(r.missing) }}</td><td>{{ fmt(r.extra) }}</td></tr>{% endfor %}</table>
{% endif %}{% endif %}
{% if li.issues %}<table class="label-issues"><tr><th class="l">given</th>
<th class="l">suggested</th><th>model score</th><th>self-confidence</th>
<th class="l">text</th></tr>
{% for r in li.issues %}<tr><td class="l">{{ r.given }}</td><td class="l">{{ r.suggested }}</td>
<td>{{ fmt(r.score) }}</td><td>{{ fmt(r.self_confidence) }}</td>
<td class="l">{{ r.text }}</td></tr>
{% endfor %}</table>
<p class="small">Most suspicious first (lowest model probability of the given label).
Per class the threshold is the model's mean probability over the documents labelled
with it (Northcutt et al., confident learning).</p>{% endif %}
{% endif %}
{% endif %}

{% if d.behavioural %}{% set b = d.behavioural %}
<h2>Behavioural cases</h2>
<p>Pass rate <strong>{{ fmt(b.pass_rate) }}</strong> ({{ b.n_passed }} / {{ b.n_evaluated }}
evaluated, {{ b.n_skipped }} skipped: tags outside the label space).</p>
<table class="behavioural"><tr><th class="l">kind</th><th>pass rate</th></tr>
{% for kind, rate in b.by_kind.items() %}
<tr><td class="l">{{ kind }}</td><td>{{ fmt(rate) }}</td></tr>
{% endfor %}</table>
{% if b.failures %}<h3>Failing cases</h3>
<table class="failures"><tr><th class="l">case</th><th class="l">kind</th>
<th class="l">expected</th>
<th class="l">got</th></tr>
{% for r in b.failures %}<tr class="fail"><td class="l">{{ r.name }}</td>
<td class="l">{{ r.kind }}</td>
<td class="l">{{ r.expected | join(", ") }}</td><td class="l">{{ r.got | join(", ") }}</td></tr>
{% endfor %}</table>{% endif %}
{% if b.skipped %}<p class="small">Skipped: {{ b.skipped | join(", ") }}</p>{% endif %}
{% endif %}

{% if d.temporal %}{% set t = d.temporal %}
<h2>Temporal check</h2>
<p>Train before <code>{{ t.get("cutoff") }}</code> ({{ fmt(t.get("n_train")) }} projects),
test on or after it ({{ fmt(t.get("n_test")) }} projects).</p>
{{ model_table(t.get("models", [])) }}
{% endif %}

{% if d.data_summary %}
<h2>Data</h2>
<table class="data">
{% for k, v in d.data_summary.items() %}<tr><th class="l">{{ k }}</th>
<td class="l">{{ fmt(v) }}</td></tr>
{% endfor %}</table>
{% endif %}
</body>
</html>
"""


def render_report(data: ReportData) -> str:
    """The report as an HTML string (pure apart from matplotlib rendering)."""
    import jinja2

    plots = {
        "per_tag": _per_tag_plot(data.per_tag),
        "pr": _pr_plot(data.Y_true, data.scores, data.threshold),
        "threshold": _threshold_plot(data.thresholds_grid, data.val_f1_curve, data.threshold),
        "confusion": _confusion_plot(data.single_label),
        "reliability": (
            _reliability_plot(data.Y_true, data.scores) if data.ece is not None else None
        ),
    }
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_TEMPLATE)
    return template.render(
        d=data, plots=plots, fmt=_fmt, ci=_ci, columns=HEADLINE_COLUMNS, css=BASE_CSS
    )


def write_report(data: ReportData, path: Path) -> Path:
    """Render and write the report atomically (a crash never leaves half a report)."""
    return atomic_write_text(Path(path), render_report(data))
