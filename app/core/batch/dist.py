"""Scale-out of a batch over processes or machines started by torchrun (or any launcher).

The launcher sets RANK and WORLD_SIZE. Every rank plans the same sorted photo list and takes
items rank::WORLD_SIZE, so no photo is done twice and none is missed. At the end the ranks wait
for each other (a gloo barrier when MASTER_ADDR/MASTER_PORT are set, else rank 0 polls for the
others' report files of the same run id) and rank 0 merges the per-rank reports.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from .plan import BatchError
from .report import BatchReport, merge_reports, rank_report_path, read_report, write_report


@dataclass
class Ranks:
    rank: int = 0
    world_size: int = 1
    run_id: str = ""
    barrier: bool = False  # a torch.distributed process group is up


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        raise BatchError(f"The environment variable {name}={os.environ[name]!r} is not a whole number; fix the launcher settings.") from None


def ranks_from_env() -> Ranks:
    """This process's rank and the number of ranks, as the launcher set them (1 rank without one)."""
    rank, world = _env_int("RANK", 0), _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return Ranks()
    if not 0 <= rank < world:
        raise BatchError(f"RANK={rank} is outside WORLD_SIZE={world}; fix the launcher settings.")
    return Ranks(rank, world)


def start_ranks(timeout_s: float = 24 * 3600) -> Ranks:
    """Read the rank from the environment; join a gloo group when the launcher offers one."""
    base = ranks_from_env()
    if base.world_size <= 1:
        return base
    rank, world = base.rank, base.world_size
    run_id = os.environ.get("HUEBRUSH_RUN_ID") or os.environ.get("TORCHELASTIC_RUN_ID", "")
    run_id = "" if run_id == "none" else run_id  # torchrun's default id is the same for every run
    ranks = Ranks(rank, world, run_id)
    if os.environ.get("MASTER_ADDR") and os.environ.get("MASTER_PORT"):
        try:
            import torch.distributed as dist

            if dist.is_available():
                # gloo works on CPU-only machines too; the group is only used as a barrier.
                dist.init_process_group("gloo", rank=rank, world_size=world, timeout=timedelta(seconds=timeout_s))
                ranks.barrier = True
        except (ImportError, RuntimeError, ValueError):
            ranks.barrier = False
    if not ranks.barrier and not ranks.run_id:
        raise BatchError("Several ranks without a torch.distributed rendezvous need one HUEBRUSH_RUN_ID shared by all ranks; set it and run again.")
    return ranks


def finish_ranks(ranks: Ranks, report_path: Path, mine: BatchReport, timeout_s: float = 24 * 3600) -> BatchReport | None:
    """Wait for all ranks; rank 0 merges their reports into report_path and returns the merge."""
    if ranks.barrier:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    if ranks.rank != 0:
        return None
    reports = [mine] + [_wait_for(rank_report_path(report_path, r), ranks.run_id, timeout_s, ranks.barrier) for r in range(1, ranks.world_size)]
    merged = merge_reports(reports)
    missing = [r for r, rep in enumerate(reports) if rep is None]
    if missing:  # pragma: no cover - _wait_for raises instead
        raise BatchError(f"No report from rank(s) {missing}.")
    write_report(report_path, merged)
    return merged


def _wait_for(path: Path, run_id: str, timeout_s: float, after_barrier: bool) -> BatchReport:
    """A rank's final report: after a barrier it is already there; otherwise poll for it."""
    deadline = time.monotonic() + (5.0 if after_barrier else timeout_s)
    while True:
        try:
            rep = read_report(path)
            if rep.state != "running" and (after_barrier or rep.run_id == run_id):
                return rep
        except (OSError, ValueError, json.JSONDecodeError, TypeError):
            pass  # not written yet (the writes are atomic, so never half a file)
        if time.monotonic() > deadline:
            raise BatchError(f"Rank report {path} did not arrive within {timeout_s:.0f} s; check that rank's log, then run again with --skip-existing to resume.")
        time.sleep(0.5)
