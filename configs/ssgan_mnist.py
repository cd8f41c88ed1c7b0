r"""Semi-supervised GAN (Salimans et al. 2016) on MNIST with 100 labels.

    python -m genjax.main --config=configs/ssgan_mnist.py --workdir=runs/ssgan
    python -m genjax.main --config=configs/ssgan_mnist.py:supervised_only --workdir=runs/ssgan_labels_only
    python -m genjax.main --config=configs/ssgan_mnist.py --config.seed=1 --config.data.labelled_seed=1 --workdir=runs/ssgan_s1
    python -m genjax.main --config=configs/ssgan_mnist.py:num_labelled=1000 --workdir=runs/ssgan_1000
    python -m genjax.main --config=configs/ssgan_mnist.py:runlocal --workdir=runs/ssgan_smoke

D classifies into K = 10 classes plus an implicit "fake" class of logit 0:
D(x) = Z(x) / (Z(x) + 1), Z = sum_k exp(l_k(x)). Its loss is the
cross-entropy on a labelled minibatch (100 examples drawn from a balanced
subset of `data.num_labelled` = 100 training images, 10 per class, chosen by
`data.labelled_seed`) plus 1/2 x the real / fake loss on an unlabelled batch
of 100 (the whole training set, labels unused) and 100 samples of G. G is
trained by feature matching on D's last hidden layer.

Networks as in Salimans et al.'s MNIST code: D 784 - 1000 - 500 - 250 - 250 -
250 - 10, ReLU, weight normalisation on every layer, Gaussian noise of std
0.3 on the input and 0.5 on each hidden layer while training; G z ~ U(-1,
1)^100 (theirs: U(0, 1), the same up to G's first affine layer) - 500 - 500
softplus with batch norm - 784 sigmoid (weight-normalised). Adam 3e-3, b1
0.5, for both, constant; 300 epochs (180,000 steps of batch 100).
Differences from their code: flax's weight normalisation (scales start at 1,
no data-dependent initialisation); unlabelled and feature-matching batches
are the same real batch.

`:supervised_only` is the baseline: the same D trained on the same 100
labels alone (`gan.unsupervised_weight=0`: no G, no unlabelled data).
Both report `ssgan_test_error` (argmax of the 10 logits on all 10,000 test
images) in final_metrics.json. For several seeds set both `seed` (init,
batches, noise) and `data.labelled_seed` (which 100 images are labelled).

Salimans et al. report 93 +- 6.5 test errors of 10,000 (0.93%) with 100
labels. genjax: not measured yet at full size (at the ~3 steps/s measured
on a shared 2-core CPU the 180,000 steps take about 17 hours). Short runs
only, 2026-12-02, seed 0, `--config.total_steps=6000 --config.total_epochs=None`
(10 epochs; the first 2000 steps also run alone), ssgan_test_error at steps
1000 / 2000 / 3000 / 4000 / 5000 / 6000:
  SSGAN              0.2093 / 0.1585 / 0.1302 / 0.1004 / 0.1001 / 0.0621 (621 of 10,000)
  :supervised_only   0.2263 / 0.2376 / 0.2248 / 0.2287 / 0.2155 / 0.2295
"""

from genjax import config as config_lib
from genjax.methods import gan


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, supervised_only=False, num_labelled=100)
  c = gan.gan_config(kind="ssgan_mlp", latent_dim=100, latent_dist="uniform",
                     g_hidden=(500, 500), d_hidden=(1000, 500, 250, 250, 250),
                     d_input_noise=0.3, d_hidden_noise=0.5)
  c.data.name = "mnist"
  c.data.num_labelled = opts.num_labelled
  c.data.labelled_seed = 0
  c.gan.semi_supervised = True
  c.gan.generator_loss = "feature_matching"
  c.gan.unsupervised_weight = 0.5
  for opt in (c.optimizer, c.d_optimizer):
    opt.lr = 3e-3
    opt.b1 = 0.5
  c.batch_size = 100
  c.eval_batch_size = 1000
  c.total_epochs = 300.0
  c.steps_per_dispatch = 100
  c.log_every_steps = 600
  c.eval_every_steps = 6000
  c.checkpoint_every_steps = 6000
  c.num_image_examples = 64
  if opts.supervised_only:
    c.gan.unsupervised_weight = 0.0
    c.evals.sample_quality = False  # G is never trained
  if opts.runlocal:
    apply_runlocal(c)
  return c


def apply_runlocal(c):
  """Tiny widths, 20 labels (2 per class), 40 steps: seconds (tests, smoke runs)."""
  c.model.latent_dim = 8
  c.model.g_hidden = (32,)
  c.model.d_hidden = (64, 32)
  c.data.num_labelled = 20
  config_lib.shrink_for_runlocal(c, total_steps=40, train_examples=1024, batch_size=20,
                                 eval_batch_size=128)
  c.optimizer.lr = c.d_optimizer.lr = 1e-3
  c.evals.sample_quality = False
