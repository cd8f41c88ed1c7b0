"""Feature experiments run end to end (tiny budget: plumbing, not the claims' numbers)."""

from __future__ import annotations

import math

from conftest import experiment_results, requires_mnist
from experiments import codes_as_features, contractive_vs_denoising

pytestmark = requires_mnist


def _positive(*values):
  return all(isinstance(v, float) and math.isfinite(v) and v > 0 for v in values)


def test_contractive_vs_denoising_writes_its_report(tmp_path):
  path = contractive_vs_denoising.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 5,
                                ["feature_ratio.png", "reconstruction_ratio.png"])
  deltas = contractive_vs_denoising.DELTAS
  assert results["deltas"] == list(deltas)
  for name in ("ae", "dae", "cae"):
    r = results[name]
    assert _positive(r["jacobian_frobenius"], r["recon_loss"], r["mse"])
    assert len(r["feature_ratio"]) == len(r["reconstruction_ratio"]) == len(deltas)
    assert _positive(*r["feature_ratio"], *r["reconstruction_ratio"])
    # A sigmoid code of 256 units moves at most 16: the ratio is bounded by 16 / delta.
    assert all(v <= 16 / d + 1e-6 for v, d in zip(r["feature_ratio"], deltas))
  assert 0 < results["dae"]["training_noise_norm"] < 28  # sqrt(784) pixels, each moved <= 1


def test_codes_as_features_writes_its_report(tmp_path):
  path = codes_as_features.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 5, ["accuracy_vs_labels.png"])
  sizes = results["label_sizes"]
  assert len(sizes) == 3 and sizes == sorted(sizes)
  reps = results["representations"]
  assert set(reps) == {"pixels", "pca150", "pca20", "ae", "sparse_ae", "dae", "cae", "vae"}
  assert reps["pixels"]["dim"] == 784 and reps["pca20"]["dim"] == 20
  for r in reps.values():
    for n in sizes:
      # Ten classes: any accuracy in [0, 1]; the draws average to the reported one.
      draws = r["accuracy_draws"][str(n)]
      assert all(0.0 <= a <= 1.0 for a in draws)
      assert math.isclose(r["accuracy"][str(n)], sum(draws) / len(draws), rel_tol=1e-6)
  assert _positive(reps["vae"]["neg_elbo"], reps["ae"]["recon_loss"])
