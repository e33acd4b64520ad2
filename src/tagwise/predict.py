"""Batch prediction over JSONL files, and evaluation of a saved model on a labelled file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.errors import DataFormatError

CHUNK = 2048


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


def _write_chunk(bundle: ModelBundle, chunk: list[dict], out: TextIO, k: int | None) -> None:
    pairs = [(o.get("title") or "", o.get("description") or "") for o in chunk]
    for obj, suggestions in zip(chunk, bundle.suggest(pairs, k=k), strict=True):
        out.write(
            json.dumps(
                {
                    "id": obj.get("id"),
                    "tags": [{"tag": s.tag, "score": s.score} for s in suggestions],
                },
                ensure_ascii=False,
            )
            + "\n"
        )


def predict_file(
    bundle: ModelBundle, input_path: Path, output_path: Path | None, *, k: int | None = None
) -> int:
    """Suggest tags for every line of ``input_path``; returns how many were written.

    The output file is written to a temporary name and renamed at the end, so a failed
    run never leaves half a file behind.
    """
    n = 0
    tmp = output_path.with_name(output_path.name + ".partial") if output_path else None
    out = tmp.open("w", encoding="utf-8") if tmp else sys.stdout
    try:
        chunk: list[dict] = []
        for _, obj in _read_jsonl(input_path):
            chunk.append(obj)
            if len(chunk) >= CHUNK:
                _write_chunk(bundle, chunk, out, k)
                n += len(chunk)
                chunk = []
        if chunk:
            _write_chunk(bundle, chunk, out, k)
            n += len(chunk)
    except BaseException:
        if tmp:
            out.close()
            tmp.unlink(missing_ok=True)
        raise
    if tmp and output_path:
        out.close()
        tmp.replace(output_path)
    return n


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
