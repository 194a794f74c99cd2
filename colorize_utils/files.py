"""Files the package writes, at the bottom of its imports: atomic writes, strict JSON, the code's commit.

Every module that writes a result (bins, checkpoints, tables, cards, clips' manifests) uses these, so an
interrupted write never leaves a half-written file and every record names the code that made it.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
from pathlib import Path

from colorize_utils import config


def git_commit() -> str:
    """The project's current commit (with '-dirty' when code has changes), or 'unknown'.

    Changes under results/ do not count: they are what the runs themselves write.
    """
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=config.PROJECT_ROOT, text=True,
                                capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"],
                               cwd=config.PROJECT_ROOT, text=True, capture_output=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; on success it is renamed onto `path` in one step.

    An interrupted write (crash, kill, full disk) leaves the previous file untouched and no half-written
    one: readers see either the old file or the new one. The temporary keeps the suffix, because some
    writers (matplotlib, Keras) choose the format by it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def json_safe(value):
    """A copy of nested dicts/lists with NaN and infinities replaced by None (strict JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
