"""Sweeps: expansion, dry-run commands, an end-to-end sweep, resumption."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from genjax import sweep
from genjax.errors import ConfigError
from conftest import REPO, requires_mnist

SWEEP_CONFIG = f'''
import importlib.util
_spec = importlib.util.spec_from_file_location("ae", {str(REPO / "configs" / "ae_mnist.py")!r})
_ae = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ae)


def get_config(arg=None):
  c = _ae.get_config(arg)
  c.evals.probe.enabled = False  # the sweep's plumbing is under test, not the probes
  return c

def sweep(add):
  add(**{{"model.code_dim": 4}})
  add(model__code_dim=6, optimizer__lr=3e-3)
  add({{"model.code_dim": -1}})  # invalid: must fail without stopping the others
'''


@pytest.fixture
def config_file(tmp_path):
  path = tmp_path / "ae_sweep.py"
  path.write_text(SWEEP_CONFIG)
  return str(path)


def test_expansion_names_and_commands(config_file, tmp_path):
  runs = sweep.load_sweep(config_file + ":runlocal")
  assert [r.name for r in runs] == ["code_dim=4", "code_dim=6,lr=0.003", "code_dim=-1"]
  assert runs[1].overrides == {"model.code_dim": 6, "optimizer.lr": 3e-3}
  cmd = sweep.command(config_file + ":runlocal", runs[1], "/w", python="python")
  assert cmd == ["python", "-m", "genjax.main", f"--config={config_file}:runlocal",
                 "--config.model.code_dim=6", "--config.optimizer.lr=0.003",
                 "--workdir=/w/code_dim=6,lr=0.003"]


def test_grid_is_the_cartesian_product():
  added = []
  sweep.grid(lambda d: added.append(d), {"a.x": [1, 2], "b": ["p", "q", "r"]})
  assert len(added) == 6 and {"a.x": 2, "b": "q"} in added


def test_bad_sweeps_are_clear_errors(tmp_path):
  path = tmp_path / "nosweep.py"
  path.write_text("def get_config(arg=None):\n  return None\n")
  with pytest.raises(ConfigError, match="defines no sweep"):
    sweep.load_sweep(str(path))
  with pytest.raises(ConfigError, match="not found"):
    sweep.load_sweep(str(tmp_path / "missing.py"))


def test_dry_run_prints_one_command_per_run():
  result = subprocess.run(
      [sys.executable, "scripts/sweep.py", "--config=configs/ae_mnist.py",
       "--workdir=/tmp/x", "--dry_run"], cwd=REPO, capture_output=True, text=True, timeout=120)
  assert result.returncode == 0, result.stderr
  lines = result.stdout.strip().splitlines()
  assert len(lines) == 4
  assert lines[0].endswith("--config.model.code_dim=8 --workdir=/tmp/x/code_dim=8")


@pytest.mark.slow
@requires_mnist
def test_sweep_end_to_end_then_resumed_does_no_training(config_file, tmp_path):
  workdir = tmp_path / "sw"
  args = [sys.executable, "scripts/sweep.py", f"--config={config_file}:runlocal",
          f"--workdir={workdir}", "--parallel=2"]
  result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
  assert result.returncode == 1  # one run is invalid on purpose
  assert "failed: code_dim=-1" in result.stderr
  with open(workdir / "summary.csv") as f:
    rows = {r["run"]: r for r in csv.DictReader(f)}
  assert rows["code_dim=4"]["status"] == "ok" and float(rows["code_dim=4"]["recon_loss"]) > 0
  assert rows["code_dim=6,lr=0.003"]["status"] == "ok"
  assert rows["code_dim=-1"]["status"].startswith("failed")
  assert "positive integers" in rows["code_dim=-1"]["error"]
  assert "| code_dim=4 | ok |" in (workdir / "summary.md").read_text()
  assert (workdir / "sweep_model_code_dim.png").is_file()

  metrics = (workdir / "code_dim=4" / "metrics.jsonl").read_text()
  again = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
  assert "code_dim=4: skipped (finished)" in again.stdout
  assert "code_dim=6,lr=0.003: skipped (finished)" in again.stdout
  assert (workdir / "code_dim=4" / "metrics.jsonl").read_text() == metrics
