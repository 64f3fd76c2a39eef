#!/usr/bin/env python3
"""Durability floors: how fast this disk makes images durable, measured on the same files and folder as the run
that compares against them (so a loaded machine loads both alike).

- one-sync floor: each image written to a new file, then fdatasync of that file (one sync per image, one new
  file per image). A receiver that acknowledges each image only once it is on stable storage cannot do better
  with one sender, which waits for each response before sending the next image.
- group floor: the same bytes, 16 images appended to one new file, then one fdatasync (one sync per 16 images).
  The best a receiver can do when several images wait for the same sync (group commit).

Usage as a program: bench/floors.py FILE... [--folder DIR] [--rounds 2]; as a module: measure(files, folder).
The folder must be on the file system under test (the node's state folder in the SCP benchmark).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

GROUP = 16


def _read_all(files):
    contents = []
    for path in files:
        with open(path, "rb") as f:
            contents.append(f.read())
    return contents


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def one_sync(contents, folder):
    """images/s: each image into a new file, one fdatasync per image."""
    started = time.monotonic()
    for i, data in enumerate(contents):
        fd = os.open(os.path.join(folder, f"one-{i}"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(fd, data)
            os.fdatasync(fd)
        finally:
            os.close(fd)
    return len(contents) / (time.monotonic() - started)


def group_sync(contents, folder, group=GROUP):
    """images/s: `group` images appended to one new file, one fdatasync per group."""
    started = time.monotonic()
    for first in range(0, len(contents), group):
        fd = os.open(os.path.join(folder, f"group-{first}"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            for data in contents[first:first + group]:
                _write_all(fd, data)
            os.fdatasync(fd)
        finally:
            os.close(fd)
    return len(contents) / (time.monotonic() - started)


def measure(files, folder=None, rounds=2, keep=False):
    """Returns {"one_sync": images/s, "group": images/s}: the best of `rounds` runs of each (a floor is what the
    disk allows; a slow round is load from elsewhere). Files are read into memory first: only writing and syncing
    are timed. Everything written is removed again, unless `keep`: then it stays in a "floors-*" folder in `folder`
    for the caller to remove at the end of its run. On ext4 without a journal (this VM's root file system) a new file
    does not reuse an inode freed in the last 60 s (360 s while its inode table block is not written back) and checks
    each such inode on the way, so runs measured right after a removal pay for it (up to about 1 ms of CPU per new
    file here); a bench that compares runs keeps removals until it is done."""
    contents = _read_all(files)
    scratch = tempfile.mkdtemp(prefix="floors-", dir=folder)
    best = {"one_sync": 0.0, "group": 0.0}
    try:
        for r in range(rounds):
            for name, run in (("one_sync", one_sync), ("group", group_sync)):
                target = os.path.join(scratch, f"{name}-{r}")
                os.makedirs(target)
                best[name] = max(best[name], run(contents, target))
                if not keep:
                    shutil.rmtree(target)
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return best


def describe(floors):
    return (f"one-sync floor {floors['one_sync']:7.1f} images/s, group floor ({GROUP} per sync) "
            f"{floors['group']:7.1f} images/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--folder", default=None, help="where to write (default: the system temp folder)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(describe(measure(args.files, args.folder, args.rounds)))


if __name__ == "__main__":
    sys.exit(main())
