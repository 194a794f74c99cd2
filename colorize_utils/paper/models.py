"""The paper's models: the 3-conv + FC baseline and the 9-conv (kernel 5, ReLU then BatchNorm, strided) + FC CNN.

Every model maps L (H, W, 1) in [0, 100] to either ab (H, W, 2) in Lab units (regression head) or logits
(H, W, 2, num_bins) (classification head, A and B classified separately). Inputs are rescaled to [-1, 1]
inside the model, so callers always pass plain Lab L.
"""

from __future__ import annotations

import keras
from keras import layers

from colorize_utils.runtime.networks import AB_OUTPUT_SCALE, HEADS, batch_norm

# The paper's final CNN: 9 conv layers, kernel 5, each ReLU then BatchNorm, down-sampling only by
# strided convs. Its figure with the channel numbers is lost; as in its source (Zhang et al. 2016),
# widths grow with depth: (multiple of `width`, stride) per layer. 64x64 -> 4x4 after four stride-2 convs.
PAPER_CNN_LAYERS = ((1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2), (8, 1))


def _conv_relu_bn(x, filters: int, kernel_size: int, strides: int, dropout: float, name: str):
    """Conv -> ReLU -> BatchNorm (the paper's order), then dropout when asked."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", name=f"{name}_conv")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    x = batch_norm(f"{name}_bn")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def _head(x, image_size: int, head: str, num_bins: int, name: str):
    """The fully connected output layer, reshaped to ab or to per-channel bin logits."""
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}; got {head!r}.")
    if head == "regression":
        # Small initial weights: the model starts near gray (about 3 Lab units of noise after the x100
        # rescale below) instead of at glorot's ~80, which would cost the first epochs just to shrink.
        small = keras.initializers.VarianceScaling(scale=1e-3, mode="fan_in")
        x = layers.Dense(image_size * image_size * 2, kernel_initializer=small, name=f"{name}_fc")(x)
        x = layers.Reshape((image_size, image_size, 2), name="ab_scaled")(x)
        # The layers work in ab / 100 (about [-1, 1]); the output is ab in Lab units.
        return layers.Rescaling(AB_OUTPUT_SCALE, name="ab")(x)
    if num_bins < 2:
        raise ValueError(f"A classification head needs num_bins >= 2; got {num_bins}.")
    x = layers.Dense(image_size * image_size * 2 * num_bins, name=f"{name}_fc")(x)
    return layers.Reshape((image_size, image_size, 2, num_bins), name="ab_logits")(x)


def _lightness_input(image_size: int):
    inputs = keras.Input((image_size, image_size, 1), name="L")
    # L in [0, 100] -> [-1, 1]
    return inputs, layers.Rescaling(1.0 / 50.0, offset=-1.0, name="L_scaled")(inputs)


def build_baseline(image_size: int = 32, width: int = 32, head: str = "regression",
                   num_bins: int = 10, dropout: float = 0.0) -> keras.Model:
    """The paper's baseline: 3 conv layers (ReLU + BatchNorm) and one fully connected layer."""
    if image_size % 8:
        raise ValueError(f"image_size must be a multiple of 8; got {image_size}.")
    inputs, x = _lightness_input(image_size)
    for index, multiple in enumerate((1, 2, 4)):
        x = _conv_relu_bn(x, width * multiple, 5, 2, dropout, f"conv{index + 1}")
    x = layers.Flatten(name="flatten")(x)
    outputs = _head(x, image_size, head, num_bins, "output")
    return keras.Model(inputs, outputs, name=f"baseline_{head}")


def build_paper_cnn(image_size: int = 64, width: int = 32, head: str = "regression",
                    num_bins: int = 10, dropout: float = 0.0, fc_units: int | None = None) -> keras.Model:
    """The paper's final CNN: 9 conv layers (kernel 5, ReLU then BatchNorm, strided down-sampling) + FC.

    Between the last conv (4x4 at 64x64 input) and the output layer sits a fully connected bottleneck of
    `fc_units` (default 8 * width): a direct FC from 4x4x(8*width) to 64x64x2x50 logits would hold
    billions of weights.
    """
    if image_size % 16:
        raise ValueError(f"image_size must be a multiple of 16; got {image_size}.")
    if width < 1:
        raise ValueError(f"width must be at least 1; got {width}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}.")
    inputs, x = _lightness_input(image_size)
    for index, (multiple, stride) in enumerate(PAPER_CNN_LAYERS):
        x = _conv_relu_bn(x, width * multiple, 5, stride, dropout, f"conv{index + 1}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(fc_units or 8 * width, name="fc")(x)
    x = layers.ReLU(name="fc_relu")(x)
    x = batch_norm("fc_bn")(x)
    if dropout:
        x = layers.Dropout(dropout, name="fc_dropout")(x)
    outputs = _head(x, image_size, head, num_bins, "output")
    suffix = f"{head}{'_dropout' if dropout else ''}"
    return keras.Model(inputs, outputs, name=f"paper_cnn_{suffix}")
