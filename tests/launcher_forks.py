"""Runs `python -m genjax.main` for many argument lists, paying the imports once.

    python tests/launcher_forks.py CASES.json RESULTS_DIR

CASES.json maps a case name to {"args": [...], "env": {...}}. This process
imports the launcher (and JAX) once, then forks one child per case; the child
sets its environment and argv and calls `genjax.main.run()`, exactly what
`python -m genjax.main ARGS` runs, with its stdout and stderr in
RESULTS_DIR/<name>.out / .err and its exit status in <name>.rc. JAX's backend
is not started before the fork, so each child sets up its own devices (e.g.
a case's XLA_FLAGS device count takes effect).
"""

import json
import os
import sys
import time

from genjax import main  # noqa: F401  (the imports every child shares)
import genjax.methods.autoencoder  # noqa: F401
import genjax.train  # noqa: F401
import tensorflow_datasets  # noqa: F401  (and TensorFlow, for the cases that read data)

MAX_PARALLEL = 3


def _child(name: str, case: dict, out_dir: str) -> None:
  os.environ.update(case.get("env") or {})
  for fd, suffix in ((1, "out"), (2, "err")):
    f = os.open(os.path.join(out_dir, f"{name}.{suffix}"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(f, fd)
  sys.argv = ["genjax.main", *case["args"]]
  code = 0
  try:
    main.run()
  except SystemExit as e:
    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(code)


def run_all(cases: dict, out_dir: str, timeout: float) -> None:
  pending, running = list(cases.items()), {}
  while pending or running:
    while pending and len(running) < MAX_PARALLEL:
      name, case = pending.pop(0)
      pid = os.fork()
      if pid == 0:
        _child(name, case, out_dir)
      running[pid] = (name, time.time())
    pid, status = os.waitpid(-1, os.WNOHANG)
    if pid == 0:
      for pid, (name, start) in list(running.items()):
        if time.time() - start > timeout:
          os.kill(pid, 9)
      time.sleep(0.05)
      continue
    name, _ = running.pop(pid)
    code = os.waitstatus_to_exitcode(status)
    with open(os.path.join(out_dir, f"{name}.rc"), "w") as f:
      f.write(str(code))


if __name__ == "__main__":
  with open(sys.argv[1]) as f:
    all_cases = json.load(f)
  run_all(all_cases, sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 120.0)
