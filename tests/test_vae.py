"""VAE: the analytic KL, IWAE bounds against an exact likelihood, gradients, training."""

from __future__ import annotations

import json
import math

import genjax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.stats import multivariate_normal

from genjax import methods, train, writers
from genjax.evaluation import likelihood as lik
from genjax.evaluation import registry
from genjax.methods import vae
from conftest import load_config, requires_mnist


def test_analytic_kl_matches_monte_carlo():
  k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
  mean = jax.random.normal(k1, (3, 4))
  log_variance = jax.random.normal(k2, (3, 4)) - 0.5
  z, eps = vae.sample_posterior(k3, mean, log_variance, 200_000)
  # KL = E_q[log q(z|x) - log p(z)], estimated from the same draws.
  samples = (lik.diagonal_gaussian_log_prob(z, mean, log_variance)
             - lik.standard_normal_log_prob(z))
  mc, se = samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])
  exact = lik.gaussian_kl_to_standard_normal(mean, log_variance)
  assert np.all(np.asarray(exact) > 0)
  np.testing.assert_array_less(np.abs(mc - exact), 4 * se + 1e-4)
  # log q from the noise equals the density evaluated at z.
  np.testing.assert_allclose(vae.posterior_log_prob_from_noise(eps[:10], log_variance),
                             lik.diagonal_gaussian_log_prob(z[:10], mean, log_variance),
                             rtol=1e-5, atol=1e-4)


def _linear_gaussian(latent_dim, data_dim=3, seed=0, sigma=0.5):
  """p(z) = N(0, I), p(x|z) = N(Wz + b, sigma^2 I): log p(x) in closed form."""
  kw, kb, kz, kx = jax.random.split(jax.random.key(seed), 4)
  w = jax.random.normal(kw, (data_dim, latent_dim))
  b = jax.random.normal(kb, (data_dim,))
  z = jax.random.normal(kz, (latent_dim,))
  x = w @ z + b + sigma * jax.random.normal(kx, (data_dim,))
  exact = multivariate_normal.logpdf(x, b, w @ w.T + sigma**2 * jnp.eye(data_dim))
  # The exact posterior N(m, S): S = (I + W^T W / sigma^2)^-1, m = S W^T (x - b) / sigma^2.
  post_cov = jnp.linalg.inv(jnp.eye(latent_dim) + w.T @ w / sigma**2)
  post_mean = post_cov @ w.T @ (x - b) / sigma**2
  return dict(w=w, b=b, x=x, sigma=sigma, exact=exact, post_mean=post_mean,
              post_cov=post_cov)


def _log_weight_fn(model, q_mean, q_log_variance, repeats):
  """(rng, n) -> [n, repeats] log-weights: `repeats` independent estimates."""
  log_sigma2 = 2 * math.log(model["sigma"])

  def fn(rng, n):
    z, _ = vae.sample_posterior(rng, jnp.broadcast_to(q_mean, (repeats,) + q_mean.shape),
                                q_log_variance, n)
    loc = z @ model["w"].T + model["b"]
    log_px_z = lik.gaussian_log_prob(model["x"], loc, log_sigma2, event_ndims=1)
    return (log_px_z + lik.standard_normal_log_prob(z)
            - lik.diagonal_gaussian_log_prob(z, q_mean, q_log_variance))
  return fn


def test_iwae_bound_grows_with_k_and_stays_below_exact_log_likelihood():
  model = _linear_gaussian(latent_dim=2)
  # A deliberately imperfect diagonal proposal (the true posterior is
  # correlated), so the bounds are strictly below log p(x).
  q_mean = model["post_mean"] + 0.3
  q_log_variance = jnp.log(jnp.diag(model["post_cov"]))
  fn = _log_weight_fn(model, q_mean, q_log_variance, repeats=4000)
  exact = float(model["exact"])
  means = []
  for k in (1, 5, 50, 500):
    estimates = lik.importance_sampled_log_likelihood(
        fn, jax.random.key(k), num_samples=k, chunk_size=k if k < 50 else 10)
    mean, se = float(estimates.mean()), float(estimates.std()) / math.sqrt(estimates.size)
    assert mean <= exact + 3 * se, (k, mean, exact)
    means.append(mean)
  assert all(a < b for a, b in zip(means, means[1:])), means
  assert exact - means[0] > 0.1  # the ELBO gap is real ...
  assert exact - means[-1] < 0.1 * (exact - means[0])  # ... and IWAE closes it


def test_exact_posterior_makes_every_bound_exact():
  # One latent: the exact posterior is a diagonal Gaussian, every weight is p(x).
  model = _linear_gaussian(latent_dim=1, seed=3)
  fn = _log_weight_fn(model, model["post_mean"], jnp.log(jnp.diag(model["post_cov"])), 8)
  for k in (1, 20):
    estimates = lik.importance_sampled_log_likelihood(fn, jax.random.key(0), k, 1 if k == 1 else 5)
    np.testing.assert_allclose(estimates, model["exact"], atol=1e-4)


def test_chunked_estimate_equals_one_logsumexp_over_all_samples():
  fn = lambda rng, n: 30.0 * jax.random.normal(rng, (n, 7)) - 100.0
  rng = jax.random.key(1)
  chunked = lik.importance_sampled_log_likelihood(fn, rng, 40, 8)
  all_weights = jnp.concatenate([fn(jax.random.fold_in(rng, i), 8) for i in range(5)])
  np.testing.assert_allclose(chunked, lik.iwae_bound(all_weights, axis=0), rtol=1e-6, atol=1e-4)
  with pytest.raises(ValueError, match="multiple of chunk_size"):
    lik.importance_sampled_log_likelihood(fn, rng, 40, 7)


def test_importance_sampling_variance_predicts_the_spread_of_the_estimate():
  # 4000 independent estimates (the B axis) from lognormal weights, k = 200:
  # the delta-method variance from each estimate's own weights must match
  # the spread of the estimates across draws.
  fn = lambda rng, n: 0.8 * jax.random.normal(rng, (n, 4000)) - 90.0
  estimates, variances = lik.importance_sampled_log_likelihood(
      fn, jax.random.key(3), 200, 50, with_variance=True)
  empirical = float(jnp.var(estimates))
  predicted = float(jnp.mean(variances))
  assert predicted == pytest.approx((math.exp(0.8 ** 2) - 1) / 200, rel=0.1)
  assert empirical == pytest.approx(predicted, rel=0.1)
  # Equal weights: no sampling error at all.
  _, flat = lik.importance_sampled_log_likelihood(
      lambda rng, n: jnp.full((n, 3), -50.0), jax.random.key(0), 20, 5, with_variance=True)
  np.testing.assert_allclose(flat, 0.0, atol=1e-6)


def _tiny_model(**model_overrides):
  config = load_config("vae_mnist", "runlocal")
  config.model.update(dict(hidden=(5,), latent_dim=2, activation="tanh", **model_overrides))
  likelihood = vae.likelihood_from_config(config.model)
  model = vae.make_model(config, (2, 3, 1), likelihood)
  x = (jax.random.uniform(jax.random.key(1), (4, 2, 3, 1)) > 0.5).astype(jnp.float32)
  params = model.init(jax.random.key(0), x)["params"]
  return model, params, likelihood, x


def test_the_conv_log_likelihood_decoded_in_blocks_equals_one_pass():
  config = load_config("conv_vae_mnist", "runlocal")
  likelihood = vae.likelihood_from_config(config.model)
  model = vae.make_model(config, (8, 8, 1), likelihood)
  x = (jax.random.uniform(jax.random.key(1), (5, 8, 8, 1)) > 0.5).astype(jnp.float32)
  params = model.init(jax.random.key(0), x)["params"]
  blocked, one_block, whole = (
      jax.jit(vae._make_log_likelihood(model, likelihood, decode_rows=rows),
              static_argnums=(3, 4)) for rows in (4, 32, None))
  args = (params, x, jax.random.key(2), 6, 3)  # 3 samples x 5 examples = 15 rows a chunk
  # Blocks of 4 (the last one short), and fewer rows than one block.
  np.testing.assert_allclose(blocked(*args), whole(*args), rtol=1e-5)
  np.testing.assert_allclose(one_block(*args), whole(*args), rtol=1e-5)


def test_gradients_flow_through_the_reparameterisation():
  model, params, likelihood, x = _tiny_model()
  rng = jax.random.key(2)

  # Only the reconstruction term: the encoder can reach it only through
  # z = mean + exp(log_variance / 2) * eps.
  def recon(encoder_params):
    p = {**params, "encoder": encoder_params}
    return -vae.objective_terms(model, p, x, rng, likelihood, 3)["log_px_z"].mean()

  recon = jax.jit(recon)
  grads = jax.jit(jax.grad(recon))(params["encoder"])
  for head in ("mean", "log_variance"):
    assert float(jnp.abs(grads[head]["kernel"]).sum()) > 1e-4, head
  direction = jax.tree.map(lambda g: jax.random.normal(jax.random.key(3), g.shape), grads)
  h = 1e-2
  plus = jax.tree.map(lambda p, d: p + h * d, params["encoder"], direction)
  minus = jax.tree.map(lambda p, d: p - h * d, params["encoder"], direction)
  finite_difference = (recon(plus) - recon(minus)) / (2 * h)
  analytic = sum(jnp.vdot(g, d) for g, d in zip(jax.tree.leaves(grads),
                                                jax.tree.leaves(direction)))
  np.testing.assert_allclose(finite_difference, analytic, rtol=2e-2)


def test_kl_warmup_ramps_linearly():
  assert float(vae.kl_weight(jnp.int32(0), 2.0, 100)) == 0.0
  assert float(vae.kl_weight(jnp.int32(50), 2.0, 100)) == pytest.approx(1.0)
  assert float(vae.kl_weight(jnp.int32(500), 2.0, 100)) == pytest.approx(2.0)
  assert float(vae.kl_weight(jnp.int32(0), 0.5, 0)) == pytest.approx(0.5)


@pytest.mark.parametrize("variance", ["fixed", "learned", "predicted"])
def test_gaussian_decoders_train(variance):
  config = load_config("vae_mnist", "runlocal", **{
      "model.likelihood": "gaussian", "model.gaussian_variance": variance,
      "loss.objective": "iwae", "loss.num_samples": 3, "loss.kl_warmup_steps": 10})
  info = methods.DataInfo(image_shape=(4, 4, 1), num_classes=10, num_train=64)
  method = methods.build(config, data_info=info, num_train_steps=10)
  x = jax.random.uniform(jax.random.key(0), (8, 4, 4, 1))
  state = method.init(jax.random.key(1), {"image": x})
  assert ("pixel_log_variance" in state.params) == (variance == "learned")
  step = jax.jit(method.train_step)
  for i in range(5):
    state, metrics = step(state, {"image": x}, jax.random.key(i))
  assert int(state.step) == 5
  assert float(metrics["kl_weight"]) == pytest.approx(0.4)
  assert all(np.isfinite(float(v)) for v in metrics.values())
  # A fixed sigma = 0.1 Gaussian: log p(x|z) by hand.
  if variance == "fixed":
    logits = jnp.zeros((4, 4, 1))
    expected = np.sum(-0.5 * ((x[0] - 0.5) / 0.1) ** 2 - math.log(0.1 * math.sqrt(2 * math.pi)))
    got = vae.likelihood_from_config(config.model).log_prob((logits,), x[0])
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_manifold_latents_cover_equal_prior_mass():
  z = vae.manifold_latents(5)
  assert z.shape == (5, 5, 2)
  np.testing.assert_allclose(jax.scipy.stats.norm.cdf(z[0, :, 0]), np.linspace(0.01, 0.99, 5),
                             atol=1e-5)
  assert float(z[0, 0, 1]) > float(z[-1, 0, 1])  # top row is high z_2


@requires_mnist
def test_trained_runlocal_beats_untrained(tmp_path):
  config = load_config("vae_mnist", "runlocal")
  trainer, _ = train.build(config)
  ds, rng = trainer.dataset, jax.random.key(0)
  state = trainer.init_state(rng)
  untrained = float(trainer.evaluate(state, ds.eval, rng)["neg_elbo"])
  final = train.train_and_evaluate(config, str(tmp_path))
  assert final["neg_elbo"] < untrained - 100, (final, untrained)
  result = json.loads((tmp_path / "final_metrics.json").read_text())
  extras = result["final"]
  # log p(x) >= IWAE-k >= ELBO in expectation: the estimated NLL sits below
  # the negative ELBO (k=20 here).
  assert extras["nll"] < final["neg_elbo"]
  assert final["iwae5_nll"] < final["neg_elbo"]  # the runlocal variant's per-eval IWAE-5
  # The same NLL, recomputed through the public API with its variances.
  m = genjax.load(str(tmp_path))
  log_p, var = m.log_likelihood(ds.images("eval"), k=extras["nll_samples"], seed=0,
                                return_variance=True)
  k = extras["nll_samples"]
  assert np.all((var > 0) & (var <= (k - 1) / k + 1e-6))  # 0: equal weights; (k-1)/k: one
  assert extras["nll_is_stderr"] == pytest.approx(np.sqrt(var.sum()) / len(var), rel=0.2)
  assert extras["nll_test_stderr"] == pytest.approx(np.std(log_p, ddof=1) / np.sqrt(len(log_p)),
                                                    rel=0.1)
  assert 1 <= extras["active_units"] <= config.model.latent_dim
  assert result["compilations"] == 1
  names = {p.name.split("_0")[0] for p in (tmp_path / "images").iterdir()}
  assert names == {"reconstructions", "samples", "interpolations"}
  assert writers.read_metrics(str(tmp_path), "final")


@requires_mnist
def test_conv_vae_with_2d_latent_trains_and_draws_its_latent_space(tmp_path):
  # The trainer's pieces directly (one build, few compilations): the loop
  # itself is covered by the MLP test above.
  config = load_config("conv_vae_mnist", "runlocal", **{"evals.nll.samples": 10})
  trainer, _ = train.build(config)
  ds, rng = trainer.dataset, jax.random.key(0)
  state = trainer.init_state(rng)
  state, metrics = trainer.train_chunk(state, ds.train, jnp.int32(0), rng, num_steps=10)
  assert float(metrics["neg_elbo"][-1]) < float(metrics["neg_elbo"][0])
  grids = trainer.images(state, trainer.image_batch(), rng)
  assert grids["manifold"].shape == (15, 15, 28, 28, 1)
  assert grids["samples"].shape == (8, 8, 28, 28, 1)
  model = train.trained_model(trainer, state, 10, str(tmp_path))
  _, extras = registry.run(sorted(config.evals), lambda name: registry.Context(
      model=model, dataset=ds, rng=registry.key_for(rng, name), workdir=str(tmp_path)))
  assert extras["latent_dim"] == 2 and np.isfinite(extras["nll"])
  # Ten training steps: the classifier reads at most a few digits there.
  # Each digit counted needs at least one confidently read cell of the
  # 20x20 grid, and one confident cell is one digit.
  classes, confident = extras["manifold_classes"], extras["manifold_confident_fraction"]
  assert classes == int(classes)
  assert classes <= round(confident * 20 * 20) and (classes > 0) == (confident > 0)
  for name in ("latent_manifold.png", "latent_scatter.png"):
    assert (tmp_path / "figures" / name).stat().st_size > 1000
