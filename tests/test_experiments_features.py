"""Feature experiments run end to end (tiny budget: plumbing, not the claims' numbers).

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


@pytest.mark.slow
@requires_mnist
def test_contractive_vs_denoising_writes_its_report(tmp_path):
  cvd = contractive_vs_denoising
  path = cvd.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 3,
                               ["feature_ratio.png", "reconstruction_ratio.png"])
  assert results["deltas"] == list(cvd.DELTAS)
  sweep, matched = results["sweep"], results["matched"]
  weights, sigmas = cvd.CAE_WEIGHTS[:1], cvd.DAE_SIGMAS[-1:]  # a smoke run's sweep
  assert sorted(sweep) == sorted(["ae_seed0", *(f"cae_{w:g}_seed0" for w in weights),
                                  *(f"dae_{s:g}_seed0" for s in sigmas)])
  # The pair is the sweep's closest in test cross-entropy, recomputed here.
  assert matched == cvd.match({w: sweep[f"cae_{w:g}_seed0"]["recon_loss"] for w in weights},
                              {s: sweep[f"dae_{s:g}_seed0"]["recon_loss"] for s in sigmas})
  for kind, value in (("cae", matched["cae_weight"]), ("dae", matched["dae_sigma"])):
    assert sorted(results[kind]) == ["0", "1"]
    assert results[kind]["0"] == sweep[f"{kind}_{value:g}_seed0"]  # seed 0 is the sweep's run
    for seed, r in results[kind].items():
      saved = saved_metrics(tmp_path / f"{kind}_{value:g}_seed{seed}")
      assert (r["recon_loss"], r["mse"]) == (saved["eval"]["recon_loss"], saved["eval"]["mse"])
  for name, r in {**sweep, **{f"{k}{s}": r for k in ("cae", "dae")
                              for s, r in results[k].items()}}.items():
    assert _positive(r["jacobian_frobenius"], r["recon_loss"], r["mse"]), name
    assert r["input_dim"] == 784
    for kind in cvd.DIRECTIONS:
      feature = r[f"feature_ratio_{kind}"]
      assert len(feature) == len(r[f"reconstruction_ratio_{kind}"]) == len(cvd.DELTAS)
      assert _positive(*feature, *r[f"reconstruction_ratio_{kind}"])
      # A sigmoid code of 256 units moves at most 16: the ratio is bounded by 16 / delta.
      assert all(v <= 16 / d + 1e-6 for v, d in zip(feature, cvd.DELTAS))
  # The DAE's training corruption, predicted from the test images it was
  # measured on: the mean norm of clip(x + sigma n, 0, 1) - x over 784 pixels
  # is close to the root of its expected square.
  data = report_lib.config("dae_mnist", smoke=True).data
  images = data_lib.read_split(data, data.eval_split, data.max_eval_examples)["image"]
  x = images[:sweep["ae_seed0"]["num_examples"]].reshape(-1, 784).astype(np.float64) / 255.0
  for sigma in sigmas:
    expected = np.sqrt(_clipped_noise_sq(x, sigma).sum(1)).mean()
    assert sweep[f"dae_{sigma:g}_seed0"]["training_noise_norm"] == pytest.approx(expected,
                                                                                rel=0.03)
  assert "training_noise_norm" not in sweep["ae_seed0"]
  assert results["statistics"] == cvd.seed_statistics(results["cae"], results["dae"])
  written = json.loads((tmp_path / "results.json").read_text())["sanity_checks"]
  assert [v["passes"] for v in written] == [ok for _, ok in cvd.sanity_checks(sweep)]
  assert verdict_agrees(tmp_path) == [ok for _, ok in cvd.verdicts(results)]
  rows = report_lib.read_table(path, "Sweep at seed 0")
  assert [row[2] for row in rows] == report_cells(
      sweep["ae_seed0"]["recon_loss"], *(sweep[f"cae_{w:g}_seed0"]["recon_loss"] for w in weights),
      *(sweep[f"dae_{s:g}_seed0"]["recon_loss"] for s in sigmas))


@pytest.mark.slow
@requires_mnist
def test_codes_as_features_writes_its_report(tmp_path):
  caf = codes_as_features
  path = caf.run(str(tmp_path), quick=True, smoke=True)
  setting = caf._settings(quick=True, smoke=True)  # noqa: SLF001  (AE and CAE, seed 1)
  results = experiment_results(path, tmp_path, 11, ["accuracy_vs_labels.png"])
  per_run = results["per_run"]
  assert sorted(per_run) == sorted(f"{m}_seed1" for m in ("ae", "cae", "cae_unreg",
                                                           "rifai_cae", "rifai_ae"))
  num_test = report_lib.config("ae_mnist", smoke=True).data.max_eval_examples
  cae_weight = report_lib.config("cae_mnist", smoke=True).loss.contractive_weight
  for name, r in per_run.items():
    if name.startswith("rifai"):
      continue  # checked below
    # Each run trained its own seed; the control with its regulariser at 0.
    written = json.loads((tmp_path / name / "config.json").read_text())
    assert written["seed"] == int(name[-1])
    if name.startswith("cae"):
      assert written["loss"]["contractive_weight"] == (0.0 if "unreg" in name else cae_weight)
    saved = saved_metrics(tmp_path / name)["eval"]
    assert (r["train"]["recon_loss"], r["train"]["mse"]) == (saved["recon_loss"], saved["mse"])
    probes = [r["probe"], r.get("untrained_probe", {}), *r.get("baselines", {}).values()]
    for accs in probes:
      for draws in accs.values():
        assert len(draws) == 1  # a smoke run draws each subset once
        # Each accuracy is a count of correct test images out of num_test.
        assert all(abs(a * num_test - round(a * num_test)) < 1e-3 for a in draws)
    assert ("fine_tune" in r) == (name.startswith("cae_seed"))  # a smoke run tunes the CAE
  # 100, 1000 and (--quick) up to 10k labels, of the smoke run's training images.
  num_train = report_lib.config("ae_mnist", smoke=True).data.max_train_examples
  assert results["summary"]["sizes"] == [min(n, num_train) for n in (100, 1000, caf.QUICK_LARGEST)]
  assert sorted(per_run["ae_seed1"]["baselines"]) == ["pca150", "pca20", "pixels"]
  # Rifai's setting: the CAE run also fine-tunes its random initialisation;
  # the lambda-0 run pretrains the same widened network without the penalty.
  assert sorted(per_run["rifai_cae_seed1"]) == ["cae", "random_init", "train"]
  assert sorted(per_run["rifai_ae_seed1"]) == ["ae", "train"]
  for start in ("cae", "ae"):
    written = json.loads((tmp_path / f"rifai_{start}_seed1" / "config.json").read_text())
    assert written["loss"]["contractive_weight"] == (caf.RIFAI_WEIGHT if start == "cae" else 0)
    assert written["model"]["code_dim"] == 16  # the smoke run's width
  ft = per_run["rifai_cae_seed1"]["cae"]
  # Chosen by validation after one of the two epochs; errors count test images.
  assert ft["best_epoch"] in (1.0, 2.0)
  assert abs(ft["test_error"] * num_test - round(ft["test_error"] * num_test)) < 1e-3
  # Controls are probed with few labels only; the fine-tunes at every size.
  assert sorted(per_run["cae_unreg_seed1"]["probe"]) == ["100", "1000"]
  assert sorted(per_run["cae_seed1"]["fine_tune"]["random_init"]) == sorted(
      str(n) for n in results["summary"]["sizes"])
  # Summary and verdicts recomputed from the per-run measurements.
  assert results["summary"] == caf.summarize(per_run, setting)
  assert verdict_agrees(tmp_path) == [ok for _, ok in caf.verdicts(results["summary"], setting)]
  # One seed: every verdict inconclusive, each cell the seed's value.
  assert verdict_agrees(tmp_path) == [None] * 11
  (value,) = results["summary"]["probe"]["cae_unreg"]["100"]
  row = next(r for r in report_lib.read_table(path, "Linear-probe test accuracy (mean")
             if r[0] == "CAE 784-256, lambda 0")
  assert row == ["CAE 784-256, lambda 0", f"{value:.4f}", row[2], "-"]
  # A re-run reads every kept measurement instead of training again.
  before = (tmp_path / "ae_seed1" / "measured.json").stat().st_mtime_ns
  caf.run(str(tmp_path), quick=True, smoke=True)
  assert (tmp_path / "ae_seed1" / "measured.json").stat().st_mtime_ns == before
  assert experiment_results(path, tmp_path, 11, [])["summary"] == results["summary"]


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

  def model(feature0, reconstruction, tangent=2.0, noise=None):
    r = {"feature_ratio_random": [feature0] + [0.1] * (n - 1),
         "reconstruction_ratio_random": [reconstruction] * n,
         "reconstruction_ratio_tangent": [tangent] * n,
         "reconstruction_ratio_normal": [1.0] * n}
    return {**r, "training_noise_norm": noise} if noise else r

  def results(cae, dae, matched=True):
    # Three seeds, each a little different, as real seeds are.
    return {"matched": {"matched": matched},
            "cae": {str(s): cae(1 + 0.01 * s) for s in range(3)},
            "dae": {str(s): dae(1 + 0.01 * s) for s in range(3)}}
  cae = lambda e: model(0.05 * e, 0.5 * e)
  dae = lambda e: model(0.2 * e, 0.3 * e, noise=6.0)
  agrees = lambda r: [ok for _, ok in cvd.verdicts(r)]
  assert agrees(results(cae, dae)) == [True, True, True]
  # The finite delta is the largest within the DAE's training noise norm (6 -> 5).
  assert cvd.finite_delta_index(results(cae, dae)["dae"]) == cvd.DELTAS.index(5.0)
  # A DAE whose features contract more, and whose reconstruction moves more.
  assert agrees(results(cae, lambda e: model(0.01 * e, 0.9 * e, noise=6.0))) == [
      False, False, True]
  # Seeds that disagree with each other: the intervals straddle 0 (inconclusive).
  flip = lambda e: model(0.05 * e if e < 1.015 else 0.4, 0.3 * e if e < 1.015 else 0.8,
                         noise=6.0)
  assert agrees(results(cae, flip)) == [None, None, True]
  # A CAE that moves more across the manifold than along it.
  assert agrees(results(lambda e: model(0.05 * e, 0.5 * e, tangent=0.5 * e), dae))[2] is False
  # No pair matched within the tolerance: nothing is decided.
  assert agrees(results(cae, dae, matched=False)) == [None, None, None]
  sweep = {"cae_0.5_seed0": {"jacobian_frobenius": 5.0}, "cae_1_seed0": {"jacobian_frobenius": 3.0},
           "cae_2_seed0": {"jacobian_frobenius": 4.0}}
  for r in sweep.values():
    r.update(input_dim=784, feature_ratio_random=[r["jacobian_frobenius"] / 28.0])
  assert [ok for _, ok in cvd.sanity_checks(sweep)] == [False, True]
  sweep["cae_2_seed0"]["feature_ratio_random"] = [1.0]
  del sweep["cae_1_seed0"]
  assert [ok for _, ok in cvd.sanity_checks(sweep)] == [True, False]


def test_contractive_vs_denoising_matches_the_closest_pair():
  cvd = contractive_vs_denoising
  assert cvd.match({0.5: 90.0, 1.0: 100.0, 2.0: 120.0}, {0.3: 103.0, 0.5: 130.0}) == {
      "cae_weight": 1.0, "dae_sigma": 0.3, "gap": pytest.approx(3 / 103),
      "matched": True}
  assert not cvd.match({1.0: 80.0}, {0.3: 100.0})["matched"]  # 20% apart


def test_t_interval_and_the_seed_verdict_rule():
  mean, low, high = report_lib.t_interval([1.0, 2.0, 3.0])
  half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2 dof) * sd / sqrt(n), sd = 1
  assert (mean, low, high) == pytest.approx((2.0, 2.0 - half, 2.0 + half))
  assert report_lib.above([1.0, 2.0, 3.0]) is None
  assert report_lib.above([2.0, 2.1, 2.2]) is True
  assert report_lib.above([-2.0, -2.1, -2.2]) is False
  assert report_lib.above([2.0, 2.1, 2.2], 3.0) is False
  with pytest.raises(ValueError):
    report_lib.t_interval([1.0])
  # One seed (a smoke run) decides nothing; its cell is the value alone.
  assert report_lib.above([5.0]) is None
  assert report_lib.interval_cell([0.5], ".3f") == "0.500"
  assert report_lib.interval_cell([1.0, 2.0, 3.0], ".2f") == (
      f"2.00 [{2 - half:.2f}, {2 + half:.2f}]")
  assert report_lib.every([True, None, True]) is None and report_lib.every([None, False]) is False


def test_codes_as_features_verdicts_can_disagree():
  caf = codes_as_features
  setting = caf._settings(quick=False, smoke=False)  # noqa: SLF001  (every run)
  sizes = [100, 1000, 60000]
  jitter = {"code": (0.003, 0.0, 0.001), "base": (0.0, 0.004, -0.002)}

  def rep(values, kind="code"):  # three seeds, a little apart as real seeds are
    return {str(n): [v + j for j in jitter[kind]] for n, v in zip(sizes, values)}

  def summary(**changes):
    probe = {"pixels": rep((0.76, 0.87, 0.926), "base"), "pca150": rep((0.76, 0.865, 0.92), "base"),
             "pca20": rep((0.75, 0.86, 0.88), "base")}
    for m in ("ae", "sparse_ae", "dae", "cae", "vae"):
      probe[m] = rep((0.79, 0.89, 0.93))
      probe[f"{m}_untrained"] = rep((0.70, 0.80), "base")
      probe[f"{m}_unreg"] = rep((0.77, 0.87), "base")
    ft = {m: {"pretrained": rep((0.75, 0.90, 0.990)), "random_init": rep((0.70, 0.88, 0.985),
                                                                            "base")}
          for m in caf.FINE_TUNED}
    rifai = {s: {"test_error": [e + j for j in (3e-4, 0.0, 1e-4)]}
             for s, e in (("cae", 0.0115), ("ae", 0.0150), ("random_init", 0.0160))}
    probe.update(changes.pop("probe", {}))
    ft.update(changes.pop("fine_tune", {}))
    rifai.update(changes.pop("rifai", {}))
    return {"sizes": sizes, "probe": probe, "fine_tune": ft, "rifai": rifai}

  agrees = lambda **c: [ok for _, ok in caf.verdicts(summary(**c), setting)]  # noqa: E731
  assert agrees() == [True] * 15
  # Pixels ahead at 100 labels: the codes neither beat them nor lead more there.
  assert agrees(probe={"pixels": rep((0.82, 0.87, 0.926), "base")}) == (
      [False, True, True, False] + [True] * 11)
  # One code (the DAE) below pixels at 1000 labels.
  assert agrees(probe={"dae": rep((0.79, 0.80, 0.93))})[2] is False
  # Seeds that straddle pixels: inconclusive, not agree.
  noisy = {"pixels": {**rep((0.76, 0.87, 0.926), "base"), "100": [0.80, 0.76, 0.785]}}
  assert agrees(probe=noisy)[0] is None
  # Untrained encoders as good as trained ones; the VAE below PCA 20.
  untrained = {f"{m}_untrained": rep((0.80, 0.80)) for m in ("ae", "sparse_ae", "dae", "cae",
                                                               "vae")}
  assert agrees(probe=untrained)[4] is False
  assert agrees(probe={"vae": rep((0.72, 0.89, 0.93))})[5] is False
  # The CAE's contraction not helping: lambda 0 probes better.
  assert agrees(probe={"cae_unreg": rep((0.82, 0.87), "base")})[6:10] == [True, True, False,
                                                                         True]
  # Random initialisation ahead after fine-tuning; the CAE's error above 1.3%.
  assert agrees(fine_tune={"ae": {"pretrained": rep((0.40, 0.90, 0.990)),
                                  "random_init": rep((0.70, 0.88, 0.985), "base")}})[10] is False
  assert agrees(fine_tune={"cae": {"pretrained": rep((0.75, 0.90, 0.980)),
                                   "random_init": rep((0.70, 0.88, 0.985), "base")}})[11] is False
  # Rifai's setting: the CAE at 1.4%; as good as random init; behind the AE.
  assert agrees(rifai={"cae": {"test_error": [0.0140, 0.0141, 0.0139]}})[12:] == [False, True,
                                                                                   True]
  assert agrees(rifai={"random_init": {"test_error": [0.0115, 0.0114, 0.0116]}})[12:] == [
      True, None, True]
  assert agrees(rifai={"ae": {"test_error": [0.0100, 0.0101, 0.0099]}})[12:] == [True, True,
                                                                                  False]
