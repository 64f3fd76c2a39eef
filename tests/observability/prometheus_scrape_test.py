#!/usr/bin/python3
"""A real Prometheus (Debian's `prometheus`) scrapes the running node's /metrics and, through its own query API,
returns the number of images that were sent to the node through both doors.

Usage: prometheus_scrape_test.py --node build/src/app/creni-node
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_fixture import NodeFixture, free_port, stop_process, wait_until  # noqa: E402

SENT_BY_SCP = 4
SENT_BY_FOLDER = 3


class Prometheus:
    """prometheus on a free loopback port with its own temp storage, scraping the node every second."""

    def __init__(self, node_http_port: int):
        self.root = tempfile.mkdtemp(prefix="creni-prometheus-")
        self.port = free_port()
        config = os.path.join(self.root, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: creni-node
    static_configs:
      - targets: ["127.0.0.1:{node_http_port}"]
""")
        self.log = open(os.path.join(self.root, "prometheus.log"), "w")
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.root}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def query(self, expression: str):
        """The instant vector's values for `expression` (a list of floats), or None while Prometheus is not up."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                answer = json.load(response)
        except OSError:
            return None
        if answer.get("status") != "success":
            return None
        return [float(sample["value"][1]) for sample in answer["data"]["result"]]

    def log_text(self) -> str:
        with open(self.log.name) as f:
            return f.read()

    def stop(self):
        stop_process(self.process)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True)
    args = parser.parse_args()

    with NodeFixture(args.node) as node:
        prometheus = Prometheus(node.http_port)
        last = {}
        try:
            node.send_by_scp(SENT_BY_SCP)
            node.drop_into_folder(SENT_BY_FOLDER)
            wait_until(lambda: node.count("2", "written") == SENT_BY_FOLDER, 60, "the folder images to be written")

            def scraped(expression, expected):
                values = prometheus.query(expression)
                last[expression] = values
                if prometheus.process.poll() is not None:
                    raise AssertionError("prometheus exited:\n" + prometheus.log_text())
                return values == [expected]

            wait_until(lambda: scraped("sum(creni_arrivals_total)", SENT_BY_SCP + SENT_BY_FOLDER), 60,
                       f"Prometheus to report {SENT_BY_SCP + SENT_BY_FOLDER} arrivals", interval=0.5)
            assert scraped('sum(creni_arrivals_total{door="scp",gateway="1"})', SENT_BY_SCP)
            assert scraped('sum(creni_arrivals_total{door="folder",gateway="2"})', SENT_BY_FOLDER)
            assert scraped('up{job="creni-node"}', 1)
            wait_until(lambda: scraped('creni_jobs{gateway="2",state="written"}', SENT_BY_FOLDER), 30,
                       "Prometheus to report the written jobs of gateway 2", interval=0.5)
        except AssertionError:
            print(prometheus.log_text()[-3000:], file=sys.stderr)
            print(f"last answers: {last}", file=sys.stderr)
            raise
        finally:
            prometheus.stop()
    print("prometheus scrape test passed")


if __name__ == "__main__":
    main()
