"""Image grids written as PNG (reconstructions, samples, traversals)."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image


def grid_to_uint8(grid: np.ndarray, pad: int = 2, pad_value: float = 1.0) -> np.ndarray:
  """Tiles a [rows, cols, H, W, C] float grid in [0, 1] into one uint8 image.

  Returns:
    uint8 [rows * (H + pad) + pad, cols * (W + pad) + pad] (grey) or [..., 3].
  """
  grid = np.clip(np.asarray(grid, np.float32), 0.0, 1.0)
  if grid.ndim != 5:
    raise ValueError(f"expected a [rows, cols, H, W, C] grid, got shape {grid.shape}")
  rows, cols, h, w, c = grid.shape
  canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, np.float32)
  for r in range(rows):
    for k in range(cols):
      y, x = pad + r * (h + pad), pad + k * (w + pad)
      canvas[y:y + h, x:x + w] = grid[r, k]
  canvas = (canvas * 255.0 + 0.5).astype(np.uint8)
  return canvas[..., 0] if c == 1 else canvas


def save_grid(path: str, grid: np.ndarray, scale: int = 2) -> None:
  """Writes a [rows, cols, H, W, C] grid as a PNG, enlarged `scale` times.

  Written to a temporary file and renamed, so a killed run never leaves a
  truncated PNG behind.
  """
  image = Image.fromarray(grid_to_uint8(grid))
  if scale > 1:
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  tmp = path + ".tmp"
  image.save(tmp, format="PNG")
  os.replace(tmp, path)
