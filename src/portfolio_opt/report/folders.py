"""Which output folders a command may replace.

Every command writes its outputs into a staging folder that then replaces ``--out`` whole, so
``--out`` may hold nothing the command did not write: not the inputs, and not a planner's own
files (an edited plan, notes). Each output folder's ``manifest.json`` names the command that
wrote it and the files it wrote (``outputs``, with each file's SHA-256); anything else in the
folder, or a file changed since (a plan edited in place), makes it refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from portfolio_opt.plan.io import cells_digest, plan_digest, plan_table, table_cells_digest
from portfolio_opt.problems import listed
from portfolio_opt.report.atomic import atomic_folder
from portfolio_opt.report.fingerprint import workbook_fingerprint, written_fingerprint

MANIFEST = "manifest.json"
PLAN_FILE = "assignment.csv"
# Commands reading several folders: their --out may not go inside one (a solve's output folder
# holding a comparison is then refused by the next solve).
GATHERING = frozenset({"compare", "sweep", "solve-many"})
# What file browsers leave in a folder they show: lost with it, nobody's work.
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})

# How each command's folders are named in messages.
FOLDER_NAMES = {
    "solve": "an output folder",
    "compare": "a comparison folder",
    "payout": "a payout folder",
    "sweep": "a sweep folder",
    "solve-many": "a solve-many folder",
}


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    """``manifest.json`` in ``folder``, listing everything at the top of ``folder`` (itself
    included) as the command's ``outputs``, and every file below it with its SHA-256 (a
    subfolder with a manifest of its own, a sweep's variant, answers for its files). Written
    last, so the list is complete."""
    outputs = sorted({p.name for p in folder.iterdir()} | {MANIFEST})
    files, _ = _tree(folder)
    digests = {name: file_digest(folder / name) for name in files}
    workbooks = {name: written_fingerprint(folder / name) for name in files if _is_workbook(name)}
    tables = {
        name: table_cells_digest(folder / name)
        for name in files
        if _is_csv(name) and name != PLAN_FILE  # the plan has digests of its own
    }
    text = json.dumps(
        {
            **manifest,
            "outputs": outputs,
            "output_sha256": digests,
            "workbook_fingerprint": workbooks,
            "csv_cells_sha256": tables,
        },
        indent=2,
        ensure_ascii=False,
        default=str,
    )
    (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


def _tree(folder: Path) -> tuple[list[str], list[str]]:
    """The files below ``folder`` (relative POSIX paths, sorted), but not those of subfolders
    with a manifest of their own; and those subfolders."""
    files: list[str] = []
    owned: list[str] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(relative.is_relative_to(o) for o in owned):
            continue
        if path.is_dir() and (path / MANIFEST).is_file():
            owned.append(relative.as_posix())
        elif path.is_file() and path.name not in SYSTEM_FILES:
            files.append(relative.as_posix())
    return files, owned


def file_digest(path: Path) -> str:
    """The SHA-256 of the file at ``path``, in hex."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _is_workbook(name: str) -> bool:
    return name.lower().endswith(".xlsx")


def _is_csv(name: str) -> bool:
    return name.lower().endswith(".csv")


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def unwritable_place(target: Path) -> str | None:
    """Why no folder can be written beside ``target`` (where its staging folder goes), or None.
    Tried for real, as permissions alone do not tell (read-only disks, system folders)."""
    place = target.parent
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        return f"{place} is a file, so {target} cannot be made; choose another output folder"
    try:
        Path(tempfile.mkdtemp(prefix=".portfolio-opt-probe.", dir=place)).rmdir()
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else exc.strerror
        return f"cannot write in {place} ({reason}); choose another output folder"
    return None


def replace_problem(out: Path, inputs: Mapping[Path, str], command: str) -> str | None:
    """Why ``command`` may not replace ``out``, or None.

    ``inputs`` maps each input path to what it is ("scenario", "plan"). ``out`` is refused when
    it holds an input, is a file, or holds anything but what ``command`` wrote there last.
    """
    target = out.resolve()
    for path, what in inputs.items():
        resolved = Path(path).resolve()
        if resolved == target or resolved.is_relative_to(target):
            return f"{out} holds the {what} {path}; choose another --out folder"
        if command in GATHERING and resolved.is_dir() and target.is_relative_to(resolved):
            return (
                f"{out} is inside the {what} {path}, which would then hold files it did not "
                "have; choose a folder outside it"
            )
    if (unwritable := unwritable_place(target)) is not None:
        return unwritable
    if os.path.ismount(target):  # a mounted disk cannot be replaced by a rename
        return f"{out} is a mount point; choose a folder inside it for --out"
    if not target.exists():
        return None
    if not target.is_dir():
        return f"{out} is a file; choose a folder for --out"
    entries = sorted(p.name for p in target.iterdir())
    if not entries:
        return None
    manifest = _read_manifest(target)
    # Output folders of solve from before manifests named their command.
    wrote = manifest.get("command", "solve" if "tool" in manifest else None)
    if wrote in FOLDER_NAMES and wrote != command:
        return (
            f"{out} is {FOLDER_NAMES[wrote]} (written by {wrote}), not {FOLDER_NAMES[command]}; "
            "choose a new or empty folder"
        )
    if wrote != command:
        return (
            f"{out} exists and is not {FOLDER_NAMES[command]} of this tool; "
            "choose a new or empty folder"
        )
    foreign, changed = _work_in(target, manifest)
    if open_in_excel := [name for name in foreign if Path(name).name.startswith("~$")]:
        shown = listed([Path(name).name[2:] for name in open_in_excel])
        return (
            f"{shown} in {out} is open in Excel ({listed(open_in_excel)}): close it and run again"
        )
    if foreign:
        return (
            f"{out} holds files that {command} did not write ({listed(foreign)}); they would be "
            "lost: move them out, or choose another --out folder"
        )
    if changed:
        return (
            f"{listed(changed)} in {out} changed after {command} wrote it (edited in place?); "
            "it would be lost: move it out, or choose another --out folder"
        )
    return None


def output_folder(out: str | None, name: str, scenarios: Sequence[Path]) -> tuple[Path, str | None]:
    """The output folder (``out``, or ``out/NAME`` by default) and why it is refused, if it is:
    the default folder is never one that holds another scenario's outputs."""
    if out:
        return Path(out), None
    target = Path("out") / safe_folder_name(name)
    return target, other_scenarios(target, scenarios)


def safe_folder_name(name: str) -> str:
    """``name`` as one folder's name: no separators, not ``.`` or ``..``."""
    safe = name.replace("/", "_").replace("\\", "_").strip()
    return safe if safe.strip(".") else "scenario"


def other_scenarios(out: Path, scenarios: Sequence[Path]) -> str | None:
    """Why the default folder ``out`` (named by scenario.toml's ``name``) is not replaced, or
    None: it holds the outputs of another scenario folder, still there (a copy of last year's
    folder keeps its name; solve-many's report of other branches)."""
    manifest = _read_manifest(out) if out.is_dir() else {}
    branches = manifest.get("branches")
    recorded = [manifest.get("scenario")] + [
        branch.get("scenario")
        for branch in (branches if isinstance(branches, list) else [])
        if isinstance(branch, dict)
    ]
    ours = {path.resolve() for path in scenarios}
    others = [
        source
        for source in recorded
        if isinstance(source, str) and Path(source).is_dir() and Path(source).resolve() not in ours
    ]
    if not others:
        return None
    own_name = f", or give {scenarios[0] / 'scenario.toml'} a name of its own"
    return (
        f"{out} holds the outputs of another scenario, {listed(others)}; it was left as it is: "
        f"give this run its own --out folder{own_name if len(scenarios) == 1 else ''}"
    )


def atomic_replacement(out: Path, command: str) -> AbstractContextManager[Path]:
    """:func:`atomic_folder` for ``command``'s ``out``, its swap refused where ``out`` was
    changed while the command ran (:class:`FolderChangedError`: the outputs go beside it)."""
    return atomic_folder(out, lambda: replace_problem(out, {}, command))


def _work_in(folder: Path, manifest: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """What a planner put in ``folder`` since the command wrote it: files it did not write,
    and files it wrote that changed since (relative paths; a subfolder with a manifest of its
    own, a sweep's variant, by that manifest)."""
    outputs = manifest.get("outputs")
    recorded = manifest.get("output_sha256")
    entries = [p.name for p in folder.iterdir() if p.name not in SYSTEM_FILES]
    foreign = [name for name in entries if isinstance(outputs, list) and name not in outputs]
    files, owned = _tree(folder)
    # Folders from before the manifest named the files below the top have nothing to compare.
    if isinstance(recorded, dict) and any("/" in name for name in recorded):
        foreign += [name for name in files if "/" in name and name not in recorded]
    changed = _changed_since(folder, manifest)
    for sub in owned:
        inner = _read_manifest(folder / sub)
        more, edited = _work_in(folder / sub, inner) if inner else ([], [])
        foreign += [f"{sub}/{name}" for name in more]
        changed += [f"{sub}/{name}" for name in edited]
    return foreign, changed


def files_changed(folder: Path) -> list[str]:
    """The files of an output folder changed since the command wrote them."""
    return _changed_since(folder, _read_manifest(folder))


def _changed_since(folder: Path, manifest: Mapping[str, Any]) -> list[str]:
    """The files of ``folder`` whose contents differ from what the manifest recorded (folders
    written before the manifest recorded digests have nothing to compare)."""
    recorded = manifest.get("output_sha256")
    if not isinstance(recorded, dict):
        return []
    return [
        name
        for name, digest in recorded.items()
        if name != MANIFEST
        and (folder / name).is_file()
        and file_digest(folder / name) != digest
        and not _same_plan(folder, name, manifest)
        and not _same_workbook(folder, name, manifest)
        and not _same_cells(folder, name, manifest)
    ]


def _same_cells(folder: Path, name: str, manifest: Mapping[str, Any]) -> bool:
    """Whether ``name`` is a CSV the command wrote, saved again by a spreadsheet with every
    cell as it was (assignment.csv has its own, stricter test: it is the plan)."""
    recorded = manifest.get("csv_cells_sha256")
    if name == PLAN_FILE or not isinstance(recorded, dict):
        return False
    digest = recorded.get(name)
    return isinstance(digest, str) and table_cells_digest(folder / name) == digest


def _same_workbook(folder: Path, name: str, manifest: Mapping[str, Any]) -> bool:
    """Whether ``name`` is a workbook the command wrote, saved again with every sheet, cell,
    style and note as it was (opened in a spreadsheet and saved: nothing to lose)."""
    recorded = manifest.get("workbook_fingerprint")
    if not isinstance(recorded, dict) or not isinstance(recorded.get(name), str):
        return False
    return workbook_fingerprint(folder / name) == recorded[name]


def _same_plan(folder: Path, name: str, manifest: Mapping[str, Any]) -> bool:
    """Whether ``name`` is the plan the command wrote, re-saved by a spreadsheet with every
    cell as it was (other line ends, separators or column order are nothing to lose; a moved
    customer or a column of notes is)."""
    written, cells = manifest.get("plan_sha256"), manifest.get("plan_table_sha256")
    if name != PLAN_FILE or not isinstance(written, str):
        return False
    table = plan_table(folder / name)
    if table is None or plan_digest(table) != written:
        return False
    return not isinstance(cells, str) or cells_digest(table) == cells


# What generate or import-gap wrote into a scenario folder, with each file's SHA-256: a folder
# whose files are all as written may be replaced; one edited since is the planner's work.
WRITTEN_RECORD = ".generated.json"


def record_written(folder: Path, names: list[str]) -> None:
    """Record the files ``names`` of ``folder`` as written now (see ``untouched_since_written``)."""
    record = {name: file_digest(folder / name) for name in names}
    (folder / WRITTEN_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def untouched_since_written(out: Path) -> bool:
    """Whether ``out`` may be written: absent, empty, or a folder this tool wrote and nobody
    changed since (every file in it recorded, with the contents recorded)."""
    if not out.exists():
        return True
    if not out.is_dir():
        return False
    names = {p.name for p in out.iterdir()} - SYSTEM_FILES - {WRITTEN_RECORD}
    if not names:
        return True
    try:
        recorded = json.loads((out / WRITTEN_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or not names <= set(recorded):
        return False
    return all((out / n).is_file() and file_digest(out / n) == recorded[n] for n in names)
