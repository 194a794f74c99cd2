"""Scoring on photos (photo_eval, evaluation.photo_table): the rule that picks the defaults, the subset it is
applied on, and gray's better side of the 0 bin edge photo by photo."""

from pathlib import Path

import numpy as np
import pytest

from colorize_utils.runtime import inference
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


def test_small_image_settings_must_not_lose_to_the_shipped_model_on_validation(monkeypatch):
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    truth = {f"p{i}": rng.integers(0, 256, (24, 24, 3)).astype(np.uint8) for i in range(24)}

    def noisy(scale: float, seed: int) -> dict:
        noise = np.random.default_rng(seed)
        return {name: np.clip(rgb + noise.normal(0, scale, rgb.shape), 0, 255).astype(np.uint8)
                for name, rgb in truth.items()}

    class Stub(SimpleNamespace):
        def with_prior_correction(self, alpha, lam=0.5, sigma=5.0):
            return Stub(noise=self.noise + 10 * alpha)  # each alpha a little further from the truth

    monkeypatch.setattr(photo_eval, "colorize_all", lambda photos, colorizer, **settings: noisy(colorizer.noise, 1))
    grid = {"alpha": (0.25, 0.5), "temperature": (0.38,)}
    monkeypatch.setattr(photo_eval, "SMALL_IMAGE_DECODING_GRID", grid)
    mean = np.zeros(2)
    # against a model far from the truth every candidate holds its own: the rule decides as before
    loose = photo_eval.calibrate_small_images(Stub(noise=4.0), truth, mean, 160, previous=Stub(noise=60.0), log=print)
    assert loose["qualified"] and loose["admissible"] and all(row["vs_reference"] for row in loose["candidates"])
    assert photo_eval.small_image_entry(loose, 160)["met_targets"] is True
    assert not photo_eval.keeps_previous_small_path(loose)  # the new weights beat the shipped path: they serve
    # stage 4 tries the mirror average at the winning settings, off and on
    assert [row["mirror_average"] for row in loose["candidates"] if row["stage"] == 4] == [False, True]
    # against a model close to the truth every candidate is worse on PSNR: none is admissible, so the card gets
    # no small_images entry (evaluate_photo_run keeps the main settings)
    strict = photo_eval.calibrate_small_images(Stub(noise=4.0), truth, mean, 160, previous=Stub(noise=0.5), log=print)
    assert not strict["qualified"]
    assert all(row["vs_reference"]["psnr"] == "worse" and not row["qualifies"] for row in strict["candidates"])
    assert strict["rule"] == photo_eval.SMALL_IMAGE_RULE
    assert not strict["admissible"] and photo_eval.small_image_entry(strict, 160) is None
    assert photo_eval.keeps_previous_small_path(strict)  # SMALL_IMAGE_WEIGHTS_RULE: the shipped path stays


def test_small_images_keep_the_shipped_weights_unless_the_new_winner_is_significantly_better():
    def record(psnr, auc):
        return {"admissible": True, "reference": {"score": 0.0, "qualifies": False},
                "candidates": [{"stage": 1, "qualifies": True, "score": 9.0,  # an earlier stage never decides
                                "vs_reference": {"psnr": "better", "auc": "better"}},
                               {"stage": 4, "qualifies": False, "score": 1.0, "vs_reference": {"psnr": psnr, "auc": auc}}]}

    assert not photo_eval.keeps_previous_small_path(record("better", "better"))
    assert photo_eval.keeps_previous_small_path(record("better", "tie"))
    assert photo_eval.keeps_previous_small_path(record("tie", "better"))
    assert photo_eval.keeps_previous_small_path(record("worse", "worse"))
    assert not photo_eval.keeps_previous_small_path({"admissible": True, "candidates": []})  # no shipped model
    # the entry colorizes small images as the shipped model does: its weights file and its small-image settings
    shipped = inference.Colorizer(None, None, None, card={"default_decoding": {
        "decode": "annealed", "temperature": 0.38, "working_size": 160, "prior_correction_alpha": 0.75,
        "small_images": {"prior_correction_alpha": 0.5, "temperature": 0.7, "scale": 1.5, "guided_filter": None}}})
    entry = photo_eval.previous_small_entry(shipped, 128, record("tie", "tie"))
    assert entry == {"prior_correction_alpha": 0.5, "temperature": 0.7, "scale": 1.5, "mirror_average": False,
                     "guided_filter": None, "weights": inference.SMALL_MODEL_FILE, "applies_below_short_side": 128,
                     "met_targets": False, "rule": photo_eval.SMALL_IMAGE_WEIGHTS_RULE}


def test_the_best_admissible_candidate_wins_when_none_meets_the_targets():
    rows = [{"qualifies": False, "admissible": False, "score": 0.9},
            {"qualifies": False, "admissible": True, "score": 0.2},
            {"qualifies": False, "admissible": True, "score": 0.1}]
    assert photo_eval.choose(rows) == (rows[1], False)
    assert photo_eval.choose(rows + [{"qualifies": True, "admissible": True, "score": -1.0}])[0]["score"] == -1.0


@pytest.mark.parametrize("holdout_noise, applies", [(2.0, True), (40.0, False)])
def test_small_image_settings_reach_the_card_only_if_the_holdout_is_not_worse(monkeypatch, holdout_noise, applies):
    rng = np.random.default_rng(1)
    holdout = rng.integers(0, 256, (30, 16, 16, 3)).astype(np.uint8)
    small = {"decode": "annealed", "temperature": 0.5, "working_size": 160, "prior_correction_alpha": 0.5,
             "guided_filter": None, "small_image_scale": 1.5}
    given = []

    def calibrate_small_images(colorizer, *args, previous=None, **kwargs):
        given.append((colorizer, previous))
        return {"settings": small, "admissible": True, "qualified": False, "photos": 4, "candidates": []}

    monkeypatch.setattr(photo_eval, "calibrate_small_images", calibrate_small_images)

    def colorize_all(photos, colorizer, **settings):  # the updated settings: `holdout_noise` off the truth
        noise = holdout_noise if "small_images" in colorizer.card["default_decoding"] else 10.0
        return {name: np.clip(rgb + np.random.default_rng(2).normal(0, noise, rgb.shape), 0, 255).astype(np.uint8)
                for name, rgb in photos.items()}

    monkeypatch.setattr(photo_eval, "colorize_all", colorize_all)
    current = {"decode": "annealed", "temperature": 0.38, "working_size": 160, "prior_correction_alpha": 0.75}
    shipped = inference.Colorizer(None, None, None, card={"default_decoding": current})
    record = photo_eval.update_small_images(shipped, holdout[:4], holdout, np.zeros(2), log=print)
    assert record["applies"] is applies
    # candidates are decoded without the card (its prior correction would replace theirs); the reference has it
    (candidates_from, reference), = given
    assert candidates_from.card == {} and reference is shipped
    verdict = photo_eval.verdicts(record["holdout"], "updated", "current")["psnr"]
    assert verdict == ("better" if applies else "worse")
    if applies:
        assert record["default_decoding"]["small_images"] == {
            "prior_correction_alpha": 0.5, "temperature": 0.5, "scale": 1.5, "guided_filter": None,
            "mirror_average": False, "applies_below_short_side": 160, "met_targets": False}
    else:
        assert record["default_decoding"] == current


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


def test_the_targets_come_first_for_small_images(monkeypatch):
    """A candidate that meets the three targets may be less faithful than a shipped path that does not meet
    them (session 7's SMALL_IMAGE_RULE); it may not lose to a shipped path that meets them too."""
    from types import SimpleNamespace

    labs, truth = chroma_photos()
    vivid_but_off = altered(labs, 0.75, 0.9)  # 0.75 x the truth's colorfulness, hues turned by about 50 degrees
    faint = altered(labs, 0.3, 0.0)  # faithful hues, 0.3 x the colorfulness: nearer the truth, short of 0.6 x
    close = altered(labs, 0.9, 0.0)  # faithful and vivid: meets the targets and beats the candidates

    monkeypatch.setattr(photo_eval, "colorize_all",
                        lambda photos, colorizer, **settings: colorizer.outputs)
    monkeypatch.setattr(photo_eval, "SMALL_IMAGE_DECODING_GRID", {"alpha": (0.5,), "temperature": (0.38,)})

    class Stub(SimpleNamespace):
        def with_prior_correction(self, alpha, lam=0.5, sigma=5.0):
            return self

    mean = np.zeros(2)
    record = photo_eval.calibrate_small_images(Stub(outputs=vivid_but_off), truth, mean, 160,
                                               previous=Stub(outputs=faint), log=print)
    assert not record["reference"]["qualifies"]
    assert all(row["vs_reference"]["psnr"] == "worse" for row in record["candidates"])  # less faithful ...
    assert record["qualified"] and record["admissible"]  # ... but it meets the targets, and the shipped path not
    assert photo_eval.small_image_entry(record, 160)["met_targets"] is True
    assert not photo_eval.keeps_previous_small_path(record)  # the new weights serve small images
    # a shipped path that meets the targets too: the worse candidate is not admissible, the shipped path stays
    record = photo_eval.calibrate_small_images(Stub(outputs=vivid_but_off), truth, mean, 160,
                                               previous=Stub(outputs=close), log=print)
    assert record["reference"]["qualifies"] and not record["admissible"]
    assert photo_eval.small_image_entry(record, 160) is None and photo_eval.keeps_previous_small_path(record)


def test_the_first_small_image_stage_chooses_by_score_alone():
    rows = [{"qualifies": True, "admissible": True, "score": 0.1},
            {"qualifies": False, "admissible": True, "score": 0.4},
            {"qualifies": False, "admissible": False, "score": 0.9}]
    assert photo_eval.choose(rows, by_score=True) == (rows[1], True)
    assert photo_eval.choose(rows) == (rows[0], True)


def test_an_update_that_meets_the_targets_applies_though_less_faithful(monkeypatch):
    """SMALL_IMAGE_UPDATE_RULE (session 7): settings that meet the three targets on the hold-out replace
    current ones that do not, even when less faithful; and the card's other weights keep serving small images."""
    labs, holdout_photos = chroma_photos(40)
    holdout = np.stack(list(holdout_photos.values()))
    outputs = {"updated": altered(labs, 0.75, 0.9), "current": altered(labs, 0.3, 0.0)}
    small = {"decode": "annealed", "temperature": 0.5, "working_size": 160, "prior_correction_alpha": 0.5,
             "guided_filter": None, "small_image_scale": 1.5}
    given = []

    def calibrate_small_images(colorizer, *args, previous=None, **kwargs):
        given.append(colorizer)
        return {"settings": small, "admissible": True, "qualified": True, "photos": 4, "candidates": []}

    monkeypatch.setattr(photo_eval, "calibrate_small_images", calibrate_small_images)

    def colorize_all(photos, colorizer, **settings):
        chosen = "updated" if colorizer.card["default_decoding"]["small_images"].get("scale") == 1.5 else "current"
        return {name: outputs[chosen][f"p{int(name.rsplit('_', 1)[1])}"] for name in photos}

    monkeypatch.setattr(photo_eval, "colorize_all", colorize_all)
    current = {"decode": "annealed", "temperature": 0.38, "working_size": 160, "prior_correction_alpha": 0.75,
               "small_images": {"prior_correction_alpha": 0.75, "temperature": 0.38, "scale": 1.0,
                                "weights": inference.SMALL_MODEL_FILE}}
    shipped = inference.Colorizer(None, None, Path("colorizer.keras"), card={"default_decoding": current})
    other = inference.Colorizer("other weights", None, Path(inference.SMALL_MODEL_FILE), card=shipped.card)
    shipped.variants[("weights", inference.SMALL_MODEL_FILE)] = other
    record = photo_eval.update_small_images(shipped, holdout[:4], holdout, np.zeros(2), log=print)
    assert photo_eval.verdicts(record["holdout"], "updated", "current")["psnr"] == "worse"
    assert record["holdout"]["meets_targets"] == {"updated": True, "current": False}
    assert record["applies"]
    assert given[0].model == "other weights" and given[0].card == {}  # calibrated on the weights that serve them
    assert record["default_decoding"]["small_images"]["weights"] == inference.SMALL_MODEL_FILE


def test_the_enlargement_for_small_images_is_chosen_by_score_not_by_the_targets(monkeypatch):
    """Stage 1 fixes the decoding, so meeting the targets there says little: a faithful enlargement with the
    higher score wins over a vivid one that qualifies, and stage 2 then searches the decoding at that size."""
    labs, truth = chroma_photos()
    by_scale = {1.5: altered(labs, 0.5, 0.0), 2.0: altered(labs, 0.75, 0.9)}  # faithful but short / vivid but off
    monkeypatch.setattr(photo_eval, "colorize_all",
                        lambda photos, colorizer, **settings: by_scale.get(settings["small_image_scale"], truth))
    monkeypatch.setattr(photo_eval, "SMALL_IMAGE_SCALES", (1.5, 2.0))
    monkeypatch.setattr(photo_eval, "SMALL_IMAGE_DECODING_GRID", {"alpha": (0.5,), "temperature": (0.38,)})

    class Stub:
        def with_prior_correction(self, alpha, lam=0.5, sigma=5.0):
            return self

    record = photo_eval.calibrate_small_images(Stub(), truth, np.zeros(2), 160, log=print)
    first = {row["small_image_scale"]: row for row in record["candidates"] if row["stage"] == 1}
    assert first[2.0]["qualifies"] and not first[1.5]["qualifies"] and first[1.5]["score"] > first[2.0]["score"]
    assert {row["small_image_scale"] for row in record["candidates"] if row["stage"] == 2} == {1.5}


def test_validation_keeps_a_margin_on_the_colorfulness_target(monkeypatch):
    gray = row(23.0, 0.90, 0.1)
    on_the_line = row(23.2, 0.905, 18.3)  # 0.61 x the truth's 30: meets the 0.6 x target, not the margin
    assert photo_eval.rule_score(on_the_line, gray)[0]
    assert not photo_eval.rule_score(on_the_line, gray, photo_eval.VALIDATION_COLORFULNESS_SHARE)[0]
    # calibrate() asks the margin of every candidate on validation images
    labs, truth = chroma_photos()
    vivid = altered(labs, 0.9, 0.0)
    monkeypatch.setattr(photo_eval, "colorize_all", lambda photos, colorizer, **settings: vivid)
    monkeypatch.setattr(photo_eval, "SMALL_IMAGE_DECODING_GRID", {"alpha": (0.5,), "temperature": (0.38,)})

    class Stub:
        def with_prior_correction(self, alpha, lam=0.5, sigma=5.0):
            return self

    assert photo_eval.calibrate_small_images(Stub(), truth, np.zeros(2), 160, log=print)["qualified"]
    monkeypatch.setattr(photo_eval, "VALIDATION_COLORFULNESS_SHARE", 2.0)  # more than the truth's: none can
    assert not photo_eval.calibrate_small_images(Stub(), truth, np.zeros(2), 160, log=print)["qualified"]
