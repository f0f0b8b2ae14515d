"""A scenario as a run solved it: the policy and unavailable managers its manifest records
(``--set``, ``--unavailable`` and a sweep's variants change them without touching the files),
and the options that give the same run again."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from portfolio_opt.report.folders import MANIFEST
from portfolio_opt.scenario.data import Scenario
from portfolio_opt.scenario.policy import Policy


def as_solved(scenario: Scenario, manifest: dict[str, Any]) -> Scenario:
    """The scenario as the run solved it: the policy it ran with and the managers it had
    unavailable (a sweep's variant changes both without touching the files)."""
    try:
        policy = Policy.model_validate(manifest["policy"])
    except (KeyError, ValidationError):
        policy = scenario.policy
    away = manifest.get("unavailable_managers")
    managers = scenario.managers
    if isinstance(away, list):
        managers = managers.assign(available=~managers["manager_id"].astype(str).isin(away))
    solved = replace(scenario, policy=policy, managers=managers)
    return replace(solved, as_run=options_as_run(scenario, solved))


def options_as_run(files: Scenario, solved: Scenario) -> tuple[str, ...]:
    """The ``--set`` and ``--unavailable`` options that make ``solved`` from ``files`` (the
    solver's own settings aside: they change no rule)."""
    from portfolio_opt.parallel.variants import format_value

    ours, theirs = files.policy.model_dump(), solved.policy.model_dump()
    for policy in (ours, theirs):
        policy.pop("solver", None)
    options = [
        f"--set {shlex.quote(f'{key}={format_value(value)}')}"
        for key, value in _changed_keys(ours, theirs)
    ]
    away = sorted(
        set(solved.managers.loc[~solved.managers["available"], "manager_id"].astype(str))
        - set(files.managers.loc[~files.managers["available"], "manager_id"].astype(str))
    )
    if away:
        options.append(f"--unavailable {shlex.quote(','.join(away))}")
    return tuple(options)


def _changed_keys(
    ours: dict[str, Any], theirs: dict[str, Any], prefix: str = ""
) -> list[tuple[str, Any]]:
    """The dotted keys (``balance.max_deviation``) whose values differ, with ``theirs``; a
    table is given whole where it lost a key (a key can be set, not removed)."""
    changed: list[tuple[str, Any]] = []
    for key, value in theirs.items():
        mine = ours.get(key)
        if mine == value:
            continue
        if isinstance(mine, dict) and isinstance(value, dict) and set(mine) <= set(value):
            changed += _changed_keys(mine, value, f"{prefix}{key}.")
        else:
            changed.append((f"{prefix}{key}", value))
    return changed


def options_of_plan(scenario: Scenario, plan_file: Path) -> tuple[str, ...]:
    """The ``--set`` and ``--unavailable`` options the plan in a solve's output folder was made
    with, beyond ``scenario``'s; none where the folder's manifest is of another scenario."""
    try:
        manifest = json.loads((plan_file.parent / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    source = manifest.get("scenario") if isinstance(manifest, dict) else None
    if not isinstance(source, str) or Path(source).resolve() != scenario.root.resolve():
        return ()
    return as_solved(scenario, manifest).as_run
