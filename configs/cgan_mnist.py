r"""Conditional GAN (Mirza & Osindero 2014) on MNIST: G(z, y) and D(x, y).

    python -m genjax.main --config=configs/cgan_mnist.py --workdir=runs/cgan
    python -m genjax.main --config=configs/cgan_mnist.py:runlocal --workdir=runs/cgan_smoke

The DCGAN of configs/dcgan_mnist.py made conditional: the one-hot class is
concatenated to z for G and given to D as 10 constant feature maps beside
the image. (`:arch=mlp` is the paper's fully connected version, G [z, y] ->
1200 -> 1200 -> 784, D maxout 240x5 x2 with dropout 0.5; measured here it
loses to its discriminator: D(G(z)) fell to 0.003 by step 1000 and stayed
there, with or without the dropout.) Non-saturating loss, Adam 2e-4 / b1 0.5,
batch 64. The image grid has one
row per class. `final_eval` asks the shipped MNIST classifier to label 10k
samples requested as classes 0..9 in turn (`conditional_accuracy`), next to
the Frechet distance etc. of genjax/evaluation/sample_quality.py.

Expected result (measured 2026-11-24 on the shared 2-core CPU with 3 other
jobs: 8m20s wall for 1200 steps of batch 64 = 1.3 epochs): G has not yet
learnt to use the class - in the grid the column (z) decides the shape far
more than the row (class) - and the classifier agrees with the requested
label on conditional_accuracy 0.233 of 10k samples (0.1 = ignoring it).
Frechet distance 211.2 (floor 2.06), classifier score 5.44 (real 9.80),
precision 0.350 / recall 0.310 (floor 0.864 / 0.882). Needs many more
steps; a stronger conditioning path (class embedding added to G's feature
maps, projection discriminator) is the next thing to try.
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
  c.batch_size = 64
  c.total_epochs = None
  c.total_steps = 1200
  c.steps_per_dispatch = 50
  c.log_every_steps = 200
  c.eval_every_steps = 600
  c.checkpoint_every_steps = 600
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
  c.evals.sample_quality = False
