r"""Generative adversarial networks: minimax and non-saturating, DCGAN, cGAN, InfoGAN.

A generator G maps latent noise z ~ p(z) to data space; a discriminator D
maps a sample to the probability that it is real. They play

    min_G max_D V(G, D) = E_{x ~ p_data} log D(x) + E_{z ~ p(z)} log(1 - D(G(z))),

updating one network while the other is held fixed (Goodfellow et al. 2014).
For a fixed G the best discriminator is D*(x) = p_data(x) / (p_data(x) +
p_g(x)), and with it V = 2 JS(p_data || p_g) - 2 ln 2: the global optimum is
p_g = p_data, where D = 1/2 everywhere and D's loss is 2 ln 2 = 1.386
(checked numerically in `genjax/evaluation/optimal_discriminator.py`).
G minimises either the minimax loss E log(1 - D(G(z))), which saturates when
D rejects its samples confidently, or the non-saturating -E log D(G(z))
(`gan.generator_loss`); see `gan_losses`.

One `train_step` is Goodfellow's Algorithm 1 with k = `gan.d_steps`: k
discriminator updates, each on the step's real batch and a fresh batch of z
(the trainer hands one real batch per step; reusing it across the k D steps
keeps the step's data a function of the step number), then one generator
update against the updated D, on its own fresh z. With
`gan.g_update_fake="reused"` (k = 1) G's update backpropagates through the D
update's fake batch instead, as PyTorch's DCGAN example does: one G forward
pass a step. Gradients of one network never touch the other network's
parameters or optimiser state.

Variants (config `model` group):
  kind="mlp"      the fully connected GAN of Goodfellow et al. 2014 (maxout D
                  with dropout on MNIST; linear output for the toys).
  kind="dcgan"    strided (transposed) convolutions + batch norm in G;
                  `d_batch_norm` adds batch norm to D (and Q) too, with the
                  real and fake batches normalised separately; `g_dense`
                  puts a dense + BN layer first in G (InfoGAN's MNIST G).
  conditional     G(z, y) and D(x, y) both see the one-hot class y (Mirza &
                  Osindero 2014); fake samples use the real batch's labels.
                  `d_projection` adds the projection discriminator's class
                  term (Miyato & Koyama 2018) to D's logit.
  info_categories / info_continuous
                  InfoGAN (Chen et al. 2016): G(z, c) with c1 ~ Cat(K) and
                  c2.. ~ U(-1, 1); a Q head on D's trunk predicts c from
                  G(z, c), and both G and D(+Q) minimise lambda * L_I with
                    L_I = CE(c1, Q_cat) + w_cont * sum_j (c_j - mu_j)^2 / 2,
                  the negative variational lower bound on I(c; G(z, c)) up to
                  constants (a unit-variance Gaussian Q for the continuous
                  codes). The categorical bound H(c1) - CE is logged as
                  `mi_lower_bound`; its ceiling is ln K = 2.30 for K = 10.

  kind="ssgan_mlp" with gan.semi_supervised
                  the semi-supervised GAN of Salimans et al. 2016: D outputs
                  K class logits l (an implicit fake class of logit 0, so
                  D(x) = Z / (Z + 1), Z = sum_k exp(l_k)); its loss is the
                  cross-entropy on the batch's labelled minibatch (the
                  `data.num_labelled` balanced subset, see `genjax.data`)
                  plus `gan.unsupervised_weight` times the real / fake loss
                  of logsumexp(l); G uses `generator_loss="feature_matching"`
                  (||E f(x) - E f(G(z))||^2 on D's last hidden layer).
                  `unsupervised_weight=0` is the baseline: the same D on the
                  labels alone (no G steps). The model gains `classify`
                  (class probabilities); its config's `ssgan` evaluator
                  (`classifier_error`) reports `ssgan_test_error`. With
                  `gan.d_ema_decay` > 0 D classifies (classify, the eval's
                  class_error) with the debiased exponential moving average
                  of its parameters, as Salimans et al. test theirs.

An exponential moving average of G's weights (`gan.ema_decay` > 0) is kept
for sampling; batch-norm running statistics are shared with the live G.
`gan.r1_weight` = gamma > 0 adds gamma * R1 to D's loss, R1 = E_data
||grad_x logit D(x)||^2 / 2 (Mescheder et al. 2018), logged as `d_r1`.

Where the code lives:
  gan.py               config groups and their checks; builds the method
  gan_losses.py        the losses, pure functions of logits, Q outputs and D features
  gan_networks.py      G and D from the model group; batch norm and dropout
  gan_conditioning.py  p(z) and the conditioning strategy (none / class / InfoGAN codes)
  gan_steps.py         init, D and G updates, train and eval steps
  gan_model_fns.py     sample, discriminate, infer_codes, classify (`genjax.load`)
  gan_images.py        the image grids written at each eval

What a trained GAN is measured by is chosen in `config.evals`
(genjax/evaluation/registry.py): by default `sample_quality` (against the
dataset's shipped classifier); the toy, InfoGAN and semi-supervised configs
list their own (toy_modes, optimal_discriminator, code_accuracy,
classifier_error).

Config groups read here (missing keys take `DEFAULTS`): model, gan,
`data.num_labelled` / `data.labelled_seed` / `data.labelled_draw` (read by
`genjax.data`), plus
`optimizer` (G) and `d_optimizer` (D), both `optimizer_config()` groups.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

from genjax import config as config_lib
from genjax import data as data_lib
from genjax import methods
from genjax.config import ConfigDict
from genjax.errors import ConfigError
from genjax.methods import gan_images, gan_model_fns, gan_networks, gan_steps
from genjax.methods.gan_conditioning import LatentPrior, make_conditioning
from genjax.methods.gan_conditioning import sample_latent  # noqa: F401 (public alias)
from genjax.methods.gan_losses import GENERATOR_OBJECTIVES
from genjax.models import conv as conv_lib
from genjax.models import gan_models
from genjax.optim import make_optimizer

G_UPDATE_FAKES = ("fresh", "reused")  # config.gan.g_update_fake
DEFAULTS = {
    "model": dict(
        kind="mlp", latent_dim=100, latent_dist="normal", conditional=False,
        d_projection=False,
        # mlp
        g_hidden=(1200, 1200), d_hidden=(240, 240), maxout_pieces=5, d_dropout=0.0,
        output_activation="sigmoid",
        # dcgan
        g_features=(128, 64), d_features=(64, 128), d_dense=0, conv_impl="fast",
        g_dense=0, d_batch_norm=False,
        compute_dtype="float32",  # float32 | bfloat16 (dcgan; params stay float32)
        # InfoGAN
        info_categories=0, info_continuous=0, q_hidden=128,
        # ssgan_mlp: Gaussian noise std on D's input and hidden layers (training only)
        d_input_noise=0.3, d_hidden_noise=0.5),
    "gan": dict(generator_loss="non_saturating", d_steps=1, ema_decay=0.0,
                info_weight=1.0, info_continuous_weight=1.0, r1_weight=0.0,
                # Semi-supervised GAN; 0.5 is the weight in Salimans et al.'s code.
                semi_supervised=False, unsupervised_weight=0.5,
                # > 0: D classifies with its parameter average (their 0.9999).
                d_ema_decay=0.0,
                # G's update: "fresh" z (Goodfellow's Algorithm 1) or "reused": through
                # the D update's fake batch, one G forward a step (PyTorch's DCGAN).
                g_update_fake="fresh"),
    # The labelled subset of the training set (`genjax.data`); 0: none. Draw:
    # "genjax" (`choose_labelled`) or "salimans2016" (their script's subset).
    "data": dict(num_labelled=0, labelled_seed=0, labelled_draw="genjax"),
    "evals": {"sample_quality": dict(type="sample_quality")},
}


def gan_config(**model) -> ConfigDict:
  """`base_config()` with every GAN group filled in, so each key is overridable.

  Args:
    **model: overrides of the model group's defaults.

  Returns:
    A config with method "gan", groups model / gan at their
    DEFAULTS, and Adam(2e-4, b1=0.5) for both `optimizer` (G) and
    `d_optimizer` (D), as in Radford et al. 2016.
  """
  c = config_lib.base_config()
  c.method = "gan"
  c.model = ConfigDict({**DEFAULTS["model"], **model})
  c.gan = ConfigDict(dict(DEFAULTS["gan"]))
  c.optimizer = config_lib.optimizer_config("adam", 2e-4)
  c.optimizer.b1 = 0.5
  c.d_optimizer = config_lib.optimizer_config("adam", 2e-4)
  c.d_optimizer.b1 = 0.5
  return c


def use_infogan_mnist_networks(c: ConfigDict) -> None:
  """Chen et al.'s InfoGAN MNIST networks and training budget, in place.

  A dense 1024 + BN layer first in G, dense 1024 at the end of D's trunk,
  batch norm in D (and Q), batch 128, 5000 updates, as in their released
  code. Used by configs/infogan_mnist.py:paper and, without the codes, by
  configs/dcgan_mnist.py:large; the measured results are in their docstrings.
  """
  c.model.g_dense = 1024
  c.model.d_dense = 1024
  c.model.d_batch_norm = True
  c.batch_size = 128
  c.total_steps = 5000


def settings(config: ConfigDict, group: str) -> ConfigDict:
  """The config group `group` with DEFAULTS filled in for missing keys."""
  return config_lib.group_with_defaults(config, group, DEFAULTS)


# --------------------------------------------------------------------------
# Config checks
# --------------------------------------------------------------------------


def validate(config: ConfigDict, data_info: methods.DataInfo | None = None) -> None:
  """Checks the GAN's model / gan groups and both optimisers.

  Args:
    config: the run's config.
    data_info: the dataset's shape and classes; None checks the config alone.

  Raises:
    ConfigError: naming the key, the bad value and what is allowed.
  """
  m, g = settings(config, "model"), settings(config, "gan")
  _check_model(m)
  _check_training(g)
  if "d_optimizer" in config:
    config_lib.validate_optimizer(config.d_optimizer, "d_optimizer")
  if m.d_batch_norm and g.r1_weight > 0:
    # R1 takes each example's input gradient from one backward pass of the
    # summed logits; batch statistics couple the examples and break that.
    raise ConfigError("config.gan.r1_weight > 0 cannot be combined with "
                      "config.model.d_batch_norm=True")
  _check_semi_supervised(m, g, settings(config, "data"))
  if data_info is not None:
    _check_data(m, data_info)
    if g.semi_supervised and data_info.num_classes < 2:
      raise ConfigError("config.gan.semi_supervised=True needs a labelled dataset")


def _check_semi_supervised(m: ConfigDict, g: ConfigDict, data: ConfigDict) -> None:
  """The semi-supervised GAN's keys: a class-logit D, labels, no other conditioning."""
  if not isinstance(data.num_labelled, int) or data.num_labelled < 0:
    raise ConfigError(f"config.data.num_labelled must be an integer >= 0, got "
                      f"{data.num_labelled!r}")
  if data.labelled_draw not in data_lib.LABELLED_DRAWS:
    raise ConfigError(f"config.data.labelled_draw={data.labelled_draw!r}; valid: "
                      f"{', '.join(data_lib.LABELLED_DRAWS)}")
  if g.unsupervised_weight < 0:
    raise ConfigError(f"config.gan.unsupervised_weight must be >= 0, got "
                      f"{g.unsupervised_weight}")
  if m.kind == "ssgan_mlp" and (m.conditional or m.info_categories or m.info_continuous):
    raise ConfigError("config.model.kind='ssgan_mlp' supports neither "
                      "config.model.conditional nor InfoGAN codes")
  if not g.semi_supervised:
    if g.d_ema_decay > 0:
      raise ConfigError("config.gan.d_ema_decay > 0 needs config.gan.semi_supervised=True "
                        "(the average is D's classifier)")
    return
  if m.kind != "ssgan_mlp":
    raise ConfigError("config.gan.semi_supervised=True needs config.model.kind='ssgan_mlp' "
                      f"(the D with class logits), got {m.kind!r}")
  if data.num_labelled <= 0:
    raise ConfigError("config.gan.semi_supervised=True needs labelled examples: set "
                      "config.data.num_labelled (e.g. 100)")


def _check_model(m: ConfigDict) -> None:
  """The model group on its own."""
  if m.kind not in ("mlp", "dcgan", "ssgan_mlp"):
    raise ConfigError(f"config.model.kind={m.kind!r}; valid: mlp, dcgan, ssgan_mlp")
  if m.latent_dist not in ("normal", "uniform"):
    raise ConfigError(f"config.model.latent_dist={m.latent_dist!r}; valid: normal, uniform")
  if not isinstance(m.latent_dim, int) or m.latent_dim <= 0:
    raise ConfigError(f"config.model.latent_dim must be a positive integer, got {m.latent_dim}")
  if m.output_activation not in ("sigmoid", "linear"):
    raise ConfigError(
        f"config.model.output_activation={m.output_activation!r}; valid: sigmoid, linear")
  conv_lib.check_model_options(m)
  if m.d_input_noise < 0 or m.d_hidden_noise < 0:
    raise ConfigError("config.model.d_input_noise and d_hidden_noise must be >= 0")
  if not 0.0 <= m.d_dropout < 1.0:
    raise ConfigError(f"config.model.d_dropout must be in [0, 1), got {m.d_dropout}")
  if m.info_categories < 0 or m.info_continuous < 0:
    raise ConfigError("config.model.info_categories and info_continuous must be >= 0")
  if m.conditional and (m.info_categories or m.info_continuous):
    raise ConfigError("a GAN is either conditional (config.model.conditional) or an "
                      "InfoGAN (config.model.info_*), not both")
  if m.d_batch_norm and m.kind != "dcgan":
    raise ConfigError("config.model.d_batch_norm=True needs config.model.kind='dcgan'")
  if m.d_projection and not m.conditional:
    raise ConfigError("config.model.d_projection=True needs config.model.conditional=True")


def _check_training(g: ConfigDict) -> None:
  """The gan group: the losses and the update schedule."""
  if g.generator_loss not in GENERATOR_OBJECTIVES:
    raise ConfigError(f"config.gan.generator_loss={g.generator_loss!r}; valid: "
                      f"{', '.join(GENERATOR_OBJECTIVES)}")
  if not isinstance(g.d_steps, int) or g.d_steps < 1:
    raise ConfigError(f"config.gan.d_steps must be an integer >= 1, got {g.d_steps}")
  if g.g_update_fake not in G_UPDATE_FAKES:
    raise ConfigError(f"config.gan.g_update_fake={g.g_update_fake!r}; valid: "
                      f"{', '.join(G_UPDATE_FAKES)}")
  if g.g_update_fake == "reused" and g.d_steps != 1:
    raise ConfigError(f"config.gan.g_update_fake='reused' needs config.gan.d_steps=1, "
                      f"got {g.d_steps}")
  for key in ("ema_decay", "d_ema_decay"):
    if not 0.0 <= g[key] < 1.0:
      raise ConfigError(f"config.gan.{key} must be in [0, 1), got {g[key]}")
  if g.r1_weight < 0:
    raise ConfigError(f"config.gan.r1_weight must be >= 0, got {g.r1_weight}")
  if g.info_weight < 0 or g.info_continuous_weight < 0:
    raise ConfigError("config.gan.info_weight and info_continuous_weight must be >= 0")


def _check_data(m: ConfigDict, data_info: methods.DataInfo) -> None:
  """The model group against the dataset: labels, points vs images, image shape."""
  if m.conditional and data_info.num_classes < 2:
    raise ConfigError("config.model.conditional=True needs a labelled dataset")
  if len(data_info.image_shape) == 1:  # toy points
    if m.kind != "mlp":
      raise ConfigError("toy (point) datasets need config.model.kind='mlp'")
  elif m.kind == "dcgan":
    try:
      gan_models.check_dcgan_shape(data_info.image_shape)
    except ValueError as e:
      raise ConfigError(f"config.model.kind='dcgan': {e}") from None


# --------------------------------------------------------------------------
# The method
# --------------------------------------------------------------------------


def make_models(config: ConfigDict, data_shape, num_classes: int = 10):
  """(generator, discriminator) Flax modules for the config's model group (DEFAULTS filled in).

  `num_classes` sets the semi-supervised D's class logits (ignored otherwise).
  """
  return gan_networks.make_models(settings(config, "model"), data_shape,
                                  _num_logits(config, num_classes))


def _num_logits(config: ConfigDict, num_classes: int) -> int:
  """D's logits: K class logits for the semi-supervised GAN, else one."""
  return num_classes if settings(config, "gan").semi_supervised else 1


@dataclasses.dataclass(frozen=True)
class GanSteps:
  """The GAN's pure functions, `GanParts` bound, including the separate D and G updates.

  `d_update(state, images, labels, rng)` and `g_update(state, labels, rng)`
  are exposed so tests can check that each touches only its own network;
  `generate(g_vars, rng, labels)` draws samples. `model_fns` are the
  model-level functions `genjax.load` exposes (see `genjax.methods`).
  """
  init: Callable
  d_update: Callable
  g_update: Callable
  train_step: Callable
  eval_step: Callable
  images: Callable
  generate: Callable
  model_fns: dict[str, Callable] = dataclasses.field(default_factory=dict)


@methods.register("gan", defaults=DEFAULTS, validate=validate)
def build(config: ConfigDict, *, data_info: methods.DataInfo,
          num_train_steps: int) -> methods.Method:
  """Builds the GAN method (see the module docstring)."""
  steps = make_steps(config, data_info=data_info, num_train_steps=num_train_steps)
  return methods.Method(init=steps.init, train_step=steps.train_step,
                        eval_step=steps.eval_step, images=steps.images,
                        main_metric="d_loss",
                        model_fns=steps.model_fns,
                        model_state=functools.partial(
                            _model_state, ema=config.gan.ema_decay > 0))


def _model_state(state: gan_steps.GanState, ema: bool) -> gan_steps.GanState:
  """G (its EMA copy if kept) and D, no optimiser moments. A G that samples
  with its EMA weights keeps its batch-norm statistics but not its raw
  weights, which no model function reads."""
  g = {k: v for k, v in state.g.items() if k != "params"} if ema else state.g
  return state.replace(g=g, g_opt=None, d_opt=None)


def make_parts(config: ConfigDict, *, data_info: methods.DataInfo,
               num_train_steps: int) -> gan_steps.GanParts:
  """The networks, conditioning, optimisers and loss settings `config` asks for."""
  m, g = settings(config, "model"), settings(config, "gan")
  data_shape = tuple(data_info.image_shape)
  return gan_steps.GanParts(
      networks=gan_networks.Networks.from_model_group(
          m, data_shape, _num_logits(config, data_info.num_classes)),
      conditioning=make_conditioning(m, g, data_info.num_classes),
      prior=LatentPrior(m.latent_dim, m.latent_dist),
      g_tx=make_optimizer(config.optimizer, num_train_steps),
      d_tx=make_optimizer(config.get("d_optimizer", config.optimizer), num_train_steps),
      generator_loss=g.generator_loss, d_steps=g.d_steps, r1_weight=g.r1_weight,
      ema_decay=g.ema_decay, data_shape=data_shape, data_name=config.data.name,
      semi_supervised=g.semi_supervised, unsupervised_weight=g.unsupervised_weight,
      d_ema_decay=g.d_ema_decay, reuse_fake=g.g_update_fake == "reused")


def make_steps(config: ConfigDict, *, data_info: methods.DataInfo,
               num_train_steps: int) -> GanSteps:
  """The GAN's step functions for `config` (validated here)."""
  validate(config, data_info)
  parts = make_parts(config, data_info=data_info, num_train_steps=num_train_steps)
  bind = lambda fn: functools.partial(fn, parts)
  return GanSteps(init=bind(gan_steps.init), d_update=bind(gan_steps.d_update),
                  g_update=bind(gan_steps.g_update), train_step=bind(gan_steps.train_step),
                  eval_step=bind(gan_steps.eval_step), images=bind(gan_images.images),
                  generate=bind(gan_steps.generate), model_fns=gan_model_fns.model_fns(parts))
