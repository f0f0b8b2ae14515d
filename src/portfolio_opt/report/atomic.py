"""Output folders written atomically: a crash leaves the old folder or nothing, never half files."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# What a run leaves beside its target when killed: its staging folder or the old target.
LEFTOVER = re.compile(r"\.(?:(\d+)\.[^.]+\.tmp|old-(\d+))")


def _remove_leftovers(target: Path) -> None:
    """Staging and old folders of earlier runs on ``target`` whose process is gone (killed
    before it could clean up); a run still going keeps its own."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*"):
        match = LEFTOVER.fullmatch(leftover.name[len(target.name) + 1 :])
        if match and leftover.is_dir() and not _alive(int(match.group(1) or match.group(2))):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _folder_mode() -> int:
    """The mode a new folder gets under the process's umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o777 & ~umask


class FolderChangedError(Exception):
    """``target`` changed while the outputs were written: they are kept beside it."""

    def __init__(self, problem: str, kept: Path) -> None:
        super().__init__(f"{problem} (changed during this run); its outputs are in {kept}")
        self.kept = kept


@contextmanager
def atomic_folder(target: Path, changed: Callable[[], str | None] | None = None) -> Iterator[Path]:
    """Yield a fresh staging folder; on success it replaces ``target`` in one rename.

    ``changed`` says, just before, why ``target`` may no longer be replaced (a plan edited
    there while the run went on), or None; then the outputs go beside it instead."""
    target = target.resolve()
    made = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(target)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    )
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in made:  # nothing written leaves no new empty folders either
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    staging.chmod(_folder_mode())  # mkdtemp's is private; the folder is shared like any other
    if changed is not None and target.exists() and (problem := changed()) is not None:
        kept = _free_name(target.with_name(f"{target.name}-new"))
        os.replace(staging, kept)
        raise FolderChangedError(problem, kept)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _free_name(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... the first that does not exist."""
    candidate, n = path, 2
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}-{n}"), n + 1
    return candidate


def atomic_write_text(path: Path, text: str) -> None:
    """Write one file through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
        stream.write(text)
    os.replace(temp, path)
