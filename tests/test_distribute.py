"""Data-parallel training (`--distribute`): the CPU split into two logical devices stands in for two GPUs."""

import json
import subprocess
import sys
import textwrap

import pytest

from colorize_utils import distribute

# One epoch of the fully convolutional colorizer, through training.train(), on real photo crops, under a mode.
PROBE = textwrap.dedent("""
    import json, os, sys, tempfile
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from colorize_utils import data, distribute, losses, models, pipeline, training
    photo = data.natural_photos(("coffee",))["coffee"]
    rng = np.random.default_rng(0)
    crops = np.stack([photo[t:t + 32, l:l + 32] for t, l in zip(rng.integers(0, 368, 64), rng.integers(0, 568, 64))])
    with distribute.distribution_scope(sys.argv[1]) as replicas:
        models.set_seed(0)
        model = models.build_colorizer(4, "regression")
        batches = pipeline.make_colorizer_dataset(crops, 16, None, augment=False, repeat=True)
        result = training.train(model, batches, None, losses.get_loss("l2"), tempfile.mkdtemp(),
                                training.TrainConfig(epochs=1, batch_size=16, seed=0, steps_per_epoch=4, verbose=0))
    print(json.dumps({"replicas": replicas, "loss": float(result.history["loss"][-1])}))
""")


def one_epoch(mode: str) -> dict:
    completed = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_one_epoch_on_two_replicas_gives_the_loss_of_one_replica_for_the_same_global_batch():
    single, mirrored = one_epoch("none"), one_epoch("mirrored")
    assert single["replicas"] == 1 and mirrored["replicas"] == 2
    # Unsynchronised BatchNorm (each replica normalising its half batch) is off by about 0.4% here.
    assert mirrored["loss"] == pytest.approx(single["loss"], rel=1e-4), (single, mirrored)


@pytest.mark.parametrize("mode, message", [("gpus", "choose one of none, mirrored, multi-worker, data-parallel"),
                                           ("data-parallel", "needs KERAS_BACKEND=jax"),
                                           ("multi-worker", "TF_CONFIG")])
def test_bad_or_unrunnable_modes_say_why(mode, message, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match=message):
        distribute.check_distribute(mode)


def test_the_training_command_refuses_a_mode_it_cannot_run(capsys):
    from colorize_utils.cli import main

    assert main(["train-colorizer", "--distribute", "data-parallel"]) == 2
    assert "KERAS_BACKEND=jax" in capsys.readouterr().err
