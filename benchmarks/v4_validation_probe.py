# Run from the repository root: python benchmarks/v4_validation_probe.py RUN_DIR [PHOTOS TINY] [--colorfulness-bar X]
"""A version-4 run's kept checkpoint against version 3, on validation images only.

The run is calibrated by release.calibrate (its one grid and rule) on PHOTOS validation photos (default 250) and
TINY Tiny ImageNet validation images (default 250, from the run's data cache); then it and version 3
(VERSION_3: the model shipped until session 12, kept under results/) go through colorize() with their own settings
on those same images, beside gray and mean color, with paired bootstrap intervals, and by size bucket. Both models'
defaults were chosen on validation photos of this split (version 3's on 500 of them), so the comparison favours
neither by much, but it is not a test: no test image is scored.
`--colorfulness-bar X` calibrates at release.VALIDATION_COLORFULNESS_TARGET = X instead of today's (the ablation's
arms 1 and 3 were probed at session 11's 0.82; the record keeps the bar used).
Writes RUN_DIR/validation_probe.json and RUN_DIR/figures/v3_vs_v4_validation_photos.png (12 photos).
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from colorize_utils.binning import load_binning
from colorize_utils.colorizer import photo_eval, release
from colorize_utils.learning.reporting import machine_description
from colorize_utils.learning.training import read_history
from colorize_utils.runtime import encoder_colorizer, inference, networks

VERSION_3 = Path("results/colorizer/previous_v3/colorizer.keras")
started = time.time()
arguments = sys.argv[1:]
if "--colorfulness-bar" in arguments:
    at = arguments.index("--colorfulness-bar")
    release.VALIDATION_COLORFULNESS_TARGET = float(arguments[at + 1])
    del arguments[at:at + 2]
run = Path(arguments[0])
photo_count = int(arguments[1]) if len(arguments) > 1 else 250
tiny_count = int(arguments[2]) if len(arguments) > 2 else 250
config = json.loads((run / "config.json").read_text())
shipped = inference.load_colorizer(VERSION_3)
train_mean = np.asarray(shipped.card["train_ab_mean"])  # the same training pixels (photos + all of Tiny)
photos = photo_eval.split_photos(config["photos_dir"], config["photo_val_size"], config["photo_test_size"],
                                 config["seed"], config["photo_size"])
validation = dict(photo_eval.calibration_subset(photos["val"], photo_count))
validation.update(photo_eval.as_photos(np.load(run / "data" / "val.npy")[:tiny_count], "tiny_val_"))
model = networks.load_model(run / "model.keras")
bins = load_binning(run / "bins.json")
# version 4's encoder needs sides in multiples of 32; version 3's design (the ablation's scratch arm) of 8
multiple = (encoder_colorizer.INPUT_MULTIPLE if encoder_colorizer.is_encoder_colorizer(model)
            else inference.DEFAULT_INPUT_MULTIPLE)
raw = inference.Colorizer(model, bins, run / "model.keras", {"input_multiple": multiple})
calibration = release.calibrate(raw, validation, train_mean, lam=config["rebalance_lambda"],
                                sigma=config["soft_sigma"])
settings = calibration["settings"]
corrected = bins.with_prior_correction(settings["prior_correction_alpha"], config["rebalance_lambda"],
                                       config["soft_sigma"])
v4 = inference.Colorizer(model, corrected, run / "model.keras",
                         {"default_decoding": settings, "input_multiple": multiple})
scored = release.score_split(validation, {"v4": v4, "v3": shipped}, train_mean)
for row in scored["means"]:
    print(row["model"], *(f"{k} {row[k]:.4f}" for k in ("psnr", "auc", "colorfulness", "truth_colorfulness")))
for row in scored["intervals"]:
    if row["metric"] in ("psnr", "auc"):
        print(row["method"], "vs", row["reference"], row["metric"],
              f"{row['difference']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}] {row['verdict']}")
for bucket, part in scored["by_bucket"].items():
    for row in part["means"]:
        print(bucket, part["images"], row["model"], f"PSNR {row['psnr']:.3f} AuC {row['auc']:.4f} "
              f"CF {row['colorfulness']:.1f} / {row['truth_colorfulness']:.1f}")
history = read_history(run / "history.csv")
kept = int(np.argmin(history["val_loss"]))
record = {"run": str(run), "kept_block": kept + 1, "kept_val_loss": history["val_loss"][kept],
          "blocks_run": len(history["val_loss"]), "validation": {"photos": photo_count, "tiny": tiny_count},
          "validation_colorfulness_target": release.VALIDATION_COLORFULNESS_TARGET, "reference": str(VERSION_3),
          "calibration": calibration, "scores": scored, "seconds": time.time() - started,
          "git_commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
          "machine": machine_description()}
release.write_record(run / "validation_probe.json", record)
figure = photo_eval.photo_figure(photos["val"], {"version 3": lambda rgb: inference.colorize(rgb, shipped),
                                                 f"{run.name}": lambda rgb: inference.colorize(rgb, v4)},
                                 count=12, cell_size=2.6)
(run / "figures").mkdir(exist_ok=True)
figure.savefig(run / "figures" / "v3_vs_v4_validation_photos.png", dpi=80, bbox_inches="tight")
print(f"wrote {run / 'validation_probe.json'} in {time.time() - started:.0f} s")
