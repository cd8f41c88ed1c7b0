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
  feature_matching_loss
                       ||E f(x) - E f(G(z))||^2 on an intermediate D layer f
                       (Salimans et al. 2016): G matches the data's feature
                       statistics instead of maximising D's output.
  real_fake_logit, semi_supervised_d_loss
                       The semi-supervised GAN's D (Salimans et al. 2016): K
                       class logits l_k and an implicit fake class of logit 0,
                       so D(x) = Z / (Z + 1) with Z = sum_k exp(l_k), i.e.
                       logit D(x) = logsumexp(l); D's loss is the supervised
                       cross-entropy on labelled data plus a weighted
                       unsupervised real / fake loss of those logits.

Losses are means over the batch; the `_per_example` variants return [B]
values (what an eval step reports, so padded examples can be masked).
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import optax

GENERATOR_LOSSES = ("minimax", "non_saturating")  # functions of D's logits
# What `gan.generator_loss` may name: feature matching reads D's features instead.
GENERATOR_OBJECTIVES = GENERATOR_LOSSES + ("feature_matching",)


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
      "non_saturating": -log D = softplus(-l) ("feature_matching" has no
      per-sample form: see `feature_matching_loss`).

  Returns:
    An array shaped like `fake_logits`.

  Raises:
    ValueError: for a `kind` not in GENERATOR_LOSSES.
  """
  if kind == "minimax":
    return -jax.nn.softplus(fake_logits)
  if kind == "non_saturating":
    return jax.nn.softplus(-fake_logits)
  if kind == "feature_matching":
    raise ValueError("feature matching is not a function of D's logits: use "
                     "feature_matching_loss on D's features")
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


def feature_matching_loss(real_features: jax.Array, fake_features: jax.Array) -> jax.Array:
  """mean_features (mean_batch f(x) - mean_batch f(G(z)))^2, Salimans et al.'s generator loss.

  Averaged over the F features, as in their code: Adam undoes a constant
  scale of the loss except through its epsilon, which with their Adam
  (epsilon inside the square root, `optimizer.eps_root`) damps G's small
  gradients, so the scale is kept as theirs.

  Args:
    real_features: f(x) [B, F] on a real batch (no gradient is needed here).
    fake_features: f(G(z)) [B', F] on samples.

  Returns:
    A scalar; zero when the two batches have the same feature means.
  """
  gap = jnp.mean(real_features, 0) - jnp.mean(fake_features, 0)
  return jnp.mean(jnp.square(gap))


def real_fake_logit(class_logits: jax.Array) -> jax.Array:
  """logit D(x) = logsumexp_k l_k, so that sigmoid of it is Z / (Z + 1), Z = sum_k e^l_k.

  With an implicit (K+1)-th "fake" class of logit 0, p(real | x) = Z / (Z + 1)
  and p(class k | x, real) = softmax(l)_k: the GAN losses of
  `discriminator_loss` apply to this logit unchanged.

  Args:
    class_logits: [B, K].

  Returns:
    [B].
  """
  return jax.nn.logsumexp(class_logits, axis=-1)


def supervised_loss_per_example(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """-log p(y | x, real) = CE(softmax(l), y) per example [B]."""
  return optax.softmax_cross_entropy_with_integer_labels(class_logits, labels)


def classification_error_per_example(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """1.0 where argmax_k l_k differs from the label, else 0.0 [B]."""
  return (jnp.argmax(class_logits, -1) != labels).astype(jnp.float32)


def semi_supervised_d_loss(labelled_logits: jax.Array, labels: jax.Array,
                           real_logits: jax.Array, fake_logits: jax.Array,
                           unsupervised_weight: float) -> tuple[jax.Array, dict]:
  """The semi-supervised GAN's D loss: L_supervised + w * L_unsupervised.

  L_supervised = E_labelled CE(softmax(l(x)), y); L_unsupervised =
  `discriminator_loss` of the real / fake logits logsumexp(l)
  (`real_fake_logit`) on the unlabelled real batch and on G's samples.
  Salimans et al.'s code uses w = 1/2.

  Args:
    labelled_logits: class logits l [B_l, K] on the labelled batch.
    labels: its labels int [B_l].
    real_logits: logsumexp(l) [B] on the unlabelled real batch.
    fake_logits: logsumexp(l) [B'] on G's samples.
    unsupervised_weight: w >= 0.

  Returns:
    (the scalar loss, {"d_supervised_loss", "d_unsupervised_loss"}).
  """
  supervised = jnp.mean(supervised_loss_per_example(labelled_logits, labels))
  unsupervised = discriminator_loss(real_logits, fake_logits)
  loss = supervised + unsupervised_weight * unsupervised
  return loss, {"d_supervised_loss": supervised, "d_unsupervised_loss": unsupervised}
