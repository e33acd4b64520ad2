"""Shard planning and the resumable manifest of ``predict --backend ray`` (no Ray needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagwise.distributed.shards import (
    Manifest,
    plan_shards,
    read_output_ids,
    read_shard,
    resume,
    write_shard,
)
from tagwise.errors import ConfigError, DataFormatError


def _jsonl(path: Path, n: int, blank_every: int = 0) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": i, "title": f"t{i}", "description": "é"}) + "\n")
            if blank_every and i % blank_every == 0:
                fh.write("\n")
    return path


def test_jsonl_shards_cover_every_row_once_and_skip_blank_lines(tmp_path):
    path = _jsonl(tmp_path / "in.jsonl", 23, blank_every=4)
    plan = plan_shards(path, 5)
    assert [s.rows for s in plan.shards] == [5, 5, 5, 5, 3] and plan.total_rows == 23
    ids = [r["id"] for s in plan.shards for r in read_shard(plan.source, plan.fmt, s)]
    assert ids == list(range(23))


def test_a_bad_line_names_its_line_number(tmp_path):
    path = _jsonl(tmp_path / "in.jsonl", 7)
    with path.open("a") as fh:
        fh.write("[1, 2]\n")
    plan = plan_shards(path, 3)
    with pytest.raises(DataFormatError, match=r"in.jsonl:8: each line must be a JSON object"):
        read_shard(plan.source, plan.fmt, plan.shards[-1])


def test_parquet_shards_read_only_their_rows_across_row_groups(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [{"id": i, "title": f"t{i}"} for i in range(100)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet", row_group_size=30)
    plan = plan_shards(tmp_path / "in.parquet", 40)
    assert [(s.start, s.rows) for s in plan.shards] == [(0, 40), (40, 40), (80, 20)]
    got = [r["id"] for s in plan.shards for r in read_shard(plan.source, plan.fmt, s)]
    assert got == list(range(100))


def test_manifest_resumes_the_same_run_and_refuses_another(tmp_path):
    path = _jsonl(tmp_path / "in.jsonl", 10)
    plan = plan_shards(path, 4)
    out = tmp_path / "out"
    out.mkdir()
    manifest = Manifest.for_plan(plan, "jsonl", "v1")
    name = write_shard(out, 0, "jsonl", [{"id": i, "tags": []} for i in range(4)])
    manifest.shards[0] = {"rows": 4, "file": name}
    manifest.shards[1] = {"rows": 4, "file": "part-00001.jsonl"}  # recorded, file lost
    manifest.save(out)
    again = resume(out, Manifest.for_plan(plan, "jsonl", "v1"))
    assert set(again.shards) == {0}  # a shard whose file is gone is redone
    assert read_output_ids(out, again) == [0, 1, 2, 3]
    with pytest.raises(ConfigError, match="different run"):
        resume(out, Manifest.for_plan(plan, "jsonl", "v2"))
    with pytest.raises(ConfigError, match="different run"):
        resume(out, Manifest.for_plan(plan_shards(path, 3), "jsonl", "v1"))


def test_shard_size_must_be_positive(tmp_path):
    with pytest.raises(ConfigError):
        plan_shards(_jsonl(tmp_path / "in.jsonl", 1), 0)
