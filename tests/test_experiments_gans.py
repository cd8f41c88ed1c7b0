"""GAN experiments run end to end (tiny budget: plumbing, not the claims' numbers).

A smoke run's numbers mean nothing, so its checks are consistency checks that
a regression would break: numbers recomputed independently from what the
runs logged, report tables equal to results.json, verdicts equal to their
predicates recomputed from the reported numbers; and known inputs with known
outputs for the measures the reports use.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import report_cells, saved_metrics, verdict_agrees, all_finite, experiment_results, requires_mnist
from experiments import conditional_and_infogan, minimax_vs_nonsaturating
from experiments import optimal_discriminator, semi_supervised_gan
from experiments import report as report_lib
from genjax import writers


def _is_count(fraction: float, total: int) -> bool:
  """`fraction` is k / total for an integer k: a mean over exactly `total` items."""
  return abs(fraction * total - round(fraction * total)) < 1e-3


def test_optimal_discriminator_writes_its_report(tmp_path):
  path = optimal_discriminator.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(
      path, tmp_path, 4, ["optimal_d_seed1.png", "optimal_d_control.png",
                          "d_during_training.png", "jsd_during_training.png"])
  fresh = report_lib.read_table(path, "Fresh D")
  own = report_lib.read_table(path, "The GAN's own discriminator")
  seeds = optimal_discriminator.SEEDS[1:2]  # a smoke run trains seed 1 alone
  assert sorted(results) == sorted([f"seed{s}" for s in seeds] + ["control_p_g_equals_p_data"])
  assert len(fresh) == len(seeds) + 1 and len(own) == len(seeds)
  for i, seed in enumerate(seeds):
    r = results[f"seed{seed}"]
    run_dir = tmp_path / f"mog1d_seed{seed}"
    saved = saved_metrics(run_dir)
    assert {k: r[k] for k in ("d_real", "d_fake", "d_loss")} == {
        k: saved["eval"][k] for k in ("d_real", "d_fake", "d_loss")}
    assert (r["modes_covered"], r["high_quality_fraction"]) == (
        saved["final"]["modes_covered"], saved["final"]["high_quality_fraction"])
    # The last eval logged during training is the final one (the figure's end).
    assert writers.read_metrics(str(run_dir), "eval")[-1]["d_real"] == r["d_real"]
    assert r["od_mean_gap"] <= r["od_max_gap"] and r["gan_d_mean_gap"] <= r["gan_d_max_gap"]
    assert all_finite(r["od_d_loss"], r["d_loss"], r["od_weighted_gap"])
    assert fresh[i] == report_cells(seed, f"{r['modes_covered']:g}/{saved['final']['num_modes']:g}",
                              r["high_quality_fraction"], r["od_max_gap"], r["od_mean_gap"],
                              r["od_weighted_gap"], r["od_d_loss"], r["od_jsd_from_d"],
                              r["od_jsd_kde"], r["gan_d_max_gap"], r["gan_d_mean_gap"])
    # JSD from D is ln 2 - (fresh D loss) / 2, and the densities' JSD lies in [0, ln 2].
    assert r["od_jsd_from_d"] == pytest.approx(math.log(2) - r["od_d_loss"] / 2)
    assert 0 <= r["od_jsd_kde"] <= math.log(2)
    assert own[i] == report_cells(seed, r["d_real"], r["d_fake"], r["d_loss"],
                            abs(r["d_real"] - 0.5), r["jsd_start"], r["jsd_end"])
    # The trajectory is the run's own toy_jsd evaluator, from step 0 to the end.
    rows = writers.read_metrics(str(run_dir), "eval")
    assert r["jsd_steps"] == [row["step"] for row in rows] and r["jsd_steps"][0] == 0
    assert r["jsd_trajectory"] == [row["jsd_kde"] for row in rows]
    assert r["jsd_end"] == saved["eval"]["jsd_kde"]
  control = results["control_p_g_equals_p_data"]
  assert control["od_mean_gap"] <= control["od_max_gap"]
  assert fresh[-1][3:9] == report_cells(control["od_max_gap"], control["od_mean_gap"],
                                  control["od_weighted_gap"], control["od_d_loss"],
                                  control["od_jsd_from_d"], control["od_jsd_kde"])
  assert verdict_agrees(tmp_path) == [holds for _, holds in optimal_discriminator.verdicts(
      [results[f"seed{s}"] for s in seeds], control)]


def _od_seed(**changes):
  good = dict(od_max_gap=0.03, od_weighted_gap=0.005, od_jsd_from_d=0.05, jsd_start=0.6,
              jsd_end=0.05)
  return {**good, **changes}


@pytest.mark.parametrize("changes,agrees", [
    ({}, [True, True, True, True]),
    # The first full run's seed 1 (max gap 0.056): one seed over is a disagreement.
    (dict(od_max_gap=0.056), [False, True, True, True]),
    (dict(od_weighted_gap=0.051), [True, False, True, True]),
    (dict(od_jsd_from_d=0.11), [True, True, False, True]),
    # p_g no closer to p_data than at step 0: the trajectory verdict fails.
    (dict(jsd_start=0.1, jsd_end=0.05), [True, True, True, False]),
])
def test_optimal_discriminator_verdicts_can_disagree(changes, agrees):
  seeds = [_od_seed(), _od_seed(**changes), _od_seed()]  # one seed failing is enough
  got = optimal_discriminator.verdicts(seeds, {"od_max_gap": 0.005})
  assert [holds for _, holds in got] == agrees


def test_gaps_of_known_discriminators():
  d_star = np.full(4, 0.5)
  d = np.array([0.5, 0.6, 0.8, 0.0])
  mask = np.array([True, True, True, False])  # the last point is off the support
  max_gap, mean_gap = optimal_discriminator._gaps(d, d_star, mask)
  assert max_gap == pytest.approx(0.3) and mean_gap == pytest.approx(0.4 / 3)
  assert optimal_discriminator._gaps(d_star, d_star, mask) == (0.0, 0.0)


@pytest.mark.slow
@requires_mnist
def test_minimax_vs_nonsaturating_writes_its_report(tmp_path):
  path = minimax_vs_nonsaturating.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(
      path, tmp_path, 4, ["ring8_early_grad_norm.png", "mnist_early_grad_norm.png",
                          "ring8_early_d_fake.png", "mnist_early_d_fake.png"])
  assert verdict_agrees(tmp_path) == [None] * 4  # one seed: every verdict inconclusive
  assert results["seeds"] == {"ring8": [1], "mnist": [1]}
  limit = minimax_vs_nonsaturating.EARLY_STEPS

  def early(run_dir, key):
    """Mean of a train metric over the logged rows up to EARLY_STEPS, from the log."""
    rows = writers.read_metrics(str(run_dir), "train")
    assert rows and all(key in row for row in rows)
    picked = [row[key] for row in rows if row["step"] <= limit] or [rows[0][key]]
    return float(np.mean(picked))

  tables = {"ring8": report_lib.read_table(path, "8-Gaussian ring"),
            "mnist": report_lib.read_table(path, "MNIST DCGAN")}
  for data in ("ring8", "mnist"):
    for i, loss in enumerate(minimax_vs_nonsaturating.LOSSES):
      [r] = results[data][loss]
      run_dir = tmp_path / f"{data}_{loss}_seed1"
      saved = saved_metrics(run_dir)
      for key in minimax_vs_nonsaturating._KEEP[data]:
        assert r[key] == saved["final"][key], (data, loss, key)
      assert (r["d_real"], r["d_fake"]) == (saved["eval"]["d_real"], saved["eval"]["d_fake"])
      assert r["early_g_grad_norm"] == pytest.approx(early(run_dir, "g_grad_norm"), rel=1e-12)
      assert r["early_d_fake"] == pytest.approx(early(run_dir, "d_fake_g_step"), rel=1e-12)
      row = tables[data][i]
      assert row[:2] == [loss, "1"] and row[-2:] == report_cells(r["early_d_fake"],
                                                                  r["early_g_grad_norm"])
    assert saved["final"].get("num_quality_samples", report_lib.SMOKE_SAMPLES) == (
        report_lib.SMOKE_SAMPLES)
  ratios = report_lib.read_table(path, "Early G gradient ratio")
  for row, (name, data) in zip(ratios, (("ring8", "ring8"), ("MNIST", "mnist")), strict=True):
    [mm], [ns] = results[data]["minimax"], results[data]["non_saturating"]
    assert row == report_cells(name, mm["early_d_fake"], ns["early_d_fake"],
                               mm["early_d_fake"] / (1 - ns["early_d_fake"]),
                               mm["early_g_grad_norm"] / ns["early_g_grad_norm"])


def test_minimax_vs_nonsaturating_verdicts_can_disagree():
  def results(ratio=(0.03, 0.04, 0.05), modes=(0, 0, 0), fraction=(0.02, 0.03, 0.04),
              fd=(30.0, 35.0, 40.0)):
    """Per-seed minimax / non-saturating pairs with these paired values."""
    out = {"ring8": {"minimax": [], "non_saturating": []},
           "mnist": {"minimax": [], "non_saturating": []}}
    for r, m, f, d in zip(ratio, modes, fraction, fd):
      out["ring8"]["non_saturating"].append(
          {"early_g_grad_norm": 1.0, "modes_covered": 8, "high_quality_fraction": 0.9})
      out["ring8"]["minimax"].append(
          {"early_g_grad_norm": r, "modes_covered": 8 - m, "high_quality_fraction": 0.9 - f})
      out["mnist"]["non_saturating"].append({"early_g_grad_norm": 2.0, "fd": 150.0})
      out["mnist"]["minimax"].append({"early_g_grad_norm": 2.0 * r, "fd": 150.0 + d})
    return out
  agrees = lambda r: [ok for _, ok in minimax_vs_nonsaturating.verdicts(r)]
  assert agrees(results()) == [True] * 4
  # Last run's numbers: no saturation on ring8 (ratio ~0.94), equal fractions.
  assert agrees(results(ratio=(0.93, 0.94, 0.95), fraction=(-0.01, 0.0, 0.01))) == [
      False, False, None, True]
  # The non-saturating run loses modes: disagrees whatever the fraction does.
  assert agrees(results(modes=(-3, -3, -2)))[2] is False
  # Minimax reaches the lower FD on every seed.
  assert agrees(results(fd=(-30.0, -35.0, -40.0)))[3] is False
  # An FD difference whose interval covers 0: inconclusive.
  assert agrees(results(fd=(-30.0, 5.0, 40.0)))[3] is None


def test_sample_quality_measures_of_known_inputs():
  # genjax.evaluation.sample_quality, whose numbers the GAN reports carry.
  from genjax.evaluation import sample_quality as sq
  rng = np.random.default_rng(0)
  # Classifier score: every sample the same class -> 1; confident and
  # balanced over 10 classes -> 10.
  assert sq.classifier_score(np.tile([[9.0] + [0.0] * 9], (100, 1))) == pytest.approx(
      1.0, abs=1e-4)
  assert sq.classifier_score(np.eye(10)[np.arange(100) % 10] * 50.0) == pytest.approx(
      10.0, rel=1e-4)
  # Frechet distance: identical sets 0, a shift by c adds ||c||^2.
  x = rng.normal(size=(500, 4))
  assert abs(sq.frechet_distance(x, x)) < 1e-6
  assert sq.frechet_distance(x, x + [1.0, 2.0, 0.0, 0.0]) == pytest.approx(5.0, rel=1e-6)
  # Precision and recall of a set against itself: 1 and 1.
  assert sq.precision_recall(x, x) == pytest.approx((1.0, 1.0))
  # Hungarian accuracy: clusters that are the classes renamed -> 1.0; one
  # cluster for everything -> the largest class's share.
  labels = rng.integers(0, 10, size=1000)
  perm = rng.permutation(10)
  accuracy, mapping = sq.hungarian_accuracy(perm[labels], labels, 10)
  assert accuracy == 1.0 and (mapping[perm] == np.arange(10)).all()
  accuracy, _ = sq.hungarian_accuracy(np.zeros_like(labels), labels, 10)
  assert accuracy == pytest.approx(np.bincount(labels).max() / len(labels))


@pytest.mark.slow
@requires_mnist
def test_conditional_and_infogan_writes_its_report(tmp_path):
  path = conditional_and_infogan.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(
      path, tmp_path, 5, ["cgan_classes.png", "cgan_plain_classes.png", "infogan_c1.png",
                          "infogan_c2.png", "infogan_c3.png"])
  cgan, plain, info = results["cgan"], results["cgan_plain"], results["infogan"]
  saved_cgan, saved_info = saved_metrics(tmp_path / "cgan"), saved_metrics(tmp_path / "infogan")
  saved_plain = saved_metrics(tmp_path / "cgan_plain")
  # The plain cGAN is the same config without D's projection term.
  assert json.loads((tmp_path / "cgan_plain" / "config.json").read_text())["model"][
      "d_projection"] is False
  assert plain["conditional_accuracy"] == saved_plain["final"]["conditional_accuracy"]
  quality = ("fd", "fd_floor", "classifier_score", "precision", "recall")
  for r, saved in ((cgan, saved_cgan), (plain, saved_plain), (info, saved_info)):
    assert {k: r[k] for k in quality} == {k: saved["final"][k] for k in quality}
    assert (r["d_real"], r["d_fake"]) == (saved["eval"]["d_real"], saved["eval"]["d_fake"])
    assert saved["final"]["num_quality_samples"] == report_lib.SMOKE_SAMPLES
  # Accuracies are counts: of the samples asked for a class, of the test images.
  assert cgan["conditional_accuracy"] == saved_cgan["final"]["conditional_accuracy"]
  assert _is_count(cgan["conditional_accuracy"], report_lib.SMOKE_SAMPLES)
  num_test = report_lib.config("infogan_mnist", "paper", smoke=True).data.max_eval_examples
  assert info["c1_hungarian_accuracy"] == saved_info["final"]["c1_hungarian_accuracy"]
  assert _is_count(info["c1_hungarian_accuracy"], num_test)
  # --quick trains one InfoGAN seed; the median over seeds is recomputed.
  by_seed = info["c1_hungarian_accuracy_by_seed"]
  assert by_seed == {"0": info["c1_hungarian_accuracy"]}
  assert info["c1_hungarian_accuracy_median"] == float(np.median(list(by_seed.values())))
  assert info["mi_lower_bound_by_seed"] == {"0": info["mi_lower_bound"]}
  assert info["mi_lower_bound"] == saved_info["eval"]["mi_lower_bound"]
  # The style sweep: c1 over its 10 categories, c2 and c3 over SWEEP, 64 draws each.
  style = info["style"]
  assert set(style) == {"c1", "c2", "c3"}
  draws = 64
  assert _is_count(style["c1"]["class_kept"], 10 * draws)
  for code in ("c2", "c3"):
    assert all_finite(style[code]["slant_r"], style[code]["width_r"])
    assert _is_count(style[code]["class_kept"], len(conditional_and_infogan.SWEEP) * draws)
  label_rows = report_lib.read_table(path, "Label control")
  assert [row[2] for row in label_rows] == report_cells(
      cgan["conditional_accuracy"], plain["conditional_accuracy"],
      info["c1_hungarian_accuracy"], info["mi_lower_bound"])
  style_rows = report_lib.read_table(path, "InfoGAN codes swept")
  assert style_rows == [report_cells(code, s.get("slant_r", "-"), s.get("width_r", "-"),
                               s["class_kept"]) for code, s in style.items()]
  m = conditional_and_infogan
  styled = [code for code in ("c2", "c3")
            if max(abs(style[code]["slant_r"]), abs(style[code]["width_r"]))
            >= m.STYLE_CORRELATION and style[code]["class_kept"] >= m.STYLE_KEEPS_CLASS]
  assert verdict_agrees(tmp_path) == [
      cgan["conditional_accuracy"] >= m.CGAN_ACCURACY,
      plain["conditional_accuracy"] >= m.CGAN_ACCURACY,
      info["c1_hungarian_accuracy_median"] >= m.INFOGAN_ACCURACY,
      info["mi_lower_bound"] >= m.MI_FRACTION * math.log(10),
      bool(styled) and style["c1"]["class_kept"] <= m.C1_KEEPS_CLASS]


def test_within_correlation_of_known_sweeps():
  codes = conditional_and_infogan.SWEEP
  offsets = np.random.default_rng(0).normal(size=(1, 7)) * 10.0  # per-sample, removed
  corr = conditional_and_infogan._within_correlation
  assert corr(codes, 2.0 * codes[:, None] + offsets) == pytest.approx(1.0)
  assert corr(codes, -0.5 * codes[:, None] + offsets) == pytest.approx(-1.0)
  assert corr(codes, np.broadcast_to(offsets, (len(codes), 7))) == 0.0
  # Half the samples follow the code, half do not move: still a perfect
  # correlation of what moves, diluted by the samples that do not.
  half = np.concatenate([np.broadcast_to(codes[:, None], (len(codes), 2)),
                         np.zeros((len(codes), 2))], 1)
  assert corr(codes, half) == pytest.approx(math.sqrt(0.5))


def test_slant_and_width_of_known_shapes():
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


def test_conditional_and_infogan_verdicts_can_disagree():
  cai = conditional_and_infogan
  style = {"c1": {"slant_r": 0.1, "width_r": 0.1, "class_kept": 0.1},
           "c2": {"slant_r": 0.9, "width_r": 0.1, "class_kept": 0.95},
           "c3": {"slant_r": 0.1, "width_r": 0.2, "class_kept": 0.97}}
  cgans = {"cgan": {"conditional_accuracy": 0.97}, "cgan_plain": {"conditional_accuracy": 0.96}}
  good = (cgans, {0: 0.777, 1: 0.951, 2: 0.954}, {"mi_lower_bound": 2.30}, style)
  agrees = lambda *args: [ok for _, ok in cai.verdicts(*args)]
  assert agrees(*good) == [True] * 5
  assert agrees({**cgans, "cgan": {"conditional_accuracy": 0.93}}, *good[1:]) == [
      False, True, True, True, True]
  # Each cGAN is judged on its own: the plain one below the bar.
  assert agrees({**cgans, "cgan_plain": {"conditional_accuracy": 0.5}}, *good[1:]) == [
      True, False, True, True, True]
  # The median seed, not the best: two seeds below the bar fail it.
  assert agrees(cgans, {0: 0.777, 1: 0.705, 2: 0.954}, *good[2:]) == [
      True, True, False, True, True]
  assert agrees(*good[:2], {"mi_lower_bound": 1.9}, style) == [True, True, True, False, True]
  # No continuous code changes style without changing the digit.
  flat = {**style, "c2": {"slant_r": 0.9, "width_r": 0.1, "class_kept": 0.5}}
  assert agrees(*good[:3], flat) == [True, True, True, True, False]
  # c1 that does not change the digit is no categorical code.
  stuck = {**style, "c1": {"slant_r": 0.1, "width_r": 0.1, "class_kept": 0.9}}
  assert agrees(*good[:3], stuck) == [True, True, True, True, False]


@pytest.mark.slow
@requires_mnist
def test_semi_supervised_gan_writes_its_report(tmp_path):
  ssg = semi_supervised_gan
  path = ssg.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 4, ["test_error.png"])
  # One seed; their subset needs the whole training split, which smoke runs do not load.
  assert results["seeds"] == [1] and results["their_subset_seeds"] == []
  assert verdict_agrees(tmp_path) == [None] * 4
  num_test = report_lib.config("ssgan_mnist", smoke=True).data.max_eval_examples
  rows = report_lib.read_table(path, "Test class error")
  for arm, supervised_only in (("ssgan", False), ("labels_only", True)):
    run_dir = tmp_path / f"{arm}_seed1"
    written = json.loads((run_dir / "config.json").read_text())
    # Each arm is its own config, at the seed's init and labelled subset.
    assert (written["seed"], written["data"]["labelled_seed"]) == (1, 1)
    assert (written["gan"]["unsupervised_weight"] == 0) == supervised_only
    r, final = results["by_arm"][arm]["1"], saved_metrics(run_dir)["final"]
    assert (r["test_error"], r["test_errors"]) == (final["ssgan_test_error"],
                                                   final["ssgan_test_errors"])
    assert r["test_errors"] == round(r["test_error"] * num_test)
    evals = [row for row in writers.read_metrics(str(run_dir), "eval") if "class_error" in row]
    assert r["trajectory"] == [[row["step"], row["class_error"]] for row in evals] != []
  ssgan, alone = (results["by_arm"][a]["1"]["test_error"] for a in ("ssgan", "labels_only"))
  assert rows == [report_cells("1", ssgan, alone, alone - ssgan)]
  assert results["summary"] == ssg.summarize(results["by_arm"])


def test_semi_supervised_gan_verdicts_can_disagree():
  def results(ssgan, alone, theirs=(), theirs_alone=()):
    by_seed = lambda errors: {str(i): {"test_error": e} for i, e in enumerate(errors)}  # noqa: E731
    return {"ssgan": by_seed(ssgan), "labels_only": by_seed(alone),
            "ssgan_their_subset": by_seed(theirs),
            "labels_only_their_subset": by_seed(theirs_alone)}
  agrees = lambda r: [ok for _, ok in semi_supervised_gan.verdicts(r)]  # noqa: E731
  alone = [0.20, 0.22, 0.21]
  assert agrees(results([0.010, 0.011, 0.009], alone)) == [True, True, None, None]
  # The published-level goal missed on every seed (genjax's first full run: 2.4%).
  assert agrees(results([0.024, 0.023, 0.025], alone))[:2] == [False, True]
  # Seeds straddling the goal: inconclusive; a GAN that hurts: disagrees.
  assert agrees(results([0.005, 0.025, 0.013], alone))[0] is None
  assert agrees(results([0.30, 0.33, 0.31], alone))[1] is False
  # Each protocol is judged on its own runs.
  assert agrees(results([0.024, 0.023, 0.025], alone, [0.012, 0.011, 0.0115], alone)) == [
      False, True, True, True]
  assert agrees(results([0.010, 0.011, 0.009], alone, [0.024, 0.023, 0.025], alone)) == [
      True, True, False, True]
  # The median is reported beside the interval; an arm without runs is left out.
  summary = semi_supervised_gan.summarize(results([0.01, 0.02, 0.05], alone))
  assert summary["ssgan"]["median"] == 0.02 and "ssgan_their_subset" not in summary
