#!/usr/bin/env python3
"""HTTP server overhead on SCP ingest: the same N slices sent by storescu to creni-node with the HTTP server off,
and on with /metrics scraped every second (as Prometheus would, plus /readyz as an orchestrator would), in one run,
alternating rounds so that both see the same machine. Target: at most 3 % slower with HTTP on.

Usage: bench/http_overhead.py [--images 500] [--rounds 3] [--senders 1]

images/s is measured at the sender (first request to last response) with TCP_NODELAY senders; reported per
setting: the median over the rounds, and the median of the per-round ratio on/off (each pair ran back to back,
so it is less exposed to other load on a shared machine). Also the node process's own CPU time per image
(user + system, from /proc; the HTTP server runs in that process, the workers do not), which other load on the
machine barely changes.
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import dicomgen  # noqa: E402
import scp_ingest  # noqa: E402


class Scraper:
    """GETs /metrics and /readyz every `interval` seconds on its own thread; counts scrapes and failures."""

    def __init__(self, port: int, interval: float = 1.0):
        self.port = port
        self.interval = interval
        self.scrapes = 0
        self.failures = 0
        self.bytes = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stopping.is_set():
            for path in ("/metrics", "/readyz"):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                        self.bytes += len(response.read())
                    self.scrapes += 1
                except OSError:
                    self.failures += 1
            self.stopping.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape_cost_ms(node, images: int, scrapes: int = 200) -> float:
    """Node CPU milliseconds per /metrics + /readyz pair, on a node whose journal holds `images` finished jobs:
    measured once processing is over, so that nothing but the scrapes runs in the node process."""
    def written():
        with urllib.request.urlopen(f"http://127.0.0.1:{node.http_port}/api/status", timeout=5) as response:
            return sum(c["count"] for c in json.load(response)["counts"] if c["state"] == "written")
    deadline = time.monotonic() + 300
    while written() < images and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # the last results' catalogue rows and status file
    before = cpu_seconds(node.process.pid)
    for _ in range(scrapes):
        for path in ("/metrics", "/readyz"):
            with urllib.request.urlopen(f"http://127.0.0.1:{node.http_port}{path}", timeout=5) as response:
                response.read()
    return (cpu_seconds(node.process.pid) - before) * 1000 / scrapes


def node_run(root, label, files, senders, http_on, measure_scrape=False):
    """Returns (images/s, node CPU seconds during the send, the scraper or None, scrape cost in ms or None)."""
    folder = os.path.join(root, label)
    os.makedirs(folder)
    http = "" if http_on else "[http]\nenabled = false\n"
    config = f"[node]\nworkers = 0\n[scp]\nbind = \"127.0.0.1\"\n{http}[[gateway]]\nid = \"1\"\n" \
             "calling_ae_titles = [\"BENCH\"]\n"
    with benchlib.Node(folder, config) as node:
        node.wait_started()
        cpu_before = cpu_seconds(node.process.pid)
        if not http_on:
            rate, _ = scp_ingest.send(node.port, files, senders, scp_ingest.NODELAY, "CRENI")
            return rate, cpu_seconds(node.process.pid) - cpu_before, None, None
        with Scraper(node.http_port) as scraper:
            rate, _ = scp_ingest.send(node.port, files, senders, scp_ingest.NODELAY, "CRENI")
        cpu = cpu_seconds(node.process.pid) - cpu_before
        return rate, cpu, scraper, scrape_cost_ms(node, len(files)) if measure_scrape else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--senders", type=int, default=1)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--columns", type=int, default=512)
    args = parser.parse_args()

    off, on, cpu_off, cpu_on, ratios, scrapes, failures, scrape_ms = [], [], [], [], [], 0, 0, None
    with benchlib.TempRoot("http") as root:
        scp_ingest.use_log_config(root)
        files = dicomgen.make_series(os.path.join(root, "images"), args.images, args.rows, args.columns, run=1,
                                     nested=False)
        for round_number in range(args.rounds):
            # Alternate which setting goes first, so that neither always runs on a warmer page cache.
            order = (False, True) if round_number % 2 == 0 else (True, False)
            for http_on in order:
                last_on = http_on and round_number == args.rounds - 1
                rate, cpu, scraper, cost = node_run(root, f"{'on' if http_on else 'off'}-{round_number}", files,
                                                    args.senders, http_on, measure_scrape=last_on)
                scrape_ms = cost if cost is not None else scrape_ms
                if http_on:
                    on.append(rate)
                    cpu_on.append(cpu)
                    scrapes += scraper.scrapes
                    failures += scraper.failures
                else:
                    off.append(rate)
                    cpu_off.append(cpu)
                print(f"round {round_number + 1}: HTTP {'on ' if http_on else 'off'} {rate:7.1f} images/s, "
                      f"node CPU {cpu * 1000 / len(files):5.2f} ms/image", flush=True)
            ratios.append(on[-1] / off[-1])

    median_off, median_on = benchlib.median(off), benchlib.median(on)
    slower = (median_off - median_on) / median_off * 100.0
    paired = (1.0 - benchlib.median(ratios)) * 100.0
    per_image_off = benchlib.median(cpu_off) * 1000 / args.images
    per_image_on = benchlib.median(cpu_on) * 1000 / args.images
    print(f"SCP ingest, {args.images} slices {args.rows}x{args.columns} 16-bit, {args.senders} storescu process(es), "
          f"{args.rounds} round(s), median:")
    print(f"  HTTP off                           : {median_off:7.1f} images/s")
    print(f"  HTTP on, /metrics + /readyz each 1 s: {median_on:7.1f} images/s   ({scrapes} requests, {failures} failed)")
    print(f"  HTTP on is {slower:+.1f} % slower by the medians, {paired:+.1f} % by the median paired ratio "
          f"(target: at most 3 %)")
    print(f"  node process CPU per image: {per_image_off:.2f} ms off, {per_image_on:.2f} ms on "
          f"({(per_image_on - per_image_off) / per_image_off * 100:+.1f} %)")
    if scrape_ms is not None:
        busy_ms_per_s = per_image_off * median_off
        print(f"  one /metrics + /readyz pair costs {scrape_ms:.2f} ms of node CPU ({args.images} jobs in the journal): "
              f"at one per second, {scrape_ms / busy_ms_per_s * 100:.2f} % of the node's CPU while ingesting "
              f"{median_off:.0f} images/s")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
