"""The networks a saved colorizer is made of: custom layers (registered, so .keras files load), version 3's
fully convolutional colorizer, `load_model`, `predict_ab`, in keras.ops-only layers.

Every model maps L (H, W, 1) in [0, 100] to either ab (H, W, 2) in Lab units (regression head) or logits
over bins. Inputs are rescaled inside the model, so callers always pass plain Lab L. Nothing here needs
TensorFlow: the same builders train under KERAS_BACKEND=jax. The paper's CNNs are in paper/networks.py;
version 4's network in encoder_colorizer.py.
"""

from __future__ import annotations

import numpy as np
import keras
from keras import layers, ops

from colorize_utils.config import DEFAULT_TEMPERATURE

HEADS = ("regression", "classification")
AB_OUTPUT_SCALE = 100.0


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend (call before every model build)."""
    keras.utils.set_random_seed(int(seed))


@keras.saving.register_keras_serializable(package="colorize")
class SyncBatchNormalization(layers.BatchNormalization):
    """BatchNormalization whose batch statistics are synchronised across tf.distribute replicas in training.

    Its saved config leaves `synchronized` out, so a model trained on several GPUs loads anywhere, JAX
    included (Keras refuses synchronized=True on other backends); inference never needs the synchronisation.
    """

    def __init__(self, **kwargs):
        kwargs.pop("synchronized", None)
        super().__init__(synchronized=keras.backend.backend() == "tensorflow", **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("synchronized", None)
        return config


def replicas_in_scope() -> int:
    """How many replicas the current tf.distribute strategy has (1 outside one, or on another backend)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync if tf.distribute.has_strategy() else 1


def batch_norm(name: str, momentum: float = 0.99) -> layers.BatchNormalization:
    """BatchNormalization; built under a tf.distribute strategy of several replicas, its batch statistics are
    synchronised across them, so N replicas normalise like one device on the same global batch."""
    if replicas_in_scope() > 1:
        return SyncBatchNormalization(momentum=momentum, name=name)
    return layers.BatchNormalization(momentum=momentum, name=name)


# ----------------------------------------------------------------------------- the fully convolutional colorizer


@keras.saving.register_keras_serializable(package="colorize")
class ClassHeads(layers.Layer):
    """(N, h, w, heads * classes) -> (N, h, w, heads, classes), for any h and w (Reshape needs them fixed)."""

    def __init__(self, num_heads: int, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.num_classes = int(num_heads), int(num_classes)

    def call(self, inputs):
        shape = ops.shape(inputs)
        return ops.reshape(inputs, (shape[0], shape[1], shape[2], self.num_heads, self.num_classes))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.num_heads, self.num_classes)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_heads": self.num_heads, "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="colorize")
class GlobalContext(layers.Layer):
    """Scene-level context for a fully convolutional net (after Iizuka et al. 2016's global features).

    Averages the feature map over all positions, passes the mean through two dense layers and adds the
    result to every position. A 3x3 net only sees its receptive field; this lets "indoor", "sky at
    night" or "beach" steer colours everywhere, for inputs of any size. The second dense layer starts at
    zero, so a new model begins as if the branch were absent.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.hidden = layers.Dense(self.units, activation="relu", name="hidden")
        self.to_bias = layers.Dense(self.units, kernel_initializer="zeros", name="to_bias")

    def build(self, input_shape):
        self.hidden.build((input_shape[0], input_shape[-1]))
        self.to_bias.build((input_shape[0], self.units))

    def call(self, inputs):
        context = self.to_bias(self.hidden(ops.mean(inputs, axis=(1, 2))))
        return inputs + context[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="colorize")
class Upsample2x(layers.Layer):
    """Bilinear 2x upsampling (UpSampling2D's numbers) that also traces with unknown height and width.

    UpSampling2D fails inside a TensorFlow graph whose spatial sizes are unknown, which is how Keras traces
    a training step fed batches of several sizes (photos and Tiny ImageNet crops in one stream).
    """

    def call(self, inputs):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf  # only on that backend: the builders stay keras-only elsewhere

            return tf.image.resize(inputs, tf.shape(inputs)[1:3] * 2, method="bilinear")
        shape = ops.shape(inputs)
        return ops.image.resize(inputs, (shape[1] * 2, shape[2] * 2), interpolation="bilinear")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(None if d is None else 2 * d for d in input_shape[1:3]), input_shape[3])


def _conv_bn_relu(x, filters: int, name: str, strides: int = 1, dilation: int = 1, momentum: float = 0.99):
    """3x3 conv (no bias: BatchNorm follows) -> BatchNorm -> ReLU."""
    x = layers.Conv2D(filters, 3, strides=strides, dilation_rate=dilation, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    x = batch_norm(f"{name}_bn", momentum)(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_colorizer(width: int = 16, head: str = "classification", num_heads: int = 1,
                    num_classes: int = 313, name: str | None = None, bn_momentum: float = 0.99,
                    global_context: bool = False) -> keras.Model:
    """A fully convolutional colorizer for inputs of any size (a multiple of 8): L -> ab at 1/4 resolution.

    Encoder: three stride-2 stages (w, 2w, 4w, 8w channels) down to 1/8; a middle of four 8w convs, two of
    them dilated (dilation 2), which widens the receptive field at little cost; then up to 1/4 resolution,
    joined with the 1/4 encoder features (a U-Net skip) and two 4w convs. No fully connected layer, so
    every weight is shared across positions and the model cannot memorise fixed colour patterns (what
    sank the paper CNN's FC head). Predicting at 1/4 resolution is Zhang et al. 2016's choice: chroma
    varies slowly, and it cuts the costly late layers 16x. Callers upsample ab to the image's size.

    head="classification": logits (N, H/4, W/4, num_heads, num_classes) — one head over joint (a, b)
    bins, or two heads (A and B) over per-channel bins. head="regression": ab (N, H/4, W/4, 2) in Lab units.
    `bn_momentum`: BatchNorm's moving-average momentum; runs of a few hundred steps need a lower one (0.9),
    or inference uses statistics still weighted toward their initial values.
    `global_context`: add the whole input's pooled features to the middle (GlobalContext), after the
    second middle conv, so the colours of one region can depend on the scene.
    """
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}; got {head!r}.")
    if width < 1:
        raise ValueError(f"width must be at least 1; got {width}.")
    if head == "classification" and num_classes < 2:
        raise ValueError(f"A classification head needs num_classes >= 2; got {num_classes}.")
    inputs = keras.Input((None, None, 1), name="L")
    x = layers.Rescaling(1.0 / 50.0, offset=-1.0, name="L_scaled")(inputs)
    x = _conv_bn_relu(x, width, "enc1a", momentum=bn_momentum)
    x = _conv_bn_relu(x, 2 * width, "enc1b", strides=2, momentum=bn_momentum)  # 1/2
    x = _conv_bn_relu(x, 2 * width, "enc2a", momentum=bn_momentum)
    quarter = _conv_bn_relu(x, 4 * width, "enc2b", strides=2, momentum=bn_momentum)  # 1/4
    x = _conv_bn_relu(quarter, 4 * width, "enc3a", momentum=bn_momentum)
    x = _conv_bn_relu(x, 8 * width, "enc3b", strides=2, momentum=bn_momentum)  # 1/8
    for index, dilation in enumerate((1, 2, 2, 1)):
        x = _conv_bn_relu(x, 8 * width, f"mid{index + 1}", dilation=dilation, momentum=bn_momentum)
        if global_context and index == 1:
            x = GlobalContext(8 * width, name="global_context")(x)
    x = Upsample2x(name="up")(x)  # back to 1/4
    x = layers.Concatenate(name="skip")([x, quarter])
    x = _conv_bn_relu(x, 4 * width, "dec1", momentum=bn_momentum)
    x = _conv_bn_relu(x, 4 * width, "dec2", momentum=bn_momentum)
    if head == "regression":
        small = keras.initializers.VarianceScaling(scale=1e-2, mode="fan_in")
        x = layers.Conv2D(2, 1, kernel_initializer=small, name="ab_scaled")(x)
        outputs = layers.Rescaling(AB_OUTPUT_SCALE, name="ab")(x)
    else:
        x = layers.Conv2D(num_heads * num_classes, 1, name="logits")(x)
        outputs = ClassHeads(num_heads, num_classes, name="ab_logits")(x)
    return keras.Model(inputs, outputs, name=name or f"colorizer_{head}")


def is_classifier(model: keras.Model) -> bool:
    """True when the model outputs bin logits (H, W, 2, num_bins) rather than ab."""
    return len(model.output.shape) == 5


def predict_ab(model: keras.Model, lightness: np.ndarray, binning=None, batch_size: int = 64,
               decode: str = "argmax", temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
    """ab predictions in Lab units, at the input's resolution, for L (N, H, W, 1).

    Classifiers decode by `decode` ("argmax" = the paper's unbin(argmax), "mean", or "annealed" with
    `temperature`). The fully convolutional colorizer's 1/4-resolution ab is upsampled bilinearly.
    Batches are decoded one at a time, so a 50-bin classifier never holds all its logits at once.
    """
    classifier = is_classifier(model)
    if classifier and binning is None:
        raise ValueError(f"{model.name} predicts bins: pass the bin table it was trained with.")
    outputs = []
    height, width = lightness.shape[1:3]
    for start in range(0, len(lightness), batch_size):
        batch = ops.convert_to_tensor(np.asarray(lightness[start:start + batch_size], np.float32))
        output = model(batch, training=False)
        ab = binning.decode_logits(output, decode, temperature) if classifier else output
        if tuple(ab.shape[1:3]) != (height, width):
            ab = ops.image.resize(ab, (height, width), interpolation="bilinear")
        outputs.append(ops.convert_to_numpy(ab))
    if not outputs:
        return np.zeros(tuple(lightness.shape[:-1]) + (2,), np.float32)
    return np.concatenate(outputs).astype(np.float32)


# Files saved before every layer was registered under the one package name "colorize".
LEGACY_NAMES = {"colorize_utils>SyncBatchNormalization": SyncBatchNormalization}


def load_model(path) -> keras.Model:
    """A saved .keras model for inference (not compiled: no loss or optimizer is needed), with this package's
    custom layers registered (those of this module; version 4's are registered when encoder_colorizer is
    imported, as inference.load_colorizer and the colorizer's training do)."""
    return keras.saving.load_model(path, compile=False, custom_objects=LEGACY_NAMES)
