"""Procedural belt texture baked into an array once per process (numpy, no bpy).

Evaluating procedural noise in the belt shader cost ~0.13 s of a 0.44 s 128 px frame here;
a tileable image looked up twice is nearly free. The array depends only on the fixed seed, so
every worker renders the same belt for the same plan.
"""
from __future__ import annotations

import numpy as np

SEED = 20240917


def fractal_noise(size: int, beta: float, rng: np.random.Generator,
                  low_cut: float = 1.0) -> np.ndarray:
    """Tileable 1/f^beta noise in [0, 1] (the FFT makes it periodic)."""
    white = rng.random((size, size))
    f = np.fft.fftfreq(size) * size
    fx, fy = np.meshgrid(f, f)
    r = np.sqrt(fx * fx + fy * fy)
    r[0, 0] = 1.0
    amp = 1.0 / np.maximum(r, low_cut) ** beta
    amp[0, 0] = 0.0
    spec = np.fft.fft2(white - white.mean()) * amp
    out = np.real(np.fft.ifft2(spec))
    lo, hi = np.percentile(out, 1.0), np.percentile(out, 99.0)
    return np.clip((out - lo) / (hi - lo), 0.0, 1.0)


def belt_texture(size: int = 512) -> np.ndarray:
    """RGBA float32 (size, size, 4): R coarse mottling, G fine rubber grain, B scratches."""
    rng = np.random.default_rng(SEED)
    coarse = fractal_noise(size, 1.6, rng, low_cut=2.0)
    fine = fractal_noise(size, 0.9, rng, low_cut=8.0)
    # Sparse thin streaks along the belt's running direction (y): wear marks.
    streak = fractal_noise(size, 1.2, rng, low_cut=4.0)
    streak = np.repeat(streak.mean(axis=0, keepdims=True), size, axis=0) * 0.7 + streak * 0.3
    out = np.empty((size, size, 4), dtype=np.float32)
    out[..., 0] = coarse
    out[..., 1] = fine
    out[..., 2] = streak
    out[..., 3] = 1.0
    return out


def normal_map(height: np.ndarray, strength: float) -> np.ndarray:
    """Object-space normal map (RGBA float32, 0.5 + 0.5 n) of a tileable height field on a
    plane facing +z. A precomputed normal map costs one image lookup per shading point where
    the Bump node evaluates its height input three times (measured ~0.06 s of a 128 px frame).
    """
    dx = (np.roll(height, -1, axis=1) - np.roll(height, 1, axis=1)) * 0.5
    dy = (np.roll(height, -1, axis=0) - np.roll(height, 1, axis=0)) * 0.5
    n = np.stack([-dx * strength, -dy * strength, np.ones_like(height)], axis=-1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    out = np.empty(height.shape + (4,), dtype=np.float32)
    out[..., :3] = n * 0.5 + 0.5
    out[..., 3] = 1.0
    return out
