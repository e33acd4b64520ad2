"""Batch prediction over JSONL files, and evaluation of a saved model on a labelled file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.errors import DataFormatError

if TYPE_CHECKING:
    from rich.console import Console

CHUNK = 512  # rows per model call: big enough for batching, small enough for progress


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(str(path), f"not JSON ({exc.msg})", line=lineno) from None
            if not isinstance(obj, dict):
                raise DataFormatError(str(path), "each line must be a JSON object", line=lineno)
            for key in ("title", "description"):
                if obj.get(key) is not None and not isinstance(obj[key], str):
                    raise DataFormatError(str(path), f"{key!r} must be a string", line=lineno)
            yield lineno, obj


def prediction_rows(
    ids: list, tags: list, long_tail: list | None = None
) -> list[dict[str, object]]:
    """Output lines: ``{"id", "tags": [{"tag", "score"}]}`` — the stable format — plus,
    when asked for, ``"long_tail": [{"tag", "score", "similarity", "source", "confidence"}]``.
    """
    rows: list[dict[str, object]] = [
        {"id": i, "tags": [{"tag": s.tag, "score": s.score} for s in row]}
        for i, row in zip(ids, tags, strict=True)
    ]
    if long_tail is not None:
        for row, tail in zip(rows, long_tail, strict=True):
            row["long_tail"] = [s.to_dict() for s in tail]
    return rows


def _write_chunk(
    bundle: ModelBundle, chunk: list[dict], out: TextIO, k: int | None, long_tail: bool
) -> None:
    pairs = [(o.get("title") or "", o.get("description") or "") for o in chunk]
    answer = bundle.suggest_all(pairs, k=k, long_tail=long_tail)
    rows = prediction_rows(
        [o.get("id") for o in chunk], answer.tags, answer.long_tail if long_tail else None
    )
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def predict_file(
    bundle: ModelBundle,
    input_path: Path,
    output_path: Path | None,
    *,
    k: int | None = None,
    long_tail: bool = True,
    console: Console | None = None,
) -> int:
    """Suggest tags for every line of ``input_path``; returns how many were written.

    Each line also carries ``long_tail`` (low-confidence tags from outside the label
    space; empty for a model without a long-tail scorer) unless ``long_tail=False``.

    The output file is written to a temporary name and renamed at the end, so a failed
    run never leaves half a file behind. With a ``console`` (the CLI's stderr), a
    progress bar with the rate and time left: an embedding model does ~100–200
    projects/s on two cores, so a large file takes minutes.
    """
    from tagwise.progress import row_progress

    n = 0
    tmp = output_path.with_name(output_path.name + ".partial") if output_path else None
    out = tmp.open("w", encoding="utf-8") if tmp else sys.stdout
    try:
        with row_progress(console, "predicting", _count_lines(input_path)) as progress:
            chunk: list[dict] = []
            for _, obj in _read_jsonl(input_path):
                chunk.append(obj)
                if len(chunk) >= CHUNK:
                    _write_chunk(bundle, chunk, out, k, long_tail)
                    n += len(chunk)
                    progress.advance(len(chunk))
                    chunk = []
            if chunk:
                _write_chunk(bundle, chunk, out, k, long_tail)
                n += len(chunk)
                progress.advance(len(chunk))
    except BaseException:
        if tmp:
            out.close()
            tmp.unlink(missing_ok=True)
        raise
    if tmp and output_path:
        out.close()
        tmp.replace(output_path)
    return n


def _count_lines(path: Path) -> int:
    """Non-empty lines of a file (the progress total), read in binary for speed."""
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def evaluate_file(bundle: ModelBundle, projects: Path, settings: Settings) -> dict:
    """Metrics (with bootstrap CI of micro-F1) of a saved model on a labelled file."""
    from tagwise.data import load_dataset
    from tagwise.evaluate import bootstrap_ci, multilabel_metrics
    from tagwise.prepare import prepare

    result = load_dataset(projects)
    prepared = prepare(
        result.dataset.projects, bundle.taxonomy, mode=result.dataset.mode, labels=bundle.labels
    )
    scores = bundle.scores(list(prepared.texts))
    selected = bundle.policy.select(scores)
    metrics = multilabel_metrics(prepared.Y, selected, scores)
    _, lo, hi = bootstrap_ci(prepared.Y, selected, n_boot=settings.eval.n_boot, seed=settings.seed)
    return {"n": len(prepared.texts), **metrics, "micro_f1_ci_low": lo, "micro_f1_ci_high": hi}
