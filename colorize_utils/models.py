"""Keras functional model builders: the paper's baseline and final CNN, in keras.ops-only layers.

Every model maps L (H, W, 1) in [0, 100] to either ab (H, W, 2) in Lab units (regression head) or
logits (H, W, 2, num_bins) (classification head, A and B classified separately). Inputs are rescaled
to [-1, 1] inside the model, so callers always pass plain Lab L. Nothing here needs TensorFlow:
the same builders train under KERAS_BACKEND=jax.
"""

from __future__ import annotations

import numpy as np
import keras
from keras import layers, ops

from .config import DEFAULT_TEMPERATURE
from .distribute import replicas_in_scope


# The paper's final CNN: 9 conv layers, kernel 5, each ReLU then BatchNorm, down-sampling only by
# strided convs. Its figure with the channel numbers is lost; as in its source (Zhang et al. 2016),
# widths grow with depth: (multiple of `width`, stride) per layer. 64x64 -> 4x4 after four stride-2 convs.
PAPER_CNN_LAYERS = ((1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2), (8, 1))
HEADS = ("regression", "classification")
AB_OUTPUT_SCALE = 100.0


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend (call before every model build)."""
    keras.utils.set_random_seed(int(seed))


@keras.saving.register_keras_serializable(package="colorize_utils")
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


def batch_norm(name: str, momentum: float = 0.99) -> layers.BatchNormalization:
    """BatchNormalization; built under a tf.distribute strategy of several replicas, its batch statistics are
    synchronised across them, so N replicas normalise like one device on the same global batch."""
    if replicas_in_scope() > 1:
        return SyncBatchNormalization(momentum=momentum, name=name)
    return layers.BatchNormalization(momentum=momentum, name=name)


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


def colorizer_width(model: keras.Model) -> int:
    """The `width` a build_colorizer model was built with (its first conv's filters)."""
    return int(model.get_layer("enc1a_conv").filters)


def widen_colorizer(source: keras.Model, target: keras.Model) -> None:
    """Load a trained colorizer into a wider one built the same way, so that it computes the same function.

    Net2Net-style widening (Chen et al. 2016) with zero outgoing weights: each layer's old weights go into
    the leading slice of the wider one; the new channels keep their random initial weights, but every
    weight that reads a new channel starts at zero, so the wider model's output is at first exactly the
    source's. Training then grows the new channels from a model that already colours well, instead of
    starting the wider model from scratch. `dec1` reads a concatenation [upsampled 8w, quarter 4w]: its
    input rows are mapped group by group. Raises ValueError when the two models are not the same design
    with target's width at least source's.
    """
    old_width, new_width = colorizer_width(source), colorizer_width(target)
    if new_width < old_width:
        raise ValueError(f"widen_colorizer: the target (width {new_width}) is narrower than the source (width "
                         f"{old_width}); build the target at least as wide.")
    differ = [(a.name, b.name) for a, b in zip(source.layers, target.layers) if a.name != b.name]
    if len(source.layers) != len(target.layers) or differ or source.output.shape[3:] != target.output.shape[3:]:
        raise ValueError(f"widen_colorizer: the two models are not the same design (first differing layers "
                         f"{differ[:1] or 'none'}, {len(source.layers)} and {len(target.layers)} layers, outputs "
                         f"{source.output.shape[3:]} and {target.output.shape[3:]}); build the target with the "
                         "source's head, classes and global_context.")
    for old_layer, new_layer in zip(source.layers, target.layers):
        if not old_layer.weights:
            continue
        values = []
        for old_var, new_var in zip(old_layer.weights, new_layer.weights):
            old, new = ops.convert_to_numpy(old_var), np.array(ops.convert_to_numpy(new_var))
            if old.ndim >= 2:  # a kernel (..., inputs, outputs): map its input rows, zero the new ones
                if old_layer.name == "dec1_conv":  # [upsampled middle (8w), quarter skip (4w)]
                    rows = np.r_[0:8 * old_width, 8 * new_width:8 * new_width + 4 * old_width]
                else:
                    rows = np.arange(old.shape[-2])
                read_by_old = np.zeros(new.shape[-2], bool)
                read_by_old[rows] = True
                new[..., ~read_by_old, :] = 0.0
                new[..., rows, :old.shape[-1]] = old
            else:  # biases and BatchNorm's gamma, beta, mean and variance: one value per output channel
                new[:old.shape[0]] = old
            values.append(new)
        new_layer.set_weights(values)


def average_weights(trained: list[keras.Model]) -> keras.Model:
    """The first model with every weight replaced by its mean over `trained` (a uniform "model soup",
    Wortsman et al. 2022). Models trained further from one checkpoint stay in one basin of the loss, so the
    average of their weights scores at least as well as each and often better; BatchNorm's moving statistics
    are averaged the same way. Raises ValueError unless the models have the same layers and weight shapes."""
    if len(trained) < 2:
        raise ValueError(f"average_weights needs at least two models; got {len(trained)}.")
    first = trained[0]
    for other in trained[1:]:
        shapes = [tuple(w.shape) for w in first.weights], [tuple(w.shape) for w in other.weights]
        if [layer.name for layer in first.layers] != [layer.name for layer in other.layers] or shapes[0] != shapes[1]:
            raise ValueError(f"average_weights: {other.name} is not the same design as {first.name} (other "
                             "layers or weight shapes); only runs of one width and head, started from one "
                             "checkpoint, can be averaged.")
    weights = [model.get_weights() for model in trained]
    first.set_weights([np.mean([w[i] for w in weights], axis=0).astype(weights[0][i].dtype)
                       for i in range(len(weights[0]))])
    return first


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


def load_model(path) -> keras.Model:
    """A saved .keras model for inference (not compiled: no loss or optimizer is needed), with this package's
    custom layers registered (they are defined in this module)."""
    return keras.saving.load_model(path, compile=False)
