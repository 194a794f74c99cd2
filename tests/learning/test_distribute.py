"""Data-parallel training (`--distribute`): the CPU split into two logical devices stands in for two GPUs."""

import json
import subprocess
import sys
import textwrap

import keras
import pytest

from colorize_utils.learning import distribute

tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                     reason="tf.distribute needs KERAS_BACKEND=tensorflow")

# One epoch of the fully convolutional colorizer, through training.train(), on real photo crops, under a mode.
PROBE = textwrap.dedent("""
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from colorize_utils.runtime import networks
    from colorize_utils.learning import distribute, losses, pipeline, sources, training
    photo = sources.natural_photos(("coffee",))["coffee"]
    rng = np.random.default_rng(0)
    crops = np.stack([photo[t:t + 32, l:l + 32] for t, l in zip(rng.integers(0, 368, 64), rng.integers(0, 568, 64))])
    with distribute.distribution_scope(sys.argv[1]) as replicas:
        networks.set_seed(0)
        model = networks.build_colorizer(4, "regression")
        batches = pipeline.make_colorizer_dataset(crops, 16, None, augment=False, repeat=True)
        result = training.train(model, batches, None, losses.get_loss("l2"), sys.argv[2],
                                training.TrainConfig(epochs=1, batch_size=16, seed=0, steps_per_epoch=4, verbose=0))
    print(json.dumps({"replicas": replicas, "loss": float(result.history["loss"][-1])}))
""")


def one_epoch(mode: str, run_dir, environment: dict | None = None) -> dict:
    import os

    completed = subprocess.run([sys.executable, "-c", PROBE, mode, str(run_dir)], capture_output=True, text=True, timeout=600,
                               env={**os.environ, **(environment or {})})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@tensorflow_only
def test_one_epoch_on_two_replicas_gives_the_loss_of_one_replica_for_the_same_global_batch(tmp_path):
    single, mirrored = one_epoch("none", tmp_path / "none"), one_epoch("mirrored", tmp_path / "mirrored")
    assert single["replicas"] == 1 and mirrored["replicas"] == 2
    # Unsynchronised BatchNorm (each replica normalising its half batch) is off by about 0.4% here.
    assert mirrored["loss"] == pytest.approx(single["loss"], rel=1e-4), (single, mirrored)
    # One worker of a multi-worker cluster (TF_CONFIG naming only this host) trains the same way.
    config = '{"cluster": {"worker": ["localhost:%d"]}, "task": {"type": "worker", "index": 0}}' % free_port()
    worker = one_epoch("multi-worker", tmp_path / "worker", {"TF_CONFIG": config})
    assert worker["loss"] == pytest.approx(single["loss"], rel=1e-4), (single, worker)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


@tensorflow_only
def test_a_model_trained_on_several_replicas_saves_a_config_any_backend_can_load(tmp_path):
    """Keras refuses BatchNormalization(synchronized=True) outside TensorFlow: the saved config leaves it out."""
    from colorize_utils.runtime import networks

    code = ("import os, sys, tensorflow as tf\n"
            "cpu = tf.config.list_physical_devices('CPU')[0]\n"
            "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)\n"
            "from colorize_utils.learning import distribute\nfrom colorize_utils.runtime import networks\n"
            "with distribute.distribution_scope('mirrored'):\n"
            "    model = networks.build_colorizer(4, 'regression')\n"
            f"model.save({str(tmp_path / 'model.keras')!r})\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    loaded = networks.load_model(tmp_path / "model.keras")
    synced = [layer for layer in loaded.layers if isinstance(layer, networks.SyncBatchNormalization)]
    assert synced and all("synchronized" not in layer.get_config() for layer in synced)


@tensorflow_only
@pytest.mark.parametrize("mode, message", [("gpus", "choose one of none, mirrored, multi-worker, data-parallel"),
                                           ("data-parallel", "needs KERAS_BACKEND=jax"),
                                           ("multi-worker", "TF_CONFIG")])
def test_bad_or_unrunnable_modes_say_why(mode, message, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match=message):
        distribute.check_distribute(mode)


@tensorflow_only
def test_the_training_command_refuses_a_mode_it_cannot_run(capsys, tmp_path):
    from colorize_utils.cli import main

    assert main(["train-colorizer", "--distribute", "data-parallel", "--run-dir", str(tmp_path),
                 "--no-export"]) == 2
    assert "KERAS_BACKEND=jax" in capsys.readouterr().err
