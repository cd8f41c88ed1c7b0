r"""Stacked autoencoder 784-300-150-300-784 on MNIST.

    python -m genjax.main --config=configs/ae_mnist.py --workdir=runs/ae
    python -m genjax.main --config=configs/ae_mnist.py:runlocal --workdir=runs/ae_smoke
    python scripts/sweep.py --config=configs/ae_mnist.py --workdir=runs/ae_code_sweep

Undercomplete by default (a 150-unit code); `--config.model.code_dim=1000`
makes it overcomplete, `--config.model.tied=True` ties the decoder weights.
ReLU hidden layers, linear code, sigmoid output, Bernoulli cross-entropy.

Measured 2026-11-24 on a 2-core CPU shared with other jobs: after 20 epochs
(9360 steps of 128), test recon_loss (Bernoulli cross-entropy) 51.4 nats per
image, test mse per pixel 0.00167. Fashion-MNIST (`--config.data.name=fashion_mnist`,
2026-12-02): 20 epochs, test mse per pixel 0.00490. History: experiments/results/configs/ae_mnist.md.
"""

from genjax import config as config_lib


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, code_dim=150)
  c = config_lib.base_config()
  c.method = "autoencoder"
  c.data.name = "mnist"
  c.model.hidden = (300,)
  c.model.code_dim = opts.code_dim
  c.model.mirror_decoder = True
  c.model.decoder_hidden = ()
  c.model.activation = "relu"
  c.model.code_activation = "linear"
  c.model.output_activation = "sigmoid"
  c.model.tied = False
  c.loss = dict(reconstruction="bce")
  # Evaluators (genjax/evaluation/): an exact ||df/dx||_F on 1000 test images
  # at every eval; linear probes on the codes vs raw pixels (100 / 1000 labels)
  # at the end.
  c.evals = dict(jacobian=dict(type="jacobian_norm", with_evals=True, examples=1000),
                 probe=dict(type="linear_probe", sizes=(100, 1000), num_steps=200))
  c.optimizer.lr = 1e-3
  c.total_epochs = 20.0
  c.steps_per_dispatch = 100
  c.log_every_steps = 500
  c.eval_every_steps = 2000
  c.checkpoint_every_steps = 2000
  if opts.runlocal:
    apply_runlocal(c)
  return c


def sweep(add):
  """Code size: strongly undercomplete to overcomplete (`scripts/sweep.py`)."""
  for code_dim in (8, 32, 150, 1000):
    add(**{"model.code_dim": code_dim})


def apply_runlocal(c):
  """Same model family, tiny sizes: finishes in seconds (tests, smoke runs)."""
  c.model.hidden = (32,)
  c.model.code_dim = 8
  config_lib.shrink_for_runlocal(c, total_steps=40, eval_every=20, checkpoint_every=20)
  config_lib.shrink_evals_for_runlocal(c)
