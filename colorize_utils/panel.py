"""A JupyterLab panel for color hints: click on the photo to place a point, pick its color from the model's
suggestions or a color picker, and watch the result follow.

    from colorize_utils.panel import HintPanel
    HintPanel("photo.jpg")          # the last line of a cell shows it

Clicks come from `ipyevents` (a maintained widget library, in the `notebooks` extra), so there is no hand-written
JavaScript. Every action is a method (`click`, `choose`, `undo`, `clear`, `save`), which the buttons call and the
tests call directly. The result is the shipped hint colorizer's (`colorize(image, hints=...)`); each update runs
the model once at its working size.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from colorize_utils import images
from colorize_utils.files import atomic_path
from colorize_utils.runtime import inference
from colorize_utils.runtime import hints as hint_points

DISPLAY_WIDTH = 480  # pixels of each picture in the panel; clicks are mapped back to the photo's own pixels
SUGGESTIONS = 5


def png_bytes(rgb: np.ndarray) -> bytes:
    """uint8 RGB as PNG bytes (what an ipywidgets.Image shows)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


class HintPanel:
    """The photo (gray, with the points) beside its colorization, a color picker, suggested colors, and
    Undo, Clear and Save. `image`: a path or an RGB / gray array; `model`: a hint colorizer (None: shipped)."""

    def __init__(self, image, model=None, display_width: int = DISPLAY_WIDTH):
        import ipywidgets as widgets
        from ipyevents import Event

        rgb = images.read_image_file(image) if isinstance(image, (str, os.PathLike)) else inference.as_rgb_uint8(image)
        self.source = rgb
        self.gray = np.repeat(inference.gray_of(rgb)[..., None], 3, axis=-1)
        self.colorizer = inference.resolve_hint_colorizer(model)
        self.hints: list[hint_points.Hint] = []
        self.selected = (0, 0)  # the pixel the suggestions are for
        self.result = inference.colorize(self.gray, self.colorizer, hints=[])
        self.scale = display_width / rgb.shape[1]
        # The pictures are sent at most display_width pixels wide: a 1-megapixel photo's PNGs would cost more
        # to encode than the model takes to run. save() keeps the full resolution.
        self.shown_scale = min(1.0, self.scale)
        self.shown_size = (max(1, round(rgb.shape[1] * self.shown_scale)),
                           max(1, round(rgb.shape[0] * self.shown_scale)))
        self.gray_shown = self.shown(self.gray)
        layout = widgets.Layout(width=f"{display_width}px")
        self.input_view = widgets.Image(format="png", layout=layout)
        self.output_view = widgets.Image(format="png", layout=layout)
        self.picker = widgets.ColorPicker(value="#c0392b", description="color", concise=False)
        self.suggestion_box = widgets.HBox()
        self.status = widgets.Label()
        buttons = []
        for label, action in (("Undo", self.undo), ("Clear", self.clear), ("Save", lambda: self.save("."))):
            button = widgets.Button(description=label)
            button.on_click(lambda _, action=action: action())
            buttons.append(button)
        self.picker.observe(lambda change: self.recolor_last(change["new"]), names="value")
        events = Event(source=self.input_view, watched_events=["click"])
        events.on_dom_event(self.on_dom_event)
        self.events = events  # kept: the listener lives as long as the panel
        self.widget = widgets.VBox([widgets.HBox([self.input_view, self.output_view]),
                                    widgets.HBox([self.picker, *buttons]), self.suggestion_box, self.status])
        self.render()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ----------------------------------------------------------------------- actions (buttons and tests call these)

    def on_dom_event(self, event: dict) -> None:
        """An ipyevents click -> click() at its photo pixel: ipyevents' dataX/dataY (the shown picture's own pixels,
        right however wide the browser draws it) over the shown scale, else its position in the picture over the
        display scale."""
        if "dataX" in event and "dataY" in event:
            self.click(float(event["dataX"]) / self.shown_scale, float(event["dataY"]) / self.shown_scale)
        else:
            self.click(event["relativeX"] / self.scale, event["relativeY"] / self.scale)

    def click(self, x: float, y: float, color=None) -> None:
        """Place a point at photo pixel (x, y) with `color` (default: the picker's), recolor, and offer the
        model's suggestions for that pixel."""
        height, width = self.source.shape[:2]
        x, y = float(np.clip(x, 0, width - 1)), float(np.clip(y, 0, height - 1))
        hint = hint_points.check_hints([(x, y, color or self.picker.value)], height, width)[0]
        self.selected = (x, y)
        self.suggestions = inference.suggest_colors(self.gray, x, y, SUGGESTIONS, self.colorizer, hints=self.hints)
        self.hints.append(hint)
        self.update()

    def choose(self, color) -> None:
        """Give the last point this color (a suggestion or the picker's)."""
        self.recolor_last(color)

    def recolor_last(self, color) -> None:
        """The last point takes `color`; nothing happens without a point."""
        if self.hints:
            last = self.hints[-1]
            self.hints[-1] = hint_points.Hint(last.x, last.y, hint_points.parse_color(color))
            self.update()

    def undo(self) -> None:
        """Remove the last point."""
        if self.hints:
            self.hints.pop()
            self.update()

    def clear(self) -> None:
        """Remove every point."""
        self.hints.clear()
        self.update()

    def save(self, folder: str | os.PathLike, stem: str = "colorized") -> tuple[Path, Path]:
        """Write the hints as <stem>.json (the command line's --hints reads it: give the file, or the folder with
        `stem` the photo's own stem) and the result as <stem>.png into `folder`; returns both paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        hints_path, image_path = folder / f"{stem}.json", folder / f"{stem}.png"
        with atomic_path(hints_path) as partial:
            Path(partial).write_text(hint_points.hints_to_json(self.hints))
        with atomic_path(image_path) as partial:
            Image.fromarray(self.result).save(partial, format="PNG")
        self.status.value = f"saved {hints_path} and {image_path}"
        return hints_path, image_path

    # ----------------------------------------------------------------------- drawing

    def update(self) -> None:
        """Colorize with the current points and redraw."""
        self.result = inference.colorize(self.gray, self.colorizer, hints=self.hints)
        self.render()

    def shown(self, rgb: np.ndarray) -> np.ndarray:
        """An image of the photo's size at the size the panel sends it (shown_size)."""
        if self.shown_scale == 1.0:
            return rgb
        return np.asarray(Image.fromarray(rgb).resize(self.shown_size, Image.BILINEAR))

    def render(self) -> None:
        """Redraw both pictures, the suggestions and the status line."""
        import ipywidgets as widgets

        shown_points = [hint_points.Hint(h.x * self.shown_scale, h.y * self.shown_scale, h.rgb) for h in self.hints]
        self.input_view.value = png_bytes(hint_points.mark_hints(self.gray_shown, shown_points))
        self.output_view.value = png_bytes(self.shown(self.result))
        buttons = []
        for color, probability in getattr(self, "suggestions", []):
            button = widgets.Button(description=f"{probability:.0%}", tooltip=color,
                                    layout=widgets.Layout(width="64px"))
            button.style.button_color = color
            button.on_click(lambda _, color=color: self.choose(color))
            buttons.append(button)
        self.suggestion_box.children = buttons
        self.status.value = f"{len(self.hints)} point(s); click the left picture to add one"
