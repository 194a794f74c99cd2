"""Splits: which color images (from sources.py) go to train / val / test.

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
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from colorize_utils import config
from colorize_utils.images import ScanResult, fit_to_size, read_rgb, scan_image
from colorize_utils.learning.sources import (SPLIT_NAMES, TINY_IMAGENET_URL, cifar10_pools, download_tiny_imagenet, find_tiny_imagenet,
                      folder_pool, sample_pools, synset_names, tiny_imagenet_pools)

SOURCES = ("auto", "tiny-imagenet", "cifar10", "samples", "folder:<path>")


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
        train_pool, test_pool, where = cifar10_pools(root, download)
        report.root = where
        return _make_splits(train_pool, test_pool, sizes, seed, report, image_size)
    if source.startswith("folder:"):
        folder = Path(source.split(":", 1)[1]).expanduser()
        report.root = str(folder)
        return _make_splits(folder_pool(folder), None, sizes, seed, report, image_size)
    if source == "samples":
        report.root = "photos shipped with scikit-image and matplotlib"
        pools = sample_pools(sizes, image_size, seed)
        report.notes.append("The samples are crops of 5 photos (train: astronaut, coffee, rocket; "
                            "val: grace_hopper; test: chelsea): a demonstration set, not a benchmark.")
        splits = {}
        for name, count in zip(SPLIT_NAMES, sizes):
            rng = np.random.default_rng(seed)
            splits[name] = _SplitTaker(pools[name], rng, report).take(name, count)
        report.sizes = {name: len(split) for name, split in splits.items()}
        return ColorizationData(splits["train"], splits["val"], splits["test"], report, image_size)
    raise ValueError(f"Unknown data source {source!r}; choose one of {SOURCES}.")
