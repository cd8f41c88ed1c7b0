r"""Linear probes: how linearly separable are the classes in a representation?

An unsupervised representation is useful to the extent that a simple model
on top of it needs few labels. The probe fits multinomial logistic
regression, p(y | z) = softmax(W z + b), on the features z of N labelled
training images and reports test accuracy; the same probe on raw pixels is
the baseline every learnt code has to beat (with N = 100 or 1000 labels a
good code beats pixels clearly; with all 60k labels pixels reach about 92%).

Fit: full-batch L-BFGS (optax.lbfgs with its zoom line search) on

    mean_i CE(y_i, softmax(W z_i + b)) + (l2 / 2) ||W||_F^2,

a smooth strongly convex problem, a fixed number of iterations inside one
jitted `lax.scan`. Features are centred with the training mean and divided
by one global scale (the RMS feature standard deviation) rather than per
feature: per-feature scaling would blow up nearly constant border pixels,
while a single scale just makes `l2` mean the same thing for every
representation.

Everything is jitted. Each fit compiles in a few seconds on CPU, so
`probe_dataset` pads every problem to one feature width and a few row
buckets (zero columns and weight-0 rows leave the solution unchanged).
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import jax
import jax.numpy as jnp
import optax
from jax import lax

from genjax.errors import ConfigError
from genjax.evaluation import registry


def standardizer(features: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(mean [D], scale []) of training features: centre, one global scale."""
  mean = features.mean(0)
  scale = jnp.sqrt(jnp.mean(jnp.var(features, axis=0)))
  return mean, jnp.maximum(scale, 1e-6)


@functools.partial(jax.jit, static_argnames=("num_classes", "num_steps"))
def fit_logistic_regression(features: jax.Array, labels: jax.Array,
                            weights: jax.Array | None = None, *, num_classes: int,
                            l2: float, num_steps: int) -> dict[str, jax.Array]:
  """Multinomial logistic regression by full-batch L-BFGS.

  Args:
    features: float32 [N, D] (standardised by the caller, see `probe`).
    labels: int32 [N] in [0, num_classes).
    weights: [N] example weights, 0 for padding rows (None: all 1). Padding
      rows (and zero feature columns) let sizes share one compilation.
    num_classes: number of classes K.
    l2: weight of (1/2)||W||^2 added to the weighted mean cross-entropy.
    num_steps: L-BFGS iterations.

  Returns:
    {"w": [D, K], "b": [K], "loss": final objective []}.
  """
  d = features.shape[1]
  onehot = jax.nn.one_hot(labels, num_classes)
  if weights is None:
    weights = jnp.ones(labels.shape, jnp.float32)
  weights = weights / jnp.maximum(weights.sum(), 1.0)

  def objective(params):
    logits = features @ params["w"] + params["b"]
    ce = -jnp.sum(jnp.sum(onehot * jax.nn.log_softmax(logits), -1) * weights)
    return ce + 0.5 * l2 * jnp.sum(jnp.square(params["w"]))

  params = {"w": jnp.zeros((d, num_classes)), "b": jnp.zeros((num_classes,))}
  # Backtracking (Armijo) line search: the same optimum as the zoom search
  # here and about a third less compile time.
  opt = optax.lbfgs(linesearch=optax.scale_by_backtracking_linesearch(
      max_backtracking_steps=15, store_grad=True))
  value_and_grad = optax.value_and_grad_from_state(objective)

  def step(carry, _):
    params, state = carry
    value, grad = value_and_grad(params, state=state)
    updates, state = opt.update(grad, state, params, value=value, grad=grad,
                                value_fn=objective)
    return (optax.apply_updates(params, updates), state), value

  (params, _), _ = lax.scan(step, (params, opt.init(params)), None, length=num_steps)
  return {**params, "loss": objective(params)}


@jax.jit
def accuracy(params: dict[str, jax.Array], features: jax.Array, labels: jax.Array,
             mask: jax.Array) -> jax.Array:
  """Masked accuracy of argmax(W z + b); padding rows (mask 0) are ignored."""
  pred = jnp.argmax(features @ params["w"] + params["b"], -1)
  return jnp.sum((pred == labels) * mask) / jnp.maximum(mask.sum(), 1.0)


def bucket(n: int, minimum: int = 1024) -> int:
  """Padded row count for n examples: max(minimum, next power of two)."""
  return max(minimum, 1 << max(n - 1, 0).bit_length())


@functools.partial(jax.jit, static_argnames=("rows", "cols"))
def _standardized_and_padded(train_features, train_labels, test_features, *, rows: int,
                             cols: int):
  """`probe`'s inputs flattened, standardised by the training features and
  zero-padded to [rows, cols]: one compiled call, not a dozen eager ops."""
  train_features = train_features.reshape(train_features.shape[0], -1).astype(jnp.float32)
  test_features = test_features.reshape(test_features.shape[0], -1).astype(jnp.float32)
  mean, scale = standardizer(train_features)
  train_features = (train_features - mean) / scale
  test_features = (test_features - mean) / scale
  n, d = train_features.shape
  weights = jnp.concatenate([jnp.ones(n), jnp.zeros(rows - n)])
  train_features = jnp.pad(train_features, ((0, rows - n), (0, cols - d)))
  test_features = jnp.pad(test_features, ((0, 0), (0, cols - d)))
  train_labels = jnp.pad(train_labels, (0, rows - n))
  return train_features, train_labels, weights, test_features


def probe(train_features: jax.Array, train_labels: jax.Array, test_features: jax.Array,
          test_labels: jax.Array, test_mask: jax.Array | None = None, *, num_classes: int,
          l2: float = 1e-3, num_steps: int = 200, pad_to: tuple[int, int] | None = None
          ) -> float:
  """Fits the probe on (train_features, train_labels); returns test accuracy.

  Args:
    train_features: [N, D].
    train_labels: int [N].
    test_features: [M, D].
    test_labels: int [M].
    test_mask: [M], 1 for real test rows (None: all real).
    num_classes: K.
    l2: L2 weight on W (on standardised features).
    num_steps: L-BFGS iterations.
    pad_to: (rows, columns) to zero-pad the training problem to, so that
      several probes share one compilation; weight-0 rows and all-zero
      columns do not change the solution (a zero column's weight stays 0).

  Returns:
    Test accuracy in [0, 1].
  """
  n, d = train_features.shape[0], math.prod(train_features.shape[1:])
  rows, cols = pad_to or (n, d)
  train_features, train_labels, weights, test_features = _standardized_and_padded(
      train_features, train_labels, test_features, rows=rows, cols=cols)
  params = fit_logistic_regression(train_features, train_labels, weights,
                                   num_classes=num_classes, l2=l2, num_steps=num_steps)
  if test_mask is None:
    test_mask = jnp.ones(test_labels.shape, jnp.float32)
  return float(accuracy(params, test_features, test_labels, test_mask))


def encode_all(encode: Callable[[jax.Array], jax.Array], images: jax.Array, scale: float,
               batch_size: int = 1000) -> jax.Array:
  """Features of every image, computed in batches inside one jit.

  Args:
    encode: float images [B, H, W, C] in [0, 1] -> features [B, D].
    images: uint8 (or float) [N, H, W, C]; divided by `scale`.
    scale: 255 for uint8 pixels, 1 for already-scaled ones.
    batch_size: images per batch (bounds memory).

  Returns:
    float32 [N, D].
  """
  n = images.shape[0]
  b = min(batch_size, n)
  pad = (-n) % b

  @jax.jit
  def run(images):
    padded = jnp.concatenate([images, jnp.zeros((pad,) + images.shape[1:], images.dtype)])
    batches = padded.reshape((-1, b) + images.shape[1:])
    feats = lax.map(lambda x: encode(x.astype(jnp.float32) / scale), batches)
    return feats.reshape((-1,) + feats.shape[2:])[:n]

  return run(images)


def size_name(n: int) -> str:
  """Metric suffix for a probe size: 100 -> "100", 0 (all) -> "all"."""
  return "all" if n == 0 else str(n)


def probe_dataset(encode: Callable[[jax.Array], jax.Array], dataset, rng: jax.Array, *,
                  sizes=(100, 1000, 0), l2: float = 1e-3, num_steps: int = 200,
                  include_pixels: bool = True, batch_size: int = 1000) -> dict[str, float]:
  """Probes codes (and raw pixels) with N labelled training images per size.

  The N training images are the first N of one random permutation of the
  training split (so the 100 are inside the 1000); codes and pixels use the
  same images. Test accuracy is over the whole eval split.

  Args:
    encode: float images [B, H, W, C] in [0, 1] -> codes [B, D] (jit-able).
    dataset: a `genjax.data.Dataset` (train/eval arrays on device).
    rng: picks the labelled subset.
    sizes: numbers of labelled examples; 0 means the whole training split.
    l2, num_steps: see `probe`.
    include_pixels: also probe raw pixels (the baseline).
    batch_size: encoding batch size.

  Returns:
    {"probe_codes_acc_<N>": acc, "probe_pixels_acc_<N>": acc, ...}.
  """
  num_train = dataset.num_train
  order = jax.random.permutation(rng, num_train)
  train_images, test_images = dataset.images("train"), dataset.images("eval")
  train_codes = encode_all(encode, train_images, 1.0, batch_size)
  test_codes = encode_all(encode, test_images, 1.0, batch_size)
  test_labels, test_mask = dataset.labels("eval"), None
  num_classes = dataset.num_classes
  # Codes and pixels padded to one width, sizes to a few row buckets: one
  # compilation of the fit per bucket instead of one per (size, features).
  width = max(train_codes.shape[1], math.prod(dataset.image_shape)) if include_pixels \
      else train_codes.shape[1]
  results = {}
  for n in sizes:
    n_eff = num_train if n == 0 or n > num_train else n
    idx = order[:n_eff]
    labels = dataset.labels("train")[idx]
    results[f"probe_codes_acc_{size_name(n)}"] = probe(
        train_codes[idx], labels, test_codes, test_labels, test_mask,
        num_classes=num_classes, l2=l2, num_steps=num_steps, pad_to=(bucket(n_eff), width))
    if include_pixels:
      results[f"probe_pixels_acc_{size_name(n)}"] = probe(
          train_images[idx], labels, test_images, test_labels, test_mask,
          num_classes=num_classes, l2=l2, num_steps=num_steps, pad_to=(bucket(n_eff), width))
  return results


# --------------------------------------------------------------------------
# The `linear_probe` evaluator (genjax/evaluation/registry.py)
# --------------------------------------------------------------------------


def _check_spec(spec, config, data_info) -> None:
  if any(not isinstance(n, int) or n < 0 for n in spec.sizes):
    raise ConfigError(f"a linear_probe's sizes must be integers >= 0 (0: all labels), "
                      f"got {tuple(spec.sizes)}")
  if data_info is not None and data_info.num_classes < 2:
    raise ConfigError(f"a linear_probe evaluator needs labels; {config.data.name} has none")


# "All labels" (size 0) costs minutes of L-BFGS on 60k codes: opt in per config.
@registry.register("linear_probe", needs=("encode",), check=_check_spec,
                   sizes=(100, 1000), l2=1e-3, num_steps=200, pixels=True)
def evaluate(ctx: registry.Context, spec, name: str) -> dict[str, float]:
  """Probes the model's codes (AE: h, VAE: the posterior mean) and raw pixels
  with N labelled training images per size; see `probe_dataset`."""
  del name
  return probe_dataset(registry.codes(ctx.model), ctx.dataset, ctx.rng,
                       sizes=tuple(spec.sizes), l2=spec.l2, num_steps=spec.num_steps,
                       include_pixels=spec.pixels, batch_size=ctx.config.eval_batch_size)
