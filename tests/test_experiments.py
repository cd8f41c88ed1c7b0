"""Experiments run end to end (tiny budget: plumbing, not the claim's numbers).

A smoke run's numbers mean nothing, so its checks are consistency checks that
a regression would break: numbers recomputed independently from what the
experiment read or wrote, report tables equal to results.json, verdicts equal
to their predicates recomputed from the reported numbers.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from conftest import load_config, requires_mnist
from experiments import pca_vs_linear_ae
from experiments import report as report_lib
from experiments import vae_likelihood
from genjax import data as data_lib
from genjax import writers
from genjax.evaluation import subspace


def _saved(run_dir) -> dict:
  """A run's final_metrics.json: {"eval": ..., "final": ...}."""
  with open(os.path.join(run_dir, "final_metrics.json")) as f:
    return json.load(f)


def _cells(*values) -> list[str]:
  return [report_lib.format_cell(v) for v in values]


def _pixels(cfg, split: str) -> np.ndarray:
  limit = cfg.data.max_train_examples if split == "train" else cfg.data.max_eval_examples
  images = data_lib.read_split(cfg.data, split, limit)["image"]
  return images.reshape(len(images), -1).astype(np.float64) / 255.0


@pytest.mark.slow
@requires_mnist
def test_pca_vs_linear_ae_writes_its_report(tmp_path):
  path = pca_vs_linear_ae.run(str(tmp_path), quick=True, smoke=True)
  text = open(path).read()
  assert "**Claim.**" in text and "## Verdict" in text and "mse_vs_k.png" in text
  results = json.loads((tmp_path / "results.json").read_text())
  assert len(results["verdicts"]) == 4
  by_k = results["results"]["by_k"]
  code_sizes = pca_vs_linear_ae.CODE_SIZES[:2]  # a smoke run's
  assert sorted(by_k) == sorted(f"k={k}" for k in code_sizes)
  # PCA recomputed here by SVD (the experiment uses an eigendecomposition of
  # the covariance) from the images the smoke config reads.
  cfg = report_lib.config("linear_ae_mnist", smoke=True)
  train_x, test_x = _pixels(cfg, "train"), _pixels(cfg, "test")
  mean = train_x.mean(0)
  _, s, vt = np.linalg.svd(train_x - mean, full_matrices=False)
  variances = s**2 / (len(train_x) - 1)
  rows = report_lib.read_table(path, "Per seed")
  i = 0
  for k in code_sizes:
    assert sorted(by_k[f"k={k}"]) == ["1"]  # a smoke run trains seed 1 alone
    for seed, r in by_k[f"k={k}"].items():
      angles = r["angles_deg"]
      assert len(angles) == k and angles == sorted(angles)
      assert r["largest_angle_deg"] == angles[-1]
      assert r["median_angle_deg"] == pytest.approx(float(np.median(angles)), rel=1e-12)
      centered = test_x - mean
      residual = centered - centered @ vt[:k].T @ vt[:k]
      assert r["pca_mse"] == pytest.approx(float(np.mean(residual**2)), rel=1e-6)
      assert r["explained_variance"] == pytest.approx(variances[:k].sum() / variances.sum(),
                                                      rel=1e-6)
      assert r["eigengap_ratio"] == pytest.approx(variances[k - 1] / variances[k], rel=1e-6)
      # The autoencoders' MSEs are their runs' own final evals, each at its seed.
      for kind, key in (("linear", "linear_ae_mse"), ("nonlinear", "nonlinear_ae_mse")):
        run_dir = tmp_path / f"{kind}_k{k}_seed{seed}"
        assert r[key] == _saved(run_dir)["eval"]["mse"]
        assert json.loads((run_dir / "config.json").read_text())["seed"] == int(seed)
      assert rows[i] == _cells(k, int(seed), r["largest_angle_deg"], r["median_angle_deg"],
                               r["linear_ae_mse"], r["pca_mse"],
                               r["linear_ae_mse"] / r["pca_mse"], r["nonlinear_ae_mse"])
      i += 1
  assert len(rows) == i == len(code_sizes)
  assert [v["agrees"] for v in results["verdicts"]] == [
      ok for _, ok in pca_vs_linear_ae.verdicts(by_k)]
  assert (tmp_path / "mse_vs_k.png").is_file()
  # Run again: every measurement is kept, so nothing is retrained or re-measured.
  logged = {d.name: len(writers.read_metrics(str(d))) for d in tmp_path.glob("*_seed*")
            if (d / "config.json").is_file()}
  pca_vs_linear_ae.run(str(tmp_path), quick=True, smoke=True)
  again = json.loads((tmp_path / "results.json").read_text())
  assert again["results"] == results["results"]
  assert {d: len(writers.read_metrics(str(tmp_path / d))) for d in logged} == logged


def test_pca_vs_linear_ae_verdicts_can_disagree():
  def k(ratio, median, largest, nonlinear, spread=0.0):  # three seeds, a little apart
    return {str(s): {"pca_mse": 0.04, "linear_ae_mse": 0.04 * (ratio + spread * s / 100),
                     "median_angle_deg": median + 0.01 * s,
                     "largest_angle_deg": largest + spread * s,
                     "nonlinear_ae_mse": nonlinear + 0.0001 * s} for s in range(3)}
  good = {"k=2": k(1.0, 0.3, 0.5, 0.03), "k=8": k(1.001, 0.1, 6.0, 0.02)}
  agrees = lambda r: [ok for _, ok in pca_vs_linear_ae.verdicts(r)]  # noqa: E731
  assert agrees(good) == [True] * 4
  # One statistic off at k = 8 at a time: the linear AE 2% worse than PCA; the
  # median angle 6 degrees; the largest 32.8; the non-linear AE no better than PCA.
  assert agrees({**good, "k=8": k(1.02, 0.1, 6.0, 0.02)}) == [False, True, True, True]
  assert agrees({**good, "k=8": k(1.001, 6.0, 8.0, 0.02)}) == [True, False, True, True]
  assert agrees({**good, "k=8": k(1.001, 0.1, 32.8, 0.02)}) == [True, True, False, True]
  assert agrees({**good, "k=8": k(1.001, 0.1, 6.0, 0.05)}) == [True, True, True, False]
  # Seeds straddling the 10-degree bar (8, 10, 12): inconclusive, not agree.
  assert agrees({**good, "k=8": k(1.001, 0.1, 8.0, 0.02, spread=2.0)})[2] is None


@pytest.mark.slow
@requires_mnist
def test_vae_likelihood_writes_its_report(tmp_path):
  path = vae_likelihood.run(str(tmp_path), quick=True, smoke=True)
  text = open(path).read()
  assert "published NLL" in text and "latent_manifold.png" in text
  results = json.loads((tmp_path / "results.json").read_text())
  # One seed (the smoke run's): every verdict is inconclusive, none is skipped.
  assert [v["agrees"] for v in results["verdicts"]] == [None] * 4
  runs = results["results"]
  assert set(runs) == set(vae_likelihood._runs(quick=True, smoke=True)) == {
      "kingma_vae_seed1", "burda_vae_seed1", "burda_iwae_seed1", "latent_2d_seed1"}
  rows = report_lib.read_table(path, "Test set")
  for row, name in zip(rows, vae_likelihood._runs(quick=True, smoke=True), strict=True):
    r, saved = runs[name], _saved(tmp_path / name)
    # Even 20 steps keep the IWAE estimate below the negative ELBO.
    assert 0 < r["nll"] < r["neg_elbo"]
    assert r["neg_elbo"] == saved["eval"]["neg_elbo"] and r["nll"] == saved["final"]["nll"]
    assert 0 < r["nll_is_stderr"] < r["nll_test_stderr"]
    # Smoke runs use the runlocal variants' k (not --quick's 500 or latent_2d's own).
    assert r["nll_samples"] == vae_likelihood.SMOKE_NLL["evals__nll__samples"]
    assert row[1] == "1" and row[3:8] == _cells(r["neg_elbo"], r["nll"], r["nll_is_stderr"],
                                                r["nll_test_stderr"], int(r["nll_samples"]))
  latent = runs["latent_2d_seed1"]
  assert latent["latent_dim"] == 2  # the smoke variant keeps the 2-D latent plane
  assert latent["manifold_classes"] == _saved(tmp_path / "latent_2d_seed1")["final"][
      "manifold_classes"]
  assert [v["passes"] for v in results["sanity_checks"]] == [
      all(r["nll"] < r["neg_elbo"] for r in runs.values())]
  assert "## Sanity checks" in text and "- PASSES: NLL (IWAE k) below" in text
  assert (tmp_path / "latent_manifold.png").is_file() and (tmp_path / "samples.png").is_file()


def test_every_experiment_imports_into_one_process():
  # `python -m experiments --all` imports them all next to its own flags.
  runner = importlib.import_module("experiments.__main__")
  names = runner.names()
  assert {"pca_vs_linear_ae", "vae_likelihood"} <= set(names)
  for name in names:
    run = importlib.import_module(f"experiments.{name}").run
    assert list(inspect.signature(run).parameters)[:3] == ["workdir", "quick", "smoke"]


def internal_genjax_uses(source: str) -> list[str]:
  """What a module's source takes from genjax beyond the public API.

  Flags any import of `genjax.methods` (a method's model builders, defaults
  and state layout are its own: experiments and scripts go through
  `genjax.load` / `TrainedRun.model`), names starting with "_" imported from
  a genjax module, and "_" attributes read from a name bound to one.
  """
  found, modules = [], set()  # modules: local names bound to genjax modules
  tree = ast.parse(source)
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      for alias in node.names:
        if alias.name == "genjax" or alias.name.startswith("genjax."):
          modules.add(alias.asname or alias.name.split(".")[0])
          if alias.name.startswith("genjax.methods"):
            found.append(f"line {node.lineno}: import {alias.name}")
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
        node.module == "genjax" or node.module.startswith("genjax.")):
      for alias in node.names:
        qualified = f"{node.module}.{alias.name}"
        if (qualified.startswith("genjax.methods")
            or (alias.name.startswith("_") and not alias.name.startswith("__"))):
          found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
        modules.add(alias.asname or alias.name)
  for node in ast.walk(tree):
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
        and node.value.id in modules
        and (node.attr == "methods"
             or (node.attr.startswith("_") and not node.attr.startswith("__")))):
      found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
  return found


def test_internal_genjax_uses_are_found():
  assert internal_genjax_uses("from genjax.methods import autoencoder, vae")
  assert internal_genjax_uses("from genjax import methods")
  assert internal_genjax_uses("import genjax.methods.gan as gan")
  assert internal_genjax_uses("from genjax.data import _num_classes")
  assert internal_genjax_uses("from genjax import data as d\nd._pixel_scale(x)")
  assert internal_genjax_uses("import genjax\ngenjax.methods.get('gan')")
  assert not internal_genjax_uses(
      "import genjax\nfrom genjax import data as d, train\nfrom genjax.evaluation import "
      "linear_probe\nm = genjax.load(w)\nd.Dataset\nx.__class__\nfrom pip import _internal")


def test_experiments_and_scripts_use_only_the_public_api():
  # Item 8 of issue 18: they are users of genjax, so they show how to use it.
  repo = pathlib.Path(__file__).resolve().parents[1]
  paths = sorted([*repo.glob("experiments/*.py"), *repo.glob("scripts/*.py")])
  assert len(paths) > 10
  found = {str(p.relative_to(repo)): internal_genjax_uses(p.read_text()) for p in paths}
  assert {p: uses for p, uses in found.items() if uses} == {}


def test_every_experiment_runs_from_the_command_line():
  # `python -m experiments.<name>` must run the experiment, not import it and exit.
  repo = pathlib.Path(__file__).resolve().parents[1]
  names = [p.stem for p in repo.glob("experiments/*.py")
           if p.stem not in ("__init__", "__main__", "report")]
  assert len(names) >= 10
  for name in names:
    tree = ast.parse((repo / "experiments" / f"{name}.py").read_text())
    mains = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert mains and "report_lib.cli(run)" in ast.unparse(mains[0]), name


def test_smoke_configs_are_the_runlocal_variants_with_a_tiny_budget():
  budget = {"total_epochs": 3.0, "eval_every_steps": 300}
  for name, arg in (("linear_ae_mnist", None), ("conv_dae_mnist", "level=0.3"),
                    ("gan_toy", "dist=mog1d"), ("infogan_mnist", "paper"),
                    ("vae_mnist", "latent_dim=2,epochs=50")):
    smoke = report_lib.config(name, arg, smoke=True, **budget)
    runlocal = load_config(name, f"{arg},runlocal" if arg else "runlocal")
    assert smoke.model == runlocal.model and smoke.data == runlocal.data, name
    assert smoke.batch_size == runlocal.batch_size, name
    # The experiment's budget is replaced, its other overrides kept.
    assert smoke.total_epochs is None and smoke.total_steps == report_lib.SMOKE_STEPS
    assert smoke.eval_every_steps == 300
    # Without smoke: the config and the overrides, nothing else.
    assert report_lib.config(name, arg, **budget) == load_config(name, arg, **budget), name
  assert report_lib.smoke_variant(None, True) == "runlocal"
  assert report_lib.smoke_variant("paper", True) == "paper,runlocal"
  assert report_lib.smoke_variant("paper", False) == "paper"
  # smoke_extra applies to smoke runs only, after everything else.
  extra = {"evals__nll__samples": 7}
  assert report_lib.config("vae_mnist", smoke=True, smoke_extra=extra,
                           evals__nll__samples=500).evals.nll.samples == 7
  assert report_lib.config("vae_mnist", smoke_extra=extra,
                           evals__nll__samples=500).evals.nll.samples == 500


def _fake_train(write_final: bool):
  from genjax import train

  def fake(cfg, workdir):
    os.makedirs(workdir, exist_ok=True)
    if write_final:
      with open(os.path.join(workdir, train.FINAL_METRICS), "w") as f:
        json.dump({"eval": {}}, f)
    return train.TrainedRun(trainer=None, state={"step": 3}, step=3, final={"mse": 0.5})
  return fake


def test_report_names_runs_that_resumed_from_earlier_checkpoints(tmp_path, monkeypatch):
  monkeypatch.setattr(report_lib.train, "train", _fake_train(write_final=True))
  for step in ("100", "2300", "2300.orbax-checkpoint-tmp-1"):  # the last: an unfinished save
    (tmp_path / "old" / "checkpoints" / step).mkdir(parents=True)
  report_lib.train_run(None, str(tmp_path / "old"))  # left over from an earlier report
  rep = report_lib.Report(name="n", claim="c", prediction="p", quick=True)
  run = report_lib.train_run(None, str(tmp_path / "fresh"))
  assert (run.final, run.state, run.step) == ({"mse": 0.5}, {"step": 3}, 3)
  report_lib.train_run(None, str(tmp_path / "old") + "/")
  text = open(rep.write(str(tmp_path))).read()
  assert "**Resumed from earlier checkpoints:** old (from step 2300)." in text
  assert "fresh" not in text
  results = json.loads((tmp_path / "results.json").read_text())
  assert results["resumed_runs"] == {"old": 2300}


def test_train_run_refuses_a_run_stopped_before_the_end(tmp_path, monkeypatch):
  # SIGTERM ends training early with no final_metrics.json: analysing that
  # half-trained state would give a report of the wrong run.
  monkeypatch.setattr(report_lib.train, "train", _fake_train(write_final=False))
  with pytest.raises(RuntimeError, match="re-run the experiment to resume"):
    report_lib.train_run(None, str(tmp_path / "stopped"))


def test_report_tables_read_back_as_written(tmp_path):
  rep = report_lib.Report(name="n", claim="c", prediction="p", quick=True)
  rep.table("First table", ["a", "b"], [[1, 0.123456], ["x", 2.5]])
  rep.table("Second", ["c"], [[np.float64(1e-5)]])
  path = rep.write(str(tmp_path))
  assert report_lib.read_table(path, "First") == [["1", "0.1235"], ["x", "2.5"]]
  assert report_lib.read_table(path, "Second") == [["1e-05"]]
  with pytest.raises(KeyError):
    report_lib.read_table(path, "Third")


def test_measure_runs_keeps_results_and_shares_a_workdir(tmp_path):
  import fcntl
  calls = []

  def task(name, value, then=None):
    def measure():
      calls.append(name)
      if then:
        then()
      return {"value": value}
    return measure
  # Another invocation holds run "a" until this one has measured c: this one
  # measures b and c first, then takes a and reads what the other wrote.
  (tmp_path / "a").mkdir()
  lock = open(tmp_path / "a" / ".measure.lock", "w")
  fcntl.flock(lock, fcntl.LOCK_EX)
  (tmp_path / "a" / "measured.json").write_text('{"value": -1.0}')
  tasks = {"b": task("b", 2.0), "a": task("a", 1.0), "c": task("c", 3.0, then=lock.close)}
  rep = report_lib.Report(name="n", claim="c", prediction="p", quick=True)
  got = report_lib.measure_runs(tasks, str(tmp_path))
  assert list(got) == ["b", "a", "c"] and calls == ["b", "c"]
  assert got == {"b": {"value": 2.0}, "a": {"value": -1.0}, "c": {"value": 3.0}}
  # The report names the run it did not measure itself.
  text = open(rep.write(str(tmp_path))).read()
  assert "reused** (their training is not in the wall time): 1 runs, a." in text
  # A re-run reads every kept result and measures nothing.
  rep = report_lib.Report(name="n", claim="c", prediction="p", quick=True)
  assert report_lib.measure_runs(tasks, str(tmp_path)) == got and calls == ["b", "c"]
  rep.write(str(tmp_path))
  assert json.loads((tmp_path / "results.json").read_text())["reused_runs"] == ["b", "a", "c"]


def test_kept_runs_are_restored_into_a_fresh_workdir_and_not_trained_again(tmp_path):
  first, kept, second = (str(tmp_path / d) for d in ("first", "kept", "second"))
  calls = []

  def task(workdir, name):
    def measure():
      calls.append(name)
      os.makedirs(os.path.join(workdir, name, "checkpoints", "100"))
      with open(os.path.join(workdir, name, "metrics.jsonl"), "w") as f:
        f.write(name)
      os.makedirs(os.path.join(workdir, name, "images"))
      for image in ("samples_00000900.png", "samples_00001000.png", "recon_00000900.png"):
        open(os.path.join(workdir, name, "images", image), "w").close()
      return {"value": len(calls)}
    return measure
  report_lib.measure_runs({"a": task(first, "a")}, first)
  os.makedirs(os.path.join(first, "b"))  # a run that never finished is not kept
  assert report_lib.keep_runs(first, kept) == ["a"]
  assert sorted(os.listdir(os.path.join(kept, "a"))) == ["images", "measured.json",
                                                         "metrics.jsonl"]
  # The last image of each kind only.
  assert sorted(os.listdir(os.path.join(kept, "a", "images"))) == ["recon_00000900.png",
                                                                   "samples_00001000.png"]
  assert report_lib.keep_runs(first, kept) == []  # already kept
  # A fresh workdir with a's unfinished leftovers: the kept a replaces them, b trains.
  os.makedirs(os.path.join(second, "a", "checkpoints", "50"))
  # The command line, as a user restores kept runs.
  out = subprocess.run([sys.executable, "scripts/keep_runs.py", f"--workdir={second}",
                        f"--to={kept}", "--restore"], cwd=report_lib.REPO, capture_output=True,
                       text=True, check=True).stdout
  assert out.strip() == f"copied 1 runs to {second}: a"
  got = report_lib.measure_runs({"a": task(second, "a"), "b": task(second, "b")}, second)
  assert got == {"a": {"value": 1}, "b": {"value": 2}} and calls == ["a", "b"]
  assert sorted(os.listdir(os.path.join(second, "a"))) == [".measure.lock", "images",
                                                           "measured.json", "metrics.jsonl"]


def test_report_lists_inconclusive_verdicts_and_sanity_checks_apart(tmp_path):
  rep = report_lib.Report(name="n", claim="c", prediction="p", quick=True)
  rep.verdict("holds", True)
  rep.verdict("undecided", None)
  rep.sanity("identity", False)
  text = open(rep.write(str(tmp_path))).read()
  assert "- AGREES: holds\n- INCONCLUSIVE: undecided\n" in text
  assert "## Sanity checks" in text and "- FAILS: identity" in text
  results = json.loads((tmp_path / "results.json").read_text())
  assert [v["agrees"] for v in results["verdicts"]] == [True, None]
  assert results["sanity_checks"] == [{"statement": "identity", "passes": False}]
  assert "## History" not in text and results["history"] == []


def test_report_keeps_its_experiments_history(tmp_path):
  from experiments import conditional_and_infogan, gan_stability, optimal_discriminator
  history = (("2026-01-01", "bar lowered after run 1 measured 0.4"),)
  rep = report_lib.Report(name="n", claim="c", prediction="p", quick=True, history=history)
  text = open(rep.write(str(tmp_path))).read()
  assert "## History" in text and "- 2026-01-01: bar lowered after run 1 measured 0.4" in text
  assert text.index("## History") < text.index("## Measurements")
  assert json.loads((tmp_path / "results.json").read_text())["history"] == [
      {"date": "2026-01-01", "change": "bar lowered after run 1 measured 0.4"}]
  # The experiments whose rules changed after a measured run say so, with the failed numbers.
  assert "0.056" in optimal_discriminator.HISTORY[0][1]
  assert "0.396" in conditional_and_infogan.HISTORY[0][1]
  assert "0.777" in conditional_and_infogan.HISTORY[1][1]
  assert "100x" in gan_stability.HISTORY[0][1]


def test_principal_angles_and_pca_of_known_subspaces():
  # genjax.evaluation.subspace, which the PCA experiment's angles and MSEs use.
  rng = np.random.default_rng(0)
  basis = np.linalg.qr(rng.normal(size=(20, 3)))[0]
  # The same span in another (non-orthonormal) basis: every angle 0.
  angles = np.degrees(subspace.principal_angles(basis @ rng.normal(size=(3, 3)), basis))
  assert np.allclose(angles, 0, atol=1e-4)
  e = np.eye(4)
  tilted = np.stack([e[:, 0], (e[:, 1] + e[:, 2]) / np.sqrt(2)], 1)
  assert np.allclose(np.degrees(subspace.principal_angles(e[:, :2], tilted)), [0, 45])
  assert np.allclose(np.degrees(subspace.principal_angles(e[:, :1], e[:, 1:2])), [90])
  # Points on a 2-D plane (stds 3 and 1) through a point off the origin: PCA
  # finds the plane; its top component alone leaves the second's variance.
  n = 500
  x = (rng.normal(size=(n, 2)) * [3.0, 1.0]) @ basis[:, :2].T + 5.0
  mean, components, variances = subspace.pca(x)
  assert np.allclose(np.degrees(subspace.principal_angles(components[:, :2], basis[:, :2])),
                     0, atol=1e-4)
  assert np.allclose(variances[2:], 0, atol=1e-10) and variances[0] > variances[1] > 0.5
  assert subspace.pca_reconstruction_mse(x, mean, components, 2) < 1e-20
  assert subspace.pca_reconstruction_mse(x, mean, components, 1) == pytest.approx(
      variances[1] * (n - 1) / n / x.shape[1], rel=1e-9)


def test_vae_likelihood_trains_each_burda_model_in_its_published_setting(tmp_path):
  # The full budget's runs: a config whose data, objective or k differed from
  # the published entry it is set beside would compare unlike with unlike.
  settings = {"App. D": ("binarized_mnist", "none"), "Table 1": ("mnist", "dynamic")}
  runs = vae_likelihood._runs(quick=False)
  assert {n for n in runs if "dynamic" in n} == {"burda_vae_dynamic_seed0",
                                                  "burda_iwae_dynamic_seed0"}
  for name, (_, config_name, arg, overrides, seed) in runs.items():
    model = name.rsplit("_seed", 1)[0]
    if model not in vae_likelihood.PUBLISHED:
      continue
    source, _ = vae_likelihood.PUBLISHED[model]
    cfg = report_lib.config(config_name, arg, seed=seed, **overrides)
    objective = "IWAE k=5" if cfg.loss.objective == "iwae" else f"VAE k={cfg.loss.num_samples}"
    assert objective in source and cfg.total_epochs == 900
    setting = next(v for key, v in settings.items() if key in source)
    assert (cfg.data.name, cfg.data.binarize) == setting, name
  # One dynamic seed is reported beside Table 1, with no interval and no verdict.
  rep = report_lib.Report(name="t", claim="c", prediction="p", quick=False)
  row = dict(epochs=900.0, neg_elbo=90.0, nll=86.0, nll_is_stderr=0.01, nll_test_stderr=0.2,
             nll_samples=5000, active_units=20, latent_dim=50, manifold_classes=10)
  results = {name: row for name in runs}
  vae_likelihood._tables(rep, runs, results)
  rep.write(str(tmp_path))
  burda = report_lib.read_table(str(tmp_path / "report.md"), "Burda models")
  assert [r[:3] for r in burda[2:]] == [["burda_vae_dynamic", "86", "86.76"],
                                        ["burda_iwae_dynamic", "86", "85.54"]]
  assert len(vae_likelihood.verdicts(results)) == 4  # none added for the dynamic runs


def test_vae_likelihood_verdicts_can_disagree():
  def results(vae=(88.9, 89.0, 89.1), iwae=(87.6, 87.7, 87.8), classes=(10, 10, 10)):
    out = {}
    for seed, (v, i, c) in enumerate(zip(vae, iwae, classes)):
      out[f"burda_vae_seed{seed}"] = {"nll": v, "neg_elbo": 94.0}
      out[f"burda_iwae_seed{seed}"] = {"nll": i, "neg_elbo": 95.4}
      out[f"latent_2d_seed{seed}"] = {"nll": 140.0, "neg_elbo": 145.0, "manifold_classes": c}
    return out
  agrees = lambda r: [ok for _, ok in vae_likelihood.verdicts(r)]
  sane = lambda r: [ok for _, ok in vae_likelihood.sanity_checks(r)]
  assert agrees(results()) == [True] * 4 and sane(results()) == [True]
  # An IWAE model worse than the VAE and 2.4 nats above its published 87.63.
  assert agrees(results(iwae=(89.9, 90.0, 90.1))) == [False, True, False, True]
  # A VAE 1.5 nats off Burda's 88.71 (in the other direction: better is off too).
  assert agrees(results(vae=(87.1, 87.2, 87.3), iwae=(86.9, 87.0, 87.1)))[1:3] == [False, True]
  # Seeds that straddle the bar's edge are inconclusive, not agreeing.
  assert agrees(results(vae=(88.9, 89.6, 90.3)))[1] is None
  # An "NLL" above the ELBO can only be a bug: the sanity check catches it,
  # and it is not counted as a claim.
  bug = results(vae=(95.0, 95.0, 95.0))
  assert sane(bug) == [False] and agrees(bug)[0] is True
  assert agrees(results(classes=(7, 8, 8)))[3] is False
  assert agrees(results(classes=(10, 10, 9)))[3] is None
