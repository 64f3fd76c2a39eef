"""Shared pieces of the benchmarks: the node binary, temp folders, a node started on loopback and stopped by PID."""
import glob
import hashlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE = os.environ.get("CRENI_NODE", os.path.join(ROOT, "build", "src", "app", "creni-node"))
SYNC_FREE = os.environ.get("CRENI_BENCH_SYNC_FREE",
                           os.path.join(ROOT, "build", "bench", "libcreni-bench-sync-free.so"))


ACK_SYNC_ONLY = os.environ.get("CRENI_BENCH_ACK_SYNC_ONLY",
                               os.path.join(ROOT, "build", "bench", "libcreni-bench-ack-sync-only.so"))


def preload_env(library: str, base=None) -> dict:
    if not os.path.exists(library):
        raise RuntimeError(f"{library} is missing: build the project first (scripts/build.sh)")
    env = dict(os.environ if base is None else base)
    env["LD_PRELOAD"] = library
    return env


def ack_sync_only_env(base=None) -> dict:
    """The node with only its SCP association threads syncing (bench/ack_sync_only.c): the acknowledgement's own
    sync is paid, every other sync of the node is free. Not durable."""
    return preload_env(ACK_SYNC_ONLY, base)


def sync_free_env(base=None) -> dict:
    """The environment of a --ceiling run: the node (and its workers, which inherit it) with every fsync, fdatasync,
    syncfs and sync a no-op (bench/sync_free.c). Not durable: an upper bound for what durable runs can reach."""
    return preload_env(SYNC_FREE, base)


def derived_sop(original: str) -> str:
    """The SOP Instance UID creni-node gives a result (common/uid.cpp, uid::derive)."""
    digest = hashlib.sha256(f"creni-node/sop/{original}".encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def median(values):
    return statistics.median(values) if values else float("nan")


def children_of(pid: int):
    """The process ids of `pid`'s children, whichever of its threads forked them (the node's workers are forked by
    its pipeline threads, so the main thread's own list is empty)."""
    children = []
    for listing in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(listing) as f:
                children += [int(child) for child in f.read().split()]
        except OSError:
            continue  # the thread ended
    return children


def peak_rss_kib(pid: int) -> int:
    """VmHWM of a process and its children (the node's workers), in KiB."""
    total = 0
    for p in [pid, *children_of(pid)]:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def wait_for_tcp(port: int, process, timeout: float = 20.0):
    """Waits until 127.0.0.1:port accepts connections; raises when `process` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited before listening on {port}")
        time.sleep(0.02)
    raise RuntimeError(f"nothing listening on {port} after {timeout} s")


def stop_process(process, timeout: float = 30.0):
    """SIGTERM to `process` (a Popen), then SIGKILL if it has not ended within `timeout` seconds; reaped."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Node:
    """creni-node `run` on temp folders; stopped with SIGTERM (then SIGKILL) by PID."""

    def __init__(self, root: str, config_text: str = "", port: int = 0, extra_args=(), env=None):
        self.root = root
        self.port = port or free_port()
        self.http_port = free_port()  # the HTTP server is on by default: never the fixed 11180 of parallel runs
        self.config = os.path.join(root, "creni-node.toml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.log = open(os.path.join(root, "node.log"), "w")
        args = [NODE, "run", "--config", self.config, "--input", os.path.join(root, "INPUT"),
                "--output", os.path.join(root, "OUTPUT"), "--state", os.path.join(root, "state"),
                "--port", str(self.port), "--http-listen", f"127.0.0.1:{self.http_port}", *extra_args]
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def wait_for_port(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.process.poll() is not None:
                raise RuntimeError("node exited early; see " + self.log.name)
            time.sleep(0.02)
        raise RuntimeError("node did not listen in time")

    def wait_started(self, timeout=20.0):
        """Waits for the node's "started: input ..." log line (ports open, workers up, folder door watching)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log.name) as f:
                if " started: input " in f.read():
                    return
            if self.process.poll() is not None:
                raise RuntimeError("node exited early; see " + self.log.name)
            time.sleep(0.02)
        raise RuntimeError("node did not start in time")

    def stop(self):
        stop_process(self.process)
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class TempRoot:
    def __init__(self, label):
        self.path = tempfile.mkdtemp(prefix=f"creni-bench-{label}-")

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def count_files(folder: str, suffix: str = ".dcm") -> int:
    n = 0
    for _, _, files in os.walk(folder):
        n += sum(1 for f in files if f.endswith(suffix))
    return n
