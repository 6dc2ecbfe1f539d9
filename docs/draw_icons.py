"""Draws TMR Clinic's icons (static/icons/): a white line that falls from high pain to low on
the app's blue, as SVG and as PNG in the sizes browsers and phones ask for. Plain Python (zlib
and struct write the PNGs), so it runs anywhere: `python docs/draw_icons.py`."""

import struct
import zlib
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
BLUE = (13, 110, 253)  # Bootstrap's primary, the navbar's colour
WHITE = (255, 255, 255)
# On a 64-unit square: a rounded square, and the line of a pain score going down.
CORNER = 12
LINE = [(12, 18), (26, 30), (36, 26), (52, 46)]
LINE_WIDTH = 6
DOT = (52, 46, 6)  # the latest entry


SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
  <rect width="64" height="64" rx="{CORNER}" fill="#0d6efd"/>
  <polyline points="{" ".join(f"{x},{y}" for x, y in LINE)}" fill="none" stroke="#fff"
            stroke-width="{LINE_WIDTH}" stroke-linecap="round" stroke-linejoin="round"/>
  <circle cx="{DOT[0]}" cy="{DOT[1]}" r="{DOT[2]}" fill="#fff"/>
</svg>
"""


def _segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5


def _coverage(inside, x, y, scale, samples=4):
    """The share of a pixel's sample points that `inside` says are in the shape."""
    hits = 0
    for i in range(samples):
        for j in range(samples):
            u = (x + (i + 0.5) / samples) / scale
            v = (y + (j + 0.5) / samples) / scale
            hits += inside(u, v)
    return hits / (samples * samples)


def _in_square(u, v):
    cu = min(max(u, CORNER), 64 - CORNER)
    cv = min(max(v, CORNER), 64 - CORNER)
    return (u - cu) ** 2 + (v - cv) ** 2 <= CORNER**2


def _in_line(u, v):
    if (u - DOT[0]) ** 2 + (v - DOT[1]) ** 2 <= DOT[2] ** 2:
        return True
    return any(
        _segment_distance(u, v, *LINE[k], *LINE[k + 1]) <= LINE_WIDTH / 2
        for k in range(len(LINE) - 1)
    )


def png(size):
    scale = size / 64
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            alpha = _coverage(_in_square, x, y, scale)
            white = _coverage(_in_line, x, y, scale) if alpha else 0
            colour = [round(b * (1 - white) + w * white) for b, w in zip(BLUE, WHITE, strict=True)]
            row += bytes([*colour, round(alpha * 255)])
        rows.append(bytes(row))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    ICONS.mkdir(parents=True, exist_ok=True)
    (ICONS / "icon.svg").write_text(SVG)
    for name, size in (("favicon-32.png", 32), ("apple-touch-icon.png", 180),
                       ("icon-192.png", 192), ("icon-512.png", 512)):  # fmt: skip
        (ICONS / name).write_bytes(png(size))
