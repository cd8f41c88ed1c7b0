"""scripts/reference.py's --serve protocol, which scripts/benchmark.py drives
(the frameworks themselves live in another environment and are not tested
here), its matmuls bound (JAX only), and benchmark.py's one-line errors."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

from conftest import REPO, equations, load_config


def _reference_module():
  spec = importlib.util.spec_from_file_location("reference", REPO / "scripts" / "reference.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)  # imports neither torch nor keras
  return module


def test_serve_answers_one_timed_round_per_request(monkeypatch, capsys):
  asked = []

  def run_steps(n):
    asked.append(n)
    return 100.0 * n

  monkeypatch.setattr(sys, "stdin", io.StringIO("30\n\n300\n"))
  _reference_module()._serve(run_steps, "torch 0.0")
  lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
  assert lines == [{"ready": "torch 0.0"}, {"examples_per_sec": 3000.0},
                   {"examples_per_sec": 30000.0}]
  assert asked == [30, 300]  # blank lines are not requests


def test_benchmark_names_a_misspelt_key_in_one_line():
  proc = subprocess.run(
      [sys.executable, "scripts/benchmark.py", "--config=configs/ae_mnist.py:runlocal",
       "--config.optimizer.lrr=1"], cwd=REPO, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 1 and proc.stdout == ""
  assert proc.stderr.strip().splitlines() == [
      "genjax: error: unknown config key 'optimizer.lrr'; did you mean 'optimizer.lr'?"]


def test_reference_without_its_framework_says_so_in_one_line():
  # `import torch` fails (as in genjax's own environment, whatever is installed).
  code = ("import runpy, sys; sys.modules['torch'] = None; "
          "sys.argv = ['reference.py', '--framework=pytorch']; "
          "runpy.run_path('scripts/reference.py', run_name='__main__')")
  proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
  assert proc.returncode == 1
  assert proc.stderr.startswith("reference: error: ") and len(proc.stderr.splitlines()) == 1


def _dot_flops(fn, *args) -> int:
  """2 * M * N * K summed over every matrix product fn traces."""
  total = 0
  for eqn in equations(jax.make_jaxpr(fn)(*args).jaxpr, "dot_general"):
    (lhs_contracting, _), _ = eqn.params["dimension_numbers"]
    lhs = eqn.invars[0].aval.shape
    total += 2 * math.prod(eqn.outvars[0].aval.shape) * math.prod(
        lhs[i] for i in lhs_contracting)
  return total


def test_matmuls_bound_does_the_vae_steps_matrix_products():
  # A bound only if it multiplies what genjax's vae_mnist step multiplies
  # (batch 128: forward, input and weight gradients), no less.
  from genjax import methods
  method = methods.build(load_config("vae_mnist"), num_train_steps=10,
                         data_info=methods.DataInfo((28, 28, 1), 10, 1024))
  batch = {"image": jnp.zeros((128, 28, 28, 1)), "label": jnp.zeros(128, jnp.int32),
           "mask": jnp.ones(128)}
  state = jax.jit(method.init)(jax.random.key(0), batch)
  genjax_flops = _dot_flops(method.train_step, state, batch, jax.random.key(1))
  ref = _reference_module()
  weights = [jnp.ones(shape) for shape in ref.VAE_MATMULS]
  bound_flops = _dot_flops(jax.grad(ref.matmuls_loss), weights, jnp.ones((128, 784)))
  assert bound_flops == genjax_flops == 524_800_000


@pytest.mark.parametrize("adam", [False, True])
def test_matmuls_bound_steps_descend(adam):
  ref = _reference_module()
  keys = jax.random.split(jax.random.key(0), len(ref.VAE_MATMULS))
  weights = [jax.random.normal(k, s) / s[0] ** 0.5 for k, s in zip(keys, ref.VAE_MATMULS)]
  data = jax.random.uniform(jax.random.key(1), (64, 784))
  steps, init = ref.matmuls_steps(batch_size=64, adam=adam)
  before = ref.matmuls_loss(weights, data)
  state = steps(init(weights), data, jnp.zeros(5, jnp.int32))  # 5 steps on one batch
  assert ref.matmuls_loss(state[0], data) < before
