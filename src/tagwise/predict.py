"""Batch prediction over JSONL files, and evaluation of a saved model on a labelled file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.errors import ConfigError, DataFormatError, NotSupportedError

if TYPE_CHECKING:
    from rich.console import Console

CHUNK = 512  # rows per model call: big enough for batching, small enough for progress


@dataclass(frozen=True)
class RejectedLine:
    """An input line that could not be predicted, and why (quarantined, never fatal)."""

    line: int
    reason: str
    raw: str

    def to_dict(self) -> dict[str, object]:
        """The quarantine file's row."""
        return {"line": self.line, "reason": self.reason, "raw": self.raw}


def _line_problem(obj: object) -> str | None:
    """Why a parsed line is not a project to predict, or None."""
    if not isinstance(obj, dict):
        return f"must be a JSON object, got {type(obj).__name__}"
    if obj.get("id") is None:
        return "id: missing (each output line carries its input's id)"
    if isinstance(obj["id"], dict | list | bool):
        return "id: must be a number or a string"
    for key in ("title", "description"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return f"{key}: must be a string"
    if not (obj.get("title") or "").strip() and not (obj.get("description") or "").strip():
        return "title, description: both empty; nothing to suggest from"
    return None


def _read_jsonl(path: Path, rejected: list[RejectedLine]) -> Iterator[tuple[int, dict]]:
    """Projects of a JSONL file; bad lines go to ``rejected`` with their reason."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError:
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                rejected.append(RejectedLine(lineno, "not valid UTF-8 text", text))
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                rejected.append(RejectedLine(lineno, f"not JSON ({exc.msg})", line.rstrip()))
                continue
            problem = _line_problem(obj)
            if problem:
                rejected.append(RejectedLine(lineno, problem, line.rstrip()))
                continue
            yield lineno, obj


def check_paths(input_path: Path, output_path: Path | None) -> None:
    """Fail before any work on paths that cannot work (one clear line, no traceback)."""
    if input_path.suffix.lower() == ".parquet":
        raise NotSupportedError(f"{input_path}: Parquet input needs --backend ray")
    if not input_path.is_file():
        what = "is a directory, not a JSONL file" if input_path.is_dir() else "file not found"
        raise DataFormatError(str(input_path), what)
    if output_path is None:
        return
    if output_path.is_dir():
        raise ConfigError(f"{output_path}: is a directory; --output names the JSONL file")
    if not output_path.parent.is_dir():
        raise ConfigError(f"{output_path}: directory {output_path.parent} does not exist")


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
    rejected: list[RejectedLine] | None = None,
) -> int:
    """Suggest tags for every line of ``input_path``; returns how many were written.

    Each line also carries ``long_tail`` (low-confidence tags from outside the label
    space; empty for a model without a long-tail scorer) unless ``long_tail=False``.
    A line that is not a project (not JSON, no id, no text) is skipped and appended to
    ``rejected`` with its reason: one bad line never costs the rest of the file.

    The output file is written to a temporary name and renamed at the end, so a failed
    run never leaves half a file behind. With a ``console`` (the CLI's stderr), a
    progress bar with the rate and time left: an embedding model does ~100–200
    projects/s on two cores, so a large file takes minutes.
    """
    from tagwise.progress import row_progress

    check_paths(input_path, output_path)
    bad = rejected if rejected is not None else []
    n = 0
    tmp = output_path.with_name(output_path.name + ".partial") if output_path else None
    out = tmp.open("w", encoding="utf-8") if tmp else sys.stdout
    try:
        with row_progress(console, "predicting", _count_lines(input_path)) as progress:
            chunk: list[dict] = []
            done = 0  # lines the bar has counted: written or rejected
            for _, obj in _read_jsonl(input_path, bad):
                chunk.append(obj)
                if len(chunk) >= CHUNK:
                    _write_chunk(bundle, chunk, out, k, long_tail)
                    n += len(chunk)
                    progress.advance(n + len(bad) - done)
                    done = n + len(bad)
                    chunk = []
            if chunk:
                _write_chunk(bundle, chunk, out, k, long_tail)
                n += len(chunk)
            progress.advance(n + len(bad) - done)
        if tmp and output_path:
            out.close()
            tmp.replace(output_path)
    except BaseException:
        if tmp:
            out.close()
            tmp.unlink(missing_ok=True)
        raise
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
    if not result.dataset.projects:
        raise DataFormatError(
            str(projects),
            f"no valid labelled row to evaluate on ({result.n_rows} read, "
            f"{len(result.quarantined)} invalid; `tagwise data validate` lists why)",
        )
    model_mode = getattr(bundle.policy, "mode", result.dataset.mode)
    if model_mode != result.dataset.mode:
        raise ConfigError(
            f"{projects}: {result.dataset.mode}-label data, but the model is "
            f"{model_mode}-label; evaluate it on data of its own kind"
        )
    prepared = prepare(
        result.dataset.projects, bundle.taxonomy, mode=result.dataset.mode, labels=bundle.labels
    )
    if not len(prepared.texts):
        raise DataFormatError(str(projects), "no row carries a tag of the model's label space")
    scores = bundle.scores(list(prepared.texts))
    selected = bundle.policy.select(scores)
    metrics = multilabel_metrics(prepared.Y, selected, scores)
    _, lo, hi = bootstrap_ci(prepared.Y, selected, n_boot=settings.eval.n_boot, seed=settings.seed)
    return {
        "n": len(prepared.texts),
        "quarantined": len(result.quarantined),
        **metrics,
        "micro_f1_ci_low": lo,
        "micro_f1_ci_high": hi,
    }
