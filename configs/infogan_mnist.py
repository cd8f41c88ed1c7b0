r"""InfoGAN (Chen et al. 2016) on MNIST: c1 ~ Cat(10), c2, c3 ~ U(-1, 1).

    python -m genjax.main --config=configs/infogan_mnist.py:paper --workdir=runs/infogan
    python -m genjax.main --config=configs/infogan_mnist.py --workdir=runs/infogan_small
    python -m genjax.main --config=configs/infogan_mnist.py:runlocal --workdir=runs/infogan_smoke

`:paper` is Chen et al.'s recipe (their networks, z ~ U(-1, 1)^62, batch 128,
5000 steps) and the one to use; the default is a smaller network. G: [z, c1,
c2, c3] -> a DCGAN generator; D and Q share a trunk; both add lambda * L_I.

Measured 2026-12-03 on a 2-core CPU, `:paper`, 5000 steps: c1_hungarian_accuracy
(Q's category as a digit classifier, 10k test images) 0.858 / 0.705 / 0.865
for seeds 0 / 1 / 2 (the paper: 95%; 2026-11-25's code: 0.777 / 0.951 / 0.954).
History: experiments/results/configs/infogan_mnist.md.
"""

from genjax import config as config_lib
from genjax.methods import gan


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, paper=False)
  c = gan.gan_config(kind="dcgan", latent_dim=62, latent_dist="normal",
                 g_features=(128, 64), d_features=(64, 128), d_dense=256,
                 info_categories=10, info_continuous=2, q_hidden=128)
  c.data.name = "mnist"
  c.gan.info_weight = 1.0
  c.gan.info_continuous_weight = 0.5
  c.optimizer.lr = 1e-3
  c.d_optimizer.lr = 2e-4
  c.batch_size = 64
  c.total_epochs = None
  c.total_steps = 6000
  c.steps_per_dispatch = 50
  c.log_every_steps = 250
  c.eval_every_steps = 1000
  c.checkpoint_every_steps = 1000
  # Q's category as a digit classifier (Hungarian matching); sample quality off
  # by default (experiments/conditional_and_infogan.py turns it on).
  c.evals = dict(codes=dict(type="code_accuracy"),
                 sample_quality=dict(type="sample_quality", enabled=False))
  if opts.paper:
    # Chen et al.'s MNIST recipe (docstring): their networks, z ~ U(-1, 1),
    # batch 128, 5000 updates. Measured only as a whole: which of these
    # changes matter most is not known.
    gan.use_infogan_mnist_networks(c)
    c.model.latent_dist = "uniform"
  if opts.runlocal:
    apply_runlocal(c)
  return c


def apply_runlocal(c):
  """Tiny widths and data: seconds (tests, smoke runs)."""
  c.model.latent_dim = 8
  c.model.g_features = (16, 8)
  c.model.d_features = (8, 16)
  c.model.d_dense = 32
  c.model.g_dense = min(c.model.g_dense, 32)
  c.model.q_hidden = 16
  config_lib.shrink_for_runlocal(c, total_steps=20, train_examples=512)
