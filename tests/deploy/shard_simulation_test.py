"""Three shards of one site on one host, the way deploy/kubernetes/overlays/three-shards splits six gateways: three
node processes, each with its own config, journal and spool, all watching the same INPUT tree and writing the same
OUTPUT tree. A burst into every gateway's folder (and a C-STORE to every shard) must be processed exactly once,
by the shard that owns the gateway, and by no other.

Usage: shard_simulation_test.py NODE_BINARY REPOSITORY_ROOT
"""
import json
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

NODE = sys.argv.pop(1) if len(sys.argv) > 2 else os.path.join("build", "src", "app", "creni-node")
ROOT = pathlib.Path(sys.argv.pop(1) if len(sys.argv) > 1 else ".").resolve()
sys.path.insert(0, str(ROOT / "bench"))
import dicomgen  # noqa: E402  (the benchmarks' standard-library DICOM writer)

SHARDS = {"a": ["1", "2"], "b": ["3", "4"], "c": ["5", "6"]}
FILES_PER_GATEWAY = 12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shard_config(folder: pathlib.Path, shard: str, port: int, http_port: int) -> str:
    gateways = "".join(f'[[gateway]]\nid = "{g}"\ncalling_ae_titles = ["GATEWAY_{g}"]\n\n' for g in SHARDS[shard])
    return f"""
[node]
input_dir = "{folder / 'INPUT'}"
output_dir = "{folder / 'OUTPUT'}"
state_dir = "{folder / ('state-' + shard)}"
workers = 1
min_free_mb = 1

[scp]
bind = "127.0.0.1"
port = {port}
default_gateway = ""

[http]
listen = "127.0.0.1:{http_port}"

[input]
settle_ms = 20
stability_ms = 200
rescan_interval_s = 2
discover_gateways = false

{gateways}"""


class Shard:
    def __init__(self, folder: pathlib.Path, name: str):
        self.name = name
        self.port = free_port()
        self.config = folder / f"shard-{name}.toml"
        self.config.write_text(shard_config(folder, name, self.port, free_port()))
        self.journal = folder / f"state-{name}" / "journal.db"
        self.log = open(folder / f"shard-{name}.log", "w+")
        self.process = subprocess.Popen([NODE, "run", "--config", str(self.config)], stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def wait_started(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.log.seek(0)
            if "started: input" in self.log.read():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise AssertionError(f"shard {self.name} did not start:\n{self.log.read()}")

    def jobs(self):
        with sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True) as db:
            return db.execute("SELECT gateway_id, sop_instance_uid, state FROM jobs").fetchall()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class ThreeShardsOnOneHost(unittest.TestCase):
    def setUp(self):
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="creni-shards-"))
        (self.folder / "INPUT").mkdir()
        self.shards = []
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)
        self.addCleanup(lambda: [s.stop() for s in self.shards])
        for name in SHARDS:
            self.shards.append(Shard(self.folder, name))
        for shard in self.shards:
            shard.wait_started()

    def burst(self):
        """FILES_PER_GATEWAY slices into every gateway folder, each written under a temporary name and renamed."""
        sent = {}
        pixels = dicomgen.make_pixels(64, 64, 1)
        for shard_gateways in SHARDS.values():
            for gateway in shard_gateways:
                study = dicomgen.uid(int(gateway), 1)
                series = dicomgen.uid(int(gateway), 2)
                folder = self.folder / "INPUT" / f"gateway_{gateway}" / study
                folder.mkdir(parents=True)
                for n in range(FILES_PER_GATEWAY):
                    sop = dicomgen.uid(int(gateway), 3, n + 1)
                    dicomgen.write_slice(str(folder / f".{sop}.part"), study, series, sop, n + 1, pixels, 64, 64)
                    os.rename(folder / f".{sop}.part", folder / sop)
                    sent[sop] = gateway
        return sent

    def test_every_image_is_processed_once_by_the_shard_that_owns_its_gateway(self):
        sent = self.burst()
        # And one C-STORE per gateway to its own shard, plus one to a shard that does not own the gateway.
        network = {}
        for shard in self.shards:
            for gateway in SHARDS[shard.name]:
                sop = dicomgen.uid(int(gateway), 4, 1)
                path = self.folder / f"net-{gateway}.dcm"
                dicomgen.write_slice(str(path), dicomgen.uid(int(gateway), 1), dicomgen.uid(int(gateway), 2), sop,
                                     99, dicomgen.make_pixels(64, 64, 2), 64, 64)
                stored = subprocess.run(["storescu", "-aet", f"GATEWAY_{gateway}", "-aec", "CRENI", "127.0.0.1",
                                         str(shard.port), str(path)], capture_output=True, text=True, timeout=60)
                self.assertEqual(stored.returncode, 0, stored.stderr)
                network[sop] = gateway
        foreign = subprocess.run(["storescu", "-aet", "GATEWAY_1", "-aec", "CRENI", "127.0.0.1",
                                  str(self.shards[1].port), str(self.folder / "net-1.dcm")],
                                 capture_output=True, text=True, timeout=60)
        self.assertNotEqual(foreign.returncode, 0, "shard b took an association of gateway 1")

        expected = {**sent, **network}
        per_shard = {s.name: sum(1 for sop, g in expected.items() if g in SHARDS[s.name]) for s in self.shards}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            written = {s.name: sum(1 for j in s.jobs() if j[2] == "written") for s in self.shards}
            if written == per_shard:
                break
            time.sleep(0.2)
        jobs = {s.name: s.jobs() for s in self.shards}
        self.assertEqual({name: len(rows) for name, rows in jobs.items()}, per_shard, json.dumps(jobs))
        seen = {}
        for name, rows in jobs.items():
            for gateway, sop, state in rows:
                self.assertIn(gateway, SHARDS[name], f"shard {name} took gateway {gateway}'s image")
                self.assertEqual(state, "written", f"shard {name}: {sop} is {state}")
                self.assertNotIn(sop, seen, f"{sop} processed by shards {seen.get(sop)} and {name}")
                seen[sop] = name
        self.assertEqual(set(seen), set(expected))
        # Exactly one result per image, in the folder of the image's gateway.
        outputs = [p for p in (self.folder / "OUTPUT").rglob("*.dcm")]
        self.assertEqual(len(outputs), len(expected))
        for gateway in {g for gs in SHARDS.values() for g in gs}:
            count = sum(1 for p in outputs if f"gateway_{gateway}" in p.relative_to(self.folder / "OUTPUT").parts)
            self.assertEqual(count, sum(1 for g in expected.values() if g == gateway), gateway)


if __name__ == "__main__":
    unittest.main(verbosity=2)
