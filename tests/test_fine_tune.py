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
  [(done, tuned, head, losses)] = fine_tune._train(  # noqa: SLF001
      _encode, state, x, y, jax.random.key(0), num_classes=4, num_steps=300, batch_size=64,
      lr=3e-2)
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


def test_validation_picks_the_best_scoring_and_leaves_the_steps_alone():
  x, y = _data(512, 5)
  tx, ty = _data(256, 6)
  state = _state(np.random.default_rng(7).normal(size=(8, 4)) * 0.1)
  args = dict(num_classes=4, batch_size=64, lr=3e-2, num_steps=100)
  run = lambda segment_end: list(fine_tune._train(  # noqa: E731, SLF001
      _encode, state, x, y, jax.random.key(1), segment_end=segment_end, **args))
  whole, cut = run(None), run(lambda done: done + 30)
  assert [c[0] for c in cut] == [30, 60, 90, 100]
  # Cutting the run into scans of 30 steps changes nothing.
  np.testing.assert_array_equal(np.asarray(cut[-1][1]["w"]), np.asarray(whole[-1][1]["w"]))
  np.testing.assert_array_equal(np.asarray(cut[-1][3]), np.asarray(whole[-1][3]))
  # Validating on the test set itself: the reported network is the best of
  # the four scorings, so it is at least as good as the last one.
  plain = fine_tune.fine_tune(_encode, state, x, y, tx, ty, key=jax.random.key(1), **args)
  picked = fine_tune.fine_tune(_encode, state, x, y, tx, ty, key=jax.random.key(1),
                               valid=(tx, ty), valid_every=30, **args)
  scores = [fine_tune._accuracy(_encode, c[1], c[2], tx, ty, 1000)  # noqa: SLF001
            for c in cut]
  assert picked["valid_accuracy"] == picked["test_accuracy"] == max(scores)
  assert picked["best_step"] == [30, 60, 90, 100][scores.index(max(scores))]
  assert plain["test_accuracy"] == scores[-1]
  assert picked["final_train_loss"] == plain["final_train_loss"]


def test_dropout_zeroes_a_fraction_and_keeps_the_mean():
  x = jnp.ones((200, 50))
  out = np.asarray(fine_tune._dropout(jax.random.key(0), x, 0.5))  # noqa: SLF001
  assert set(np.unique(out)) == {0.0, 2.0}
  assert abs((out == 0).mean() - 0.5) < 0.02 and abs(out.mean() - 1.0) < 0.04
  assert fine_tune._dropout(jax.random.key(0), x, 0.0) is x  # noqa: SLF001
  # In a fine-tune it changes the training, and scoring is without it.
  xs, ys = _data(256, 8)
  state = _state(np.random.default_rng(9).normal(size=(8, 4)))
  run = lambda **d: fine_tune.fine_tune(  # noqa: E731
      _encode, state, xs, ys, xs, ys, num_classes=4, num_steps=40, batch_size=64, lr=1e-2,
      key=jax.random.key(0), **d)
  assert run(feature_dropout=0.5)["final_train_loss"] != run()["final_train_loss"]
  assert run(input_dropout=0.5)["final_train_loss"] != run()["final_train_loss"]
