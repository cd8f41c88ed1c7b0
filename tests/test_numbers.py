"""Numbers quoted in README.md, the results README and config docstrings
equal the committed results they come from (scripts/check_numbers.py)."""

from __future__ import annotations

import importlib.util
import json
import sys

from conftest import REPO

_spec = importlib.util.spec_from_file_location("check_numbers", REPO / "scripts" / "check_numbers.py")
check_numbers = importlib.util.module_from_spec(_spec)
sys.modules["check_numbers"] = check_numbers  # dataclasses look their module up there
_spec.loader.exec_module(check_numbers)


def test_quoted_numbers_match_the_committed_results():
  assert check_numbers.mismatches() == []
  # Every document the check reads is one of the ones a user reads.
  assert {q.doc for q in check_numbers.QUOTES} >= {
      "README.md", "experiments/results/README.md", "configs/vae_mnist.py"}


def test_a_drifted_number_is_reported(tmp_path):
  results = tmp_path / check_numbers.RESULTS / "run"
  results.mkdir(parents=True)
  (results / "final_metrics.json").write_text(json.dumps({"final": {"fd": 18.83, "floor": 2.0}}))
  (results / "results.json").write_text(json.dumps(
      {"verdicts": [{"agrees": True}, {"agrees": None}, {"agrees": False}]}))
  (tmp_path / "doc.md").write_text("| a | reached 18.8,\n  9.4x the floor |\n"
                                   "| [x](x/report.md) | 2026, a CPU | 1/3 agree |\n")
  f = "run/final_metrics.json"
  good = [check_numbers.Quote("doc.md", "reached {fd}, {x}x the floor", {
              "fd": check_numbers.num(f, "final.fd", ".1f"),
              "x": check_numbers.ratio(f, "final.fd", "final.floor", ".1f")}),
          check_numbers.Quote("doc.md", "[x](x/report.md) | {when} | {v}", {
              "when": lambda root: check_numbers.ANY_CELL,
              "v": check_numbers.agreed("run")})]
  assert check_numbers.mismatches(tmp_path, good) == []
  (results / "final_metrics.json").write_text(json.dumps({"final": {"fd": 19.0, "floor": 2.0}}))
  (results / "results.json").write_text(json.dumps({"verdicts": [{"agrees": True}] * 3}))
  bad = check_numbers.mismatches(tmp_path, good)
  assert len(bad) == 2 and "19.0, 9.5x the floor" in bad[0] and "3/3 agree" in bad[1]
