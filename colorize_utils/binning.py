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

AB_RANGE = (-100.0, 100.0)
_FIT_CHUNK = 1 << 20  # pixels per encode() call in fit()  # the paper bins ab over [-100, 100]; values outside land in the end bins


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

    def decode_logits(self, logits):
        """Prediction of a classification head (..., 2, num_bins): unbin(argmax), as in the paper."""
        return self.decode(ops.argmax(logits, axis=-1))

    def fit(self, ab) -> "ChannelBins":
        """Set every bin's value to the mean of the training pixels in it (centre when empty)."""
        ab = np.asarray(ab, dtype=np.float32).reshape(-1, 2)
        if ab.shape[0] == 0:
            raise ValueError("fit() needs at least one training pixel.")
        values, counts = self.centres.copy(), np.zeros_like(self.counts)
        sums = np.zeros(counts.shape, dtype=np.float64)
        # In chunks: tens of millions of training pixels must not become one giant tensor.
        for start in range(0, len(ab), _FIT_CHUNK):
            chunk = ab[start:start + _FIT_CHUNK]
            indices = np.asarray(ops.convert_to_numpy(self.encode(chunk)))
            for channel in range(2):
                counts[channel] += np.bincount(indices[:, channel], minlength=self.num_classes)
                sums[channel] += np.bincount(indices[:, channel], weights=chunk[:, channel].astype(np.float64),
                                             minlength=self.num_classes)
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
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.get_config(), indent=1))
        return path

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


def binning_from_config(config: dict) -> ChannelBins:
    """Rebuild a binning from get_config() output."""
    kind = config.get("kind")
    if kind == "uniform":
        edges = np.asarray(config["edges"])
        return UniformBins(edges.shape[1] - 1, (edges[0, 0], edges[0, -1]),
                           config.get("bin_values"), config.get("counts"))
    if kind == "channel":
        return ChannelBins(config["edges"], config.get("bin_values"), config.get("counts"))
    raise ValueError(f"Unknown binning kind {kind!r} in bin table.")


def load_binning(path: str | os.PathLike) -> ChannelBins:
    """Read a bin table written by save()."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No bin table at {path}; it is saved beside the model by training.")
    return binning_from_config(json.loads(path.read_text()))
