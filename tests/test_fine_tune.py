"""genjax.evaluation.fine_tune: an encoder and a softmax head trained together."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from genjax.evaluation import fine_tune


def _encode(state, x):
  """A one-layer encoder; `state["unused"]` stands for a decoder."""
  return jnp.tanh(x @ state["w"])


def _data(n, seed):
  # Classes 0-3 by the quadrant of the first two of eight inputs.
  x = np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
  y = (x[:, 0] > 0).astype(np.int32) * 2 + (x[:, 1] > 0)
  return x, y


def _state(w):
  return {"w": jnp.asarray(w, jnp.float32), "unused": jnp.ones(3), "step": jnp.int32(7)}


def test_fine_tuning_moves_the_encoder_and_learns():
  x, y = _data(512, 0)
  tx, ty = _data(256, 1)
  # An encoder that throws the two informative inputs away: only training
  # it (not the head alone) can classify the quadrants.
  w = np.zeros((8, 4), np.float32)
  w[2:6] = np.eye(4) * 0.1
  state = _state(w)
  args = dict(num_classes=4, batch_size=64, lr=3e-2, key=jax.random.key(0))
  result = fine_tune.fine_tune(_encode, state, x, y, tx, ty, num_steps=300, **args)
  assert result["test_accuracy"] > 0.9
  assert result["final_train_loss"] < 0.5
  tuned, head, losses = fine_tune._train(_encode, state, x, y, jax.random.key(0),  # noqa: SLF001
                                         num_classes=4, num_steps=300, batch_size=64, lr=3e-2)
  assert losses.shape == (300,) and float(losses[-30:].mean()) < float(losses[:30].mean())
  assert np.abs(np.asarray(tuned["w"])[:2]).max() > 0.1  # the encoder moved
  # Unused parameters get zero gradients; integer leaves are not trained.
  np.testing.assert_array_equal(np.asarray(tuned["unused"]), np.ones(3))
  assert int(tuned["step"]) == 7
  # The same key, the same result.
  again = fine_tune.fine_tune(_encode, state, x, y, tx, ty, num_steps=300, **args)
  assert again == result


def test_a_small_labelled_set_is_one_full_batch():
  # N <= batch_size: every step sees all N examples, so the key is irrelevant.
  x, y = _data(32, 2)
  tx, ty = _data(64, 3)
  state = _state(np.random.default_rng(4).normal(size=(8, 4)))
  run = lambda seed: fine_tune.fine_tune(  # noqa: E731
      _encode, state, x, y, tx, ty, num_classes=4, num_steps=50, batch_size=64, lr=1e-2,
      key=jax.random.key(seed))
  assert run(0) == run(1)
