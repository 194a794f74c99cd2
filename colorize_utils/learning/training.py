"""One train() for every notebook: Adam(1e-3) dropped to 1e-4 on a val-loss plateau, checkpoints, resume.

Data is either tf.data.Datasets of (L, target) batches (TensorFlow backend) or numpy arrays
(any backend: JAX on a GPU host without TensorFlow). Everything a run leaves sits in its run folder:

    run_dir/model.keras      the best model (lowest val loss)
    run_dir/bins.json        its bin table (classification models)
    run_dir/history.csv/json per-epoch loss, val loss, learning rate and seconds
    run_dir/backup/          BackupAndRestore state: rerunning an interrupted train() resumes it
    run_dir/tensorboard/     TensorBoard logs (TensorFlow backend)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from colorize_utils.binning import ChannelBins, load_binning
from colorize_utils.config import check_precision
from colorize_utils.runtime.networks import load_model
from colorize_utils.files import atomic_path, json_safe


@dataclass
class TrainConfig:
    """The paper's schedule: Adam(1e-3, default betas), lr x0.1 to 1e-4 on a val-loss plateau, batch 250."""

    epochs: int = 200
    batch_size: int = 250
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-4
    lr_patience: int = 10
    seed: int = 0
    verbose: str | int = "auto"  # "auto" or 1: a progress bar; 2: one line per epoch (headless runs)
    steps_per_epoch: int | None = None  # for endless (repeated) data: an "epoch" is this many steps
    validation_steps: int | None = None  # with endless validation data: batches per validation
    max_minutes: float | None = None  # stop after the first epoch that ends past this wall time (resumable)
    jit_compile: bool | str = "auto"
    label: str | None = None  # name in progress lines and messages (default: the run folder's name)


@dataclass
class TrainResult:
    """What train() produced: the best model, its history and where it was saved."""

    model: keras.Model
    history: dict
    run_dir: Path
    seconds_per_epoch: list = field(default_factory=list)
    binning: ChannelBins | None = None
    out_of_time: bool = False  # stopped by TrainConfig.max_minutes before the last epoch (rerun resumes)

    @property
    def best_epoch(self) -> int | None:
        """1-based epoch of the kept checkpoint (lowest val loss, else loss), None without history."""
        key = "val_loss" if self.history.get("val_loss") else "loss"
        values = [v if math.isfinite(v) else math.inf for v in self.history.get(key, [])]
        return int(np.argmin(values)) + 1 if values else None

    @property
    def epochs_run(self) -> int:
        """Epochs in the history (across resumed runs)."""
        return len(self.history.get("loss", []))

    @property
    def mean_seconds_per_epoch(self) -> float:
        """Mean wall time of the epochs run in this call."""
        return float(np.mean(self.seconds_per_epoch)) if self.seconds_per_epoch else float("nan")


@keras.saving.register_keras_serializable(package="colorize")
class FusedAdam(keras.optimizers.Adam):
    """Keras's Adam with TensorFlow's fused update kernel (ResourceApplyAdam): the same rule in one pass over
    each weight instead of about a dozen element-wise ops, which speeds up the large output layers (measured in
    docs/performance.md). Only weights of FUSED_MIN_WEIGHTS or more take the kernel (on small weights it is
    slower); other backends, a tf.distribute strategy, amsgrad and non-float32 weights use Keras's update.
    """

    FUSED_MIN_WEIGHTS = 1 << 20

    def update_step(self, gradient, variable, learning_rate):
        import tensorflow as tf

        if (keras.backend.backend() != "tensorflow" or self.amsgrad or tf.distribute.has_strategy()
                or variable.dtype != "float32" or int(np.prod(variable.shape)) < self.FUSED_MIN_WEIGHTS):
            return super().update_step(gradient, variable, learning_rate)

        def handle(value):
            return (value._value if isinstance(value, keras.Variable) else value).handle

        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, tf.float32)
        beta_1, beta_2 = tf.constant(self.beta_1, tf.float32), tf.constant(self.beta_2, tf.float32)
        tf.raw_ops.ResourceApplyAdam(
            var=handle(variable), m=handle(self._momentums[index]), v=handle(self._velocities[index]),
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, tf.float32), beta1=beta_1, beta2=beta_2,
            epsilon=tf.constant(self.epsilon, tf.float32), grad=tf.cast(gradient, tf.float32))


def adam(learning_rate: float, **kwargs) -> keras.optimizers.Optimizer:
    """The Adam every training run uses: FusedAdam on TensorFlow, Keras's Adam elsewhere (same update rule)."""
    if keras.backend.backend() == "tensorflow":
        return FusedAdam(learning_rate, **kwargs)
    return keras.optimizers.Adam(learning_rate, **kwargs)


def build_optimizer(optimizer: keras.optimizers.Optimizer, variables: list) -> None:
    """Create an optimizer's state before fit(): otherwise Keras creates it while tracing the first training step
    on TensorFlow, and a tf.function that creates variables is traced twice (seconds per model). The state and
    the updates are the same either way."""
    if not optimizer.built:
        optimizer.build(variables)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class EpochLog(keras.callbacks.Callback):
    """Records learning rate and wall time per epoch; stops at the first non-finite loss or past a time budget."""

    def __init__(self, max_minutes: float | None = None):
        super().__init__()
        self.seconds: list[float] = []
        self.diverged_at: tuple[int, int] | None = None
        self._epoch = 0
        self.max_seconds = None if max_minutes is None else 60.0 * float(max_minutes)
        self.out_of_time = False
        self.epochs_ended = 0
        self._call_started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._started = epoch, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self._epoch + 1, batch + 1)
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_ended = epoch + 1  # counts epochs of earlier, resumed calls too
        self.seconds.append(time.perf_counter() - self._started)
        if logs is not None:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            logs["seconds"] = self.seconds[-1]
        last_epoch = epoch + 1 >= int((self.params or {}).get("epochs") or 0)
        if (self.max_seconds is not None and not last_epoch
                and time.perf_counter() - self._call_started > self.max_seconds):
            self.out_of_time = True
            self.model.stop_training = True


class _ProgressLine(keras.callbacks.Callback):
    """Headless runs: one plain line per epoch, with the model, the epoch, the losses and the time left."""

    def __init__(self, name: str, epochs: int):
        super().__init__()
        self.name, self.epochs = name, epochs
        self._started = time.perf_counter()
        self._first_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._first_epoch is None:
            self._first_epoch = epoch
        done = epoch - self._first_epoch + 1
        per_epoch = (time.perf_counter() - self._started) / done
        left = per_epoch * (self.epochs - epoch - 1)
        losses = "  ".join(f"{key} {float(logs[key]):.4g}" for key in ("loss", "val_loss") if key in logs)
        print(f"{self.name}: epoch {epoch + 1}/{self.epochs}  {losses}  {per_epoch:.0f} s/epoch, "
              f"about {left / 60:.1f} min left", flush=True)


class _SafeBackup(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that never saves the weights of a diverged epoch (a NaN stop still ends the epoch,
    and resuming from NaN weights would be useless), kept after early stops so a rerun resumes, and
    double-buffered so a kill mid-write cannot leave an unreadable backup."""

    def __init__(self, backup_dir: str, epoch_log: "EpochLog"):
        super().__init__(backup_dir, delete_checkpoint=False, double_checkpoint=True)
        self.epoch_log = epoch_log

    def on_epoch_end(self, epoch, logs=None):
        if self.epoch_log.diverged_at is None:
            super().on_epoch_end(epoch, logs)




def fast_bfloat16(cpu_flags: set[str] | None = None) -> bool:
    """True where bfloat16 maths runs natively. Where training runs on a GPU, the GPU alone decides: compute
    capability 8.0+ (TensorFlow; JAX's GPUs likewise, TPUs always). On a CPU under TensorFlow: AMX-BF16 or
    AVX512-BF16 (`cpu_flags`: default, read from /proc/cpuinfo). JAX's CPU path was not measured: False.
    Elsewhere bfloat16 is emulated, slower than float32."""
    if keras.backend.backend() == "jax":
        import jax

        if jax.default_backend() == "tpu":
            return True
        if jax.default_backend() == "gpu":
            capability = getattr(jax.devices()[0], "compute_capability", None)
            return capability is None or tuple(int(x) for x in str(capability).split(".")) >= (8, 0)
        return False
    if not _tensorflow_available():
        return False
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return all(tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0))
                   >= (8, 0) for gpu in gpus)
    if cpu_flags is None:
        try:
            cpu_flags = set(Path("/proc/cpuinfo").read_text().split())
        except OSError:  # not Linux: no way to tell here, so the safe choice
            cpu_flags = set()
    return bool({"amx_bf16", "avx512_bf16"} & set(cpu_flags))


def resolve_precision(precision: str) -> str:
    """"auto" -> "mixed_bfloat16" where bfloat16 is native (fast_bfloat16), else "float32"; others unchanged."""
    check_precision(precision)
    if precision == "auto":
        return "mixed_bfloat16" if fast_bfloat16() else "float32"
    return precision


@contextlib.contextmanager
def precision_policy(precision: str):
    """Layers built inside compute in `precision` ("mixed_bfloat16": bfloat16 maths on float32 weights, for
    CPUs with AMX or AVX512-BF16 and for GPUs; "auto": see resolve_precision); Keras's global policy is
    restored on exit."""
    precision = resolve_precision(precision)
    earlier = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(earlier)


def float32_config(config):
    """A model config with every layer's mixed-precision dtype policy replaced by float32 (the weights are
    float32 either way): saved models then compute in float32 wherever they are loaded, as inference expects."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and str(config.get("config", {}).get("name", "")).startswith(
                "mixed_"):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {key: float32_config(value) for key, value in config.items()}
    if isinstance(config, list):
        return [float32_config(value) for value in config]
    return config


def uncompiled_copy(model: keras.Model) -> keras.Model | None:
    """A built, uncompiled float32 model of the same architecture (its own weights), or None when the model
    cannot be rebuilt from its config (a custom layer that is not registered, say). Building it leaves the
    global random state as it was, so code that builds a model after train() without reseeding gets the same
    weights as before. The copy holds a second set of weights (under a tf.distribute strategy, on every
    replica). A model trained in mixed precision is copied as float32 (see float32_config)."""
    import random

    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        copy = type(model).from_config(float32_config(model.get_config()))
        if not copy.built:  # subclassed models build on their first call; their build config says how
            copy.build_from_config(model.get_build_config())
        return copy if len(copy.weights) == len(model.weights) else None
    except Exception:  # noqa: BLE001  (any failure: the caller saves the model itself, as before)
        return None
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


class _BestCheckpoint(keras.callbacks.Callback):
    """Keep the model of the epoch with the lowest `monitor`, written atomically (write, then rename).

    Unlike keras.callbacks.ModelCheckpoint, a resumed run starts from the best value of the epochs
    before the interruption (`best_so_far`), so a worse first resumed epoch cannot replace the best model,
    and a kill mid-write never leaves a half-written model.keras.
    """

    def __init__(self, path: Path, monitor: str, best_so_far: float = math.inf):
        super().__init__()
        self.path, self.monitor, self.best = Path(path), monitor, best_so_far
        self._inference_copy = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)) or float(value) >= self.best:
            return
        self.best = float(value)
        # Written from a copy without an optimizer: Keras's .keras format always holds a compiled model's
        # optimizer state (twice the weights with Adam), which inference never needs and resuming takes from
        # the backup. A third of the bytes each time the model improves (1.3 GB -> 0.4 GB at 50 paper bins).
        if self._inference_copy is None:
            self._inference_copy = uncompiled_copy(self.model) or self.model
        if self._inference_copy is not self.model:
            self._inference_copy.set_weights(self.model.get_weights())
        with atomic_path(self.path) as temporary:
            self._inference_copy.save(temporary)


def prepare_run_dir(run_dir: str | os.PathLike, epochs: int) -> Path:
    """Check the epochs and make the run folder; unless resuming, drop what an earlier, finished run left."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1; got {epochs}.")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not (run_dir / "backup").exists():  # BackupAndRestore's state exists only mid-run
        for stale in ("history.csv", "history.json", "model.keras"):
            (run_dir / stale).unlink(missing_ok=True)
        shutil.rmtree(run_dir / "tensorboard", ignore_errors=True)
    return run_dir


def verbosity(verbose: str | int) -> int:
    """Keras verbosity for fit(): "auto" is a progress bar (1); 2 is one line per epoch (headless runs)."""
    return 1 if verbose == "auto" else int(verbose)


def _tensorflow_available() -> bool:
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return keras.backend.backend() == "tensorflow"


def train(model: keras.Model, train_data, val_data, loss: keras.losses.Loss, run_dir: str | os.PathLike,
          train_config: TrainConfig, binning: ChannelBins | None = None) -> TrainResult:
    """Compile and fit a model with the paper's schedule, keep the best epoch, and save it with its bins.

    `train_data` / `val_data`: tf.data.Datasets of (L, target) batches, or (L, target) numpy tuples.
    Rerunning with the same run_dir after an interruption resumes from the last finished epoch.
    """
    run_dir = prepare_run_dir(run_dir, train_config.epochs)
    keras.utils.set_random_seed(train_config.seed)
    if binning is not None:
        binning.save(run_dir / "bins.json")
    model.compile(optimizer=adam(train_config.learning_rate), loss=loss, jit_compile=train_config.jit_compile)
    build_optimizer(model.optimizer, model.trainable_variables)
    monitor = "val_loss" if val_data is not None else "loss"
    epoch_log = EpochLog(train_config.max_minutes)
    callbacks = [
        epoch_log,
        keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.1, patience=train_config.lr_patience,
                                          min_lr=train_config.min_learning_rate, verbose=0),
        _BestCheckpoint(run_dir / "model.keras", monitor, _best_so_far(run_dir / "history.csv", monitor)),
        # Kept when a time budget or a NaN stops the run early, so that rerunning resumes it; train()
        # removes it itself once every epoch has run.
        _SafeBackup(str(run_dir / "backup"), epoch_log),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
    ]
    if _tensorflow_available():
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), write_graph=False))
    keras_verbosity = verbosity(train_config.verbose)
    if keras_verbosity == 2:  # headless (the runner, papermill): our own line with the time left instead of Keras's
        callbacks.append(_ProgressLine(train_config.label or run_dir.name, train_config.epochs))
        keras_verbosity = 0
    fit_args = {"epochs": train_config.epochs, "callbacks": callbacks, "verbose": keras_verbosity,
                "steps_per_epoch": train_config.steps_per_epoch, "validation_steps": train_config.validation_steps}
    if isinstance(train_data, tuple):
        fit_args.update(x=train_data[0], y=train_data[1], batch_size=train_config.batch_size, shuffle=True)
    else:
        fit_args.update(x=train_data, shuffle=False)  # a tf.data pipeline shuffles itself
    history = model.fit(validation_data=val_data, **fit_args)
    if epoch_log.diverged_at is not None:
        epoch, batch = epoch_log.diverged_at
        raise TrainingDiverged(
            f"{train_config.label or run_dir.name} ({model.name}): the loss became NaN/inf at epoch {epoch}, batch {batch}. "
            f"{run_dir / 'model.keras'} is the best model before that. Check the inputs for NaN, or delete "
            f"{run_dir} and train again with a lower learning rate (now {train_config.learning_rate}).")
    full_history = read_history(run_dir / "history.csv") or {k: list(v) for k, v in history.history.items()}
    epochs_done = max(epoch_log.epochs_ended, len(full_history.get("loss", [])))
    finished = epochs_done >= train_config.epochs and not epoch_log.out_of_time
    if finished:
        shutil.rmtree(run_dir / "backup", ignore_errors=True)
    with atomic_path(run_dir / "history.json") as temporary:
        temporary.write_text(json.dumps(json_safe({"config": asdict(train_config), "model": model.name,
                                                   "history": full_history}), indent=1, allow_nan=False))
    best = load_model(run_dir / "model.keras") if (run_dir / "model.keras").exists() else model
    result = TrainResult(best, full_history, run_dir, epoch_log.seconds, binning)
    result.out_of_time = epoch_log.out_of_time
    return result


def _best_so_far(path: Path, monitor: str) -> float:
    """The lowest finite `monitor` value of the epochs an interrupted run already finished (inf if none)."""
    values = [v for v in read_history(path).get(monitor, []) if math.isfinite(v)]
    return min(values) if values else math.inf


def read_history(path: Path) -> dict:
    """The CSV log (which spans resumed runs) as {column: [values per epoch]}."""
    if not path.exists():
        return {}
    lines = [line.split(",") for line in path.read_text().strip().splitlines()]
    header, rows = lines[0], [row for row in lines[1:] if row and row[0] != "epoch"]
    def number(text: str) -> float:
        return float("nan") if text in ("NA", "") else float(text)

    return {name: [number(row[i]) for row in rows] for i, name in enumerate(header)}


def load_trained(run_dir: str | os.PathLike) -> tuple[keras.Model, ChannelBins | None]:
    """The best model saved by train() and its bin table (None for regression models)."""
    run_dir = Path(run_dir)
    if not (run_dir / "model.keras").exists():
        raise FileNotFoundError(f"No trained model in {run_dir}; run the notebook that trains it first.")
    bins = load_binning(run_dir / "bins.json") if (run_dir / "bins.json").exists() else None
    return load_model(run_dir / "model.keras"), bins
