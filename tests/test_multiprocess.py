"""Two JAX processes on 127.0.0.1 (CPU collectives) train like one process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

from conftest import REPO, requires_mnist
from test_train import load_params

pytestmark = requires_mnist

ARGS = ["--config=configs/ae_mnist.py:runlocal", "--config.total_steps=30",
        "--config.evals.probe.enabled=False"]


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _launch(workdir, *extra):
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=1"}
  return subprocess.Popen([sys.executable, "-m", "genjax.main", *ARGS, f"--workdir={workdir}",
                           *extra], cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_processes_match_one_process(tmp_path):
  port = _free_port()
  multi = tmp_path / "two_processes"
  procs = [_launch(multi, "--jax_distributed", f"--coordinator_address=127.0.0.1:{port}",
                   "--num_processes=2", f"--process_id={i}") for i in range(2)]
  single = _launch(tmp_path / "one_process")
  errs = []
  for p in [*procs, single]:
    _, err = p.communicate(timeout=400)
    assert p.returncode == 0, err[-3000:]
    errs.append(err)
  assert "2 processes" in errs[0] and "2 processes" in errs[1]
  one = json.loads((tmp_path / "one_process" / "final_metrics.json").read_text())
  two = json.loads((multi / "final_metrics.json").read_text())
  for key, value in one["eval"].items():
    np.testing.assert_allclose(two["eval"][key], value, rtol=1e-5, err_msg=key)
  step, p1 = load_params(tmp_path / "one_process")
  step2, p2 = load_params(multi)
  assert step == step2 == 30
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), p1, p2)
  # Only process 0 writes metrics: one row per log step, not two.
  rows = [json.loads(line) for line in (multi / "metrics.jsonl").read_text().splitlines()]
  assert [r["step"] for r in rows if r["split"] == "train"] == [10, 20, 30]
