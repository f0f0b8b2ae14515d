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


def test_the_last_collection_is_skipped_once_the_command_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The objects the libraries leave are frozen after the command, whatever its exit, so the
    interpreter does not spend part of a whole-command time limit collecting them."""
    import portfolio_opt.cli as cli

    frozen: list[bool] = []

    def finished() -> None:
        assert not frozen  # not before the command ends
        sys.exit(3)

    monkeypatch.setattr(cli, "main", finished)
    monkeypatch.setattr(launch.gc, "freeze", lambda: frozen.append(True))
    with pytest.raises(SystemExit) as ended:
        launch.run()
    assert ended.value.code == 3 and frozen == [True]
