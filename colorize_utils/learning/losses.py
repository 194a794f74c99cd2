"""The paper's losses as Keras losses in keras.ops: L2, smooth L1, and cross-entropy over bins.

Regression losses compare ab in Lab units. Each returns one value per image (Keras averages the batch).
"""

from __future__ import annotations

import keras
from keras import ops

from colorize_utils.binning import binning_from_config


@keras.saving.register_keras_serializable(package="colorize")
class L2Loss(keras.losses.Loss):
    """Mean squared error over every ab value of an image."""

    def __init__(self, name: str = "l2", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        error = ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")
        return ops.mean(ops.square(error), axis=(1, 2, 3))


@keras.saving.register_keras_serializable(package="colorize")
class SmoothL1Loss(keras.losses.Loss):
    """The paper's smooth L1 (Huber) on ab / `scale`: 0.5 x^2 where |x| < delta, else delta (|x| - 0.5 delta).

    Units: the error x is measured in ab / 100 by default, the units of the paper's closeness metric
    (`metrics.frobenius_ab`, whose values only match the paper's on that scale). delta = 1 is then 100 Lab
    units: nearly every ab error is in the quadratic zone, so the loss behaves like L2 / 2 (up to a constant
    that Adam ignores), which is what the paper trained. With scale = 1 and delta = 1 (Lab units; this
    project's first version) it is effectively L1, which pulls every prediction to the median: gray.
    """

    def __init__(self, delta: float = 1.0, scale: float = 100.0, name: str = "smooth_l1", **kwargs):
        super().__init__(name=name, **kwargs)
        if delta <= 0 or scale <= 0:
            raise ValueError(f"delta and scale must be positive; got delta {delta}, scale {scale}.")
        self.delta, self.scale = float(delta), float(scale)

    def call(self, y_true, y_pred):
        error = ops.abs(ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")) / self.scale
        quadratic = 0.5 * ops.square(error)
        linear = self.delta * (error - 0.5 * self.delta)
        return ops.mean(ops.where(error < self.delta, quadratic, linear), axis=(1, 2, 3))

    def get_config(self) -> dict:
        return {**super().get_config(), "delta": self.delta, "scale": self.scale}


@keras.saving.register_keras_serializable(package="colorize")
class BinnedCrossEntropy(keras.losses.Loss):
    """Cross-entropy of per-channel bin logits (N, H, W, 2, num_bins) against bin indices (N, H, W, 2)."""

    def __init__(self, name: str = "binned_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        per_value = keras.losses.sparse_categorical_crossentropy(
            ops.cast(y_true, "int32"), ops.cast(y_pred, "float32"), from_logits=True, axis=-1)
        return ops.mean(per_value, axis=(1, 2, 3))


@keras.saving.register_keras_serializable(package="colorize")
class ColorClassCrossEntropy(keras.losses.Loss):
    """Cross-entropy of bin logits (N, h, w, heads, Q) against *ab targets* (N, h, w, 2), encoded in the loss.

    With joint (a, b) bins and `soft=True` the target is Zhang et al.'s soft encoding (a Gaussian over the 5
    nearest cells, sigma 5); otherwise one-hot bin indices. `class_weights` (Q,) rebalance rare colours:
    each pixel's loss is scaled by the weight of its nearest class (Zhang et al. 2016, eq. 3-4).
    Taking ab, not indices, lets one data pipeline feed every binning of an ablation.
    """

    def __init__(self, binning_config: dict, soft: bool = True, class_weights=None, neighbours: int = 5,
                 sigma: float = 5.0, name: str = "color_class_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.binning_config = dict(binning_config)
        self.binning = binning_from_config(self.binning_config)
        self.soft = bool(soft) and self.binning.kind == "joint"
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.neighbours, self.sigma = int(neighbours), float(sigma)

    def call(self, y_true, y_pred):
        logits = ops.cast(y_pred, "float32")
        log_probabilities = ops.log_softmax(logits, axis=-1)  # (N, h, w, heads, Q)
        indices = (ops.cast(self.binning.encode(y_true), "int32")  # (N, h, w, heads)
                   if self.class_weights is not None or not self.soft else None)
        # The target is zero but for k cells (one when hard), so gather their log-probabilities rather than
        # multiply a dense (..., Q) target: the same sum, without building (..., k, Q) one-hots.
        if self.soft:  # joint bins: one head
            top_index, top_weight = self.binning.soft_neighbours(y_true, self.neighbours, self.sigma)
            picked = ops.take_along_axis(log_probabilities[..., 0, :], ops.cast(top_index, "int32"), axis=-1)
            per_value = -ops.sum(top_weight * picked, axis=-1, keepdims=True)  # (N, h, w, 1)
        else:
            per_value = -ops.take_along_axis(log_probabilities, ops.expand_dims(indices, -1), axis=-1)[..., 0]
        if self.class_weights is not None:
            weights = ops.convert_to_tensor(self.class_weights, "float32")
            per_value = per_value * ops.take(weights, indices, axis=0)
        return ops.mean(per_value, axis=(1, 2, 3))

    def get_config(self) -> dict:
        return {**super().get_config(), "binning_config": self.binning_config, "soft": self.soft,
                "class_weights": self.class_weights, "neighbours": self.neighbours, "sigma": self.sigma}


LOSSES = {"l2": L2Loss, "smooth_l1": SmoothL1Loss, "cross_entropy": BinnedCrossEntropy}


def get_loss(name: str) -> keras.losses.Loss:
    """A loss by name: 'l2', 'smooth_l1' or 'cross_entropy'."""
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; choose one of {sorted(LOSSES)}.")
    return LOSSES[name]()


def colorizer_loss(bins, rebalance_lambda: float | None, soft: bool = True, sigma: float = 5.0,
                   neighbours: int = 5):
    """The colorizer's classification loss for a binning: soft-encoded and rebalanced for joint bins."""
    weights = None
    if rebalance_lambda is not None and bins.kind == "joint":
        weights = bins.class_weights(rebalance_lambda, sigma)
    return ColorClassCrossEntropy(bins.get_config(), soft=soft, class_weights=weights, neighbours=neighbours,
                                  sigma=sigma)
