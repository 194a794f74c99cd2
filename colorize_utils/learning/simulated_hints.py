"""Simulated user hints for training a hint colorizer, as Zhang et al. 2017 simulate theirs.

Per image, the number of points follows a geometric distribution (P(n) = p (1 - p)^n, n = 0, 1, ...; p = 1/8, so
one image in eight gets none and the mean is 7), capped at MAX_POINTS. Each point is a square patch of 1 x 1 to
9 x 9 pixels at a uniformly random place, carrying the mean ground-truth ab of that patch. The planes are those
runtime.hints.hint_planes gives a user's clicks: a / HINT_AB_SCALE, b / HINT_AB_SCALE and a mask.

TensorFlow ops (the training pipeline is tf.data); stateless random numbers from a (2,) seed tensor, so the same
seed gives the same hints.
"""

from __future__ import annotations

from colorize_utils.runtime.encoder_colorizer import HINT_AB_SCALE

GEOMETRIC_P = 1.0 / 8.0
MAX_POINTS = 48  # P(n > 48) = (7/8)^49, about 0.14%
MAX_PATCH = 9


def point_counts(batch: int, seed, p: float = GEOMETRIC_P, max_points: int = MAX_POINTS):
    """(batch,) int32 numbers of points, geometric with parameter p (failures before the first success), capped."""
    import tensorflow as tf

    uniform = tf.random.stateless_uniform([batch], seed, minval=1e-7, maxval=1.0)
    counts = tf.floor(tf.math.log(uniform) / tf.math.log(1.0 - p))
    return tf.cast(tf.minimum(counts, float(max_points)), tf.int32)


def simulate_hints(ab, seed, p: float = GEOMETRIC_P, max_points: int = MAX_POINTS, max_patch: int = MAX_PATCH):
    """Hint planes (B, H, W, 3) for ground-truth ab (B, H, W, 2) in Lab units; `seed` a (2,) int tensor."""
    import tensorflow as tf

    ab = tf.cast(ab, tf.float32)
    shape = tf.shape(ab)
    batch, height, width = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    counts = point_counts(batch, seeds[0], p, max_points)
    active = tf.cast(tf.range(max_points)[None, :] < counts[:, None], tf.float32)  # (B, K)
    sizes = tf.random.stateless_uniform([batch, max_points], seeds[1], 1, max_patch + 1, dtype=tf.int32)
    sizes = tf.minimum(sizes, tf.minimum(height, width))
    tops = tf.cast(tf.random.stateless_uniform([batch, max_points], seeds[2])
                   * tf.cast(height - sizes + 1, tf.float32), tf.int32)
    lefts = tf.cast(tf.random.stateless_uniform([batch, max_points], seeds[3])
                    * tf.cast(width - sizes + 1, tf.float32), tf.int32)

    def spans(starts, length):  # (B, K, length): 1 on [start, start + size)
        positions = tf.range(length)[None, None, :]
        return tf.cast((positions >= starts[..., None]) & (positions < (starts + sizes)[..., None]), tf.float32)

    rows, cols = spans(tops, height), spans(lefts, width)
    # Each patch's mean ab: sum over its rows, then its columns, over its area.
    patch_sum = tf.einsum("bkw,bkwc->bkc", cols, tf.einsum("bkh,bhwc->bkwc", rows, ab))
    patch_mean = patch_sum / tf.cast(sizes * sizes, tf.float32)[..., None]
    weights = rows * active[..., None]
    cover = tf.einsum("bkh,bkw->bhw", weights, cols)
    summed = tf.einsum("bkh,bkw,bkc->bhwc", weights, cols, patch_mean)
    mask = tf.minimum(cover, 1.0)[..., None]
    hint_ab = summed / tf.maximum(cover, 1.0)[..., None]  # overlapping patches: their mean
    return tf.concat([hint_ab / HINT_AB_SCALE * mask, mask], axis=-1)
