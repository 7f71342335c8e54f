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


def upload_dir(organization: str) -> Path:
    """Local files an organization's uploads may read: only under ``NEONHUB_UPLOAD_DIR/<its slug>/``,
    never another organization's files or arbitrary server files."""
    if not organization:
        raise ValueError("local files can only be uploaded by an organization's connector")
    return (Path(settings.NEONHUB_UPLOAD_DIR) / organization).resolve()


def check_relative(value: str) -> str:
    """A path inside the upload directory, checked before any run: relative to the organization's
    directory without climbing out of it, or absolute under ``NEONHUB_UPLOAD_DIR``."""
    root = Path(settings.NEONHUB_UPLOAD_DIR).resolve()
    if Path(value).is_absolute():
        inside = Path(value).resolve().is_relative_to(root)
    else:
        inside = bool(value.strip()) and (root / "_org" / value).resolve().is_relative_to(
            root / "_org"
        )
    if not inside:
        raise ValueError("must be a file inside the upload directory")
    return value


def local_video(value: str, *, organization: str) -> Path:
    base = upload_dir(organization)
    path = (base / check_relative(value)).resolve()
    if not path.is_relative_to(base):  # a symlink pointing out
        raise ValueError("must be a file inside the upload directory")
    if not path.is_file():
        raise ValueError(
            f"no such file in this organization's upload directory ({organization}/{value})"
        )
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
            raise ConnectorUnavailable(
                "YouTube: the upload lost bytes that the video download cannot replay"
            )
        skip = offset - self._kept_from
        kept = (
            self._kept[skip:] if skip <= len(self._kept) else self._discard(skip - len(self._kept))
        )
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
