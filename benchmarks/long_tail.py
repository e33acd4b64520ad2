"""Long-tail suggestions (issue 5): what the shown low-confidence tags are worth, per encoder.

Usage: python benchmarks/long_tail.py [--write docs/benchmarks.md]

On the P1 split of the bundled data: the tags below min_freq (outside the 22 head labels)
are scored by ``TailScorer`` exactly as ``tagwise train`` fits it (``policy.long_tail``
defaults: few-shot prototypes and the similarity floors from train+val, k = 3, floor
calibrated at a false-alarm rate of 0.001). On test: recall@10 of the ranking, and of
the tags actually *shown* (above the floor, at most k): how many per project, precision
against the author's tags (a lower bound: authors under-tag) and recall. Also the time
the long tail adds to one suggestion. Encoders: ``hashing`` (what the TF-IDF default gets),
all-MiniLM-L6-v2 in float, and the champion's own encoder variant (int8, inputs cut at
128 word pieces: what ``make run`` serves, read from configs/champion.yaml) when installed.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import header, pin_threads, replace_section

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Long tail"
PROJECTS, TAGS = ROOT / "datasets" / "projects.json", ROOT / "datasets" / "tags.json"


def _shown(scorer, texts, tag_sets) -> dict[str, float]:
    rows = scorer.suggest(texts)
    shown = sum(len(r) for r in rows)
    hits = sum(s.tag in wanted for r, wanted in zip(rows, tag_sets, strict=True) for s in r)
    pairs = sum(len(set(w) & set(scorer.tags_)) for w in tag_sets)
    return {
        "per_doc": shown / len(texts),
        "docs_with_any": sum(bool(r) for r in rows) / len(texts),
        "precision": hits / shown if shown else 0.0,
        "recall": hits / pairs if pairs else 0.0,
        "zero": sum(s.source == "zero-shot" for r in rows for s in r),
        "few": sum(s.source == "few-shot" for r in rows for s in r),
    }


def _latency(scorer, texts, n: int = 300) -> dict[str, float]:
    import numpy as np

    fresh, cached = [], []
    for i in range(n):
        text = f"{texts[i % len(texts)]} ({i})"  # never seen: pays for the embedding
        t0 = time.perf_counter()
        scorer.suggest([text])
        fresh.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        scorer.suggest([text])  # what a model that embedded the text already pays
        cached.append((time.perf_counter() - t0) * 1000)
    return {
        "fresh_p50": float(np.percentile(fresh[30:], 50)),
        "fresh_p99": float(np.percentile(fresh[30:], 99)),
        "cached_p50": float(np.percentile(cached[30:], 50)),
    }


def champion_encoder() -> dict:
    """The encoder parameters the champion's members use (configs/champion.yaml)."""
    from tagwise.config import load_settings
    from tagwise.models.embedding import ENCODER_DEFAULTS

    model = load_settings(ROOT / "configs" / "champion.yaml").model
    for member in model.params.get("members", []):
        params = member.get("params") or {}
        if "encoder" in params:
            return {k: params[k] for k in ENCODER_DEFAULTS if k in params}
    raise ValueError("configs/champion.yaml has no member with an encoder")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="replace the section in a markdown file")
    args = parser.parse_args()
    pin_threads(1)
    import numpy as np

    from tagwise.config import load_settings
    from tagwise.models.embedding import check_encoder_available
    from tagwise.models.zeroshot import TailScorer, tail_recall_at_k
    from tagwise.pipeline import load_inputs, make_split, prepare_dataset, tail_params

    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    settings = load_settings(home=ROOT / "var" / "bench-long-tail", tracking={"enabled": False})
    result, taxonomy = load_inputs(PROJECTS, TAGS, settings)
    prepared = prepare_dataset(result, taxonomy, settings)
    split = make_split(prepared, settings)
    head = set(prepared.labels.labels)
    fit_rows = np.concatenate([split.train, split.val])
    fit_texts = [prepared.texts[i] for i in fit_rows]
    fit_sets = [prepared.tag_sets[i] - head for i in fit_rows]
    test_texts = [prepared.texts[i] for i in split.test]
    test_sets = [prepared.tag_sets[i] - head for i in split.test]

    encoders: list[tuple[str, dict]] = [("hashing", {"encoder": "hashing"})]
    try:
        check_encoder_available("all-MiniLM-L6-v2")
        encoders.append(("all-MiniLM-L6-v2", {"encoder": "all-MiniLM-L6-v2"}))
    except Exception as exc:  # the embeddings extra is not installed
        print(f"skipping MiniLM: {exc}", file=sys.stderr)
    else:
        try:
            champion = champion_encoder()
        except Exception as exc:  # configs/champion.yaml changed shape
            print(f"skipping the champion's encoder variant: {exc}", file=sys.stderr)
        else:
            quantization, length = (
                champion.get("quantization", "none"),
                champion.get("max_seq_length"),
            )
            variant = f"{quantization}, len {length}"
            encoders.append((f"all-MiniLM-L6-v2 {variant} (champion)", champion))

    rows = []
    for encoder, variant_params in encoders:
        params = {**tail_params(settings, None), **variant_params}
        t0 = time.perf_counter()
        scorer = TailScorer(**params).fit(taxonomy, head, fit_texts, fit_sets)
        fit_s = time.perf_counter() - t0
        zero = TailScorer(**params).fit(taxonomy, head)
        fixed = copy.copy(scorer)  # the same prototypes, the old fixed floor
        fixed.floors_ = None
        rows.append(
            (
                encoder,
                tail_recall_at_k(zero, test_texts, test_sets, k=10),
                tail_recall_at_k(scorer, test_texts, test_sets, k=10),
                _shown(scorer, test_texts, test_sets),
                scorer.floors_,
                _latency(scorer, test_texts),
                fit_s,
                _shown(fixed, test_texts, test_sets),
            )
        )

    say(header(TITLE, "python benchmarks/long_tail.py"))
    r0 = rows[0][2]
    say(
        f"P1 split {split.sizes()}; {int(r0['tail_tags'])} vocabulary tags outside the "
        f"{len(head)} head labels; {int(r0['tail_pairs'])} (project, long-tail tag) pairs in "
        f"{int(r0['tail_docs'])} of {len(test_texts)} test projects. Prototypes and floors "
        "from train+val only; `policy.long_tail` defaults (k = 3, false-alarm rate 0.001)."
    )
    say()
    say(
        "| encoder | recall@10 zero-shot | recall@10 few-shot | floors zero / few | "
        "shown per project | projects with any | precision of shown | recall of shown | "
        "added ms p50 / p99 (cached p50) | fit s |"
    )
    say("|---|---|---|---|---|---|---|---|---|---|")
    for encoder, zero, few, shown, floors, lat, fit_s, _ in rows:
        fz, ff = (floors or {}).get("zero-shot"), (floors or {}).get("few-shot")
        say(
            f"| {encoder} | {zero['tail_recall_at_10']:.3f} | **{few['tail_recall_at_10']:.3f}** "
            f"| {fz:.3f} / {ff:.3f} | {shown['per_doc']:.2f} | {shown['docs_with_any']:.0%} | "
            f"**{shown['precision']:.3f}** | {shown['recall']:.3f} | "
            f"{lat['fresh_p50']:.2f} / {lat['fresh_p99']:.2f} ({lat['cached_p50']:.2f}) | "
            f"{fit_s:.1f} |"
        )
    say()
    for encoder, *_, fixed_shown in rows:
        say(
            f"- {encoder} with a fixed floor of {settings.policy.long_tail.min_similarity} "
            f"instead (no calibration): {fixed_shown['per_doc']:.2f} shown per project, on "
            f"{fixed_shown['docs_with_any']:.0%} of projects, precision "
            f"{fixed_shown['precision']:.3f}"
        )
    say(
        "- precision counts a shown tag as right only when the author gave it (or a "
        "descendant): a lower bound, authors under-tag"
    )
    say(
        "- added ms: `TailScorer.suggest` on one new text (embedding included); cached = the "
        "text was embedded already, as in a model whose members use the same encoder; "
        f"1 thread, machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if args.write:
        replace_section(args.write, TITLE, "\n".join(lines))


if __name__ == "__main__":
    main()
