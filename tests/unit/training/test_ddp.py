"""The same training command under torchrun: 2 CPU processes, gloo, DistributedDataParallel."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ._fakedata import make_fake_datasets

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_two_cpu_processes_train_together(tmp_path):
    data = make_fake_datasets(tmp_path / "data")
    run = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc_per_node", "2",
           "-m", "training", "train", "--model", "maskgan", "--data", str(data), "--out", str(run),
           "--steps", "3", "--sizes", "64", "--pixels", str(4 * 64 * 64), "--tiny-every", "0", "--val-tiny", "4",
           "--no-pretrained", "--quiet", "--threads", "2"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    done = events[-1]
    assert done["event"] == "done" and done["step"] == 3
    assert done["photos"] == 3 * 4 * 2  # both ranks trained on their own batches
    assert len([e for e in events if e["event"] == "data"]) == 1  # only rank 0 writes the log
    assert (run / "last.pt").is_file()
