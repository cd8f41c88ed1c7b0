"""Feature experiments run end to end (tiny budget: plumbing, not the claims' numbers).

A smoke run's numbers mean nothing, so its checks are consistency checks that
a regression would break: numbers recomputed independently from the images
the experiment read, report tables equal to results.json, verdicts equal to
their predicates recomputed from the reported numbers.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import scipy.special

from conftest import report_cells, saved_metrics, verdict_agrees, experiment_results, requires_mnist
from experiments import codes_as_features, contractive_vs_denoising
from experiments import report as report_lib
from genjax import data as data_lib


def _positive(*values):
  return all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in values)


def _clipped_noise_sq(x, std: float):
  """E[(clip(x + std n, 0, 1) - x)^2] per pixel, n ~ N(0, 1) (exact)."""
  a, b = -x / std, (1.0 - x) / std
  pdf = lambda t: np.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731
  cdf = scipy.special.ndtr
  inside = (cdf(b) - cdf(a)) - (b * pdf(b) - a * pdf(a))
  return std**2 * inside + x**2 * cdf(a) + (1.0 - x)**2 * (1.0 - cdf(b))


@requires_mnist
def test_contractive_vs_denoising_writes_its_report(tmp_path):
  path = contractive_vs_denoising.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 2,
                                ["feature_ratio.png", "reconstruction_ratio.png"])
  deltas = contractive_vs_denoising.DELTAS
  assert results["deltas"] == list(deltas)
  names = [name for name, *_ in contractive_vs_denoising.MODELS]
  rows = report_lib.read_table(path, "Test reconstruction and Jacobian")
  for row, name in zip(rows, names, strict=True):
    r = results[name]
    assert _positive(r["jacobian_frobenius"], r["recon_loss"], r["mse"])
    assert (r["recon_loss"], r["mse"]) == (saved_metrics(tmp_path / name)["eval"]["recon_loss"],
                                           saved_metrics(tmp_path / name)["eval"]["mse"])
    assert len(r["feature_ratio"]) == len(r["reconstruction_ratio"]) == len(deltas)
    assert _positive(*r["feature_ratio"], *r["reconstruction_ratio"])
    # A sigmoid code of 256 units moves at most 16: the ratio is bounded by 16 / delta.
    assert all(v <= 16 / d + 1e-6 for v, d in zip(r["feature_ratio"], deltas))
    assert r["input_dim"] == 784
    assert row[2:] == report_cells(r["recon_loss"], r["mse"], r["jacobian_frobenius"],
                             r["jacobian_frobenius"] / math.sqrt(r["input_dim"]),
                             r["feature_ratio"][0])
  for title, key in (("Feature ratio", "feature_ratio"),
                     ("Reconstruction ratio", "reconstruction_ratio")):
    table = report_lib.read_table(path, title)
    assert table == [report_cells(d, *(results[m][key][i] for m in names))
                     for i, d in enumerate(deltas)]
  # The DAE's training corruption, predicted from the test images it was
  # measured on: the mean norm of clip(x + 0.5 n, 0, 1) - x over 784 pixels
  # is close to the root of its expected square.
  data = report_lib.config("dae_mnist", smoke=True).data
  images = data_lib.read_split(data, data.eval_split, data.max_eval_examples)["image"]
  x = images[:results["dae"]["num_examples"]].reshape(-1, 784).astype(np.float64) / 255.0
  expected = np.sqrt(_clipped_noise_sq(x, 0.5).sum(1)).mean()
  assert results["dae"]["training_noise_norm"] == pytest.approx(expected, rel=0.03)
  assert "training_noise_norm" not in results["ae"] and "training_noise_norm" not in results["cae"]
  ae, dae, cae = (results[name] for name in names)
  match = contractive_vs_denoising.JACOBIAN_MATCH
  finite = [i for i, d in enumerate(deltas) if d >= 1.0]
  written = json.loads((tmp_path / "results.json").read_text())["sanity_checks"]
  assert [v["passes"] for v in written] == [
      cae["jacobian_frobenius"] < min(ae["jacobian_frobenius"], dae["jacobian_frobenius"]),
      cae["feature_ratio"][0] < ae["feature_ratio"][0],
      all(abs(r["feature_ratio"][0] * math.sqrt(r["input_dim"]) / r["jacobian_frobenius"] - 1)
          <= match for r in (ae, dae, cae))]
  assert verdict_agrees(tmp_path) == [
      all(dae["reconstruction_ratio"][i] < ae["reconstruction_ratio"][i] for i in finite),
      dae["feature_ratio"][-1] / cae["feature_ratio"][-1]
      < dae["feature_ratio"][0] / cae["feature_ratio"][0]]


@requires_mnist
def test_codes_as_features_writes_its_report(tmp_path):
  path = codes_as_features.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 5, ["accuracy_vs_labels.png"])
  configs = {name: report_lib.config(config, smoke=True)
             for name, _, config, *_ in codes_as_features.RUNS}
  num_train = configs["ae"].data.max_train_examples
  num_test = configs["ae"].data.max_eval_examples
  sizes = results["label_sizes"]
  # 100, 1000 and (--quick) up to 10k labels, of the smoke run's training images.
  assert sizes == [min(n, num_train) for n in (100, 1000, codes_as_features.QUICK_LARGEST)]
  reps = results["representations"]
  assert set(reps) == {"pixels", "pca150", "pca20", "ae", "sparse_ae", "dae", "cae", "vae"}
  # Each learned code is its own run's: its width is that config's code.
  assert reps["pixels"]["dim"] == 784 and reps["pca150"]["dim"] == 150
  assert reps["pca20"]["dim"] == 20
  for name in ("ae", "sparse_ae", "dae", "cae"):
    assert reps[name]["dim"] == configs[name].model.code_dim, name
  assert reps["vae"]["dim"] == configs["vae"].model.latent_dim
  for name in ("ae", "sparse_ae", "dae", "cae"):
    saved = saved_metrics(tmp_path / name)["eval"]
    assert (reps[name]["recon_loss"], reps[name]["mse"]) == (saved["recon_loss"], saved["mse"])
  assert reps["vae"]["neg_elbo"] == saved_metrics(tmp_path / "vae")["eval"]["neg_elbo"]
  rows = report_lib.read_table(path, "Linear-probe test accuracy")
  for row, r in zip(rows, reps.values(), strict=True):
    for n in sizes:
      # A smoke run draws each labelled subset once; the draws average to the
      # reported accuracy, a count of correct test images out of num_test.
      draws = r["accuracy_draws"][str(n)]
      assert len(draws) == 1
      assert math.isclose(r["accuracy"][str(n)], sum(draws) / len(draws), rel_tol=1e-6)
      assert abs(draws[0] * num_test - round(draws[0] * num_test)) < 1e-3, (r, n)
    assert row == [r["description"], str(r["dim"]), *(f"{r['accuracy'][str(n)]:.4f}"
                                                      for n in sizes)]
  assert _positive(reps["vae"]["neg_elbo"], reps["ae"]["recon_loss"])
  acc = {name: {n: r["accuracy"][str(n)] for n in sizes} for name, r in reps.items()}
  learned = [name for name, *_ in codes_as_features.RUNS]
  few, some, most = sizes
  best_few = max(learned, key=lambda m: acc[m][few])
  best_most = max(learned, key=lambda m: acc[m][most])
  assert verdict_agrees(tmp_path) == [
      acc[best_few][few] > acc["pixels"][few],
      acc[best_few][few] > acc["pca150"][few],
      all(acc[m][some] > acc["pixels"][some] for m in learned),
      acc[best_few][few] - acc["pixels"][few] > acc[best_most][most] - acc["pixels"][most],
      acc["vae"][few] > acc["pca20"][few]]


def test_linear_probe_of_known_features():
  # genjax.evaluation.linear_probe, which every accuracy above comes from:
  # features that encode the label are classified perfectly; masked-out
  # test rows (padding) do not count.
  import jax.numpy as jnp
  from genjax.evaluation import linear_probe
  rng = np.random.default_rng(0)
  labels = np.arange(200) % 10
  features = np.eye(10)[labels] * 3.0 + 0.1 * rng.normal(size=(200, 10))
  test_labels = np.arange(50) % 10
  test = np.eye(10)[test_labels] * 3.0 + 0.1 * rng.normal(size=(50, 10))
  wrong = (test_labels + 1) % 10  # every row labelled wrongly...
  mask = np.zeros(50, np.float32)
  mask[:25] = 1.0
  args = dict(num_classes=10, l2=1e-3, num_steps=50, pad_to=(256, 16))
  assert linear_probe.probe(jnp.asarray(features), jnp.asarray(labels), jnp.asarray(test),
                            jnp.asarray(test_labels), **args) == 1.0
  assert linear_probe.probe(jnp.asarray(features), jnp.asarray(labels), jnp.asarray(test),
                            jnp.asarray(wrong), **args) == 0.0
  half = np.where(mask > 0, test_labels, wrong)  # ...only the unmasked half right
  assert linear_probe.probe(jnp.asarray(features), jnp.asarray(labels), jnp.asarray(test),
                            jnp.asarray(half), jnp.asarray(mask), **args) == 1.0


def test_contractive_vs_denoising_verdicts_can_disagree():
  cvd = contractive_vs_denoising
  n = len(cvd.DELTAS)

  def model(jacobian, feature, reconstruction):
    # The smallest delta's feature ratio is ||J||_F / sqrt(784), as it is for a real model.
    return {"jacobian_frobenius": jacobian, "input_dim": 784,
            "feature_ratio": [jacobian / 28.0] + [feature] * (n - 1),
            "reconstruction_ratio": [reconstruction] * n}
  good = {"ae": model(10.0, 0.3, 0.9), "dae": model(5.0, 0.05, 0.5), "cae": model(1.0, 0.1, 0.6)}
  agrees = lambda results: [ok for _, ok in cvd.verdicts(results)]
  sane = lambda results: [ok for _, ok in cvd.sanity_checks(results)]
  assert agrees(good) == [True] * 2 and sane(good) == [True] * 3
  # A DAE more contractive than the CAE: the CAE is not the smallest, and the
  # DAE/CAE ratio no longer falls with delta.
  assert sane({**good, "dae": model(0.5, 0.2, 0.5)}) == [False, True, True]
  assert agrees({**good, "dae": model(0.5, 0.2, 0.5)}) == [True, False]
  # A CAE whose smallest-delta ratio is not its Jacobian's (and above the AE's).
  off = {**good, "cae": {**good["cae"], "feature_ratio": [0.5] + [0.1] * (n - 1)}}
  assert sane(off) == [True, False, False] and agrees(off) == [True, False]
  assert agrees({**good, "dae": model(5.0, 0.05, 0.95)}) == [False, True]


def test_codes_as_features_verdicts_can_disagree():
  caf = codes_as_features
  sizes = [100, 1000, 60000]

  def rep(few, some, most):
    return dict(zip(sizes, (few, some, most)))
  good = {"pixels": rep(0.60, 0.85, 0.92), "pca150": rep(0.62, 0.86, 0.92),
          "pca20": rep(0.65, 0.85, 0.90), "ae": rep(0.75, 0.90, 0.95),
          "dae": rep(0.72, 0.88, 0.96), "vae": rep(0.70, 0.87, 0.93)}
  learned = ["ae", "dae", "vae"]
  agrees = lambda acc: [ok for _, ok in caf.verdicts(acc, learned, sizes)]
  assert agrees(good) == [True] * 5
  # Only pixels' luck of the draw: the best code trails pixels at 100 labels.
  assert agrees({**good, "pixels": rep(0.80, 0.85, 0.92)}) == [False, True, True, False, True]
  # One learned code (the VAE) below pixels at 1000 labels, and below PCA 20 at 100.
  assert agrees({**good, "vae": rep(0.60, 0.80, 0.93)}) == [True, True, False, True, False]
  # PCA 150 ahead of every learned code at 100 labels (pixels still behind).
  assert agrees({**good, "pca150": rep(0.80, 0.86, 0.92)}) == [True, False, True, True, True]
