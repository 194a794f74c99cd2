"""The fully convolutional colorizer on this machine: training images/s per width, and colorizing photos.

    python benchmarks/bench_colorizer.py [--widths 8 16 24 32] [--model PATH] [--no-training]
                                         [--out results/benchmarks/colorizer.json]

1. Training throughput (images/s) of `networks.build_colorizer` at each width, with the shipped model's recipe
   (joint bins, soft-encoded rebalanced cross-entropy, batch 128, random 56x56 crops), measured after a
   warm-up in one process, so the widths compare as ratios on the same machine.
2. `colorize()` on a 1024x768 photo after the model is loaded (read L, predict, upsample, recombine), as
   seconds, seconds per megapixel and a ratio to `skimage.color.rgb2lab` on the same photo, with the model
   card's defaults (working size, guided filter) and with the bilinear stretch, for the edge-aware step's cost.
3. The command line on a folder of 64 Tiny-ImageNet-sized (64x64) images: images/s, model load included; and on
   one 1024x768 photo from a fresh process (the cold start a new user sees), three times.
4. The command line's peak resident memory on a 6000x4000 photo, and the model file's size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def training_throughput(widths: list[int], batch_size: int, steps: int) -> list[dict]:
    """Images/s of one fit() of `steps` steps per width, after a warm-up fit."""
    import keras

    from colorize_utils.runtime import networks
    from colorize_utils.learning import pipeline
    from colorize_utils.binning import JointBins
    from colorize_utils.learning.losses import colorizer_loss

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (1024, 64, 64, 3), dtype=np.uint8)
    bins = JointBins.from_pixels(rng.normal(0, 25, (200_000, 2)))
    rows = []
    for width in widths:
        networks.set_seed(0)
        model = networks.build_colorizer(width, "classification", 1, bins.num_classes)
        model.compile(keras.optimizers.Adam(1e-3), loss=colorizer_loss(bins, 0.5))
        data = pipeline.make_colorizer_dataset(images, batch_size, 56, augment=True)
        model.fit(data, steps_per_epoch=3, epochs=1, verbose=0)  # compile and warm up
        started = time.perf_counter()
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
        seconds = time.perf_counter() - started
        rows.append({"width": width, "parameters": int(model.count_params()), "batch_size": batch_size,
                     "images_per_second": steps * batch_size / seconds})
        print(f"width {width:>2}: {model.count_params():>9,} parameters, {rows[-1]['images_per_second']:.1f} images/s",
              flush=True)
    return rows


def photo_timing(repeats: int = 5, model: str | None = None) -> dict:
    """colorize() on a 1024x768 photo (card defaults, and bilinear) against skimage's rgb2lab on it."""
    import skimage.color
    import skimage.data
    from PIL import Image

    from colorize_utils.runtime import inference

    photo = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((1024, 768), Image.BILINEAR))
    colorizer = inference.resolve_colorizer(model)
    inference.colorize(photo, colorizer)  # load the model and warm up
    inference.colorize(photo, colorizer, guided_filter=False)
    colorize_times, bilinear_times, rgb2lab_times = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        inference.colorize(photo, colorizer)
        colorize_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        inference.colorize(photo, colorizer, guided_filter=False)
        bilinear_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        skimage.color.rgb2lab(photo)
        rgb2lab_times.append(time.perf_counter() - started)
    seconds = float(np.median(colorize_times))
    return {"photo": "1024x768", "model": str(colorizer.path), "settings": str(colorizer.settings()),
            "colorize_seconds": seconds, "seconds_per_megapixel": seconds / (1024 * 768 / 1e6),
            "bilinear_seconds": float(np.median(bilinear_times)),
            "rgb2lab_seconds": float(np.median(rgb2lab_times)),
            "ratio_to_rgb2lab": seconds / float(np.median(rgb2lab_times))}


def command_line(folder_count: int = 64, model: str | None = None) -> dict:
    """The command line's throughput on small images and its peak memory on a 6000x4000 photo."""
    import skimage.data
    from PIL import Image

    results = {}
    chosen = ["--model", model] if model else []
    with tempfile.TemporaryDirectory() as work:
        small = Path(work, "small")
        small.mkdir()
        photo = skimage.data.coffee()
        rng = np.random.default_rng(0)
        for index in range(folder_count):
            top, left = rng.integers(0, photo.shape[0] - 128), rng.integers(0, photo.shape[1] - 128)
            crop = Image.fromarray(photo[top:top + 128, left:left + 128]).resize((64, 64))
            crop.save(small / f"{index:03d}.jpg", quality=90)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "colorize_utils", "colorize", str(small), "--out",
                        str(Path(work, "out_small")), "--no-progress", *chosen], check=True, capture_output=True)
        seconds = time.perf_counter() - started
        results["folder_of_64x64"] = {"images": folder_count, "seconds": seconds,
                                      "images_per_second": folder_count / seconds}
        # A new user's first call: one 1024x768 photo, a fresh process (imports and model load included).
        one = Path(work, "one.jpg")
        Image.fromarray(photo).resize((1024, 768), Image.BILINEAR).save(one, quality=90)
        cold = []
        for attempt in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "colorize_utils", "colorize", str(one), "--out",
                            str(Path(work, f"out_one_{attempt}")), "--no-progress", *chosen], check=True,
                           capture_output=True)
            cold.append(time.perf_counter() - started)
        results["one_photo_cold"] = {"photo": "1024x768", "runs": cold, "median_seconds": float(np.median(cold))}
        big = Path(work, "big.jpg")
        Image.fromarray(skimage.data.astronaut()).resize((6000, 4000), Image.BILINEAR).save(big, quality=90)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "colorize_utils", "colorize", str(big), "--out",
                        str(Path(work, "out_big")), "--no-progress", *chosen], check=True, capture_output=True)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        results["photo_6000x4000"] = {"seconds": time.perf_counter() - started,
                                      "peak_resident_mib": peak_kib / 1024.0,
                                      "note": "largest resident set of the command-line processes (ru_maxrss)"}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", type=int, nargs="*", default=[8, 16, 24, 32])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--model", default=None, help="a .keras colorizer (default: the shipped one)")
    parser.add_argument("--no-training", action="store_true", help="only the colorizing measurements")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "results" / "benchmarks"
                                              / "colorizer.json"))
    args = parser.parse_args()
    from colorize_utils.learning import reporting

    record = {} if args.no_training else {"training": training_throughput(args.widths, args.batch_size, args.steps)}
    from colorize_utils.runtime import inference

    model_path = Path(args.model) if args.model else inference.DEFAULT_MODEL
    record["model_file_mib"] = model_path.stat().st_size / 2**20
    record["colorize_photo"] = photo_timing(model=args.model)
    print(json.dumps(record["colorize_photo"], indent=1), flush=True)
    record["command_line"] = command_line(model=args.model)
    print(json.dumps(record["command_line"], indent=1), flush=True)
    out = reporting.write_benchmark_record(args.out, **record)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
