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
code statistics (mean activation, fraction of units near zero per example),
the mean test ||df/dx||_F (exact, `evals.jacobian`), PSNR; with a
corruption configured also the error and PSNR on corrupted test inputs next
to the 3x3 and 5x5 median filters'. At the end of a run, linear probes
(genjax/evaluation/linear_probe.py) fit logistic regression on the codes of
N labelled training images, beside the same probe on raw pixels.

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
  evals:  jacobian ("jacrev" | "jacfwd" | "none"), jacobian_examples (per eval
          batch, 0 = all), median_sizes
  probe:  enabled, sizes (0 = all), l2, num_steps, pixels
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import optax

from genjax import corruption, methods
from genjax import config as config_lib
from genjax.config import ConfigDict
from genjax.errors import ConfigError
from genjax.evaluation import image_quality, linear_probe
from genjax.models import conv as conv_lib
from genjax.models import conv_ae, mlp
from genjax.optim import make_optimizer

PIXEL_AXES = (-3, -2, -1)
CONTRACTIVE_MODES = ("jacfwd", "jacrev", "hutchinson", "hutchinson_vjp")
SPARSITY_KINDS = ("none", "l1", "kl")
JACOBIAN_EVALS = ("jacrev", "jacfwd", "none")
# Modes that need forward-mode autodiff through the encoder.
_FORWARD_MODES = ("jacfwd", "hutchinson")

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
    "evals": dict(jacobian="jacrev", jacobian_examples=0, median_sizes=(3, 5)),
    # "all labels" (size 0) costs minutes of L-BFGS on 60k codes: opt in per config.
    "probe": dict(enabled=True, sizes=(100, 1000), l2=1e-3, num_steps=200, pixels=True),
}


def settings(config: ConfigDict, group: str) -> ConfigDict:
  """The config group `group` with DEFAULTS filled in for missing keys."""
  return config_lib.group_with_defaults(config, group, DEFAULTS)


# --------------------------------------------------------------------------
# Losses and penalties (pure functions of arrays, tested by hand)
# --------------------------------------------------------------------------


def reconstruction_loss(kind: str, output: jax.Array, x: jax.Array,
                        output_activation: str) -> jax.Array:
  """Per-example reconstruction loss, summed over pixels.

  Args:
    kind: "bce" (output are logits) or "mse".
    output: decoder pre-activation output [B, H, W, C].
    x: targets in [0, 1], same shape.
    output_activation: applied to `output` before "mse".

  Returns:
    float32 [B].
  """
  if kind == "bce":
    return optax.sigmoid_binary_cross_entropy(output, x).sum(PIXEL_AXES)
  r = mlp.activation(output_activation)(output)
  return jnp.square(r - x).sum(PIXEL_AXES)


def l1_penalty(h: jax.Array) -> jax.Array:
  """sum_j |h_j| per example: codes [B, D] -> [B] (multiply by lambda)."""
  return jnp.abs(h).sum(-1)


def kl_sparsity_penalty(h: jax.Array, rho: float, eps: float = 1e-6) -> jax.Array:
  """sum_j KL(rho || rho_hat_j) of Bernoulli means, rho_hat_j = mean_b h_bj.

  Args:
    h: sigmoid codes in (0, 1), [B, D].
    rho: target mean activation.
    eps: rho_hat is clipped to [eps, 1 - eps] so a dead or saturated unit
      gives a large finite penalty instead of inf.

  Returns:
    Scalar penalty for the batch (multiply by beta).
  """
  rho_hat = jnp.clip(h.mean(0), eps, 1.0 - eps)
  kl = rho * jnp.log(rho / rho_hat) + (1.0 - rho) * jnp.log((1.0 - rho) / (1.0 - rho_hat))
  return kl.sum()


def squared_jacobian_norm(encode: Callable[[jax.Array], jax.Array], x: jax.Array,
                          mode: str, rng: jax.Array | None = None,
                          num_probes: int = 1) -> jax.Array:
  """||df(x_b)/dx_b||_F^2 for each example b (exact or Hutchinson).

  Args:
    encode: batched encoder, x [B, ...] -> h [B, D]; examples must not
      interact (no batch statistics), so the batch Jacobian is block diagonal.
    x: inputs [B, H, W, C].
    mode: one of CONTRACTIVE_MODES (see the module docstring).
    rng: key for the Hutchinson probes.
    num_probes: Hutchinson probes per example.

  Returns:
    float32 [B]; exact for jacfwd/jacrev, an unbiased estimate otherwise.
  """
  if mode in ("jacfwd", "jacrev"):
    single = lambda xi: encode(xi[None])[0]  # noqa: E731
    jac_fn = jax.jacfwd(single) if mode == "jacfwd" else jax.jacrev(single)
    jac = jax.vmap(jac_fn)(x)  # [B, D, H, W, C]
    return jnp.square(jac).reshape(x.shape[0], -1).sum(-1)
  if rng is None:
    raise ValueError(f"contractive mode {mode!r} needs an rng")
  if mode == "hutchinson":
    probes = jax.random.normal(rng, (num_probes,) + x.shape, x.dtype)
    # x is not batched over probes, so the primal pass runs once.
    jv = jax.vmap(lambda v: jax.jvp(encode, (x,), (v,))[1])(probes)  # [P, B, D]
    return jnp.square(jv).sum(-1).mean(0)
  if mode == "hutchinson_vjp":
    h, vjp_fn = jax.vjp(encode, x)
    probes = jax.random.normal(rng, (num_probes,) + h.shape, h.dtype)
    (ju,) = jax.vmap(vjp_fn)(probes)  # [P, B, H, W, C]
    return jnp.square(ju).reshape(num_probes, x.shape[0], -1).sum(-1).mean(0)
  raise ValueError(f"unknown contractive mode {mode!r}; valid: {', '.join(CONTRACTIVE_MODES)}")


def code_statistics(h: jax.Array, threshold: float) -> dict[str, jax.Array]:
  """Per-example code diagnostics [B]: mean activation, mean |h|, near-zero fraction."""
  return {"code_mean": h.mean(-1), "code_mean_abs": jnp.abs(h).mean(-1),
          "code_frac_near_zero": (jnp.abs(h) < threshold).mean(-1)}


# --------------------------------------------------------------------------
# Config checking and model construction
# --------------------------------------------------------------------------


def validate(config: ConfigDict) -> None:
  """Checks the autoencoder's `model`, `loss`, `noise`, `evals`, `probe` groups.

  Raises:
    ConfigError: naming the key, the bad value and what is allowed.
  """
  m, loss, noise, evals = (settings(config, g) for g in ("model", "loss", "noise", "evals"))
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
  if noise.kind not in corruption.KINDS:
    raise ConfigError(
        f"config.noise.kind={noise.kind!r}; valid: {', '.join(corruption.KINDS)}")
  if noise.std < 0 or not 0.0 <= noise.fraction <= 1.0:
    raise ConfigError("config.noise: std must be >= 0 and fraction in [0, 1]")
  if evals.jacobian not in JACOBIAN_EVALS:
    raise ConfigError(
        f"config.evals.jacobian={evals.jacobian!r}; valid: {', '.join(JACOBIAN_EVALS)}")
  if any((not isinstance(k, int)) or k <= 0 or k % 2 == 0 for k in evals.median_sizes):
    raise ConfigError(f"config.evals.median_sizes must be odd positive integers, "
                      f"got {tuple(evals.median_sizes)}")
  if m.kind == "conv" and m.conv_impl == "fast":
    uses_jvp = (loss.contractive_weight > 0 and loss.contractive_mode in _FORWARD_MODES)
    if uses_jvp or evals.jacobian == "jacfwd":
      raise ConfigError(
          "the 'fast' convolutions have custom VJPs and no forward mode: with "
          "config.model.conv_impl='fast' use contractive_mode jacrev or hutchinson_vjp "
          "and evals.jacobian jacrev (or set conv_impl='flax')")


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
# The method
# --------------------------------------------------------------------------


@methods.register("autoencoder", defaults=DEFAULTS, validate=validate)
def build(config: ConfigDict, *, data_info: methods.DataInfo,
          num_train_steps: int) -> methods.Method:
  """Builds the autoencoder method (see the module docstring)."""
  validate(config)
  m, loss_cfg, noise, evals, probe_cfg = (
      settings(config, g) for g in ("model", "loss", "noise", "evals", "probe"))
  model = make_model(config, data_info.image_shape)
  tx = make_optimizer(config.optimizer, num_train_steps)
  loss_kind = loss_cfg.reconstruction
  out_act = mlp.activation(m.output_activation)
  num_pixels = math.prod(data_info.image_shape)
  denoising = noise.kind != "none"
  contractive = loss_cfg.contractive_weight > 0

  def corrupt(rng, x):
    return corruption.corrupt(rng, x, noise.kind, std=noise.std, fraction=noise.fraction)

  def encoder(params) -> Callable[[jax.Array], jax.Array]:
    return lambda x: model.apply({"params": params}, x, method=model.encode)

  def forward(params, x_in, target):
    """Codes, outputs, per-example loss and per-pixel mse of target vs g(f(x_in))."""
    h, out = model.apply({"params": params}, x_in)
    rec = reconstruction_loss(loss_kind, out, target, m.output_activation)
    mse = jnp.square(out_act(out) - target).sum(PIXEL_AXES) / num_pixels
    return h, out, rec, mse

  def init(rng, batch):
    params = model.init(rng, batch["image"])["params"]
    return {"params": params, "opt_state": tx.init(params)}

  def train_step(state, batch, rng):
    noise_rng, probe_rng = jax.random.split(rng)
    x = batch["image"]
    # A fresh corruption every step: rng is folded with the step number by
    # the trainer, so no two steps (or epochs) see the same x~.
    x_in = corrupt(noise_rng, x) if denoising else x

    def loss_fn(params):
      h, _, rec, mse = forward(params, x_in, x)
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
        penalty = squared_jacobian_norm(encoder(params), x_in, loss_cfg.contractive_mode,
                                        probe_rng, loss_cfg.contractive_probes).mean()
        aux["contractive_penalty"] = penalty
        loss = loss + loss_cfg.contractive_weight * penalty
      return loss, aux

    (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(state["params"])
    updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
    params = optax.apply_updates(state["params"], updates)
    metrics = {"loss": loss, **metrics, "grad_norm": optax.tree.norm(grads)}
    if denoising:
      metrics["noise_mse"] = jnp.square(x_in - x).mean()
    return {"params": params, "opt_state": opt_state}, metrics

  def jacobian_frobenius(params, x):
    """Exact ||df/dx||_F per example [B], on the first `jacobian_examples` rows.

    With a subset of m < B rows, those rows carry weight B / m and the rest
    0, so the trainer's mean over the eval split is the subset's mean.
    """
    b = x.shape[0]
    k = evals.jacobian_examples
    k = b if k <= 0 or k >= b else k
    norms = jnp.sqrt(squared_jacobian_norm(encoder(params), x[:k], evals.jacobian))
    return jnp.zeros((b,), jnp.float32).at[:k].set(norms * (b / k))

  def eval_step(state, batch, rng):
    params = state["params"]
    x = batch["image"]
    h, out, rec, mse = forward(params, x, x)
    r = jnp.clip(out_act(out), 0.0, 1.0)
    metrics = {"loss": rec, "recon_loss": rec, "mse": mse,
               "psnr": image_quality.psnr(x, r, mse_floor=1e-10),
               **code_statistics(h, loss_cfg.near_zero_threshold)}
    if evals.jacobian != "none":
      metrics["jacobian_frobenius"] = jacobian_frobenius(params, x)
    if denoising:
      # The eval key depends on the batch index only: every eval of a run
      # (and every run with the same seed) sees the same corrupted test set.
      x_noisy = corrupt(rng, x)
      _, out_n, rec_n, mse_n = forward(params, x_noisy, x)
      metrics.update({
          "recon_loss_noisy": rec_n, "mse_noisy": mse_n,
          "psnr_noisy_input": image_quality.psnr(x, x_noisy, mse_floor=1e-10),
          "psnr_denoised": image_quality.psnr(x, jnp.clip(out_act(out_n), 0.0, 1.0),
                                              mse_floor=1e-10)})
      for size in evals.median_sizes:
        metrics[f"psnr_median{size}"] = image_quality.psnr(
            x, image_quality.median_filter(x_noisy, size), mse_floor=1e-10)
    return metrics

  def images(state, batch, rng):
    params = state["params"]
    x = batch["image"]
    _, out = model.apply({"params": params}, x)
    grids = {"reconstructions": reconstruction_grid(x, jnp.clip(out_act(out), 0.0, 1.0))}
    if denoising:
      x_noisy = corrupt(rng, x)
      _, out_n = model.apply({"params": params}, x_noisy)
      median = image_quality.median_filter(x_noisy, evals.median_sizes[0]
                                           if evals.median_sizes else 3)
      # Rows per group of 8 test images: clean, noisy, median-filtered, DAE.
      grids["denoising"] = image_rows_grid(
          [x, x_noisy, median, jnp.clip(out_act(out_n), 0.0, 1.0)])
    return grids

  def final_eval(state, dataset, rng, workdir=None) -> dict[str, float]:
    del workdir  # the probes write no figures
    if not probe_cfg.enabled or dataset.num_classes < 2:
      return {}
    return linear_probe.probe_dataset(
        encoder(state["params"]), dataset, rng, sizes=tuple(probe_cfg.sizes),
        l2=probe_cfg.l2, num_steps=probe_cfg.num_steps, include_pixels=probe_cfg.pixels,
        batch_size=config.eval_batch_size)

  # ---- model functions (genjax.load) -------------------------------------

  def encode(state, x):
    """Codes h = f(x) [N, D]."""
    return encoder(state["params"])(x)

  def decode(state, h):
    """g(h): images [N, H, W, C] in [0, 1] (the output activation, clipped)."""
    out = model.apply({"params": state["params"]}, h, method=model.decode)
    return jnp.clip(out_act(out), 0.0, 1.0)

  def reconstruct(state, x):
    """g(f(x)) in [0, 1], as in the eval metrics and image grids."""
    _, out = model.apply({"params": state["params"]}, x)
    return jnp.clip(out_act(out), 0.0, 1.0)

  return methods.Method(init=init, train_step=train_step, eval_step=eval_step,
                        images=images, final_eval=final_eval, main_metric="recon_loss",
                        model_fns={"encode": encode, "decode": decode,
                                   "reconstruct": reconstruct})
