"""Fixtures of the payout tests."""

from __future__ import annotations

import pandas as pd
import pytest

from portfolio_opt.scenario.data import Scenario

from .builders import worked_example


@pytest.fixture
def worked() -> tuple[Scenario, pd.DataFrame]:
    """The worked example of docs/payout.md and its plan."""
    return worked_example()
