"""colorize_utils.paper.turing: the Turing test's deck, scoring, answers file, command line and fooling proxy."""

import io

import numpy as np
import pytest

from colorize_utils.paper import turing
from helpers import turing_deck as _deck


def test_deck_is_seeded_shows_each_image_once_and_half_real():
    deck, _, _ = _deck()
    again, _, _ = _deck()
    np.testing.assert_array_equal(deck["images"], again["images"])
    assert sorted(deck["image_ids"]) == [f"test_{i:05d}" for i in range(10)]
    assert list(deck["sources"]).count("real") == 5
    assert set(deck["sources"]) == {"real", "a", "b"}


def test_turing_scoring_and_csv(tmp_path):
    deck, _, _ = _deck()
    answers = tmp_path / "answers.csv"
    test = turing.TuringTest(deck, answers, session="s1")
    while not test.done:
        test.answer(judged_real=True)  # someone who always says "real"
    score = test.summary()
    assert score["adversuc"] == 1.0 and score["real_judged_real_share"] == 1.0
    assert score["colorized_shown"] == 5 and score["real_shown"] == 5
    with pytest.raises(IndexError):
        test.current()
    second = turing.TuringTest(deck, answers, session="s2")
    while not second.done:
        second.answer(judged_real=second.current().is_real)  # a perfect judge
    everyone = turing.summarize(turing.read_answers(answers))
    assert everyone["sessions"] == 2 and everyone["answers"] == 20
    assert everyone["adversuc"] == pytest.approx(0.5)
    assert set(everyone["per_model"]) == {"a", "b"}


def test_turing_command_line(tmp_path, capsys):
    deck, _, _ = _deck(count=4)
    path = turing.save_deck(deck, tmp_path / "deck.npz")
    replies = io.StringIO("r\nx\nc\nr\nc\n")
    assert turing.main([str(path), "--no-viewer"], stdin=replies) == 0
    output = capsys.readouterr().out
    assert "AdverSuc" in output and "please answer" in output
    assert len(turing.read_answers(tmp_path / "answers.csv")) == 4
    assert turing.main([str(path), "--report"]) == 0
    assert "4 answers from 1 session" in capsys.readouterr().out


def test_turing_command_line_sizes_resumes_and_explains_a_missing_deck(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert turing.main([str(tmp_path / "nowhere.npz")]) == 2
    assert "notebook 06" in capsys.readouterr().err
    deck, _, _ = _deck(count=6)
    path = turing.save_deck(deck, tmp_path / "deck.npz")
    assert turing.main([str(path), "--count", "4", "--session", "ann"], stdin=io.StringIO("r\nc\nq\n")) == 0
    first = capsys.readouterr().out
    assert "4 images" in first and "no display: open this file" in first and "PIL.Image" not in first
    assert turing.main([str(path), "--count", "4", "--session", "ann"], stdin=io.StringIO("r\nr\n")) == 0
    assert "resuming session 'ann' at image 3" in capsys.readouterr().out
    answers = turing.read_answers(tmp_path / "answers.csv")
    assert len(answers) == 4 and [int(row["trial"]) for row in answers] == [0, 1, 2, 3]


def test_fooling_proxy_spots_an_obvious_fake():
    rng = np.random.default_rng(9)
    real = rng.integers(0, 256, (40, 16, 16, 3)).astype(np.uint8)
    fake = np.repeat(real[..., :1], 3, axis=-1)  # gray "colorizations"
    result = turing.fooling_proxy(real[:20], fake[:20], real[20:], fake[20:], epochs=15, seed=0)
    assert result["accuracy"] > 0.8 and result["eval_images"] == 40
