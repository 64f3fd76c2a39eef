#!/usr/bin/python3
"""Example creni-node external module (Python standard library only).

creni-node runs it once per image, never through a shell, as

    /usr/bin/python3 invert_text.py INPUT.dcm OUTPUT.dcm SETTINGS.json

in a private temporary folder (its working directory, removed afterwards), with a clean environment (PATH, HOME,
TMPDIR, LANG), stdin and stdout on /dev/null, and the time and memory limits of [inference.external].

The contract:
  * INPUT.dcm is a DICOM Part 10 file in Explicit VR Little Endian with explicit lengths and native (uncompressed)
    pixel data, written by creni-node for this run.
  * SETTINGS.json holds {"contract": 1, "input": ..., "output": ..., "result": ..., "marker": "ScreenedByAI",
    "parameters": {...}} -- the parameters are the strings of [inference.external].parameters.
  * The module writes OUTPUT.dcm: valid DICOM of the same SOP instance (same SOP Class and SOP Instance UID; creni-node
    derives the new UIDs itself afterwards). It may write RESULT (settings["result"], in the working directory):
    {"findings": [{"label": "nodule", "score": 0.93}]} -- labels 1-64 printable ASCII characters, scores 0..1.
  * Exit status 0 means success. Anything else, a timeout, or an invalid OUTPUT.dcm rejects the job
    ("external_failed") with the end of what the module wrote to stderr as the reason: write errors to stderr.

What this example does: it measures the share of pixels brighter than the middle of the stored range and reports it
as the finding "example"; with the parameter invert = "yes" it also inverts the pixel values of a MONOCHROME image
(stored value -> maximum - value). Everything else is copied unchanged.
"""
import json
import struct
import sys

# VRs whose explicit-VR header has 2 reserved bytes and a 4-byte length (PS3.5 section 7.1.2).
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
UNDEFINED = 0xFFFFFFFF


def elements(data, offset):
    """Top-level elements of an Explicit VR Little Endian dataset: (group, element, vr, value_offset, length)."""
    while offset + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, offset)
        vr = bytes(data[offset + 4:offset + 6])
        if vr in LONG_VRS:
            (length,) = struct.unpack_from("<I", data, offset + 8)
            value = offset + 12
        else:
            (length,) = struct.unpack_from("<H", data, offset + 6)
            value = offset + 8
        if length == UNDEFINED:
            raise ValueError("undefined length at (%04X,%04X): not the input creni-node writes" % (group, element))
        if value + length > len(data):
            raise ValueError("element (%04X,%04X) runs past the end of the file" % (group, element))
        yield group, element, vr, value, length
        offset = value + length


def read_image(data):
    if len(data) < 132 or data[128:132] != b"DICM":
        raise ValueError("not a DICOM Part 10 file")
    found = {}
    for group, element, vr, value, length in elements(data, 132):
        found[(group, element)] = (vr, value, length)
    return found


def uint16(data, found, tag, default=0):
    if tag not in found:
        return default
    _, value, length = found[tag]
    return struct.unpack_from("<H", data, value)[0] if length >= 2 else default


def text(data, found, tag):
    if tag not in found:
        return ""
    _, value, length = found[tag]
    return data[value:value + length].decode("ascii", "replace").strip(" \0")


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: invert_text.py INPUT OUTPUT SETTINGS\n")
        return 2
    source, target, settings_path = sys.argv[1:4]
    with open(settings_path, encoding="utf-8") as handle:
        settings = json.load(handle)
    parameters = settings.get("parameters", {})

    with open(source, "rb") as handle:
        data = bytearray(handle.read())
    found = read_image(data)
    rows = uint16(data, found, (0x0028, 0x0010))
    columns = uint16(data, found, (0x0028, 0x0011))
    bits_allocated = uint16(data, found, (0x0028, 0x0100))
    bits_stored = uint16(data, found, (0x0028, 0x0101), bits_allocated)
    signed = uint16(data, found, (0x0028, 0x0103)) == 1
    photometric = text(data, found, (0x0028, 0x0004))
    if (0x7FE0, 0x0010) not in found or bits_allocated not in (8, 16) or rows * columns == 0:
        raise ValueError("no native 8- or 16-bit pixel data")
    _, start, length = found[(0x7FE0, 0x0010)]
    width = bits_allocated // 8
    count = length // width
    code = {(1, False): "B", (1, True): "b", (2, False): "H", (2, True): "h"}[(width, signed)]
    values = list(struct.unpack_from("<%d%s" % (count, code), data, start))

    low = -(1 << (bits_stored - 1)) if signed else 0
    high = (1 << (bits_stored - 1)) - 1 if signed else (1 << bits_stored) - 1
    middle = (low + high) / 2.0
    share = sum(1 for v in values if v > middle) / float(max(1, len(values)))

    if parameters.get("invert", "no") == "yes" and photometric.startswith("MONOCHROME"):
        inverted = [min(high, max(low, high + low - v)) for v in values]
        struct.pack_into("<%d%s" % (count, code), data, start, *inverted)

    with open(target, "wb") as handle:
        handle.write(data)
    with open(settings["result"], "w", encoding="utf-8") as handle:
        json.dump({"findings": [{"label": "example", "score": round(share, 4)}]}, handle)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # the reason creni-node shows: keep it on stderr, short and clear
        sys.stderr.write("invert_text: %s\n" % error)
        sys.exit(1)
