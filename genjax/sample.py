"""Samples from a trained model: `python -m genjax.sample --workdir=DIR --out=samples.npz`.

Flags:
  --workdir   a trained run's workdir (its config.json and checkpoints/).
  --num       number of samples (default 10000).
  --out       the .npz to write: "images" [N, H, W, C] (uint8 0..255 by
              default, or float32 in [0, 1] with --dtype=float32) and, for
              conditional models, "labels" [N] (balanced 0, 1, .., K-1, 0, ..
              unless --label=k asks for one class).
  --grid      optional PNG of the first (up to 100) samples, 10 per row.
  --seed      the same seed gives the same samples as `genjax.load(DIR).sample(N, seed=...)`.
  --step      checkpoint step (default: the latest).

A `genjax.errors.UserError` (no such workdir, a model that cannot sample,
bad flags) ends it with one `genjax: error: ...` line and exit status 1.
"""

from __future__ import annotations

import os

from absl import flags

from genjax import cli
from genjax.errors import UserError

# Its own flag set, so importing this module beside genjax.main (which also
# defines --workdir on absl's global FLAGS) never clashes.
FLAGS = flags.FlagValues()
_WORKDIR = flags.DEFINE_string("workdir", None, "A trained run's workdir.", flag_values=FLAGS)
_NUM = flags.DEFINE_integer("num", 10_000, "Number of samples.", flag_values=FLAGS)
_OUT = flags.DEFINE_string("out", None, "Output .npz path.", flag_values=FLAGS)
_GRID = flags.DEFINE_string("grid", None, "Optional PNG grid of the first samples.",
                            flag_values=FLAGS)
_SEED = flags.DEFINE_integer("seed", 0, "Sampling seed.", flag_values=FLAGS)
_LABEL = flags.DEFINE_integer("label", None, "Conditional models: one class for all samples.",
                              flag_values=FLAGS)
_DTYPE = flags.DEFINE_enum("dtype", "uint8", ["uint8", "float32"], "Dtype of the images.",
                           flag_values=FLAGS)
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step (default: the latest).",
                             flag_values=FLAGS)
flags.mark_flags_as_required(["workdir", "out"], flag_values=FLAGS)

GRID_COLUMNS = 10
GRID_MAX = 100


def to_uint8(images):
  """[0, 1] floats -> uint8 0..255, rounded as the PNG grids are."""
  import numpy as np
  return (np.clip(images, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_samples(model, num: int, out: str, *, seed: int = 0, label: int | None = None,
                  dtype: str = "uint8", grid: str | None = None) -> dict:
  """Draws `num` samples from `model` and writes them to `out` (.npz), and `grid`.

  Returns:
    The arrays written ({"images", and "labels" for conditional models}).

  Raises:
    UserError: the model cannot sample, a label for an unconditional model,
      a grid of non-image samples, an unwritable path.
  """
  import numpy as np
  from genjax import viz
  if "sample" not in model.supports:
    raise UserError(f"this {model.config.method} model cannot sample; it supports "
                    f"{', '.join(f'{n}()' for n in model.supports)}")
  if num <= 0:
    raise UserError(f"--num must be positive, got {num}")
  labels = None
  if model.conditional:
    labels = (np.arange(num, dtype=np.int32) % model.num_classes if label is None
              else np.full((num,), label, np.int32))
  elif label is not None:
    raise UserError(f"--label={label}: this {model.config.method} model is not conditional")
  images = model.sample(num, seed=seed, labels=labels)
  arrays = {"images": to_uint8(images) if dtype == "uint8" else images.astype(np.float32)}
  if labels is not None:
    arrays["labels"] = labels
  if grid and images.ndim != 4:
    raise UserError(f"--grid: samples of shape {list(images.shape[1:])} are not images")
  try:
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, out)
    if grid:
      first = images[:GRID_MAX]
      cols = min(GRID_COLUMNS, len(first))
      rows = len(first) // cols
      viz.save_grid(grid, first[:rows * cols].reshape((rows, cols) + first.shape[1:]))
  except OSError as e:
    raise UserError(f"cannot write the samples: {e}") from None
  return arrays


def main(argv):
  cli.reject_arguments(argv)
  if not _OUT.value.endswith(".npz"):
    raise UserError(f"--out={_OUT.value} must end in .npz")
  from genjax import host_memory, model as model_lib
  host_memory.keep_freed_memory()  # batches reuse freed memory, not fresh pages
  m = model_lib.load(_WORKDIR.value, _STEP.value)
  arrays = write_samples(m, _NUM.value, _OUT.value, seed=_SEED.value, label=_LABEL.value,
                         dtype=_DTYPE.value, grid=_GRID.value)
  print(f"wrote {len(arrays['images'])} samples of {m.config.method} step {m.step} "
        f"to {_OUT.value}" + (f" and {_GRID.value}" if _GRID.value else ""))


def _parse(argv):
  try:
    # absl's own flags (--help, --verbosity, ...) first, then ours.
    return FLAGS(flags.FLAGS(argv, known_only=True))
  except flags.Error as e:
    raise UserError(" ".join(str(e).split())) from None


def run() -> None:
  """`python -m genjax.sample`: a `UserError` ends it with one line, status 1."""
  cli.run_app(main, flags_parser=_parse)


if __name__ == "__main__":
  run()
