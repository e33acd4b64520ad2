"""Errors only the HTTP shell raises; each maps to a status through ``http_status``."""

from __future__ import annotations

from tagwise.errors import NotTrainedError, TagwiseError


class ModelNotLoaded(NotTrainedError):
    """No model is loaded yet (startup, or the registry has no champion)."""


class AdminDisabled(TagwiseError):
    """Admin endpoints refuse when no admin token is configured."""

    http_status = 403


class BadToken(TagwiseError):
    """Missing or wrong bearer token on an admin endpoint."""

    http_status = 401


class BatchTooLarge(TagwiseError):
    """More items than ``serving.max_batch``."""

    http_status = 413


class ReloadFailed(TagwiseError):
    """Loading a model failed for a reason outside tagwise (registry down, bad files)."""

    http_status = 503
