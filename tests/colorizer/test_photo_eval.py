"""Scoring on photos (photo_eval, evaluation.photo_table): the rule that picks the defaults, the subset it is
applied on, and gray's better side of the 0 bin edge photo by photo."""

from pathlib import Path

import numpy as np

from colorize_utils.learning import evaluation
from colorize_utils.colorizer import photo_eval


def row(psnr, auc, colorfulness, truth=30.0):
    return {"psnr": psnr, "auc": auc, "colorfulness": colorfulness, "truth_colorfulness": truth}


def test_the_rule_prefers_a_qualifying_candidate_and_weighs_fidelity_against_vividness():
    gray = row(23.0, 0.90, 0.1)
    faithful_but_faint = row(23.6, 0.905, 12.0)  # PSNR and AuC above gray, but under 0.6 x the truth's colors
    vivid = row(22.9, 0.902, 24.0)  # within 0.3 dB of gray, above its AuC, 0.8 x the truth's colors
    too_lossy = row(22.5, 0.91, 30.0)  # the truth's colorfulness, but 0.5 dB below gray
    rows = [{**candidate, "name": name, **dict(zip(("qualifies", "score"), photo_eval.rule_score(candidate, gray)))}
            for name, candidate in (("faint", faithful_but_faint), ("vivid", vivid), ("lossy", too_lossy))]
    assert [r["qualifies"] for r in rows] == [False, True, False]
    winner, qualified = photo_eval.choose(rows)
    assert winner["name"] == "vivid" and qualified
    # with no qualifying candidate, the best score of all wins, and the caller is told
    winner, qualified = photo_eval.choose([r for r in rows if r["name"] != "vivid"])
    assert not qualified and winner["score"] == max(r["score"] for r in rows if r["name"] != "vivid")


def test_the_calibration_subset_keeps_every_sources_share():
    photos = {f"{source}/{index:03d}.jpg": None for source, count in (("a", 60), ("b", 30), ("c", 10))
              for index in range(count)}
    subset = photo_eval.calibration_subset(photos, 50)
    by_source = {source: sum(name.startswith(source) for name in subset) for source in "abc"}
    assert len(subset) == 50 and by_source == {"a": 30, "b": 15, "c": 5}


def test_gray_is_scored_on_its_better_side_of_the_zero_edge_photo_by_photo():
    # cool neutrals (a and b slightly below 0): ab = -0.001 lands in their bin, ab = 0 does not
    photo = np.full((16, 16, 3), (118, 122, 128), np.uint8)
    photos = {"cool_1": photo, "cool_2": photo.copy()}
    colorized = {"same_as_gray": {name: np.repeat(np.full((16, 16, 1), 122, np.uint8), 3, -1) for name in photos}}
    means, per_photo = evaluation.photo_table(photos, colorized, np.zeros(2))
    gray_mean = next(r for r in means if r["model"] == "gray")
    gray_rows = [r for r in per_photo if r["model"] == "gray"]
    assert gray_mean["accuracy_10_bins"] == 1.0  # below 0: every pixel in the right bin
    assert [r["accuracy_10_bins"] for r in gray_rows] == [1.0, 1.0]  # and so photo by photo


def chroma_photos(count: int = 30, size: int = 12) -> tuple[dict, dict]:
    """Colorful photos (L and ab per photo, ab of one random hue each) and the same as uint8 RGB."""
    from colorize_utils import color

    rng = np.random.default_rng(3)
    labs, photos = {}, {}
    for index in range(count):
        hue = rng.uniform(0, 2 * np.pi)
        lightness = np.full((size, size, 1), 60.0) + rng.normal(0, 3, (size, size, 1))
        ab = np.stack([np.full((size, size), 30 * np.cos(hue)), np.full((size, size), 30 * np.sin(hue))], -1)
        labs[f"p{index}"] = (lightness, ab)
        photos[f"p{index}"] = color.lab_channels_to_rgb_uint8(lightness, ab)
    return labs, photos


def altered(labs: dict, share: float, turn: float) -> dict:
    """Each photo with its chroma scaled by `share` and its hue turned by `turn` radians (L kept)."""
    from colorize_utils import color

    cos, sin = np.cos(turn), np.sin(turn)
    return {name: color.lab_channels_to_rgb_uint8(
        lightness, share * np.stack([ab[..., 0] * cos - ab[..., 1] * sin, ab[..., 0] * sin + ab[..., 1] * cos], -1))
        for name, (lightness, ab) in labs.items()}


def test_validation_keeps_a_margin_on_the_colorfulness_target(monkeypatch):
    gray = row(23.0, 0.90, 0.1)
    on_the_line = row(23.2, 0.905, 18.3)  # 0.61 x the truth's 30: meets the 0.6 x target, not the margin
    assert photo_eval.rule_score(on_the_line, gray)[0]
    assert not photo_eval.rule_score(on_the_line, gray, photo_eval.VALIDATION_COLORFULNESS_SHARE)[0]
    # calibrate() asks the margin of every candidate on validation images
    labs, truth = chroma_photos()
    vivid = altered(labs, 0.9, 0.0)
    monkeypatch.setattr(photo_eval, "colorize_all", lambda photos, colorizer, **settings: vivid)

    class Stub:
        def with_prior_correction(self, alpha, lam=0.5, sigma=5.0):
            return self

    grids = {"working_sizes": (64,), "decoding_grid": {"alpha": (0.5,), "temperature": (0.38,)},
             "upsampling_grid": (None,)}
    record = photo_eval.calibrate(Stub(), truth, np.zeros(2), **grids, log=print)
    assert record["qualified"]
    # one calibration, four stages: stage 4 tries the mirror average at the winning settings, off and on
    assert [row["stage"] for row in record["candidates"]] == [1, 2, 3, 4, 4]
    assert [row["mirror_average"] for row in record["candidates"] if row["stage"] == 4] == [False, True]
    monkeypatch.setattr(photo_eval, "VALIDATION_COLORFULNESS_SHARE", 2.0)  # more than the truth's: none can
    assert not photo_eval.calibrate(Stub(), truth, np.zeros(2), **grids, log=print)["qualified"]


def test_a_photo_run_is_calibrated_once_and_its_settings_serve_every_image_size(monkeypatch):
    """Version 3's design is calibrated on the validation photos only: no second, small-image calibration, and
    the card's settings have no `small_images` block (removed in session 12)."""
    from types import SimpleNamespace

    labs, truth = chroma_photos(12)
    names = list(truth)
    photos = {"val": {name: truth[name] for name in names[:6]}, "test": {name: truth[name] for name in names[6:]}}
    holdout = np.stack([truth[name] for name in names[:4]])
    settings = {"decode": "annealed", "temperature": 0.38, "working_size": 64, "prior_correction_alpha": 0.5,
                "guided_filter": None, "mirror_average": False}
    calibrated_on = []

    def calibrate(colorizer, photo_set, *args, **kwargs):
        calibrated_on.append(sorted(photo_set))
        return {"settings": dict(settings), "rule": photo_eval.CALIBRATION_RULE, "qualified": True,
                "photos": len(photo_set), "candidates": []}

    monkeypatch.setattr(photo_eval, "calibrate", calibrate)
    monkeypatch.setattr(photo_eval, "colorize_all", lambda photo_set, colorizer, **kwargs: dict(photo_set))
    bins = SimpleNamespace(with_prior_correction=lambda alpha, lam, sigma: ("bins corrected at", alpha))
    record = photo_eval.evaluate_photo_run(None, bins, Path("run/model.keras"), photos, holdout, np.zeros(2),
                                           0.5, 5.0, previous=None, log=print)
    assert calibrated_on == [sorted(photos["val"])]  # once, on the validation photos
    assert record["colorizer"].card == {"default_decoding": settings}
    assert record["bins"] == ("bins corrected at", 0.5)
    assert set(record) == {"calibration", "photo_test", "holdout", "ships", "ship_rule", "bins", "colorizer"}
    assert record["ships"] and record["holdout"]["images"] == 4
