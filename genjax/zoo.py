"""The model zoo: small pretrained models shipped in the repository's `pretrained/`.

    import genjax
    vae = genjax.pretrained("vae_mnist")     # the same Model genjax.load returns
    x = vae.sample(64, seed=0)
    genjax.pretrained_names()                 # what is shipped (zoo.names)

Each `pretrained/<name>/` was written by `scripts/pretrained.py export`
(`Model.save`: parameters only, float16) and holds `provenance.json`: the
exact training command, the date and machine, the run's final metrics and a
cheap headline metric (`headline`) measured on the shipped weights, which
`tests/test_pretrained.py` recomputes.
"""

from __future__ import annotations

import os

import numpy as np

from genjax.errors import UserError

DIRECTORY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "pretrained")
PROVENANCE = "provenance.json"
# The headline metrics' budgets: small enough for a test, fixed so a
# recomputation is the same computation.
NLL_EXAMPLES, NLL_SAMPLES = 100, 100
GAN_SAMPLES = 2000


def names() -> list[str]:
  """The pretrained models shipped in `pretrained/`."""
  if not os.path.isdir(DIRECTORY):
    return []
  return sorted(n for n in os.listdir(DIRECTORY)
                if os.path.isfile(os.path.join(DIRECTORY, n, PROVENANCE)))


def load(name: str):
  """The shipped model `name` (see `names()`), as `genjax.load` returns it."""
  from genjax import model
  if name not in names():
    raise UserError(f"no pretrained model {name!r}; shipped: {', '.join(names()) or 'none'}")
  return model.load(os.path.join(DIRECTORY, name))


def headline(m) -> dict[str, float]:
  """The model's cheap headline metric (deterministic for given weights):

  VAEs: `nll_k100`, the IWAE-100 NLL (nats) of the first 100 test images.
  Conditional GANs: `conditional_accuracy`, the shipped classifier's accuracy
  on 2000 samples of balanced labels. InfoGANs: `c1_hungarian_accuracy` of
  Q's category on the first 2000 test images. Other GANs: `frechet_distance`
  of 2000 samples against the first 2000 test images in the classifier's
  features.
  """
  from genjax import data
  images, labels = data.eval_examples(m.config.data, max(NLL_EXAMPLES, GAN_SAMPLES))
  if "log_likelihood" in m.supports:
    x = images[:NLL_EXAMPLES]
    return {"nll_k100": float(-m.log_likelihood(x, k=NLL_SAMPLES, seed=0).mean())}
  if "infer_codes" in m.supports:
    from genjax.evaluation import sample_quality
    probs, _ = m.infer_codes(images)
    acc, _ = sample_quality.hungarian_accuracy(np.argmax(probs, -1), labels,
                                               max(probs.shape[-1], m.num_classes))
    return {"c1_hungarian_accuracy": float(acc)}
  return _sample_headline(m, images)


def _sample_headline(m, real: np.ndarray) -> dict[str, float]:
  from genjax.evaluation import classifier, sample_quality
  judge = classifier.for_dataset(m.config.data.name)
  if judge is None:
    raise UserError(f"no shipped classifier judges {m.config.data.name} samples")
  labels = np.arange(GAN_SAMPLES) % m.num_classes if m.conditional else None
  fake = m.sample(GAN_SAMPLES, seed=0, labels=labels)
  logits, fake_features = sample_quality.classifier_outputs(fake, judge)
  if m.conditional:
    return {"conditional_accuracy": float(np.mean(np.argmax(logits, -1) == labels))}
  _, real_features = sample_quality.classifier_outputs(real[:GAN_SAMPLES], judge)
  return {"frechet_distance": sample_quality.frechet_distance(real_features, fake_features)}
