"""Project data: read files, validate rows, quarantine bad ones, digest and summarise.

``load_dataset(path)`` is the entry point; everything else is exported for callers
that need one step (``read_records`` for prediction inputs, ``file_digest`` for
provenance, ``summarize`` for reports).
"""

from tagwise.data.load import file_digest, load_dataset, read_records
from tagwise.data.schema import Dataset, LabelMode, LoadResult, Project, QuarantinedRow
from tagwise.data.summary import DatasetSummary, summarize, summary_to_dict
from tagwise.data.validate import validate_records

__all__ = [
    "Dataset",
    "DatasetSummary",
    "LabelMode",
    "LoadResult",
    "Project",
    "QuarantinedRow",
    "file_digest",
    "load_dataset",
    "read_records",
    "summarize",
    "summary_to_dict",
    "validate_records",
]
