"""Small pixel helpers shared by the image passes that run before and beside OCR."""

from __future__ import annotations

import numpy as np


def min_pool2(gray: np.ndarray) -> np.ndarray:
    """2x2 min-pooling of a grayscale page (dark ink survives), via strided views: ~20x cheaper than a
    reshape + any over the pooled axes on a 300-dpi page."""
    h, w = (gray.shape[0] // 2) * 2, (gray.shape[1] // 2) * 2
    return np.minimum(np.minimum(gray[0:h:2, 0:w:2], gray[1:h:2, 0:w:2]),
                      np.minimum(gray[0:h:2, 1:w:2], gray[1:h:2, 1:w:2]))
