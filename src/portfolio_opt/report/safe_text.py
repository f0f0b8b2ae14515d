"""Text a spreadsheet would run as a formula is stored as text, in CSV and XLSX alike."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@")
# A signed number a spreadsheet reads as a number, not a formula: left as it is.
PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d*)?([eE][+-]?\d+)?%?")


def _risky(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text)


def escape_formula(value: object) -> object:
    """Prefix a quote to text starting with =, +, -, @ (numbers, and text such as -5, are left
    alone), and to text that starts with a quote before one of those, so that reading it back
    gives it unchanged."""
    if not isinstance(value, str):
        return value
    quoted = value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS)
    return "'" + value if quoted or _risky(value) else value


def unescape_formula(value: str) -> str:
    """Undo ``escape_formula`` when reading a file the tool wrote (or Excel saved)."""
    if value.startswith("'") and value.lstrip("'")[:1] in FORMULA_STARTS and len(value) > 1:
        return value[1:]
    return value


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells, and column names, are safe to open in a spreadsheet."""
    safe = frame.copy()
    safe.columns = [escape_formula(c) for c in safe.columns]
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(escape_formula)
    return safe
