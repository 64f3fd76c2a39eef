#!/usr/bin/env python3
"""Folder-door benchmark: N generated slices moved into INPUT/gateway_1/ at once, time to the last output.

Usage: bench/folder_door.py [--files 500] [--rows 512] [--columns 512] [--latency-files 20] [--infer MODEL]
                            [--rounds 1] [--ceiling]
Reports files/s, first-output latency, peak RSS (node + workers), per-file latency at low load (one file at a
time, renamed in, until its result is under its final name), and, measured in the same run, the physical floor:
copying the same files with an fsync each (no folder fsync: on ext4 a new file's fsync also makes its name
durable). The floor is measured right before and right after the node's burst and the node is compared with the
mean of the two rates, so that load drifting on a shared machine during the run cancels out; both are printed, and
so is the ratio to the faster one.
With --rounds N (N > 1) the floor-node-floor measurement runs N times on fresh slices, each round's ratio is
printed, and the summary is the median ratio with its range: on a shared machine one round's ratio moves by
+-30 %, the median of five moves much less. Each round then starts 61 s after the last deletion, since on ext4
without a journal a file creation checks every inode freed in the last 60 s (RECENTCY_MIN in the kernel's
fs/ext4/ialloc.c; 360 s while the inode table block is not written back, which the flusher does within about 35 s);
the floor ran 2x slower right after a round's clean-up.
With --infer MODEL (an ONNX classifier with a 1x1x256x256 input, e.g. cnn256.onnx from
`/usr/bin/python3 tests/process/make_test_models.py DIR --bench`), the burst also runs a second time with the AI
step on, so that files/s with and without inference come from the same run.
With --ceiling the burst runs once more on fresh slices with every sync in the node a no-op (bench/sync_free.c
preloaded; not durable): no durable design reaches more on this machine, so its ratio to the floor bounds what the
burst target can be met by, and the distance to the durable burst is what the syncs cost.
"""
import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import dicomgen  # noqa: E402


def copy_floor(source_files, target):
    os.makedirs(target)
    started = time.monotonic()
    for i, path in enumerate(source_files):
        destination = os.path.join(target, str(i))
        shutil.copyfile(path, destination)
        fd = os.open(destination, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return time.monotonic() - started


def wait_for_result(folder, name, timeout):
    """Waits until a result named `name` lies in `folder` or one of its study folders; returns when it was seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sub in [""] + os.listdir(folder):
            if os.path.exists(os.path.join(folder, sub, name)):
                return time.monotonic()
        time.sleep(0.001)
    raise RuntimeError(f"no result {name} in {folder} after {timeout} s")


def wait_for_outputs(folder, expected, timeout, started):
    first = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = benchlib.count_files(folder)
        if n > 0 and first is None:
            first = time.monotonic() - started
        if n >= expected:
            return first, time.monotonic() - started
        time.sleep(0.005)
    raise RuntimeError(f"only {benchlib.count_files(folder)} of {expected} outputs after {timeout} s")


def burst(root, label, files_root, count, config, latency_files=0, rows=512, columns=512, node_env=None):
    """Moves the prepared studies into a fresh node's INPUT at once; returns (files/s, first, latencies, rss)."""
    run_root = os.path.join(root, label)
    os.makedirs(run_root)
    with benchlib.Node(run_root, config, env=node_env) as node:
        node.wait_started()
        output = os.path.join(run_root, "OUTPUT", "gateway_1")
        gateway = os.path.join(run_root, "INPUT", "gateway_1")
        os.makedirs(gateway, exist_ok=True)
        started = time.monotonic()
        for study in os.listdir(files_root):
            os.rename(os.path.join(files_root, study), os.path.join(gateway, study))
        first, last = wait_for_outputs(output, count, 600, started)
        rss_kib = benchlib.peak_rss_kib(node.process.pid)

        latencies = []
        if latency_files:
            single = os.path.join(run_root, "single")
            singles = dicomgen.make_series(single, latency_files, rows, columns, run=2, nested=False)
            os.sync()
            os.makedirs(os.path.join(gateway, "low-load"), exist_ok=True)
            for path in singles:
                result = benchlib.derived_sop(os.path.basename(path)) + ".dcm"
                t0 = time.monotonic()
                os.rename(path, os.path.join(gateway, "low-load", os.path.basename(path)))
                latencies.append(wait_for_result(output, result, 30) - t0)
                time.sleep(0.05)
    return count / last, first, latencies, rss_kib


def one_round(root, label, prepared, files, config, args, latency_files):
    """Floor, the node's burst of `prepared`, floor again: (files/s, first, latencies, rss, (floor rates))."""
    if args.rounds > 1:
        # On ext4 without a journal every file creation checks the inodes freed in the last 60 s, so right after a
        # round's (or an earlier run's) files were deleted the floor runs up to 2x slower: every round starts with
        # nothing freed in that window.
        time.sleep(61)
    floor_before = copy_floor(files, os.path.join(root, label + "-floor-before"))
    os.sync()
    rate, first, latencies, rss_kib = burst(root, label, prepared, len(files), config, latency_files, args.rows,
                                            args.columns)
    os.sync()
    floor_after = copy_floor([os.path.join(root, label + "-floor-before", str(i)) for i in range(len(files))],
                             os.path.join(root, label + "-floor-after"))
    for leftover in (label + "-floor-before", label + "-floor-after", label):
        shutil.rmtree(os.path.join(root, leftover), ignore_errors=True)  # rounds must not fill the disk
    os.sync()
    return rate, first, latencies, rss_kib, (len(files) / floor_before, len(files) / floor_after)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--columns", type=int, default=512)
    parser.add_argument("--latency-files", type=int, default=20)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--infer", metavar="MODEL", help="also run the burst with the AI step on this model")
    parser.add_argument("--rounds", type=int, default=1, help="repeat floor, burst, floor; report the median ratio")
    parser.add_argument("--ceiling", action="store_true",
                        help="also burst with every sync in the node a no-op (not durable: the most any design reaches)")
    args = parser.parse_args()

    config = f"[node]\nworkers = {args.workers}\n[scp]\nenabled = false\n[[gateway]]\nid = \"1\"\n"
    with benchlib.TempRoot("folder") as root:
        prepared = os.path.join(root, "prepared")
        files = dicomgen.make_series(prepared, args.files, args.rows, args.columns, run=1)
        # Every measurement starts with nothing left to write back: on ext4 (data=ordered) a journal commit also
        # flushes the data of freshly allocated files, so the generated slices' write-back would otherwise land
        # on whichever measurement runs first (3x slower floors measured that way).
        os.sync()
        rate, first, latencies, rss_kib, floor_rates = one_round(root, "plain", prepared, files, config, args,
                                                                 args.latency_files)
        round_ratios = [rate / (sum(floor_rates) / 2)]
        for n in range(2, args.rounds + 1):
            prepared_n = os.path.join(root, f"prepared-{n}")
            files_n = dicomgen.make_series(prepared_n, args.files, args.rows, args.columns, run=10 + n)
            os.sync()
            rate_n, _, _, _, floors_n = one_round(root, f"round-{n}", prepared_n, files_n, config, args, 0)
            round_ratios.append(rate_n / (sum(floors_n) / 2))
            print(f"  round {n}: node {rate_n:.1f} files/s, floor {sum(floors_n) / 2:.1f}, ratio {round_ratios[-1]:.2f}",
                  flush=True)
        infer_rate = None
        if args.infer:
            prepared = os.path.join(root, "prepared-again")
            dicomgen.make_series(prepared, args.files, args.rows, args.columns, run=3)
            infer_config = config.replace("[[gateway]]", (
                "[processing]\nsteps = [\"describe\", \"infer\", \"burn_in\"]\n"
                f"[inference]\nmodel = \"{os.path.abspath(args.infer)}\"\ninput_size = [256, 256]\n"
                "labels = [\"finding\"]\nalgorithm_name = \"bench-cnn\"\n[[gateway]]"))
            infer_rate, _, _, _ = burst(root, "infer", prepared, args.files, infer_config)
        ceiling_rate = None
        if args.ceiling:
            prepared = os.path.join(root, "prepared-ceiling")
            dicomgen.make_series(prepared, args.files, args.rows, args.columns, run=4)
            os.sync()
            ceiling_rate, _, _, _ = burst(root, "ceiling", prepared, args.files, config,
                                          node_env=benchlib.sync_free_env())

    floor_rate = sum(floor_rates) / 2
    print(f"folder door, {args.files} slices {args.rows}x{args.columns} 16-bit, workers={args.workers or os.cpu_count()}")
    print(f"  creni-node      : {rate:8.1f} files/s  (first output after {first * 1000:.0f} ms)")
    print(f"  copy+fsync floor: {floor_rate:8.1f} files/s  (before the node {floor_rates[0]:.1f}, "
          f"after {floor_rates[1]:.1f}: their mean counts)")
    print(f"  ratio node/floor: {rate / floor_rate:8.2f}  (to the faster floor: {rate / max(floor_rates):.2f})")
    if len(round_ratios) > 1:
        print(f"  over {len(round_ratios)} rounds: median ratio {benchlib.median(round_ratios):.2f} "
              f"(range {min(round_ratios):.2f}-{max(round_ratios):.2f})")
    if latencies:
        print(f"  low-load latency: p50 {benchlib.median(latencies) * 1000:.1f} ms, "
              f"p95 {benchlib.percentile(latencies, 0.95) * 1000:.1f} ms over {len(latencies)} files")
    print(f"  peak RSS (node + workers): {rss_kib / 1024:.1f} MiB")
    if ceiling_rate is not None:
        print(f"  no syncs (ceiling, not durable): {ceiling_rate:8.1f} files/s  ({ceiling_rate / floor_rate:.2f}x the "
              f"floor; the durable burst is {rate / ceiling_rate:.2f}x of it)")
    if infer_rate is not None:
        print(f"  with the AI step ({os.path.basename(args.infer)}): {infer_rate:8.1f} files/s "
              f"({infer_rate / rate:.2f}x without)")


if __name__ == "__main__":
    main()
