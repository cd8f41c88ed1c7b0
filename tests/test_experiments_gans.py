"""GAN experiments run end to end (tiny budget: plumbing, not the claims' numbers)."""

from __future__ import annotations

import math

from conftest import all_finite, experiment_results, requires_mnist
from experiments import conditional_and_infogan, minimax_vs_nonsaturating
from experiments import optimal_discriminator


def test_optimal_discriminator_writes_its_report(tmp_path):
  path = optimal_discriminator.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(
      path, tmp_path, 3, ["optimal_d_seed0.png", "optimal_d_control.png",
                          "d_during_training.png"])
  for seed in optimal_discriminator.SEEDS:
    r = results[f"seed{seed}"]
    for key in ("od_max_gap", "od_mean_gap", "od_weighted_gap", "gan_d_max_gap",
                "gan_d_mean_gap", "d_real", "d_fake", "high_quality_fraction"):
      assert 0.0 <= r[key] <= 1.0, (key, r[key])
    assert r["od_mean_gap"] <= r["od_max_gap"] and r["gan_d_mean_gap"] <= r["gan_d_max_gap"]
    assert 0 <= r["modes_covered"] <= 3 and all_finite(r["od_d_loss"], r["d_loss"])
  control = results["control_p_g_equals_p_data"]
  assert 0.0 <= control["od_mean_gap"] <= control["od_max_gap"] <= 1.0


@requires_mnist
def test_minimax_vs_nonsaturating_writes_its_report(tmp_path):
  path = minimax_vs_nonsaturating.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(
      path, tmp_path, 4, ["ring8_early_grad_norm.png", "mnist_early_grad_norm.png",
                          "ring8_early_d_fake.png", "mnist_early_d_fake.png"])
  for loss in minimax_vs_nonsaturating.LOSSES:
    toy = results["ring8"][loss]
    assert 0 <= toy["mean_modes_covered"] <= 8
    assert 0.0 <= toy["mean_high_quality_fraction"] <= 1.0
    assert 0.0 <= toy["mean_early_d_fake"] <= 1.0 and toy["mean_early_g_grad_norm"] > 0
    mnist = results["mnist"][loss]
    assert mnist["fd"] >= 0 and mnist["fd_floor"] >= 0 and mnist["early_g_grad_norm"] > 0
    assert 1.0 <= mnist["classifier_score"] <= 10.0
    assert 0.0 <= mnist["precision"] <= 1.0 and 0.0 <= mnist["recall"] <= 1.0
    assert 0.0 <= mnist["early_d_fake"] <= 1.0


@requires_mnist
def test_conditional_and_infogan_writes_its_report(tmp_path):
  path = conditional_and_infogan.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(
      path, tmp_path, 4, ["cgan_classes.png", "infogan_c1.png", "infogan_c2.png",
                          "infogan_c3.png"])
  cgan, info = results["cgan"], results["infogan"]
  assert 0.0 <= cgan["conditional_accuracy"] <= 1.0 and cgan["fd"] >= 0
  assert 0.1 <= info["c1_hungarian_accuracy"] <= 1.0 and info["fd"] >= 0
  # --quick trains one InfoGAN seed; the median over one seed is that seed.
  assert info["c1_hungarian_accuracy_by_seed"] == {"0": info["c1_hungarian_accuracy"]}
  assert info["c1_hungarian_accuracy_median"] == info["c1_hungarian_accuracy"]
  assert info["mi_lower_bound"] <= math.log(10) + 1e-6
  assert set(info["style"]) == {"c1", "c2", "c3"}
  for code in ("c2", "c3"):
    s = info["style"][code]
    assert -1.0 <= s["slant_r"] <= 1.0 and -1.0 <= s["width_r"] <= 1.0
  for s in info["style"].values():
    assert 0.0 <= s["class_kept"] <= 1.0


def test_slant_and_width_of_known_shapes():
  import numpy as np
  # A vertical bar has no slant; a diagonal one leans by one column per row.
  # Rows run down the image, so a stroke going up to the right has negative shear.
  upright = np.zeros((1, 28, 28, 1))
  upright[0, 4:24, 14] = 1.0
  diagonal = np.zeros((1, 28, 28, 1))
  for i in range(4, 24):
    diagonal[0, i, i] = 1.0
  wide = np.zeros((1, 28, 28, 1))
  wide[0, 4:24, 8:20] = 1.0
  slant, width = conditional_and_infogan.slant_and_width(
      np.concatenate([upright, diagonal, wide]))
  assert abs(slant[0]) < 1e-9 and abs(slant[1] - 1.0) < 1e-9
  assert width[0] < 1e-9 < width[1] and width[2] > 3.0
