"""Retention soak (RELIABILITY bar 7 over months, compressed): images through both doors at a steady rate, with
[retention] set so that the disk would otherwise fill (a size cap on OUTPUT far below what the run writes, short
ages for the archive, quarantine and journal). Every minute: disk use of the node's folders, journal size, RSS and
open descriptors of the node, the load average of the machine and the C-STORE p99 of that minute.

Pass:
- flat: after the first sweep that removed something, no later minute more than 10 % above the first two minutes
  after it, for disk, journal, RSS and descriptors. Descriptors are sampled every second and each minute counts
  its minimum: the node's resting set (journal, logs, listening sockets, inotify, worker pipes). The maximum also
  holds what is in flight at that instant (an association's socket, an input file being read, an image.db opened
  for a batch) and says nothing about growth; a leak raises the minimum, steadily (one descriptor per image is
  +600 a minute at 10 images/s per door, one per sweep +12 a minute), which the slope printed beside it shows.
- zero lost images: every image sent is written, none rejected or refused.
- sweeps do not move ingest: the C-STORE p99 of the images whose request overlapped a sweep (from its start to
  one second after its end, so that a WAL checkpoint or a lock the sweep leaves behind is counted) within 20 % of
  the p99 of the images in the equally long window just before each sweep. Side by side, seconds apart, so that
  the load of other work on the machine, which changes from minute to minute and also makes the sweeps longer,
  weighs on both alike. The p99 before the first removal and
  after it are printed too, with the load averages, but are not the criterion: they compare different minutes.

Run through soak.py: bench/soak.py retention [--images 20000] [--rate 20] [--sample-seconds 60] [--data FILE]
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
SWEEP_SHADOW_S = 1.0  # after a sweep ends, what it left (WAL frames, a lock just released) may still cost ingest


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


def descriptor_kinds(pid):
    """What the node's descriptors point at right now: {"socket": 3, "pipe": 4, "journal": 3, ...}."""
    kinds = {}
    folder = f"/proc/{pid}/fd"
    for name in os.listdir(folder):
        try:
            target = os.readlink(os.path.join(folder, name))
        except OSError:
            continue  # closed while listed: in flight by definition
        if target.startswith(("socket:", "pipe:")):
            kind = target.split(":")[0]
        elif target.startswith("anon_inode:"):
            kind = target[len("anon_inode:"):].strip("[]")
        elif "/state/journal.db" in target:
            kind = "journal"
        elif "image.db" in target:
            kind = "image.db"
        elif "/state/" in target:
            kind = "state"
        elif "/INPUT/" in target or target.endswith("/INPUT"):
            kind = "INPUT"
        elif "/OUTPUT/" in target or target.endswith("/OUTPUT"):
            kind = "OUTPUT"
        elif target.startswith("/dev/"):
            kind = "dev"
        elif target.endswith("node.log"):
            kind = "log"
        else:
            kind = "other"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def journal_bytes(state):
    return sum(os.path.getsize(os.path.join(state, n)) for n in os.listdir(state) if n.startswith("journal.db"))


class Sampler:
    """Every second: the node's RSS, descriptors (with what they point at) and journal size, and the sweep the
    node last published (retention-status.json: its start and the end of its measurement). Every `minute`
    seconds: one row with the disk use of INPUT, OUTPUT and state, the load average, and the minimum and maximum
    of the descriptor count over that minute."""

    def __init__(self, node, root, minute):
        self.pid, self.root, self.minute = node.process.pid, root, minute
        self.rows, self.sweeps = [], {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def second(self):
        with open(f"/proc/{self.pid}/status") as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        kinds = descriptor_kinds(self.pid)
        try:
            with open(os.path.join(self.root, "state", "retention-status.json")) as f:
                published = json.load(f)
            start = published["last_sweep"]["started_ms"] / 1000
            self.sweeps[start] = max(published["areas"]["measured_ms"] / 1000, start)
        except (OSError, ValueError, KeyError):
            pass
        return {"rss": rss, "fds": sum(kinds.values()), "kinds": kinds,
                "journal": journal_bytes(os.path.join(self.root, "state"))}

    def run(self):
        seconds = []
        opened = time.time()
        while not self.stop.wait(1.0):
            seconds.append(self.second())
            if time.time() - opened >= self.minute:
                low = min(seconds, key=lambda s: s["fds"])
                high = max(seconds, key=lambda s: s["fds"])
                self.rows.append({"end": time.time(), "start": opened, "load": os.getloadavg()[0],
                                  "disk": folder_bytes(*(os.path.join(self.root, n) for n in ("INPUT", "OUTPUT", "state"))),
                                  "journal": seconds[-1]["journal"], "rss": seconds[-1]["rss"],
                                  "fds": low["fds"], "fds_max": high["fds"], "kinds_min": low["kinds"],
                                  "kinds_max": high["kinds"]})
                seconds, opened = [], time.time()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


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


def run(images, rate, sample_seconds, data_file=None):
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
            latencies, refused = [], 0
            with Sampler(node, root, sample_seconds) as sampler:
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
                        result = subprocess.run(["storescu", "-lc", log_config, "+II", "--repeat", str(scp_n), "-aet",
                                                 "SOAK", "-aec", "CRENI", "127.0.0.1", str(node.port), template],
                                                env=scp_ingest.NODELAY, stdout=subprocess.PIPE,
                                                stderr=subprocess.STDOUT, text=True)
                        refused += 0 if result.returncode == 0 else scp_n
                        latencies += scp_ingest.timed_latencies_from_log(result.stdout)
                    sent += n
                    time.sleep(max(0.0, 1.0 - (time.monotonic() - step_started)))
                deadline = time.monotonic() + 600
                while node_counters(root).get("images_written", 0) < sent and time.monotonic() < deadline:
                    time.sleep(1)
                seconds = time.monotonic() - started
                time.sleep(2 * sample_seconds)  # two more rows after the last images, with sweeps
            written = node_counters(root).get("images_written", 0)
            status = subprocess.run([benchlib.NODE, "status", "--json", "--config", node.config, "--state-dir",
                                     os.path.join(root, "state")], stdout=subprocess.PIPE, text=True).stdout
            first_sweep = first_removing_sweep(node.log.name)
    if data_file:  # the raw figures, to judge them again another way
        with open(data_file, "w") as f:
            json.dump({"rows": sampler.rows, "sweeps": sorted(sampler.sweeps.items()), "latencies": latencies,
                       "first_sweep": first_sweep, "written": written, "refused": refused}, f)
    return report(images, rate, seconds, cap_mb, sampler, latencies, refused, written, status, first_sweep)


def slope_per_minute(values):
    """Least-squares slope of values taken once a minute."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    return sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / sum((x - mean_x) ** 2 for x in range(n))


def p99_ms(values):
    return benchlib.percentile(values, 0.99) * 1000 if values else float("nan")


def report(images, rate, seconds, cap_mb, sampler, latencies, refused, written, status, first_sweep):
    counts = {}
    try:
        for entry in json.loads(status)["counts"]:
            counts[entry["state"]] = counts.get(entry["state"], 0) + entry["count"]
    except (ValueError, KeyError):
        pass
    rows, windows = sampler.rows, sorted(sampler.sweeps.items())
    print(f"retention soak: {images} images at {rate}/s through both doors in {seconds:.0f} s, would write about "
          f"{images * (ROWS * COLUMNS * 2 + 600) * 3 / 1e6:.0f} MB (input, archive, output) without retention; "
          f"OUTPUT capped at {cap_mb} MB; {len(windows)} sweeps seen")
    durations = sorted((end - start) * 1000 for start, end in windows)
    if durations:
        print(f"  sweep time (start to areas measured): median {benchlib.median(durations):.0f} ms, "
              f"max {durations[-1]:.0f} ms")
    print("  minute  load1  disk MB  journal MB  RSS MB  fds min (max)  C-STORE p99 ms  sweeps")
    for n, row in enumerate(rows, 1):
        minute = [s for when, s in latencies if row["start"] <= when < row["end"]]
        sweeps = sum(1 for start, _ in windows if row["start"] <= start < row["end"])
        print(f"  {n:6d}  {row['load']:5.2f}  {row['disk'] / 1e6:7.1f}  {row['journal'] / 1e6:10.2f}  "
              f"{row['rss'] / 1024:6.1f}  {row['fds']:7d} ({row['fds_max']:3d})  {p99_ms(minute):14.1f}  {sweeps:6d}")
    if rows:
        low = min(rows, key=lambda r: r["fds"])
        high = max(rows, key=lambda r: r["fds_max"])
        print(f"  descriptors at the lowest second: {dict(sorted(low['kinds_min'].items()))}")
        print(f"  descriptors at the highest second: {dict(sorted(high['kinds_max'].items()))}")

    flat = True
    after = [r for r in rows if first_sweep is not None and r["start"] > first_sweep]
    if len(after) >= 3:
        for key in ("disk", "journal", "rss", "fds"):
            base = max(after[0][key], after[1][key])
            peak = max(r[key] for r in after[2:])
            growth = (peak - base) / base * 100 if base else 0
            flat = flat and growth <= 10
            print(f"  {key}: {base} in the first two minutes after the first removal, peak later {peak} "
                  f"({growth:+.1f} %), slope {slope_per_minute([r[key] for r in after]):+.2f} a minute")
    else:
        flat = False
        print("  too few minutes after the first removing sweep to judge flatness (run longer)")

    # Each sweep's window (its start to SWEEP_SHADOW_S after it measured the areas), and beside it the window of
    # the same length just before it: the same minute's load, which moves the sweep's own length too (a starved
    # nice-10 thread sweeps longer exactly when the machine is busiest), so "during" against "all the others"
    # would blame the sweep for the load.
    shadows = [(start, end + SWEEP_SHADOW_S) for start, end in windows]
    neighbours = [(2 * start - stop, start) for start, stop in shadows]

    def overlaps(when, latency):
        return any(when - latency <= stop and when >= start for start, stop in shadows)

    def beside(when, latency):
        return any(when - latency >= start and when <= stop for start, stop in neighbours)

    period = [(when, s) for when, s in latencies if first_sweep is not None and when >= first_sweep]
    during = [s for when, s in period if overlaps(when, s)]
    before_sweeps = [s for when, s in period if not overlaps(when, s) and beside(when, s)]
    apart = [s for when, s in period if not overlaps(when, s)]
    steady = len(during) >= 100 and len(before_sweeps) >= 100 and p99_ms(during) <= p99_ms(before_sweeps) * 1.2
    print(f"  C-STORE p99 after the first removal: {p99_ms(during):.1f} ms for {len(during)} images during a sweep "
          f"(or within {SWEEP_SHADOW_S:.0f} s of its end), {p99_ms(before_sweeps):.1f} ms for the "
          f"{len(before_sweeps)} in the equally long windows just before each sweep (median "
          f"{benchlib.median(during) * 1000 if during else float('nan'):.1f} / "
          f"{benchlib.median(before_sweeps) * 1000 if before_sweeps else float('nan'):.1f} ms); "
          f"{p99_ms(apart):.1f} ms for all {len(apart)} outside sweeps")
    before = [s for when, s in latencies if first_sweep is None or when < first_sweep]
    later = [s for _, s in period]
    print(f"  for reference, other minutes: p99 {p99_ms(before):.1f} ms before the first removal ({len(before)} "
          f"images), {p99_ms(later):.1f} ms after it ({len(later)} images); load average per minute above")
    lost = images - written
    print(f"  written {written} of {images}; refused by the SCP {refused}; journal states {counts}")
    ok = flat and steady and lost == 0 and refused == 0 and counts.get("rejected", 0) == 0
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1
