"""A creni-node started on temp folders for the Python end-to-end tests (browser, Prometheus): free loopback
ports, a token file, a destination that can be brought up later, stopped by PID whatever happens."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# The benchmarks' DICOM writer and process helpers (standard library only).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from benchlib import free_port, stop_process  # noqa: E402, F401 (free_port: for the tests)

TOKEN = "browser-test-token"


def wait_until(condition, timeout: float, what: str, interval: float = 0.1):
    """Polls `condition` until it returns something truthy (returned) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class NodeFixture:
    """creni-node run with gateway 1 (SCP, calling AE GATEWAY_1, forwarding to "pacs") and gateway 2 (folder)."""

    def __init__(self, node_binary: str):
        self.node_binary = node_binary
        self.root = tempfile.mkdtemp(prefix="creni-py-")
        self.scp_port = free_port()
        self.http_port = free_port()
        self.pacs_port = free_port()  # nothing listens here until start_pacs()
        self.token_file = os.path.join(self.root, "token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        self.config = os.path.join(self.root, "node.toml")
        with open(self.config, "w") as f:
            f.write(f"""[node]
input_dir = "{self.root}/INPUT"
output_dir = "{self.root}/OUTPUT"
state_dir = "{self.root}/state"
workers = 2
min_free_mb = 1
[scp]
bind = "127.0.0.1"
port = {self.scp_port}
[http]
listen = "127.0.0.1:{self.http_port}"
token_file = "{self.token_file}"
[input]
settle_ms = 20
stability_ms = 300
rescan_interval_s = 2
[[gateway]]
id = "1"
calling_ae_titles = ["GATEWAY_1"]
destinations = ["pacs"]
[[gateway]]
id = "2"
calling_ae_titles = ["GATEWAY_2"]
[[destination]]
name = "pacs"
host = "127.0.0.1"
port = {self.pacs_port}
ae_title = "PACS"
""")
        self.log = open(os.path.join(self.root, "node.log"), "w")
        self.node = None
        self.pacs = None

    def start(self):
        self.node = subprocess.Popen([self.node_binary, "run", "--config", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_until(lambda: self.get("/healthz", quiet=True) is not None or self.node.poll() is not None, 20,
                   "the node's /healthz")
        if self.node.poll() is not None:
            raise AssertionError("the node exited at start:\n" + self.log_text())
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def get(self, path: str, quiet: bool = False):
        try:
            with urllib.request.urlopen(self.url(path), timeout=10) as response:
                body = response.read().decode()
                return json.loads(body) if response.headers.get_content_type() == "application/json" else body
        except (urllib.error.URLError, ConnectionError, OSError):
            if quiet:
                return None
            raise

    def count(self, gateway: str, state: str) -> int:
        for row in self.get("/api/status")["counts"]:
            if row["gateway"] == gateway and row["state"] == state:
                return row["count"]
        return 0

    def send_by_scp(self, count: int):
        import dicomgen
        files = dicomgen.make_series(os.path.join(self.root, "staging-scp"), count, 64, 64, run=1, nested=False)
        subprocess.run(["storescu", "-aet", "GATEWAY_1", "-aec", "CRENI", "127.0.0.1", str(self.scp_port), *files],
                       check=True, timeout=60, env=dict(os.environ, TCP_NODELAY="1"), capture_output=True)
        return files

    def drop_into_folder(self, count: int, broken: int = 0):
        import dicomgen
        staging = os.path.join(self.root, "staging-folder")
        files = dicomgen.make_series(staging, count, 64, 64, run=2, nested=False)
        for i in range(broken):
            path = os.path.join(staging, f"broken-{i}.dcm")
            with open(path, "w") as f:
                f.write("this is not a DICOM file")
            files.append(path)
        target = os.path.join(self.root, "INPUT", "gateway_2")
        os.makedirs(target, exist_ok=True)
        for path in files:
            os.rename(path, os.path.join(target, os.path.basename(path)))

    def start_pacs(self):
        """The destination comes up: a storescp that stores whatever it is sent."""
        folder = os.path.join(self.root, "pacs")
        os.makedirs(folder)
        self.pacs = subprocess.Popen(["storescp", "-aet", "PACS", "-od", folder, str(self.pacs_port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.pacs_port)) == 0
        wait_until(listening, 10, "storescp to listen")

    def log_text(self) -> str:
        with open(self.log.name) as f:
            return f.read()

    def stop(self):
        for process in (self.node, self.pacs):
            stop_process(process)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
