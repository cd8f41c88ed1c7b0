"""Errors that a user can fix, reported by the launcher as one clear line.

Anything raised as a `UserError` ends `python -m genjax.main` with its message
and exit status 1, with no traceback: the message must say what was wrong and
how to fix it. Bugs in genjax itself stay ordinary exceptions with tracebacks.
"""


class UserError(Exception):
  """Base class: bad configuration, missing data, diverged training, ..."""


class ConfigError(UserError):
  """The config asks for something impossible (unknown key, bad value)."""


class DataError(UserError):
  """A dataset is missing, cannot be downloaded, or has the wrong shape."""


class NonFiniteError(UserError):
  """Training produced a NaN or Inf; the last good checkpoint is kept."""
