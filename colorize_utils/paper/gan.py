"""The conditional GAN (pix2pix) colorizer: a U-Net generator, a PatchGAN discriminator, and training.

- Generator: U-Net on L (64x64x1) -> ab. Encoder: conv (4x4, stride 2) + batch norm + leaky ReLU;
  decoder: transposed conv + batch norm + ReLU, dropout in the first three decoder levels instead of a
  noise input (pix2pix); a skip connection from every encoder level to its decoder level; tanh output
  scaled to the ab range.
- Discriminator: PatchGAN on the (L, ab) pair: a 30x30 map of per-patch realness logits at 64x64 input.
- Objective: adversarial (binary cross-entropy) + lambda * L1, lambda = 100; Adam(2e-4, beta_1 = 0.5).
  L1 is taken on ab / AB_OUTPUT_RANGE (about [-1, 1], as pix2pix's images), so lambda keeps its meaning.
- Optional L1-only warm-up epochs (adversarial weight 0), a known way to make GAN colorization train
  stably: the generator first learns plausible colors, then the discriminator sharpens them.

The builders are backend-neutral Keras; `ConditionalGAN.train_step` follows the Keras 3 GAN examples
and uses tf.GradientTape, so GAN *training* needs KERAS_BACKEND=tensorflow.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from colorize_utils.files import atomic_path, json_safe
from colorize_utils.runtime.networks import load_model
from colorize_utils.learning.training import EpochLog, adam, build_optimizer, prepare_run_dir, read_history, verbosity

AB_OUTPUT_RANGE = 110.0  # tanh * 110 covers the a and b values of every sRGB color
PATCH_GRID = 30


def build_generator(image_size: int = 64, width: int = 64, dropout: float = 0.5) -> keras.Model:
    """U-Net generator: L (H, W, 1) in [0, 100] -> ab (H, W, 2) in Lab units."""
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 8; got {image_size}.")
    inputs = keras.Input((image_size, image_size, 1), name="L")
    x = layers.Rescaling(1.0 / 50.0, offset=-1.0, name="L_scaled")(inputs)
    levels = int(np.log2(image_size))  # 64 -> 6 stride-2 levels, down to 1x1
    filters = [width * min(2 ** i, 8) for i in range(levels)]
    skips = []
    for index, count in enumerate(filters):
        x = layers.Conv2D(count, 4, strides=2, padding="same", use_bias=index == 0,
                          kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name=f"down{index + 1}")(x)
        if index > 0:  # pix2pix: no batch norm on the first layer
            x = layers.BatchNormalization(name=f"down{index + 1}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"down{index + 1}_lrelu")(x)
        skips.append(x)
    for index, count in enumerate(reversed(filters[:-1])):
        x = layers.Conv2DTranspose(count, 4, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=keras.initializers.RandomNormal(stddev=0.02),
                                   name=f"up{index + 1}")(x)
        x = layers.BatchNormalization(name=f"up{index + 1}_bn")(x)
        if index < 3 and dropout:
            x = layers.Dropout(dropout, name=f"up{index + 1}_dropout")(x)  # the noise of pix2pix
        x = layers.ReLU(name=f"up{index + 1}_relu")(x)
        x = layers.Concatenate(name=f"skip{index + 1}")([x, skips[-index - 2]])
    x = layers.Conv2DTranspose(2, 4, strides=2, padding="same", activation="tanh",
                               kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name="ab_tanh")(x)
    outputs = layers.Rescaling(AB_OUTPUT_RANGE, name="ab")(x)
    return keras.Model(inputs, outputs, name="unet_generator")


def build_discriminator(image_size: int = 64, width: int = 64) -> keras.Model:
    """PatchGAN on (L, ab): at 64x64 input, a 30x30 map of per-patch realness logits."""
    lightness = keras.Input((image_size, image_size, 1), name="L")
    ab = keras.Input((image_size, image_size, 2), name="ab")
    x = layers.Concatenate(name="L_ab")([layers.Rescaling(1.0 / 50.0, offset=-1.0)(lightness),
                                         layers.Rescaling(1.0 / AB_OUTPUT_RANGE)(ab)])
    init = keras.initializers.RandomNormal(stddev=0.02)
    # 64 -> 32 (stride 2), 32 -> 32, pad 34 -> 31 (4x4 valid), pad 33 -> 30 (4x4 valid): 22x22-pixel patches.
    x = layers.Conv2D(width, 4, strides=2, padding="same", kernel_initializer=init, name="d1")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(width * 2, 4, strides=1, padding="same", use_bias=False, kernel_initializer=init, name="d2")(x)
    x = layers.BatchNormalization(name="d2_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.Conv2D(width * 4, 4, strides=1, padding="valid", use_bias=False, kernel_initializer=init, name="d3")(x)
    x = layers.BatchNormalization(name="d3_bn")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.ZeroPadding2D(1)(x)
    outputs = layers.Conv2D(1, 4, strides=1, padding="valid", kernel_initializer=init, name="patch_logits")(x)
    return keras.Model([lightness, ab], outputs, name="patchgan_discriminator")


def _bce_from_logits(target: float, logits):
    labels = ops.full_like(logits, target)
    return ops.mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))


class ConditionalGAN(keras.Model):
    """pix2pix training of a generator against a PatchGAN; fit() on (L, ab) batches."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, l1_weight: float = 100.0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.l1_weight = float(l1_weight)
        # 0 during the L1-only warm-up, then 1; a variable, so changing it needs no retrace.
        self.adversarial_weight = keras.Variable(1.0, trainable=False, name="adversarial_weight")
        names = ("d_loss", "g_loss", "g_adversarial", "g_l1")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        # The generator's optimizer stands as `optimizer`, so callbacks see its learning rate.
        super().compile(optimizer=self.g_optimizer, **kwargs)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def build(self, input_shape):
        # Both networks are functional models, built already: nothing to create here.
        self.built = True

    def _pix2pix_losses(self, data, training: bool) -> dict:
        """The pix2pix losses of one batch: discriminator, generator (adversarial + lambda x L1)."""
        lightness, ab_real, _ = keras.utils.unpack_x_y_sample_weight(data)
        # float32 whatever the layers compute in (a mixed_bfloat16 policy returns bfloat16 outputs)
        ab_fake = ops.cast(self.generator(lightness, training=training), "float32")
        ab_real = ops.cast(ab_real, "float32")
        real_logits = self.discriminator([lightness, ab_real], training=training)
        fake_logits = self.discriminator([lightness, ab_fake], training=training)
        g_adversarial = _bce_from_logits(1.0, fake_logits)
        g_l1 = ops.mean(ops.abs(ab_real - ab_fake)) / AB_OUTPUT_RANGE
        return {"d_loss": 0.5 * (_bce_from_logits(1.0, real_logits) + _bce_from_logits(0.0, fake_logits)),
                "g_adversarial": g_adversarial, "g_l1": g_l1,
                "g_loss": self.adversarial_weight * g_adversarial + self.l1_weight * g_l1}

    def _update_trackers(self, values: dict) -> dict:
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            values = self._pix2pix_losses(data, training=True)
        g_grads = g_tape.gradient(values["g_loss"], self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
        d_grads = d_tape.gradient(values["d_loss"], self.discriminator.trainable_weights)
        # During the warm-up the discriminator still learns, but its verdict does not steer the generator.
        self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))
        return self._update_trackers(values)

    def test_step(self, data):
        return self._update_trackers(self._pix2pix_losses(data, training=False))


@dataclass
class GANConfig:
    """pix2pix's schedule: Adam(2e-4, beta_1 0.5), lambda 100; plus the L1-only warm-up epochs."""

    epochs: int = 200
    batch_size: int = 250
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    l1_weight: float = 100.0
    warmup_epochs: int = 0
    seed: int = 0
    verbose: str | int = "auto"


class _Warmup(keras.callbacks.Callback):
    """Adversarial weight 0 for the first `epochs` epochs (L1 only), 1 afterwards."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.adversarial_weight.assign(0.0 if epoch < self.epochs else 1.0)


class _SaveGenerator(keras.callbacks.Callback):
    """Saves the generator after every epoch as a plain .keras model (pix2pix keeps the last one)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        with atomic_path(self.path) as temporary:  # a kill mid-write never leaves a half-written model
            self.model.generator.save(temporary)


def train_gan(generator: keras.Model, discriminator: keras.Model, train_data, val_data,
              run_dir: str | os.PathLike, gan_config: GANConfig):
    """Train the cGAN; saves run_dir/model.keras (the generator), history, and a resumable backup."""
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("GAN training uses a tf.GradientTape train_step: set KERAS_BACKEND=tensorflow.")
    run_dir = prepare_run_dir(run_dir, gan_config.epochs)
    keras.utils.set_random_seed(gan_config.seed)
    gan = ConditionalGAN(generator, discriminator, gan_config.l1_weight, name="cgan")
    gan.build(generator.input.shape)  # BackupAndRestore needs a built model
    gan.compile(adam(gan_config.learning_rate, beta_1=gan_config.beta_1),
                adam(gan_config.learning_rate, beta_1=gan_config.beta_1))
    build_optimizer(gan.g_optimizer, generator.trainable_variables)
    build_optimizer(gan.d_optimizer, discriminator.trainable_variables)
    epoch_log = EpochLog()
    callbacks = [
        _Warmup(gan_config.warmup_epochs), epoch_log,
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
        keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), write_graph=False),
        _SaveGenerator(run_dir / "model.keras"),
    ]
    fit_args = {"epochs": gan_config.epochs, "callbacks": callbacks, "verbose": verbosity(gan_config.verbose),
                "validation_data": val_data}
    if isinstance(train_data, tuple):
        fit_args.update(x=train_data[0], y=train_data[1], batch_size=gan_config.batch_size, shuffle=True)
    else:
        fit_args.update(x=train_data, shuffle=False)  # a tf.data pipeline shuffles itself
    gan.fit(**fit_args)
    if epoch_log.diverged_at is not None:
        raise RuntimeError(f"cGAN ({run_dir.name}): a loss became NaN/inf at epoch {epoch_log.diverged_at[0]}; "
                           f"{run_dir} keeps the last good generator. Lower the "
                           f"learning rate (now {gan_config.learning_rate}).")
    history = read_history(run_dir / "history.csv")
    with atomic_path(run_dir / "history.json") as temporary:
        temporary.write_text(json.dumps(json_safe({"config": asdict(gan_config), "history": history}), indent=1,
                                        allow_nan=False))
    best = load_model(run_dir / "model.keras")
    return best, history, epoch_log.seconds
