"""A GAN's image grids, written at each eval.

  images(parts, state, batch, rng)
      Image datasets: the conditioning's grids (`sample_grids`); 2-D toys:
      histograms of the data beside G's samples.

The measurements of a trained GAN are evaluators (genjax/evaluation/).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from genjax import toy_data
from genjax.methods.gan_steps import GanParts, generate, sampling_variables


def images(parts: GanParts, state, batch, rng: jax.Array) -> dict[str, jax.Array]:
  """{name: grid [rows, cols, *data_shape]} of samples from the sampling weights."""
  g_vars = sampling_variables(parts, state)
  if parts.toy:
    return _toy_images(parts, g_vars, batch, rng)

  def render(z, g_cond, rows, cols):
    x = parts.networks.generate(g_vars, z, g_cond, train=False)[0]
    return x.reshape((rows, cols) + parts.data_shape)

  return parts.conditioning.sample_grids(render, parts.prior.sample, rng)


def _toy_images(parts: GanParts, g_vars, batch, rng: jax.Array) -> dict[str, jax.Array]:
  """2-D toys: histograms of data (left) and G's samples (right), dark = dense."""
  if parts.data_shape[0] != 2:
    return {}
  mix = toy_data.mixture(parts.data_name)
  bound = float(np.abs(mix.means).max()) + 1.0
  fake = generate(parts, g_vars, rng, jnp.zeros((4096,), jnp.int32))

  def hist(points, bins=64):
    idx = jnp.clip(((points + bound) / (2 * bound) * bins).astype(jnp.int32), 0, bins - 1)
    h = jnp.zeros((bins, bins)).at[bins - 1 - idx[:, 1], idx[:, 0]].add(1.0)
    return 1.0 - jnp.sqrt(h / jnp.maximum(h.max(), 1.0))

  grid = jnp.stack([hist(batch["image"]), hist(fake)])[None, :, :, :, None]
  return {"samples": grid}
