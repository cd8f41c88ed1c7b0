"""Autoencoder experiments run end to end (tiny budget: plumbing, not the claims' numbers)."""

from __future__ import annotations

import math

from conftest import all_finite, experiment_results, requires_mnist
from experiments import denoising_vs_median, overcomplete_identity

pytestmark = requires_mnist


def test_denoising_vs_median_writes_its_report(tmp_path):
  path = denoising_vs_median.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 3, ["psnr_vs_sigma.png", "denoising.png"])
  assert set(results) == {f"sigma={s:g}" for s in denoising_vs_median.SIGMAS}
  noisy = [results[f"sigma={s:g}"]["psnr_noisy_input"] for s in denoising_vs_median.SIGMAS]
  # More noise, a worse noisy input: the runs really used their own sigma.
  assert noisy == sorted(noisy, reverse=True)
  for r in results.values():
    assert all_finite(*r.values())
    # PSNR of [0, 1] images is positive unless an estimate is worse than
    # all-black vs all-white; 100 dB is the metric's cap.
    for key in denoising_vs_median.METRICS:
      assert 0 < r[key] <= 100, (key, r[key])
    assert math.isclose(r["margin_db"],
                        r["psnr_denoised"] - max(r["psnr_median3"], r["psnr_median5"]))


def test_overcomplete_identity_writes_its_report(tmp_path):
  path = overcomplete_identity.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 5, ["reconstructions.png"])
  assert 0 < results["mean_image_test_mse"] < 1
  for name in overcomplete_identity.MODELS:
    r = results[name]
    assert all_finite(*r.values())
    for key in ("train_mse", "test_mse", "noisy_vs_clean", "noisy_vs_input", "input_noise"):
      assert 0 <= r[key] <= 1, (name, key, r[key])
    for key in ("error_kept", "error_kept_area", "error_kept_outside", "noise_gain"):
      assert r[key] >= 0, (name, key, r[key])
    assert 0 < r["area_fraction"] < 1
    for key in ("probe_codes_acc_100", "probe_codes_acc_1000", "probe_pixels_acc_1000",
                "code_mean", "code_frac_near_zero"):
      assert 0 <= r[key] <= 1, (name, key, r[key])
  # One noisy draw for every model.
  assert len({results[name]["input_noise"] for name in overcomplete_identity.MODELS}) == 1
