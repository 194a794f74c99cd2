"""Images/s of the colorizer's numpy batch generator (the data path of JAX and other backends without tf.data),
by the number of threads that build batches ahead (`pipeline.numpy_colorizer_batches(workers=...)`), in one run.

    python benchmarks/bench_numpy_batches.py [--count 4000] [--batch-size 250] [--batches 60]

The images are real Tiny ImageNet training images from $COLORIZE_DATA_DIR or ../shared/data (else the embedded
samples), held in memory as training holds them; the recipe is training's: random 56 x 56 crops and flips, Lab,
the 1/4-resolution target. On a GPU host this generator feeds the accelerator, so its speed bounds the
fully convolutional models' training there.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def images_per_second(images, batch_size: int, batches: int, workers: int) -> float:
    """One timed run of `batches` batches."""
    from colorize_utils.learning.pipeline import numpy_colorizer_batches

    # Timed from the start, thread start-up included (a warm-up batch would let the threads build ahead untimed).
    stream = numpy_colorizer_batches(images, batch_size, 56, True, 0, True, 4, workers=workers)
    started = time.perf_counter()
    for _ in itertools.islice(stream, batches):
        pass
    seconds = time.perf_counter() - started
    stream.close()
    return batches * batch_size / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "results" / "benchmarks"
                                              / "numpy_colorizer_batches.json"))
    args = parser.parse_args()
    from colorize_utils import config
    from colorize_utils.learning import data, pipeline, reporting

    root = os.environ.get("COLORIZE_DATA_DIR") or str(config.PROJECT_ROOT.parent / "shared" / "data")
    splits = data.load_splits("auto", (args.count, 0, 0), 64, 0, root=root, download=False, fallback="samples")
    images = splits.train.rgb(64)
    results = {}
    for workers in sorted({0, 1, 2, pipeline.NUMPY_BATCH_WORKERS}):
        runs = [images_per_second(images, args.batch_size, args.batches, workers) for _ in range(args.repeats)]
        results[f"workers_{workers}"] = {"images_per_second_best": max(runs), "runs": runs}
        print(f"workers {workers}: best {max(runs):8.0f} images/s  runs {[round(r) for r in runs]}", flush=True)
    base = results["workers_0"]["images_per_second_best"]
    for row in results.values():
        row["vs_workers_0"] = row["images_per_second_best"] / base
    path = reporting.write_benchmark_record(
        args.out, data=splits.report.summary(), images=len(images), batch_size=args.batch_size, crop=56,
        batches_per_run=args.batches, cpu_count=os.cpu_count(), default_workers=pipeline.NUMPY_BATCH_WORKERS,
        results=results)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
