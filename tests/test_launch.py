"""The entry point: Ctrl-C while the libraries load ends with exit 130 and no traceback."""

from __future__ import annotations

import sys

import pytest

from portfolio_opt import launch


class _CtrlCOnLoad:
    """A module finder that acts as if Ctrl-C came while the command line was loading."""

    def find_spec(self, name: str, *args: object) -> None:
        if name == "portfolio_opt.cli":
            raise KeyboardInterrupt


def test_ctrl_c_while_loading_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "portfolio_opt.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_CtrlCOnLoad(), *sys.meta_path])
    with pytest.raises(SystemExit) as ended:
        launch.run()
    assert ended.value.code == launch.INTERRUPTED
