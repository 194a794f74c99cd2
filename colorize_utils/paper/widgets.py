"""The JupyterLab widgets (ipywidgets, imported where used: optional outside notebooks): the colorizer panel of
notebook 07 and the Turing test of notebook 06."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from colorize_utils.runtime import inference
from colorize_utils.config import DEFAULT_TEMPERATURE
from colorize_utils.images import UnusableImage, read_image_file
from colorize_utils.paper.turing import TuringTest


def interactive_panel(photos: dict[str, np.ndarray], models: dict[str, str | os.PathLike | None] | None = None):
    """An ipywidgets panel for JupyterLab: pick a photo (or type an image path), a model, the decoding and
    the temperature, and see the original beside its colorization. Returns the widget."""
    import io

    import ipywidgets as widgets

    models = models or {"shipped colorizer": None}
    photo = widgets.Dropdown(options=list(photos), description="photo")
    path = widgets.Text(placeholder="or an image path", description="path")
    model = widgets.Dropdown(options=list(models), description="model")
    decode = widgets.Dropdown(options=["annealed", "mean", "argmax"], value="annealed", description="decode")
    temperature = widgets.FloatSlider(value=DEFAULT_TEMPERATURE, min=0.05, max=1.0, step=0.01,
                                      description="T")
    message = widgets.Label()
    original_view, colorized_view = widgets.Image(format="png", width=360), widgets.Image(format="png", width=360)

    def png(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="PNG")
        return buffer.getvalue()

    def update(_=None):
        try:
            rgb = read_image_file(path.value) if path.value.strip() else photos[photo.value]
            chosen = models[model.value]
            result = inference.colorize(rgb, inference.resolve_colorizer(chosen), decode.value, temperature.value)
        except (UnusableImage, ValueError, FileNotFoundError) as error:
            message.value = f"cannot colorize: {error}"
            return
        message.value = f"{rgb.shape[1]}x{rgb.shape[0]}, {decode.value}" + (
            f" T={temperature.value:.2f}" if decode.value == "annealed" else "")
        original_view.value, colorized_view.value = png(rgb), png(result)

    for control in (photo, model, decode, temperature):
        control.observe(update, names="value")
    path.on_submit(update)
    update()
    return widgets.VBox([widgets.HBox([photo, path]), widgets.HBox([model, decode, temperature]), message,
                         widgets.HBox([original_view, colorized_view])])


def turing_widget(test: TuringTest, scale: int = 4):
    """A JupyterLab widget: the image, 'Real' and 'Colorized' buttons, progress and the running score."""
    import io

    import ipywidgets as widgets
    from PIL import Image

    picture = widgets.Image(format="png")
    status = widgets.HTML()
    real_button = widgets.Button(description="Real", button_style="success")
    fake_button = widgets.Button(description="Colorized", button_style="warning")

    def show():
        if test.done:
            score = test.summary()
            picture.value = b""
            status.value = (f"<b>Done.</b> AdverSuc (colorized judged real): {score['adversuc']:.0%} of "
                            f"{score['colorized_shown']}; real judged real: {score['real_judged_real_share']:.0%} "
                            f"of {score['real_shown']}.")
            real_button.disabled = fake_button.disabled = True
            return
        image = test.current().image
        buffer = io.BytesIO()
        Image.fromarray(image).resize((image.shape[1] * scale, image.shape[0] * scale), Image.NEAREST).save(
            buffer, format="png")
        picture.value = buffer.getvalue()
        status.value = f"Image {test.position + 1} of {len(test.trials)}: real photo or colorized?"

    def on_click(judged_real):
        def handler(_):
            test.answer(judged_real)
            show()
        return handler

    real_button.on_click(on_click(True))
    fake_button.on_click(on_click(False))
    show()
    return widgets.VBox([status, picture, widgets.HBox([real_button, fake_button])])
