"""The bytes of a TikTok FILE_UPLOAD: how a video is cut into chunks, and how long it plays.

TikTok's chunk rules (Content Posting API, Media Transfer Guide): each chunk is at least
5 MB and at most 64 MB, except the last, which takes the trailing bytes and may reach 128 MB;
``total_chunk_count`` is the video size divided by the chunk size, rounded down; a video under
5 MB goes up whole (chunk size = video size); at most 1000 chunks, sent in order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
MIN_CHUNK = 5 * MIB
MAX_CHUNK = 64 * MIB
MAX_FINAL_CHUNK = 128 * MIB
MAX_CHUNKS = 1000
DEFAULT_CHUNK = 10 * MIB


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> list[tuple[int, int]]:
        """(first byte, last byte) of each chunk; the last one takes the trailing bytes."""
        out = []
        for index in range(self.total_chunk_count):
            start = index * self.chunk_size
            last = (
                self.video_size - 1
                if index == self.total_chunk_count - 1
                else start + self.chunk_size - 1
            )
            out.append((start, last))
        return out


def chunk_plan(video_size: int, preferred: int = DEFAULT_CHUNK) -> ChunkPlan:
    """The chunking TikTok accepts for ``video_size`` bytes, as close to ``preferred`` as allowed."""
    if video_size <= 0:
        raise ValueError("the video is empty")
    if video_size < MIN_CHUNK or video_size <= min(preferred, MAX_CHUNK):
        return ChunkPlan(video_size, video_size, 1)
    chunk = max(MIN_CHUNK, min(preferred, MAX_CHUNK))
    count = video_size // chunk
    if count > MAX_CHUNKS:
        raise ValueError(f"the video is too large for {MAX_CHUNKS} chunks of {chunk} bytes")
    return ChunkPlan(video_size, chunk, count)


def mp4_duration(path: Path) -> float | None:
    """Seconds a local MP4/MOV plays, from its ``moov/mvhd`` box; ``None`` if it has none.

    Written here because no media library is among the dependencies and one box header is
    all that is needed: ISO BMFF boxes are ``size(4) type(4)`` (``size`` 1: a 64-bit size
    follows; 0: to the end of the file); ``mvhd`` version 0 holds 32-bit timescale and
    duration after two 32-bit dates, version 1 a 64-bit duration after two 64-bit dates.
    """
    with path.open("rb") as handle:
        end = path.stat().st_size
        moov = _find_box(handle, b"moov", 0, end)
        if moov is None:
            return None
        mvhd = _find_box(handle, b"mvhd", *moov)
        if mvhd is None:
            return None
        handle.seek(mvhd[0])
        version = handle.read(4)[0]
        if version == 1:
            handle.seek(16, 1)
            timescale, duration = struct.unpack(">IQ", handle.read(12))
        else:
            handle.seek(8, 1)
            timescale, duration = struct.unpack(">II", handle.read(8))
    return duration / timescale if timescale else None


def _find_box(handle, kind: bytes, start: int, end: int) -> tuple[int, int] | None:
    """(payload start, payload end) of the first box of ``kind`` between ``start`` and ``end``."""
    offset = start
    while offset + 8 <= end:
        handle.seek(offset)
        size, found = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", handle.read(8))[0], 16
        elif size == 0:
            size = end - offset
        if size < header:
            return None  # a broken box: stop rather than loop
        if found == kind:
            return offset + header, offset + size
        offset += size
    return None
