"""Every bad input ends the launcher with one `genjax: error:` line.

The whole battery runs through `python -m genjax.main` as subprocesses (a few
at a time): each case must exit non-zero, print exactly one error line that
names the problem, print no traceback, and leave its workdir as it was (not
created, or a trained workdir unchanged).
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import socket

import pytest

from conftest import requires_mnist, run_launchers

# slow: the module's battery fixture runs every case (about 17 s).
pytestmark = [requires_mnist, pytest.mark.slow]

AE = "--config=configs/ae_mnist.py:runlocal"

# name: (launcher args without --workdir, text the error line must contain).
BATTERY = {
    "missing_config_file": (["--config=configs/no_such_config.py"],
                            "config file 'configs/no_such_config.py' not found"),
    "unknown_variant_option": (["--config=configs/ae_mnist.py:bogus"],
                               "unknown config variant option 'bogus'"),
    "unknown_key": ([AE, "--config.no_such_key=1"], "unknown config key 'no_such_key'"),
    "misspelt_key": ([AE, "--config.model.code_dimm=7"],
                     "unknown config key 'model.code_dimm'; did you mean 'model.code_dim'?"),
    "misspelt_key_of_a_default_group": (
        [AE, "--config.noise.knd=gaussian"], "did you mean 'noise.kind'?"),
    "misspelt_optimizer_key": ([AE, "--config.optimizer.lrr=1"],
                               "did you mean 'optimizer.lr'?"),
    "renamed_optimizer_key": ([AE, "--config.optimizer.learning_rate=1"],
                              "unknown config key 'optimizer.learning_rate'"),
    "unknown_group": ([AE, "--config.nosuchgroup.x=1"], "unknown config key 'nosuchgroup.x'"),
    "wrong_value_type": ([AE, "--config.batch_size=abc"], "--config.batch_size=abc"),
    "unknown_method": ([AE, "--config.method=autoencodr"],
                       "unknown method 'autoencodr' (config.method); registered methods: "
                       "autoencoder, gan, vae"),
    "unknown_dataset": ([AE, "--config.data.name=nope_ds"], "unknown TFDS dataset 'nope_ds'"),
    "unknown_split": ([AE, "--config.data.eval_split=tset"], "has no split 'tset'"),
    "zero_batch": ([AE, "--config.batch_size=0"],
                   "config.batch_size must be a positive integer, got 0"),
    "negative_layer": ([AE, "--config.model.code_dim=-4"], "positive integers"),
    "negative_steps": ([AE, "--config.total_steps=-5"], "config.total_steps must be positive"),
    "both_durations": ([AE, "--config.total_epochs=2"], "exactly one of config.total_steps"),
    "neither_duration": ([AE, "--config.total_steps=None"], "exactly one of config.total_steps"),
    "bad_choice": ([AE, "--config.loss.sparsity=l2"], "config.loss.sparsity='l2'"),
    "impossible_shape": (["--config=configs/conv_dae_mnist.py:runlocal",
                          "--config.model.features=(8,8,8)"], "not divisible by 8"),
    "batch_larger_than_data": ([AE, "--config.batch_size=5000"],
                               "exceeds the 1024 training examples"),
    "unexpected_argument": ([AE, "stray"], "unexpected arguments: stray"),
    "no_workdir": ([AE], "--workdir must have a value"),
    "misspelt_evaluator_option": ([AE, "--config.evals.probe.num_step=3"],
                                  "did you mean 'evals.probe.num_steps'?"),
    "evaluator_the_model_cannot_feed": (
        ["--config=configs/infogan_mnist.py:runlocal", "--config.evals.codes.type=classifier_error"],
        "config.evals.codes (classifier_error) needs the model function(s) classify"),
    # Sample quality on a dataset without a shipped classifier: never a silent skip.
    "no_judge_for_samples": (["--config=configs/dcgan_mnist.py:runlocal",
                              "--config.data.name=binarized_mnist"],
                             "ships no evaluation classifier for binarized_mnist"),
}


def _unused_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.fixture(scope="module")
def battery(tmp_path_factory, ae_runlocal_run):
  """Runs every case; returns {name: (returncode, stdout, stderr, workdir)}."""
  root = tmp_path_factory.mktemp("battery")
  cases, workdirs = {}, {}
  for name, (args, _) in BATTERY.items():
    workdirs[name] = root / name
    extra = [] if name == "no_workdir" else [f"--workdir={workdirs[name]}"]
    cases[name] = (args + extra, None)
  # Two devices: a global batch of 33 cannot be split.
  workdirs["batch_not_divisible"] = root / "batch_not_divisible"
  cases["batch_not_divisible"] = (
      [AE, "--config.batch_size=33", f"--workdir={workdirs['batch_not_divisible']}"],
      {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"})
  # A workdir below a regular file cannot be created.
  (root / "a_file").write_text("")
  workdirs["unwritable_workdir"] = root / "a_file" / "run"
  cases["unwritable_workdir"] = ([AE, f"--workdir={workdirs['unwritable_workdir']}"], None)
  # A trained workdir re-run with a different model.
  changed = root / "changed_model"
  shutil.copytree(ae_runlocal_run[0], changed)
  workdirs["changed_model"] = changed
  cases["changed_model"] = ([AE, "--config.model.code_dim=7", f"--workdir={changed}"], None)
  # A dataset that is not prepared, with the network unreachable and
  # config.data.download left at its default (True).
  empty = root / "empty_tfds"
  empty.mkdir()
  proxy = f"http://127.0.0.1:{_unused_port()}"
  workdirs["offline_missing_dataset"] = root / "offline"
  cases["offline_missing_dataset"] = (
      [AE, f"--workdir={workdirs['offline_missing_dataset']}"],
      {"TFDS_DATA_DIR": str(empty), "HTTPS_PROXY": proxy, "https_proxy": proxy,
       "HTTP_PROXY": proxy, "http_proxy": proxy})
  snapshot = _snapshot(changed)
  # Offline, TFDS used to retry for 3.5 minutes; the limit is far above the
  # seconds each case takes alone, and leaves room for a loaded machine.
  results = run_launchers(cases, timeout=120)
  return {name: (*results[name], workdirs.get(name)) for name in results}, snapshot


EXTRA = {
    "batch_not_divisible": "config.batch_size=33 is not divisible by the 2 devices",
    "unwritable_workdir": "is not a directory",
    "changed_model": ("was written by a different model: params/decoder_0/kernel has shape "
                      "(8, 32) (float32), the config gives (7, 32) (float32); use a new --workdir"),
    "offline_missing_dataset": "dataset 'mnist' is not prepared in",
}


def _snapshot(directory: pathlib.Path) -> dict:
  return {str(p.relative_to(directory)): (p.stat().st_mtime_ns, p.stat().st_size)
          for p in directory.rglob("*")}


@pytest.mark.parametrize("name", sorted(BATTERY) + sorted(EXTRA))
def test_bad_input_gives_one_error_line(battery, name):
  results, snapshot = battery
  returncode, stdout, stderr, workdir = results[name]
  expected = BATTERY[name][1] if name in BATTERY else EXTRA[name]
  output = stdout + stderr
  errors = [line for line in output.splitlines() if line.startswith("genjax: error: ")]
  assert returncode == 1, output[-2000:]
  assert len(errors) == 1, output[-2000:]
  assert expected in errors[0], errors[0]
  assert "Traceback" not in output
  assert stderr.rstrip().splitlines()[-1] == errors[0]  # the last thing printed
  # Only the error and absl's INFO/WARNING log lines: no wall of text.
  other = [l for l in output.splitlines()
           if l.strip() and not l.startswith("genjax: error: ") and not re.match(r"[IWE]\d{4} ", l)]
  assert not other, other[:5]
  if name == "changed_model":
    assert _snapshot(workdir) == snapshot  # config.json, metrics, checkpoints untouched
  elif workdir is not None:
    assert not os.path.exists(workdir)


def test_offline_missing_dataset_names_the_data_dir_and_the_fix(battery):
  results, _ = battery
  error = [l for l in results["offline_missing_dataset"][2].splitlines()
           if l.startswith("genjax: error: ")][0]
  assert "empty_tfds" in error and "cannot be reached" in error
  assert "TFDS_DATA_DIR=DIR" in error
