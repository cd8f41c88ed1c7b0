"""The training spine end to end on tiny `runlocal` configs over real MNIST."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest

from genjax import methods, train, writers
from genjax.errors import ConfigError, DataError, NonFiniteError
from genjax.methods import autoencoder
from conftest import REPO, load_config, requires_mnist, run_launcher

pytestmark = requires_mnist


def load_params(workdir, step=None):
  """The params pytree of a run's checkpoint (latest by default), as numpy."""
  ckpt_dir = pathlib.Path(workdir) / "checkpoints"
  if step is None:
    step = max(int(p.name) for p in ckpt_dir.iterdir() if p.name.isdigit())
  checkpointer = ocp.StandardCheckpointer()
  path = ckpt_dir / str(step) / "default"
  # Restore onto this process's first device, whatever mesh wrote it.
  device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  abstract = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=device),
                          checkpointer.metadata(path).item_metadata)
  tree = checkpointer.restore(path, abstract)
  return step, jax.tree.map(np.asarray, tree["params"])


def assert_trees_equal(a, b):
  jax.tree.map(np.testing.assert_array_equal, a, b)


@pytest.fixture
def smoke_run(ae_runlocal_run):
  return ae_runlocal_run  # the session's trained ae_mnist:runlocal (read only)


def test_runlocal_trains_and_writes_everything(smoke_run):
  workdir, final = smoke_run
  rows = writers.read_metrics(str(workdir), "train")
  assert [r["step"] for r in rows] == [10, 20, 30, 40]
  assert rows[-1]["loss"] < 0.9 * rows[0]["loss"]
  evals = writers.read_metrics(str(workdir), "eval")
  assert [r["step"] for r in evals] == [20, 40]
  assert evals[-1]["recon_loss"] < evals[0]["recon_loss"]
  assert final["recon_loss"] == pytest.approx(evals[-1]["recon_loss"])
  assert rows[-1]["examples_per_sec"] > 0
  for name in ("config.json", "final_metrics.json"):
    assert (workdir / name).is_file()
  assert json.loads((workdir / "config.json").read_text())["method"] == "autoencoder"
  pngs = sorted(p.name for p in (workdir / "images").iterdir())
  assert pngs == ["reconstructions_00000020.png", "reconstructions_00000040.png"]
  assert list((workdir / "tensorboard").iterdir())


def test_one_compilation_for_the_whole_run(smoke_run):
  workdir, _ = smoke_run
  # 40 steps in chunks of 10: the scanned chunk is traced once, never again.
  assert json.loads((workdir / "final_metrics.json").read_text())["compilations"] == 1


def test_finished_run_relaunched_does_not_train_again(smoke_run):
  workdir, final = smoke_run
  before = (workdir / "metrics.jsonl").read_text()
  again = train.train_and_evaluate(load_config("ae_mnist", "runlocal"), str(workdir))
  assert again == final
  assert (workdir / "metrics.jsonl").read_text() == before


def test_resume_equals_uninterrupted(smoke_run, tmp_path):
  workdir, _ = smoke_run
  _, full = load_params(workdir, 40)
  # Stop after 20 steps (as a crash after the step-20 checkpoint would), then
  # resume to 40 in the same workdir.
  train.train_and_evaluate(load_config("ae_mnist", "runlocal", total_steps=20), str(tmp_path))
  resumed_final = train.train_and_evaluate(load_config("ae_mnist", "runlocal"), str(tmp_path))
  _, resumed = load_params(tmp_path, 40)
  assert_trees_equal(full, resumed)
  assert [r["step"] for r in writers.read_metrics(str(tmp_path), "train")] == [10, 20, 30, 40]
  assert resumed_final == json.loads((workdir / "final_metrics.json").read_text())["eval"]


def _wait_for(path: pathlib.Path, proc: subprocess.Popen, timeout: float = 120) -> None:
  end = time.time() + timeout
  while not path.exists():
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    assert time.time() < end, f"timed out waiting for {path}"
    time.sleep(0.02)


# 3000 steps so that each signal lands well between checkpoints, of batch 8
# (cheap steps); no final linear probes and no Jacobian eval (they are not
# what this test compares).
KILL_ARGS = ["--config=configs/ae_mnist.py:runlocal", "--config.total_steps=3000",
             "--config.batch_size=8",
             "--config.checkpoint_every_steps=500", "--config.eval_every_steps=1000000",
             "--config.log_every_steps=500", "--config.evals.probe.enabled=False",
             "--config.evals.jacobian.enabled=False"]


def _launch(workdir):
  return subprocess.Popen(
      [sys.executable, "-m", "genjax.main", *KILL_ARGS, f"--workdir={workdir}"],
      cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_sigkill_then_sigterm_then_resume_equals_uninterrupted(tmp_path):
  killed = tmp_path / "killed"
  proc = _launch(killed)
  _wait_for(killed / "checkpoints" / "500", proc)
  proc.kill()  # SIGKILL: no handler runs
  proc.communicate()
  assert not (killed / "final_metrics.json").exists(), "run finished before the kill"

  proc = _launch(killed)
  _wait_for(killed / "checkpoints" / "1000", proc)
  proc.send_signal(signal.SIGTERM)
  _, err = proc.communicate(timeout=120)
  assert proc.returncode == 0, err[-3000:]
  assert "stopped by SIGTERM" in err
  assert not (killed / "final_metrics.json").exists(), "run finished before SIGTERM"
  stopped_at, _ = load_params(killed)
  assert stopped_at >= 1000

  result = run_launcher(*KILL_ARGS, f"--workdir={killed}")
  assert result.returncode == 0, result.stderr[-3000:]
  assert f"resumed from the checkpoint at step {stopped_at}" in result.stderr

  overrides = {"total_steps": 3000, "batch_size": 8, "checkpoint_every_steps": 500,
               "eval_every_steps": 1000000, "log_every_steps": 500, "evals": {}}
  straight = tmp_path / "straight"
  final = train.train_and_evaluate(load_config("ae_mnist", "runlocal", **overrides), str(straight))
  assert_trees_equal(load_params(straight, 3000)[1], load_params(killed, 3000)[1])
  killed_final = json.loads((killed / "final_metrics.json").read_text())["eval"]
  assert killed_final == final
  # The resumed log reads as one run: each step once, in order (plus the
  # SIGTERM stop step, logged when it saved).
  steps = [r["step"] for r in writers.read_metrics(str(killed), "train")]
  assert steps == sorted(set(steps))
  assert set(range(500, 3001, 500)) <= set(steps) <= set(range(500, 3001, 500)) | {stopped_at}


def test_at_most_two_chunks_are_in_flight(tmp_path, monkeypatch):
  # So that a SIGTERM is acted on within about a chunk: when chunk i is
  # dispatched, every chunk before i - 1 has finished.
  dispatched, late = [], []
  original = train.Trainer.train_chunk

  def recording(self, *args, **kwargs):
    late.extend(i for i, m in enumerate(dispatched[:-1])
                if not all(leaf.is_ready() for leaf in jax.tree.leaves(m)))
    state, metrics = original(self, *args, **kwargs)
    dispatched.append(metrics)
    return state, metrics

  monkeypatch.setattr(train.Trainer, "train_chunk", recording)
  train.train_and_evaluate(load_config("ae_mnist", "runlocal", total_steps=150,
                                       steps_per_dispatch=5, log_every_steps=150,
                                       evals={}), str(tmp_path))
  assert len(dispatched) == 30 and not late, late


@methods.register("test_nan_after_25")
def _build_nan_method(config, *, data_info, num_train_steps):
  """The autoencoder, with its loss turned to NaN from step 26 on."""
  inner = autoencoder.build(config, data_info=data_info, num_train_steps=num_train_steps)

  def init(rng, batch):
    return {"inner": inner.init(rng, batch), "t": jnp.int32(0)}

  def train_step(state, batch, rng):
    inner_state, metrics = inner.train_step(state["inner"], batch, rng)
    t = state["t"] + 1
    metrics["loss"] = jnp.where(t > 25, jnp.nan, metrics["loss"])
    return {"inner": inner_state, "t": t}, metrics

  return methods.Method(init=init, train_step=train_step,
                        eval_step=lambda s, b, r: inner.eval_step(s["inner"], b, r))


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
  config = load_config("ae_mnist", "runlocal", method="test_nan_after_25", evals={})
  with pytest.raises(NonFiniteError, match=r"'loss' .* at step 26"):
    train.train_and_evaluate(config, str(tmp_path))
  steps = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit())
  assert steps == [20]
  assert not (tmp_path / "final_metrics.json").exists()


@pytest.mark.parametrize("overrides,error,match", [
    ({"method": "autoencodr"}, ConfigError, "unknown method 'autoencodr'.*autoencoder"),
    ({"data.name": "mnist_typo"}, DataError, "unknown TFDS dataset 'mnist_typo'"),
    ({"model.code_dim": -4}, ConfigError, "positive integers"),
    ({"model.hidden": (32, 0)}, ConfigError, "positive integers"),
    ({"loss.reconstruction": "bce", "model.output_activation": "linear"}, ConfigError, "sigmoid"),
    ({"batch_size": 5000}, ConfigError, "exceeds the 1024 training examples"),
])
def test_bad_input_is_a_clear_error(tmp_path, overrides, error, match):
  with pytest.raises(error, match=match):
    train.train_and_evaluate(load_config("ae_mnist", "runlocal", **overrides), str(tmp_path))
  assert not (tmp_path / "checkpoints").exists() or not list((tmp_path / "checkpoints").iterdir())


DEVICE_SCRIPT = r"""
import json, sys
sys.path.insert(0, "tests")
import jax, jax.numpy as jnp, numpy as np
from conftest import load_config
from genjax import train
config = load_config("ae_mnist", "runlocal")
trainer, total = train.build(config)
rng = jax.random.key(0)
ds = trainer.dataset
state = trainer.init_state(rng)
losses = []
for start in (0, 10, 20):
  state, m = trainer.train_chunk(state, ds.train, jnp.int32(start), rng, num_steps=10)
  losses += np.asarray(m["loss"]).tolist()
kernel = state.params["encoder_0"]["kernel"]
ev = trainer.evaluate(state, ds.eval, rng)
print(json.dumps({"devices": jax.device_count(), "losses": losses,
                  "replicated": kernel.sharding.is_fully_replicated,
                  "eval": float(ev["recon_loss"]),
                  "kernel_sum": float(jnp.abs(kernel).sum())}))
"""


def test_one_and_eight_devices_agree():
  out, procs = {}, {}
  for n in (1, 8):  # both at once: the test waits for the slower only
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={n}"}
    procs[n] = subprocess.Popen([sys.executable, "-c", DEVICE_SCRIPT], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  for n, proc in procs.items():
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    out[n] = json.loads(stdout.strip().splitlines()[-1])
  assert out[1]["devices"] == 1 and out[8]["devices"] == 8
  assert out[8]["replicated"]
  np.testing.assert_allclose(out[8]["losses"], out[1]["losses"], rtol=2e-5)
  np.testing.assert_allclose(out[8]["eval"], out[1]["eval"], rtol=2e-5)
  np.testing.assert_allclose(out[8]["kernel_sum"], out[1]["kernel_sum"], rtol=2e-5)


def test_eval_at_start_logs_the_untrained_state_once(tmp_path):
  # A stale step-0 row from a killed attempt (no checkpoint) is dropped, not kept beside the new one.
  (tmp_path / "metrics.jsonl").write_text('{"step": 0, "split": "eval", "loss": -1.0}\n')
  config = load_config("ae_mnist", "runlocal", total_steps=20, eval_at_start=True,
                       **{"evals": {}})
  final = train.train_and_evaluate(config, str(tmp_path))
  rows = writers.read_metrics(str(tmp_path), "eval")
  assert [r["step"] for r in rows] == [0, 20]
  assert rows[0]["loss"] > final["loss"] > 0  # 20 steps of training lower the test loss


def test_chunk_permutations_are_each_epochs_order():
  from genjax import data as data_lib
  trainer, _ = train.build(load_config("ae_mnist", "runlocal"))
  spe = trainer.dataset.steps_per_epoch(trainer.config.batch_size)
  n = trainer.dataset.num_train
  rng = jax.random.key(3)
  # A chunk starting mid-epoch 1 and longer than an epoch spans epochs 1-3.
  start, steps = spe + 1, spe + 2
  perms = np.asarray(trainer.chunk_permutations(rng, start, steps))
  assert perms.shape == (3, n)
  for row, epoch in enumerate((1, 2, 3)):
    want = data_lib.epoch_permutation(jax.random.split(rng)[0], epoch, n)
    np.testing.assert_array_equal(perms[row], np.asarray(want))
  assert sorted(perms[0]) == list(range(n)) and not np.array_equal(perms[0], perms[1])
  # Another key gives other orders (not the cached ones of the first key).
  other = np.asarray(trainer.chunk_permutations(jax.random.key(4), start, steps))
  assert not np.array_equal(other[0], perms[0])
  np.testing.assert_array_equal(
      other[0], np.asarray(data_lib.epoch_permutation(jax.random.split(jax.random.key(4))[0], 1, n)))


def test_a_chunk_computes_gradient_norms_at_its_last_step_only():
  trainer, _ = train.build(load_config("ae_mnist", "runlocal"))
  rng, split = jax.random.key(0), trainer.dataset.train
  n = train.SAMPLE_FROM_STEPS
  whole, full = trainer.train_chunk(trainer.init_state(rng), split, 0, rng, num_steps=n)
  state, first = trainer.train_chunk(trainer.init_state(rng), split, 0, rng, num_steps=n - 1)
  state, last = trainer.train_chunk(state, split, n - 1, rng, num_steps=1)
  assert full["loss"].shape == (n,) and full["grad_norm"].shape == (1,)
  # A shorter chunk computes the norm at every step.
  assert first["grad_norm"].shape == (n - 1,) and last["grad_norm"].shape == (1,)
  # Step n-1's norm, whether it ends an n-step chunk or is a chunk of its own.
  np.testing.assert_array_equal(full["grad_norm"], last["grad_norm"])
  np.testing.assert_array_equal(full["loss"], np.concatenate([first["loss"], last["loss"]]))
  # Steps that skip the norm change the state exactly as steps that compute it.
  assert_trees_equal(whole, state)
