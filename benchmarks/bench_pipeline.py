"""Images/s of the tf.data Lab pipeline against a plain Python loop, on the same files, in one run.

    python benchmarks/bench_pipeline.py [--count 4000] [--batch-size 250] [--out results/benchmarks/pipeline.json]

Both sides do decode -> Lab -> batch for every image. The plain loop uses PIL and
skimage.color.rgb2lab one image at a time; the pipeline is colorize_utils.learning.pipeline.make_dataset
without its cache ("cold": every pass decodes again) and with it ("cached": the uint8 images kept after the
first epoch, as training runs it). Each side runs `--repeats` passes; best and median are printed. The
stages (read, read + decode, batches of cached images; PIL decode, skimage rgb2lab) show where the time goes.
Files: Tiny ImageNet training images from $COLORIZE_DATA_DIR or ../shared/data, else the embedded
sample crops written out as JPEGs to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def find_files(count: int) -> tuple[list[str], str]:
    """Up to `count` real 64x64 JPEG files, and where they came from."""
    from colorize_utils import config
    from colorize_utils.learning import data, sources

    for root in (os.environ.get("COLORIZE_DATA_DIR"), config.PROJECT_ROOT.parent / "shared" / "data"):
        found = sources.find_tiny_imagenet(Path(root)) if root else None
        if found is not None:
            files = sorted(str(p) for p in found.glob("train/*/images/*.JPEG"))
            step = max(1, len(files) // count)
            return files[::step][:count], str(found)
    from PIL import Image

    folder = Path(tempfile.mkdtemp(prefix="bench_samples_"))
    crops = data.load_splits("samples", (count, 0, 0), 64, 0).train.images
    for index, crop in enumerate(crops):
        Image.fromarray(crop).save(folder / f"{index:05d}.jpg", quality=90)
    return sorted(str(p) for p in folder.glob("*.jpg")), f"embedded samples written to {folder}"


def plain_loop(files: list[str], batch_size: int) -> int:
    """decode -> Lab -> batch with PIL and skimage, one image at a time."""
    from PIL import Image
    from skimage.color import rgb2lab

    batch, seen = [], 0
    for path in files:
        with Image.open(path) as image:
            lab = rgb2lab(np.asarray(image.convert("RGB")))
        batch.append(lab)
        if len(batch) == batch_size:
            lab_batch = np.stack(batch)
            lightness, _ab = lab_batch[..., :1], lab_batch[..., 1:]  # the (L, ab) pair a model sees
            seen += len(lightness)
            batch = []
    if batch:
        seen += len(np.stack(batch))
    return seen


def bench_split(files: list[str]):
    """The files as a scanned ImageSplit, as data.load_splits would make it."""
    from colorize_utils import images
    from colorize_utils.learning import data

    scans = [images.scan_image(path) for path in files]
    return data.ImageSplit("bench", ["" for _ in files], paths=files, needs_pil=[s.needs_pil for s in scans],
                           formats=[s.image_format for s in scans], shapes=[s.shape for s in scans])


def passes_per_second(dataset, repeats: int, count_of=lambda element: int(element[0].shape[0])) -> list[float]:
    """Images/s of each of `repeats` full passes over a dataset (after one warm-up element)."""
    for _ in dataset.take(1):  # build, trace and compile the pipeline before timing
        pass
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        seen = sum(count_of(element) for element in dataset)
        rates.append(seen / (time.perf_counter() - started))
    return rates


def tf_pipeline(files: list[str], batch_size: int, repeats: int) -> list[float]:
    """The project's tf.data pipeline over the same files, uncached (cold): images/s of each pass."""
    from colorize_utils.learning import pipeline

    return passes_per_second(pipeline.make_dataset(bench_split(files), 64, batch_size, cache=False), repeats)


def tf_pipeline_cached(files: list[str], batch_size: int, repeats: int) -> list[float]:
    """The pipeline as training runs it (uint8 images cached after the first epoch): the cached passes."""
    from colorize_utils.learning import pipeline

    dataset = pipeline.make_dataset(bench_split(files), 64, batch_size, shuffle=True, cache=True)
    for _ in dataset:  # the first epoch decodes and fills the cache
        pass
    return passes_per_second(dataset, repeats)


def stages(files: list[str], batch_size: int, repeats: int) -> dict[str, float]:
    """Where the time goes: best images/s of each stage alone, in tf.data and in the plain loop."""
    import tensorflow as tf
    from PIL import Image
    from skimage.color import rgb2lab

    from colorize_utils.learning import pipeline

    split = bench_split(files)
    batches = lambda dataset: dataset.batch(batch_size)  # noqa: E731  (count images per batch)
    read_only = tf.data.Dataset.from_tensor_slices(files).map(tf.io.read_file, num_parallel_calls=tf.data.AUTOTUNE)
    decoded = pipeline.rgb_dataset(split, 64)
    cached_uint8 = decoded.cache()
    for _ in cached_uint8:
        pass
    result = {
        "tf_read_files": max(passes_per_second(batches(read_only), repeats, lambda e: int(e.shape[0]))),
        "tf_read_and_decode": max(passes_per_second(batches(decoded), repeats, lambda e: int(e.shape[0]))),
        "tf_cached_uint8_batches_only": max(passes_per_second(batches(cached_uint8), repeats,
                                                              lambda e: int(e.shape[0]))),
    }
    images = [np.asarray(Image.open(path).convert("RGB")) for path in files]
    started = time.perf_counter()
    for path in files:
        with Image.open(path) as image:
            np.asarray(image.convert("RGB"))
    result["plain_pil_decode"] = len(files) / (time.perf_counter() - started)
    started = time.perf_counter()
    for image in images:
        rgb2lab(image)
    result["plain_skimage_rgb2lab"] = len(files) / (time.perf_counter() - started)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=8000)
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "results" / "benchmarks"
                                              / "pipeline.json"))
    args = parser.parse_args()
    files, where = find_files(args.count)
    print(f"{len(files)} files from {where}; {os.cpu_count()} CPU cores")
    plain_rates = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        seen = plain_loop(files, args.batch_size)
        plain_rates.append(seen / (time.perf_counter() - started))
    tf_rates = tf_pipeline(files, args.batch_size, args.repeats)
    cached_rates = tf_pipeline_cached(files, args.batch_size, args.repeats)
    stage_rates = stages(files, args.batch_size, args.repeats)
    for name, rates in (("plain loop (PIL + skimage.rgb2lab)", plain_rates), ("tf.data pipeline, cold", tf_rates),
                        ("tf.data pipeline, cached", cached_rates)):
        print(f"{name:34s}: best {max(rates):7.0f} images/s, median {np.median(rates):7.0f} "
              f"({', '.join(f'{r:.0f}' for r in rates)})")
    print(f"speed-up, best vs best: {max(tf_rates) / max(plain_rates):.1f}x; "
          f"median vs median: {np.median(tf_rates) / np.median(plain_rates):.1f}x; cached, median: "
          f"{np.median(cached_rates) / np.median(plain_rates):.1f}x (goal: 20x)")
    for name, rate in stage_rates.items():
        print(f"  stage {name:30s}: {rate:8.0f} images/s")
    from colorize_utils.learning import reporting

    out = reporting.write_benchmark_record(
        args.out, files=len(files), source=where, batch_size=args.batch_size,
        plain_loop_images_per_second=plain_rates, pipeline_images_per_second=tf_rates,
        speedup_median=float(np.median(tf_rates) / np.median(plain_rates)),
        speedup_best=float(max(tf_rates) / max(plain_rates)),
        cached_pipeline_images_per_second=cached_rates,
        cached_speedup_median=float(np.median(cached_rates) / np.median(plain_rates)),
        stages_best_images_per_second=stage_rates,
        note="cold: every pass decodes the files again; cached: the uint8 images cached as training does, "
             "so a pass is shuffle + batch + Lab conversion")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
