"""Optimisers from config groups, with learning-rate schedules inside optax.

Schedules live in the optimiser state (optax counts steps on device), so the
host loop never feeds a learning rate and resuming restores the schedule.
"""

from __future__ import annotations

import optax

from genjax.config import ConfigDict


def learning_rate_schedule(opt: ConfigDict, num_train_steps: int) -> optax.Schedule:
  """Linear warm-up then constant, cosine or linear decay to zero."""
  warmup = min(opt.warmup_steps, num_train_steps)
  decay_steps = max(num_train_steps - warmup, 1)
  if opt.schedule == "constant":
    main = optax.constant_schedule(opt.lr)
  elif opt.schedule == "cosine":
    main = optax.cosine_decay_schedule(opt.lr, decay_steps)
  else:  # "linear"
    main = optax.linear_schedule(opt.lr, 0.0, decay_steps)
  if warmup == 0:
    return main
  return optax.join_schedules(
      [optax.linear_schedule(0.0, opt.lr, warmup), main], [warmup])


def make_optimizer(opt: ConfigDict, num_train_steps: int) -> optax.GradientTransformation:
  """Builds the optax transformation described by an optimiser config group.

  Args:
    opt: a group made by `genjax.config.optimizer_config` (validated).
    num_train_steps: total optimiser steps, for decaying schedules.

  Returns:
    An optax GradientTransformation.
  """
  lr = learning_rate_schedule(opt, num_train_steps)
  if opt.name == "adam":
    tx = optax.adam(lr, b1=opt.b1, b2=opt.b2, eps=opt.eps, eps_root=opt.eps_root)
  elif opt.name == "adamw":
    tx = optax.adamw(lr, b1=opt.b1, b2=opt.b2, eps=opt.eps, eps_root=opt.eps_root,
                     weight_decay=opt.weight_decay)
  elif opt.name == "sgd":
    tx = optax.sgd(lr)
  elif opt.name == "momentum":
    tx = optax.sgd(lr, momentum=opt.momentum, nesterov=True)
  else:  # "rmsprop"
    tx = optax.rmsprop(lr, momentum=opt.momentum)
  parts = []
  if opt.grad_clip_norm > 0:
    parts.append(optax.clip_by_global_norm(opt.grad_clip_norm))
  if opt.weight_decay > 0 and opt.name != "adamw":
    parts.append(optax.add_decayed_weights(opt.weight_decay))
  return optax.chain(*parts, tx) if parts else tx
