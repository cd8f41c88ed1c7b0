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

Training: Adam with a cosine-decayed learning rate, `num_steps` steps in one
jitted `lax.scan`; each step a minibatch drawn uniformly with replacement
(the whole labelled set when N <= batch_size). The head starts at zero. Only
the state's floating-point leaves are trained (step counters stay as they
are); parameters the encoder does not use (a decoder) get zero gradients and
do not move. No validation split and no early stopping: a fixed budget.
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


@functools.partial(jax.jit, static_argnames=("encode", "num_classes", "num_steps",
                                             "batch_size", "lr"))
def _train(encode, state, train_x, train_y, key, *, num_classes: int, num_steps: int,
           batch_size: int, lr: float):
  """(fine-tuned encoder state, head, per-step training loss [num_steps])."""
  trainable, rebuild = _split(state)
  width = _features(encode, state, train_x[:1]).shape[1]
  head = {"w": jnp.zeros((width, num_classes)), "b": jnp.zeros((num_classes,))}
  tx = optax.adam(optax.cosine_decay_schedule(lr, num_steps))
  n = train_x.shape[0]

  def loss_fn(params, x, y):
    enc, head = params
    logits = _features(encode, rebuild(enc), x) @ head["w"] + head["b"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

  def step(carry, k):
    params, opt_state = carry
    if n <= batch_size:
      x, y = train_x, train_y
    else:
      idx = jax.random.randint(k, (batch_size,), 0, n)
      x, y = train_x[idx], train_y[idx]
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    updates, opt_state = tx.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), loss

  params = (trainable, head)
  (params, _), losses = lax.scan(step, (params, tx.init(params)),
                                 jax.random.split(key, num_steps))
  return rebuild(params[0]), params[1], losses


@functools.partial(jax.jit, static_argnames=("encode",))
def _predict(encode, state, head, x):
  return jnp.argmax(_features(encode, state, x) @ head["w"] + head["b"], -1)


def fine_tune(encode: Callable, state: Any, train_x, train_y, test_x, test_y, *,
              num_classes: int, num_steps: int, batch_size: int = 128, lr: float = 1e-3,
              key: jax.Array, eval_batch_size: int = 1000) -> dict[str, float]:
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

  Returns:
    {"test_accuracy": fraction of test images classified correctly,
     "final_train_loss": mean cross-entropy over the last 10% of steps}.
  """
  tuned, head, losses = _train(encode, state, jnp.asarray(train_x), jnp.asarray(train_y),
                               key, num_classes=num_classes, num_steps=num_steps,
                               batch_size=batch_size, lr=lr)
  test_y = np.asarray(test_y)
  correct = 0
  for a in range(0, len(test_y), eval_batch_size):
    pred = _predict(encode, tuned, head, jnp.asarray(test_x[a:a + eval_batch_size]))
    correct += int(np.sum(np.asarray(pred) == test_y[a:a + eval_batch_size]))
  tail = np.asarray(losses)[-max(1, num_steps // 10):]
  return {"test_accuracy": correct / len(test_y), "final_train_loss": float(tail.mean())}
