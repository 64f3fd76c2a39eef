#!/usr/bin/env python3
"""CPU budget: how much CPU the node spends per image, thread by thread, and the most any design could reach with
that much work on this machine's cores, beside the floors the targets of issue 19 name. One run, one command.

Usage: bench/cpu_budget.py [--images 400] [--rows 512] [--columns 512]

For the SCP (one TCP_NODELAY storescu sender, processing on) and for a folder-door burst, the node runs twice: as
it is (durable) and with every sync a no-op (bench/sync_free.c preloaded; not durable). Each run reports images/s
and CPU milliseconds per image: the node's threads (from /proc/<pid>/task/*/stat, grouped by thread name), its
worker processes, and for the SCP the sender's own (storescu runs on the same cores and is in the serial chain).

Two bounds are printed against each target of issue 19:
- the measured ceiling: the same work with syncs free. A sync only adds time, so no durable design doing this
  work beats it (one sender: the serial chain of sender, receive and response is all that is left);
- the CPU bound: whatever the design (group commit, segment files, more threads), the cores run at most
  cores x 1000 / (CPU ms per image) images/s. It counts only the node's and the sender's CPU, not the kernel's
  writeback threads or the rest of the machine, so the real bound is lower still.
When a bound is below a target, no change to the syncs reaches it; only less work per image can.
"""
import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import dicomgen  # noqa: E402
import floors  # noqa: E402
import folder_door  # noqa: E402
import scp_ingest  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def thread_ticks(pid):
    """{(pid, thread name, tid): user + system clock ticks} of every thread of `pid`."""
    ticks = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(os.path.join(task, "stat")) as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ticks[(pid, name, os.path.basename(task))] = int(fields[11]) + int(fields[12])
    return ticks


def tree_ticks(pid):
    """thread_ticks of the node and of its children (the worker processes)."""
    ticks = thread_ticks(pid)
    for child in benchlib.children_of(pid):
        ticks.update(thread_ticks(child))
    return ticks


def group_of(node_pid, key):
    pid, name, _ = key
    if pid != node_pid:
        return "workers (processes)"
    for prefix in ("scp-", "pipeline-", "http-"):
        if name.startswith(prefix):
            return prefix + "*"
    return name


def cpu_per_image(node_pid, before, after, images):
    """{thread group: CPU ms per image} between two tree_ticks samples."""
    groups = {}
    for key, ticks in after.items():
        spent = ticks - before.get(key, 0)
        if spent:
            group = group_of(node_pid, key)
            groups[group] = groups.get(group, 0.0) + spent * 1000.0 / TICKS / images
    return groups


def children_cpu_ms():
    times = os.times()
    return (times.children_user + times.children_system) * 1000.0


def scp_run(root, label, files, node_env):
    """(images/s, {group: node CPU ms per image}, sender CPU ms per image) for one storescu sender."""
    folder = os.path.join(root, label)
    os.makedirs(folder)
    config = "[node]\nworkers = 0\n[scp]\nbind = \"127.0.0.1\"\n[[gateway]]\nid = \"1\"\ncalling_ae_titles = [\"BENCH\"]\n"
    with benchlib.Node(folder, config, env=node_env) as node:
        node.wait_started()
        before = tree_ticks(node.process.pid)
        sender_before = children_cpu_ms()
        rate, _ = scp_ingest.send(node.port, files, 1, scp_ingest.NODELAY, "CRENI")
        sender = (children_cpu_ms() - sender_before) / len(files)
        # The work after the last response (processing, catalogue) belongs to these images too.
        folder_door.wait_for_outputs(os.path.join(folder, "OUTPUT", "gateway_1"), len(files), 120, time.monotonic())
        after = tree_ticks(node.process.pid)
        return rate, cpu_per_image(node.process.pid, before, after, len(files)), sender


def folder_run(root, label, prepared, count, node_env):
    """(files/s, {group: node CPU ms per file}) for a burst of `count` files moved into INPUT at once."""
    folder = os.path.join(root, label)
    os.makedirs(folder)
    config = "[node]\nworkers = 0\n[scp]\nenabled = false\n[[gateway]]\nid = \"1\"\n"
    with benchlib.Node(folder, config, env=node_env) as node:
        node.wait_started()
        gateway = os.path.join(folder, "INPUT", "gateway_1")
        os.makedirs(gateway, exist_ok=True)
        before = tree_ticks(node.process.pid)
        started = time.monotonic()
        for study in os.listdir(prepared):
            os.rename(os.path.join(prepared, study), os.path.join(gateway, study))
        _, last = folder_door.wait_for_outputs(os.path.join(folder, "OUTPUT", "gateway_1"), count, 600, started)
        after = tree_ticks(node.process.pid)
        return count / last, cpu_per_image(node.process.pid, before, after, count)


def describe_cpu(groups):
    ordered = sorted(groups.items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {ms:.2f}" for name, ms in ordered if ms >= 0.005)


def verdict(reachable):
    return "not excluded" if reachable else "OUT OF REACH"


def cpu_bound_line(label, cpu_ms, target_rate, target_label, unit="images"):
    """Any design doing this much work per image runs at most CORES x 1000 / cpu_ms images/s."""
    most = CORES * 1000.0 / cpu_ms
    return (f"    CPU bound ({label}, {cpu_ms:.2f} ms each): at most {most:7.1f} {unit}/s on {CORES} cores; "
            f"{target_label} is {target_rate:7.1f}: {verdict(most >= target_rate)}")


def ceiling_line(rate, target_rate, target_label, unit="images"):
    """A sync only adds time: the same work without syncs is as fast as a durable design can go."""
    return (f"    measured ceiling (same work, no syncs): {rate:7.1f} {unit}/s; {target_label} is {target_rate:7.1f}: "
            f"{verdict(rate >= target_rate)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--columns", type=int, default=512)
    args = parser.parse_args()

    with benchlib.TempRoot("cpu") as root:
        scp_ingest.use_log_config(root)
        files = dicomgen.make_series(os.path.join(root, "images"), args.images, args.rows, args.columns, run=1,
                                     nested=False)
        prepared = {label: os.path.join(root, "prepared-" + label) for label in ("durable", "ceiling")}
        for run, folder in enumerate(prepared.values()):
            dicomgen.make_series(folder, args.images, args.rows, args.columns, run=2 + run)
        os.sync()
        # Nothing is removed before the end of the run: on ext4 without a journal a removal slows every later file
        # creation for a minute (floors.measure).
        disk = floors.measure(files, root, rounds=1, keep=True)
        copy_seconds = folder_door.copy_floor(files, os.path.join(root, "copy-floor"))
        os.sync()
        scp = {label: scp_run(root, "scp-" + label, files, env)
               for label, env in (("durable", None), ("ceiling", benchlib.sync_free_env()))}
        folder = {label: folder_run(root, "folder-" + label, prepared[label], args.images, env)
                  for label, env in (("durable", None), ("ceiling", benchlib.sync_free_env()))}

    copy_floor = args.images / copy_seconds
    print(f"CPU budget, {args.images} slices {args.rows}x{args.columns} 16-bit, {CORES} cores, node workers={CORES}")
    print(f"Floors: {floors.describe(disk)}, copy+fsync floor {copy_floor:7.1f} files/s")
    print("SCP, one TCP_NODELAY storescu sender, processing on (CPU ms per image):")
    for label, (rate, groups, sender) in scp.items():
        node_ms = sum(groups.values())
        print(f"  {label:8}: {rate:7.1f} images/s ({rate / disk['one_sync']:.2f}x one-sync floor); node {node_ms:.2f} "
              f"ms ({describe_cpu(groups)}); sender {sender:.2f} ms")
    rate, groups, sender = scp["ceiling"]
    print(ceiling_line(rate, 0.7 * disk["one_sync"], "0.7x one-sync floor (1 sender)"))
    print(cpu_bound_line("node + sender, no syncs", sum(groups.values()) + sender, 0.8 * disk["group"],
                         "0.8x group floor (4 senders)"))
    print("Folder door burst (CPU ms per file):")
    for label, (rate, groups) in folder.items():
        print(f"  {label:8}: {rate:7.1f} files/s ({rate / copy_floor:.2f}x copy+fsync floor); node "
              f"{sum(groups.values()):.2f} ms ({describe_cpu(groups)})")
    rate, groups = folder["ceiling"]
    print(ceiling_line(rate, 0.9 * copy_floor, "0.9x copy+fsync floor", "files"))
    print(cpu_bound_line("node, no syncs", sum(groups.values()), 0.9 * copy_floor, "0.9x copy+fsync floor", "files"))


if __name__ == "__main__":
    main()
