"""Export tagwise's label protocol P1 splits in Annif's formats.

Runs in the *tagwise* virtualenv and uses tagwise's own functions, so the peer sees
exactly the rows, texts and labels that tagwise is measured on:

- ``vocab.ttl``  SKOS concepts of the head labels (prefLabel = the tag with spaces,
  altLabel = its ``tags.json`` aliases, ``skos:broader`` = its parents inside the head
  set), URIs ``http://tagwise.local/tag/NAME``; ``vocab.tsv`` is the same as
  Annif's simple ``<uri>\\tlabel`` format.
- ``train.tsv``, ``val.tsv``, ``test.tsv``  Annif TSV corpora ``text\\t<uri> <uri>``,
  the text being tagwise's normalised ``project_text`` (title + description).
- ``split.json``  labels, row indices and project ids of every part.

Two splits: ``p1`` (iterative stratification 70/15/15, seed 42) and ``temporal``
(train before the cutoff, its most recent 15 % as val, test after it).

    .venv/bin/python benchmarks/peers/export_split.py --out var/peers/export
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagwise.config import Settings, load_settings
from tagwise.pipeline import load_inputs, make_split, prepare_dataset
from tagwise.prepare import Prepared
from tagwise.split import Split, temporal_split
from tagwise.taxonomy import Taxonomy

ROOT = Path(__file__).resolve().parents[2]
URI_BASE = "http://tagwise.local/tag/"
SPLITS = ("p1", "temporal")


def tag_uri(tag: str) -> str:
    """The Annif subject URI of a tagwise tag."""
    return URI_BASE + tag


@dataclass
class Exported:
    """One split as tagwise sees it, plus where its Annif files were written."""

    name: str
    prepared: Prepared
    taxonomy: Taxonomy
    split: Split
    settings: Settings
    directory: Path


def load_p1(projects: Path, tags: Path, settings: Settings) -> tuple[Prepared, Taxonomy]:
    """P1 labels of the bundled data, exactly as ``tagwise train`` builds them."""
    result, taxonomy = load_inputs(projects, tags, settings)
    return prepare_dataset(result, taxonomy, settings), taxonomy


def split_for(name: str, prepared: Prepared, settings: Settings) -> Split:
    """The P1 split or the temporal split, with tagwise's defaults."""
    if name == "p1":
        return make_split(prepared, settings)
    if name == "temporal":
        return temporal_split(
            prepared.dates, settings.split.temporal_cutoff, val_size=settings.split.val_size
        )
    raise ValueError(f"unknown split {name!r}; valid: {SPLITS}")


def _turtle_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"@en'


def _label_text(tag: str) -> str:
    return tag.replace("-", " ")


def vocab_turtle(labels: tuple[str, ...], taxonomy: Taxonomy) -> str:
    """SKOS Turtle of the head labels (aliases as altLabel, parents as broader)."""
    head = set(labels)
    lines = [
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "",
    ]
    for tag in labels:
        info = taxonomy.info(tag)
        props = ["a skos:Concept", f"skos:prefLabel {_turtle_literal(_label_text(tag))}"]
        alts = sorted({_label_text(a) for a in info.aliases} - {_label_text(tag)})
        props += [f"skos:altLabel {_turtle_literal(a)}" for a in alts]
        props += [f"skos:broader <{tag_uri(p)}>" for p in info.parents if p in head]
        lines.append(f"<{tag_uri(tag)}> " + " ;\n    ".join(props) + " .\n")
    return "\n".join(lines)


def vocab_tsv(labels: tuple[str, ...]) -> str:
    """Annif's simple TSV vocabulary ``<uri>\\tlabel``."""
    return "".join(f"<{tag_uri(t)}>\t{_label_text(t)}\n" for t in labels)


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def corpus_tsv(texts: list[str], Y: np.ndarray, labels: tuple[str, ...]) -> str:
    """Annif TSV corpus: one ``text\\t<uri> <uri>`` line per document."""
    out = []
    for text, row in zip(texts, Y, strict=True):
        uris = " ".join(f"<{tag_uri(labels[j])}>" for j in np.flatnonzero(row))
        out.append(f"{_clean(text)}\t{uris}\n")
    return "".join(out)


def export(
    name: str, prepared: Prepared, taxonomy: Taxonomy, settings: Settings, out: Path
) -> Exported:
    """Write one split's vocabulary, corpora and index file under ``out/name``."""
    split = split_for(name, prepared, settings)
    labels = prepared.labels.labels
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "vocab.ttl").write_text(vocab_turtle(labels, taxonomy), encoding="utf-8")
    (d / "vocab.tsv").write_text(vocab_tsv(labels), encoding="utf-8")
    parts = {"train": split.train, "val": split.val, "test": split.test}
    for part, rows in parts.items():
        texts, Y = prepared.subset(rows)
        (d / f"{part}.tsv").write_text(corpus_tsv(texts, Y, labels), encoding="utf-8")
    index = {
        "split": name,
        "labels": list(labels),
        "uris": [tag_uri(t) for t in labels],
        "sizes": split.sizes(),
        **{f"{p}_rows": rows.tolist() for p, rows in parts.items()},
        **{f"{p}_ids": [prepared.ids[i] for i in rows] for p, rows in parts.items()},
    }
    (d / "split.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
    return Exported(name, prepared, taxonomy, split, settings, d)


def export_all(
    out: Path,
    projects: Path = ROOT / "datasets" / "projects.json",
    tags: Path = ROOT / "datasets" / "tags.json",
    settings: Settings | None = None,
) -> dict[str, Exported]:
    """Both splits with default settings (or the ones given)."""
    settings = settings or load_settings()
    prepared, taxonomy = load_p1(projects, tags, settings)
    return {name: export(name, prepared, taxonomy, settings, out) for name in SPLITS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "var" / "peers" / "export")
    ap.add_argument("--projects", type=Path, default=ROOT / "datasets" / "projects.json")
    ap.add_argument("--tags", type=Path, default=ROOT / "datasets" / "tags.json")
    args = ap.parse_args()
    for name, ex in export_all(args.out, args.projects, args.tags).items():
        print(f"{name}: {ex.split.sizes()} labels={len(ex.prepared.labels)} -> {ex.directory}")


if __name__ == "__main__":
    main()
