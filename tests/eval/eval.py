#!/usr/bin/env python3
"""The evaluation matrix: every DCOM method x sensor set x clock skew x shuffled order x
duplicated input, each with its expected finding, and the look-alikes expecting no
lateral_movement or attempt. Prints recall and precision per method and per sensor set;
--write FILE keeps the table (bench/results/eval.md).

Events are written from hand-made templates (below): one abstract intrusion per method
(processes, connections, logons, loads, files, the source's script or tool, the wire),
projected onto each sensor: Sysmon (1, 3, 7, 11), Security (4624, 4688, 5156, 5145, 4648),
Defender (DeviceProcessEvents, DeviceNetworkEvents, DeviceLogonEvents,
DeviceImageLoadEvents, DeviceFileEvents), System (DistributedCOM), PowerShell (4104) and
Zeek (dce_rpc). Every scenario of a variant goes into one hunt, hours apart, each on its own
hosts and addresses.

A case counts for recall only where its sensor set logically suffices to conclude (the
table lists where it does not, and why); an extra lateral_movement or attempt finding (a
look-alike reported, one intrusion split in two, a wrong target) counts against
precision. The run fails if a sufficient case is missed, if any look-alike gives a
lateral_movement or attempt, or if two findings share an evidence record."""
import argparse
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

BASE = datetime(2024, 2, 1, 8, 0, 0, tzinfo=timezone.utc)
SVCHOST = "C:\\Windows\\System32\\svchost.exe"
LAUNCHER = "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p"

# ---- the abstract intrusion --------------------------------------------------------------


class Scenario:
    """Abstract records of one intrusion (or one look-alike) around t0 (seconds)."""

    def __init__(self, k, method, kind):
        self.k, self.method, self.kind = k, method, kind  # kind: server|explorer|lookalike
        self.t0 = k * 7200.0
        self.src = "SRC%02d" % k
        self.tgt = "TGT%02d" % k
        self.src_ip = "10.60.%d.10" % k
        self.tgt_ip = "10.60.%d.20" % k
        self.user, self.dom = "adm%02d" % k, "CORP"
        self.lid = 0x500000 + k * 16
        self.procs, self.conns, self.logons, self.loads, self.files = [], [], [], [], []
        self.scripts, self.explicit, self.dcom, self.wire = [], [], [], []
        self.pid = 4000 + k * 100
        self.obj = ""         # the object a full view names
        self.obj_image = ""   # the object a network-only view names (from the image)
        self.source_tool = False  # the source's own telemetry names target and object
        self.linux_source = False

    def proc(self, name, t, image, cmd, parent, logon, user, host=None, launcher=False):
        self.pid += 4
        p = dict(name=name, t=self.t0 + t, host=host or self.tgt, image=image, cmd=cmd,
                 parent=parent, logon=logon, user=user, pid=self.pid, launcher=launcher,
                 guid="{%08X-0000-0000-0000-%012X}" % (self.k, self.pid))
        self.procs.append(p)
        return p

    def conn(self, t, proc, inbound, lip, lport, rip, rport, host=None, image=None):
        self.conns.append(dict(t=self.t0 + t, proc=proc, inbound=inbound, lip=lip, lport=lport, rip=rip,
                               rport=rport, host=host or self.tgt, image=image))


def proc_by(s, name):
    return next(p for p in s.procs if p["name"] == name)


EXPLORER = dict(name="explorer", image="C:\\Windows\\explorer.exe", cmd="C:\\Windows\\Explorer.EXE", pid=8200)


def target_start(s, t_logon=-0.5):
    """The access every remote activation makes: the endpoint mapper, the network logon."""
    s.conn(-1.0, "rpcss", True, s.tgt_ip, 135, s.src_ip, 50100, image=SVCHOST)
    s.logons.append(dict(t=s.t0 + t_logon, lid=s.lid, user=s.user, dom=s.dom, ip=s.src_ip, type=3))
    # the launcher's everyday starts beside the server: never its commands
    s.proc("broker", 0.2, "C:\\Windows\\System32\\RuntimeBroker.exe", "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding",
           "launcher", 0x3e7, "NT AUTHORITY\\SYSTEM", launcher=True)


def wire(s, automation=True, wmi=False):
    s.wire.append(dict(t=s.t0 - 0.8, orig=s.src_ip, resp=s.tgt_ip, port=135, endpoint="ISystemActivator",
                       op="RemoteCreateInstance"))
    if automation:
        s.wire.append(dict(t=s.t0 + 0.6, orig=s.src_ip, resp=s.tgt_ip, port=49790,
                           endpoint="00020400-0000-0000-c000-000000000046", op="opnum-6"))
    if wmi:
        s.wire.append(dict(t=s.t0 + 0.6, orig=s.src_ip, resp=s.tgt_ip, port=49791, endpoint="IWbemLevel1Login",
                           op="NTLMLogin"))


def source_script(s, text, t=-3.0):
    s.scripts.append(dict(t=s.t0 + t, text=text))
    s.source_tool = True


def source_rpc(s):
    ps = s.proc("src_ps", -4.0, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                "powershell.exe", "srcparent", 0x22000 + s.k, "%s\\op" % s.dom, host=s.src)
    s.conn(-1.0, "src_ps", False, s.src_ip, 50100, s.tgt_ip, 135, host=s.src)
    s.conn(0.3, "src_ps", False, s.src_ip, 50101, s.tgt_ip, 49790, host=s.src)
    s.explicit.append(dict(t=s.t0 - 1.5, target=s.tgt))
    return ps


def server_method(k, method, image, cmd, obj, children=(), load=None, planted=None, script=None,
                  impacket=False):
    s = Scenario(k, method, "server")
    s.obj, s.obj_image = obj, obj
    target_start(s)
    srv = s.proc("server", 0.0, image, cmd, "launcher", s.lid, "%s\\%s" % (s.dom, s.user), launcher=True)
    s.conn(0.3, "server", True, s.tgt_ip, 49790, s.src_ip, 50101, image=image)
    parent = "server"
    for i, (cimg, ccmd) in enumerate(children):
        s.proc("child%d" % i, 2.0 + i, cimg, ccmd, parent, s.lid, "%s\\%s" % (s.dom, s.user))
        parent = "child%d" % i
    if load:
        s.loads.append(dict(t=s.t0 + 1.0, proc="server", dll=load[0], signed=load[1]))
    if planted:
        s.files.append(dict(t=s.t0 - 20, path=planted, smb_from=s.src_ip))
    if impacket:
        s.files.append(dict(t=s.t0 + 2.2, path="C:\\Windows\\__%d" % (17000 + k), smb_from=None))
        s.linux_source = True
    else:
        source_rpc(s)
        source_script(s, script or ('$h = "%s"\n$o = [activator]::CreateInstance([type]::GetTypeFromProgID("%s", $h))'
                                    % (s.tgt, obj)))
    wire(s)
    return s


def explorer_method(k, method, obj, clsid, impacket=False):
    s = Scenario(k, method, "explorer")
    s.obj, s.obj_image = obj, "ShellWindows"
    target_start(s)
    s.conn(0.3, "explorer", True, s.tgt_ip, 49791, s.src_ip, 50102, image=EXPLORER["image"])
    desk = (0x3a000 + k, "%s\\desk%02d" % (s.dom, k))
    if impacket:
        c = s.proc("child0", 1.0, "C:\\Windows\\System32\\cmd.exe",
                   "cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__%d 2>&1" % (17000 + k), "explorer", *desk)
        s.files.append(dict(t=s.t0 + 1.2, path="C:\\Windows\\__%d" % (17000 + k), smb_from=None))
        s.linux_source = True
    else:
        s.proc("child0", 1.0, "C:\\Windows\\System32\\cmd.exe",
               "cmd.exe /c start /b powershell -noP -sta -w 1 -enc SQBFAFgA", "explorer", *desk)
        s.proc("child1", 1.2, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
               "powershell -noP -sta -w 1 -enc SQBFAFgA", "child0", *desk)
        source_rpc(s)
        source_script(s, "$o = [Activator]::CreateInstance([Type]::GetTypeFromCLSID('%s', '%s'))\n"
                         "$o.Document.Application.ShellExecute('cmd.exe','/c calc','c:\\windows\\system32',$null,0)"
                      % (clsid, s.tgt))
    wire(s)
    return s


OFFICE = "C:\\Program Files\\Microsoft Office\\root\\Office16\\"


def noise(s):
    """What else happens on the target at the same time: the desktop user's programs, the
    launcher's local servers, a file-share logon and SMB session from another host."""
    desk = (0x3a000 + s.k, "%s\\desk%02d" % (s.dom, s.k))
    s.proc("n_notepad", 1.5, "C:\\Windows\\System32\\notepad.exe", "notepad.exe C:\\Users\\desk\\todo.txt",
           "explorer", *desk)
    s.proc("n_search", 0.7, "C:\\Windows\\System32\\SearchProtocolHost.exe",
           "C:\\Windows\\system32\\SearchProtocolHost.exe Global\\UsGthrFltPipeMssGthrPipe1 -Embedding",
           "launcher", 0x3e7, "NT AUTHORITY\\SYSTEM", launcher=True)
    other = "10.61.%d.30" % s.k
    s.logons.append(dict(t=s.t0 + 2.0, lid=0x7a000 + s.k, user="filesvc", dom=s.dom, ip=other, type=3))
    s.conn(2.0, "system", True, s.tgt_ip, 445, other, 51000, image="System")


def methods():
    """The DCOM methods, as intrusions."""
    out = []
    cmd = ("C:\\Windows\\System32\\cmd.exe", "cmd.exe /c whoami /all")
    add = lambda f, *a, **kw: out.append(f(len(out) + 1, *a, **kw))
    add(server_method, "MMC20 ExecuteShellCommand", "C:\\Windows\\System32\\mmc.exe",
        "C:\\Windows\\system32\\mmc.exe -Embedding", "MMC20.Application", children=[cmd],
        script='$o=[activator]::CreateInstance([type]::GetTypeFromProgID("MMC20.Application.1","%s"))\n'
               '$o.Document.ActiveView.ExecuteShellCommand("cmd.exe",$null,"/c whoami","7")')
    add(server_method, "MMC20 via Impacket dcomexec", "C:\\Windows\\System32\\mmc.exe",
        "C:\\Windows\\system32\\mmc.exe -Embedding", "MMC20.Application",
        children=[("C:\\Windows\\System32\\cmd.exe", "cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__17002 2>&1")],
        impacket=True)
    add(server_method, "MMC20 silentcommand (no child)", "C:\\Windows\\System32\\mmc.exe",
        "C:\\Windows\\system32\\mmc.exe -Embedding", "MMC20.Application", impacket=True)
    add(explorer_method, "ShellWindows ShellExecute", "ShellWindows", "9BA05972-F6A8-11CF-A442-00A0C90A8F39")
    add(explorer_method, "ShellBrowserWindow ShellExecute", "ShellBrowserWindow",
        "{C08AFD90-F2A1-11D1-8455-00A0C91F3880}")
    add(explorer_method, "ShellWindows via Impacket dcomexec", "ShellWindows", "", impacket=True)
    add(server_method, "Excel DDEInitiate", OFFICE + "EXCEL.EXE", '"%sEXCEL.EXE" /automation -Embedding' % OFFICE,
        "Excel.Application", children=[cmd],
        script='$e=[activator]::CreateInstance([type]::GetTypeFromProgID("Excel.Application.16","%s"))\n'
               '$e.DDEInitiate("cmd","/c calc")')
    add(server_method, "Excel ActivateMicrosoftApp", OFFICE + "EXCEL.EXE",
        '"%sEXCEL.EXE" /automation -Embedding' % OFFICE, "Excel.Application",
        children=[("C:\\Users\\Public\\foxprow.exe", "foxprow.exe")],
        script="Invoke-DCOM -ComputerName %s -Method ExcelDDE -Command calc.exe")
    add(server_method, "Excel RegisterXLL (a load, no child)", OFFICE + "EXCEL.EXE",
        '"%sEXCEL.EXE" /automation -Embedding' % OFFICE, "Excel.Application",
        load=("C:\\Users\\Public\\evil.xll", "false"),
        script='$e=[activator]::CreateInstance([type]::GetTypeFromCLSID("{00024500-0000-0000-C000-000000000046}","%s"))\n'
               '$e.RegisterXLL("C:\\Users\\Public\\evil.xll")')
    add(server_method, "Word macro via automation", OFFICE + "WINWORD.EXE",
        '"%sWINWORD.EXE" /Automation -Embedding' % OFFICE, "Word.Application", children=[cmd])
    add(server_method, "Outlook CreateObject", OFFICE + "OUTLOOK.EXE", '"%sOUTLOOK.EXE" -Embedding' % OFFICE,
        "Outlook.Application", children=[cmd])
    add(server_method, "Visio add-on", OFFICE + "VISIO.EXE", '"%sVISIO.EXE" -Embedding' % OFFICE,
        "Visio.Application", children=[cmd])
    add(server_method, "PowerPoint via automation", OFFICE + "POWERPNT.EXE",
        '"%sPOWERPNT.EXE" /automation -Embedding' % OFFICE, "PowerPoint.Application", children=[cmd])
    add(server_method, "InternetExplorer planted iertutil.dll", "C:\\Program Files\\Internet Explorer\\iexplore.exe",
        '"C:\\Program Files\\Internet Explorer\\iexplore.exe" -Embedding', "InternetExplorer.Application",
        load=("C:\\Program Files\\Internet Explorer\\iertutil.dll", "false"),
        planted="C:\\Program Files\\Internet Explorer\\iertutil.dll")
    add(server_method, "LethalHTA (mshta, no child)", "C:\\Windows\\System32\\mshta.exe",
        "C:\\Windows\\System32\\mshta.exe -Embedding", "htafile",
        script='$t=[type]::GetTypeFromCLSID("{3050F4D8-98B5-11CF-BB82-00AA00BDCE0B}","%s")')
    for s in out:
        noise(s)
    # the script templates name the target where %s stands
    for s in out:
        for sc in s.scripts:
            if "%s" in sc["text"]:
                sc["text"] = sc["text"] % s.tgt
    return out


def lookalikes(first):
    """Activity that looks like DCOM lateral movement and is not."""
    out = []

    def new(method):
        s = Scenario(first + len(out), method, "lookalike")
        out.append(s)
        noise(s)
        return s

    s = new("WMI remote execution (wmiexec)")
    target_start(s)
    s.proc("wmi", 0.0, "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
           "launcher", 0x3e4, "NT AUTHORITY\\NETWORK SERVICE", launcher=True)
    s.conn(0.3, "wmi", True, s.tgt_ip, 49795, s.src_ip, 50103, image="C:\\Windows\\System32\\wbem\\WmiPrvSE.exe")
    s.proc("child0", 1.0, "C:\\Windows\\System32\\cmd.exe",
           "cmd.exe /Q /c whoami 1> \\\\127.0.0.1\\ADMIN$\\__1706000000.12 2>&1", "wmi", s.lid, "%s\\%s" % (s.dom, s.user))
    s.proc("src_wmic", -2.0, "C:\\Windows\\System32\\wbem\\WMIC.exe",
           'wmic.exe /node:"%s" process call create "cmd.exe /c whoami"' % s.tgt, "srcparent", 0x2200, "CORP\\op", host=s.src)
    s.conn(-1.0, "src_wmic", False, s.src_ip, 50100, s.tgt_ip, 135, host=s.src)
    wire(s, automation=False, wmi=True)

    s = new("WinRM remoting")
    s.logons.append(dict(t=s.t0 - 0.5, lid=s.lid, user=s.user, dom=s.dom, ip=s.src_ip, type=3))
    s.conn(-1.0, "system", True, s.tgt_ip, 5985, s.src_ip, 50104, image="System")
    s.proc("wsm", 0.0, "C:\\Windows\\System32\\wsmprovhost.exe", "C:\\Windows\\system32\\wsmprovhost.exe -Embedding",
           "launcher", s.lid, "%s\\%s" % (s.dom, s.user), launcher=True)
    s.proc("child0", 1.0, "C:\\Windows\\System32\\whoami.exe", "whoami.exe", "wsm", s.lid, "%s\\%s" % (s.dom, s.user))
    source_script(s, "Invoke-Command -ComputerName %s -ScriptBlock { whoami }" % s.tgt)
    s.source_tool = False

    s = new("administrator's MMC console")
    s.proc("mmc", 0.0, "C:\\Windows\\System32\\mmc.exe", '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\compmgmt.msc" /s',
           "explorer", 0x3a100, "CORP\\helpdesk")
    s.proc("child0", 10.0, "C:\\Windows\\System32\\cmd.exe", "cmd.exe", "mmc", 0x3a100, "CORP\\helpdesk")
    s.logons.append(dict(t=s.t0 + 5, lid=0x3a200, user="backup", dom="CORP", ip=s.src_ip, type=3))

    s = new("a local document drives ShellBrowserWindow")
    s.proc("word", 0.0, OFFICE + "WINWORD.EXE", '"%sWINWORD.EXE" /n "C:\\Users\\lee\\invoice.docm"' % OFFICE,
           "explorer", 0x3a300, "CORP\\lee")
    s.proc("helper", 2.0, "C:\\Windows\\System32\\rundll32.exe",
           "rundll32.exe shell32.dll,SHCreateLocalServerRunDll {c08afd90-f2a1-11d1-8455-00a0c91f3880} -Embedding",
           "launcher", 0x3a300, "CORP\\lee", launcher=True)
    s.proc("child0", 3.0, "C:\\Windows\\System32\\cmd.exe", "cmd.exe /c powershell -w hidden -enc SQBFAFgA",
           "explorer", 0x3a300, "CORP\\lee")

    s = new("SCCM-style remote WMI from a site server")
    target_start(s)
    s.logons[-1].update(user="SCCM01$")
    s.proc("wmi", 0.0, "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding",
           "launcher", 0x3e7, "NT AUTHORITY\\SYSTEM", launcher=True)
    s.conn(0.3, "wmi", True, s.tgt_ip, 49796, s.src_ip, 50105, image="C:\\Windows\\System32\\wbem\\WmiPrvSE.exe")
    s.proc("child0", 1.0, "C:\\Windows\\CCM\\CcmExec.exe", "C:\\Windows\\CCM\\CcmExec.exe", "wmi", 0x3e7,
           "NT AUTHORITY\\SYSTEM")
    wire(s, automation=False, wmi=True)

    s = new("Office automation on a report server")
    s.proc("excel", 0.0, OFFICE + "EXCEL.EXE", '"%sEXCEL.EXE" /automation -Embedding' % OFFICE, "launcher",
           0x3a400, "CORP\\svc-reports", launcher=True)
    s.proc("child0", 5.0, "C:\\Windows\\splwow64.exe", "C:\\Windows\\splwow64.exe 8192", "excel", 0x3a400,
           "CORP\\svc-reports")
    s.logons.append(dict(t=s.t0 + 1, lid=0x3a500, user="fileuser", dom="CORP", ip=s.src_ip, type=3))

    s = new("a developer's COM server")
    s.proc("devenv", 0.0, "C:\\Program Files\\Microsoft Visual Studio\\2022\\Common7\\IDE\\devenv.exe",
           '"C:\\Program Files\\Microsoft Visual Studio\\2022\\Common7\\IDE\\devenv.exe" -Embedding', "launcher",
           0x3a600, "CORP\\dev", launcher=True)
    s.proc("child0", 9.0, "C:\\Windows\\System32\\cmd.exe", "cmd.exe /c msbuild app.sln", "devenv", 0x3a600, "CORP\\dev")
    return out


# ---- sensor sets, skews, order ---------------------------------------------------------------

SETS = {
    # name: (families of the target, families of the source, wire?)
    "all": ({"sysmon", "security", "defender", "system"}, {"sysmon", "security", "ps", "system"}, True),
    "sysmon": ({"sysmon"}, set(), False),
    "security": ({"security"}, set(), False),
    "defender": ({"defender"}, set(), False),
    "process": ({"sysmon-process"}, set(), False),
    "network": ({"sysmon-network", "security-network"}, set(), False),
    "zeek": (set(), set(), True),
    "source": (set(), {"sysmon", "security", "ps", "system"}, False),
}
# Clock skews (the target's Security and Defender logs run this many seconds off its Sysmon,
# the source host's clocks the other way), then shapes real captures take: "netfirst" (a
# connection logged 3 s before the creation record of the process that accepted it),
# "flipped" (Sysmon writes inbound connections with the local end as the source, as some
# versions do), "nopid" (Sysmon's process ids dropped, as NXLog exports do), "barehost"
# (Security and Defender name the host without its domain).
SKEWS = ["0", "+5", "-5", "+60", "-60", "netfirst", "flipped", "nopid", "barehost"]


def sufficient(s, sset):
    """Does this sensor set logically suffice to conclude (and what is expected)? Returns
    (kind or None, why it does not suffice)."""
    if s.kind == "lookalike":
        return None, ""
    if sset == "process":
        return None, "process starts alone: nothing shows the other host (a local activation looks the same)"
    if sset == "source":
        if s.linux_source:
            return None, "the source ran Impacket from Linux: it has no telemetry"
        return "source_activity", ""
    return "lateral_movement", ""


# ---- projection onto sensors -----------------------------------------------------------------


def iso(t):
    return (BASE + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Writer:
    def __init__(self, variant):
        self.files = {}
        self.rec = {}
        self.skew = int(variant) if variant[0] in "+-0" else 0
        self.netfirst = variant == "netfirst"
        self.flipped = variant == "flipped"
        self.nopid = variant == "nopid"
        self.barehost = variant == "barehost"

    def emit(self, fname, line_obj):
        self.files.setdefault(fname, []).append(json.dumps(line_obj))

    def nxlog(self, fam, host, chan, src, eid, t, data, fname):
        self.rec[(host, chan)] = self.rec.get((host, chan), 1000) + 1
        self.last = self.rec[(host, chan)]
        o = {"EventID": eid, "Channel": chan, "SourceName": src, "Hostname": host,
             "RecordNumber": self.rec[(host, chan)], "@timestamp": iso(t)}
        if src == "Microsoft-Windows-Sysmon":
            o["UtcTime"] = iso(t).replace("T", " ").rstrip("Z")
        o.update(data)
        self.emit(fname, o)

    def defender(self, table, host, t, data, fname):
        self.rec[(host, table)] = self.rec.get((host, table), 90000) + 1
        self.last = self.rec[(host, table)]
        o = {"Timestamp": iso(t), "DeviceName": host.lower(), "ReportId": self.rec[(host, table)], "Table": table}
        o.update(data)
        self.emit(fname, o)


def fqdn(h):
    return h + ".corp.local"


KEY_PROCS = ("server", "child0")


def project(s, w, tfams, sfams, with_wire):
    """Writes the scenario's records for the families of each side; s.keys gets the record
    ids of the records a finding must hold (the server's start, its first command, the
    inbound connection to it, the network logon)."""
    s.keys = set()

    def key(cond):
        if cond:
            s.keys.add(w.last)
    def fams(host):
        return tfams if host == s.tgt else sfams

    def shift(host, fam):
        # the Security log and Defender run `skew` seconds off Sysmon on the target; the source
        # host's clocks run the other way
        d = w.skew if fam in ("security", "defender", "system") else 0
        return d if host == s.tgt else -w.skew

    def has(host, fam, sub=None):
        f = fams(host)
        return fam in f or (sub and "%s-%s" % (fam, sub) in f)

    procs = {p["name"]: p for p in s.procs}
    procs["explorer"] = dict(EXPLORER, host=s.tgt, guid="{%08X-0000-0000-0000-0000000000EE}" % s.k, t=s.t0 - 3600,
                             logon=0x3a000 + s.k, user="CORP\\desk")
    procs["launcher"] = dict(name="launcher", image=SVCHOST, cmd=LAUNCHER, pid=900, host=s.tgt,
                             guid="{%08X-0000-0000-0000-000000000900}" % s.k)
    procs["srcparent"] = dict(name="srcparent", image="C:\\Windows\\explorer.exe", cmd="explorer.exe", pid=700,
                              host=s.src, guid="{%08X-0000-0000-0000-000000000700}" % s.k)
    def logname(host, fam):
        return host if w.barehost and fam in ("security", "defender") else fqdn(host)

    for p in s.procs:
        par = procs[p["parent"]]
        host = p["host"]
        name = fqdn(host)
        user = p["user"].split("\\")
        if has(host, "sysmon", "process"):
            data = {"Image": p["image"], "CommandLine": p["cmd"], "ProcessGuid": p["guid"], "ProcessId": str(p["pid"]),
                    "ParentImage": par["image"], "ParentCommandLine": par["cmd"], "ParentProcessGuid": par["guid"],
                    "ParentProcessId": str(par["pid"]), "User": p["user"], "LogonId": "0x%x" % p["logon"]}
            if w.nopid:
                del data["ProcessId"]
            w.nxlog("sysmon", name, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 1,
                    p["t"] + shift(host, "sysmon"), data, "sysmon-%s.json" % host)
            key(p["name"] in KEY_PROCS and host == s.tgt)
        if has(host, "security", "process"):
            w.nxlog("security", logname(host, "security"), "Security", "Microsoft-Windows-Security-Auditing", 4688,
                    p["t"] + shift(host, "security"),
                    {"NewProcessName": p["image"], "CommandLine": p["cmd"], "NewProcessId": "0x%x" % p["pid"],
                     "ProcessId": "0x%x" % par["pid"], "ParentProcessName": par["image"],
                     "SubjectLogonId": "0x3e7" if p.get("launcher") else "0x%x" % p["logon"],
                     "TargetLogonId": "0x%x" % p["logon"] if p.get("launcher") else "0x0",
                     "TargetUserName": user[-1] if p.get("launcher") else "-",
                     "TargetDomainName": user[0] if p.get("launcher") else "-"},
                    "security-%s.json" % host)
            key(p["name"] in KEY_PROCS and host == s.tgt)
        if has(host, "defender"):
            w.defender("DeviceProcessEvents", logname(host, "defender"), p["t"] + shift(host, "defender"),
                       {"ActionType": "ProcessCreated", "FileName": p["image"].rsplit("\\", 1)[-1],
                        "FolderPath": p["image"], "ProcessId": p["pid"], "ProcessCommandLine": p["cmd"],
                        "AccountDomain": user[0], "AccountName": user[-1], "LogonId": p["logon"],
                        "InitiatingProcessFileName": par["image"].rsplit("\\", 1)[-1],
                        "InitiatingProcessFolderPath": par["image"], "InitiatingProcessCommandLine": par["cmd"],
                        "InitiatingProcessId": par["pid"]},
                       "defender-%s.json" % host)
            key(p["name"] in KEY_PROCS and host == s.tgt)
    for c in s.conns:
        host = c["host"]
        name = fqdn(host)
        p = procs.get(c["proc"])
        image = c["image"] or (p["image"] if p else "System")
        pid = p["pid"] if p else (4 if image == "System" else 1100)
        guid = p["guid"] if p else "{%08X-0000-0000-0000-0000000001%02X}" % (s.k, c["lport"] % 256)
        t = c["t"]
        if w.netfirst and c["inbound"] and c["proc"] not in ("rpcss", "system"):
            t = s.t0 - 3.0  # logged before the creation record of the process that accepted it
        src, sport, dst, dport = ((c["rip"], c["rport"], c["lip"], c["lport"]) if c["inbound"]
                                  else (c["lip"], c["lport"], c["rip"], c["rport"]))
        if has(host, "sysmon", "network"):
            ss, ssp, sd, sdp = (dst, dport, src, sport) if w.flipped and c["inbound"] else (src, sport, dst, dport)
            data = {"Image": image, "ProcessGuid": guid, "ProcessId": str(pid), "Protocol": "tcp",
                    "Initiated": "false" if c["inbound"] else "true", "SourceIp": ss, "SourcePort": str(ssp),
                    "DestinationIp": sd, "DestinationPort": str(sdp)}
            if w.nopid:
                del data["ProcessId"]
            w.nxlog("sysmon", name, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 3,
                    t + shift(host, "sysmon"), data, "sysmon-%s.json" % host)
            key(c["inbound"] and c["proc"] in ("server", "explorer"))
        if has(host, "security", "network"):
            dev = "\\device\\harddiskvolume2" + image[2:].lower() if image[1:2] == ":" else image
            w.nxlog("security", logname(host, "security"), "Security", "Microsoft-Windows-Security-Auditing", 5156,
                    t + shift(host, "security"),
                    {"ProcessId": str(pid), "Application": dev, "Direction": "%%14592" if c["inbound"] else "%%14593",
                     "SourceAddress": src, "SourcePort": str(sport), "DestAddress": dst, "DestPort": str(dport),
                     "Protocol": "6"},
                    "security-%s.json" % host)
            key(c["inbound"] and c["proc"] in ("server", "explorer"))
        if has(host, "defender"):
            w.defender("DeviceNetworkEvents", logname(host, "defender"), t + shift(host, "defender"),
                       {"ActionType": "InboundConnectionAccepted" if c["inbound"] else "ConnectionSuccess",
                        "LocalIP": c["lip"], "LocalPort": c["lport"], "RemoteIP": c["rip"], "RemotePort": c["rport"],
                        "InitiatingProcessFileName": image.rsplit("\\", 1)[-1], "InitiatingProcessFolderPath": image,
                        "InitiatingProcessId": pid},
                       "defender-%s.json" % host)
            key(c["inbound"] and c["proc"] in ("server", "explorer"))
    for l in s.logons:
        name = fqdn(s.tgt)
        if has(s.tgt, "security"):
            w.nxlog("security", logname(s.tgt, "security"), "Security", "Microsoft-Windows-Security-Auditing", 4624,
                    l["t"] + shift(s.tgt, "security"),
                    {"LogonType": str(l["type"]), "TargetUserName": l["user"], "TargetDomainName": l["dom"],
                     "TargetLogonId": "0x%x" % l["lid"], "IpAddress": l["ip"], "IpPort": "50099",
                     "WorkstationName": "-", "AuthenticationPackageName": "NTLM"},
                    "security-%s.json" % s.tgt)
            key(l["ip"] == s.src_ip and s.kind != "lookalike")
        if has(s.tgt, "defender"):
            w.defender("DeviceLogonEvents", logname(s.tgt, "defender"), l["t"] + shift(s.tgt, "defender"),
                       {"ActionType": "LogonSuccess", "LogonType": "Network", "AccountDomain": l["dom"],
                        "AccountName": l["user"], "LogonId": l["lid"], "RemoteIP": l["ip"], "RemotePort": 50099,
                        "Protocol": "NTLM"},
                       "defender-%s.json" % s.tgt)
            key(l["ip"] == s.src_ip and s.kind != "lookalike")
    for ld in s.loads:
        p = procs[ld["proc"]]
        name = fqdn(s.tgt)
        if has(s.tgt, "sysmon"):
            data = {"Image": p["image"], "ImageLoaded": ld["dll"], "ProcessGuid": p["guid"], "ProcessId": str(p["pid"]),
                    "Signed": ld["signed"], "SignatureStatus": "Unavailable"}
            if w.nopid:
                del data["ProcessId"]
            w.nxlog("sysmon", name, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 7,
                    ld["t"] + shift(s.tgt, "sysmon"), data, "sysmon-%s.json" % s.tgt)
        if has(s.tgt, "defender"):
            w.defender("DeviceImageLoadEvents", logname(s.tgt, "defender"), ld["t"] + shift(s.tgt, "defender"),
                       {"ActionType": "ImageLoaded", "FileName": ld["dll"].rsplit("\\", 1)[-1], "FolderPath": ld["dll"],
                        "InitiatingProcessFileName": p["image"].rsplit("\\", 1)[-1],
                        "InitiatingProcessFolderPath": p["image"], "InitiatingProcessId": p["pid"]},
                       "defender-%s.json" % s.tgt)
    for f in s.files:
        name = fqdn(s.tgt)
        if has(s.tgt, "sysmon"):
            w.nxlog("sysmon", name, "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 11,
                    f["t"] + shift(s.tgt, "sysmon"),
                    {"Image": "System", "ProcessId": "4", "TargetFilename": f["path"]}, "sysmon-%s.json" % s.tgt)
        if has(s.tgt, "security") and f["smb_from"]:
            w.nxlog("security", logname(s.tgt, "security"), "Security", "Microsoft-Windows-Security-Auditing", 5145,
                    f["t"] + shift(s.tgt, "security"),
                    {"ShareName": "\\\\*\\C$", "RelativeTargetName": f["path"][3:], "IpAddress": f["smb_from"],
                     "IpPort": "50200", "SubjectUserName": s.user, "SubjectLogonId": "0x%x" % (s.lid + 1),
                     "AccessMask": "0x2"},
                    "security-%s.json" % s.tgt)
    for sc in s.scripts:
        if has(s.src, "ps"):
            w.nxlog("ps", fqdn(s.src), "Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell", 4104,
                    sc["t"] + shift(s.src, "ps"), {"ScriptBlockText": sc["text"], "MessageNumber": "1",
                                                  "MessageTotal": "1"},
                    "ps-%s.json" % s.src)
    for e in s.explicit:
        if has(s.src, "security"):
            w.nxlog("security", fqdn(s.src), "Security", "Microsoft-Windows-Security-Auditing", 4648,
                    e["t"] + shift(s.src, "security"),
                    {"SubjectUserName": "op", "TargetUserName": s.user, "TargetServerName": e["target"],
                     "TargetInfo": "RPCSS/" + e["target"], "ProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"},
                    "security-%s.json" % s.src)
    if with_wire:
        for r in s.wire:
            w.emit("zeek-dce_rpc.json", {"ts": (BASE + timedelta(seconds=r["t"])).timestamp(), "uid": "C%d%d" % (s.k, int(r["t"] * 10) % 1000),
                                         "id.orig_h": r["orig"], "id.orig_p": 50110, "id.resp_h": r["resp"],
                                         "id.resp_p": r["port"], "rtt": 0.001, "named_pipe": str(r["port"]),
                                         "endpoint": r["endpoint"], "operation": r["op"]})


# ---- running and judging ---------------------------------------------------------------------


def hunt(dcomhunt, paths):
    r = subprocess.run([dcomhunt, "hunt", "--jsonl", "--no-progress"] + paths, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise SystemExit("hunt: exit %d\n%s" % (r.returncode, r.stderr[-2000:]))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def same_host(a, b):
    a, b = a.lower(), b.lower()
    return a == b or a.split(".")[0] == b.split(".")[0]


def judge(s, expect, found, sset):
    """TP/FN and the number of extra lateral/attempt findings for one scenario: the finding
    must name the target, the source, the object the sensor set can tell, and hold the key
    records (the server's start, its first command, the connection to it, the logon)."""
    mine = [f for f in found if same_host(f["target"]["host"], s.tgt) or f["target"]["ip"] == s.tgt_ip or
            (f["kind"] in ("source_activity",) and same_host(f["source"]["host"], s.src))]
    bad = [f for f in mine if f["kind"] in ("lateral_movement", "attempt")]
    if expect is None:
        return None, len(bad) if s.kind == "lookalike" else 0, ""
    want = [f for f in mine if f["kind"] == expect]
    ok, why = [], ""
    for f in want:
        if expect == "lateral_movement":
            src = f["source"]["ip"] == s.src_ip or same_host(f["source"]["host"], s.src)
            if sset == "all" and not s.linux_source:
                src = src and same_host(f["source"]["host"], s.src)  # both sides: named
            # the object: the wire cannot tell it; the target alone tells explorer's objects
            # apart only by the source's code
            want_obj = "" if sset == "zeek" else s.obj if sset == "all" or s.kind != "explorer" else s.obj_image
            recs = {e["record_id"] for e in f["evidence"]}
            if src and f["com_object"] == want_obj and s.keys <= recs:
                ok.append(f)
            elif src:
                why = "object %r (want %r), missing records %s" % (f["com_object"], want_obj, sorted(s.keys - recs))
        else:
            if same_host(f["target"]["host"], s.tgt) and f["com_object"] in (s.obj, ""):
                ok.append(f)
    extra = len(bad) - (1 if ok and expect == "lateral_movement" else 0)
    if not ok:
        why = (why + "; " if why else "") + "got %s" % [
            (f["kind"], f["target"]["host"], f["source"], f["com_object"]) for f in mine]
    return bool(ok), max(extra, 0), why


def shared_records(found):
    seen = {}
    for f in found:
        for e in f["evidence"]:
            key = (e["file"], e["record_id"], e["channel"], e["host"], e["time"])
            if key in seen and seen[key] != f["id"]:
                return key
            seen[key] = f["id"]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--write", help="write the table (markdown) to this file")
    ap.add_argument("--quick", action="store_true", help="skew 0 and 60 only, no shuffle")
    a = ap.parse_args()
    meths = methods()
    looks = lookalikes(len(meths) + 1)
    scen = meths + looks
    skews = ["0", "+60", "netfirst"] if a.quick else SKEWS
    fails = []
    # per (method, set): [tp, cases, extra]; per set likewise
    cell, notes = {}, {}
    runs = 0
    with tempfile.TemporaryDirectory() as d:
        jobs = []
        for sset, (tf, sf, wired) in SETS.items():
            for skew in skews:
                for shuffle in ([False] if a.quick else [False, True]):
                    for dup in (False, True):
                        w = Writer(skew)
                        keys = {}
                        for s in scen:
                            project(s, w, tf, sf, wired)
                            keys[s.method] = s.keys
                        paths = []
                        rnd = random.Random(runs)
                        for name, lines in sorted(w.files.items()):
                            if shuffle:
                                rnd.shuffle(lines)
                            p = os.path.join(d, "%d-%s" % (runs, name))
                            with open(p, "w") as f:
                                f.write("\n".join(lines) + "\n")
                            paths.append(p)
                        runs += 1
                        jobs.append((sset, skew, shuffle, dup, keys, paths + paths if dup else paths))
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda j: hunt(a.dcomhunt, j[5]), jobs))
        for (sset, skew, shuffle, dup, keys, _), found in zip(jobs, results):
            shared = shared_records(found)
            if shared:
                fails.append("%s/%s: two findings share record %s" % (sset, skew, shared))
            for s in scen:
                s.keys = keys[s.method]
                expect, why_not = sufficient(s, sset)
                ok, extra, why = judge(s, expect, found, sset)
                c = cell.setdefault((s.method, sset), [0, 0, 0, s.kind])
                if expect is not None:
                    c[1] += 1
                    c[0] += int(bool(ok))
                    if not ok:
                        fails.append("%s, %s, skew %s%s%s: missed (%s)" % (
                            s.method, sset, skew, ", shuffled" if shuffle else "", ", twice" if dup else "", why))
                else:
                    notes[(s.method, sset)] = why_not
                c[2] += extra
                if extra and s.kind == "lookalike":
                    fails.append("%s, %s, skew %s: %d lateral_movement/attempt findings" % (
                        s.method, sset, skew, extra))
    # the table
    sets = list(SETS)
    lines = ["# Evaluation matrix", "",
             "Generated by `tests/eval/eval.py --write` (a ctest: `eval_matrix`). Each cell: recall as found/cases "
             "over %d variants (skew %s; shuffled or not; read once or twice), and extra lateral_movement/attempt "
             "findings (false positives) after the slash; `-` where the sensor set cannot suffice (why below)."
             % (len(skews) * (1 if a.quick else 2) * 2, ", ".join(skews)), "",
             "| method | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
    tot_set = {k: [0, 0, 0] for k in sets}
    for s in scen:
        row = []
        for k in sets:
            tp, n, extra, kind = cell[(s.method, k)]
            tot_set[k][0] += tp
            tot_set[k][1] += n
            tot_set[k][2] += extra
            row.append(("%d/%d" % (tp, n) if n else "-") + (" / %d FP" % extra if extra else ""))
        lines.append("| %s%s | %s |" % (s.method, " (look-alike)" if s.kind == "lookalike" else "", " | ".join(row)))
    lines.append("| **recall** | " + " | ".join("%.0f%%" % (100.0 * v[0] / v[1]) if v[1] else "-"
                                                for v in tot_set.values()) + " |")
    lines.append("| **precision** | " + " | ".join("%.0f%%" % (100.0 * v[0] / (v[0] + v[2])) if v[0] + v[2] else "-"
                                                   for v in tot_set.values()) + " |")
    per_method = []
    for s in scen:
        if s.kind == "lookalike":
            continue
        tp = sum(cell[(s.method, k)][0] for k in sets)
        n = sum(cell[(s.method, k)][1] for k in sets)
        fp = sum(cell[(s.method, k)][2] for k in sets)
        per_method.append("| %s | %d/%d (%.0f%%) | %.0f%% |" % (s.method, tp, n, 100.0 * tp / max(n, 1),
                                                              100.0 * tp / max(tp + fp, 1)))
    lines += ["", "Per method (all sensor sets):", "", "| method | recall | precision |", "|---|---|---|"] + per_method
    fp_look = sum(cell[(s.method, k)][2] for s in looks for k in sets)
    lines += ["", "Look-alikes: %d scenarios x %d sensor sets x %d variants, %d lateral_movement/attempt findings."
              % (len(looks), len(sets), len(skews) * (1 if a.quick else 2) * 2, fp_look), "",
              "Where a sensor set cannot suffice:", ""]
    for why in sorted(set(v for v in notes.values() if v)):
        which = sorted({m for (m, k), v in notes.items() if v == why and k})
        sets_ = sorted({k for (m, k), v in notes.items() if v == why})
        lines.append("- %s (%s; %s)" % (why, ", ".join(sets_), "%d methods" % len(which)))
    table = "\n".join(lines) + "\n"
    print(table)
    if a.write:
        with open(a.write, "w") as f:
            f.write(table)
    for m in fails[:40]:
        print("FAIL:", m)
    print("%d hunts; %d failures" % (runs, len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
