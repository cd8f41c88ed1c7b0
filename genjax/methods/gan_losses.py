r"""GAN losses: pure functions of discriminator logits and Q-head outputs.

Every loss is computed from D's logit l (D = sigmoid(l)), never from a
probability, so no log of a saturated sigmoid is taken:

    log D = -softplus(-l),     log(1 - D) = -softplus(l).

  discriminator_loss   -E log D(x) - E log(1 - D(G(z)))
                       = E softplus(-l_real) + E softplus(l_fake);
                       2 ln 2 = 1.386 at the equilibrium D = 1/2.
  generator_loss       "minimax": G minimises E log(1 - D(G(z))); flat
                       (saturated) where D rejects confidently, l << 0.
                       "non_saturating": G minimises -E log D(G(z)); same
                       fixed point, strong gradients where G is bad.
  logits_and_r1        Mescheder et al. 2018's R1 penalty on real data.
  info_loss_per_example, categorical_mi_lower_bound
                       InfoGAN's L_I and the bound H(c1) - CE on I(c1; G(z, c)).

Losses are means over the batch; the `_per_example` variants return [B]
values (what an eval step reports, so padded examples can be masked).
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import optax

GENERATOR_LOSSES = ("minimax", "non_saturating")


def discriminator_loss_per_example(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """-log D(x) - log(1 - D(G(z))) per pair: softplus(-l_real) + softplus(l_fake)."""
  return jax.nn.softplus(-real_logits) + jax.nn.softplus(fake_logits)


def discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """D's loss, E softplus(-l_real) + E softplus(l_fake); 2 ln 2 when D = 1/2.

  Args:
    real_logits: logit D(x) [B] on real data.
    fake_logits: logit D(G(z)) [B'] on samples (B' may differ from B).

  Returns:
    A scalar.
  """
  return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def generator_loss_per_example(fake_logits: jax.Array, kind: str) -> jax.Array:
  """G's loss per sample from D's logits on G(z).

  Args:
    fake_logits: l = logit D(G(z)).
    kind: "minimax": log(1 - D) = -softplus(l) (saturates when D rejects);
      "non_saturating": -log D = softplus(-l).

  Returns:
    An array shaped like `fake_logits`.

  Raises:
    ValueError: for a `kind` not in GENERATOR_LOSSES.
  """
  if kind == "minimax":
    return -jax.nn.softplus(fake_logits)
  if kind == "non_saturating":
    return jax.nn.softplus(-fake_logits)
  raise ValueError(f"unknown generator loss {kind!r}; valid: {', '.join(GENERATOR_LOSSES)}")


def generator_loss(fake_logits: jax.Array, kind: str) -> jax.Array:
  """Mean of `generator_loss_per_example`: the scalar G minimises."""
  return jnp.mean(generator_loss_per_example(fake_logits, kind))


def logits_and_r1(logit_fn: Callable[[jax.Array], jax.Array],
                  x: jax.Array) -> tuple[jax.Array, jax.Array]:
  """D's logits on real data and the R1 penalty E_x ||grad_x logit(x)||^2 / 2.

  Mescheder et al. 2018's zero-centred gradient penalty: it damps D's slope
  where the data is, which stops the two players oscillating around the
  equilibrium (their Thm. 4.1). `logit_fn` must treat examples
  independently (no batch norm): each example's input gradient is then read
  off one backward pass of the summed logits.

  Args:
    logit_fn: x [B, ...] -> logits [B].
    x: the real batch.

  Returns:
    (logit_fn(x) [B], the penalty, a scalar).
  """
  def total(x):
    logits = logit_fn(x)
    return jnp.sum(logits), logits

  grads, logits = jax.grad(total, has_aux=True)(x)
  penalty = 0.5 * jnp.mean(jnp.sum(jnp.square(grads.reshape(grads.shape[0], -1)), -1))
  return logits, penalty


def info_loss_per_example(q: jax.Array, categories: jax.Array, continuous: jax.Array,
                          num_categories: int, continuous_weight: float) -> jax.Array:
  """InfoGAN's L_I per sample: CE of the category + weighted Gaussian NLL of the rest.

  The Gaussian Q for the continuous codes has unit variance, so its negative
  log-likelihood is sum_j (c_j - mu_j)^2 / 2 up to a constant.

  Args:
    q: Q head output [B, K + M]: K category logits, then M continuous means.
    categories: int [B] (ignored when K = 0).
    continuous: [B, M] codes in (-1, 1).
    num_categories: K.
    continuous_weight: weight of sum_j (c_j - mu_j)^2 / 2.

  Returns:
    [B].
  """
  loss = jnp.zeros(q.shape[0], q.dtype)
  if num_categories:
    loss = loss + optax.softmax_cross_entropy_with_integer_labels(
        q[:, :num_categories], categories)
  if continuous.shape[-1]:
    mu = q[:, num_categories:]
    loss = loss + continuous_weight * 0.5 * jnp.sum(jnp.square(continuous - mu), -1)
  return loss


def categorical_mi_lower_bound_per_example(q: jax.Array, categories: jax.Array,
                                           num_categories: int) -> jax.Array:
  """ln K - CE(c1, Q_cat) per sample; its mean bounds I(c1; G(z, c)) from below.

  Args:
    q: Q head output [B, K + M]; only the first K (category logits) are read.
    categories: the categories c1 int [B] that G was given.
    num_categories: K >= 1.

  Returns:
    [B]; the bound's ceiling is H(c1) = ln K (2.30 for K = 10).
  """
  ce = optax.softmax_cross_entropy_with_integer_labels(q[:, :num_categories], categories)
  return math.log(num_categories) - ce


def categorical_mi_lower_bound(q: jax.Array, categories: jax.Array,
                               num_categories: int) -> jax.Array:
  """ln K - E CE(c1, Q_cat), the batch's bound on I(c1; G(z, c)) (see the per-example one)."""
  ce = optax.softmax_cross_entropy_with_integer_labels(q[:, :num_categories], categories)
  return math.log(num_categories) - jnp.mean(ce)
