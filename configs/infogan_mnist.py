r"""InfoGAN (Chen et al. 2016) on MNIST: c1 ~ Cat(10), c2, c3 ~ U(-1, 1).

    python -m genjax.main --config=configs/infogan_mnist.py:paper --workdir=runs/infogan
    python -m genjax.main --config=configs/infogan_mnist.py --workdir=runs/infogan_small
    python -m genjax.main --config=configs/infogan_mnist.py:runlocal --workdir=runs/infogan_smoke

`:paper` is Chen et al.'s recipe and the one to use: it is the only one
measured to reach the paper's accuracy (below). The default is a smaller
network, kept for its measured history.

G: [z ~ N(0, I_62), one-hot c1, c2, c3] -> the DCGAN generator (dense 7*7*128
+ BN -> ConvTranspose 64 4x4/2 + BN -> ConvTranspose 1 4x4/2 -> sigmoid).
D: Conv 64 4x4/2 -> Conv 128 4x4/2 -> dense 256 (the shared trunk) -> logit;
Q: trunk -> dense 128 -> (10 category logits, 2 means). Both G and D+Q add
lambda * L_I (lambda = 1; the continuous codes' squared error weighted 0.5).
Adam: G 1e-3, D 2e-4 (b1 0.5), as in the paper. `mi_lower_bound` is
H(c1) - CE, ceiling ln 10 = 2.30. `final_eval` feeds the real test images
through Q and scores argmax_c1 as a digit classifier after the best
one-to-one matching of categories to digits (`c1_hungarian_accuracy`;
the paper reports 95%). Grids: c1 by row; c2 and c3 swept over -2..2.

`:paper` (Chen et al.'s MNIST networks and training): G gets a dense 1024 +
BN layer first (`model.g_dense`); D's trunk ends in dense 1024
(`model.d_dense`) with batch norm after the second conv and the dense layer
and in Q's hidden layer (`model.d_batch_norm`); z ~ U(-1, 1)^62; batch 128;
5000 updates (10.7 epochs), as in their released code. Measured 2026-11-25
on the 2-core CPU (190-210 examples/s with two runs sharing it, 315 alone),
c1_hungarian_accuracy on the 10k real test images:

| seed | 2500 steps | 5000 steps |
|---|---|---|
| 0 | 0.698 | 0.777 |
| 1 | 0.918 | **0.951** |
| 2 | 0.746 | **0.954** |

Two seeds of three reach the paper's 95% (our bar is 90%); the median is
0.951. With seed 1 every c1 row draws one digit from step 2000 on. Seed 2
still drew 0s in two rows and mixed 4s with 9s at step 1000, and 0s with 5s
in one row at step 3000; by step 5000 each row is one digit. Seed 0 at 5000
steps draws 8s in two rows (mixed with 2s and 3s) and 4s and 9s in another
two. The MI bound is 2.29-2.30 from step 2500 on in all three: Q reads every
category back, and what differs between seeds is which partition of the
digits G settles on. Each run was trained to 2500 steps and then resumed to
5000 (constant learning rates: equal to one uninterrupted run). The c1 grids
at 5000 steps (and seed 1's c2 / c3 sweeps) are in
experiments/results/infogan_paper/; `python -m
experiments.conditional_and_infogan` trains this variant with the same
three seeds. Its samples are also the best of any genjax GAN: with
sample quality on (`--config.evals.sample_quality=True`, 10k samples),
Frechet distance 7.20 / 6.95 / 9.99 for seeds 0 / 1 / 2 (floor 2.06; the
same networks without the codes, configs/dcgan_mnist.py:large, 11.9),
precision 0.85-0.88 (floor 0.86), recall 0.61-0.68 (floor 0.88),
classifier score 9.66-9.84 (real 9.80).

Expected result of the default (measured 2026-11-24 by the earlier version of
`python -m experiments.conditional_and_infogan`, which trained the default
before it trained `:paper`: 6000 steps of batch 64 = 6.4 epochs on
the 2-core CPU shared with 3-4 other jobs): the categorical MI bound reaches
2.282 of its ln 10 = 2.303 ceiling and G's rows are distinct digit groups,
but not one digit each: two rows draw 1s, two 3s, two 8s/0s and 4s share
rows with 9s.
Q's category on the 10k real test images, after Hungarian matching:
c1_hungarian_accuracy 0.396 (0.36 after 2000 steps; a random category
scores ~0.11; the paper's 95% is far off at this budget). c2 and c3 sweep
slant and width (|r| 0.51-0.85) while 84-89% of samples keep their digit.
Frechet distance 98.8 (floor 2.06), precision 0.719 / recall 0.809.

Resumed from that run to 12000 steps (12.8 epochs; the learning rates are
constant, so this equals a 12000-step run): c1_hungarian_accuracy 0.485,
MI bound 2.292, but the rows keep the 6000-step assignment - 1s and 3s take
two rows each, 4/9, 0/8 and 5/6 share rows, no row draws 2s - so more steps
alone do not reach the paper's 95%. Other seeds at 6000 steps
(`--config.seed=1`, `2`): 0.471 and 0.462 (MI bound 2.288, 2.285).

The R1 penalty on D (`--config.gan.r1_weight=2.0`, seed 0, measured
2026-11-24, one run extended 4000 -> 8000 -> 14000 -> 20000 steps; constant
learning rates, so each equals an uninterrupted run) helps most of all that
was tried: c1_hungarian_accuracy 0.497 at 4000 steps, 0.589 at 8000, 0.643
at 14000, 0.682 at 20000 (21 epochs; MI bound 2.299). From 14000 steps on,
six rows are one digit each (5, 3, 0, 8, 2, 6), while 1, 4, 7 and 9 share
the other four rows. Still short of the paper's 95%.
~450-510 examples/s alone on the 2-core CPU. At 8000 steps with R1, seed 1
scored 0.558 (two rows of 1s; 4/9 and 3/5 share rows), and z ~ U(-1, 1)^62
as in Chen et al.'s code (`--config.model.latent_dist=uniform`, seed 0)
0.559, against 0.589 for seed 0 with z ~ N(0, I) (measured 2026-11-25,
other jobs sharing the CPU).

Chen et al.'s networks at the default's batch 64 and z ~ N(0, I), 2000
steps (2026-11-24, one seed): 0.323 against 0.36 for the default at 2000
steps. Their batch, latent and budget (`:paper`, above) are what made them
pay off. A dense 1024 layer in the default's D with R1 instead of batch norm
(seed 0, batch 64) drew 1s in two rows by step 2000 (2026-11-25; stopped).
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
  c.evals.sample_quality = False
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
