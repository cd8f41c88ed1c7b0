"""A GAN's image grids and end-of-run evaluation.

  images(parts, state, batch, rng)
      Image datasets: the conditioning's grids (`sample_grids`); 2-D toys:
      histograms of the data beside G's samples.
  final_eval(parts, settings, state, dataset, rng, workdir=None)
      Image datasets: sample quality against a shipped classifier
      (`genjax.evaluation.sample_quality`); for an InfoGAN, Q's category
      as an unsupervised classifier; for a semi-supervised GAN, D's test
      error (`ssgan_test_error`, argmax of its class logits, whole eval
      split). Toys: mode coverage and, in 1-D, the gap to the optimal
      discriminator (`genjax.evaluation.optimal_discriminator`).
"""

from __future__ import annotations

import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from genjax import toy_data
from genjax.evaluation import optimal_discriminator, sample_quality
from genjax.methods.gan_steps import GanParts, generate, sampling_variables


@dataclasses.dataclass(frozen=True)
class EvalSettings:
  """What `final_eval` reads besides the GAN's parts.

  Attributes:
    sample_quality: whether to score samples with the dataset's classifier.
    num_samples: samples scored (0: none).
    batch_size: generation / classification batch of the sample-quality metrics.
    knn_k: k of the k-NN precision / recall.
    toy_num_samples: samples for a toy's mode statistics.
    optimal_discriminator: whether to compare D with D* on 1-D toys.
    eval_batch_size: the batch Q classifies the test split in (its padded length
      is a multiple of it).
    num_classes: classes of the dataset.
  """
  sample_quality: bool
  num_samples: int
  batch_size: int
  knn_k: int
  toy_num_samples: int
  optimal_discriminator: bool
  eval_batch_size: int
  num_classes: int


def images(parts: GanParts, state, batch, rng: jax.Array) -> dict[str, jax.Array]:
  """{name: grid [rows, cols, *data_shape]} of samples from the sampling weights."""
  g_vars = sampling_variables(parts, state)
  if parts.toy:
    return _toy_images(parts, g_vars, batch, rng)

  def render(z, g_cond, rows, cols):
    x = parts.networks.generate(g_vars, z, g_cond, train=False)[0]
    return x.reshape((rows, cols) + parts.data_shape)

  return parts.conditioning.sample_grids(render, parts.prior.sample, rng)


def _toy_images(parts: GanParts, g_vars, batch, rng: jax.Array) -> dict[str, jax.Array]:
  """2-D toys: histograms of data (left) and G's samples (right), dark = dense."""
  if parts.data_shape[0] != 2:
    return {}
  mix = toy_data.mixture(parts.data_name)
  bound = float(np.abs(mix.means).max()) + 1.0
  fake = generate(parts, g_vars, rng, jnp.zeros((4096,), jnp.int32))

  def hist(points, bins=64):
    idx = jnp.clip(((points + bound) / (2 * bound) * bins).astype(jnp.int32), 0, bins - 1)
    h = jnp.zeros((bins, bins)).at[bins - 1 - idx[:, 1], idx[:, 0]].add(1.0)
    return 1.0 - jnp.sqrt(h / jnp.maximum(h.max(), 1.0))

  grid = jnp.stack([hist(batch["image"]), hist(fake)])[None, :, :, :, None]
  return {"samples": grid}


def final_eval(parts: GanParts, settings: EvalSettings, state, dataset, rng: jax.Array,
               workdir: str | None = None) -> dict[str, float]:
  """The end-of-run metrics of the module docstring, by name."""
  g_vars = sampling_variables(parts, state)
  if parts.toy:
    return _toy_final_eval(parts, settings, g_vars, dataset, rng, workdir)
  out = {}
  if parts.conditioning.num_categories:
    out.update(info_category_accuracy(parts, settings, state, dataset))
  if parts.semi_supervised:
    out.update(classifier_test_error(parts, settings, state, dataset))
  if not settings.sample_quality or settings.num_samples <= 0:
    return out
  out.update(sample_quality.evaluate_generator(
      lambda key, labels: generate(parts, g_vars, key, labels), dataset, rng,
      num_samples=settings.num_samples, batch_size=settings.batch_size, k=settings.knn_k,
      conditional=parts.conditioning.class_conditional))
  return out


def _toy_final_eval(parts: GanParts, settings: EvalSettings, g_vars, dataset, rng, workdir):
  """Mode statistics of G's samples; in 1-D also D's gap to the optimal D*."""
  n = settings.toy_num_samples
  sampler = jax.jit(lambda key: generate(parts, g_vars, key, jnp.zeros((n,), jnp.int32)))
  out = toy_data.mode_statistics(dataset.name, np.asarray(sampler(rng)))
  if parts.data_shape[0] == 1 and settings.optimal_discriminator:
    plot_path = None
    if workdir and jax.process_index() == 0:
      plot_path = os.path.join(workdir, "figures", "optimal_discriminator.png")
    gap = optimal_discriminator.check(
        lambda key, k: generate(parts, g_vars, key, jnp.zeros((k,), jnp.int32)),
        dataset.name, jax.random.fold_in(rng, 1), plot_path=plot_path)
    out.update({k: v for k, v in gap.items() if np.ndim(v) == 0})
  return out


def _predict_eval_split(settings: EvalSettings, dataset, head) -> np.ndarray:
  """int [num_eval] argmax predictions of `head(images) -> logits` on the eval split."""
  scale = dataset.eval_scale

  @jax.jit
  def predict(images):
    blocks = images.reshape((-1, settings.eval_batch_size) + images.shape[1:])
    one = lambda xb: jnp.argmax(head(xb.astype(jnp.float32) / scale), -1)
    return jax.lax.map(one, blocks).reshape(-1)

  return np.asarray(predict(dataset.eval["image"]))[:dataset.num_eval]


def classifier_test_error(parts: GanParts, settings: EvalSettings, state,
                          dataset) -> dict[str, float]:
  """The semi-supervised D as a classifier of every eval image (argmax of its K logits).

  Returns:
    {"ssgan_test_error": the misclassified fraction, "ssgan_test_errors": their
    number, out of all `dataset.num_eval` images (MNIST: 10,000)}.
  """
  head = lambda x: parts.networks.discriminate(state["d"], x, None)[1]
  pred = _predict_eval_split(settings, dataset, head)
  labels = np.asarray(dataset.eval["label"])[:dataset.num_eval]
  errors = int(np.sum(pred != labels))
  return {"ssgan_test_error": errors / len(labels), "ssgan_test_errors": float(errors)}


def info_category_accuracy(parts: GanParts, settings: EvalSettings, state,
                           dataset) -> dict[str, float]:
  """Q's category on real test images as a classifier, after Hungarian matching."""
  num_categories = parts.conditioning.num_categories
  head = lambda x: parts.networks.discriminate(state["d"], x, None)[1][:, :num_categories]
  pred = _predict_eval_split(settings, dataset, head)
  labels = np.asarray(dataset.eval["label"])[:dataset.num_eval]
  acc, mapping = sample_quality.hungarian_accuracy(
      pred, labels, max(num_categories, settings.num_classes))
  logging.info("InfoGAN c1 -> class mapping: %s", mapping.tolist())
  return {"c1_hungarian_accuracy": acc}
