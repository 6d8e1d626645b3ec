#!/usr/bin/env python3
"""`dcomhunt report`: the HTML page from `hunt --jsonl` findings (python3 stdlib only).

1. The corpus: hunt --jsonl, then report; the page parses with balanced tags, has the
   summary (kinds, hosts, time range), the timeline in first-seen order, one section per
   finding with the real source, target, account and commands of the corpus
   lateral_movement findings, an inline <svg> host graph naming the target hosts, and no
   script, no remote (or any non-fragment) src/href, a Content-Security-Policy.
2. Escaping: findings whose host, user, command, COM object, rule names, steps and pivot
   queries carry <script>, "><img onerror>, C0 controls, U+202E and graphviz label syntax
   (a" -> "b, \\l, \\N) render as text: no <script>/<img> element, no raw control byte, the
   payloads readable in the text and in the SVG labels; investigate/respond/pivots render;
   a suppressed finding is marked and listed in its own section.
3. A malformed line: exit 3, stderr names the file and the line, the page still written;
   usage errors exit 2.
4. Headless Chromium (a FAILURE if it is missing: scripts/bootstrap.sh installs it):
   --dump-dom holds the findings and the SVG; --screenshot makes a real PNG; and through the
   DevTools protocol on a pipe, loading the pages logs no console error, no exception, no
   CSP violation and opens no dialog (a probe page first proves errors are caught).
"""
import argparse
import collections
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "data", "poster", "srcset",
             "background", "ping", "manifest", "cite", "longdesc"}
FORBIDDEN_TAGS = {"script", "link", "img", "iframe", "frame", "object", "embed", "base",
                  "image", "use", "foreignobject", "audio", "video", "source", "form"}
SVG_TAGS = {"svg", "g", "path", "polygon", "polyline", "ellipse", "text"}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)
    return cond


class Page(HTMLParser):
    """Tag balance, every attribute, and text per section / article / svg."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.doctype = [], [], None
        self.tags = collections.Counter()
        self.attrs = []  # (tag, name, value)
        self.articles = []  # {"id","cls","section","text"}
        self.sections = collections.defaultdict(str)
        self.svg_text, self.svg_tags, self.title = "", collections.Counter(), ""
        self.tl_labels = []
        self.pres = []  # (class, text)
        self.ols = []   # (class, [li texts])
        self._section = None
        self._article = None
        self._pre = None
        self._ol = None
        self._li = None
        self._tl = None

    def handle_decl(self, decl):
        self.doctype = decl

    def _open(self, tag, attrs, push):
        self.tags[tag] += 1
        a = dict(attrs)
        for k, v in attrs:
            self.attrs.append((tag, k, v or ""))
        if "svg" in self.stack or tag == "svg":
            self.svg_tags[tag] += 1
        if tag == "section":
            self._section = a.get("id")
        elif tag == "article":
            self._article = {"id": a.get("id"), "cls": a.get("class", "").split(),
                             "section": self._section, "text": ""}
            self.articles.append(self._article)
        elif tag == "pre":
            self._pre = [a.get("class", ""), ""]
        elif tag == "ol":
            self._ol = (a.get("class", ""), [])
            self.ols.append(self._ol)
        elif tag == "li" and self._ol is not None:
            self._li = [""]
            self._ol[1].append(self._li)
        elif tag == "a" and "tl-label" in a.get("class", ""):
            self._tl = [a.get("href", ""), ""]
            self.tl_labels.append(self._tl)
        if push:
            self.stack.append(tag)

    def handle_starttag(self, tag, attrs):
        self._open(tag, attrs, tag not in VOID)

    def handle_startendtag(self, tag, attrs):  # <path .../> in the SVG
        self._open(tag, attrs, False)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unexpected </%s> (open: %s)" % (tag, "/".join(self.stack[-4:])))
            return
        self.stack.pop()
        if tag == "article":
            self._article = None
        elif tag == "section":
            self._section = None
        elif tag == "pre" and self._pre:
            self.pres.append(tuple(self._pre))
            self._pre = None
        elif tag == "ol":
            self._ol = None
        elif tag == "li":
            self._li = None
        elif tag == "a":
            self._tl = None

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "title" and "svg" not in self.stack:
            self.title += data
        if self._section:
            self.sections[self._section] += data
        if self._article is not None:
            self._article["text"] += data
        if "svg" in self.stack:
            self.svg_text += data
        if self._pre is not None:
            self._pre[1] += data
        if self._li is not None:
            self._li[0] += data
        if self._tl is not None:
            self._tl[1] += data


def parse_page(raw, what):
    p = Page()
    p.feed(raw.decode("utf-8", errors="strict"))
    p.close()
    check(p.doctype and p.doctype.lower() == "doctype html", what + ": <!DOCTYPE html> first")
    check(not p.errors, what + ": tags balance: %s" % p.errors[:5])
    check(not p.stack, what + ": unclosed tags at the end: %s" % p.stack)
    for t in ("html", "head", "body", "title", "style", "main"):
        check(p.tags[t] == 1, what + ": exactly one <%s> (%d)" % (t, p.tags[t]))
    check(p.tags["svg"] <= 1, what + ": at most one <svg>")
    return p


def check_self_contained(p, raw, what):
    bad = [t for t in FORBIDDEN_TAGS if p.tags[t]]
    check(not bad, what + ": no script/link/img/iframe/... elements: %s" % bad)
    for tag, k, v in p.attrs:
        if k.lower() in URL_ATTRS:
            check(v.startswith("#"), what + ": <%s %s=%r> is not a fragment link" % (tag, k, v))
        check(not k.lower().startswith("on"), what + ": event handler attribute <%s %s>" % (tag, k))
        if k.lower() == "style":
            check("url(" not in v.lower(), what + ": url() in a style attribute")
    low = raw.lower()
    check(b"url(" not in low and b"@import" not in low, what + ": no url()/@import in CSS")
    check(re.search(rb'<meta http-equiv="content-security-policy" content="default-src \'none\'',
                    low) is not None, what + ": CSP meta with default-src 'none'")
    check(re.search(rb"https?://", raw) is None,
          what + ": no http:// or https:// anywhere in the page")
    unexpected = set(p.svg_tags) - SVG_TAGS
    check(not unexpected, what + ": only graphviz's shape tags in the SVG: %s" % unexpected)
    check(re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", raw) is None,
          what + ": no raw control characters in the page")
    check(b"<?xml" not in raw and b"<!DOCTYPE svg" not in raw,
          what + ": SVG prolog/DOCTYPE stripped")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=120, **kw)


# ---- 1. the corpus --------------------------------------------------------------------

def corpus_case(dh, corpus, tmp):
    inputs = [os.path.join(corpus, d) for d in ("EVTX-ATTACK-SAMPLES", "EVTX-to-MITRE-Attack")]
    h = run([dh, "hunt", "--jsonl", "--no-progress"] + inputs)
    check(h.returncode == 1, "hunt --jsonl exits 1 (findings): %d %s" % (h.returncode, h.stderr[-300:]))
    jl = os.path.join(tmp, "corpus.jsonl")
    with open(jl, "wb") as f:
        f.write(h.stdout)
    findings = [json.loads(l) for l in h.stdout.splitlines() if l.strip()]
    lm = [f for f in findings if f["kind"] == "lateral_movement"]
    check(len(lm) >= 2, "the corpus gives at least 2 lateral_movement findings (%d)" % len(lm))

    out = os.path.join(tmp, "corpus.html")
    r = run([dh, "report", jl, "-o", out])
    check(r.returncode == 0, "report exits 0 on clean findings: %d %s" % (r.returncode, r.stderr))
    raw = open(out, "rb").read()
    s = run([dh, "report", jl])
    check(s.returncode == 0 and s.stdout == raw, "report without -o writes the same page to stdout")
    p = parse_page(raw, "corpus")
    check_self_contained(p, raw, "corpus")
    # hunt --html writes the same page while it prints its usual output
    hh = os.path.join(tmp, "hunt.html")
    h2 = run([dh, "hunt", "--jsonl", "--no-progress", "--html", hh] + inputs)
    check(h2.returncode == 1 and h2.stdout == h.stdout, "hunt --html changed hunt's own output")
    hraw = open(hh, "rb").read() if os.path.exists(hh) else b""
    # the page hunt renders from its findings in memory is report's page of the same
    # findings, byte for byte but for the source's name
    # (the source's name stands in the title, the header and the facts, each before a tag)
    check(re.sub(rb"dcomhunt hunt(?=<)", b"SOURCE", hraw)
          == re.sub(re.escape(jl.encode()) + rb"(?=<)", b"SOURCE", raw),
          "hunt --html page differs from report's page of hunt --jsonl")
    check(all(f["id"].encode() in hraw for f in findings),
          "hunt --html page does not hold every finding")
    check_self_contained(parse_page(hraw, "hunt --html"), hraw, "hunt --html")

    summ = p.sections["summary"]
    check("Summary" in summ, "summary section")
    check("%d shown" % len(findings) in summ, "summary counts %d findings" % len(findings))
    for kind, n in collections.Counter(f["kind"] for f in findings).items():
        check(kind in summ, "summary names kind %s" % kind)
    first = min(f["first_seen"] for f in findings)
    last = max(f["last_seen"] for f in findings)
    check(first in summ and last in summ, "summary time range %s .. %s" % (first, last))
    for f in findings:
        check(f["target"]["host"] in summ, "summary hosts list %s" % f["target"]["host"])

    arts = [a for a in p.articles if a["section"] == "findings"]
    check(len(arts) == len(findings), "one section per finding (%d articles, %d findings)"
          % (len(arts), len(findings)))
    for f in lm:
        a = [a for a in arts if f["id"] in a["text"]]
        if not check(len(a) == 1, "an article for finding %s" % f["id"]):
            continue
        t = a[0]["text"]
        src = f["source"]["host"] or f["source"]["ip"]
        for what, v in (("source", src), ("target", f["target"]["host"]), ("user", f["user"]),
                        ("COM object", f["com_object"]), ("logon id", f["logon_id"])):
            check(v and v in t, "finding %s shows its %s %r" % (f["id"], what, v))
        for c in f["commands"]:
            check(c in t, "finding %s shows command %r" % (f["id"], c))
        for e in f["evidence"]:
            check(e["file"] in t and str(e["record_id"]) in t,
                  "finding %s shows evidence %s record %s" % (f["id"], e["file"], e["record_id"]))

    # the timeline: one row per finding, in first-seen order
    check(len(p.tl_labels) == len(findings), "one timeline row per finding")
    times = [re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t).group(0) for _, t in p.tl_labels]
    check(times == sorted(times), "timeline in first-seen order")
    check(len(re.findall(rb'class="tl-bar [^"]*" style="left:[0-9.]+%;width:[0-9.]+%"', raw))
          == len(findings), "a positioned bar per timeline row")

    # the host graph
    check(p.tags["svg"] == 1 and "graph" in p.sections, "an inline <svg> host graph")
    for f in lm:
        check(f["target"]["host"] in p.svg_text, "graph names target %s" % f["target"]["host"])
        src = f["source"]["host"] or f["source"]["ip"]
        check(src in p.svg_text, "graph names source %s" % src)
        check(f["com_object"] in p.svg_text, "graph edge labelled %s" % f["com_object"])
    return out, findings


# ---- 2. escaping ----------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
GV = 'a" -> "b \\l\\N\\G'
CTRL = "\x01\x07\x1b[2J\x7f"


def evil_findings():
    base = {
        "id": "e000000000000001", "kind": "lateral_movement", "severity": "high",
        "confidence": "high", "confidence_reasons": ["reason " + SCRIPT], "technique": "T1021.003",
        "com_object": "COM" + IMG + CTRL, "clsid": "{" + SCRIPT + "}",
        "target": {"host": "T1 " + GV + " " + SCRIPT, "ip": "10.9.9.2"},
        "source": {"host": IMG, "ip": "10.9.9.1"},
        "user": "DOM\\" + SCRIPT + CTRL, "logon_id": "0x1" + IMG,
        "commands": ["cmd.exe /c " + SCRIPT + " " + IMG + " " + CTRL + " \u202egpj.exe",
                     "line1\nline2\tX"],
        "first_seen": "2024-05-01T10:00:00.0000000Z", "last_seen": "2024-05-01T10:02:00.0000000Z",
        "rule_ids": ["id-" + SCRIPT], "rule_names": ["rule " + IMG],
        "evidence": [{"role": "activation", "file": "C:\\logs\\" + SCRIPT + ".evtx",
                      "record_id": 42, "event_id": 1, "channel": "Sysmon" + IMG,
                      "host": "T1" + CTRL, "time": "2024-05-01T10:00:00.0000000Z",
                      "kind": "process_creation"}],
        "investigate": ["Check the parent of " + SCRIPT, "Second step\nwith two lines"],
        "respond": ["Isolate " + IMG, "Reset the password of DOM\\user"],
        "pivots": [{"title": "Processes on the target " + SCRIPT, "language": "kql",
                    "query": 'DeviceProcessEvents\n| where DeviceName =~ "T1 ' + GV + '"\n'
                             '| where ProcessCommandLine has "' + SCRIPT + '"'},
                   {"title": "Same host, dcomhunt", "language": "dcomhunt",
                    "query": "dcomhunt hunt --jsonl logs/ " + IMG}],
    }
    supp = json.loads(json.dumps(base))
    supp.update({"id": "e000000000000002", "first_seen": "2024-05-01T11:00:00.0000000Z",
                 "last_seen": "2024-05-01T11:30:00.0000000Z", "suppressed": True,
                 "suppressed_by": {"filter": "Jump host " + IMG, "id": "f-" + SCRIPT,
                                   "reason": "admin jump host " + SCRIPT,
                                   "expires": "2099-12-31", "origin": "tune/" + IMG + ".yml"}})
    return base, supp


def escaping_case(dh, tmp):
    base, supp = evil_findings()
    jl = os.path.join(tmp, "evil.jsonl")
    with open(jl, "w", encoding="utf-8") as f:
        f.write(json.dumps(base) + "\n" + json.dumps(supp, ensure_ascii=False) + "\n")
    out = os.path.join(tmp, "evil.html")
    r = run([dh, "report", jl, "-o", out])
    check(r.returncode == 0, "escaping: report exits 0: %d %s" % (r.returncode, r.stderr))
    raw = open(out, "rb").read()
    p = parse_page(raw, "escaping")
    check_self_contained(p, raw, "escaping")
    check(p.tags["script"] == 0 and p.tags["img"] == 0, "escaping: no <script>/<img> element")
    check(b"<script" not in raw.lower() and b"<img" not in raw.lower(),
          "escaping: no '<script' or '<img' anywhere in the bytes")
    act = [a for a in p.articles if a["section"] == "findings"]
    sup = [a for a in p.articles if a["section"] == "suppressed"]
    check(len(act) == 1 and len(sup) == 1, "escaping: one finding, one suppressed finding "
          "in its own section (%d, %d)" % (len(act), len(sup)))
    if act:
        t = act[0]["text"]
        for v in (SCRIPT, IMG, "T1 " + GV, "COM" + IMG, "rule " + IMG, "id-" + SCRIPT,
                  "C:\\logs\\" + SCRIPT + ".evtx", "Sysmon" + IMG, "0x1" + IMG):
            check(v in t, "escaping: %r shown as text" % v)
        check("DOM\\" + SCRIPT + "\\x01\\x07\\x1B[2J\\x7F" in t,
              "escaping: control characters shown as \\xNN marks")
        check("\\u202Egpj.exe" in t, "escaping: U+202E shown as a mark, not applied")
        check("line1\\x0Aline2\\x09X" in t, "escaping: a newline in a command is shown, not kept")
        check(raw.count(b'<span class="esc">\\x01</span>') >= 2, "escaping: marks are styled spans")
    # graphviz labels: the text survives literally, none of its syntax fired
    check(("T1 " + GV + " " + SCRIPT)[:48] in p.svg_text,
          "escaping: graph label shows %r literally (svg text: %r)" % (GV, p.svg_text[:300]))
    check(IMG in p.svg_text and "COM" + IMG in p.svg_text, "escaping: graph labels escaped")
    check("\ufffd" in p.svg_text and re.search("[\x00-\x1f\x7f]", p.svg_text.replace("\n", "")) is None,
          "escaping: control characters in graph labels replaced by U+FFFD")
    # guidance sections
    steps = [o for o in p.ols if o[0] == "steps"]
    check(len(steps) >= 2 and steps[0][1][0][0] == "Check the parent of " + SCRIPT
          and steps[0][1][1][0] == "Second step\nwith two lines",
          "escaping: investigation steps as an ordered list (newline kept)")
    check(any(o[1] and o[1][0][0] == "Isolate " + IMG for o in steps), "escaping: response steps")
    queries = [t for c, t in p.pres if c == "query"]
    check(base["pivots"][0]["query"] in queries and base["pivots"][1]["query"] in queries,
          "escaping: pivot queries verbatim in <pre class=query> (got %r)" % queries[:1])
    if sup:
        t = sup[0]["text"]
        check("suppressed" in sup[0]["cls"] and "SUPPRESSED" in t, "escaping: suppressed marked")
        for v in ("admin jump host " + SCRIPT, "Jump host " + IMG, "f-" + SCRIPT, "2099-12-31",
                  "tune/" + IMG + ".yml"):
            check(v in t, "escaping: suppression %r shown" % v)
    check("1 suppressed" in p.sections["summary"], "escaping: summary counts the suppressed one")
    return out


# ---- 3. malformed lines, usage --------------------------------------------------------

def malformed_case(dh, tmp):
    base, _ = evil_findings()
    jl = os.path.join(tmp, "broken.jsonl")
    with open(jl, "w") as f:
        f.write(json.dumps(base) + "\n")
        f.write('{"id":"x","kind":"signal","commands":["cut short\n')
        f.write("[1,2,3]\n\n")
        f.write(json.dumps(dict(base, id="e000000000000003")) + "\n")
    out = os.path.join(tmp, "broken.html")
    r = run([dh, "report", jl, "-o", out])
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 3, "malformed: exit 3 (got %d)" % r.returncode)
    check(re.search(re.escape(jl) + r".*line 2: ", err) is not None,
          "malformed: stderr names the file and line 2: %r" % err)
    check(re.search(re.escape(jl) + r".*line 3: not a JSON object", err) is not None,
          "malformed: stderr names line 3 (not an object): %r" % err)
    check(err.count("\n") == 2, "malformed: exactly two lines reported: %r" % err)
    raw = open(out, "rb").read() if os.path.exists(out) else b""
    p = parse_page(raw, "malformed")
    check(len([a for a in p.articles if a["section"] == "findings"]) == 2,
          "malformed: the two good findings still rendered")
    check("2 malformed lines were skipped" in p.sections["summary"], "malformed: the page says so")
    for args, what in (([], "no file"), ([jl, jl], "two files"), (["--bogus", jl], "bad option")):
        u = run([dh, "report"] + args)
        check(u.returncode == 2, "usage (%s): exit 2 (got %d)" % (what, u.returncode))
    h = run([dh, "report", "--help"])
    check(h.returncode == 0 and b"FINDINGS.jsonl" in h.stdout, "report --help")
    m = run([dh, "report", os.path.join(tmp, "missing.jsonl")])
    check(m.returncode == 4 and b"missing.jsonl" in m.stderr, "missing input: exit 4, named")


# ---- 4. headless Chromium -------------------------------------------------------------

def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chrome_args(profile):
    return ["--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"]


class Cdp:
    """The DevTools protocol over --remote-debugging-pipe: JSON messages ended by NUL,
    read by the browser on fd 3 and written on fd 4 (no WebSocket needed)."""

    def __init__(self, chromium, profile):
        self.log = tempfile.TemporaryFile()
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # move the child's ends above any fd dup2 will target
        hi_in, hi_out = os.dup(to_r), os.dup(from_w)
        hi_in = _high(hi_in)
        hi_out = _high(hi_out)

        def child():
            os.dup2(hi_in, 3)
            os.dup2(hi_out, 4)

        self.proc = subprocess.Popen(
            [chromium] + chrome_args(profile) + ["--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
            preexec_fn=child, close_fds=False)
        for fd in (to_r, from_w, hi_in, hi_out):
            os.close(fd)
        self.w, self.r = to_w, from_r
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self.r], [], [], left)
            if ready:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise EOFError("chromium closed the pipe")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=15):
        mid = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, names, session, timeout=15):
        """The first event named in `names` for the session (kept in self.events too)."""
        deadline = time.monotonic() + timeout
        seen = getattr(self, "_seen", 0)
        while True:
            for i in range(seen, len(self.events)):
                m = self.events[i]
                if m.get("method") in names and m.get("sessionId") == session:
                    self._seen = i + 1
                    return m
            seen = len(self.events)
            self.events.append(self._read(deadline))

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)
        os.close(self.r)

    def stderr_tail(self):
        self.log.seek(0)
        return self.log.read()[-2000:].decode(errors="replace")


def _high(fd):
    import fcntl
    hi = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return hi


def problems_of(events, session):
    """Console errors/warnings, exceptions, log errors (CSP violations), dialogs."""
    out = []
    for m in events:
        if m.get("sessionId") != session:
            continue
        meth, prm = m.get("method"), m.get("params", {})
        if meth == "Runtime.consoleAPICalled" and prm.get("type") in ("error", "assert", "warning"):
            out.append("console.%s: %s" % (prm["type"], [a.get("value", a.get("description"))
                                                          for a in prm.get("args", [])]))
        elif meth == "Runtime.exceptionThrown":
            out.append("Uncaught: %s" % prm.get("exceptionDetails", {}).get("text"))
        elif meth == "Log.entryAdded" and prm.get("entry", {}).get("level") in ("error", "warning"):
            out.append("log %s: %s" % (prm["entry"].get("source"), prm["entry"].get("text")))
        elif meth == "Page.javascriptDialogOpening":
            out.append("dialog: %s" % prm.get("message"))
    return out


def load_and_inspect(cdp, url):
    t = cdp.call("Target.createTarget", {"url": "about:blank"})
    session = cdp.call("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True})[
        "sessionId"]
    for dom in ("Page.enable", "Runtime.enable", "Log.enable"):
        cdp.call(dom, session=session)
    cdp._seen = len(cdp.events)
    cdp.call("Page.navigate", {"url": url}, session=session)
    while True:  # a dialog (alert() ran) blocks the load: note it, dismiss it, go on
        ev = cdp.wait_event(("Page.loadEventFired", "Page.javascriptDialogOpening"), session)
        if ev["method"] == "Page.loadEventFired":
            break
        cdp.call("Page.handleJavaScriptDialog", {"accept": False}, session=session)
    time.sleep(0.3)  # let late console messages arrive
    res = cdp.call("Runtime.evaluate", {"returnByValue": True, "expression": """JSON.stringify({
        articles: document.querySelectorAll('article.finding').length,
        svg: document.querySelectorAll('#graph svg').length,
        svgText: document.querySelector('#graph svg') ? document.querySelector('#graph svg').textContent : '',
        scripts: document.querySelectorAll('script').length,
        imgs: document.querySelectorAll('img,iframe,object,embed').length,
        height: document.body.scrollHeight})"""}, session=session)
    cdp.call("Runtime.evaluate", {"expression": "1"}, session=session)  # flush pending events
    info = json.loads(res["result"]["value"]) if res.get("result", {}).get("value") else {}
    probs = problems_of(cdp.events, session)
    cdp.call("Target.closeTarget", {"targetId": t["targetId"]})
    return info, probs


def chromium_case(corpus_html, evil_html, findings, tmp):
    chromium = find_chromium()
    if not check(chromium is not None,
                 "chromium is not installed: headless rendering cannot be checked "
                 "(scripts/bootstrap.sh installs the 'chromium' package)"):
        return
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
    url = "file://" + corpus_html
    targets = sorted({f["target"]["host"] for f in findings if f["kind"] == "lateral_movement"})

    d = run([chromium] + chrome_args(profile) + ["--dump-dom", url])
    dom = d.stdout.decode("utf-8", errors="replace")
    check(d.returncode == 0 and "<svg" in dom, "chromium --dump-dom: the DOM holds the <svg>")
    check(dom.count('<article class="finding') == len(findings),
          "chromium --dump-dom: %d findings in the DOM (%d)" % (len(findings),
                                                               dom.count('<article class="finding')))
    for h in targets:
        check(h in dom, "chromium --dump-dom: target %s in the DOM" % h)

    png = os.path.join(tmp, "report.png")
    s = run([chromium] + chrome_args(profile) + ["--screenshot=" + png, "--window-size=1280,2000",
                                                 url])
    data = open(png, "rb").read() if os.path.exists(png) else b""
    check(s.returncode == 0 and data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000,
          "chromium --screenshot: a PNG over 10 kB (%d bytes, exit %d)" % (len(data), s.returncode))

    # console errors through the DevTools protocol; a probe proves they are seen
    probe = os.path.join(tmp, "probe.html")
    with open(probe, "w") as f:
        f.write("<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\""
                "default-src 'none'; script-src 'unsafe-inline'\"><title>probe</title>"
                "<script>console.error('dcomhunt-probe')</script><img src=\"data:,x\">")
    cdp = Cdp(chromium, tempfile.mkdtemp(prefix="chromium-cdp-", dir=tmp))
    try:
        _, probs = load_and_inspect(cdp, "file://" + probe)
        check(any("dcomhunt-probe" in p for p in probs) and
              any("Content Security Policy" in p for p in probs),
              "chromium DevTools: the probe's console error and CSP violation are seen (%s)" % probs)
        info, probs = load_and_inspect(cdp, url)
        check(not probs, "chromium: no console errors on the corpus page: %s" % probs)
        check(info.get("articles") == len(findings) and info.get("svg") == 1,
              "chromium: rendered %s findings and the svg (%s)" % (len(findings), info))
        check(all(h in info.get("svgText", "") for h in targets), "chromium: svg names the targets")
        info, probs = load_and_inspect(cdp, "file://" + evil_html)
        check(not probs, "chromium: no console errors, no dialog on the escaping page: %s" % probs)
        check(info.get("scripts") == 0 and info.get("imgs") == 0 and info.get("articles") == 2,
              "chromium: the escaping page has no script/img element, 2 findings (%s)" % info)
        check(SCRIPT in info.get("svgText", ""), "chromium: the SVG label shows <script> as text")
    except (TimeoutError, EOFError, RuntimeError, OSError) as e:
        check(False, "chromium DevTools session failed: %s (stderr: %s)" % (e, cdp.stderr_tail()))
    finally:
        cdp.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--corpus", required=True)
    a = ap.parse_args()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dh-report-") as tmp:
        corpus_html, findings = corpus_case(a.dcomhunt, a.corpus, tmp)
        evil_html = escaping_case(a.dcomhunt, tmp)
        malformed_case(a.dcomhunt, tmp)
        chromium_case(corpus_html, evil_html, findings, tmp)
    print("report: %d findings rendered, %.1f s" % (len(findings), time.monotonic() - t0))
    if failures:
        print("%d checks failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
