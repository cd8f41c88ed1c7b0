r"""Denoising autoencoder 784-300-150-300-784 (the ae_mnist architecture) on MNIST.

    python -m genjax.main --config=configs/dae_mnist.py --workdir=runs/dae
    python -m genjax.main --config=configs/dae_mnist.py:noise=masking,level=0.25 --workdir=runs/dae_mask
    python -m genjax.main --config=configs/dae_mnist.py:noise=salt_and_pepper,level=0.2 --workdir=runs/dae_sp
    python -m genjax.main --config=configs/dae_mnist.py:runlocal --workdir=runs/dae_smoke

Minimises L(x, g(f(x~))) with x~ a fresh corruption of x drawn on device at
every step; `:noise=` gaussian (level = sigma), masking or salt_and_pepper.
Eval reports clean and noisy-input errors and the median filters' PSNR.

Measured 2026-11-24 by `python -m experiments.codes_as_features` (10 epochs,
2-core CPU shared with 2-3 other jobs): Gaussian sigma 0.5, test PSNR of the
denoised output 19.16 dB from a 9.38 dB noisy input.
History: experiments/results/configs/dae_mnist.md.
"""

from genjax import config as config_lib


def get_config(arg=None):
  opts = config_lib.parse_arg(arg, runlocal=False, noise="gaussian", level=0.5)
  c = config_lib.base_config()
  c.method = "autoencoder"
  c.data.name = "mnist"
  c.model.kind = "mlp"
  c.model.hidden = (300,)
  c.model.code_dim = 150
  c.model.mirror_decoder = True
  c.model.decoder_hidden = ()
  c.model.activation = "relu"
  c.model.code_activation = "linear"
  c.model.output_activation = "sigmoid"
  c.model.tied = False
  c.loss = dict(reconstruction="bce")
  c.noise = dict(kind=opts.noise, std=opts.level, fraction=opts.level)
  # Evaluators: at every eval the PSNR on test images corrupted like the training
  # inputs, beside 3x3 / 5x5 median filters, and ||df/dx||_F on 1000 test
  # images; probes at the end.
  # Add 0 to sizes for an all-labels probe (minutes of L-BFGS on 60k codes).
  c.evals = dict(denoising=dict(type="denoising_psnr", with_evals=True, median_sizes=(3, 5)),
                 jacobian=dict(type="jacobian_norm", with_evals=True, examples=1000),
                 probe=dict(type="linear_probe", sizes=(100, 1000), l2=1e-3, num_steps=200))
  c.optimizer.lr = 1e-3
  c.total_epochs = 10.0
  c.steps_per_dispatch = 100
  c.log_every_steps = 500
  c.eval_every_steps = 2000
  c.checkpoint_every_steps = 2000
  if opts.runlocal:
    c.model.hidden = (32,)
    c.model.code_dim = 8
    config_lib.shrink_for_runlocal(c, total_steps=20)
    config_lib.shrink_evals_for_runlocal(c)
  return c
