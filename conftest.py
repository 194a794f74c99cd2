"""Test-wide settings: notebooks under nbval run the seconds-long smoke profile."""

import os

os.environ.setdefault("COLORIZE_PROFILE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ log lines in compared outputs
os.environ.setdefault("MPLBACKEND", "Agg")
