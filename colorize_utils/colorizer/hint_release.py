"""Scoring and releasing the hint colorizer (issue "Color hints").

- `hint_curve()`: PSNR against the number of points revealed from the ground truth (POINT_COUNTS), the same
  random points (seeded per photo and count) for every method: the hint model, the automatic model (the same
  at every count) and a baseline without a network, the points spread edge-aware over L (`propagate_hints`,
  normalized convolution with OpenCV's guided filter), with paired bootstrap intervals.
- `automatic_check()`: with no hints, the hint model against the automatic one on the photo test split
  (release.score_split); NOT_WORSE_RULE decides whether it may replace it as the default.
- `hint_figure()`: test photos with 0, 3 and 10 revealed points beside the truth.
- `choose_blend()`: how the results mix in the propagation baseline, and how local one click stays (the gate),
  chosen on validation photos by BLEND_RULE; the same test photos as the curve then get the targeted-click
  check (colorizer.hint_clicks: one click on one object, its reach inside and its leak outside) and its figure.
- `main()`: `python -m colorize_utils.colorizer.hint_release RUN_DIR` runs all of it, writes RUN_DIR/hint_record.json
  and the figure, and exports the model as the shipped hint colorizer when it passes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from colorize_utils import config as project_config
from colorize_utils import metrics
from colorize_utils.files import atomic_path, git_commit, json_safe
from colorize_utils.runtime import hints as hint_points
from colorize_utils.runtime import inference
from colorize_utils.runtime.encoder_colorizer import HINT_SCALES, takes_hints
from colorize_utils.colorizer import hint_clicks
from colorize_utils.colorizer.shipped_model import RUN_FILES, write_card

POINT_COUNTS = (0, 1, 2, 5, 10, 20, 50, 100)
CURVE_PHOTOS = 250  # photo test split photos on the curve, spread evenly over its sources: 8 counts x 3 methods
POINT_SEED = 2017
# The propagation baseline's guided filter: radius as a share of the image's longer side, and eps on (L/100)^2.
# Chosen on 100 validation photos (spread over the sources) at 10 points (`choose_propagation`), never on test photos.
PROPAGATION_GRID = {"radius_share": (0.03, 0.06, 0.12, 0.25), "eps": (1e-4, 1e-3, 1e-2)}
NOT_WORSE_RULE = ("The hint model may replace the automatic one as the default only if, with no hints, it is not "
                  "significantly worse on the photo test split (PSNR and AuC, paired bootstrap over photos, 95%); "
                  "otherwise it ships as a separate file (inference.DEFAULT_HINT_MODEL) and the automatic model "
                  "stays the default.")
# The hint colorizer's result mixed with the propagation baseline's (inference.blend_with_propagation): the weight
# of the baseline and the radius of the locality gate (a share of the longer side; None: no gate), chosen on the
# same 100 validation photos by BLEND_RULE. (0, None) is the network alone.
BLEND_WEIGHTS = (0.0, 0.3, 0.5, 0.7)
BLEND_GATES = (None, 0.25, 0.35, 0.5)
BLEND_COUNTS = (1, 2, 5, 10, 20)
LEAK_SHARE = 0.5
BLEND_RULE = (
    "Written in session 11, before any test photo was scored with a gate. On the 100 validation photos: every "
    "(weight, gate) of BLEND_WEIGHTS x BLEND_GATES is scored by its mean PSNR over BLEND_COUNTS random revealed "
    "points and by the targeted-click check (colorizer.hint_clicks: one recolor click on one object, the mean ab "
    f"change outside it). A setting is eligible when that leak is at most {LEAK_SHARE} x the network alone's (one "
    "click should change its object, not the photo); the eligible setting with the best mean PSNR wins (none "
    "eligible: the one with the least leak). Session 10's blend (weight 0.5, no gate) had been chosen on PSNR "
    "alone and tinted the whole photo at one click.")
# Session 13, before the curve with it was scored (a design choice, not tuned): a gated hint colorizer edits the
# automatic model's result, so that outside a hint's reach the photo stays exactly as colorize() gives it without
# hints, and with no hints the result is the automatic one. Session 11's gate edited the hint model's own no-hint
# result, which is below the automatic model's (its no-hints check).
GATE_BASE = "automatic"
TARGETS = ("at 10 points at least 2 dB over the automatic result; significantly better than the propagation "
           "baseline at every count up to 20")


def reveal_points(rgb: np.ndarray, count: int, seed: int) -> list[hint_points.Hint]:
    """`count` pixels at random places (seeded), each with its ground-truth color: what a user who knew the
    photo's colors would click."""
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    ys, xs = rng.integers(0, height, count), rng.integers(0, width, count)
    return [hint_points.Hint(float(x), float(y), tuple(int(c) for c in rgb[y, x])) for x, y in zip(xs, ys)]


def point_seed(photo_index: int, count: int) -> int:
    """The seed of photo `photo_index`'s points at `count`: the same for every method."""
    return POINT_SEED + 1000 * photo_index + count


def propagate_hints(rgb: np.ndarray, hints: list[hint_points.Hint], radius_share: float = 0.12,
                    eps: float = 1e-3) -> np.ndarray:
    """The propagation baseline, no network: `rgb`'s L with the hints' ab spread edge-aware over it
    (runtime.hints.propagate_ab). No hints: gray."""
    lightness = inference.lightness_of(rgb)
    return inference.recombine(lightness, hint_points.propagate_ab(lightness, hints, radius_share, eps))


def colorize_with(model: inference.Colorizer) -> hint_clicks.Method:
    """(rgb, hints) -> colorize(rgb, model, hints=hints): a method for hint_clicks.targeted_check."""
    return lambda rgb, hints: inference.colorize(rgb, model, hints=hints)


def choose_propagation(photos: dict[str, np.ndarray], count: int = 10, log=print) -> dict:
    """The PROPAGATION_GRID setting with the best mean PSNR at `count` points on `photos` (validation photos)."""
    rows = []
    for share in PROPAGATION_GRID["radius_share"]:
        for eps in PROPAGATION_GRID["eps"]:
            values = [metrics.psnr(propagate_hints(rgb, reveal_points(rgb, count, point_seed(i, count)), share,
                                                   eps)[None], rgb[None])[0] for i, rgb in enumerate(photos.values())]
            rows.append({"radius_share": share, "eps": eps, "psnr": float(np.mean(values))})
    best = max(rows, key=lambda row: row["psnr"])
    log(f"propagation baseline: radius {best['radius_share']} x the longer side, eps {best['eps']} "
        f"({best['psnr']:.2f} dB at {count} points on {len(photos)} validation photos)")
    return {"chosen": best, "grid": rows, "photos": len(photos), "points": count}


def with_blend(hint_model: inference.Colorizer, weight: float, propagation: dict,
               gate: float | None = None, base: inference.Colorizer | None = None) -> inference.Colorizer:
    """The hint colorizer whose results mix in the propagation baseline at `weight`, with a locality gate of
    radius `gate` x the longer side (inference.blend_with_propagation; weight 0 and no gate: the network alone).
    `base`: the automatic colorizer whose result the gate edits (GATE_BASE; None: the hint model's own no-hint
    result, as in session 11)."""
    blend = {"weight": float(weight), "radius_share": float(propagation["radius_share"]),
             "eps": float(propagation["eps"])}
    if gate is not None:
        blend["gate"] = {"radius_share": float(gate), "eps": float(propagation["eps"]),
                         **({"base": "automatic"} if base is not None else {})}
    card = {k: v for k, v in hint_model.card.items() if k != "hint_blend"}
    card.update({"hint_blend": blend} if weight or gate is not None else {})
    return inference.Colorizer(hint_model.model, hint_model.binning, hint_model.path, card,
                               automatic=base if gate is not None else None)


def blend_name(weight: float, gate: float | None) -> str:
    """A (weight, gate) setting's name in records: 'weight 0.5, gate 0.25' / 'weight 0.5, no gate'."""
    return f"weight {weight:g}, " + ("no gate" if gate is None else f"gate {gate:g}")


def choose_blend(photos: dict[str, np.ndarray], hint_model: inference.Colorizer, propagation: dict,
                 counts=BLEND_COUNTS, log=print, base: inference.Colorizer | None = None) -> dict:
    """BLEND_RULE on `photos` (validation photos): every (weight, gate) scored by mean PSNR over `counts` random
    points and by the targeted-click check's leak; {'chosen', 'grid', 'clicks', 'photos', 'counts', 'rule'}.
    `base`: the automatic colorizer the gated settings edit (with_blend)."""
    settings = {blend_name(w, g): (w, g) for g in BLEND_GATES for w in BLEND_WEIGHTS}
    models = {name: with_blend(hint_model, w, propagation, g, base) for name, (w, g) in settings.items()}
    values: dict[str, list] = {name: [] for name in settings}
    for index, rgb in enumerate(photos.values()):  # photo and points outside: the settings share the predictions
        for count in counts:
            points = reveal_points(rgb, count, point_seed(index, count))
            for name, model in models.items():
                values[name].append(metrics.psnr(inference.colorize(rgb, model, hints=points)[None], rgb[None])[0])
    network = blend_name(0.0, None)
    clicks = hint_clicks.targeted_check(
        photos, {name: colorize_with(model) for name, model in models.items()}, reference=network, log=log)
    rows = [{"name": name, "weight": w, "gate": g, "psnr": float(np.mean(values[name])),
             **{key: clicks["means"][name][key] for key in ("recolor_leak", "recolor_reach", "truth_leak", "truth_reach")}}
            for name, (w, g) in settings.items()]
    limit = LEAK_SHARE * clicks["means"][network]["recolor_leak"]
    for row in rows:
        row["eligible"] = row["recolor_leak"] <= limit
        log(f"blend {row['name']}: {row['psnr']:.2f} dB over {counts} points; one recolor click: reach "
            f"{row['recolor_reach']:.2f}, leak {row['recolor_leak']:.2f}{'' if row['eligible'] else ' (not eligible)'}")
    eligible = [row for row in rows if row["eligible"]]
    best = max(eligible, key=lambda row: row["psnr"]) if eligible else min(rows, key=lambda row: row["recolor_leak"])
    log(f"blend chosen: {best['name']} (leak limit {limit:.2f})")
    clicks = {k: v for k, v in clicks.items() if k != "per_photo"}
    return {"chosen": best, "grid": rows, "leak_limit": limit, "clicks": clicks, "photos": len(photos),
            "counts": list(counts), "rule": BLEND_RULE}


def hint_curve(photos: dict[str, np.ndarray], hint_model: inference.Colorizer, automatic: inference.Colorizer,
               propagation: dict, train_ab_mean, counts=POINT_COUNTS, log=print) -> dict:
    """Per-photo PSNR of each method at each count, the means (gray and mean color beside them), and paired
    bootstrap intervals of the hint model against the automatic result and the propagation baseline at each count."""
    names = list(photos)

    def psnr_of(outputs):
        return np.array([metrics.psnr(out[None], photos[n][None])[0] for n, out in zip(names, outputs)])

    automatic_psnr = psnr_of(inference.colorize(photos[n], automatic) for n in names)
    baselines = {"gray": psnr_of(propagate_hints(photos[n], []) for n in names),
                 "mean_color": psnr_of(inference.recombine(inference.lightness_of(photos[n]), np.broadcast_to(
                     np.asarray(train_ab_mean, np.float32), photos[n].shape[:2] + (2,))) for n in names)}
    per_count = {}
    started = time.perf_counter()
    for count in counts:
        hinted, propagated = [], []
        for index, name in enumerate(names):
            rgb = photos[name]
            points = reveal_points(rgb, count, point_seed(index, count))
            hinted.append(metrics.psnr(inference.colorize(rgb, hint_model, hints=points)[None], rgb[None])[0])
            propagated.append(metrics.psnr(propagate_hints(rgb, points, propagation["radius_share"],
                                                           propagation["eps"])[None], rgb[None])[0])
        hinted, propagated = np.array(hinted), np.array(propagated)
        row = {"points": count, "hint_model": float(hinted.mean()), "automatic": float(automatic_psnr.mean()),
               "propagation": float(propagated.mean()),
               **{name: float(values.mean()) for name, values in baselines.items()}}
        for reference, values in (("automatic", automatic_psnr), ("propagation", propagated)):
            difference, low, high = metrics.paired_bootstrap(hinted, values, seed=count)
            row[f"vs_{reference}"] = {"difference": difference, "low": low, "high": high,
                                      "verdict": metrics.verdict(low, high, higher_is_better=True)}
        per_count[count] = {"row": row, "hint_model": hinted.tolist(), "propagation": propagated.tolist()}
        log(f"hint curve: {count} points: hint model {row['hint_model']:.2f} dB, automatic {row['automatic']:.2f}, "
            f"propagation {row['propagation']:.2f} ({time.perf_counter() - started:.0f} s)")
    rows = [per_count[c]["row"] for c in counts]
    at_10 = next((r for r in rows if r["points"] == 10), None)
    targets = {
        "ten_points_2db_over_automatic": bool(at_10 and at_10["vs_automatic"]["low"] >= 0
                                              and at_10["vs_automatic"]["difference"] >= 2.0),
        "better_than_propagation_up_to_20": all(r["vs_propagation"]["verdict"] == "better"
                                                for r in rows if r["points"] <= 20)}
    return {"photos": len(names), "names": names, "counts": list(counts), "rows": rows, "targets": targets,
            "automatic_per_photo": automatic_psnr.tolist(),
            "per_photo": {str(c): {k: v for k, v in per_count[c].items() if k != "row"} for c in counts}}


def curve_table(curve: dict) -> list[dict]:
    """The curve as table rows: points, gray, mean color, automatic, propagation, hint model (mean PSNR, dB) and
    the hint model's differences with their 95% intervals and verdicts."""
    rows = []
    for row in curve["rows"]:
        entry = {"points": row["points"], **{k: round(row[k], 2) for k in (
            "gray", "mean_color", "automatic", "propagation", "hint_model")}}
        for reference in ("automatic", "propagation"):
            diff = row[f"vs_{reference}"]
            entry[f"hint - {reference}"] = (f"{diff['difference']:+.2f} [{diff['low']:+.2f}, {diff['high']:+.2f}] "
                                            f"{diff['verdict']}")
        rows.append(entry)
    return rows


def curve_figure(curve: dict):
    """PSNR against revealed points: the hint model and the propagation baseline with 95% intervals of their
    difference from the hint model drawn as bands, the automatic result as a line."""
    import matplotlib.pyplot as plt

    rows = curve["rows"]
    x = [max(r["points"], 0.5) for r in rows]  # 0 points drawn at 0.5 on the log axis
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(x, [r["hint_model"] for r in rows], "o-", label="hint model")
    ax.plot(x, [r["propagation"] for r in rows], "s--", label="guided-filter propagation (no network)")
    ax.plot(x, [r["automatic"] for r in rows], ":", color="gray", label="automatic (no hints)")
    ax.fill_between(x, [r["hint_model"] - (r["vs_propagation"]["difference"] - r["vs_propagation"]["low"])
                        for r in rows],
                    [r["hint_model"] + (r["vs_propagation"]["high"] - r["vs_propagation"]["difference"])
                     for r in rows], alpha=0.15, label="95% interval of the difference")
    ax.set_xscale("log")
    ax.set_xticks(x, [str(r["points"]) for r in rows])
    ax.set_xlabel("points revealed from the ground truth")
    ax.set_ylabel("mean PSNR (dB)")
    ax.set_title(f"{curve['photos']} photos of the test split")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def hint_figure(photos: dict[str, np.ndarray], hint_model: inference.Colorizer, counts=(0, 3, 10), count: int = 6):
    """Gray input | the hint model with 0, 3 and 10 revealed points (marked) | truth, for the first `count`
    photos (one per source in turn, none picked by eye)."""
    from colorize_utils.colorizer.photo_eval import photo_figure

    index = {id(image): i for i, image in enumerate(photos.values())}  # photo_figure passes the arrays themselves

    def with_points(points_count):
        def method(rgb):
            points = reveal_points(rgb, points_count, point_seed(index[id(rgb)], points_count))
            return hint_points.mark_hints(inference.colorize(rgb, hint_model, hints=points), points)
        return method

    return photo_figure(photos, {f"{c} points": with_points(c) for c in counts}, count)


def automatic_check(photos: dict[str, np.ndarray], hint_model: inference.Colorizer,
                    automatic: inference.Colorizer, train_ab_mean, log=print) -> dict:
    """The hint model with no hints against the automatic model on `photos` (release.score_split), and
    whether NOT_WORSE_RULE lets it be the default."""
    from colorize_utils.colorizer import photo_eval, release

    scored = release.score_split(photos, {"hint_model_no_hints": hint_model, "automatic": automatic},
                                 train_ab_mean, log)
    verdicts = photo_eval.verdicts(scored, "hint_model_no_hints", "automatic")
    not_worse = all(verdict != "worse" for verdict in verdicts.values())
    return {"scores": scored, "verdicts": verdicts, "not_worse": not_worse, "rule": NOT_WORSE_RULE}


def hint_card(automatic: inference.Colorizer, curve: dict, check: dict, commit: str, record_path: Path,
              propagation: bool = False, blend: dict | None = None) -> dict:
    """The hint model's card: the automatic model's (builder, decoding defaults, ab mean: it was fine-tuned from
    that model and decodes as it does), with the hint scales (and whether it reads the hints' propagation), its
    curve and the no-hints verdict; `blend`: how much of the propagation baseline its results mix in."""
    return {**{k: v for k, v in automatic.card.items() if k not in ("test_metrics", "record")},
            "version": f"{automatic.card.get('version', 4)}-hints",
            "builder_args": {**automatic.card.get("builder_args", {}), "hint_scales": list(HINT_SCALES),
                             "hint_propagation": bool(propagation)},
            "hint_input": "a / 100, b / 100, mask at the input's size (runtime.hints.hint_planes)",
            **({"hint_blend": blend} if blend else {}),
            "git_commit": commit,
            "test_metrics": {"curve_psnr": {str(r["points"]): round(r["hint_model"], 3) for r in curve["rows"]},
                             "no_hints_not_worse_than_automatic": check["not_worse"]},
            "record": str(record_path)}


def write_run_card(run_dir: str | os.PathLike, hint_model: inference.Colorizer, card: dict) -> None:
    """card.json and bins.calibrated.json (the card's prior correction) into the run folder, so that
    `--model RUN_DIR/model.keras` colorizes with the same settings as the scores."""
    run_dir = Path(run_dir)
    hint_model.binning.save(run_dir / RUN_FILES["calibrated_bins"])
    write_card(run_dir, card)


def export_hint_model(run_dir: str | os.PathLike, card: dict,
                      out_dir: str | os.PathLike = project_config.PRETRAINED_DIR) -> Path:
    """Copy the run's kept hint model and its (calibrated) bins into the package as DEFAULT_HINT_MODEL's files."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    target = out_dir / inference.DEFAULT_HINT_MODEL.name
    bins = next(p for p in (run_dir / RUN_FILES["calibrated_bins"], run_dir / RUN_FILES["bins"]) if p.is_file())
    for source, destination in ((run_dir / RUN_FILES["model"], target), (bins, inference.bins_beside(target))):
        with atomic_path(destination) as partial:
            shutil.copyfile(source, partial)
    write_card(out_dir, card, target.stem + ".card.json")
    return target


def main(argv: list[str] | None = None) -> int:
    """python -m colorize_utils.colorizer.hint_release RUN_DIR --photos DIR [--automatic MODEL] [--blend] [--no-export]"""
    parser = argparse.ArgumentParser(prog="python -m colorize_utils.colorizer.hint_release",
                                     description="Score a hint colorizer (train-colorizer --hint-input) with and "
                                                 "without hints on the photo test split, draw its curve and figure, "
                                                 "and export it as the shipped hint colorizer.")
    parser.add_argument("run_dir")
    parser.add_argument("--photos", required=True, help="the photo folder the run's split was drawn from")
    parser.add_argument("--automatic", default=None, help="the automatic model to compare with (default: shipped)")
    parser.add_argument("--curve-photos", type=int, default=CURVE_PHOTOS)
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--blend", action="store_true",
                        help="choose, on validation photos by BLEND_RULE, how much of the propagation baseline the "
                             "results mix in and how far one click reaches (BLEND_WEIGHTS x BLEND_GATES; weight 0 and "
                             "no gate is the network alone), and score and ship that")
    args = parser.parse_args(argv)
    from colorize_utils.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()  # its start-up lines kept out of the log
    from colorize_utils.colorizer import photo_eval

    started = time.perf_counter()
    run_dir = Path(args.run_dir)
    run_config = json.loads((run_dir / "config.json").read_text())
    automatic = inference.resolve_colorizer(args.automatic)
    hint_model = inference.load_colorizer(run_dir / "model.keras")
    if not takes_hints(hint_model.model):
        print(f"error: {run_dir} holds no hint model (train it with train-colorizer --hint-input).", file=sys.stderr)
        return 2
    # the automatic model's calibrated decoding, which the hint model was fine-tuned from
    settings = dict(automatic.card.get("default_decoding", {}))
    settings.pop("chroma_gain", None)  # the hint network's own colors are not scaled (ColorizeSettings.chroma_gain)
    hint_model = inference.Colorizer(hint_model.model, hint_model.binning.with_prior_correction(
        settings["prior_correction_alpha"]) if settings.get("prior_correction_alpha") is not None else hint_model.binning,
        hint_model.path, {"default_decoding": settings, "input_multiple": automatic.input_multiple})
    photos = photo_eval.split_photos(args.photos, run_config["photo_val_size"], run_config["photo_test_size"],
                                     run_config["seed"], run_config["photo_size"])
    train_mean = np.asarray(automatic.card.get("train_ab_mean", (0.0, 0.0)), np.float32)
    # subsets spread evenly over the split's order, which is by source: every source keeps its share
    validation = photo_eval.calibration_subset(photos["val"], 100)
    propagation = choose_propagation(validation)
    base = automatic if GATE_BASE == "automatic" else None
    blend = choose_blend(validation, hint_model, propagation["chosen"], base=base) if args.blend else None
    if blend is not None:
        hint_model = with_blend(hint_model, blend["chosen"]["weight"], propagation["chosen"], blend["chosen"]["gate"],
                                base)
    test = photos["test"]
    curve = hint_curve(photo_eval.calibration_subset(test, args.curve_photos), hint_model, automatic,
                       propagation["chosen"], train_mean)
    clicks_photos = photo_eval.calibration_subset(test, args.curve_photos)
    click_methods = {"hint colorizer": colorize_with(hint_model),
                     "network alone": colorize_with(with_blend(hint_model, 0.0, propagation["chosen"])),
                     "propagation": lambda rgb, hints: propagate_hints(
                         rgb, hint_points.check_hints(hints, *rgb.shape[:2]), propagation["chosen"]["radius_share"],
                         propagation["chosen"]["eps"])}
    clicks = hint_clicks.targeted_check(clicks_photos, click_methods, reference="network alone")
    record_path = run_dir / "hint_record.json"
    record = {"run": str(run_dir), "curve": curve, "clicks": clicks, "propagation": propagation, "blend": blend,
              "targets": TARGETS, "settings": settings, "gate_base": GATE_BASE if blend is not None else None,
              "git_commit": git_commit()}
    record_path.write_text(json.dumps(json_safe(record), indent=1))  # kept should a later step fail
    check = automatic_check(test, hint_model, automatic, train_mean)
    figures = run_dir / "figures"
    figures.mkdir(exist_ok=True)
    for name, fig in (("hint_curve", curve_figure(curve)), ("hint_photos", hint_figure(test, hint_model)),
                      ("hint_clicks", hint_clicks.click_figure(clicks_photos, {
                          k: click_methods[k] for k in ("hint colorizer", "network alone")}))):
        fig.savefig(figures / f"{name}.png", dpi=110, bbox_inches="tight")
    record.update(automatic_check=check, seconds=time.perf_counter() - started)
    record_path.write_text(json.dumps(json_safe(record), indent=1))
    for row in curve["rows"]:
        print(f"{row['points']:>3} points: hint {row['hint_model']:.2f}  automatic {row['automatic']:.2f}  "
              f"propagation {row['propagation']:.2f}  vs automatic {row['vs_automatic']['difference']:+.2f} "
              f"[{row['vs_automatic']['low']:+.2f}, {row['vs_automatic']['high']:+.2f}]  vs propagation "
              f"{row['vs_propagation']['difference']:+.2f} [{row['vs_propagation']['low']:+.2f}, "
              f"{row['vs_propagation']['high']:+.2f}]")
    for method, row in clicks["means"].items():
        print(f"one click on one object ({clicks['photos']} photos), {method}: recolor reach {row['recolor_reach']:.2f}, "
              f"leak {row['recolor_leak']:.2f}; truthful click: ab error inside {row['truth_error_inside_before']:.1f} "
              f"-> {row['truth_error_inside_after']:.1f}, outside {row['truth_error_outside_before']:.1f} -> "
              f"{row['truth_error_outside_after']:.1f}")
    print(f"targets: {curve['targets']}; with no hints against the automatic model: {check['verdicts']}")
    card = hint_card(automatic, curve, check, record["git_commit"], run_dir / "hint_record.json",
                     run_config.get("hint_propagation", False), hint_model.card.get("hint_blend"))
    write_run_card(run_dir, hint_model, card)
    if not args.no_export:
        print(f"exported to {export_hint_model(run_dir, card)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
