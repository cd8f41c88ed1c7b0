r"""Autoencoder losses, penalties and code diagnostics: pure functions of arrays.

The terms of L(x, g(f(x))) + Omega(h) that `genjax.methods.autoencoder`
combines according to its config, each testable by hand:

  reconstruction_loss    L per example: Bernoulli cross-entropy or squared error.
  l1_penalty             sum_j |h_j| per example.
  kl_sparsity_penalty    sum_j KL(rho || rho_hat_j) over a batch (Ng, CS294A).
  squared_jacobian_norm  ||df(x)/dx||_F^2 per example, exact or Hutchinson.
  code_statistics        mean activation, mean |h| and near-zero fraction.

Usage: `squared_jacobian_norm(encode, x, "jacrev")` with `encode` any
batched encoder whose examples do not interact.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from genjax.models import mlp

CONTRACTIVE_MODES = ("jacfwd", "jacrev", "hutchinson", "hutchinson_vjp")


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
    return per_example_sum(optax.sigmoid_binary_cross_entropy(output, x))
  r = mlp.activation(output_activation)(output)
  return per_example_sum(jnp.square(r - x))


def per_example_sum(v: jax.Array) -> jax.Array:
  """[B, ...] -> [B]: the sum over each example's pixels (or a toy point's coordinates)."""
  return v.reshape(v.shape[0], -1).sum(-1)


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
    mode: one of CONTRACTIVE_MODES (see `genjax.methods.autoencoder`).
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
