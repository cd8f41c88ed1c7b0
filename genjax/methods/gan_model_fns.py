"""What a trained GAN can do: the model functions `genjax.load` exposes.

  sample(state, rng, n, labels=None, codes=None, z=None) -> [n, *data_shape]
  discriminate(state, x, labels=None) -> D(x) [N]
  infer_codes(state, x) -> (category probabilities [N, K], continuous means [N, M])
                                                              (InfoGAN only)
  classify(state, x) -> class probabilities p(y | x, real) [N, K]
                                                              (semi-supervised GAN only)

Each takes a `GanParts` first; `model_fns(parts)` binds it. Sampling uses
the sampling weights (EMA if kept) and running batch-norm statistics; D runs
in evaluation mode.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp

from genjax.methods.gan_steps import GanParts, draw, evaluation_d, sampling_variables


def sample(parts: GanParts, state, rng: jax.Array, n: int, labels=None, codes=None, z=None):
  """n samples of G.

  Args:
    parts: the GAN's parts.
    state: the trained state.
    rng: a key; z depends on it alone, so one key gives the same z under any codes.
    n: the number of samples (static under jit).
    labels: conditional GANs: int [n]; None: balanced 0, 1, .., K-1, 0, ...
    codes: InfoGAN: (c1 int [n] or None, c_cont [n, M] or None); a None part
      is drawn from its prior as in training. Ignored by other GANs.
    z: float [n, latent_dim] to use instead of p(z)'s draw (e.g. an
      interpolation); None: drawn from `rng`.

  Returns:
    float32 [n, *data_shape].
  """
  cond = parts.conditioning
  if labels is None:
    labels = cond.default_labels(n)
  labels = jnp.asarray(labels, jnp.int32)
  inputs = draw(parts, rng, labels)
  g_cond, _ = cond.conditions(labels, cond.given_codes(inputs.codes, codes))
  z = inputs.z if z is None else jnp.asarray(z, inputs.z.dtype)
  return parts.networks.generate(sampling_variables(parts, state), z, g_cond, train=False)[0]


def discriminate(parts: GanParts, state, x: jax.Array, labels=None) -> jax.Array:
  """D(x) [N], the probability that x is real; a conditional D needs `labels` int [N].

  Raises:
    UserError: a conditional GAN's D called without labels.
  """
  d_cond = parts.conditioning.discriminator_condition(labels)
  logit, _, _ = parts.networks.discriminate(state.d, x, d_cond)
  return jax.nn.sigmoid(logit)


def infer_codes(parts: GanParts, state, x: jax.Array):
  """Q's (category probabilities [N, K], continuous means [N, M]) for images x."""
  _, q, _ = parts.networks.discriminate(state.d, x, None)
  return parts.conditioning.codes_from_q(q)


def classify(parts: GanParts, state, x: jax.Array) -> jax.Array:
  """The semi-supervised D's class probabilities softmax(l(x)) [N, K]; argmax is its label.

  With `gan.d_ema_decay` > 0 the classifier is D's parameter average.
  """
  _, class_logits, _ = parts.networks.discriminate(evaluation_d(parts, state), x, None)
  return jax.nn.softmax(class_logits, -1)


def model_fns(parts: GanParts) -> dict[str, Callable[..., Any]]:
  """{name: function of (state, ...)}: infer_codes only for an InfoGAN, classify
  only for a semi-supervised GAN."""
  fns = {"sample": sample, "discriminate": discriminate}
  if parts.conditioning.infers_codes:
    fns["infer_codes"] = infer_codes
  if parts.semi_supervised:
    fns["classify"] = classify
  return {name: functools.partial(fn, parts) for name, fn in fns.items()}
