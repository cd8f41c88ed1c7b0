"""genjax: autoencoders, VAEs and GANs in JAX/Flax.

Data flows one way: config -> `genjax.main` -> `train.train_and_evaluate`
-> `data.load` -> `methods.build(config)` -> scanned train chunks -> metrics,
evaluations, image grids and checkpoints in the workdir.
"""

__version__ = "0.1.0"

__all__ = ["load", "Model", "pretrained", "pretrained_names"]


def __getattr__(name: str):
  """`genjax.load(workdir)`, `genjax.Model`, `genjax.pretrained(name)` and
  `genjax.pretrained_names()`, imported on first use (so that
  `python -m genjax.main --help` does not pay for JAX's import)."""
  if name in ("load", "Model"):
    from genjax import model
    return getattr(model, name)
  if name in ("pretrained", "pretrained_names"):
    from genjax import zoo
    return zoo.load if name == "pretrained" else zoo.names
  raise AttributeError(f"module 'genjax' has no attribute {name!r}")
