"""Shared fixtures: the real data in ../shared/data (skipped with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from colorize_utils import config

SHARED_DATA = Path(os.environ.get("COLORIZE_SHARED_DATA", config.PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data with real Tiny ImageNet and CIFAR-10 files."""
    if not (SHARED_DATA / "tiny-imagenet-200" / "train").is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (set COLORIZE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_imagenet_files(shared_data) -> list[Path]:
    """A few hundred real 64x64 Tiny ImageNet JPEGs, from many classes."""
    return sorted((shared_data / "tiny-imagenet-200" / "train").glob("*/images/*_1*.JPEG"))[:400]
