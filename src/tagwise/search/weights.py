"""Ranking weights, in one small object so they are documented, tunable and versioned.

The score of a project for a query is a weighted sum of parts, each in [0, 1]:

* ``text``: BM25 of title + description (title counts ``title_boost`` times), squashed
  by ``s / (s + bm25_half)`` so one query's scores compare with another's and a very
  long matching description cannot dominate;
* ``tag``: for each requested tag filter, the project's best *evidence* for it,
  averaged over the requested tags (an any-of query rewards carrying more of them);
* ``inferred``: the same for tags recognised in the free text;
* ``semantic``: cosine similarity of query and project embeddings (only with an
  embedder; re-ranks the best ``rerank_depth`` candidates).

Evidence of one tag on one project: ``author`` if the author gave it, ``suggested ×
confidence`` if the model suggested it, times ``ancestor`` when the tag was only
reached through the taxonomy (the project is tagged ``q-learning``, the query is
``reinforcement-learning``). The best of the project's rows counts.

The defaults were chosen on the validation split by ``benchmarks/discoverability.py``
(see docs/benchmarks.md, "Discoverability").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RankingWeights:
    """Weights of the ranking parts; see the module docstring for what each means."""

    text: float = 1.0
    tag: float = 1.0
    inferred: float = 1.0
    semantic: float = 0.5
    author: float = 1.0
    suggested: float = 0.5
    ancestor: float = 0.6
    title_boost: float = 3.0
    bm25_half: float = 4.0
    rerank_depth: int = 100
