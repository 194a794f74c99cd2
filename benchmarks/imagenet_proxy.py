# Run from the repository root: python benchmarks/imagenet_proxy.py NAME=MODEL.keras [NAME=MODEL.keras ...]
"""A validation-only stand-in for the maintainers' hidden ImageNet set: how far above gray is each model, and how
colorful, on ImageNet photos it never trained on?

The photo split's validation photos from `imagenette` (ImageNet images, stored as 160 px centre squares) go
through colorize() with each model's own defaults, beside gray and mean color (release.score_split: means and 95%
paired bootstrap intervals over photos). The hidden set is 974 ImageNet validation photos as 256 x 256 centre
crops, where the issue measured version 3 at gray + 0.01 dB and 0.63 x the truth's colorfulness: comparing a
model's margin here with version 3's margin here gives a rough expectation for the hidden set, not a measurement
(other photos, another size). No test photo is used. Writes results/benchmarks/imagenet_proxy.json.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from colorize_utils.colorizer import photo_eval, release
from colorize_utils.files import json_safe
from colorize_utils.learning.reporting import machine_description
from colorize_utils.runtime import inference

import probe_setup  # benchmarks/probe_setup.py, beside this script

OUT = Path("results/benchmarks/imagenet_proxy.json")
SOURCE = "imagenette"
VERSION_3 = "results/colorizer/previous_v3/colorizer.keras"

started = time.time()
models = dict(argument.split("=", 1) for argument in sys.argv[1:]) or {"v3": VERSION_3}
photos = photo_eval.split_photos(**probe_setup.PHOTO_SPLIT)  # every v4 run's split
images = {name: rgb for name, rgb in photos["val"].items() if name.startswith(SOURCE)}
if not images:
    raise SystemExit(f"no validation photo of the source {SOURCE!r}: the names are {list(photos['val'])[:3]} ...")
colorizers = {name: inference.load_colorizer(path) for name, path in models.items()}
train_mean = np.asarray(next(iter(colorizers.values())).card.get("train_ab_mean", (0.0, 0.0)), np.float32)
scored = release.score_split(images, colorizers, train_mean, log=print)
for row in scored["means"]:
    share = row["colorfulness"] / row["truth_colorfulness"]
    print(f"{row['model']:>12}: PSNR {row['psnr']:.3f}  AuC {row['auc']:.4f}  colorfulness {row['colorfulness']:.1f} "
          f"({share:.2f} x the truth's {row['truth_colorfulness']:.1f})")
for row in scored["intervals"]:
    if row["metric"] == "psnr":
        print(f"{row['method']} - {row['reference']}: {row['difference']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}]")
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(json_safe({
    "source": SOURCE, "photos": len(images), "split": {"seed": 42, "val": 1000, "test": 1000},
    "models": models, "scores": scored, "seconds": time.time() - started,
    "git_commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
    "machine": machine_description()}), indent=1))
print(f"wrote {OUT} in {time.time() - started:.0f} s")
