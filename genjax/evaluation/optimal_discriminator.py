r"""Does a trained discriminator reach D*(x) = p_data(x) / (p_data(x) + p_g(x))?

Goodfellow et al. 2014, Prop. 1: for a fixed generator the discriminator
loss  -E_data log D(x) - E_g log(1 - D(x))  is minimised pointwise by
D*(x) = p_data / (p_data + p_g), since a log y + b log(1 - y) peaks at
y = a / (a + b). The check, on a 1-D toy where p_data is known exactly:

1. freeze G; train a fresh discriminator (an MLP) to convergence on real
   samples (drawn exactly from the toy mixture) against fresh G samples,
   with a decaying learning rate so the final D is not a noisy SGD iterate
   (a 256x256x256 MLP, Adam 3e-3 cosine-decayed over 12000 steps of 4096 +
   4096 points, about 8 min on an idle 2-core CPU. Against a G trained 20k
   steps on toy_mog1d, whose p_g has sharper modes than p_data and thin
   bridges between them, D* dips steeply where both densities are small;
   there a 128x128 D trained for 3000 steps of 1024 stayed up to 0.50 from
   D*, this D trained 6000 steps 0.056 (seed 1), and 12000 steps 0.040.
   Over three seeds at 12000 steps: 0.036 / 0.040 / 0.035, exact-sampler
   control 0.005, `python -m experiments.optimal_discriminator`);
2. estimate p_g by a Gaussian kernel density estimate of many G samples,
   and compare it with p_data smoothed by the same kernel (computed exactly:
   a mixture of Gaussians convolved with a Gaussian), so the estimate of
   D* is a ratio of equally smoothed densities. Measured on the exact-sampler
   control (p_g = p_data, D* = 1/2): with the unsmoothed p_data the KDE's
   widened tails alone put the estimated D* 0.060 from 1/2 at 200k samples
   (0.026 at 2M); smoothed, 0.018 (0.011 at 2M). The fresh D itself was
   within 0.002 of 1/2 there;
3. compare D(x) with D*(x) on a grid, where the two densities are not
   negligible (D is unconstrained where neither distribution puts mass):
   report the max and mean |D - D*| and optionally plot both curves.

With p_g = p_data the answer would be D = 1/2 everywhere; a trained G that
is close to p_data shows D* near 1/2 except where G misplaces mass.
"""

from __future__ import annotations

import os

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from genjax import toy_data
from genjax.errors import ConfigError
from genjax.evaluation import registry
from genjax.models import gan_models


def default_bandwidth(samples) -> float:
  """Half of Scott's rule (1.06 s N^-1/5): Scott's over-smooths multimodal densities."""
  s = jnp.asarray(samples, jnp.float32).reshape(-1)
  return 0.5 * 1.06 * float(jnp.std(s)) * s.shape[0] ** -0.2


def kde(samples, points, bandwidth: float | None = None) -> jax.Array:
  """Gaussian kernel density estimate of 1-D samples [N] (or [N, 1]) at points [P].

  Args:
    bandwidth: kernel std; default `default_bandwidth(samples)`.

  Returns:
    float32 [P] density values.
  """
  s = jnp.asarray(samples, jnp.float32).reshape(-1)
  p = jnp.asarray(points, jnp.float32).reshape(-1)
  h = default_bandwidth(s) if bandwidth is None else bandwidth

  @jax.jit
  def run(s, p):
    # Blocks of samples keep the [block, P] matrix small.
    blocks = s[: (s.shape[0] // 1000) * 1000].reshape(-1, 1000)
    rest = s[(s.shape[0] // 1000) * 1000:]
    def one(acc, b):
      return acc + jnp.exp(-0.5 * jnp.square((p[None] - b[:, None]) / h)).sum(0), None
    total, _ = lax.scan(one, jnp.zeros_like(p), blocks)
    total = total + jnp.exp(-0.5 * jnp.square((p[None] - rest[:, None]) / h)).sum(0)
    return total / (s.shape[0] * h * jnp.sqrt(2 * jnp.pi))

  return run(s, p)


def jensen_shannon(p, q, dx: float) -> float:
  """JSD(p || q) in nats (0 to ln 2) of two densities sampled on a regular grid of step dx."""
  p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
  p, q = p / (p.sum() * dx), q / (q.sum() * dx)  # the grid's mass of each, renormalised
  m = (p + q) / 2

  def kl_to_m(a):
    ratio = np.where(a > 0, a / np.where(m > 0, m, 1.0), 1.0)
    return float(np.sum(a * np.log(ratio)) * dx)

  return 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)


def train_discriminator(sample_real: Callable, sample_fake: Callable, rng: jax.Array, *,
                        hidden=(256, 256, 256), steps: int = 12000,
                        batch_size: int = 4096, lr: float = 3e-3):
  """Trains a fresh MLP discriminator between two samplers (G fixed).

  Args:
    sample_real, sample_fake: (key, n) -> points [n, D] (jit-able).
    rng: key.
    hidden: the discriminator's hidden widths (LeakyReLU).
    steps: Adam steps (cosine-decayed learning rate).
    batch_size: real and fake points per step (each).
    lr: peak learning rate.

  Returns:
    (d(x [P, D]) -> D(x) [P] probabilities, final d_loss).
  """
  disc = gan_models.MLPDiscriminator(hidden=tuple(hidden))
  k_init, k_train = jax.random.split(rng)
  params = disc.init(k_init, sample_real(k_init, 2))["params"]
  tx = optax.adam(optax.cosine_decay_schedule(lr, steps))

  def loss_fn(params, real, fake):
    lr_, _ = disc.apply({"params": params}, real)
    lf, _ = disc.apply({"params": params}, fake)
    return jnp.mean(jax.nn.softplus(-lr_)) + jnp.mean(jax.nn.softplus(lf))

  @jax.jit
  def run(params):
    def step(carry, i):
      params, opt = carry
      kr, kf = jax.random.split(jax.random.fold_in(k_train, i))
      loss, grads = jax.value_and_grad(loss_fn)(
          params, sample_real(kr, batch_size), sample_fake(kf, batch_size))
      updates, opt = tx.update(grads, opt, params)
      return (optax.apply_updates(params, updates), opt), loss
    (params, _), losses = lax.scan(step, (params, tx.init(params)), jnp.arange(steps))
    return params, losses[-100:].mean()

  params, final_loss = run(params)
  d = jax.jit(lambda x: jax.nn.sigmoid(disc.apply({"params": params}, x)[0]))
  return d, float(final_loss)


def check(sample_generator: Callable[[jax.Array, int], jax.Array], data_name: str,
          rng: jax.Array, *, num_gen_samples: int = 2_000_000, grid_size: int = 401,
          support_fraction: float = 0.01, steps: int = 12000, batch_size: int = 4096,
          hidden=(256, 256, 256), lr: float = 3e-3, bandwidth: float | None = None,
          plot_path: str | None = None) -> dict:
  """Trains D against a frozen 1-D generator and compares it with D*.

  Args:
    sample_generator: (key, n) -> generated points [n, 1] (jit-able).
    data_name: a 1-D toy dataset ("toy_mog1d").
    rng: key.
    num_gen_samples: generator samples for the density estimate of p_g.
    grid_size: grid points over [min mean - 4 std - 1, max mean + 4 std + 1].
    support_fraction: the gap is measured where p_data + p_g exceeds this
      fraction of its maximum.
    steps, batch_size, hidden, lr: discriminator training (see
      `train_discriminator`).
    bandwidth: KDE bandwidth (None: `default_bandwidth` of the G samples); p_data
      is smoothed by the same kernel.
    plot_path: if set, a PNG of D, D*, p_data and p_g is written there.

  Returns:
    {"od_max_gap", "od_mean_gap" (uniform over the masked grid),
     "od_weighted_gap" (E |D - D*| under (p_data + p_g) / 2), "od_d_loss", "od_bandwidth",
     "od_jsd_from_d" (ln 2 - d_loss / 2, nats), "od_jsd_kde" (JSD of the smoothed
     p_data and the KDE of p_g on the grid, nats),
     plus arrays "grid", "d",
     "d_star", "p_data", "p_g", "mask"}.
  """
  mix = toy_data.mixture(data_name)
  if mix.dim != 1:
    raise ValueError(f"the optimal-discriminator check needs a 1-D toy, got {data_name!r}")
  k_d, k_g = jax.random.split(rng)
  d, d_loss = train_discriminator(toy_data.sampler(data_name), sample_generator, k_d,
                                  hidden=hidden, steps=steps, batch_size=batch_size, lr=lr)
  grid, p_data, p_g, h = densities(sample_generator, data_name, k_g, num_gen_samples,
                                   grid_size, bandwidth)
  d_star = p_data / jnp.maximum(p_data + p_g, 1e-30)
  out = _compare(grid, d(grid[:, None]), d_star, p_data, p_g, support_fraction)
  out.update(od_d_loss=d_loss, od_bandwidth=h,
             # V(G, D) = -d_loss <= V(G, D*) = -ln 4 + 2 JSD: the trained D's estimate
             # is a lower bound on JSD up to sampling noise.
             od_jsd_from_d=float(np.log(2.0) - d_loss / 2.0))
  if plot_path:
    plot(out, plot_path)
  return out


def densities(sample_generator: Callable[[jax.Array, int], jax.Array], data_name: str,
              rng: jax.Array, num_samples: int, grid_size: int = 401,
              bandwidth: float | None = None, wide: bool = False):
  """(grid, p_data, p_g, bandwidth) of a 1-D toy: p_g a Gaussian KDE of
  `num_samples` generator samples, p_data convolved with the same kernel, both
  on `grid_size` points over [min mean - 4 std - 1, max mean + 4 std + 1].
  `wide`: the kernel at least one grid step wide."""
  mix = toy_data.mixture(data_name)
  lo = float(mix.means.min()) - 4 * mix.std - 1.0
  hi = float(mix.means.max()) + 4 * mix.std + 1.0
  grid = jnp.linspace(lo, hi, grid_size)
  fake = sample_generator(rng, num_samples)
  h = default_bandwidth(fake) if bandwidth is None else bandwidth
  if wide:
    h = max(h, float(grid[1] - grid[0]))
  p_data = jnp.exp(toy_data.log_density(data_name, grid[:, None], smoothing=h))
  return grid, p_data, kde(fake, grid, h), h


def _compare(grid, d_x, d_star, p_data, p_g, support_fraction: float) -> dict:
  """|D - D*| on the grid where p_data + p_g is not negligible, and the JSD of
  the two (smoothed) densities; the curves as arrays for `plot`."""
  total = p_data + p_g
  mask = total >= support_fraction * total.max()
  gap = jnp.abs(d_x - d_star)
  # Where both densities are tiny D* is a ratio of tail estimates and D saw
  # almost no samples; the gap weighted by the mixture (p_data + p_g) / 2 is
  # the one that matters for the loss.
  return {"od_max_gap": float(jnp.max(jnp.where(mask, gap, 0.0))),
          "od_mean_gap": float(jnp.sum(jnp.where(mask, gap, 0.0)) / jnp.sum(mask)),
          "od_weighted_gap": float(jnp.sum(gap * total) / jnp.sum(total)),
          # Computed from the smoothed densities (smoothing lowers it a little).
          "od_jsd_kde": jensen_shannon(p_data, p_g, float(grid[1] - grid[0])),
          "grid": np.asarray(grid), "d": np.asarray(d_x), "d_star": np.asarray(d_star),
          "p_data": np.asarray(p_data), "p_g": np.asarray(p_g), "mask": np.asarray(mask)}


def plot(result: dict, path: str) -> None:
  """D(x) and D*(x) (left axis) over p_data and p_g (right axis), as a PNG."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  x = result["grid"]
  fig, ax = plt.subplots(figsize=(6.4, 3.6))
  ax.plot(x, result["d_star"], "k-", lw=2, label=r"$D^*=p_{data}/(p_{data}+p_g)$")
  ax.plot(x, result["d"], "r--", lw=1.5, label="trained D (G frozen)")
  ax.axhline(0.5, color="grey", lw=0.5)
  ax.set_ylim(-0.02, 1.02)
  ax.set_xlabel("x")
  ax.set_ylabel("D(x)")
  ax2 = ax.twinx()
  ax2.fill_between(x, result["p_data"], color="tab:blue", alpha=0.2,
                   label=r"$p_{data}$ (smoothed like $p_g$)")
  ax2.fill_between(x, result["p_g"], color="tab:green", alpha=0.2, label=r"$p_g$ (KDE)")
  ax2.set_ylabel("density")
  lines = ax.get_legend_handles_labels()
  lines2 = ax2.get_legend_handles_labels()
  ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left", fontsize=7)
  ax.set_title(f"|D - D*|: max {result['od_max_gap']:.3f}, mean "
               f"{result['od_mean_gap']:.3f}, density-weighted "
               f"{result['od_weighted_gap']:.3f}", fontsize=9)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=120)
  plt.close(fig)


# --------------------------------------------------------------------------
# The toy GAN evaluators `toy_modes` and `optimal_discriminator`
# (genjax/evaluation/registry.py)
# --------------------------------------------------------------------------


def _check_toy(spec, config, data_info) -> None:
  del data_info
  if not config.data.name.startswith("toy_"):
    raise ConfigError(f"a {spec.type} evaluator needs a toy dataset (toy_*), got "
                      f"{config.data.name!r}")


def _toy_sampler(model) -> Callable[[jax.Array, int], jax.Array]:
  """(key, n) -> the model's n samples, compiled once per run (the state is
  an argument, so every evaluation of the run reuses the program)."""
  sample, state = model.jitted_state_function("sample"), model.state
  return lambda key, n: sample(state, key, n)


@registry.register("toy_modes", needs=("sample",), check=_check_toy, num_samples=10_000)
def evaluate_modes(ctx: registry.Context, spec, name: str) -> dict[str, float]:
  """{"modes_covered", "num_modes", "high_quality_fraction"} of the model's
  samples (`genjax.toy_data.mode_statistics`)."""
  del name
  sampler = _toy_sampler(ctx.model)
  return toy_data.mode_statistics(ctx.dataset.name,
                                  np.asarray(sampler(ctx.rng, spec.num_samples)))


def _check_one_dimensional(spec, config, data_info) -> None:
  _check_toy(spec, config, data_info)
  if toy_data.mixture(config.data.name).dim != 1:
    raise ConfigError(f"a {spec.type} evaluator needs a 1-D toy (toy_mog1d), got "
                      f"{config.data.name!r}")


@registry.register("toy_jsd", needs=("sample",), check=_check_one_dimensional,
                   num_samples=200_000)
def evaluate_jsd(ctx: registry.Context, spec, name: str) -> dict[str, float]:
  """{"jsd_kde"}: JSD(p_data, p_g) in nats (0: equal, ln 2: disjoint) of the
  densities on `check`'s grid, p_g a KDE of `num_samples` samples, no D
  trained: cheap enough for every eval, so a run records its trajectory.
  The kernel is at least one grid step wide (an untrained G's samples can
  sit on one point)."""
  del name
  grid, p_data, p_g, _ = densities(_toy_sampler(ctx.model), ctx.dataset.name, ctx.rng,
                                   spec.num_samples, wide=True)
  dx = float(grid[1] - grid[0])
  return {"jsd_kde": jensen_shannon(p_data, p_g, dx)}


@registry.register("optimal_discriminator", needs=("sample",), check=_check_one_dimensional,
                   steps=12000, batch_size=4096, num_gen_samples=2_000_000,
                   hidden=(256, 256, 256))
def evaluate_discriminator(ctx: registry.Context, spec, name: str) -> dict[str, float]:
  """`check`'s scalar results for the model's generator (a fresh MLP D with
  `hidden` widths trained `steps` steps of `batch_size` against it, p_g from
  `num_gen_samples`); the plot goes to figures/optimal_discriminator.png."""
  del name
  plot_path = None
  if ctx.workdir and jax.process_index() == 0:
    plot_path = os.path.join(ctx.workdir, "figures", "optimal_discriminator.png")
  gap = check(_toy_sampler(ctx.model), ctx.dataset.name, ctx.rng, steps=spec.steps,
              batch_size=spec.batch_size, num_gen_samples=spec.num_gen_samples,
              hidden=tuple(spec.hidden), plot_path=plot_path)
  return {k: v for k, v in gap.items() if np.ndim(v) == 0}
