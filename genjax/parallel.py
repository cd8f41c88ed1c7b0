"""Data parallelism over every device: a 1-D mesh, replicated state, sharded batches.

genjax's "pmapped" train steps are written the way current JAX recommends:
plain `jax.jit` over a `("data",)` mesh. Parameters and optimiser state are
replicated, each global batch is sharded along "data", and XLA's partitioner
inserts the gradient all-reduce. The same code runs on one CPU, on 8 fake CPU
devices (`XLA_FLAGS=--xla_force_host_platform_device_count=8`), on a GPU host
and on a TPU pod slice (after `jax.distributed.initialize()`), and because the
math is written for the global batch, the result does not depend on the
number of devices (up to float reduction order).

The mesh axis is `AxisType.Auto` on purpose: jax's default `Explicit` axes
would make every gather from the replicated dataset carry sharding-in-types
annotations that the method code should not have to know about.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec as P

from genjax.errors import ConfigError

DATA_AXIS = "data"


def make_mesh() -> Mesh:
  """A 1-D mesh over all devices of all processes, axis name "data"."""
  return jax.make_mesh((jax.device_count(),), (DATA_AXIS,),
                       axis_types=(AxisType.Auto,))


def replicated(mesh: Mesh) -> NamedSharding:
  """Every device holds the whole array (parameters, datasets)."""
  return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  """Leading (batch) axis split over "data"; the rest whole."""
  return NamedSharding(mesh, P(DATA_AXIS))


def put_replicated(tree, mesh: Mesh):
  """Copies host arrays to every device of every process.

  Each process passes the same full array (MNIST-size datasets are replicated
  rather than sharded: an epoch's random batches then need no communication).
  """
  sharding = replicated(mesh)
  return jax.tree.map(
      lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)),
      tree)


def check_divisible(batch_size: int, what: str) -> None:
  """Raises a ConfigError if a global batch cannot be split over the devices."""
  n = jax.device_count()
  if batch_size % n:
    raise ConfigError(
        f"config.{what}={batch_size} is not divisible by the {n} devices; "
        f"use a multiple of {n}")
