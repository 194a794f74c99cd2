"""Tables, one way: rows (dicts) for display with the baselines' labels, as Markdown (saved next to each CSV)
or as fixed-width text (printed in notebooks and terminals)."""

from __future__ import annotations

from typing import Sequence

from colorize_utils.metrics import DISPLAY_LABELS


def labelled(rows: Sequence[dict]) -> list[dict]:
    """Rows for display: a baseline's stable id in the `model` column becomes its label (metrics.DISPLAY_LABELS)."""
    return [{**row, "model": DISPLAY_LABELS.get(row["model"], row["model"])} if "model" in row else row
            for row in rows]


def render_rows(rows: Sequence[dict], columns: Sequence[str] | None = None) -> list[dict]:
    """Rows ready to print or save: display labels for baseline ids, chosen columns in order, lists of notes
    joined."""
    rendered = []
    for row in labelled(rows):
        out = {key: row.get(key, "") for key in (columns or list(row))}
        if isinstance(out.get("notes"), list):
            out["notes"] = "; ".join(out["notes"])
        rendered.append(out)
    return rendered


def _cell(value, float_format: str) -> str:
    return float_format.format(value) if isinstance(value, float) else str(value)


def markdown_table(rows: Sequence[dict], float_format: str = "{:.4g}") -> str:
    """Rows of dicts as a GitHub Markdown table (every column any row has; blank where a row lacks it)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c, ""), float_format) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def format_table(rows: Sequence[dict], columns: Sequence[str] | None = None, float_format: str = "{:.4g}") -> str:
    """Rows as a fixed-width text table (for printing in notebooks and terminals; nothing truncated)."""
    if not rows:
        return "(no rows)"
    columns = list(columns or dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(column, ""), float_format) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(width) for column, width in zip(columns, widths)),
             "  ".join("-" * width for width in widths)]
    lines += ["  ".join(value.ljust(width) for value, width in zip(line, widths)) for line in cells]
    return "\n".join(lines)
