r"""Corruption processes C(x~ | x) for denoising autoencoders (pure, jit-able).

A denoising autoencoder minimises L(x, g(f(x~))) with x~ ~ C(x~ | x) drawn
afresh at every step, so the network cannot copy its input: it has to learn
where clean data lies and map corrupted points back towards it (Vincent et
al. 2008, 2010). The score-matching view: for small Gaussian noise,
g(f(x~)) - x~ estimates sigma^2 * grad log p(x~).

All functions take pixels in [0, 1] of any shape, return the same shape and
dtype, and draw every element independently from `rng`:

  gaussian:        x~ = clip(x + sigma * n, 0, 1),  n ~ N(0, I)
  masking:         each element set to 0 with probability `fraction`
  salt_and_pepper: each element, with probability `fraction`, replaced by
                   0 or 1 (equally likely); otherwise kept

Clipping keeps x~ a valid image (a sigmoid decoder and the BCE loss expect
[0, 1]); it makes the applied noise slightly smaller than sigma near 0 and 1.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

KINDS = ("none", "gaussian", "masking", "salt_and_pepper")


def gaussian(rng: jax.Array, x: jax.Array, std: float, clip: bool = True) -> jax.Array:
  """Additive Gaussian noise, clipped back to [0, 1] (unless `clip` is False:
  points of a toy density, not pixels).

  Args:
    rng: PRNG key.
    x: pixels in [0, 1].
    std: noise standard deviation sigma (before clipping).
    clip: clip to [0, 1].

  Returns:
    clip(x + std * N(0, I), 0, 1), same shape and dtype as x.
  """
  noise = jax.random.normal(rng, x.shape, x.dtype)
  noisy = x + std * noise
  return jnp.clip(noisy, 0.0, 1.0) if clip else noisy


def masking(rng: jax.Array, x: jax.Array, fraction: float) -> jax.Array:
  """Masking noise: each element is zeroed with probability `fraction`.

  Args:
    rng: PRNG key.
    x: pixels in [0, 1].
    fraction: probability that an element is set to 0.

  Returns:
    x with a random subset of elements set to 0.
  """
  keep = jax.random.bernoulli(rng, 1.0 - fraction, x.shape)
  return jnp.where(keep, x, jnp.zeros_like(x))


def salt_and_pepper(rng: jax.Array, x: jax.Array, fraction: float) -> jax.Array:
  """Salt-and-pepper noise: a `fraction` of elements set to 0 or 1 at random.

  Args:
    rng: PRNG key.
    x: pixels in [0, 1].
    fraction: probability that an element is replaced.

  Returns:
    x with replaced elements, each 0 or 1 with probability 1/2.
  """
  hit_rng, value_rng = jax.random.split(rng)
  hit = jax.random.bernoulli(hit_rng, fraction, x.shape)
  salt = jax.random.bernoulli(value_rng, 0.5, x.shape).astype(x.dtype)
  return jnp.where(hit, salt, x)


def corrupt(rng: jax.Array, x: jax.Array, kind: str, *, std: float = 0.0,
            fraction: float = 0.0, clip: bool = True) -> jax.Array:
  """Applies the corruption named `kind` (one of KINDS).

  Args:
    rng: PRNG key; pass a fresh one every training step.
    x: pixels in [0, 1].
    kind: "none", "gaussian", "masking" or "salt_and_pepper".
    std: sigma for "gaussian".
    fraction: corrupted fraction for "masking" and "salt_and_pepper".
    clip: "gaussian" clips to [0, 1] (False for toy points).

  Returns:
    The corrupted batch (x itself for "none").

  Raises:
    ValueError: unknown kind.
  """
  if kind == "none":
    return x
  if kind == "gaussian":
    return gaussian(rng, x, std, clip)
  if kind == "masking":
    return masking(rng, x, fraction)
  if kind == "salt_and_pepper":
    return salt_and_pepper(rng, x, fraction)
  raise ValueError(f"unknown corruption {kind!r}; valid: {', '.join(KINDS)}")
