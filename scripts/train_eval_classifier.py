r"""Trains the evaluation classifier behind genjax's sample-quality metrics.

    python scripts/train_eval_classifier.py --dataset=mnist          # ~99.3% test
    python scripts/train_eval_classifier.py --dataset=fashion_mnist

Writes `genjax/evaluation/assets/<dataset>_classifier.msgpack` (float16
weights, ~400 KB) and prints the test accuracy of exactly the stored weights.
Deterministic for a given seed on one platform: data order and init come
from the seed, so re-running rebuilds the same file (up to XLA's float
reassociation across machines).

The model is `genjax.evaluation.classifier.Classifier`; training is plain
Adam with a cosine learning-rate decay on [0, 1] pixels, one jitted
`lax.scan` per epoch with the whole split on device.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax import lax  # noqa: E402

from genjax import config as config_lib  # noqa: E402
from genjax import data as data_lib  # noqa: E402
from genjax.evaluation import classifier as classifier_lib  # noqa: E402


def read(name: str, split: str, max_examples: int | None):
  data = config_lib.base_config().data
  data.name = name
  arrays = data_lib.read_split(data, split, max_examples)
  return jnp.asarray(arrays["image"]), jnp.asarray(arrays["label"])


def accuracy(model, params, images, labels, batch: int = 1000) -> float:
  """Test accuracy in batches (images uint8 [N, 28, 28, 1])."""
  n = (len(images) // batch) * batch

  @jax.jit
  def run(images, labels):
    def one(i):
      x = lax.dynamic_slice_in_dim(images, i * batch, batch).astype(jnp.float32) / 255.0
      y = lax.dynamic_slice_in_dim(labels, i * batch, batch)
      logits, _ = model.apply({"params": params}, x)
      return jnp.sum(jnp.argmax(logits, -1) == y)
    return lax.map(one, jnp.arange(n // batch)).sum()

  return float(run(images, labels)) / n


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--dataset", default="mnist")
  parser.add_argument("--epochs", type=int, default=4)
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--lr", type=float, default=2e-3)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--max_train_examples", type=int, default=None)
  parser.add_argument("--out", default=None, help="default: the package's assets dir")
  args = parser.parse_args()

  train_x, train_y = read(args.dataset, "train", args.max_train_examples)
  test_x, test_y = read(args.dataset, "test", None)
  model = classifier_lib.Classifier()
  rng = jax.random.key(args.seed)
  params = model.init(rng, jnp.zeros((1, 28, 28, 1)))["params"]
  steps_per_epoch = len(train_x) // args.batch_size
  tx = optax.adam(optax.cosine_decay_schedule(args.lr, args.epochs * steps_per_epoch))
  opt_state = tx.init(params)

  def loss_fn(params, x, y):
    logits, _ = model.apply({"params": params}, x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

  @jax.jit
  def epoch(params, opt_state, key):
    perm = jax.random.permutation(key, len(train_x))[:steps_per_epoch * args.batch_size]
    perm = perm.reshape(steps_per_epoch, args.batch_size)

    def step(carry, idx):
      params, opt_state = carry
      x = train_x[idx].astype(jnp.float32) / 255.0
      loss, grads = jax.value_and_grad(loss_fn)(params, x, train_y[idx])
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss

    (params, opt_state), losses = lax.scan(step, (params, opt_state), perm)
    return params, opt_state, losses.mean()

  t0 = time.perf_counter()
  for e in range(args.epochs):
    params, opt_state, loss = epoch(params, opt_state, jax.random.fold_in(rng, e + 1))
    print(f"epoch {e + 1}: train loss {float(loss):.4f}  "
          f"test acc {accuracy(model, params, test_x, test_y):.4f}  "
          f"({time.perf_counter() - t0:.0f}s)", flush=True)

  # Report the accuracy of what is stored: float16-rounded weights.
  stored = jax.tree.map(lambda p: jnp.asarray(np.asarray(p, np.float16), jnp.float32), params)
  acc = accuracy(model, stored, test_x, test_y)
  out = args.out or classifier_lib.asset_path(args.dataset)
  size = classifier_lib.save(out, params, {
      "dataset": args.dataset, "test_accuracy": acc, "epochs": args.epochs,
      "seed": args.seed, "train_seconds": time.perf_counter() - t0})
  print(f"stored weights: test accuracy {acc:.4f}; wrote {out} ({size / 1024:.0f} KB)")


if __name__ == "__main__":
  main()
