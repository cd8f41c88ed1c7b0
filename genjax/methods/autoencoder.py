r"""Deterministic autoencoders: h = f(x), r = g(h), minimise L(x, g(f(x))) + Omega(h).

An autoencoder with enough capacity can learn the identity and so nothing
useful. Undercomplete codes prevent it by a bottleneck; *regularised*
autoencoders prevent it by the loss, so the code may be as wide as the input
or wider. One method covers the whole family, each variant a config:

  plain         undercomplete or overcomplete (`model.code_dim`), stacked
                (`model.hidden`), tied decoder weights, purely linear
                (`activation="linear"`, `output_activation="linear"`,
                `loss.reconstruction="mse"`: its optimum spans PCA's subspace).
  sparse        Omega(h) = lambda * sum_j |h_j|                  (loss.sparsity="l1")
                or beta * sum_j KL(rho || rho_hat_j),            (loss.sparsity="kl")
                rho_hat_j = mean activation of unit j over the batch, on
                sigmoid codes (Ng, CS294A: rho = 0.05, beta = 3). The KL term
                is a property of the batch, not of one example.
  denoising     minimise L(x, g(f(x~))), x~ ~ C(x~ | x) a fresh corruption
                of x at every step, drawn on device from the step's key
                (`noise.kind`: gaussian | masking | salt_and_pepper, see
                genjax/corruption.py). The clean x is the target.
  contractive   Omega(h) = lambda * ||df(x)/dx||_F^2 per example
                (loss.contractive_weight > 0), which makes the code locally
                insensitive to input directions the data does not use.
  convolutional `model.kind="conv"`: strided conv encoder, transposed-conv
                decoder (genjax/models/conv_ae.py); any of the above applies.

The contractive penalty, four ways (`loss.contractive_mode`), all per example
(the batch Jacobian is block diagonal, examples being independent):
  jacfwd         exact: the full Jacobian by forward mode, ~input_dim JVPs.
  jacrev         exact: by reverse mode, ~code_dim VJPs; cheaper when the
                 code is narrower than the input.
  hutchinson     unbiased estimate E_v ||J v||^2 = tr(J^T J) = ||J||_F^2 with
                 v ~ N(0, I) in input space, `contractive_probes` JVPs of the
                 whole batch (forward mode, the cheap side: one extra
                 forward-like pass per probe, no extra backward pass).
  hutchinson_vjp the same from the code side: E_u ||u^T J||^2, u ~ N(0, I_code),
                 via VJPs; the only unbiased mode for reverse-only layers
                 (the "fast" convolutions have custom VJPs and no JVP).
The gradient-penalty form lambda * sum_i ||grad_x h_i(x)||^2 is the same
quantity: grad_x h_i is row i of J, and ||J||_F^2 is the sum of its squared
rows. For one sigmoid layer h = sigmoid(W x + b) it is
sum_i (h_i (1 - h_i))^2 sum_j W_ij^2 (tested against all modes).

Every variant logs the same diagnostics at eval so they can be compared:
code statistics (mean activation, fraction of units near zero per example)
and PSNR. Its default evaluators (`config.evals`, genjax/evaluation/) add
the mean test ||df/dx||_F at every eval (`jacobian`) and, at the end of a
run, linear probes on the codes of N labelled training images beside the
same probe on raw pixels (`probe`); the denoising configs add the PSNR on
corrupted test inputs next to the 3x3 and 5x5 median filters' (`denoising`).

Reconstruction losses are summed over pixels and averaged over the batch:
  bce: Bernoulli cross-entropy of x under sigmoid(logits), in nats per image;
       needs `output_activation="sigmoid"` (the decoder emits logits).
  mse: squared error of output_activation(decoder output), per image.
`mse` in the metrics is always the mean squared error per pixel, so runs with
different losses can be compared on one number.

Config groups read here (keys a config file leaves out take the defaults in
`DEFAULTS`, filled in before the config is locked, so every key below can be
overridden from the command line):
  model:  kind ("mlp" | "conv"), output_activation, activation, code_activation;
          mlp: hidden, code_dim, mirror_decoder, decoder_hidden, tied;
          conv: features, code_channels, kernel_size, conv_impl ("fast" | "flax"),
                compute_dtype ("float32" | "bfloat16": mixed precision)
  loss:   reconstruction ("bce" | "mse"); sparsity ("none" | "l1" | "kl"),
          l1_weight, kl_weight, sparsity_target, near_zero_threshold;
          contractive_weight, contractive_mode, contractive_probes
  noise:  kind ("none" | "gaussian" | "masking" | "salt_and_pepper"), std, fraction
  evals:  the evaluators (genjax/evaluation/registry.py); by default
          probe (linear_probe) and jacobian (jacobian_norm)

The losses and penalties themselves are pure array functions in
genjax/methods/autoencoder_losses.py; this module checks the config, builds
the network and assembles the method's steps from them.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from genjax import corruption, methods
from genjax import config as config_lib
from genjax.config import ConfigDict
from genjax.errors import ConfigError
from genjax.evaluation import image_quality
from genjax.methods.autoencoder_losses import (CONTRACTIVE_MODES, code_statistics,
                                               kl_sparsity_penalty, l1_penalty, per_example_sum,
                                               reconstruction_loss, squared_jacobian_norm)
from genjax.models import conv as conv_lib
from genjax.models import conv_ae, mlp
from genjax.optim import make_optimizer

SPARSITY_KINDS = ("none", "l1", "kl")
# Modes that need forward-mode autodiff through the encoder.
_FORWARD_MODES = ("jacfwd", "hutchinson")

# (rng, x) -> x~, the configured corruption; None for a plain autoencoder.
Corrupt = Callable[[jax.Array, jax.Array], jax.Array] | None
# (params, x_in, target) -> (codes, decoder outputs, per-example loss, per-pixel mse).
Forward = Callable[[Any, jax.Array, jax.Array],
                   tuple[jax.Array, jax.Array, jax.Array, jax.Array]]

DEFAULTS = {
    "model": dict(kind="mlp", activation="relu", code_activation="linear",
                  output_activation="sigmoid",
                  # mlp
                  hidden=(300,), code_dim=150, mirror_decoder=True, decoder_hidden=(),
                  tied=False,
                  # conv
                  features=(16, 32), code_channels=8, kernel_size=3,
                  conv_impl="fast", compute_dtype="float32"),
    "loss": dict(reconstruction="bce", sparsity="none", l1_weight=0.0, kl_weight=3.0,
                 sparsity_target=0.05, near_zero_threshold=0.01,
                 contractive_weight=0.0, contractive_mode="jacfwd", contractive_probes=1),
    "noise": dict(kind="none", std=0.5, fraction=0.25),
    "evals": {"probe": dict(type="linear_probe"), "jacobian": dict(type="jacobian_norm")},
}


def settings(config: ConfigDict, group: str) -> ConfigDict:
  """The config group `group` with DEFAULTS filled in for missing keys.

  The launcher fills the defaults in already; this keeps `validate` and
  `make_model` usable on a hand-written config that sets only some keys.
  """
  return config_lib.group_with_defaults(config, group, DEFAULTS)


# --------------------------------------------------------------------------
# Config checking and model construction
# --------------------------------------------------------------------------


def _validate_model(m: ConfigDict) -> None:
  """Checks the `model` group: layer sizes, conv options, activations."""
  if m.kind not in ("mlp", "conv"):
    raise ConfigError(f"config.model.kind={m.kind!r}; valid: mlp, conv")
  if m.kind == "mlp":
    sizes = [*m.hidden, m.code_dim, *(m.decoder_hidden if not m.mirror_decoder else ())]
    if any((not isinstance(s, int)) or s <= 0 for s in sizes):
      raise ConfigError(
          f"autoencoder layer sizes must be positive integers; got hidden={tuple(m.hidden)}, "
          f"code_dim={m.code_dim}, decoder_hidden={tuple(m.decoder_hidden)}")
    if m.tied and not m.mirror_decoder:
      raise ConfigError("config.model.tied=True needs config.model.mirror_decoder=True")
  else:
    sizes = [*m.features, m.code_channels, m.kernel_size]
    if any((not isinstance(s, int)) or s <= 0 for s in sizes) or not m.features:
      raise ConfigError(
          f"conv autoencoder sizes must be positive integers; got features="
          f"{tuple(m.features)}, code_channels={m.code_channels}, kernel_size={m.kernel_size}")
    conv_lib.check_model_options(m)
  for key in ("activation", "code_activation", "output_activation"):
    if m[key] not in mlp.ACTIVATIONS:
      raise ConfigError(
          f"config.model.{key}={m[key]!r}; valid: {', '.join(sorted(mlp.ACTIVATIONS))}")


def _validate_loss(m: ConfigDict, loss: ConfigDict) -> None:
  """Checks the `loss` group and the model settings it depends on."""
  if loss.reconstruction not in ("bce", "mse"):
    raise ConfigError(
        f"config.loss.reconstruction={loss.reconstruction!r}; valid: bce, mse")
  if loss.reconstruction == "bce" and m.output_activation != "sigmoid":
    raise ConfigError(
        "config.loss.reconstruction='bce' needs config.model.output_activation='sigmoid'")
  if loss.sparsity not in SPARSITY_KINDS:
    raise ConfigError(
        f"config.loss.sparsity={loss.sparsity!r}; valid: {', '.join(SPARSITY_KINDS)}")
  if loss.sparsity == "kl":
    if m.code_activation != "sigmoid":
      raise ConfigError("config.loss.sparsity='kl' needs config.model.code_activation="
                        "'sigmoid' (codes must be mean activations in (0, 1))")
    if not 0.0 < loss.sparsity_target < 1.0:
      raise ConfigError(
          f"config.loss.sparsity_target must be in (0, 1), got {loss.sparsity_target}")
  if min(loss.l1_weight, loss.kl_weight, loss.contractive_weight) < 0:
    raise ConfigError("config.loss: l1_weight, kl_weight and contractive_weight must be >= 0")
  if loss.contractive_mode not in CONTRACTIVE_MODES:
    raise ConfigError(f"config.loss.contractive_mode={loss.contractive_mode!r}; valid: "
                      f"{', '.join(CONTRACTIVE_MODES)}")
  if not isinstance(loss.contractive_probes, int) or loss.contractive_probes <= 0:
    raise ConfigError(
        f"config.loss.contractive_probes must be a positive integer, got {loss.contractive_probes}")


def _validate_noise(noise: ConfigDict) -> None:
  """Checks the `noise` group."""
  if noise.kind not in corruption.KINDS:
    raise ConfigError(
        f"config.noise.kind={noise.kind!r}; valid: {', '.join(corruption.KINDS)}")
  if noise.std < 0 or not 0.0 <= noise.fraction <= 1.0:
    raise ConfigError("config.noise: std must be >= 0 and fraction in [0, 1]")


def _validate_forward_mode(m: ConfigDict, loss: ConfigDict) -> None:
  """Rejects forward-mode Jacobians through the reverse-only 'fast' convolutions."""
  if m.kind == "conv" and m.conv_impl == "fast" and (
      loss.contractive_weight > 0 and loss.contractive_mode in _FORWARD_MODES):
    raise ConfigError(
        "the 'fast' convolutions have custom VJPs and no forward mode: with "
        "config.model.conv_impl='fast' use contractive_mode jacrev or hutchinson_vjp "
        "(or set conv_impl='flax')")


def validate(config: ConfigDict) -> None:
  """Checks the autoencoder's `model`, `loss` and `noise` groups.

  Raises:
    ConfigError: naming the key, the bad value and what is allowed.
  """
  m, loss, noise = (settings(config, g) for g in ("model", "loss", "noise"))
  _validate_model(m)
  _validate_loss(m, loss)
  _validate_noise(noise)
  _validate_forward_mode(m, loss)


def make_model(config: ConfigDict, image_shape):
  """The Flax module named by `config.model.kind`; has encode/decode methods."""
  m = settings(config, "model")
  if m.kind == "conv":
    try:
      conv_ae.check_image_shape(image_shape, len(m.features))
    except ValueError as e:
      raise ConfigError(f"config.model.features={tuple(m.features)}: {e}") from None
    return conv_ae.ConvAutoencoder(
        image_shape=tuple(image_shape), features=tuple(m.features),
        code_channels=m.code_channels, kernel_size=m.kernel_size,
        activation=m.activation, code_activation=m.code_activation, conv_impl=m.conv_impl,
        dtype=jnp.dtype(m.compute_dtype))
  return mlp.MLPAutoencoder(
      image_shape=tuple(image_shape),
      hidden=tuple(m.hidden),
      code_dim=m.code_dim,
      decoder_hidden=None if m.mirror_decoder else tuple(m.decoder_hidden),
      activation=m.activation,
      code_activation=m.code_activation,
      tied=m.tied,
  )


def image_rows_grid(rows: list[jax.Array], cols: int = 8) -> jax.Array:
  """Interleaves equally long image batches as grid rows.

  For each group of `cols` examples the grid has one row per entry of
  `rows` (e.g. clean, noisy, median-filtered, reconstruction).

  Args:
    rows: list of [N, H, W, C] batches.
    cols: examples per grid row.

  Returns:
    [len(rows) * (N // cols), cols, H, W, C].
  """
  x = rows[0]
  n = (x.shape[0] // cols) * cols
  if n == 0:
    cols, n = x.shape[0], x.shape[0]
  blocks = [r[:n].reshape((-1, cols) + r.shape[1:]) for r in rows]
  return jnp.stack(blocks, axis=1).reshape((-1, cols) + x.shape[1:])


def reconstruction_grid(x: jax.Array, r: jax.Array, cols: int = 8) -> jax.Array:
  """Interleaves rows of inputs and reconstructions: [2 * rows, cols, H, W, C]."""
  return image_rows_grid([x, r], cols)


# --------------------------------------------------------------------------
# The method's pieces: each a factory of pure functions, given what it reads
# --------------------------------------------------------------------------


def _encoder(model: nn.Module, params) -> Callable[[jax.Array], jax.Array]:
  """f with `params` bound: x [B, H, W, C] -> codes [B, D]."""
  return lambda x: model.apply({"params": params}, x, method=model.encode)


def _outputs(output_activation: str, toy: bool) -> Callable[[jax.Array], jax.Array]:
  """Decoder pre-activations -> outputs: images in [0, 1] (the output
  activation, clipped), or toy points (the output activation alone)."""
  act = mlp.activation(output_activation)
  return act if toy else lambda out: jnp.clip(act(out), 0.0, 1.0)


def _make_corrupt(noise: ConfigDict, clip: bool) -> Corrupt:
  """x -> x~ for `noise.kind`, or None when the autoencoder is not denoising.
  Gaussian noise is clipped to [0, 1] on images (`clip`), not on toy points."""
  if noise.kind == "none":
    return None

  def corrupt(rng, x):
    return corruption.corrupt(rng, x, noise.kind, std=noise.std, fraction=noise.fraction,
                              clip=clip)
  return corrupt


def _make_forward(model: nn.Module, output_activation: str, loss_kind: str,
                  num_pixels: int) -> Forward:
  """g(f(x_in)) compared with `target`: codes, outputs, loss [B], mse per pixel [B]."""
  out_act = mlp.activation(output_activation)

  def forward(params, x_in, target):
    h, out = model.apply({"params": params}, x_in)
    rec = reconstruction_loss(loss_kind, out, target, output_activation)
    mse = per_example_sum(jnp.square(out_act(out) - target)) / num_pixels
    return h, out, rec, mse
  return forward


def _make_objective(model: nn.Module, forward: Forward, loss_cfg: ConfigDict):
  """The training objective: (params, x_in, target, probe_rng) -> (loss, metrics).

  The batch mean of the reconstruction loss plus the configured sparsity
  (l1 or kl) and contractive penalties, each also reported on its own.
  """
  contractive = loss_cfg.contractive_weight > 0

  def objective(params, x_in, target, probe_rng):
    h, _, rec, mse = forward(params, x_in, target)
    loss = rec.mean()
    aux = {"recon_loss": loss, "mse": mse.mean(), "code_mean": h.mean()}
    if loss_cfg.sparsity == "l1":
      penalty = l1_penalty(h).mean()
      aux["l1_penalty"] = penalty
      loss = loss + loss_cfg.l1_weight * penalty
    elif loss_cfg.sparsity == "kl":
      penalty = kl_sparsity_penalty(h, loss_cfg.sparsity_target)
      aux["kl_penalty"] = penalty
      loss = loss + loss_cfg.kl_weight * penalty
    if contractive:
      penalty = squared_jacobian_norm(_encoder(model, params), x_in, loss_cfg.contractive_mode,
                                      probe_rng, loss_cfg.contractive_probes).mean()
      aux["contractive_penalty"] = penalty
      loss = loss + loss_cfg.contractive_weight * penalty
    return loss, aux
  return objective


def _make_init(model: nn.Module, tx: optax.GradientTransformation):
  def init(rng, batch):
    params = model.init(rng, batch["image"])["params"]
    return methods.TrainState(params=params, opt_state=tx.init(params))
  return init


def _make_train_step(objective, tx: optax.GradientTransformation, corrupt: Corrupt):
  """One optimiser step on `objective`, the input corrupted first when denoising."""

  def train_step(state, batch, rng):
    noise_rng, probe_rng = jax.random.split(rng)
    x = batch["image"]
    # A fresh corruption every step: rng is folded with the step number by
    # the trainer, so no two steps (or epochs) see the same x~.
    x_in = corrupt(noise_rng, x) if corrupt is not None else x

    def loss_fn(params):
      return objective(params, x_in, x, probe_rng)

    (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {"loss": loss, **metrics, "grad_norm": optax.tree.norm(grads)}
    if corrupt is not None:
      metrics["noise_mse"] = jnp.square(x_in - x).mean()
    return state.replace(params=params, opt_state=opt_state), metrics
  return train_step


def _make_eval_step(forward: Forward, outputs, loss_cfg: ConfigDict, toy: bool):
  """Per-example test metrics: loss, mse, PSNR (images), code statistics."""

  def eval_step(state, batch, rng):
    del rng  # deterministic
    params = state.params
    x = batch["image"]
    h, out, rec, mse = forward(params, x, x)
    metrics = {"loss": rec, "recon_loss": rec, "mse": mse,
               **code_statistics(h, loss_cfg.near_zero_threshold)}
    if not toy:
      metrics["psnr"] = image_quality.psnr(x, outputs(out), mse_floor=1e-10)
    return metrics
  return eval_step


def _make_images(model: nn.Module, outputs, corrupt: Corrupt):
  """Reconstruction grids; when denoising also clean / noisy / median / DAE rows."""

  def images(state, batch, rng):
    params = state.params
    x = batch["image"]
    _, out = model.apply({"params": params}, x)
    grids = {"reconstructions": reconstruction_grid(x, outputs(out))}
    if corrupt is not None:
      x_noisy = corrupt(rng, x)
      _, out_n = model.apply({"params": params}, x_noisy)
      median = image_quality.median_filter(x_noisy, 3)
      # Rows per group of 8 test images: clean, noisy, median-filtered, DAE.
      grids["denoising"] = image_rows_grid([x, x_noisy, median, outputs(out_n)])
    return grids
  return images


def _model_functions(model: nn.Module, outputs) -> dict[str, Callable[..., Any]]:
  """encode / decode / reconstruct of a trained state, for `genjax.load`."""

  def encode(state, x):
    """Codes h = f(x) [N, D]."""
    return _encoder(model, state.params)(x)

  def decode(state, h):
    """g(h): images [N, H, W, C] in [0, 1] (the output activation, clipped)."""
    return outputs(model.apply({"params": state.params}, h, method=model.decode))

  def reconstruct(state, x):
    """g(f(x)) in [0, 1], as in the eval metrics and image grids."""
    _, out = model.apply({"params": state.params}, x)
    return outputs(out)

  return {"encode": encode, "decode": decode, "reconstruct": reconstruct}


# --------------------------------------------------------------------------
# The method
# --------------------------------------------------------------------------


@methods.register("autoencoder", defaults=DEFAULTS, validate=validate)
def build(config: ConfigDict, *, data_info: methods.DataInfo,
          num_train_steps: int) -> methods.Method:
  """Builds the autoencoder method (see the module docstring)."""
  validate(config)
  m, loss_cfg, noise = (settings(config, g) for g in ("model", "loss", "noise"))
  model = make_model(config, data_info.image_shape)
  tx = make_optimizer(config.optimizer, num_train_steps)
  toy = len(data_info.image_shape) == 1  # points of a toy density, not images
  outputs = _outputs(m.output_activation, toy)
  corrupt = _make_corrupt(noise, clip=not toy)
  forward = _make_forward(model, m.output_activation, loss_cfg.reconstruction,
                          math.prod(data_info.image_shape))
  objective = _make_objective(model, forward, loss_cfg)
  return methods.Method(
      init=_make_init(model, tx),
      train_step=_make_train_step(objective, tx, corrupt),
      eval_step=_make_eval_step(forward, outputs, loss_cfg, toy),
      images=None if toy else _make_images(model, outputs, corrupt),
      main_metric="recon_loss",
      model_fns=_model_functions(model, outputs), model_state=methods.params_only)
