"""Small pixel helpers shared by the image passes that run before and beside OCR."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage


def min_pool2(gray: np.ndarray) -> np.ndarray:
    """2x2 min-pooling of a grayscale page (dark ink survives), via strided views: ~20x cheaper than a
    reshape + any over the pooled axes on a 300-dpi page."""
    h, w = (gray.shape[0] // 2) * 2, (gray.shape[1] // 2) * 2
    return np.minimum(np.minimum(gray[0:h:2, 0:w:2], gray[1:h:2, 0:w:2]),
                      np.minimum(gray[0:h:2, 1:w:2], gray[1:h:2, 1:w:2]))


UNEVEN_LIGHT = 40  # grey levels between the brightest and darkest paper: a photo's shadow or the table
# around the sheet; a flatbed scan's paper stays within ~15


def flatten_light(image: Image.Image) -> Image.Image:
    """The page divided by its own background where the light is uneven (a phone photo: a shadow across
    the sheet, the darker table around it), so paper is white everywhere and ink keeps its contrast.
    Without it the rule eraser took the table for ink and Tesseract read nothing at all on a photo. Pages
    lit evenly (scans, rendered PDFs) come back unchanged."""
    luma = image.convert("L")
    small = np.asarray(luma.reduce(4), dtype=np.float32)  # a quarter of the size, averaged in C
    if min(small.shape) < 16:
        return image
    background = ndimage.uniform_filter(ndimage.grey_closing(small, size=(15, 15)), 9)  # text closed away
    if np.percentile(background, 95) - np.percentile(background, 5) < UNEVEN_LIGHT:
        return image  # the common case decided on the small image: no full-size pass
    full = np.asarray(Image.fromarray(background).resize(image.size, Image.Resampling.BILINEAR))
    gray = np.asarray(luma, dtype=np.float32)
    flat = np.clip(gray / np.maximum(full, 1.0) * 255.0, 0, 255).astype(np.uint8)
    return Image.fromarray(flat, "L")
