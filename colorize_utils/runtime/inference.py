"""Colorizing people's photos: `colorize()` for arrays (files are read by images.read_image_file), the shipped model.

The model predicts ab at a small working resolution (the scale it was trained at); the ab is upsampled
smoothly to the photo's full size and joined with the photo's own, full-resolution L, so the output keeps
every detail of the input's lightness (unchanged within rounding). Large photos are recombined in strips
of rows, so memory stays a small multiple of the image's own size.
"""

from __future__ import annotations

import functools
import json
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from colorize_utils import config
from colorize_utils.binning import DEFAULT_TEMPERATURE, load_binning
from colorize_utils.color import lab_to_rgb, lab_to_rgb_uint8_in_gamut, lightness_from_uint8
from colorize_utils.runtime.encoder_colorizer import INPUT_MULTIPLE, is_encoder_colorizer, takes_hints
from colorize_utils.runtime import hints as hint_points
from colorize_utils.runtime.networks import is_classifier, load_model
from colorize_utils.images import MAX_PIXELS, integer_to_uint8

DEFAULT_MODEL = config.PRETRAINED_DIR / "colorizer.keras"
# The hint colorizer (color hints steer it), shipped beside the automatic one while it is a separate file.
DEFAULT_HINT_MODEL = config.PRETRAINED_DIR / "colorizer.hints.keras"
DEFAULT_WORKING_SIZE = 64  # short side the model sees: the scale of Tiny ImageNet, which it was trained on
# --upsample guided for a model whose card names no guided filter: the radius in model output cells, eps
DEFAULT_GUIDED_FILTER = (1.0, 1e-3)
DEFAULT_INPUT_MULTIPLE = 8  # a card without `input_multiple`: version 3's design (three stride-2 stages)
STRIP_PIXELS = 256 * 1024  # pixels converted at a time: memory stays near the image's own size


def strip_rows(width: int) -> int:
    """Rows per strip for an image `width` pixels wide (whole small images at once, in one call)."""
    return max(1, STRIP_PIXELS // max(1, int(width)))


def lightness_input(model):
    """The model's L input (a hint model's first of two)."""
    inputs = getattr(model, "inputs", None)
    return inputs[0] if inputs else model.input


@dataclass
class Colorizer:
    """A loaded model with its bin table and card: what colorize() needs, loaded once."""

    model: object
    binning: object | None
    path: Path
    card: dict = field(default_factory=dict)
    # The same model with other prior corrections (with_prior_correction), made once each.
    variants: dict = field(default_factory=dict, repr=False, compare=False)
    # A hint colorizer whose card's gate edits the automatic result (`hint_blend.gate.base` "automatic"): that
    # automatic colorizer (None: the shipped one, default_colorizer()).
    automatic: "Colorizer | None" = field(default=None, repr=False, compare=False)

    @property
    def fully_convolutional(self) -> bool:
        """True for the colorizer (any input size); False for the paper's fixed-size CNNs."""
        return lightness_input(self.model).shape[1] is None

    @property
    def input_multiple(self) -> int:
        """What the model's input height and width must be multiples of: the card's `input_multiple` (version 4:
        32, its encoder's deepest stride), else 8 (version 3's three stride-2 stages)."""
        if "input_multiple" in self.card:
            return int(self.card["input_multiple"])
        # a run folder's model before its card is written: what its design needs
        return INPUT_MULTIPLE if is_encoder_colorizer(self.model) else DEFAULT_INPUT_MULTIPLE

    def settings(self, decode: str | None = None, temperature: float | None = None,
                 working_size: int | None = None, guided_filter=None, small_image_scale: float | None = None,
                 mirror_average: bool | None = None) -> "ColorizeSettings":
        """The settings a call uses: each one given here, else the model card's calibrated default
        (`default_decoding`), else the package's. `guided_filter`: None (the card's), False (bilinear) or
        (radius in model output cells, eps).

        Every image size gets the same settings; an image below the working size is only enlarged, by
        `small_image_scale` (the card's, chosen on validation). A version-3 card's `small_images` block (other
        weights and settings for small images, removed in session 12) is ignored."""
        card = self.card.get("default_decoding", {})
        if guided_filter is None:
            guided_filter = card.get("guided_filter")  # cards before the edge-aware step: bilinear
            guided_filter = (guided_filter["radius_cells"], guided_filter["eps"]) if guided_filter else False
        settings = ColorizeSettings(
            decode=decode or card.get("decode", "annealed"),
            temperature=float(temperature if temperature is not None
                              else card.get("temperature", DEFAULT_TEMPERATURE)),
            working_size=int(working_size or card.get("working_size", DEFAULT_WORKING_SIZE)),
            guided_filter=tuple(float(v) for v in guided_filter) if guided_filter else None,
            prior_correction_alpha=card.get("prior_correction_alpha"),
            small_image_scale=float(small_image_scale if small_image_scale is not None
                                    else card.get("small_image_scale", 1.0)),
            mirror_average=(bool(card.get("mirror_average", False)) if mirror_average is None
                            else check_switch("mirror_average", mirror_average)),
            chroma_gain=float(card.get("chroma_gain", 1.0)))
        settings.check()
        return settings

    def with_prior_correction(self, alpha: float | None, lam: float | None = None,
                              sigma: float | None = None) -> "Colorizer":
        """The same model with its bins' prior correction at `alpha` (None, the bins' own, or bins without a
        correction: itself). `lam` and `sigma` default to the bins' own (the run's rebalancing settings)."""
        current = getattr(self.binning, "prior_correction", None) or {}
        if alpha is None or not hasattr(self.binning, "with_prior_correction"):
            return self
        lam = current.get("lambda", 0.5) if lam is None else lam
        sigma = current.get("sigma", 5.0) if sigma is None else sigma
        if current and (current["alpha"], current["lambda"], current["sigma"]) == (alpha, lam, sigma):
            return self
        key = (float(alpha), float(lam), float(sigma))
        if key not in self.variants:
            self.variants[key] = Colorizer(self.model, self.binning.with_prior_correction(*key), self.path,
                                           self.card, automatic=self.automatic)
        return self.variants[key]


@dataclass(frozen=True)
class ColorizeSettings:
    """How a photo is colorized: the decoding, the working size, and how ab reaches full resolution."""

    decode: str = "annealed"
    temperature: float = DEFAULT_TEMPERATURE
    working_size: int = DEFAULT_WORKING_SIZE
    # Edge-aware upsampling: ab is stretched bilinearly, then guided-filtered with the full-resolution L
    # (OpenCV ximgproc), so color edges move onto L's edges. (radius in model output cells, eps on L / 100
    # squared); None keeps the bilinear stretch.
    guided_filter: tuple[float, float] | None = None
    # The bins' prior correction for this image (Colorizer.with_prior_correction); None: as loaded.
    prior_correction_alpha: float | None = None
    # An image below the working size is seen at its short side times this (at most the working size): a
    # 64 px image shrunk from a photo is smaller than what the model learnt from (docs/colorizer.md).
    small_image_scale: float = 1.0
    # Average the logits over the image and its mirror image (test-time augmentation): calibrated on the
    # validation images like the other settings (colorizer.release's grid).
    mirror_average: bool = False
    # The decoded ab times this (1: as decoded). The annealed mean of a strongly prior-corrected decoding is
    # the safest color, and dull; scaling it up reaches a colorfulness at a better PSNR than a weaker
    # correction does (measured on validation images in session 14). Calibrated with the other settings; an
    # automatic model's setting: a hint model's own output is not scaled (its hints give the colors).
    chroma_gain: float = 1.0

    def check(self) -> None:
        """ValueError naming the allowed values when a setting is out of range."""
        check_given_settings(self.decode, self.temperature, self.working_size)
        if self.guided_filter is not None:
            radius, eps = self.guided_filter
            if not (radius > 0 and eps > 0):
                raise ValueError(f"guided_filter takes (radius in cells > 0, eps > 0); got {self.guided_filter}.")
        if not 0.0 < self.chroma_gain <= 4.0:
            raise ValueError(f"chroma_gain scales the decoded ab: give a number in (0, 4]; got {self.chroma_gain}.")
        if not self.small_image_scale >= 1.0:
            raise ValueError(f"small_image_scale enlarges small images: give 1 (their own size) or more; got "
                             f"{self.small_image_scale}.")


def bins_beside(model_path: str | os.PathLike) -> Path:
    """The bin table saved with a model file: `<stem>.bins.json` in its folder."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".bins.json")


def load_colorizer(path: str | os.PathLike | None = None) -> Colorizer:
    """A saved model (default: the shipped one) with the bin table beside it (`<stem>.bins.json` or `bins.json`)."""
    path = Path(path) if path is not None else DEFAULT_MODEL
    if path.is_dir():
        path = path / "model.keras"
    if not path.is_file():
        hint = ("the shipped model is missing from the package: reinstall it, or train one with "
                "`python -m colorize_utils train-colorizer`" if path == DEFAULT_MODEL else
                "pass a .keras file saved by this package (or its run folder)")
        raise FileNotFoundError(f"No model at {path}; {hint}.")
    model = load_model(path)
    binning = None
    # A training run folder holds its calibrated table (with the prior correction) beside the raw one.
    for candidate in (bins_beside(path), path.with_name("bins.calibrated.json"),
                      path.with_name("bins.json")):
        if candidate.is_file():
            binning = load_binning(candidate)
            break
    if is_classifier(model):
        if binning is None:
            raise FileNotFoundError(f"{path} predicts bins but no bin table was found beside it "
                                    f"({path.stem}.bins.json or bins.json).")
        if int(model.output.shape[-1]) != binning.num_classes:
            raise ValueError(f"{path} predicts {model.output.shape[-1]} classes but its bin table has "
                             f"{binning.num_classes}: the two files come from different runs.")
    card = {}
    for card_path in (path.with_name(path.stem + ".card.json"), path.with_name("card.json")):  # shipped, run folder
        if card_path.is_file():
            card = json.loads(card_path.read_text())
            break
    return Colorizer(model, binning, path, card)


@functools.lru_cache(maxsize=4)
def _cached_colorizer(path: str) -> Colorizer:
    return load_colorizer(path)


def default_colorizer() -> Colorizer:
    """The shipped model, loaded on first use and reused."""
    return _cached_colorizer(str(DEFAULT_MODEL))


def as_rgb_uint8(image) -> np.ndarray:
    """An H x W x 3 uint8 RGB array from an RGB or H x W gray array (uint8, 16-bit or float in [0, 1])."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] != 3):
        raise ValueError(f"image must be H x W x 3 (RGB) or H x W (gray); got shape {array.shape}. "
                         "For RGBA, composite on a background first (the command line does).")
    if min(array.shape[:2]) < 1:
        raise ValueError(f"image is empty (shape {array.shape}).")
    if array.dtype == np.uint8:
        pass
    elif array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ValueError("image holds NaN or infinite values.")
        if array.max(initial=0.0) > 1.0 + 1e-6 or array.min(initial=0.0) < -1e-6:
            raise ValueError("a float image must hold values in [0, 1]; for 0..255 values pass a uint8 array.")
        array = np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.integer):
        array = integer_to_uint8(array)
    else:
        raise ValueError(f"image dtype {array.dtype} is not supported; pass uint8 (or 16-bit, or float in [0, 1]).")
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    return np.ascontiguousarray(array)


def lightness_of(rgb: np.ndarray) -> np.ndarray:
    """Lab L (H x W float32, 0..100) of uint8 RGB, strip by strip."""
    out = np.empty(rgb.shape[:2], np.float32)
    rows = strip_rows(rgb.shape[1])
    for start in range(0, rgb.shape[0], rows):
        out[start:start + rows] = lightness_from_uint8(rgb[start:start + rows])
    return out


def gray_of(rgb: np.ndarray) -> np.ndarray:
    """The uint8 gray image (H x W) whose Lab L is the photo's L: the photo with its color removed."""
    from keras import ops

    lightness = lightness_of(as_rgb_uint8(rgb))
    out = np.empty(lightness.shape, np.uint8)
    rows = strip_rows(lightness.shape[1])
    for start in range(0, len(lightness), rows):
        strip = lightness[start:start + rows, :, None]
        lab = np.concatenate([strip, np.zeros(strip.shape[:2] + (2,), np.float32)], axis=-1)
        out[start:start + rows] = np.round(ops.convert_to_numpy(lab_to_rgb(lab))[..., 1] * 255.0)
    return out


SUGGESTION_SPACING = 15.0  # suggested colors lie at least this far apart in (a, b): distinct choices, not shades
MAX_WORKING_ASPECT = 8  # the model's input is at most 8 x working_size on its long side


def working_shape(height: int, width: int, short_side: int, multiple: int = DEFAULT_INPUT_MULTIPLE) -> tuple[int, int]:
    """(h, w) with the shorter side `short_side`, the aspect kept (up to 8:1, so a 1 x 8000 strip cannot
    become a huge model input), each rounded to a multiple of `multiple` (the model's input multiple)."""
    scale = short_side / min(height, width)
    cap = max(multiple, MAX_WORKING_ASPECT * short_side // multiple * multiple)
    return (min(cap, max(multiple, int(round(height * scale / multiple)) * multiple)),
            min(cap, max(multiple, int(round(width * scale / multiple)) * multiple)))


def resize_short_side(channel: np.ndarray, short_side: int) -> np.ndarray:
    """A float channel (H x W) resized so its shorter side is `short_side` (aspect kept, as working_shape)."""
    height, width = channel.shape
    return _resize_float(channel, *working_shape(height, width, short_side, multiple=1))


def _resize_float(channel: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize one float32 channel (area-like when shrinking) with PIL."""
    return np.asarray(Image.fromarray(channel.astype(np.float32), mode="F").resize(
        (width, height), Image.Resampling.BILINEAR, reducing_gap=2.0), np.float32)


def upsample_rows(small: np.ndarray, height: int, width: int, start: int, stop: int) -> np.ndarray:
    """Rows start..stop-1 of `small` (h, w, C) bilinearly upsampled to (height, width) (half-pixel centres)."""
    h, w = small.shape[:2]

    def coordinates(count_out, count_in, first, last):
        positions = (np.arange(first, last) + 0.5) * (count_in / count_out) - 0.5
        positions = np.clip(positions, 0, count_in - 1)
        low = np.floor(positions).astype(np.int64)
        high = np.minimum(low + 1, count_in - 1)
        return low, high, (positions - low).astype(np.float32)

    y0, y1, wy = coordinates(height, h, start, stop)
    x0, x1, wx = coordinates(width, w, 0, width)
    top = small[y0][:, x0] * (1 - wx)[None, :, None] + small[y0][:, x1] * wx[None, :, None]
    bottom = small[y1][:, x0] * (1 - wx)[None, :, None] + small[y1][:, x1] * wx[None, :, None]
    return top * (1 - wy)[:, None, None] + bottom * wy[:, None, None]


def resolve_colorizer(model=None) -> Colorizer:
    """A loaded Colorizer from None (the shipped model, loaded once), a path to a .keras file, or a Colorizer."""
    if isinstance(model, Colorizer):
        return model
    return default_colorizer() if model is None else _cached_colorizer(str(Path(model)))


def working_lightness(colorizer: Colorizer, lightness: np.ndarray, working_size: int,
                      small_image_scale: float = 1.0) -> np.ndarray:
    """A full-resolution L (H x W) resized to the model's working resolution: short side `working_size`, or,
    when the image's own short side is smaller, that short side times `small_image_scale` (at most
    `working_size`). Enlarging 64 px images all the way to 160 costs 1.2 dB; by a third to a half it gains
    (measured in docs/colorizer.md), so the scale is calibrated, not fixed."""
    work_h, work_w = working_size_of(colorizer, lightness.shape, working_size, small_image_scale)
    return np.clip(_resize_float(lightness, work_h, work_w), 0.0, 100.0)


def working_size_of(colorizer: Colorizer, shape: tuple[int, int], working_size: int,
                    small_image_scale: float = 1.0) -> tuple[int, int]:
    """The (h, w) at which the model sees an image of `shape` (H, W): working_lightness's size."""
    height, width = shape[:2]
    if not colorizer.fully_convolutional:  # the paper's CNNs take one fixed size
        return tuple(int(d) for d in lightness_input(colorizer.model).shape[1:3])
    short = min(height, width)  # at or above the working size: the working size, whatever the scale
    target = min(int(working_size), max(short, int(round(short * float(small_image_scale)))))
    return working_shape(height, width, target, colorizer.input_multiple)


def predict_working_ab(colorizer: Colorizer, small_lightness: np.ndarray, decode: str,
                       temperature: float, mirror_average: bool = False, planes: np.ndarray | None = None,
                       chroma_gain: float = 1.0) -> np.ndarray:
    """ab (N, h, w, 2) predicted from N working-resolution L images (N, h, w) in one model call; with
    `mirror_average`, from the mean of the logits of each image and of its mirror image (flipped back).
    `planes`: a hint model's hint planes (N, h, w, 3) (none: no hints). `chroma_gain`: ColorizeSettings'."""
    output = working_output(colorizer, small_lightness, mirror_average, planes=planes)
    return decoded_ab(colorizer, output, decode, temperature, chroma_gain)


def decoded_ab(colorizer: Colorizer, output, decode: str, temperature: float, chroma_gain: float = 1.0) -> np.ndarray:
    """The model's raw output (bin logits, or ab) as float32 ab, decoded and scaled by `chroma_gain`: the one
    place colorize(), clips and the calibration turn an output into colors. A hint model's output is not
    scaled (ColorizeSettings.chroma_gain)."""
    from keras import ops

    if len(output.shape) == 5:
        output = colorizer.binning.decode_logits(output, decode, temperature)
    ab = np.asarray(ops.convert_to_numpy(output), np.float32)
    return ab if chroma_gain == 1.0 or takes_hints(colorizer.model) else ab * np.float32(chroma_gain)


def working_output(colorizer: Colorizer, small_lightness: np.ndarray, mirror_average: bool = False,
                   mirrored_only: bool = False, planes: np.ndarray | None = None):
    """The model's raw output (bin logits, or ab) for N working-resolution L images (N, h, w); with
    `mirror_average`, the mean over each image and its mirror image (flipped back); with `mirrored_only`,
    the mirror image's alone (flipped back: release.grid_scores averages the two itself). A hint model takes
    `planes` (N, h, w, 3) beside L (none given: no hints), flipped with L for the mirror image."""
    from keras import ops

    lightness = ops.convert_to_tensor(np.asarray(small_lightness, np.float32)[..., None])
    if takes_hints(colorizer.model):
        if planes is None:
            planes = np.zeros(tuple(lightness.shape[:3]) + (3,), np.float32)
        planes = ops.convert_to_tensor(np.asarray(planes, np.float32))
        call = compiled_call(colorizer.model)
        run = lambda x, flip=False: call(x, ops.flip(planes, axis=2) if flip else planes)  # noqa: E731
    elif planes is not None:
        raise ValueError(f"{colorizer.path} takes no color hints; give a hint model (inference.DEFAULT_HINT_MODEL).")
    else:
        call = compiled_call(colorizer.model)
        run = lambda x, flip=False: call(x)  # noqa: E731
    if mirrored_only:
        return ops.flip(run(ops.flip(lightness, axis=2), True), axis=2)
    output = run(lightness)
    if mirror_average:  # the width axis is 2 in both (N, H, W, 1) and the output (N, h, w, ...)
        mirrored = run(ops.flip(lightness, axis=2), True)
        output = (output + ops.flip(mirrored, axis=2)) / 2.0
    return output


_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def compiled_call(model):
    """model(x, training=False) (a hint model: model([x, planes], ...)) as one compiled graph for inputs of any
    batch, height and width (TensorFlow: a tf.function traced once; called eagerly, version 4's 250 layers cost
    about 0.4 s of Python dispatch per call). Other backends call the model as it is. Made once per model."""
    import keras

    hinted = takes_hints(model)
    if model not in _COMPILED:
        if isinstance(model, keras.Model) and keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            spec = tf.TensorSpec([None, None, None, 1], tf.float32)
            held = weakref.ref(model)  # the cache must not keep the model alive
            if hinted:
                _COMPILED[model] = tf.function(lambda x, h: held()([x, h], training=False),
                                               input_signature=[spec, tf.TensorSpec([None, None, None, 3], tf.float32)])
            else:
                _COMPILED[model] = tf.function(lambda x: held()(x, training=False), input_signature=[spec])
        elif hinted:
            return lambda x, h: model([x, h], training=False)
        else:
            return lambda x: model(x, training=False)
    return _COMPILED[model]


def check_switch(name: str, value) -> bool:
    """`value` if it is True or False (numpy's too), else a ValueError: bool('no') would be True."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} is on or off: give True or False; got {value!r}.")


def check_given_settings(decode: str | None, temperature: float | None, working_size: int | None) -> None:
    """The settings a caller gave (None: the card's), checked before any model loads."""
    config.check_given_decoding(decode, temperature)
    if working_size is not None and int(working_size) < 8:
        raise ValueError(f"working_size must be at least 8 pixels; got {working_size}.")


def guided_radius_pixels(guided_filter: tuple[float, float], height: int, width: int, small_shape) -> int:
    """The guided filter's radius in full-resolution pixels: `radius_cells` model output cells."""
    cell = max(height / small_shape[0], width / small_shape[1])
    return max(1, int(round(guided_filter[0] * cell)))


def full_resolution_ab(lightness: np.ndarray, small_ab: np.ndarray, start: int, stop: int,
                       guided_filter: tuple[float, float] | None = None) -> np.ndarray:
    """Rows start..stop-1 of ab at L's full size (H x W): bilinear from `small_ab` (h, w, 2), then, with
    `guided_filter`, guided-filtered with L as the guide. The filter's output at a row depends on rows up to
    twice its radius away, so those are filtered too and cut off: strips give the whole image's result."""
    height, width = lightness.shape
    if guided_filter is None:
        return upsample_rows(small_ab, height, width, start, stop)
    import cv2

    radius = guided_radius_pixels(guided_filter, height, width, small_ab.shape)
    low, high = max(0, start - 2 * radius), min(height, stop + 2 * radius)
    stretched = upsample_rows(small_ab, height, width, low, high)
    guide = np.ascontiguousarray(lightness[low:high], np.float32) / 100.0
    filtered = cv2.ximgproc.guidedFilter(guide, np.ascontiguousarray(stretched, np.float32), radius,
                                         float(guided_filter[1]))
    return filtered[start - low:stop - low]


def recombine(lightness: np.ndarray, small_ab: np.ndarray,
              guided_filter: tuple[float, float] | None = None) -> np.ndarray:
    """uint8 RGB (H x W x 3) from the full-resolution L and ab at any smaller size, upsampled (bilinear, or
    edge-aware with `guided_filter`) and fitted into the RGB gamut without touching L; strip by strip, so
    memory stays near the image's size."""
    height, width = lightness.shape
    out = np.empty((height, width, 3), np.uint8)
    rows = strip_rows(width)
    if guided_filter is not None:  # strips at least 4 margins tall: the margins cost at most as much again
        rows = max(rows, 8 * guided_radius_pixels(guided_filter, height, width, small_ab.shape))
    for start in range(0, height, rows):
        stop = min(height, start + rows)
        out[start:stop] = lab_to_rgb_uint8(lightness[start:stop],
                                           full_resolution_ab(lightness, small_ab, start, stop, guided_filter))
    return out


def lab_to_rgb_uint8(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """uint8 RGB of L (R x W) and full-resolution ab (R x W x 2), ab first fitted into the gamut (L kept)."""
    return lab_to_rgb_uint8_in_gamut(lightness[..., None], ab)


def resolve_hint_colorizer(model=None) -> Colorizer:
    """The colorizer that takes hints: `model` (None: the shipped model if it takes hints, else the shipped
    hint model DEFAULT_HINT_MODEL); ValueError when the given model takes none."""
    if model is None:
        colorizer = default_colorizer()
        if takes_hints(colorizer.model):
            return colorizer
        if not DEFAULT_HINT_MODEL.is_file():
            raise ValueError(f"no hint colorizer is installed ({DEFAULT_HINT_MODEL} is missing): pass model= (or "
                             "--model) a hint model trained with `train-colorizer --hint-input`.")
        return _cached_colorizer(str(DEFAULT_HINT_MODEL))
    colorizer = resolve_colorizer(model)
    if not takes_hints(colorizer.model):
        raise ValueError(f"{colorizer.path} takes no color hints: leave the model out (the shipped hint colorizer "
                         "is used) or give one trained with `train-colorizer --hint-input`.")
    return colorizer


def prepare(image, model=None, decode: str | None = None, temperature: float | None = None,
            working_size: int | None = None, guided_filter=None, small_image_scale: float | None = None,
            mirror_average: bool | None = None, hints=None):
    """What colorize() and suggest_colors() share: (rgb, colorizer, settings, full-resolution L, working L,
    hint planes or None, the checked hints or None), every argument checked (a bad hint gets a ValueError naming
    it) before the model runs."""
    check_given_settings(decode, temperature, working_size)
    rgb = as_rgb_uint8(image)
    if rgb.shape[0] * rgb.shape[1] > MAX_PIXELS:
        raise ValueError(f"image has {rgb.shape[0] * rgb.shape[1]:,} pixels, above the limit of {MAX_PIXELS:,}; "
                         "downscale it first.")
    checked = hint_points.check_hints(hints, *rgb.shape[:2]) if hints is not None else None
    colorizer = resolve_hint_colorizer(model) if checked is not None else resolve_colorizer(model)
    settings = colorizer.settings(decode, temperature, working_size, guided_filter,
                                  small_image_scale=small_image_scale, mirror_average=mirror_average)
    colorizer = colorizer.with_prior_correction(settings.prior_correction_alpha)
    lightness = lightness_of(rgb)
    small = working_lightness(colorizer, lightness, settings.working_size, settings.small_image_scale)
    planes = hint_points.hint_planes(checked, rgb.shape[:2], small.shape)[None] if checked is not None else None
    return rgb, colorizer, settings, lightness, small, planes, checked


def colorize(image, model=None, decode: str | None = None, temperature: float | None = None,
             working_size: int | None = None, guided_filter=None,
             small_image_scale: float | None = None, mirror_average: bool | None = None,
             hints=None) -> np.ndarray:
    """Colorize one image: H x W x 3 uint8 RGB (only its L is used) or H x W gray -> H x W x 3 uint8 RGB.

    `model`: None (the shipped model, loaded once), a path to a .keras file, or a loaded `Colorizer`.
    `decode`: "annealed" (Zhang et al.'s annealed mean at `temperature`), "mean" or "argmax".
    `small_image_scale`: an image below the working size is seen at its short side times this (at most the
    working size). `mirror_average`: average the model's logits over the image and its mirror image.
    `hints`: color hints, [(x, y, color), ...] with x, y in the image's pixels and color an RGB triple (0..255)
    or "#rrggbb" (runtime.hints); they need a hint model (model None: the shipped one). An empty list colorizes
    automatically: with the automatic model when the hint model's gate edits its result (the shipped one's
    does, so a hint changes only what it reaches), else with the hint model.
    Every setting left at None is the model card's calibrated default (Colorizer.settings).
    """
    rgb, colorizer, settings, lightness, small, planes, checked = prepare(
        image, model, decode, temperature, working_size, guided_filter, small_image_scale, mirror_average, hints)
    blend = colorizer.card.get("hint_blend") if checked is not None else None
    base = gate_base(colorizer) if blend else None
    automatic = None
    if base is not None:  # the hints edit the automatic model's result: no hint leaves it as it is
        # at the automatic model's own defaults (what colorize(image, base) uses), save what the call gives
        base_settings = base.settings(decode, temperature, working_size, guided_filter, small_image_scale,
                                      mirror_average)
        automatic = automatic_working_ab(base, lightness, base_settings)
        if not checked:
            return recombine(lightness, automatic, base_settings.guided_filter)
    small_ab = cached_working_ab(colorizer, small, settings, planes)
    if not (blend and checked):
        return recombine(lightness, small_ab, settings.guided_filter)
    if automatic is None and blend.get("gate"):
        automatic = cached_working_ab(colorizer, small, settings, None)  # the hint model without hints
    return blend_with_propagation(lightness, small_ab, settings.guided_filter, checked, blend, automatic)


def gate_base(colorizer: Colorizer) -> Colorizer | None:
    """The automatic colorizer a hint colorizer's gate edits (its card's `hint_blend.gate.base` is "automatic":
    colorizer.automatic, else the shipped model), or None (the gate edits the hint model's own no-hint result)."""
    gate = (colorizer.card.get("hint_blend") or {}).get("gate") or {}
    if gate.get("base") != "automatic":
        return None
    return colorizer.automatic if colorizer.automatic is not None else default_colorizer()


def automatic_working_ab(base: Colorizer, lightness: np.ndarray, settings: "ColorizeSettings") -> np.ndarray:
    """`base`'s ab for a full-resolution L at `settings` (base.settings(...): its own defaults, a hint card's
    may differ) with its input multiple, from the prediction cache: what colorize(image, base) gives before
    upsampling."""
    base = base.with_prior_correction(settings.prior_correction_alpha)
    small = working_lightness(base, lightness, settings.working_size, settings.small_image_scale)
    return cached_working_ab(base, small, settings, None)


# the model's last few raw outputs, by the model, the mirror average and the input's bytes, least recently used first
_PREDICTIONS: dict = {}
PREDICTION_CACHE_SIZE = 4


def clear_prediction_cache() -> None:
    """Forget the remembered model outputs (cached_working_output): benchmarks time the uncached cost."""
    _PREDICTIONS.clear()


def cached_working_output(colorizer: Colorizer, small: np.ndarray, mirror_average: bool,
                          planes: np.ndarray | None) -> np.ndarray:
    """working_output (the model's raw output, bin logits or ab, as a batch of one) for one working-resolution L
    (h, w) and its hint planes (or none), remembered for the last PREDICTION_CACHE_SIZE inputs: a hint panel
    re-colorizes the same photo at every click and asks for suggestions given the same points, and a card's
    `hint_blend` gate needs the photo's automatic result beside each hinted one."""
    import hashlib

    from keras import ops

    if planes is not None and not np.any(planes):  # no hint placed: the automatic result
        planes = None
    digest = hashlib.blake2b(np.ascontiguousarray(small, np.float32).tobytes(), digest_size=16)
    if planes is not None:
        digest.update(np.ascontiguousarray(planes, np.float32).tobytes())
    key = (id(colorizer.model), bool(mirror_average), small.shape, digest.hexdigest())
    entry = _PREDICTIONS.pop(key, None)  # taken out and put back last: the least recently used goes first
    # an id can be reused once its object is gone: the entry keeps the model weakly, and it must match
    if entry is None or entry[0]() is not colorizer.model:
        while len(_PREDICTIONS) >= PREDICTION_CACHE_SIZE:
            _PREDICTIONS.pop(next(iter(_PREDICTIONS)))
        output = np.array(ops.convert_to_numpy(working_output(colorizer, small[None], mirror_average,
                                                              planes=planes)), np.float32)
        output.setflags(write=False)  # callers get the remembered array itself: nobody may change it
        entry = (weakref.ref(colorizer.model), output)
    _PREDICTIONS[key] = entry
    return entry[1]


def cached_working_ab(colorizer: Colorizer, small: np.ndarray, settings: "ColorizeSettings",
                      planes: np.ndarray | None) -> np.ndarray:
    """predict_working_ab for one working-resolution L (h, w) and its hint planes (or none), from
    cached_working_output: (h', w', 2) ab at the model's output resolution."""
    output = cached_working_output(colorizer, small, settings.mirror_average, planes)
    # a copy: the remembered output stays as it was
    return np.array(decoded_ab(colorizer, output, settings.decode, settings.temperature, settings.chroma_gain)[0])


def blend_with_propagation(lightness: np.ndarray, small_ab: np.ndarray, guided_filter: tuple[float, float] | None,
                           hints: list, blend: dict, automatic_small_ab: np.ndarray | None = None) -> np.ndarray:
    """A hint colorizer's result with its card's `hint_blend` (chosen on validation photos by
    colorizer.hint_release): ab = the network's ab + `weight` x (the same hints spread edge-aware over L without
    a network, runtime.hints.propagate_ab, - the network's ab); the two err in different places.
    With a `gate` ({"radius_share", "eps"}), a click stays local: the network's ab departs from the automatic
    result (`automatic_small_ab`: the automatic model's with the gate's `base` "automatic", else the same model
    without hints) only where the hints reach edge-aware
    (runtime.hints.hint_reach), and the spread hints count only where they reach too, so one click on one object
    no longer tints the whole photo (colorizer.hint_clicks measures this)."""
    height, width = lightness.shape
    weight = float(blend["weight"])
    network_ab = full_resolution_ab(lightness, small_ab, 0, height, guided_filter)
    spread = hint_points.propagate_ab(lightness, hints, float(blend["radius_share"]), float(blend["eps"]))
    gate = blend.get("gate")
    if gate:
        if automatic_small_ab is None:
            raise ValueError("this hint_blend has a gate: give the model's automatic (no hints) ab as well.")
        automatic = full_resolution_ab(lightness, automatic_small_ab, 0, height, guided_filter)
        reach = hint_points.hint_reach(lightness, hints, float(gate["radius_share"]), float(gate["eps"]))
        network_ab = automatic + reach * (network_ab - automatic)
        same = (float(gate["radius_share"]), float(gate["eps"])) == (float(blend["radius_share"]), float(blend["eps"]))
        weight = weight * (reach if same else hint_points.hint_reach(lightness, hints, float(blend["radius_share"]),
                                                                     float(blend["eps"])))
    return lab_to_rgb_uint8(lightness, network_ab + weight * (spread - network_ab))


def suggest_colors(image, x: float, y: float, k: int = 5, model=None, hints=None,
                   mirror_average: bool | None = None) -> list[tuple[str, float]]:
    """The `k` most likely colors at pixel (x, y) of `image` by the model's own predicted distribution over its
    (a, b) bins there (ideepcolor's color recommendation), given the `hints` placed so far: [("#rrggbb",
    probability), ...], most likely first, each bin's ab joined with the pixel's own lightness. `model`: a
    hint model, or None (the shipped hint colorizer)."""
    from keras import ops

    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k is how many colors to suggest: a whole number of at least 1; got {k!r}.")
    height, width = as_rgb_uint8(image).shape[:2]
    if not (np.isfinite(x) and np.isfinite(y) and 0 <= x < width and 0 <= y < height):
        raise ValueError(f"the place to suggest colors for, (x={x:g}, y={y:g}), is outside the {width} x {height} "
                         f"image: x must be in [0, {width}) and y in [0, {height}).")
    rgb, colorizer, settings, lightness, small, planes, _ = prepare(
        image, model, mirror_average=mirror_average, hints=[] if hints is None else hints)
    output = cached_working_output(colorizer, small, settings.mirror_average, planes)
    if len(output.shape) != 5:
        raise ValueError(f"{colorizer.path} predicts ab directly, not a distribution over bins: it cannot suggest colors.")
    logits = np.asarray(ops.convert_to_numpy(output), np.float32)[0, ..., 0, :]
    if getattr(colorizer.binning, "logit_adjustment", None) is not None:
        logits = logits + colorizer.binning.logit_adjustment
    row = int(min(logits.shape[0] - 1, (y + 0.5) * logits.shape[0] / rgb.shape[0]))
    col = int(min(logits.shape[1] - 1, (x + 0.5) * logits.shape[1] / rgb.shape[1]))
    cell = logits[row, col] - logits[row, col].max()
    probabilities = np.exp(cell) / np.exp(cell).sum()
    all_values = np.asarray(colorizer.binning.bin_values, np.float32)
    top: list[int] = []
    for index in np.argsort(-probabilities):  # most likely first, skipping near-copies of a color already offered
        if all(np.hypot(*(all_values[index] - all_values[kept])) >= SUGGESTION_SPACING for kept in top):
            top.append(int(index))
        if len(top) == int(k):
            break
    values = all_values[top]
    pixel_l = np.full(len(top), lightness[int(y), int(x)], np.float32)
    colors = lab_to_rgb_uint8(pixel_l, values)
    return [("#" + "".join(f"{c:02x}" for c in color), float(p)) for color, p in zip(colors, probabilities[top])]
