"""portfolio_opt: split a branch's corporate customers among its customer managers, then set
each manager's targets and pay."""

import time

__version__ = "0.1.0"

IMPORTED = time.monotonic()  # where a command's own time starts: before its libraries load
