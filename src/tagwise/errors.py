"""One exception hierarchy for tagwise.

Each class carries enough context for a clean CLI message and maps to one HTTP status
(problem+json), so the shell never has to guess what went wrong.
"""

from __future__ import annotations

import copyreg
from typing import Any


class TagwiseError(Exception):
    """Base class of every error tagwise raises on purpose.

    Every subclass survives pickling (Ray and multiprocessing send a worker's exception
    back pickled) with its message and its own fields, whatever its ``__init__`` takes.
    """

    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuild without calling ``__init__``, then restore ``args`` and every field.

        Why: the default rebuilds with ``cls(*args)``, and ``args`` holds only the final
        message, which a constructor such as ``DataFormatError(path, message, line)``
        does not accept.
        """
        return (copyreg.__newobj__, (type(self), *self.args), self.__dict__.copy())


class ConfigError(TagwiseError):
    """A configuration value is missing or invalid."""

    http_status = 400


class DataFormatError(TagwiseError):
    """A data file cannot be parsed at all; names the file and, if known, the line."""

    http_status = 400

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class NotTrainedError(TagwiseError):
    """A model or policy was used before it was fitted."""

    http_status = 503


class UnknownModelError(TagwiseError):
    """A model name, version, alias or directory does not exist."""

    http_status = 404


class UnknownTagError(TagwiseError):
    """A tag is not in the vocabulary."""

    http_status = 404


class IntegrityError(TagwiseError):
    """A saved artifact failed its checksum or holds types we refuse to load."""

    http_status = 500


class NotSupportedError(TagwiseError):
    """An optional feature needs an extra that is not installed, or a mode is unsupported."""

    http_status = 501


class PromotionRefused(TagwiseError):
    """The promotion gate refused a challenger; the reasons are in the message."""

    http_status = 409


class InvalidQueryError(TagwiseError):
    """A search query is malformed: a limit or offset out of range, dates in the wrong order."""

    http_status = 422


class UnknownProjectError(TagwiseError):
    """A project id is not in the catalogue index."""

    http_status = 404
