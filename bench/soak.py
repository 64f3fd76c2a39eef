#!/usr/bin/env python3
"""Soak runs at the night-time sizes of ../shared/RELIABILITY.md (the CI runs smaller versions of the same checks).

Usage: bench/soak.py associations [--count 10000]        L3: sequential C-ECHO associations
       bench/soak.py parallel [--senders 20] [--images 500]  L1: parallel storescu senders, distinct instances
       bench/soak.py large [--megabytes 1000] [--rate 50mbit]  L4: one large multi-frame instance, throttled link
       bench/soak.py retention [--images 20000] [--rate 20] [--sample-seconds 60] [--data FILE]  months of retention, compressed

associations: every 1,000 associations, samples the node's RSS, thread count and open descriptors; reports the
drift after warm-up (the bar is 5 %) and the associations/s.
parallel: S storescu processes send N distinct small images each at once; reports images/s, and checks that every
acknowledged image has exactly one journal row and one output.
large: one multi-frame instance of about M MB (512x512 16-bit frames) sent with storescu; reports the time to the
acknowledgement and to the output, and the node process's peak RSS, which must stay far below M (the SCP spools,
it never holds a data set in memory). With --rate the whole run happens inside a private network namespace
(unshare -n, so root) whose loopback is throttled with tc tbf; DIMSE timeouts must not fire while data flows.
retention: see retention_soak.py (disk, journal, RSS and descriptors flat under retention; nothing lost).
"""
import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import dicomgen  # noqa: E402
import retention_soak  # noqa: E402


def footprint(pid: int):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "Threads"):
                values[key] = int(rest.split()[0])
    values["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return values


def echo(port: int) -> bool:
    return subprocess.run(["echoscu", "-aet", "SOAK", "-aec", "CRENI", "127.0.0.1", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def associations(count: int):
    config = "[node]\nworkers = 1\n[scp]\nbind = \"127.0.0.1\"\n[[gateway]]\nid = \"1\"\ncalling_ae_titles = [\"SOAK\"]\n"
    with benchlib.TempRoot("soak") as root, benchlib.Node(root, config) as node:
        node.wait_for_port()
        for _ in range(50):  # warm-up
            echo(node.port)
        baseline = footprint(node.process.pid)
        samples, failures = [], 0
        started = time.monotonic()
        for n in range(1, count + 1):
            failures += 0 if echo(node.port) else 1
            if n % 1000 == 0 or n == count:
                samples.append((n, footprint(node.process.pid)))
        seconds = time.monotonic() - started
    print(f"L3: {count} sequential associations, {count / seconds:.0f}/s, {failures} failed")
    print(f"  after warm-up: RSS {baseline['VmRSS']} KiB, threads {baseline['Threads']}, descriptors {baseline['fds']}")
    for n, sample in samples:
        print(f"  after {n:6d}: RSS {sample['VmRSS']} KiB, threads {sample['Threads']}, descriptors {sample['fds']}")
    last = samples[-1][1]
    drift = (last["VmRSS"] - baseline["VmRSS"]) / baseline["VmRSS"] * 100
    print(f"  RSS drift {drift:+.1f} %, threads {last['Threads'] - baseline['Threads']:+d}, "
          f"descriptors {last['fds'] - baseline['fds']:+d}")
    return 0 if failures == 0 and drift <= 5 and last["Threads"] <= baseline["Threads"] else 1


def parallel(senders: int, images: int):
    config = ("[node]\nworkers = 0\n[scp]\nbind = \"127.0.0.1\"\nmax_associations = 64\n"
              "[[gateway]]\nid = \"1\"\ncalling_ae_titles = [\"SOAK\"]\n")
    with benchlib.TempRoot("soak") as root:
        batches = [dicomgen.make_series(os.path.join(root, f"sender-{s}"), images, 64, 64, run=100 + s, nested=False)
                   for s in range(senders)]
        with benchlib.Node(root, config) as node:
            node.wait_for_port()

            def send(files):
                return subprocess.run(["storescu", "-aet", "SOAK", "-aec", "CRENI", "127.0.0.1", str(node.port), *files],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=senders) as pool:
                codes = list(pool.map(send, batches))
            seconds = time.monotonic() - started
            expected = senders * images
            output = os.path.join(root, "OUTPUT", "gateway_1")
            deadline = time.monotonic() + 600
            while benchlib.count_files(output) < expected and time.monotonic() < deadline:
                time.sleep(0.5)
            outputs = benchlib.count_files(output)
    print(f"L1: {senders} senders x {images} images: {expected / seconds:.0f} images/s acknowledged, "
          f"{sum(1 for c in codes if c != 0)} sender(s) failed, {outputs} of {expected} outputs")
    return 0 if outputs == expected and all(c == 0 for c in codes) else 1


def large(megabytes: int, rate: str):
    if rate:
        # Everything again inside a network namespace of its own, with a throttled loopback: nothing else is slowed.
        setup = f"ip link set lo up && tc qdisc add dev lo root tbf rate {rate} burst 256kb latency 50ms"
        command = [sys.executable, os.path.abspath(__file__), "large", "--megabytes", str(megabytes)]
        return subprocess.run(["unshare", "-n", "sh", "-c", setup + ' && exec "$0" "$@"', *command]).returncode
    rows = columns = 512
    frames = max(1, megabytes * 2**20 // (rows * columns * 2))
    config = ("[node]\nworkers = 0\n[scp]\nbind = \"127.0.0.1\"\n"
              "[[gateway]]\nid = \"1\"\ncalling_ae_titles = [\"SOAK\"]\n")
    with benchlib.TempRoot("soak-large") as root:
        path = os.path.join(root, "large.dcm")
        dicomgen.write_slice(path, dicomgen.uid(200, 1), dicomgen.uid(200, 2), dicomgen.uid(200, 3, 1), 1,
                             dicomgen.make_pixels(rows, columns, 0), rows, columns, frames)
        size_mb = os.path.getsize(path) / 2**20
        node_root = os.path.join(root, "node")
        os.makedirs(node_root)
        with benchlib.Node(node_root, config) as node:
            node.wait_started()
            started = time.monotonic()
            sent = subprocess.run(["storescu", "-aet", "SOAK", "-aec", "CRENI", "127.0.0.1", str(node.port), path],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            acknowledged = time.monotonic() - started
            with open(f"/proc/{node.process.pid}/status") as f:
                peak_kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
            output = os.path.join(node_root, "OUTPUT", "gateway_1")
            deadline = time.monotonic() + 600
            while benchlib.count_files(output) == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            produced = time.monotonic() - started
            outputs = benchlib.count_files(output)
    print(f"L4: one {size_mb:.0f} MB instance ({frames} frames): acknowledged "
          f"{'yes' if sent.returncode == 0 else 'NO: ' + sent.stderr.strip()[-200:]} after {acknowledged:.1f} s "
          f"({size_mb / acknowledged:.1f} MB/s), output after {produced:.1f} s ({outputs} file), "
          f"node peak RSS {peak_kib / 1024:.0f} MB")
    return 0 if sent.returncode == 0 and outputs == 1 and peak_kib / 1024 < max(200, size_mb / 10) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    runs = parser.add_subparsers(dest="run", required=True)
    l3 = runs.add_parser("associations")
    l3.add_argument("--count", type=int, default=10000)
    l1 = runs.add_parser("parallel")
    l1.add_argument("--senders", type=int, default=20)
    l1.add_argument("--images", type=int, default=500)
    l4 = runs.add_parser("large")
    l4.add_argument("--megabytes", type=int, default=1000)
    l4.add_argument("--rate", default="", help="tc tbf rate of the loopback, e.g. 50mbit (needs root)")
    retention = runs.add_parser("retention")
    retention.add_argument("--images", type=int, default=20000)
    retention.add_argument("--rate", type=int, default=20, help="images per second, half through each door")
    retention.add_argument("--sample-seconds", type=int, default=60)
    retention.add_argument("--data", help="also write the raw samples, sweeps and latencies to this JSON file")
    args = parser.parse_args()
    if args.run == "retention":
        return retention_soak.run(args.images, args.rate, args.sample_seconds, args.data)
    if args.run == "associations":
        return associations(args.count)
    if args.run == "large":
        return large(args.megabytes, args.rate)
    return parallel(args.senders, args.images)


if __name__ == "__main__":
    sys.exit(main())
