"""Color hints (runtime/hints.py, the hint input of encoder_colorizer, colorize(hints=...), suggest_colors, the
command line's --hint and --hints, learning/simulated_hints.py).

The placement tests use an oracle hint model: at every hinted 1/4 cell it puts all probability on the bin
nearest the hint's ab, elsewhere on the bin nearest gray. A hint that is ignored, put at (y, x) instead of
(x, y), or given the wrong color then shows in the output, so these tests fail on each of those mistakes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import keras
from keras import layers, ops

from colorize_utils import cli
from colorize_utils.color import uint8_rgb_to_lab_np
from colorize_utils.runtime import encoder_colorizer, hints, inference
from tests.helpers import joint_bins, oracle_hint_colorizer, photo

RED, GREEN, BLUE = (200, 30, 30), (40, 170, 40), (40, 60, 200)  # green and blue: a and b differ in sign


def cell_colour(result: np.ndarray, x: int, y: int) -> np.ndarray:
    """Mean ab of the 3 x 3 pixels around (x, y) of an RGB result."""
    return uint8_rgb_to_lab_np(result[y - 1:y + 2, x - 1:x + 2]).reshape(-1, 3)[:, 1:].mean(axis=0)


def lab_ab(rgb) -> np.ndarray:
    """The (a, b) of an sRGB triple, computed here (not by hints.Hint.ab, which is under test)."""
    return uint8_rgb_to_lab_np(np.asarray([rgb], np.uint8))[0, 1:]


def assert_coloured_like(ab: np.ndarray, rgb) -> None:
    """ab has the hue of `rgb` (within about 25 degrees) and is clearly colored: the photo's own lightness and
    the gamut may take some chroma, and the upsampling blends the hinted cell with its gray neighbours."""
    want = lab_ab(rgb)
    assert np.linalg.norm(ab) > 20, ab
    assert ab @ want / (np.linalg.norm(ab) * np.linalg.norm(want)) > 0.9, (ab, want)


def test_a_hint_colours_its_own_place_with_its_own_colour_and_nothing_else():
    model = oracle_hint_colorizer()
    image = photo(96, 128)
    x, y = 100, 20  # far from (20, 100): swapped coordinates land outside the image's height
    result = inference.colorize(image, model, hints=[(x, y, "#28aa28")])
    assert_coloured_like(cell_colour(result, x, y), GREEN)  # its colour at its place
    assert np.linalg.norm(cell_colour(result, 20, 60)) < 8  # gray away from it
    blue = inference.colorize(image, model, hints=[(x, y, BLUE)])
    assert_coloured_like(cell_colour(blue, x, y), BLUE)
    none = inference.colorize(image, model, hints=[])
    assert np.linalg.norm(cell_colour(none, x, y)) < 8


def test_hints_follow_the_mirror_average():
    model = oracle_hint_colorizer()
    image = photo(64, 128)
    result = inference.colorize(image, model, hints=[(16, 30, RED)], mirror_average=True)
    # averaged with the mirror image's logits: red at the hint (the flipped hints flip back with the output),
    # nothing at the mirrored place
    assert cell_colour(result, 16, 30)[0] > 20
    assert abs(cell_colour(result, 128 - 17, 30)[0]) < 8


def test_hint_planes_put_each_hint_at_its_scaled_place():
    planes = hints.hint_planes([hints.Hint(199, 0, RED), hints.Hint(0, 99, BLUE)], (100, 200), (50, 100), patch=1)
    assert planes[0, 99, 2] == 1 and planes[49, 0, 2] == 1 and planes[..., 2].sum() == 2
    np.testing.assert_allclose(planes[0, 99, :2] * encoder_colorizer.HINT_AB_SCALE, lab_ab(RED), atol=1e-4)


@pytest.mark.parametrize("bad, words", [
    ([(200, 10, "#ff0000")], "outside the 128 x 96 image"), ([(10, -1, "#ff0000")], "outside"),
    ([(10, 10, "red")], "'#rrggbb'"), ([(10, 10, (0, 0, 300))], "0..255"), ([(10, 10)], "(x, y, color)"),
    ([{"x": 1, "color": "#000000"}], "lacks ['y']"), ("10,10,#ff0000", "list of (x, y, color)"),
    ([("a", 1, "#000000")], "must be numbers")])
def test_bad_hints_get_a_value_error_that_names_the_hint_and_the_fix(bad, words):
    with pytest.raises(ValueError, match="hint") as raised:
        inference.colorize(photo(96, 128), oracle_hint_colorizer(), hints=bad)
    assert words in str(raised.value)


def test_a_model_without_a_hint_input_refuses_hints_with_a_clear_error():
    model = encoder_colorizer.build_encoder_colorizer(joint_bins().num_classes, 4, 8)
    colorizer = inference.Colorizer(model, joint_bins(), None, {})
    with pytest.raises(ValueError, match="takes no color hints"):
        inference.colorize(photo(64, 64), colorizer, hints=[(1, 1, RED)])


def test_suggested_colours_are_the_models_most_likely_and_distinct():
    model = oracle_hint_colorizer()
    image = photo(96, 128)
    suggestions = inference.suggest_colors(image, 100, 20, k=3, model=model, hints=[(100, 20, RED)])
    assert len(suggestions) == 3 and suggestions[0][1] > 0.99  # the hinted cell is sure of the hint's bin
    top = uint8_rgb_to_lab_np(np.asarray([hints.parse_color(suggestions[0][0])], np.uint8))[0, 1:]
    assert np.linalg.norm(top - lab_ab(RED)) < 15
    abs_ = [uint8_rgb_to_lab_np(np.asarray([hints.parse_color(c)], np.uint8))[0, 1:] for c, _ in suggestions]
    assert min(np.linalg.norm(a - b) for i, a in enumerate(abs_) for b in abs_[i + 1:]) > 5
    with pytest.raises(ValueError, match="outside"):
        inference.suggest_colors(image, 500, 20, model=model)


def test_a_hint_model_starts_as_the_automatic_one_and_saves(tmp_path):
    automatic = encoder_colorizer.build_encoder_colorizer(20, 4, 8)
    hinted = encoder_colorizer.build_encoder_colorizer(20, 4, 8, hint_scales=encoder_colorizer.HINT_SCALES)
    assert encoder_colorizer.copy_matching_weights(automatic, hinted) > 100
    lightness = np.random.default_rng(1).uniform(0, 100, (1, 64, 96, 1)).astype("float32")
    planes = np.zeros((1, 64, 96, 3), np.float32)
    planes[0, 10:13, 20:23] = (0.5, -0.3, 1.0)
    np.testing.assert_array_equal(np.asarray(automatic(lightness)), np.asarray(hinted([lightness, planes])))
    hinted.get_layer("hint_conv8").set_weights([w + 0.1 for w in hinted.get_layer("hint_conv8").get_weights()])
    assert not np.allclose(np.asarray(automatic(lightness)), np.asarray(hinted([lightness, planes])))
    hinted.save(tmp_path / "h.keras")
    again = keras.saving.load_model(tmp_path / "h.keras")
    np.testing.assert_allclose(np.asarray(again([lightness, planes])), np.asarray(hinted([lightness, planes])), atol=1e-5)


def two_region_lightness(height: int = 64, width: int = 96) -> np.ndarray:
    """L 20 on the left half, 80 on the right: one edge down the middle."""
    lightness = np.full((1, height, width, 1), 20.0, np.float32)
    lightness[:, :, width // 2:] = 80.0
    return lightness


def test_propagation_spreads_each_hint_over_its_own_region_at_its_place():
    layer = encoder_colorizer.HintPropagation()
    lightness, planes = two_region_lightness(), np.zeros((1, 64, 96, 3), np.float32)
    np.testing.assert_array_equal(np.asarray(layer([lightness, planes])), 0.0)  # no hint: exactly nothing
    planes[0, 8, 4] = (0.5, -0.3, 1.0)  # row 8, column 4: the dark left region, near the top
    planes[0, 56, 90] = (-0.2, 0.4, 1.0)  # the bright right region, near the bottom
    out = np.asarray(layer([lightness, planes]))[0]  # (16, 24, 6) at 1/4
    assert out.shape == (16, 24, 6)
    np.testing.assert_allclose(out[2, 1, :2], (0.5, -0.3), atol=0.03)  # each hint's own cell keeps its color
    np.testing.assert_allclose(out[14, 22, :2], (-0.2, 0.4), atol=0.03)
    # the edge stops each color: just left of the middle is the first hint's, just right of it the second's
    np.testing.assert_allclose(out[4, 10, :2], (0.5, -0.3), atol=0.1)
    np.testing.assert_allclose(out[12, 13, :2], (-0.2, 0.4), atol=0.1)
    assert out[2, 1, 2] > 0.9  # confident near a hint
    np.testing.assert_allclose(out[0, 0, 3:], (0.15, 0.05, 1.0), atol=1e-6)  # the hints' mean and "any hint"
    # x and y are not swapped: on a flat 128 x 128 image a hint at row 4, column 100 lights the cells near
    # (1, 25), and none near (25, 1), beyond the guided filter's reach (two windows, 20 cells)
    planes = np.zeros((1, 128, 128, 3), np.float32)
    planes[0, 4, 100] = (0.5, 0.5, 1.0)
    out = np.asarray(layer([np.full((1, 128, 128, 1), 50.0, np.float32), planes]))[0]
    assert out[1, 25, 2] > 0.9 and out[25, 1, 2] < 0.01


def test_a_hint_model_with_propagation_starts_as_the_one_without_and_reads_it(tmp_path):
    hinted = encoder_colorizer.build_encoder_colorizer(20, 4, 8, hint_scales=encoder_colorizer.HINT_SCALES)
    propagating = encoder_colorizer.build_encoder_colorizer(20, 4, 8, hint_scales=encoder_colorizer.HINT_SCALES,
                                                            hint_propagation=True)
    assert encoder_colorizer.copy_matching_weights(hinted, propagating) > 100
    lightness, planes = two_region_lightness(), np.zeros((1, 64, 96, 3), np.float32)
    planes[0, 10:13, 20:23] = (0.5, -0.3, 1.0)
    np.testing.assert_array_equal(np.asarray(hinted([lightness, planes])), np.asarray(propagating([lightness, planes])))
    conv = propagating.get_layer("propagation_conv4")
    conv.set_weights([w + 0.1 for w in conv.get_weights()])
    without = np.zeros_like(planes)  # no hints: the propagation is zero, so the model is still the one without
    np.testing.assert_array_equal(np.asarray(hinted([lightness, without])),
                                  np.asarray(propagating([lightness, without])))
    assert not np.allclose(np.asarray(hinted([lightness, planes])), np.asarray(propagating([lightness, planes])))
    with pytest.raises(ValueError, match="hint_scales"):
        encoder_colorizer.build_encoder_colorizer(20, 4, 8, hint_propagation=True)
    with pytest.raises(ValueError, match="no place here"):  # the propagation layers would be dropped
        encoder_colorizer.copy_matching_weights(propagating, hinted)
    with pytest.raises(ValueError, match="eps > 0"):
        encoder_colorizer.HintPropagation(eps=0.0)
    propagating.save(tmp_path / "p.keras")
    again = keras.saving.load_model(tmp_path / "p.keras")
    np.testing.assert_allclose(np.asarray(again([lightness, planes])), np.asarray(propagating([lightness, planes])),
                               atol=1e-5)


def test_a_card_blend_mixes_the_network_with_the_hints_spread_over_l():
    oracle = oracle_hint_colorizer()
    image = photo(64, 96)
    given = [(20, 10, "#c0392b"), (80, 50, "#1e5ac8")]
    checked = hints.check_hints(given, 64, 96)
    lightness = inference.lightness_of(image)
    spread = hints.propagate_ab(lightness, checked, 0.25, 0.01)
    assert np.abs(spread[10, 20] - checked[0].ab).max() < 3 and np.abs(spread[50, 80] - checked[1].ab).max() < 3
    network = inference.colorize(image, oracle, hints=given)

    def blended(weight):
        card = {**oracle.card, "hint_blend": {"weight": weight, "radius_share": 0.25, "eps": 0.01}}
        return inference.colorize(image, inference.Colorizer(oracle.model, oracle.binning, None, card), hints=given)

    np.testing.assert_array_equal(blended(1.0), inference.lab_to_rgb_uint8(lightness, spread))  # all propagation
    np.testing.assert_array_equal(blended(0.0), network)  # all network
    half = blended(0.5).astype(int)
    assert np.abs(half - network).mean() > 3 and np.abs(half - blended(1.0)).mean() > 3  # a mix of the two
    no_hints = inference.Colorizer(oracle.model, oracle.binning, None, {**oracle.card, "hint_blend": {
        "weight": 0.5, "radius_share": 0.25, "eps": 0.01}})
    np.testing.assert_array_equal(inference.colorize(image, no_hints, hints=[]),
                                  inference.colorize(image, oracle, hints=[]))  # no hints: nothing to blend


def test_simulated_hints_follow_the_geometric_law_and_carry_their_patch_means():
    tf = pytest.importorskip("tensorflow")
    from colorize_utils.learning import simulated_hints

    counts = simulated_hints.point_counts(40_000, tf.constant([1, 2])).numpy()
    assert abs(counts.mean() - 7.0) < 0.2 and abs((counts == 0).mean() - 1 / 8) < 0.01
    ab = np.random.default_rng(0).normal(0, 30, (64, 24, 28, 2)).astype("float32")
    planes = simulated_hints.simulate_hints(tf.constant(ab), tf.constant([3, 4]), p=0.5, max_points=1).numpy()
    seen = 0
    for image, plane in zip(ab, planes):
        mask = plane[..., 2] > 0
        if mask.any():  # one square patch, 1..9 pixels a side, carrying its own mean ab
            rows, cols = np.nonzero(mask)
            side = rows.max() - rows.min() + 1
            assert side == cols.max() - cols.min() + 1 and mask.sum() == side * side and 1 <= side <= 9
            np.testing.assert_allclose(plane[mask][:, :2] * encoder_colorizer.HINT_AB_SCALE,
                                       np.broadcast_to(image[mask].mean(axis=0), (mask.sum(), 2)), atol=1e-3)
            seen += 1
    assert 20 < seen < 44  # about half the images get their one point (p = 1/2)
    again = simulated_hints.simulate_hints(tf.constant(ab), tf.constant([3, 4]), p=0.5, max_points=1).numpy()
    np.testing.assert_array_equal(planes, again)


def test_training_batches_carry_simulated_hints_and_a_hint_model_fits_them():
    pytest.importorskip("tensorflow")
    from colorize_utils.learning import pipeline

    images = np.random.default_rng(0).integers(0, 256, (8, 40, 40, 3)).astype(np.uint8)
    (lightness, planes), ab = next(iter(pipeline.make_photo_dataset(images, 4, 32, 24, seed=1, hints=True)))
    assert lightness.shape == (4, 32, 32, 1) and planes.shape == (4, 32, 32, 3) and ab.shape == (4, 8, 8, 2)
    (lightness2, planes2), _ = next(iter(pipeline.make_colorizer_dataset(images, 4, 32, seed=1, hints=True)))
    assert planes2.shape == (4, 32, 32, 3) and float(np.asarray(planes2)[..., 2].max()) in (0.0, 1.0)


def test_the_command_line_takes_hints_and_refuses_bad_ones_writing_nothing(tmp_path, monkeypatch):
    from PIL import Image

    image = photo(96, 128)
    Image.fromarray(image).save(tmp_path / "p.png")
    model = oracle_hint_colorizer()
    monkeypatch.setattr(inference, "default_colorizer", lambda: model)
    out = tmp_path / "out"
    assert cli.main(["colorize", str(tmp_path / "p.png"), "--out", str(out), "--hint", "100,20,#28aa28"]) == 0
    result = np.asarray(Image.open(out / "p.png"))
    assert_coloured_like(cell_colour(result, 100, 20), GREEN)
    (tmp_path / "hints").mkdir()
    (tmp_path / "hints" / "p.json").write_text(json.dumps([{"x": 100, "y": 20, "color": "#2838c8"}]))
    assert cli.main(["colorize", str(tmp_path / "p.png"), "--out", str(tmp_path / "o2"),
                     "--hints", str(tmp_path / "hints")]) == 0
    result = np.asarray(Image.open(tmp_path / "o2" / "p.png"))
    assert_coloured_like(cell_colour(result, 100, 20), (40, 56, 200))
    (tmp_path / "bad.json").write_text("{not json")
    for bad in (["--hint", "500,20,#c81e1e"], ["--hint", "1,2,crimson"], ["--hints", str(tmp_path / "bad.json")],
                ["--hints", str(tmp_path / "missing.json")], ["--hint", "1,2"], ["--hint", "1,2,a,b,c"]):
        target = tmp_path / "refused"
        assert cli.main(["colorize", str(tmp_path / "p.png"), "--out", str(target), *bad]) == 2
        assert not target.exists()


def test_clips_refuse_hints(tmp_path):
    from PIL import Image

    frames = [Image.fromarray(photo(32, 32)), Image.fromarray(photo(32, 32)[:, ::-1])]  # two different frames
    frames[0].save(tmp_path / "c.gif", save_all=True, append_images=frames[1:])
    completed = subprocess.run([sys.executable, "-m", "colorize_utils", "colorize", str(tmp_path / "c.gif"), "--out",
                                str(tmp_path / "o"), "--hint", "1,1,#ff0000"], capture_output=True, text=True)
    assert completed.returncode == 2 and "clips take no color hints" in completed.stderr
    assert not (tmp_path / "o").exists()


def test_a_gated_blend_keeps_one_click_on_its_side_of_the_edges():
    lightness = np.full((64, 96), 30.0, np.float32)
    lightness[:, 48:] = 70.0  # an edge down the middle
    given = hints.check_hints([(30, 32, "#c0392b")], 64, 96)
    red = np.asarray(given[0].ab, np.float32)
    tinted = np.broadcast_to(red, (16, 24, 2)).copy()  # a network that tints the whole photo at one click
    automatic = np.zeros((16, 24, 2), np.float32)
    blend = {"weight": 0.5, "radius_share": 0.25, "eps": 0.01}
    ungated = uint8_rgb_to_lab_np(inference.blend_with_propagation(lightness, tinted, None, given, blend))[..., 1:]
    gated = uint8_rgb_to_lab_np(inference.blend_with_propagation(
        lightness, tinted, None, given, {**blend, "gate": {"radius_share": 0.25, "eps": 0.01}}, automatic))[..., 1:]
    assert np.linalg.norm(ungated[32, 90]) > 20  # without the gate the far side turns red too
    assert_coloured_like(gated[32, 30], (192, 57, 43))  # the click's own place takes its color
    assert_coloured_like(gated[32, 40], (192, 57, 43))  # and so does its side of the edge nearby
    assert np.linalg.norm(gated[32, 90]) < 2  # beyond its reach: the automatic result (gray here)
    assert np.linalg.norm(gated[32, 52]) < 0.3 * np.linalg.norm(gated[32, 44])  # the edge holds it back
    with pytest.raises(ValueError, match="automatic"):
        inference.blend_with_propagation(lightness, tinted, None, given, {**blend, "gate": {"radius_share": 0.25,
                                                                                           "eps": 0.01}})


def test_hint_reach_is_one_at_the_hint_and_zero_beyond_its_window():
    lightness = np.full((40, 120), 50.0, np.float32)
    reach = hints.hint_reach(lightness, hints.check_hints([(10, 20, "#ffffff")], 40, 120), 0.1, 0.01)[..., 0]
    # 12 px radius: a tent, 1 at the hint, (25 - 10) / 25 ten pixels away, 0 from twice the radius on
    assert reach[20, 10] == pytest.approx(1.0) and reach[20, 20] == pytest.approx(0.6, abs=0.01)
    assert reach[20, 35:].max() == 0.0
    assert hints.hint_reach(lightness, [], 0.1, 0.01).max() == 0.0


def test_the_prediction_cache_answers_only_for_the_same_model_photo_and_hints():
    def ab_model(scale: float) -> inference.Colorizer:
        """A hint model that predicts ab directly: a = scale x L, b = the hint plane's a (so L, the hints and the
        model each change the answer)."""
        lightness, planes = keras.Input((None, None, 1)), keras.Input((None, None, 3))
        output = layers.Lambda(lambda t: ops.concatenate([t[0] * scale, t[1][..., :1] * 100.0], axis=-1))(
            [lightness, planes])
        return inference.Colorizer(keras.Model([lightness, planes], output), None, None, {})

    first, second = ab_model(0.5), ab_model(-0.5)
    small = np.linspace(10, 90, 8 * 12, dtype=np.float32).reshape(8, 12)
    planes = np.zeros((1, 8, 12, 3), np.float32)
    planes[0, 2, 3] = (0.4, 0.1, 1.0)

    def a_and_b(colorizer, lightness, hint_planes):
        output = inference.cached_working_output(colorizer, lightness, False, hint_planes)
        return float(output[0, 4, 6, 0]), float(output[0, 2, 3, 1])

    inference.clear_prediction_cache()
    assert a_and_b(first, small, planes) == pytest.approx((0.5 * small[4, 6], 40.0))
    assert a_and_b(second, small, planes)[0] == pytest.approx(-0.5 * small[4, 6])  # another model: its own answer
    assert a_and_b(first, small + 5, planes)[0] == pytest.approx(0.5 * (small[4, 6] + 5))  # another photo
    assert a_and_b(first, small, np.zeros_like(planes))[1] == 0.0  # no hints: not the hinted answer
    assert a_and_b(first, small, planes) == pytest.approx((0.5 * small[4, 6], 40.0))  # the first one, remembered
    assert len(inference._PREDICTIONS) <= inference.PREDICTION_CACHE_SIZE
    remembered = inference.cached_working_output(first, small, False, planes)
    with pytest.raises(ValueError):  # read-only: a caller cannot change what later callers get
        remembered[0, 0, 0, 0] = 1.0


def test_the_shipped_hint_colorizer_keeps_one_click_near_its_place():
    if not inference.DEFAULT_HINT_MODEL.is_file():
        pytest.skip("no hint colorizer shipped")
    from colorize_utils.learning import sources

    image = sources.natural_photos(("astronaut",))["astronaut"][::4, ::4]  # 128 x 128
    before = uint8_rgb_to_lab_np(inference.colorize(image, hints=[]))[..., 1:]
    after = uint8_rgb_to_lab_np(inference.colorize(image, hints=[(16, 16, "#1e64c8")]))[..., 1:]
    change = np.hypot(*(after - before).transpose(2, 0, 1))
    assert change[10:23, 10:23].mean() > 15  # the click's place follows it
    assert change[96:, 96:].mean() < 3  # the far corner, beyond its reach, does not
    assert inference.resolve_hint_colorizer().card["hint_blend"]["gate"]


def constant_ab_colorizer(a: float, b: float) -> inference.Colorizer:
    """An automatic colorizer that paints every pixel (a, b), whatever the photo."""
    lightness = keras.Input((None, None, 1))
    output = layers.Lambda(lambda t: ops.concatenate([ops.zeros_like(t) + a, ops.zeros_like(t) + b], axis=-1))(
        lightness)
    return inference.Colorizer(keras.Model(lightness, output), None, None, {})


def test_a_gate_based_on_the_automatic_model_edits_its_result_and_leaves_the_rest_as_it_was():
    automatic = constant_ab_colorizer(25.0, 30.0)  # orange everywhere: unlike the oracle's own gray
    oracle = oracle_hint_colorizer()
    blend = {"weight": 0.5, "radius_share": 0.25, "eps": 0.01,
             "gate": {"radius_share": 0.25, "eps": 0.01, "base": "automatic"}}
    gated = inference.Colorizer(oracle.model, oracle.binning, None, {**oracle.card, "hint_blend": blend},
                                automatic=automatic)
    image = photo(96, 128)
    untouched = inference.colorize(image, automatic)
    np.testing.assert_array_equal(inference.colorize(image, gated, hints=[]), untouched)  # no hint: the automatic
    result = inference.colorize(image, gated, hints=[(110, 15, "#28aa28")])
    assert_coloured_like(cell_colour(result, 110, 15), GREEN)  # the click's place takes its color
    np.testing.assert_allclose(cell_colour(result, 10, 85), cell_colour(untouched, 10, 85), atol=1.0)  # far: as it was
    assert np.linalg.norm(cell_colour(untouched, 10, 85)) > 30
    # an automatic model whose card scales its colors: no hint still gives exactly its result
    vivid = inference.Colorizer(automatic.model, None, None, {"default_decoding": {"chroma_gain": 1.2}})
    gated_vivid = inference.Colorizer(oracle.model, oracle.binning, None, {**oracle.card, "hint_blend": blend},
                                      automatic=vivid)
    vivid_result = inference.colorize(image, vivid)
    assert np.linalg.norm(cell_colour(vivid_result, 10, 85)) > 1.1 * np.linalg.norm(cell_colour(untouched, 10, 85))
    np.testing.assert_array_equal(inference.colorize(image, gated_vivid, hints=[]), vivid_result)
    assert_coloured_like(cell_colour(inference.colorize(image, gated_vivid, hints=[(110, 15, "#28aa28")]), 110, 15),
                         GREEN)
    # ... and so does one calibrated at another working size than the hint card's
    lightness = keras.Input((None, None, 1))
    from_lightness = layers.Lambda(lambda t: ops.concatenate([t - 50.0, ops.zeros_like(t) + 20.0], axis=-1))(lightness)
    own_size = inference.Colorizer(keras.Model(lightness, from_lightness), None, None,
                                   {"default_decoding": {"working_size": 40}})
    gated_own = inference.Colorizer(oracle.model, oracle.binning, None, {**oracle.card, "hint_blend": blend},
                                    automatic=own_size)
    np.testing.assert_array_equal(inference.colorize(image, gated_own, hints=[]), inference.colorize(image, own_size))
    # the same gate without the base edits the hint model's own (gray) result instead
    own = inference.Colorizer(oracle.model, oracle.binning, None, {**oracle.card, "hint_blend": {
        **blend, "gate": {"radius_share": 0.25, "eps": 0.01}}})
    assert np.linalg.norm(cell_colour(inference.colorize(image, own, hints=[(110, 15, "#28aa28")]), 10, 85)) < 8
