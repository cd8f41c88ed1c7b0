"""genjax: autoencoders, VAEs and GANs in JAX/Flax.

Data flows one way: config -> `genjax.main` -> `train.train_and_evaluate`
-> `data.load` -> `methods.build(config)` -> scanned train chunks -> metrics,
evaluations, image grids and checkpoints in the workdir.
"""

__version__ = "0.1.0"
