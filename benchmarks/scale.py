"""Scale benchmark: 1M synthetic projects through Ray Data, Ray overhead, memory, Ray Tune.

Usage: python benchmarks/scale.py [--rows 1000000] [--slice 200000] [--repeats 3]
                                  [--trials 16] [--write docs/benchmarks.md]

Synthetic data (deterministic, written to var/scale/, git-ignored): project ``i`` takes
the title of real project ``a_i`` and the description of real project ``b_i`` followed
by the first sentence of real project ``c_i``'s description, where ``a, b, c`` are
drawn with ``numpy.random.default_rng(42)`` over the 1,751 projects of
``datasets/projects.json``; ids are ``s0000000 …``. Same seed → byte-identical files.

Measured, in one process and one Ray instance (``num_cpus=2``), interleaved round by
round so a change in the machine's load hits every variant alike:
- throughput of the plain in-process path (``predict_file``, 1 thread) and of
  ``predict_ray`` with 1 and 2 actors on the first ``--slice`` rows (JSONL → JSONL);
- the full ``--rows`` file through Ray with 2 actors, killed half-way (``SIGKILL`` of a
  ``tagwise predict --backend ray --address auto`` subprocess) and resumed, then checked
  for exactly one output row per input row;
- Ray overhead on 1,000 rows (warm: Ray already up; cold: the CLI end to end);
- peak resident memory of the process tree (sampled from /proc every 0.2 s);
- Ray Tune wall time for ``--trials`` trials with 1 and 2 concurrent trials, and the
  best config of each against the local Optuna study (same space, budget and seed).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, pin_threads, replace_section

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "scale"
TITLE = "Scale-out (Ray)"
SHARD = 10_000


def synthesize(n: int, jsonl: Path, parquet: Path | None = None) -> None:
    """Write ``n`` recombined projects (see the module docstring) as JSONL (+ Parquet)."""
    import numpy as np

    if jsonl.is_file() and sum(1 for _ in jsonl.open("rb")) == n:
        return
    real = json.loads((ROOT / "datasets" / "projects.json").read_text())
    titles = [p["title"] for p in real]
    descs = [p["description"] or "" for p in real]
    firsts = [d.split(". ")[0] for d in descs]
    rng = np.random.default_rng(42)
    a, b, c = (rng.integers(0, len(real), n) for _ in range(3))
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    tmp = jsonl.with_suffix(".partial")
    with tmp.open("w", encoding="utf-8") as fh:
        for i in range(n):
            row = {
                "id": f"s{i:07d}",
                "title": titles[a[i]],
                "description": f"{descs[b[i]]} {firsts[c[i]]}",
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(jsonl)
    if parquet is not None:
        import pyarrow.json as pj
        import pyarrow.parquet as pq

        pq.write_table(pj.read_json(jsonl), parquet, row_group_size=SHARD)


def head(src: Path, dst: Path, n: int) -> Path:
    """The first ``n`` lines of ``src``."""
    if dst.is_file() and sum(1 for _ in dst.open("rb")) == n:
        return dst
    with src.open("rb") as fi, dst.open("wb") as fo:
        for i, line in enumerate(fi):
            if i >= n:
                break
            fo.write(line)
    return dst


def train_model(home: Path) -> Path:
    """The default TF-IDF model on the bundled data (tracking off), exported once."""
    from tagwise.config import load_settings
    from tagwise.pipeline import train

    out = home / "model"
    if not (out / "manifest.json").is_file():
        settings = load_settings(home=home, tracking={"enabled": False}, eval={"n_boot": 100})
        train(settings, ROOT / "datasets/projects.json", ROOT / "datasets/tags.json", out=out)
    return out


class TreeRSS:
    """Peak resident memory of this process and all its descendants, sampled from /proc."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()))
            self._stop.wait(self.interval)


def tree_rss(root: int) -> int:
    """Sum of VmRSS (bytes) over ``root`` and its descendants."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            status = (d / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parent[int(d.name)] = int(fields.get("PPid", "0").strip())
        rss[int(d.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier.extend(kids)
    return sum(rss.get(p, 0) for p in tree)


def run_local(model: Path, src: Path, out: Path) -> tuple[float, int]:
    """Plain in-process path: seconds and rows (includes loading the model)."""
    from tagwise.bundle import ModelBundle
    from tagwise.predict import predict_file

    t0 = time.perf_counter()
    n = predict_file(ModelBundle.load(model), src, out)
    return time.perf_counter() - t0, n


def run_ray(settings, model: Path, src: Path, out: Path, workers: int, shard: int = SHARD):
    """``predict_ray`` on the running Ray instance; (seconds, rows, busy rows/s per actor)."""
    import shutil

    from tagwise.distributed.batch import predict_ray

    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    r = predict_ray(settings, str(model), src, out, shard_size=shard, workers=workers)
    return time.perf_counter() - t0, r.rows_written, r.worker_rows_per_s


def kill_and_resume(settings, model: Path, src: Path, out: Path, rows: int) -> dict:
    """Kill a CLI run half-way (it joins this process's Ray), resume in-process, check rows."""
    import shutil

    from tagwise.distributed.batch import predict_ray
    from tagwise.distributed.shards import Manifest, read_output_ids

    shutil.rmtree(out, ignore_errors=True)
    exe = str(Path(sys.executable).with_name("tagwise"))
    cmd = [
        exe,
        "predict",
        "--backend",
        "ray",
        "--address",
        "auto",
        "--model",
        str(model),
        "--input",
        str(src),
        "--output",
        str(out),
        "--shard-size",
        str(SHARD),
        "--workers",
        "2",
    ]
    n_shards = -(-rows // SHARD)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    while proc.poll() is None:
        m = _manifest(out)
        if m is not None and len(m.shards) >= n_shards // 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = time.perf_counter() - t0
    done = _manifest(out).shards
    mtimes = {i: (out / s["file"]).stat().st_mtime_ns for i, s in done.items()}
    t1 = time.perf_counter()
    r = predict_ray(settings, str(model), src, out, shard_size=SHARD, workers=2)
    second = time.perf_counter() - t1
    manifest = Manifest.load(out)
    ids = read_output_ids(out, manifest)
    untouched = all((out / done[i]["file"]).stat().st_mtime_ns == t for i, t in mtimes.items())
    return {
        "rows_in": rows,
        "rows_out": len(ids),
        "unique_ids": len(set(ids)),
        "ids_match": ids == [f"s{i:07d}" for i in range(rows)],
        "killed_after_shards": len(done),
        "shards": n_shards,
        "skipped": r.shards_skipped,
        "finished_untouched": untouched,
        "first_s": first,
        "resume_s": second,
        "resume_rows": r.rows_written,
    }


def _manifest(out: Path):
    from tagwise.distributed.shards import Manifest

    try:
        return Manifest.load(out)
    except (json.JSONDecodeError, OSError):
        return None


def cold_cli(model: Path, src: Path, out: Path, backend: str) -> float:
    """The CLI end to end (interpreter, imports, Ray start for ``ray``)."""
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    exe = str(Path(sys.executable).with_name("tagwise"))
    args = [exe, "predict", "--model", str(model), "--input", str(src), "--backend", backend]
    args += ["--output", str(out if backend == "ray" else out.with_suffix(".jsonl"))]
    if backend == "ray":
        args += ["--workers", "1"]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - t0


def tfidf_space(trial) -> dict:
    """The TF-IDF search space used for the tuning comparison (C, word n-grams, min_df)."""
    return {
        "backend": "tfidf-linear",
        "params": {
            "C": round(trial.suggest_float("C", 0.5, 50.0, log=True), 4),
            "word_ngrams": [1, trial.suggest_int("word_max", 1, 2)],
            "min_df": trial.suggest_int("min_df", 1, 3),
        },
    }


def tuning(settings, trials: int) -> dict:
    """Local study vs Ray Tune with 1 and 2 concurrent trials, same space/budget/seed."""
    from tagwise.distributed.tuning import run_study_ray
    from tagwise.pipeline import load_inputs, make_split, prepare_dataset
    from tagwise.tune import run_study

    loaded, taxonomy = load_inputs(
        ROOT / "datasets/projects.json", ROOT / "datasets/tags.json", settings
    )
    prepared = prepare_dataset(loaded, taxonomy, settings)
    split = make_split(prepared, settings)
    common = {"n_trials": trials, "n_splits": 3, "space": tfidf_space}
    out: dict = {}
    t0 = time.perf_counter()
    local = run_study(settings, prepared, split, taxonomy, out=VAR / "best-local.yaml", **common)
    out["local"] = (time.perf_counter() - t0, local)
    for name, sched, conc in (("median1", "median", 1), ("asha1", "asha", 1), ("asha2", "asha", 2)):
        t0 = time.perf_counter()
        r = run_study_ray(
            settings,
            prepared,
            split,
            taxonomy,
            out=VAR / f"best-ray-{name}.yaml",
            max_concurrent=conc,
            cpus_per_trial=1,
            scheduler=sched,
            **common,
        )
        out[name] = (time.perf_counter() - t0, r)
        same = (VAR / f"best-ray-{name}.yaml").read_text() == (VAR / "best-local.yaml").read_text()
        out[f"same_{name}"] = same
        print("tune", name, out[name], same, "load", load(), flush=True)
    return out


def load() -> str:
    """The 1/5/15-minute load averages, to read beside every number."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--slice", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--skip-tune", action="store_true")
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    pin_threads(1)
    # Ray runs its workers at nice 15; on this shared machine that hands the CPU to every
    # other process, so the comparison with the (nice 0) in-process path is made at nice 0
    # for both. A dedicated Ray node has nothing to yield to, and keeps Ray's default.
    os.environ.setdefault("RAY_worker_niceness", "0")
    import logging

    import ray

    from tagwise.config import load_settings

    logging.getLogger("ray").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    big = VAR / f"projects-{args.rows}.jsonl"
    synthesize(args.rows, big, VAR / f"projects-{args.rows}.parquet")
    synth_s = time.perf_counter() - t0
    small = head(big, VAR / f"projects-{args.slice}.jsonl", args.slice)
    tiny = head(big, VAR / "projects-1000.jsonl", 1000)
    home = VAR / "home"
    model = train_model(home)
    settings = load_settings(home=home, tracking={"enabled": False})
    log: dict = {"load_start": load(), "synth_s": synth_s}
    print("synthesised", synth_s, "load", load(), flush=True)

    cold = {"local": [], "ray": []}
    for _ in range(args.repeats):  # before Ray is up here, so the CLI starts its own
        for backend in ("local", "ray"):
            cold[backend].append(cold_cli(model, tiny, VAR / f"cold-{backend}", backend))
    print("cold", cold, flush=True)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        rates: dict[str, list[float]] = {"local": [], "ray1": [], "ray2": []}
        warm1k: dict[str, list[float]] = {"local": [], "ray1": []}
        peaks: dict[str, int] = {}
        busy: dict[str, list[float]] = {}
        log["idle_rss"] = tree_rss(os.getpid())  # this process + an idle Ray instance
        for rnd in range(args.repeats):
            for name in ("local", "ray1", "ray2"):
                with TreeRSS() as mem:
                    if name == "local":
                        s, n = run_local(model, small, VAR / "out-local.jsonl")
                    else:
                        s, n, b = run_ray(
                            settings, model, small, VAR / f"out-{name}", int(name[-1])
                        )
                        busy.setdefault(name, []).append(b)
                assert n == args.slice, (name, n)
                rates[name].append(n / s)
                peaks[name] = max(peaks.get(name, 0), mem.peak)
                print(rnd, name, f"{n / s:.0f}/s", "load", load(), flush=True)
            warm1k["local"].append(run_local(model, tiny, VAR / "tiny-local.jsonl")[0])
            warm1k["ray1"].append(run_ray(settings, model, tiny, VAR / "tiny-ray", 1, 1000)[0])
        log.update(
            rates=rates, busy=busy, peaks=peaks, warm1k=warm1k, cold=cold, load_after_rates=load()
        )
        with TreeRSS() as mem:
            log["full"] = kill_and_resume(settings, model, big, VAR / "out-full", args.rows)
        log["full"]["peak_rss"] = mem.peak
        log["load_after_full"] = load()
        print("full", log["full"], flush=True)
        if not args.skip_tune:
            tsettings = load_settings(home=home, tracking={"enabled": False})
            log["tune"] = tuning(tsettings, args.trials)
            log["load_after_tune"] = load()
    finally:
        ray.shutdown()
    (VAR / "scale-results.json").write_text(json.dumps(log, indent=1, default=str))
    body = report(log, args)
    print(body)
    if args.write:
        replace_section(args.write, TITLE, body)


def report(log: dict, args) -> str:
    """The markdown section for docs/benchmarks.md."""
    med = {k: statistics.median(v) for k, v in log["rates"].items()}
    mib = {k: (v - log["idle_rss"]) / 2**20 for k, v in log["peaks"].items()}
    f = log["full"]
    cmd = "python benchmarks/scale.py --write docs/benchmarks.md"
    lines = [
        header(TITLE, cmd),
        f"Load average (1/5/15 min) at start {log['load_start']}, after the throughput rounds "
        f"{log['load_after_rates']}, after the 1M run {log['load_after_full']}: the machine was "
        "shared with other work, so every number is a median of interleaved rounds and "
        "still carries that noise. Ray workers ran at nice 0 like the in-process path "
        "(`RAY_worker_niceness=0`; Ray's default of 15 lets any other process on a shared "
        "machine take their CPU first).",
        "",
        f"Data: {args.rows:,} synthetic projects recombined deterministically from the 1,751 "
        "real ones (title of one, description of another plus the first sentence of a third, "
        "drawn with `default_rng(42)`), JSONL; model: the default TF-IDF + logistic "
        f"regression. Throughput on the first {args.slice:,} rows, JSONL → JSONL, shard "
        f"{SHARD:,} rows, wall time including actor start and model load, median of "
        f"{args.repeats} rounds. Memory: peak resident memory of this process and its "
        f"descendants (Ray's too), sampled every 0.2 s, minus the same tree idle "
        f"({log['idle_rss'] / 2**20:,.0f} MiB: the driver with the model and data modules "
        "imported plus an idle local Ray).",
        "",
        "| path | projects/s (median) | rounds | peak RSS added to the idle tree |",
        "|---|---:|---|---:|",
        f"| plain in-process `predict_file` (1 thread) | {med['local']:,.0f} | "
        f"{', '.join(f'{r:,.0f}' for r in log['rates']['local'])} | {mib['local']:,.0f} MiB |",
        f"| Ray Data, 1 actor | {med['ray1']:,.0f} | "
        f"{', '.join(f'{r:,.0f}' for r in log['rates']['ray1'])} | {mib['ray1']:,.0f} MiB |",
        f"| Ray Data, 2 actors | {med['ray2']:,.0f} | "
        f"{', '.join(f'{r:,.0f}' for r in log['rates']['ray2'])} | {mib['ray2']:,.0f} MiB |",
        "",
        f"- 2 actors / 1 actor: **{med['ray2'] / med['ray1']:.2f}×** (target ≥ 1.6×)",
        "- one actor's busy throughput (rows / seconds inside `ShardPredictor`, read + predict "
        f"+ write; median): 1 actor {statistics.median(log['busy']['ray1']):,.0f}/s, "
        f"2 actors {statistics.median(log['busy']['ray2']):,.0f}/s each",
        f"- Ray per core vs plain in-process: 1 actor {med['ray1'] / med['local']:.2f}×, "
        f"2 actors {med['ray2'] / 2 / med['local']:.2f}× (target ≥ 0.8×)",
        "",
        f"Full run: {f['rows_in']:,} rows, 2 actors, killed (SIGKILL of the CLI driver) after "
        f"{f['killed_after_shards']} of {f['shards']} shards ({f['first_s']:.0f} s), resumed: "
        f"{f['skipped']} shards skipped, {f['resume_rows']:,} rows predicted in "
        f"{f['resume_s']:.0f} s; finished shards untouched (mtime): {f['finished_untouched']}; "
        f"output rows {f['rows_out']:,}, distinct ids {f['unique_ids']:,}, ids in input order: "
        f"{f['ids_match']}; peak RSS of the tree {f['peak_rss'] / 2**20:,.0f} MiB.",
        "",
        "Ray overhead on 1,000 rows (median of rounds):",
        "",
        "| | plain | Ray |",
        "|---|---:|---:|",
        f"| warm (Ray already up; Ray = actor start + model load + run) | "
        f"{statistics.median(log['warm1k']['local']):.2f} s | "
        f"{statistics.median(log['warm1k']['ray1']):.2f} s |",
        f"| cold (`tagwise predict` end to end; Ray = starts a local Ray) | "
        f"{statistics.median(log['cold']['local']):.2f} s | "
        f"{statistics.median(log['cold']['ray']):.2f} s |",
    ]
    if "tune" in log:
        t = log["tune"]

        def row(name: str, label: str) -> str:
            secs, r = t[name]
            return (
                f"| {label} | {secs:.0f} s | {r.best_value:.4f} "
                f"| `{json.dumps(r.model['params'])}` | {r.n_pruned} |"
            )

        lines += [
            "",
            f"Tuning: {args.trials} trials of a TF-IDF space (C, word n-grams, min_df), 3-fold "
            "CV micro-F1 on train+val, TPE seed 42; local = `tagwise.tune.run_study` (median "
            "pruner), Ray = `run_study_ray` (OptunaSearch with the same sampler and seed; "
            "ASHA, or the local median pruner), 1 CPU per trial, one run each:",
            "",
            "| run | wall time | best CV micro-F1 | best params | pruned |",
            "|---|---:|---:|---|---:|",
            row("local", "local Optuna (median pruner), sequential"),
            row("median1", "Ray Tune, local pruning rule, 1 concurrent trial"),
            row("asha1", "Ray Tune, ASHA, 1 concurrent trial"),
            row("asha2", "Ray Tune, ASHA, 2 concurrent trials"),
            "",
            "Best config file byte-identical to the local one: "
            + ", ".join(f"{n} {t[f'same_{n}']}" for n in ("median1", "asha1", "asha2"))
            + f". ASHA 2 vs 1 concurrent trials: {t['asha1'][0] / t['asha2'][0]:.2f}× faster.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
