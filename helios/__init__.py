"""Helios build, test and release tooling."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class HeliosError(Exception):
    """A user-facing error: the message is printed as is, without a traceback."""
