"""Foundation benchmark: P1 quality with baselines + CIs, temporal check, prediction speed.

Usage: python benchmarks/foundation.py [--write docs/benchmarks.md]
Trains with the default configuration (tracking off), so the numbers are those of
`tagwise train` on the bundled data; speed is measured in-process on one thread.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, pin_threads, replace_section

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Foundation: P1 quality and in-process speed (TF-IDF + logistic regression)"


def _speed(bundle, projects, repeats: int = 5) -> dict[str, float]:
    import numpy as np

    pairs = [(p.title, p.description) for p in projects]
    batch = (pairs * (10_000 // len(pairs) + 1))[:10_000]
    bundle.suggest(batch[:500])  # warm-up
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bundle.suggest(batch)
        rates.append(len(batch) / (time.perf_counter() - t0))
    p50s, p99s = [], []
    for _ in range(3):
        samples = []
        for pair in pairs[:1500]:
            t0 = time.perf_counter()
            bundle.suggest([pair])
            samples.append((time.perf_counter() - t0) * 1000)
        p50s.append(float(np.percentile(samples, 50)))
        p99s.append(float(np.percentile(samples, 99)))
    return {
        "batch_per_s": float(np.median(rates)),
        "batch_min": min(rates),
        "p50_ms": float(np.median(p50s)),
        "p99_ms": float(np.median(p99s)),
        "p99_max": max(p99s),
    }


def _row(name: str, metrics: dict, ci: tuple) -> str:
    m = metrics
    return (
        f"| {name} | **{m['micro_f1']:.3f}** | {ci[1]:.3f}–{ci[2]:.3f} | "
        f"{m['micro_precision']:.3f} | {m['micro_recall']:.3f} | {m['macro_f1']:.3f} | "
        f"{m['samples_f1']:.3f} | {m['p_at_1']:.3f} | {m['r_at_5']:.3f} | "
        f"{m['ndcg_at_5']:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="replace this section in a markdown file")
    args = parser.parse_args()
    pin_threads(1)

    from tagwise.config import load_settings
    from tagwise.data import load_dataset
    from tagwise.pipeline import (
        fit_and_evaluate,
        load_inputs,
        make_split,
        prepare_dataset,
        temporal_check,
    )

    projects, tags = ROOT / "datasets" / "projects.json", ROOT / "datasets" / "tags.json"
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home), tracking={"enabled": False})
        result, taxonomy = load_inputs(projects, tags, settings)
        prepared = prepare_dataset(result, taxonomy, settings)
        split = make_split(prepared, settings)
        t0 = time.perf_counter()
        main_ev = fit_and_evaluate("tfidf-linear", {}, prepared, split, taxonomy, settings)
        fit_s = time.perf_counter() - t0
        evs = [main_ev] + [
            fit_and_evaluate(b, {}, prepared, split, taxonomy, settings)
            for b in ("rules", "prior", "random")
        ]
        temporal = temporal_check(
            prepared, taxonomy, settings, [("tfidf-linear", {}), ("rules", {}), ("prior", {})]
        )
        speed = _speed(main_ev.bundle, load_dataset(projects).dataset.projects)

    cols = (
        "| model | micro-F1 | 95% CI | micro-P | micro-R | macro-F1 | samples-F1 | P@1 | "
        "R@5 | NDCG@5 |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [
        header(TITLE, "python benchmarks/foundation.py --write docs/benchmarks.md"),
        f"Protocol P1: {len(prepared.texts)} labelled projects "
        f"({prepared.n_dropped} without a head label dropped), {len(prepared.labels)} head "
        f"labels, split {split.sizes()}; threshold tuned on validation only "
        f"(chosen: {main_ev.bundle.policy.threshold:.2f}), top-k 5, taxonomy closure. "
        f"Fit + tune took {fit_s:.1f} s.\n",
        cols,
    ]
    lines += [_row(ev.name, ev.metrics, ev.ci) for ev in evs]
    lines.append(
        "| *peer: Annif 1.4.3 best ensemble — measured by benchmarks/peers/annif.sh, "
        "see Peers: Annif* | 0.757 | 0.71–0.80 | 0.771 | 0.743 | | 0.738 | 0.812 | | |"
    )
    lines.append("| *peer: Made With ML course model* | ≈0.68 | | | | | | | | |")
    if temporal:
        lines += [
            "",
            f"Temporal check: train before {temporal['cutoff']} "
            f"({temporal['n_train']} projects), test after ({temporal['n_test']}).",
            "",
            cols,
        ]
        lines += [_row(m["name"], m["metrics"], m["ci"]) for m in temporal["models"]]
    lines += [
        "",
        "In-process speed of `ModelBundle.suggest` (raw title + description → tags, "
        "normalisation and policy included), 1 thread:",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| batch of 10,000, median of 5 | {speed['batch_per_s']:,.0f} projects/s "
        f"(min {speed['batch_min']:,.0f}) | ≥ 3,000 |",
        f"| single, p50 (median of 3×1,500) | {speed['p50_ms']:.2f} ms | |",
        f"| single, p99 (median of 3×1,500) | {speed['p99_ms']:.2f} ms "
        f"(worst run {speed['p99_max']:.2f}) | ≤ 10 ms |",
    ]
    body = "\n".join(lines)
    print(body)
    if args.write:
        replace_section(args.write, TITLE, body)


if __name__ == "__main__":
    main()
