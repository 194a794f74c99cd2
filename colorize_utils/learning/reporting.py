"""Where results go: one save_fig(), tables as CSV + Markdown, metrics records with provenance."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Sequence

from colorize_utils import config
from colorize_utils.files import atomic_path, git_commit, json_safe
from colorize_utils.tables import labelled, markdown_table


class ResultsWriter:
    """Writes one notebook's figures, tables and metrics record under a profile's results folder."""

    def __init__(self, notebook: str, profile: config.Profile, results_dir: str | os.PathLike | None = None):
        self.notebook = notebook
        self.profile = profile
        self.root = config.results_dir(profile, results_dir)
        # The code a notebook runs is the code it imported when it started: record that commit (a long run
        # may finish after later commits).
        self.start_commit = git_commit()
        for sub in ("figures", "tables", "metrics", "models", "turing"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.metrics: dict = {}
        self.context: dict = {}
        self.seed = profile.seed  # the run's seed (NotebookRun sets it when a notebook overrides it)
        self.threads: int | None = None  # the kernel's TensorFlow threads when the runner set them (NotebookRun)

    def path(self, kind: str, name: str) -> Path:
        """Path of an output file of a kind ('figures', 'tables', 'metrics', 'models', 'turing')."""
        return self.root / kind / name

    def save_fig(self, fig, name: str, dpi: int = 110) -> Path:
        """Save a matplotlib figure as results/<profile>/figures/<name>.png."""
        path = self.path("figures", f"{name}.png")
        with atomic_path(path) as temporary:
            fig.savefig(temporary, dpi=dpi, bbox_inches="tight")
        return path

    def save_table(self, rows: Sequence[dict], name: str, float_format: str = "{:.4g}") -> Path:
        """Write rows (dicts with the same keys) as <name>.csv and a Markdown <name>.md; returns the CSV."""
        if not rows:
            raise ValueError(f"Table {name!r} has no rows.")
        columns = list(dict.fromkeys(key for row in rows for key in row))  # every column, in first-seen order
        csv_path = self.path("tables", f"{name}.csv")
        with atomic_path(csv_path) as temporary, open(temporary, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        with atomic_path(self.path("tables", f"{name}.md")) as temporary:
            temporary.write_text(markdown_table(labelled(rows), float_format) + "\n\n" + self.provenance_line()
                                 + "\n")
        return csv_path

    def provenance_line(self) -> str:
        """One line saying which run made a table."""
        data = self.context.get("data", {})
        return (f"_profile {self.profile.name}, data {data.get('source', '?')} "
                f"(train/val/test {data.get('sizes', {})}), seed {self.seed}, "
                f"commit {self.commit_note()}, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC_")

    def commit_note(self) -> str:
        """The commit the notebook started at, and the one at writing time when a commit came in between."""
        now = git_commit()
        return self.start_commit[:12] + ("" if now == self.start_commit else f" (written at {now[:12]})")

    def record(self, **metrics) -> None:
        """Add metrics to this notebook's record (written by write_metrics())."""
        self.metrics.update(metrics)

    def write_metrics(self) -> Path:
        """Write results/<profile>/metrics/<notebook>.json with the metrics and their provenance."""
        record = {
            "notebook": self.notebook,
            "profile": self.profile.to_dict(),
            "git_commit": self.start_commit,  # the code the notebook imported when it started
            "git_commit_at_write": git_commit(),
            "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "seed": self.seed,
            # Training's numbers depend on how many threads split its sums (the runner gives each of the
            # notebooks it runs side by side a share of the cores).
            "threads": {"cores": os.cpu_count(),
                        "tensorflow_intra_op": self.threads or "default (all cores)"},
            # This process's largest resident set so far (MiB): what a notebook needs beside others.
            "peak_resident_mib": peak_resident_mib(),
            **self.context,
            "metrics": self.metrics,
        }
        path = self.path("metrics", f"{self.notebook}.json")
        # Strict JSON: NaN / infinity (e.g. PSNR of identical images, an undefined ratio) become null.
        text = json.dumps(json_safe(record), indent=1, default=_to_json, allow_nan=False)
        with atomic_path(path) as temporary:
            temporary.write_text(text)
        return path


def _to_json(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot record {type(value).__name__} in a metrics file.")


def peak_resident_mib() -> float | None:
    """The largest resident set of this process so far, in MiB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2 ** 20 if sys.platform == "darwin" else 2 ** 10), 1)  # bytes on macOS, KiB on Linux


def machine_description() -> dict:
    """CPU model, core count and library versions, for cards and benchmark records."""
    import keras
    import numpy as np

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__,
                "backend": keras.backend.backend()}
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:
        pass
    accelerators = []
    if versions["backend"] == "jax":
        import jax

        versions["jax"] = jax.__version__
        accelerators = [device.device_kind for device in jax.devices() if device.platform != "cpu"]
    elif versions["backend"] == "tensorflow":
        import tensorflow as tf

        accelerators = [tf.config.experimental.get_device_details(device).get("device_name", device.name)
                        for device in tf.config.list_physical_devices("GPU")]
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "gpu": ", ".join(accelerators) or None, **versions}


def write_benchmark_record(path: str | os.PathLike, **fields) -> Path:
    """A benchmark's results as strict JSON at `path` (atomically), with the machine, commit and date first."""
    import time

    record = {"machine": machine_description(), "git_commit": git_commit(),
              "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields}
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(json_safe(record), indent=1, allow_nan=False))
    return path
