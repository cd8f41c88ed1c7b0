"""genjax.xla_options: genjax's own jits keep XLA:CPU's convolutions out of YNNPACK."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax import train, xla_options
from conftest import load_config, requires_mnist


def _convolutions(hlo: str) -> tuple[int, int]:
  """(convolutions inside YNNPACK fusions, convolutions outside) of compiled HLO."""
  bodies = dict(re.findall(r"\n(%[\w.]+) [^\n]*\{\n(.*?)\n\}", hlo, flags=re.S))
  ynn = set(re.findall(r'kind=kCustom, calls=(%[\w.]+)[^\n]*"__ynn_fusion"', hlo))
  inside = sum(bodies[name].count(" convolution(") for name in ynn)
  return inside, hlo.count(" convolution(") - inside


@pytest.fixture
def xla_defaults():
  """genjax's jits built inside the test compile with XLA's defaults."""
  with xla_options.enabled(False):
    yield


def _dcgan_step_hlo() -> str:
  trainer, _ = train.build(load_config("dcgan_mnist", "runlocal"))
  rng = jax.random.key(0)
  state = jax.eval_shape(trainer.init_state, rng)  # the init jit nested: no options there
  indices = jnp.zeros((trainer.config.batch_size,), jnp.int32)
  return trainer.train_step.lower(state, trainer.dataset.train, indices, rng).compile().as_text()


@requires_mnist
def test_the_dcgan_step_runs_xla_convolutions_on_cpu():
  inside, outside = _convolutions(_dcgan_step_hlo())
  assert inside == 0 and outside >= 6  # D and G's forward, input and kernel gradients


@requires_mnist
def test_without_the_options_xla_hands_convolutions_to_ynnpack(xla_defaults):
  inside, _ = _convolutions(_dcgan_step_hlo())
  assert inside > 0  # what the options change; fails if XLA's default stops doing it


def _conv(x, w):
  return jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                      dimension_numbers=("NHWC", "HWIO", "NHWC"))


def test_a_jit_called_inside_another_trace_runs_without_options():
  f = xla_options.jit(_conv)
  x, w = jnp.ones((2, 5, 5, 3)), jnp.ones((3, 3, 3, 4))
  direct = f(x, w)
  np.testing.assert_array_equal(jax.jit(lambda x: f(x, w))(x), direct)
  assert jax.eval_shape(f, x, w).shape == (2, 5, 5, 4)
  assert jax.vmap(f, in_axes=(0, None))(x[:, None], w).shape == (2, 1, 5, 5, 4)


def test_an_xla_flags_setting_of_your_own_wins(monkeypatch):
  assert xla_options.compiler_options() == xla_options.CPU_OPTIONS
  monkeypatch.setenv("XLA_FLAGS", f"--{xla_options.YNN_FLAG}=")
  assert xla_options.compiler_options() is None


def test_enabled_restores_the_setting_after_its_block():
  with pytest.raises(RuntimeError):
    with xla_options.enabled(False):
      assert xla_options.compiler_options() is None
      raise RuntimeError("the block fails")
  assert xla_options.compiler_options() == xla_options.CPU_OPTIONS
