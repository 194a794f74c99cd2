"""The JupyterLab hint panel (colorize_utils/panel.py): its actions, called the way its widgets call them, with
an oracle hint model (tests/helpers.py) whose output shows exactly where and which color each point asked for."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from colorize_utils.color import uint8_rgb_to_lab_np
from colorize_utils.runtime import hints
from tests.helpers import oracle_hint_colorizer, photo

pytest.importorskip("ipyevents")
from colorize_utils.panel import HintPanel  # noqa: E402


def ab_at(rgb: np.ndarray, x: int, y: int) -> np.ndarray:
    return uint8_rgb_to_lab_np(rgb[y - 1:y + 2, x - 1:x + 2]).reshape(-1, 3)[:, 1:].mean(axis=0)


@pytest.fixture()
def panel():
    return HintPanel(photo(96, 128), model=oracle_hint_colorizer(), display_width=256)


def test_a_click_colours_its_place_with_the_pickers_colour_and_offers_suggestions(panel):
    assert np.linalg.norm(ab_at(panel.result, 100, 20)) < 8  # no points: gray under the oracle
    panel.picker.value = "#28aa28"
    panel.on_dom_event({"relativeX": 200, "relativeY": 40, "type": "click"})  # display is 2x the photo
    assert [(h.x, h.y) for h in panel.hints] == [(100.0, 20.0)]
    green = uint8_rgb_to_lab_np(np.asarray([[40, 170, 40]], np.uint8))[0, 1:]
    ab = ab_at(panel.result, 100, 20)
    assert ab @ green / (np.linalg.norm(ab) * np.linalg.norm(green)) > 0.9 and np.linalg.norm(ab) > 20
    assert len(panel.suggestions) == 5 and len(panel.suggestion_box.children) == 5
    # ipyevents' dataX / dataY are the image's own pixels, whatever width the browser draws it at
    panel.on_dom_event({"dataX": 30, "dataY": 70, "relativeX": 1, "relativeY": 1, "type": "click"})
    assert (panel.hints[-1].x, panel.hints[-1].y) == (30.0, 70.0)
    panel.undo()
    panel.choose("#2838c8")  # a suggestion or another picker color recolors the last point
    assert panel.hints[-1].rgb == (40, 56, 200) and ab_at(panel.result, 100, 20)[1] < -20


def test_a_photo_wider_than_the_panel_is_sent_smaller_and_clicks_map_back_to_its_pixels():
    wide = HintPanel(photo(96, 128), model=oracle_hint_colorizer(), display_width=64)  # shown at half size
    shown = np.asarray(Image.open(__import__("io").BytesIO(wide.output_view.value)))
    assert shown.shape[:2] == (48, 64)
    wide.on_dom_event({"dataX": 50, "dataY": 10, "relativeX": 1, "relativeY": 1, "type": "click"})
    assert (wide.hints[-1].x, wide.hints[-1].y) == (100.0, 20.0)  # the shown picture's pixel x 2
    assert wide.result.shape[:2] == (96, 128)  # the result itself keeps the photo's size


def test_undo_and_clear_take_points_back(panel):
    before = panel.result.copy()
    panel.click(100, 20, "#28aa28")
    panel.click(20, 70, "#2838c8")
    panel.undo()
    assert len(panel.hints) == 1 and np.linalg.norm(ab_at(panel.result, 20, 70)) < 8
    panel.clear()
    assert panel.hints == [] and np.array_equal(panel.result, before)
    panel.undo()  # nothing left: nothing happens
    assert panel.hints == []


def test_save_writes_hints_the_command_line_reads_and_the_result(panel, tmp_path):
    panel.click(100, 20, "#28aa28")
    hints_path, image_path = panel.save(tmp_path, "mine")
    assert hints.check_hints(hints.read_hints_file(hints_path), 96, 128) == panel.hints
    assert json.loads(hints_path.read_text())["hints"][0]["color"] == "#28aa28"
    np.testing.assert_array_equal(np.asarray(Image.open(image_path)), panel.result)


def test_a_click_runs_the_model_once(monkeypatch):
    from colorize_utils.runtime import inference

    oracle = oracle_hint_colorizer()
    gated = inference.Colorizer(oracle.model, oracle.binning, None, {**oracle.card, "hint_blend": {
        "weight": 0.5, "radius_share": 0.25, "eps": 0.01, "gate": {"radius_share": 0.25, "eps": 0.01}}})
    panel = HintPanel(photo(96, 128), model=gated, display_width=256)  # shows the automatic result first
    calls = []
    original = inference.working_output
    monkeypatch.setattr(inference, "working_output", lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs))
    for number in range(1, 7):  # the gate's automatic result and the suggestions are the remembered ones
        panel.click(10 + 15 * number, 20, "#28aa28")
        assert len(calls) == number
