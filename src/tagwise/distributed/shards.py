"""Shards of a batch-prediction run and the manifest that makes it resumable (no Ray here).

Why plan on the driver: a resumable run needs shard numbers that are the same on every
re-run, whatever the cluster does. Rows ``[i * size, (i + 1) * size)`` of the input are
shard ``i`` — for JSONL located by byte offsets found in one streaming pass, for Parquet
by the row groups from the file footer — so a worker reads exactly its slice and writes
``part-<i>.<fmt>`` next to it. The driver alone writes ``_manifest.json`` (atomically),
after each shard's file has been renamed into place; a shard is done only once the
manifest says so, so a kill at any moment leaves either a finished shard or one that is
redone.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from tagwise.errors import ConfigError, DataFormatError

Format = Literal["jsonl", "parquet"]
FORMATS: tuple[str, ...] = ("jsonl", "parquet")
MANIFEST = "_manifest.json"
MANIFEST_VERSION = 1
INPUT_COLUMNS = ("id", "title", "description")


@dataclass(frozen=True)
class Shard:
    """Rows ``start .. start + rows`` of the input (and, for JSONL, where they are)."""

    index: int
    start: int
    rows: int
    offset: int = 0  # JSONL: byte offset of the first line
    length: int = 0  # JSONL: bytes up to the end of the last line
    first_line: int = 1  # JSONL: 1-based line number, for error messages


@dataclass(frozen=True)
class Plan:
    """Every shard of one input file, and the identity a re-run must match."""

    source: str
    fmt: Format
    shard_size: int
    total_rows: int
    fingerprint: str
    shards: tuple[Shard, ...]


def input_format(path: Path) -> Format:
    """``parquet`` for ``.parquet``/``.pq``, else ``jsonl``."""
    return "parquet" if path.suffix.lower() in {".parquet", ".pq"} else "jsonl"


def _fingerprint(path: Path, shard_size: int) -> str:
    st = path.stat()
    blob = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{shard_size}".encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def plan_shards(path: Path, shard_size: int) -> Plan:
    """Cut ``path`` (JSONL or Parquet) into shards of ``shard_size`` rows."""
    if shard_size < 1:
        raise ConfigError(f"shard size must be ≥ 1, got {shard_size}")
    fmt = input_format(path)
    shards = _plan_parquet(path, shard_size) if fmt == "parquet" else _plan_jsonl(path, shard_size)
    total = sum(s.rows for s in shards)
    return Plan(
        source=str(path.resolve()),
        fmt=fmt,
        shard_size=shard_size,
        total_rows=total,
        fingerprint=_fingerprint(path, shard_size),
        shards=tuple(shards),
    )


def _plan_jsonl(path: Path, shard_size: int) -> list[Shard]:
    """One pass over the bytes: a shard boundary every ``shard_size`` non-blank lines."""
    shards: list[Shard] = []
    pos = start_pos = 0
    rows = start_row = 0
    first_line = 1
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if rows == 0:
                start_pos, first_line = pos, lineno
            pos += len(line)
            if line.strip():
                rows += 1
            if rows == shard_size:
                shards.append(
                    Shard(len(shards), start_row, rows, start_pos, pos - start_pos, first_line)
                )
                start_row += rows
                rows = 0
    if rows:
        shards.append(Shard(len(shards), start_row, rows, start_pos, pos - start_pos, first_line))
    return shards


def _plan_parquet(path: Path, shard_size: int) -> list[Shard]:
    import pyarrow.parquet as pq

    total = pq.ParquetFile(path).metadata.num_rows
    return [
        Shard(i, start, min(shard_size, total - start))
        for i, start in enumerate(range(0, total, shard_size))
    ]


def read_shard(source: str, fmt: Format, shard: Shard) -> list[dict[str, Any]]:
    """The input records of one shard; a bad line fails the shard, naming its line.

    Stricter than the local ``tagwise predict``, which skips and quarantines such a
    line: a shard's output must hold exactly its input's rows for the resumable
    bookkeeping, so the file is fixed and the run resumed instead.
    """
    if fmt == "parquet":
        return _read_parquet_rows(Path(source), shard.start, shard.rows)
    with open(source, "rb") as fh:
        fh.seek(shard.offset)
        data = fh.read(shard.length)
    records = []
    for lineno, line in enumerate(data.splitlines(), start=shard.first_line):
        if line.strip():
            records.append(_parse_line(source, line, lineno))
    if len(records) != shard.rows:
        raise DataFormatError(source, f"shard {shard.index} changed while reading; re-plan it")
    return records


def _parse_line(source: str, line: bytes, lineno: int) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataFormatError(source, f"not JSON ({exc.msg})", line=lineno) from None
    if not isinstance(obj, dict):
        raise DataFormatError(source, "each line must be a JSON object", line=lineno)
    for key in ("title", "description"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise DataFormatError(source, f"{key!r} must be a string", line=lineno)
    return obj


def _read_parquet_rows(path: Path, start: int, rows: int) -> list[dict[str, Any]]:
    """Rows ``start .. start + rows``, reading only the row groups that hold them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    columns = [c for c in INPUT_COLUMNS if c in pf.schema_arrow.names]
    groups, first = [], None
    group_start = 0
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if group_start + n > start and group_start < start + rows:
            groups.append(g)
            first = group_start if first is None else first
        group_start += n
    if not groups:
        return []
    table: pa.Table = pf.read_row_groups(groups, columns=columns)
    return table.slice(start - (first or 0), rows).to_pylist()


@dataclass
class Manifest:
    """What a run has finished: shard index → rows and file, plus the run's identity."""

    source: str
    fingerprint: str
    shard_size: int
    fmt: Format
    model: str
    total_rows: int
    n_shards: int
    shards: dict[int, dict[str, Any]] = field(default_factory=dict)
    complete: bool = False
    version: int = MANIFEST_VERSION

    @classmethod
    def for_plan(cls, plan: Plan, fmt: Format, model: str) -> Manifest:
        """A fresh manifest for ``plan`` writing ``fmt`` with ``model``."""
        return cls(
            source=plan.source,
            fingerprint=plan.fingerprint,
            shard_size=plan.shard_size,
            fmt=fmt,
            model=model,
            total_rows=plan.total_rows,
            n_shards=len(plan.shards),
        )

    def identity(self) -> dict[str, Any]:
        """The fields a re-run must agree on to reuse finished shards."""
        return {
            "fingerprint": self.fingerprint,
            "shard_size": self.shard_size,
            "fmt": self.fmt,
            "model": self.model,
        }

    def done_rows(self) -> int:
        """Output rows written so far."""
        return sum(int(s["rows"]) for s in self.shards.values())

    def save(self, outdir: Path) -> None:
        """Write atomically (temp file, fsync, rename): a kill never leaves half a manifest."""
        body = asdict(self)
        body["shards"] = {str(k): v for k, v in sorted(self.shards.items())}
        atomic_write_bytes(outdir / MANIFEST, json.dumps(body, indent=1).encode())

    @classmethod
    def load(cls, outdir: Path) -> Manifest | None:
        """The manifest in ``outdir``, or None if there is none yet."""
        path = outdir / MANIFEST
        if not path.is_file():
            return None
        body = json.loads(path.read_text())
        body["shards"] = {int(k): v for k, v in body.get("shards", {}).items()}
        return cls(**body)


def resume(outdir: Path, fresh: Manifest) -> Manifest:
    """The manifest to continue: the saved one if it is the same run, else ``fresh``.

    A saved manifest of a *different* run (other input, shard size, format or model) is
    refused rather than mixed with: the output would no longer be one row per input row.
    Shards whose file has gone missing are dropped, so they are redone.
    """
    saved = Manifest.load(outdir)
    if saved is None:
        return fresh
    if saved.identity() != fresh.identity():
        diff = {
            k: (v, fresh.identity()[k])
            for k, v in saved.identity().items()
            if v != fresh.identity()[k]
        }
        raise ConfigError(
            f"{outdir} holds a different run ({diff}); use another --output directory or delete it"
        )
    saved.shards = {i: s for i, s in saved.shards.items() if (outdir / s["file"]).is_file()}
    return saved


def shard_file(index: int, fmt: Format) -> str:
    """The output name of shard ``index``: sortable, and the same on every re-run."""
    return f"part-{index:05d}.{fmt}"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary sibling, fsync it, then rename over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def output_rows(
    records: Sequence[dict[str, Any]], suggestions: Iterable, long_tail: Iterable | None = None
) -> list[dict[str, Any]]:
    """``{"id", "tags": [{"tag", "score"}]}`` per input record: the stable predict format,
    plus ``long_tail`` when given (as ``tagwise predict`` writes it locally)."""
    from tagwise.predict import prediction_rows

    tail = list(long_tail) if long_tail is not None else None
    return prediction_rows([rec.get("id") for rec in records], list(suggestions), tail)


def write_shard(outdir: Path, index: int, fmt: Format, rows: list[dict[str, Any]]) -> str:
    """Write one shard's output atomically; returns its file name."""
    name = shard_file(index, fmt)
    if fmt == "parquet":
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows, schema=_output_schema(rows)), buf)
        data = buf.getvalue()
    else:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    atomic_write_bytes(outdir / name, data)
    return name


def _output_schema(rows: list[dict[str, Any]]):
    """Arrow schema of the output; the id type follows the input (int or string)."""
    import pyarrow as pa

    ids = [r["id"] for r in rows if r["id"] is not None]
    id_type = pa.int64() if ids and all(isinstance(i, int) for i in ids) else pa.string()
    if id_type == pa.string():
        for r in rows:
            r["id"] = None if r["id"] is None else str(r["id"])
    tag = pa.struct([("tag", pa.string()), ("score", pa.float64())])
    fields = [("id", id_type), ("tags", pa.list_(tag))]
    if rows and "long_tail" in rows[0]:
        tail = pa.struct(
            [
                ("tag", pa.string()),
                ("score", pa.float64()),
                ("similarity", pa.float64()),
                ("source", pa.string()),
                ("confidence", pa.string()),
            ]
        )
        fields.append(("long_tail", pa.list_(tail)))
    return pa.schema(fields)


def read_output_ids(outdir: Path, manifest: Manifest) -> list[Any]:
    """Every output id in shard order (for checking one output row per input row)."""
    ids: list[Any] = []
    for index in sorted(manifest.shards):
        path = outdir / manifest.shards[index]["file"]
        if manifest.fmt == "parquet":
            import pyarrow.parquet as pq

            ids.extend(pq.read_table(path, columns=["id"]).column("id").to_pylist())
        else:
            with path.open(encoding="utf-8") as fh:
                ids.extend(json.loads(line)["id"] for line in fh if line.strip())
    return ids
