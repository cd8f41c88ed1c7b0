r"""DCGAN on MNIST (or Fashion-MNIST), non-saturating loss, Adam 2e-4 / b1 0.5.

    python -m genjax.main --config=configs/dcgan_mnist.py --workdir=runs/dcgan
    python -m genjax.main --config=configs/dcgan_mnist.py --config.data.name=fashion_mnist --workdir=runs/dcgan_fashion
    python -m genjax.main --config=configs/dcgan_mnist.py:large --workdir=runs/dcgan_large
    python -m genjax.main --config=configs/dcgan_mnist.py:quality --workdir=runs/dcgan_quality
    python -m genjax.main --config=configs/dcgan_mnist.py:runlocal --workdir=runs/dcgan_smoke
    python scripts/sweep.py --config=configs/dcgan_mnist.py --workdir=runs/dcgan_sweep

G: z ~ N(0, I_100) -> dense 7*7*128 + BN + ReLU -> ConvTranspose 64 4x4/2 + BN
+ ReLU -> ConvTranspose 1 4x4/2 -> sigmoid. D: Conv 64 4x4/2 -> Conv 128 4x4/2
(LeakyReLU 0.2) -> dense logit. "fast" convolutions (genjax/models/conv.py).
At the end, 10k samples are scored in the features of the shipped MNIST
classifier (genjax/evaluation/sample_quality.py) against 10k test images,
beside the train-vs-test floor.

Expected result (measured 2026-11-24, 2-core CPU shared with 2-4 other jobs,
190-250 examples/s): at the default 3000 steps (3.2 epochs) samples are
digit-like strokes, several still broken; Frechet distance 188.3 (real-data
floor, train vs test: 2.06), classifier score 5.51 (real 9.80), precision
0.454 / recall 0.449 (floor 0.864 / 0.882). Longer, with G's weights
averaged (`--config.gan.ema_decay=0.999 --config.total_steps=N`, one run
extended 4000 steps at a time), Frechet distance / precision / recall /
classifier score: 4000 steps 194.0 / 0.48 / 0.44 / 5.40; 8000 steps 83.1 /
0.39 / 0.75 / 6.73; 12000 steps (12.8 epochs) 71.6 / 0.45 / 0.76 / 7.04 -
35x the floor, with most samples readable digits and a quarter malformed.
The conditional version (configs/cgan_mnist.py) reaches 21.6 in 6000 steps.
Batch norm in D (`--config.model.d_batch_norm=True`, Radford et al.'s D;
no EMA, one seed, measured 2026-11-24): Frechet distance / precision /
recall / classifier score 149.4 / 0.50 / 0.53 / 6.04 at 3000 steps (the
default's 188.3 / 0.45 / 0.45 / 5.51), 108.5 / 0.44 / 0.71 / 6.80 at 6000.
Its D wins early (D(G(z)) 0.07-0.14 throughout).
R1 penalty on D (`--config.gan.r1_weight=2.0 --config.gan.ema_decay=0.999`,
one seed, one run extended 4000 -> 12000 -> 20000 -> 26000 -> 32000 steps;
constant learning rates, so each equals an uninterrupted run; measured
2026-11-24/25 with other jobs sharing the CPU, 150-360 examples/s): Frechet
distance / precision / recall / classifier score 145.4 / 0.55 / 0.45 / 6.28
at 4000 steps (EMA alone: 194.0 / 0.48 / 0.44 / 5.40), 40.2 / 0.46 / 0.85 /
7.67 at 12000 (EMA alone: 71.6 / 0.45 / 0.76 / 7.04), 22.9 / 0.47 / 0.89 /
8.04 at 20000 (21 epochs; 11.1x the floor), 20.9 / 0.51 / 0.88 / 8.08 at
26000, and 18.8 / 0.53 / 0.87 / 8.21 at 32000 (34 epochs): 9.1x the floor,
most samples readable digits, some still malformed
(experiments/results/dcgan_quality/). That run is the `:quality` variant
(about 1.7 h at the 300-360 examples/s it ran with one other job on the
CPU). Of the 40.2 at 12000, the samples' class proportions (6.7% 6s, 12.9%
7s, the rest 9-10.6%) account for little: train images resampled to those
proportions score 6.0 against the test images. Within each class the
samples' features are far from the real ones (per-class distance 76-161,
floors 2-9).
A larger D helps more per step: R1 + EMA with a dense 1024 LeakyReLU layer
in D (`--config.model.d_dense=1024`, same seed; 6.4M more multiply-adds per
D forward, as many as its second conv): 128.3 / 0.68 / 0.58 / 6.72 at 4000
steps, 25.8 / 0.68 / 0.83 / 8.18 at 12000 (against 145.4 and 40.2 above) and
19.8 / 0.71 / 0.82 / 8.40 at 16000 (17 epochs; 9.6x the floor, in half the
steps of `:quality`).
`:large` (InfoGAN's MNIST networks from configs/infogan_mnist.py:paper
without the codes: a dense 1024 + BN layer first in G, dense 1024 at the
end of D's trunk, batch norm in D; batch 128, 5000 steps = 10.7 epochs; no
R1, no EMA; seed 0, measured 2026-11-25, 210 examples/s while a CI run
shared the CPU, 361 alone): 11.9 / 0.76 / 0.78 / 8.74, 5.8x the floor, the
best DCGAN so far in a third of the examples of `:quality` (sample grid in
experiments/results/dcgan_large/). One seed; its samples are mostly
readable digits, some malformed.
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
  c.gan.generator_loss = opts.loss
  c.batch_size = 64
  c.total_epochs = None
  c.total_steps = 3000
  if opts.quality:
    # The longest measured recipe (docstring): R1 on D, G's weights averaged.
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
  c.evals.num_samples = 200
  c.evals.batch_size = 100
