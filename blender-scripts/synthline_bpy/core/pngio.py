"""Minimal PNG writer/reader with no bpy and no PIL (8- or 16-bit grey/RGB/RGBA, no metadata).

Used for the 0/255 product mask and the 16-bit depth map: writing them here avoids creating a
Blender image data-block per frame. The reader exists for tests and dev tools.
"""
from __future__ import annotations

import os
import struct
import zlib
from typing import Tuple

_SIG = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 6: 4}


def _chunk(tag: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + tag
        + data
        + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    )


def encode(
    width: int, height: int, channels: int, pixels: bytes, level: int = 1, bit_depth: int = 8
) -> bytes:
    """Rows top to bottom, `channels` samples per pixel (1 grey, 3 RGB, 4 RGBA); 16-bit samples
    are big-endian, as PNG stores them."""
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    if bit_depth not in (8, 16):
        raise ValueError("bit_depth must be 8 or 16")
    stride = width * channels * (bit_depth // 8)
    if len(pixels) != stride * height:
        raise ValueError(f"expected {stride * height} bytes, got {len(pixels)}")
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        _SIG
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw, level))
        + _chunk(b"IEND", b"")
    )


def write(
    path: str, width: int, height: int, channels: int, pixels: bytes, bit_depth: int = 8
) -> None:
    """Write atomically (temp file + rename) so a reader never sees half a file."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(encode(width, height, channels, pixels, bit_depth=bit_depth))
    os.replace(tmp, path)


def read(path: str) -> Tuple[int, int, int, bytes]:
    """(width, height, channels, pixels) of a non-interlaced 8-bit PNG."""
    w, h, ch, depth, px = read_any(path)
    if depth != 8:
        raise ValueError("only 8-bit non-interlaced grey/RGB/RGBA PNGs")
    return w, h, ch, px


def read16(path: str) -> Tuple[int, int, int, list]:
    """(width, height, channels, samples as ints) of a non-interlaced 16-bit PNG."""
    w, h, ch, depth, px = read_any(path)
    if depth != 16:
        raise ValueError("not a 16-bit PNG")
    return w, h, ch, list(struct.unpack(f">{len(px) // 2}H", px))


def read_any(path: str) -> Tuple[int, int, int, int, bytes]:
    """(width, height, channels, bit depth, raw sample bytes) of a non-interlaced 8/16-bit PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != _SIG:
        raise ValueError("not a PNG")
    pos = 8
    idat = b""
    width = height = channels = 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        tag = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + n]
        pos += 12 + n
        if tag == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth not in (8, 16) or interlace != 0 or ctype not in _CHANNELS:
                raise ValueError("only 8/16-bit non-interlaced grey/RGB/RGBA PNGs")
            channels = _CHANNELS[ctype]
            bpp = channels * depth // 8
        elif tag == b"IDAT":
            idat += body
        elif tag == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * bpp
    out = bytearray()
    prev = bytearray(stride)
    for y in range(height):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if ft == 0:
            out += line
            prev = line
            continue
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ft == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        out += line
        prev = line
    return width, height, channels, depth, bytes(out)


def text_chunks(path: str) -> list:
    """Names of tEXt/zTXt/iTXt chunks (metadata) in a PNG; expected empty for our outputs."""
    with open(path, "rb") as f:
        data = f.read()
    pos, found = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        tag = data[pos + 4 : pos + 8]
        if tag in (b"tEXt", b"zTXt", b"iTXt"):
            found.append(data[pos + 8 : pos + 8 + n].split(b"\x00")[0].decode("latin-1"))
        pos += 12 + n
    return found


_METADATA_CHUNKS = (b"tEXt", b"zTXt", b"iTXt", b"tIME")


def strip_metadata(src: str, dst: str) -> None:
    """Copy a PNG without text/time chunks, atomically.

    Blender writes Cycles' render statistics (render_time, total_time, ...) as tEXt chunks no
    matter what the stamp settings say, so two renders of one plan would differ by them.
    """
    with open(src, "rb") as f:
        data = f.read()
    if data[:8] != _SIG:
        raise ValueError(f"{src} is not a PNG")
    parts = [_SIG]
    pos = 8
    while pos + 12 <= len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        tag = data[pos + 4 : pos + 8]
        end = pos + 12 + n
        if end > len(data):
            raise ValueError(f"{src} is truncated")
        if tag not in _METADATA_CHUNKS:
            parts.append(data[pos:end])
        pos = end
        if tag == b"IEND":
            break
    tmp = f"{dst}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(b"".join(parts))
    os.replace(tmp, dst)
