"""experiments/gan_stability.py: its outcome rule, intervals and verdicts on
hand-made runs (each can come out either way), and its plumbing end to end."""

from __future__ import annotations

import pytest

from conftest import experiment_results, report_cells, requires_mnist, saved_metrics
from experiments import gan_stability as gs
from experiments import report as report_lib

_HEALTHY_TAIL = [0.3, 0.35, 0.32, 0.31, 0.3]


def _image(fd_last=60.0, floor=2.0, classes=10, tail=_HEALTHY_TAIL):
  return {"fd": [400.0, 150.0, fd_last], "fd_floor": floor, "classes_present": classes,
          "d_fake_tail": list(tail)}


def test_outcome_tells_success_collapse_and_d_win_apart():
  assert gs.outcome(_image()) == {"success": True, "d_wins": False, "collapsed": False}
  # Within the Frechet bar but with two classes: a collapse, not a success.
  assert gs.outcome(_image(classes=2)) == {"success": False, "d_wins": False, "collapsed": True}
  # D(G(z)) below 0.05 in each of the last rows: D wins outright.
  assert gs.outcome(_image(tail=[0.2, 0.04, 0.01, 0.02, 0.03, 0.04])) == {
      "success": False, "d_wins": True, "collapsed": False}
  # One row above the bar among the last ones: D has not won outright.
  assert not gs.outcome(_image(tail=[0.01, 0.02, 0.2, 0.01, 0.01]))["d_wins"]
  # The Frechet bar is FD_FACTOR x the floor, inclusive.
  assert gs.outcome(_image(fd_last=gs.FD_FACTOR * 2.0))["success"]
  assert not gs.outcome(_image(fd_last=gs.FD_FACTOR * 2.0 + 0.1))["success"]
  # Only the final Frechet distance counts, not the trajectory's best.
  assert not gs.outcome({**_image(), "fd": [50.0, 60.0, 900.0]})["success"]


def test_outcome_on_grid_runs():
  good = {"modes_covered": 25, "high_quality_fraction": 0.9, "d_fake_tail": _HEALTHY_TAIL}
  assert gs.outcome(good) == {"success": True, "d_wins": False, "collapsed": False}
  assert gs.outcome({**good, "modes_covered": gs.MIN_MODES - 1})["collapsed"]
  assert not gs.outcome({**good, "high_quality_fraction": gs.HIGH_QUALITY - 0.01})["success"]
  assert gs.outcome({**good, "d_fake_tail": [0.01] * 5})["d_wins"]


def test_wilson_interval_matches_hand_computed_values():
  # 5/5: [0.5655, 1]; 0/5: [0, 0.4345]; 2/5: [0.1176, 0.7693] (Wilson 1927, z = 1.96).
  assert gs.wilson(5, 5) == pytest.approx((0.56552, 1.0), abs=1e-4)
  assert gs.wilson(0, 5) == pytest.approx((0.0, 0.43448), abs=1e-4)
  assert gs.wilson(2, 5) == pytest.approx((0.11762, 0.76928), abs=1e-4)


def test_compare_rates_agrees_disagrees_or_is_inconclusive():
  assert gs.compare_rates([True] * 5, [False] * 5) is True
  assert gs.compare_rates([True] * 4 + [False], [False] * 5) is None   # intervals overlap
  assert gs.compare_rates([False] * 5, [True] * 5) is False
  assert gs.compare_rates([True, False] * 2, [False, True] * 2) is False  # equal rates


def test_verdicts_follow_the_success_counts():
  ok, bad = [True] * 5, [False] * 5
  agree = {("DCGAN", "mnist"): ok, ("DCGAN", "fashion_mnist"): ok,
           ("fully connected", "mnist"): bad, ("fully connected", "fashion_mnist"): bad,
           ("fully connected", "grid25"): ok}
  assert [v for _, v in gs.verdicts(agree)] == [True, True, True, True]
  flipped = {**agree, ("DCGAN", "fashion_mnist"): bad, ("fully connected", "grid25"): bad}
  assert [v for _, v in gs.verdicts(flipped)] == [True, False, False, False]
  assert "5/5 [0.57, 1.00]" in gs.verdicts(agree)[0][0]


@pytest.mark.slow
@requires_mnist
def test_gan_stability_writes_its_report(tmp_path):
  path = gs.run(str(tmp_path), quick=True, smoke=True)
  results = experiment_results(path, tmp_path, 4, ["mnist_fd.png", "fashion_mnist_fd.png"])
  per_run = report_lib.read_table(path, "Image runs per seed")
  expected_rows = []
  for data in gs.IMAGE_DATASETS:
    for arch, config_name in gs.ARCHS.items():
      for r in results[f"{arch} / {data}"]:
        # The outcome recorded is the rule applied to the recorded measurements.
        assert {k: r[k] for k in ("success", "d_wins", "collapsed")} == gs.outcome(r)
        assert len(r["fd"]) == gs.CHECKPOINTS and sum(r["class_counts"]) == (
            report_lib.SMOKE_SAMPLES)
        run_dir = tmp_path / f"{config_name}_{data}_seed{r['seed']}"
        assert saved_metrics(run_dir)["eval"]["d_fake"] == r["final_d_fake"]
        expected_rows.append(report_cells(data, arch, r["seed"], *r["fd"], r["fd_floor"],
                                          r["fd"][-1] / r["fd_floor"], r["classes_present"],
                                          r["final_d_fake"], r["success"], r["d_wins"],
                                          r["collapsed"]))
  assert per_run == expected_rows
  successes = {tuple(k.split(" / ")): [r["success"] for r in v] for k, v in results.items()}
  import json
  written = json.loads((tmp_path / "results.json").read_text())["verdicts"]
  assert [v["agrees"] for v in written] == [v for _, v in gs.verdicts(successes)]
