r"""Fine-tuning: an encoder and a softmax head trained together on labels.

The classic test of unsupervised pretraining (Hinton & Salakhutdinov 2006,
Erhan et al. 2010, Rifai et al. 2011): put p(y | x) = softmax(W f(x) + b) on
a pretrained encoder f, train f's parameters and the head together by
cross-entropy on N labelled images, and compare the test error with the same
network trained from its random initialisation. A linear probe
(`linear_probe.py`) keeps f fixed; here f moves.

    from genjax.evaluation import fine_tune
    result = fine_tune.fine_tune(m.state_function("encode"), m.state, train_x, train_y,
                                 test_x, test_y, num_classes=10, num_steps=2000,
                                 batch_size=128, lr=1e-3, key=jax.random.key(0))
    result["test_accuracy"]

Training: Adam with a cosine-decayed learning rate, `num_steps` steps in
jitted `lax.scan`s (one, or one per validation interval); each step a
minibatch drawn uniformly with replacement (the whole labelled set when
N <= batch_size). The head starts at zero. Only
the state's floating-point leaves are trained (step counters stay as they
are); parameters the encoder does not use (a decoder) get zero gradients and
do not move. A fixed budget; with `valid=` the network reported is the one
that scored best on a held-out validation set along the way.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax


def _split(state: Any):
  """(trainable float leaves, rebuild(trainable) -> state) of a pytree."""
  leaves, treedef = jax.tree.flatten(state)
  is_float = [jnp.issubdtype(jnp.asarray(leaf).dtype, jnp.floating) for leaf in leaves]

  def rebuild(trainable):
    it = iter(trainable)
    return treedef.unflatten([next(it) if f else leaf for leaf, f in zip(leaves, is_float)])

  return [leaf for leaf, f in zip(leaves, is_float) if f], rebuild


def _features(encode: Callable, state: Any, x: jax.Array) -> jax.Array:
  out = encode(state, x)
  out = out[0] if isinstance(out, tuple) else out  # a VAE's posterior mean
  return out.reshape(out.shape[0], -1)


def _optimizer(lr: float, num_steps: int) -> optax.GradientTransformation:
  return optax.adam(optax.cosine_decay_schedule(lr, num_steps))


@functools.partial(jax.jit, static_argnames=("encode", "num_classes", "num_steps", "lr"))
def _start(encode, state, x, *, num_classes: int, num_steps: int, lr: float):
  """(params, optimizer state): the state's float leaves and a zero head."""
  trainable, _ = _split(state)
  width = _features(encode, state, x[:1]).shape[1]
  params = (trainable, {"w": jnp.zeros((width, num_classes)), "b": jnp.zeros((num_classes,))})
  return params, _optimizer(lr, num_steps).init(params)


def _dropout(key, x, rate: float):
  """Inverted dropout: zeroes a `rate` fraction, rescales the rest."""
  if not rate:
    return x
  keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
  return jnp.where(keep, x / (1.0 - rate), 0.0)


@functools.partial(jax.jit, static_argnames=("encode", "num_steps", "batch_size", "lr",
                                             "dropout"))
def _steps(encode, state, params, opt_state, train_x, train_y, keys, *, num_steps: int,
           batch_size: int, lr: float, dropout: tuple[float, float]):
  """(params, opt_state, per-step losses) after one step per key.

  `state` gives the untrained leaves; `num_steps` is the whole run's length
  (the schedule's), so consecutive calls continue one cosine schedule.
  """
  _, rebuild = _split(state)
  tx = _optimizer(lr, num_steps)
  n = train_x.shape[0]

  def loss_fn(params, x, y, key):
    enc, head = params
    k_in, k_feat = jax.random.split(key)
    features = _features(encode, rebuild(enc), _dropout(k_in, x, dropout[0]))
    logits = _dropout(k_feat, features, dropout[1]) @ head["w"] + head["b"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

  def step(carry, k):
    params, opt_state = carry
    if n <= batch_size:
      x, y = train_x, train_y
    else:
      idx = jax.random.randint(k, (batch_size,), 0, n)
      x, y = train_x[idx], train_y[idx]
    # The batch draw keeps `k` itself, so dropout leaves the batches alone.
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y, jax.random.fold_in(k, 1))
    updates, opt_state = tx.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), loss

  (params, opt_state), losses = lax.scan(step, (params, opt_state), keys)
  return params, opt_state, losses


def _train(encode, state, train_x, train_y, key, *, num_classes: int, num_steps: int,
           batch_size: int, lr: float, dropout=(0.0, 0.0), segment_end=None):
  """Yields (steps done, fine-tuned state, head, losses so far) at each segment's end.

  One segment of `num_steps` unless `segment_end` (steps done -> steps done
  after the next segment) cuts the run; the steps are the same either way.
  """
  params, opt_state = _start(encode, state, train_x, num_classes=num_classes,
                             num_steps=num_steps, lr=lr)
  _, rebuild = _split(state)
  keys = jax.random.split(key, num_steps)
  done, losses = 0, []
  while done < num_steps:
    end = min(num_steps, segment_end(done) if segment_end else num_steps)
    params, opt_state, seg = _steps(encode, state, params, opt_state, train_x, train_y,
                                    keys[done:end], num_steps=num_steps,
                                    batch_size=batch_size, lr=lr, dropout=dropout)
    done = end
    losses.append(seg)
    yield done, rebuild(params[0]), params[1], jnp.concatenate(losses)


@functools.partial(jax.jit, static_argnames=("encode",))
def _predict(encode, state, head, x):
  return jnp.argmax(_features(encode, state, x) @ head["w"] + head["b"], -1)


def _accuracy(encode, state, head, x, y, batch_size: int) -> float:
  y = np.asarray(y)
  correct = 0
  for a in range(0, len(y), batch_size):
    pred = _predict(encode, state, head, jnp.asarray(x[a:a + batch_size]))
    correct += int(np.sum(np.asarray(pred) == y[a:a + batch_size]))
  return correct / len(y)


def fine_tune(encode: Callable, state: Any, train_x, train_y, test_x, test_y, *,
              num_classes: int, num_steps: int, batch_size: int = 128, lr: float = 1e-3,
              key: jax.Array, eval_batch_size: int = 1000, valid=None,
              valid_every: int | None = None, input_dropout: float = 0.0,
              feature_dropout: float = 0.0) -> dict[str, float]:
  """Fine-tunes `encode`'s state with a softmax head; returns test accuracy.

  Args:
    encode: a pure function (state, x [B, ...]) -> features [B, ...] (or a
      tuple whose first element is the features), e.g. a `Model`'s
      `state_function("encode")`. Must be hashable (jit-static).
    state: its starting state (pretrained, or `TrainedRun.initial_model.state`).
    train_x, train_y: the N labelled training images and int labels.
    test_x, test_y: the test images and labels.
    num_classes: K.
    num_steps: Adam steps.
    batch_size: minibatch size.
    lr: Adam's initial learning rate (cosine-decayed to 0).
    key: minibatch draws.
    valid: optional (valid_x, valid_y), held out from train_x: the network is
      scored on it every `valid_every` steps and at the end, and the test
      accuracy reported is that of the scoring with the best validation
      accuracy (the earliest of ties): model selection by early stopping, as
      Rifai et al. 2011. The steps taken are the same with or without it.
    valid_every: steps between validation scorings (required with `valid`).
    input_dropout, feature_dropout: dropout rates on the input pixels and on
      the encoder's features while training (Srivastava et al. 2014's 0.2 /
      0.5); none when scoring.

  Returns:
    {"test_accuracy": fraction of test images classified correctly,
     "final_train_loss": mean cross-entropy over the last 10% of steps};
    with `valid` also "valid_accuracy" and "best_step" (of the chosen network).
  """
  if valid is not None and not valid_every:
    raise ValueError("fine_tune: valid needs valid_every > 0")
  segment_end = (lambda done: done + valid_every) if valid is not None else None
  best = None  # (valid accuracy, step, state, head)
  for done, tuned, head, losses in _train(
      encode, state, jnp.asarray(train_x), jnp.asarray(train_y), key,
      num_classes=num_classes, num_steps=num_steps, batch_size=batch_size, lr=lr,
      dropout=(input_dropout, feature_dropout), segment_end=segment_end):
    if valid is not None:
      score = _accuracy(encode, tuned, head, *valid, eval_batch_size)
      if best is None or score > best[0]:
        best = (score, done, tuned, head)
  tail = np.asarray(losses)[-max(1, num_steps // 10):]
  out = {"final_train_loss": float(tail.mean())}
  if best is not None:
    out.update(valid_accuracy=best[0], best_step=best[1])
    tuned, head = best[2], best[3]
  out["test_accuracy"] = _accuracy(encode, tuned, head, test_x, test_y, eval_batch_size)
  return out
