#!/usr/bin/env python3
"""`dcomhunt simulate` and `selftest` given hostile scenario files and options.

Scenario files are data users write and share, and options come from scripts: each mistake
must be a clear error naming the file and line (or the option), with bounded memory, and
never a crash, a hang, a wrong file written or a file written outside --out.

- an alias bomb of a large value is refused (values copied out are bounded), in bounded
  memory;
- a value longer than a Windows command line, given or made by ${enc(...)}, is refused with
  its file and line (it was a write error, status 4, once the run had begun);
- a NUL in a value is refused (it cut the value short without a word);
- a for_each value holding its own placeholder is replaced once (it grew until memory
  ran out);
- a loop whose records would take more than 256 MiB is stopped with its line;
- ports, logon types and words such as auth are checked (70000 wrapped to 4464);
- NaN and infinity are refused by --skew (the network sensor's too), --drop, --noise,
  --noise-size (NaN hung the run);
- host names, addresses, domains and accounts are checked: a host named ../x wrote outside
  --out, one named zeek wrote into the network sensor's folder;
- a refused scenario file gives status 3 (partial), from simulate and selftest;
- control characters in values are written as given and read back as given;
- selftest --keep makes its folder when it is new (it said it could not create one).

usage: simulate_hostile.py --dcomhunt PATH [--sanitized]
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading

FAILS = []
SANITIZED = False


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILS.append(what)
    return ok


def cap():
    """A regression must fail the test, not exhaust the machine: 2 GiB of address space
    (not under a sanitizer, which reserves far more)."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run(args, timeout=120):
    """Runs args; returns (status, stdout, stderr, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(args, stdout=out, stderr=err, preexec_fn=None if SANITIZED else cap)
        timer = threading.Timer(timeout, p.kill)  # a hang fails the case (status -9)
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read().decode("utf-8", "replace"), ru.ru_maxrss / 1024


def scenario(name, steps, hosts=None, extra=""):
    hosts = hosts or ("  attacker: {os: windows, role: workstation, side: source, desktop: admin}\n"
                      "  target: {os: windows, role: server, side: target}\n")
    return ("name: %s\ntitle: t\nkind: attack\ndescription: d\nhosts:\n%saccounts:\n"
            "  admin: {admin: true}\nsteps:\n%s%s" % (name, hosts, steps, extra))


PS = "  - process: {host: attacker, as: ps, image: 'C:\\Windows\\p.exe'}\n"


def main():
    global SANITIZED
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--sanitized", action="store_true")
    a = ap.parse_args()
    SANITIZED = a.sanitized
    work = tempfile.mkdtemp(prefix="dh-simulate-hostile-")
    try:
        body(os.path.abspath(a.dcomhunt), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failures" % len(FAILS))
    return 1 if FAILS else 0


def body(dh, work):
    W = lambda *p: os.path.join(work, *p)
    n = [0]

    def sim(files, name, *opts, timeout=120):
        """Writes files into a fresh scenario folder and simulates `name` from it."""
        n[0] += 1
        d = W("s%d" % n[0])
        os.makedirs(d)
        for fname, text in files.items():
            with open(os.path.join(d, fname), "wb") as f:
                f.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        out = W("o%d" % n[0])
        args = [dh, "simulate", "--out", out, "--scenarios", d, "--noise", "0", "-j", "1"]
        if name:
            args += ["--scenario", name]
        rc, _, err, rss = run(args + list(opts), timeout=timeout)
        return rc, err, rss, out

    # --- values copied out are bounded ----------------------------------------------------
    big = "A" * 200000
    bomb = scenario("bomb", PS, extra="junk:\n" + "".join("  - *x\n" for _ in range(400)))
    bomb = bomb.replace("description: d", "description: &x '%s'" % big)
    rc, err, rss, _ = sim({"bomb.yml": bomb}, None, "--list")
    check(rc == 3 and "bomb.yml:" in err and "more than 16 MiB" in err and
          (SANITIZED or rss < 150),
          "an alias bomb of a large value is refused in bounded memory (%d, %.0f MiB): %s"
          % (rc, rss, err.strip()[:120]))

    # --- values longer than a command line ------------------------------------------------
    long_cmd = "C:\\\\x " + "B" * 9000
    rc, err, _, out = sim({"long.yml": scenario("long", PS.replace(
        "p.exe'}", "p.exe', command_line: '%s'}" % long_cmd))}, "long")
    check(rc == 2 and "long.yml: line 11" in err and "longer than 8191" in err
          and not os.path.exists(out),
          "a value longer than a command line is refused with its line (%d): %s"
          % (rc, err.strip()[:120]))
    enc = "${enc(%s)}" % ("x" * 4000)  # 4000 bytes become 10,668 once encoded
    rc, err, _, _ = sim({"enc.yml": scenario("enc", PS.replace(
        "p.exe'}", "p.exe', command_line: '%s'}" % enc))}, "enc")
    check(rc == 2 and "enc.yml: line 11" in err and "longer than 8191" in err,
          "a value made too long by ${enc()} is refused with its line (%d): %s"
          % (rc, err.strip()[:120]))
    rc, err, _, _ = sim({"nul.yml": scenario("nul", PS.replace(
        "p.exe'}", "p.exe', command_line: \"a\\0b\"}"))}, "nul")
    check(rc == 2 and "nul.yml:11: a value holds a NUL" in err,
          "a NUL in a value is refused with its line (%d): %s" % (rc, err.strip()[:120]))

    # --- loops ---------------------------------------------------------------------------
    loop_self = ("  - for_each:\n      var: v\n      in: ['${v}-${v}']\n"
                 "      steps:\n        - process: {host: attacker, image: 'C:\\${v}.exe'}\n")
    rc, err, rss, out = sim({"self.yml": scenario("self", loop_self)}, "self", timeout=60)
    check(rc == 2 and "self.yml: line 15" in err and "unknown placeholder ${v}" in err and
          (SANITIZED or rss < 150),
          "a for_each value holding its own placeholder is replaced once (%d, %.0f MiB): %s"
          % (rc, rss, err.strip()[:120]))
    wide = ("  - for_each:\n      var: a\n      in: [%s]\n      steps:\n"
            "        - process: {host: attacker, image: 'C:\\x.exe', command_line: '%s ${a}'}\n"
            % (",".join(str(i) for i in range(60000)), "Q" * 8000))
    rc, err, rss, _ = sim({"wide.yml": scenario("wide", wide)}, "wide", timeout=300)
    check(rc == 2 and "wide.yml: line 15" in err and "more than 256 MiB" in err and
          (SANITIZED or rss < 700),
          "a loop whose records take more than 256 MiB is stopped (%d, %.0f MiB): %s"
          % (rc, rss, err.strip()[:120]))

    # --- settings that are numbers or words --------------------------------------------------
    for what, step, words in (
            ("port 70000", PS + "  - connect: {from: ps, to: target, port: 70000}\n", "port"),
            ("port -1", PS + "  - connect: {from: ps, to: target, port: -1}\n", "port"),
            ("logon type 99", "  - logon: {host: target, from: attacker, account: admin, type: 99}\n",
             "type"),
            ("auth Kerberos", "  - logon: {host: target, from: attacker, account: admin, "
             "auth: Kerberos}\n", "kerberos, ntlm"),
            ("connect result", PS + "  - connect: {from: ps, to: target, port: 135, result: no}\n",
             "ok, unanswered"),
            ("target_name", PS + "  - dcom: {from: ps, to: target, account: admin, "
             "object: MMC20.Application, target_name: dns}\n", "name, fqdn, ip")):
        rc, err, _, _ = sim({"num.yml": scenario("num", step)}, "num")
        check(rc == 2 and "num.yml: line" in err and words in err,
              "%s is refused with its line (%d): %s" % (what, rc, err.strip()[:120]))

    # --- options --------------------------------------------------------------------------
    mmc = ["--scenario", "mmc20-executeshellcommand", "--noise", "0"]
    for opts, words in ((["--skew", "target=nan"], "skew"), (["--skew", "zeek=abc"], "skew"),
                        (["--skew", "zeek=1e300"], "skew"), (["--drop", "nan"], "--drop"),
                        (["--noise", "nan"], "--noise"), (["--noise-size", "nan"], "--noise-size"),
                        (["--noise-size", "inf"], "--noise-size"),
                        (["--host", "target=../../escaped"], "host name"),
                        (["--host", "target=zeek"], "host name"),
                        (["--host", "target=SRV-ABCDEFGHIJKLM"], "at most 15"),
                        (["--ip", "target=999.1.1.1"], "address"),
                        (["--domain", "corp\x1b[2J.example"], "domain"),
                        (["--account", "admin=CORP\\a/b"], "account")):
        out = W("opt", "o")
        rc, _, err, _ = run([dh, "simulate", "--out", out] + mmc + opts, timeout=30)
        check(rc == 2 and words in err and not os.path.exists(W("escaped")) and
              not os.path.exists(out),
              "simulate %s is refused (%d): %s" % (" ".join(opts), rc, err.strip()[:100]))
    for opts in (["--drop", "nan"], ["--noise", "nan"]):
        rc, _, err, _ = run([dh, "selftest", "--scenario", "mmc20-executeshellcommand",
                             "--sensors", "full"] + opts, timeout=30)
        check(rc == 2, "selftest %s is refused (%d)" % (" ".join(opts), rc))

    # --- a refused file is skipped input ------------------------------------------------------
    d = W("mixed")
    os.makedirs(d)
    with open(os.path.join(d, "broken.yml"), "w") as f:
        f.write("name: broken\nkind: nonsense\n")
    rc, _, err, _ = run([dh, "simulate", "--out", W("mixed-o"), "--scenarios", d] + mmc)
    check(rc == 3 and "broken.yml:" in err and os.path.exists(W("mixed-o", "truth.jsonl")),
          "simulate with a refused scenario file writes the others and says so (status %d)" % rc)
    rc, out, err, _ = run([dh, "selftest", "--scenarios", d, "--scenario",
                           "shellwindows-shellexecute-powershell", "--sensors", "sysmon",
                           "--noise", "0"], timeout=120)
    check(rc == 3 and b"pass" in out,
          "selftest with a refused scenario file is not a pass (status %d)" % rc)

    # --- documented use: selftest --keep DIR with a new DIR ------------------------------------
    rc, out, err, _ = run([dh, "selftest", "--scenario", "mmc20-executeshellcommand", "--sensors",
                           "sysmon", "--noise", "0", "--keep", W("keep", "new")], timeout=120)
    kept = [f for dp, dn, fn in os.walk(W("keep")) for f in fn if f.endswith(".evtx")]
    check(rc == 0 and b"pass" in out and kept,
          "selftest --keep NEWDIR makes the folder and keeps the telemetry (%d, %d EVTX files): %s"
          % (rc, len(kept), err.strip()[:100]))

    # --- control characters are data ------------------------------------------------------------
    ctrl = PS.replace("'C:\\Windows\\p.exe'}", "\"C:\\\\p\\x01\\e[31m.exe\", "
                      "command_line: \"a\\nb\\tc\\r\\x7f\"}")
    rc, err, _, out = sim({"ctrl.yml": scenario("ctrl", ctrl)}, "ctrl")
    evs = []
    if rc == 0:
        r = run([dh, "dump", "--fields", out])
        evs = [json.loads(l) for l in r[1].decode().splitlines() if l.startswith("{")]
    got = [e for e in evs if e.get("fields", {}).get("Image", "").startswith("C:\\p")]
    check(rc == 0 and len(got) >= 2 and
          all(e["fields"]["Image"] == "C:\\p\x01\x1b[31m.exe" and
              e["fields"]["CommandLine"] == "a\nb\tc\r\x7f" for e in got),
          "control characters in values are written and read back as given (%d, %d events)"
          % (rc, len(got)))


if __name__ == "__main__":
    sys.exit(main())
