"""Experiments run end to end (tiny budget: plumbing, not the claim's numbers)."""

from __future__ import annotations

import importlib
import inspect
import json

from conftest import requires_mnist
from experiments import pca_vs_linear_ae, vae_likelihood

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


def test_vae_likelihood_writes_its_report(tmp_path):
  path = vae_likelihood.run(str(tmp_path), quick=True, smoke=True)
  text = open(path).read()
  assert "published NLL" in text and "latent_manifold.png" in text
  results = json.loads((tmp_path / "results.json").read_text())
  assert len(results["verdicts"]) == 4
  runs = results["results"]
  assert set(runs) == {"kingma_vae", "burda_vae", "burda_iwae", "latent_2d"}
  for r in runs.values():
    # Even 20 steps keep the IWAE estimate below the negative ELBO.
    assert 0 < r["nll"] < r["neg_elbo"]
  assert 0 <= runs["latent_2d"]["manifold_classes"] <= 10
  assert (tmp_path / "latent_manifold.png").is_file() and (tmp_path / "samples.png").is_file()


def test_every_experiment_imports_into_one_process():
  # `python -m experiments --all` imports them all next to its own flags.
  runner = importlib.import_module("experiments.__main__")
  names = runner.names()
  assert {"pca_vs_linear_ae", "vae_likelihood"} <= set(names)
  for name in names:
    run = importlib.import_module(f"experiments.{name}").run
    assert list(inspect.signature(run).parameters)[:3] == ["workdir", "quick", "smoke"]


def test_report_names_runs_that_resumed_from_earlier_checkpoints(tmp_path, monkeypatch):
  from experiments import report as report_lib
  monkeypatch.setattr(report_lib.train, "train_and_evaluate", lambda cfg, workdir: {})
  for step in ("100", "2300", "2300.orbax-checkpoint-tmp-1"):  # the last: an unfinished save
    (tmp_path / "old" / "checkpoints" / step).mkdir(parents=True)
  report_lib.train_run(None, str(tmp_path / "old"))  # left over from an earlier report
  rep = report_lib.Report(name="n", claim="c", prediction="p", quick=True)
  report_lib.train_run(None, str(tmp_path / "fresh"))
  report_lib.train_run(None, str(tmp_path / "old") + "/")
  text = open(rep.write(str(tmp_path))).read()
  assert "**Resumed from earlier checkpoints:** old (from step 2300)." in text
  assert "fresh" not in text
  results = json.loads((tmp_path / "results.json").read_text())
  assert results["resumed_runs"] == {"old": 2300}
