"""Paper-profile training of notebook 03's models on a GPU host, timing every epoch (JAX or TensorFlow).

    KERAS_BACKEND=jax python benchmarks/paper_profile_gpu.py --data-dir DIR --epochs 200 --out OUT

Loads the paper's sizes (10,000 / 1,000 / 1,000 Tiny ImageNet images) from DIR (a folder holding
tiny-imagenet-200/), trains the L2, L2 + dropout, smooth L1 and cross-entropy CNNs at the paper profile's
width and batch 250, and writes under OUT: per model a history with seconds per epoch, Table 1 with the
gray and mean-color baselines, and a metrics record with profile, data, sizes, seed and commit.
On a non-TensorFlow backend the data goes through numpy arrays (no tf.data), as Experiment does.
`--budget-s` stops starting new models once the time is spent, so a lease is never overrun.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="folder holding tiny-imagenet-200/")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--models", nargs="*", default=None, help="subset of l2_dropout smooth_l1 l2 cross_entropy")
    parser.add_argument("--out", default=os.environ.get("OUT", "results/paper-gpu"), help="results folder")
    parser.add_argument("--sizes", type=int, nargs=3, default=None, help="train val test (default: the paper's)")
    parser.add_argument("--budget-s", type=float, default=float("inf"), help="start no new model after this")
    args = parser.parse_args()

    import keras

    from colorize_utils import data as data_lib
    from colorize_utils.experiment import LOSS_COMPARISON, Experiment
    from colorize_utils.reporting import start_notebook

    started = time.time()
    run = start_notebook("03_loss_comparison", "paper", "tiny-imagenet", args.sizes, results_dir=args.out)
    loaded = data_lib.load_splits("tiny-imagenet", run.sizes, run.profile.image_size, run.seed,
                                  root=args.data_dir, download=False)
    print(loaded.report.summary(), flush=True)
    run.writer.context["data"] = loaded.report.to_dict()
    run.writer.context["backend"] = keras.backend.backend()
    experiment = Experiment(run, loaded, epochs=args.epochs)
    for spec in LOSS_COMPARISON:
        if args.models and spec.name not in args.models:
            continue
        if time.time() - started > args.budget_s:
            print(f"budget spent: {spec.name} not started", flush=True)
            break
        result = experiment.train(spec)
        print(f"{spec.name}: {result.mean_seconds_per_epoch:.2f} s/epoch over {len(result.seconds_per_epoch)} "
              f"epochs; best val loss {min(result.history['val_loss']):.4g}", flush=True)
    rows = experiment.closeness_table()
    run.writer.save_table(rows, "table1_closeness")
    timing = experiment.timing_rows()
    run.writer.save_table(timing, "loss_comparison_timing")
    run.writer.record(table1=rows, timing=timing, epochs=args.epochs)
    print(run.writer.write_metrics())
    for row in rows:
        print(row, flush=True)


if __name__ == "__main__":
    main()
