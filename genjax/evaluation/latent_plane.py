r"""A 2-D latent space read as a plane: the decoded manifold and the test codes.

With a 2-D latent (Kingma & Welling 2014, Fig. 4) the `latent_plane`
evaluator decodes an evenly spaced grid of latents (`manifold_latents`), asks
the project classifier which classes the decoded plane holds, and, given a
workdir, writes the manifold and a scatter of the test codes coloured by
label to `figures/latent_manifold.png` and `figures/latent_scatter.png`.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from genjax import viz
from genjax.errors import ConfigError
from genjax.evaluation import classifier as classifier_lib
from genjax.evaluation import registry, sample_quality

GRID = 20  # cells per side of the decoded manifold


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
  """Writes a PNG scatter of 2-D codes coloured by label."""
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


def _check_spec(spec, config, data_info) -> None:
  del spec, data_info
  if config.model.get("latent_dim") != 2:
    raise ConfigError("a latent_plane evaluator needs a 2-D latent (config.model.latent_dim=2), "
                      f"got latent_dim={config.model.get('latent_dim')}")


@registry.register("latent_plane", needs=("decode", "encode"), check=_check_spec)
def evaluate(ctx: registry.Context, spec, name: str) -> dict[str, float]:
  """The decoded 20 x 20 manifold read by the classifier, and the figures.

  Returns:
    {"manifold_classes", "manifold_confident_fraction"} (see `manifold_digits`;
    {} on a dataset without a shipped classifier).
  """
  del spec, name
  grid = np.asarray(manifold_latents(GRID))
  manifold = ctx.model.decode(grid.reshape(-1, 2)).reshape(grid.shape[:2] + ctx.model.image_shape)
  if ctx.workdir is not None and jax.process_index() == 0:
    figures = os.path.join(ctx.workdir, "figures")
    viz.save_grid(os.path.join(figures, "latent_manifold.png"), manifold)
    means = registry.batched(registry.code_function(ctx.model), ctx.dataset.images("eval"),
                             batch_size=ctx.config.eval_batch_size, state=ctx.model.state)
    write_latent_scatter(os.path.join(figures, "latent_scatter.png"), means,
                         np.asarray(ctx.dataset.labels("eval")))
  return manifold_digits(manifold, ctx.dataset.name)
