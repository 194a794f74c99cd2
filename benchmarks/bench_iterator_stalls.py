"""Idle stalls in training: tf.data autotuning on (TensorFlow's default) against off (pipeline.finish_dataset).

    COLORIZE_DATA_DIR=../shared/data python benchmarks/bench_iterator_stalls.py [--model ce_50_bins] \
        [--repeats 2]

Trains one of the demo's paper CNNs (`Experiment.train`, the demo profile: 2,000 / 200 images, 4 epochs of 80
steps of 25) once per setting and repeat, alternating, each in a fresh process. A thread in that process
samples its CPU time every 0.25 s. A window in which the process used under a tenth of a core counts as
stalled (whole windows only, so shorter stalls count a little short). Each child checks that its training
data had the setting it asked for, and records which checkout's code it imported. Recorded per run: each
epoch's wall time and CPU time, the stalled seconds, and the history's losses. The losses show whether the
setting changes the numbers; it must not.

Why: Keras deletes the validation iterator after every validation pass, and a finite training dataset's
iterator after every epoch. With autotuning on, deleting it sometimes waits on a tf.data background thread (py-spy:
`RootDataset::Iterator::~Iterator` -> `UnboundedThreadPool::LogicalThreadWrapper::~LogicalThreadWrapper`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.25
STALLED_SHARE = 0.1  # of one core


def one_run(model_name: str, autotune: bool, results_dir: str) -> dict:
    """Train the model once in this process; return the per-epoch times, the stalled seconds and the losses."""
    import threading

    import keras
    import tensorflow as tf

    from colorize_utils.learning import data as data_lib, pipeline
    from colorize_utils.paper.experiment import Experiment, ModelSpec
    from colorize_utils.paper.notebook import start_notebook

    original_make_dataset = pipeline.make_dataset
    autotune_seen = []

    def make_dataset(*args, **kwargs):  # records which setting the training data really had
        dataset = original_make_dataset(*args, **kwargs)
        autotune_seen.append(dataset.options().autotune.enabled is not False)
        return dataset

    pipeline.make_dataset = make_dataset

    if autotune:  # TensorFlow's default, as before pipeline.finish_dataset turned it off
        def finish_with_autotune(dataset):
            return dataset.prefetch(tf.data.AUTOTUNE)
        pipeline.finish_dataset = finish_with_autotune
    num_bins = int(model_name.split("_")[1]) if model_name.startswith("ce_") else 10
    spec = (ModelSpec(model_name, loss="cross_entropy", head="classification", num_bins=num_bins)
            if model_name.startswith("ce_") else ModelSpec(model_name, loss=model_name))
    run = start_notebook("04_bin_sweep", "demo", None, None, None, results_dir)
    data = data_lib.load_splits(run.dataset, run.sizes, run.profile.image_size, run.seed, fallback="samples")
    experiment = Experiment(run, data)

    stalled = [0.0]
    done = threading.Event()

    def sample():
        last = sum(os.times()[:2])
        while not done.wait(SAMPLE_SECONDS):
            now = sum(os.times()[:2])
            if now - last < STALLED_SHARE * SAMPLE_SECONDS:
                stalled[0] += SAMPLE_SECONDS
            last = now

    epochs = []

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = (time.perf_counter(), sum(os.times()[:2]), stalled[0])

        def on_epoch_end(self, epoch, logs=None):
            wall0, cpu0, stalled0 = self.started
            epochs.append({"wall_s": time.perf_counter() - wall0, "cpu_s": sum(os.times()[:2]) - cpu0,
                           "stalled_s": stalled[0] - stalled0})

    original_fit = keras.Model.fit

    def fit(self, *args, callbacks=None, **kwargs):
        return original_fit(self, *args, callbacks=[EpochClock(), *(callbacks or [])], **kwargs)

    keras.Model.fit = fit
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    result = experiment.train(spec)
    seconds = time.perf_counter() - started
    done.set()
    if not autotune_seen or set(autotune_seen) != {autotune}:
        raise RuntimeError(f"asked for autotuning {autotune}, but the pipelines had {autotune_seen}")
    return {"autotune": autotune, "code": pipeline.__file__, "train_seconds": seconds,
            "stalled_seconds": stalled[0], "epochs": epochs,
            "loss": result.history["loss"], "val_loss": result.history["val_loss"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="ce_50_bins",
                        help="ce_<bins>_bins, l2 or smooth_l1 (default: ce_50_bins)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "iterator_stalls.json"))
    parser.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    parser.add_argument("--results-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not re.fullmatch(r"ce_\d+_bins|l2|smooth_l1", args.model):
        parser.error(f"--model must be ce_<bins>_bins, l2 or smooth_l1; got {args.model!r}")
    if args.child:
        print("RESULT " + json.dumps(one_run(args.model, args.child == "on", args.results_dir)))
        return
    from colorize_utils.learning import reporting

    runs = []
    for repeat in range(args.repeats):
        for setting in (("on", "off") if repeat % 2 == 0 else ("off", "on")):  # each setting goes first in turn
            with tempfile.TemporaryDirectory() as folder:
                completed = subprocess.run(
                    [sys.executable, __file__, "--model", args.model, "--child", setting, "--results-dir", folder],
                    capture_output=True, text=True,  # this checkout's code, whatever is installed
                    env={**os.environ, "PYTHONPATH": str(ROOT)})
            lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
            if completed.returncode != 0 or not lines:
                sys.exit(f"the run with autotuning {setting} failed:\n{completed.stderr[-3000:]}")
            run = json.loads(lines[-1][len("RESULT "):])
            runs.append({"repeat": repeat, **run})
            print(f"autotune {setting:>3}: {run['train_seconds']:6.1f} s, stalled {run['stalled_seconds']:5.1f} s, "
                  f"epochs {[round(e['wall_s'], 1) for e in run['epochs']]}", flush=True)

    def total(setting: bool, key: str) -> float:
        return sum(run[key] for run in runs if run["autotune"] == setting)

    same_losses = all(run["loss"] == runs[0]["loss"] and run["val_loss"] == runs[0]["val_loss"] for run in runs)
    summary = {"train_seconds_autotune_on": total(True, "train_seconds"),
               "train_seconds_autotune_off": total(False, "train_seconds"),
               "stalled_seconds_autotune_on": total(True, "stalled_seconds"),
               "stalled_seconds_autotune_off": total(False, "stalled_seconds"),
               "identical_losses": same_losses}
    path = reporting.write_benchmark_record(
        args.out, data_dir=os.environ.get("COLORIZE_DATA_DIR"), profile="demo", model=args.model,
        repeats=args.repeats, sample_seconds=SAMPLE_SECONDS, stalled_below_share_of_a_core=STALLED_SHARE,
        runs=runs, summary=summary)
    print(json.dumps(summary, indent=1))
    print("written to", path)


if __name__ == "__main__":
    main()
