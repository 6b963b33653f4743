"""Turn a rendered PDF into images that look scanned, and move the label boxes with the paper.

A real scan shifts, scales and rotates the page a little, blurs the ink and adds noise. All geometry is one
affine transform about the page centre; the same matrix is applied to every label corner, so labels stay on
their words (they become slightly rotated quadrilaterals, as the label format allows).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter

MAX_ROTATION_DEG = 2.0


@dataclass(frozen=True)
class ScanParams:
    angle_deg: float
    scale: float
    shift_x: float  # fraction of the page width
    shift_y: float  # fraction of the page height
    blur_radius: float
    noise_sigma: float
    paper: float  # background grey level
    ink: float  # darkest grey level

    @classmethod
    def random(cls, rng: random.Random) -> ScanParams:
        return cls(
            angle_deg=rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG),
            scale=rng.uniform(0.97, 1.03),
            shift_x=rng.uniform(-0.02, 0.02),
            shift_y=rng.uniform(-0.02, 0.02),
            blur_radius=rng.uniform(0.3, 0.9),
            noise_sigma=rng.uniform(3.0, 10.0),
            paper=rng.uniform(228.0, 250.0),
            ink=rng.uniform(10.0, 60.0),
        )


def render_pages(pdf: bytes, dpi: int, forms: bool = False) -> list[Image.Image]:
    """Rasterise every page in grey at `dpi` (pdfium renders the embedded TTF glyphs as a printer would).

    `forms=True` also draws the AcroForm widgets (as printing a filled-in form does); without it pdfium
    renders only the page content and the values of a fillable form would be missing from the scan.
    """
    doc = pdfium.PdfDocument(pdf)
    try:
        if forms:
            doc.init_forms()  # must come before the pages are loaded
        return [
            doc[i].render(scale=dpi / 72, grayscale=True, may_draw_forms=forms).to_pil().convert("L")
            for i in range(len(doc))
        ]
    finally:
        doc.close()


def forward_matrix(params: ScanParams, width: int, height: int) -> np.ndarray:
    """3x3 matrix taking a pixel of the clean page to its place on the scan."""
    cx, cy = width / 2, height / 2
    a = math.radians(params.angle_deg)
    cos, sin = math.cos(a) * params.scale, math.sin(a) * params.scale
    to_origin = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], dtype=float)
    rotate_scale = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], dtype=float)
    back = np.array(
        [[1, 0, cx + params.shift_x * width], [0, 1, cy + params.shift_y * height], [0, 0, 1]], dtype=float
    )
    return back @ rotate_scale @ to_origin


def apply_point(matrix: np.ndarray, x: float, y: float) -> tuple[float, float]:
    px, py, _ = matrix @ np.array([x, y, 1.0])
    return float(px), float(py)


def degrade(page: Image.Image, params: ScanParams, seed: int) -> tuple[Image.Image, np.ndarray]:
    """The scanned-looking page (same size as the clean one) and the matrix used to move it."""
    width, height = page.size
    matrix = forward_matrix(params, width, height)
    inverse = np.linalg.inv(matrix)
    moved = page.transform(
        (width, height),
        Image.Transform.AFFINE,
        data=tuple(inverse[:2].ravel()),
        resample=Image.Resampling.BICUBIC,
        fillcolor=255,
    )
    blurred = moved.filter(ImageFilter.GaussianBlur(params.blur_radius))
    pixels = np.asarray(blurred, dtype=np.float32)
    pixels = params.ink + pixels / 255.0 * (params.paper - params.ink)
    pixels += np.random.default_rng(seed).normal(0.0, params.noise_sigma, pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L"), matrix
