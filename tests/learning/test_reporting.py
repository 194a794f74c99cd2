"""colorize_utils.learning.reporting: the results writer's tables (Markdown and CSV) and their atomic writes."""

import pytest

from colorize_utils import config
from colorize_utils.learning import reporting


def test_markdown_table_and_record(tmp_path):
    profile = config.get_profile("smoke")
    writer = reporting.ResultsWriter("07_test", profile, tmp_path)
    writer.context["data"] = {"source": "samples", "sizes": {"train": 1}}
    writer.save_table([{"model": "gray", "rmse": 12.3456}, {"model": "cnn", "rmse": 9.0}], "t")
    markdown = (tmp_path / "tables" / "t.md").read_text()
    # rows are keyed by the stable id; the Markdown shows the baseline's label, the CSV keeps the id
    assert "| model | rmse |" in markdown and "| gray (ab = 0) | 12.35 |" in markdown
    assert (tmp_path / "tables" / "t.csv").read_text().splitlines()[1] == "gray,12.3456"
    assert f"commit {writer.start_commit[:12]}" in markdown
    assert "profile smoke" in markdown and "samples" in markdown
    with pytest.raises(ValueError, match="no rows"):
        writer.save_table([], "empty")


def test_tables_keep_every_column_any_row_has(tmp_path):
    writer = reporting.ResultsWriter("01_x", config.get_profile("smoke"), tmp_path)
    rows = [{"model": "gray", "value": 1.0}, {"model": "m", "value": 0.5, "vs_gray": "-0.5 [-0.6, -0.4] better"}]
    writer.save_table(rows, "t")
    assert (tmp_path / "tables" / "t.csv").read_text().splitlines()[0] == "model,value,vs_gray"
    assert "| vs_gray |" in (tmp_path / "tables" / "t.md").read_text()


def test_an_interrupted_table_write_leaves_the_old_table_and_no_partial_file(tmp_path, monkeypatch):
    from colorize_utils import config

    writer = reporting.ResultsWriter("01_x", config.get_profile("smoke"), tmp_path)
    writer.save_table([{"model": "gray", "value": 1.0}], "t")
    before = (tmp_path / "tables" / "t.csv").read_text()

    def crash(self, rows):
        raise KeyboardInterrupt  # e.g. Ctrl-C or a kill in the middle of writing

    import csv

    monkeypatch.setattr(csv.DictWriter, "writerows", crash)
    with pytest.raises(KeyboardInterrupt):
        writer.save_table([{"model": "gray", "value": 2.0}], "t")
    assert (tmp_path / "tables" / "t.csv").read_text() == before
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["t.csv", "t.md"]
