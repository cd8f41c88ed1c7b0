"""Autoencoder experiments run end to end (tiny budget: plumbing, not the claims' numbers).

A smoke run's numbers mean nothing, so its checks are consistency checks that
a regression would break: numbers recomputed independently from the images
the experiment read, report tables equal to results.json, verdicts equal to
their predicates recomputed from the reported numbers.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.special

from conftest import report_cells, saved_metrics, verdict_agrees, all_finite, experiment_results, requires_mnist
from experiments import denoising_vs_median, overcomplete_identity
from experiments import report as report_lib
from genjax import data as data_lib


def _images(data, split: str, limit: int) -> np.ndarray:
  """float64 pixels in [0, 1], [N, H * W * C], as the runs read them."""
  images = data_lib.read_split(data, split, limit)["image"]
  return images.reshape(len(images), -1).astype(np.float64) / 255.0


def clipped_noise_mse(x, std: float):
  """E[(clip(x + std n, 0, 1) - x)^2] per pixel, n ~ N(0, 1): exact, not sampled.

  Inside [0, 1] the error is std n; below 0 it is -x, above 1 it is 1 - x.
  """
  x = np.asarray(x, np.float64)
  a, b = -x / std, (1.0 - x) / std
  pdf = lambda t: np.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731
  cdf = scipy.special.ndtr
  inside = (cdf(b) - cdf(a)) - (b * pdf(b) - a * pdf(a))  # E[n^2; a < n < b]
  return std**2 * inside + x**2 * cdf(a) + (1.0 - x)**2 * (1.0 - cdf(b))


def test_clipped_noise_mse_matches_sampling():
  rng = np.random.default_rng(0)
  x = np.array([0.0, 0.3, 1.0])
  noisy = np.clip(x + 0.5 * rng.normal(size=(400_000, 3)), 0, 1)
  assert np.allclose(clipped_noise_mse(x, 0.5), np.mean((noisy - x)**2, 0), rtol=0.01)
  # No clipping in reach: std^2.
  assert clipped_noise_mse(np.array([0.5]), 0.01)[0] == pytest.approx(1e-4, rel=1e-9)


def test_psnr_of_known_errors():
  # genjax.evaluation.image_quality.psnr, which every PSNR column uses.
  from genjax.evaluation import image_quality
  x = np.full((2, 4, 4, 1), 0.5, np.float32)
  assert np.allclose(image_quality.psnr(x, x, mse_floor=1e-10), 100.0)
  assert np.allclose(image_quality.psnr(x, x + 0.1), 20.0, atol=1e-4)
  assert np.allclose(image_quality.psnr(x, x - 0.01), 40.0, atol=1e-3)


@pytest.mark.slow
@requires_mnist
def test_denoising_vs_median_writes_its_report(tmp_path):
  d = denoising_vs_median
  path = d.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 3, ["psnr_vs_sigma.png", "denoising.png"])
  assert results["seeds"] == [1] and verdict_agrees(tmp_path) == [None] * 3  # one seed
  sigmas = [d.SIGMAS[0], d.SIGMAS[-1]]  # a smoke run trains the two extremes
  by_sigma = results["by_sigma"]
  assert results["sigmas"] == sigmas and set(by_sigma) == {f"sigma={s:g}" for s in sigmas}
  noisy = [by_sigma[f"sigma={s:g}"]["1"]["psnr_noisy_input"] for s in sigmas]
  # More noise, a worse noisy input: the runs really used their own sigma.
  assert noisy == sorted(noisy, reverse=True)
  # The noisy input's PSNR predicted from the test images and each sigma: the
  # per-image MSE of 784 clipped-noise pixels is close to its expectation.
  data = d._config(d.SIGMAS[0], 1.0, smoke=True).data
  test_x = _images(data, data.eval_split, data.max_eval_examples)
  rows = report_lib.read_table(path, "Test PSNR")
  for row, sigma in zip(rows, sigmas, strict=True):
    r, run_dir = by_sigma[f"sigma={sigma:g}"]["1"], tmp_path / f"sigma{sigma:g}_seed1"
    expected_mse = clipped_noise_mse(test_x, sigma).mean(1)
    assert r["psnr_noisy_input"] == pytest.approx(
        float(np.mean(-10 * np.log10(np.maximum(expected_mse, 1e-10)))), abs=0.25), sigma
    assert all_finite(*r.values())
    # The runs' own final evals, and the report's table.
    assert json.loads((run_dir / "config.json").read_text())["seed"] == 1
    assert {k: r[k] for k in d.METRICS} == {
        k: saved_metrics(run_dir)["eval"][k] for k in d.METRICS}
    assert math.isclose(r["margin_db"],
                        r["psnr_denoised"] - max(r["psnr_median3"], r["psnr_median5"]))
    assert row == report_cells(sigma, 1, r["psnr_noisy_input"], r["psnr_median3"],
                               r["psnr_median5"], r["psnr_denoised"], r["margin_db"], r["psnr"])


def test_denoising_vs_median_verdicts_can_disagree():
  def results(margins=(4.0, 4.5, 5.0), gain=3.0, at=None):
    """Three seeds at every sigma; `at` = the one sigma given `margins`, else all."""
    out = {}
    for sigma in denoising_vs_median.SIGMAS:
      m = margins if at in (None, sigma) else (6.0, 6.5, 7.0)
      out[f"sigma={sigma:g}"] = {str(seed): {
          "psnr_median3": 15.0, "psnr_median5": 14.0, "psnr_denoised": 15.0 + x,
          "psnr_noisy_input": 15.0 + x - gain} for seed, x in enumerate(m)}
    return out
  agrees = lambda r: [ok for _, ok in denoising_vs_median.verdicts(r)]
  assert agrees(results()) == [True, True, True]
  # One sigma where the DAE leads by ~1 dB: ahead, but not by the 2 dB margin.
  assert agrees(results(margins=(0.9, 1.0, 1.1), at=1.0)) == [True, False, True]
  # One sigma where seeds straddle 0: inconclusive, and so is the 2 dB bar.
  assert agrees(results(margins=(-1.0, 0.5, 2.0), at=0.1))[:2] == [None, None]
  # The median filter wins at one sigma on every seed.
  assert agrees(results(margins=(-2.0, -1.5, -1.0), at=0.5))[:2] == [False, False]
  assert agrees(results(gain=-1.0))[2] is False


@pytest.mark.slow
@requires_mnist
def test_overcomplete_identity_writes_its_report(tmp_path):
  o = overcomplete_identity
  path = o.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 5, ["reconstructions.png"])
  by_model = results["by_model"]
  assert results["seeds"] == [1] and sorted(by_model) == sorted(o.MODELS)  # smoke: seed 1
  # Recomputed from the images the runs read: the mean-image baseline, the
  # digit area, and the expected MSE of the noisy test inputs.
  data = o._configs(3.0, smoke=True)["plain"].data  # noqa: SLF001
  train_x = _images(data, data.train_split, data.max_train_examples)
  test_x = _images(data, data.eval_split, data.max_eval_examples)
  mean_image = train_x.mean(0)
  assert results["mean_image_test_mse"] == pytest.approx(
      float(np.mean((test_x - mean_image)**2)), rel=1e-5)
  area = mean_image > o.AREA_INTENSITY
  noise_mse = clipped_noise_mse(test_x, o.NOISE_STD)
  rows = report_lib.read_table(path, "Noisy test inputs")
  i = 0
  for name in o.MODELS:
    for seed, r in by_model[name].items():
      assert all_finite(*r.values())
      assert r["area_fraction"] == pytest.approx(float(area.mean()), abs=1e-6)
      assert r["input_noise"] == pytest.approx(float(noise_mse.mean()), rel=0.02)
      run_dir = tmp_path / f"{name}_seed{seed}"
      assert json.loads((run_dir / "config.json").read_text())["seed"] == int(seed)
      saved = saved_metrics(run_dir)
      assert (r["code_mean"], r["code_frac_near_zero"]) == (
          saved["eval"]["code_mean"], saved["eval"]["code_frac_near_zero"])
      for labels in o.PROBE_LABELS:
        for key in (f"probe_codes_acc_{labels}", f"probe_pixels_acc_{labels}"):
          assert r[key] == saved["final"][key], (name, key)
      # Ratios of the reported errors, and the error kept is a weighted mean
      # of its parts inside and outside the digit area.
      assert r["error_kept"] == pytest.approx(r["noisy_vs_clean"] / r["input_noise"], rel=1e-6)
      assert (min(r["error_kept_area"], r["error_kept_outside"]) - 1e-6 <= r["error_kept"]
              <= max(r["error_kept_area"], r["error_kept_outside"]) + 1e-6), name
      # RMS errors over the test set obey the triangle inequality (f(x~) vs x, x~).
      assert math.sqrt(r["noisy_vs_input"]) <= (
          math.sqrt(r["noisy_vs_clean"]) + math.sqrt(r["input_noise"]) + 1e-6), name
      assert rows[i] == report_cells(name, int(seed), r["noisy_vs_clean"], r["noisy_vs_input"],
                                     r["error_kept"], r["error_kept_area"],
                                     r["error_kept_outside"], r["noise_gain"])
      i += 1
  # One noisy draw for every model and seed.
  assert len({r["input_noise"] for m in by_model.values() for r in m.values()}) == 1
  assert verdict_agrees(tmp_path) == [
      ok for _, ok in o.verdicts(by_model, results["mean_image_test_mse"])]


def test_overcomplete_identity_verdicts_can_disagree():
  def model(test, train, kept, probe, spread=0.0):  # three seeds, a little apart
    return {str(s): {"test_mse": test * (1 + 0.01 * s), "train_mse": train,
                     "error_kept": kept + spread * (s - 1) + 0.002 * s,
                     "probe_codes_acc_1000": probe + 0.001 * s} for s in range(3)}
  good = {"plain": model(0.001, 0.001, 0.9, 0.80), "denoising": model(0.01, 0.01, 0.2, 0.90),
          "sparse": model(0.01, 0.01, 0.5, 0.85)}
  agrees = lambda results, baseline=0.1: [  # noqa: E731
      ok for _, ok in overcomplete_identity.verdicts(results, baseline)]
  assert agrees(good) == [True] * 5
  assert agrees(good, baseline=0.01) == [False, True, True, True, True]  # not near zero
  overfit = {**good, "plain": model(0.001, 0.0005, 0.9, 0.80)}  # test 2x train
  assert agrees(overfit) == [False, True, True, True, True]
  # A plain AE that smooths its input (keeps 40%) beats the sparse AE's 50%.
  smooth = {**good, "plain": model(0.001, 0.001, 0.4, 0.80)}
  assert agrees(smooth) == [True, False, True, False, True]
  assert agrees({**good, "denoising": model(0.01, 0.01, 0.3, 0.90)}) == [True, True, False,
                                                                           True, True]
  assert agrees({**good, "sparse": model(0.01, 0.01, 0.5, 0.79)}) == [True, True, True, True, False]
  # Seeds of the sparse AE straddling the plain AE's error kept: inconclusive.
  assert agrees({**good, "sparse": model(0.01, 0.01, 0.9, 0.85, spread=0.3)})[3] is None
