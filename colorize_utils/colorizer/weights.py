"""Growing and averaging trained colorizers of version 3's design: Net2Net widening and weight soups."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def colorizer_width(model: keras.Model) -> int:
    """The `width` a build_colorizer model was built with (its first conv's filters)."""
    return int(model.get_layer("enc1a_conv").filters)


def widen_colorizer(source: keras.Model, target: keras.Model) -> None:
    """Load a trained colorizer into a wider one built the same way, so that it computes the same function.

    Net2Net-style widening (Chen et al. 2016) with zero outgoing weights: each layer's old weights go into
    the leading slice of the wider one; the new channels keep their random initial weights, but every
    weight that reads a new channel starts at zero, so the wider model's output is at first exactly the
    source's. Training then grows the new channels from a model that already colours well, instead of
    starting the wider model from scratch. `dec1` reads a concatenation [upsampled 8w, quarter 4w]: its
    input rows are mapped group by group. Raises ValueError when the two models are not the same design
    with target's width at least source's.
    """
    old_width, new_width = colorizer_width(source), colorizer_width(target)
    if new_width < old_width:
        raise ValueError(f"widen_colorizer: the target (width {new_width}) is narrower than the source (width "
                         f"{old_width}); build the target at least as wide.")
    differ = [(a.name, b.name) for a, b in zip(source.layers, target.layers) if a.name != b.name]
    if len(source.layers) != len(target.layers) or differ or source.output.shape[3:] != target.output.shape[3:]:
        raise ValueError(f"widen_colorizer: the two models are not the same design (first differing layers "
                         f"{differ[:1] or 'none'}, {len(source.layers)} and {len(target.layers)} layers, outputs "
                         f"{source.output.shape[3:]} and {target.output.shape[3:]}); build the target with the "
                         "source's head, classes and global_context.")
    for old_layer, new_layer in zip(source.layers, target.layers):
        if not old_layer.weights:
            continue
        values = []
        for old_var, new_var in zip(old_layer.weights, new_layer.weights):
            old, new = ops.convert_to_numpy(old_var), np.array(ops.convert_to_numpy(new_var))
            if old.ndim >= 2:  # a kernel (..., inputs, outputs): map its input rows, zero the new ones
                if old_layer.name == "dec1_conv":  # [upsampled middle (8w), quarter skip (4w)]
                    rows = np.r_[0:8 * old_width, 8 * new_width:8 * new_width + 4 * old_width]
                else:
                    rows = np.arange(old.shape[-2])
                read_by_old = np.zeros(new.shape[-2], bool)
                read_by_old[rows] = True
                new[..., ~read_by_old, :] = 0.0
                new[..., rows, :old.shape[-1]] = old
            else:  # biases and BatchNorm's gamma, beta, mean and variance: one value per output channel
                new[:old.shape[0]] = old
            values.append(new)
        new_layer.set_weights(values)


def average_weights(trained: list[keras.Model]) -> keras.Model:
    """The first model with every weight replaced by its mean over `trained` (a uniform "model soup",
    Wortsman et al. 2022). Models trained further from one checkpoint stay in one basin of the loss, so the
    average of their weights scores at least as well as each and often better; BatchNorm's moving statistics
    are averaged the same way. Raises ValueError unless the models have the same layers and weight shapes."""
    if len(trained) < 2:
        raise ValueError(f"average_weights needs at least two models; got {len(trained)}.")
    first = trained[0]
    for other in trained[1:]:
        shapes = [tuple(w.shape) for w in first.weights], [tuple(w.shape) for w in other.weights]
        if [layer.name for layer in first.layers] != [layer.name for layer in other.layers] or shapes[0] != shapes[1]:
            raise ValueError(f"average_weights: {other.name} is not the same design as {first.name} (other "
                             "layers or weight shapes); only runs of one width and head, started from one "
                             "checkpoint, can be averaged.")
    weights = [model.get_weights() for model in trained]
    first.set_weights([np.mean([w[i] for w in weights], axis=0).astype(weights[0][i].dtype)
                       for i in range(len(weights[0]))])
    return first
