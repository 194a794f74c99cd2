"""colorize_utils.runtime.networks: the model builders and unbin(argmax) decoding."""

import keras
import numpy as np
import pytest

from colorize_utils.runtime import networks
from colorize_utils.binning import UniformBins
from colorize_utils.paper import models as paper_models


@pytest.mark.parametrize("head, num_bins, shape", [("regression", 10, (64, 64, 2)),
                                                   ("classification", 10, (64, 64, 2, 10)),
                                                   ("classification", 30, (64, 64, 2, 30))])
def test_paper_cnn_shapes_and_parameter_count(head, num_bins, shape):
    model = paper_models.build_paper_cnn(64, width=4, head=head, num_bins=num_bins)
    assert tuple(model.output.shape[1:]) == shape
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 9 and all(layer.kernel_size == (5, 5) for layer in convs)
    assert not any("pool" in layer.name or "up" in layer.name for layer in model.layers)
    # ReLU then BatchNorm after every conv
    names = [layer.name for layer in model.layers]
    for index in range(1, 10):
        assert names.index(f"conv{index}_relu") < names.index(f"conv{index}_bn")
    # hand count: convs (5*5*in*out + out) + BN (4*out) + FC bottleneck + head
    widths = [4 * m for m, _ in paper_models.PAPER_CNN_LAYERS]
    expected, previous = 0, 1
    for out in widths:
        expected += 25 * previous * out + out + 4 * out
        previous = out
    fc_units = 8 * 4
    expected += 4 * 4 * widths[-1] * fc_units + fc_units + 4 * fc_units
    outputs = int(np.prod(shape))
    expected += fc_units * outputs + outputs
    assert model.count_params() == expected


def test_strides_take_64_to_4():
    model = paper_models.build_paper_cnn(64, width=2)
    assert tuple(model.get_layer("conv9_bn").output.shape[1:3]) == (4, 4)


def test_dropout_follows_batch_norm():
    model = paper_models.build_paper_cnn(64, width=2, dropout=0.4)
    names = [layer.name for layer in model.layers]
    assert names.index("conv1_bn") + 1 == names.index("conv1_dropout")
    assert model.get_layer("conv1_dropout").rate == pytest.approx(0.4)


def test_baseline_is_three_convs_and_one_fc():
    model = paper_models.build_baseline(32, width=8)
    assert tuple(model.output.shape[1:]) == (32, 32, 2)
    assert sum(isinstance(layer, keras.layers.Conv2D) for layer in model.layers) == 3
    assert sum(isinstance(layer, keras.layers.Dense) for layer in model.layers) == 1


def test_bad_builder_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="head"):
        paper_models.build_paper_cnn(64, width=2, head="both")
    with pytest.raises(ValueError, match="multiple of 16"):
        paper_models.build_paper_cnn(60, width=2)
    with pytest.raises(ValueError, match="dropout"):
        paper_models.build_paper_cnn(64, width=2, dropout=1.5)


def test_classifier_prediction_is_unbin_of_argmax():
    bins = UniformBins(10).fit(np.random.default_rng(0).normal(0, 30, (5000, 2)))
    lightness = np.full((2, 64, 64, 1), 50.0, np.float32)
    model = paper_models.build_paper_cnn(64, width=2, head="classification", num_bins=10)
    predicted = networks.predict_ab(model, lightness, bins)
    logits = np.asarray(model(lightness, training=False))
    # unbin(argmax), by hand: the fitted value of the most likely bin, per channel
    manual = np.stack([bins.bin_values[c][logits[..., c, :].argmax(-1)] for c in range(2)], axis=-1)
    np.testing.assert_allclose(predicted, manual, atol=1e-5)
    with pytest.raises(ValueError, match="bin table"):
        networks.predict_ab(model, lightness)


def test_the_global_context_branch_saves_loads_and_depends_on_the_whole_image(tmp_path):
    model = networks.build_colorizer(4, "regression", global_context=True)
    branch = model.get_layer("global_context")
    for weight in branch.weights:  # away from the zero start, so the branch does something
        weight.assign(np.random.default_rng(2).normal(0, 0.5, weight.shape).astype("float32"))
    model.save(tmp_path / "m.keras")
    import keras

    loaded = keras.models.load_model(tmp_path / "m.keras")
    lightness = np.random.default_rng(3).uniform(0, 100, (1, 192, 192, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(lightness)), np.asarray(model(lightness)), atol=1e-5)
    # a change far away (beyond the 3x3 convs' reach) moves the colours of the top-left corner only with the branch
    changed = lightness.copy()
    changed[:, 144:, 144:] = 100 - changed[:, 144:, 144:]
    corner = lambda out: np.asarray(out)[0, :2, :2]  # noqa: E731
    assert np.abs(corner(model(changed)) - corner(model(lightness))).max() > 1e-5
    plain = networks.build_colorizer(4, "regression")
    assert np.abs(corner(plain(changed)) - corner(plain(lightness))).max() == 0.0
