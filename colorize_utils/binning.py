"""The paper's bin() / unbin(): ab values <-> class indices for the cross-entropy models.

A `ChannelBins` bins A and B separately by per-channel edges, so the paper's equal-width bins
(`UniformBins`) and density-aware (quantile) bins share one implementation: only the edges
differ. `unbin` returns, per bin, the mean of the *training* pixels that fell in it (fitted once
with `fit()` and saved beside the model), falling back to the bin centre for empty bins.

Any binning exposes: `num_heads` (2 when A and B are classified separately), `num_classes`
(classes per head), `encode(ab) -> int indices (..., num_heads)`, `decode(indices) -> ab (..., 2)`,
`decode_logits(logits (..., num_heads, num_classes)) -> ab`, `fit(ab)`, `save()` and `load()`,
so joint (a, b) bins can be added later behind the same interface.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from keras import ops

# Defined in config (no heavy imports), so the command line checks them before TensorFlow loads.
from colorize_utils.config import DECODINGS, DEFAULT_TEMPERATURE, check_decoding  # noqa: F401
from colorize_utils.files import atomic_path

AB_RANGE = (-100.0, 100.0)  # the paper bins ab over [-100, 100]; values outside land in the end bins
QUANTILE_RANGE = (-128.0, 128.0)  # quantile edges come from a histogram over this range ...
QUANTILE_RESOLUTION = 0.01  # ... in cells of this many Lab units
_FIT_CHUNK = 1 << 20  # pixels per encode() call in fit(): constant memory over any number of pixels


def pixel_chunks(ab):
    """Yield float32 (n, 2) pixel blocks of at most _FIT_CHUNK rows from an array (..., 2) or an iterable of
    such arrays: what every fit() walks, so any number of training pixels fits in constant memory."""
    for chunk in ([ab] if isinstance(ab, np.ndarray) else ab):
        chunk = np.asarray(chunk, np.float32).reshape(-1, 2)
        for start in range(0, len(chunk), _FIT_CHUNK):
            yield chunk[start:start + _FIT_CHUNK]


def mean_ab(binning) -> np.ndarray:
    """The mean (a, b) of the pixels a binning was fitted on (bin means weighted by counts): the mean-color
    baseline comes from the same single pass over the training pixels as the bins. Exact for per-channel
    bins; for JointBins, the mean of the pixels in the kept cells (all of them unless min_count dropped some)."""
    if binning is None or getattr(binning, "counts", None) is None or np.sum(binning.counts) == 0:
        raise ValueError("mean_ab() needs a fitted binning (call fit() first); a model without a fitted bin "
                         "table does not say what its training pixels' mean color was.")
    counts = np.asarray(binning.counts, np.float64)
    values = np.asarray(binning.bin_values, np.float64)
    if counts.ndim == 1:  # joint (a, b) cells: values (Q, 2)
        return ((counts[:, None] * values).sum(axis=0) / counts.sum()).astype(np.float32)
    return (np.sum(counts * values, axis=1) / counts.sum(axis=1)).astype(np.float32)


def decode_distribution(logits, values, decode: str = "argmax", temperature: float = DEFAULT_TEMPERATURE):
    """Turn class logits (..., Q) into a value per position, given each class's value `values` (Q, ...).

    argmax: the value of the most likely class (the paper's unbin(argmax)); mean: the expectation under
    softmax(logits); annealed: the expectation under softmax(logits / T), Zhang et al.'s annealed mean
    (T -> 0 approaches argmax, T = 1 is the mean).
    """
    check_decoding(decode, temperature)
    values = ops.convert_to_tensor(np.asarray(values, np.float32))
    logits = ops.cast(logits, "float32")
    if decode == "argmax":
        return ops.take(values, ops.argmax(logits, axis=-1), axis=0)
    scaled = logits if decode == "mean" else logits / float(temperature)
    probabilities = ops.softmax(scaled, axis=-1)
    if len(values.shape) == 1:
        return ops.sum(probabilities * values, axis=-1)
    return ops.tensordot(probabilities, values, axes=1)


class ChannelBins:
    """Bins A and B separately, each by its own sorted edges; decodes to fitted bin means."""

    kind = "channel"
    num_heads = 2

    def __init__(self, edges, bin_values=None, counts=None):
        edges = np.asarray(edges, dtype=np.float64)
        if edges.ndim != 2 or edges.shape[0] != 2 or edges.shape[1] < 2:
            raise ValueError(f"edges must have shape (2, num_bins + 1); got {edges.shape}.")
        if np.any(np.diff(edges, axis=1) <= 0):
            raise ValueError("bin edges must be strictly increasing within each channel.")
        self.edges = edges
        self.num_classes = edges.shape[1] - 1
        centres = (edges[:, :-1] + edges[:, 1:]) / 2.0
        self.bin_values = centres if bin_values is None else np.asarray(bin_values, np.float64)
        self.counts = (np.zeros_like(centres, dtype=np.int64) if counts is None
                       else np.asarray(counts, np.int64))
        if self.bin_values.shape != centres.shape:
            raise ValueError(f"bin_values must have shape {centres.shape}; got {self.bin_values.shape}.")

    @property
    def num_bins(self) -> int:
        """Bins per channel."""
        return self.num_classes

    @property
    def centres(self) -> np.ndarray:
        """Geometric centre of every bin, shape (2, num_bins)."""
        return (self.edges[:, :-1] + self.edges[:, 1:]) / 2.0

    @property
    def is_fitted(self) -> bool:
        """True once fit() has seen training pixels."""
        return bool(self.counts.sum() > 0)

    def encode(self, ab):
        """bin(): ab (..., 2) in Lab units -> int32 bin indices (..., 2); works in tf.data and JAX."""
        inner = ops.convert_to_tensor(self.edges[:, 1:-1].astype("float32"))  # (2, num_bins - 1)
        ab = ops.cast(ab, "float32")
        # Index = how many inner edges the value has reached, so out-of-range values clip to the end bins.
        above = ops.cast(ops.expand_dims(ab, -1) >= inner, "int32")
        return ops.sum(above, axis=-1)

    def decode(self, indices):
        """unbin(): int bin indices (..., 2) -> ab (..., 2), the fitted mean of each bin."""
        indices = ops.cast(indices, "int32")
        offsets = ops.convert_to_tensor(np.array([0, self.num_classes], dtype="int32"))
        flat_values = ops.convert_to_tensor(self.bin_values.reshape(-1).astype("float32"))
        return ops.take(flat_values, indices + offsets)

    def decode_logits(self, logits, decode: str = "argmax", temperature: float = DEFAULT_TEMPERATURE):
        """ab (..., 2) from a classification head's logits (..., 2, num_bins).

        "argmax" is the paper's unbin(argmax); "mean" and "annealed" take each channel's expectation
        over its fitted bin values (see decode_distribution).
        """
        if decode == "argmax":
            check_decoding(decode, temperature)
            return self.decode(ops.argmax(logits, axis=-1))
        per_channel = [decode_distribution(logits[..., channel, :], self.bin_values[channel], decode, temperature)
                       for channel in range(2)]
        return ops.stack(per_channel, axis=-1)

    def fit(self, ab) -> "ChannelBins":
        """Set every bin's value to the mean of the training pixels in it (centre when empty).

        `ab` is an array (..., 2) or an iterable of such chunks (one pass, constant memory: a run fits its
        bins on all of its training pixels, see pipeline.ab_chunks)."""
        values, counts = self.centres.copy(), np.zeros_like(self.counts)
        sums = np.zeros(counts.shape, dtype=np.float64)
        # In chunks: tens of millions of training pixels must not become one giant tensor.
        for chunk in pixel_chunks(ab):
            indices = np.asarray(ops.convert_to_numpy(self.encode(chunk)))
            for channel in range(2):
                counts[channel] += np.bincount(indices[:, channel], minlength=self.num_classes)
                sums[channel] += np.bincount(indices[:, channel], weights=chunk[:, channel].astype(np.float64),
                                             minlength=self.num_classes)
        if counts.sum() == 0:
            raise ValueError("fit() needs at least one training pixel.")
        filled = counts > 0
        values[filled] = sums[filled] / counts[filled]
        self.bin_values, self.counts = values, counts
        return self

    def get_config(self) -> dict:
        """JSON-serialisable description, enough to rebuild the binning exactly."""
        return {"kind": self.kind, "edges": self.edges.tolist(),
                "bin_values": self.bin_values.tolist(), "counts": self.counts.tolist()}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the bin table as JSON (saved beside the model that uses it)."""

        with atomic_path(path) as temporary:
            temporary.write_text(json.dumps(self.get_config(), indent=1))
        return Path(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_bins={self.num_classes}, fitted={self.is_fitted})"


class UniformBins(ChannelBins):
    """The paper's bins: `num_bins` equal-width bins per channel over [-100, 100]."""

    kind = "uniform"

    def __init__(self, num_bins: int = 10, value_range: tuple[float, float] = AB_RANGE,
                 bin_values=None, counts=None):
        if int(num_bins) < 2:
            raise ValueError(f"num_bins must be at least 2; got {num_bins}.")
        low, high = value_range
        if not high > low:
            raise ValueError(f"value_range must be (low, high) with high > low; got {value_range}.")
        single = np.linspace(low, high, int(num_bins) + 1)
        super().__init__(np.stack([single, single]), bin_values, counts)
        self.low, self.width = float(low), float(high - low) / int(num_bins)

    def encode(self, ab):
        """bin(): floor((ab - low) / width), clipped to the end bins; constant memory, any bin count."""
        scaled = (ops.cast(ab, "float32") - self.low) / self.width
        return ops.clip(ops.cast(ops.floor(scaled), "int32"), 0, self.num_classes - 1)


class QuantileBins(ChannelBins):
    """Density-aware bins (the paper's first future-work item): per-channel quantile edges, so every bin
    holds about the same share of training pixels. Build with `QuantileBins.from_pixels(ab, num_bins)`."""

    kind = "quantile"

    @classmethod
    def from_pixels(cls, ab, num_bins: int = 10) -> "QuantileBins":
        """Edges at the 0, 1/n, ..., 1 quantiles of the training pixels, then fit().

        `ab` is an array (..., 2) or a zero-argument callable returning a fresh iterable of chunks (two passes:
        a histogram at QUANTILE_RESOLUTION Lab units for the edges, then the bin means), so all training
        pixels count in constant memory and the edges are exact to the resolution, with no sampling.
        """
        if int(num_bins) < 2:
            raise ValueError(f"num_bins must be at least 2; got {num_bins}.")
        chunks = (lambda: [ab]) if isinstance(ab, np.ndarray) else ab
        low, high = QUANTILE_RANGE
        cells = int(round((high - low) / QUANTILE_RESOLUTION))
        histogram = np.zeros((2, cells), np.int64)
        for chunk in pixel_chunks(chunks()):
            index = np.clip(np.floor((chunk - low) / QUANTILE_RESOLUTION).astype(np.int64), 0, cells - 1)
            for channel in range(2):
                histogram[channel] += np.bincount(index[:, channel], minlength=cells)
        total = histogram.sum(axis=1)
        if total[0] == 0:
            raise ValueError("QuantileBins.from_pixels() needs at least one training pixel.")
        cumulative = np.cumsum(histogram, axis=1) / total[:, None]
        quantiles = np.linspace(0.0, 1.0, int(num_bins) + 1)[1:-1]
        # The upper edge of the first cell whose cumulative share reaches each quantile.
        inner = np.stack([low + (np.searchsorted(cumulative[c], quantiles) + 1) * QUANTILE_RESOLUTION
                          for c in range(2)])
        outer_low, outer_high = min(AB_RANGE[0], inner.min() - 1.0), max(AB_RANGE[1], inner.max() + 1.0)
        edges = np.concatenate([np.full((2, 1), outer_low), inner, np.full((2, 1), outer_high)], axis=1)
        # Many pixels are exactly gray (a = b = 0), so neighbouring quantiles can coincide: keep the edges
        # strictly increasing by nudging ties apart (a bin then holds the whole tied mass).
        for channel in range(2):
            for index in range(1, edges.shape[1]):
                edges[channel, index] = max(edges[channel, index], edges[channel, index - 1] + 1e-3)
        return cls(edges).fit(chunks())


class JointBins:
    """Joint (a, b) bins (the paper's second future-work item, Zhang et al. 2016's 313 classes).

    A grid of `step`-sized cells over the ab plane, keeping only the cells that training pixels occupy;
    each kept cell decodes to the mean (a, b) of its training pixels. One head, Q classes. Soft encoding
    spreads a target over its `neighbours` nearest cells with a Gaussian of `sigma`, and `class_weights`
    are Zhang et al.'s rebalancing weights ((1 - lambda) p~ + lambda / Q)^-1, normalised to mean 1 under p~.
    """

    kind = "joint"
    num_heads = 1

    def __init__(self, centres, bin_values=None, counts=None, step: float = 10.0,
                 value_range: tuple[float, float] = (-110.0, 110.0)):
        centres = np.asarray(centres, np.float64).reshape(-1, 2)
        if len(centres) < 2:
            raise ValueError(f"JointBins needs at least 2 kept cells; got {len(centres)}.")
        self.centres, self.step = centres, float(step)
        self.value_range = (float(value_range[0]), float(value_range[1]))
        self.num_classes = len(centres)
        self.bin_values = centres.copy() if bin_values is None else np.asarray(bin_values, np.float64).reshape(-1, 2)
        self.counts = np.zeros(len(centres), np.int64) if counts is None else np.asarray(counts, np.int64)
        self.logit_adjustment: np.ndarray | None = None  # set by with_prior_correction()
        self.prior_correction: dict | None = None
        # Every grid cell -> its nearest kept cell: encode() becomes one table look-up (constant memory and
        # time per pixel, so fitting on hundreds of millions of training pixels is quick).
        low, size = self.value_range[0], self.grid_size
        grid = low + (np.stack(np.meshgrid(np.arange(size), np.arange(size), indexing="ij"), -1) + 0.5) * self.step
        distance2 = np.sum((grid.reshape(-1, 1, 2) - centres[None]) ** 2, axis=-1)
        self.lookup = np.argmin(distance2, axis=1).astype(np.int32)  # (size * size,)

    @property
    def grid_size(self) -> int:
        """Cells per side of the grid over value_range."""
        return int(np.ceil((self.value_range[1] - self.value_range[0]) / self.step))

    @property
    def num_bins(self) -> int:
        """Number of kept (a, b) cells, Q."""
        return self.num_classes

    @property
    def is_fitted(self) -> bool:
        """True once fit() has seen training pixels."""
        return bool(self.counts.sum() > 0)

    @classmethod
    def from_pixels(cls, ab, step: float = 10.0, min_count: int = 1,
                    value_range: tuple[float, float] = (-110.0, 110.0)) -> "JointBins":
        """Grid cells of `step` over `value_range`^2 holding at least `min_count` training pixels, fitted.

        `ab` is an array (..., 2) or an iterable of such chunks (one pass, constant memory): every kept
        cell decodes to the mean (a, b) of the training pixels inside it.
        """
        if not step > 0:
            raise ValueError(f"step must be > 0; got {step}.")
        low, high = value_range
        size = int(np.ceil((high - low) / step))
        counts = np.zeros(size * size, np.int64)
        sums = np.zeros((size * size, 2), np.float64)
        for part in pixel_chunks(ab):
            cells = np.clip(np.floor((part - low) / step).astype(np.int64), 0, size - 1)
            flat = cells[:, 0] * size + cells[:, 1]
            counts += np.bincount(flat, minlength=size * size)
            for channel in range(2):
                sums[:, channel] += np.bincount(flat, weights=part[:, channel], minlength=size * size)
        kept = np.flatnonzero(counts >= max(1, min_count))
        if len(kept) < 2:
            raise ValueError(f"Only {len(kept)} ab cells hold {min_count}+ training pixels; need at least 2 "
                             "(are the training images gray?).")
        centres = low + (np.stack([kept // size, kept % size], -1) + 0.5) * step
        values = sums[kept] / counts[kept, None]
        return cls(centres, values, counts[kept], step=step, value_range=value_range)

    def encode(self, ab):
        """bin(): ab (..., 2) -> index of the kept cell holding it, shape (..., 1). A value in a dropped cell
        maps to the kept cell nearest that cell's centre (at most one grid step from the nearest kept one)."""
        size = self.grid_size
        cells = ops.clip(ops.cast(ops.floor((ops.cast(ab, "float32") - self.value_range[0]) / self.step), "int32"),
                         0, size - 1)
        flat = cells[..., 0] * size + cells[..., 1]
        return ops.expand_dims(ops.take(ops.convert_to_tensor(self.lookup), flat), -1)

    def squared_distances(self, ab):
        """Squared distance of ab (..., 2) to every kept cell centre: (..., Q)."""
        ab = ops.cast(ab, "float32")
        centres = self.centres.astype("float32")
        # Differences, not |x|^2 - 2 x.c + |c|^2: exact also where matmuls run in reduced precision (TF32).
        # One (..., Q) term per channel: the same sums as reducing a (..., Q, 2) tensor over its last axis,
        # without building that tensor (a size-2 reduction is slow on CPU).
        return (ops.square(ab[..., :1] - ops.convert_to_tensor(centres[:, 0]))
                + ops.square(ab[..., 1:] - ops.convert_to_tensor(centres[:, 1])))

    def decode(self, indices):
        """unbin(): indices (..., 1) -> ab (..., 2), the fitted mean of each cell."""
        values = ops.convert_to_tensor(self.bin_values.astype("float32"))
        return ops.take(values, ops.cast(indices[..., 0], "int32"), axis=0)

    def decode_logits(self, logits, decode: str = "argmax", temperature: float = DEFAULT_TEMPERATURE):
        """ab (..., 2) from logits (..., 1, Q) by argmax, mean or annealed mean over the cells' values.

        A model trained with rebalancing weights w may carry a prior correction (`logit_adjustment`,
        -alpha log w, chosen on validation data): it is added to the logits first. alpha = 1 undoes the
        rebalancing (the unweighted posterior); alpha = 0 keeps its vivid, rare-colour-seeking output.
        """
        logits = logits[..., 0, :]
        if self.logit_adjustment is not None:
            logits = ops.cast(logits, "float32") + ops.convert_to_tensor(self.logit_adjustment.astype("float32"))
        return decode_distribution(logits, self.bin_values, decode, temperature)

    def with_prior_correction(self, alpha: float, lam: float = 0.5, sigma: float = 5.0) -> "JointBins":
        """A copy whose decoding subtracts alpha * log(rebalancing weights) from the logits (see decode_logits)."""
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1]; got {alpha}.")
        corrected = JointBins.from_config({**self.get_config(), "prior_correction": None})
        corrected.logit_adjustment = -float(alpha) * np.log(self.class_weights(lam, sigma))
        corrected.prior_correction = {"alpha": float(alpha), "lambda": float(lam), "sigma": float(sigma)}
        return corrected

    def soft_neighbours(self, ab, neighbours: int = 5, sigma: float = 5.0):
        """The soft encoding in sparse form: (indices, weights), each (..., k), of the k = `neighbours` nearest
        cells and their Gaussian weights (sigma, Lab units), which sum to 1. Losses gather k log-probabilities
        with it instead of multiplying a dense (..., Q) target that is zero but for k cells."""
        distances = self.squared_distances(ab)
        nearest = min(int(neighbours), self.num_classes)
        neg_top, top_index = ops.top_k(-distances, k=nearest)
        # softmax subtracts the largest first: far from every kept cell, exp() would underflow to 0 / 0.
        return top_index, ops.softmax(neg_top / (2.0 * sigma * sigma), axis=-1)

    def soft_encode(self, ab, neighbours: int = 5, sigma: float = 5.0):
        """Soft targets (..., Q): a Gaussian (sigma, Lab units) over the `neighbours` nearest cells, sum 1."""
        top_index, weights = self.soft_neighbours(ab, neighbours, sigma)
        one_hot = ops.one_hot(top_index, self.num_classes)  # (..., k, Q)
        return ops.sum(one_hot * ops.expand_dims(weights, -1), axis=-2)

    def fit(self, ab) -> "JointBins":
        """Set every cell's value to the mean (a, b) of the training pixels nearest to it (centre when empty)."""
        ab = np.asarray(ab, np.float32).reshape(-1, 2)
        if ab.shape[0] == 0:
            raise ValueError("fit() needs at least one training pixel.")
        counts = np.zeros(self.num_classes, np.int64)
        sums = np.zeros((self.num_classes, 2), np.float64)
        for start in range(0, len(ab), _FIT_CHUNK):
            chunk = ab[start:start + _FIT_CHUNK]
            indices = np.asarray(ops.convert_to_numpy(self.encode(chunk)))[:, 0]
            counts += np.bincount(indices, minlength=self.num_classes)
            for channel in range(2):
                sums[:, channel] += np.bincount(indices, weights=chunk[:, channel].astype(np.float64),
                                                minlength=self.num_classes)
        values = self.centres.copy()
        filled = counts > 0
        values[filled] = sums[filled] / counts[filled, None]
        self.bin_values, self.counts = values, counts
        return self

    def prior(self, sigma: float = 5.0) -> np.ndarray:
        """The empirical class distribution p, smoothed over the ab plane with a Gaussian of `sigma`."""
        if not self.is_fitted:
            raise ValueError("prior() needs fitted bins: call fit() on the training pixels first.")
        p = self.counts / self.counts.sum()
        distance2 = np.sum((self.centres[:, None, :] - self.centres[None, :, :]) ** 2, axis=-1)
        kernel = np.exp(-distance2 / (2.0 * sigma * sigma))
        smoothed = kernel @ p
        return smoothed / smoothed.sum()

    def class_weights(self, lam: float = 0.5, sigma: float = 5.0) -> np.ndarray:
        """Zhang et al.'s rebalancing weights w = ((1 - lam) p~ + lam / Q)^-1, scaled so E_p~[w] = 1."""
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"lam must be in [0, 1]; got {lam}.")
        smoothed = self.prior(sigma)
        weights = 1.0 / ((1.0 - lam) * smoothed + lam / self.num_classes)
        return weights / np.sum(smoothed * weights)

    def get_config(self) -> dict:
        """JSON-serialisable description, enough to rebuild the binning exactly."""
        return {"kind": self.kind, "centres": self.centres.tolist(), "step": self.step,
                "prior_correction": self.prior_correction,
                "value_range": list(self.value_range), "bin_values": self.bin_values.tolist(), "counts": self.counts.tolist()}

    @classmethod
    def from_config(cls, config: dict) -> "JointBins":
        """Rebuild from get_config()."""
        bins = cls(config["centres"], config.get("bin_values"), config.get("counts"), config.get("step", 10.0),
                   tuple(config.get("value_range", (-110.0, 110.0))))
        correction = config.get("prior_correction")
        if not correction:
            return bins
        return bins.with_prior_correction(correction["alpha"], correction["lambda"], correction["sigma"])

    def save(self, path: str | os.PathLike) -> Path:
        """Write the bin table as JSON (saved beside the model that uses it)."""

        with atomic_path(path) as temporary:
            temporary.write_text(json.dumps(self.get_config()))
        return Path(path)

    def __repr__(self) -> str:
        return f"JointBins(num_classes={self.num_classes}, step={self.step}, fitted={self.is_fitted})"


def binning_from_config(config: dict):
    """Rebuild a binning from get_config() output."""
    kind = config.get("kind")
    if kind == "joint":
        return JointBins.from_config(config)
    if kind == "quantile":
        return QuantileBins(config["edges"], config.get("bin_values"), config.get("counts"))
    if kind == "uniform":
        edges = np.asarray(config["edges"])
        return UniformBins(edges.shape[1] - 1, (edges[0, 0], edges[0, -1]),
                           config.get("bin_values"), config.get("counts"))
    if kind == "channel":
        return ChannelBins(config["edges"], config.get("bin_values"), config.get("counts"))
    raise ValueError(f"Unknown binning kind {kind!r} in bin table.")


def load_binning(path: str | os.PathLike):
    """Read a bin table written by save()."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No bin table at {path}; it is saved beside the model by training.")
    return binning_from_config(json.loads(path.read_text()))
