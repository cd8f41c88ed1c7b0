"""Experiments run end to end (tiny budget: plumbing, not the claim's numbers)."""

from __future__ import annotations

import json

from conftest import requires_mnist
from experiments import pca_vs_linear_ae

pytestmark = requires_mnist


def test_pca_vs_linear_ae_writes_its_report(tmp_path):
  path = pca_vs_linear_ae.run(str(tmp_path), quick=True, smoke=True)
  text = open(path).read()
  assert "**Claim.**" in text and "## Verdict" in text and "mse_vs_k.png" in text
  results = json.loads((tmp_path / "results.json").read_text())
  assert len(results["verdicts"]) == 4
  for k in (2, 8, 32):
    r = results["results"][f"k={k}"]
    assert 0 <= r["largest_angle_deg"] <= 90 and r["pca_mse"] > 0
    assert len(r["angles_deg"]) == k
  assert (tmp_path / "mse_vs_k.png").is_file()
