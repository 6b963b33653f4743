"""Recent Layout results by document content, so an analysis with a custom model of a document the
engine just read (the pipeline OCRs every form, then predicts it) does not read it again: on a
scanned page reading is nearly all of the cost, and the model itself takes milliseconds.

Keyed by the SHA-256 of the bytes and every option that changes the reading; bounded in entries
and bytes; results are stored serialised, so callers get their own copy to change.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from typing import Any

MAX_ENTRIES = 64
MAX_BYTES = 64 * 1024 * 1024


class LayoutCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(data: bytes, *options: Any) -> str:
        digest = hashlib.sha256(data).hexdigest()
        return digest + json.dumps(options, default=str)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            raw = self._items.get(key)
            if raw is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return json.loads(raw)

    def put(self, key: str, result: dict[str, Any]) -> None:
        if self.max_entries <= 0:
            return
        raw = json.dumps(result, separators=(",", ":")).encode()
        if len(raw) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._size -= len(old) if old else 0
            self._items[key] = raw
            self._size += len(raw)
            while self._items and (len(self._items) > self.max_entries or self._size > self.max_bytes):
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


# ENGINE_LAYOUT_CACHE_ENTRIES=0 turns it off (the benchmarks time repeated reads of one document).
LAYOUT_CACHE = LayoutCache(int(os.environ.get("ENGINE_LAYOUT_CACHE_ENTRIES", MAX_ENTRIES)))
