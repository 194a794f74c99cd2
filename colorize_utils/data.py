"""Data sources and splits: where the color images come from, and which go to train / val / test.

`load_splits(source, sizes, ...)` returns disjoint, seed-deterministic splits of color images plus a
`DataReport` that counts what was skipped (unreadable files, grayscale images) and converted
(RGBA, palette, CMYK, 16-bit ...). `pipeline.make_dataset()` turns a split into a tf.data pipeline;
`split_to_lab()` turns it into numpy (L, ab) arrays for any Keras backend.

Sources:
- "tiny-imagenet": the 64x64 ImageNet subset in its original `tiny-imagenet-200/` layout, looked up
  under the data directory and downloaded from its public zip when missing.
- "cifar10": a `cifar10/{train,test}/<class>/*.jpg` tree under the data directory, else tensorflow-datasets.
- "folder:<path>": any tree of image files (config.IMAGE_EXTENSIONS; sub-folder name = label).
- "samples": natural color photos shipped inside installed packages, cut into crops; works offline.
- "auto": Tiny ImageNet when present or downloadable, else the samples (and the report says so).
"""

from __future__ import annotations

import dataclasses
import os
import urllib.parse
import zipfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from . import config
from .config import IMAGE_EXTENSIONS
from .images import ScanResult, fit_to_size, pil_to_rgb, read_rgb, scan_image

TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
TINY_IMAGENET_DIRNAME = "tiny-imagenet-200"
SOURCES = ("auto", "tiny-imagenet", "cifar10", "samples", "folder:<path>")
SPLIT_NAMES = ("train", "val", "test")

# ----------------------------------------------------------------------------- splits and report


@dataclass
class ImageSplit:
    """One split: either image file paths (decoded by the pipeline) or in-memory uint8 images."""

    name: str
    labels: list[str]
    paths: list[str] | None = None
    needs_pil: list[bool] | None = None  # per file: decode with PIL (format or mode TF cannot read as wanted)
    formats: list[str] | None = None  # per file: PIL's format name ("JPEG", "PNG", ...)
    shapes: list[tuple] | None = None  # per file: (height, width) as stored
    images: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, count: int) -> "ImageSplit":
        """The first `count` images of the split."""
        return self.slice(0, count)

    def slice(self, start: int, stop: int) -> "ImageSplit":
        """Images start..stop-1 of the split (for decoding a large split chunk by chunk)."""
        def cut(values):
            return None if values is None else values[start:stop]
        return ImageSplit(self.name, self.labels[start:stop], cut(self.paths), cut(self.needs_pil),
                          cut(self.formats), cut(self.shapes), cut(self.images))

    def rgb(self, image_size: int) -> np.ndarray:
        """All images as a uint8 array (N, size, size, 3), decoded with PIL (no TensorFlow needed)."""
        if self.images is not None:
            return np.stack([fit_to_size(image, image_size) for image in self.images]) \
                if len(self.images) else np.zeros((0, image_size, image_size, 3), np.uint8)
        with ThreadPoolExecutor(max_workers=8) as pool:
            images = list(pool.map(lambda p: fit_to_size(read_rgb(p), image_size), self.paths))
        return np.stack(images) if images else np.zeros((0, image_size, image_size, 3), np.uint8)


@dataclass
class DataReport:
    """What load_splits() did: the source, the sizes asked and got, and what it skipped or converted."""

    source: str
    root: str
    seed: int
    requested: dict
    sizes: dict = field(default_factory=dict)
    skipped_corrupt: int = 0
    skipped_gray: int = 0
    converted: dict = field(default_factory=dict)
    corrupt_examples: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain dict for metrics records."""
        return dataclasses.asdict(self)

    def summary(self) -> str:
        """Human-readable account, printed by the notebooks."""
        lines = [f"source: {self.source} ({self.root})",
                 "sizes: " + ", ".join(f"{k} {v}" for k, v in self.sizes.items())
                 + "  (requested " + ", ".join(f"{k} {v}" for k, v in self.requested.items()) + ")",
                 f"skipped: {self.skipped_corrupt} unreadable, {self.skipped_gray} grayscale",
                 "converted via PIL: " + (", ".join(f"{v} {k}" for k, v in sorted(self.converted.items()))
                                           or "none")]
        # The fallback line ("Data: ... unavailable ...") was printed when it happened: not twice.
        lines += [f"note: {note}" for note in self.notes if not note.startswith("Data: ")]
        return "\n".join(lines)


@dataclass
class ColorizationData:
    """The three splits and the report of how they were made."""

    train: ImageSplit
    val: ImageSplit
    test: ImageSplit
    report: DataReport
    image_size: int
    label_names: dict = field(default_factory=dict)  # e.g. wnid -> "goldfish" for Tiny ImageNet

    def __getitem__(self, name: str) -> ImageSplit:
        if name not in SPLIT_NAMES:
            raise KeyError(f"split must be one of {SPLIT_NAMES}; got {name!r}")
        return getattr(self, name)

    def readable_labels(self, split: str, count: int | None = None) -> list[str]:
        """The first `count` labels of a split, as names where known (for figure captions)."""
        labels = self[split].labels[:count]
        return [self.label_names.get(label, label) for label in labels]


def record_scan(report: DataReport, item, result: ScanResult) -> bool:
    """Count a skipped or converted image in `report`; True when it can be used."""
    if result.status == "corrupt":
        report.skipped_corrupt += 1
        if len(report.corrupt_examples) < 10:
            report.corrupt_examples.append(f"{item}: {result.error}")
        return False
    if result.status == "gray":
        report.skipped_gray += 1
        return False
    if result.needs_pil:
        kind = f"{result.image_format} {result.mode}"
        report.converted[kind] = report.converted.get(kind, 0) + 1
    return True


class _SplitTaker:
    """Takes valid images class by class in rounds (one per class per round), scanning as it goes.

    Every split it hands out is balanced across classes to within one image, and successive
    take() calls never return an image twice, so splits drawn from one taker are disjoint.
    """

    def __init__(self, pool: dict[str, list], rng: np.random.Generator, report: DataReport):
        classes = sorted(pool)
        rng.shuffle(classes)
        self.queues = [(label, deque(pool[label][i] for i in rng.permutation(len(pool[label]))))
                       for label in classes]
        self.report = report

    def take(self, name: str, count: int) -> ImageSplit:
        chosen: list[tuple] = []
        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(chosen) < count:
                # One round: the next usable image of each class that still has images.
                wanting = [queue for queue in self.queues if queue[1]][:count - len(chosen)]
                if not wanting:
                    break
                while wanting:
                    candidates = [(label, queue.popleft()) for label, queue in wanting]
                    results = list(pool.map(lambda candidate: scan_image(candidate[1]), candidates))
                    retry = []
                    for (label, item), result, queue in zip(candidates, results, wanting):
                        if record_scan(self.report, item, result):
                            chosen.append((item, label, result))
                        elif queue[1]:
                            retry.append(queue)
                    wanting = retry
        if len(chosen) < count:
            self.report.notes.append(
                f"{name}: only {len(chosen)} usable images of the {count} requested.")
        labels = [label for _, label, _ in chosen]
        if chosen and isinstance(chosen[0][0], np.ndarray):
            return ImageSplit(name, labels, images=np.stack([item for item, _, _ in chosen]))
        return ImageSplit(name, labels, paths=[str(item) for item, _, _ in chosen],
                          needs_pil=[scan.needs_pil for _, _, scan in chosen],
                          formats=[scan.image_format for _, _, scan in chosen],
                          shapes=[tuple(scan.shape) for _, _, scan in chosen])


MIN_TRAIN_IMAGES = 10  # fewer usable training images than this (unless fewer were asked for) is refused


def scale_sizes(sizes, available: int) -> tuple[int, int, int]:
    """Shrink (train, val, test) in proportion when one pool holds fewer images than they add up to."""
    train_size, val_size, test_size = sizes
    total = train_size + val_size + test_size
    if available >= total:
        return train_size, val_size, test_size
    val = val_size * available // total
    test = test_size * available // total
    return available - val - test, val, test


def _make_splits(train_pool: dict, test_pool: dict | None, sizes, seed: int, report: DataReport,
                 image_size: int) -> ColorizationData:
    """Test from the test pool when there is one (else first from the train pool), then val, then train.

    When one pool must supply all three splits and holds fewer files than they add up to (a folder of
    someone's own photos), the three are scaled down in proportion, and the report says so.
    """
    train_size, val_size, test_size = (int(s) for s in sizes)
    if min(train_size, val_size, test_size) < 0 or train_size == 0:
        raise ValueError(f"sizes must be (train > 0, val >= 0, test >= 0); got {sizes}.")
    if not test_pool and (val_size or test_size):
        available = sum(len(items) for items in train_pool.values())
        scaled = scale_sizes((train_size, val_size, test_size), available)
        if scaled != (train_size, val_size, test_size):
            note = (f"{available} images for train/val/test of {train_size}/{val_size}/{test_size}: "
                    f"scaled in proportion to {scaled[0]}/{scaled[1]}/{scaled[2]}.")
            report.notes.append(note)
            print(note, flush=True)
            train_size, val_size, test_size = scaled
    rng = np.random.default_rng(seed)
    train_taker = _SplitTaker(train_pool, rng, report)
    test_taker = _SplitTaker(test_pool, rng, report) if test_pool else train_taker
    test = test_taker.take("test", test_size)
    val = train_taker.take("val", val_size)
    train = train_taker.take("train", train_size)
    report.sizes = {"train": len(train), "val": len(val), "test": len(test)}
    if len(train) < min(MIN_TRAIN_IMAGES, int(sizes[0])):
        raise ValueError(f"Only {len(train)} usable color images are left for training in {report.root} "
                         f"(val {len(val)}, test {len(test)}); at least {MIN_TRAIN_IMAGES} are needed. Add color "
                         f"photos, or ask for smaller val/test sizes.\n{report.summary()}")
    return ColorizationData(train, val, test, report, image_size)


def stratified_folder_splits(root: str | os.PathLike, val_size: int, test_size: int, seed: int = 0,
                             image_size: int = 160) -> ColorizationData:
    """Train / val / test splits of a folder of photos, stratified by first sub-folder (e.g. the source).

    Each sub-folder gives val and test their share of `val_size` and `test_size` in proportion to its
    size (largest remainders), and every other usable photo to train. Which photo goes where depends only
    on `seed` and the photos' relative paths (a hash), never on the file system's order or on the
    machine, so the split is the same wherever the folder is. Unreadable and gray photos are skipped and
    counted, as load_splits() does.
    """
    import hashlib

    root = Path(root).expanduser()
    pool = folder_pool(root)
    total = sum(len(items) for items in pool.values())
    if val_size < 0 or test_size < 0 or val_size + test_size >= total:
        raise ValueError(f"val_size + test_size must be below the {total} photos under {root}; "
                         f"got {val_size} + {test_size}.")
    report = DataReport(source=f"folder:{root}", root=str(root), seed=seed,
                        requested={"train": total - val_size - test_size, "val": val_size, "test": test_size})
    report.notes.append(f"split stratified by sub-folder ({len(pool)}), by a hash of seed {seed} and each "
                        "relative path")

    def shares(count: int) -> dict[str, int]:
        exact = {label: count * len(items) / total for label, items in pool.items()}
        given = {label: int(value) for label, value in exact.items()}
        for label in sorted(exact, key=lambda k: (given[k] - exact[k], k))[:count - sum(given.values())]:
            given[label] += 1
        return given

    val_shares, test_shares = shares(val_size), shares(test_size)
    chosen: dict[str, list[tuple[str, str]]] = {name: [] for name in SPLIT_NAMES}
    for label in sorted(pool):
        ordered = sorted(pool[label], key=lambda path: hashlib.sha1(
            f"{seed}:{Path(path).relative_to(root).as_posix()}".encode()).hexdigest())
        cut_test, cut_val = test_shares[label], test_shares[label] + val_shares[label]
        chosen["test"] += [(path, label) for path in ordered[:cut_test]]
        chosen["val"] += [(path, label) for path in ordered[cut_test:cut_val]]
        chosen["train"] += [(path, label) for path in ordered[cut_val:]]
    splits = {}
    with ThreadPoolExecutor(max_workers=8) as workers:
        for name in SPLIT_NAMES:
            items = chosen[name]
            scans = list(workers.map(lambda item: scan_image(item[0]), items))
            kept = [(item, scan) for item, scan in zip(items, scans) if record_scan(report, item[0], scan)]
            splits[name] = ImageSplit(name, [label for (_, label), _ in kept], paths=[path for (path, _), _ in kept],
                                      needs_pil=[scan.needs_pil for _, scan in kept],
                                      formats=[scan.image_format for _, scan in kept],
                                      shapes=[tuple(scan.shape) for _, scan in kept])
    report.sizes = {name: len(split) for name, split in splits.items()}
    return ColorizationData(splits["train"], splits["val"], splits["test"], report, image_size)


# ----------------------------------------------------------------------------- sources


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def folder_pool(root: str | os.PathLike) -> dict[str, list[str]]:
    """Images under `root` grouped by their first sub-folder (the label; '' for files at the top)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder {root} does not exist.")
    pool: dict[str, list[str]] = {}
    for path in _list_images(root):
        relative = path.relative_to(root).parts
        pool.setdefault(relative[0] if len(relative) > 1 else "", []).append(str(path))
    if not pool:
        raise ValueError(f"No image files ({', '.join(IMAGE_EXTENSIONS)}) found under {root}.")
    return pool


def find_tiny_imagenet(root: Path) -> Path | None:
    """The tiny-imagenet-200 folder under a data directory (plain, or as keras.utils.get_file extracts it)."""
    for candidate in (root / TINY_IMAGENET_DIRNAME,
                      root / f"{TINY_IMAGENET_DIRNAME}_extracted" / TINY_IMAGENET_DIRNAME):
        if (candidate / "train").is_dir() and (candidate / "wnids.txt").is_file():
            return candidate
    return None


def download_tiny_imagenet(root: Path, origin: str = TINY_IMAGENET_URL) -> Path:
    """Download and extract the public Tiny ImageNet zip (about 237 MB) into the data directory."""
    import keras

    host = urllib.parse.urlsplit(origin).hostname or ""
    if host and not _host_resolves(host):
        # Keras would print "Downloading data from ..." and then fail: say at once that it cannot work.
        raise RuntimeError(f"{host} cannot be reached (no network?), so Tiny ImageNet cannot be downloaded "
                           f"from {origin}.\nPlace the unzipped folder at {root / TINY_IMAGENET_DIRNAME} "
                           "(or set COLORIZE_DATA_DIR to a folder that holds tiny-imagenet-200/).")
    root.mkdir(parents=True, exist_ok=True)
    try:
        keras.utils.get_file("tiny-imagenet-200.zip", origin=origin, cache_dir=str(root),
                             cache_subdir="", extract=True)
    except Exception as error:
        raise RuntimeError(
            f"Could not download Tiny ImageNet from {origin} ({error}).\n"
            f"Without a network, place the unzipped folder at {root / TINY_IMAGENET_DIRNAME} "
            "(or set COLORIZE_DATA_DIR to a folder that holds tiny-imagenet-200/)."
        ) from error
    found = find_tiny_imagenet(root)
    if found is None:
        raise RuntimeError(f"The archive from {origin} did not contain a tiny-imagenet-200/ folder "
                           f"with train/ and wnids.txt (looked in {root}).")
    zip_path = root / "tiny-imagenet-200.zip"
    if zip_path.exists() and zipfile.is_zipfile(zip_path):
        zip_path.unlink()  # extracted: the 237 MB archive is no longer needed
    return found


def synset_names(root: str | os.PathLike) -> dict[str, str]:
    """wnid -> first name from Tiny ImageNet's words.txt (empty when it is missing)."""
    words = Path(root) / "words.txt"
    if not words.exists():
        return {}
    names = {}
    for line in words.read_text().splitlines():
        parts = line.split("\t", 1)
        if len(parts) == 2:
            names[parts[0]] = parts[1].split(",")[0]
    return names


def tiny_imagenet_pools(root: Path) -> tuple[dict, dict | None]:
    """Train pool from train/<wnid>/images, test pool from val/ (labelled by val_annotations.txt)."""
    train_pool = {}
    for class_dir in sorted((root / "train").iterdir()):
        images = _list_images(class_dir / "images") if (class_dir / "images").is_dir() else []
        if images:
            train_pool[class_dir.name] = [str(p) for p in images]
    if not train_pool:
        raise ValueError(f"{root}/train holds no <wnid>/images/*.JPEG files; is the download complete?")
    test_pool: dict[str, list[str]] = {}
    annotations = root / "val" / "val_annotations.txt"
    if annotations.is_file():
        for line in annotations.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and (root / "val" / "images" / parts[0]).is_file():
                test_pool.setdefault(parts[1], []).append(str(root / "val" / "images" / parts[0]))
    return train_pool, (test_pool or None)


CIFAR10_HOST = "www.cs.toronto.edu"  # where tensorflow-datasets downloads CIFAR-10 from


def _host_resolves(host: str) -> bool:
    """True when the host name resolves: a quick, offline-safe check before a download."""
    import socket

    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def _cifar10_pools(root: Path, download: bool) -> tuple[dict, dict | None, str]:
    """CIFAR-10 from a cifar10/{train,test}/<class>/ tree, else from tensorflow-datasets."""
    folder = root / "cifar10"
    if (folder / "train").is_dir():
        test = folder_pool(folder / "test") if (folder / "test").is_dir() else None
        return folder_pool(folder / "train"), test, str(folder)
    if download and not _host_resolves(CIFAR10_HOST):
        # tensorflow-datasets would retry for minutes before giving up; say so at once instead.
        raise RuntimeError(f"CIFAR-10 is not under {root} and {CIFAR10_HOST} cannot be reached (no network?). "
                           f"Put a cifar10/{{train,test}}/<class>/*.jpg tree in {root}, or run with a network.")
    if not download and not (root / "tensorflow_datasets" / "cifar10").is_dir():
        # Nothing prepared and no download asked for: tensorflow-datasets would only go looking online for
        # its metadata (and leave a temporary folder behind) before failing the same way.
        raise RuntimeError(
            f"CIFAR-10 is not available: neither {folder}/{{train,test}}/<class>/ nor a prepared "
            f"tensorflow-datasets copy in {root / 'tensorflow_datasets'}.\n"
            f"Either put a cifar10/{{train,test}}/<class>/*.jpg tree in {root}, or run once with a "
            "network so tensorflow-datasets can download it (download=True).")
    os.environ.setdefault("TFDS_DATA_DIR", str(root / "tensorflow_datasets"))
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder("cifar10", data_dir=str(root / "tensorflow_datasets"))
        if download:
            builder.download_and_prepare()
        names = builder.info.features["label"].names
        pools = []
        for split in ("train", "test"):
            images, labels = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1,
                                                              as_supervised=True))
            pool: dict[str, list] = {}
            for image, label in zip(images, labels):
                pool.setdefault(names[int(label)], []).append(image)
            pools.append(pool)
    except Exception as error:
        raise RuntimeError(
            f"CIFAR-10 is not available ({type(error).__name__}: {error}).\n"
            f"Either put a cifar10/{{train,test}}/<class>/*.jpg tree in {root}, or run once with a "
            "network so tensorflow-datasets can download it (download=True)."
        ) from error
    return pools[0], pools[1], f"tensorflow-datasets cifar10 in {root / 'tensorflow_datasets'}"


# Natural color photos that ship inside installed packages: (name, loader). Split by photo so test
# crops never come from a training photo.
def _sample_photos() -> dict[str, np.ndarray]:
    import matplotlib.cbook
    import skimage.data

    photos = {name: getattr(skimage.data, name)() for name in ("astronaut", "coffee", "rocket", "chelsea")}
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        photos["grace_hopper"] = pil_to_rgb(Image.open(handle))
    return photos


# Full-size natural color photos that ship with scikit-image and matplotlib, for showing and scoring the
# shipped colorizer on photos it never saw (it is trained on Tiny ImageNet only).
NATURAL_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle", "grace_hopper")


def natural_photos(names: tuple[str, ...] = NATURAL_PHOTOS) -> dict[str, np.ndarray]:
    """Full-resolution uint8 RGB photos by name (see NATURAL_PHOTOS), offline."""
    import skimage.data

    photos = {}
    for name in names:
        if name == "grace_hopper":
            photos[name] = _sample_photos()["grace_hopper"]
        elif name == "motorcycle":
            photos[name] = np.ascontiguousarray(skimage.data.stereo_motorcycle()[0])
        elif name in ("astronaut", "coffee", "chelsea", "rocket"):
            photos[name] = np.ascontiguousarray(getattr(skimage.data, name)())
        else:
            raise ValueError(f"Unknown photo {name!r}; choose from {NATURAL_PHOTOS}.")
    return photos


SAMPLE_SPLIT_PHOTOS = {"train": ("astronaut", "coffee", "rocket"), "val": ("grace_hopper",),
                       "test": ("chelsea",)}


def sample_crops(photo: np.ndarray, count: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`count` random size x size crops of one photo at several scales, some mirrored."""
    scaled = []
    for factor in (1.5, 2.0, 3.0, 4.0):  # the photo's short side as a multiple of the crop size
        short = int(size * factor)
        height, width = photo.shape[:2]
        scale = short / min(height, width)
        scaled.append(np.asarray(Image.fromarray(photo).resize(
            (max(size, round(width * scale)), max(size, round(height * scale))), Image.BILINEAR)))
    crops = []
    for _ in range(count):
        image = scaled[rng.integers(len(scaled))]
        top = rng.integers(image.shape[0] - size + 1)
        left = rng.integers(image.shape[1] - size + 1)
        crop = image[top:top + size, left:left + size]
        crops.append(crop[:, ::-1].copy() if rng.random() < 0.5 else crop.copy())
    return crops


def _sample_pools(sizes, image_size: int, seed: int) -> dict[str, dict]:
    """One pool per split, each with enough crops (plus spares for gray skips) of that split's photos."""
    photos = _sample_photos()
    rng = np.random.default_rng(seed)
    pools = {}
    for split, count in zip(SPLIT_NAMES, sizes):
        names = SAMPLE_SPLIT_PHOTOS[split]
        per_photo = -(-int(count) // len(names)) + 4
        pools[split] = {name: sample_crops(photos[name], per_photo, image_size, rng) for name in names}
    return pools


def _first_reason(error: BaseException) -> str:
    """The innermost cause of an error, in one short line (no nested messages)."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "] " in text:  # "... -- [Errno -2] Name or service not known" -> "Name or service not known"
        text = text.rsplit("] ", 1)[1]
    return text if len(text) < 160 else text[:157] + "..."


def fallback_note(wanted: str, reason: str, used: str) -> str:
    """One plain line: what was tried, why it failed, what is used instead, and how to supply real data."""
    how = {"tiny-imagenet": "put the unzipped tiny-imagenet-200/ folder in a folder and set COLORIZE_DATA_DIR to it",
           "cifar10": "put a cifar10/{train,test}/<class>/*.jpg tree in a folder and set COLORIZE_DATA_DIR to it"}
    used_text = "the embedded sample photos (a demonstration set)" if used == "samples" else used
    return (f"Data: {wanted} unavailable ({reason}). Using {used_text} instead. For real data, "
            f"{how.get(wanted, 'pass another source')}.")


def check_source(source: str) -> None:
    """Raise a ValueError naming the accepted values when `source` is not a data source."""
    if source in SOURCES[:-1]:
        return
    if source.startswith("folder:"):
        folder = Path(source.split(":", 1)[1]).expanduser()
        if not folder.is_dir():
            raise ValueError(f"folder {folder} does not exist; give folder:/path/to/a/folder/of/images.")
        return
    raise ValueError(f"Unknown data source {source!r}; choose one of {', '.join(SOURCES)}.")


def load_splits(source: str = "auto", sizes=config.PAPER_SIZES, image_size: int = 64, seed: int = 0,
                root: str | os.PathLike | None = None, download: bool = True,
                fallback: str | None = None) -> ColorizationData:
    """Disjoint, seed-deterministic train / val / test splits of color images from a source.

    With `fallback` (e.g. "samples"), a source that cannot be had (no files, no network) is replaced
    by the fallback, and the report says so.
    """
    if fallback is not None and source != fallback:
        try:
            return load_splits(source, sizes, image_size, seed, root, download)
        except (RuntimeError, FileNotFoundError) as error:
            loaded = load_splits(fallback, sizes, image_size, seed, root, download)
            note = fallback_note(source, _first_reason(error), fallback)
            loaded.report.notes.insert(0, note)
            print(note, flush=True)
            return loaded
    root = Path(root) if root is not None else config.data_dir()
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) != 3:
        raise ValueError(f"sizes must be (train, val, test); got {sizes}.")
    report = DataReport(source=source, root=str(root), seed=seed,
                        requested=dict(zip(SPLIT_NAMES, sizes)))
    if source == "auto":
        found = find_tiny_imagenet(root)
        if found is None and download:
            try:
                found = download_tiny_imagenet(root)
            except RuntimeError as error:
                report.notes.append(fallback_note("tiny-imagenet", f"not under {root}, and the download failed: "
                                                  f"{_first_reason(error)}", "samples"))
        if found is None:
            if not report.notes:
                report.notes.append(fallback_note("tiny-imagenet", f"not under {root}", "samples"))
            source = "samples"
        else:
            source = "tiny-imagenet"
        report.source = source
        if source == "samples":
            print(report.notes[0], flush=True)
    if source == "tiny-imagenet":
        found = find_tiny_imagenet(root)
        if found is None:
            if not download:
                raise FileNotFoundError(
                    f"Tiny ImageNet not found under {root}. Put the unzipped tiny-imagenet-200/ folder "
                    f"there, set COLORIZE_DATA_DIR, or pass download=True to fetch {TINY_IMAGENET_URL}.")
            found = download_tiny_imagenet(root)
        report.root = str(found)
        train_pool, test_pool = tiny_imagenet_pools(found)
        loaded = _make_splits(train_pool, test_pool, sizes, seed, report, image_size)
        loaded.label_names = synset_names(found)
        return loaded
    if source == "cifar10":
        train_pool, test_pool, where = _cifar10_pools(root, download)
        report.root = where
        return _make_splits(train_pool, test_pool, sizes, seed, report, image_size)
    if source.startswith("folder:"):
        folder = Path(source.split(":", 1)[1]).expanduser()
        report.root = str(folder)
        return _make_splits(folder_pool(folder), None, sizes, seed, report, image_size)
    if source == "samples":
        report.root = "photos shipped with scikit-image and matplotlib"
        pools = _sample_pools(sizes, image_size, seed)
        report.notes.append("The samples are crops of 5 photos (train: astronaut, coffee, rocket; "
                            "val: grace_hopper; test: chelsea): a demonstration set, not a benchmark.")
        splits = {}
        for name, count in zip(SPLIT_NAMES, sizes):
            rng = np.random.default_rng(seed)
            splits[name] = _SplitTaker(pools[name], rng, report).take(name, count)
        report.sizes = {name: len(split) for name, split in splits.items()}
        return ColorizationData(splits["train"], splits["val"], splits["test"], report, image_size)
    raise ValueError(f"Unknown data source {source!r}; choose one of {SOURCES}.")
