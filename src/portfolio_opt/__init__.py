"""portfolio_opt: split a branch's corporate customers among its customer managers, then set
each manager's targets and pay."""

__version__ = "0.1.0"
