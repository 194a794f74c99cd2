# Run from the repository root: python benchmarks/v4_ablation_report.py [--tiny-cache DIR]
"""Version 4's equal-time ablation, side by side: every arm of results/colorizer/v4_ablation/ that has its
validation probe (benchmarks/v4_validation_probe.py: its own calibration by release.py's grid on validation images)
through colorize() with those settings, with version 3 (the model shipped until session 12), on the same validation images as the
probes (their validation photos spread over the sources and Tiny ImageNet validation images; the arms' probes
must have used the same split and counts), beside gray and
mean color, with paired bootstrap intervals of every arm against every other (release.score_split), and by size
bucket. No test image is scored. Each arm's training (blocks, images, minutes, images/s) is read from its history.

Writes results/colorizer/v4_ablation/ablation.json and prints the table for its README.
"""
import argparse
import json
import subprocess
import time
from pathlib import Path

import numpy as np

from colorize_utils.binning import load_binning
from colorize_utils.colorizer import photo_eval, release
from colorize_utils.learning.reporting import machine_description
from colorize_utils.learning.training import read_history
from colorize_utils.runtime import encoder_colorizer, inference, networks

ABLATION = Path("results/colorizer/v4_ablation")
VERSION_3 = Path("results/colorizer/previous_v3/colorizer.keras")  # shipped until session 12


def arm_colorizer(arm: Path, probe: dict) -> inference.Colorizer:
    """The arm's kept model with the settings its probe calibrated."""
    config = json.loads((arm / "config.json").read_text())
    model = networks.load_model(arm / "model.keras")
    settings = probe["calibration"]["settings"]
    bins = load_binning(arm / "bins.json").with_prior_correction(settings["prior_correction_alpha"],
                                                                 config["rebalance_lambda"], config["soft_sigma"])
    multiple = (encoder_colorizer.INPUT_MULTIPLE if encoder_colorizer.is_encoder_colorizer(model)
                else inference.DEFAULT_INPUT_MULTIPLE)
    return inference.Colorizer(model, bins, arm / "model.keras", {"default_decoding": settings, "input_multiple": multiple})


def training_summary(arm: Path) -> dict:
    """Blocks, images seen, minutes of training and images/s, from the arm's history and config."""
    config = json.loads((arm / "config.json").read_text())
    history = read_history(arm / "history.csv")
    steps = config["steps_per_epoch"] * len(history["val_loss"])
    pattern = config.get("batch_pattern") or "t"
    per_step = np.mean([config["photo_batch_size"] if c == "p" else config["batch_size"] for c in pattern])
    seconds = float(np.sum(history["seconds"]))
    kept = int(np.argmin(history["val_loss"]))
    return {"blocks": len(history["val_loss"]), "steps": steps, "images": int(round(steps * per_step)),
            "minutes": seconds / 60, "images_per_second": steps * per_step / seconds,
            "kept_block": kept + 1, "kept_val_loss": float(history["val_loss"][kept])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny-cache", default=None, help="a run's data cache holding val.npy (default: the first "
                                                           "arm that has one)")
    args = parser.parse_args()
    started = time.time()
    arms = {arm.name: arm for arm in sorted(ABLATION.iterdir()) if (arm / "validation_probe.json").is_file()}
    probes = {name: json.loads((arm / "validation_probe.json").read_text()) for name, arm in arms.items()}
    # the probes' own validation images: the same counts of the same split, or the arms were calibrated apart
    counts = {(probe["validation"]["photos"], probe["validation"]["tiny"]) for probe in probes.values()}
    splits = {tuple(json.loads((arm / "config.json").read_text())[k] for k in (
        "photos_dir", "photo_val_size", "photo_test_size", "seed", "photo_size")) for arm in arms.values()}
    if len(counts) != 1 or len(splits) != 1:
        raise SystemExit(f"the arms' probes used different validation images ({counts}, {splits}): probe them alike")
    args.photos, args.tiny = counts.pop()
    caches = [Path(args.tiny_cache)] if args.tiny_cache else [arm / "data" for arm in arms.values()]
    cache = next(c for c in caches if (c / "val.npy").is_file())
    config = json.loads(next(iter(arms.values())).joinpath("config.json").read_text())
    bars = {probe.get("validation_colorfulness_target", 0.82) for probe in probes.values()}  # session 11's: 0.82
    if len(bars) != 1:
        raise SystemExit(f"the arms were calibrated at different colorfulness bars ({bars}): probe them alike")
    shipped = inference.load_colorizer(VERSION_3)
    train_mean = np.asarray(shipped.card["train_ab_mean"])
    photos = photo_eval.split_photos(config["photos_dir"], config["photo_val_size"], config["photo_test_size"],
                                     config["seed"], config["photo_size"])
    images = dict(photo_eval.calibration_subset(photos["val"], args.photos))
    images.update(photo_eval.as_photos(np.load(cache / "val.npy")[:args.tiny], "tiny_val_"))
    colorizers = {name: arm_colorizer(arm, probes[name]) for name, arm in arms.items()}
    scored = release.score_split(images, {**colorizers, "version 3": shipped}, train_mean)
    training = {name: training_summary(arm) for name, arm in arms.items()}
    record = {"arms": {name: {"training": training[name], "settings": probes[name]["calibration"]["settings"]}
                       for name in arms},
              "validation": {"photos": args.photos, "tiny": args.tiny}, "scores": scored,
              "validation_colorfulness_target": bars.pop(), "reference": str(VERSION_3),
              "seconds": time.time() - started, "machine": machine_description(),
              "git_commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()}
    release.write_record(ABLATION / "ablation.json", record)
    means = {row["model"]: row for row in scored["means"]}
    print("| arm | blocks | images | minutes | images/s | kept val loss | PSNR | AuC | colorfulness |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, row in means.items():
        t = training.get(name)
        run = (f"{t['blocks']} | {t['images']:,} | {t['minutes']:.1f} | {t['images_per_second']:.0f} | "
               f"{t['kept_val_loss']:.4f}") if t else " | | | | "
        print(f"| {name} | {run} | {row['psnr']:.2f} | {row['auc']:.4f} | {row['colorfulness']:.1f} |")
    for row in scored["intervals"]:
        if row["metric"] in ("psnr", "auc") and row["method"] in arms and row["reference"] in (*arms, "version 3"):
            print(f"{row['method']} - {row['reference']} {row['metric']}: {row['difference']:+.4f} "
                  f"[{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}")
    print(f"wrote {ABLATION / 'ablation.json'} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
