"""colorize_utils.paper.widgets: the notebook widgets (the Turing test and the interactive colorizing panel)."""

from colorize_utils.paper import turing, widgets
from helpers import photo
from helpers import turing_deck as _deck


def test_turing_widget_builds_and_records_clicks(tmp_path):
    deck, _, _ = _deck(count=2)
    test = turing.TuringTest(deck, tmp_path / "answers.csv")
    widget = widgets.turing_widget(test)
    real_button = widget.children[2].children[0]
    real_button.click()
    real_button.click()
    assert test.done and "Done" in widget.children[0].value


def test_the_interactive_panel_colorizes_and_explains_a_bad_path(tmp_path):
    panel = widgets.interactive_panel({"small": photo(40, 60)})
    message, views = panel.children[2], panel.children[3].children
    assert message.value.startswith("60x40") and len(views[1].value) > 100  # a PNG of the colorized photo
    panel.children[0].children[1].value = str(tmp_path / "missing.jpg")
    panel.children[1].children[1].value = "mean"  # any change redraws
    assert message.value.startswith("cannot colorize") and "file not found" in message.value
