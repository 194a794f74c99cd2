"""Run profiles and project paths: one place that says how big a run is and where things go."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRETRAINED_DIR = Path(__file__).resolve().parent / "runtime" / "pretrained"  # the shipped model, inside the package

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
    clip_frames: int = 36  # notebook 08's synthetic clips: frames per clip...
    clip_size: tuple[int, int] = (180, 240)  # ...and their (height, width)

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
        clip_frames=6, clip_size=(48, 64),
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
        clip_frames=60, clip_size=(240, 320),
    ),
    # The paper's sizes and schedule (200 epochs, batch 250); meant for a GPU.
    "paper": Profile(
        name="paper", dataset="auto",
        train_size=PAPER_SIZES[0], val_size=PAPER_SIZES[1], test_size=PAPER_SIZES[2],
        cifar_train_size=1_800, cifar_val_size=200, cifar_test_size=1_000,
        epochs=200, baseline_epochs=200, batch_size=250, width=32, lr_patience=10,
        clip_frames=96, clip_size=(360, 480),
    ),
}

DEFAULT_PROFILE = "demo"


def get_profile(name: str | None = None) -> Profile:
    """The named profile; without a name, the default ("demo")."""
    name = name or DEFAULT_PROFILE
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


# Where runs write: runs/ (git-ignored). The rule: a run never touches the published results/ unless it asks
# to (`runner --publish`), so a new user's run can neither overwrite nor mix with the published ones. The
# test suite points this at a temporary folder (conftest.py).
RESULTS_ROOT = PROJECT_ROOT / "runs"


def results_dir(profile: str | Profile, override: str | os.PathLike | None = None,
                root: str | os.PathLike | None = None) -> Path:
    """Where a profile's figures, tables, models and records go: `override` when given (the runner's staging
    folder), else <root>/<profile> with root defaulting to RESULTS_ROOT."""
    if override:
        return Path(override)
    name = profile.name if isinstance(profile, Profile) else profile
    return Path(root or RESULTS_ROOT) / name


# ----------------------------------------------------------------------------- file kinds

# Image files read for training (folder sources) and colorizing, and clip files colorized frame by frame.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm")


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
# stated there: the strongest blend whose PSNR stays within 0.2 dB of frame by frame's (DEFAULT_TEMPORAL_STRENGTH).
DEFAULT_TEMPORAL_STRENGTH = 0.9


def check_temporal(method: str, strength: float = DEFAULT_TEMPORAL_STRENGTH) -> None:
    """ValueError naming the allowed values for a bad temporal method or strength."""
    if method not in TEMPORAL_METHODS:
        raise ValueError(f"Unknown temporal method {method!r}; choose one of {', '.join(TEMPORAL_METHODS)}.")
    if not 0.0 <= float(strength) < 1.0:
        raise ValueError(f"temporal strength must be in [0, 1); got {strength}.")


# ----------------------------------------------------------------------------- the shipped colorizer's training

DISTRIBUTE_MODES = ("none", "mirrored", "multi-worker", "data-parallel")  # how training spreads over devices
PRECISIONS = ("auto", "float32", "mixed_bfloat16")  # training.resolve_precision turns "auto" into one of the others


def check_precision(precision: str) -> None:
    """ValueError unless `precision` is one of PRECISIONS (checked before any work, without touching a device)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}.")


ENCODERS = (None, "efficientnet-lite0")
ENCODER_INPUT_MULTIPLE = 32  # encoder_colorizer.INPUT_MULTIPLE (the encoder's deepest stride)


@dataclass
class ColorizerConfig:
    """Everything that defines a colorizer training run (recorded in its card)."""

    source: str = "tiny-imagenet"
    data_dir: str | None = None  # folder holding tiny-imagenet-200/ (default: $COLORIZE_DATA_DIR or data/)
    train_size: int = 110_000  # more than Tiny ImageNet has: take every usable training image
    val_size: int = 1_000
    test_size: int = 2_000
    image_size: int = 64
    crop_size: int = 56
    # None: Tiny ImageNet is trained at its own 64 px (random crop_size crops). A side: random squares of
    # tiny_min_crop..64 px resized to tiny_crop, as photos are. colorize() enlarges images below its working
    # size (the card's small_image_scale, 2 x for version 4), so a model trained on 64 px Tiny images meets
    # them only enlarged; and ImageNet's objects then reach the decoder at the scale photos do.
    tiny_crop: int | None = None
    tiny_min_crop: int = 48
    width: int = 16
    batch_size: int = 128
    steps: int = 8_000
    steps_per_epoch: int = 250
    learning_rate: float = 1e-3
    lr_patience: int = 3
    bin_step: float = 10.0
    rebalance_lambda: float = 0.5
    soft_sigma: float = 5.0
    soft_neighbours: int = 5
    seed: int = 42
    max_minutes: float | None = None
    distribute: str = "none"  # DISTRIBUTE_MODES: data-parallel over GPUs or hosts
    # PRECISIONS: "mixed_bfloat16" computes in bfloat16 on float32 weights (checkpoints are float32);
    # "auto" (the default) picks it where bfloat16 is native (AMX / AVX512-BF16 CPUs, recent GPUs), else
    # float32. Adopted after the equal-steps ablation: it tied float32 on validation photos (docs/colorizer.md).
    precision: str = "auto"
    run_dir: str = str(PROJECT_ROOT / "results" / "colorizer" / "photo_run")
    # Real photos beside Tiny ImageNet: a folder of photos (sub-folders = sources, stratified in the split).
    photos_dir: str | None = None
    photo_val_size: int = 1_000
    photo_test_size: int = 1_000
    photo_size: int = 160  # photos are stored as centre squares of this side
    photo_crop: int = 96  # training crops are resized to this side...
    photo_min_crop: int = 72  # ...from random squares of photo_min_crop..photo_size pixels (multi-scale)
    photo_batch_size: int = 64
    photo_val_image_size: int = 128  # validation photos are whole squares shrunk to this side
    # Which stream each step's batch comes from, in turn: p = photos, t = Tiny ImageNet.
    batch_pattern: str = "ppt"
    global_context: bool = True
    # A finished run folder whose kept checkpoint and bins this run starts from (a second stage that trains
    # an earlier run further, with its own batch pattern and learning rate); None trains from scratch.
    init_from: str | None = None
    # Version 4: "efficientnet-lite0" builds encoder_colorizer's network on the ImageNet-trained encoder;
    # None builds version 3's design from scratch (networks.build_colorizer).
    encoder: str | None = None
    decoder_width: int = 32
    # None: the encoder is frozen (stage 1); an index: its blocks from this one on, and its head, learn
    # (stage 2; BatchNorm stays in inference mode).
    fine_tune_from_block: int | None = None
    # A hint colorizer (issue "Color hints"): version 4's network with a hint input, trained with simulated
    # hints (learning.simulated_hints), usually --init-from a finished version-4 run.
    hint_input: bool = False
    # With hint_input: the network also reads the hints spread edge-aware over L (encoder_colorizer.HintPropagation).
    hint_propagation: bool = False

    @property
    def epochs(self) -> int:
        """Blocks of steps_per_epoch steps (checkpoint, validation and resume happen per block)."""
        return max(1, -(-int(self.steps) // int(self.steps_per_epoch)))

    def validate(self) -> None:
        """Fail at once, before any work, on settings that cannot train."""
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}; got {self.encoder!r}.")
        if self.encoder is None and self.hint_input:
            raise ValueError("a hint colorizer is version 4's network with a hint input: give --hint-input with "
                             "--encoder efficientnet-lite0.")
        if self.hint_propagation and not self.hint_input:
            raise ValueError("--hint-propagation spreads the hints of a hint colorizer: give it with --hint-input.")
        if self.encoder is None and self.fine_tune_from_block is not None:
            raise ValueError("fine_tune_from_block fine-tunes an encoder: give it with --encoder efficientnet-lite0.")
        if self.encoder is not None:
            sizes = {"crop_size": self.crop_size, "photo_crop": self.photo_crop,
                     "photo_val_image_size": self.photo_val_image_size}
            if self.tiny_crop is not None:
                sizes["tiny_crop"] = self.tiny_crop
            if self.photos_dir is None:
                raise ValueError("an encoder run is calibrated and scored on photos: give --photos DIR (a folder of "
                                 "color photos, one sub-folder per source).")
            sizes["image_size"] = self.image_size
            wrong = {k: v for k, v in sizes.items() if v % ENCODER_INPUT_MULTIPLE}
            if wrong:
                raise ValueError(f"with an encoder every input side must be a multiple of {ENCODER_INPUT_MULTIPLE}; "
                                 f"got {wrong}: give e.g. --crop-size 64 --photo-crop 128.")
            if self.decoder_width < 1:
                raise ValueError(f"decoder_width must be at least 1; got {self.decoder_width}.")
            if self.width != type(self).width:  # version 3's width means nothing to version 4's network
                raise ValueError(f"width is version 3's network width; with an encoder give --decoder-width instead "
                                 f"(got width {self.width}).")
            if self.fine_tune_from_block is not None and not 0 <= self.fine_tune_from_block <= 16:
                raise ValueError(f"fine_tune_from_block is an encoder block index, 0..15 (16: the head only); got "
                                 f"{self.fine_tune_from_block}.")
        if self.crop_size % 8 or self.crop_size > self.image_size:
            raise ValueError(f"crop_size must be a multiple of 8 and at most image_size ({self.image_size}); "
                             f"got {self.crop_size}.")
        if self.tiny_crop is not None and (self.tiny_crop % 8 or self.tiny_crop < 8
                                           or not 0 < self.tiny_min_crop <= self.image_size):
            raise ValueError(f"tiny_crop must be a positive multiple of 8 and tiny_min_crop in (0, image_size "
                             f"{self.image_size}]; got {self.tiny_crop} and {self.tiny_min_crop}.")
        for name in ("train_size", "val_size", "test_size", "batch_size", "steps", "steps_per_epoch", "width"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1; got {getattr(self, name)}.")
        if self.photos_dir is not None:
            if not Path(self.photos_dir).expanduser().is_dir():
                raise ValueError(f"photos_dir {self.photos_dir} is not a folder; give a folder of color photos "
                                 "(sub-folders are treated as sources and the split is stratified by them).")
            if self.photo_crop % 8 or not 0 < self.photo_min_crop <= self.photo_size:
                raise ValueError(f"photo_crop must be a multiple of 8 and photo_min_crop in (0, photo_size]; got "
                                 f"{self.photo_crop}, {self.photo_min_crop}, {self.photo_size}.")
            if self.photo_val_image_size % 8 or self.photo_val_image_size > self.photo_size:
                raise ValueError(f"photo_val_image_size must be a multiple of 8 and at most photo_size; got "
                                 f"{self.photo_val_image_size}.")
            if not self.batch_pattern or set(self.batch_pattern) - {"p", "t"} or "p" not in self.batch_pattern:
                raise ValueError(f"batch_pattern is a string of p (photos) and t (Tiny ImageNet) holding at "
                                 f"least one p; got {self.batch_pattern!r}.")
        if not 0.0 <= self.rebalance_lambda <= 1.0:
            raise ValueError(f"rebalance_lambda must be in [0, 1]; got {self.rebalance_lambda}.")
        if self.distribute not in DISTRIBUTE_MODES:  # whether the Keras backend can run it: distribute.py
            raise ValueError(f"Unknown distribute mode {self.distribute!r}; choose one of "
                             f"{', '.join(DISTRIBUTE_MODES)}.")
        check_precision(self.precision)
        if self.init_from is not None:
            folder = Path(self.init_from).expanduser()
            if not all((folder / name).is_file() for name in ("model.keras", "bins.json")):
                raise ValueError(f"init_from {self.init_from} holds no model.keras and bins.json; give the folder of "
                                 "a finished train-colorizer run (its kept checkpoint and bins are read).")
            if (folder / "config.json").is_file():
                # A run from before the global_context option had no such branch.
                earlier = {"global_context": False, **json.loads((folder / "config.json").read_text())}
                width, context = int(earlier.get("width", self.width)), bool(earlier["global_context"])
                # A second stage continues the same network: its weights are copied one for one.
                if width != self.width or context != self.global_context:
                    raise ValueError(f"init_from {self.init_from} was trained with width {width} and global_context "
                                     f"{context}; this run needs the same (got width {self.width} and global_context "
                                     f"{self.global_context}): give --width {width}"
                                     + (" without" if context else " with") + " --no-global-context.")
