"""Training throughput of every model, as images/s and as a share of this CPU's measured peak FLOP/s.

    python benchmarks/bench_training.py [--steps 12] [--models ...] [--settings ...] [--out FILE]
                                        [--baseline-root WORKTREE --repeats 2]

For each model (the paper CNN with its regression and its 10-bin classification head, the shipped fully
convolutional colorizer, the cGAN) and each setting below, a fresh Python process builds the model, runs a
few warm-up steps, then times `--steps` training steps on in-memory batches (the input pipeline is measured
by bench_pipeline.py, so it is left out here). Settings that TensorFlow reads at start-up (oneDNN, threads)
need their own process; every setting gets one, so they compare as ratios measured in the same run.

Settings: default (what training uses: XLA where `jit_compile="auto"` picks it), XLA off, XLA on, oneDNN
off, one intra-op thread, batch sizes, mixed precision (`mixed_bfloat16`: this CPU has AMX-BF16), and the
JAX backend when a Python with jax is given (`--jax-python`), and for the paper CNN, predicting at 1/4
resolution (its output layer at 16 x 16, upsampled).

Achieved FLOP/s = images/s x training FLOPs per image, where training FLOPs are 3x the forward pass's
(forward + two backward products), counted by TensorFlow's profiler on the model's graph. Peak FLOP/s is
measured here: a large float32 (and bfloat16) matmul, the best case for this CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from colorize_utils.paper import models as paper_models

ROOT = Path(__file__).resolve().parent.parent
# paper_classification_50bins: notebook 04's largest model (26M weights in its output layer) at the demo's batch.
MODELS = ("paper_regression", "paper_classification", "paper_classification_50bins", "colorizer", "cgan")
SETTINGS = {
    "default": {},
    "xla_off": {"jit": False},
    "xla_on": {"jit": True},
    "onednn_off": {"env": {"TF_ENABLE_ONEDNN_OPTS": "0"}},
    "one_thread": {"threads": 1},
    "batch_32": {"batch": 32},
    "batch_256": {"batch": 256},
    "mixed_bfloat16": {"policy": "mixed_bfloat16"},
    "mixed_bfloat16_batch_256": {"policy": "mixed_bfloat16", "batch": 256},
    # Keras's own Adam (about a dozen element-wise ops per weight) instead of training.adam()'s fused kernel.
    "keras_adam": {"optimizer": "keras"},
    # The paper CNN's fully connected head predicting ab at 16 x 16, bilinearly upsampled to 64 x 64 (the
    # colorizer already predicts at 1/4 resolution, so this setting is for the paper CNN only).
    "quarter_resolution": {"quarter": True, "models": ("paper_regression", "paper_classification",
                                                       "paper_classification_50bins")},
}
DEFAULT_BATCH = {"paper_regression": 128, "paper_classification": 128, "paper_classification_50bins": 25,
                 "colorizer": 128, "cgan": 64}


def quarter_resolution_head(model, head: str, num_bins: int = 10):
    """The paper CNN with its output layer replaced: ab (or bin logits) at 16 x 16, upsampled x4 bilinearly."""
    import keras
    from keras import layers

    features = model.get_layer("fc_bn").output
    channels = 2 if head == "regression" else 2 * num_bins
    x = layers.Dense(16 * 16 * channels, name="quarter_fc")(features)
    x = layers.Reshape((16, 16, channels))(x)
    x = layers.UpSampling2D(4, interpolation="bilinear")(x)
    if head == "classification":
        x = layers.Reshape((64, 64, 2, num_bins))(x)
    else:
        x = layers.Rescaling(100.0)(x)
    return keras.Model(model.input, x, name=f"{model.name}_quarter")


def build(model_name: str, batch: int, quarter: bool = False, optimizer: str = "training"):
    """(keras model compiled for training, x, y, forward FLOPs per image) for one benchmark model, with the
    optimizer training uses (training.adam) or, with optimizer="keras", keras.optimizers.Adam."""
    import keras
    import numpy as np

    from colorize_utils.runtime import networks
    from colorize_utils.learning import losses, training
    from colorize_utils.paper import gan
    from colorize_utils.binning import JointBins

    # the shipped model's loss: in losses since the structure pass, in colorizer in a --baseline-root before it
    colorizer_loss = losses.colorizer_loss

    def adam(learning_rate, **kwargs):
        return (keras.optimizers.Adam(learning_rate, **kwargs) if optimizer == "keras"
                else training.adam(learning_rate, **kwargs))

    rng = np.random.default_rng(0)
    networks.set_seed(0)
    if model_name.startswith("paper"):
        head = "regression" if model_name == "paper_regression" else "classification"
        num_bins = 50 if model_name.endswith("50bins") else 10
        model = paper_models.build_paper_cnn(64, width=8, head=head, num_bins=num_bins)
        if quarter:
            model = quarter_resolution_head(model, head, num_bins)
        lightness = rng.uniform(0, 100, (batch, 64, 64, 1)).astype("float32")
        if head == "regression":
            target, loss = rng.normal(0, 20, (batch, 64, 64, 2)).astype("float32"), losses.L2Loss()
        else:
            target = rng.integers(0, num_bins, (batch, 64, 64, 2)).astype("int32")
            loss = losses.BinnedCrossEntropy()
        model.compile(adam(1e-3), loss=loss)
        size = 64
    elif model_name == "colorizer":
        bins = JointBins.from_pixels(rng.normal(0, 25, (200_000, 2)))
        model = networks.build_colorizer(16, "classification", 1, bins.num_classes)
        model.compile(adam(1e-3), loss=colorizer_loss(bins, 0.5))
        lightness = rng.uniform(0, 100, (batch, 56, 56, 1)).astype("float32")
        target = rng.normal(0, 25, (batch, 14, 14, 2)).astype("float32")
        size = 56
    else:
        generator, discriminator = gan.build_generator(64, 16), gan.build_discriminator(64, 16)
        model = gan.ConditionalGAN(generator, discriminator)
        model.compile(adam(2e-4, beta_1=0.5), adam(2e-4, beta_1=0.5))
        lightness = rng.uniform(0, 100, (batch, 64, 64, 1)).astype("float32")
        target = rng.normal(0, 20, (batch, 64, 64, 2)).astype("float32")
        size = 64
    flops = forward_flops(model_name, model, size) if keras.backend.backend() == "tensorflow" else 0.0
    return model, lightness, target, flops


def forward_flops(model_name: str, model, size: int) -> float:
    """Forward FLOPs of one image (TensorFlow profiler; the cGAN counts generator + 2 discriminator passes)."""
    import tensorflow as tf
    from tensorflow.python.profiler.model_analyzer import profile
    from tensorflow.python.profiler.option_builder import ProfileOptionBuilder

    def count(function, *specs) -> float:
        graph = tf.function(function).get_concrete_function(*specs).graph
        options = ProfileOptionBuilder(ProfileOptionBuilder.float_operation()).with_empty_output().build()
        return float(profile(graph, options=options).total_float_ops)

    spec_l = tf.TensorSpec([1, size, size, 1], tf.float32)
    if model_name == "cgan":
        spec_ab = tf.TensorSpec([1, size, size, 2], tf.float32)
        return (count(lambda x: model.generator(x, training=False), spec_l)
                + 2 * count(lambda x, y: model.discriminator([x, y], training=False), spec_l, spec_ab))
    return count(lambda x: model(x, training=False), spec_l)


def measure(model_name: str, setting: dict, steps: int) -> dict:
    """Run in the child process: images/s of `steps` training steps after a warm-up."""
    import keras

    if setting.get("policy"):
        keras.mixed_precision.set_global_policy(setting["policy"])
    if setting.get("threads") and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(setting["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(setting["threads"])
    batch = setting.get("batch", DEFAULT_BATCH[model_name])
    model, lightness, target, flops = build(model_name, batch, setting.get("quarter", False),
                                            setting.get("optimizer", "training"))
    if "jit" in setting:
        model.jit_compile = setting["jit"]
    # Warm up (trace, compile) with the very call that is timed. Not fit() on numpy arrays first: after it,
    # train_on_batch() runs about half as fast on TensorFlow (measured: 300 against 610 images/s for the
    # paper CNN), slower than fit() on a tf.data pipeline (500), which is what training uses.
    for _ in range(3):
        model.train_on_batch(lightness, target)
    started = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(lightness, target)
    seconds = time.perf_counter() - started
    images_per_second = steps * batch / seconds
    return {"model": model_name, "batch": batch, "jit_compile": str(getattr(model, "jit_compile", "")),
            "backend": keras.backend.backend(), "images_per_second": images_per_second,
            "forward_gflops_per_image": flops / 1e9,
            "achieved_gflops_per_second": 3 * flops * images_per_second / 1e9}


def peak_gflops(dtype: str, size: int = 2048, repeats: int = 10) -> float:
    """Measured matmul GFLOP/s on this CPU (float32 or bfloat16), the best of `repeats`."""
    import tensorflow as tf

    a = tf.random.normal([size, size], dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    matmul(a).numpy()
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        matmul(a).numpy()
        best = max(best, 2 * size ** 3 / (time.perf_counter() - started) / 1e9)
    return best


def child(args) -> None:
    setting = json.loads(args.child_setting)
    if args.child_model == "peak":
        result = {"float32": peak_gflops("float32"), "bfloat16": peak_gflops("bfloat16")}
    else:
        result = measure(args.child_model, setting, args.steps)
    import colorize_utils

    result["colorize_utils"] = str(Path(colorize_utils.__file__).resolve().parent)  # which code was timed
    print("RESULT " + json.dumps(result), flush=True)


def run_child(python: str, model_name: str, name: str, setting: dict, steps: int, extra_env=None,
              code_root: Path = ROOT) -> dict | None:
    """One measurement in a fresh process, importing colorize_utils from `code_root` (another checkout of
    this project: its code, timed by this script)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(code_root), **setting.get("env", {}),
           **(extra_env or {})}
    command = [python, __file__, "--child-model", model_name, "--child-setting", json.dumps(setting),
               "--steps", str(steps)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode or not lines:
        print(f"  {model_name} / {name}: failed ({completed.stderr.strip().splitlines()[-1:]})", flush=True)
        return None
    return {"setting": name, **json.loads(lines[-1][len("RESULT "):])}


def git_commit_of(root: Path) -> str:
    """The commit checked out at `root` (with -dirty when it has uncommitted changes)."""
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return head.strip() + ("-dirty" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--jax-python", default=None, help="a Python with jax + keras (no TensorFlow needed)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "training.json")
    parser.add_argument("--baseline-root", type=Path, default=None,
                        help="another checkout (e.g. a git worktree of an earlier commit): each setting is also "
                             "timed with its code, alternating with this one's, for ratios within one run")
    parser.add_argument("--repeats", type=int, default=1, help="measurements per setting (and per code)")
    parser.add_argument("--child-model", help=argparse.SUPPRESS)
    parser.add_argument("--child-setting", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_model:
        child(args)
        return
    if args.baseline_root is not None:
        args.baseline_root = args.baseline_root.resolve()
        if not (args.baseline_root / "colorize_utils" / "__init__.py").is_file():
            parser.error(f"--baseline-root {args.baseline_root} holds no colorize_utils/ (a checkout of this project)")
    peak = run_child(sys.executable, "peak", "peak", {}, 1)
    print(f"peak: {peak}", flush=True)
    rows = []
    for model_name in args.models:
        for name in args.settings:
            if model_name not in SETTINGS[name].get("models", MODELS):
                continue
            codes = [("this", ROOT)] + ([("baseline", args.baseline_root)] if args.baseline_root else [])
            for repeat in range(args.repeats):
                for code, root in codes if repeat % 2 == 0 else codes[::-1]:  # alternate which runs first
                    row = run_child(sys.executable, model_name, name, SETTINGS[name], args.steps, code_root=root)
                    if row is None:
                        continue
                    row["share_of_float32_peak"] = row["achieved_gflops_per_second"] / peak["float32"]
                    if args.baseline_root:
                        if not Path(row["colorize_utils"]).is_relative_to(Path(root).resolve()):
                            raise SystemExit(f"the {code} measurement imported {row['colorize_utils']}, not {root}")
                        row.update(code=code, code_root=str(root), code_commit=git_commit_of(root))
                    rows.append(row)
                    print(f"{model_name:>20s} {name:>15s} {code if args.baseline_root else '':>8s}: "
                          f"{row['images_per_second']:8.1f} images/s, {row['achieved_gflops_per_second']:6.1f} "
                          f"GFLOP/s ({row['share_of_float32_peak']:.0%} of peak)", flush=True)
        if args.jax_python and model_name != "cgan":  # the cGAN's train_step is TensorFlow's
            row = run_child(args.jax_python, model_name, "jax", {}, args.steps, {"KERAS_BACKEND": "jax"})
            if row is not None:
                default = next((r for r in rows if r["model"] == model_name and r["setting"] == "default"), None)
                if default:  # the profiler needs TensorFlow: reuse the count from the TensorFlow run
                    row["forward_gflops_per_image"] = default["forward_gflops_per_image"]
                    row["achieved_gflops_per_second"] = 3 * row["forward_gflops_per_image"] * row["images_per_second"]
                    row["share_of_float32_peak"] = row["achieved_gflops_per_second"] / peak["float32"]
                rows.append(row)
                print(f"{model_name:>20s} {'jax':>15s}: {row['images_per_second']:8.1f} images/s", flush=True)
    from colorize_utils.learning.reporting import write_benchmark_record

    write_benchmark_record(args.out, steps=args.steps, peak_gflops_per_second=peak, rows=rows,
                           note="ratios between settings of one model are comparable within this run only")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
