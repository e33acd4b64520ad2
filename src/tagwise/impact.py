"""What tag suggestions are worth to someone searching by tag (``tagwise impact``).

Offline, on held-out projects (the P1 test split), each head tag becomes a query
whose relevant projects are the test projects carrying that tag under P1. The same
projects are indexed four ways and searched with the same queries:

(a) no tags — a brand-new project, findable by its words only;
(b) suggested tags only — a new project once the model has tagged it;
(c) author tags — the author's raw tags as the index stores them: canonicalised,
    unknown tags dropped, every ancestor added (``search.postings``). This is the same
    mapping as P1 minus the head-label cut, so with *complete* author tags (c) holds
    exactly the relevance labels and is the ceiling for tag queries: it can be tied,
    never beaten, and it is reported as such;
(d) author + suggested tags.

Because the premise of the product is that authors tag *incompletely*, every variant
with author tags is also run in a **sparse** scenario: each raw author tag is kept
with probability ``keep`` (seeded), the relevance labels stay the full P1 labels.
That is the honest test of "(d) beats (c)".

Queries:
* tag query — the tag as an any-of filter plus its name and aliases as free text
  (``"natural language processing" OR nlp OR nlproc``), combined with OR, so (a)
  still finds projects by their words;
* free-text query — the same text, no filter (the index still recognises the tag
  named in the text, which is how tags help a plain search box).

Metrics per query: recall@10, reciprocal rank (first relevant within the top 100),
nDCG@10 (binary gains); means with percentile bootstrap CIs over queries. Per project:
findable = appears in the top 10 of at least one of its own tags' queries; the share
with a bootstrap CI over projects.
"""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from tagwise.search import CatalogueIndex, IndexedProject, SearchQuery, SuggestedTag
from tagwise.search.weights import RankingWeights
from tagwise.taxonomy import Taxonomy

K = 10
DEPTH = 100
METRICS = ("recall_at_10", "mrr", "ndcg_at_10")


@dataclass(frozen=True)
class Variant:
    """One way of tagging the indexed projects."""

    key: str
    label: str
    author: bool
    suggested: bool


VARIANTS = (
    Variant("a", "no tags", False, False),
    Variant("b", "suggested only", False, True),
    Variant("c", "author tags", True, False),
    Variant("d", "author + suggested", True, True),
)


@dataclass(frozen=True)
class Estimate:
    """A mean with its bootstrap 95% interval."""

    value: float
    low: float
    high: float

    def fmt(self, pct: bool = False) -> str:
        """``0.712 (0.650–0.770)`` or the same in percent."""
        if pct:
            return f"{100 * self.value:.1f}% ({100 * self.low:.1f}–{100 * self.high:.1f})"
        return f"{self.value:.3f} ({self.low:.3f}–{self.high:.3f})"


@dataclass(frozen=True)
class VariantResult:
    """Metrics of one variant in one scenario."""

    variant: Variant
    scenario: str
    tag_query: dict[str, Estimate]
    text_query: dict[str, Estimate]
    findable: Estimate
    findable_text: Estimate
    per_query: np.ndarray = field(repr=False, compare=False, default=None)
    """(queries × 3) tag-query metrics, for paired comparisons."""


@dataclass
class DiscoverabilityReport:
    """Everything ``tagwise impact`` shows; ``markdown()`` and ``plot_png()`` render it."""

    n_projects: int
    n_queries: int
    keep: float
    results: list[VariantResult] = field(default_factory=list)
    weights: RankingWeights = field(default_factory=RankingWeights)

    def get(self, scenario: str, key: str) -> VariantResult:
        """The result of variant ``key`` in ``scenario`` ('complete' or 'sparse')."""
        return next(r for r in self.results if r.scenario == scenario and r.variant.key == key)

    def paired(self, scenario: str, better: str, base: str, n_boot: int = 1000) -> Estimate:
        """Mean per-query difference of tag-query recall@10 (``better`` − ``base``), with a
        paired bootstrap CI (same resampled queries for both) — tighter and fairer than
        comparing two separate intervals."""
        x = self.get(scenario, better).per_query[:, 0] - self.get(scenario, base).per_query[:, 0]
        return _bootstrap(x, n_boot, 7)

    def summary(self) -> str:
        """Plain language for a product owner."""
        a, b = self.get("complete", "a"), self.get("complete", "b")
        c, d = self.get("sparse", "c"), self.get("sparse", "d")
        cc, dc = self.get("complete", "c"), self.get("complete", "d")

        def more(x: float, y: float) -> str:
            return f"{100 * (y / x - 1):.0f}% more" if x > 0 else "infinitely more"

        def recall(r: VariantResult) -> float:
            return r.tag_query["recall_at_10"].value

        full = (
            "suggestions do not push correct results out"
            if recall(dc) >= recall(cc) - 1e-9
            else "suggestions cost some recall"
        )
        return (
            f"Of {self.n_projects} held-out projects, a brand-new project without tags is "
            f"found in the top 10 for at least one of its tags {100 * a.findable.value:.0f}% "
            f"of the time, by its words alone; with suggested tags "
            f"{100 * b.findable.value:.0f}% — {more(a.findable.value, b.findable.value)} "
            f"projects found. When authors tag only part of what a project is about (each "
            f"tag kept with probability {self.keep:.0%}), adding suggestions raises the "
            f"share from {100 * c.findable.value:.0f}% to {100 * d.findable.value:.0f}% "
            f"({more(c.findable.value, d.findable.value)}), and tag-search recall@10 from "
            f"{recall(c):.3f} to {recall(d):.3f}. With complete author tags (which are the "
            f"relevance labels themselves) recall@10 is {recall(dc):.3f} with suggestions vs "
            f"{recall(cc):.3f} without: {full}."
        )

    def markdown(self) -> str:
        """Tables + summary, for docs/benchmarks.md and the CLI."""
        lines = [self.summary(), ""]
        for kind, title in (("tag", "Tag queries"), ("text", "Free-text queries")):
            lines += [
                f"**{title}** ({self.n_queries} head tags; mean with bootstrap 95% CI "
                "over queries)",
                "",
                "| scenario | index | recall@10 | MRR | nDCG@10 | findable (top 10, ≥1 tag) |",
                "|---|---|---|---|---|---|",
            ]
            for r in self.results:
                m = r.tag_query if kind == "tag" else r.text_query
                f = r.findable if kind == "tag" else r.findable_text
                lines.append(
                    f"| {r.scenario} | ({r.variant.key}) {r.variant.label} | "
                    f"{m['recall_at_10'].fmt()} | {m['mrr'].fmt()} | {m['ndcg_at_10'].fmt()} | "
                    f"{f.fmt(pct=True)} |"
                )
            lines.append("")
        lines += [
            "Paired differences of tag-query recall@10 (bootstrap over the same queries):",
            "",
            "| comparison | difference | 95% CI |",
            "|---|---|---|",
        ]
        for scenario, better, base in (
            ("complete", "b", "a"),
            ("complete", "d", "c"),
            ("sparse", "d", "c"),
        ):
            e = self.paired(scenario, better, base)
            lines.append(
                f"| {scenario}: ({better}) − ({base}) | {e.value:+.3f} | "
                f"{e.low:+.3f} to {e.high:+.3f} |"
            )
        lines.append("")
        return "\n".join(lines)

    def plot_png(self) -> bytes:
        """Bar chart of tag-query recall@10 and findable share per variant (PNG bytes)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
        keys = ["a", "b", "c", "d"]
        for ax, (title, getter) in zip(
            axes,
            (
                ("tag-query recall@10", lambda r: r.tag_query["recall_at_10"]),
                ("share findable in top 10", lambda r: r.findable),
            ),
            strict=True,
        ):
            for n, scenario in enumerate(("complete", "sparse")):
                est = [
                    getter(self.get(scenario, k))
                    if scenario == "complete" or k in "cd"
                    else getter(self.get("complete", k))
                    for k in keys
                ]
                x = np.arange(len(keys)) + (n - 0.5) * 0.38
                ax.bar(
                    x,
                    [e.value for e in est],
                    0.38,
                    yerr=[[e.value - e.low for e in est], [e.high - e.value for e in est]],
                    label=f"{scenario} author tags",
                    capsize=3,
                )
            ax.set_xticks(range(len(keys)), [f"({v.key})\n{v.label}" for v in VARIANTS], fontsize=7)
            ax.set_title(title, fontsize=9)
            ax.set_ylim(0, 1)
        axes[0].legend(fontsize=7)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        return buf.getvalue()

    def plot_base64(self) -> str:
        """The plot as a ``data:`` URI for an HTML page."""
        return "data:image/png;base64," + base64.b64encode(self.plot_png()).decode()


def tag_query_text(tag: str, taxonomy: Taxonomy) -> str:
    """``"natural language processing" OR nlp OR nlproc`` — a tag's name and aliases."""
    names = [tag, *taxonomy.aliases_of(tag)]
    return " OR ".join(f'"{n.replace("-", " ")}"' for n in names)


def _query_metrics(ranked: Sequence[int], relevant: set[int]) -> tuple[float, float, float]:
    top = list(ranked[:K])
    hits = [1.0 if i in relevant else 0.0 for i in top]
    recall = sum(hits) / len(relevant)
    rr = next((1.0 / (n + 1) for n, i in enumerate(ranked[:DEPTH]) if i in relevant), 0.0)
    dcg = sum(h / np.log2(n + 2) for n, h in enumerate(hits))
    idcg = sum(1.0 / np.log2(n + 2) for n in range(min(K, len(relevant))))
    return recall, rr, dcg / idcg


def _bootstrap(values: np.ndarray, n_boot: int, seed: int) -> Estimate:
    """Percentile bootstrap of the mean (resampling the rows of ``values``)."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    means = values[idx].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return Estimate(float(values.mean()), float(low), float(high))


def sparse_author_tags(
    projects: Sequence[IndexedProject], keep: float, seed: int
) -> list[IndexedProject]:
    """Each raw author tag kept with probability ``keep`` (deterministic per seed)."""
    rng = random.Random(seed)
    return [
        replace(p, author_tags=tuple(t for t in p.author_tags if rng.random() < keep))
        for p in projects
    ]


def _run_variant(
    projects: list[IndexedProject],
    variant: Variant,
    queries: list[tuple[str, set[int]]],
    taxonomy: Taxonomy,
    weights: RankingWeights,
) -> tuple[np.ndarray, np.ndarray, dict[int, bool], dict[int, bool]]:
    """Per-query metrics (tag and text) and per-project findability."""
    docs = [
        replace(
            p,
            author_tags=p.author_tags if variant.author else (),
            suggested=p.suggested if variant.suggested else (),
        )
        for p in projects
    ]
    found_tag: dict[int, bool] = {p.id: False for p in projects}
    found_text: dict[int, bool] = dict(found_tag)
    rows_tag, rows_text = [], []
    with CatalogueIndex.open(":memory:", taxonomy, weights=weights) as index:
        index.upsert(docs)
        for tag, relevant in queries:
            text = tag_query_text(tag, taxonomy)
            for q, rows, found in (
                (
                    SearchQuery(
                        q=text, tags=(tag,), mode="any", combine="or", limit=DEPTH, facets=0
                    ),
                    rows_tag,
                    found_tag,
                ),
                (SearchQuery(q=text, limit=DEPTH, facets=0), rows_text, found_text),
            ):
                ranked = [h.id for h in index.search(q).hits]
                rows.append(_query_metrics(ranked, relevant))
                for i in ranked[:K]:
                    if i in relevant:
                        found[i] = True
    return np.asarray(rows_tag), np.asarray(rows_text), found_tag, found_text


def discoverability_report(
    projects: Sequence,
    labels: dict[int, set[str]],
    head_tags: Sequence[str],
    taxonomy: Taxonomy,
    bundle,
    *,
    weights: RankingWeights | None = None,
    keep: float = 0.5,
    seed: int = 42,
    n_boot: int = 1000,
) -> DiscoverabilityReport:
    """Index ``projects`` four ways (two scenarios) and measure tag and text search.

    ``projects`` are validated ``Project`` rows (the held-out split); ``labels`` maps each
    project id to its P1 head labels (the relevance judgements); ``bundle`` suggests the
    tags (a :class:`tagwise.bundle.ModelBundle` fitted without these projects).
    """
    weights = weights or RankingWeights()
    suggestions = bundle.suggest([(p.title, p.description) for p in projects])
    base = [
        IndexedProject.from_project(p, [SuggestedTag(s.tag, s.score) for s in sug])
        for p, sug in zip(projects, suggestions, strict=True)
    ]
    queries = [
        (t, rel)
        for t in head_tags
        if (rel := {p.id for p in projects if t in labels.get(p.id, set())})
    ]
    ids = [p.id for p in projects if labels.get(p.id)]
    report = DiscoverabilityReport(
        n_projects=len(ids), n_queries=len(queries), keep=keep, weights=weights
    )
    scenarios = {"complete": base, "sparse": sparse_author_tags(base, keep, seed)}
    for scenario, docs in scenarios.items():
        for variant in VARIANTS:
            if scenario == "sparse" and not variant.author:
                continue  # without author tags the scenarios are the same
            tag_rows, text_rows, found_tag, found_text = _run_variant(
                docs, variant, queries, taxonomy, weights
            )
            report.results.append(
                VariantResult(
                    variant=variant,
                    scenario=scenario,
                    tag_query={
                        m: _bootstrap(tag_rows[:, j], n_boot, seed) for j, m in enumerate(METRICS)
                    },
                    text_query={
                        m: _bootstrap(text_rows[:, j], n_boot, seed) for j, m in enumerate(METRICS)
                    },
                    findable=_bootstrap(np.array([found_tag[i] for i in ids]), n_boot, seed),
                    findable_text=_bootstrap(np.array([found_text[i] for i in ids]), n_boot, seed),
                    per_query=tag_rows,
                )
            )
    return report


def objective(report: DiscoverabilityReport) -> float:
    """What weight tuning maximises (on validation): sparse-scenario (d) tag-query
    recall@10 + nDCG@10, with complete-scenario (d) as a guard against harming (c)."""
    d_sparse = report.get("sparse", "d").tag_query
    d_full = report.get("complete", "d").tag_query
    return (
        d_sparse["recall_at_10"].value
        + d_sparse["ndcg_at_10"].value
        + d_full["recall_at_10"].value
        + d_full["ndcg_at_10"].value
    )
