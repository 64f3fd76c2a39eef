#!/usr/bin/env python3
"""SCP ingest benchmark: the same N slices sent by 1 and by 4 parallel storescu processes to plain storescp
(writing to disk) and to creni-node (durable acknowledgement) with processing off and on, in one run; senders
with TCP_NODELAY and with DCMTK's default settings (Nagle on).

Usage: bench/scp_ingest.py [--images 500] [--rows 512] [--columns 512] [--default-sender-images 100]
                           [--nodelay-only] [--lean-sender] [--ceiling]

The durability floors (bench/floors.py: write + fdatasync of each image to a new file; 16 images per fdatasync)
are measured on the same files in the same temp folder before and after the sends (the better of the two counts),
and every node figure is also printed as a ratio to them: one sender against the one-sync floor, four senders
against the group floor. --nodelay-only skips the runs with DCMTK's default sender.

images/s is measured at the sender (first request to last response); per-image C-STORE latency (p50/p99) comes
from the timestamped INFO log of one sender process (storescu -lc with a millisecond pattern). "processing off" runs the node with its processing steps
emptied ([processing] steps = []): reception, journal and the worker's decode/derive/write still run, the
describe and burn_in steps do not.

--lean-sender adds, in the same run, one sender that costs next to nothing (build/bench/creni-bench-sender: every
data set read into memory before the association, sent as raw PDVs without parsing or encoding, each C-STORE waiting
for its response like storescu) against plain storescp and the node: storescu's own time per image (loading and
encoding the next file, on the same 2 cores, in the serial chain) drops out, and the receiver's share shows. Its
images/s are the sender's own (first request to last response), so loading the files up front does not count.
The storescu figures stay the main ones.

--ceiling adds, for every sender row, the node with processing on and every sync a no-op (bench/sync_free.c
preloaded; not durable). No durable design can beat that figure on this machine, so its ratio to a floor is the most
a target could be met by, and the distance between it and the durable run is what the syncs cost.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import dicomgen  # noqa: E402
import floors  # noqa: E402

NODELAY = dict(os.environ, TCP_NODELAY="1")
LEAN_SENDER = os.environ.get("CRENI_BENCH_SENDER", os.path.join(benchlib.ROOT, "build", "bench", "creni-bench-sender"))
DEFAULT = {k: v for k, v in os.environ.items() if k != "TCP_NODELAY"}
LOG_CONFIG = """log4cplus.rootLogger = INFO, console
log4cplus.appender.console = log4cplus::ConsoleAppender
log4cplus.appender.console.layout = log4cplus::PatternLayout
log4cplus.appender.console.layout.ConversionPattern = %D{%Y-%m-%d %H:%M:%S.%q} %m%n
"""
log_config_path = None  # written by use_log_config()


def use_log_config(folder):
    """Writes storescu's log configuration (INFO with millisecond stamps, for the latencies) into `folder` and makes
    send() use it."""
    global log_config_path
    log_config_path = os.path.join(folder, "storescu-log.cfg")
    with open(log_config_path, "w") as f:
        f.write(LOG_CONFIG)


def send(port, files, senders, env, called):
    """Sends `files` split over `senders` storescu processes (or lean senders when `senders` is "lean": one);
    returns (images/s, latencies of sender 0)."""
    if senders == "lean":
        return send_lean(port, files, called)
    chunks = [files[i::senders] for i in range(senders)]
    started = time.monotonic()
    processes = []
    for i, chunk in enumerate(chunks):
        args = ["storescu", "-aet", "BENCH", "-aec", called, "127.0.0.1", str(port), *chunk]
        if i == 0:
            args[1:1] = ["-lc", log_config_path]
        processes.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE if i == 0 else subprocess.DEVNULL,
                                          stderr=subprocess.STDOUT, text=True))
    first_output, _ = processes[0].communicate()
    for process in processes[1:]:
        process.wait()
    elapsed = time.monotonic() - started
    return len(files) / elapsed, latencies_from_log(first_output)


def send_lean(port, files, called):
    """One creni-bench-sender: (images/s from its first request to its last response, latencies in seconds)."""
    done = subprocess.run([LEAN_SENDER, str(port), "BENCH", called, *files], env=NODELAY, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    lines = done.stdout.splitlines()
    figures = dict(item.split("=") for item in lines[0].split() if "=" in item) if lines else {}
    if done.returncode != 0 or "seconds" not in figures or len(lines) < 2:
        raise RuntimeError(f"lean sender failed: {done.stdout.strip()}")
    return int(figures["images"]) / float(figures["seconds"]), [float(ms) / 1000 for ms in lines[1].split()[1:]]


def timed_latencies_from_log(text):
    """(unix time of the response, seconds) between each 'Sending Store Request' and the next 'Received Store
    Response' in storescu's INFO log (local time stamps; DEBUG would dump every command and slow the sender)."""
    stamp = re.compile(r"^(?:[DI]: )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)")
    sent_at = None
    latencies = []
    for line in text.splitlines():
        match = stamp.match(line)
        when = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f") if match else None
        if "Sending Store Request" in line and when:
            sent_at = when
        elif "Received Store Response" in line and when and sent_at:
            latencies.append((when.timestamp(), (when - sent_at).total_seconds()))
            sent_at = None
    return latencies


def latencies_from_log(text):
    """Seconds of each C-STORE in storescu's INFO log."""
    return [seconds for _, seconds in timed_latencies_from_log(text)]


def storescp_run(root, label, files, senders, env):
    folder = os.path.join(root, label)
    os.makedirs(folder)
    port = benchlib.free_port()
    log = open(folder + ".log", "w")
    process = subprocess.Popen(["storescp", "-od", folder, str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        benchlib.wait_for_tcp(port, process)
        return send(port, files, senders, env, "ANY")
    finally:
        process.terminate()
        process.wait()
        log.close()


def node_run(root, label, files, senders, env, processing_on, node_env=None):
    folder = os.path.join(root, label)
    os.makedirs(folder)
    steps = "" if processing_on else "[processing]\nsteps = []\n"
    config = f"[node]\nworkers = 0\n[scp]\nbind = \"127.0.0.1\"\n{steps}[[gateway]]\nid = \"1\"\n" \
             "calling_ae_titles = [\"BENCH\"]\n"
    with benchlib.Node(folder, config, env=node_env) as node:
        node.wait_for_port()
        return send(node.port, files, senders, env, "CRENI")


def describe(latencies):
    if not latencies:
        return "latency n/a (no timestamps in the sender log)"
    return (f"p50 {benchlib.median(latencies) * 1000:6.1f} ms  p99 {benchlib.percentile(latencies, 0.99) * 1000:6.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--columns", type=int, default=512)
    parser.add_argument("--default-sender-images", type=int, default=100,
                        help="images for the runs with DCMTK's default sender (slow on plain storescp)")
    parser.add_argument("--nodelay-only", action="store_true", help="skip the runs with DCMTK's default sender")
    parser.add_argument("--lean-sender", action="store_true",
                        help="also send with build/bench/creni-bench-sender (data sets preloaded, sent raw)")
    parser.add_argument("--ceiling", action="store_true",
                        help="also run the node with every sync a no-op (not durable: the most any design reaches)")
    args = parser.parse_args()

    with benchlib.TempRoot("scp") as root:
        use_log_config(root)
        files = dicomgen.make_series(os.path.join(root, "images"), args.images, args.rows, args.columns, run=1,
                                     nested=False)
        few = files[:args.default_sender_images]
        # Kept until the temp root goes: removing them would slow every run after (floors.measure).
        disk = floors.measure(files, root, rounds=1, keep=True)
        rows = []
        runs = [("TCP_NODELAY sender", NODELAY, files, (1, 4))]
        if args.lean_sender:
            runs.append(("lean sender (preloaded, raw PDVs)", NODELAY, files, ("lean",)))
        if not args.nodelay_only:
            runs.append(("default sender", DEFAULT, few, (1, 4)))
        for sender_label, env, subset, sender_counts in runs:
            for senders in sender_counts:
                floor, floor_latency = storescp_run(root, f"scp-{len(rows)}", subset, senders, env)
                off, off_latency = node_run(root, f"off-{len(rows)}", subset, senders, env, False)
                on, on_latency = node_run(root, f"on-{len(rows)}", subset, senders, env, True)
                ceiling = node_run(root, f"ceiling-{len(rows)}", subset, senders, env, True,
                                   benchlib.sync_free_env()) if args.ceiling else None
                rows.append((sender_label, senders, len(subset), floor, floor_latency, off, off_latency, on,
                             on_latency, ceiling))
        after = floors.measure(files, root, rounds=1, keep=True)
        disk = {name: max(disk[name], after[name]) for name in disk}

    print(f"SCP ingest, slices {args.rows}x{args.columns} 16-bit, node workers={os.cpu_count()}")
    print(f"Durability floors (same files, same folder): {floors.describe(disk)}")
    for sender_label, senders, count, floor, fl, off, ol, on, onl, ceiling in rows:
        processes = "1 process" if senders == "lean" else f"{senders} storescu process(es)"
        print(f"{sender_label}, {processes}, {count} images:")
        print(f"  plain storescp          : {floor:7.1f} images/s   {describe(fl)}")
        runs = [("processing off ", off, ol), ("processing on  ", on, onl)]
        if ceiling:
            runs.append(("no-sync ceiling", *ceiling))  # processing on; not durable (see --ceiling)
        for label, rate, latency in runs:
            print(f"  creni-node, {label}: {rate:7.1f} images/s ({rate / floor:5.2f}x storescp, "
                  f"{against_floors(rate, senders, disk)})   {describe(latency)}")


def against_floors(rate, senders, disk):
    """The ratio the targets name: one sender against the one-sync floor, several against the group floor."""
    if senders in (1, "lean"):
        return f"{rate / disk['one_sync']:4.2f}x one-sync floor"
    return f"{rate / disk['group']:4.2f}x group floor, {rate / disk['one_sync']:4.2f}x one-sync floor"


if __name__ == "__main__":
    main()
