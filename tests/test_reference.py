"""scripts/reference.py's --serve protocol, which scripts/benchmark.py drives
(the frameworks themselves live in another environment and are not tested
here), and benchmark.py's one-line errors."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys

from conftest import REPO


def _reference_module():
  spec = importlib.util.spec_from_file_location("reference", REPO / "scripts" / "reference.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)  # imports neither torch nor keras
  return module


def test_serve_answers_one_timed_round_per_request(monkeypatch, capsys):
  asked = []

  def run_steps(n):
    asked.append(n)
    return 100.0 * n

  monkeypatch.setattr(sys, "stdin", io.StringIO("30\n\n300\n"))
  _reference_module()._serve(run_steps, "torch 0.0")
  lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
  assert lines == [{"ready": "torch 0.0"}, {"examples_per_sec": 3000.0},
                   {"examples_per_sec": 30000.0}]
  assert asked == [30, 300]  # blank lines are not requests


def test_benchmark_names_a_misspelt_key_in_one_line():
  proc = subprocess.run(
      [sys.executable, "scripts/benchmark.py", "--config=configs/ae_mnist.py:runlocal",
       "--config.optimizer.lrr=1"], cwd=REPO, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 1 and proc.stdout == ""
  assert proc.stderr.strip().splitlines() == [
      "genjax: error: unknown config key 'optimizer.lrr'; did you mean 'optimizer.lr'?"]


def test_reference_without_its_framework_says_so_in_one_line():
  # `import torch` fails (as in genjax's own environment, whatever is installed).
  code = ("import runpy, sys; sys.modules['torch'] = None; "
          "sys.argv = ['reference.py', '--framework=pytorch']; "
          "runpy.run_path('scripts/reference.py', run_name='__main__')")
  proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
  assert proc.returncode == 1
  assert proc.stderr.startswith("reference: error: ") and len(proc.stderr.splitlines()) == 1
