"""What a GAN's networks see besides z and x: the latent prior and a conditioning.

A conditioning strategy (a `Conditioning`) is picked once from the model group
(`make_conditioning`); the step functions call its methods and never ask
which kind it is:

  Unconditional      G(z), D(x).
  ClassConditional   G(z, y), D(x, y) with y the one-hot class (Mirza &
                     Osindero 2014); fake samples take the real batch's labels.
  InfoCodes          G(z, c), D(x) with a Q head (Chen et al. 2016): c1 ~
                     Cat(K) and c2.. ~ U(-1, 1); both players add
                     `info_weight` * L_I (`gan_losses.info_loss_per_example`).

Every strategy answers the same questions:

  draw_codes(key_cat, key_cont, n)      InfoGAN codes, or None
  conditions(labels, codes)             (G's condition, D's condition), each [B, C] or None
  discriminator_condition(labels)       D's condition when only x and labels are known
  add_d_terms / add_g_terms             their extra loss terms and metrics
  eval_terms(q, codes)                  extra per-example eval metrics
  sample_grids(render, latent, rng)     the image grids that show what the condition does
  default_labels(n), given_codes(...)   what a user's `sample` call leaves out
  codes_from_q(q)                       Q's reading of the codes (InfoCodes only)
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from genjax.config import ConfigDict
from genjax.errors import UserError
from genjax.methods import gan_losses

# render(z, g_cond, rows, cols) -> a grid [rows, cols, *data_shape] of G's samples.
Render = Callable[[jax.Array, "jax.Array | None", int, int], jax.Array]
# latent(rng, n) -> z [n, latent_dim].
Latent = Callable[[jax.Array, int], jax.Array]


def sample_latent(rng: jax.Array, n: int, dim: int, dist: str) -> jax.Array:
  """n latents z [n, dim]: N(0, I) for "normal", U(-1, 1)^dim for "uniform"."""
  if dist == "normal":
    return jax.random.normal(rng, (n, dim))
  return jax.random.uniform(rng, (n, dim), minval=-1.0, maxval=1.0)


@dataclasses.dataclass(frozen=True)
class LatentPrior:
  """p(z): `dim` independent N(0, 1) ("normal") or U(-1, 1) ("uniform") latents."""
  dim: int
  dist: str

  def sample(self, rng: jax.Array, n: int) -> jax.Array:
    """n latents z [n, dim]."""
    return sample_latent(rng, n, self.dim, self.dist)


class Codes(NamedTuple):
  """InfoGAN codes for a batch: categories c1 int [B], continuous c2.. [B, M]."""
  categories: jax.Array
  continuous: jax.Array


class Inputs(NamedTuple):
  """One draw of what G and D are given: z, their conditions and the codes."""
  z: jax.Array
  g_cond: jax.Array | None
  d_cond: jax.Array | None
  codes: Codes | None


class Conditioning:
  """The interface every strategy has; these defaults add nothing (G(z), D(x))."""
  class_conditional = False  # whether G and D take class labels
  num_categories = 0  # InfoGAN categories c1 (0: none)
  infers_codes = False  # whether D has a Q head that predicts codes

  def draw_codes(self, key_cat: jax.Array, key_cont: jax.Array, n: int) -> Codes | None:
    """n draws of the codes from their prior (None: this strategy has no codes)."""
    del key_cat, key_cont, n
    return None

  def conditions(self, labels: jax.Array | None, codes: Codes | None):
    """(G's condition, D's condition) for a batch with these labels and codes."""
    del labels, codes
    return None, None

  def discriminator_condition(self, labels: jax.Array | None) -> jax.Array | None:
    """D's condition for images with these (user-given) labels."""
    del labels
    return None

  def add_d_terms(self, loss: jax.Array, metrics: dict, q, codes):
    """D's loss and metrics with this strategy's terms added (none here)."""
    del q, codes
    return loss, metrics

  def add_g_terms(self, loss: jax.Array, metrics: dict, q, codes):
    """G's loss and metrics with this strategy's terms added (none here)."""
    del q, codes
    return loss, metrics

  def eval_terms(self, q, codes) -> dict[str, jax.Array]:
    """Extra per-example [B] eval metrics from Q's output on G's samples."""
    del q, codes
    return {}

  def sample_grids(self, render: Render, latent: Latent, rng: jax.Array):
    """{"samples": an 8 x 8 grid}: `render(z, g_cond, rows, cols)` draws a grid."""
    return {"samples": render(latent(rng, 64), None, 8, 8)}

  def default_labels(self, n: int) -> jax.Array:
    """Labels for an unlabelled `sample(n)` call."""
    return jnp.zeros((n,), jnp.int32)

  def given_codes(self, drawn: Codes | None, given) -> Codes | None:
    """The codes a `sample` call uses: the drawn ones, with any given parts."""
    del given
    return drawn


class Unconditional(Conditioning):
  """No condition: G(z), D(x)."""


@dataclasses.dataclass(frozen=True)
class ClassConditional(Conditioning):
  """G(z, y) and D(x, y) with y the one-hot class of the batch."""
  num_classes: int
  class_conditional = True

  def conditions(self, labels, codes):
    del codes
    y = jax.nn.one_hot(labels, self.num_classes)
    return y, y

  def discriminator_condition(self, labels):
    if labels is None:
      raise UserError("this conditional GAN's discriminator needs labels: "
                      "discriminate(x, labels)")
    return jax.nn.one_hot(jnp.asarray(labels, jnp.int32), self.num_classes)

  def sample_grids(self, render, latent, rng):
    """One row per class, one z per column: the style is fixed along a column."""
    k = self.num_classes
    z = jnp.tile(latent(rng, 10)[None], (k, 1, 1)).reshape(k * 10, -1)
    y = jax.nn.one_hot(jnp.repeat(jnp.arange(k), 10), k)
    return {"samples_by_class": render(z, y, k, 10)}

  def default_labels(self, n):
    """Balanced classes 0, 1, .., K-1, 0, ..."""
    return jnp.arange(n) % self.num_classes


@dataclasses.dataclass(frozen=True)
class InfoCodes(Conditioning):
  """InfoGAN: G(z, c) with c = [one-hot c1, c2..]; D's Q head predicts c from G(z, c).

  Attributes:
    num_categories: K, the categories of c1 (0: no categorical code).
    num_continuous: M, the continuous codes c2.. ~ U(-1, 1).
    info_weight: lambda, the weight of L_I in both players' losses.
    continuous_weight: the weight of the continuous codes' term inside L_I.
  """
  num_categories: int = 0
  num_continuous: int = 0
  info_weight: float = 1.0
  continuous_weight: float = 1.0
  infers_codes = True

  def draw_codes(self, key_cat, key_cont, n):
    categories = jax.random.randint(key_cat, (n,), 0, max(self.num_categories, 1))
    continuous = jax.random.uniform(key_cont, (n, self.num_continuous), minval=-1.0, maxval=1.0)
    return Codes(categories, continuous)

  def conditions(self, labels, codes):
    del labels
    k = self.num_categories
    parts = ([jax.nn.one_hot(codes.categories, k)] if k else []) + [codes.continuous]
    return jnp.concatenate(parts, -1), None

  def info_loss(self, q: jax.Array, codes: Codes) -> jax.Array:
    """L_I [B] of Q's predictions q [B, K + M] for the codes G was given."""
    return gan_losses.info_loss_per_example(q, codes.categories, codes.continuous,
                                            self.num_categories, self.continuous_weight)

  def add_d_terms(self, loss, metrics, q, codes):
    """Q is trained with D: D's loss gains lambda * L_I."""
    info_loss = jnp.mean(self.info_loss(q, codes))
    return loss + self.info_weight * info_loss, {**metrics, "d_info_loss": info_loss}

  def add_g_terms(self, loss, metrics, q, codes):
    """G's loss gains lambda * L_I; the categorical bound is logged as `mi_lower_bound`."""
    info_loss = jnp.mean(self.info_loss(q, codes))
    metrics = {**metrics, "info_loss": info_loss}
    if self.num_categories:
      metrics["mi_lower_bound"] = gan_losses.categorical_mi_lower_bound(
          q, codes.categories, self.num_categories)
    return loss + self.info_weight * info_loss, metrics

  def eval_terms(self, q, codes):
    if not self.num_categories:
      return {}
    return {"mi_lower_bound": gan_losses.categorical_mi_lower_bound_per_example(
        q, codes.categories, self.num_categories)}

  def sample_grids(self, render, latent, rng):
    """c1 by row (one z per column), and each c2.. traversed -2..2 by column per c1."""
    k, m = max(self.num_categories, 1), self.num_continuous
    categories = jnp.repeat(jnp.arange(k), 10)
    grids = {}
    if self.num_categories:
      z = jnp.tile(latent(rng, 10)[None], (k, 1, 1)).reshape(k * 10, -1)
      cond, _ = self.conditions(None, Codes(categories, jnp.zeros((k * 10, m))))
      grids["c1_traversal"] = render(z, cond, k, 10)
    values = jnp.linspace(-2.0, 2.0, 10)  # beyond the training range (-1, 1) too
    z_rows = jnp.repeat(latent(jax.random.fold_in(rng, 1), k), 10, axis=0)
    for j in range(m):
      continuous = jnp.zeros((k * 10, m)).at[:, j].set(jnp.tile(values, k))
      cond, _ = self.conditions(None, Codes(categories, continuous))
      grids[f"c{j + 2}_traversal"] = render(z_rows, cond, k, 10)
    return grids

  def given_codes(self, drawn, given):
    """`given` = (c1 int [n] or None, c_cont [n, M] or None); None parts stay drawn."""
    if given is None:
      return drawn
    categories, continuous = given
    return Codes(
        drawn.categories if categories is None else jnp.asarray(categories, jnp.int32),
        drawn.continuous if continuous is None else jnp.asarray(continuous, jnp.float32))

  def codes_from_q(self, q: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(category probabilities [N, K], continuous means [N, M]) from Q's output."""
    return jax.nn.softmax(q[:, :self.num_categories], -1), q[:, self.num_categories:]


def make_conditioning(model: ConfigDict, gan: ConfigDict, num_classes: int) -> Conditioning:
  """The strategy the model group asks for.

  Args:
    model: the model group (`conditional`, `info_categories`, `info_continuous`).
    gan: the gan group (`info_weight`, `info_continuous_weight`).
    num_classes: classes of the dataset (for the class-conditional GAN).
  """
  if model.conditional:
    return ClassConditional(num_classes)
  if model.info_categories or model.info_continuous:
    return InfoCodes(model.info_categories, model.info_continuous, gan.info_weight,
                     gan.info_continuous_weight)
  return Unconditional()


def draw_inputs(rng: jax.Array, labels: jax.Array, prior: LatentPrior,
                conditioning: Conditioning) -> Inputs:
  """z, both conditions and the codes for a batch whose real labels are `labels`.

  The key is split three ways whatever the strategy, so z depends on `rng`
  alone: the same key renders the same z under any codes.
  """
  n = labels.shape[0]
  key_z, key_cat, key_cont = jax.random.split(rng, 3)
  z = prior.sample(key_z, n)
  codes = conditioning.draw_codes(key_cat, key_cont, n)
  return Inputs(z, *conditioning.conditions(labels, codes), codes)
