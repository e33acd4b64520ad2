"""Quality benchmark (issue 5): the champion beside the TF-IDF baseline, measured.

Usage: python benchmarks/quality.py [--config configs/champion.yaml] [--write docs/benchmarks.md]
       [--ablation]

On label protocol P1 (bundled data, `tagwise train` split) and on the temporal split:
micro-F1 with its bootstrap 95% CI, the other P1 metrics, expected calibration error,
single-suggestion latency (p50/p99, one torch thread) and training time from scratch.
Also: long-tail recall@10 (tags below min_freq, few-shot prototypes from train+val),
and with --ablation a cross-validated ablation on train+val only (the numbers the
choices were made on).
Single-label mode (categories.csv) is benchmarks/single_label.py.
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
TITLE = "Quality"
PROJECTS, TAGS = ROOT / "datasets" / "projects.json", ROOT / "datasets" / "tags.json"


def _latency(bundle, projects, n: int = 400, passes: int = 3) -> dict[str, float]:
    """Single-suggestion latency over fresh texts (never cached), median of ``passes``."""
    import os

    import numpy as np

    pairs = [(p.title, p.description) for p in projects]
    for pair in pairs[:30]:
        bundle.suggest_all([pair])  # warm-up
    p50s, p99s = [], []
    for rep in range(passes):
        samples = []
        for i in range(n):
            title, description = pairs[i % len(pairs)]
            pair = (f"{title} #{rep}-{i}", description)  # a new text: no embedding cache hit
            t0 = time.perf_counter()
            bundle.suggest_all([pair])  # the serving path: head + long tail
            samples.append((time.perf_counter() - t0) * 1000)
        p50s.append(float(np.percentile(samples, 50)))
        p99s.append(float(np.percentile(samples, 99)))
    return {
        "p50_ms": float(np.median(p50s)),
        "p99_ms": float(np.median(p99s)),
        "p99_min": min(p99s),
        "load": os.getloadavg()[0],
    }


def _encoder_note(params: dict) -> str:
    """The encoder settings latency depends on, e.g. ``, all-MiniLM-L6-v2 int8, ≤ 128 ...``."""
    for p in [*(m.get("params") or {} for m in params.get("members", [])), params]:
        if "encoder" in p:
            quant = p.get("quantization", "none")
            return (
                f", {p['encoder']} {'float32' if quant == 'none' else quant}, "
                f"≤ {p.get('max_seq_length', 256)} word pieces"
            )
    return ""


def _row(name, ev, ece=None, extra="") -> str:
    m, ci = ev.metrics, ev.ci
    ece_s = f"{ece:.3f}" if ece is not None else "–"
    return (
        f"| {name} | **{m['micro_f1']:.3f}** | {ci[1]:.3f}–{ci[2]:.3f} | "
        f"{m['micro_precision']:.3f} | {m['micro_recall']:.3f} | {m['macro_f1']:.3f} | "
        f"{m['p_at_1']:.3f} | {m['ndcg_at_5']:.3f} | {ev.bundle.policy.threshold:.2f} | "
        f"{ece_s} |{extra}"
    )


def _tail(prepared, split, result, taxonomy, settings) -> dict:
    """Recall@10 of tags below min_freq on test; few-shot prototypes from train+val only."""
    import numpy as np

    from tagwise.models.zeroshot import TailScorer, tail_recall_at_k

    by_id = {p.id: p for p in result.dataset.projects}
    closure = [taxonomy.closure(by_id[i].tags) for i in prepared.ids]
    head = set(prepared.labels.labels)
    fit_rows = np.concatenate([split.train, split.val])
    test_texts = [prepared.texts[i] for i in split.test]
    test_sets = [closure[i] - head for i in split.test]
    out = {}
    zero = TailScorer().fit(taxonomy, head)
    out["zero"] = tail_recall_at_k(zero, test_texts, test_sets, k=10)
    few = TailScorer().fit(
        taxonomy,
        head,
        [prepared.texts[i] for i in fit_rows],
        [closure[i] - head for i in fit_rows],
    )
    out["few"] = tail_recall_at_k(few, test_texts, test_sets, k=10)
    return out


def _ablation(
    prepared, split, taxonomy, settings, own: dict | None = None
) -> list[tuple[str, float, float]]:
    """5-fold CV on train+val: member OOF scores once, then each combination (stacked).

    ``own`` maps a backend name to the champion's parameters for it (encoder,
    quantization, ...), so the ablation scores the members the champion really uses.
    """
    import numpy as np

    from tagwise.models.base import FitContext
    from tagwise.models.ensemble import EnsembleModel
    from tagwise.models.registry import create_model
    from tagwise.policy import DecisionPolicy, label_parents, tune_policy
    from tagwise.split import kfold_indices

    rows = np.concatenate([split.train, split.val])
    texts = [prepared.texts[i] for i in rows]
    Y = prepared.Y[rows]
    ctx = FitContext(labels=prepared.labels, taxonomy=taxonomy, seed=settings.seed)
    own = own or {}
    members = {
        "tfidf": ("tfidf-linear", own.get("tfidf-linear", {}), "logit"),
        "emb-lr": ("embedding", own.get("embedding", {}), "logit"),
        "knn": ("knn", own.get("knn", {}), "identity"),
        "rules": ("rules", own.get("rules", {}), "identity"),
        "vocab-match": ("vocab-match", own.get("vocab-match", {}), "identity"),
    }
    folds = kfold_indices(Y, n_splits=5, seed=settings.seed)
    oof = {k: np.zeros(Y.shape) for k in members}
    for tr, va in folds:
        for key, (backend, params, _) in members.items():
            model = create_model(backend, params).fit([texts[i] for i in tr], Y[tr], ctx)
            oof[key][va] = model.predict_proba([texts[i] for i in va])
    base = DecisionPolicy(parents=label_parents(prepared.labels, taxonomy))

    def score(S):
        policy, curve = tune_policy(base, S, Y)
        return max(curve), policy.threshold

    def stacked(keys):
        spec = [{"backend": members[k][0], "link": members[k][2]} for k in keys]
        ens = EnsembleModel(members=spec)
        out = np.zeros(Y.shape)
        for tr, va in kfold_indices(Y, n_splits=5, seed=settings.seed + 1):
            ens._fit_combiner([oof[k][tr] for k in keys], Y[tr], settings.seed)
            out[va] = ens.combine([oof[k][va] for k in keys])
        return out

    table = [(f"{k} alone", *score(oof[k])) for k in members]
    mean3 = (oof["tfidf"] + oof["emb-lr"] + oof["knn"]) / 3
    table.append(("mean(tfidf, emb-lr, knn), uncalibrated", *score(mean3)))
    for keys in (
        ("tfidf", "emb-lr"),
        ("tfidf", "knn"),
        ("emb-lr", "knn"),
        ("tfidf", "emb-lr", "knn"),
        ("tfidf", "emb-lr", "knn", "rules"),
        ("tfidf", "emb-lr", "knn", "vocab-match"),
    ):
        table.append((f"stack({', '.join(keys)})", *score(stacked(keys))))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "champion.yaml")
    parser.add_argument("--write", type=Path, help="replace the section in a markdown file")
    parser.add_argument("--ablation", action="store_true", help="also run the CV ablation")
    args = parser.parse_args()
    args.config = args.config.resolve()  # the header names it relative to the repo
    pin_threads(1)
    from tagwise.config import load_settings
    from tagwise.evaluate.calibration import (
        expected_calibration_error,
        suggested_calibration_error,
    )
    from tagwise.pipeline import (
        evaluate_bundle,
        fit_and_evaluate,
        fit_tuned,
        load_inputs,
        make_split,
        prepare_dataset,
    )
    from tagwise.split import temporal_split

    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(args.config, home=Path(home), tracking={"enabled": False})
        base_settings = load_settings(home=Path(home), tracking={"enabled": False})
        backend, params = settings.model.backend, settings.model.params
        result, taxonomy = load_inputs(PROJECTS, TAGS, settings)
        prepared = prepare_dataset(result, taxonomy, settings)
        split = make_split(prepared, settings)
        test_texts, Y_test = prepared.subset(split.test)

        t0 = time.perf_counter()
        bundle, curve = fit_tuned(backend, params, prepared, split, taxonomy, settings)
        train_s = time.perf_counter() - t0
        champ = evaluate_bundle("champion", bundle, curve, test_texts, Y_test, settings)
        tfidf = fit_and_evaluate("tfidf-linear", {}, prepared, split, taxonomy, base_settings)
        ece = {
            name: expected_calibration_error(Y_test, ev.scores)
            for name, ev in (("champion", champ), ("tfidf", tfidf))
        }
        ece_shown = suggested_calibration_error(Y_test, champ.scores, champ.selected)
        latency = _latency(bundle, result.dataset.projects)

        cutoff = settings.split.temporal_cutoff
        tsplit = temporal_split(prepared.dates, cutoff, val_size=settings.split.val_size)
        t_champ = fit_and_evaluate(backend, params, prepared, tsplit, taxonomy, settings)
        t_tfidf = fit_and_evaluate("tfidf-linear", {}, prepared, tsplit, taxonomy, base_settings)
        tail = _tail(prepared, split, result, taxonomy, settings)

        say(header(TITLE, f"python benchmarks/quality.py --config {args.config.relative_to(ROOT)}"))
        say(
            f"P1 split: {split.sizes()}, {len(prepared.labels)} head labels; champion = "
            f"`{backend}` from `{args.config.relative_to(ROOT)}`. Thresholds tuned on val; "
            "the ensemble's stacker/calibration is fit on out-of-fold scores of train; "
            "test touched once, here."
        )
        say()
        say(
            "| model | micro-F1 | 95% CI | micro P | micro R | macro F1 | P@1 | NDCG@5 | "
            "threshold | ECE |"
        )
        say("|---|---|---|---|---|---|---|---|---|---|")
        say(_row("tagwise champion (P1 test)", champ, ece["champion"]))
        say(_row("TF-IDF + LR baseline (P1 test)", tfidf, ece["tfidf"]))
        say(_row(f"tagwise champion (temporal, after {cutoff:%Y-%m-%d})", t_champ))
        say(_row(f"TF-IDF + LR baseline (temporal, after {cutoff:%Y-%m-%d})", t_tfidf))
        say()
        say(
            f"- expected calibration error (15 bins, every test (doc, tag) pair): champion "
            f"**{ece['champion']:.3f}**, TF-IDF {ece['tfidf']:.3f}; over the shown tags "
            f"only (10 bins): {ece_shown:.3f}"
        )
        say(
            f"- single suggestion, in-process, raw title+description, 1 torch thread"
            f"{_encoder_note(params)}: "
            f"p50 **{latency['p50_ms']:.1f} ms**, p99 **{latency['p99_ms']:.1f} ms** (median "
            f"of 3 passes of 400; best pass p99 {latency['p99_min']:.1f} ms; machine load "
            f"average {latency['load']:.1f} on 2 cores while measuring)"
        )
        say(
            f"- training the champion from scratch (cold encoder cache; fit + OOF stacking + "
            f"val threshold): **{train_s:.0f} s**"
        )
        for key, label in (("zero", "zero-shot (vocabulary only)"), ("few", "few-shot")):
            r = tail[key]
            say(
                f"- long tail, {label}: recall@10 **{r['tail_recall_at_10']:.3f}** over "
                f"{r['tail_pairs']:.0f} (doc, tag) pairs of {r['tail_docs']:.0f} test docs, "
                f"ranking {r['tail_tags']:.0f} tags outside the head label space"
            )

        if args.ablation:
            say()
            say(
                "Ablation (5-fold CV on train+val only; member scores out-of-fold, stackers "
                "refit per fold; micro-F1 at the best global threshold):"
            )
            say()
            say("| configuration | CV micro-F1 | threshold |")
            say("|---|---|---|")
            own = {m["backend"]: dict(m.get("params") or {}) for m in params.get("members", [])}
            for name, f1, thr in _ablation(prepared, split, taxonomy, settings, own):
                say(f"| {name} | {f1:.3f} | {thr:.2f} |")

    if args.write:
        replace_section(args.write, TITLE, "\n".join(lines))
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
