#!/usr/bin/env python3
"""End-to-end benchmark: N slices in through creni-node's SCP, processed, forwarded to a storescp sink.

Usage: bench/end_to_end.py [--images 300] [--rows 512] [--columns 512] [--latency-images 30] [--no-orthanc]
                          [--latency-interval 0.2] [--share-association none|study] [--ceiling [--rounds N]]

Measured in one run, on 127.0.0.1, every peer with TCP_NODELAY set (Debian's DCMTK leaves Nagle on otherwise):
  floor    plain storescp storing the same images (storescu -> storescp -od): images/s
  node     storescu -> creni-node (SCP, journal, workers, OUTPUT) -> forward -> storescp sink: images/s until the
           last result is at the sink, and, at low load (one image at a time, spaced by --latency-interval), per
           image the latency from the node's record of the arrival to the result at the sink, and to the forward
           recorded done (p50/p95/p99)
  intake   the node's SCP intake alone during that run (its log: first to last C-STORE recorded): images/s
  folder   the same number of files moved into the node's INPUT at once, processed and forwarded to a sink:
           images/s of processing and forwarding without the SCP in front
  orthanc  storescu -> Orthanc with an auto-forward Lua script -> the same sink: images/s
  ceiling  (--ceiling) the node run again with every sync a no-op (bench/sync_free.c preloaded; not durable): no
           durable design reaches more on this machine, so its ratio to Orthanc bounds what the target can be met by;
           and once more with only the SCP's association threads syncing (bench/ack_sync_only.c): the one sync each
           acknowledgement waits for is paid, all of the node's other syncs are free
"""
import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import dicomgen  # noqa: E402

ENV = dict(os.environ, TCP_NODELAY="1")


def sop_of(path: str) -> str:
    """The SOP Instance UID dicomgen wrote: it is the file name."""
    return os.path.basename(path)


class StoreScp:
    def __init__(self, folder: str, port: int, ae: str = "SINK"):
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        self.log = open(folder + ".log", "w")
        self.process = subprocess.Popen(["storescp", "-aet", ae, "-od", folder, str(port)], env=ENV,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        benchlib.wait_for_tcp(port, self.process)

    def files(self):
        return os.listdir(self.folder)

    def stop(self):
        self.process.terminate()
        self.process.wait()
        self.log.close()


def storescu(port: int, files, calling="BENCH", called="ANY"):
    started = time.monotonic()
    subprocess.run(["storescu", "-aet", calling, "-aec", called, "127.0.0.1", str(port), *files], env=ENV, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def wait_for_count(folder: str, expected: int, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(os.listdir(folder)) >= expected:
            return time.monotonic()
        time.sleep(0.002)
    raise RuntimeError(f"only {len(os.listdir(folder))} of {expected} images in {folder} after {timeout} s")


def floor_rate(root, files):
    port = benchlib.free_port()
    sink = StoreScp(os.path.join(root, "floor"), port)
    try:
        seconds = storescu(port, files)
        wait_for_count(sink.folder, len(files), 60)
    finally:
        sink.stop()
    return len(files) / seconds


def node_config(sink_port, share_association):
    return (f"[node]\nworkers = 0\n[scp]\nbind = \"127.0.0.1\"\n[[gateway]]\nid = \"1\"\n"
            f"calling_ae_titles = [\"BENCH\"]\ndestinations = [\"sink\"]\n"
            f"[[destination]]\nname = \"sink\"\nhost = \"127.0.0.1\"\nport = {sink_port}\nae_title = \"SINK\"\n"
            f"share_association = \"{share_association}\"\n")


def log_seconds(line):
    """Seconds since midnight (UTC) of a node log line ("2026-12-03T08:04:56.046Z ...")."""
    clock = line.split("T", 1)[1].split("Z", 1)[0]
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def intake_seconds(log_file, count):
    """From the node's first to its `count`-th C-STORE recorded: how long the SCP intake alone took."""
    with open(log_file) as f:
        received = [log_seconds(line) for line in f if " received from scp " in line][:count]
    return received[-1] - received[0] if len(received) == count else float("nan")


@contextlib.contextmanager
def node_with_sink(root, label, share_association, node_env=None):
    """A node in root/node-<label> forwarding to a storescp sink in root/<label>-sink; both stopped on leaving."""
    sink_port = benchlib.free_port()
    sink = StoreScp(os.path.join(root, label + "-sink"), sink_port)
    run_root = os.path.join(root, "node-" + label)
    os.makedirs(run_root)
    try:
        with benchlib.Node(run_root, node_config(sink_port, share_association), env=node_env) as node:
            yield node, sink
    finally:
        sink.stop()


def node_rate_and_latency(root, files, latency_files, share_association="none", latency_interval=0.2, label="scp",
                          node_env=None):
    with node_with_sink(root, label, share_association, node_env) as (node, sink):
        node.wait_for_port()
        started = time.monotonic()
        storescu(node.port, files, called="CRENI")
        last = wait_for_count(sink.folder, len(files), 300)
        rate = len(files) / (last - started)
        rss_kib = benchlib.peak_rss_kib(node.process.pid)
        latencies = low_load_latencies(node, sink, latency_files, latency_interval)
    intake = intake_seconds(os.path.join(node.root, "node.log"), len(files))
    return rate, latencies, rss_kib, len(files) / intake if intake > 0 else float("nan")


def folder_door_rate(root, folder, count, share_association):
    """Processing and forwarding alone: the same number of files moved into INPUT at once, until all are at the sink."""
    with node_with_sink(root, "folder", share_association) as (node, sink):
        node.wait_started()
        gateway = os.path.join(node.root, "INPUT", "gateway_1")
        os.makedirs(gateway, exist_ok=True)
        started = time.monotonic()
        os.rename(folder, os.path.join(gateway, "burst"))
        last = wait_for_count(sink.folder, count, 300)
    return count / (last - started)


def arrivals_and_forwards(journal_file, sops):
    """{source SOP: (arrival recorded, forward recorded done)} in seconds since the epoch, from the node's journal."""
    db = sqlite3.connect(f"file:{journal_file}?mode=ro", uri=True)
    try:
        found = {}
        for sop in sops:
            row = db.execute("SELECT j.created_at_ms, f.updated_at_ms FROM jobs j JOIN forwards f ON f.job_id = j.id "
                             "WHERE j.sop_instance_uid = ? AND f.state = 'done'", (sop,)).fetchone()
            if row:
                found[sop] = (row[0] / 1000.0, row[1] / 1000.0)
        return found
    finally:
        db.close()


def low_load_latencies(node, sink, latency_files, interval):
    """Images sent one at a time, `interval` s apart; per image (arrival -> at the sink, arrival -> forward done).

    The arrival time is the node's own record of the C-STORE (the journal row written just before its response);
    the sink's file is watched while the sender runs, every millisecond.
    """
    seen = {}
    for path in latency_files:
        expected = os.path.join(sink.folder, "CT." + benchlib.derived_sop(sop_of(path)))
        sender = subprocess.Popen(["storescu", "-aet", "BENCH", "-aec", "CRENI", "127.0.0.1", str(node.port), path],
                                  env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(expected):
            if time.monotonic() > deadline:
                sender.kill()
                raise RuntimeError("result not at the sink: " + expected)
            time.sleep(0.001)
        seen[sop_of(path)] = time.time()
        if sender.wait() != 0:
            raise RuntimeError("storescu failed for " + path)
        time.sleep(interval)
    time.sleep(0.5)  # the last outcome is recorded after the sink's answer
    recorded = arrivals_and_forwards(os.path.join(node.root, "state", "journal.db"), list(seen))
    return [(seen[sop] - arrived, done - arrived) for sop, (arrived, done) in recorded.items()]


def orthanc_rate(root, files):
    sink_port = benchlib.free_port()
    sink = StoreScp(os.path.join(root, "orthanc-sink"), sink_port)
    dicom_port, http_port = benchlib.free_port(), benchlib.free_port()
    folder = os.path.join(root, "orthanc")
    os.makedirs(folder)
    with open(os.path.join(folder, "forward.lua"), "w") as f:
        f.write("function OnStoredInstance(instanceId, tags, metadata)\n"
                "  SendToModality(instanceId, 'sink')\nend\n")
    with open(os.path.join(folder, "orthanc.json"), "w") as f:
        json.dump({"StorageDirectory": os.path.join(folder, "storage"), "IndexDirectory": os.path.join(folder, "index"),
                   "DicomAet": "ORTHANC", "DicomPort": dicom_port, "HttpPort": http_port,
                   "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "DicomCheckCalledAet": False,
                   "Plugins": [], "DicomModalities": {"sink": ["SINK", "127.0.0.1", sink_port]},
                   "LuaScripts": [os.path.join(folder, "forward.lua")]}, f)
    log = open(os.path.join(folder, "orthanc.log"), "w")
    orthanc = subprocess.Popen(["/usr/sbin/Orthanc", os.path.join(folder, "orthanc.json")], env=ENV, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        benchlib.wait_for_tcp(dicom_port, orthanc, timeout=60)
        started = time.monotonic()
        storescu(dicom_port, files, called="ORTHANC")
        last = wait_for_count(sink.folder, len(files), 600)
        return len(files) / (last - started)
    finally:
        orthanc.terminate()
        orthanc.wait()
        log.close()
        sink.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--columns", type=int, default=512)
    parser.add_argument("--latency-images", type=int, default=30)
    parser.add_argument("--no-orthanc", action="store_true")
    parser.add_argument("--share-association", choices=["none", "study"], default="study",
                        help="the node's destination setting (default: study, like Orthanc, which keeps its "
                             "associations open for DicomAssociationCloseDelay, 5 s by default)")
    parser.add_argument("--latency-interval", type=float, default=0.2,
                        help="seconds between two images in the low-load run (default 0.2)")
    parser.add_argument("--ceiling", action="store_true",
                        help="also run the node with every sync a no-op (not durable: the most any design reaches)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="with --ceiling: durable, no-sync and ack-only runs interleaved N times, medians")
    args = parser.parse_args()

    with benchlib.TempRoot("e2e") as root:
        files = dicomgen.make_series(os.path.join(root, "burst"), args.images, args.rows, args.columns, run=1,
                                     nested=False)
        singles = dicomgen.make_series(os.path.join(root, "single"), args.latency_images, args.rows, args.columns,
                                       run=2, nested=False)
        os.sync()  # nothing left to write back from making the data: it would slow whichever run comes first
        floor = floor_rate(root, files)
        node, latencies, rss_kib, intake = node_rate_and_latency(root, files, singles, args.share_association,
                                                                 args.latency_interval)
        dropped = os.path.join(root, "dropped")
        dicomgen.make_series(dropped, args.images, args.rows, args.columns, run=3, nested=False)
        os.sync()
        folder = folder_door_rate(root, dropped, args.images, args.share_association)
        relay = None if args.no_orthanc else orthanc_rate(root, files)
        ceiling = ack_only = None
        if args.ceiling:
            # Interleaved rounds, medians: one run of each moves by a third on a shared machine.
            durable, ceilings, ack_onlys = [node], [], []
            for r in range(args.rounds):
                if r > 0:
                    durable.append(node_rate_and_latency(root, files, [], args.share_association,
                                                         label=f"durable-{r}")[0])
                ceilings.append(node_rate_and_latency(root, files, [], args.share_association, label=f"ceiling-{r}",
                                                      node_env=benchlib.sync_free_env())[0])
                ack_onlys.append(node_rate_and_latency(root, files, [], args.share_association, label=f"ack-only-{r}",
                                                       node_env=benchlib.ack_sync_only_env())[0])
            node, ceiling, ack_only = (benchlib.median(rates) for rates in (durable, ceilings, ack_onlys))

    print(f"end to end, {args.images} slices {args.rows}x{args.columns} 16-bit, one storescu association, "
          f"workers={os.cpu_count()}, share_association={args.share_association}")
    print(f"  plain storescp (floor)        : {floor:8.1f} images/s")
    print(f"  creni-node in -> sink          : {node:8.1f} images/s  ({node / floor:.2f}x the floor)")
    print(f"    of which the SCP intake alone: {intake:8.1f} images/s  (first to last C-STORE recorded)")
    print(f"  creni-node folder door -> sink : {folder:8.1f} images/s  (processing and forwarding without the SCP)")
    if relay is not None:
        print(f"  Orthanc auto-forward -> sink   : {relay:8.1f} images/s  (creni-node = {node / relay:.1f}x Orthanc; "
              f"folder door -> sink = {folder / relay:.1f}x)")
    if ceiling is not None:
        if args.rounds > 1:
            print(f"  with --ceiling, medians of {args.rounds} interleaved rounds (the durable figure above too):")
        for label, rate in (("no syncs (ceiling, not durable)", ceiling), ("only the ack's sync (not durable)", ack_only)):
            versus = f"; {rate / relay:.1f}x Orthanc" if relay else ""
            print(f"  {label:33}: {rate:8.1f} images/s  (in -> sink{versus}; the durable node is {node / rate:.2f}x "
                  f"of it)")
    at_sink = [a for a, _ in latencies]
    done = [d for _, d in latencies]
    print(f"  low load, one image every {args.latency_interval:.2f} s, {len(latencies)} images:")
    print(f"    arrival recorded -> at the sink : p50 {benchlib.median(at_sink) * 1000:.1f} ms, "
          f"p95 {benchlib.percentile(at_sink, 0.95) * 1000:.1f} ms, p99 {benchlib.percentile(at_sink, 0.99) * 1000:.1f} ms")
    print(f"    arrival -> forward recorded done: p50 {benchlib.median(done) * 1000:.1f} ms, "
          f"p95 {benchlib.percentile(done, 0.95) * 1000:.1f} ms, p99 {benchlib.percentile(done, 0.99) * 1000:.1f} ms")
    print(f"  peak RSS (node + workers): {rss_kib / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
