#!/usr/bin/python3
"""Example creni-node series module (Python standard library only): slice count and mean intensity.

Switch it on with two lines in the node's configuration:

    [series.external]
    command = ["/usr/bin/python3", "/path/to/creni-node/examples/series-module/slice_stats.py"]

creni-node runs it once per complete series, never through a shell, as

    /usr/bin/python3 slice_stats.py INSTANCES_FOLDER SERIES.json RESULT.json

in a private folder (its working directory, removed afterwards) with a clean environment (PATH, HOME, TMPDIR,
LANG), stdin and stdout on /dev/null, and the time and memory limits of [series.external].

The contract:
  * INSTANCES_FOLDER holds a copy of every instance of the series as NNNN.dcm, ordered as a stack (by position
    along the normal of the image plane where the geometry is known, else by InstanceNumber). The files are the
    instances as received (any transfer syntax): they may be compressed.
  * SERIES.json: {"contract": 1, "gateway", "study_instance_uid", "series_instance_uid", "run", "count",
    "instances_folder", "result", "parameters": {...}, "instances": [{"file", "sop_class_uid",
    "sop_instance_uid", "instance_number", "rows", "columns", "image_position", "image_orientation",
    "pixel_spacing", "slice_position"}, ...]} (geometry values are numbers or null).
  * The module writes RESULT.json: {"findings": [{"label": "x", "score": 0.9, "instances": ["<sop uid>"],
    "point": [column, row]}]} -- labels 1-64 printable ASCII characters, scores 0..1; "instances" (UIDs from
    SERIES.json) and "point" (on the first of them) are optional. creni-node writes them into the series'
    Structured Report with references to every instance.
  * Exit status 0 means success. Anything else, a timeout, or a missing or invalid RESULT.json fails the series
    job ("external_failed") with the end of its stderr as the reason: write errors to stderr.

What this example reports: "slices: N" (score 1), and "mean intensity" with the mean stored pixel value of the
native (uncompressed) instances as a share of their stored range (score 0..1), placed on the middle slice.
"""
import json
import os
import struct
import sys

LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
UNDEFINED = 0xFFFFFFFF
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
WANTED = {(0x0028, 0x0100), (0x0028, 0x0101), (0x0028, 0x0103), (0x7FE0, 0x0010)}


def skip_undefined(data, offset):
    """Offset after the sequence delimitation item (FFFE,E0DD) that ends an undefined-length value."""
    depth = 0
    while offset + 8 <= len(data):
        group, element, length = struct.unpack_from("<HHI", data, offset)
        offset += 8
        if group == 0xFFFE and element == 0xE0DD:
            if depth == 0:
                return offset
            depth -= 1
        elif group == 0xFFFE and element == 0xE000:
            continue  # an item's elements follow
        elif group == 0xFFFE and element == 0xE00D:
            continue
        elif length == UNDEFINED:
            depth += 1
        else:
            offset += length
    raise ValueError("unterminated sequence")


def elements(data, offset, explicit):
    """Top-level (group, element, value offset, length) of a little endian data set."""
    while offset + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, offset)
        if explicit and group != 0xFFFE:
            vr = bytes(data[offset + 4:offset + 6])
            if vr in LONG_VRS:
                (length,) = struct.unpack_from("<I", data, offset + 8)
                value = offset + 12
            else:
                (length,) = struct.unpack_from("<H", data, offset + 6)
                value = offset + 8
        else:
            (length,) = struct.unpack_from("<I", data, offset + 4)
            value = offset + 8
        if length == UNDEFINED:
            if (group, element) == (0x7FE0, 0x0010):
                return  # encapsulated (compressed) pixel data
            offset = skip_undefined(data, value)
            continue
        yield group, element, value, length
        offset = value + length


def meta(data):
    """(transfer syntax UID, offset of the data set) of a Part 10 file."""
    if len(data) < 132 or data[128:132] != b"DICM":
        raise ValueError("not a DICOM Part 10 file")
    syntax, offset = "", 132
    for group, element, value, length in elements(data, 132, True):
        if group != 0x0002:
            break
        if element == 0x0010:
            syntax = data[value:value + length].decode("ascii", "replace").strip(" \0")
        offset = value + length
    return syntax, offset


def mean_share(path):
    """Mean stored value as a share of the stored range, or None for compressed or unusual pixel data."""
    with open(path, "rb") as handle:
        data = handle.read()
    syntax, offset = meta(data)
    if syntax not in (EXPLICIT_LE, IMPLICIT_LE):
        return None
    found = {}
    for group, element, value, length in elements(data, offset, syntax == EXPLICIT_LE):
        if (group, element) in WANTED:
            found[(group, element)] = (value, length)
    if (0x7FE0, 0x0010) not in found or (0x0028, 0x0100) not in found:
        return None
    number = lambda tag, default: struct.unpack_from("<H", data, found[tag][0])[0] if tag in found else default
    bits = number((0x0028, 0x0100), 0)
    stored = number((0x0028, 0x0101), bits)
    signed = number((0x0028, 0x0103), 0) == 1
    if bits not in (8, 16) or stored < 1:
        return None
    start, length = found[(0x7FE0, 0x0010)]
    width = bits // 8
    count = length // width
    if count == 0:
        return None
    code = {(1, False): "B", (1, True): "b", (2, False): "H", (2, True): "h"}[(width, signed)]
    values = struct.unpack_from("<%d%s" % (count, code), data, start)
    low = -(1 << (stored - 1)) if signed else 0
    high = (1 << (stored - 1)) - 1 if signed else (1 << stored) - 1
    mean = sum(values) / float(count)
    return min(1.0, max(0.0, (mean - low) / float(max(1, high - low))))


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: slice_stats.py INSTANCES_FOLDER SERIES.json RESULT.json\n")
        return 2
    _, series_path, result_path = sys.argv[1:4]
    with open(series_path, encoding="utf-8") as handle:
        series = json.load(handle)
    instances = series["instances"]
    if not instances:
        raise ValueError("no instances")
    shares = [share for share in (mean_share(item["file"]) for item in instances) if share is not None]
    findings = [{"label": "slices: %d" % len(instances), "score": 1.0}]
    if shares:
        middle = instances[len(instances) // 2]
        finding = {"label": "mean intensity", "score": round(sum(shares) / len(shares), 4),
                   "instances": [middle["sop_instance_uid"]]}
        if middle.get("rows") and middle.get("columns"):
            finding["point"] = [middle["columns"] / 2.0, middle["rows"] / 2.0]
        findings.append(finding)
    temporary = result_path + ".part"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"findings": findings}, handle)
    os.replace(temporary, result_path)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # the reason creni-node shows: keep it on stderr, short and clear
        sys.stderr.write("slice_stats: %s\n" % error)
        sys.exit(1)
