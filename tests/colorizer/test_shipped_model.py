"""The fully convolutional colorizer and its recipe (shipped_model.py): joint and quantile bins, soft encoding,
rebalancing, decodings, the loss, a real-data run that shows the model learns, and the train-colorizer command
resuming after a SIGKILL."""

import dataclasses
import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from colorize_utils.runtime import networks
from colorize_utils.learning import losses, pipeline, training
from colorize_utils.colorizer import shipped_model
from colorize_utils.binning import JointBins, QuantileBins, UniformBins, decode_distribution, load_binning
from helpers import reporting_history
from helpers import run_until as _run_until


def test_joint_bins_keep_only_occupied_cells_and_decode_to_their_pixel_means(tmp_path):
    ab = np.array([[1.0, 2.0], [3.0, 4.0], [-55.0, 31.0], [-51.0, 39.0], [80.0, -80.0]], np.float32)
    bins = JointBins.from_pixels(ab)
    assert bins.num_classes == 3  # three occupied 10x10 cells
    index = np.asarray(bins.encode(ab))[:, 0]
    assert index[0] == index[1] and index[2] == index[3] and len(set(index)) == 3
    np.testing.assert_allclose(bins.bin_values[index[0]], [2.0, 3.0])
    np.testing.assert_allclose(bins.bin_values[index[2]], [-53.0, 35.0])
    # an unoccupied cell encodes to the nearest kept one
    assert np.asarray(bins.encode(np.array([[70.0, -70.0]])))[0, 0] == index[4]
    # a chunked pass gives the same bins as one array
    chunked = JointBins.from_pixels(iter([ab[:2], ab[2:]]))
    np.testing.assert_allclose(chunked.bin_values, bins.bin_values)
    loaded = load_binning(bins.save(tmp_path / "joint_bins_test.json"))
    np.testing.assert_array_equal(np.asarray(loaded.encode(ab)), np.asarray(bins.encode(ab)))


def test_soft_encoding_is_a_gaussian_over_the_five_nearest_cells():
    rng = np.random.default_rng(0)
    bins = JointBins.from_pixels(rng.normal(0, 30, (50_000, 2)))
    point = np.array([[3.0, -7.0]], np.float32)
    soft = np.asarray(bins.soft_encode(point))[0]
    assert np.count_nonzero(soft) == 5 and soft.sum() == pytest.approx(1.0, abs=1e-5)
    distance2 = np.sum((bins.centres - point) ** 2, axis=1)
    # The point's 4th and 5th nearest cells may tie with a 6th (equal distances on the grid): which of the tied
    # cells is taken is free, so compare the chosen cells' distances with the five smallest.
    chosen = np.flatnonzero(soft)
    np.testing.assert_allclose(np.sort(distance2[chosen]), np.sort(distance2)[:5], rtol=1e-5)
    expected = np.exp(-distance2[chosen] / (2 * 5.0 ** 2))
    np.testing.assert_allclose(soft[chosen], expected / expected.sum(), rtol=1e-4)


def test_rebalancing_weights_follow_zhang_and_average_one_under_the_prior():
    rng = np.random.default_rng(1)
    bins = JointBins.from_pixels(np.concatenate([rng.normal(0, 5, (90_000, 2)), rng.normal(40, 20, (10_000, 2))]))
    prior, weights = bins.prior(), bins.class_weights(0.5)
    assert np.sum(prior * weights) == pytest.approx(1.0)
    unnormalised = 1.0 / (0.5 * prior + 0.5 / bins.num_classes)
    np.testing.assert_allclose(weights / weights[0], unnormalised / unnormalised[0], rtol=1e-6)
    common, rare = np.argmax(prior), np.argmin(prior)
    assert weights[rare] > 5 * weights[common]  # rare colours count more
    # lambda 0: weights 1 / p~ (every class carries the same total weight); lambda 1: no rebalancing
    np.testing.assert_allclose(bins.class_weights(0.0) * prior, 1.0 / bins.num_classes, rtol=1e-6)
    np.testing.assert_allclose(bins.class_weights(1.0), 1.0, rtol=1e-6)


def test_quantile_bins_hold_equal_shares_of_training_pixels():
    rng = np.random.default_rng(2)
    ab = np.concatenate([np.zeros((20_000, 2)), rng.laplace(0, 10, (80_000, 2))]).astype(np.float32)
    bins = QuantileBins.from_pixels(ab, 10)
    assert np.all(np.diff(bins.edges, axis=1) > 0)
    shares = bins.counts / bins.counts.sum(axis=1, keepdims=True)
    # away from the tied mass at exactly 0, every bin holds about a tenth
    assert np.median(shares) == pytest.approx(0.1, abs=0.02)
    uniform = UniformBins(10).fit(ab)
    assert (uniform.counts / uniform.counts.sum(axis=1, keepdims=True)).max() > 0.4  # the paper's bins don't


def test_decodings_argmax_mean_and_annealed_mean():
    values = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 20.0]])
    logits = np.log(np.array([[0.5, 0.3, 0.2]], np.float32))
    argmax = np.asarray(decode_distribution(logits, values, "argmax"))
    mean = np.asarray(decode_distribution(logits, values, "mean"))
    annealed = np.asarray(decode_distribution(logits, values, "annealed", 0.38))
    np.testing.assert_allclose(argmax, [[0.0, 0.0]])
    np.testing.assert_allclose(mean, [[3.0, 4.0]], atol=1e-5)
    sharpened = np.array([0.5, 0.3, 0.2]) ** (1 / 0.38)
    sharpened /= sharpened.sum()
    np.testing.assert_allclose(annealed, [sharpened @ values], atol=1e-4)
    assert np.linalg.norm(annealed) < np.linalg.norm(mean)  # between argmax and mean
    np.testing.assert_allclose(np.asarray(decode_distribution(logits, values, "annealed", 1.0)), mean, atol=1e-5)
    with pytest.raises(ValueError, match="temperature"):
        decode_distribution(logits, values, "annealed", 0.0)
    with pytest.raises(ValueError, match="argmax"):
        decode_distribution(logits, values, "median")


def test_channel_bins_decode_with_every_mode():
    bins = UniformBins(10)
    logits = np.full((1, 2, 10), -20.0, np.float32)
    logits[0, 0, 3] = logits[0, 0, 4] = 0.0  # A: half in bin 3 (centre -30), half in bin 4 (-10)
    logits[0, 1, 9] = 0.0
    np.testing.assert_allclose(np.asarray(bins.decode_logits(logits, "mean")), [[-20.0, 90.0]], atol=1e-3)


@pytest.mark.parametrize("size", [(64, 64), (40, 72), (8, 16)])
def test_colorizer_takes_any_size_and_predicts_at_a_quarter(size):
    model = networks.build_colorizer(4, num_classes=7)
    output = model(np.zeros((1, *size, 1), np.float32))
    assert tuple(output.shape) == (1, size[0] // 4, size[1] // 4, 1, 7)
    assert not any(isinstance(layer, keras.layers.Dense) for layer in model.layers)
    regression = networks.build_colorizer(4, head="regression")
    assert tuple(regression(np.zeros((2, *size, 1), np.float32)).shape) == (2, size[0] // 4, size[1] // 4, 2)


def test_soft_rebalanced_loss_matches_a_hand_computation():
    rng = np.random.default_rng(3)
    bins = JointBins.from_pixels(rng.normal(0, 25, (20_000, 2)))
    weights = bins.class_weights(0.5)
    loss = losses.ColorClassCrossEntropy(bins.get_config(), soft=True, class_weights=weights)
    ab = rng.normal(0, 25, (2, 3, 3, 2)).astype(np.float32)
    logits = rng.normal(0, 1, (2, 3, 3, 1, bins.num_classes)).astype(np.float32)
    value = float(loss(ab, logits))
    soft = np.asarray(bins.soft_encode(ab))
    log_p = logits[..., 0, :] - np.log(np.exp(logits[..., 0, :]).sum(-1, keepdims=True))
    nearest = np.asarray(bins.encode(ab))[..., 0]
    expected = np.mean(-(soft * log_p).sum(-1) * weights[nearest])
    assert value == pytest.approx(expected, rel=1e-4)
    # the config round-trips (a saved model's compiled loss can be rebuilt)
    again = losses.ColorClassCrossEntropy.from_config(loss.get_config())
    assert float(again(ab, logits)) == pytest.approx(value, rel=1e-6)



@pytest.mark.parametrize("case", ["soft_joint_rebalanced", "hard_joint", "hard_two_heads"])
def test_class_loss_and_its_gradient_match_the_dense_target_formula(case):
    """The loss gathers the k target cells' log-probabilities; value and gradient must equal those of the
    dense formula -sum_q target_q log p_q (gradient: (softmax - target) x weight / pixels)."""
    import tensorflow as tf

    rng = np.random.default_rng(4)
    ab = rng.normal(0, 25, (2, 3, 3, 2)).astype(np.float32)
    if case == "hard_two_heads":
        bins, heads, weights = UniformBins(10), 2, None
    else:
        bins, heads = JointBins.from_pixels(rng.normal(0, 25, (20_000, 2))), 1
        weights = bins.class_weights(0.5) if case == "soft_joint_rebalanced" else None
    soft = case.startswith("soft")
    loss = losses.ColorClassCrossEntropy(bins.get_config(), soft=soft, class_weights=weights)
    logits = tf.constant(rng.normal(0, 2, (2, 3, 3, heads, bins.num_classes)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(logits)
        value = tf.reduce_sum(loss.call(ab, logits))  # sum over the batch of per-image means
    gradient = tape.gradient(value, logits).numpy()

    indices = np.asarray(bins.encode(ab))  # (2, 3, 3, heads)
    if soft:
        target = np.asarray(bins.soft_encode(ab))[..., None, :]
    else:
        target = np.eye(bins.num_classes)[indices]
    pixel_weight = np.ones(indices.shape) if weights is None else weights[indices]
    z = logits.numpy().astype(np.float64)
    probabilities = np.exp(z - z.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    per_value = -(target * np.log(probabilities)).sum(-1) * pixel_weight
    values_per_image = 3 * 3 * heads
    assert float(value) == pytest.approx(per_value.sum() / values_per_image, rel=1e-5)
    expected_gradient = (probabilities - target) * pixel_weight[..., None] / values_per_image
    np.testing.assert_allclose(gradient, expected_gradient, atol=1e-6)


# A small calibration grid keeps the end-to-end runs short; the rule, the scoring and the ship rule are the real ones.
SMALL_GRID = {"working_size": (64, 96), "small_image_scale": (1.0,), "alpha": (0.5, 0.75), "temperature": (0.38,),
              "mirror_average": (False, True)}


def small_evaluation(monkeypatch, holdout_images: int = 20) -> None:
    """release's grid shrunk to SMALL_GRID and the Tiny hold-out to its first `holdout_images` images."""
    from colorize_utils.colorizer import release, shipped_model

    monkeypatch.setattr(release, "GRID", SMALL_GRID)
    real_holdout = shipped_model.holdout_test_images
    monkeypatch.setattr(shipped_model, "holdout_test_images",
                        lambda cfg, test: real_holdout(cfg, test)[:holdout_images])


def test_a_run_without_photos_is_calibrated_and_judged_like_version_4_and_exports_float32(tmp_path, shared_data,
                                                                                            monkeypatch):
    """One calibration for every run (session 13): version 3's design trained on Tiny ImageNet alone goes through
    release.calibrate on Tiny validation images, the ship rule (part 1 on the hold-out) and the small card."""
    from colorize_utils.cli import main
    from colorize_utils.colorizer import release, shipped_model

    monkeypatch.setenv("COLORIZE_DATA_DIR", str(shared_data))
    small_evaluation(monkeypatch)
    run_dir, out = tmp_path / "run", tmp_path / "export"
    assert main(["train-colorizer", "--run-dir", str(run_dir), "--out", str(out), "--train-size", "60",
                 "--val-size", "16", "--test-size", "16", "--steps", "2", "--steps-per-epoch", "2",
                 "--batch-size", "8", "--width", "2", "--precision", "auto"]) == 0
    expected = "mixed_bfloat16" if training.fast_bfloat16() else "float32"
    record = json.loads((run_dir / "record.json").read_text())
    assert record["training"]["precision"] == expected
    assert json.loads((run_dir / "config.json").read_text())["precision"] == expected
    card = json.loads((run_dir / "card.json").read_text())
    assert card["builder"] == "colorize_utils.runtime.networks.build_colorizer" and card["version"] == 3
    assert card["builder_args"]["width"] == 2 and card["input_multiple"] == 8
    assert len(json.dumps(card, indent=1).encode()) <= release.CARD_LIMIT
    # the calibration scored every candidate of the grid on the 16 Tiny validation images
    assert len(record["calibration"]["candidates"]) == len(release.candidates(SMALL_GRID))
    assert set(card["default_decoding"]) >= {"working_size", "prior_correction_alpha", "mirror_average"}
    assert record["photo_test"] is None and record["ship_checks"]["split_of_part_1"].startswith("Tiny hold-out")
    assert "tiny_holdout" in card["test_metrics"] and "photo_test" not in card["test_metrics"]
    # two steps of a width-2 model do not beat the shipped colorizer on the hold-out: nothing is exported
    assert record["ships"] is False and not out.exists()
    exported = networks.load_model(shipped_model.export_pretrained(run_dir, card, out) / "colorizer.keras")
    assert {layer.compute_dtype for layer in exported.layers if layer.weights} == {"float32"}
    assert keras.config.dtype_policy().name == "float32"
    # a bad precision is refused before any work
    assert main(["train-colorizer", "--run-dir", str(tmp_path / "other"), "--precision", "float16"]) == 2
    assert not (tmp_path / "other").exists()


# A second stage's runs in seconds: the shared Tiny ImageNet subset, blocks of 2 steps, training only.
SMALL_STAGE = ["--train-size", "60", "--val-size", "16", "--test-size", "16", "--steps-per-epoch", "2",
               "--batch-size", "8", "--train-only"]


def test_a_second_stage_starts_from_the_earlier_runs_kept_checkpoint_and_bins(tmp_path, shared_data, monkeypatch):
    from colorize_utils.cli import main

    monkeypatch.setenv("COLORIZE_DATA_DIR", str(shared_data))
    small = [*SMALL_STAGE, "--width", "2"]
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["train-colorizer", "--run-dir", str(first), "--steps", "4", *small]) == 0
    # a learning rate of 0 leaves every trained weight where the second stage started it
    assert main(["train-colorizer", "--run-dir", str(second), "--steps", "2", "--learning-rate", "0",
                 "--init-from", str(first), "--tiny-crop", "64", "--tiny-min-crop", "40", *small]) == 0
    start, kept = networks.load_model(first / "model.keras"), networks.load_model(second / "model.keras")
    for before, after in zip(start.trainable_weights, kept.trainable_weights, strict=True):
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))
    assert (second / "bins.json").read_text() == (first / "bins.json").read_text()
    recorded = json.loads((second / "config.json").read_text())
    assert recorded["init_from"] == str(first) and (recorded["tiny_crop"], recorded["tiny_min_crop"]) == (64, 40)
    # a folder without a finished run is refused before any work
    assert main(["train-colorizer", "--run-dir", str(tmp_path / "third"), "--init-from", str(tmp_path)]) == 2
    assert not (tmp_path / "third").exists()


def test_tiny_imagenet_is_enlarged_multi_scale_only_when_tiny_crop_is_given():
    pytest.importorskip("tensorflow")
    from colorize_utils.config import ColorizerConfig

    images = np.zeros((8, 64, 64, 3), np.uint8)
    images[:, :, 32:] = (220, 30, 30)  # a red right half: a crop of 48..64 px always holds some of both halves
    own = shipped_model.tiny_training_batches(ColorizerConfig(batch_size=4, crop_size=56), images, seed=1)
    lightness, ab = next(iter(own))
    assert lightness.shape == (4, 56, 56, 1) and ab.shape == (4, 14, 14, 2)
    enlarged = ColorizerConfig(batch_size=4, crop_size=56, tiny_crop=128, tiny_min_crop=48)
    lightness, ab = next(iter(shipped_model.tiny_training_batches(enlarged, images, seed=1)))
    assert lightness.shape == (4, 128, 128, 1) and ab.shape == (4, 32, 32, 2)
    # enlarged at least 2 x: every image's red half spans whole 1/4 cells, not the one or two of a 56 px crop
    assert ((np.asarray(ab)[..., 0] > 55).sum(axis=(1, 2)) >= 4 * 32).all()
    # multi-scale from tiny_min_crop: whole images are half red; squares of 24..64 px are not all
    def red_shares(min_crop):
        config = dataclasses.replace(enlarged, tiny_min_crop=min_crop)
        _, ab = next(iter(shipped_model.tiny_training_batches(config, images, seed=1)))
        return (np.asarray(ab)[..., 0] > 27).mean(axis=(1, 2))
    np.testing.assert_allclose(red_shares(64), 0.5, atol=0.02)
    assert np.abs(red_shares(24) - 0.5).max() > 0.1


def test_a_second_stage_of_another_width_or_design_is_refused(tmp_path, shared_data, monkeypatch, capsys):
    """--init-from continues the same network (widening was removed in session 12): another width, or a
    model without the earlier one's global-context branch, is refused, before any work when the earlier run's
    config.json tells, else when its model is read."""
    from colorize_utils.cli import main

    monkeypatch.setenv("COLORIZE_DATA_DIR", str(shared_data))
    small = [*SMALL_STAGE, "--steps", "2"]
    first = tmp_path / "first"
    assert main(["train-colorizer", "--run-dir", str(first), "--width", "2", *small]) == 0
    capsys.readouterr()
    for name, extra in (("wider", ["--width", "3"]), ("narrow", ["--width", "1"]),
                        ("flat", ["--width", "2", "--no-global-context"])):
        assert main(["train-colorizer", "--run-dir", str(tmp_path / name), "--init-from", str(first),
                     *extra, *small]) == 2, name
        assert "was trained with width 2 and global_context True" in capsys.readouterr().err
        assert not (tmp_path / name).exists()
    # a run from before the global_context option had no such branch
    earlier = json.loads((first / "config.json").read_text())
    del earlier["global_context"]
    (first / "config.json").write_text(json.dumps(earlier))
    assert main(["train-colorizer", "--run-dir", str(tmp_path / "old"), "--init-from", str(first),
                 "--width", "2", *small]) == 2
    assert not (tmp_path / "old").exists()
    # without the earlier run's config.json the width is read from its model, and refused with the same advice
    (first / "config.json").unlink()
    capsys.readouterr()
    assert main(["train-colorizer", "--run-dir", str(tmp_path / "unrecorded"), "--init-from", str(first),
                 "--width", "3", *small]) == 1
    assert "was trained with width 2, this run has width 3: give --width 2" in capsys.readouterr().err
    assert not (tmp_path / "unrecorded" / "model.keras").exists()


def test_export_removes_the_small_image_weights_of_an_older_install(tmp_path):
    """Version 3 shipped a second weights file for small images; one model serves every size now (session 12),
    so an export into a folder that still holds that pair deletes it, and a card's leftover `small_images`
    block does not bring it back."""
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    out.mkdir()
    model = networks.build_colorizer(2, "classification", 1, 5)
    model.save(run / "model.keras")
    (run / "bins.json").write_text("{}")
    stale = ("colorizer.small.keras", "colorizer.small.bins.json")
    for name in stale:  # an old install, and a run folder that still holds the pair
        (out / name).write_bytes(b"old " + name.encode())
        (run / name).write_bytes(b"run " + name.encode())
    card = {"default_decoding": {"working_size": 160, "small_images": {"weights": "colorizer.small.keras"}}}
    shipped_model.export_pretrained(run, card, out)
    assert sorted(path.name for path in out.iterdir()) == ["colorizer.bins.json", "colorizer.card.json",
                                                           "colorizer.keras"]
    assert json.loads((out / "colorizer.card.json").read_text()) == card
    shipped_model.export_pretrained(run, {"default_decoding": {"working_size": 160}}, out)  # nothing to remove
    # a run without its model: refused before anything is written, the package as it was
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    (run / "model.keras").unlink()
    with pytest.raises(FileNotFoundError, match="model.keras"):
        shipped_model.export_pretrained(run, {"note": "new"}, out)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_export_refuses_a_model_over_the_size_limit_and_leaves_the_package_as_it_was(tmp_path, monkeypatch):
    """The shipped model file is at most 30 MB (issue "Colorizer v4"); a larger one (the wide decoder's) is refused
    with the reason, and the model, bins and card in the package stay the old ones."""
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    networks.build_colorizer(2, "classification", 1, 5).save(run / "model.keras")
    (run / "bins.json").write_text("{}")
    shipped_model.export_pretrained(run, {"note": "old"}, out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    size = (out / "colorizer.keras").stat().st_size
    monkeypatch.setattr(shipped_model, "MODEL_FILE_LIMIT_BYTES", size - 1)
    with pytest.raises(ValueError, match="over the shipped model's limit"):
        shipped_model.export_pretrained(run, {"note": "new"}, out)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    monkeypatch.setattr(shipped_model, "MODEL_FILE_LIMIT_BYTES", size)  # at the limit: exported
    shipped_model.export_pretrained(run, {"note": "new"}, out)
    assert json.loads((out / "colorizer.card.json").read_text()) == {"note": "new"}


def test_resuming_a_run_from_before_the_precision_option_refuses_another_precision(tmp_path):
    from colorize_utils.colorizer import shipped_model

    run_dir = tmp_path / "run"
    (run_dir / "backup").mkdir(parents=True)  # an unfinished run
    earlier = shipped_model.ColorizerConfig(run_dir=str(run_dir))
    old_config = {k: v for k, v in dataclasses.asdict(earlier).items() if k != "precision"}
    (run_dir / "config.json").write_text(json.dumps(old_config))
    cfg = dataclasses.replace(earlier, precision="mixed_bfloat16")
    with pytest.raises(ValueError, match="precision"):
        shipped_model.train_colorizer(cfg, resume=True)


def test_saved_colorizer_loads_in_a_fresh_process_that_imports_only_the_loader(tmp_path):
    model = networks.build_colorizer(4, num_classes=5)
    model.save(tmp_path / "m.keras")
    expected = np.asarray(model(np.full((1, 16, 16, 1), 50.0, np.float32), training=False))
    np.save(tmp_path / "expected.npy", expected)
    script = textwrap.dedent(f"""
        import numpy as np
        from colorize_utils.runtime.networks import load_model
        model = load_model({str(tmp_path / "m.keras")!r})
        out = np.asarray(model(np.full((1, 16, 16, 1), 50.0, np.float32), training=False))
        np.testing.assert_allclose(out, np.load({str(tmp_path / "expected.npy")!r}), atol=1e-5)
        print("ok")
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0 and "ok" in completed.stdout, completed.stderr[-2000:]


def test_the_colorizer_learns_on_real_images(shared_data):
    """On 48 real Tiny ImageNet images, the fully convolutional model's L2 falls well below gray's."""
    from colorize_utils.learning.data import load_splits

    data = load_splits("tiny-imagenet", (48, 0, 0), 64, seed=5, root=shared_data, download=False)
    images = data.train.rgb(64)
    train = pipeline.make_colorizer_dataset(images, 16, None, augment=False, repeat=True)
    keras.utils.set_random_seed(0)
    model = networks.build_colorizer(8, head="regression", bn_momentum=0.9)
    config = training.TrainConfig(epochs=6, batch_size=16, steps_per_epoch=25, learning_rate=1e-3, verbose=0,
                                  lr_patience=100)
    import tempfile

    with tempfile.TemporaryDirectory() as run_dir:
        result = training.train(model, train, None, losses.L2Loss(), run_dir, config)
    evaluation = pipeline.make_colorizer_dataset(images, 48, None, augment=False, repeat=False)
    lightness, ab = next(iter(evaluation))
    ab = np.asarray(ab)
    gray_loss = float(np.mean(np.square(ab).sum(-1).mean(axis=(1, 2)) / 2))
    model_loss = float(np.mean(np.square(np.asarray(result.model(lightness, training=False)) - ab)))
    assert model_loss < 0.5 * gray_loss, (model_loss, gray_loss)


def test_prior_correction_undoes_rebalancing_at_decoding_and_survives_saving(tmp_path):
    rng = np.random.default_rng(4)
    bins = JointBins.from_pixels(np.concatenate([rng.normal(0, 4, (50_000, 2)), rng.normal(30, 25, (5_000, 2))]))
    logits = rng.normal(0, 1, (2, 3, 3, 1, bins.num_classes)).astype(np.float32)
    weights = bins.class_weights(0.5)
    corrected = bins.with_prior_correction(1.0, 0.5)
    expected = np.asarray(bins.decode_logits(logits - np.log(weights)[None, None, None, None, :], "mean"))
    np.testing.assert_allclose(np.asarray(corrected.decode_logits(logits, "mean")), expected, atol=1e-4)
    # alpha 0 changes nothing; the correction pulls colours toward the common (near-gray) ones
    np.testing.assert_allclose(np.asarray(bins.with_prior_correction(0.0).decode_logits(logits, "mean")),
                               np.asarray(bins.decode_logits(logits, "mean")), atol=1e-5)
    assert np.abs(expected).mean() < np.abs(np.asarray(bins.decode_logits(logits, "mean"))).mean()
    loaded = load_binning(corrected.save(tmp_path / "bins.json"))
    assert loaded.prior_correction == {"alpha": 1.0, "lambda": 0.5, "sigma": 5.0}
    np.testing.assert_allclose(np.asarray(loaded.decode_logits(logits, "annealed")),
                               np.asarray(corrected.decode_logits(logits, "annealed")), atol=1e-5)
    with pytest.raises(ValueError, match="alpha"):
        bins.with_prior_correction(1.5)


def test_train_colorizer_with_photos_calibrates_on_validation_images_and_ships_only_a_winner(tmp_path, shared_data,
                                                                                            monkeypatch):
    import shutil

    from colorize_utils.colorizer import photo_eval, release
    from colorize_utils.cli import main

    photos = tmp_path / "photos"
    for source in ("caltech101", "intel_scenes"):
        (photos / source).mkdir(parents=True)
        for path in sorted((shared_data / "photos" / source).iterdir())[:60]:
            shutil.copy(path, photos / source / path.name)
    small_evaluation(monkeypatch)
    calibrated_on = []
    real_calibrate = release.calibrate
    monkeypatch.setattr(release, "calibrate", lambda colorizer, images, *args, **kwargs: (
        calibrated_on.append(sorted(images)), real_calibrate(colorizer, images, *args, **kwargs))[1])
    monkeypatch.setenv("COLORIZE_DATA_DIR", str(shared_data))
    run_dir, out = tmp_path / "run", tmp_path / "export"
    assert main(["train-colorizer", "--run-dir", str(run_dir), "--out", str(out), "--train-size", "60",
                 "--val-size", "16", "--test-size", "16", "--steps", "2", "--steps-per-epoch", "2",
                 "--batch-size", "8", "--width", "2", "--photos", str(photos), "--photo-val-size", "10",
                 "--photo-test-size", "10", "--photo-batch-size", "4"]) == 0
    # once, on the 10 validation photos and the 16 Tiny validation images pooled
    assert len(calibrated_on) == 1 and len(calibrated_on[0]) == 26
    assert sum(name.startswith("tiny_val_") for name in calibrated_on[0]) == 16
    card = json.loads((run_dir / "card.json").read_text())
    record = json.loads((run_dir / "record.json").read_text())
    settings = card["default_decoding"]
    assert settings["working_size"] in (64, 96) and settings["prior_correction_alpha"] in (0.5, 0.75)
    assert isinstance(settings["mirror_average"], bool)
    # one calibration serves every image size: no small-image settings or weights (session 12)
    assert "small_images" not in settings and not list(run_dir.glob("colorizer.small*"))
    test = record["photo_test"]
    assert test["images"] == 10 and {row["model"] for row in test["means"]} >= {"gray", "mean_color", "new",
                                                                                "shipped"}
    assert set(photo_eval.verdicts(test, "new", "shipped")) == {"psnr", "auc"}
    assert record["split"]["val"] == 10 and len(record["split"]["sha256_of_file_lists"]) == 64
    # two steps of a width-2 model do not beat the shipped colorizer: nothing is exported
    assert record["ships"] is False and not out.exists()


def test_sigkill_of_the_shipped_model_command_resumes(tmp_path, shared_data):
    run_dir = tmp_path / "run"
    arguments = ["--run-dir", str(run_dir), "--train-size", "60", "--val-size", "16", "--test-size", "16",
                 "--steps", "6", "--steps-per-epoch", "2", "--batch-size", "8", "--width", "2", "--train-only"]
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["COLORIZE_DATA_DIR"] = {str(shared_data)!r}
        import time, keras
        class Slow(keras.callbacks.Callback):  # room for the kill to land inside the next epoch
            def on_epoch_end(self, epoch, logs=None):
                time.sleep(2.0)
        original_fit = keras.Model.fit
        def fit(self, *args, callbacks=(), **kwargs):
            return original_fit(self, *args, callbacks=[*callbacks, Slow()], **kwargs)
        keras.Model.fit = fit
        from colorize_utils.cli import main
        sys.exit(main(["train-colorizer", *{arguments!r}, *sys.argv[1:]]))
    """)
    _run_until(script, "colorizer: epoch", 1)
    assert len(reporting_history(run_dir)["loss"]) == 1 and (run_dir / "backup").exists()
    # the mode is the command's: starting again over an unfinished run is refused, --resume continues it
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900)
    assert again.returncode == 2 and "add --resume" in again.stderr, again.stderr[-2000:]
    completed = subprocess.run([sys.executable, "-c", script, "--resume"], capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "epoch 1/3" not in completed.stdout and "epoch 3/3" in completed.stdout
    history = reporting_history(run_dir)
    assert len(history["loss"]) == 3 and shipped_model.run_state(run_dir) == "finished"
    # a finished run is never thrown away or trained again unasked, nor "resumed"
    for extra, message in (([], "holds a finished run"), (["--resume"], "holds no unfinished run")):
        refused = subprocess.run([sys.executable, "-c", script, *extra], capture_output=True, text=True, timeout=900)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr[-2000:]
    assert reporting_history(run_dir) == history
