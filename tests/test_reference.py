"""scripts/reference.py's --serve protocol, which scripts/benchmark.py drives
(the frameworks themselves live in another environment and are not tested here)."""

from __future__ import annotations

import importlib.util
import io
import json
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
