"""The public model API: `genjax.load(workdir)` and `python -m genjax.sample`.

Tiny runlocal runs (an AE, a VAE and a conditional DCGAN, each trained with a
command-line-style override so config.json must carry it) are loaded back
from their workdirs and compared with the state `train.train` left in memory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest

import genjax
from genjax import sample as sample_lib
from genjax import train
from genjax.errors import UserError

from conftest import REPO, load_config, requires_mnist

pytestmark = requires_mnist


def _train(tmp_path_factory, name, arg, **overrides):
  workdir = tmp_path_factory.mktemp(name)
  run = train.train(load_config(name, arg, **overrides), str(workdir))
  return workdir, run


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
  # code_dim 5 (runlocal: 8); no probes, Jacobian eval or image grids (time only).
  return _train(tmp_path_factory, "ae_mnist", "runlocal",
                **{"model.code_dim": 5, "evals": {},
                   "num_image_examples": 0})


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
  return _train(tmp_path_factory, "vae_mnist", "runlocal",
                **{"model.latent_dim": 3, "total_steps": 20, "evals": {},
                   "num_image_examples": 0})


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
  # G's EMA on, so samples must come from the EMA weights and BN running stats.
  return _train(tmp_path_factory, "cgan_mnist", "runlocal",
                **{"model.latent_dim": 6, "gan.ema_decay": 0.9, "num_image_examples": 0})


@pytest.fixture
def no_data(monkeypatch, tmp_path):
  """TFDS pointed at an empty directory: loading must not need the data."""
  empty = tmp_path / "empty_tfds"
  empty.mkdir()
  monkeypatch.setenv("TFDS_DATA_DIR", str(empty))
  return empty


def _reference(run, name, static=()):
  """Model function `name` of the training-time method, jitted, for `run.state`."""
  return jax.jit(run.trainer.method.model_fns[name], static_argnums=static)


def _test_images(run, n=16):
  ds = run.trainer.dataset
  return np.asarray(ds.eval_batch(ds.eval, 0, n)["image"])


def test_autoencoder_load_matches_training_state(ae_run, no_data):
  workdir, run = ae_run
  m = genjax.load(workdir)
  assert m.step == run.step == 40
  assert m.config.model.code_dim == 5 and m.config.model.hidden == (32,)
  assert m.supports == ("encode", "decode", "reconstruct")
  x = _test_images(run)
  h = m.encode(x)
  assert h.shape == (16, 5)
  np.testing.assert_allclose(h, _reference(run, "encode")(run.state, x), rtol=1e-5, atol=1e-6)
  r = m.reconstruct(x)
  np.testing.assert_allclose(r, _reference(run, "reconstruct")(run.state, x),
                             rtol=1e-5, atol=1e-6)
  # decode(encode(x)) is reconstruct(x); the reconstruction error is the
  # trainer's own eval mse (per pixel), computed without the model functions.
  np.testing.assert_allclose(m.decode(h), r, rtol=1e-5, atol=1e-6)
  assert r.dtype == np.float32 and r.min() >= 0 and r.max() <= 1
  mse = run.trainer.method.eval_step(run.state, {"image": x, "label": np.zeros(16, np.int32)},
                                     jax.random.key(0))["mse"]
  np.testing.assert_allclose(((r - x) ** 2).mean((1, 2, 3)), mse, rtol=1e-4, atol=1e-7)
  # uint8 input is the same images.
  x8 = (x * 255).round().astype(np.uint8)
  np.testing.assert_allclose(m.reconstruct(x8), m.reconstruct(x8 / 255.0), atol=1e-6)
  # An autoencoder cannot sample: a UserError naming what it supports.
  assert not hasattr(m, "sample")
  with pytest.raises(UserError, match=r"no sample\(\); it supports encode\(\), decode\(\)"):
    m.sample(4)
  with pytest.raises(UserError, match=r"shape \[N, 28, 28, 1\]"):
    m.encode(x[:, :20])


def test_vae_load_matches_training_state(vae_run, no_data):
  workdir, run = vae_run
  m = genjax.load(workdir)
  assert m.config.model.latent_dim == 3
  assert set(m.supports) == {"encode", "decode", "reconstruct", "sample", "log_likelihood",
                             "elbo"}
  x = _test_images(run)
  mean, log_var = m.encode(x)
  assert mean.shape == log_var.shape == (16, 3)
  np.testing.assert_allclose(m.reconstruct(x), _reference(run, "reconstruct")(run.state, x),
                             atol=1e-6)
  np.testing.assert_allclose(m.decode(mean), m.reconstruct(x), atol=1e-6)
  s = m.sample(8, seed=3)
  key = jax.random.fold_in(jax.random.key(3), 0)
  np.testing.assert_allclose(s, _reference(run, "sample", (2,))(run.state, key, 8), atol=1e-6)
  assert s.shape == (8, 28, 28, 1) and 0 <= s.min() and s.max() <= 1
  np.testing.assert_array_equal(m.sample(8, seed=3), s)
  assert np.abs(m.sample(8, seed=4) - s).max() > 1e-3
  # IWAE-k log-likelihood >= ELBO on average, both finite nats, deterministic per seed.
  ll = m.log_likelihood(x, k=20, seed=1)
  elbo = m.elbo(x, seed=1)
  assert ll.shape == elbo.shape == (16,) and np.isfinite(ll).all() and (ll < 0).all()
  assert ll.mean() > elbo.mean()
  np.testing.assert_array_equal(m.log_likelihood(x, k=20, seed=1), ll)
  key = jax.random.fold_in(jax.random.key(1), 0)
  np.testing.assert_allclose(
      ll, _reference(run, "log_likelihood", (3,))(run.state, x, key, 20), rtol=1e-5)
  with pytest.raises(UserError, match="no discriminate"):
    m.discriminate(x)


def test_cgan_load_samples_and_cli(cgan_run, no_data, tmp_path):
  workdir, run = cgan_run
  # The CLI (one subprocess, run while this process checks the API): its .npz
  # must hold Model.sample's images for the same seed.
  out, grid = tmp_path / "s.npz", tmp_path / "s.png"
  cli = subprocess.Popen(
      [sys.executable, "-m", "genjax.sample", f"--workdir={workdir}", "--num=8",
       f"--out={out}", f"--grid={grid}", "--seed=5", "--dtype=float32"],
      cwd=REPO, env={**os.environ, "TFDS_DATA_DIR": str(no_data)},
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  m = genjax.load(workdir)
  assert m.config.model.latent_dim == 6 and m.conditional and m.num_classes == 10
  assert m.supports == ("sample", "discriminate")
  labels = np.array([3, 1, 4, 1, 5, 9, 2, 6], np.int32)
  s = m.sample(8, seed=0, labels=labels)
  assert s.shape == (8, 28, 28, 1) and s.dtype == np.float32
  key = jax.random.fold_in(jax.random.key(0), 0)
  reference = _reference(run, "sample", (2,))
  np.testing.assert_allclose(s, reference(run.state, key, 8, labels), atol=1e-6)
  # The EMA weights, not the live G's: they differ after 20 steps at decay 0.9.
  live = run.state.replace(g_ema=run.state.g["params"])
  assert np.abs(s - np.asarray(reference(live, key, 8, labels))).max() > 1e-4
  np.testing.assert_array_equal(m.sample(8, seed=0, labels=labels), s)
  assert np.abs(m.sample(8, seed=1, labels=labels) - s).max() > 1e-3
  with pytest.raises(UserError, match=r"0\.\.9"):
    m.sample(2, labels=[0, 10])
  # Given latents: the seed no longer matters, each row depends on its own z only.
  z = np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32)
  from_z = m.sample(8, seed=0, labels=labels, z=z)
  np.testing.assert_array_equal(m.sample(8, seed=7, labels=labels, z=z), from_z)
  np.testing.assert_allclose(m.sample(2, labels=labels[2:4], z=z[2:4]), from_z[2:4], atol=1e-6)
  assert np.abs(from_z - s).max() > 1e-3
  with pytest.raises(UserError, match=r"\[8, 6\]"):
    m.sample(8, z=z[:, :5])
  # Sampling reads G's EMA weights only, so the model keeps no raw G weights,
  # and a saved copy samples the same.
  assert "params" not in m.state.g and "batch_stats" in m.state.g
  copy = genjax.load(m.save(tmp_path / "saved", dtype="float32"))
  np.testing.assert_array_equal(copy.sample(8, seed=0, labels=labels), s)
  d = m.discriminate(_test_images(run, 8), labels)
  assert d.shape == (8,) and ((d > 0) & (d < 1)).all()
  with pytest.raises(UserError, match="needs the labels"):
    m.discriminate(_test_images(run, 8))

  _, stderr = cli.communicate(timeout=120)
  assert cli.returncode == 0, stderr[-2000:]
  with np.load(out) as f:
    images, got_labels = f["images"], f["labels"]
  np.testing.assert_array_equal(got_labels, np.arange(8) % 10)
  np.testing.assert_allclose(images, m.sample(8, seed=5), atol=1e-6)
  assert grid.stat().st_size > 0


def test_load_errors(ae_run, tmp_path):
  with pytest.raises(UserError, match="does not exist"):
    genjax.load(tmp_path / "missing")
  with pytest.raises(UserError, match="no config.json"):
    genjax.load(tmp_path)
  workdir, _ = ae_run
  with pytest.raises(UserError, match=r"no checkpoint at step 7; it has .*40"):
    genjax.load(workdir, step=7)


def test_load_old_workdir_without_data_info(ae_run, tmp_path, monkeypatch):
  """Workdirs from before data_info.json: the shape comes from TFDS's metadata."""
  workdir, run = ae_run
  old = tmp_path / "old"
  shutil.copytree(workdir, old)
  (old / "data_info.json").unlink()
  m = genjax.load(old)
  assert m.image_shape == (28, 28, 1) and m.num_classes == 10
  x = _test_images(run, 4)
  np.testing.assert_allclose(m.reconstruct(x), genjax.load(workdir).reconstruct(x), atol=1e-6)
  monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "empty"))
  with pytest.raises(UserError, match="has no data_info.json .* not prepared"):
    genjax.load(old)


def test_sample_cli_error_is_one_line(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "genjax.sample", f"--workdir={tmp_path / 'nope'}",
       f"--out={tmp_path / 's.npz'}"],
      cwd=REPO, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines() == [
      f"genjax: error: no trained run at {tmp_path / 'nope'}: the directory does not exist"]


def test_sampling_a_model_that_cannot_is_one_line(ae_run, tmp_path):
  workdir, _ = ae_run
  with pytest.raises(UserError, match=r"^this autoencoder model cannot sample; it supports "
                     r"encode\(\), decode\(\), reconstruct\(\)$"):
    sample_lib.write_samples(genjax.load(workdir), 4, str(tmp_path / "s.npz"))


def test_trained_run_model_is_the_loaded_model(ae_run, no_data):
  """`train(...).model` needs no reload and equals `genjax.load`; `function`
  gives the pure JAX function (here differentiated)."""
  import jax.numpy as jnp
  workdir, run = ae_run
  x = _test_images(run, 8)
  loaded, in_memory = genjax.load(workdir), run.model
  assert in_memory.step == loaded.step and in_memory.supports == loaded.supports
  np.testing.assert_allclose(in_memory.encode(x), loaded.encode(x), rtol=1e-6, atol=1e-7)
  encode = in_memory.function("encode")
  np.testing.assert_allclose(jax.jit(encode)(jnp.asarray(x)), loaded.encode(x),
                             rtol=1e-5, atol=1e-6)
  # d h / d x of one image: [code_dim, H, W, C], and a linear-response check.
  jac = jax.jacfwd(lambda v: encode(v[None])[0])(jnp.asarray(x[0]))
  assert jac.shape == (5, 28, 28, 1)
  u = 1e-3 * jax.random.normal(jax.random.key(0), x[0].shape)
  moved = encode(jnp.asarray(x[:1]) + u)[0] - encode(jnp.asarray(x[:1]))[0]
  np.testing.assert_allclose(moved, jnp.tensordot(jac, u, 3), rtol=0.05, atol=1e-5)
  with pytest.raises(UserError, match=r"no sample\(\)"):
    in_memory.function("sample")


def test_loading_a_run_again_reuses_its_traced_functions(ae_run, no_data):
  """A second `load` of the same run (another checkpoint of a trajectory, the
  same run in a loop) neither traces nor compiles its functions again."""
  workdir, run = ae_run
  x = _test_images(run, 8)
  first = genjax.load(workdir).encode(x)
  traces = []

  def count(event, duration, **kwargs):
    del duration, kwargs
    if event.endswith(("jaxpr_trace_duration", "backend_compile_duration")):
      traces.append(event)

  jax.monitoring.register_event_duration_secs_listener(count)
  try:
    again = genjax.load(workdir).encode(x)
  finally:
    jax.monitoring.unregister_event_duration_listener(count)
  assert traces == []
  np.testing.assert_array_equal(again, first)


def test_training_outside_absl_prints_progress(tmp_path, capsys, monkeypatch):
  """Called as from a notebook (absl's flags unparsed: its INFO lines hidden),
  training prints its progress and a summary; grids also go to TensorBoard."""
  from genjax import writers
  monkeypatch.setattr(writers, "_under_absl_app", lambda: False)
  config = load_config("ae_mnist", "runlocal", **{
      "total_steps": 12, "steps_per_dispatch": 6, "log_every_steps": 6, "evals": {}, "num_image_examples": 4})
  train.train_and_evaluate(config, str(tmp_path))
  out = capsys.readouterr().out
  assert "step 6/12 (50.0%)" in out and "step 12/12 (100.0%)" in out, out
  assert "ex/s | ETA" in out.split("step 12/12")[1].splitlines()[0]
  assert "finished: step 12/12 in " in out and "recon_loss=" in out.split("finished")[1]
  events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
  assert events and b"images/reconstructions" in events[0].read_bytes()


def test_saved_model_loads_back_without_checkpoints(vae_run, no_data, tmp_path):
  """`Model.save` keeps only the model state: float32 gives identical
  outputs, float16 storage outputs within float16 rounding; a weights file
  that does not fit its config is one UserError."""
  import json
  workdir, run = vae_run
  m = genjax.load(workdir)
  x = _test_images(run, 8)
  exact = genjax.load(m.save(tmp_path / "f32"))
  assert exact.step == m.step and not (tmp_path / "f32" / "checkpoints").exists()
  np.testing.assert_array_equal(exact.sample(4, seed=2), m.sample(4, seed=2))
  np.testing.assert_array_equal(exact.log_likelihood(x, k=10), m.log_likelihood(x, k=10))
  half = genjax.load(m.save(tmp_path / "f16", dtype="float16"))
  assert {leaf.dtype for leaf in jax.tree.leaves(half.state)} == {np.dtype(np.float32)}
  np.testing.assert_allclose(half.reconstruct(x), m.reconstruct(x), atol=2e-2)
  assert np.abs(half.reconstruct(x) - m.reconstruct(x)).max() > 0  # really rounded
  # Only the model state is stored: no optimiser moments.
  with np.load(tmp_path / "f16" / "weights.npz") as f:
    assert f.files and all(k == "__step__" or k.startswith("['params']") for k in f.files)
  # A config that no longer fits the weights.
  cfg = json.loads((tmp_path / "f32" / "config.json").read_text())
  cfg["model"]["latent_dim"] = 4
  (tmp_path / "f32" / "config.json").write_text(json.dumps(cfg))
  with pytest.raises(UserError, match=r"does not match its config.json: .* is shape"):
    genjax.load(tmp_path / "f32")


def test_state_function_takes_the_state_as_an_argument(ae_run):
  _, run = ae_run
  m = run.model
  x = _test_images(run, 8)
  encode = m.state_function("encode")
  np.testing.assert_allclose(np.asarray(encode(m.state, x)), m.encode(x), rtol=1e-6)
  # The state is an argument: another state gives other codes (here the untrained one).
  assert not np.allclose(np.asarray(encode(run.initial_model.state, x)), m.encode(x))
  with pytest.raises(genjax.model.UnsupportedFunctionError):
    m.state_function("sample")


def test_initial_model_is_the_runs_step_zero(tmp_path):
  # With a learning rate of 1e-30 the parameters do not move (beyond 1e-29):
  # the trained model must equal the run's initial model leaf for leaf, and a
  # run of another seed starts from other parameters.
  cfg = load_config("ae_mnist", "runlocal", **{"evals": {}, "num_image_examples": 0,
                                               "optimizer.lr": 1e-30, "total_steps": 10})
  run = train.train(cfg, str(tmp_path / "a"))
  initial = run.initial_model
  assert initial.step == 0 and run.step == 10
  for a, b in zip(jax.tree.leaves(initial.state), jax.tree.leaves(run.model.state), strict=True):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-25)
  other = train.train(load_config("ae_mnist", "runlocal", **{
      "evals": {}, "num_image_examples": 0, "total_steps": 10, "seed": 1}), str(tmp_path / "b"))
  assert not all(np.array_equal(a, b) for a, b in zip(
      jax.tree.leaves(initial.state), jax.tree.leaves(other.initial_model.state)))


def test_checkpoints_from_before_the_typed_state_still_load(ae_run, no_data, tmp_path):
  # Until 2026-12-03 a state was a dict {"params": ..., "opt_state": ...}; a
  # TrainState's attributes have the same names, so such a checkpoint loads
  # (and a saved model's weights.npz keeps the dict-style names).
  from genjax.checkpointing import Checkpointer
  from genjax.methods import TrainState
  workdir, run = ae_run
  old = tmp_path / "old"
  old.mkdir()
  for name in ("config.json", "data_info.json"):
    shutil.copyfile(workdir / name, old / name)
  assert isinstance(run.state, TrainState)
  ckpt = Checkpointer(str(old / "checkpoints"), keep=1)
  ckpt.save(run.step, {"params": run.state.params, "opt_state": run.state.opt_state})
  ckpt.close()
  m = genjax.load(old)
  assert isinstance(m.state, TrainState) and m.state.opt_state is None
  x = _test_images(run)
  np.testing.assert_array_equal(m.reconstruct(x), genjax.load(workdir).reconstruct(x))
  with np.load(m.save(tmp_path / "saved") + "/weights.npz") as f:
    assert "['params']['encoder_0']['kernel']" in f.files
