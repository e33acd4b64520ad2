"""``tagwise predict --backend ray``: one output row per input row, Parquet, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", exc_type=ImportError)

from tagwise.distributed.batch import predict_ray
from tagwise.distributed.shards import MANIFEST, Manifest, read_output_ids

ROOT = Path(__file__).resolve().parents[2]
TITLES = [
    ("BERT for question answering", "Fine-tuning transformers on SQuAD."),
    ("Real-time pedestrian detection", "YOLO object detection on street video."),
    ("Playing Atari with deep RL", "Q-learning agents for games."),
    ("", ""),
]


def write_input(path: Path, n: int) -> list[str]:
    """``n`` JSONL projects with distinct string ids (plus a blank line to skip)."""
    ids = [f"p{i}" for i in range(n)]
    with path.open("w") as fh:
        for i, pid in enumerate(ids):
            title, description = TITLES[i % len(TITLES)]
            fh.write(json.dumps({"id": pid, "title": title, "description": description}) + "\n")
            if i == 3:
                fh.write("\n")
    return ids


def test_one_output_row_per_input_row_and_same_tags_as_local(
    ray_cluster, ray_settings, ray_home, tmp_path
):
    from tagwise.bundle import ModelBundle

    ids = write_input(tmp_path / "in.jsonl", 1050)
    out = tmp_path / "out"
    model = str(ray_home / "exported")
    result = predict_ray(ray_settings, model, tmp_path / "in.jsonl", out, shard_size=100, workers=2)
    assert (result.rows_total, result.rows_written, result.shards_total) == (1050, 1050, 11)
    manifest = Manifest.load(out)
    assert manifest is not None and manifest.complete
    assert read_output_ids(out, manifest) == ids
    first = json.loads((out / "part-00000.jsonl").read_text().splitlines()[0])
    local = ModelBundle.load(model).suggest_all([TITLES[0]])
    assert first == {
        "id": "p0",
        "tags": [{"tag": s.tag, "score": s.score} for s in local.tags[0]],
        "long_tail": [s.to_dict() for s in local.long_tail[0]],
    }
    again = predict_ray(ray_settings, model, tmp_path / "in.jsonl", out, shard_size=100)
    assert (again.rows_written, again.shards_skipped) == (0, 11)


def test_parquet_in_and_out(ray_cluster, ray_settings, ray_home, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": i, "title": t, "description": d} for i, (t, d) in enumerate(TITLES * 60)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet", row_group_size=70)
    out = tmp_path / "out"
    result = predict_ray(
        ray_settings,
        str(ray_home / "exported"),
        tmp_path / "in.parquet",
        out,
        shard_size=50,
        workers=2,
        out_fmt="parquet",
    )
    assert result.rows_total == 240 and result.shards_total == 5
    manifest = Manifest.load(out)
    assert read_output_ids(out, manifest) == list(range(240))
    table = pq.read_table(out / "part-00001.parquet")
    assert table.schema.field("tags").type.value_type.names == ["tag", "score"]
    assert table.schema.field("long_tail").type.value_type.names == [
        "tag",
        "score",
        "similarity",
        "source",
        "confidence",
    ]


def test_a_bad_line_is_a_clear_error_naming_it(ray_cluster, ray_settings, ray_home, tmp_path):
    from tagwise.errors import DataFormatError

    write_input(tmp_path / "in.jsonl", 30)
    with (tmp_path / "in.jsonl").open("a") as fh:
        fh.write("{not json\n")
    with pytest.raises(DataFormatError, match=r"in.jsonl:32: not JSON") as caught:
        predict_ray(
            ray_settings,
            str(ray_home / "exported"),
            tmp_path / "in.jsonl",
            tmp_path / "out",
            shard_size=10,
            workers=1,
        )
    # the worker's own error, pickled across with its fields (no stand-in class)
    assert caught.value.line == 32 and caught.value.path.endswith("in.jsonl")


def _done(out: Path) -> dict[int, dict]:
    try:
        return Manifest.load(out).shards  # type: ignore[union-attr]
    except (json.JSONDecodeError, AttributeError, FileNotFoundError):
        return {}


def test_a_run_killed_half_way_resumes_without_redoing_finished_shards(
    ray_cluster, ray_settings, ray_home, tmp_path
):
    n, shard = 60_000, 500
    ids = write_input(tmp_path / "in.jsonl", n)
    out = tmp_path / "out"
    model = str(ray_home / "exported")
    exe = str(Path(sys.executable).with_name("tagwise"))
    cmd = [
        exe,
        "predict",
        "--backend",
        "ray",
        "--model",
        model,
        "--input",
        str(tmp_path / "in.jsonl"),
        "--output",
        str(out),
        "--shard-size",
        str(shard),
        "--workers",
        "1",
    ]
    env = {**os.environ, "TAGWISE_HOME": str(ray_home), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_done(out)) < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray it started, mid-run
        proc.wait(timeout=30)
    done = _done(out)
    assert 5 <= len(done) < n // shard, f"kill did not land half-way ({len(done)} shards)"
    before = {i: (out / s["file"]).stat().st_mtime_ns for i, s in done.items()}

    result = predict_ray(ray_settings, model, tmp_path / "in.jsonl", out, shard_size=shard)
    assert result.shards_skipped == len(done)
    assert result.rows_written == n - sum(s["rows"] for s in done.values())
    assert {i: (out / s["file"]).stat().st_mtime_ns for i, s in done.items()} == before
    manifest = Manifest.load(out)
    assert manifest.complete and read_output_ids(out, manifest) == ids
    assert (out / MANIFEST).is_file()
