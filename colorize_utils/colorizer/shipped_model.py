"""Training the fully convolutional colorizer that ships with the package, reproducibly and resumably.

    python -m colorize_utils train-colorizer --data-dir ~/tiny --photos DIR --max-minutes 90 [--resume]

One command: load (and cache) the data, fit joint (a, b) bins and Zhang et al.'s rebalancing weights on
every training pixel, train by steps with random flips and crops, keep the checkpoint with the lowest
validation loss, calibrate and evaluate it beside the gray and mean-color baselines, and export it with a
JSON card to `colorize_utils/runtime/pretrained/`. The same command with --resume continues an interrupted
run from its last finished "epoch" (a block of `steps_per_epoch` steps) with the same history.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from keras import ops

from colorize_utils import config as project_config
from colorize_utils import metrics
from colorize_utils.runtime import encoder_colorizer, inference, networks
from colorize_utils.learning import evaluation, losses, pipeline, reporting, training
from colorize_utils.colorizer import encoder, photo_eval
from colorize_utils.binning import JointBins, UniformBins, load_binning, mean_ab
from colorize_utils.config import ColorizerConfig
from colorize_utils.learning.data import load_splits, stratified_folder_splits
from colorize_utils.learning.distribute import distribution_scope, prepare_distribution
from colorize_utils.files import atomic_path, json_safe
from colorize_utils.images import fit_to_size
from colorize_utils.learning.pipeline import rgb_uint8_to_model_pair
from colorize_utils.tables import markdown_table
from colorize_utils.runtime.networks import load_model
from colorize_utils.learning.training import TrainResult, read_history, resolve_precision

MODEL_FILE, BINS_FILE, CARD_FILE = "colorizer.keras", "colorizer.bins.json", "colorizer.card.json"
# Version 3's second weights file for images below 160 px and its bins (removed in session 12): an export
# deletes them from the export folder, so an older install does not keep them beside the new model.
STALE_SMALL_FILES = ("colorizer.small.keras", "colorizer.small.bins.json")
# The shipped model file's size limit (issue "Colorizer v4": at most 30 MB): the package and a user's download stay
# small. export_pretrained refuses a larger model (version 4's is 24.1 MiB; the wide decoder's 45.5 MB).
MODEL_FILE_LIMIT_BYTES = 30_000_000
# What a run folder holds (beside backup/, tensorboard/, figures/ and its data/ cache), in one place.
RUN_FILES = {"model": "model.keras", "history": "history.csv", "history_json": "history.json",
             "bins": "bins.json", "bins_key": "bins.key.json", "calibrated_bins": "bins.calibrated.json",
             "card": "card.json", "config": "config.json"}


# ----------------------------------------------------------------------------- data


def load_image_arrays(cfg: ColorizerConfig) -> tuple[dict[str, np.ndarray], dict]:
    """uint8 images (N, size, size, 3) per split and the data report, cached in the run folder.

    Scanning and decoding 100,000 JPEGs takes minutes on 2 cores; a resumed run reads the cache instead.
    """
    cache = Path(cfg.run_dir) / "data"
    key = {k: getattr(cfg, k) for k in ("source", "train_size", "val_size", "test_size", "image_size", "seed")}
    key["data_dir"] = str(Path(cfg.data_dir).expanduser().resolve()) if cfg.data_dir else str(project_config.data_dir())
    if cfg.photos_dir is not None:
        key.update({k: getattr(cfg, k) for k in ("photo_val_size", "photo_test_size", "photo_size",
                                                  "photo_val_image_size")})
        key["photos_dir"] = str(Path(cfg.photos_dir).expanduser().resolve())
    names = ("train", "val", "test") + (PHOTO_SPLITS if cfg.photos_dir is not None else ())
    manifest = cache / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("key") == key:
        saved = json.loads(manifest.read_text())
        arrays = {name: np.load(cache / f"{name}.npy", mmap_mode="r") for name in names}
        return arrays, saved["report"] | {"labels": saved["labels"]}
    manifest.unlink(missing_ok=True)  # rebuilt below; never pair new arrays with an old manifest
    data = load_splits(cfg.source, (cfg.train_size, cfg.val_size, cfg.test_size), cfg.image_size, cfg.seed,
                       root=key["data_dir"], download=True)
    cache.mkdir(parents=True, exist_ok=True)
    arrays = {name: cache_images(cache / f"{name}.npy", data[name], cfg.image_size)
              for name in ("train", "val", "test")}
    labels = {name: data[name].labels for name in ("train", "val", "test")}
    report = data.report.to_dict()
    if cfg.photos_dir is not None:
        photos = load_photo_arrays(cfg, cache)
        arrays.update(photos["arrays"])
        labels.update(photos["labels"])
        report["photos"] = photos["report"]
    manifest.write_text(json.dumps({"key": key, "report": report, "labels": labels}))
    return arrays, report | {"labels": labels}


def cache_images(path: Path, split, decode_size: int, size: int | None = None, chunk: int = 5_000) -> np.ndarray:
    """Decode a split to a uint8 .npy file (N, size, size, 3), chunk by chunk (bounded memory), and memory-map it.

    Each image is fitted to decode_size x decode_size, then shrunk whole to `size` when that is smaller. The
    file appears only once complete, so an interrupted call never leaves a truncated cache.
    """
    size = size or decode_size
    with atomic_path(path) as partial:
        images = np.lib.format.open_memmap(partial, "w+", np.uint8, (len(split), size, size, 3))
        for start in range(0, len(split), chunk):
            squares = split.slice(start, start + chunk).rgb(decode_size)
            images[start:start + chunk] = squares if size == decode_size else np.stack(
                [fit_to_size(square, size) for square in squares])
        images.flush()
        del images
    return np.load(path, mmap_mode="r")


PHOTO_SPLITS = ("photos_train", "photos_val", "photos_test")


def load_photo_arrays(cfg: ColorizerConfig, cache: Path) -> dict:
    """The photo splits as uint8 arrays in `cache` (train and test as photo_size squares, val shrunk to
    photo_val_image_size), with their labels (sources), file paths and the split's report."""
    from collections import Counter


    data = stratified_folder_splits(cfg.photos_dir, cfg.photo_val_size, cfg.photo_test_size, cfg.seed,
                                    cfg.photo_size)
    splits = {name: data[name.split("_", 1)[1]] for name in PHOTO_SPLITS}
    arrays = {name: cache_images(cache / f"{name}.npy", split, cfg.photo_size,
                                 cfg.photo_val_image_size if name == "photos_val" else None, chunk=2_000)
              for name, split in splits.items()}
    root = Path(cfg.photos_dir).expanduser().resolve()
    report = data.report.to_dict() | {
        "val_files": [str(Path(p).resolve().relative_to(root)) for p in data.val.paths],
        "test_files": [str(Path(p).resolve().relative_to(root)) for p in data.test.paths]}
    for split in ("train", "val", "test"):
        report[f"{split}_by_source"] = dict(sorted(Counter(data[split].labels).items()))
    return {"arrays": arrays, "labels": {name: split.labels for name, split in splits.items()}, "report": report}


def training_pixels(arrays: dict) -> list[np.ndarray]:
    """The image arrays a run trains on (Tiny ImageNet's train split, and the training photos if any)."""
    return [arrays["train"]] + ([arrays["photos_train"]] if "photos_train" in arrays else [])


def iter_ab(images, chunk: int = 2_000):
    """ab (n, H, W, 2) of uint8 RGB images, chunk by chunk (for fitting bins on every training pixel).

    `images`: one array (N, H, W, 3), or a list of them (their sizes may differ), taken in turn."""
    for array in images if isinstance(images, (list, tuple)) else [images]:
        for start in range(0, len(array), chunk):
            yield ops.convert_to_numpy(rgb_uint8_to_model_pair(np.asarray(array[start:start + chunk]))[1])


def fit_bins(train_images, step: float = 10.0):
    """Joint (a, b) bins fitted on every training pixel, in one constant-memory pass.

    `train_images`: one uint8 array (N, H, W, 3), or a list of them (sizes may differ)."""
    return JointBins.from_pixels(iter_ab(train_images), step=step)


# ----------------------------------------------------------------------------- training


def load_finished_run(cfg: ColorizerConfig):
    """The kept checkpoint, bins, history, data and report of an earlier run (for --evaluate-only)."""
    run_dir = Path(cfg.run_dir)
    if not (run_dir / RUN_FILES["model"]).exists():
        raise FileNotFoundError(f"No trained colorizer in {run_dir}; train one first (without --evaluate-only).")
    arrays, report = load_image_arrays(cfg)
    history = read_history(run_dir / RUN_FILES["history"])
    result = TrainResult(load_model(run_dir / RUN_FILES["model"]), history, run_dir)
    result.out_of_time = (run_dir / "backup").exists()  # stopped early (by a time budget) if its backup remains
    return result, load_binning(run_dir / RUN_FILES["bins"]), arrays, report


def holdout_test_images(cfg: ColorizerConfig, test_images: np.ndarray) -> np.ndarray:
    """The labelled images of Tiny ImageNet's val/ folder that are not in the test split (uint8 N x 64 x 64 x 3).

    Never used for training (train/ only), calibration (validation, from train/) or the test split: a second,
    fresh test set. Test images are recognised by their pixels, so the draw order does not matter.
    """
    import hashlib


    root = str(Path(cfg.data_dir).expanduser().resolve()) if cfg.data_dir else str(project_config.data_dir())
    everything = load_splits(cfg.source, (1, 0, 100_000), cfg.image_size, cfg.seed, root=root, download=False)
    images = everything.test.rgb(cfg.image_size)
    seen = {hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest() for image in np.asarray(test_images)}
    keep = [i for i, image in enumerate(images) if hashlib.sha1(image.tobytes()).hexdigest() not in seen]
    if len(images) - len(keep) != len(test_images):
        raise RuntimeError(f"Only {len(images) - len(keep)} of the {len(test_images)} test images were found in "
                           f"{root}: the hold-out would not be disjoint from the test split.")
    return images[keep]


def run_state(run_dir: str | os.PathLike) -> str:
    """What a run folder holds: 'finished' (a kept checkpoint and no resume state), 'unfinished' (resume state,
    backup/) or 'empty' (neither; a data cache may be there)."""
    run_dir = Path(run_dir)
    if (run_dir / "backup").exists():
        return "unfinished"
    return "finished" if (run_dir / RUN_FILES["model"]).exists() else "empty"


def check_mode(run_dir: str | os.PathLike, resume: bool) -> None:
    """ValueError unless the run folder fits what was asked: a new run needs a folder without a run (an
    interrupted or finished run is never continued, evaluated or overwritten unasked), --resume an unfinished
    one. The mode is always the command's; the folder's files only decide whether it can be done."""
    state = run_state(run_dir)
    if resume and state != "unfinished":
        raise ValueError(f"--resume: {run_dir} holds no unfinished run ({state}); start one without --resume"
                         + (", or --evaluate-only to score the finished one" if state == "finished" else "") + ".")
    if not resume and state == "unfinished":
        raise ValueError(f"{run_dir} holds an unfinished run: add --resume to continue it, or --fresh to discard it "
                         "and start over.")
    if not resume and state == "finished":
        raise ValueError(f"{run_dir} holds a finished run: --evaluate-only calibrates, scores and exports it; "
                         "--fresh discards it and trains a new one; --init-from trains it further into another "
                         "--run-dir.")


def same_weights(model, other) -> bool:
    """Whether two models hold the same weights (a run evaluated again is the shipped network recalibrated)."""
    first, second = model.get_weights(), other.get_weights()
    return len(first) == len(second) and all(a.shape == b.shape and np.array_equal(a, b)
                                             for a, b in zip(first, second))


def tiny_training_batches(cfg: ColorizerConfig, images: np.ndarray, seed: int):
    """The Tiny ImageNet stream of a run: random `crop_size` crops at the images' own size, or, with
    `tiny_crop`, random squares of tiny_min_crop..64 px resized to tiny_crop, as photos are."""
    if cfg.tiny_crop is None:
        return pipeline.make_colorizer_dataset(images, cfg.batch_size, cfg.crop_size, augment=True, seed=seed,
                                               hints=cfg.hint_input)
    return pipeline.make_photo_dataset(images, cfg.batch_size, cfg.tiny_crop, cfg.tiny_min_crop, seed=seed,
                                       hints=cfg.hint_input)


def train_colorizer(cfg: ColorizerConfig, resume: bool = False):
    """Start (or, with `resume`, continue) a training run of the shipped colorizer; returns (TrainResult, bins,
    arrays, data report). ValueError when the run folder does not fit the mode (check_mode)."""
    cfg.validate()
    check_mode(cfg.run_dir, resume)
    prepare_distribution(cfg.distribute)  # before any TensorFlow op: multi-worker must be set up first
    # Recorded as resolved (config.json, the card), so a resume on a machine that would pick another is refused.
    cfg = dataclasses.replace(cfg, precision=resolve_precision(cfg.precision))
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    resuming = resume
    if resuming and (run_dir / "config.json").exists():
        # A run from before --precision existed trained in float32.
        earlier = {"precision": "float32", **json.loads((run_dir / "config.json").read_text())}
        changed = {k: (earlier.get(k), v) for k, v in dataclasses.asdict(cfg).items()
                   if k not in ("max_minutes", "run_dir", "data_dir", "photos_dir", "distribute")
                   and earlier.get(k, v) != v}
        if changed:
            raise ValueError(f"{run_dir} holds an unfinished run with other settings {changed} (earlier, now); "
                             "rerun with the earlier settings to resume it, or pass --fresh to start over.")
    started = time.perf_counter()
    arrays, report = load_image_arrays(cfg)
    print(f"data: train {len(arrays['train'])}, val {len(arrays['val'])}, test {len(arrays['test'])}"
          + (f"; photos train {len(arrays['photos_train'])}, val {len(arrays['photos_val'])}, test "
             f"{len(arrays['photos_test'])}" if "photos_train" in arrays else "")
          + f" ({time.perf_counter() - started:.0f} s)", flush=True)
    bins_path, bins_key_path = run_dir / RUN_FILES["bins"], run_dir / RUN_FILES["bins_key"]
    bins_key = {"data": json.loads((Path(cfg.run_dir) / "data" / "manifest.json").read_text())["key"],
                "bin_step": cfg.bin_step}
    if cfg.init_from is not None and resuming and bins_path.exists():  # the bins its backup was trained with
        bins = load_binning(bins_path)
    elif cfg.init_from is not None:  # the earlier run's output layer is tied to its bins: keep them
        bins = load_binning(Path(cfg.init_from).expanduser() / RUN_FILES["bins"])
        bins.save(bins_path)
    elif bins_path.exists() and bins_key_path.exists() and json.loads(bins_key_path.read_text()) == bins_key:
        bins = load_binning(bins_path)
    else:  # fitted on every training pixel of *this* data (never reused from another run's data)
        bins = fit_bins(training_pixels(arrays), cfg.bin_step)
        bins.save(bins_path)
        bins_key_path.write_text(json.dumps(bins_key))
    print(f"bins: {bins.num_classes} joint (a, b) cells from {int(bins.counts.sum()):,} training pixels", flush=True)
    with distribution_scope(cfg.distribute) as replicas:  # the model is built, compiled and fitted in it
        if replicas > 1:
            print(f"data-parallel over {replicas} replicas ({cfg.distribute}); global batch {cfg.batch_size}",
                  flush=True)
        result = _build_and_fit(cfg, bins, arrays, run_dir, resuming)
    return result, bins, arrays, report


def build_run_model(cfg: ColorizerConfig, num_classes: int):
    """The untrained network a run trains: version 4's encoder colorizer (cfg.encoder) or version 3's design."""
    if cfg.encoder is not None:
        return encoder_colorizer.build_encoder_colorizer(
            num_classes, cfg.decoder_width, name="colorizer",
            hint_scales=encoder_colorizer.HINT_SCALES if cfg.hint_input else None,
            hint_propagation=cfg.hint_propagation)
    return networks.build_colorizer(cfg.width, "classification", 1, num_classes, name="colorizer",
                                  global_context=cfg.global_context)


def _build_and_fit(cfg: ColorizerConfig, bins, arrays: dict, run_dir: Path, resuming: bool):
    """Build the colorizer and fit it by blocks of steps (inside train_colorizer's distribution scope)."""
    networks.set_seed(cfg.seed)
    with training.precision_policy(cfg.precision):
        model = build_run_model(cfg, bins.num_classes)
    if cfg.encoder is not None and cfg.init_from is None and not resuming:
        loaded = encoder.load_imagenet_weights(model)
        if loaded != encoder.ENCODER_LAYERS:  # a renamed layer would otherwise keep its random weights
            raise RuntimeError(f"only {loaded} of the encoder's {encoder.ENCODER_LAYERS} layers took ImageNet weights.")
        print(f"encoder: {loaded} EfficientNet-Lite0 layers set to their ImageNet weights ({encoder.WEIGHTS_PACKAGE})",
              flush=True)
    if cfg.init_from is not None and not resuming:  # a resumed call has its own newer weights in backup/
        earlier = networks.load_model(Path(cfg.init_from).expanduser() / RUN_FILES["model"])
        earlier_names = {layer.name for layer in earlier.layers}
        if cfg.encoder is not None and {layer.name for layer in model.layers} != earlier_names:
            # a hint model from the automatic one (or with propagation from one without): every shared layer
            # copied, the new hint layers keep their zero start
            copied = encoder_colorizer.copy_matching_weights(earlier, model)
            new = sorted(layer.name for layer in model.layers if layer.weights and layer.name not in earlier_names)
            print(f"weights: {copied} layers from the kept checkpoint of {cfg.init_from}; at zero: {', '.join(new)}",
                  flush=True)
        elif cfg.encoder is not None:  # the same network: a plain copy (the stages differ in what trains)
            model.set_weights(earlier.get_weights())
            print(f"weights: the kept checkpoint of {cfg.init_from}", flush=True)
        else:  # version 3's design: a plain copy, so the earlier run must have this run's width
            earlier_width = int(earlier.get_layer("enc1a_conv").filters)
            if earlier_width != cfg.width:  # config.json may be missing, so validate() could not tell
                raise ValueError(f"init_from {cfg.init_from} was trained with width {earlier_width}, this run has "
                                 f"width {cfg.width}: give --width {earlier_width} (a second stage continues the "
                                 "same network; widening was removed in session 12).")
            model.set_weights(earlier.get_weights())
            print(f"weights: the kept checkpoint of {cfg.init_from}", flush=True)
    if cfg.encoder is not None:
        trainable = encoder_colorizer.set_encoder_trainable(model, cfg.fine_tune_from_block)
        print(f"encoder: {'frozen' if cfg.fine_tune_from_block is None else f'{trainable:,} weights learn from block {cfg.fine_tune_from_block} on'}"
              f" (BatchNorm in inference mode); {model.count_params():,} parameters", flush=True)
    # A resumed call must not replay the first call's shuffles, crops and flips: seed by the blocks done.
    blocks_done = len(read_history(run_dir / RUN_FILES["history"]).get("loss", [])) if resuming else 0
    if cfg.init_from is not None:  # nor the earlier run's
        blocks_done += len(read_history(Path(cfg.init_from).expanduser() / RUN_FILES["history"]).get("loss", []))
    train_data = tiny_training_batches(cfg, arrays["train"], cfg.seed + blocks_done)
    val_images = arrays["val"]
    if cfg.photos_dir is not None:
        photo_data = pipeline.make_photo_dataset(arrays["photos_train"], cfg.photo_batch_size, cfg.photo_crop,
                                                 cfg.photo_min_crop, seed=cfg.seed + blocks_done,
                                                 hints=cfg.hint_input)
        train_data = pipeline.interleave_batches([photo_data, train_data],
                                                 ["pt".index(kind) for kind in cfg.batch_pattern])
        val_images = arrays["photos_val"]  # the checkpoint is chosen on the photos users bring
    val_data, validation_steps = validation_batches(cfg, val_images)
    train_config = training.TrainConfig(
        epochs=cfg.epochs, batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
        min_learning_rate=cfg.learning_rate / 10, lr_patience=cfg.lr_patience, seed=cfg.seed,
        steps_per_epoch=cfg.steps_per_epoch, validation_steps=validation_steps,
        max_minutes=cfg.max_minutes, label="colorizer",
        # a progress bar in a terminal; one line per block (with the time left) in a log file (nohup)
        verbose=1 if sys.stdout.isatty() else 2)
    loss = run_loss(cfg, bins)
    (run_dir / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1))
    return training.train(model, train_data, val_data, loss, run_dir, train_config, bins)


def validation_batches(cfg: ColorizerConfig, images: np.ndarray):
    """A run's validation probe on uint8 images (N, H, W, 3): (dataset, steps). Endless but unshuffled: the same
    validation batches every time, and no "ran out of data" warning."""
    batch = min(cfg.batch_size, len(images))
    data = pipeline.make_colorizer_dataset(images, batch, None, augment=False, repeat=True, hints=cfg.hint_input)
    return data, len(images) // batch


def run_loss(cfg: ColorizerConfig, bins):
    """The loss a run trains and validates with, over its bins."""
    return losses.colorizer_loss(bins, cfg.rebalance_lambda, True, cfg.soft_sigma, cfg.soft_neighbours)


# ----------------------------------------------------------------------------- evaluation and export


def export_pretrained(run_dir: str | os.PathLike, card: dict,
                      out_dir: str | os.PathLike = project_config.PRETRAINED_DIR) -> Path:
    """Copy the kept checkpoint and its bins into the package, with the card; each file written atomically. A model
    file over MODEL_FILE_LIMIT_BYTES is refused (ValueError) before anything in the package changes."""
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    # Checked first: a missing model must not leave the package with new bins under the old card.
    if not (run_dir / RUN_FILES["model"]).is_file():
        raise FileNotFoundError(f"cannot export {run_dir}: {run_dir / RUN_FILES['model']} is missing; train the run "
                                "(or give the folder of a finished one). The package was left as it was.")
    out_dir.mkdir(parents=True, exist_ok=True)
    # Re-saved without the optimizer's state (train() writes model.keras without it; a run interrupted before
    # this change, or a model that cannot be copied, may hold it: a third of the size, and all inference needs).
    with atomic_path(out_dir / MODEL_FILE) as partial:
        load_model(run_dir / RUN_FILES["model"]).save(partial)
        if partial.stat().st_size > MODEL_FILE_LIMIT_BYTES:  # raised inside: the partial file is removed
            raise ValueError(f"cannot export {run_dir}: its model file is {partial.stat().st_size / 1e6:.1f} MB, over "
                             f"the shipped model's limit of {MODEL_FILE_LIMIT_BYTES / 1e6:.0f} MB; ship a smaller "
                             "network (e.g. a narrower --decoder-width). The package was left as it was.")
    calibrated = run_dir / RUN_FILES["calibrated_bins"]
    with atomic_path(out_dir / BINS_FILE) as partial:
        shutil.copyfile(calibrated if calibrated.exists() else run_dir / RUN_FILES["bins"], partial)
    for name in STALE_SMALL_FILES:  # one model serves every image size now
        (out_dir / name).unlink(missing_ok=True)
    write_card(out_dir, card, CARD_FILE)
    return out_dir


def evaluate_colorizer(model, bins, images: np.ndarray, mean_ab: np.ndarray,
                       decodings=(("annealed", project_config.DEFAULT_TEMPERATURE),),
                       batch_size: int = 100) -> tuple[list[dict], dict]:
    """All metrics of the colorizer (per decoding) and both baselines on uint8 test images (N, H, W, 3).

    The gray row's binned accuracies are gray's better side (ab = 0 or a hair below 0: 0 is a bin edge).
    """
    lightness, ab_true = (ops.convert_to_numpy(t) for t in rgb_uint8_to_model_pair(np.asarray(images)))
    binnings = {n: UniformBins(n) for n in (10, 30, 50)}
    predictions = metrics.baseline_predictions(ab_true, mean_ab)
    for decode, temperature in decodings:
        name = "colorizer" if len(decodings) == 1 else f"colorizer_{decode}" + (
            f"_T{temperature:g}" if decode == "annealed" else "")
        predictions[name] = networks.predict_ab(model, lightness, bins, batch_size, decode, temperature)
    return evaluation.build_metrics_table(lightness, ab_true, predictions, binnings, interval_metrics=())


# ----------------------------------------------------------------------------- after training: calibrate, score, card


def evaluate_run(cfg: ColorizerConfig, result, bins, arrays: dict, report: dict, started_commit: str,
                 started: float, log=print) -> tuple[dict, bool]:
    """One evaluation for every run (colorizer.release): release.calibrate on the validation images (the run's
    validation photos, when it has them, and Tiny ImageNet's validation images), then the chosen settings and the
    shipped model through colorize() on the photo test split (when the run has photos) and the Tiny hold-out,
    release.SHIP_RULE, the record (`record.json` in the run folder) and the small card. The calibrated bins are
    saved in the run folder; the card is written there by write_card. Returns (card, ships)."""
    from colorize_utils.colorizer import release

    run_dir = Path(cfg.run_dir)
    train_mean = mean_ab(UniformBins(10).fit(iter_ab(training_pixels(arrays))))
    photos = (photo_eval.split_photos(cfg.photos_dir, cfg.photo_val_size, cfg.photo_test_size, cfg.seed,
                                      cfg.photo_size) if cfg.photos_dir is not None else {"val": {}, "test": {}})
    model_path = run_dir / RUN_FILES["model"]
    family = model_family(cfg, bins.num_classes)
    raw = inference.Colorizer(result.model, bins, model_path, card={"input_multiple": family["input_multiple"]})
    calibration = release.calibrate(raw, release.validation_images(photos["val"], arrays["val"]), train_mean,
                                    lam=cfg.rebalance_lambda, sigma=cfg.soft_sigma, log=log)
    settings = calibration["settings"]
    calibrated = bins.with_prior_correction(settings["prior_correction_alpha"], cfg.rebalance_lambda, cfg.soft_sigma)
    calibrated.save(run_dir / RUN_FILES["calibrated_bins"])
    new = inference.Colorizer(result.model, calibrated, model_path,
                              card={"default_decoding": settings, "input_multiple": family["input_multiple"]})
    previous = inference.default_colorizer() if inference.DEFAULT_MODEL.is_file() else None
    colorizers = {"new": new, **({"shipped": previous} if previous is not None else {})}
    holdout = holdout_test_images(cfg, arrays["test"])
    photo_test = release.score_split(photos["test"], colorizers, train_mean, log) if photos["test"] else None
    holdout_result = release.score_split(photo_eval.as_photos(holdout, "tiny_holdout_"), colorizers, train_mean, log)
    for name, scored in (("photo test split", photo_test), ("Tiny hold-out", holdout_result)):
        if scored is not None:
            log(f"{name} ({scored['images']} images, through colorize() with each model's defaults):")
            log(markdown_table(scored["means"]))
    recalibration = previous is not None and same_weights(result.model, previous.model)
    ships, checks = release.ships(photo_test, holdout_result, "new", "shipped" if previous is not None else None,
                                  recalibration=recalibration)
    log(("ships: " if ships else "does not ship: ") + release.SHIP_RULE)
    record_path = run_dir / "record.json"
    provenance = {"git_commit": started_commit, "machine": reporting.machine_description(),
                  "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "wall_seconds_this_call": time.perf_counter() - started}
    release.write_record(record_path, {
        "version": family["version"], "split": split_summary(photos, cfg) if cfg.photos_dir is not None else None,
        "training": training_summary(cfg, result),
        "data": {k: report.get(k) for k in ("source", "root", "sizes", "skipped_corrupt", "skipped_gray", "notes")},
        "bins": {"kind": bins.kind, "classes": bins.num_classes, "step": bins.step,
                 "fitted_on_pixels": int(bins.counts.sum())},
        "calibration": calibration, "photo_test": photo_test, "holdout": {**holdout_result, "images": len(holdout)},
        "previous": (previous.card.get("version", 3) if previous is not None else None),
        "ship_rule": release.SHIP_RULE, "ship_checks": checks, "ships": ships, **provenance})
    headline = {}
    for name, scored in (("photo_test", photo_test), ("tiny_holdout", holdout_result)):
        if scored is None:
            continue
        rows = {row["model"]: row for row in scored["means"]}
        headline[name] = {"images": scored["images"], **{k: round(rows["new"][k], 4) for k in (
            "psnr", "auc", "colorfulness", "truth_colorfulness")},
            "gray_psnr": round(rows[metrics.GRAY]["psnr"], 4), "gray_auc": round(rows[metrics.GRAY]["auc"], 4)}
    try:
        relative = str(record_path.resolve().relative_to(project_config.PROJECT_ROOT))
    except ValueError:
        relative = str(record_path)
    card = release.card(result.model, family["builder"], family["builder_args"], family["input_multiple"], settings,
                        train_mean, started_commit, headline, relative, version=family["version"])
    return card, ships


def model_family(cfg: ColorizerConfig, num_classes: int) -> dict:
    """What a run's card says of its network (build_run_model's two designs): the builder and its arguments, the
    input multiple and the version (release.VERSION with the ImageNet encoder, 3 for version 3's design)."""
    from colorize_utils.colorizer import release

    if cfg.encoder is not None:
        hints = ({"hint_scales": list(encoder_colorizer.HINT_SCALES), "hint_propagation": bool(cfg.hint_propagation)}
                 if cfg.hint_input else {})
        return {"builder": encoder_colorizer.BUILDER, "version": release.VERSION, "input_multiple": encoder_colorizer.INPUT_MULTIPLE,
                "builder_args": {"num_classes": int(num_classes), "decoder_width": int(cfg.decoder_width),
                                 "global_units": encoder_colorizer.GLOBAL_UNITS, **hints}}
    return {"builder": "colorize_utils.runtime.networks.build_colorizer", "version": 3,
            "input_multiple": inference.DEFAULT_INPUT_MULTIPLE,
            "builder_args": {"num_classes": int(num_classes), "width": int(cfg.width),
                             "global_context": bool(cfg.global_context)}}


def training_summary(cfg: ColorizerConfig, result) -> dict:
    """What a run trained: its settings, steps, kept block, images seen, time and images/s (and the earlier
    stage's, with --init-from)."""
    train_seconds = sum(result.history.get("seconds", []))
    steps_done = result.epochs_run * cfg.steps_per_epoch
    images_seen = steps_done * images_per_step(cfg)
    return {**dataclasses.asdict(cfg), "steps_done": steps_done, "blocks_run": result.epochs_run,
            "kept_block": result.best_epoch, "images_seen": images_seen, "train_seconds": train_seconds,
            "images_per_second": images_seen / train_seconds if train_seconds else None,
            "stopped_by_time_budget": bool(result.out_of_time),
            **({"initialized_from": earlier_training(cfg.init_from)} if cfg.init_from else {})}


def split_summary(photos: dict, cfg: ColorizerConfig) -> dict:
    """The photo split as seed, counts and a hash of its file lists (the lists themselves are not kept)."""
    import hashlib

    digest = hashlib.sha256(json.dumps({name: sorted(photos[name]) for name in ("val", "test")}).encode())
    return {"photos_dir": str(cfg.photos_dir), "seed": cfg.seed, "val": len(photos["val"]),
            "test": len(photos["test"]), "sha256_of_file_lists": digest.hexdigest()}


def earlier_training(init_from: str | os.PathLike) -> dict:
    """What the run a second stage started from had trained (from its card), and the totals of both stages
    are then this card's figures plus these."""
    folder = Path(init_from).expanduser()
    earlier = {}
    for path in (folder / RUN_FILES["card"], folder / "record.json"):  # version 4 keeps it in its record
        if path.is_file() and json.loads(path.read_text()).get("training"):
            earlier = json.loads(path.read_text())["training"]
            break
    if not earlier and (folder / RUN_FILES["history"]).is_file():  # a run stopped before any evaluation
        history = read_history(folder / RUN_FILES["history"])
        config = json.loads((folder / RUN_FILES["config"]).read_text()) if (folder / RUN_FILES["config"]).is_file() else {}
        losses_ = history.get("val_loss", [])
        earlier = {"steps_done": len(losses_) * int(config.get("steps_per_epoch", 0)) or None,
                   "kept_block": int(np.argmin(losses_)) + 1 if losses_ else None,
                   "train_seconds": float(sum(history.get("seconds", []))) or None,
                   **{k: config.get(k) for k in ("batch_pattern", "precision", "learning_rate")}}
    return {"run_dir": str(init_from), **{k: earlier.get(k) for k in (
        "steps_done", "kept_block", "images_seen", "train_seconds", "batch_pattern", "precision", "learning_rate")}}


def images_per_step(cfg: ColorizerConfig) -> float:
    """Training images per step: with photos the batches take turns (batch_pattern), each of its own size."""
    if cfg.photos_dir is None:
        return float(cfg.batch_size)
    sizes = [cfg.photo_batch_size if kind == "p" else cfg.batch_size for kind in cfg.batch_pattern]
    return sum(sizes) / len(sizes)


def write_card(folder: str | os.PathLike, card: dict, name: str = RUN_FILES["card"]) -> Path:
    """A card as strict JSON, written atomically: a run's card.json, or the package's CARD_FILE."""
    path = Path(folder) / name
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(json_safe(card), indent=1))
    return path


def reset_run(run_dir: str | os.PathLike) -> None:
    """Remove a run folder's training state (RUN_FILES, backup/, tensorboard/), not its data cache."""
    run_dir = Path(run_dir)
    for name in RUN_FILES.values():
        (run_dir / name).unlink(missing_ok=True)
    for folder in ("backup", "tensorboard", "figures"):
        shutil.rmtree(run_dir / folder, ignore_errors=True)
