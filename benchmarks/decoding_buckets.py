# Run from the repository root:
#   python benchmarks/decoding_buckets.py TINY_VAL_NPY [PHOTOS TINY] [--model PATH] [--out JSON]
#       [--decodings "192,2,0.5,0,1;160,1.5,0.5,1,1.1"]
"""A few whole decodings of one network, by size bucket, each against the first with a paired interval.

On validation images only.

A decoding is working size, enlargement of images below it, prior correction alpha, mirror average (0/1) and chroma
gain (temperature 0.38), scored through colorize()'s steps by release.grid_scores, the calibration's own scorer.
Images as in benchmarks/probe_setup.py (default 200 validation photos and 200 Tiny validation images; the
calibration's 500 + 500 with PHOTOS TINY = 500 500). Prints and writes, for each bucket (release.SIZE_BUCKETS, the
photos, all images), gray, mean color and every decoding's mean PSNR, AuC and colorfulness share of the truth's,
and each decoding's PSNR minus the first's (95% paired bootstrap over images). Default decodings: the shipped
card's; the more colorful candidate of session 14's calibration record that session 16 noted; working size 192
with alpha 0.75 and gain 1.3; session 14's gain decoding; the candidate at working size 192.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from colorize_utils import metrics
from colorize_utils.colorizer import release
from colorize_utils.files import git_commit
from colorize_utils.learning.reporting import machine_description

import probe_setup  # benchmarks/probe_setup.py, beside this script

DECODINGS = "192,2,0.5,0,1;160,1.5,0.5,1,1.1;192,1.5,0.75,0,1.3;160,2,0.5,0,1.1;192,1.5,0.5,1,1.1"
OUT = Path("results/benchmarks/decoding_buckets.json")

started = time.time()
options, colorizer, images = probe_setup.probe_inputs(sys.argv[1:], {"--out": str(OUT), "--decodings": DECODINGS})
decodings = []
for text in options["--decodings"].split(";"):
    size, scale, alpha, mirror, gain = (float(value) for value in text.split(","))
    decodings.append({"working_size": int(size), "small_image_scale": scale, "alpha": alpha, "temperature": 0.38,
                      "mirror_average": bool(mirror), "chroma_gain": gain})
train_ab_mean = np.asarray(colorizer.card["train_ab_mean"], np.float32)
rows, buckets, truth = {}, None, None
for number, decoding in enumerate(decodings):
    scores = release.grid_scores(colorizer, images, train_ab_mean, {key: (value,) for key, value in decoding.items()},
                                 log=lambda *_: None)
    rows[number] = scores["rows"][0]
    rows["gray"], rows["mean color"] = scores["rows"][metrics.GRAY], scores["rows"][metrics.MEAN_COLOR]
    buckets, truth = np.asarray(scores["buckets"]), scores["truth_colorfulness"]
    print(f"decoding {number + 1}/{len(decodings)} scored ({time.time() - started:.0f} s)", flush=True)

masks = {label: buckets == label for label, _, _ in release.SIZE_BUCKETS}
masks["photos"] = buckets != release.SMALL_BUCKET
masks["all"] = np.ones(len(buckets), bool)
table = {}
for label, mask in masks.items():
    if not mask.any():
        continue
    truth_mean = float(truth[mask].mean())
    entry = {"images": int(mask.sum()), "truth_colorfulness": truth_mean}
    print(f"{label}: {entry['images']} images, truth's colorfulness {truth_mean:.1f}")
    for key, values in rows.items():
        name = key if isinstance(key, str) else f"decoding {key + 1}"
        row = {metric: float(array[mask].mean()) for metric, array in values.items()}
        row["colorfulness_share"] = row["colorfulness"] / truth_mean
        line = f"  {name:12s} PSNR {row['psnr']:.3f}  AuC {row['auc']:.4f}  colorfulness {row['colorfulness_share']:.3f} x"
        if isinstance(key, int) and key > 0:
            row["psnr_minus_decoding_1"] = list(metrics.paired_bootstrap(values["psnr"][mask], rows[0]["psnr"][mask]))
            line += "  PSNR - decoding 1: %+.3f [%+.3f, %+.3f]" % tuple(row["psnr_minus_decoding_1"])
        entry[name] = row
        print(line)
    table[label] = entry

out = Path(options["--out"])
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(json.dumps({
    "what": __doc__.strip().splitlines()[0], "model": options["--model"] or "the shipped colorizer",
    "images": {"validation photos": options["photos"], "tiny validation": options["tiny"], "split": probe_setup.PHOTO_SPLIT,
               "tiny_source": sys.argv[1]},
    "decodings": decodings, "buckets": table, "git_commit": git_commit(), "machine": machine_description(),
    "wall_seconds": round(time.time() - started, 1)}, indent=1))
print(f"wrote {out} ({time.time() - started:.0f} s)")
