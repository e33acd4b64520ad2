"""Single-label benchmark (issue 5): categories.csv, the champion beside TF-IDF, and its ceiling.

Usage: python benchmarks/single_label.py [--config configs/champion.yaml]
       [--write docs/benchmarks.md] [--seeds 42,7]

What it measures, on the stratified split `tagwise train` makes of datasets/categories.csv
(4 categories, 661 projects; the split is fixed by the seed, test is read once here):

1. the test split: accuracy, weighted F1 with its bootstrap 95% CI, macro F1, for the
   configured champion and the TF-IDF + LR baseline, both fit on train exactly as
   `tagwise train` does;
2. the choices: 5-fold stratified cross-validation on train+val only (repeated over
   ``--seeds``) for every member alone, the ensemble with and without the curated
   vocabulary, and a learning curve (fraction of each training fold kept) — the numbers
   the configuration was chosen on;
3. the date mix: the out-of-fold weighted F1 by creation-date quarter of train+val, and
   that estimate reweighted to the test split's dates (dates only, never its labels) —
   how much of a CV-vs-test gap later projects explain;
4. the ceiling: confident learning on the champion's out-of-fold probabilities over
   train+val (tagwise.evaluate.label_noise) — how many given labels the model confidently
   disagrees with, and the accuracy a model that agreed with the text on those rows
   could reach against the given labels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, pin_threads, replace_section

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Single-label mode"
CATEGORIES = ROOT / "datasets" / "categories.csv"
TAGS = ROOT / "datasets" / "tags.json"


def weighted_f1_ci(y_true, y_pred, labels, n_boot: int = 1000, seed: int = 42):
    """Point metrics and the bootstrap 95% CI of weighted F1 (resampling test projects)."""
    import numpy as np

    from tagwise.evaluate import single_label_metrics

    rng = np.random.default_rng(seed)
    point = single_label_metrics(y_true, y_pred, labels)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y_true), len(y_true))
        boots.append(single_label_metrics(y_true[idx], y_pred[idx], labels)["weighted_f1"])
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return point, float(lo), float(hi)


class CrossValidation:
    """Out-of-fold probabilities on train+val (stratified k-fold, repeated over seeds)."""

    def __init__(self, prepared, split, taxonomy, seeds: tuple[int, ...], folds: int = 5):
        import numpy as np

        from tagwise.models.base import FitContext

        self.rows = np.concatenate([split.train, split.val])
        self.texts = [prepared.texts[i] for i in self.rows]
        self.Y = prepared.Y[self.rows]
        self.y = self.Y.argmax(axis=1)
        self.labels = list(prepared.labels.labels)
        self.seeds, self.folds = seeds, folds
        self.context = FitContext(
            labels=prepared.labels, taxonomy=taxonomy, mode="single", seed=seeds[0]
        )

    def oof(self, backend: str, params: dict, *, keep: float = 1.0, seed: int) -> object:
        """Out-of-fold probabilities for one seed; ``keep`` < 1 subsamples each train fold."""
        import numpy as np
        from sklearn.model_selection import StratifiedKFold

        from tagwise.models.registry import create_model

        probs = np.zeros(self.Y.shape)
        rng = np.random.default_rng(seed)
        splits = StratifiedKFold(self.folds, shuffle=True, random_state=seed)
        for tr, va in splits.split(self.rows, self.y):
            if keep < 1.0:
                tr = np.sort(rng.choice(tr, size=round(keep * len(tr)), replace=False))
            model = create_model(backend, params).fit(
                [self.texts[i] for i in tr], self.Y[tr], self.context
            )
            probs[va] = model.predict_proba([self.texts[i] for i in va])
        return probs

    def weighted_f1(self, backend: str, params: dict, *, keep: float = 1.0) -> tuple[float, list]:
        """Mean weighted F1 of the out-of-fold predictions over the seeds, and the first OOF."""
        from tagwise.evaluate import single_label_metrics

        scores, first = [], None
        for seed in self.seeds:
            probs = self.oof(backend, params, keep=keep, seed=seed)
            first = probs if first is None else first
            pred = probs.argmax(axis=1)
            scores.append(single_label_metrics(self.y, pred, self.labels)["weighted_f1"])
        return sum(scores) / len(scores), first


def by_date_quarter(cv: CrossValidation, dates, oof, test_dates) -> tuple[list, float]:
    """OOF weighted F1 per creation-date quarter of train+val, and the test-mix estimate.

    The quarters are cut on train+val dates; each quarter's F1 is weighted by the share
    of *test* projects whose date falls in it (covariate-shift reweighting by date; an
    approximation, F1 not being linear in its rows, close at these sizes). A quarter
    left empty by tied dates is skipped.
    """
    import numpy as np

    from tagwise.evaluate import single_label_metrics

    stamps = np.array([d.timestamp() for d in dates])
    test_stamps = np.array([d.timestamp() for d in test_dates])
    edges = np.quantile(stamps, [0.25, 0.5, 0.75])
    quarter, test_quarter = np.searchsorted(edges, stamps), np.searchsorted(edges, test_stamps)
    pred = oof.argmax(axis=1)
    rows, estimate = [], 0.0
    for q in range(4):
        mask = quarter == q
        if not mask.any():
            continue
        f1 = single_label_metrics(cv.y[mask], pred[mask], cv.labels)["weighted_f1"]
        share = float(np.mean(test_quarter == q))
        first, last = min(np.array(dates)[mask]), max(np.array(dates)[mask])
        rows.append((f"{first:%Y-%m-%d} – {last:%Y-%m-%d}", int(mask.sum()), f1, share))
        estimate += share * f1
    return rows, estimate


def members(params: dict) -> list[tuple[str, str, dict]]:
    """(name, backend, params) of each ensemble member, for the ablation rows."""
    return [(m["backend"], m["backend"], m.get("params") or {}) for m in params["members"]]


def main() -> None:
    pin_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "champion.yaml")
    parser.add_argument("--write", type=Path)
    parser.add_argument("--seeds", default="42,7", help="CV repetitions (comma-separated)")
    args = parser.parse_args()

    import tempfile

    import numpy as np

    from tagwise.config import load_settings
    from tagwise.evaluate import single_label_metrics
    from tagwise.evaluate.label_noise import find_label_issues
    from tagwise.pipeline import fit_and_evaluate, load_inputs, make_split, prepare_dataset

    home = tempfile.mkdtemp(prefix="tagwise-single-")
    settings = load_settings(args.config, home=Path(home), tracking={"enabled": False})
    backend, params = settings.model.backend, dict(settings.model.params)
    seeds = tuple(int(s) for s in args.seeds.split(","))

    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    rel = args.config.resolve().relative_to(ROOT) if args.config.is_absolute() else args.config
    say(header(TITLE, f"python benchmarks/single_label.py --config {rel} --seeds {args.seeds}"))

    result, taxonomy = load_inputs(CATEGORIES, TAGS, settings)
    prepared = prepare_dataset(result, taxonomy, settings)
    split = make_split(prepared, settings)
    labels = list(prepared.labels.labels)
    _, Y_test = prepared.subset(split.test)
    y_test = Y_test.argmax(axis=1)
    say(
        f"`datasets/categories.csv`, stratified split {split.sizes()} (seed {settings.seed}); "
        f"vocabulary `datasets/tags.json` (its names, aliases and parents feed the "
        f"vocab-match member); champion = `{backend}` from `{rel}`."
    )
    say()
    say("Test split (read once, here; both models fit on train as `tagwise train` does):")
    say()
    say("| model | accuracy | weighted F1 | 95% CI | macro F1 |")
    say("|---|---|---|---|---|")
    for name, b, prm in (
        ("tagwise champion", backend, params),
        ("TF-IDF + LR baseline", "tfidf-linear", {}),
    ):
        ev = fit_and_evaluate(b, prm, prepared, split, taxonomy, settings)
        point, lo, hi = weighted_f1_ci(y_test, ev.selected.argmax(axis=1), labels)
        say(
            f"| {name} | {point['accuracy']:.3f} | **{point['weighted_f1']:.3f}** | "
            f"{lo:.3f}–{hi:.3f} | {point['macro_f1']:.3f} |"
        )

    cv = CrossValidation(prepared, split, taxonomy, seeds)
    say()
    say(
        f"Cross-validation on train+val only ({len(cv.rows)} projects, 5-fold stratified, "
        f"mean over seeds {args.seeds}): the numbers the configuration was chosen on."
    )
    say()
    say("| configuration | CV weighted F1 |")
    say("|---|---|")
    champion_cv, champion_oof = cv.weighted_f1(backend, params)
    say(f"| champion ({backend}) | **{champion_cv:.3f}** |")
    if backend == "ensemble":
        for name, b, prm in members(params):
            say(f"| {name} alone | {cv.weighted_f1(b, prm)[0]:.3f} |")
        no_vocab = {
            **params,
            "members": [m for m in params["members"] if m["backend"] != "vocab-match"],
        }
        without = cv.weighted_f1(backend, no_vocab)[0]
        say(f"| champion without the vocabulary member | {without:.3f} |")
    say(f"| TF-IDF + LR baseline | {cv.weighted_f1('tfidf-linear', {})[0]:.3f} |")

    say()
    say("Learning curve (champion, each CV training fold subsampled; same folds):")
    say()
    say("| share of each training fold | projects per fold | CV weighted F1 |")
    say("|---|---|---|")
    n_fold_train = round(len(cv.rows) * (cv.folds - 1) / cv.folds)
    for keep in (0.25, 0.5, 0.75):
        f1 = cv.weighted_f1(backend, params, keep=keep)[0]
        say(f"| {keep:.0%} | {round(keep * n_fold_train)} | {f1:.3f} |")
    say(f"| 100% | {n_fold_train} | {champion_cv:.3f} |")

    rows, estimate = by_date_quarter(
        cv,
        [prepared.dates[i] for i in cv.rows],
        champion_oof,
        [prepared.dates[i] for i in split.test],
    )
    say()
    say(
        f"By creation date (champion out-of-fold, seed {seeds[0]}; quarters of train+val; "
        f"the last column is the share of *test* projects created in that quarter — "
        f"their dates only, not their labels):"
    )
    say()
    say("| created | train+val projects | OOF weighted F1 | share of test |")
    say("|---|---|---|---|")
    for span, n, f1, share in rows:
        say(f"| {span} | {n} | {f1:.3f} | {share:.0%} |")
    unweighted = single_label_metrics(cv.y, champion_oof.argmax(axis=1), labels)["weighted_f1"]
    say()
    say(
        f"Reweighted to the test split's dates, the out-of-fold estimate is "
        f"**{estimate:.3f}** (unweighted {unweighted:.3f})."
    )

    issues = find_label_issues(cv.y, champion_oof)
    n_issues = issues.n_issues
    accuracy_oof = float(np.mean(champion_oof.argmax(axis=1) == cv.y))
    say()
    say(
        f"Label noise (confident learning on the champion's out-of-fold probabilities, "
        f"seed {seeds[0]}): **{n_issues}** of {len(cv.rows)} given labels "
        f"({issues.noise_rate:.1%}) are confidently contradicted by the text. The champion's "
        f"out-of-fold accuracy is {accuracy_oof:.3f}; if those labels are wrong, a model "
        f"that agrees with the text on them scores at most {1 - issues.noise_rate:.3f} "
        f"against the given labels. Most suspicious (given → what the text says):"
    )
    say()
    say("| project (title + description, cut) | given | suggested | p(given) |")
    say("|---|---|---|---|")
    for i in issues.issues[:12]:
        text = cv.texts[i][:90].replace("|", "/")
        given, suggested = labels[cv.y[i]], labels[issues.suggested[i]]
        say(f"| {text} | {given} | {suggested} | {champion_oof[i, cv.y[i]]:.2f} |")

    if args.write:
        replace_section(args.write, TITLE, "\n".join(lines))
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
