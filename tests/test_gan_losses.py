"""GAN losses against values computed by hand (genjax/methods/gan_losses.py)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.methods import gan_losses as losses

LN2 = math.log(2.0)
SP1, SP2 = math.log1p(math.exp(-1.0)), math.log1p(math.exp(-2.0))  # softplus(-1), softplus(-2)


def test_discriminator_loss_by_hand():
  real, fake = jnp.array([0.0, 2.0]), jnp.array([0.0, -1.0])
  # -log sigmoid(0) = ln 2; -log sigmoid(2) = log(1 + e^-2);
  # -log(1 - sigmoid(0)) = ln 2; -log(1 - sigmoid(-1)) = log(1 + e^-1).
  expected = (LN2 + SP2) / 2 + (LN2 + SP1) / 2
  assert float(losses.discriminator_loss(real, fake)) == pytest.approx(expected, rel=1e-6)
  np.testing.assert_allclose(losses.discriminator_loss_per_example(real, fake),
                             [2 * LN2, SP2 + SP1], rtol=1e-6)


def test_discriminator_loss_at_equilibrium_is_two_ln_two():
  # D = 1/2 everywhere (logit 0): -log(1/2) - log(1/2).
  assert float(losses.discriminator_loss(jnp.zeros(5), jnp.zeros(3))) == pytest.approx(
      2 * LN2, rel=1e-6)
  # Its gradient pushes real logits up and fake logits down, by sigmoid(0) / B.
  g_real, g_fake = jax.grad(losses.discriminator_loss, argnums=(0, 1))(jnp.zeros(4),
                                                                        jnp.zeros(2))
  np.testing.assert_allclose(g_real, -0.5 / 4, rtol=1e-6)
  np.testing.assert_allclose(g_fake, 0.5 / 2, rtol=1e-6)


def test_generator_losses_by_hand():
  fake = jnp.array([-1.0])
  # minimax: log(1 - D) = log(1 - sigmoid(-1)) = -log(1 + e^-1).
  assert float(losses.generator_loss(fake, "minimax")) == pytest.approx(-SP1, rel=1e-6)
  # non-saturating: -log D = -log sigmoid(-1) = log(1 + e).
  assert float(losses.generator_loss(fake, "non_saturating")) == pytest.approx(
      math.log1p(math.e), rel=1e-6)
  # softplus(-l) - softplus(l) = -l: the two losses differ by -l per example.
  logits = jnp.array([-3.0, -0.5, 0.0, 2.0])
  total = (losses.generator_loss_per_example(logits, "non_saturating")
           + losses.generator_loss_per_example(logits, "minimax"))
  np.testing.assert_allclose(total, -logits, atol=1e-6)
  with pytest.raises(ValueError, match="unknown generator loss"):
    losses.generator_loss(fake, "wasserstein")


def test_minimax_saturates_where_non_saturating_does_not():
  # D confidently rejects G's sample: l = -10, D(G(z)) = 4.5e-5.
  grad = lambda kind: float(jax.grad(lambda l: losses.generator_loss(l, kind))(jnp.array(-10.0)))
  # minimax: d/dl [-softplus(l)] = -sigmoid(l) = -1 / (1 + e^10), vanishing.
  assert grad("minimax") == pytest.approx(-1 / (1 + math.exp(10)), rel=1e-4)
  # non-saturating: d/dl softplus(-l) = -sigmoid(-l) ~ -1.
  assert grad("non_saturating") == pytest.approx(-1 / (1 + math.exp(-10)), rel=1e-4)
  # Both move G the same way (raise l), with strengths in ratio e^10.
  assert grad("non_saturating") / grad("minimax") == pytest.approx(math.exp(10), rel=1e-3)


def test_losses_are_finite_at_extreme_logits():
  extreme = jnp.array([-200.0, 200.0])
  for kind in losses.GENERATOR_LOSSES:
    values = losses.generator_loss_per_example(extreme, kind)
    assert np.all(np.isfinite(values))
    assert np.all(np.isfinite(jax.grad(lambda l: losses.generator_loss(l, kind))(extreme)))
  # -log sigmoid(-200) = 200, which a log of the saturated probability would make inf.
  np.testing.assert_allclose(losses.generator_loss_per_example(extreme, "non_saturating"),
                             [200.0, 0.0], atol=1e-6)
  assert float(losses.discriminator_loss(extreme, extreme)) == pytest.approx(200.0, rel=1e-6)


def test_r1_penalty_by_hand():
  x = jnp.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
  w = jnp.array([0.5, -1.0, 2.0])
  logits, r1 = losses.logits_and_r1(lambda x: x @ w, x)
  # A linear D has input gradient w at every point: R1 = |w|^2 / 2 = 5.25 / 2.
  np.testing.assert_allclose(logits, x @ w, rtol=1e-6)
  assert float(r1) == pytest.approx(2.625, rel=1e-6)
  # logit = sum x^2 has gradient 2x: R1 = mean_i 4 |x_i|^2 / 2 = mean(28, 2.5).
  _, r1 = losses.logits_and_r1(lambda x: jnp.sum(x * x, -1), x)
  assert float(r1) == pytest.approx(15.25, rel=1e-6)
  # Images [B, H, W, C]: 4 pixels each with gradient 3, so R1 = 4 * 9 / 2.
  _, r1 = losses.logits_and_r1(lambda x: 3.0 * jnp.sum(x, (1, 2, 3)), jnp.ones((2, 2, 2, 1)))
  assert float(r1) == pytest.approx(18.0, rel=1e-6)


def test_info_loss_by_hand():
  q = jnp.array([[0.0, 0.0, 1.0, -1.0]])  # 2 category logits, 2 continuous means
  loss = losses.info_loss_per_example(q, jnp.array([1]), jnp.array([[0.0, 1.0]]), 2, 0.5)
  # CE of a uniform 2-way softmax = ln 2; 0.5 * ((0-1)^2 + (1+1)^2) / 2 = 1.25.
  assert float(loss[0]) == pytest.approx(LN2 + 1.25, rel=1e-6)
  # Categories only: CE of logits (2, 0) for class 0 = log(1 + e^-2).
  only_cat = losses.info_loss_per_example(jnp.array([[2.0, 0.0]]), jnp.array([0]),
                                          jnp.zeros((1, 0)), 2, 1.0)
  assert float(only_cat[0]) == pytest.approx(SP2, rel=1e-6)
  # Continuous codes only (K = 0): the categories are ignored.
  only_cont = losses.info_loss_per_example(jnp.array([[0.5]]), jnp.array([7]),
                                           jnp.array([[-0.5]]), 0, 2.0)
  assert float(only_cont[0]) == pytest.approx(2.0 * 0.5 * 1.0, rel=1e-6)


def test_categorical_mi_lower_bound_by_hand():
  k = 4
  codes = jnp.array([0, 3])
  # A Q that is sure of the right category reaches the ceiling H(c1) = ln K.
  sure = 50.0 * jax.nn.one_hot(codes, k)
  assert float(losses.categorical_mi_lower_bound(sure, codes, k)) == pytest.approx(
      math.log(k), rel=1e-5)
  # A uniform Q carries no information: the bound is 0.
  assert float(losses.categorical_mi_lower_bound(jnp.zeros((2, k + 1)), codes, k)) == (
      pytest.approx(0.0, abs=1e-6))
  # Per example: ln 4 - CE; here logits (ln 3, 0, 0, 0) -> p(c=0) = 1/2, so ln 4 - ln 2.
  q = jnp.array([[math.log(3.0), 0.0, 0.0, 0.0, 9.0]])  # the last column is a continuous mean
  per_example = losses.categorical_mi_lower_bound_per_example(q, jnp.array([0]), k)
  assert float(per_example[0]) == pytest.approx(LN2, rel=1e-5)


# ---- semi-supervised GAN (Salimans et al. 2016) -------------------------------


def test_real_fake_probability_is_z_over_z_plus_one():
  # l = (0, ln 3): Z = e^0 + e^ln3 = 4, so D(x) = 4 / 5 and p(y | x, real) = (1/4, 3/4).
  logits = jnp.array([[0.0, math.log(3.0)], [0.0, 0.0]])
  d = jax.nn.sigmoid(losses.real_fake_logit(logits))
  np.testing.assert_allclose(d, [4 / 5, 2 / 3], rtol=1e-6)
  np.testing.assert_allclose(jax.nn.softmax(logits, -1), [[0.25, 0.75], [0.5, 0.5]],
                             rtol=1e-6)
  # Ten equal logits of 0: Z = 10, D = 10/11; shifting every logit by c
  # scales Z by e^c but leaves the class posterior alone.
  ten = jnp.zeros((1, 10))
  assert float(jax.nn.sigmoid(losses.real_fake_logit(ten))[0]) == pytest.approx(10 / 11)
  assert float(jax.nn.sigmoid(losses.real_fake_logit(ten - math.log(10)))[0]) == pytest.approx(
      0.5, rel=1e-6)


def test_supervised_terms_by_hand():
  logits, labels = jnp.array([[0.0, math.log(3.0)], [2.0, 0.0]]), jnp.array([1, 1])
  # -log(3/4) and -log(1 / (1 + e^2)) = log(1 + e^2).
  np.testing.assert_allclose(losses.supervised_loss_per_example(logits, labels),
                             [math.log(4 / 3), math.log1p(math.exp(2.0))], rtol=1e-6)
  np.testing.assert_array_equal(losses.classification_error_per_example(logits, labels),
                                [0.0, 1.0])


def test_semi_supervised_d_loss_by_hand():
  labelled, labels = jnp.array([[0.0, math.log(3.0)]]), jnp.array([1])
  real = losses.real_fake_logit(jnp.array([[0.0, 0.0]]) - LN2)  # Z = 1: D = 1/2
  fake = jnp.array([0.0, -1.0])
  loss, parts = losses.semi_supervised_d_loss(labelled, labels, real, fake, 0.5)
  unsupervised = LN2 + (LN2 + SP1) / 2
  assert float(parts["d_supervised_loss"]) == pytest.approx(math.log(4 / 3), rel=1e-6)
  assert float(parts["d_unsupervised_loss"]) == pytest.approx(unsupervised, rel=1e-6)
  assert float(loss) == pytest.approx(math.log(4 / 3) + 0.5 * unsupervised, rel=1e-6)
  # Weight 0: the labels alone.
  loss0, _ = losses.semi_supervised_d_loss(labelled, labels, real, fake, 0.0)
  assert float(loss0) == pytest.approx(math.log(4 / 3), rel=1e-6)


def test_feature_matching_loss_by_hand():
  # Different batches with equal feature means: zero.
  real = jnp.array([[0.0, 2.0], [2.0, 0.0]])
  assert float(losses.feature_matching_loss(real, jnp.array([[1.0, 1.0]]))) == 0.0
  # Means (1, 0) and (0, 1): squared gaps 1 and 1, averaged over the 2 features.
  fake = jnp.array([[0.0, 0.0], [0.0, 2.0]])
  assert float(losses.feature_matching_loss(jnp.array([[1.0, 0.0]]), fake)) == pytest.approx(1.0)
  # Its gradient moves each fake feature towards the real mean, by 2 * gap / (B * F).
  grad = jax.grad(losses.feature_matching_loss, argnums=1)(jnp.array([[1.0, 0.0]]), fake)
  np.testing.assert_allclose(grad, [[-0.5, 0.5], [-0.5, 0.5]], rtol=1e-6)
  with pytest.raises(ValueError, match="feature_matching_loss"):
    losses.generator_loss_per_example(fake[:, 0], "feature_matching")
