r"""InfoGAN (Chen et al. 2016) on MNIST: c1 ~ Cat(10), c2, c3 ~ U(-1, 1).

    python -m genjax.main --config=configs/infogan_mnist.py --workdir=runs/infogan
    python -m genjax.main --config=configs/infogan_mnist.py:runlocal --workdir=runs/infogan_smoke

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

Expected result (measured 2026-11-24 by `python -m
experiments.conditional_and_infogan`: 6000 steps of batch 64 = 6.4 epochs on
the 2-core CPU shared with 3-4 other jobs): the categorical MI bound reaches
2.282 of its ln 10 = 2.303 ceiling and G's rows are distinct digit groups,
but not one digit each: two rows draw 1s, two 3s, two 8s/0s and 4s share
rows with 9s (experiments/results/conditional_and_infogan/infogan_c1.png).
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
the other four rows. Still short of the paper's 95%; not the default, so
that the default keeps the numbers above (and the experiment report).
~450-510 examples/s alone on the 2-core CPU. At 8000 steps with R1, seed 1
scored 0.558 (two rows of 1s; 4/9 and 3/5 share rows), and z ~ U(-1, 1)^62
as in Chen et al.'s code (`--config.model.latent_dist=uniform`, seed 0)
0.559, against 0.589 for seed 0 with z ~ N(0, I) (measured 2026-11-25,
other jobs sharing the CPU).

Chen et al.'s own MNIST networks are closer to
`--config.model.g_dense=1024 --config.model.d_dense=1024
--config.model.d_batch_norm=True` (a dense 1024 + BN layer first in G; batch
norm in D's trunk after the first conv and in Q). Measured at 2000 steps
(2026-11-24, same CPU, one seed): c1_hungarian_accuracy 0.323 against 0.36
for the default at 2000 steps, MI bound 2.263; at step 1000 the categories
changed the digit less than z did. Not better at this budget, so not the
default.
"""

from genjax import config as config_lib
from genjax.methods.gan import gan_config


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, paper=False)
  c = gan_config(kind="dcgan", latent_dim=62, latent_dist="normal",
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
    # batch 128, 5000 updates. The bigger D with batch norm is what makes
    # c1 find the digits.
    c.model.g_dense = 1024
    c.model.d_dense = 1024
    c.model.d_batch_norm = True
    c.model.latent_dist = "uniform"
    c.batch_size = 128
    c.total_steps = 5000
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
