"""EfficientNet-Lite0 from `keras.layers` and `keras.ops` only (it runs under TensorFlow and JAX): version 4's
encoder, and the 1000-class classifier that checks its converted ImageNet weights (colorizer/encoder.py).

ReLU6, no squeeze-excite (the "lite" variant), BatchNorm epsilon 1e-3, PyTorch's symmetric padding, input
(rgb - 127) / 128 on 0..255 values. Layer names are what colorizer/encoder.py maps the PyTorch weights onto.
"""

from __future__ import annotations

import keras
from keras import layers

# Each stage: (expansion, kernel, stride, output channels, repeats) — EfficientNet-B0's table at width and
# depth 1.0; the lite variants keep the stem (32) and head (1280) widths fixed.
LITE0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
                (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
STEM_CHANNELS, HEAD_CHANNELS, NUM_IMAGENET_CLASSES = 32, 1280, 1000
BN_EPSILON = 1e-3
# The last block of each resolution: the features a U-Net decoder takes (stride -> block index).
SKIP_BLOCKS = {4: 2, 8: 4, 16: 10, 32: 15}


# ----------------------------------------------------------------------------- the network


def _pad(x, kernel: int, name: str):
    """PyTorch's symmetric zero padding (kernel // 2 on every side), before a 'valid' convolution."""
    return layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x) if kernel > 1 else x


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)


def _block(x, index: int, expansion: int, kernel: int, stride: int, out_channels: int):
    """A mobile inverted bottleneck without squeeze-excite: 1x1 expand, depthwise kxk, 1x1 project (+ skip)."""
    name = f"block{index}"
    in_channels = x.shape[-1]
    y = x
    if expansion != 1:
        y = layers.Conv2D(in_channels * expansion, 1, use_bias=False, name=f"{name}_expand_conv")(y)
        y = _bn(f"{name}_expand_bn")(y)
        y = layers.ReLU(6.0, name=f"{name}_expand_relu6")(y)
    y = _pad(y, kernel, f"{name}_dw")
    y = layers.DepthwiseConv2D(kernel, strides=stride, padding="valid", use_bias=False, name=f"{name}_dw_conv")(y)
    y = _bn(f"{name}_dw_bn")(y)
    y = layers.ReLU(6.0, name=f"{name}_dw_relu6")(y)
    y = layers.Conv2D(out_channels, 1, use_bias=False, name=f"{name}_project_conv")(y)
    y = _bn(f"{name}_project_bn")(y)
    if stride == 1 and in_channels == out_channels:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y


def lite0_features(rgb_scaled):
    """EfficientNet-Lite0's layers on an input already scaled to (rgb - 127) / 128. Returns
    {stride: features} for strides 4, 8, 16 and 32 (SKIP_BLOCKS) and "head": the 1280-channel 1/32 map."""
    x = _pad(rgb_scaled, 3, "stem")
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="valid", use_bias=False, name="stem_conv")(x)
    x = _bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu6")(x)
    features, index = {}, 0
    by_block = {block: stride for stride, block in SKIP_BLOCKS.items()}
    for expansion, kernel, stride, channels, repeats in LITE0_STAGES:
        for repeat in range(repeats):
            x = _block(x, index, expansion, kernel, stride if repeat == 0 else 1, channels)
            if index in by_block:
                features[by_block[index]] = x
            index += 1
    x = layers.Conv2D(HEAD_CHANNELS, 1, use_bias=False, name="head_conv")(x)
    x = _bn("head_bn")(x)
    features["head"] = layers.ReLU(6.0, name="head_relu6")(x)
    return features


def build_lite0_classifier(image_size: int | None = 224) -> keras.Model:
    """EfficientNet-Lite0 as an ImageNet classifier: uint8-range RGB (0..255) in, 1000 logits out."""
    inputs = keras.Input((image_size, image_size, 3), name="rgb")
    scaled = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="rgb_scaled")(inputs)
    head = lite0_features(scaled)["head"]
    pooled = layers.GlobalAveragePooling2D(name="pool")(head)
    logits = layers.Dense(NUM_IMAGENET_CLASSES, name="classifier")(pooled)
    return keras.Model(inputs, logits, name="efficientnet_lite0")
