"""Writes synthetic CT slices as DICOM Part 10 files (Explicit VR Little Endian), standard library only.

Used by the benchmarks to make their input on the fly; nothing generated is committed.
"""
import os
import random
import struct

EXPLICIT_LE = "1.2.840.10008.1.2.1"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
_ROOT = "2.25.274873902018361527"  # UUID-derived root (PS3.5 B.2), for generated benchmark data only


def _pad(value: bytes, pad: bytes) -> bytes:
    return value + pad if len(value) % 2 else value


def _element(group: int, element: int, vr: str, value: bytes) -> bytes:
    pad = b"\0" if vr in ("UI", "OB", "OW") else b" "
    value = _pad(value, pad)
    if vr in ("OB", "OW", "SQ", "UN", "UT"):
        return struct.pack("<HH2sHI", group, element, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr.encode(), len(value)) + value


def _text(group, element, vr, text):
    return _element(group, element, vr, text.encode("ascii"))


def _us(group, element, number):
    return _element(group, element, "US", struct.pack("<H", number))


def uid(*parts) -> str:
    return ".".join([_ROOT] + [str(p) for p in parts])


def make_pixels(rows: int, columns: int, seed: int) -> bytes:
    """A 12-bit gradient with a little noise, quick to build for hundreds of slices."""
    rng = random.Random(seed)
    row = bytearray()
    for c in range(columns):
        row += struct.pack("<H", (c * 4095 // max(1, columns - 1)))
    out = bytearray()
    for r in range(rows):
        shift = (r + rng.randrange(8)) % columns
        out += row[shift * 2:] + row[:shift * 2]
    return bytes(out)


def write_slice(path: str, study: str, series: str, sop: str, number: int, pixels: bytes, rows: int, columns: int,
                frames: int = 1):
    """One CT image; with frames > 1, a multi-frame instance whose every frame is `pixels`."""
    frame_count = [_text(0x0028, 0x0008, "IS", str(frames))] if frames > 1 else []
    dataset = b"".join([
        _text(0x0008, 0x0016, "UI", CT_IMAGE_STORAGE),
        _text(0x0008, 0x0018, "UI", sop),
        _text(0x0008, 0x0060, "CS", "CT"),
        _text(0x0008, 0x1030, "LO", "Benchmark study"),
        _text(0x0008, 0x103E, "LO", "Benchmark series"),
        _text(0x0010, 0x0010, "PN", "BENCH^PATIENT"),
        _text(0x0010, 0x0020, "LO", "BENCH001"),
        _text(0x0020, 0x000D, "UI", study),
        _text(0x0020, 0x000E, "UI", series),
        _text(0x0020, 0x0013, "IS", str(number)),
        _us(0x0028, 0x0002, 1),
        _text(0x0028, 0x0004, "CS", "MONOCHROME2"),
        *frame_count,
        _us(0x0028, 0x0010, rows),
        _us(0x0028, 0x0011, columns),
        _us(0x0028, 0x0100, 16),
        _us(0x0028, 0x0101, 12),
        _us(0x0028, 0x0102, 11),
        _us(0x0028, 0x0103, 0),
        _text(0x0028, 0x1050, "DS", "2048"),
        _text(0x0028, 0x1051, "DS", "4096"),
        _element(0x7FE0, 0x0010, "OW", pixels * frames),
    ])
    meta_body = b"".join([
        _element(0x0002, 0x0001, "OB", b"\x00\x01"),
        _text(0x0002, 0x0002, "UI", CT_IMAGE_STORAGE),
        _text(0x0002, 0x0003, "UI", sop),
        _text(0x0002, 0x0010, "UI", EXPLICIT_LE),
        _text(0x0002, 0x0012, "UI", uid(0, 1)),
    ])
    meta = _element(0x0002, 0x0000, "UL", struct.pack("<I", len(meta_body))) + meta_body
    with open(path, "wb") as out:
        out.write(b"\0" * 128 + b"DICM" + meta)
        out.write(dataset)


def make_series(folder: str, count: int, rows: int = 512, columns: int = 512, run: int = 1, nested: bool = True):
    """Writes `count` slices of one series below `folder` (<StudyUID>/<SOPUID> when nested); returns the paths."""
    study = uid(run, 1)
    series = uid(run, 2)
    paths = []
    pixels = [make_pixels(rows, columns, seed) for seed in range(4)]
    for n in range(count):
        sop = uid(run, 3, n + 1)
        directory = os.path.join(folder, study) if nested else folder
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, sop)
        write_slice(path, study, series, sop, n + 1, pixels[n % len(pixels)], rows, columns)
        paths.append(path)
    return paths
