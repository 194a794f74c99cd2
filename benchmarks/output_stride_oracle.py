# Run from the repository root:
#   python benchmarks/output_stride_oracle.py [PHOTOS] [--out JSON]
"""Would predicting finer than 1/4 of the working resolution pay? A ceiling, on validation photos only.

For PHOTOS validation photos (default 200, every source's share), the truth's own ab is reduced (area average) to
the grid the shipped model predicts on (its working size, output stride 4) and to a grid twice as fine (stride 2),
then brought back to full size as colorize() does (bilinear, gamut fit): the PSNR those reach is what the output
grid alone costs. Beside it the shipped model through colorize(). If the errors add, removing the stride-4 grid's
own error from the model's gives the most a finer output could gain. Writes results/benchmarks/output_stride_oracle.json.
"""
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from colorize_utils import metrics
from colorize_utils.colorizer import photo_eval, release
from colorize_utils.files import git_commit
from colorize_utils.learning.reporting import machine_description
from colorize_utils.runtime import inference

import probe_setup  # benchmarks/probe_setup.py, beside this script

OUT = Path("results/benchmarks/output_stride_oracle.json")
started = time.time()
arguments = sys.argv[1:]
if "--out" in arguments:
    at = arguments.index("--out")
    OUT = Path(arguments[at + 1])
    del arguments[at:at + 2]
count = int(arguments[0]) if arguments else 200
colorizer = inference.default_colorizer()
settings = colorizer.settings()
photos = photo_eval.split_photos(**probe_setup.PHOTO_SPLIT)  # every v4 run's split
scores = {"stride 4 (today)": [], "stride 2": [], "model": []}
for name, rgb in photo_eval.calibration_subset(photos["val"], count).items():
    lightness, l_true, truth = release.image_truth(rgb)
    height, width = inference.working_lightness(colorizer, lightness, settings.working_size, settings.small_image_scale).shape
    for key, stride in (("stride 4 (today)", 4), ("stride 2", 2)):
        grid = cv2.resize(np.asarray(truth.ab[0], np.float32), (width // stride, height // stride), interpolation=cv2.INTER_AREA)
        scores[key].append(float(metrics.psnr(inference.recombine(lightness, grid.astype(np.float32))[None], truth.rgb)[0]))
    scores["model"].append(float(metrics.psnr(inference.colorize(rgb)[None], truth.rgb)[0]))
psnr = {key: np.array(values) for key, values in scores.items()}
mse = {key: 10 ** (-values / 10) for key, values in psnr.items()}  # per image, for pixel values scaled to 0..1


def without(grid_key: str) -> float:
    """Mean PSNR of the model with that grid's own squared error taken away (if the errors add)."""
    return float((-10 * np.log10(np.maximum(mse["model"] - mse[grid_key], 1e-12))).mean())


result = {"photos": count, "split_seed": 42, "working_size": settings.working_size,
          "small_image_scale": settings.small_image_scale,
          "mean_psnr": {key: float(values.mean()) for key, values in psnr.items()},
          "model_without_grid_error": {"stride 4 (today)": without("stride 4 (today)"), "stride 2": without("stride 2")},
          "seconds": time.time() - started,
          "git_commit": git_commit(),
          "machine": machine_description()}
result["most_a_stride_2_output_could_gain_db"] = (result["model_without_grid_error"]["stride 4 (today)"]
                                                  - result["model_without_grid_error"]["stride 2"])
print(json.dumps({k: result[k] for k in ("mean_psnr", "model_without_grid_error", "most_a_stride_2_output_could_gain_db")}, indent=1))
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(result, indent=1))
print(f"wrote {OUT} in {time.time() - started:.0f} s")
