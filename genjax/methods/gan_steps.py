"""The GAN's pure step functions: init, the D and G updates, train and eval steps.

Each function takes a `GanParts` first (bind it with `functools.partial`)
and is otherwise a pure function of pytrees, as `genjax.methods` asks. The
state is

    {"g": G's variables, "d": D's variables, "g_opt": ..., "d_opt": ...,
     "g_ema": EMA of G's params (only with gan.ema_decay > 0)}

One `train_step` is Goodfellow et al.'s Algorithm 1 with k = `d_steps`: k
`d_update`s on the step's real batch, each with fresh z, then one `g_update`
against the updated D. Each update differentiates and changes only its own
network's variables and optimiser state.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax

from genjax import toy_data
from genjax.methods import gan_losses
from genjax.methods.gan_conditioning import Conditioning, Inputs, LatentPrior, draw_inputs
from genjax.methods.gan_networks import Networks


@dataclasses.dataclass(frozen=True)
class GanParts:
  """Everything a GAN's step functions are built from.

  Attributes:
    networks: G and D (`gan_networks.Networks`).
    conditioning: the conditioning strategy (`gan_conditioning`).
    prior: p(z).
    g_tx, d_tx: G's and D's optimisers.
    generator_loss: one of `gan_losses.GENERATOR_LOSSES`.
    d_steps: D updates per G update.
    r1_weight: gamma of the R1 penalty in D's loss (0: none).
    ema_decay: decay of the EMA of G's params kept for sampling (0: none).
    data_shape: the shape of one example ([D] for toy point data).
    data_name: the dataset's name (toys: the mixture whose density is known).
  """
  networks: Networks
  conditioning: Conditioning
  prior: LatentPrior
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  generator_loss: str
  d_steps: int
  r1_weight: float
  ema_decay: float
  data_shape: tuple[int, ...]
  data_name: str

  @property
  def toy(self) -> bool:
    """Whether the data are points of a toy distribution rather than images."""
    return len(self.data_shape) == 1


def draw(parts: GanParts, rng: jax.Array, labels: jax.Array) -> Inputs:
  """z, G's and D's conditions and the codes for a batch with these real labels."""
  return draw_inputs(rng, labels, parts.prior, parts.conditioning)


def sampling_variables(parts: GanParts, state) -> dict:
  """G's variables for sampling: EMA weights if kept, running BN statistics."""
  params = state["g_ema"] if parts.ema_decay > 0 else state["g"]["params"]
  return {**state["g"], "params": params}


def generate(parts: GanParts, g_vars: dict, rng: jax.Array, labels: jax.Array) -> jax.Array:
  """Samples of G (eval mode) for these labels (conditional GANs); codes drawn at random."""
  inputs = draw(parts, rng, labels)
  return parts.networks.generate(g_vars, inputs.z, inputs.g_cond, train=False)[0]


def init(parts: GanParts, rng: jax.Array, batch) -> dict:
  """Both networks' variables and optimiser states (and G's EMA); see the module docstring."""
  key_g, key_d, key_inputs = jax.random.split(rng, 3)
  inputs = draw(parts, key_inputs, batch["label"])
  g_vars, d_vars = parts.networks.init(key_g, key_d, inputs.z, inputs.g_cond, inputs.d_cond)
  state = {"g": g_vars, "d": d_vars,
           "g_opt": parts.g_tx.init(g_vars["params"]),
           "d_opt": parts.d_tx.init(d_vars["params"])}
  if parts.ema_decay > 0:
    state["g_ema"] = g_vars["params"]
  return state


def _d_on_real(parts: GanParts, d_vars: dict, x: jax.Array, d_cond, rng: jax.Array):
  """(D's logits on the real batch, D's variables for the fake batch, R1 or None)."""
  nets = parts.networks
  if parts.r1_weight > 0:  # never with D's batch norm (see `gan.validate`)
    logits, r1 = gan_losses.logits_and_r1(
        lambda x: nets.discriminate(d_vars, x, d_cond, rng)[0], x)
    return logits, d_vars, r1
  logits, _, stats = nets.discriminate(d_vars, x, d_cond, rng)
  if nets.d_batch_norm:
    # Real and fake batches go through D separately, each normalised by its
    # own statistics (Radford et al. 2016); the running averages this pass
    # updated carry on into the fake pass.
    d_vars = {**d_vars, "batch_stats": stats}
  return logits, d_vars, None


def _d_objective(parts: GanParts, d_params, d_vars: dict, x: jax.Array, fake: jax.Array,
                 inputs: Inputs, key_real: jax.Array, key_fake: jax.Array):
  """D's loss (+ R1, + the conditioning's terms) and aux (D's batch statistics, metrics)."""
  d_vars = {**d_vars, "params": d_params}
  real_logit, d_vars, r1 = _d_on_real(parts, d_vars, x, inputs.d_cond, key_real)
  fake_logit, q, stats = parts.networks.discriminate(d_vars, fake, inputs.d_cond, key_fake)
  loss = gan_losses.discriminator_loss(real_logit, fake_logit)
  metrics = {"d_loss": loss, "d_real": jnp.mean(jax.nn.sigmoid(real_logit)),
             "d_fake": jnp.mean(jax.nn.sigmoid(fake_logit))}
  if r1 is not None:
    metrics["d_r1"] = r1
    loss = loss + parts.r1_weight * r1
  loss, metrics = parts.conditioning.add_d_terms(loss, metrics, q, inputs.codes)
  return loss, (stats, metrics)


def d_update(parts: GanParts, state: dict, x: jax.Array, labels: jax.Array, rng: jax.Array):
  """One discriminator (+Q) step on real images x with G fixed.

  Returns:
    (the state with new "d" and "d_opt", metrics); G's entries pass through.
  """
  rng, key_real, key_fake = jax.random.split(rng, 3)
  inputs = draw(parts, rng, labels)
  # G only supplies a constant sample here: no gradient reaches its params.
  fake = jax.lax.stop_gradient(
      parts.networks.generate(state["g"], inputs.z, inputs.g_cond, train=True)[0])
  d_params = state["d"]["params"]
  objective = lambda p: _d_objective(parts, p, state["d"], x, fake, inputs, key_real, key_fake)
  (_, (stats, metrics)), grads = jax.value_and_grad(objective, has_aux=True)(d_params)
  updates, d_opt = parts.d_tx.update(grads, state["d_opt"], d_params)
  new_d = {**state["d"], "params": optax.apply_updates(d_params, updates)}
  if parts.networks.d_batch_norm:
    new_d["batch_stats"] = stats
  new_state = {**state, "d": new_d, "d_opt": d_opt}
  return new_state, {**metrics, "d_grad_norm": optax.tree.norm(grads)}


def _g_objective(parts: GanParts, g_params, state: dict, inputs: Inputs, key_d: jax.Array):
  """G's loss (+ the conditioning's terms) and aux (G's batch statistics, metrics)."""
  fake, batch_stats = parts.networks.generate({**state["g"], "params": g_params}, inputs.z,
                                              inputs.g_cond, train=True)
  # D in training mode (batch statistics of this fake batch); the
  # statistics it would update are dropped: D is fixed in G's step.
  fake_logit, q, _ = parts.networks.discriminate(state["d"], fake, inputs.d_cond, key_d)
  loss = gan_losses.generator_loss(fake_logit, parts.generator_loss)
  metrics = {"g_loss": loss, "d_fake_g_step": jnp.mean(jax.nn.sigmoid(fake_logit))}
  loss, metrics = parts.conditioning.add_g_terms(loss, metrics, q, inputs.codes)
  return loss, (batch_stats, metrics)


def ema_update(ema, params, decay: float):
  """decay * ema + (1 - decay) * params, leaf by leaf."""
  return jax.tree.map(lambda e, p: decay * e + (1 - decay) * p, ema, params)


def g_update(parts: GanParts, state: dict, labels: jax.Array, rng: jax.Array):
  """One generator step against the current, fixed, D (and Q).

  Returns:
    (the state with new "g", "g_opt" and "g_ema", metrics); D's entries pass through.
  """
  rng, key_d = jax.random.split(rng)
  inputs = draw(parts, rng, labels)
  g_vars = state["g"]
  objective = lambda p: _g_objective(parts, p, state, inputs, key_d)
  (_, (batch_stats, metrics)), grads = jax.value_and_grad(objective, has_aux=True)(
      g_vars["params"])
  updates, g_opt = parts.g_tx.update(grads, state["g_opt"], g_vars["params"])
  g_params = optax.apply_updates(g_vars["params"], updates)
  new_g = {**g_vars, "params": g_params}
  if parts.networks.g_batch_norm:
    new_g["batch_stats"] = batch_stats
  new_state = {**state, "g": new_g, "g_opt": g_opt}
  if parts.ema_decay > 0:
    new_state["g_ema"] = ema_update(state["g_ema"], g_params, parts.ema_decay)
  return new_state, {**metrics, "g_grad_norm": optax.tree.norm(grads)}


def train_step(parts: GanParts, state: dict, batch, rng: jax.Array):
  """k = d_steps D updates (fresh z each, same real batch), then one G update."""
  keys = jax.random.split(rng, parts.d_steps + 1)
  for i in range(parts.d_steps):
    state, d_metrics = d_update(parts, state, batch["image"], batch["label"], keys[i])
  state, g_metrics = g_update(parts, state, batch["label"], keys[-1])
  return state, {**d_metrics, **g_metrics}


def eval_step(parts: GanParts, state: dict, batch, rng: jax.Array) -> dict[str, jax.Array]:
  """Per-example D and G losses, D's outputs, and the conditioning's and toys' extras.

  D runs in evaluation mode on the real batch and on samples of the
  sampling weights (`sampling_variables`).
  """
  x, labels = batch["image"], batch["label"]
  inputs = draw(parts, rng, labels)
  fake, _ = parts.networks.generate(sampling_variables(parts, state), inputs.z, inputs.g_cond,
                                    train=False)
  real_logit, _, _ = parts.networks.discriminate(state["d"], x, inputs.d_cond)
  fake_logit, q, _ = parts.networks.discriminate(state["d"], fake, inputs.d_cond)
  out = {"d_loss": gan_losses.discriminator_loss_per_example(real_logit, fake_logit),
         "g_loss": gan_losses.generator_loss_per_example(fake_logit, parts.generator_loss),
         "d_real": jax.nn.sigmoid(real_logit), "d_fake": jax.nn.sigmoid(fake_logit)}
  out.update(parts.conditioning.eval_terms(q, inputs.codes))
  if parts.toy:
    # The data density at generated points: high when samples sit on modes.
    out["sample_log_density"] = toy_data.log_density(parts.data_name, fake)
  return out
