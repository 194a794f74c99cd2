"""colorize_utils.learning.training: train() keeps the best epoch, learns, resumes (after an interruption or a SIGKILL),
stops on NaN, and its optimizer and precision settings."""

import importlib.util
import io
import zipfile
import json
import os
import subprocess
import sys
import textwrap

import h5py
import keras
import numpy as np
import pytest

from colorize_utils.runtime import networks
from colorize_utils.paper import models as paper_models
from colorize_utils.learning import losses, training
from colorize_utils.binning import UniformBins
from helpers import SLOW_FIT, reporting_history
from helpers import run_until as _run_until


def _toy_arrays(count=24, size=64, seed=0):
    rng = np.random.default_rng(seed)
    lightness = rng.uniform(0, 100, (count, size, size, 1)).astype(np.float32)
    ab = np.stack([lightness[..., 0] * 0.3 - 15, 10 - lightness[..., 0] * 0.2], -1).astype(np.float32)
    return lightness, ab


class _EpochSnapshots(keras.callbacks.Callback):
    """The in-memory model's ab on a probe batch, and the logs, at the end of every epoch of a fit().

    train()'s checkpoint saves the model from the same place (on_epoch_end), so the file it keeps must
    match the snapshot of its best epoch: a comparison of the file with the model that was in memory,
    not of the file with itself (train() returns the model reloaded from disk).
    """

    def __init__(self, probe: np.ndarray):
        super().__init__()
        self.probe = probe
        self.predictions: list[np.ndarray] = []
        self.logs: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        self.predictions.append(keras.ops.convert_to_numpy(self.model(self.probe, training=False)))
        self.logs.append(dict(logs or {}))


def _snapshot_every_epoch(monkeypatch, probe: np.ndarray) -> _EpochSnapshots:
    """Make every fit() in this test also run an _EpochSnapshots (train() takes no extra callbacks)."""
    snapshots = _EpochSnapshots(probe)
    original_fit = keras.Model.fit

    def fit(self, *args, callbacks=None, **kwargs):
        return original_fit(self, *args, callbacks=[*(callbacks or ()), snapshots], **kwargs)

    monkeypatch.setattr(keras.Model, "fit", fit)
    return snapshots


def test_train_saves_its_best_epoch_as_the_model_was_in_memory(tmp_path, monkeypatch):
    lightness, ab = _toy_arrays()
    probe = lightness[:2]
    networks.set_seed(0)
    model = paper_models.build_paper_cnn(64, width=2)
    untrained = networks.predict_ab(model, probe)
    snapshots = _snapshot_every_epoch(monkeypatch, probe)
    config = training.TrainConfig(epochs=3, batch_size=8, lr_patience=1, verbose=0)
    # Gray validation targets: the more the model learns the training colors, the worse its val loss, so
    # the best epoch (the one kept) is an early one and not the last one left in memory.
    gray_val = (lightness[:8], np.zeros_like(ab[:8]))
    result = training.train(model, (lightness, ab), gray_val, losses.L2Loss(), tmp_path, config)
    assert (tmp_path / "model.keras").exists() and (tmp_path / "history.csv").exists()
    history = json.loads((tmp_path / "history.json").read_text())["history"]
    assert len(history["loss"]) == 3 and "learning_rate" in history and "val_loss" in history
    assert len(result.seconds_per_epoch) == 3 and len(snapshots.predictions) == 3
    # The epochs' in-memory models differ from the untrained one and from each other, so that matching
    # one of them below singles out that epoch.
    states = [untrained, *snapshots.predictions]
    for first in range(len(states)):
        for second in range(first + 1, len(states)):
            assert np.abs(states[first] - states[second]).max() > 1e-2, (first, second)
    best = int(np.argmin([logs["val_loss"] for logs in snapshots.logs]))
    assert result.best_epoch == best + 1 < 3
    reloaded, bins = training.load_trained(tmp_path)
    assert bins is None
    # the file holds the model that was in memory at the end of the best epoch
    np.testing.assert_allclose(networks.predict_ab(reloaded, probe), snapshots.predictions[best], atol=1e-4)
    np.testing.assert_allclose(networks.predict_ab(result.model, probe), snapshots.predictions[best], atol=1e-4)
    # and only what inference needs: no optimizer state (Adam's would double its size)
    with zipfile.ZipFile(tmp_path / "model.keras") as archive, archive.open("model.weights.h5") as weights:
        with h5py.File(io.BytesIO(weights.read())) as store:
            assert "optimizer" not in store, list(store)


def _lightness_determines_color(count: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random L patterns (a per-image brightness plus a sine grating) and ab as a function of L
    alone, per pixel: a = 40 L / 100 - 20, b = -a. Mean ab is about 0, so gray is also the best constant."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)

    def per_image(low, high):
        return rng.uniform(low, high, (count, 1, 1))

    brightness, amplitude = per_image(10, 90), per_image(5, 15)
    grating = np.sin(per_image(0.15, 0.5) * x + per_image(0, 2 * np.pi)) * np.cos(per_image(0.15, 0.5) * y
                                                                                  + per_image(0, 2 * np.pi))
    lightness = np.clip(brightness + amplitude * grating, 0, 100)[..., None].astype(np.float32)
    a = 40 * lightness / 100 - 20
    return lightness, np.concatenate([a, -a], axis=-1).astype(np.float32)


def test_paper_cnn_learns_color_from_lightness_on_a_toy_set(tmp_path):
    """train() on data where ab follows from L must end far below predicting gray (or any constant) on
    images it never saw: a check that the model, the loss and the training loop learn, not just run."""
    size = 16
    lightness, ab = _lightness_determines_color(256, size, seed=0)
    val = _lightness_determines_color(64, size, seed=1)
    test_lightness, test_ab = _lightness_determines_color(64, size, seed=2)

    def loss_of(predicted) -> float:  # L2 in numpy: the yardstick does not depend on the loss under test
        return float(np.mean(np.square(np.broadcast_to(predicted, test_ab.shape) - test_ab)))

    gray = loss_of(np.zeros(2, np.float32))
    constant = loss_of(ab.reshape(-1, 2).mean(axis=0))  # the mean-color baseline of this toy set
    networks.set_seed(0)
    model = paper_models.build_paper_cnn(size, width=4)
    untrained = loss_of(networks.predict_ab(model, test_lightness))
    assert untrained > 0.9 * gray  # the regression head starts near gray: what follows is learned
    # 512 steps of batch 8 at the paper's learning rate, no plateau drop; the batch norm moving statistics
    # (momentum 0.99) need a few hundred steps before the inference-mode model is good
    config = training.TrainConfig(epochs=16, batch_size=8, lr_patience=100, verbose=0)
    result = training.train(model, (lightness, ab), val, losses.L2Loss(), tmp_path, config)
    trained = loss_of(networks.predict_ab(result.model, test_lightness))
    assert trained < 0.3 * gray and trained < 0.3 * constant, (trained, gray, constant)


def test_train_resumes_after_interruption(tmp_path):
    lightness, ab = _toy_arrays()

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    networks.set_seed(0)
    model = paper_models.build_paper_cnn(64, width=2)
    config = training.TrainConfig(epochs=4, batch_size=8, lr_patience=5, verbose=0)
    model.compile(optimizer="adam", loss=losses.L2Loss())
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(KeyboardInterrupt):
        model.fit(lightness, ab, epochs=4, batch_size=8, verbose=0, callbacks=[backup, Interrupt()])
    assert (tmp_path / "backup").exists()
    result = training.train(paper_models.build_paper_cnn(64, width=2), (lightness, ab), (lightness[:8], ab[:8]),
                            losses.L2Loss(), tmp_path, config)
    assert len(result.seconds_per_epoch) == 2  # epochs 3 and 4 only: resumed, not restarted
    assert not (tmp_path / "backup").exists()


def test_classification_training_saves_bin_table(tmp_path):
    lightness, ab = _toy_arrays()
    bins = UniformBins(10).fit(ab)
    targets = np.asarray(bins.encode(ab))
    networks.set_seed(0)
    model = paper_models.build_paper_cnn(64, width=2, head="classification")
    config = training.TrainConfig(epochs=1, batch_size=8, verbose=0)
    training.train(model, (lightness, targets), None, losses.BinnedCrossEntropy(), tmp_path, config, bins)
    _, loaded_bins = training.load_trained(tmp_path)
    np.testing.assert_allclose(loaded_bins.bin_values, bins.bin_values)


def test_nan_loss_stops_with_a_clear_message(tmp_path):
    lightness, ab = _toy_arrays(count=16)
    ab[:] = np.nan
    model = paper_models.build_paper_cnn(64, width=2)
    config = training.TrainConfig(epochs=3, batch_size=8, verbose=0)
    with pytest.raises(training.TrainingDiverged, match="NaN"):
        training.train(model, (lightness, ab), None, losses.L2Loss(), tmp_path, config)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_train_on_jax_backend(tmp_path):
    """Builders, losses and train() run on JAX with numpy arrays (how the GPU host trains)."""
    script = textwrap.dedent(f"""
        import numpy as np
        from colorize_utils.runtime import networks
        from colorize_utils.learning import losses, training
        from colorize_utils.binning import UniformBins
        rng = np.random.default_rng(0)
        L = rng.uniform(0, 100, (16, 64, 64, 1)).astype("float32")
        ab = rng.normal(0, 20, (16, 64, 64, 2)).astype("float32")
        bins = UniformBins(10).fit(ab)
        config = training.TrainConfig(epochs=1, batch_size=8, verbose=0)
        r = training.train(paper_models.build_paper_cnn(64, width=2), (L, ab), (L, ab), losses.SmoothL1Loss(),
                           r"{tmp_path}/reg", config)
        c = training.train(paper_models.build_paper_cnn(64, width=2, head="classification"),
                           (L, np.asarray(bins.encode(ab))), None, losses.BinnedCrossEntropy(),
                           r"{tmp_path}/cls", config, bins)
        print("ok", networks.predict_ab(c.model, L[:2], bins).shape)
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    completed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "ok (2, 64, 64, 2)" in completed.stdout


def test_fused_adam_follows_keras_adam_step_for_step():
    """train()'s optimizer on TensorFlow is Adam through TF's fused kernel: the same weights as Keras's Adam."""
    import keras

    from colorize_utils.learning import training

    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (32, 6)).astype("float32")
    y = rng.normal(0, 1, (32, 3)).astype("float32")
    weights = {}
    fused = training.adam(0.05)
    if keras.backend.backend() == "tensorflow":
        fused.FUSED_MIN_WEIGHTS = 1  # this small model's weights go through the kernel too
    for name, optimizer in (("keras", keras.optimizers.Adam(0.05)), ("fused", fused)):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
        model.compile(optimizer=optimizer, loss="mse")
        for _ in range(5):
            model.train_on_batch(x, y)
        model.optimizer.learning_rate = 0.01  # as ReduceLROnPlateau does
        for _ in range(5):
            model.train_on_batch(x, y)
        weights[name] = [np.asarray(w) for w in model.get_weights()]
    if keras.backend.backend() == "tensorflow":
        assert type(training.adam(0.1)).__name__ == "FusedAdam"
    for fused, plain in zip(weights["fused"], weights["keras"]):
        np.testing.assert_allclose(fused, plain, rtol=1e-4, atol=1e-5)
    assert not np.allclose(weights["fused"][0], 0)


def test_train_creates_no_variable_while_tracing(tmp_path):
    # The optimizer's state is built before fit(): TensorFlow traces a step that creates variables twice.
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tracing is TensorFlow's")
    lightness, ab = _toy_arrays()
    networks.set_seed(0)
    model = paper_models.build_paper_cnn(64, width=2)
    config = training.TrainConfig(epochs=2, batch_size=8, verbose=0)
    created_while_tracing = []

    def creator(next_creator, **kwargs):
        if tf.inside_function():
            created_while_tracing.append(kwargs.get("name"))
        return next_creator(**kwargs)

    with tf.variable_creator_scope(creator):
        training.train(model, (lightness, ab), (lightness[:8], ab[:8]), losses.L2Loss(), tmp_path, config)
    assert created_while_tracing == []
    assert int(model.optimizer.iterations.numpy()) == 2 * (len(lightness) // 8)


@keras.saving.register_keras_serializable(package="tests")
class SubclassedColorizer(keras.Model):
    """A subclassed model: its copy from config is unbuilt until built from its build config."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(2, 3, padding="same")

    def call(self, inputs):
        return self.conv(inputs)


def test_train_keeps_the_best_epoch_of_a_subclassed_model(tmp_path):
    lightness, ab = _toy_arrays()
    networks.set_seed(0)
    model = SubclassedColorizer()
    model(lightness[:1])
    config = training.TrainConfig(epochs=2, batch_size=8, verbose=0)
    result = training.train(model, (lightness, ab), (lightness[:8], ab[:8]), losses.L2Loss(), tmp_path, config)
    reloaded, _ = training.load_trained(tmp_path)
    np.testing.assert_allclose(reloaded(lightness[:2]), result.model(lightness[:2]), atol=1e-5)


def test_mixed_bfloat16_training_saves_a_float32_model_with_the_trained_weights(tmp_path):
    rng = np.random.default_rng(0)
    lightness = rng.uniform(0, 100, (16, 16, 16, 1)).astype(np.float32)
    ab = rng.normal(0, 20, (16, 4, 4, 2)).astype(np.float32)
    networks.set_seed(0)
    with training.precision_policy("mixed_bfloat16"):
        model = networks.build_colorizer(2, head="regression")
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    assert model.get_layer("enc1a_conv").compute_dtype == "bfloat16"
    config = training.TrainConfig(epochs=1, batch_size=8, verbose=0)
    result = training.train(model, (lightness, ab), (lightness[:8], ab[:8]), losses.L2Loss(), tmp_path, config)
    saved = networks.load_model(tmp_path / "model.keras")
    assert {layer.compute_dtype for layer in saved.layers if layer.weights} == {"float32"}
    assert len(model.weights) == len(saved.weights)
    for trained, kept in zip(model.weights, saved.weights):  # mixed precision keeps float32 weights
        np.testing.assert_array_equal(np.asarray(trained), np.asarray(kept))
    assert result.model.get_layer("enc1a_conv").compute_dtype == "float32"


def test_precision_auto_picks_bfloat16_only_where_it_is_native(monkeypatch):
    assert training.fast_bfloat16({"avx512f", "amx_bf16"})
    assert training.fast_bfloat16({"avx512f", "avx512_bf16"})
    if not training.fast_bfloat16(set()):  # no GPU here: the CPU's flags decide
        assert not training.fast_bfloat16({"avx2", "avx512f"})
    assert training.resolve_precision("float32") == "float32"
    assert training.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    monkeypatch.setattr(training, "fast_bfloat16", lambda cpu_flags=None: True)
    assert training.resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(training, "fast_bfloat16", lambda cpu_flags=None: False)
    assert training.resolve_precision("auto") == "float32"
    with pytest.raises(ValueError, match="precision must be one of"):
        training.resolve_precision("float16")


CNN_SCRIPT = SLOW_FIT + """
from colorize_utils.runtime import networks
from colorize_utils.paper import models as paper_models
from colorize_utils.learning import losses, training
lightness = rng.uniform(0, 100, (32, 64, 64, 1)).astype("float32")
ab = np.concatenate([lightness - 50, 50 - lightness], -1).astype("float32") * 0.5
networks.set_seed(0)
config = training.TrainConfig(epochs=5, batch_size=8, lr_patience=10, verbose=0)
model = paper_models.build_paper_cnn(64, width=2)
result = training.train(model, (lightness, ab), (lightness[:8], ab[:8]), losses.L2Loss(), {run_dir!r}, config)
print("DONE", len(result.seconds_per_epoch), flush=True)
"""


def test_sigkill_mid_training_then_rerun_resumes_with_the_same_history(tmp_path):
    script = CNN_SCRIPT.format(run_dir=str(tmp_path / "run"))
    _run_until(script, "EPOCH", 2)
    history = reporting_history(tmp_path / "run")
    assert len(history["loss"]) == 2
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "DONE 3" in completed.stdout  # epochs 3-5 only: resumed, not restarted
    resumed = reporting_history(tmp_path / "run")
    assert len(resumed["loss"]) == 5 and resumed["loss"][:2] == history["loss"][:2]
    assert (tmp_path / "run" / "model.keras").exists() and not (tmp_path / "run" / "backup").exists()


def test_nan_in_a_later_epoch_names_the_model_and_epoch_and_keeps_the_last_good_checkpoint(tmp_path):
    import keras

    from colorize_utils.runtime import networks
    from colorize_utils.learning import losses, training

    rng = np.random.default_rng(0)
    lightness = rng.uniform(0, 100, (16, 64, 64, 1)).astype("float32")
    ab = (lightness - 50).repeat(2, axis=-1).astype("float32") * 0.3

    class PoisonAfterTwoEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.layers[-3].kernel.assign(np.full(self.model.layers[-3].kernel.shape, np.nan))

    original_fit = keras.Model.fit

    def fit(self, *args, callbacks=(), **kwargs):
        return original_fit(self, *args, callbacks=[*callbacks, PoisonAfterTwoEpochs()], **kwargs)

    keras.Model.fit = fit
    try:
        config = training.TrainConfig(epochs=5, batch_size=8, verbose=0, label="l2_model")
        with pytest.raises(training.TrainingDiverged, match=r"l2_model .*NaN/inf at epoch 3"):
            training.train(paper_models.build_paper_cnn(64, width=2), (lightness, ab), None, losses.L2Loss(),
                           tmp_path, config)
    finally:
        keras.Model.fit = original_fit
    kept = networks.load_model(tmp_path / "model.keras")
    assert np.isfinite(np.asarray(kept(lightness[:2], training=False))).all()  # the last good model
