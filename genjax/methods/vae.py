r"""Variational autoencoders (Kingma & Welling 2014) and the IWAE bound (Burda et al. 2016).

Model: p(z) = N(0, I), a decoder p(x|z) (Bernoulli for binary pixels,
Gaussian for continuous ones), and an encoder q(z|x) = N(mu(x), diag(s^2(x)))
that outputs mu and log s^2. Training maximises the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x),

with the KL in closed form and the expectation estimated by the
reparameterisation z = mu + exp(log s^2 / 2) * eps, eps ~ N(0, I): z is a
differentiable function of the encoder outputs, so one backward pass gives
low-variance gradients for encoder and decoder together.

Options (config groups `model`, `loss`, `eval`):

* `loss.objective="iwae"` trains on L_k = E[log (1/k) sum_i w_i],
  w_i = p(x|z_i) p(z_i) / q(z_i|x), a tighter bound for k > 1 (k =
  `loss.num_samples`; with "elbo", k samples are averaged instead).
* `loss.beta` weights the KL (beta-VAE); `loss.kl_warmup_steps` ramps that
  weight linearly from 0 (a step counter lives in the state). Under IWAE the
  weight multiplies log p(z) - log q(z|x) inside each weight.
* `model.likelihood="gaussian"` with `model.gaussian_variance` "fixed"
  (`model.gaussian_std`), "learned" (one free log-variance per pixel) or
  "predicted" (the decoder outputs it from z). Gaussian means pass through a
  sigmoid, since pixels lie in [0, 1]. Continuous log-densities are not
  comparable with the discrete nats of Bernoulli models.

Evaluation, all in nats per image: `eval_step` returns the single-sample test
negative ELBO, its reconstruction and KL terms. The default evaluators
(`config.evals`, genjax/evaluation/) estimate the test NLL at the end with
5000 importance samples (`nll`, an `iwae_nll`; the model's log_likelihood
draws them in chunks of `model.nll_chunk_size`) and count active latent
units (`active_units`, Burda's criterion Cov_x(E_q[z]) > 1e-2); configs with
a 2-D latent add `latent_plane` (the decoded manifold and a scatter of test
codes). `images` gives reconstructions, samples from the prior,
interpolations between test digits and (2-D latent) the manifold grid.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import optax

from genjax import methods
from genjax.config import ConfigDict
from genjax.errors import ConfigError
from genjax.evaluation import likelihood as lik
from genjax.evaluation.latent_plane import manifold_latents
from genjax.methods.autoencoder import reconstruction_grid
from genjax.models import conv as conv_lib
from genjax.models import mlp
from genjax.models import vae_models
from genjax.optim import make_optimizer

ARCHS = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")
GAUSSIAN_VARIANCES = ("fixed", "learned", "predicted")
OBJECTIVES = ("elbo", "iwae")
# The conv decoder's rows per call in log_likelihood (`lax.map`'s batch_size):
# on the 2-core CPU the conv VAE decoded 8.8k samples/s in 128-row blocks,
# 4.3k in 256-row ones, 3.8k unblocked; the MLP's decoder was faster unblocked.
CONV_DECODE_ROWS = 128


@dataclasses.dataclass(frozen=True)
class Likelihood:
  """The decoder's observation model p(x|z), given the decoder outputs.

  Attributes:
    kind: "bernoulli" (outputs are logits) or "gaussian" (outputs are
      pre-sigmoid means, plus log-variances unless the variance is fixed).
    variance: Gaussian only: "fixed", "learned" or "predicted".
    fixed_log_variance: log sigma^2 of the fixed Gaussian.
    min_log_variance: floor for learned/predicted log-variances; without it
      the density of near-constant pixels (MNIST borders) grows without bound.
  """
  kind: str = "bernoulli"
  variance: str = "fixed"
  fixed_log_variance: float = 0.0
  min_log_variance: float = -7.0

  @property
  def outputs_per_pixel(self) -> int:
    return 2 if self.kind == "gaussian" and self.variance == "predicted" else 1

  @property
  def pixel_log_variance(self) -> bool:
    return self.kind == "gaussian" and self.variance == "learned"

  def log_prob(self, outputs: tuple[jax.Array, ...], x: jax.Array) -> jax.Array:
    """log p(x|z) per example: outputs [..., H, W, C], x broadcastable -> [...]."""
    if self.kind == "bernoulli":
      return lik.bernoulli_log_prob(outputs[0], x)
    mean = jax.nn.sigmoid(outputs[0])
    if self.variance == "fixed":
      log_variance = jnp.float32(self.fixed_log_variance)
    else:
      log_variance = jnp.maximum(outputs[1], self.min_log_variance)
    return lik.gaussian_log_prob(x, mean, log_variance)

  def mean(self, outputs: tuple[jax.Array, ...]) -> jax.Array:
    """E[x|z] in [0, 1], for image grids."""
    return jax.nn.sigmoid(outputs[0])


def model_config(**overrides: Any) -> ConfigDict:
  """The `model` group with its defaults (Kingma & Welling's MLP VAE).

  Config files start from this and override what differs, so every VAE
  config has every key and `--config.model.X=...` works on any of them.
  """
  c = ConfigDict(dict(
      arch="mlp",  # mlp | conv
      hidden=(500,),  # mlp: encoder widths; the decoder mirrors them
      activation="relu",  # mlp hidden activation
      conv_channels=(32, 64),  # conv: 3x3 stride-2 layers; decoder mirrors them
      conv_dense=16,  # conv: dense layer between the convolutions and the latent
      conv_impl="fast",  # conv: fast | flax (see genjax/models/conv.py)
      compute_dtype="float32",  # conv: float32 | bfloat16 (params stay float32)
      latent_dim=20,
      likelihood="bernoulli",  # bernoulli | gaussian
      gaussian_variance="fixed",  # fixed | learned | predicted (gaussian only)
      gaussian_std=0.1,  # the fixed Gaussian's sigma
      min_log_variance=-7.0,  # floor for learned/predicted log sigma^2
      # log_likelihood's importance samples per vectorised chunk: chunk x
      # batch decoder rows at once. Measured for the 784-500-20 VAE, 1000
      # test images x k=5000 on the idle 2-core CPU: chunk 1: 26.3 s, 2: 25.1 s,
      # 5: 27.4 s, 10: 30.3 s, 20: 41.8 s, 50: 43.2 s (small chunks stay in cache).
      nll_chunk_size=2,
  ))
  c.update(overrides)
  return c


def loss_config(**overrides: Any) -> ConfigDict:
  """The `loss` group: objective, samples per example, KL weight and warm-up."""
  c = ConfigDict(dict(
      objective="elbo",  # elbo | iwae
      num_samples=1,  # posterior samples per example (IWAE's k)
      beta=1.0,  # KL weight
      kl_warmup_steps=0,  # linear ramp of the KL weight from 0; 0 disables
  ))
  c.update(overrides)
  return c


def evals_config(nll_samples: int = 5000, iwae_samples: int = 0,
                 latent_plane: bool = False) -> ConfigDict:
  """The VAE's evaluators (`config.evals`, genjax/evaluation/registry.py).

  Args:
    nll_samples: k of the final test NLL (`nll`, IWAE-k; 5000 by convention).
    iwae_samples: > 0 adds a cheap IWAE-k NLL at every eval, `iwae<k>_nll`.
    latent_plane: the decoded manifold and the test-code scatter (2-D latents).
  """
  c = ConfigDict({"nll": dict(type="iwae_nll", samples=nll_samples),
                  "active_units": dict(type="active_units")})
  if iwae_samples:
    c[f"iwae{iwae_samples}_nll"] = dict(type="iwae_nll", samples=iwae_samples, with_evals=True)
  if latent_plane:
    c.latent_plane = dict(type="latent_plane")
  return c


def likelihood_from_config(model: ConfigDict) -> Likelihood:
  """The observation model p(x|z) that a `model` config group describes."""
  if model.likelihood == "bernoulli":
    return Likelihood("bernoulli")
  return Likelihood("gaussian", model.gaussian_variance,
                    fixed_log_variance=2.0 * math.log(model.gaussian_std),
                    min_log_variance=model.min_log_variance)


def validate(config: ConfigDict) -> None:
  """Checks the VAE's `model` and `loss` groups."""
  m, loss = config.model, config.loss
  if m.arch not in ARCHS:
    raise ConfigError(f"config.model.arch={m.arch!r}; valid: {', '.join(ARCHS)}")
  sizes = [m.latent_dim, *(m.hidden if m.arch == "mlp" else (*m.conv_channels, m.conv_dense))]
  if any(not isinstance(s, int) or s <= 0 for s in sizes):
    raise ConfigError(f"VAE layer sizes and model.latent_dim must be positive integers; got {sizes}")
  if m.arch == "mlp" and m.activation not in mlp.ACTIVATIONS:
    raise ConfigError(
        f"config.model.activation={m.activation!r}; valid: {', '.join(sorted(mlp.ACTIVATIONS))}")
  if m.arch == "conv":
    conv_lib.check_model_options(m)
  if m.likelihood not in LIKELIHOODS:
    raise ConfigError(f"config.model.likelihood={m.likelihood!r}; valid: {', '.join(LIKELIHOODS)}")
  if m.likelihood == "gaussian":
    if m.gaussian_variance not in GAUSSIAN_VARIANCES:
      raise ConfigError(f"config.model.gaussian_variance={m.gaussian_variance!r}; valid: "
                        f"{', '.join(GAUSSIAN_VARIANCES)}")
    if not m.gaussian_std > 0:
      raise ConfigError(f"config.model.gaussian_std must be positive, got {m.gaussian_std}")
  if loss.objective not in OBJECTIVES:
    raise ConfigError(f"config.loss.objective={loss.objective!r}; valid: {', '.join(OBJECTIVES)}")
  if loss.num_samples < 1 or loss.beta < 0 or loss.kl_warmup_steps < 0:
    raise ConfigError("config.loss: num_samples must be >= 1, beta and kl_warmup_steps >= 0")
  if not isinstance(m.nll_chunk_size, int) or m.nll_chunk_size < 1:
    raise ConfigError(f"config.model.nll_chunk_size must be a positive integer, "
                      f"got {m.nll_chunk_size!r}")


def make_model(config: ConfigDict, image_shape, likelihood: Likelihood) -> vae_models.VAE:
  """The encoder/decoder pair `config.model.arch` names, sized for `likelihood`'s outputs."""
  m = config.model
  image_shape = tuple(image_shape)
  n_out = likelihood.outputs_per_pixel
  if m.arch == "mlp":
    encoder = vae_models.MLPEncoder(tuple(m.hidden), m.latent_dim, m.activation)
    decoder = vae_models.MLPDecoder(tuple(m.hidden[::-1]), image_shape, n_out, m.activation)
  else:
    dtype = jnp.dtype(m.compute_dtype)
    encoder = vae_models.ConvEncoder(tuple(m.conv_channels), m.conv_dense, m.latent_dim,
                                     m.conv_impl, dtype)
    decoder = vae_models.ConvDecoder(image_shape, tuple(m.conv_channels), n_out, m.conv_impl,
                                     dtype)
  return vae_models.VAE(encoder, decoder, image_shape,
                        pixel_log_variance=likelihood.pixel_log_variance)


# ----------------------------------------------------------------------------
# Objectives: pure functions of (model, params, x, rng), reused by the tests.
# ----------------------------------------------------------------------------


def sample_posterior(rng: jax.Array, mean: jax.Array, log_variance: jax.Array,
                     num_samples: int) -> tuple[jax.Array, jax.Array]:
  """Reparameterised draws z = mean + exp(log_variance / 2) * eps.

  Returns:
    (z, eps), each [num_samples, B, D]; z is differentiable in mean and
    log_variance, eps is the standard-normal noise.
  """
  eps = jax.random.normal(rng, (num_samples,) + mean.shape, mean.dtype)
  return mean + jnp.exp(0.5 * log_variance) * eps, eps


def posterior_log_prob_from_noise(eps: jax.Array, log_variance: jax.Array) -> jax.Array:
  """log q(z|x) at z = mean + s * eps, computed from eps (no cancellation)."""
  return -0.5 * jnp.sum(jnp.square(eps) + log_variance + lik.LOG_2PI, axis=-1)


def objective_terms(model: vae_models.VAE, params: Any, x: jax.Array, rng: jax.Array,
                    likelihood: Likelihood, num_samples: int) -> dict[str, jax.Array]:
  """Encodes x, draws `num_samples` reparameterised z per example, decodes.

  Args:
    model, params: the VAE and its parameters.
    x: float32 [B, H, W, C].
    rng: key for the posterior noise.
    likelihood: the observation model.
    num_samples: k posterior samples per example.

  Returns:
    {"log_px_z": [k, B] log p(x|z_i), "kl": [B] analytic KL(q || p),
     "log_prior_minus_q": [k, B] log p(z_i) - log q(z_i|x),
     "mean", "log_variance": [B, D] posterior parameters}.
  """
  variables = {"params": params}
  mean, log_variance = model.apply(variables, x, method=model.encode)
  z, eps = sample_posterior(rng, mean, log_variance, num_samples)
  outputs = model.apply(variables, z, method=model.decode)
  return {
      "log_px_z": likelihood.log_prob(outputs, x),
      "kl": lik.gaussian_kl_to_standard_normal(mean, log_variance),
      "log_prior_minus_q": (lik.standard_normal_log_prob(z)
                            - posterior_log_prob_from_noise(eps, log_variance)),
      "mean": mean,
      "log_variance": log_variance,
  }


def kl_weight(step: jax.Array, beta: float, warmup_steps: int) -> jax.Array:
  """beta, ramped linearly from 0 over the first `warmup_steps` steps."""
  if warmup_steps <= 0:
    return jnp.float32(beta)
  return beta * jnp.minimum(1.0, step.astype(jnp.float32) / warmup_steps)


def training_loss(terms: dict[str, jax.Array], objective: str,
                  weight: jax.Array) -> jax.Array:
  """Per-example loss [B] to minimise.

  elbo: -(mean_i log p(x|z_i)) + weight * KL (analytic).
  iwae: -log (1/k) sum_i exp(log p(x|z_i) + weight * (log p(z_i) - log q(z_i|x))).
  """
  if objective == "elbo":
    return -terms["log_px_z"].mean(0) + weight * terms["kl"]
  return -lik.iwae_bound(terms["log_px_z"] + weight * terms["log_prior_minus_q"], axis=0)


# ----------------------------------------------------------------------------
# The method's pieces: each a factory of pure functions, given what it reads
# ----------------------------------------------------------------------------


def _encode(model: vae_models.VAE, params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
  """q(z|x)'s (mean, log_variance), each [B, latent_dim]."""
  return model.apply({"params": params}, x, method=model.encode)


def _decode_mean(model: vae_models.VAE, likelihood: Likelihood, params,
                 z: jax.Array) -> jax.Array:
  """E[x|z] [..., H, W, C] in [0, 1]."""
  return likelihood.mean(model.apply({"params": params}, z, method=model.decode))


def _make_log_likelihood(model: vae_models.VAE, likelihood: Likelihood,
                         decode_rows: int | None):
  """log_likelihood(params, x, rng, num_samples, chunk_size, with_variance=False)
  -> log p(x) [B], IWAE estimate (and its importance-sampling variance [B])."""

  def log_likelihood(params, x, rng, num_samples, chunk_size, with_variance=False):
    """Importance-sampled log p(x) [B], the encoder run once per example."""
    variables = {"params": params}
    mean, log_variance = model.apply(variables, x, method=model.encode)

    def decode(z):
      return model.apply(variables, z, method=model.decode)

    def log_weights(chunk_rng, n):
      z, eps = sample_posterior(chunk_rng, mean, log_variance, n)
      if decode_rows is None:
        outputs = decode(z)
      else:  # n x batch rows at once would overflow the cache
        outputs = jax.lax.map(decode, z.reshape((-1, z.shape[-1])), batch_size=decode_rows)
        outputs = jax.tree.map(lambda o: o.reshape(z.shape[:2] + o.shape[1:]), outputs)
      return (likelihood.log_prob(outputs, x) + lik.standard_normal_log_prob(z)
              - posterior_log_prob_from_noise(eps, log_variance))

    return lik.importance_sampled_log_likelihood(log_weights, rng, num_samples, chunk_size,
                                                 with_variance)
  return log_likelihood


def _make_init(model: vae_models.VAE, tx: optax.GradientTransformation):
  def init(rng, batch):
    params = model.init(rng, batch["image"])["params"]
    return methods.TrainState(params=params, opt_state=tx.init(params), step=jnp.int32(0))
  return init


def _make_train_step(model: vae_models.VAE, likelihood: Likelihood,
                     tx: optax.GradientTransformation, loss_cfg: ConfigDict):
  """One optimiser step on the ELBO or IWAE bound (`loss` group), KL weight by step."""
  objective, k_train = loss_cfg.objective, loss_cfg.num_samples
  beta, warmup = float(loss_cfg.beta), int(loss_cfg.kl_warmup_steps)

  def train_step(state, batch, rng):
    weight = kl_weight(state.step, beta, warmup)

    def loss_fn(params):
      terms = objective_terms(model, params, batch["image"], rng, likelihood, k_train)
      loss = training_loss(terms, objective, weight).mean()
      recon = -terms["log_px_z"].mean()
      kl = terms["kl"].mean()
      metrics = {"neg_elbo": recon + kl, "recon_loss": recon, "kl": kl}
      if objective == "iwae":
        metrics[f"iwae{k_train}_neg_bound"] = -lik.iwae_bound(
            terms["log_px_z"] + terms["log_prior_minus_q"], axis=0).mean()
      return loss, metrics

    (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {"loss": loss, **metrics, "kl_weight": weight,
               "grad_norm": optax.tree.norm(grads)}
    return state.replace(params=params, opt_state=opt_state, step=state.step + 1), metrics
  return train_step


def _make_eval_step(model: vae_models.VAE, likelihood: Likelihood):
  """Per-example test negative ELBO and its terms."""

  def eval_step(state, batch, rng):
    x = batch["image"]
    # The split keeps the draws of runs from before the IWAE-k moved to an evaluator.
    sample_rng, _ = jax.random.split(rng)
    terms = objective_terms(model, state.params, x, sample_rng, likelihood, 1)
    recon = -terms["log_px_z"][0]
    return {"loss": recon + terms["kl"], "neg_elbo": recon + terms["kl"],
            "recon_loss": recon, "kl": terms["kl"]}
  return eval_step


def _make_images(model: vae_models.VAE, likelihood: Likelihood, latent_dim: int):
  """Reconstructions, prior samples, interpolations and (2-D latent) the manifold."""

  def images(state, batch, rng):
    params = state.params
    x = batch["image"]
    decode_mean = lambda z: _decode_mean(model, likelihood, params, z)  # noqa: E731
    mean, _ = _encode(model, params, x)
    grids = {"reconstructions": reconstruction_grid(x[:32], decode_mean(mean[:32]))}
    z = jax.random.normal(rng, (8, 8, latent_dim))
    grids["samples"] = decode_mean(z)
    pairs = min(4, x.shape[0] // 2)
    if pairs:
      # Straight lines between the posterior means of test digits 2i and 2i+1.
      t = jnp.linspace(0.0, 1.0, 10)[None, :, None]
      a, b = mean[0:2 * pairs:2, None], mean[1:2 * pairs:2, None]
      grids["interpolations"] = decode_mean((1.0 - t) * a + t * b)
    if latent_dim == 2:
      grids["manifold"] = decode_mean(manifold_latents(15))
    return grids
  return images


def _model_functions(model: vae_models.VAE, likelihood: Likelihood, log_likelihood,
                     latent_dim: int, nll_chunk_size: int) -> dict[str, Any]:
  """encode / decode / reconstruct / sample / log_likelihood / elbo, for `genjax.load`."""

  def encode(state, x):
    """q(z|x)'s (mean, log_variance), each [N, latent_dim]."""
    return _encode(model, state.params, x)

  def decode(state, z):
    """E[x|z] [N, H, W, C] in [0, 1]."""
    return _decode_mean(model, likelihood, state.params, z)

  def reconstruct(state, x):
    """The decoded posterior mean, as in the reconstruction grids."""
    return decode(state, encode(state, x)[0])

  def sample(state, rng, n):
    """E[x|z] for n draws z ~ p(z) = N(0, I)."""
    return decode(state, jax.random.normal(rng, (n, latent_dim)))

  def model_log_likelihood(state, x, rng, k, with_variance=False):
    """IWAE-k estimate of log p(x) per example [N], nats (k samples, in chunks);
    with `with_variance` also its delta-method importance-sampling variance [N]."""
    return log_likelihood(state.params, x, rng, k, math.gcd(k, nll_chunk_size), with_variance)

  def elbo(state, x, rng):
    """One-sample ELBO per example [N], nats (analytic KL), as in eval_step."""
    terms = objective_terms(model, state.params, x, rng, likelihood, 1)
    return terms["log_px_z"][0] - terms["kl"]

  return {"encode": encode, "decode": decode, "reconstruct": reconstruct, "sample": sample,
          "log_likelihood": model_log_likelihood, "elbo": elbo}


# ----------------------------------------------------------------------------
# The method
# ----------------------------------------------------------------------------


@methods.register("vae", validate=validate, defaults={
    "model": model_config().to_dict(), "loss": loss_config().to_dict(),
    "evals": evals_config().to_dict()})
def build(config: ConfigDict, *, data_info: methods.DataInfo,
          num_train_steps: int) -> methods.Method:
  """Builds the VAE method (see the module docstring)."""
  validate(config)
  likelihood = likelihood_from_config(config.model)
  model = make_model(config, data_info.image_shape, likelihood)
  tx = make_optimizer(config.optimizer, num_train_steps)
  latent_dim = config.model.latent_dim
  log_likelihood = _make_log_likelihood(
      model, likelihood, CONV_DECODE_ROWS if config.model.arch == "conv" else None)
  return methods.Method(
      init=_make_init(model, tx),
      train_step=_make_train_step(model, likelihood, tx, config.loss),
      eval_step=_make_eval_step(model, likelihood),
      images=_make_images(model, likelihood, latent_dim), main_metric="neg_elbo",
      model_fns=_model_functions(model, likelihood, log_likelihood, latent_dim,
                                 config.model.nll_chunk_size),
      model_state=methods.params_only)
