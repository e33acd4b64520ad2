"""The discoverability report on the tiny corpus with a stub suggester."""

from __future__ import annotations

from dataclasses import dataclass

from tagwise.impact import VARIANTS, discoverability_report, tag_query_text


@dataclass(frozen=True)
class _S:
    tag: str
    score: float


class _OracleOfFirstTag:
    """Suggests exactly the P1 head labels (an oracle), scored 0.9."""

    def __init__(self, labels):
        self.labels = labels
        self.calls = 0

    def suggest(self, pairs):
        self.calls += 1
        return [[_S(t, 0.9) for t in sorted(self.labels[i])] for i in self._ids]


def test_tag_query_text(taxonomy):
    assert tag_query_text("natural-language-processing", taxonomy) == (
        '"natural language processing" OR "nlp" OR "nlproc"'
    )


def test_report_shape_and_perfect_suggestions_help(tiny_projects, tiny_prepared, taxonomy):
    head = list(tiny_prepared.labels.labels)
    labels = {
        pid: {head[j] for j in tiny_prepared.Y[n].nonzero()[0]}
        for n, pid in enumerate(tiny_prepared.ids)
    }
    projects = [p for p in tiny_projects if p.id in labels]
    bundle = _OracleOfFirstTag(labels)
    bundle._ids = [p.id for p in projects]
    report = discoverability_report(projects, labels, head, taxonomy, bundle, keep=0.3, n_boot=50)
    assert report.n_queries == len(head)
    assert len(report.results) == len(VARIANTS) + 2  # sparse skips (a) and (b)
    a, b = report.get("complete", "a"), report.get("complete", "b")
    c, d = report.get("sparse", "c"), report.get("sparse", "d")
    # perfect suggestions make untagged projects as findable as tagged ones
    assert b.tag_query["recall_at_10"].value >= a.tag_query["recall_at_10"].value
    assert d.tag_query["recall_at_10"].value >= c.tag_query["recall_at_10"].value
    assert report.paired("sparse", "d", "c").value >= 0
    md = report.markdown()
    assert "| sparse | (d) author + suggested |" in md and "more" in report.summary()
    assert report.plot_png().startswith(b"\x89PNG")
