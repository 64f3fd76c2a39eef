"""Retention soak (RELIABILITY bar 7 over months, compressed): images through both doors at a steady rate, with
[retention] set so that the disk would otherwise fill (a size cap on OUTPUT well below what the run writes, short
ages for the archive, quarantine and journal). Every minute: disk use of the node's folders, journal size, RSS and
open descriptors of the node. Pass: the four are flat (no sample more than 10 % above the first samples after the
first sweep that removed something; descriptors: or at most 4 more), zero lost images (every image sent or dropped is written, none rejected or
refused), and the C-STORE p99 while sweeps run within 20 % of the p99 before any sweep removed anything.

Run through soak.py: bench/soak.py retention [--images 20000] [--rate 20] [--sample-seconds 60]
"""
import calendar
import json
import os
import re
import subprocess
import threading
import time

import benchlib
import dicomgen
import scp_ingest

ROWS = COLUMNS = 128  # about 33 KB per image


def folder_bytes(*folders):
    total = 0
    for folder in folders:
        for base, _, files in os.walk(folder):
            for name in files:
                try:
                    total += os.lstat(os.path.join(base, name)).st_size
                except OSError:
                    pass
    return total


def sample(node, root):
    pid = node.process.pid
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    state = os.path.join(root, "state")
    journal = sum(os.path.getsize(os.path.join(state, n)) for n in os.listdir(state) if n.startswith("journal.db"))
    return {"disk": folder_bytes(*(os.path.join(root, n) for n in ("INPUT", "OUTPUT", "state"))),
            "journal": journal, "rss": rss, "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def first_removing_sweep(log_path):
    """Unix time of the first 'retention sweep: removed N result(s)' line with N > 0 (None before)."""
    with open(log_path) as f:
        for line in f:
            # The node's text log: "2026-12-03T05:46:13.597Z info [retention] retention sweep: removed 3 result(s) ..."
            match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z .*retention sweep: removed (\d+) result", line)
            if match and int(match.group(2)) > 0:
                return calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    return None


def node_counters(root):
    try:
        with open(os.path.join(root, "state", "node-status.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def run(images, rate, sample_seconds):
    cap_mb = 40
    config = f"""[node]
workers = 0
[scp]
bind = "127.0.0.1"
[input]
after_processing = "archive"
[retention]
output_max_bytes = "{cap_mb}MB"
output_max_age = "10m"
archive_max_age = "1m"
quarantine_max_age = "1m"
journal_max_age = "20s"
sweep_interval = "5s"
[[gateway]]
id = "1"
calling_ae_titles = ["SOAK"]
"""
    with benchlib.TempRoot("soak-retention") as scratch:
        log_config = os.path.join(scratch, "storescu-log.cfg")
        with open(log_config, "w") as f:
            f.write(scp_ingest.LOG_CONFIG)
        template = dicomgen.make_series(os.path.join(scratch, "template"), 1, ROWS, COLUMNS, run=7, nested=False)[0]
        pixels = dicomgen.make_pixels(ROWS, COLUMNS, 3)
        root = os.path.join(scratch, "node")
        os.makedirs(root)
        with benchlib.Node(root, config) as node:
            node.wait_started()
            inbox = os.path.join(root, "INPUT", "gateway_1")
            os.makedirs(inbox, exist_ok=True)
            samples, latencies, refused = [], [], [0]
            stop = threading.Event()

            def sampler():
                while not stop.wait(sample_seconds):
                    samples.append((time.time(), sample(node, root)))

            thread = threading.Thread(target=sampler)
            thread.start()
            started = time.monotonic()
            sent = 0
            batch = max(2, rate)  # one second of images per step, half through each door
            while sent < images:
                step_started = time.monotonic()
                n = min(batch, images - sent)
                scp_n = n // 2
                for k in range(n - scp_n):  # folder door: complete files renamed into INPUT
                    number = sent + k + 1
                    study = dicomgen.uid(8, number // 100)
                    path = os.path.join(inbox, f"{number}.dcm")
                    dicomgen.write_slice(path + ".part", study, study + ".2", dicomgen.uid(8, 3, number), number,
                                         pixels, ROWS, COLUMNS)
                    os.rename(path + ".part", path)
                if scp_n:
                    result = subprocess.run(["storescu", "-lc", log_config, "+II", "--repeat", str(scp_n), "-aet", "SOAK",
                                             "-aec", "CRENI", "127.0.0.1", str(node.port), template],
                                            env=scp_ingest.NODELAY, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                            text=True)
                    refused[0] += 0 if result.returncode == 0 else scp_n
                    latencies += [(time.time(), seconds) for seconds in scp_ingest.latencies_from_log(result.stdout)]
                sent += n
                time.sleep(max(0.0, 1.0 - (time.monotonic() - step_started)))
            deadline = time.monotonic() + 600
            while node_counters(root).get("images_written", 0) < sent and time.monotonic() < deadline:
                time.sleep(1)
            seconds = time.monotonic() - started
            time.sleep(sample_seconds)  # one more sample after the last images, with a sweep or more
            stop.set()
            thread.join()
            written = node_counters(root).get("images_written", 0)
            status = subprocess.run([benchlib.NODE, "status", "--json", "--config", node.config, "--state-dir",
                                     os.path.join(root, "state")], stdout=subprocess.PIPE, text=True).stdout
            first_sweep = first_removing_sweep(node.log.name)
    return report(images, rate, seconds, cap_mb, samples, latencies, refused[0], written, status, first_sweep)


def report(images, rate, seconds, cap_mb, samples, latencies, refused, written, status, first_sweep):
    counts = {}
    try:
        for entry in json.loads(status)["counts"]:
            counts[entry["state"]] = counts.get(entry["state"], 0) + entry["count"]
    except (ValueError, KeyError):
        pass
    print(f"retention soak: {images} images at {rate}/s through both doors in {seconds:.0f} s, would write about "
          f"{images * (ROWS * COLUMNS * 2 + 600) * 3 / 1e6:.0f} MB (input, archive, output) without retention; "
          f"OUTPUT capped at {cap_mb} MB")
    print("  minute  disk MB  journal MB  RSS MB  descriptors")
    for n, (_, s) in enumerate(samples, 1):
        print(f"  {n:6d}  {s['disk'] / 1e6:7.1f}  {s['journal'] / 1e6:10.2f}  {s['rss'] / 1024:6.1f}  {s['fds']:11d}")
    flat = True
    after = [s for when, s in samples if first_sweep is not None and when > first_sweep]
    if len(after) >= 3:
        for key in ("disk", "journal", "rss", "fds"):
            base = max(after[0][key], after[1][key])
            peak = max(s[key] for s in after[2:])
            growth = (peak - base) / base * 100 if base else 0
            # Descriptors are a small integer count: an image in flight or an image.db open for a moment adds a few
            # for one sample; growth there means a leak, which a slack of 4 still shows within minutes.
            flat = flat and (growth <= 10 or (key == "fds" and peak - base <= 4))
            print(f"  {key}: {base} after the first sweep, peak later {peak} ({growth:+.1f} %)")
    else:
        flat = False
        print("  too few samples after the first removing sweep to judge flatness (run longer)")
    before = [s for when, s in latencies if first_sweep is None or when < first_sweep]
    during = [s for when, s in latencies if first_sweep is not None and when >= first_sweep]
    p99_before = benchlib.percentile(before, 0.99) * 1000
    p99_during = benchlib.percentile(during, 0.99) * 1000
    steady = during and before and p99_during <= p99_before * 1.2
    print(f"  C-STORE p99 {p99_before:.1f} ms before any removal ({len(before)} images), {p99_during:.1f} ms "
          f"while sweeps remove ({len(during)} images)")
    lost = images - written
    print(f"  written {written} of {images}; refused by the SCP {refused}; journal states {counts}")
    ok = flat and steady and lost == 0 and refused == 0 and counts.get("rejected", 0) == 0
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1
