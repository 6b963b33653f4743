"""Turn a rendered page into a phone photo of the printed sheet, and move the label boxes with the paper.

A phone held over a sheet on a table sees the page in perspective: its four corners move independently, the
page is turned a little and does not fill the frame, the table shows around it, the light falls off across
the sheet, the focus is soft and the camera compresses to JPEG. All geometry is one homography (rendered
page pixels -> photo pixels); the same matrix moves every label corner, so labels stay on their words (they
become quadrilaterals, as the label format allows). Nothing is deskewed: the engine gets the photo as taken.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

RENDER_DPI = 240  # the sheet is rendered finer than it appears in the photo, then warped and reduced
LONG_SIDE = 1600  # photo pixels on the long side, as a phone's document mode saves
SUPERSAMPLE = 2  # warp at twice the photo size and reduce: thin strokes stay antialiased
MAX_CORNER_SHIFT = 0.05  # of the page width / height, per corner and axis
MAX_ROTATION_DEG = 3.0
MIN_KEYSTONE = 0.025  # top and bottom (or left and right) edges differ by at least this share of the page
CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")


@dataclass(frozen=True)
class PhotoParams:
    """One photo's geometry and look; `random` draws them from the form's own stream, as ScanParams does."""

    corner_shift: tuple[float, ...]  # dx, dy per page corner (TL, TR, BR, BL), fractions of the page size
    angle_deg: float
    margins: tuple[float, float, float, float]  # left, top, right, bottom: least table visible, of the frame
    dark_corner: int  # index into CORNERS: where the light is weakest
    darkening: float  # that corner's brightness loss (0.3 = 30 % darker than the opposite corner)
    blur_radius: float  # defocus: radius of the disc a point spreads to, photo pixels
    noise_sigma: float  # sensor noise, grey levels
    jpeg_quality: int
    paper: tuple[float, float, float]  # RGB of blank paper under full light: warm, greyish
    ink: tuple[float, float, float]
    table: tuple[float, float, float]  # RGB of the surface the sheet lies on, darker than the paper

    @classmethod
    def random(cls, rng: random.Random) -> PhotoParams:
        while True:  # a hand-held phone is never exactly parallel to the sheet: always some keystone
            shift = tuple(rng.uniform(-MAX_CORNER_SHIFT, MAX_CORNER_SHIFT) for _ in range(8))
            if keystone(shift) >= MIN_KEYSTONE:
                break
        angle = rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG)
        margins = (rng.uniform(0.03, 0.08), rng.uniform(0.03, 0.08), rng.uniform(0.03, 0.08),
                   rng.uniform(0.03, 0.08))
        base, warm = rng.uniform(218.0, 240.0), rng.uniform(4.0, 14.0)
        ink = rng.uniform(20.0, 55.0)
        table = rng.uniform(45.0, 120.0)
        tint = rng.uniform(0.0, 0.35)  # 0 = grey desk, larger = brown wood
        return cls(
            corner_shift=shift,
            angle_deg=angle,
            margins=margins,
            dark_corner=rng.randrange(4),
            darkening=rng.uniform(0.25, 0.35),
            blur_radius=rng.uniform(0.8, 1.5),
            noise_sigma=rng.uniform(2.0, 5.0),
            jpeg_quality=rng.randrange(70, 89),
            paper=(min(255.0, base + 0.4 * warm), base, base - warm),
            ink=(ink, ink, ink + rng.uniform(0.0, 12.0)),
            table=(table * (1 + tint), table, table * (1 - tint)),
        )


def keystone(shift: tuple[float, ...]) -> float:
    """How far from a rectangle corner shifts make the page: the larger difference of opposite edges'
    lengths (top vs bottom, left vs right), as a share of the page size, to first order."""
    tl_x, tl_y, tr_x, tr_y, br_x, br_y, bl_x, bl_y = shift
    return max(abs((tr_x - tl_x) - (br_x - bl_x)), abs((bl_y - tl_y) - (br_y - tr_y)))


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 matrix taking the four points `src` onto `dst` (the 8x8 linear system, h33 = 1)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float))
    return np.append(h, 1.0).reshape(3, 3)


def apply_point(matrix: np.ndarray, x: float, y: float) -> tuple[float, float]:
    px, py, w = matrix @ np.array([x, y, 1.0])
    return float(px / w), float(py / w)


def frame_size(width: int, height: int) -> tuple[int, int]:
    """A phone frame (3:4, LONG_SIDE long) turned like the page."""
    short = LONG_SIDE * 3 // 4
    return (short, LONG_SIDE) if height >= width else (LONG_SIDE, short)


def page_quad(params: PhotoParams, width: int, height: int, frame: tuple[int, int]) -> np.ndarray:
    """Where the page's corners (TL, TR, BR, BL) land in the photo: moved, turned, fitted inside margins."""
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float) * (width / 2, height / 2)
    quad = half + np.array(params.corner_shift).reshape(4, 2) * (width, height)
    a = math.radians(params.angle_deg)
    quad = quad @ np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    left, top, right, bottom = params.margins
    fw, fh = frame
    room_w, room_h = fw * (1 - left - right), fh * (1 - top - bottom)
    span = quad.max(axis=0) - quad.min(axis=0)
    scale = min(room_w / span[0], room_h / span[1])
    quad = (quad - quad.min(axis=0)) * scale
    span = span * scale
    offset = (fw * left + (room_w - span[0]) / 2, fh * top + (room_h - span[1]) / 2)
    return quad + offset


def _lighting(quad: np.ndarray, params: PhotoParams, size: tuple[int, int]) -> np.ndarray:
    """Brightness factor per pixel: 1 at the page corner opposite the dark one, 1 - darkening at it."""
    dark = quad[params.dark_corner]
    bright = quad[(params.dark_corner + 2) % 4]
    axis = dark - bright
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32) + 0.5
    t = ((xs - bright[0]) * axis[0] + (ys - bright[1]) * axis[1]) / float(axis @ axis)
    t = np.clip(t, 0.0, 1.0)
    t = t * t * (3 - 2 * t)  # smoothstep: light falls off softly, no visible edge
    return 1.0 - params.darkening * t


def _table(params: PhotoParams, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The surface around the sheet: its colour with a faint, smooth texture."""
    coarse = Image.fromarray((rng.normal(0.5, 0.15, (12, 9)).clip(0, 1) * 255).astype(np.uint8), mode="L")
    texture = np.asarray(coarse.resize(size, Image.Resampling.BICUBIC), dtype=np.float32) / 255.0 - 0.5
    return np.array(params.table, dtype=np.float32) * (1 + 0.25 * texture[..., None])


def defocus(radius: float) -> ImageFilter.Kernel:
    """An out-of-focus lens spreads a point over a disc (the circle of confusion), not a Gaussian: a 5x5
    kernel whose weights are each pixel's share of a disc of `radius` pixels (at most 2.5)."""
    steps = 16  # sub-samples per pixel and axis
    offsets = (np.arange(5 * steps) + 0.5) / steps - 2.5
    xs, ys = np.meshgrid(offsets, offsets)
    disc = (xs * xs + ys * ys <= radius * radius).astype(np.float64)
    weights = disc.reshape(5, steps, 5, steps).sum(axis=(1, 3))
    return ImageFilter.Kernel((5, 5), (weights / weights.sum()).ravel().tolist(), scale=1)


def photograph(page: Image.Image, params: PhotoParams, seed: int) -> tuple[Image.Image, np.ndarray]:
    """The photo (RGB, not yet compressed) and the homography from `page` pixels to photo pixels."""
    width, height = page.size
    frame = frame_size(width, height)
    quad = page_quad(params, width, height, frame)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=float)
    matrix = homography(corners, quad)
    big = (frame[0] * SUPERSAMPLE, frame[1] * SUPERSAMPLE)
    inverse = homography(quad * SUPERSAMPLE, corners)  # photo -> page, as Image.transform wants it
    coeffs = tuple((inverse / inverse[2, 2]).ravel()[:8])
    sheet = page.transform(big, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC, fillcolor=255)
    mask = Image.new("L", big, 0)
    ImageDraw.Draw(mask).polygon([tuple(p) for p in quad * SUPERSAMPLE], fill=255)
    grey = np.asarray(sheet.reduce(SUPERSAMPLE), dtype=np.float32)[..., None] / 255.0
    cover = np.asarray(mask.reduce(SUPERSAMPLE), dtype=np.float32)[..., None] / 255.0
    ink, paper = np.array(params.ink, dtype=np.float32), np.array(params.paper, dtype=np.float32)
    rng = np.random.default_rng(seed)
    pixels = cover * (ink + grey * (paper - ink)) + (1 - cover) * _table(params, frame, rng)
    pixels *= _lighting(quad, params, frame)[..., None]
    blurred = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB").filter(
        defocus(params.blur_radius)
    )
    pixels = np.asarray(blurred, dtype=np.float32)
    pixels += rng.standard_normal(pixels.shape, dtype=np.float32) * np.float32(params.noise_sigma)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB"), matrix


def jpeg_roundtrip(image: Image.Image, quality: int) -> Image.Image:
    """The frame as the camera stored it (JPEG blocks and ringing), for photos kept in a TIFF."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")
