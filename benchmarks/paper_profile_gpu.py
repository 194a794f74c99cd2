"""The paper profile on a GPU host: per-model images/s and seconds per epoch, and the whole profile's wall time.

Two modes, both running unchanged under TensorFlow and under `KERAS_BACKEND=jax`:

    # measure every model the paper profile trains for a few epochs, and project the whole profile
    python benchmarks/paper_profile_gpu.py --project --data-dir DIR --epochs 3 --out OUT

    # train notebook 03's four CNNs for real (200 epochs at the paper's sizes), timing every epoch
    python benchmarks/paper_profile_gpu.py --data-dir DIR --epochs 200 --out OUT

DIR holds tiny-imagenet-200/ (and cifar10/ for the baseline notebook). `--project` trains each model of
notebooks 02-05 and 07 (the paper profile: width 32, batch 250) on `--sizes` images for `--epochs` epochs,
takes the seconds of the epochs after the first (which compiles), scales them to the paper's sizes by image
count, and multiplies by the profile's 200 epochs. The cGAN's fit() needs TensorFlow; on another backend its
step (both networks' forward and backward passes, without the optimizer update) is timed instead.
Notebooks 01 and 06 train nothing and are not counted. Writes OUT/projection.json and prints a table.
`--budget-s` stops starting new models once the time is spent, so a lease is never overrun.
"""

from __future__ import annotations

import argparse
import json
import os
import time

# What each notebook of the paper profile trains: (notebook, model). 04's 10-bin CNN and 07's paper CNN are
# 03's cross-entropy CNN (ModelSpec.same_as): loaded, not trained again, so they count 0 minutes.
PROFILE_MODELS = (
    ("02_baseline", "baseline_l2"),
    ("03_loss_comparison", "l2_dropout"), ("03_loss_comparison", "smooth_l1"),
    ("03_loss_comparison", "l2"), ("03_loss_comparison", "cross_entropy"),
    ("04_bin_sweep", "ce_10_bins"), ("04_bin_sweep", "ce_30_bins"), ("04_bin_sweep", "ce_50_bins"),
    ("05_cgan", "cgan"),
    ("07_beyond", "paper_cnn_ce10"), ("07_beyond", "fcn_l2"), ("07_beyond", "fcn_uniform10"),
    ("07_beyond", "fcn_quantile10"), ("07_beyond", "fcn_joint"), ("07_beyond", "fcn_joint_rebalanced"),
)
SAME_AS = {"ce_10_bins": "cross_entropy", "paper_cnn_ce10": "cross_entropy"}  # the same model and data


def spec_for(name: str):
    """The ModelSpec a notebook builds for `name`."""
    from colorize_utils.paper.experiment import ABLATION, LOSS_COMPARISON, ModelSpec

    specs = {spec.name: spec for spec in LOSS_COMPARISON + ABLATION}
    specs["baseline_l2"] = ModelSpec("baseline_l2", loss="l2", architecture="baseline")
    for bins in (10, 30, 50):
        specs[f"ce_{bins}_bins"] = ModelSpec(f"ce_{bins}_bins", loss="cross_entropy", head="classification",
                                             num_bins=bins)
    return specs[name]


def steady_seconds(seconds_per_epoch: list) -> float:
    """Mean seconds of the epochs after the first (the first one compiles)."""
    steady = seconds_per_epoch[1:] or seconds_per_epoch
    return float(sum(steady) / len(steady))


def time_gan_step(experiment, width: int, batch_size: int, steps: int) -> float:
    """Seconds per image of the cGAN's training step, timed outside fit() (any backend).

    On TensorFlow this is the real train_step through fit(); elsewhere both networks' forward and backward
    passes are timed with JAX (the optimizer update, a few elementwise ops per weight, is left out).
    """
    import keras

    from colorize_utils.learning import pipeline
    from colorize_utils.paper import gan

    lightness, ab = pipeline.split_to_lab(experiment.data.train, experiment.image_size)
    batch_size = min(batch_size, len(lightness))
    count = (len(lightness) // batch_size) * batch_size
    lightness, ab = lightness[:count], ab[:count]
    generator = gan.build_generator(experiment.image_size, width)
    discriminator = gan.build_discriminator(experiment.image_size, width)
    if keras.backend.backend() == "tensorflow":
        model = gan.ConditionalGAN(generator, discriminator)
        model.compile()
        model.fit(lightness, ab, batch_size=batch_size, epochs=1, verbose=0)  # compile
        started = time.perf_counter()
        model.fit(lightness, ab, batch_size=batch_size, epochs=1, verbose=0)
        return (time.perf_counter() - started) / count
    import jax

    def losses(g_weights, d_weights, g_state, d_state, batch_l, batch_ab):
        fake, _ = generator.stateless_call(g_weights, g_state, batch_l, training=True)
        real_logits, _ = discriminator.stateless_call(d_weights, d_state, [batch_l, batch_ab], training=True)
        fake_logits, _ = discriminator.stateless_call(d_weights, d_state, [batch_l, fake], training=True)
        d_loss = jax.numpy.mean(jax.nn.softplus(-real_logits)) + jax.numpy.mean(jax.nn.softplus(fake_logits))
        g_loss = jax.numpy.mean(jax.nn.softplus(-fake_logits)) + 100.0 * jax.numpy.mean(jax.numpy.abs(fake - batch_ab))
        return g_loss, d_loss

    g_grad = jax.jit(jax.grad(lambda *a: losses(*a)[0], argnums=0))
    d_grad = jax.jit(jax.grad(lambda *a: losses(*a)[1], argnums=1))
    weights = ([v.value for v in generator.trainable_variables], [v.value for v in discriminator.trainable_variables],
               [v.value for v in generator.non_trainable_variables],
               [v.value for v in discriminator.non_trainable_variables])
    batches = [(lightness[i:i + batch_size], ab[i:i + batch_size]) for i in range(0, count, batch_size)]
    for grad in (g_grad, d_grad):  # compile
        jax.block_until_ready(grad(*weights, *batches[0]))
    started = time.perf_counter()
    for _ in range(steps):
        for batch in batches:
            jax.block_until_ready((g_grad(*weights, *batch), d_grad(*weights, *batch)))
    return (time.perf_counter() - started) / (steps * count)


def project(args) -> None:
    """Measure every model of the paper profile briefly and project the profile's wall time."""
    import keras

    from colorize_utils import config, files
    from colorize_utils.learning import data as data_lib, reporting
    from colorize_utils.paper.experiment import Experiment
    from colorize_utils.paper.notebook import start_notebook

    profile = config.get_profile("paper")
    started = time.time()
    measured: dict[str, dict] = {}
    experiments = {}

    def experiment_for(notebook: str):
        if notebook not in experiments:
            cifar = notebook == "02_baseline"
            sizes = tuple(args.cifar_sizes if cifar else args.sizes)
            run = start_notebook(notebook, "paper", "cifar10" if cifar else "tiny-imagenet", sizes,
                                 results_dir=os.path.join(args.out, "runs"))
            loaded = data_lib.load_splits(run.dataset, run.sizes, 32 if cifar else profile.image_size, run.seed,
                                          root=args.data_dir, download=False)
            print(loaded.report.summary(), flush=True)
            experiments[notebook] = Experiment(run, loaded, epochs=args.epochs)
        return experiments[notebook]

    for notebook, name in PROFILE_MODELS:
        if name in SAME_AS or name in measured or (args.models and name not in args.models):
            continue
        if time.time() - started > args.budget_s:
            print(f"budget spent: {name} not measured", flush=True)
            continue
        experiment = experiment_for(notebook)
        train_count, val_count = len(experiment.data.train), len(experiment.data.val)
        if name == "cgan":
            seconds_per_image = time_gan_step(experiment, 2 * profile.width, profile.batch_size, args.epochs - 1)
            measured[name] = {"seconds_per_image": seconds_per_image, "images_per_second": 1 / seconds_per_image,
                              "method": "train step only" if keras.backend.backend() == "tensorflow"
                              else "forward and backward passes of both networks (JAX), no optimizer update"}
        else:
            result = experiment.train(spec_for(name))
            seconds = steady_seconds(result.seconds_per_epoch)
            # An epoch trains on the train split and validates on the val split: images of both per second.
            measured[name] = {"seconds_per_epoch_measured": seconds, "epochs_measured": len(result.seconds_per_epoch),
                              "train_images": train_count, "val_images": val_count,
                              "seconds_per_image": seconds / (train_count + val_count),
                              "images_per_second": train_count / seconds}
        print(f"{notebook} {name}: {measured[name]['images_per_second']:.0f} training images/s", flush=True)
    rows, total = [], 0.0
    for notebook, name in PROFILE_MODELS:
        source = measured.get(SAME_AS.get(name, name))
        if source is None:
            rows.append({"notebook": notebook, "model": name, "note": "not measured"})
            continue
        train, val = ((profile.cifar_train_size, profile.cifar_val_size) if notebook == "02_baseline"
                      else (profile.train_size, profile.val_size))
        epochs = profile.baseline_epochs if notebook == "02_baseline" else profile.epochs
        per_epoch = source["seconds_per_image"] * (train if name == "cgan" else train + val)
        trained = name not in SAME_AS  # the others are loaded from notebook 03
        rows.append({"notebook": notebook, "model": name, "images_per_second": source["images_per_second"],
                     "seconds_per_epoch": per_epoch, "epochs": epochs,
                     "projected_minutes": per_epoch * epochs / 60 if trained else 0.0,
                     "measured_as": SAME_AS.get(name, name), "trained": trained})
        total += per_epoch * epochs if trained else 0.0
    record = {"machine": reporting.machine_description(), "git_commit": files.git_commit(),
              "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "profile": profile.to_dict(), "sizes_measured": {"tiny_imagenet": args.sizes, "cifar10": args.cifar_sizes},
              "epochs_measured": args.epochs, "measured": measured, "projection": rows,
              "projected_total_minutes": total / 60,
              "not_counted": "notebooks 01 and 06 (no training), evaluation and figure cells, data loading"}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "projection.json"), "w") as handle:
        json.dump(files.json_safe(record), handle, indent=1)
    print(f"{'notebook':<20} {'model':<22} {'img/s':>8} {'s/epoch':>8} {'minutes':>8}")
    for row in rows:
        if "seconds_per_epoch" in row:
            print(f"{row['notebook']:<20} {row['model']:<22} {row['images_per_second']:>8.0f} "
                  f"{row['seconds_per_epoch']:>8.2f} {row['projected_minutes']:>8.1f}")
    print(f"projected paper profile (training only): {total / 60:.1f} minutes on {record['machine'].get('gpu') or 'CPU'}")


def full_run(args) -> None:
    """Notebook 03's four CNNs at the paper profile, for real."""
    import keras

    from colorize_utils.learning import data as data_lib
    from colorize_utils.paper.experiment import LOSS_COMPARISON, Experiment
    from colorize_utils.paper.notebook import start_notebook

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="folder holding tiny-imagenet-200/ (and cifar10/)")
    parser.add_argument("--project", action="store_true", help="measure every model briefly and project")
    parser.add_argument("--epochs", type=int, default=None, help="default: 200, or 3 with --project")
    parser.add_argument("--models", nargs="*", default=None, help="only these models (names as in the projection table)")
    parser.add_argument("--out", default=os.environ.get("OUT", "results/paper-gpu"), help="results folder")
    parser.add_argument("--sizes", type=int, nargs=3, default=None, help="train val test (default: the paper's)")
    parser.add_argument("--cifar-sizes", type=int, nargs=3, default=None,
                        help="train val test of the baseline's CIFAR-10 (default: the profile's)")
    parser.add_argument("--budget-s", type=float, default=float("inf"), help="start no new model after this")
    args = parser.parse_args()
    from colorize_utils import config

    profile = config.get_profile("paper")
    if args.project:
        args.epochs = args.epochs or 3
        if args.epochs < 2:
            parser.error("--project needs --epochs of at least 2 (the first one compiles)")
        args.sizes = args.sizes or list(profile.sizes)
        args.cifar_sizes = args.cifar_sizes or list(profile.cifar_sizes)
        project(args)
    else:
        args.epochs = args.epochs or profile.epochs
        full_run(args)


if __name__ == "__main__":
    main()
