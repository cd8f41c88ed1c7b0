"""Comparing subspaces: PCA and principal angles (numpy, host side).

Used to check that a linear autoencoder with a squared-error loss learns the
span of the top-k principal components: its decoder's column space and the
PCA subspace should meet at principal angles near zero.
"""

from __future__ import annotations

import numpy as np


def pca(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Principal components of rows of `x` [N, D].

  Returns:
    (mean [D], components [D, D] as columns sorted by decreasing variance,
    variances [D]).
  """
  x = np.asarray(x, np.float64)
  mean = x.mean(0)
  cov = np.cov(x - mean, rowvar=False)
  variances, vectors = np.linalg.eigh(cov)
  order = np.argsort(variances)[::-1]
  return mean, vectors[:, order], variances[order]


def pca_reconstruction_mse(x: np.ndarray, mean: np.ndarray, components: np.ndarray,
                           k: int) -> float:
  """Mean squared error per coordinate of projecting `x` on the top-k components."""
  u = components[:, :k]
  centered = np.asarray(x, np.float64) - mean
  residual = centered - centered @ u @ u.T
  return float(np.mean(residual**2))


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Principal angles (radians, ascending) between the column spaces of a and b.

  Args:
    a: [D, k] spanning vectors (need not be orthonormal).
    b: [D, m] spanning vectors.

  Returns:
    min(k, m) angles in [0, pi/2].
  """
  qa, _ = np.linalg.qr(np.asarray(a, np.float64))
  qb, _ = np.linalg.qr(np.asarray(b, np.float64))
  cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)
  return np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))
