"""colorize_utils.paper.gan: the cGAN's U-Net generator, 30x30 PatchGAN, one train step, the saved generator against the
trained one, warm-up, and resuming after a SIGKILL."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from colorize_utils.runtime import networks
from colorize_utils.paper import gan
from helpers import SLOW_FIT, reporting_history
from helpers import run_until as _run_until


def _batch(count=8, seed=0):
    rng = np.random.default_rng(seed)
    lightness = rng.uniform(0, 100, (count, 64, 64, 1)).astype(np.float32)
    ab = rng.normal(0, 25, (count, 64, 64, 2)).astype(np.float32)
    return lightness, ab


def test_generator_shape_range_and_skip_connections():
    generator = gan.build_generator(64, width=4)
    lightness, _ = _batch()
    output = np.asarray(generator(lightness, training=False))
    assert output.shape == (8, 64, 64, 2)
    assert np.abs(output).max() <= gan.AB_OUTPUT_RANGE
    names = [layer.name for layer in generator.layers]
    assert sum(name.startswith("skip") for name in names) == 5  # 6 levels: 5 skips plus the output
    assert sum("dropout" in name for name in names) == 3
    assert sum(isinstance(layer, keras.layers.Conv2DTranspose) for layer in generator.layers) == 6


def test_generator_output_reaches_the_ab_range():
    generator = gan.build_generator(64, width=4)
    last = generator.get_layer("ab_tanh")
    kernel, bias = last.get_weights()
    last.set_weights([kernel, np.full_like(bias, 10.0)])  # saturate the tanh
    output = np.asarray(generator(_batch()[0], training=False))
    assert output.max() == pytest.approx(gan.AB_OUTPUT_RANGE, rel=1e-3)


def test_discriminator_outputs_a_30x30_patch_map():
    discriminator = gan.build_discriminator(64, width=4)
    assert tuple(discriminator.output.shape[1:]) == (gan.PATCH_GRID, gan.PATCH_GRID, 1)
    lightness, ab = _batch(2)
    assert np.asarray(discriminator([lightness, ab])).shape == (2, 30, 30, 1)


def test_bad_generator_size_is_a_clear_error():
    with pytest.raises(ValueError, match="power of two"):
        gan.build_generator(48)


def test_one_train_step_changes_both_networks():
    networks.set_seed(0)
    generator, discriminator = gan.build_generator(64, 4), gan.build_discriminator(64, 4)
    cgan = gan.ConditionalGAN(generator, discriminator)
    cgan.compile()
    g_before = [w.copy() for w in generator.get_weights()]
    d_before = [w.copy() for w in discriminator.get_weights()]
    logs = cgan.train_on_batch(*_batch(), return_dict=True)
    assert {"d_loss", "g_loss", "g_adversarial", "g_l1"} <= set(logs)
    assert all(np.isfinite(float(value)) for value in logs.values())
    assert any(not np.allclose(a, b) for a, b in zip(g_before, generator.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(d_before, discriminator.get_weights()))


def test_train_gan_saves_the_generator_it_trained_in_memory(tmp_path):
    networks.set_seed(0)
    lightness, ab = _batch(16)
    probe = lightness[:4]
    generator = gan.build_generator(64, 4)
    untrained = networks.predict_ab(generator, probe)
    config = gan.GANConfig(epochs=2, batch_size=8, warmup_epochs=1, verbose=0)
    best, history, seconds = gan.train_gan(generator, gan.build_discriminator(64, 4),
                                           (lightness, ab), (lightness[:8], ab[:8]), tmp_path, config)
    assert len(history["d_loss"]) == 2 and len(seconds) == 2
    # during the L1-only warm-up epoch the generator loss is exactly 100 x L1
    assert history["g_loss"][0] == pytest.approx(100 * history["g_l1"][0], rel=1e-4)
    # train_gan() trains the generator it is given in place and returns the file reloaded; pix2pix keeps
    # the last epoch, so the file must hold exactly the generator left in memory (batch norm statistics
    # included), which training changed.
    in_memory = networks.predict_ab(generator, probe)
    assert np.abs(in_memory - untrained).max() > 1e-2
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert best is not generator and reloaded is not generator
    np.testing.assert_allclose(networks.predict_ab(reloaded, probe), in_memory, atol=1e-5)
    np.testing.assert_allclose(networks.predict_ab(best, probe), in_memory, atol=1e-5)
    assert (tmp_path / "history.json").exists() and not (tmp_path / "backup").exists()


GAN_SCRIPT = SLOW_FIT + """
from colorize_utils.runtime import networks
from colorize_utils.paper import gan
lightness = rng.uniform(0, 100, (16, 64, 64, 1)).astype("float32")
ab = np.concatenate([lightness - 50, 50 - lightness], -1).astype("float32") * 0.5
networks.set_seed(0)
config = gan.GANConfig(epochs=4, batch_size=8, warmup_epochs=1, verbose=0)
generator, history, seconds = gan.train_gan(gan.build_generator(64, 4), gan.build_discriminator(64, 4),
                                            (lightness, ab), None, {run_dir!r}, config)
print("DONE", len(seconds), flush=True)
"""


def test_sigkill_mid_cgan_training_then_rerun_resumes(tmp_path):
    script = GAN_SCRIPT.format(run_dir=str(tmp_path / "gan"))
    _run_until(script, "EPOCH", 2)
    history = reporting_history(tmp_path / "gan")
    assert len(history["g_loss"] if "g_loss" in history else history["loss"]) == 2
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "DONE 2" in completed.stdout  # epochs 3 and 4 only
    resumed = reporting_history(tmp_path / "gan")
    key = "g_loss" if "g_loss" in resumed else "loss"
    assert len(resumed[key]) == 4 and resumed[key][:2] == history[key][:2]
    # both Adam states come back with the weights (Keras skips an optimizer it has not built yet)
    assert "Skipping variable loading for optimizer" not in completed.stdout + completed.stderr
