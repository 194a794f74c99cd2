"""Colorizer version 4: an ImageNet-trained encoder (EfficientNet-Lite0) under a U-Net decoder.

The encoder sees L as the gray RGB photo with that lightness, so it meets the kind of input its ImageNet
training knew (it still names 59% of gray Imagenette photos top-1, against 74% in color). The decoder climbs
from the 1/32 features back to 1/4 resolution with skips from 1/16, 1/8 and 1/4; the 1/32 features, pooled
to one 1280-d vector, are fused into every 1/16 position (Iizuka et al. 2016's global features), so "beach"
or "indoor" can steer the colors everywhere. The head is the same joint (a, b) bin classifier as version 3's
(networks.build_colorizer), so the loss, the rebalancing, the bins and the decoding carry over unchanged.

Training goes in two stages (shipped_model): the encoder frozen, BatchNorm in inference mode, only the
decoder learning; then the encoder's top blocks fine-tuned (set_encoder_trainable), with a lower
--learning-rate given for that stage.

With `hint_scales`, the network takes a second input: a user's color hints at the input's resolution, three
channels (hint a / HINT_AB_SCALE, hint b / HINT_AB_SCALE, mask), as Zhang et al. 2017 feed theirs. They are
pooled to each listed decoder scale (HintPool) and added there through a 3x3 convolution whose weights start
at zero, so with or without hints the network starts out as exactly the automatic one it was copied from.
With `hint_propagation`, it also reads the hints spread edge-aware over L (HintPropagation: the guided-filter
normalized convolution of the issue's baseline, at 1/4, and the hints' global mean), added at the same scales
through zero-initialised, bias-free convolutions: all zero without hints, so the automatic path is untouched.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from colorize_utils.runtime import efficientnet
from colorize_utils.runtime.networks import ClassHeads, Upsample2x, batch_norm
from colorize_utils.runtime import networks

INPUT_MULTIPLE = 32  # height and width must be multiples of the encoder's deepest stride
OUTPUT_STRIDE = 4  # logits at 1/4 resolution, as version 3's
GLOBAL_UNITS = 256  # the scene vector fused into the decoder
HINT_AB_SCALE = 100.0  # hint planes carry ab / 100, about the range [-1, 1]
# Where hints join the decoder: 1/8 and 1/4 (issue "Color hints"), and 1/16, where the decoder's three
# layers reach about 3 cells = 48 input pixels away, so one click can color more than its neighbourhood.
HINT_SCALES = (16, 8, 4)
BUILDER = "colorize_utils.runtime.encoder_colorizer.build_encoder_colorizer"
# With hint_propagation: the hints spread edge-aware over L at 1/4 (HintPropagation), a radius of 10 cells (40
# working pixels, a quarter of a 160 px side, as the propagation baseline's chosen 0.25 x the longer side) and
# its eps 0.01 on (L/100)^2. Zhang et al. 2017's network has to learn that spreading from a few points; given
# it, the decoder only has to learn where to trust it.
PROPAGATION_RADIUS_CELLS = 10
PROPAGATION_EPS = 0.01
PROPAGATION_CHANNELS = 6


@keras.saving.register_keras_serializable(package="colorize")
class GrayRGBFromLightness(layers.Layer):
    """Lab L (0..100) -> the gray sRGB image (0..255, three equal channels) whose lightness it is: the exact
    inverse of Lab's L for a = b = 0 (D65 white), so the encoder sees what a gray photo gives it."""

    def call(self, lightness):
        lightness = ops.clip(ops.cast(lightness, "float32"), 0.0, 100.0)
        fy = (lightness + 16.0) / 116.0  # Lab's f(Y), inverted as color.py does (its constants)
        luminance = ops.where(fy > 0.2068966, fy * fy * fy, (fy - 16.0 / 116.0) / 7.787)
        srgb = ops.where(luminance > 0.0031308, 1.055 * ops.power(ops.maximum(luminance, 0.0031308), 1.0 / 2.4)
                         - 0.055, 12.92 * luminance)
        return ops.repeat(ops.clip(srgb, 0.0, 1.0) * 255.0, 3, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)


@keras.saving.register_keras_serializable(package="colorize")
class FuseGlobal(layers.Layer):
    """Concatenate a per-image vector (N, C) to every position of a feature map (N, H, W, D)."""

    def call(self, inputs):
        features, vector = inputs
        shape = ops.shape(features)
        tiled = ops.broadcast_to(vector[:, None, None, :], (shape[0], shape[1], shape[2], vector.shape[-1]))
        return ops.concatenate([features, ops.cast(tiled, features.dtype)], axis=-1)

    def compute_output_shape(self, input_shapes):
        features, vector = input_shapes
        return (*features[:-1], features[-1] + vector[-1])


@keras.saving.register_keras_serializable(package="colorize")
class HintPool(layers.Layer):
    """Hint planes (N, H, W, 3: a, b, mask) -> the same at 1/factor: the mask's maximum over each cell (one
    hinted pixel marks its cell) and the mean hint ab over the cell's hinted pixels."""

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, hints):
        hints = ops.cast(hints, "float32")
        if self.factor == 1:
            return hints
        mask = hints[..., 2:3]
        pool = lambda x: ops.average_pool(x, self.factor, self.factor, padding="valid")  # noqa: E731
        covered = pool(mask)
        ab = pool(hints[..., :2] * mask) / ops.maximum(covered, 1e-6)
        cell_mask = ops.max_pool(mask, self.factor, self.factor, padding="valid")
        return ops.concatenate([ab * cell_mask, cell_mask], axis=-1)

    def compute_output_shape(self, input_shape):
        size = lambda d: None if d is None else d // self.factor  # noqa: E731
        return (input_shape[0], size(input_shape[1]), size(input_shape[2]), 3)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="colorize")
class HintPropagation(layers.Layer):
    """[L (N, H, W, 1), hint planes (N, H, W, 3)] -> (N, H/4, W/4, 6): the hints spread edge-aware over L, at
    1/4 resolution, by normalized convolution with a guided filter (He et al. 2010): ab = GF(ab x mask) / GF(mask),
    the classic "propagate the scribbles" step, and the hints' global mean.

    Channels: the propagated a and b (over HINT_AB_SCALE, clipped to +-1.1), its confidence (0 where no hint
    reaches, near 1 within a hint's window), the mean hint a and b over the whole image, and 1 if there is any
    hint. Every channel is exactly 0 when there is no hint, so the convolutions that read it (no bias, zero start)
    leave a network without hints exactly as it was. Box filters are keras.ops average pools ('same' padding
    divides by the window's pixels inside the image under both TensorFlow and JAX)."""

    def __init__(self, factor: int = OUTPUT_STRIDE, radius: int = PROPAGATION_RADIUS_CELLS,
                 eps: float = PROPAGATION_EPS, **kwargs):
        super().__init__(**kwargs)
        if int(factor) < 1 or int(radius) < 0 or not float(eps) > 0:
            raise ValueError(f"HintPropagation needs factor >= 1, radius >= 0 and eps > 0 (eps keeps flat L from "
                             f"dividing 0 by 0); got {factor}, {radius}, {eps}.")
        self.factor, self.radius, self.eps = int(factor), int(radius), float(eps)

    def call(self, inputs):
        lightness, hints = (ops.cast(t, "float32") for t in inputs)
        cell = lambda x: ops.average_pool(x, self.factor, self.factor, padding="valid")  # noqa: E731
        window = 2 * self.radius + 1
        box = lambda x: ops.average_pool(x, window, 1, padding="same")  # noqa: E731
        guide = cell(lightness) / 100.0
        mask = hints[..., 2:3]
        weight = cell(mask)  # the hinted share of each cell
        weighted_ab = cell(hints[..., :2] * mask)
        signal = ops.concatenate([weighted_ab, weight], axis=-1)
        mean_guide, mean_signal = box(guide), box(signal)
        variance = ops.maximum(box(guide * guide) - mean_guide * mean_guide, 0.0)  # no negative round-off
        slope = (box(guide * signal) - mean_guide * mean_signal) / (variance + self.eps)
        offset = mean_signal - slope * mean_guide
        filtered = box(slope) * guide + box(offset)
        support = ops.maximum(filtered[..., 2:3], 0.0)
        # a twentieth of one one-pixel hint spread over the window: confidence about 0.95 where one hint reaches
        floor = 0.05 / (self.factor * self.factor * window * window)
        propagated = ops.clip(filtered[..., :2] / (support + floor), -1.1, 1.1) * ops.cast(support > 0, "float32")
        confidence = support / (support + floor)
        total = ops.sum(weight, axis=(1, 2), keepdims=True)
        mean_ab = ops.sum(weighted_ab, axis=(1, 2), keepdims=True) / ops.maximum(total, 1e-12)
        any_hint = ops.cast(total > 0, "float32")
        spread = ops.ones_like(support)
        return ops.concatenate([propagated, confidence, mean_ab * spread, any_hint * spread], axis=-1)

    def compute_output_shape(self, input_shapes):
        lightness_shape = input_shapes[0]
        size = lambda d: None if d is None else d // self.factor  # noqa: E731
        return (lightness_shape[0], size(lightness_shape[1]), size(lightness_shape[2]), PROPAGATION_CHANNELS)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "radius": self.radius, "eps": self.eps}


def _add_propagation(x, propagation, factor: int):
    """x + a zero-initialised, bias-free 3x3 convolution of HintPropagation's channels averaged to x's scale."""
    pooled = propagation if factor == OUTPUT_STRIDE else layers.AveragePooling2D(
        factor // OUTPUT_STRIDE, name=f"propagation_pool{factor}")(propagation)
    steered = layers.Conv2D(x.shape[-1], 3, padding="same", use_bias=False, kernel_initializer="zeros",
                            name=f"propagation_conv{factor}")(pooled)
    return layers.Add(name=f"propagation_add{factor}")([x, steered])


def _add_hints(x, hints, factor: int):
    """x + a zero-initialised 3x3 convolution of the hints pooled to x's scale (1/factor)."""
    pooled = HintPool(factor, name=f"hint_pool{factor}")(hints)
    steered = layers.Conv2D(x.shape[-1], 3, padding="same", kernel_initializer="zeros", bias_initializer="zeros",
                            name=f"hint_conv{factor}")(pooled)
    return layers.Add(name=f"hint_add{factor}")([x, steered])


def _conv_bn_relu(x, filters: int, name: str, kernel: int = 3):
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = batch_norm(f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_encoder_colorizer(num_classes: int, decoder_width: int = 32, global_units: int = GLOBAL_UNITS,
                            name: str = "colorizer_v4", hint_scales: tuple[int, ...] | None = None,
                            hint_propagation: bool = False) -> keras.Model:
    """L (N, H, W, 1), H and W multiples of INPUT_MULTIPLE -> logits (N, H/4, W/4, 1, num_classes) over joint
    (a, b) bins. Encoder: EfficientNet-Lite0 (runtime/efficientnet.py; load its ImageNet weights with
    colorizer.encoder.load_imagenet_weights). Decoder widths 8w, 6w, 4w and 3w channels at 1/32, 1/16, 1/8 and 1/4.

    `hint_scales` (e.g. HINT_SCALES): the model takes [L, hints], hints (N, H, W, 3) as runtime.hints makes
    them, added to the decoder at those scales (16, 8 and/or 4) through zero-initialised convolutions.
    `hint_propagation`: the hints spread edge-aware over L (HintPropagation) are added at the same scales too."""
    if num_classes < 2:
        raise ValueError(f"the bin head needs num_classes >= 2; got {num_classes}.")
    if decoder_width < 1 or global_units < 1:
        raise ValueError(f"decoder_width and global_units must be at least 1; got {decoder_width}, {global_units}.")
    hint_scales = tuple(int(f) for f in hint_scales or ())
    if set(hint_scales) - {4, 8, 16} or len(set(hint_scales)) != len(hint_scales):
        raise ValueError(f"hint_scales are decoder scales, some of 16, 8 and 4, each once; got {hint_scales}.")
    if hint_propagation and not hint_scales:
        raise ValueError("hint_propagation spreads the hints of a hint model: give hint_scales too.")
    inputs = keras.Input((None, None, 1), name="L")
    hints = keras.Input((None, None, 3), name="hints") if hint_scales else None
    gray = GrayRGBFromLightness(name="gray_rgb", dtype="float32")(inputs)  # L exact even under bfloat16
    propagation = (HintPropagation(name="hint_propagation", dtype="float32")([inputs, hints])
                   if hint_propagation else None)

    def steer(x, factor):  # the hints (and their propagation) at this decoder scale, if it takes them
        if factor not in hint_scales:
            return x
        x = _add_hints(x, hints, factor)
        return _add_propagation(x, propagation, factor) if hint_propagation else x

    scaled = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="rgb_scaled")(gray)
    features = efficientnet.lite0_features(scaled)
    w = decoder_width
    scene = layers.GlobalAveragePooling2D(name="scene_pool")(features["head"])
    scene = layers.Dense(global_units, activation="relu", name="scene_dense")(scene)
    x = _conv_bn_relu(features["head"], 8 * w, "dec32", kernel=1)
    x = Upsample2x(name="up16")(x)
    x = layers.Concatenate(name="skip16")([x, features[16]])
    x = FuseGlobal(name="fuse_scene")([x, scene])
    x = steer(x, 16)
    x = _conv_bn_relu(x, 6 * w, "dec16a")
    x = _conv_bn_relu(x, 6 * w, "dec16b")
    x = Upsample2x(name="up8")(x)
    x = layers.Concatenate(name="skip8")([x, features[8]])
    x = steer(x, 8)
    x = _conv_bn_relu(x, 4 * w, "dec8a")
    x = _conv_bn_relu(x, 4 * w, "dec8b")
    x = Upsample2x(name="up4")(x)
    x = layers.Concatenate(name="skip4")([x, features[4]])
    x = steer(x, 4)
    x = _conv_bn_relu(x, 3 * w, "dec4a")
    x = _conv_bn_relu(x, 3 * w, "dec4b")
    x = layers.Conv2D(num_classes, 1, name="logits")(x)
    outputs = ClassHeads(1, num_classes, name="ab_logits")(x)
    return keras.Model([inputs, hints] if hint_scales else inputs, outputs, name=name)


def encoder_layer_names(model: keras.Model) -> list[str]:
    """The EfficientNet-Lite0 layers of a version-4 colorizer (stem, block0..block15, head), in order."""
    return [layer.name for layer in model.layers
            if layer.name.startswith(("stem_", "block", "head_"))]


def set_encoder_trainable(model: keras.Model, from_block: int | None) -> int:
    """Freeze the encoder (from_block None) or let its blocks from `from_block` on (and its head conv) learn.

    BatchNorm layers of the encoder stay frozen either way: a frozen Keras BatchNormalization runs in
    inference mode with ImageNet's statistics, which small CPU batches would only blur. Returns the number
    of encoder weights that train."""
    trainable = 0
    for name in encoder_layer_names(model):
        layer = model.get_layer(name)
        if isinstance(layer, layers.BatchNormalization) or from_block is None:
            layer.trainable = False
            continue
        index = int(name[5:name.index("_")]) if name.startswith("block") else (99 if name.startswith("head") else -1)
        layer.trainable = index >= from_block
        trainable += sum(int(ops.size(w)) for w in layer.trainable_weights) if layer.trainable else 0
    return trainable


def is_encoder_colorizer(model: keras.Model) -> bool:
    """True for a version-4 colorizer (it holds the gray-RGB input layer)."""
    return any(layer.name == "gray_rgb" for layer in getattr(model, "layers", ()))


def takes_hints(model) -> bool:
    """True for a colorizer with a hint input (build_encoder_colorizer's hint_scales)."""
    return len(getattr(model, "inputs", None) or ()) == 2


def copy_matching_weights(source: keras.Model, target: keras.Model) -> int:
    """Copy every layer's weights from `source` into the layer of the same name in `target` (a hint model
    from the automatic one it extends: the hint layers keep their zero start). Returns the layers copied;
    ValueError when a shared layer's shapes differ, or when `source` has trained layers that `target` lacks
    (copying would silently drop them, e.g. a hint model's into an automatic one)."""
    names = {layer.name for layer in target.layers}
    dropped = [layer.name for layer in source.layers if layer.weights and layer.name not in names]
    if dropped:
        raise ValueError(f"{len(dropped)} layers of the source have no place here ({', '.join(dropped[:4])}...): "
                         "start from a network this one extends (e.g. a hint model from an automatic one).")
    copied = 0
    for layer in target.layers:
        try:
            other = source.get_layer(layer.name)
        except ValueError:
            continue
        if not layer.weights:
            continue
        values = other.get_weights()
        if [w.shape for w in values] != [tuple(w.shape) for w in layer.weights]:
            raise ValueError(f"layer {layer.name}: {[w.shape for w in values]} in the source, "
                             f"{[tuple(w.shape) for w in layer.weights]} here: the networks differ.")
        layer.set_weights(values)
        copied += 1
    return copied
