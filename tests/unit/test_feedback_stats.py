"""feedback_stats: what was shown, kept, chosen by the author, per tag and over time."""

from __future__ import annotations

from tagwise.feedback.stats import feedback_stats

WHEN = "2020-06-01T10:00:00"


def _record(suggested, accepted, added=()) -> dict:
    return {"created": WHEN, "suggested": suggested, "accepted": accepted, "added": added}


def test_a_kept_tag_counts_only_if_shown_and_the_rest_is_the_authors_choice():
    stats = feedback_stats(
        [
            _record(["nlp", "transformers"], ["transformers", "gnn"], ["qa"]),
            _record([], ["transformers"]),  # a client that did not say what it showed
        ]
    )
    assert (stats.records, stats.suggested, stats.accepted) == (2, 2, 1)
    assert stats.acceptance_rate == 0.5  # never above 1, whatever the client sends
    assert dict(stats.missed) == {"gnn": 1, "qa": 1, "transformers": 1}
    assert stats.avg_final == (3 + 1) / 2  # every tag the authors ended with
    assert stats.per_tag == (("nlp", 1, 0), ("transformers", 1, 1))
    assert stats.over_time[0].records == 2


def test_no_records_no_rates():
    stats = feedback_stats([])
    assert stats.records == 0 and stats.acceptance_rate is None and stats.avg_final is None
