r"""Low-dimensional toy distributions with known densities, for GAN and DAE diagnostics.

Every toy is an isotropic Gaussian mixture p(x) = sum_k w_k N(x; mu_k, s^2 I):

  toy_mog1d    1-D: three modes at -3, 0, 3 (std 0.4, weights 0.3, 0.5, 0.2).
               Small enough to compare a trained D with the optimal
               D*(x) = p_data / (p_data + p_g) on a grid.
  toy_ring8    2-D: 8 modes evenly on a circle of radius 2, std 0.02
               (Metz et al. 2017, "Unrolled GANs").
  toy_grid25   2-D: 25 modes on the grid {-4, -2, 0, 2, 4}^2, std 0.05
               (the "2-D grid" of VEEGAN / PacGAN).
  toy_mog2d    2-D: three broad modes at (-1.5, 0), (1.5, 0), (0, 1.5), std
               0.3, weights 0.4, 0.35, 0.25: a smooth density whose score
               grad log p a denoising autoencoder can be checked against.

Because p_data is known, a generator can be scored without any feature
extractor: a sample is "high quality" when it lies within 3 std of some
mode (for a 2-D Gaussian 98.9% of true samples do; in 1-D 99.7%), and a mode
is "covered" when it receives at least `min_share` (10%) of the samples its
weight entitles it to. Mode dropping shows as uncovered modes, wandering
samples as a low high-quality fraction.

`genjax.data` sends any `config.data.name` starting with "toy_" here; the
trainer then treats points [N, D] like images of shape (D,). Splits are
sampled with a fixed seed per (name, split), so train and test differ but
every run sees the same points.
"""

from __future__ import annotations

import dataclasses
import math
import zlib

import jax
import jax.numpy as jnp
import numpy as np

from genjax.errors import DataError

SPLIT_SIZES = {"train": 100_000, "test": 10_000}


@dataclasses.dataclass(frozen=True)
class Mixture:
  """An isotropic Gaussian mixture."""
  means: np.ndarray    # [K, D]
  std: float
  weights: np.ndarray  # [K], sums to 1

  @property
  def dim(self) -> int:
    return self.means.shape[1]


def _ring(num: int, radius: float) -> np.ndarray:
  angles = 2 * np.pi * np.arange(num) / num
  return radius * np.stack([np.cos(angles), np.sin(angles)], -1)


def mixture(name: str) -> Mixture:
  """The mixture behind toy dataset `name` (with or without the "toy_" prefix).

  Raises:
    DataError: unknown toy name.
  """
  short = name.removeprefix("toy_")
  if short == "mog1d":
    return Mixture(np.array([[-3.0], [0.0], [3.0]]), 0.4, np.array([0.3, 0.5, 0.2]))
  if short == "ring8":
    return Mixture(_ring(8, 2.0), 0.02, np.full(8, 1 / 8))
  if short == "grid25":
    g = np.arange(-4.0, 4.1, 2.0)
    means = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    return Mixture(means, 0.05, np.full(25, 1 / 25))
  if short == "mog2d":
    return Mixture(np.array([[-1.5, 0.0], [1.5, 0.0], [0.0, 1.5]]), 0.3,
                   np.array([0.4, 0.35, 0.25]))
  raise DataError(f"unknown toy dataset {name!r}; valid: {', '.join(NAMES)}")


NAMES = ("toy_mog1d", "toy_ring8", "toy_grid25", "toy_mog2d")


def sample(name: str, num: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """Draws (points float32 [num, D], component labels int32 [num])."""
  m = mixture(name)
  rng = np.random.default_rng(seed)
  labels = rng.choice(len(m.weights), size=num, p=m.weights)
  x = m.means[labels] + m.std * rng.standard_normal((num, m.dim))
  return x.astype(np.float32), labels.astype(np.int32)


def sampler(name: str):
  """(key, n) -> n exact draws of the mixture `name`, jit-able (a perfect generator)."""
  mix = mixture(name)
  means = jnp.asarray(mix.means, jnp.float32)
  logits = jnp.log(jnp.asarray(mix.weights, jnp.float32))

  def sample(key, n):
    kc, kn = jax.random.split(key)
    comp = jax.random.categorical(kc, logits, shape=(n,))
    return means[comp] + mix.std * jax.random.normal(kn, (n, mix.dim))
  return sample


def sample_split(name: str, split: str, max_examples: int | None) -> dict:
  """A dataset split in `genjax.data.read_split`'s format.

  Args:
    name: "toy_mog1d", "toy_ring8", "toy_grid25" or "toy_mog2d".
    split: "train" (100k points) or "test" (10k); TFDS slices such as
      "train[:10%]" are not supported.
    max_examples: cap on the number of points (None: the split's size).

  Returns:
    {"image": float32 [N, D], "label": int32 [N] (mixture component),
     "num_classes": K}.

  Raises:
    DataError: unknown name or split.
  """
  m = mixture(name)
  if split not in SPLIT_SIZES:
    raise DataError(f"toy dataset {name!r} has no split {split!r}; it has "
                    f"{', '.join(SPLIT_SIZES)}")
  num = SPLIT_SIZES[split] if max_examples is None else min(max_examples, SPLIT_SIZES[split])
  # A seed per (name, split): train and test are different draws, and the
  # first n points of a split do not depend on max_examples.
  seed = zlib.crc32(f"{name.removeprefix('toy_')}/{split}".encode())
  x, labels = sample(name, SPLIT_SIZES[split], seed)
  return {"image": x[:num], "label": labels[:num], "num_classes": len(m.weights)}


def log_density(name: str, x, smoothing: float = 0.0) -> jnp.ndarray:
  """log p_data(x) for points x [..., D] (jit-able; numpy or jax input).

  Args:
    smoothing: if > 0, the density of p_data convolved with an isotropic
      Gaussian kernel of this std (each mode's variance grows by its square):
      exactly what a kernel density estimate of p_data samples converges to,
      so it can be compared like-for-like with a KDE of another sampler.

  Returns:
    float32 [...].
  """
  m = mixture(name)
  var = m.std ** 2 + smoothing ** 2
  x = jnp.asarray(x, jnp.float32)
  means = jnp.asarray(m.means, jnp.float32)
  sq = jnp.sum(jnp.square(x[..., None, :] - means), -1)  # [..., K]
  log_norm = -0.5 * m.dim * math.log(2 * math.pi * var)
  log_comp = jnp.log(jnp.asarray(m.weights, jnp.float32)) + log_norm - 0.5 * sq / var
  return jax.nn.logsumexp(log_comp, axis=-1)


def mode_statistics(name: str, points, num_std: float = 3.0,
                    min_share: float = 0.1) -> dict[str, float]:
  """Mode coverage and sample quality of generated points.

  Each point is assigned to its nearest mode; it is high quality if it lies
  within `num_std` standard deviations of that mode's mean.

  Args:
    name: the toy dataset.
    points: [N, D] generated points.
    num_std: the quality radius in units of the mixture std.
    min_share: a mode counts as covered when it gets at least this fraction
      of its expected count N * w_k of high-quality points.

  Returns:
    {"modes_covered", "num_modes", "high_quality_fraction"}.
  """
  m = mixture(name)
  pts = np.asarray(points, np.float64).reshape(len(points), -1)
  d2 = np.sum(np.square(pts[:, None, :] - m.means[None]), -1)
  nearest = np.argmin(d2, -1)
  good = np.sqrt(d2[np.arange(len(pts)), nearest]) <= num_std * m.std
  counts = np.bincount(nearest[good], minlength=len(m.weights))
  covered = counts >= min_share * len(pts) * m.weights
  return {"modes_covered": float(covered.sum()), "num_modes": float(len(m.weights)),
          "high_quality_fraction": float(good.mean())}
