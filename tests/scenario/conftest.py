"""Fixtures of the scenario tests: the tiny scenario folders under ``data/``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
INVALID = DATA / "invalid"


def copy_scenario(name: str, target: Path) -> Path:
    """A copy of ``data/<name>`` at ``target``, to change one file without touching the original."""
    shutil.copytree(DATA / name, target)
    return target


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    """A copy of ``valid_minimal``: 3 customers, 3 managers (M3 unavailable), tables only."""
    return copy_scenario("valid_minimal", tmp_path / "minimal")


@pytest.fixture
def all_columns(tmp_path: Path) -> Path:
    """A copy of ``valid_all_columns``: every column, Chinese text, 是/否, unknown columns."""
    return copy_scenario("valid_all_columns", tmp_path / "all_columns")
