"""Figures shared by the notebooks: image grids, Lab channels, ab histograms, bin occupancy."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from colorize_utils.binning import ChannelBins
from colorize_utils.color import lab_channels_to_rgb_uint8


def image_grid(columns: dict[str, Sequence[np.ndarray]], row_labels: Sequence[str] | None = None,
               cell_size: float = 1.6, title: str | None = None):
    """A grid whose columns are named lists of uint8 images (RGB or gray), e.g. gray | model | truth."""
    names = list(columns)
    num_rows = len(columns[names[0]])
    fig, axes = plt.subplots(num_rows, len(names), figsize=(cell_size * len(names), cell_size * num_rows),
                             squeeze=False)
    for col, name in enumerate(names):
        for row in range(num_rows):
            axis = axes[row, col]
            image = np.asarray(columns[name][row])
            gray = image.ndim == 2 or image.shape[-1] == 1
            axis.imshow(image.squeeze(), cmap="gray" if gray else None, vmin=0, vmax=255)
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(name, fontsize=9)
            if col == 0 and row_labels is not None:
                axis.set_ylabel(row_labels[row], fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def lab_channels_figure(lightness: np.ndarray, ab: np.ndarray, count: int = 4):
    """The paper's Fig. 3: color image, then its L, a and b channels, for a few images."""
    count = min(count, len(lightness))
    fig, axes = plt.subplots(count, 4, figsize=(7.5, 1.9 * count), squeeze=False)
    rgb = lab_channels_to_rgb_uint8(lightness[:count], ab[:count])
    for row in range(count):
        panels = [(rgb[row], None, None, "color"), (lightness[row, ..., 0], "gray", (0, 100), "L"),
                  (ab[row, ..., 0], "RdYlGn_r", (-100, 100), "a (green-red)"),
                  (ab[row, ..., 1], "YlGnBu_r", (-100, 100), "b (blue-yellow)")]
        for col, (image, cmap, limits, name) in enumerate(panels):
            kwargs = {} if limits is None else {"vmin": limits[0], "vmax": limits[1]}
            shown = axes[row, col].imshow(image, cmap=cmap, **kwargs)
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
            if row == 0:
                axes[row, col].set_title(name, fontsize=9)
            if col > 0:  # what the colors of the L, a and b panels mean, in Lab units
                colorbar = fig.colorbar(shown, ax=axes[row, col], fraction=0.046, pad=0.03)
                colorbar.ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def ab_histogram_figure(ab: np.ndarray, bins: int = 100):
    """The paper's Fig. 9: histograms of the A and B values of the training pixels."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    for axis, channel, name in zip(axes, range(2), ("A", "B")):
        axis.hist(ab[..., channel].ravel(), bins=bins, range=(-100, 100), color="gray")
        axis.set_yscale("log")
        axis.set_xlabel(f"{name} value")
        axis.set_ylabel("pixels")
    fig.tight_layout()
    return fig


def bin_occupancy_figure(binnings: Sequence[ChannelBins]):
    """Share of training pixels per bin, for several (fitted) binnings, A and B side by side."""
    fig, axes = plt.subplots(len(binnings), 2, figsize=(9, 1.9 * len(binnings)), squeeze=False)
    for row, binning in enumerate(binnings):
        for channel, name in enumerate(("A", "B")):
            share = binning.counts[channel] / max(1, binning.counts[channel].sum())
            widths = np.diff(binning.edges[channel])
            axes[row, channel].bar(binning.edges[channel, :-1], share, width=widths, align="edge",
                                   color="steelblue", edgecolor="white")
            axes[row, channel].set_title(f"{name}, {binning.num_classes} bins", fontsize=9)
            axes[row, channel].set_ylabel("share")
    fig.tight_layout()
    return fig


def loss_curve_figure(history: dict, title: str = "", lr_key: str = "learning_rate"):
    """Training (and validation) loss per epoch, with learning-rate drops marked."""
    fig, axis = plt.subplots(figsize=(6, 3.2))
    epochs = np.arange(1, len(history["loss"]) + 1)
    axis.plot(epochs, history["loss"], label="train loss")
    if "val_loss" in history:
        axis.plot(epochs, history["val_loss"], label="val loss")
    rates = history.get(lr_key)
    if rates is not None:
        for epoch in range(1, len(rates)):
            if rates[epoch] < 0.9 * rates[epoch - 1]:  # a real drop, not float rounding at min_lr
                axis.axvline(epoch + 1, color="red", linestyle="--",
                             label=f"lr {rates[epoch - 1]:.0e} -> {rates[epoch]:.0e}")
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.set_title(title)
    axis.legend()
    fig.tight_layout()
    return fig


def colorization_grid(lightness: np.ndarray, predictions: dict[str, np.ndarray], ab_true: np.ndarray | None,
                      row_labels: Sequence[str] | None = None, show_input: bool = True, title: str | None = None):
    """Rows of images; columns: the gray input, each prediction (ab) and the ground truth."""
    columns: dict[str, Sequence[np.ndarray]] = {}
    if show_input:
        columns["input (L)"] = list(np.round(lightness[..., 0] * 2.55).astype(np.uint8))
    for name, ab in predictions.items():
        columns[name] = list(lab_channels_to_rgb_uint8(lightness, ab))
    if ab_true is not None:
        columns["ground truth"] = list(lab_channels_to_rgb_uint8(lightness, ab_true))
    return image_grid(columns, row_labels, title=title)


def gan_loss_figure(history: dict, warmup_epochs: int = 0):
    """Generator and discriminator losses per epoch, with the end of the L1-only warm-up marked."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3))
    epochs = np.arange(1, len(history["d_loss"]) + 1)
    for axis, key, title in zip(axes, ("d_loss", "g_adversarial", "g_l1"),
                                ("discriminator loss", "generator adversarial loss", "generator L1 (ab / 110)")):
        axis.plot(epochs, history[key], label="train")
        if f"val_{key}" in history:
            axis.plot(epochs, history[f"val_{key}"], label="val")
        if warmup_epochs:
            axis.axvline(warmup_epochs + 0.5, color="red", linestyle="--", label="end of L1 warm-up")
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("epoch")
        axis.legend(fontsize=7)
    fig.tight_layout()
    return fig
