"""The bytes of a YouTube upload: where a local file may come from, and reading by offset.

A local file is read chunk by chunk; a download of known length is relayed one chunk at a
time, keeping only the chunk in flight; the session's ``Range`` answer says what it stored.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings

from neonhub.core.errors import ConnectorUnavailable

CHUNK_UNIT = 256 * 1024


def upload_dir() -> Path:
    """Local files an upload may read: only under ``NEONHUB_UPLOAD_DIR``, never arbitrary server files."""
    return Path(settings.NEONHUB_UPLOAD_DIR).resolve()


def local_video(value: str) -> Path:
    base = upload_dir()
    path = (base / value).resolve()
    if not path.is_relative_to(base):
        raise ValueError("must be a file inside the upload directory")
    if not path.is_file():
        raise ValueError("no such file")
    if path.stat().st_size == 0:
        raise ValueError("the file is empty")
    return path


class VideoSource:
    """The bytes being uploaded, read by offset: a seekable file, or a one-way download.

    A download is relayed chunk by chunk; only the chunk in flight is kept, so a chunk the
    session did not fully take can be sent again, but nothing before it.
    """

    def __init__(self, handle: Any, size: int, content_type: str, *, stream: bool = False):
        self.handle, self.size, self.content_type, self.stream = handle, size, content_type, stream
        self._kept, self._kept_from = bytearray(), 0

    def read(self, offset: int, length: int) -> bytes:
        if not self.stream:
            self.handle.seek(offset)
            return self.handle.read(length)
        if offset < self._kept_from:
            raise ConnectorUnavailable("YouTube: the upload lost bytes that the video download cannot replay")
        skip = offset - self._kept_from
        kept = self._kept[skip:] if skip <= len(self._kept) else self._discard(skip - len(self._kept))
        while len(kept) < length:
            piece = self.handle.read(length - len(kept), decode_content=False)
            if not piece:
                break
            kept += piece
        self._kept, self._kept_from = kept, offset
        return bytes(kept[:length])

    def _discard(self, count: int) -> bytearray:
        while count > 0:
            piece = self.handle.read(min(count, CHUNK_UNIT), decode_content=False)
            if not piece:
                break
            count -= len(piece)
        return bytearray()


def acknowledged(response: requests.Response) -> int:
    """The next byte to send after a 308: ``Range: bytes=0-N`` means N+1 bytes are stored."""
    match = re.match(r"^bytes=0-(\d+)$", response.headers.get("Range", ""))
    return int(match.group(1)) + 1 if match else 0


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def guess_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or ""
    return guessed if guessed.startswith("video/") else "application/octet-stream"


def download_type(response: requests.Response, url: str) -> str:
    declared = (response.headers.get("Content-Type") or "").split(";")[0].strip()
    return declared if declared.startswith("video/") else guess_type(urlsplit(url).path)
