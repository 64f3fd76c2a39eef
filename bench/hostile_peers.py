#!/usr/bin/env python3
"""Hostile-peer benchmark (issue 13): one storescu sender's images/s into a quiet node and into the same node
configuration while 20 idle and 20 trickling connections are open, side by side in one run; the ratio should be
at least 0.8.

Usage: python3 bench/hostile_peers.py [--images 300] [--rows 512] [--columns 512] [--idle 20] [--tricklers 20]

The hostile connections come from 127.0.0.2, the sender from 127.0.0.1. Idle connections connect and send nothing (they wait in the intake for their A-ASSOCIATE-RQ). Trickling ones send
an A-ASSOCIATE-RQ; when admitted they trickle a P-DATA-TF PDU one byte every 0.5 s (holding a worker, up to
max_associations_per_peer of them); when refused they reconnect and trickle the A-ASSOCIATE-RQ itself one byte at
a time. Whatever the node closes is reopened, so the counts hold for the whole run. The sender (TCP_NODELAY=1,
one association for all images) is timed from its start to its exit. The node runs with processing steps off
([processing] steps = []), so the figure is the network door's.
"""
import argparse
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import dicomgen  # noqa: E402

CONFIG = """[scp]
bind = "127.0.0.1"
default_gateway = "1"
[processing]
steps = []
[[gateway]]
id = "1"
calling_ae_titles = ["BENCH"]
"""


def item(kind, body):
    return struct.pack(">BBH", kind, 0, len(body)) + body


def associate_rq(calling, called=b"CRENI"):
    context = bytes([1, 0, 0, 0]) + item(0x30, b"1.2.840.10008.1.1") + item(0x40, b"1.2.840.10008.1.2")
    body = struct.pack(">HH", 1, 0) + called.ljust(16) + calling.ljust(16) + bytes(32)
    body += item(0x10, b"1.2.840.10008.3.1.1.1") + item(0x20, context) + item(0x50, item(0x51, struct.pack(">I", 16384)))
    return struct.pack(">BBI", 1, 0, len(body)) + body


def p_data_header(length):
    return struct.pack(">BBIIBB", 4, 0, length + 6, length + 2, 1, 3)


class Hostiles:
    """Keeps `idle` silent and `tricklers` trickling connections open on one thread until stopped."""

    def __init__(self, port, idle, tricklers):
        self.port, self.idle, self.tricklers = port, idle, tricklers
        self.stop = threading.Event()
        self.reconnects = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def connect(self):
        # From another (loopback) host than the sender's, as hostile peers would be.
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5, source_address=("127.0.0.2", 0))
        s.setblocking(False)
        return s

    def run(self):
        silent = [self.connect() for _ in range(self.idle)]
        # Each trickler: [socket, bytes still to trickle, admitted?]
        trickling = []
        for i in range(self.tricklers):
            trickling.append(self.start_trickler(i))
        next_tick = time.monotonic()
        while not self.stop.is_set():
            readable, _, _ = select.select(silent + [t[0] for t in trickling], [], [], 0.1)
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if s in silent and not data:
                    silent[silent.index(s)] = self.connect()
                    self.reconnects += 1
                for index, t in enumerate(trickling):
                    if t[0] is not s:
                        continue
                    if data and data[0] == 0x02 and not t[2]:
                        t[1], t[2] = p_data_header(60000) + bytes(60000), True
                    elif not data or data[0] in (0x03, 0x07):
                        s.close()
                        trickling[index] = self.start_trickler(index, handshake_only=True)
                        self.reconnects += 1
            if time.monotonic() >= next_tick:
                next_tick += 0.5
                for t in trickling:
                    if t[1]:
                        try:
                            t[0].send(t[1][:1])
                            t[1] = t[1][1:]
                        except OSError:
                            pass
        for s in silent + [t[0] for t in trickling]:
            s.close()

    def start_trickler(self, index, handshake_only=False):
        s = self.connect()
        rq = associate_rq(b"TRICKLER%02d" % index)
        if handshake_only:
            return [s, rq, False]  # the A-ASSOCIATE-RQ itself, a byte at a time
        s.send(rq)
        return [s, b"", False]

    def __enter__(self):
        self.thread.start()
        time.sleep(1.0)  # all connections open and trickling before the sender starts
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def sender_rate(port, files):
    env = dict(os.environ, TCP_NODELAY="1")
    started = time.monotonic()
    result = subprocess.run(["storescu", "-aet", "BENCH", "-aec", "CRENI", "127.0.0.1", str(port), *files], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError("storescu failed: " + result.stderr[-2000:])
    return len(files) / elapsed


def run(root, label, files, idle, tricklers):
    folder = os.path.join(root, label)
    os.makedirs(folder)
    with benchlib.Node(folder, CONFIG) as node:
        node.wait_started()
        if idle or tricklers:
            with Hostiles(node.port, idle, tricklers) as hostiles:
                rate = sender_rate(node.port, files)
                return rate, hostiles.reconnects
        return sender_rate(node.port, files), 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--columns", type=int, default=512)
    parser.add_argument("--idle", type=int, default=20)
    parser.add_argument("--tricklers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="quiet/hostile pairs, interleaved; medians reported")
    args = parser.parse_args()
    quiet_rates, hostile_rates, reconnects = [], [], 0
    with benchlib.TempRoot("hostile") as root:
        files = dicomgen.make_series(os.path.join(root, "images"), args.images, args.rows, args.columns, run=1,
                                     nested=False)
        # Interleaved, so that load from elsewhere on a shared machine hits both sides alike.
        for round_number in range(args.rounds):
            quiet_rates.append(run(root, f"quiet-{round_number}", files, 0, 0)[0])
            rate, again = run(root, f"hostile-{round_number}", files, args.idle, args.tricklers)
            hostile_rates.append(rate)
            reconnects += again
    quiet = benchlib.median(quiet_rates)
    hostile = benchlib.median(hostile_rates)
    print(f"Hostile peers, {args.images} slices {args.rows}x{args.columns} 16-bit, one storescu (TCP_NODELAY), "
          f"median of {args.rounds} interleaved rounds")
    print(f"  quiet node                                : {quiet:7.1f} images/s  "
          f"({', '.join(f'{r:.0f}' for r in quiet_rates)})")
    print(f"  {args.idle} idle + {args.tricklers} trickling connections open : {hostile:7.1f} images/s  "
          f"({', '.join(f'{r:.0f}' for r in hostile_rates)})")
    print(f"  ratio {hostile / quiet:4.2f}x (target >= 0.8); {reconnects} hostile reconnects")


if __name__ == "__main__":
    main()
