"""Evaluators chosen in `config.evals`: when they run, where their metrics go,
and one clear error for a spec that cannot work (genjax/evaluation/registry.py)."""

from __future__ import annotations

import ast
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from genjax import methods, train, writers
from genjax.config import ConfigDict
from genjax.errors import ConfigError
from genjax.evaluation import registry
from conftest import load_config, requires_mnist

REPO = pathlib.Path(__file__).resolve().parents[1]
AE_INFO = methods.DataInfo(image_shape=(28, 28, 1), num_classes=10, num_train=1024)


def _with_evals(**specs) -> ConfigDict:
  config = load_config("ae_mnist", "runlocal", evals=specs)
  return methods.with_defaults(config)


def test_due_follows_with_evals_every_and_enabled():
  config = _with_evals(end=dict(type="linear_probe"),
                       each=dict(type="jacobian_norm", with_evals=True),
                       ten=dict(type="jacobian_norm", every=10),
                       off=dict(type="jacobian_norm", with_evals=True, enabled=False))
  assert registry.due(config, 20, 40, at_eval=True) == ["each", "ten"]
  assert registry.due(config, 20, 25, at_eval=False) == []
  assert registry.due(config, 25, 30, at_eval=False) == ["ten"]
  assert registry.due(config, 40, 40, at_eval=True, final=True) == ["each", "end", "ten"]


def test_type_options_fill_in_and_a_config_without_evals_gets_its_methods():
  config = _with_evals(probe=dict(type="linear_probe", sizes=(5,)))
  assert config.evals.probe.sizes == (5,) and config.evals.probe.num_steps == 200
  assert config.evals.probe.every == 0 and not config.evals.probe.with_evals
  assert sorted(config.evals) == ["probe"]  # the config's list, not the method's
  bare = load_config("ae_mnist", "runlocal")
  with bare.unlocked():
    del bare["evals"]
  assert sorted(methods.with_defaults(bare).evals) == ["jacobian", "probe"]


@pytest.mark.parametrize("specs,supports,message", [
    (dict(p=dict(type="linear_prob")), None, "is not an evaluator; valid: active_units"),
    (dict(p=dict(type="linear_probe", sizs=(100,))), None, "did you mean 'sizes'?"),
    (dict(p=dict(type="linear_probe", every=-5)), None, "config.evals.p.every must be"),
    (dict(p="jacrev"), None, "config.evals.p must be a dict with a 'type'"),
    (dict(p=dict(type="linear_probe")), ("sample", "discriminate"),
     "config.evals.p (linear_probe) needs the model function(s) encode"),
    (dict(d=dict(type="denoising_psnr")), ("encode", "decode", "reconstruct"),
     "config.evals.d: a denoising_psnr evaluator corrupts test images"),
    (dict(m=dict(type="latent_plane")), ("encode", "decode"), "needs a 2-D latent"),
    (dict(t=dict(type="toy_modes")), ("sample",), "a toy_modes evaluator needs a toy dataset"),
    (dict(j=dict(type="jacobian_norm", mode="hutchinson")), ("encode",),
     "mode must be one of jacrev, jacfwd"),
])
def test_a_spec_that_cannot_work_is_one_config_error(specs, supports, message):
  config = _with_evals(**specs)
  with pytest.raises(ConfigError) as e:
    registry.validate(config, supports, AE_INFO)
  assert message in str(e.value)


def test_disabled_evaluators_are_not_checked_against_the_model():
  config = _with_evals(q=dict(type="sample_quality", enabled=False))
  registry.validate(config, ("encode", "decode", "reconstruct"), AE_INFO)


@requires_mnist
def test_periodic_and_final_evaluators_write_their_rows(tmp_path):
  config = load_config("ae_mnist", "runlocal", eval_at_start=True, evals=dict(
      probe=dict(type="linear_probe", sizes=(100,), num_steps=5),
      jacobian=dict(type="jacobian_norm", with_evals=True, examples=8),
      often=dict(type="active_units", every=10)))
  final = train.train_and_evaluate(config, str(tmp_path))
  rows = writers.read_metrics(str(tmp_path), "eval")
  # eval_every_steps 20 of 40 steps (runlocal); `often` every 10 steps.
  assert [r["step"] for r in rows] == [0, 10, 20, 30, 40]
  assert [("jacobian_frobenius" in r, "active_units" in r, "recon_loss" in r) for r in rows] == [
      (True, False, True), (False, True, False), (True, True, True), (False, True, False),
      (True, True, True)]
  saved = json.loads((tmp_path / "final_metrics.json").read_text())
  assert set(saved["final"]) == {"probe_codes_acc_100", "probe_pixels_acc_100"}
  assert final["jacobian_frobenius"] == saved["eval"]["jacobian_frobenius"] > 0
  assert [r["step"] for r in writers.read_metrics(str(tmp_path), "final")] == [40]


@requires_mnist
@pytest.mark.parametrize("config_name,evals", [
    ("ae_mnist", dict(jacobian=dict(type="jacobian_norm", with_evals=True, examples=8),
                      units=dict(type="active_units", with_evals=True))),
    ("vae_mnist", dict(nll=dict(type="iwae_nll", samples=3, with_evals=True))),
    ("dcgan_mnist", dict(quality=dict(type="sample_quality", with_evals=True,
                                      num_samples=100, batch_size=50))),
])
def test_periodic_evaluators_trace_once_per_run(tmp_path, monkeypatch, config_name, evals):
  """The model's weights reach a periodic evaluator as arguments: its
  programs are traced at the run's first evaluation and reused by the
  others, not traced and compiled again with each evaluation's weights."""
  import jax
  traces_per_call, original = [], registry.run

  def counting(names, ctx_for):
    traces = []
    listener = lambda event, duration, **kw: traces.append(  # noqa: E731
        kw.get("fun_name")) if event.endswith("jaxpr_trace_duration") else None
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
      return original(names, ctx_for)
    finally:
      jax.monitoring.unregister_event_duration_listener(listener)
      traces_per_call.append(traces)

  monkeypatch.setattr(registry, "run", counting)
  config = load_config(config_name, "runlocal", total_steps=30, eval_every_steps=10,
                       checkpoint_every_steps=30, evals=evals)
  train.train_and_evaluate(config, str(tmp_path))
  assert len(traces_per_call) == 3  # steps 10, 20, 30
  assert traces_per_call[0] and traces_per_call[1:] == [[], []], traces_per_call


TWO_DEVICE_SCRIPT = r"""
import json, sys
sys.path.insert(0, "tests")
import jax
from conftest import load_config
from genjax import train
out = {"devices": jax.device_count()}
for name, evals in (
    ("dcgan_mnist", dict(quality=dict(type="sample_quality", with_evals=True,
                                      num_samples=100, batch_size=50))),
    ("vae_mnist", dict(nll=dict(type="iwae_nll", samples=3, with_evals=True),
                       units=dict(type="active_units", with_evals=True)))):
  config = load_config(name, "runlocal", total_steps=10, eval_every_steps=10,
                       checkpoint_every_steps=10, evals=evals)
  out[name] = train.train_and_evaluate(config, f"{sys.argv[1]}/{name}")
print(json.dumps(out))
"""


@requires_mnist
def test_evaluators_run_with_the_data_on_several_devices(tmp_path):
  """The dataset's splits live on every device of the mesh, a model's state on
  the first: evaluators that take the state as an argument bring the data to it."""
  flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=2"
  proc = subprocess.run([sys.executable, "-c", TWO_DEVICE_SCRIPT, str(tmp_path)], cwd=REPO,
                        env={**os.environ, "XLA_FLAGS": flags.strip()}, capture_output=True,
                        text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = json.loads(proc.stdout.strip().splitlines()[-1])
  assert out["devices"] == 2
  values = [out["dcgan_mnist"]["fd"], out["vae_mnist"]["nll"], out["vae_mnist"]["active_units"]]
  assert all(np.isfinite(values)), values


@requires_mnist
def test_the_optimal_discriminator_evaluator_runs_from_the_config(tmp_path):
  config = load_config("gan_toy", "runlocal,dist=mog1d",
                       **{"evals.optimal_discriminator.enabled": True})
  train.train_and_evaluate(config, str(tmp_path))
  extras = json.loads((tmp_path / "final_metrics.json").read_text())["final"]
  assert 0 <= extras["od_mean_gap"] <= extras["od_max_gap"] <= 1
  assert np.isfinite(extras["od_jsd_from_d"]) and extras["num_modes"] == 3
  assert (tmp_path / "figures" / "optimal_discriminator.png").stat().st_size > 1000


def _imports(path: pathlib.Path) -> set[str]:
  """Module-level names a file imports from genjax.methods (or its submodules)."""
  names = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("genjax.methods"):
      names |= {f"{node.module}.{a.name}" for a in node.names}
    elif isinstance(node, ast.Import):
      names |= {a.name for a in node.names if a.name.startswith("genjax.methods")}
  return names


def test_evaluators_use_no_method_internals():
  """An evaluator reads the model's public functions: it imports nothing from
  genjax.methods but the pure loss functions of autoencoder_losses."""
  allowed = {"genjax.methods.autoencoder_losses.squared_jacobian_norm"}
  for path in sorted((REPO / "genjax" / "evaluation").glob("*.py")):
    assert _imports(path) <= allowed, path.name
