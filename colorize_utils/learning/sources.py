"""Where color images come from: Tiny ImageNet (found, or downloaded from its public zip), CIFAR-10 (a folder
tree, else tensorflow-datasets), any folder of photos, and the natural photos that ship inside scikit-image and
matplotlib (whole, or cut into crops: the offline `samples`). data.load_splits turns these pools into splits."""

from __future__ import annotations

import os
import urllib.parse
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from colorize_utils.config import IMAGE_EXTENSIONS
from colorize_utils.images import pil_to_rgb

TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
TINY_IMAGENET_DIRNAME = "tiny-imagenet-200"
SPLIT_NAMES = ("train", "val", "test")


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
    if host and not host_resolves(host):
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


def host_resolves(host: str) -> bool:
    """True when the host name resolves: a quick, offline-safe check before a download."""
    import socket

    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def cifar10_pools(root: Path, download: bool) -> tuple[dict, dict | None, str]:
    """CIFAR-10 from a cifar10/{train,test}/<class>/ tree, else from tensorflow-datasets."""
    folder = root / "cifar10"
    if (folder / "train").is_dir():
        test = folder_pool(folder / "test") if (folder / "test").is_dir() else None
        return folder_pool(folder / "train"), test, str(folder)
    if download and not host_resolves(CIFAR10_HOST):
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


def sample_pools(sizes, image_size: int, seed: int) -> dict[str, dict]:
    """One pool per split, each with enough crops (plus spares for gray skips) of that split's photos."""
    photos = _sample_photos()
    rng = np.random.default_rng(seed)
    pools = {}
    for split, count in zip(SPLIT_NAMES, sizes):
        names = SAMPLE_SPLIT_PHOTOS[split]
        per_photo = -(-int(count) // len(names)) + 4
        pools[split] = {name: sample_crops(photos[name], per_photo, image_size, rng) for name in names}
    return pools
