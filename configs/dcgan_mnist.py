r"""DCGAN on MNIST (or Fashion-MNIST), non-saturating loss, Adam 2e-4 / b1 0.5.

    python -m genjax.main --config=configs/dcgan_mnist.py --workdir=runs/dcgan
    python -m genjax.main --config=configs/dcgan_mnist.py --config.data.name=fashion_mnist --workdir=runs/dcgan_fashion
    python -m genjax.main --config=configs/dcgan_mnist.py:large --workdir=runs/dcgan_large
    python -m genjax.main --config=configs/dcgan_mnist.py:quality --workdir=runs/dcgan_quality
    python -m genjax.main --config=configs/dcgan_mnist.py:runlocal --workdir=runs/dcgan_smoke
    python scripts/sweep.py --config=configs/dcgan_mnist.py --workdir=runs/dcgan_sweep

G: z ~ N(0, I) -> dense + BN -> two 4x4/2 transposed convs; D: two 4x4/2 convs -> logit.

Measured on a shared 2-core CPU, Frechet distance (floor 2.06): 188.3 at 3000
steps (2026-11-24), 18.8 `:quality` (2026-11-24/25), 11.9 `:large` (2026-11-25);
Fashion-MNIST, 3000 steps, 5 seeds: 123-138 (floor 0.72 at 5000 samples,
experiments/gan_stability). History: experiments/results/configs/dcgan_mnist.md.
"""

from genjax import config as config_lib
from genjax import sweep as sweep_lib
from genjax.methods import gan


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, loss="non_saturating", quality=False,
                              large=False)
  c = gan.gan_config(kind="dcgan", latent_dim=100, latent_dist="normal",
                 g_features=(128, 64), d_features=(64, 128), d_dense=0)
  c.data.name = "mnist"
  c.evals = dict(sample_quality=dict(type="sample_quality"))  # FD etc. vs the test set
  c.gan.generator_loss = opts.loss
  c.batch_size = 64
  c.total_epochs = None
  c.total_steps = 3000
  if opts.quality:
    # The longest measured recipe (experiments/results/configs/dcgan_mnist.md):
    # R1 on D, G's weights averaged.
    c.gan.r1_weight = 2.0
    c.gan.ema_decay = 0.999
    c.total_steps = 32000
  if opts.large:
    # InfoGAN's MNIST networks (configs/infogan_mnist.py:paper) without the
    # codes: lower FD than :quality in a third of the examples.
    gan.use_infogan_mnist_networks(c)
  c.steps_per_dispatch = 50
  c.log_every_steps = 250
  c.eval_every_steps = 1000
  c.checkpoint_every_steps = 1000
  c.num_image_examples = 64
  if opts.runlocal:
    apply_runlocal(c)
  return c


def sweep(add):
  """Generator loss x discriminator learning rate (`scripts/sweep.py`)."""
  sweep_lib.grid(add, {"gan.generator_loss": ("minimax", "non_saturating"),
                       "d_optimizer.lr": (5e-5, 2e-4, 8e-4)})


def apply_runlocal(c):
  """Same family, tiny widths and data: seconds (tests, smoke runs)."""
  c.model.latent_dim = 8
  c.model.g_features = (16, 8)
  c.model.d_features = (8, 16)
  c.model.g_dense = min(c.model.g_dense, 32)
  c.model.d_dense = min(c.model.d_dense, 32)
  config_lib.shrink_for_runlocal(c, total_steps=20, train_examples=512, eval_every=10)
  # A small sample-quality pass still runs end to end (needs the shipped classifier).
  config_lib.shrink_evals_for_runlocal(c)
