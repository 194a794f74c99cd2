# Run from the repository root:
#   python benchmarks/tta_probe.py TINY_VAL_NPY [PHOTOS TINY] [--model PATH] [--out JSON]
"""Does averaging the colors of several views (the mirror image, and other working sizes) buy PSNR at equal
colorfulness? On validation images only.

The model (default: the shipped one) runs on PHOTOS validation photos (default 200, every source's share) and the
first TINY Tiny ImageNet validation images (default 200, from TINY_VAL_NPY, a run's data cache) at working sizes
160, 192 and 224 (small images enlarged 2 x), each view also mirrored. Each view is decoded (annealed mean, T 0.38,
prior correction alpha 0.5 or 0.75), brought to full resolution as colorize() does (bilinear), and the views of a
method are averaged; chroma gains 1.0-1.4 then scale the average. Methods: one view at 192 (the shipped
decoding's), its mirror average, the three sizes, and the three sizes with their mirrors. Prints, for photos, Tiny
images and both pooled, each method's best PSNR at each colorfulness share of the truth's. Writes
results/benchmarks/tta_probe.json (or --out).
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

SIZES, ALPHAS, GAINS, TEMPERATURE = (160, 192, 224), (0.5, 0.75), (1.0, 1.1, 1.2, 1.3, 1.4), 0.38
METHODS = {"192": [(192, False)], "192 + mirror": [(192, False), (192, True)],
           "160/192/224": [(size, False) for size in SIZES],
           "160/192/224 + mirrors": [(size, flip) for size in SIZES for flip in (False, True)]}
SHARES = (0.7, 0.75, 0.8, 0.82, 0.85, 0.9)
OUT = Path("results/benchmarks/tta_probe.json")

started = time.time()
options, colorizer, images = probe_setup.probe_inputs(sys.argv[1:], {"--out": str(OUT)})
OUT = Path(options["--out"])
photo_count, tiny_count = options["photos"], options["tiny"]
decoders = {alpha: colorizer.with_prior_correction(alpha, 0.5, 5.0) for alpha in ALPHAS}
rows: dict = {}
truth_colorfulness = []
for number, (name, rgb) in enumerate(images.items()):
    lightness, l_true, truth = release.image_truth(rgb)
    height, width = lightness.shape
    truth_colorfulness.append(truth.mean_colorfulness)
    gray = inference.recombine(lightness, np.zeros((2, 2, 2), np.float32))
    rows.setdefault("gray", []).append(release.quick_scores(gray, l_true, truth))
    outputs = {}
    for size in SIZES:
        small = inference.working_lightness(colorizer, lightness, size, 2.0)[None]
        outputs[size, False] = inference.working_output(colorizer, small)
        outputs[size, True] = inference.working_output(colorizer, small, mirrored_only=True)
    for alpha in ALPHAS:
        full = {view: inference.full_resolution_ab(
                    lightness, inference.decoded_ab(decoders[alpha], output, "annealed", TEMPERATURE)[0], 0, height)
                for view, output in outputs.items()}
        for method, views in METHODS.items():
            mean_ab = np.mean([full[view] for view in views], axis=0)
            for gain in GAINS:
                rgb_out = inference.lab_to_rgb_uint8(lightness, mean_ab * np.float32(gain))
                rows.setdefault((method, alpha, gain), []).append(release.quick_scores(rgb_out, l_true, truth))
    if (number + 1) % 100 == 0:
        print(f"{number + 1}/{len(images)} images ({time.time() - started:.0f} s)", flush=True)

names = list(images)
tiny = np.array([name.startswith("tiny_val_") for name in names])
truth_colorfulness = np.array(truth_colorfulness)
result = {}
for part, mask in {"photos": ~tiny, "tiny": tiny, "pooled": np.ones_like(tiny)}.items():
    truth_mean = float(truth_colorfulness[mask].mean())
    table = []
    for key, scores in rows.items():
        means = {m: float(np.array([row[m] for row in scores])[mask].mean()) for m in ("psnr", "auc", "colorfulness")}
        table.append({"decoding": key if key == "gray" else dict(zip(("method", "alpha", "chroma_gain"), key)),
                      **means, "share": means["colorfulness"] / truth_mean})
    decoded = [row for row in table if row["decoding"] != "gray"]
    frontier = []
    for share in SHARES:
        best = {}
        for method in METHODS:
            vivid = [r for r in decoded if r["decoding"]["method"] == method and r["share"] >= share]
            best[method] = max(vivid, key=lambda r: r["psnr"]) if vivid else None
        frontier.append({"share": share, **best})
        print(part, f"share >= {share}:", "; ".join(
            f"{method}: " + (f"{r['psnr']:.3f} at {r['share']:.3f} (a {r['decoding']['alpha']}, g {r['decoding']['chroma_gain']})"
                             if r else "none") for method, r in best.items()))
    gray_row = next(r for r in table if r["decoding"] == "gray")
    print(part, f"gray {gray_row['psnr']:.3f} dB, truth colorfulness {truth_mean:.1f}")
    result[part] = {"images": int(mask.sum()), "truth_colorfulness": truth_mean, "gray": gray_row, "table": decoded,
                    "frontier": frontier}
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({
    "model": str(colorizer.path), "model_card_version": colorizer.card.get("version"),
    "validation": {"photos": photo_count, "tiny": tiny_count, "split_seed": 42}, "methods": METHODS,
    "temperature": TEMPERATURE, "parts": result, "seconds": time.time() - started,
    "git_commit": git_commit(),
    "machine": machine_description()}, indent=1, default=str))
print(f"wrote {OUT} in {time.time() - started:.0f} s")
