#!/usr/bin/env python3
"""Many workers on two cores: no deadlock, and the same bytes as one worker.

docs/internals/performance.md argues that dcomhunt's output does not depend on the
number of workers (units are delivered in the order they were produced, whatever order
the workers finish them in) and that the pipeline cannot hang (a worker waits only for
a free slot, which only the delivering thread frees, and that thread waits only for the
slot it delivers next). This test holds the binary to both on more workers than cores:

- the process is pinned to at most two CPUs (sched_setaffinity, inherited by the runs),
  so 8, 16 and 32 workers fight for them and finish their units in scrambled order;
- each command runs once with -j1 (the reference, no worker thread at all), then with
  -j8, -j16 and -j32, REPEATS times each, every run under a timeout: a run that does not
  end in time is a deadlock and fails the test, with the command to reproduce it;
- standard output must be byte-identical to -j1's (SHA-256 compared), the exit status the
  same, and standard error too once the timing figures are blanked;
- one -j32 run of the two larger dumps is watched through /proc: it must be seen with
  more than 16 threads, or the workers were not started and the test would prove nothing.

The inputs are chosen for the pipeline's different producers: a folder of EVTX files read
in time order across files (hunt's findings), the same read file by file (dump; hunt
--detections, whose detections are put in time order after the pipeline), JSON lines from
a zip (4.4 MB: five 1 MiB batches, fewer units than workers), and small archives of Zeek
and Defender logs (text readers with a header).
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import threading
import time

THREADS = (8, 16, 32)
# timing figures in the summaries (stats' line, hunt's "time:"), which differ run to run
TIMING = re.compile(rb"[0-9][0-9.,]* (s|records/s|events/s|MB/s)\b")


def pin_two_cpus():
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, set(cpus[:2]))
    return sorted(os.sched_getaffinity(0))


def threads_of(pid):
    """The process's thread count (/proc), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(cmd, timeout, watch=None):
    """(stdout digest, stdout bytes, exit status, stderr with timings blanked, seconds).
    With watch (a list), the most threads the process was seen with is appended to it:
    standard output is read on a helper thread while this one looks at /proc."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if watch is None:
            out, err = p.communicate(timeout=timeout)
        else:
            res = {}
            reader = threading.Thread(target=lambda: res.update(zip(("out", "err"), p.communicate())))
            reader.start()
            most = 0
            while reader.is_alive() and time.monotonic() - t < timeout:
                most = max(most, threads_of(p.pid))
                time.sleep(0.005)
            reader.join(max(0.0, timeout - (time.monotonic() - t)))
            watch.append(most)
            if reader.is_alive():
                raise subprocess.TimeoutExpired(cmd, timeout)
            out, err = res["out"], res["err"]
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None
    return (hashlib.sha256(out).hexdigest(), len(out), p.returncode, TIMING.sub(b"T", err),
            time.monotonic() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--repeats", type=int, default=2, help="runs per thread count (default 2)")
    ap.add_argument("--timeout", type=float, default=60,
                    help="seconds a run may take before it counts as a deadlock (default 60)")
    a = ap.parse_args()

    c = a.corpus
    attack = os.path.join(c, "EVTX-ATTACK-SAMPLES")
    mitre = os.path.join(c, "EVTX-to-MITRE-Attack")
    sd = os.path.join(c, "Security-Datasets", "datasets")
    otrf = os.path.join(sd, "atomic", "windows", "lateral_movement", "host",
                        "covenant_sharpwmi_create_dcerpc_wmi.zip")
    zeek = os.path.join(sd, "compound", "LSASS_campaign_01",
                        "metasploit_logonpasswords_lsass_memory_dump_zeek_logs.zip")
    mde = os.path.join(sd, "compound", "GoldenSAMLADFSMailAccess", "Microsoft365DefenderEvents.Zip")
    for p in (attack, mitre, otrf, zeek, mde):
        if not os.path.exists(p):
            sys.exit(f"many_workers: missing corpus input {p}")
    hunt = ["hunt", "--no-progress", "--jsonl"]
    cases = [
        # name, arguments, watch one -j32 run's threads (long enough runs only)
        ("hunt, EVTX folder in time order", hunt + [attack], False),
        ("dump, EVTX folder file by file", ["dump", attack], True),
        ("hunt --detections, two EVTX folders", hunt + ["--detections", attack, mitre], False),
        ("dump, OTRF JSON lines in a zip", ["dump", otrf], True),
        ("dump, Zeek and Defender archives", ["dump", zeek, mde], False),
    ]

    cpus = pin_two_cpus()
    print(f"pinned to CPUs {cpus}; -j{'/-j'.join(map(str, THREADS))} x {a.repeats} against -j1")
    failures = []
    started = time.monotonic()
    for name, args, watched in cases:
        ref_cmd = [a.dcomhunt] + args[:1] + ["-j1"] + args[1:]
        ref = run(ref_cmd, a.timeout)
        if ref is None:
            failures.append(f"{name}: -j1 did not finish in {a.timeout:.0f} s: {' '.join(ref_cmd)}")
            continue
        if ref[2] >= 2 and ref[2] not in (3, 5):  # 3, 5: some input skipped (the samples' damage)
            failures.append(f"{name}: -j1 exited {ref[2]}: {ref[3].decode(errors='replace')[-400:]}")
            continue
        if ref[1] == 0 and args[0] == "dump":
            failures.append(f"{name}: -j1 printed nothing")
            continue
        slowest = ref[4]
        before = len(failures)
        for n in THREADS:
            for k in range(a.repeats):
                cmd = [a.dcomhunt] + args[:1] + [f"-j{n}"] + args[1:]
                watch = [] if watched and n == THREADS[-1] and k == 0 else None
                got = run(cmd, a.timeout, watch)
                if watch and watch[0] <= n // 2:
                    failures.append(f"{name}: -j{n} was seen with at most {watch[0]} threads: "
                                    "the workers did not run")
                if watch:
                    print(f"  {name}: -j{n} seen with {watch[0]} threads")
                if got is None:
                    failures.append(f"{name}: -j{n} run {k + 1}: no end in {a.timeout:.0f} s "
                                    f"(deadlock?); reproduce: taskset -c {','.join(map(str, cpus))} "
                                    f"{' '.join(cmd)}")
                    continue
                slowest = max(slowest, got[4])
                if got[0] != ref[0] or got[1] != ref[1]:
                    failures.append(f"{name}: -j{n} run {k + 1}: standard output differs from -j1's "
                                    f"({got[1]} bytes against {ref[1]}); reproduce: "
                                    f"{' '.join(cmd)} | cmp - <({' '.join(ref_cmd)})")
                if got[2] != ref[2]:
                    failures.append(f"{name}: -j{n} run {k + 1}: exit {got[2]}, -j1 exit {ref[2]}")
                if got[3] != ref[3]:
                    failures.append(f"{name}: -j{n} run {k + 1}: standard error differs from -j1's "
                                    f"(timings blanked): {got[3][:300]!r} against {ref[3][:300]!r}")
        verdict = "ok" if len(failures) == before else f"{len(failures) - before} failures"
        print(f"{verdict}: {name}: {ref[1]} bytes out, exit {ref[2]}, "
              f"{1 + len(THREADS) * a.repeats} runs, slowest {slowest:.2f} s")
    print(f"{time.monotonic() - started:.1f} s in all")
    if failures:
        print("FAIL:")
        for f in failures:
            print("  " + f)
        return 1
    print("PASS: no deadlock; output, exit status and messages identical to -j1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
