"""Many solves at once on Dask: policy sweeps of one branch, and many branches together.

Each solve is a task that a worker rebuilds from the scenario folder and the variant's
overrides, and writes to its own output folder; the client only gets small summaries back.
"""

from portfolio_opt.parallel.cluster import (
    ClusterSize,
    available_cores,
    open_client,
    run_tasks,
    size_local_cluster,
)
from portfolio_opt.parallel.tasks import SolveTask, TaskSummary, solve_task
from portfolio_opt.parallel.variants import (
    Variant,
    VariantError,
    apply_drop,
    build_variants,
    managers_to_drop,
    parse_value,
    parse_vary,
)

__all__ = [
    "ClusterSize",
    "SolveTask",
    "TaskSummary",
    "Variant",
    "VariantError",
    "apply_drop",
    "available_cores",
    "build_variants",
    "managers_to_drop",
    "open_client",
    "parse_value",
    "parse_vary",
    "run_tasks",
    "size_local_cluster",
    "solve_task",
]
