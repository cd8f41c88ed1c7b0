"""experiments/denoising_score.py: the DAE's reconstruction against the known score."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np

from conftest import experiment_results, saved_metrics, verdict_agrees
from experiments import denoising_score as ds
from experiments import report as report_lib
from genjax import toy_data


class _Oracle:
  """A stand-in trained model whose reconstruction is Tweedie's optimum,
  r(x) = x + scale * sigma^2 grad log p_sigma(x), exactly."""

  def __init__(self, sigma: float, scale: float = 1.0):
    score = jax.grad(lambda p: toy_data.log_density(ds.TOY, p, smoothing=sigma))
    self._r = jax.vmap(lambda p: p + scale * sigma**2 * score(p))

  def reconstruct(self, x):
    return np.asarray(self._r(jnp.asarray(x, jnp.float32)))

  def function(self, name):
    assert name == "reconstruct"
    return self._r


def test_the_exact_optimum_measures_as_predicted():
  sigma = 0.2
  m = ds.measure(_Oracle(sigma), sigma, 500)
  assert m["cosine"] > 0.9999 and abs(m["slope_over_sigma2"] - 1) < 1e-4
  assert m["relative_error"] < 1e-4
  assert abs(m["mode_trace"] - m["mode_trace_predicted"]) < 1e-4
  # An isolated Gaussian mode of std s: trace 2 s^2 / (s^2 + sigma^2).
  s2 = toy_data.mixture(ds.TOY).std ** 2
  assert abs(m["mode_trace_predicted"] - 2 * s2 / (s2 + sigma**2)) < 0.01
  # Against the clean score the slope is about s^2 / (s^2 + sigma^2), not 1.
  assert abs(m["clean_slope_over_sigma2"] - s2 / (s2 + sigma**2)) < 0.05
  # Half the optimum's step: the same direction, half the slope, a wrong trace.
  half = ds.measure(_Oracle(sigma, 0.5), sigma, 500)
  assert half["cosine"] > 0.9999 and abs(half["slope_over_sigma2"] - 0.5) < 1e-3
  assert abs(half["mode_trace"] - half["mode_trace_predicted"]) > 0.2


def _results(**by_sigma):
  """{sigma: {seed: measurements}} from per-sigma (cosine, slope, clean slope, trace gap)."""
  out = {}
  for sigma, (cos, slope, clean, gap) in by_sigma.items():
    out[sigma] = {str(seed): {"cosine": cos + 0.001 * seed,
                              "slope_over_sigma2": slope + 0.002 * seed,
                              "clean_slope_over_sigma2": clean - 0.002 * seed,
                              "mode_trace": 1.5 + gap + 0.001 * seed, "mode_trace_predicted": 1.5,
                              "dae_loss": 1.0, "contractive_loss": 1.02}
                  for seed in range(5)}
  return out


def test_denoising_score_verdicts_can_disagree():
  good = dict(small=(0.99, 1.0, 0.97, 0.01), large=(0.99, 1.0, 0.4, -0.01))
  agrees = lambda **c: [ok for _, ok in ds.verdicts(_results(**{  # noqa: E731
      "0.05": c.get("small", good["small"]), "0.4": c.get("large", good["large"])}))]
  assert agrees() == [True] * 5
  # A DAE that points elsewhere at large noise; one whose step is 20% short.
  assert agrees(large=(0.80, 1.0, 0.4, 0.0))[0] is False
  assert agrees(small=(0.99, 0.8, 0.97, 0.0))[1] is False
  # The clean-score relation off at small noise, and holding at large noise.
  assert agrees(small=(0.99, 1.0, 0.7, 0.0))[2] is False
  assert agrees(large=(0.99, 1.0, 0.97, 0.0))[3] is False
  # Less contraction than predicted at the modes.
  assert agrees(large=(0.99, 1.0, 0.4, 0.3))[4] is False
  # Seeds straddling a bar: inconclusive, not agree.
  straddle = _results(**{"0.05": good["small"], "0.4": good["large"]})
  for seed, v in zip("01234", (0.93, 0.97, 0.94, 0.96, 0.95)):
    straddle["0.05"][seed]["cosine"] = v
  assert [ok for _, ok in ds.verdicts(straddle)][0] is None
  # The expansion sanity check fails when the losses differ by more than 10%.
  bad = _results(**{"0.05": good["small"], "0.4": good["large"]})
  bad["0.05"]["3"]["contractive_loss"] = 1.2
  assert [ok for _, ok in ds.sanity_checks(bad)] == [False, True]


def test_denoising_score_writes_its_report(tmp_path):
  path = ds.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 5, ["slopes.png"])
  assert results["sigmas"] == list(ds.SIGMAS[1::2]) and results["seeds"] == [1]
  for sigma, by_seed in results["by_sigma"].items():
    for seed, m in by_seed.items():
      run = tmp_path / f"sigma{sigma}_seed{seed}"
      config = json.loads((run / "config.json").read_text())
      # Each run trained with its own sigma and seed, on unclipped toy points.
      assert (config["noise"]["std"], config["seed"]) == (float(sigma), int(seed))
      assert config["data"]["name"] == ds.TOY
      assert "psnr" not in saved_metrics(run)["eval"]
      assert all(np.isfinite(v) for v in m.values())
  assert verdict_agrees(tmp_path) == [ok for _, ok in ds.verdicts(results["by_sigma"])]
  written = json.loads((tmp_path / "results.json").read_text())["sanity_checks"]
  assert [c["passes"] for c in written] == [ok for _, ok in ds.sanity_checks(results["by_sigma"])]
  rows = report_lib.read_table(path, "Per seed")
  assert len(rows) == 2 and rows[0][:2] == ["0.1", "1"]
