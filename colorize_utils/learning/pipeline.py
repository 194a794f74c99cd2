"""The tf.data Lab pipeline: files -> decode -> size -> (L, ab) -> cache -> shuffle -> batch -> prefetch.

Decoding runs in parallel inside TensorFlow; the rare files TF cannot read as we want (CMYK, WebP,
alpha, palette, 16-bit) are flagged by the data scan and decoded with PIL instead. The Lab conversion runs
on batches, vectorised and fused by XLA. Splits up to LAB_CACHE_BYTES of float Lab (every profile's) are
cached after the conversion, so later epochs only shuffle and batch; larger ones cache the uint8 images
(4x smaller) and convert each batch every epoch.

`split_to_lab()` gives the same (L, ab) as numpy arrays without TensorFlow, for the JAX backend.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from keras import ops

from colorize_utils import config
from colorize_utils.binning import ChannelBins
from colorize_utils.color import uint8_rgb_to_lab, uint8_rgb_to_lab_np
from colorize_utils.learning.data import ImageSplit
from colorize_utils.images import fit_to_size, read_rgb


def rgb_uint8_to_model_pair(rgb_uint8, binning: ChannelBins | None = None):
    """uint8 RGB (..., 3) -> (L (..., 1) in [0, 100], ab (..., 2) in Lab units, or ab bin indices)."""
    lab = uint8_rgb_to_lab(rgb_uint8)
    lightness, ab = lab[..., :1], lab[..., 1:]
    return lightness, (binning.encode(ab) if binning is not None else ab)


def split_to_lab(split: ImageSplit, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """A whole split as numpy arrays L (N, H, W, 1) and ab (N, H, W, 2), on any Keras backend."""
    lightness, ab = rgb_uint8_to_model_pair(split.rgb(image_size))
    return ops.convert_to_numpy(lightness), ops.convert_to_numpy(ab)


def ab_chunks(split: ImageSplit, image_size: int, images_per_chunk: int = 1_000):
    """ab (n, H, W, 2) of a split, `images_per_chunk` images at a time: a pass over all of its pixels in
    constant memory (what the run's bins and the mean-color baseline are fitted on)."""
    for start in range(0, len(split), images_per_chunk):
        yield split_to_lab(split.slice(start, min(len(split), start + images_per_chunk)), image_size)[1]


def _decode_with_pil(path, image_size) -> np.ndarray:
    return fit_to_size(read_rgb(path.decode() if isinstance(path, bytes) else path), int(image_size))


def _decode_file(path, needs_pil, image_size: int):
    """One file -> uint8 (size, size, 3) tensor, by TF's decoders or, when flagged, by PIL."""
    import tensorflow as tf

    def with_tf():
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return _fit_to_size_tf(image, image_size)

    def with_pil():
        return tf.numpy_function(_decode_with_pil, [path, image_size], tf.uint8, stateful=False)

    image = tf.cond(needs_pil, with_pil, with_tf)
    image.set_shape([image_size, image_size, 3])
    return image


def _fit_to_size_tf(image, size: int):
    """TF twin of data.fit_to_size: shorter side to `size`, centre crop; untouched when already so."""
    import tensorflow as tf

    shape = tf.shape(image)
    height, width = shape[0], shape[1]

    def resize_and_crop():
        scale = tf.cast(size, tf.float32) / tf.cast(tf.minimum(height, width), tf.float32)
        new_h = tf.maximum(size, tf.cast(tf.round(tf.cast(height, tf.float32) * scale), tf.int32))
        new_w = tf.maximum(size, tf.cast(tf.round(tf.cast(width, tf.float32) * scale), tf.int32))
        resized = tf.image.resize(image, [new_h, new_w], antialias=True)
        cropped = tf.image.resize_with_crop_or_pad(resized, size, size)
        return tf.cast(tf.clip_by_value(tf.round(cropped), 0, 255), tf.uint8)

    same = tf.logical_and(tf.equal(height, size), tf.equal(width, size))
    return tf.cond(same, lambda: tf.cast(image, tf.uint8), resize_and_crop)


def rgb_dataset(split: ImageSplit, image_size: int):
    """tf.data.Dataset of uint8 (size, size, 3) images of a split, decoded in parallel, in split order."""
    import tensorflow as tf

    if split.images is not None:
        images = split.rgb(image_size)
        return tf.data.Dataset.from_tensor_slices(images)
    parallel = {"num_parallel_calls": tf.data.AUTOTUNE}
    native = split.shapes is not None and all(tuple(s) == (image_size, image_size) for s in split.shapes)
    if native and not any(split.needs_pil):
        # The common case (e.g. all of Tiny ImageNet): no per-file branches, and files decoded in
        # chunks of 64 per map call, which halves tf.data's per-element overhead (about 1.8x faster).
        all_jpeg = all(f == "JPEG" for f in split.formats or [""])
        spec = tf.TensorSpec([image_size, image_size, 3], tf.uint8)

        def decode_one(path):
            raw = tf.io.read_file(path)
            image = (tf.io.decode_jpeg(raw, channels=3) if all_jpeg
                     else tf.io.decode_image(raw, channels=3, expand_animations=False))
            image.set_shape(spec.shape)
            return image

        chunks = tf.data.Dataset.from_tensor_slices(split.paths).batch(64)
        return chunks.map(lambda paths: tf.map_fn(decode_one, paths, fn_output_signature=spec),
                          **parallel).unbatch()
    files = tf.data.Dataset.from_tensor_slices((split.paths, split.needs_pil))
    return files.map(lambda path, flag: _decode_file(path, flag, image_size), **parallel)


LAB_CACHE_BYTES = 1 << 30  # splits whose float Lab fits in 1 GiB (16,000 images of 64x64) are cached as Lab


def finish_dataset(dataset):
    """The last stage of every training pipeline: prefetch, with tf.data's autotuning turned off.

    Why off: Keras makes a new iterator for every validation pass (and every epoch of a finite dataset) and
    deletes the old one. Deleting it waits for one of tf.data's background threads, and on this 2-core
    machine that wait sometimes lasted 10-20 s with both cores idle. The demo's 50-bin model stalled for
    30-34 s in two 4-epoch runs with autotuning, and under 0.3 s without
    (`benchmarks/bench_iterator_stalls.py`). Without autotuning, each AUTOTUNE parallelism is fixed at
    min(16, usable cores), and prefetching still adapts its own buffer. The batches and their order are the
    same either way.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)


def make_dataset(split: ImageSplit, image_size: int, batch_size: int, shuffle: bool = False,
                 seed: int = 0, binning: ChannelBins | None = None, cache: bool = True,
                 drop_remainder: bool = False):
    """Batches of (L, ab) — or (L, ab bin indices) with a binning — from a split, ready for fit()."""
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("make_dataset() builds a tf.data pipeline, which needs KERAS_BACKEND=tensorflow; "
                           "on other backends use split_to_lab() for numpy arrays.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    if len(split) == 0:
        raise ValueError(f"The {split.name} split is empty; ask load_splits() for a size above 0.")
    dataset = rgb_dataset(split, image_size)
    # XLA fuses the ~30 element-wise ops of the Lab conversion into one pass: about 3x faster on CPU.
    cached_as_lab = cache and len(split) * image_size * image_size * 3 * 4 <= LAB_CACHE_BYTES
    if cached_as_lab:
        # Small enough to keep as float Lab: the conversion runs once, in the first pass, and every later
        # epoch only shuffles and batches (about 5x faster than converting each epoch; bench_pipeline.py).
        to_lab = tf.function(rgb_uint8_to_model_pair, jit_compile=True)
        dataset = dataset.batch(256).map(to_lab, num_parallel_calls=tf.data.AUTOTUNE).unbatch().cache()
        # unbatch() hides the length; stated again, fit() knows an epoch's batches before the first one ends
        # (else Keras warns "Your input ran out of data" at the end of every first epoch).
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(split)))
    elif cache:  # larger splits keep the uint8 images (4x smaller) and convert each batch every epoch
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(min(len(split), 10_000), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if not cached_as_lab:
        to_pair = tf.function(lambda images: rgb_uint8_to_model_pair(images, binning), jit_compile=True)
        dataset = dataset.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE)
    elif binning is not None:
        encode = tf.function(lambda lightness, ab: (lightness, binning.encode(ab)), jit_compile=True)
        dataset = dataset.map(encode, num_parallel_calls=tf.data.AUTOTUNE)
    return finish_dataset(dataset)


def make_colorizer_dataset(images: np.ndarray, batch_size: int, crop_size: int | None = None,
                           augment: bool = True, seed: int = 0, repeat: bool = True, downsample: int = 4,
                           hints: bool = False):
    """Batches of (L (crop, crop, 1), ab at 1/downsample resolution) from uint8 RGB images (N, H, W, 3).

    The fully convolutional colorizer's training data. `images` may be a numpy array or a memmap: it is
    never embedded in the graph (100,000 Tiny ImageNet images are 1.2 GB); shuffled indices are gathered
    in chunks instead. With `augment`: random horizontal flips and random `crop_size` crops (seeded);
    without, a centre crop. The ab target is each downsample x downsample block's mean ab, matching the
    model's 1/4-resolution output. `repeat` makes it endless, for training by steps rather than epochs.
    On a backend other than TensorFlow it is a Python generator of numpy batches with the same recipe.
    With `hints`, the inputs are (L, hint planes) with simulated hints (learning.simulated_hints; seeded, so
    the validation batches get the same hints every time); TensorFlow only.
    """
    import keras

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8 or len(images) == 0:
        raise ValueError(f"images must be a non-empty uint8 array (N, H, W, 3); got {images.dtype} {images.shape}.")
    count, height, width = images.shape[:3]
    crop = int(crop_size or min(height, width))
    if crop % (2 * downsample) or crop > min(height, width):
        raise ValueError(f"crop_size must be a multiple of {2 * downsample} and at most {min(height, width)}; "
                         f"got {crop}.")
    if keras.backend.backend() != "tensorflow":
        if hints:
            raise ValueError("simulated hints need the TensorFlow backend (tf.data); train with "
                             "KERAS_BACKEND=tensorflow.")
        return numpy_colorizer_batches(images, batch_size, crop, augment, seed, repeat, downsample)
    import tensorflow as tf

    indices = tf.data.Dataset.range(count)
    if augment:
        indices = indices.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        indices = indices.repeat()

    def gather(chunk):
        return images[np.sort(chunk)] if augment else images[chunk]

    spec = [None, height, width, 3]
    dataset = indices.batch(256).map(
        lambda chunk: tf.ensure_shape(tf.numpy_function(gather, [chunk], tf.uint8, stateful=False), spec),
        num_parallel_calls=tf.data.AUTOTUNE).unbatch()
    if augment:
        # A seeded stream of random numbers beside the images: stateless ops stay deterministic in parallel.
        randoms = tf.data.Dataset.random(seed=seed).batch(2)

        def augment_one(image, random_pair):
            image = tf.image.stateless_random_flip_left_right(image, tf.stack([random_pair[0], seed]))
            return tf.image.stateless_random_crop(image, [crop, crop, 3], tf.stack([random_pair[1], seed]))

        dataset = tf.data.Dataset.zip((dataset, randoms)).map(augment_one, num_parallel_calls=tf.data.AUTOTUNE)
    elif crop != height or crop != width:
        top, left = (height - crop) // 2, (width - crop) // 2
        dataset = dataset.map(lambda image: image[top:top + crop, left:left + crop],
                              num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=repeat)

    def to_pair(batch):
        lightness, ab = rgb_uint8_to_model_pair(batch)
        return lightness, ab if hints else tf.nn.avg_pool2d(ab, downsample, downsample, "VALID")

    dataset = dataset.map(tf.function(to_pair, jit_compile=True), num_parallel_calls=tf.data.AUTOTUNE)
    return finish_dataset(with_simulated_hints(dataset, seed, downsample) if hints else dataset)


def with_simulated_hints(dataset, seed: int, downsample: int = 4):
    """(L, full-resolution ab) batches -> ((L, hint planes), ab at 1/downsample), the hints simulated from the
    full-resolution ab. Seeded: the same seed gives the same hints."""
    import tensorflow as tf

    from colorize_utils.learning.simulated_hints import simulate_hints

    keys = tf.data.Dataset.random(seed=seed + 7919).batch(2)  # a stream apart from the crops' and flips'

    def add_hints(pair, key):
        lightness, ab = pair
        return (lightness, simulate_hints(ab, key)), tf.nn.avg_pool2d(ab, downsample, downsample, "VALID")

    return tf.data.Dataset.zip((dataset, keys)).map(add_hints, num_parallel_calls=tf.data.AUTOTUNE)


def make_photo_dataset(images: np.ndarray, batch_size: int, crop_size: int, min_crop: int, seed: int = 0,
                       downsample: int = 4, hints: bool = False):
    """Endless multi-scale batches of (L (crop, crop, 1), ab at 1/downsample) from uint8 photos (N, S, S, 3).

    Each photo gives a random square of side U(min_crop, S) at a random place, flipped left-right half the
    time and resized to crop_size x crop_size: the net sees whole scenes and close-ups alike, the range of
    scales a photo reaches it at when colorize() shrinks it to a working size. Seeded like
    make_colorizer_dataset: the same seed gives the same batches. TensorFlow only (tf.data). `hints`: as
    make_colorizer_dataset's.
    """
    import keras

    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8 or len(images) == 0:
        raise ValueError(f"images must be a non-empty uint8 array (N, S, S, 3); got {images.dtype} {images.shape}.")
    count, side = images.shape[0], images.shape[1]
    if crop_size % (2 * downsample) or not 0 < min_crop <= side:
        raise ValueError(f"crop_size must be a multiple of {2 * downsample} and min_crop in (0, {side}]; "
                         f"got {crop_size} and {min_crop}.")
    if keras.backend.backend() != "tensorflow":
        raise ValueError("make_photo_dataset needs the TensorFlow backend (tf.data); train photos with "
                         "KERAS_BACKEND=tensorflow.")
    import tensorflow as tf

    indices = tf.data.Dataset.range(count).shuffle(count, seed=seed, reshuffle_each_iteration=True).repeat()
    spec = [None, side, images.shape[2], 3]
    batches = indices.batch(batch_size, drop_remainder=True).map(
        lambda chunk: tf.ensure_shape(tf.numpy_function(lambda c: images[np.sort(c)], [chunk], tf.uint8,
                                                        stateful=False), spec),
        num_parallel_calls=tf.data.AUTOTUNE)
    keys = tf.data.Dataset.random(seed=seed).batch(4)

    def crop_flip_resize(batch, key):
        n = tf.shape(batch)[0]
        sizes = tf.random.stateless_uniform([n], tf.stack([key[0], seed]), min_crop / side, 1.0)
        tops = tf.random.stateless_uniform([n], tf.stack([key[1], seed])) * (1.0 - sizes)
        lefts = tf.random.stateless_uniform([n], tf.stack([key[2], seed])) * (1.0 - sizes)
        flip = tf.random.stateless_uniform([n], tf.stack([key[3], seed])) < 0.5
        # crop_and_resize flips a crop whose x2 < x1: the flip costs nothing extra.
        x1, x2 = tf.where(flip, lefts + sizes, lefts), tf.where(flip, lefts, lefts + sizes)
        boxes = tf.stack([tops, x1, tops + sizes, x2], axis=1)
        crops = tf.image.crop_and_resize(tf.cast(batch, tf.float32), boxes, tf.range(n), [crop_size, crop_size])
        lightness, ab = rgb_uint8_to_model_pair(tf.cast(tf.round(tf.clip_by_value(crops, 0, 255)), tf.uint8))
        return lightness, ab if hints else tf.nn.avg_pool2d(ab, downsample, downsample, "VALID")

    dataset = tf.data.Dataset.zip((batches, keys)).map(crop_flip_resize, num_parallel_calls=tf.data.AUTOTUNE)
    return finish_dataset(with_simulated_hints(dataset, seed, downsample) if hints else dataset)


def interleave_batches(datasets: list, pattern: list[int]):
    """One endless stream taking its next batch from datasets[pattern[0]], datasets[pattern[1]], ... in turn.

    Batches of different sources keep their own sizes (Keras traces one step per shape).
    """
    import tensorflow as tf

    if not pattern or min(pattern) < 0 or max(pattern) >= len(datasets):
        raise ValueError(f"pattern must index the {len(datasets)} datasets; got {pattern}.")
    choice = tf.data.Dataset.from_tensor_slices(tf.constant(pattern, tf.int64)).repeat()
    return finish_dataset(tf.data.Dataset.choose_from_datasets(datasets, choice))


_USABLE_CORES = config.usable_cores()
# Threads building the JAX path's batches ahead of training; none on one core (one thread alone measured 0.77x and
# 0.90x of none in bench_numpy_batches.py: it only adds hand-offs when it cannot run beside the training loop).
NUMPY_BATCH_WORKERS = min(4, _USABLE_CORES) if _USABLE_CORES > 1 else 0


def numpy_colorizer_batches(images: np.ndarray, batch_size: int, crop: int, augment: bool, seed: int, repeat: bool,
                            downsample: int, workers: int | None = None):
    """make_colorizer_dataset's recipe as a numpy generator (JAX and other backends have no tf.data).

    Like the tf.data version, an endless (`repeat`) stream takes its batches from one index stream that runs
    over pass after pass (each pass a fresh shuffle), so every batch is full even with fewer images than a
    batch; a single pass ends with a smaller last batch.

    The random choices (images, crops, flips) are drawn in order from one seeded stream; the costly part
    (gathering the crops, Lab conversion, the 1/4-resolution target) runs on `workers` threads (default
    NUMPY_BATCH_WORKERS; numpy releases the GIL in it) a few batches ahead of the one being trained on, so the
    accelerator need not wait for one CPU core. The batches and their order are the same for any `workers`.
    """
    workers = NUMPY_BATCH_WORKERS if workers is None else int(workers)
    plans = _colorizer_batch_plans(images.shape[:3], batch_size, crop, augment, seed, repeat)

    def build(plan):
        return _colorizer_batch(images, crop, downsample, *plan)

    if workers < 1:
        yield from map(build, plans)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="colorizer-batches")
    try:
        ahead = deque()
        for plan in plans:
            ahead.append(pool.submit(build, plan))
            if len(ahead) > 2 * workers:  # bounded look-ahead: a few batches in memory, not the whole stream
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:  # also when the consumer stops early: queued batches are dropped, not built
        pool.shutdown(wait=True, cancel_futures=True)


def _colorizer_batch_plans(shape: tuple, batch_size: int, crop: int, augment: bool, seed: int, repeat: bool):
    """The random part of numpy_colorizer_batches, in order: (image indices, crop tops, crop lefts, flips)."""
    rng = np.random.default_rng(seed)
    count, height, width = shape

    def index_stream():
        while True:
            yield from (rng.permutation(count) if augment else np.arange(count))
            if not repeat:
                return

    stream = index_stream()
    while True:
        picked = np.fromiter((index for _, index in zip(range(batch_size), stream)), np.int64)
        if not len(picked):
            return
        count_now = len(picked)
        if augment:
            tops = rng.integers(0, height - crop + 1, count_now)
            lefts = rng.integers(0, width - crop + 1, count_now)
            flips = rng.random(count_now) < 0.5
        else:
            tops = np.full(count_now, (height - crop) // 2)
            lefts = np.full(count_now, (width - crop) // 2)
            flips = np.zeros(count_now, bool)
        yield picked, tops, lefts, flips
        if count_now < batch_size:
            return


def _colorizer_batch(images: np.ndarray, crop: int, downsample: int, picked: np.ndarray, tops: np.ndarray,
                     lefts: np.ndarray, flips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One (L, ab at 1/downsample) batch: crops and flips of the whole batch by one fancy index (no per-image
    Python loop), converted to Lab on the host (no round trip through the accelerator)."""
    count_now = len(picked)
    offsets = np.arange(crop)
    rows = tops[:, None] + offsets
    cols = lefts[:, None] + np.where(flips[:, None], crop - 1 - offsets, offsets)
    batch = images[picked][np.arange(count_now)[:, None, None], rows[:, :, None], cols[:, None, :]]
    lab = uint8_rgb_to_lab_np(batch)
    lightness, ab = lab[..., :1], lab[..., 1:]
    small = ab.reshape(count_now, crop // downsample, downsample, crop // downsample, downsample, 2)
    return lightness, small.mean(axis=(2, 4))
