"""Draws the maskable icons of the installable diary (static/icons/icon-maskable-*.png): the
same falling line as docs/draw_icons.py, on a full square of the app's blue with no rounded
corners, shrunk into the middle 80% that every phone's mask (circle, squircle) keeps.
`python docs/draw_maskable_icons.py`."""

import struct
import zlib

from draw_icons import BLUE, ICONS, WHITE, _coverage, _in_line

# The line's drawing fills most of the 64-unit square; the safe zone is a circle of radius
# 40% around the centre: scaled to 70% about the centre, the line and its dot stay inside.
SHRINK = 0.7


def _in_shrunk_line(u, v):
    return _in_line(32 + (u - 32) / SHRINK, 32 + (v - 32) / SHRINK)


def maskable_png(size):
    scale = size / 64
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            white = _coverage(_in_shrunk_line, x, y, scale)
            row += bytes(
                round(b * (1 - white) + w * white) for b, w in zip(BLUE, WHITE, strict=True)
            )
        rows.append(bytes(row))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB: no transparency
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    for size in (192, 512):
        (ICONS / f"icon-maskable-{size}.png").write_bytes(maskable_png(size))
