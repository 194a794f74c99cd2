# Run from the repository root:
#   python benchmarks/chroma_gain_probe.py TINY_VAL_NPY [PHOTOS TINY] [--model PATH] [--out JSON]
#       [--sizes 160,192] [--alphas 0,0.25,0.5,0.75,1] [--temperatures 0.38] [--gains 1,1.15,1.3,1.45]
#       [--extra-temperatures 0.3,0.5] [--per-image NPZ]
"""Does scaling the decoded colors up (the chroma gain) reach a colorfulness at a better PSNR than a weaker prior
correction does? On validation images only.

The model (default: the shipped one) decodes PHOTOS validation photos (default 200, every source's share) and the
first TINY Tiny ImageNet validation images (default 200, from TINY_VAL_NPY, a training run's data cache, e.g.
results/colorizer/<run>/data/val.npy) at working sizes 160 and 192 (small images enlarged 2 x), with every prior
correction alpha of 0..1, temperature 0.38 at chroma gains 1..1.45 and temperatures 0.3 and 0.5 at gain 1, through
colorize()'s steps (release.quick_scores). Prints, for photos, Tiny images and both pooled, each decoding's mean
PSNR, AuC and colorfulness share of the truth's, and the best PSNR at each colorfulness share with and without the
gain. Writes results/benchmarks/chroma_gain_probe.json (or --out). `--model`: a .keras file beside its bins.json
(a run's kept checkpoint: its bins carry no prior correction, every alpha is applied here). The grid options take
comma lists: every size x alpha x temperature x gain, plus every size x alpha x extra temperature at gain 1 (the
defaults are session 14's probe). Temperature 1 is the plain mean of the distribution. `--per-image`: also write
every image's PSNR and colorfulness under every decoding to NPZ (for paired intervals between models,
benchmarks/frontier_compare.py).
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
from colorize_utils.runtime import inference

import probe_setup  # benchmarks/probe_setup.py, beside this script

WORKING_SIZES, ALPHAS, GAINS, TEMPERATURES = (160, 192), (0.0, 0.25, 0.5, 0.75, 1.0), (1.0, 1.15, 1.3, 1.45), (0.3, 0.5)
BASELINES = ("gray", "mean color")
SHARES = (0.7, 0.75, 0.8, 0.82, 0.85, 0.9)
OUT = Path("results/benchmarks/chroma_gain_probe.json")

started = time.time()
options, colorizer, images = probe_setup.probe_inputs(sys.argv[1:], {
    "--out": str(OUT), "--sizes": None, "--alphas": None, "--temperatures": None, "--gains": None,
    "--extra-temperatures": None, "--per-image": None})
OUT = Path(options["--out"])
photo_count, tiny_count = options["photos"], options["tiny"]
listed = lambda option, default: default if options[option] is None else tuple(  # noqa: E731
    float(value) for value in options[option].split(",") if value != "")
WORKING_SIZES = tuple(int(size) for size in listed("--sizes", WORKING_SIZES))
ALPHAS, GAINS = listed("--alphas", ALPHAS), listed("--gains", GAINS)
TEMPERATURES = listed("--extra-temperatures", TEMPERATURES)
GAIN_TEMPERATURES = listed("--temperatures", (0.38,))
# The mean-color baseline: the training ab mean the model's card records (the shipped card's when a run has none).
train_ab_mean = np.asarray(colorizer.card.get("train_ab_mean") or inference.default_colorizer().card["train_ab_mean"],
                           np.float32)
decoders = {alpha: colorizer.with_prior_correction(alpha, 0.5, 5.0) for alpha in ALPHAS}
decodings = [(size, alpha, temperature, gain) for size in WORKING_SIZES for alpha in ALPHAS
             for temperature in GAIN_TEMPERATURES for gain in GAINS]
decodings += [(size, alpha, temperature, 1.0) for size in WORKING_SIZES for alpha in ALPHAS for temperature in TEMPERATURES
              if (size, alpha, temperature, 1.0) not in decodings]
rows: dict = {}
truth_colorfulness = []
for number, (name, rgb) in enumerate(images.items()):
    lightness, l_true, truth = release.image_truth(rgb)
    truth_colorfulness.append(truth.mean_colorfulness)
    gray = inference.recombine(lightness, np.zeros((2, 2, 2), np.float32))
    rows.setdefault("gray", []).append(release.quick_scores(gray, l_true, truth))
    mean_color = inference.recombine(lightness, np.broadcast_to(train_ab_mean, (2, 2, 2)).copy())
    rows.setdefault("mean color", []).append(release.quick_scores(mean_color, l_true, truth))
    outputs = {size: inference.working_output(colorizer, inference.working_lightness(colorizer, lightness, size, 2.0)[None])
               for size in WORKING_SIZES}
    decoded = {}  # each (size, alpha, temperature) decoded once; the gains scale it
    for size, alpha, temperature, gain in decodings:
        if (size, alpha, temperature) not in decoded:
            decoded[size, alpha, temperature] = inference.decoded_ab(decoders[alpha], outputs[size], "annealed", temperature)[0]
        ab = decoded[size, alpha, temperature] * np.float32(gain)
        rows.setdefault((size, alpha, temperature, gain), []).append(
            release.quick_scores(inference.recombine(lightness, ab), l_true, truth))
    if (number + 1) % 100 == 0:
        print(f"{number + 1}/{len(images)} images ({time.time() - started:.0f} s)", flush=True)

names = list(images)
tiny = np.array([name.startswith("tiny_val_") for name in names])
truth_colorfulness = np.array(truth_colorfulness)
parts = {"photos": ~tiny, "tiny": tiny, "pooled": np.ones_like(tiny)}
result = {}
for part, mask in parts.items():
    truth_mean = float(truth_colorfulness[mask].mean())
    table = []
    for key, scores in rows.items():
        means = {m: float(np.array([row[m] for row in scores])[mask].mean()) for m in ("psnr", "auc", "colorfulness")}
        entry = {"decoding": key if key in BASELINES else dict(zip(("working_size", "alpha", "temperature", "chroma_gain"), key)),
                 **means, "share": means["colorfulness"] / truth_mean}
        table.append(entry)
    decoded = [row for row in table if row["decoding"] not in BASELINES]
    frontier = []
    for share in SHARES:
        best = {}
        for label, pool in (("gain 1", [r for r in decoded if r["decoding"]["chroma_gain"] == 1.0]), ("any gain", decoded)):
            vivid = [r for r in pool if r["share"] >= share]
            best[label] = max(vivid, key=lambda r: r["psnr"]) if vivid else None
        frontier.append({"share": share, **best})
        print(part, f"share >= {share}:", *(f"{label}: " + (f"{r['psnr']:.3f} dB at {r['share']:.3f} {r['decoding']}" if r else "none")
                                            for label, r in best.items()))
    gray_row = next(r for r in table if r["decoding"] == "gray")
    mean_color_row = next(r for r in table if r["decoding"] == "mean color")
    print(part, f"gray {gray_row['psnr']:.3f} dB, mean color {mean_color_row['psnr']:.3f} dB, truth colorfulness {truth_mean:.1f}")
    result[part] = {"images": int(mask.sum()), "truth_colorfulness": truth_mean, "gray": gray_row,
                    "mean_color": mean_color_row, "table": decoded,
                    "frontier": frontier}
if options["--per-image"]:
    keys = [key for key in rows if key not in BASELINES]
    np.savez_compressed(options["--per-image"], names=np.array(names), tiny=tiny, truth_colorfulness=truth_colorfulness,
                        decodings=np.array(keys, np.float64),
                        gray_psnr=np.array([row["psnr"] for row in rows["gray"]]),
                        mean_color_psnr=np.array([row["psnr"] for row in rows["mean color"]]),
                        psnr=np.array([[row["psnr"] for row in rows[key]] for key in keys]),
                        colorfulness=np.array([[row["colorfulness"] for row in rows[key]] for key in keys]))
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({
    "model": str(colorizer.path), "model_card_version": colorizer.card.get("version"),
    "validation": {"photos": photo_count, "tiny": tiny_count, "split_seed": 42}, "parts": result,
    "seconds": time.time() - started,
    "git_commit": git_commit(),
    "machine": machine_description()}, indent=1))
print(f"wrote {OUT} in {time.time() - started:.0f} s")
