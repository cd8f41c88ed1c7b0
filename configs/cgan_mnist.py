r"""Conditional GAN (Mirza & Osindero 2014) on MNIST: G(z, y) and D(x, y).

    python -m genjax.main --config=configs/cgan_mnist.py --workdir=runs/cgan
    python -m genjax.main --config=configs/cgan_mnist.py:runlocal --workdir=runs/cgan_smoke

The DCGAN of configs/dcgan_mnist.py made conditional: the one-hot class joins
z in G and enters D as 10 constant feature maps and a projection term
(Miyato & Koyama 2018). Non-saturating loss, Adam 2e-4 / b1 0.5, batch 64;
`:arch=mlp` is the paper's fully connected version.

Measured, 6000 steps of batch 64, 10k samples (floor 2.06): conditional
accuracy 0.971, Frechet distance 21.3 (2026-12-03); without the projection
term (`--config.model.d_projection=False`) 0.855 and 43.6 (2026-12-02).
Fashion-MNIST (`--config.data.name=fashion_mnist`, 2026-12-02): 0.894 and 14.7
(floor 0.34). History: experiments/results/configs/cgan_mnist.md.
"""

from genjax import config as config_lib
from genjax.methods.gan import gan_config


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, arch="dcgan")
  if opts.arch == "dcgan":
    c = gan_config(kind="dcgan", conditional=True, latent_dim=100, latent_dist="normal",
                   g_features=(128, 64), d_features=(64, 128), d_dense=0,
                   d_projection=True)
  else:
    c = gan_config(kind="mlp", conditional=True, latent_dim=100, latent_dist="normal",
                   g_hidden=(1200, 1200), d_hidden=(240, 240), maxout_pieces=5,
                   d_dropout=0.5, output_activation="sigmoid")
  c.data.name = "mnist"
  c.evals = dict(sample_quality=dict(type="sample_quality"))  # FD etc. vs the test set
  c.batch_size = 64
  c.total_epochs = None
  c.total_steps = 6000
  c.steps_per_dispatch = 50
  c.log_every_steps = 200
  c.eval_every_steps = 1000
  c.checkpoint_every_steps = 1000
  if opts.runlocal:
    apply_runlocal(c)
  return c


def apply_runlocal(c):
  """Tiny widths and data: seconds (tests, smoke runs); no sample-quality pass."""
  c.model.latent_dim = 8
  c.model.g_features = (16, 8)
  c.model.d_features = (8, 16)
  c.model.g_hidden = (32,)
  c.model.d_hidden = (16,)
  c.model.maxout_pieces = 2
  config_lib.shrink_for_runlocal(c, total_steps=20, train_examples=512)
  c.evals.sample_quality.enabled = False
