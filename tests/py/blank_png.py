"""blank_png.py OUT [WIDTH HEIGHT]: writes a white 8-bit grayscale PNG (default 600 x 800),
a scan with no words on it, with the standard library only (the tests' blank page)."""
import struct
import sys
import zlib


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


out = sys.argv[1]
w, h = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (600, 800)
rows = b"".join(b"\0" + b"\xff" * w for _ in range(h))  # filter byte 0, then white pixels
with open(out, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
