"""Author feedback on suggested tags: validated against the vocabulary, stored durably.

Feedback is the label data the model is retrained from, so a write the API
acknowledged must survive a crash (see :mod:`tagwise.feedback.store`).
"""

from tagwise.feedback.record import FeedbackRecord, InvalidTagsError, canonical_tags
from tagwise.feedback.store import FeedbackStore

__all__ = ["FeedbackRecord", "FeedbackStore", "InvalidTagsError", "canonical_tags"]
