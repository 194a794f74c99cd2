"""sRGB <-> CIE Lab (D65, 2 degree observer) in keras.ops: batched, differentiable, backend-neutral.

The constants are those of skimage.color.rgb2lab / lab2rgb, so the two agree to float precision.
Every branch of a `where` is fed a clamped argument, because autodiff differentiates both
branches: an unclamped cube root at 0 would give inf * 0 = NaN gradients at pure black.
"""

from __future__ import annotations

import numpy as np
from keras import ops

# sRGB (linear) -> XYZ, and its inverse, as in skimage.color.colorconv.
_RGB_TO_XYZ = np.array(
    [[0.412453, 0.357580, 0.180423],
     [0.212671, 0.715160, 0.072169],
     [0.019334, 0.119193, 0.950227]], dtype=np.float64)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
# Reference white D65, 2 degree observer.
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)

_EPSILON = 0.008856  # (6/29)^3: below it the Lab f() is linear
_KAPPA_SLOPE = 7.787
_F_OFFSET = 16.0 / 116.0
_F_INV_THRESHOLD = 0.2068966  # f(_EPSILON)


def _const(values: np.ndarray, dtype: str):
    return ops.convert_to_tensor(values.astype(dtype))


def _positive_power(x, exponent: float):
    """x ** exponent for x > 0 as exp(exponent * log(x)): about 6x faster than pow() on CPU."""
    return ops.exp(exponent * ops.log(x))


def _srgb_to_linear_np(values: np.ndarray) -> np.ndarray:
    return np.where(values > 0.04045, ((values + 0.055) / 1.055) ** 2.4, values / 12.92)


# All 256 linearised 8-bit levels: a table look-up replaces the pow() for uint8 input.
_UINT8_TO_LINEAR = _srgb_to_linear_np(np.arange(256) / 255.0)


def _linear_to_lab(linear, dtype: str):
    """Linear-light RGB (..., 3) -> Lab."""
    # White-point normalisation is folded into the matrix: one matmul instead of a matmul and a divide.
    xyz = ops.matmul(linear, _const(_RGB_TO_XYZ.T / _WHITE_D65, dtype))
    f = ops.where(
        xyz > _EPSILON,
        _positive_power(ops.maximum(xyz, _EPSILON), 1.0 / 3.0),
        _KAPPA_SLOPE * xyz + _F_OFFSET,
    )
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    lightness = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return ops.stack([lightness, a, b], axis=-1)


def rgb_to_lab(rgb, dtype: str = "float32"):
    """sRGB in [0, 1], shape (..., 3) -> Lab with L in [0, 100] and a, b about [-128, 127]."""
    rgb = ops.clip(ops.cast(rgb, dtype), 0.0, 1.0)
    # sRGB gamma -> linear light.
    linear = ops.where(
        rgb > 0.04045,
        _positive_power((ops.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4),
        rgb / 12.92,
    )
    return _linear_to_lab(linear, dtype)


def uint8_rgb_to_lab(rgb_uint8, dtype: str = "float32"):
    """8-bit sRGB (..., 3) -> Lab; same values as rgb_to_lab(rgb / 255), faster (the pipeline's path)."""
    linear = ops.take(_const(_UINT8_TO_LINEAR, dtype), ops.cast(rgb_uint8, "int32"))
    return _linear_to_lab(linear, dtype)


def lab_to_linear_rgb(lab, dtype: str = "float32"):
    """Lab (..., 3) -> linear-light RGB, not clipped: a channel outside [0, 1] means out of the sRGB gamut."""
    lab = ops.cast(lab, dtype)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    fy = (lightness + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = ops.maximum(fy - b / 200.0, 0.0)
    f = ops.stack([fx, fy, fz], axis=-1)
    xyz = ops.where(
        f > _F_INV_THRESHOLD,
        ops.power(ops.maximum(f, _F_INV_THRESHOLD), 3),
        (f - _F_OFFSET) / _KAPPA_SLOPE,
    )
    return ops.matmul(xyz * _const(_WHITE_D65, dtype), _const(_XYZ_TO_RGB.T, dtype))


# ----------------------------------------------------------------------------- numpy twins for inference
# Photos are converted outside any graph, where one fused numpy pass beats dozens of eager backend ops
# (about 5x on a 1024 x 768 photo). tests/core/test_color.py pins them to the keras.ops functions above.

_Y_ROW = _RGB_TO_XYZ[1].astype(np.float32)  # linear RGB -> Y (white Y is 1)
_UINT8_TO_LINEAR_32 = _UINT8_TO_LINEAR.astype(np.float32)
# sRGB level k (0..255) is the rounding of linear values in [threshold[k-1], threshold[k]): the midpoints
# (k + 0.5) / 255 taken back to linear light. Rounding by them is exact and needs no pow(): a 2^16-cell
# table gives each value's level at its cell's lower edge, and since no cell holds two thresholds (cells are
# 1.5e-5 wide, thresholds at least 3e-4 apart), one comparison with the next threshold finishes it.
_LINEAR_THRESHOLDS = _srgb_to_linear_np((np.arange(255) + 0.5) / 255.0).astype(np.float32)
_LEVEL_CELLS = 65536
_LEVEL_AT_CELL = np.searchsorted(_LINEAR_THRESHOLDS, np.arange(_LEVEL_CELLS, dtype=np.float32) / _LEVEL_CELLS,
                                 side="right").astype(np.uint8)
_NEXT_THRESHOLD = np.append(_LINEAR_THRESHOLDS, np.float32(np.inf))


def _lab_f_np(t: np.ndarray) -> np.ndarray:
    """Lab's f() of white-normalised X, Y or Z: the cube root, linear below _EPSILON."""
    return np.where(t > _EPSILON, np.cbrt(np.maximum(t, _EPSILON)), _KAPPA_SLOPE * t + _F_OFFSET)


def lightness_from_uint8(rgb_uint8: np.ndarray) -> np.ndarray:
    """Lab L (...) in [0, 100] of 8-bit sRGB (..., 3), numpy float32: L alone, without a and b."""
    return (116.0 * _lab_f_np(_UINT8_TO_LINEAR_32[np.asarray(rgb_uint8)] @ _Y_ROW) - 16.0).astype(np.float32)


def uint8_rgb_to_lab_np(rgb_uint8: np.ndarray) -> np.ndarray:
    """numpy float32 twin of uint8_rgb_to_lab: 8-bit sRGB (..., 3) -> Lab (..., 3), on the host, with no
    backend ops (the JAX data path's batches would otherwise go to the accelerator and back)."""
    f = _lab_f_np(_UINT8_TO_LINEAR_32[np.asarray(rgb_uint8)] @ (_RGB_TO_XYZ.T / _WHITE_D65).astype(np.float32))
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1).astype(np.float32)


def lab_to_linear_rgb_np(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """numpy float32 twin of lab_to_linear_rgb: L (..., 1) and ab (..., 2) -> linear RGB (..., 3), unclipped."""
    fy = (np.asarray(lightness, np.float32)[..., 0] + 16.0) / 116.0
    ab = np.asarray(ab, np.float32)
    f = np.stack([ab[..., 0] / 500.0 + fy, fy, np.maximum(fy - ab[..., 1] / 200.0, 0.0)], axis=-1)
    xyz = np.where(f > _F_INV_THRESHOLD, f * f * f, (f - _F_OFFSET) / _KAPPA_SLOPE)
    return xyz @ (_XYZ_TO_RGB.T * _WHITE_D65[:, None]).astype(np.float32)


def linear_rgb_to_uint8(linear: np.ndarray) -> np.ndarray:
    """Linear RGB (any range) -> 8-bit sRGB, rounded and clipped: lab_to_rgb() x 255, rounded, in numpy."""
    clipped = np.clip(np.asarray(linear, np.float32), 0.0, 1.0)
    level = _LEVEL_AT_CELL[np.minimum((clipped * _LEVEL_CELLS).astype(np.int32), _LEVEL_CELLS - 1)]
    return level + (clipped >= _NEXT_THRESHOLD[level]).astype(np.uint8)


def _fit_to_gamut(lightness: np.ndarray, ab: np.ndarray, iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """(fitted ab, its linear RGB), both numpy float32; see fit_ab_to_gamut."""
    lightness = np.broadcast_to(np.asarray(lightness, np.float32), np.shape(ab)[:-1] + (1,))
    ab = np.asarray(ab, np.float32)

    def in_gamut(linear):
        return np.all((linear >= -1e-4) & (linear <= 1.0 + 1e-4), axis=-1)

    linear = lab_to_linear_rgb_np(lightness, ab)
    outside = np.flatnonzero(~in_gamut(linear).reshape(-1))
    if not len(outside):
        return ab, linear
    # Bisect only the pixels outside the gamut (usually a small share): the rest keep their ab as it is.
    flat_ab, flat_linear = ab.reshape(-1, 2).copy(), linear.reshape(-1, 3)
    part_l, part_ab = lightness.reshape(-1, 1)[outside], flat_ab[outside]
    low = np.zeros((len(outside), 1), np.float32)
    high = np.ones_like(low)
    for _ in range(iterations):
        middle = (low + high) / 2.0
        ok = in_gamut(lab_to_linear_rgb_np(part_l, part_ab * middle))[:, None]
        low, high = np.where(ok, middle, low), np.where(ok, high, middle)
    flat_ab[outside] = part_ab * low
    flat_linear[outside] = lab_to_linear_rgb_np(part_l, flat_ab[outside])
    return flat_ab.reshape(ab.shape), flat_linear.reshape(linear.shape)


def fit_ab_to_gamut(lightness: np.ndarray, ab: np.ndarray, iterations: int = 8) -> np.ndarray:
    """Shrink each out-of-gamut pixel's ab toward gray (by bisection on its chroma) until L + ab is a real
    sRGB color, so converting to RGB keeps L instead of clipping channels (which shifts lightness).

    numpy in, numpy out: L (..., 1), ab (..., 2) -> ab (..., 2). Gray (ab = 0) is always in gamut.
    """
    return _fit_to_gamut(lightness, ab, iterations)[0]


def lab_to_rgb_uint8_in_gamut(lightness: np.ndarray, ab: np.ndarray, iterations: int = 8) -> np.ndarray:
    """uint8 sRGB of L (..., 1) + ab (..., 2) with ab first fitted into the gamut (fit_ab_to_gamut), so L is
    kept; numpy float32 throughout (the path photos and video frames take)."""
    return linear_rgb_to_uint8(_fit_to_gamut(lightness, ab, iterations)[1])


def lab_to_rgb(lab, dtype: str = "float32"):
    """Lab, shape (..., 3) -> sRGB in [0, 1]; out-of-gamut colors are clipped, never NaN."""
    lab = ops.cast(lab, dtype)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    fy = (lightness + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = ops.maximum(fy - b / 200.0, 0.0)  # skimage clips negative Z the same way
    f = ops.stack([fx, fy, fz], axis=-1)
    xyz = ops.where(
        f > _F_INV_THRESHOLD,
        ops.power(ops.maximum(f, _F_INV_THRESHOLD), 3),
        (f - _F_OFFSET) / _KAPPA_SLOPE,
    )
    linear = ops.matmul(xyz * _const(_WHITE_D65, dtype), _const(_XYZ_TO_RGB.T, dtype))
    rgb = ops.where(
        linear > 0.0031308,
        1.055 * _positive_power(ops.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
        12.92 * linear,
    )
    return ops.clip(rgb, 0.0, 1.0)


def lab_channels_to_rgb_uint8(lightness, ab) -> np.ndarray:
    """L (..., 1) + ab (..., 2) -> RGB uint8 numpy array (out-of-gamut channels clipped, as lab_to_rgb), for
    display and RGB metrics; in numpy, chunk by chunk (a test set at once is 12M values)."""
    lightness = np.asarray(ops.convert_to_numpy(lightness), np.float32)
    ab = np.asarray(ops.convert_to_numpy(ab), np.float32)
    lightness = np.broadcast_to(lightness, ab.shape[:-1] + (1,))
    out = np.empty(ab.shape[:-1] + (3,), np.uint8)
    if out.ndim < 2 or len(out) == 0:
        return linear_rgb_to_uint8(lab_to_linear_rgb_np(lightness, ab))
    for start in range(0, len(out), 64):  # bounded temporaries: 64 images at a time
        part = slice(start, start + 64)
        out[part] = linear_rgb_to_uint8(lab_to_linear_rgb_np(lightness[part], ab[part]))
    return out
