"""Run profiles and project paths: one place that says how big a run is and where things go."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"  # the shipped model, inside the package

# The paper's sizes: 10,000 / 1,000 / 1,000 64x64 ImageNet images and 2,000 CIFAR-10 images.
PAPER_SIZES = (10_000, 1_000, 1_000)


@dataclass(frozen=True)
class Profile:
    """How large a run is: data sizes, schedule and model width for every notebook."""

    name: str
    dataset: str  # default data source of the 64x64 notebooks ("auto" = Tiny ImageNet, else samples)
    train_size: int
    val_size: int
    test_size: int
    cifar_train_size: int  # baseline notebook (CIFAR-10, 32x32)
    cifar_val_size: int
    cifar_test_size: int
    epochs: int
    baseline_epochs: int
    batch_size: int
    width: int  # channels of the paper CNN's first conv layer; deeper layers are multiples of it
    lr_patience: int  # epochs without val-loss improvement before Adam's lr drops 1e-3 -> 1e-4
    colorizer_width: int = 16  # width of notebook 07's fully convolutional models (the shipped one's is 16)
    image_size: int = 64
    seed: int = 42

    @property
    def sizes(self) -> tuple[int, int, int]:
        """(train, val, test) sizes of the 64x64 data."""
        return (self.train_size, self.val_size, self.test_size)

    @property
    def cifar_sizes(self) -> tuple[int, int, int]:
        """(train, val, test) sizes of the CIFAR-10 baseline data."""
        return (self.cifar_train_size, self.cifar_val_size, self.cifar_test_size)

    def to_dict(self) -> dict:
        """Plain dict for metrics records."""
        return dataclasses.asdict(self)


PROFILES: dict[str, Profile] = {
    # Seconds per notebook: nbval and CI. The embedded sample photos make it deterministic offline.
    "smoke": Profile(
        name="smoke", dataset="samples",
        train_size=64, val_size=16, test_size=16,
        cifar_train_size=64, cifar_val_size=16, cifar_test_size=16,
        epochs=2, baseline_epochs=2, batch_size=16, width=4, lr_patience=1, colorizer_width=4,
    ),
    # The default of the main command: every notebook in about 10 minutes on 2 CPU cores (two at a time).
    # Each model takes 320 steps of 25 images (2,000 training images, 4 epochs): steps are what the models need
    # (BatchNorm's running statistics settle over the first few hundred), while images per step are what a
    # step costs.
    "demo": Profile(
        name="demo", dataset="auto",
        train_size=2_000, val_size=200, test_size=1_000,
        cifar_train_size=1_800, cifar_val_size=200, cifar_test_size=1_000,
        epochs=4, baseline_epochs=5, batch_size=25, width=8, lr_patience=1, colorizer_width=8,
    ),
    # The paper's data sizes and batch on a CPU: a short schedule and a narrow CNN (about 30 minutes
    # for notebook 03 on 2 cores). The largest run that fits a machine without a GPU.
    "medium": Profile(
        name="medium", dataset="auto",
        train_size=PAPER_SIZES[0], val_size=PAPER_SIZES[1], test_size=PAPER_SIZES[2],
        cifar_train_size=1_800, cifar_val_size=200, cifar_test_size=1_000,
        epochs=15, baseline_epochs=20, batch_size=250, width=8, lr_patience=3,
    ),
    # The paper's sizes and schedule (200 epochs, batch 250); meant for a GPU.
    "paper": Profile(
        name="paper", dataset="auto",
        train_size=PAPER_SIZES[0], val_size=PAPER_SIZES[1], test_size=PAPER_SIZES[2],
        cifar_train_size=1_800, cifar_val_size=200, cifar_test_size=1_000,
        epochs=200, baseline_epochs=200, batch_size=250, width=32, lr_patience=10,
    ),
}

DEFAULT_PROFILE = "demo"


def get_profile(name: str | None = None) -> Profile:
    """The named profile; without a name, $COLORIZE_PROFILE or the default ("demo")."""
    name = name or os.environ.get("COLORIZE_PROFILE") or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(f"Unknown profile {name!r}; choose one of {sorted(PROFILES)}.")
    return PROFILES[name]


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity, e.g. a container's share; else all cores)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def data_dir() -> Path:
    """Where datasets are looked up and downloaded: $COLORIZE_DATA_DIR, else <project>/data."""
    configured = os.environ.get("COLORIZE_DATA_DIR")
    return Path(configured).expanduser().resolve() if configured else PROJECT_ROOT / "data"


def published_root() -> Path:
    """results/: the committed results of real runs, replaced only on purpose (`runner --publish`)."""
    return PROJECT_ROOT / "results"


def results_root() -> Path:
    """Where runs write: $COLORIZE_RESULTS_ROOT, else runs/ (git-ignored).

    The rule: a run never touches the published results/ unless it asks to (`runner --publish`, which
    points this at results/), so a new user's run can neither overwrite nor mix with the published ones.
    """
    configured = os.environ.get("COLORIZE_RESULTS_ROOT")
    return Path(configured).expanduser().resolve() if configured else PROJECT_ROOT / "runs"


def results_dir(profile: str | Profile, override: str | os.PathLike | None = None) -> Path:
    """Where a profile's figures, tables, models and records go (the runner overrides it to stage)."""
    if override:
        return Path(override)
    name = profile.name if isinstance(profile, Profile) else profile
    return results_root() / name


# Set by the runner for its notebooks: the code's commit when the run started (experiment.training_key).
RUN_COMMIT_VARIABLE = "COLORIZE_RUN_COMMIT"

# Notebooks whose finished models another notebook loads instead of training its own: 04 and 07 reuse 03's
# cross-entropy model (`ModelSpec.same_as`), 05 shows it beside the cGAN. The runner may start a reader while
# the notebook it reads from still runs; the reader then waits for it at that point (NotebookRun.wait_for_inputs).
NOTEBOOK_READS: dict[str, tuple[str, ...]] = {
    "04_bin_sweep": ("03_loss_comparison",),
    "05_cgan": ("03_loss_comparison",),
    "07_beyond": ("03_loss_comparison",),
}
# Set by the runner for its kernels: a folder holding one file per selected notebook that has not finished yet.
RUN_STATE_VARIABLE = "COLORIZE_RUN_STATE"


# ----------------------------------------------------------------------------- decoding and clip defaults
# Here, in a module without heavy imports, so the command line can check options before TensorFlow loads.

DECODINGS = ("argmax", "mean", "annealed")
DEFAULT_TEMPERATURE = 0.38  # Zhang et al. 2016's annealed-mean temperature


def check_decoding(decode: str, temperature: float) -> None:
    """Raise a ValueError naming the allowed values for a bad decoding mode or temperature."""
    if decode not in DECODINGS:
        raise ValueError(f"Unknown decoding {decode!r}; choose one of {DECODINGS}.")
    if not float(temperature) > 0:
        raise ValueError(f"temperature must be > 0 (Zhang et al. use 0.38); got {temperature}.")


def check_given_decoding(decode: str | None, temperature: float | None) -> None:
    """check_decoding for the settings a caller gave; None stands for the model card's value."""
    if decode is not None or temperature is not None:
        check_decoding(decode or "annealed", DEFAULT_TEMPERATURE if temperature is None else temperature)


TEMPORAL_METHODS = ("none", "ema", "flow")
DEFAULT_TEMPORAL = "flow"
# Chosen on the validation clip of notebook 08 (a pan over a photo none of the scored clips use), by the rule
# stated there: the strongest blend whose PSNR stays within 0.2 dB of frame by frame's (video.DEFAULT_STRENGTH).
DEFAULT_TEMPORAL_STRENGTH = 0.9


def check_temporal(method: str, strength: float = DEFAULT_TEMPORAL_STRENGTH) -> None:
    """ValueError naming the allowed values for a bad temporal method or strength."""
    if method not in TEMPORAL_METHODS:
        raise ValueError(f"Unknown temporal method {method!r}; choose one of {', '.join(TEMPORAL_METHODS)}.")
    if not 0.0 <= float(strength) < 1.0:
        raise ValueError(f"temporal strength must be in [0, 1); got {strength}.")
