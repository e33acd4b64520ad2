"""``tagwise predict --backend ray``: sharded, resumable batch prediction on Ray Data.

The driver plans the shards (:mod:`.shards`), drops the ones a previous run finished,
and hands the rest to Ray Data as one block per shard. An actor pool
(``ActorPoolStrategy(size=workers)``) runs :class:`ShardPredictor`, which loads the
model once per actor and then, per shard, reads its slice of the input, suggests tags
through the same :meth:`ModelBundle.suggest` as the local path and renames the shard
file into place. Only a few numbers per shard travel back to the driver, which records
them in the manifest and advances the progress bar.

Why the model travels as bytes in the object store: a registry reference is resolved
on the driver to a local directory, which a worker on another node cannot see. Shipping
the bundle's files (a few MB) through ``ray.put`` works on any cluster, and each actor
still verifies every checksum when it loads them. Input and output paths must be
visible to every worker (one machine, or a shared filesystem on a cluster).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagwise.config import Settings
from tagwise.distributed.runtime import import_ray, ray_session
from tagwise.distributed.shards import (
    FORMATS,
    Format,
    Manifest,
    Plan,
    Shard,
    output_rows,
    plan_shards,
    read_shard,
    resume,
    write_shard,
)
from tagwise.errors import ConfigError, IntegrityError, TagwiseError, UnknownModelError

FEATURE = "tagwise predict --backend ray"
OnShard = Callable[[int, int], None]  # (rows just finished, shards finished so far)


@dataclass(frozen=True)
class BatchResult:
    """What a run did: rows written now and in total, shards skipped as already done."""

    rows_total: int
    rows_written: int
    shards_total: int
    shards_skipped: int
    seconds: float
    outdir: Path
    worker_rows_per_s: float | None = None  # rows / busy seconds of one actor, this run


def resolve_model_dir(ref: str, settings: Settings) -> tuple[Path, str]:
    """A local bundle directory and its version label, for a directory or registry ref."""
    if ref.startswith("models:/"):
        from tagwise.tracking import Tracker

        path, version = Tracker.from_settings(settings).resolve(ref)
        return path, str(version)
    path = Path(ref)
    if not (path / "manifest.json").is_file():
        raise UnknownModelError(f"{ref}: not a tagwise model directory")
    return path, path.resolve().name


def bundle_files(directory: Path) -> dict[str, bytes]:
    """Every file of a bundle directory by relative path (what actors rebuild it from)."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


class ShardPredictor:
    """A Ray Data callable class: one per actor, so the model is loaded once per actor."""

    def __init__(
        self,
        *,
        files: Any,
        source: str,
        in_fmt: Format,
        outdir: str,
        out_fmt: Format,
        k: int | None,
    ) -> None:
        from tagwise.bundle import ModelBundle

        ray = import_ray(FEATURE)
        blobs: dict[str, bytes] = ray.get(files) if isinstance(files, ray.ObjectRef) else files
        tmp = Path(tempfile.mkdtemp(prefix="tagwise-bundle-"))
        try:
            for name, data in blobs.items():
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / name).write_bytes(data)
            self.bundle = ModelBundle.load(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.source, self.in_fmt, self.k = source, in_fmt, k
        self.outdir, self.out_fmt = Path(outdir), out_fmt

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        """Predict and write each shard of the batch (one, with ``batch_size=1``)."""
        out: dict[str, list] = {"index": [], "rows": [], "file": [], "seconds": []}
        for i in range(len(batch["index"])):
            t0 = time.perf_counter()
            shard = Shard(**{f: int(batch[f][i]) for f in _SHARD_FIELDS})
            records = read_shard(self.source, self.in_fmt, shard)
            pairs = [(r.get("title") or "", r.get("description") or "") for r in records]
            answer = self.bundle.suggest_all(pairs, k=self.k)
            rows = output_rows(records, answer.tags, answer.long_tail)
            name = write_shard(self.outdir, shard.index, self.out_fmt, rows)
            out["index"].append(shard.index)
            out["rows"].append(len(rows))
            out["file"].append(name)
            out["seconds"].append(time.perf_counter() - t0)
        return out


_SHARD_FIELDS = ("index", "start", "rows", "offset", "length", "first_line")


def predict_ray(
    settings: Settings,
    model_ref: str,
    input_path: Path,
    outdir: Path,
    *,
    shard_size: int = 10_000,
    workers: int = 2,
    address: str | None = None,
    out_fmt: str = "jsonl",
    k: int | None = None,
    on_shard: OnShard | None = None,
    on_plan: Callable[[Plan, Manifest], None] | None = None,
) -> BatchResult:
    """Predict every row of ``input_path`` into shards under ``outdir``; resumable.

    Raises :class:`IntegrityError` if the finished output does not hold exactly one row
    per input row (checked per shard and in total).
    """
    if out_fmt not in FORMATS:
        raise ConfigError(f"output format {out_fmt!r} is not one of {', '.join(FORMATS)}")
    if workers < 1:
        raise ConfigError(f"workers must be ≥ 1, got {workers}")
    import_ray(FEATURE, "data")  # fail before any work if the extra is missing
    t0 = time.perf_counter()
    model_dir, model_label = resolve_model_dir(model_ref, settings)
    plan = plan_shards(input_path, shard_size)
    outdir.mkdir(parents=True, exist_ok=True)
    manifest = resume(outdir, Manifest.for_plan(plan, out_fmt, model_label))  # type: ignore[arg-type]
    pending = [s for s in plan.shards if s.index not in manifest.shards]
    skipped = len(plan.shards) - len(pending)
    if on_plan is not None:
        on_plan(plan, manifest)
    written = 0
    done_before = set(manifest.shards)
    if pending:
        with ray_session(FEATURE, address=address, num_cpus=None if address else workers) as ray:
            written = _run(ray, plan, pending, manifest, outdir, model_dir, workers, k, on_shard)
    _check_complete(plan, manifest)
    manifest.complete = True
    manifest.save(outdir)
    fresh = [s for i, s in manifest.shards.items() if i not in done_before and s.get("seconds")]
    busy = sum(s["seconds"] for s in fresh)
    return BatchResult(
        rows_total=plan.total_rows,
        rows_written=written,
        shards_total=len(plan.shards),
        shards_skipped=skipped,
        seconds=time.perf_counter() - t0,
        outdir=outdir,
        worker_rows_per_s=sum(s["rows"] for s in fresh) / busy if busy else None,
    )


def _run(
    ray: Any,
    plan: Plan,
    pending: list[Shard],
    manifest: Manifest,
    outdir: Path,
    model_dir: Path,
    workers: int,
    k: int | None,
    on_shard: OnShard | None,
) -> int:
    """Stream the pending shards through the actor pool; record each one as it lands."""
    import ray.data as rd

    ctx = rd.DataContext.get_current()
    ctx.enable_progress_bars = False  # ours is the one progress bar
    ctx.execution_options.preserve_order = False
    ctx.raise_original_map_exception = True  # a worker's DataFormatError reaches the CLI
    items = [{f: getattr(s, f) for f in _SHARD_FIELDS} for s in pending]
    ds = rd.from_items(items, override_num_blocks=len(items)).map_batches(
        ShardPredictor,
        fn_constructor_kwargs={
            "files": ray.put(bundle_files(model_dir)),
            "source": plan.source,
            "in_fmt": plan.fmt,
            "outdir": str(outdir.resolve()),
            "out_fmt": manifest.fmt,
            "k": k,
        },
        batch_size=1,
        batch_format="numpy",
        compute=rd.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    expected = {s.index: s.rows for s in pending}
    written = 0
    try:
        for row in ds.iter_rows():
            index, rows = int(row["index"]), int(row["rows"])
            if rows != expected[index]:
                raise IntegrityError(f"shard {index}: {rows} output rows for {expected[index]}")
            seconds = round(float(row["seconds"]), 4)
            manifest.shards[index] = {"rows": rows, "file": str(row["file"]), "seconds": seconds}
            manifest.save(outdir)
            written += rows
            if on_shard is not None:
                on_shard(rows, len(manifest.shards))
    except Exception as exc:
        cause = _tagwise_cause(exc)
        if cause is not None:
            raise cause from None
        raise
    return written


def _tagwise_cause(exc: BaseException) -> TagwiseError | None:
    """The :class:`TagwiseError` a worker raised, unwrapped from Ray's task errors.

    It crosses to the driver pickled, as it was raised (class, message and fields).
    """
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        cause = getattr(seen, "cause", None)  # RayTaskError keeps the worker's exception here
        if isinstance(cause, TagwiseError):
            return cause
        if isinstance(seen, TagwiseError) and not hasattr(seen, "cause"):
            return seen
        seen = cause if isinstance(cause, BaseException) else seen.__cause__
    return None


def _check_complete(plan: Plan, manifest: Manifest) -> None:
    """Exactly the planned shards, each with as many rows as its input slice."""
    missing = [s.index for s in plan.shards if s.index not in manifest.shards]
    if missing:
        raise IntegrityError(f"shards not written: {missing[:10]}")
    bad = [s.index for s in plan.shards if manifest.shards[s.index]["rows"] != s.rows]
    if bad or manifest.done_rows() != plan.total_rows:
        raise IntegrityError(
            f"{manifest.done_rows()} output rows for {plan.total_rows} input rows "
            f"(shards with a wrong count: {bad[:10]})"
        )
