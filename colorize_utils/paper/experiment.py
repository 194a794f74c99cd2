"""The steps every training notebook shares: data + bins, build, train, predict, baselines.

A notebook makes one `Experiment` from its NotebookRun and data, then asks it to train ModelSpecs.
On the TensorFlow backend the data flows through the tf.data pipeline; on any other backend (JAX on
a GPU host without TensorFlow) through numpy arrays.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from colorize_utils import config, metrics
from colorize_utils.runtime import networks
from colorize_utils.learning import evaluation, losses, pipeline, training
from colorize_utils.binning import JointBins, QuantileBins, UniformBins, load_binning, mean_ab
from colorize_utils.learning.data import ColorizationData, ImageSplit
from colorize_utils.learning.distribute import distribution_scope, prepare_distribution
from colorize_utils.files import atomic_path, json_safe
from colorize_utils.paper.notebook import NotebookRun, previous_outputs
from colorize_utils.paper import models as paper_models


@dataclass(frozen=True)
class ModelSpec:
    """One model of a comparison: its name, architecture, head, loss, dropout and bins."""

    name: str
    loss: str = "l2"
    head: str = "regression"
    dropout: float = 0.0
    num_bins: int = 10
    architecture: str = "paper_cnn"  # "baseline", or "colorizer" (the fully convolutional model)
    bins: str = "uniform"  # classification bins: "uniform" (the paper's), "quantile" or "joint" (a, b)
    rebalance: bool = False  # Zhang et al.'s class rebalancing (lambda 0.5; joint bins)
    # The name an earlier notebook of the same run gives this very model (same spec, data and schedule):
    # train() then loads that one instead of training it again.
    same_as: str | None = None

    @property
    def uses_bins(self) -> bool:
        """True for classification models, which train on bin indices."""
        return self.head == "classification"


# The ablation of notebook 07: the paper CNN beside the fully convolutional colorizer with each step of
# the recipe added in turn (same data, same steps).
ABLATION = (
    ModelSpec("paper_cnn_ce10", loss="cross_entropy", head="classification", same_as="cross_entropy"),
    ModelSpec("fcn_l2", loss="l2", architecture="colorizer"),
    ModelSpec("fcn_uniform10", loss="cross_entropy", head="classification", architecture="colorizer"),
    ModelSpec("fcn_quantile10", loss="cross_entropy", head="classification", architecture="colorizer",
              bins="quantile"),
    ModelSpec("fcn_joint", loss="cross_entropy", head="classification", architecture="colorizer", bins="joint"),
    ModelSpec("fcn_joint_rebalanced", loss="cross_entropy", head="classification", architecture="colorizer",
              bins="joint", rebalance=True),
)


def training_order(specs: Sequence[ModelSpec]) -> list[ModelSpec]:
    """The order to train `specs` in: models reused from another notebook (`same_as`) last, so that, run beside
    that notebook (runner --jobs), this one trains its own while the other finishes; among the rest, more bins
    first, because the bigger head's buffers then grow TensorFlow's CPU memory pool once and the smaller models
    reuse it (less peak memory: docs/performance.md). Tables and figures keep the specs' own order."""
    return sorted(specs, key=lambda spec: (spec.same_as is not None, -spec.num_bins if spec.uses_bins else 0))


TRAINING_KEY_FILE = "training_key.json"  # beside each trained model: what made it (Experiment.training_key)

# The paper's loss comparison (Table 1, Fig. 6), in the paper's column order.
LOSS_COMPARISON = (
    ModelSpec("l2_dropout", loss="l2", dropout=0.4),
    ModelSpec("smooth_l1", loss="smooth_l1"),
    ModelSpec("l2", loss="l2"),
    ModelSpec("cross_entropy", loss="cross_entropy", head="classification"),
)


def split_fingerprint(split: ImageSplit) -> str:
    """A short hash of which images a split holds (file paths, or the pixels of in-memory images)."""
    digest = hashlib.sha1()
    if split.paths is not None:
        digest.update("\n".join(map(str, split.paths)).encode())
    elif split.images is not None:
        for image in split.images:
            digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()[:16]


def run_binning(kind: str, num_bins: int, data: ColorizationData, image_size: int,
                folders: list[Path]) -> tuple[object, Path | None]:
    """The run's one fit of a binning on *all* of its training pixels, shared by every model and notebook.

    Saved fits live in `<models>/bins/<training images' fingerprint>/`, so notebooks on other data (02's
    CIFAR-10) keep their own. The first of `folders` (models folders) holding this fit supplies it; otherwise
    it is fitted in one chunked pass (pipeline.ab_chunks, constant memory) and returned with path None, for
    the caller to save at run_binning_path().
    """
    if kind not in ("uniform", "quantile", "joint"):
        raise ValueError(f"Unknown bins {kind!r}; choose 'uniform', 'quantile' or 'joint'.")
    relative = run_binning_path(kind, num_bins, data, image_size)
    for folder in folders:
        if (folder / relative).is_file():
            return load_binning(folder / relative), folder / relative

    def chunks():
        return pipeline.ab_chunks(data.train, image_size)

    if kind == "uniform":
        binning = UniformBins(num_bins).fit(chunks())
    elif kind == "quantile":
        binning = QuantileBins.from_pixels(chunks, num_bins)
    else:
        binning = JointBins.from_pixels(chunks())
    return binning, None


def run_binning_path(kind: str, num_bins: int, data: ColorizationData, image_size: int) -> Path:
    """Where a run's fit of these bins is saved, relative to a models folder."""
    name = f"{kind}_{num_bins}.json" if kind != "joint" else "joint.json"
    return Path("bins") / f"{split_fingerprint(data.train)}_{len(data.train)}_{int(image_size)}px" / name


class Experiment:
    """Holds a notebook's data, fitted bins and trained models.

    `seed` (default: the run's) seeds model initialisation and shuffling only: experiments of one notebook
    with different seeds share the data split, the bins and the test set. Models of a seed other than the
    run's go to models/seeds/<name>_seed<seed>/ (so notebook 06 evaluates the run's own seed only).
    """

    def __init__(self, run: NotebookRun, data: ColorizationData, epochs: int | None = None,
                 distribute: str = "none", seed: int | None = None):
        prepare_distribution(distribute)  # before the TensorFlow work below (multi-worker needs that)
        self.run, self.data, self.image_size = run, data, data.image_size
        self.seed = run.seed if seed is None else int(seed)
        self.epochs = epochs or run.profile.epochs
        self.distribute = distribute  # distribute.DISTRIBUTE_MODES: how train() spreads over devices
        self.verbose = 2 if run.headless else 1  # headless: one line per epoch (with the time left), no bar
        self.tf_pipeline = keras.backend.backend() == "tensorflow"
        # Numpy (L, ab) of val and test: small, and what predictions and metrics are computed on.
        self.val_L, self.val_ab = pipeline.split_to_lab(data.val, self.image_size) if len(data.val) else (None, None)
        self.test_L, self.test_ab = pipeline.split_to_lab(data.test, self.image_size)
        self._train_arrays = None if self.tf_pipeline else pipeline.split_to_lab(data.train, self.image_size)
        self._binnings: dict = {}
        self._train_rgb = self._val_rgb = None
        self.results: dict[str, training.TrainResult] = {}

    @property
    def train_ab_mean(self) -> np.ndarray:
        """Mean ab of all training pixels (the mean-color baseline's prediction), from the run's 10-bin fit."""
        return mean_ab(self.binning(10))

    def binning(self, num_bins: int, kind: str = "uniform"):
        """The run's bins, fitted once on all training pixels: the paper's equal-width ones, quantile or joint
        (a, b). Loaded from an earlier notebook of the run when it fitted them on the same images; otherwise
        fitted here and saved under this notebook's models/bins/ (see run_binning)."""
        key = (kind, num_bins)
        if key not in self._binnings:
            own = self.run.writer.path("models", "")
            shared = self.run.models_dir
            relative = run_binning_path(kind, num_bins, self.data, self.image_size)
            binning, path = run_binning(kind, num_bins, self.data, self.image_size, [own, shared])
            # Fitted here, or found in the run folder where this notebook's own last run had saved it: saved
            # (again) with this notebook's outputs, or the runner would delete it as not written this time.
            mine = (Path("models") / relative).as_posix() in previous_outputs(self.run.run_dir, self.run.notebook)
            if path is None or (path == shared / relative and mine):
                binning.save(own / relative)
            self._binnings[key] = binning
        return self._binnings[key]

    def model_dir(self, name: str) -> Path:
        """Where a model of this experiment is trained: models/<name>, or models/seeds/<name>_seed<k> for a
        seed other than the run's."""
        if self.seed == self.run.seed:
            return self.run.writer.path("models", name)
        return self.run.writer.path("models", "seeds") / f"{name}_seed{self.seed}"

    def training_data(self, split: str, binning=None):
        """Train or val data for fit(): a tf.data pipeline (TensorFlow backend) or numpy (L, target)."""
        batch_size = self.run.profile.batch_size
        if self.tf_pipeline:
            if split == "val" and not len(self.data.val):
                return None
            return pipeline.make_dataset(self.data[split], self.image_size, batch_size, shuffle=split == "train",
                                         seed=self.seed, binning=binning)
        lightness, ab = self._train_arrays if split == "train" else (self.val_L, self.val_ab)
        if lightness is None:
            return None
        target = ops.convert_to_numpy(binning.encode(ab)) if binning is not None else ab
        return lightness, target

    def build(self, spec: ModelSpec) -> keras.Model:
        """A fresh, seeded model for a spec."""
        networks.set_seed(self.seed)
        width = self.run.profile.width
        if spec.architecture == "colorizer":
            colorizer_width = self.run.profile.colorizer_width
            if not spec.uses_bins:
                return networks.build_colorizer(colorizer_width, "regression", name=spec.name)
            binning = self.binning(spec.num_bins, spec.bins)
            return networks.build_colorizer(colorizer_width, "classification", binning.num_heads,
                                          binning.num_classes, name=spec.name)
        if spec.architecture == "baseline":
            return paper_models.build_baseline(self.image_size, width=4 * width, head=spec.head,
                                         num_bins=spec.num_bins, dropout=spec.dropout)
        return paper_models.build_paper_cnn(self.image_size, width=width, head=spec.head, num_bins=spec.num_bins,
                                      dropout=spec.dropout)

    def train(self, spec: ModelSpec) -> training.TrainResult:
        """Build and train one model into results/<profile>/models/<name>/ and keep the result (data-parallel
        when the experiment was made with `distribute`)."""
        key = self.training_key(spec)
        if spec.same_as:
            earlier = self.load_same_training(spec, key)
            if earlier is not None:
                self.results[spec.name] = earlier
                return earlier
        with distribution_scope(self.distribute):
            result = self._build_and_train(spec)
        with atomic_path(result.run_dir / TRAINING_KEY_FILE) as temporary:
            temporary.write_text(json.dumps(key, indent=1))
        return result

    def training_key(self, spec: ModelSpec) -> dict:
        """What makes two trainings the same: the spec (not its names), the data, the schedule, the seed and the
        code's commit."""
        profile = self.run.profile
        fields = {k: v for k, v in dataclasses.asdict(spec).items() if k not in ("name", "same_as")}
        report = self.data.report
        return json_safe({"spec": fields, "data": {"source": report.source, "root": report.root,
                                                   "sizes": report.sizes, "image_size": self.image_size},
                          "seed": self.seed, "epochs": self.epochs, "batch_size": profile.batch_size,
                          "width": profile.colorizer_width if spec.architecture == "colorizer" else profile.width,
                          "lr_patience": profile.lr_patience,
                          # sums split over another number of threads train to other numbers (runner --jobs)
                          "threads": str(self.run.threads or "default"),
                          # another commit may train differently: train again. Within one runner call the
                          # commit it started at counts, so a commit made meanwhile does not undo reuse.
                          "code": self.run.commit})

    def load_same_training(self, spec: ModelSpec, key: dict) -> training.TrainResult | None:
        """The finished model `spec.same_as` of this profile's results, when it was trained exactly like
        `spec` (its recorded training key matches); None otherwise (then `spec` is trained)."""
        self.run.wait_for_inputs()  # the runner may run the notebook that trains it alongside this one
        models_dir = self.run.models_dir
        folder = (models_dir / spec.same_as if self.seed == self.run.seed
                  else models_dir / "seeds" / f"{spec.same_as}_seed{self.seed}")
        key_path = folder / TRAINING_KEY_FILE
        if not key_path.exists() or (folder / "backup").exists() or not (folder / "model.keras").exists():
            return None
        if json.loads(key_path.read_text()) != key:
            return None
        model, binning = training.load_trained(folder)
        history = training.read_history(folder / "history.csv")
        print(f"{spec.name}: the same model as {spec.same_as}, trained earlier in this run with the same data, "
              f"schedule and seed: loaded from {folder}, not trained again")
        return training.TrainResult(model, history, folder, list(history.get("seconds", [])), binning)

    def _build_and_train(self, spec: ModelSpec) -> training.TrainResult:
        if spec.architecture == "colorizer":
            return self._train_colorizer(spec)
        binning = self.binning(spec.num_bins) if spec.uses_bins else None
        profile = self.run.profile
        train_config = training.TrainConfig(epochs=self.epochs, batch_size=profile.batch_size,
                                            lr_patience=profile.lr_patience, seed=self.seed,
                                            verbose=self.verbose)
        model = self.build(spec)
        print(f"{spec.name}: {model.count_params():,} parameters, {self.epochs} epochs")
        result = training.train(model, self.training_data("train", binning), self.training_data("val", binning),
                                losses.get_loss(spec.loss), self.model_dir(spec.name),
                                train_config, binning)
        self.results[spec.name] = result
        return result

    def _train_colorizer(self, spec: ModelSpec) -> training.TrainResult:
        """The fully convolutional colorizer: random flips and crops, targets at 1/4 resolution."""
        profile = self.run.profile
        binning = self.binning(spec.num_bins, spec.bins) if spec.uses_bins else None
        if self._train_rgb is None:
            self._train_rgb = self.data.train.rgb(self.image_size)
            self._val_rgb = self.data.val.rgb(self.image_size) if len(self.data.val) else None
        batch_size = min(profile.batch_size, len(self._train_rgb))
        steps = max(1, len(self._train_rgb) // batch_size)  # one pass over the training images per epoch
        crop = self.image_size - 8 if self.image_size >= 16 else self.image_size
        val_batch = min(batch_size, len(self._val_rgb)) if self._val_rgb is not None else None
        train_config = training.TrainConfig(epochs=self.epochs, batch_size=batch_size,
                                            lr_patience=profile.lr_patience, seed=self.seed, steps_per_epoch=steps,
                                            validation_steps=len(self._val_rgb) // val_batch if val_batch else None,
                                            verbose=self.verbose)
        model = self.build(spec)
        loss = (losses.colorizer_loss(binning, 0.5 if spec.rebalance else None, soft=True) if spec.uses_bins
                else losses.get_loss(spec.loss))
        print(f"{spec.name}: {model.count_params():,} parameters, {self.epochs} epochs of {steps} steps")
        train_data = pipeline.make_colorizer_dataset(self._train_rgb, batch_size, crop, augment=True,
                                                     seed=self.seed)
        # Endless but unshuffled: the same validation batches every epoch (validation_steps of them).
        val_data = (pipeline.make_colorizer_dataset(self._val_rgb, val_batch, None, augment=False, repeat=True)
                    if self._val_rgb is not None else None)
        result = training.train(model, train_data, val_data, loss, self.model_dir(spec.name),
                                train_config, binning)
        self.results[spec.name] = result
        return result

    def one_step_losses(self, spec: ModelSpec, count: int = 8) -> tuple[float, float]:
        """The loss of a freshly built (seeded) model on the first `count` training images, before and after
        one Adam step (learning rate 1e-3) on them: a deterministic number that moves when the loss, the
        bins, the color conversion or the model changes (what notebook 03's nbval check shows)."""
        lightness, ab = pipeline.split_to_lab(self.data.train.head(count), self.image_size)
        binning = self.binning(spec.num_bins, spec.bins) if spec.uses_bins else None
        target = ops.convert_to_numpy(binning.encode(ab)) if binning is not None else ab
        model = self.build(spec)
        # Eagerly: one step on 8 images costs less than tracing the training and evaluation steps (~4 s each model).
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses.get_loss(spec.loss), run_eagerly=True)
        before = float(model.evaluate(lightness, target, batch_size=count, verbose=0))
        model.train_on_batch(lightness, target)
        return before, float(model.evaluate(lightness, target, batch_size=count, verbose=0))

    def predict(self, name: str, lightness: np.ndarray, decode: str = "argmax",
                temperature: float = config.DEFAULT_TEMPERATURE) -> np.ndarray:
        """ab predictions of a trained model (classifiers: unbin(argmax) unless `decode` says otherwise)."""
        result = self.results[name]
        return networks.predict_ab(result.model, lightness, result.binning, decode=decode, temperature=temperature)

    def predictions(self, lightness: np.ndarray, ab_true: np.ndarray) -> dict[str, np.ndarray]:
        """ab from both baselines (ids metrics.GRAY, metrics.MEAN_COLOR) and every trained model, baselines first."""
        outputs = metrics.baseline_predictions(ab_true, self.train_ab_mean)
        outputs.update({name: self.predict(name, lightness) for name in self.results})
        return outputs

    def ablation(self, specs: Sequence[ModelSpec], temperature: float = config.DEFAULT_TEMPERATURE
                 ) -> tuple[list[dict], dict[str, np.ndarray], str | None]:
        """Notebook 07's ablation of trained `specs` on the test split: (rows, predictions, selected).

        The FCN classifiers are decoded by the annealed mean, the others by argmax; the rows are
        evaluation.build_metrics_table's (baselines first, intervals against gray), and the model the
        selection rule picks (evaluation.select_model) is then scored under all three decodings. Each row says
        its decoding, its kept and run epochs, and whether it was selected."""
        binnings = {n: UniformBins(n) for n in (10, 30, 50)}
        predictions = metrics.baseline_predictions(self.test_ab, self.train_ab_mean)
        decoding = {}
        for spec in specs:
            decoding[spec.name] = "annealed" if spec.architecture == "colorizer" and spec.uses_bins else "argmax"
            predictions[spec.name] = self.predict(spec.name, self.test_L, decoding[spec.name], temperature)
        rows, per_image = evaluation.build_metrics_table(self.test_L, self.test_ab, predictions, binnings,
                                                         seed=self.seed)
        selected = evaluation.select_model(rows)
        if selected is not None and self.results[selected].binning is not None:
            for decode in ("argmax", "mean", "annealed"):
                name = f"{selected} ({decode})"
                predictions[name] = self.predict(selected, self.test_L, decode, temperature)
                decoding[name] = decode
            rows, per_image = evaluation.build_metrics_table(self.test_L, self.test_ab, predictions, binnings,
                                                             seed=self.seed, previous=(rows, per_image))
        for row in rows:
            result = self.results.get(row["model"])
            row["decoding"] = decoding.get(row["model"], "")
            row["best_epoch"] = result.best_epoch if result else ""
            row["epochs_run"] = result.epochs_run if result else ""
            row["selected"] = "<- selected" if row["model"] == selected else ""
        return rows, predictions, selected

    def closeness(self) -> tuple[list[dict], dict[str, np.ndarray]]:
        """Table 1 and its per-image `frobenius_ab` per row id: closeness on the test split of both baselines
        and every trained model, each model with its kept epoch and a paired-bootstrap verdict against each
        baseline. Classifiers also get the closeness of the other decodings (`frobenius_ab_mean`,
        `frobenius_ab_annealed` at T = 0.38), to show how much of their result comes from decoding."""
        predictions = self.predictions(self.test_L, self.test_ab)
        rows, values = evaluation.build_metrics_table(self.test_L, self.test_ab, predictions, interval_metrics=(),
                                                      closeness_only=True)
        per_image = {name: by_metric["frobenius_ab"] for name, by_metric in values.items()}
        for row in rows:
            result = self.results.get(row["model"])
            row["best_epoch"] = result.best_epoch if result else ""
            row["epochs_run"] = result.epochs_run if result else ""
            for decode, column in (("mean", "frobenius_ab_mean"), ("annealed", "frobenius_ab_annealed")):
                if result is not None and result.binning is not None:
                    ab = self.predict(row["model"], self.test_L, decode=decode)
                    per_image[f"{row['model']}:{decode}"] = metrics.frobenius_ab(ab, self.test_ab)
                    row[column] = float(per_image[f"{row['model']}:{decode}"].mean())
                else:
                    row[column] = ""
        return metrics.add_baseline_verdicts(rows, "frobenius_ab", per_image=per_image, seed=self.run.seed), per_image

    def closeness_table(self) -> list[dict]:
        """Table 1's rows (see closeness())."""
        return self.closeness()[0]

    def timing_rows(self) -> list[dict]:
        """Seconds per epoch and parameter count of each trained model."""
        return [{"model": name, "parameters": int(result.model.count_params()),
                 "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                 "seconds_per_epoch": result.mean_seconds_per_epoch}
                for name, result in self.results.items()]
