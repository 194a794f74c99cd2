"""colorize_utils.colorizer.release: version 4's one calibration grid and its rule, the ship rule and the small card."""

import json

import numpy as np
import pytest

from colorize_utils import metrics
from colorize_utils.runtime import inference
from colorize_utils.learning import evaluation
from colorize_utils.colorizer import release
from colorize_utils.binning import JointBins
from helpers import photo


@pytest.fixture(scope="module")
def v4_colorizer():
    """A tiny untrained version-4 network (random decoder; the encoder's ImageNet weights are not needed here)."""
    import keras
    from colorize_utils.runtime import encoder_colorizer

    keras.utils.set_random_seed(3)
    bins = JointBins.from_pixels(np.random.default_rng(3).normal(0, 25, (5000, 2)).astype(np.float32))
    model = encoder_colorizer.build_encoder_colorizer(bins.num_classes, decoder_width=2, global_units=4)
    return inference.Colorizer(model, bins, None, {"input_multiple": encoder_colorizer.INPUT_MULTIPLE})


def test_a_v4_model_sees_inputs_in_multiples_of_32_and_gives_back_full_size(v4_colorizer):
    seen = []
    original = inference.working_output

    def spy(colorizer, small, *args, **kwargs):
        seen.append(np.shape(small)[1:3])
        return original(colorizer, small, *args, **kwargs)

    inference.working_output = spy
    try:
        for height, width in ((37, 150), (201, 333), (500, 90)):
            out = inference.colorize(photo(height, width), v4_colorizer, working_size=100)
            assert out.shape == (height, width, 3)
    finally:
        inference.working_output = original
    assert seen and all(h % 32 == 0 and w % 32 == 0 for h, w in seen), seen


def test_the_cards_chroma_gain_scales_the_colors_of_photos_and_clips(v4_colorizer):
    from colorize_utils.color import uint8_rgb_to_lab_np
    from colorize_utils.runtime import video

    def with_gain(gain):
        return inference.Colorizer(v4_colorizer.model, v4_colorizer.binning, None,
                                   {**v4_colorizer.card, "default_decoding": {"chroma_gain": gain}})

    image = photo(96, 128)
    plain, vivid = with_gain(1.0), with_gain(1.5)
    assert vivid.settings().chroma_gain == 1.5 and plain.settings().chroma_gain == 1.0
    chroma = {}
    for name, colorizer in (("plain", plain), ("vivid", vivid)):
        out = inference.colorize(image, colorizer, guided_filter=False)
        frames = list(video.colorize_frames([image, image], colorizer, temporal="none", guided_filter=False))
        np.testing.assert_array_equal(frames[0], out)  # a clip's frame is colorized as the photo is
        chroma[name] = float(np.hypot(*np.moveaxis(uint8_rgb_to_lab_np(out)[..., 1:], -1, 0)).mean())
    assert chroma["vivid"] == pytest.approx(1.5 * chroma["plain"], rel=0.05)
    with pytest.raises(ValueError, match="chroma_gain"):
        with_gain(0.0).settings()


def test_the_grid_scores_what_colorize_gives(v4_colorizer):
    """Every candidate's score is the score of colorize() with those settings: break a step of the grid's path
    (the decoding, the mirror average, the seen size) and this fails."""
    images = {"wide": photo(90, 140), "small": photo(60, 64)}
    grid = {"working_size": (64, 96), "small_image_scale": (1.0, 1.5), "alpha": (0.5, 1.0), "temperature": (0.38,),
            "mirror_average": (False, True), "chroma_gain": (1.0, 1.5)}
    train_mean = np.array([1.0, 5.0], np.float32)
    scores = release.grid_scores(v4_colorizer, images, train_mean, grid, log=lambda *_: None)
    assert len(scores["candidates"]) == 32
    for index in (0, 5, 11, 22, 31):
        candidate = scores["candidates"][index]
        corrected = v4_colorizer.with_prior_correction(candidate["alpha"], 0.5, 5.0)
        corrected = inference.Colorizer(corrected.model, corrected.binning, None, {
            **corrected.card, "default_decoding": {"chroma_gain": candidate["chroma_gain"]}})
        outputs = {name: inference.colorize(rgb, corrected, decode="annealed", temperature=candidate["temperature"],
                                            working_size=candidate["working_size"], guided_filter=False,
                                            small_image_scale=candidate["small_image_scale"],
                                            mirror_average=candidate["mirror_average"])
                   for name, rgb in images.items()}
        _, per_photo = evaluation.photo_table(images, {"x": outputs}, train_mean)
        expected = [row["psnr"] for row in per_photo if row["model"] == "x"]
        np.testing.assert_allclose(scores["rows"][index]["psnr"], expected, atol=1e-6)
        expected_gray = [row["psnr"] for row in per_photo if row["model"] == metrics.GRAY]
        np.testing.assert_allclose(scores["rows"][metrics.GRAY]["psnr"], expected_gray, atol=1e-6)


def synthetic_scores(rows: dict[int, tuple[float, float, float]], gray=(23.0, 0.88, 0.0), truth=30.0) -> dict:
    """grid_scores' shape with one image per candidate: {index: (psnr, auc, colorfulness)}."""
    def arrays(values):
        return {"psnr": np.array([values[0]]), "auc": np.array([values[1]]), "colorfulness": np.array([values[2]])}

    candidates = [{"working_size": 160, "small_image_scale": 1.0, "alpha": 0.5 + i / 10, "temperature": 0.38,
                   "mirror_average": False} for i in range(len(rows))]
    return {"candidates": candidates, "rows": {**{i: arrays(v) for i, v in rows.items()}, metrics.GRAY: arrays(gray),
                                               metrics.MEAN_COLOR: arrays((22.0, 0.87, 8.0))},
            "names": ["a"], "buckets": ["160 px and up"], "truth_colorfulness": np.array([truth])}


def test_the_rule_takes_the_best_psnr_among_vivid_enough_candidates():
    # 0: best PSNR but dull; 1: vivid, PSNR above gray; 2: vivid, better PSNR; 3: vivid but AuC below gray
    record = release.choose(synthetic_scores({0: (24.0, 0.90, 10.0), 1: (23.2, 0.89, 25.0),
                                              2: (23.5, 0.89, 24.7), 3: (23.9, 0.87, 26.0)}))
    assert record["qualified"] and record["settings"]["prior_correction_alpha"] == pytest.approx(0.7)
    assert [row["qualifies"] for row in record["candidates"]] == [False, True, True, False]
    # just below the bar (0.75 x 30 = 22.5): it does not qualify, and the best score wins instead
    below_bar = release.VALIDATION_COLORFULNESS_TARGET * 30.0 - 0.1
    fallback = release.choose(synthetic_scores({0: (24.0, 0.90, 10.0), 1: (23.6, 0.895, below_bar)}))
    assert not fallback["qualified"] and fallback["settings"]["prior_correction_alpha"] == pytest.approx(0.6)


def test_the_rule_needs_the_hold_out_condition_on_the_small_validation_images():
    # two images: a photo (160 px and up) and a Tiny image (under 100 px); gray scores 23.0 on both
    def arrays(photo, tiny):
        return {metric: np.array([photo[i], tiny[i]]) for i, metric in enumerate(("psnr", "auc", "colorfulness"))}

    scores = synthetic_scores({})
    scores.update(names=["photo", "tiny"], buckets=["160 px and up", "under 100 px"],
                  truth_colorfulness=np.array([30.0, 30.0]))
    scores["candidates"] = [{"working_size": 160, "small_image_scale": 1.0, "alpha": a, "temperature": 0.38,
                             "mirror_average": False} for a in (0.5, 0.6)]
    gray = (23.0, 0.88, 0.0)
    scores["rows"] = {0: arrays((25.0, 0.90, 26.0), (22.8, 0.89, 26.0)),  # best pooled PSNR, but below gray on Tiny
                      1: arrays((24.0, 0.90, 26.0), (23.1, 0.89, 26.0)),
                      metrics.GRAY: arrays(gray, gray), metrics.MEAN_COLOR: arrays((22.0, 0.87, 8.0), (22.0, 0.87, 8.0))}
    record = release.choose(scores)
    assert [row["qualifies"] for row in record["candidates"]] == [False, True]
    assert record["settings"]["prior_correction_alpha"] == pytest.approx(0.6)
    assert record["candidates"][0]["small"]["psnr"] == pytest.approx(22.8)
    # the AuC and the colorfulness count there too: AuC at gray's, or colorfulness under 0.6 x 30 = 18
    for tiny in ((23.1, 0.88, 26.0), (23.1, 0.89, 17.0)):
        scores["rows"][1] = arrays((24.0, 0.90, 35.0), tiny)  # pooled: colorfulness 30.5 or 26 qualifies
        assert [row["qualifies"] for row in release.choose(scores)["candidates"]] == [False, False]


def comparison(new_vs_old: dict, new_row: dict, gray_row: dict) -> dict:
    intervals = [{"method": "new", "reference": "old", "metric": k, "verdict": v} for k, v in new_vs_old.items()]
    return {"means": [{"model": "new", **new_row}, {"model": metrics.GRAY, **gray_row}], "intervals": intervals}


def test_the_ship_rule_needs_every_condition():
    gray = {"psnr": 23.0, "auc": 0.88}
    good_test = comparison({"psnr": "better", "auc": "better"}, {"psnr": 24, "auc": 0.9, "colorfulness": 25,
                                                                 "truth_colorfulness": 34}, gray)
    good_holdout = comparison({}, {"psnr": 23.1, "auc": 0.89, "colorfulness": 22, "truth_colorfulness": 36}, gray)
    assert release.ships(good_test, good_holdout, "new", "old")[0]
    tie = comparison({"psnr": "tie", "auc": "better"}, good_test["means"][0] | {}, gray)
    tie["means"] = good_test["means"]
    assert not release.ships(tie, good_holdout, "new", "old")[0]
    dull = comparison({"psnr": "better", "auc": "better"}, {"psnr": 24, "auc": 0.9, "colorfulness": 23,
                                                            "truth_colorfulness": 34}, gray)
    assert not release.ships(dull, good_holdout, "new", "old")[0]  # 23 < 0.7 x 34
    below_gray = comparison({}, {"psnr": 22.9, "auc": 0.89, "colorfulness": 22, "truth_colorfulness": 36}, gray)
    assert not release.ships(good_test, below_gray, "new", "old")[0]
    # a run without photos: part (1) is judged on the hold-out, whose verdicts against the old model decide
    holdout_beats_old = comparison({"psnr": "better", "auc": "better"}, {"psnr": 23.4, "auc": 0.89, "colorfulness": 26,
                                                                         "truth_colorfulness": 36}, gray)
    assert release.ships(None, holdout_beats_old, "new", "old")[0]
    ships, checks = release.ships(None, good_holdout, "new", "old")  # no verdicts on the hold-out: not better
    assert not ships and checks["split_of_part_1"].startswith("Tiny hold-out")


def test_a_recalibration_ships_when_more_colorful_and_not_worse():
    gray = {"psnr": 23.0, "auc": 0.88}
    old_row = {"model": "old", "psnr": 24.1, "auc": 0.9, "colorfulness": 26, "truth_colorfulness": 34}
    holdout = comparison({}, {"psnr": 23.1, "auc": 0.89, "colorfulness": 22, "truth_colorfulness": 36}, gray)

    def test_split(verdicts, colorfulness):
        result = comparison(verdicts, {"psnr": 24, "auc": 0.9, "colorfulness": colorfulness,
                                       "truth_colorfulness": 34}, gray)
        result["means"].append(old_row)
        return result

    ties = {"psnr": "tie", "auc": "tie"}
    assert not release.ships(test_split(ties, 28), holdout, "new", "old")[0]  # a new network must be better
    ships, checks = release.ships(test_split(ties, 28), holdout, "new", "old", recalibration=True)
    assert ships and checks["recalibration"] and checks["previous_colorfulness_share"] == pytest.approx(26 / 34)
    assert not release.ships(test_split(ties, 25.9), holdout, "new", "old", recalibration=True)[0]  # less colorful
    worse = {"psnr": "worse", "auc": "tie"}
    assert not release.ships(test_split(worse, 28), holdout, "new", "old", recalibration=True)[0]
    assert not release.ships(test_split({"psnr": "tie", "auc": "worse"}, 28), holdout, "new", "old",
                             recalibration=True)[0]


def test_the_card_holds_what_loading_needs_in_4_kb(v4_colorizer):
    settings = {"decode": "annealed", "temperature": 0.38, "working_size": 224, "prior_correction_alpha": 0.75,
                "small_image_scale": 1.5, "guided_filter": None, "mirror_average": True}
    from colorize_utils.runtime import encoder_colorizer

    args = {"num_classes": v4_colorizer.binning.num_classes, "decoder_width": 2, "global_units": 4}
    card = release.card(v4_colorizer.model, encoder_colorizer.BUILDER, args, encoder_colorizer.INPUT_MULTIPLE,
                        settings, (1.0, 5.0), "abc", {"photo_test": {"psnr": 24.0}}, "results/colorizer/v4/record.json")
    assert len(json.dumps(card, indent=1).encode()) <= release.CARD_LIMIT
    assert card["input_multiple"] == 32 and card["builder_args"]["num_classes"] == v4_colorizer.binning.num_classes
    with pytest.raises(ValueError, match="above the limit"):
        release.card(v4_colorizer.model, encoder_colorizer.BUILDER, args, 32, settings, (1.0, 5.0), "abc",
                     {"rows": ["x" * 100] * 50}, "r")


def test_size_buckets():
    assert [release.size_bucket(np.zeros((h, w, 3))) for h, w in ((64, 64), (99, 300), (100, 120), (159, 400),
                                                                  (160, 160), (2000, 3000))] == [
        "under 100 px", "under 100 px", "100-159 px", "100-159 px", "160 px and up", "160 px and up"]


def test_models_compare_at_equal_colorfulness_by_the_best_psnr_at_least_that_colorful():
    rows = [{"psnr": 22.9, "colorfulness": 31.0}, {"psnr": 23.5, "colorfulness": 20.0},
            {"psnr": 23.8, "colorfulness": 22.0}, {"psnr": 24.0, "colorfulness": 12.0}]
    table = release.best_psnr_by_colorfulness(rows, levels=(10, 21, 25, 35))
    assert [row["psnr"] for row in table] == [24.0, 23.8, 22.9, None]
    assert table[1]["colorfulness"] == 22.0 and table[3]["colorfulness"] is None


def test_the_ablation_tables_put_each_arm_beside_the_baselines_and_at_equal_colorfulness(tmp_path):
    import json

    means = [{"model": name, "psnr": psnr, "auc": 0.89, "colorfulness": cf, "truth_colorfulness": 36.0, "photos": 2}
             for name, psnr, cf in (("gray", 23.0, 0.1), ("mean_color", 22.9, 7.0), ("frozen", 23.3, 30.0))]
    (tmp_path / "ablation.json").write_text(json.dumps({
        "arms": {"frozen": {"training": {"blocks": 3, "images": 900, "minutes": 1.5, "images_per_second": 10.0,
                                         "kept_val_loss": 3.1}}},
        "scores": {"means": means}}))
    (tmp_path / "frozen").mkdir()
    (tmp_path / "frozen" / "validation_probe.json").write_text(json.dumps({"calibration": {"candidates": [
        {"psnr": 23.9, "colorfulness": 16.0}, {"psnr": 23.4, "colorfulness": 28.0}]}}))
    scores, equal = release.ablation_tables(tmp_path / "ablation.json")
    assert [row["model"] for row in scores] == ["gray", "mean_color", "frozen"]
    assert scores[2]["blocks"] == 3 and scores[2]["psnr"] == 23.3 and scores[0]["blocks"] == ""
    assert equal[0]["model"] == "frozen" and equal[0]["colorfulness >= 15"] == 23.9
    assert equal[0]["colorfulness >= 27"] == 23.4 and equal[0]["colorfulness >= 30"] is None
