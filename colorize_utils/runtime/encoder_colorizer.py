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
BUILDER = "colorize_utils.runtime.encoder_colorizer.build_encoder_colorizer"


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


def _conv_bn_relu(x, filters: int, name: str, kernel: int = 3):
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = batch_norm(f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_encoder_colorizer(num_classes: int, decoder_width: int = 32, global_units: int = GLOBAL_UNITS,
                            name: str = "colorizer_v4") -> keras.Model:
    """L (N, H, W, 1), H and W multiples of INPUT_MULTIPLE -> logits (N, H/4, W/4, 1, num_classes) over joint
    (a, b) bins. Encoder: EfficientNet-Lite0 (runtime/efficientnet.py; load its ImageNet weights with
    colorizer.encoder.load_imagenet_weights). Decoder widths 8w, 6w, 4w and 3w channels at 1/32, 1/16, 1/8 and 1/4."""
    if num_classes < 2:
        raise ValueError(f"the bin head needs num_classes >= 2; got {num_classes}.")
    if decoder_width < 1 or global_units < 1:
        raise ValueError(f"decoder_width and global_units must be at least 1; got {decoder_width}, {global_units}.")
    inputs = keras.Input((None, None, 1), name="L")
    gray = GrayRGBFromLightness(name="gray_rgb", dtype="float32")(inputs)  # L exact even under bfloat16
    scaled = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="rgb_scaled")(gray)
    features = efficientnet.lite0_features(scaled)
    w = decoder_width
    scene = layers.GlobalAveragePooling2D(name="scene_pool")(features["head"])
    scene = layers.Dense(global_units, activation="relu", name="scene_dense")(scene)
    x = _conv_bn_relu(features["head"], 8 * w, "dec32", kernel=1)
    x = Upsample2x(name="up16")(x)
    x = layers.Concatenate(name="skip16")([x, features[16]])
    x = FuseGlobal(name="fuse_scene")([x, scene])
    x = _conv_bn_relu(x, 6 * w, "dec16a")
    x = _conv_bn_relu(x, 6 * w, "dec16b")
    x = Upsample2x(name="up8")(x)
    x = layers.Concatenate(name="skip8")([x, features[8]])
    x = _conv_bn_relu(x, 4 * w, "dec8a")
    x = _conv_bn_relu(x, 4 * w, "dec8b")
    x = Upsample2x(name="up4")(x)
    x = layers.Concatenate(name="skip4")([x, features[4]])
    x = _conv_bn_relu(x, 3 * w, "dec4a")
    x = _conv_bn_relu(x, 3 * w, "dec4b")
    x = layers.Conv2D(num_classes, 1, name="logits")(x)
    outputs = ClassHeads(1, num_classes, name="ab_logits")(x)
    return keras.Model(inputs, outputs, name=name)


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
