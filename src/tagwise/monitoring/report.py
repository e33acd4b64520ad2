"""The monitoring report: drift statistics per window, performance over time, tag shifts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tagwise.fileio import atomic_write_text
from tagwise.monitoring.drift import Reference, Window, WindowReport
from tagwise.reporting import BASE_CSS, figure_data_uri, new_figure


@dataclass
class MonitoringData:
    """Everything the report shows."""

    title: str
    reference: Reference
    windows: list[Window]
    reports: list[WindowReport]
    notes: list[str] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)  # e.g. retrain / promotion markers
    quarantine: list[dict] = field(default_factory=list)  # {batch, reason, count}
    uptake: list[dict] = field(default_factory=list)  # Uptake.to_dict() per kind of tag
    uptake_windows: dict[str, list[dict]] = field(default_factory=dict)  # per window label
    min_labelled: int = 0  # answered predictions a window needs before its F1 is measured


def tag_shifts(reference: dict[str, int], windows: Sequence[Window], top: int = 10) -> list[dict]:
    """Tags whose share of suggestions changed most between the reference and recent windows."""
    recent = Counter(t for w in windows for row in w.suggested for t in row)
    n_ref, n_new = max(sum(reference.values()), 1), max(sum(recent.values()), 1)
    rows = [
        {
            "tag": t,
            "reference_share": reference.get(t, 0) / n_ref,
            "recent_share": recent.get(t, 0) / n_new,
        }
        for t in set(reference) | set(recent)
    ]
    for r in rows:
        r["change"] = r["recent_share"] - r["reference_share"]
    return sorted(rows, key=lambda r: -abs(r["change"]))[:top]


def _statistics_plot(reports: list[WindowReport]) -> str | None:
    if not reports:
        return None
    names = [t.name for t in reports[0].tests]
    fig = new_figure(9, 1.6 * len(names) + 0.6)
    x = np.arange(len(reports))
    for k, name in enumerate(names):
        ax = fig.add_subplot(len(names), 1, k + 1)
        tests = [next((t for t in r.tests if t.name == name), None) for r in reports]
        use_p = tests[0] is not None and tests[0].p_value is not None
        values = [(t.p_value if use_p else t.statistic) if t else np.nan for t in tests]
        ax.plot(x, values, marker="o", ms=3, color="#4c72b0")
        fired = [i for i, t in enumerate(tests) if t and t.drifted]
        ax.scatter(fired, [values[i] for i in fired], color="#c44e52", zorder=3, label="alert")
        thr = tests[0].threshold if tests[0] else None
        if thr is not None:
            ax.axhline(thr, color="#c44e52", ls="--", lw=1)
        if use_p:
            ax.set_yscale("log")
        ax.set_ylabel(("p: " if use_p else "") + name, fontsize=7)
        ax.set_xticks(
            x,
            [r.label for r in reports] if k == len(names) - 1 else [""] * len(x),
            rotation=60,
            fontsize=6,
        )
    return figure_data_uri(fig)


def _performance_plot(reports: list[WindowReport], events: list[dict]) -> str | None:
    perf = [r.performance for r in reports]
    if not any(perf):
        return None
    fig = new_figure(9, 3)
    ax = fig.add_subplot()
    x = np.arange(len(reports))
    for key, color in (("f1", "#4c72b0"), ("precision", "#55a868"), ("recall", "#dd8452")):
        ax.plot(x, [p.get(key, np.nan) for p in perf], marker="o", ms=3, label=key, color=color)
    labels = [r.label for r in reports]
    for ev in events:
        if ev.get("window") in labels:
            i = labels.index(ev["window"])
            ax.axvline(i, color="#888", ls=":")
            ax.text(i, 0.02, ev.get("what", ""), rotation=90, fontsize=7, va="bottom")
    ax.set_ylim(0, 1)
    ax.set_xticks(x, labels, rotation=60, fontsize=6)
    ax.set_ylabel("suggestions vs author tags")
    ax.legend(fontsize=7)
    return figure_data_uri(fig)


PAGE_HEADER = """<header class="topbar"><div class="brand">
<span class="logo" aria-hidden="true">#</span>
<div><span class="brand-name">tagwise</span><span class="brand-sub">Monitoring</span></div></div>
<nav class="top-nav page-nav" aria-label="Pages"><a href="./">Suggest</a>
<a href="search">Search</a><a href="impact">Impact</a>
<a href="monitoring" aria-current="page">Monitoring</a></nav></header>"""
"""The web UI's header, so the served report reads as one of its pages (the empty page too)."""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ d.title }}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="static/style.css"><link rel="stylesheet" href="static/search.css">
<style>{{ css }} .wide { overflow-x: auto; max-width: 100%; }
body { display: block; } .topbar { margin: -2rem -1rem 1rem; }</style></head><body>
{{ header }}
<h1>{{ d.title }}</h1>
<p>Reference: {{ d.reference.n }} held-out projects of the training period
(F1 of suggestions {{ "%.3f"|format(d.reference.performance.get("f1", 0)) }}).
{{ d.reports|length }} window{{ "" if d.reports|length == 1 else "s" }},
{{ alerts|length }} with an alert.</p>
{% for n in d.notes %}<p class="small">{{ n }}</p>{% endfor %}
<h2>Alerts</h2>
{% if alerts %}<table><tr><th class="l">window</th><th>n</th><th class="l">fired</th></tr>
{% for r in alerts %}<tr><td class="l">{{ r.label }}</td><td>{{ r.n }}</td>
<td class="l fail">{{ r.fired()|join(", ") }}</td></tr>{% endfor %}</table>
{% else %}<p class="pass">No window alerted.</p>{% endif %}
<h2>Performance over time</h2>
{% if perf_plot %}<img alt="precision, recall and F1 per window" src="{{ perf_plot }}">
{% else %}<p>No window has enough predictions answered by feedback yet{% if d.min_labelled
%} (at least {{ d.min_labelled }}){% endif %}: performance per window needs the authors' final
tags on its predictions.</p>{% endif %}
<h2>Drift statistics per window</h2>
<p class="small">p-value tests on a log scale (alert below the dashed line); others on their
own scale (alert above it). Red points fired.</p>
{% if stats_plot %}<img alt="drift statistics per window" src="{{ stats_plot }}">{% endif %}
<div class="wide"><table><tr><th class="l">window</th><th>n</th>
{% for t in d.reports[0].tests %}<th>{{ t.name }}</th>{% endfor %}<th>F1</th></tr>
{% for r in d.reports %}<tr><td class="l">{{ r.label }}</td><td>{{ r.n }}</td>
{% for t in r.tests %}<td class="{{ 'fail' if t.drifted else '' }}"
title="{{ t.detail }}">{{ "%.3g"|format(t.p_value if t.p_value is not none else t.statistic)
}}</td>{% endfor %}<td>{{ "%.3f"|format(r.performance.get("f1", 0)) if r.performance else "—"
}}</td></tr>{% endfor %}</table></div>
<h2>Suggestions the authors kept</h2>
{% if d.uptake %}<p class="small">Over predictions answered by feedback: a shown tag is kept
when it is among the author's final tags. Long-tail tags (zero-/few-shot, shown as LOW) are
expected to be kept less often than head tags; kept far less, their similarity floor is too
low.</p>
<div class="wide"><table><tr><th class="l">tags</th><th>predictions</th><th>shown</th>
<th>kept</th><th>kept share</th></tr>{% for u in d.uptake %}<tr><td class="l">{{ u.kind }}</td>
<td>{{ u.predictions }}</td><td>{{ u.shown }}</td><td>{{ u.kept }}</td>
<td>{{ "%.3f"|format(u.rate) }}</td></tr>{% endfor %}</table></div>
{% if uptake_rows|length > 1 %}<p class="small">Per window (kept / shown): a kind
whose share falls window after window is losing the authors' trust.</p>
<div class="wide"><table><tr><th class="l">window</th>
{% for k in uptake_kinds %}<th>{{ k }}</th>{% endfor %}</tr>
{% for label, cells in uptake_rows %}<tr><td class="l">{{ label }}</td>{% for c in cells %}<td>
{% if c %}{{ c.kept }} / {{ c.shown }} ({{ "%.2f"|format(c.rate) }}){% else %}—{% endif %}</td>
{% endfor %}</tr>{% endfor %}</table></div>{% endif %}
{% else %}<p>No feedback answers a logged prediction yet.</p>{% endif %}
<h2>Tags whose frequency changed most</h2>
<div class="wide"><table><tr><th class="l">tag</th><th>reference share</th>
<th>recent share</th><th>change</th></tr>
{% for s in shifts %}<tr><td class="l">{{ s.tag }}</td><td>{{ "%.3f"|format(s.reference_share) }}
</td><td>{{ "%.3f"|format(s.recent_share) }}</td><td>{{ "%+.3f"|format(s.change) }}</td></tr>
{% endfor %}</table></div>
<h2>Data quality</h2>
{% if d.quarantine %}<div class="wide"><table><tr><th class="l">batch</th>
<th class="l">reason</th><th>rows</th></tr>
{% for q in d.quarantine %}<tr><td class="l">{{ q.batch }}</td><td class="l">{{ q.reason }}</td>
<td>{{ q.count }}</td></tr>{% endfor %}</table></div>
{% else %}<p class="pass">No quarantined rows.</p>{% endif %}
</body></html>
"""


def uptake_table(
    per_window: dict[str, list[dict]], labels: Sequence[str]
) -> tuple[list[str], list[tuple[str, list[dict | None]]]]:
    """Kinds of tag (head first) and, per reported window with uptake, one cell per kind."""
    seen = {u["kind"] for rows in per_window.values() for u in rows}
    kinds = [k for k in ("head",) if k in seen] + sorted(seen - {"head"})
    table = []
    for label in labels:
        by_kind = {u["kind"]: u for u in per_window.get(label, [])}
        if by_kind:
            table.append((label, [by_kind.get(k) for k in kinds]))
    return kinds, table


def render_monitoring(data: MonitoringData) -> str:
    """The report as an HTML string."""
    import jinja2
    import markupsafe

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    recent = data.windows[-4:]
    kinds, rows = uptake_table(data.uptake_windows, [r.label for r in data.reports])
    return env.from_string(_TEMPLATE).render(
        header=markupsafe.Markup(PAGE_HEADER),
        uptake_kinds=kinds,
        uptake_rows=rows,
        d=data,
        css=BASE_CSS,
        alerts=[r for r in data.reports if r.alert],
        stats_plot=_statistics_plot(data.reports),
        perf_plot=_performance_plot(data.reports, data.events),
        shifts=tag_shifts(data.reference.suggested_counts, recent),
    )


def write_monitoring_report(data: MonitoringData, path: Path) -> Path:
    """Render and write atomically."""
    return atomic_write_text(path, render_monitoring(data))
