"""Error analysis: *which* mistakes the model makes, not only how many.

The headline numbers say how good a model is; an operator deciding what to fix next
needs the mistakes themselves — the tags it mixes up, the projects behind the errors,
where the slices fall short, and which author labels are probably wrong to begin
with (see ``label_noise``). Everything here is a pure function: arrays, texts and the
slice table in, plain dicts and lists out (they go straight into the HTML report and
JSON). Nothing is escaped here; the report's jinja2 autoescaping does that.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from tagwise.evaluate.label_noise import find_label_issues, find_multilabel_issues

TEXT_CHARS = 160
_QUARTER = re.compile(r"^\d{4}Q[1-4]$")
# below this difference two micro-F1 values are called "about the same" in prose
_SAME = 0.02


# ----------------------------------------------------------------------- helpers


def truncate(text: str, max_chars: int = TEXT_CHARS) -> str:
    """At most ``max_chars`` characters, cut at a word boundary with an ellipsis.

    Examples in the report are for recognising a project, not reading it, and a
    single long description must not push the rest of the section off screen.
    """
    flat = " ".join(str(text).split())
    if len(flat) <= max_chars:
        return flat
    cut = flat[: max_chars - 1]
    space = cut.rfind(" ")
    if space > max_chars // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"


def _bool_pair(Y_true: np.ndarray, Y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    yt = np.asarray(Y_true).astype(bool)
    yp = np.asarray(Y_pred).astype(bool)
    if yt.ndim != 2 or yt.shape != yp.shape:
        raise ValueError(f"Y_true {yt.shape} and Y_pred {yp.shape} must be equal 2-D shapes")
    return yt, yp


def relation(a: int, b: int, ancestors: Sequence[Sequence[int]] | None) -> str:
    """How label ``a`` relates to label ``b`` in the taxonomy, from ``a``'s side.

    ``"child"`` (b is an ancestor of a: the model was too specific), ``"parent"`` (a is
    an ancestor of b: too general), ``"sibling"`` (they share an ancestor) or ``""``.
    ``ancestors[j]`` lists the label columns that are ancestors of label ``j`` (as in
    ``DecisionPolicy.parents``).
    """
    if not ancestors:
        return ""
    anc_a, anc_b = set(ancestors[a]), set(ancestors[b])
    if b in anc_a:
        return "child"
    if a in anc_b:
        return "parent"
    if anc_a & anc_b:
        return "sibling"
    return ""


# ------------------------------------------------------------------ confused tags


def confused_pairs_multilabel(
    Y_true: np.ndarray,
    Y_pred: np.ndarray,
    labels: Sequence[str],
    ancestors: Sequence[Sequence[int]] | None = None,
    *,
    top: int = 10,
) -> list[dict]:
    """The tag pairs the model mixes up most, counted over documents.

    A pair (predicted ``A``, true ``B``) is counted once in a document where ``A`` is a
    false positive, ``B`` is a true tag, and either ``B`` was missed (the model put
    ``A`` where ``B`` belonged) or ``A`` is a parent, child or sibling of ``B`` (the
    model found the right branch of the taxonomy but the wrong node). Rows:
    ``{predicted, true, count, missed, relation}`` where ``missed`` counts the documents
    in which ``B`` was also a false negative; sorted by count, then missed, then names.
    """
    yt, yp = _bool_pair(Y_true, Y_pred)
    if len(labels) != yt.shape[1]:
        raise ValueError(f"{len(labels)} labels for {yt.shape[1]} columns")
    counts: Counter[tuple[int, int]] = Counter()
    missed: Counter[tuple[int, int]] = Counter()
    for i in range(yt.shape[0]):
        fps = np.flatnonzero(yp[i] & ~yt[i])
        if not fps.size:
            continue
        trues = np.flatnonzero(yt[i])
        fn = ~yp[i]
        for a in fps:
            for b in trues:
                if fn[b]:
                    counts[(a, b)] += 1
                    missed[(a, b)] += 1
                elif relation(a, b, ancestors):
                    counts[(a, b)] += 1
    ranked = sorted(counts, key=lambda ab: (-counts[ab], -missed[ab], labels[ab[0]], labels[ab[1]]))
    return [
        {
            "predicted": labels[a],
            "true": labels[b],
            "count": counts[(a, b)],
            "missed": missed[(a, b)],
            "relation": relation(a, b, ancestors),
        }
        for a, b in ranked[:top]
    ]


def confused_pairs_single(
    y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str], *, top: int = 10
) -> list[dict]:
    """Off-diagonal cells of the confusion matrix, largest first.

    Rows: ``{predicted, true, count, share}``; ``share`` is the fraction of the true
    class's documents that went to ``predicted`` — 5 errors out of 6 matter more than
    5 out of 500. Ties by label order.
    """
    yt = np.asarray(y_true, dtype=int).ravel()
    yp = np.asarray(y_pred, dtype=int).ravel()
    if yt.shape != yp.shape:
        raise ValueError(f"y_true {yt.shape} and y_pred {yp.shape} differ in shape")
    k = len(labels)
    matrix = np.bincount(yt * k + yp, minlength=k * k).reshape(k, k)
    support = matrix.sum(axis=1)
    cells = [(int(matrix[t, p]), t, p) for t in range(k) for p in range(k) if t != p]
    cells = [c for c in cells if c[0] > 0]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [
        {
            "predicted": labels[p],
            "true": labels[t],
            "count": count,
            "share": count / support[t] if support[t] else 0.0,
        }
        for count, t, p in cells[:top]
    ]


# ----------------------------------------------------------------------- examples


def error_examples(
    texts: Sequence[str],
    Y_true: np.ndarray,
    Y_pred: np.ndarray,
    scores: np.ndarray,
    labels: Sequence[str],
    *,
    n_tags: int = 3,
    n_examples: int = 3,
    max_chars: int = TEXT_CHARS,
) -> list[dict]:
    """For the tags with the most errors, a few false positives and false negatives.

    Tags are ranked by false positives + false negatives (ties by label order). False
    positives are shown highest score first and false negatives lowest score first:
    the most confident mistakes are the most instructive (and the likeliest label
    errors). ``scores`` should be the scores the decision was made on. Rows:
    ``{tag, n_fp, n_fn, false_positives, false_negatives}``; each example is
    ``{text, score, true, predicted}`` with tag names.
    """
    yt, yp = _bool_pair(Y_true, Y_pred)
    s = np.asarray(scores, dtype=float)
    if s.shape != yt.shape or len(texts) != yt.shape[0] or len(labels) != yt.shape[1]:
        raise ValueError("texts, Y_true, Y_pred, scores and labels do not align")
    fp = yp & ~yt
    fn = yt & ~yp
    errors = fp.sum(axis=0) + fn.sum(axis=0)
    order = [int(j) for j in np.argsort(-errors, kind="stable") if errors[j] > 0][:n_tags]

    def example(i: int, j: int) -> dict:
        return {
            "text": truncate(texts[i], max_chars),
            "score": float(s[i, j]),
            "true": [labels[c] for c in np.flatnonzero(yt[i])],
            "predicted": [labels[c] for c in np.flatnonzero(yp[i])],
        }

    rows = []
    for j in order:
        fp_docs = np.flatnonzero(fp[:, j])
        fn_docs = np.flatnonzero(fn[:, j])
        fp_docs = fp_docs[np.argsort(-s[fp_docs, j], kind="stable")][:n_examples]
        fn_docs = fn_docs[np.argsort(s[fn_docs, j], kind="stable")][:n_examples]
        rows.append(
            {
                "tag": labels[j],
                "n_fp": int(fp[:, j].sum()),
                "n_fn": int(fn[:, j].sum()),
                "false_positives": [example(int(i), j) for i in fp_docs],
                "false_negatives": [example(int(i), j) for i in fn_docs],
            }
        )
    return rows


# ------------------------------------------------------------------------- slices


def _f(x: float) -> str:
    return f"{x:.3f}"


def _ci_text(row: Mapping) -> str:
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return ""
    return f" [{_f(row['ci_low'])}, {_f(row['ci_high'])}]"


def _compare(a: float, b: float) -> str:
    if abs(a - b) < _SAME:
        return "about the same as"
    return "below" if a < b else "above"


def slice_findings(rows: Sequence[Mapping], *, max_sentences: int = 4) -> list[str]:
    """Plain-language sentences generated from the slice table (``slice_table`` rows).

    Each sentence is produced only when its numbers exist, and its wording (below /
    above / about the same, CIs overlapping or not) follows the numbers, so the text
    cannot contradict the table next to it. In priority order: the weakest slice
    against the whole test set (slices covering every document are skipped: single-label
    projects all have "few tags"), short against long texts, thinly tagged projects
    (with whether precision or recall suffers — missing author tags show up as
    false positives), the spread over quarters, and the slices too small to score.
    """
    by_name = {r["slice"]: r for r in rows}
    overall = by_name.get("all")
    n_all = overall["n"] if overall is not None else None
    # a slice holding every document (e.g. "few tags" in single-label data) is not a slice
    scored = [
        r for r in rows if r["slice"] != "all" and r.get("micro_f1") is not None and r["n"] != n_all
    ]
    sentences: list[str] = []
    if overall is not None and overall.get("micro_f1") is not None and scored:
        all_f1 = overall["micro_f1"]
        worst = min(scored, key=lambda r: r["micro_f1"])
        text = (
            f"The weakest slice is “{worst['slice']}” (n = {worst['n']}): micro-F1 "
            f"{_f(worst['micro_f1'])}{_ci_text(worst)} against {_f(all_f1)}"
            f"{_ci_text(overall)} on the whole test set"
        )
        if None not in (worst.get("ci_high"), overall.get("ci_low")):
            if worst["ci_high"] < overall["ci_low"]:
                text += "; the intervals do not overlap, so the gap is unlikely to be chance."
            else:
                text += "; the intervals overlap, so the gap may be sampling noise."
        else:
            text += "."
        sentences.append(text)
    short, long_ = by_name.get("short text"), by_name.get("long text")
    if short and long_ and short.get("micro_f1") is not None and long_.get("micro_f1") is not None:
        a, b = short["micro_f1"], long_["micro_f1"]
        if abs(a - b) < _SAME:
            tail = "length barely matters."
        elif a < b:
            tail = f"short descriptions cost {_f(b - a)} micro-F1."
        else:
            tail = f"short descriptions score {_f(a - b)} higher."
        sentences.append(
            f"Short texts (n = {short['n']}) score {_f(a)} micro-F1 and long texts "
            f"(n = {long_['n']}) {_f(b)}: {tail}"
        )
    few = by_name.get("few tags")
    if few in scored and overall and overall.get("micro_f1") is not None:
        share = few["n"] / overall["n"] if overall["n"] else 0.0
        text = (
            f"Projects with few author tags (n = {few['n']}, {share:.0%} of test) score "
            f"{_f(few['micro_f1'])}, {_compare(few['micro_f1'], overall['micro_f1'])} the "
            f"overall {_f(overall['micro_f1'])}"
        )
        dp = (few.get("micro_precision") or 0.0) - (overall.get("micro_precision") or 0.0)
        dr = (few.get("micro_recall") or 0.0) - (overall.get("micro_recall") or 0.0)
        if dp < -_SAME and dp < dr:
            text += (
                f"; precision drops most ({_f(few['micro_precision'])} vs "
                f"{_f(overall['micro_precision'])}), which is what missing author tags look "
                "like: right suggestions counted as false positives."
            )
        elif dr < -_SAME:
            text += (
                f"; recall drops most ({_f(few['micro_recall'])} vs {_f(overall['micro_recall'])})."
            )
        else:
            text += "."
        sentences.append(text)
    quarters = [r for r in scored if _QUARTER.match(str(r["slice"]))]
    if len(quarters) >= 2:
        lo = min(quarters, key=lambda r: r["micro_f1"])
        hi = max(quarters, key=lambda r: r["micro_f1"])
        sentences.append(
            f"Across {len(quarters)} scored quarters micro-F1 ranges from "
            f"{_f(lo['micro_f1'])} ({lo['slice']}) to {_f(hi['micro_f1'])} ({hi['slice']})."
        )
    small = [r for r in rows if r.get("micro_f1") is None and r.get("n", 0) > 0]
    if small:
        names = ", ".join(str(r["slice"]) for r in small[:5]) + ("…" if len(small) > 5 else "")
        plural = len(small) > 1
        sentences.append(
            f"{len(small)} slice{'s are' if plural else ' is'} too small to score "
            f"({names}): {'their rows show' if plural else 'its row shows'} “—”, "
            "not a good or bad result."
        )
    return sentences[:max_sentences]


# ------------------------------------------------------------------- label issues


def label_issue_rows(
    texts: Sequence[str],
    Y_true: np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
    *,
    mode: str = "multi",
    top: int = 10,
    max_chars: int = TEXT_CHARS,
) -> dict:
    """Confident-learning suspects ready for the report.

    Returns ``{n_docs, n_docs_flagged, n_issues, noise_rate, per_tag, issues}``
    (``n_docs_flagged``: documents with at least one suspect). ``issues`` rows are
    ``{text, given, suggested, self_confidence, score}`` (``score`` = the model's
    probability of the suggested value). Multi-label: ``given`` / ``suggested`` read
    ``"tag"`` / ``"no tag"`` phrases, and ``per_tag`` lists the tags with the most
    suspected ``missing`` / ``extra`` labels. Single-label: ``per_tag`` lists the
    off-diagonal cells of the confident joint as ``{given, suggested, count}``.
    """
    yt = np.asarray(Y_true)
    if mode == "single":
        given = yt.argmax(axis=1) if yt.ndim == 2 else yt.astype(int)
        found = find_label_issues(given, probs)
        p = np.asarray(probs, dtype=float)
        issues = [
            {
                "text": truncate(texts[i], max_chars),
                "given": labels[found.given[i]],
                "suggested": labels[found.suggested[i]],
                "self_confidence": float(found.self_confidence[i]),
                "score": float(p[i, found.suggested[i]]),
            }
            for i in found.issues[:top]
        ]
        joint = found.confident_joint
        cells = [
            {"given": labels[g], "suggested": labels[s], "count": int(joint[g, s])}
            for g in range(joint.shape[0])
            for s in range(joint.shape[1])
            if g != s and joint[g, s] > 0
        ]
        cells.sort(key=lambda c: -c["count"])
        return {
            "n_docs": int(found.given.size),
            "n_docs_flagged": found.n_issues,
            "n_issues": found.n_issues,
            "noise_rate": found.noise_rate,
            "per_tag": cells[:top],
            "issues": issues,
        }
    found_ml = find_multilabel_issues(yt, probs)
    p = np.asarray(probs, dtype=float)
    issues = []
    for (i, j), kind, conf in zip(
        found_ml.issues[:top], found_ml.kind[:top], found_ml.self_confidence[:top], strict=True
    ):
        tag = labels[j]
        issues.append(
            {
                "text": truncate(texts[i], max_chars),
                "given": tag if kind == "extra" else f"no {tag}",
                "suggested": f"no {tag}" if kind == "extra" else tag,
                "self_confidence": float(conf),
                "score": float(p[i, j] if kind == "missing" else 1.0 - p[i, j]),
            }
        )
    total = found_ml.n_missing + found_ml.n_extra
    order = [int(j) for j in np.argsort(-total, kind="stable") if total[j] > 0][:top]
    per_tag = [
        {
            "tag": labels[j],
            "missing": int(found_ml.n_missing[j]),
            "extra": int(found_ml.n_extra[j]),
            "given": int(yt[:, j].astype(bool).sum()),
        }
        for j in order
    ]
    return {
        "n_docs": found_ml.n_docs,
        "n_docs_flagged": int(np.unique(found_ml.issues[:, 0]).size),
        "n_issues": found_ml.n_issues,
        "noise_rate": found_ml.noise_rate,
        "per_tag": per_tag,
        "issues": issues,
    }


# ---------------------------------------------------------------------- composite


def error_analysis(
    texts: Sequence[str],
    Y_true: np.ndarray,
    Y_pred: np.ndarray,
    scores: np.ndarray,
    labels: Sequence[str],
    *,
    mode: str = "multi",
    ancestors: Sequence[Sequence[int]] | None = None,
    slices: Sequence[Mapping] = (),
    probs: np.ndarray | None = None,
    top: int = 10,
) -> dict:
    """The report's error-analysis section: ``{mode, confused, examples, slice_findings,
    label_issues}``.

    ``scores`` are the scores the decision was made on (after taxonomy closure);
    ``probs`` the model's raw probabilities for confident learning (default ``scores``).
    Multi-label probabilities are clipped to [0, 1] so a backend whose scores
    overshoot slightly still gets a report rather than an error.
    """
    yt, yp = _bool_pair(Y_true, Y_pred)
    labels = list(labels)
    if mode == "single":
        confused = confused_pairs_single(yt.argmax(axis=1), yp.argmax(axis=1), labels, top=top)
    else:
        confused = confused_pairs_multilabel(yt, yp, labels, ancestors, top=top)
    raw = np.asarray(scores if probs is None else probs, dtype=float)
    if mode != "single":
        raw = np.clip(raw, 0.0, 1.0)
    return {
        "mode": mode,
        "confused": confused,
        "examples": error_examples(texts, yt, yp, scores, labels),
        "slice_findings": slice_findings(slices),
        "label_issues": label_issue_rows(texts, yt, raw, labels, mode=mode, top=top),
    }
