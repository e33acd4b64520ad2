"""Free text → a safe FTS5 expression, plus the vocabulary tags the text names.

The user's text never reaches FTS5 syntax directly: it is cut into words (``\\w+``) and
every word or phrase is re-quoted, so ``"``, ``*``, ``NEAR``, column filters and
unbalanced brackets cannot cause a syntax error or an injection. The syntax kept is
``OR`` between terms, ``"quoted phrases"`` and a leading ``-`` that excludes a word or
phrase (``image -gan``; ``-nlp`` also excludes projects their authors tagged NLP);
everything else is AND.
With ``prefix`` (search as you type) the last word, if still being typed (no space after
it, at least ``MIN_PREFIX`` letters, not a tag), matches every word it begins:
``learnin`` finds "learning".

Tag recognition: a clause whose alternatives name vocabulary tags (``nlp``,
``"object detection"``), or a run of plain words that spells a tag (``natural language
processing``), becomes a *tag clause*: it matches by text or by the tag. Greedy
longest match, with a plural/singular fallback (``transformer`` → ``transformers``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tagwise.taxonomy import Taxonomy

_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')  # (minus, phrase) or a bare term
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 32
MAX_TAG_WORDS = 5
MIN_PREFIX = 3  # shorter prefixes expand to too many words to be worth a query
MIN_STEM = 4  # a shortened form of the typed word, matched whole ("net" for "netw": no)


@dataclass(frozen=True)
class Clause:
    """Alternatives (each a tuple of words: a phrase) of which one must match."""

    alternatives: tuple[tuple[str, ...], ...]
    tags: frozenset[str] = frozenset()
    prefix: bool = False  # its one word matches as a prefix (see prefix_fts)

    def fts(self, *, scoring: bool = False) -> str:
        """This clause in FTS5 syntax; every phrase quoted (``scoring``: see prefix_fts)."""
        if self.prefix:
            return prefix_fts(self.alternatives[0][0], scoring=scoring)
        parts = [f'"{" ".join(words)}"' for words in self.alternatives]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


# A half-typed word whose Porter stem is much shorter than what is typed: completed with
# the ending it is heading for, as a whole word the index stems ("generati" + "on").
_COMPLETIONS = (("i", "on"), ("a", "tion"), ("t", "ion"))


def prefix_fts(word: str, *, scoring: bool = False) -> str:
    """``word`` as a prefix, plus whole (stemmed) words it may be typing towards.

    The index stores Porter stems: "learning" is ``learn``, "classification" is
    ``classif``, "generation" is ``gener``, so the typed "learnin", "classificati" or
    "generati" is a prefix of no stored word. Also matched, as whole words: the word one
    or two letters shorter (4 letters or more: "comput" must not find "compare" through
    "comp*") and the word completed with a common ending ("generati" → "generation").
    These widen what is *found*; ``scoring=True`` gives the prefix alone, which ranks:
    rows found only through them score half (a whole "mode" ranks below "model" for the
    typed "model", other words of the query being equal).
    """
    forms = [f'"{word}" *']
    if not scoring:
        # "_" separates words for the index: "net_w" shortened is "net", too short
        shorter = {word[:-cut].rstrip("_") for cut in (1, 2)}
        forms += [f'"{w}"' for w in sorted(shorter, key=len, reverse=True) if len(w) >= MIN_STEM]
        forms += [f'"{word}{end}"' for tail, end in _COMPLETIONS
                  if word.endswith(tail) and len(word) >= MIN_STEM]  # fmt: skip
    return forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")"


@dataclass(frozen=True)
class ParsedText:
    """Clauses of a query text; tag clauses separated from plain ones."""

    clauses: tuple[Clause, ...]
    excluded: tuple[Clause, ...] = ()  # ``-word``: a project matching any one is dropped

    @property
    def tag_clauses(self) -> tuple[Clause, ...]:
        """Clauses that a project can also satisfy by carrying one of their tags."""
        return tuple(c for c in self.clauses if c.tags)

    @property
    def plain_clauses(self) -> tuple[Clause, ...]:
        """Clauses only text can satisfy."""
        return tuple(c for c in self.clauses if not c.tags)

    @property
    def tags(self) -> tuple[str, ...]:
        """Every recognised tag, sorted."""
        return tuple(sorted({t for c in self.clauses for t in c.tags}))

    def fts_all(self, *, scoring: bool = False) -> str | None:
        """Every clause must match by text (``scoring``: the expression that ranks)."""
        return _and(self.clauses, scoring)

    def fts_plain(self, *, scoring: bool = False) -> str | None:
        """Only the plain clauses (the tag clauses are satisfied by tags)."""
        return _and(self.plain_clauses, scoring)

    def fts_excluded(self) -> str | None:
        """Projects matching any excluded word or phrase by text."""
        return " OR ".join(c.fts() for c in self.excluded) or None

    @property
    def excluded_tags(self) -> tuple[str, ...]:
        """Tags the excluded terms name: projects their authors gave them are dropped too."""
        return tuple(sorted({t for c in self.excluded for t in c.tags}))

    def fts_any(self) -> str | None:
        """Any word of the query: used for highlighting every matched word."""
        words = {
            c.fts() if c.prefix else f'"{w}"'
            for c in self.clauses
            for alt in c.alternatives
            for w in alt
        }
        return " OR ".join(sorted(words)) or None


def _and(clauses: tuple[Clause, ...], scoring: bool = False) -> str | None:
    return " AND ".join(c.fts(scoring=scoring) for c in clauses) or None


def words_of(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens (letters and digits), NFKC-folded as the models fold text.

    Full-width ``ＢＥＲＴ`` becomes ``bert`` and a decomposed ``nai\u0308ve`` the
    composed ``naïve`` (which the index's tokenizer then strips of its diacritic).
    """
    folded = unicodedata.normalize("NFKC", text)
    return tuple(w.lower() for w in _WORD.findall(folded) if w != "_")


def recognise_tag(words: tuple[str, ...], taxonomy: Taxonomy) -> str | None:
    """The canonical tag these words spell (``natural language processing``), if any."""
    if not words or len(words) > MAX_TAG_WORDS:
        return None
    joined = "-".join(words)
    for candidate in (joined, f"{joined}s", joined[:-1] if joined.endswith("s") else None):
        if candidate:
            canonical = taxonomy.canonical(candidate)
            if canonical is not None:
                return canonical
    return None


def _raw_clauses(text: str) -> tuple[list[list[tuple[str, ...]]], list[tuple[str, ...]]]:
    """Terms → clauses of alternatives (split on a bare uppercase ``OR``) and exclusions.

    A term starting with ``-`` (``-gan``, ``-"object detection"``) is an exclusion; a
    ``-`` inside a word (``self-supervised``) is not.
    """
    clauses: list[list[tuple[str, ...]]] = []
    excluded: list[tuple[str, ...]] = []
    join_next = False
    for n, m in enumerate(_TERM.finditer(text)):
        if n >= MAX_TERMS * 2:
            break
        minus, phrase, bare = m.groups()
        if bare == "OR":
            join_next = bool(clauses)
            continue
        raw = phrase if phrase is not None else bare
        folded = unicodedata.normalize("NFKC", raw)  # a full-width "－gan" excludes too
        negated = bool(minus) or (bare is not None and folded.startswith("-"))
        words = words_of(folded)
        if not words:
            continue
        forms = [words]
        as_written = tuple(w.lower() for w in _WORD.findall(raw) if w != "_")
        if len(as_written) == len(words) and as_written != words:
            forms.append(as_written)  # the index keeps text as written: "ＢＥＲＴ" titles too
        if negated:
            excluded.extend(forms)
            join_next = False
            continue
        if join_next:
            clauses[-1].extend(forms)
        else:
            clauses.append(forms)
        join_next = False
    return clauses[:MAX_TERMS], excluded[:MAX_TERMS]


def parse_text(text: str, taxonomy: Taxonomy, *, prefix: bool = False) -> ParsedText:
    """Parse query text and recognise the tags it names (``prefix``: see the module)."""
    parsed = _parse_words(text, taxonomy)
    if not prefix or not parsed.clauses or not text or text[-1].isspace() or text[-1] == '"':
        return parsed
    last = parsed.clauses[-1]
    if last.tags or len(last.alternatives) != 1 or len(last.alternatives[0]) != 1:
        return parsed
    word = last.alternatives[0][0]
    _, phrase, bare = _TERM.findall(text)[-1]  # the last term: "learnin", "-ga", '"learnin'
    tail = unicodedata.normalize("NFKC", bare or phrase).lower()
    if len(word) < MIN_PREFIX or tail.startswith("-") or not tail.endswith(word):
        return parsed
    prefixed = Clause(last.alternatives, prefix=True)
    return ParsedText((*parsed.clauses[:-1], prefixed), parsed.excluded)


def _parse_words(text: str, taxonomy: Taxonomy) -> ParsedText:
    """Clauses of the text, tag runs recognised (longest first)."""
    out: list[Clause] = []
    raw, excluded = _raw_clauses(text)
    i = 0
    while i < len(raw):
        alts = raw[i]
        if len(alts) == 1 and len(alts[0]) == 1:
            # A run of single-word clauses may spell a multi-word tag: longest first.
            j_max = i
            while j_max + 1 < len(raw) and len(raw[j_max + 1]) == 1 and len(raw[j_max + 1][0]) == 1:
                j_max += 1
            found = None
            for j in range(min(j_max, i + MAX_TAG_WORDS - 1), i - 1, -1):
                words = tuple(raw[k][0][0] for k in range(i, j + 1))
                tag = recognise_tag(words, taxonomy)
                if tag is not None:
                    found = (j, words, tag)
                    break
            if found:
                j, words, tag = found
                out.append(Clause((words,), frozenset({tag})))
                i = j + 1
                continue
            out.append(Clause((alts[0],)))
            i += 1
            continue
        tags = {t for t in (recognise_tag(a, taxonomy) for a in alts) if t}
        out.append(Clause(tuple(alts), frozenset(tags)))
        i += 1
    dropped = []
    for words in excluded:
        tag = recognise_tag(words, taxonomy)
        dropped.append(Clause((words,), frozenset({tag}) if tag else frozenset()))
    return ParsedText(tuple(out), tuple(dropped))
