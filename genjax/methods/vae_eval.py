r"""The VAE's end-of-run evaluation: test NLL, active units, the latent plane.

`make_final_eval` builds the `final_eval` of `genjax.methods.vae` from the
trained network's pieces. On the test split it

  * encodes every image and counts active latent units (Burda et al. 2016:
    Cov_x(E_q[z]) > 1e-2);
  * estimates log p(x) by importance sampling with `eval.nll_samples`
    posterior samples (5000 by convention), one test batch at a time;
  * with a 2-D latent, decodes the `manifold_latents` grid, lets the project
    classifier say which digits it holds and, given a workdir, writes the
    manifold and a scatter of posterior means coloured by label.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from genjax import viz
from genjax.config import ConfigDict
from genjax.evaluation import classifier as classifier_lib
from genjax.evaluation import likelihood as lik
from genjax.evaluation import sample_quality

# (params, x, rng, num_samples, chunk_size) -> importance-sampled log p(x) [B].
LogLikelihood = Callable[[Any, jax.Array, jax.Array, int, int], jax.Array]
# (params, z [..., D]) -> E[x|z] [..., H, W, C] in [0, 1].
DecodeMean = Callable[[Any, jax.Array], jax.Array]
# (params, x) -> posterior means E_q[z] [B, D].
EncodeMean = Callable[[Any, jax.Array], jax.Array]


def manifold_latents(n: int, lo: float = 0.01, hi: float = 0.99) -> jax.Array:
  """An n x n grid of 2-D latents, evenly spaced in prior probability.

  The grid is uniform in (lo, hi)^2 and mapped through the Gaussian inverse
  CDF, so each cell covers the same prior mass (Kingma & Welling, Fig. 4).
  The default reaches +-2.33 prior standard deviations: with (0.05, 0.95)
  (+-1.64) a trained 2-D conv VAE kept its 7s outside the grid.
  Rows go from high z_2 (top) to low z_2, columns from low to high z_1.

  Returns:
    float32 [n, n, 2].
  """
  q = jax.scipy.special.ndtri(jnp.linspace(lo, hi, n))
  z1, z2 = jnp.meshgrid(q, q[::-1])
  return jnp.stack([z1, z2], axis=-1)


def write_latent_scatter(path: str, means: np.ndarray, labels: np.ndarray) -> None:
  """Writes a PNG scatter of 2-D posterior means coloured by label."""
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure  # no pyplot: no global state, no display

  fig = Figure(figsize=(6, 5), dpi=100)
  FigureCanvasAgg(fig)
  ax = fig.add_subplot()
  points = ax.scatter(means[:, 0], means[:, 1], c=labels, cmap="tab10", s=2, alpha=0.6)
  fig.colorbar(points, ax=ax, label="label")
  ax.set_xlabel("E_q[z_1]")
  ax.set_ylabel("E_q[z_2]")
  ax.set_title("test-set posterior means")
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path + ".tmp.png")
  os.replace(path + ".tmp.png", path)


def posterior_means(encode_mean: EncodeMean, params, batches: list[dict[str, jax.Array]]
                    ) -> tuple[np.ndarray, np.ndarray]:
  """E_q[z] [N, D] and labels [N] of the real (unpadded) examples of `batches`."""
  encode = jax.jit(encode_mean)
  means = np.concatenate([np.asarray(encode(params, b["image"])) for b in batches])
  mask = np.concatenate([np.asarray(b["mask"]) for b in batches]) > 0
  labels = np.concatenate([np.asarray(b["label"]) for b in batches])[mask]
  return means[mask], labels


def active_units(means: np.ndarray, latent_dim: int) -> dict[str, int]:
  """{"active_units", "latent_dim"}: Burda's activity count of the posterior means."""
  count, activity = lik.active_units(jnp.asarray(means))
  logging.info("active units %d / %d; activities %s", int(count), latent_dim,
               np.array2string(np.sort(np.asarray(activity))[::-1], precision=3))
  return {"active_units": int(count), "latent_dim": latent_dim}


def importance_sampled_nll(log_likelihood: LogLikelihood, params,
                           batches: list[dict[str, jax.Array]], rng: jax.Array, *,
                           num_eval: int, num_samples: int, chunk_size: int) -> dict[str, float]:
  """{"nll", "nll_samples", "nll_seconds"}: mean -log p(x) over the real test examples.

  Args:
    log_likelihood: the VAE's importance-sampled log p(x).
    params: the trained parameters.
    batches: the test split in eval batches, with "image" and "mask".
    rng: batch i uses `fold_in(rng, i)`.
    num_eval: real test examples (the mean's denominator).
    num_samples, chunk_size: importance samples per example, per vectorised chunk.
  """
  nll_fn = jax.jit(lambda p, x, r: -log_likelihood(p, x, r, num_samples, chunk_size))
  t0 = time.perf_counter()
  total = 0.0
  for i, b in enumerate(batches):
    nll = np.asarray(nll_fn(params, b["image"], jax.random.fold_in(rng, i)))
    total += float(np.sum(nll[np.asarray(b["mask"]) > 0], dtype=np.float64))
    logging.info("NLL batch %d/%d done (%.0fs)", i + 1, len(batches),
                 time.perf_counter() - t0)
  results = {"nll": total / num_eval, "nll_samples": num_samples,
             "nll_seconds": time.perf_counter() - t0}
  logging.info("test NLL (IWAE k=%d) %.3f nats, %.1fs", num_samples,
               results["nll"], results["nll_seconds"])
  return results


def manifold_digits(manifold: np.ndarray, dataset_name: str) -> dict[str, float]:
  """Which classes the decoded latent plane holds, by the project classifier.

  Only confident cells (p >= 0.9) count. Returns {} when no classifier is
  shipped for the dataset, else {"manifold_classes": distinct confident
  classes, "manifold_confident_fraction": fraction of confident cells}.
  """
  judge = classifier_lib.for_dataset(dataset_name)
  if judge is None:
    return {}
  logits, _ = sample_quality.classifier_outputs(
      manifold.reshape((-1,) + manifold.shape[2:]), judge)
  probs = np.asarray(jax.nn.softmax(logits))
  confident = probs.max(-1) >= 0.9
  return {"manifold_classes": int(np.unique(probs.argmax(-1)[confident]).size),
          "manifold_confident_fraction": float(confident.mean())}


def make_final_eval(encode_mean: EncodeMean, decode_mean: DecodeMean,
                    log_likelihood: LogLikelihood, *, latent_dim: int, eval_cfg: ConfigDict,
                    batch_size: int):
  """The VAE's `final_eval(state, dataset, rng, workdir=None)` (see the module docstring).

  Args:
    encode_mean, decode_mean, log_likelihood: the trained network's pieces.
    latent_dim: size of z; the latent-plane evaluation runs only when it is 2.
    eval_cfg: the `eval` group (`nll_samples`, `nll_chunk_size`).
    batch_size: test examples per evaluated batch.
  """

  def final_eval(state, dataset, rng, workdir: str | None = None) -> dict[str, float]:
    """Test NLL (IWAE k = eval.nll_samples), active units, latent figures.

    Args:
      state: the trained state.
      dataset: the `genjax.data.Dataset`.
      rng: key for the importance samples.
      workdir: where to write figures (2-D latent only); None skips them.

    Returns:
      {"nll": nats per test image, "nll_samples", "nll_seconds",
       "active_units", "latent_dim"}; with a 2-D latent on a dataset the
      shipped classifier knows, also "manifold_classes" (distinct digits the
      classifier reads with p >= 0.9 in the 20x20 manifold grid) and
      "manifold_confident_fraction".
    """
    params = state["params"]
    num_batches = dataset.eval["mask"].shape[0] // batch_size
    batches = [dataset.eval_batch(dataset.eval, i * batch_size, batch_size)
               for i in range(num_batches)]
    means, labels = posterior_means(encode_mean, params, batches)
    results: dict[str, float] = dict(active_units(means, latent_dim))
    if eval_cfg.nll_samples:
      results.update(importance_sampled_nll(
          log_likelihood, params, batches, rng, num_eval=dataset.num_eval,
          num_samples=eval_cfg.nll_samples, chunk_size=eval_cfg.nll_chunk_size))
    if latent_dim == 2:
      manifold = np.asarray(jax.jit(decode_mean)(params, manifold_latents(20)))
      results.update(manifold_digits(manifold, dataset.name))
      if workdir is not None and jax.process_index() == 0:
        viz.save_grid(os.path.join(workdir, "figures", "latent_manifold.png"), manifold)
        write_latent_scatter(os.path.join(workdir, "figures", "latent_scatter.png"),
                             means, labels)
    return results
  return final_eval
