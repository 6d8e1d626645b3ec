/* Background noise: what an estate logs when nobody attacks it, streamed in time order, one
 * event at a time, so any volume can be written in constant memory (tens of GB for
 * benchmarks). The mix follows real workstation and server logs: mostly Security logons and
 * process events, Sysmon process, network, image-load, file, registry and DNS events,
 * System service changes and the local DistributedCOM 10016 noise every Windows host
 * has, benign PowerShell; and, for the network sensor, DNS, Kerberos, LDAP, SMB, HTTPS and
 * RPC connections between the hosts and the domain controller.
 *
 * It also holds the benign look-alikes a hunt must ignore: local COM servers started by
 * DcomLaunch with -Embedding (RuntimeBroker, dllhost, the WMI provider host) under the
 * desktop user's or a service's logon, with no remote logon or connection behind them.
 *
 * The generator runs on a private copy of the world (the host's boot processes, a ring of
 * recent processes, its own arena and RNG): the scenario's world is never touched, and
 * each host's stream depends only on the seed and the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define RING 48 /* recent processes a background event may name */

/* A recent process's strings: the arena is emptied after every batch of events, the
 * ring's processes live on. */
typedef struct slot_text {
    char image[260], cmd[1200], guid[40], logon_guid[40], orig[64], cwd[32];
} slot_text;

struct sim_noise {
    sim_world shell; /* builders write here; its events are taken one at a time */
    int host;        /* -1: the network sensor */
    int64_t t, to;
    double mean_gap; /* ticks between events */
    int stopped;
    uint64_t count;
    size_t next; /* next pending event of shell.evs to hand out */
    int nring, ring_pos;
    int base_procs;           /* boot processes copied from the world; the ring follows them */
    int acct_dc, acct_system; /* accounts of background logons */
    char dc_sid[96];
    slot_text text[RING];
    sim_ev out;
};

typedef struct image {
    const char *image, *cmd;
    int parent; /* 0 services, 1 explorer (desktop user), 2 DcomLaunch, 3 netsvcs (Schedule) */
    int system; /* runs as SYSTEM */
    unsigned weight;
} image;

static const image images[] = {
    {"C:\\Windows\\System32\\svchost.exe",
     "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s BITS", 0, 1, 4},
    {"C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe Install $(Arg0)", 3, 1, 6},
    {"C:\\Windows\\System32\\conhost.exe",
     "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", 3, 1, 8},
    {"C:\\Windows\\System32\\RuntimeBroker.exe",
     "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding", 2, 0, 6},
    {"C:\\Windows\\System32\\dllhost.exe",
     "C:\\Windows\\system32\\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}", 2, 0,
     5},
    {"C:\\Windows\\System32\\backgroundTaskHost.exe",
     "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" "
     "-ServerName:BackgroundTaskHost.WebAccountProvider",
     2, 0, 4},
    {"C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
     "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", 2, 1, 3},
    {"C:\\Windows\\System32\\SearchProtocolHost.exe",
     "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe1_ "
     "Global\\UsGthrCtrlFltPipeMssGthrPipe1 1 -2147483646 \"Software\\Microsoft\\Windows Search\" "
     "\"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)\" "
     "\"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" \"DownLevelDaemon\" ",
     0, 1, 4},
    {"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer "
     "--field-trial-handle=1740,2387402987340 --lang=en-US --renderer-client-id=41 "
     "--mojo-platform-channel-handle=4512 /prefetch:1",
     1, 0, 9},
    {"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
     "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" ", 1, 0, 2},
    {"C:\\Windows\\System32\\notepad.exe", "\"C:\\Windows\\system32\\notepad.exe\" ", 1, 0, 2},
    {"C:\\Windows\\System32\\gpupdate.exe", "gpupdate.exe /target:computer", 3, 1, 2},
    {"C:\\Windows\\System32\\sc.exe", "C:\\Windows\\system32\\sc.exe start wuauserv", 3, 1, 2},
    {"C:\\Program Files\\Windows Defender\\MpCmdRun.exe",
     "\"C:\\Program Files\\Windows Defender\\MpCmdRun.exe\" -wdenable", 0, 1, 3},
    {"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
     "powershell.exe -ExecutionPolicy Restricted -Command Write-Host 'Final result: 1';", 3, 1, 2},
    {"C:\\Windows\\System32\\smartscreen.exe", "C:\\Windows\\System32\\smartscreen.exe -Embedding",
     2, 0, 2},
};

static const char *const dlls[] = {
    "C:\\Windows\\System32\\ntdll.dll",          "C:\\Windows\\System32\\kernel32.dll",
    "C:\\Windows\\System32\\combase.dll",        "C:\\Windows\\System32\\rpcrt4.dll",
    "C:\\Windows\\System32\\wintrust.dll",       "C:\\Windows\\System32\\crypt32.dll",
    "C:\\Windows\\System32\\amsi.dll",           "C:\\Windows\\System32\\clbcatq.dll",
    "C:\\Windows\\System32\\wbem\\wbemcomn.dll",
};
static const char *const domains[] = {"login.microsoftonline.com",       "www.bing.com",
                                      "settings-win.data.microsoft.com", "ctldl.windowsupdate.com",
                                      "outlook.office365.com",           "edge.microsoft.com"};
static const char *const services[] = {"Windows Update",
                                       "Background Intelligent Transfer Service",
                                       "WinHTTP Web Proxy Auto-Discovery Service",
                                       "Microsoft Store Install Service",
                                       "Windows Modules Installer",
                                       "Delivery Optimization"};
static const char *const scripts[] = {
    "prompt",
    "$global:?",
    "{ Set-StrictMode -Version 1; $_.PSMessageDetails }",
    "Get-Service -Name wuauserv | Select-Object Status",
    "Import-Module -Name Microsoft.PowerShell.Management",
    "(Get-WmiObject -Class Win32_OperatingSystem).LastBootUpTime",
};

/* A pseudo-random time step with the mean wanted (uniform over twice the mean). */
static int64_t gap(sim_noise *n)
{
    return (int64_t)(sim_rng_unit(&n->shell.rng) * 2 * n->mean_gap) + 1;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Starts a background process in the ring's next slot (the slot's previous process ends
 * now); returns its index. */
static int new_proc(sim_noise *n)
{
    sim_world *w = &n->shell;
    const sim_host *h = &w->hosts[n->host];
    unsigned total = 0;
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
        total += images[i].weight;
    unsigned pick = (unsigned)sim_rng_below(&w->rng, total);
    const image *im = images;
    while (pick >= im->weight) {
        pick -= im->weight;
        im++;
    }
    int parent = im->parent == 1 && h->p_explorer >= 0 ? h->p_explorer
                 : im->parent == 2                     ? h->p_dcomlaunch
                 : im->parent == 3                     ? h->p_netsvcs
                                                       : h->p_services;
    int user = USER_SYSTEM;
    uint64_t logon = 0x3e7;
    if (!im->system && h->desktop >= 0) {
        user = h->desktop;
        logon = h->desktop_logon;
    } else if (!im->system) {
        user = USER_LOCAL_SERVICE;
        logon = 0x3e5;
    }
    int slot = n->ring_pos;
    int at = n->base_procs + slot;
    if (slot < n->nring)
        ev_process_end(w, at, n->t);
    else
        n->nring++;
    n->ring_pos = (n->ring_pos + 1) % RING;
    w->nprocs = (size_t)n->base_procs + RING; /* sim_proc_new appends after the ring */
    int p = sim_proc_new(w, n->host, parent, im->image, im->cmd, user, logon,
                         user == USER_SYSTEM ? "System" : "Medium", n->t);
    if (p < 0)
        return -1;
    sim_proc *np = &w->procs[at];
    *np = w->procs[p];
    w->nprocs--;
    slot_text *tx = &n->text[slot];
    copy_text(tx->image, sizeof tx->image, np->image);
    copy_text(tx->cmd, sizeof tx->cmd, np->cmd);
    copy_text(tx->guid, sizeof tx->guid, np->guid);
    copy_text(tx->logon_guid, sizeof tx->logon_guid, np->logon_guid);
    copy_text(tx->orig, sizeof tx->orig, np->orig);
    copy_text(tx->cwd, sizeof tx->cwd,
              user == USER_SYSTEM ? "C:\\Windows\\system32\\" : "C:\\Users\\Public\\");
    np->image = tx->image, np->cmd = tx->cmd, np->guid = tx->guid;
    np->logon_guid = tx->logon_guid, np->orig = tx->orig, np->cwd = tx->cwd;
    ev_process_start(w, at, 0, SIDE_NONE, EVC_NONE);
    return at;
}

static int any_proc(sim_noise *n)
{
    if (!n->nring)
        return n->shell.hosts[n->host].p_netsvcs;
    return n->base_procs + (int)sim_rng_below(&n->shell.rng, (uint64_t)n->nring);
}

static const char *ip_public(sim_world *w)
{
    static const char *const nets[] = {"20.190.", "13.107.", "52.113.", "40.126.", "204.79."};
    return sim_printf(&w->arena, "%s%u.%u", nets[sim_rng_below(&w->rng, 5)],
                      (unsigned)sim_rng_below(&w->rng, 255),
                      (unsigned)(1 + sim_rng_below(&w->rng, 254)));
}

static void host_event(sim_noise *n)
{
    sim_world *w = &n->shell;
    sim_host *h = &w->hosts[n->host];
    unsigned r = (unsigned)sim_rng_below(&w->rng, 1000);
    if (r < 170) { /* process start (Sysmon 1 + 4688), and the end of an older one */
        new_proc(n);
    } else if (r < 330) { /* an outbound connection (Sysmon 3 + 5156) */
        int p = any_proc(n);
        int dc = sim_rng_below(&w->rng, 3) != 0;
        uint16_t ports[] = {389, 88, 445, 53, 135};
        uint16_t dport = dc ? ports[sim_rng_below(&w->rng, 5)] : 443;
        const char *dip = dc ? "10.20.1.10" : ip_public(w);
        uint16_t sport = sim_port(w, n->host, 0);
        sim_ev *e = sim_ev_new(w, n->host, SRC_SYSMON, 3, n->t, 18);
        if (!e)
            return;
        const sim_proc *pp = &w->procs[p];
        sim_ev_put(e, "RuleName", "-");
        sim_ev_put(e, "UtcTime", sim_logged_time);
        sim_ev_put(e, "ProcessGuid", pp->guid);
        sim_ev_put(e, "ProcessId", sim_printf(&w->arena, "%u", pp->pid));
        sim_ev_put(e, "Image", pp->image);
        sim_ev_put(e, "User", sim_user_name(w, pp->user, n->host));
        sim_ev_put(e, "Protocol", dport == 53 ? "udp" : "tcp");
        sim_ev_put(e, "Initiated", "true");
        sim_ev_put(e, "SourceIsIpv6", "false");
        sim_ev_put(e, "SourceIp", h->ip);
        sim_ev_put(e, "SourceHostname", "-");
        sim_ev_put(e, "SourcePort", sim_printf(&w->arena, "%u", sport));
        sim_ev_put(e, "SourcePortName", "-");
        sim_ev_put(e, "DestinationIsIpv6", "false");
        sim_ev_put(e, "DestinationIp", dip);
        sim_ev_put(e, "DestinationHostname", "-");
        sim_ev_put(e, "DestinationPort", sim_printf(&w->arena, "%u", dport));
        sim_ev_put(e, "DestinationPortName", "-");
        e = sim_ev_new(w, n->host, SRC_WFP, 5156, n->t + 1000, 13);
        if (!e)
            return;
        sim_ev_put(e, "ProcessID", sim_printf(&w->arena, "%u", pp->pid));
        sim_ev_put(e, "Application", "\\device\\harddiskvolume2\\windows\\system32\\svchost.exe");
        sim_ev_put(e, "Direction", "%%14593");
        sim_ev_put(e, "SourceAddress", h->ip);
        sim_ev_put(e, "SourcePort", sim_printf(&w->arena, "%u", sport));
        sim_ev_put(e, "DestAddress", dip);
        sim_ev_put(e, "DestPort", sim_printf(&w->arena, "%u", dport));
        sim_ev_put(e, "Protocol", dport == 53 ? "17" : "6");
        sim_ev_put(e, "FilterRTID", "0");
        sim_ev_put(e, "LayerName", "%%14611");
        sim_ev_put(e, "LayerRTID", "48");
        sim_ev_put(e, "RemoteUserID", "S-1-0-0");
        sim_ev_put(e, "RemoteMachineID", "S-1-0-0");
    } else if (r < 470) { /* a network logon: the DC or a management server, machine or user */
        sim_logon l;
        memset(&l, 0, sizeof l);
        l.host = n->host;
        l.type = sim_rng_below(&w->rng, 4) ? 3 : 5;
        l.account = l.type == 3 ? n->acct_dc : n->acct_system;
        l.id = h->next_logon;
        h->next_logon += 0x40 + sim_rng_below(&w->rng, 0x400);
        l.kerberos = 1;
        l.guid = "{8F2A3C41-77D2-4B1E-9A0C-5E3D2F1B6A70}";
        l.src_ip = l.type == 3 ? "10.20.1.10" : "-";
        l.workstation = "-";
        l.src_port = l.type == 3 ? (uint16_t)(49152 + sim_rng_below(&w->rng, 16000)) : 0;
        l.t = n->t;
        ev_logon(w, &l, 0);
        ev_logoff(w, &l, n->t + (int64_t)(1 + sim_rng_below(&w->rng, 30)) * SIM_TICKS);
    } else if (r < 560) { /* an image load */
        int p = any_proc(n);
        ev_image_load(w, p, dlls[sim_rng_below(&w->rng, sizeof dlls / sizeof dlls[0])], 1, n->t, 0);
    } else if (r < 640) { /* a file written */
        int p = any_proc(n);
        ev_file(w, p,
                sim_printf(&w->arena, "C:\\Windows\\Temp\\%08llx.tmp",
                           (unsigned long long)(sim_rng_next(&w->rng) & 0xFFFFFFFF)),
                n->t, 0);
    } else if (r < 720) { /* a registry value */
        int p = any_proc(n);
        ev_registry(
            w, p,
            "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\"
            "LastOnlineScanTimeForAppCategory",
            sim_printf(&w->arena, "QWORD (0x01d9%04x-0x%08x)",
                       (unsigned)sim_rng_below(&w->rng, 0xFFFF), (unsigned)sim_rng_next(&w->rng)),
            n->t, 0);
    } else if (r < 800) { /* a DNS query */
        int p = any_proc(n);
        const sim_proc *pp = &w->procs[p];
        sim_ev *e = sim_ev_new(w, n->host, SRC_SYSMON, 22, n->t, 9);
        if (!e)
            return;
        sim_ev_put(e, "RuleName", "-");
        sim_ev_put(e, "UtcTime", sim_logged_time);
        sim_ev_put(e, "ProcessGuid", pp->guid);
        sim_ev_put(e, "ProcessId", sim_printf(&w->arena, "%u", pp->pid));
        sim_ev_put(e, "QueryName", domains[sim_rng_below(&w->rng, 6)]);
        sim_ev_put(e, "QueryStatus", "0");
        sim_ev_put(e, "QueryResults", "type:  5 prod.msocdn.com;::ffff:52.113.194.132;");
        sim_ev_put(e, "Image", pp->image);
        sim_ev_put(e, "User", sim_user_name(w, pp->user, n->host));
    } else if (r < 840) { /* a service changes state */
        ev_service(w, n->host, services[sim_rng_below(&w->rng, 6)],
                   sim_rng_below(&w->rng, 2) ? "running" : "stopped", n->t);
    } else if (r < 860) { /* the local DistributedCOM 10016 every Windows host logs */
        const char *params[] = {"machine-default",
                                "Local",
                                "Activation",
                                "{C2F03A33-21F5-47FA-B4BB-156362A2F239}",
                                "{316CDED5-E4AE-4B15-9113-7055D84DCC97}",
                                "NT AUTHORITY",
                                "LOCAL SERVICE",
                                "S-1-5-19",
                                "LocalHost (Using LRPC)",
                                "Unavailable",
                                "Unavailable"};
        ev_dcom_error(w, n->host, 10016, params, 11, n->t, "S-1-5-19", 0, SIDE_NONE);
    } else if (r < 900) { /* benign PowerShell */
        if (h->desktop < 0)
            return;
        int p = any_proc(n);
        ev_script(w, p, scripts[sim_rng_below(&w->rng, sizeof scripts / sizeof scripts[0])], "",
                  n->t, 0);
    } else { /* a listening bind (5158) */
        sim_ev *e = sim_ev_new(w, n->host, SRC_WFP, 5158, n->t, 8);
        if (!e)
            return;
        const sim_proc *pp = &w->procs[any_proc(n)];
        sim_ev_put(e, "ProcessId", sim_printf(&w->arena, "%u", pp->pid));
        sim_ev_put(e, "Application", "\\device\\harddiskvolume2\\windows\\system32\\svchost.exe");
        sim_ev_put(e, "SourceAddress", "0.0.0.0");
        sim_ev_put(e, "SourcePort", sim_printf(&w->arena, "%u", sim_port(w, n->host, 0)));
        sim_ev_put(e, "Protocol", "17");
        sim_ev_put(e, "FilterRTID", "0");
        sim_ev_put(e, "LayerName", "%%14608");
        sim_ev_put(e, "LayerRTID", "36");
    }
}

static void wire_event(sim_noise *n)
{
    sim_world *w = &n->shell;
    if (!w->nhosts)
        return;
    const sim_host *h = &w->hosts[sim_rng_below(&w->rng, w->nhosts)];
    static const struct {
        uint16_t port;
        const char *proto, *service;
    } kinds[] = {{53, "udp", "dns"},  {88, "tcp", "krb_tcp"}, {389, "tcp", "ldap"},
                 {445, "tcp", "smb"}, {443, "tcp", "ssl"},    {135, "tcp", "dce_rpc"},
                 {80, "tcp", "http"}};
    unsigned k = (unsigned)sim_rng_below(&w->rng, 7);
    const char *dip = kinds[k].port == 443 || kinds[k].port == 80 ? ip_public(w) : "10.20.1.10";
    sim_ev *z = sim_ev_new(w, -1, SRC_ZEEK_CONN, 0, n->t, 21);
    if (!z)
        return;
    unsigned long long ob = 60 + sim_rng_below(&w->rng, 3000),
                       rb = 60 + sim_rng_below(&w->rng, 9000);
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char uid[19];
    uid[0] = 'C';
    for (int i = 1; i < 18; i++)
        uid[i] = b62[sim_rng_below(&w->rng, 62)];
    uid[18] = 0;
    uint16_t sport = (uint16_t)(h->linux_os ? 32768 + sim_rng_below(&w->rng, 28000)
                                            : 49152 + sim_rng_below(&w->rng, 16000));
    sim_ev_put(z, "ts", sim_logged_time);
    sim_ev_put(z, "uid", sim_strdup(&w->arena, uid));
    sim_ev_put(z, "id.orig_h", h->ip);
    sim_ev_put(z, "id.orig_p", sim_printf(&w->arena, "%u", sport));
    sim_ev_put(z, "id.resp_h", dip);
    sim_ev_put(z, "id.resp_p", sim_printf(&w->arena, "%u", kinds[k].port));
    sim_ev_put(z, "proto", kinds[k].proto);
    sim_ev_put(z, "service", kinds[k].service);
    sim_ev_put(z, "duration", sim_printf(&w->arena, "%.6f", sim_rng_unit(&w->rng) * 2));
    sim_ev_put(z, "orig_bytes", sim_printf(&w->arena, "%llu", ob));
    sim_ev_put(z, "resp_bytes", sim_printf(&w->arena, "%llu", rb));
    sim_ev_put(z, "conn_state", kinds[k].port == 53 ? "SF" : "SF");
    sim_ev_put(z, "local_orig", "T");
    sim_ev_put(z, "local_resp", kinds[k].port == 443 || kinds[k].port == 80 ? "F" : "T");
    sim_ev_put(z, "missed_bytes", "0");
    sim_ev_put(z, "history", kinds[k].port == 53 ? "Dd" : "ShADadFf");
    sim_ev_put(z, "orig_pkts", sim_printf(&w->arena, "%llu", 1 + ob / 500));
    sim_ev_put(z, "orig_ip_bytes", sim_printf(&w->arena, "%llu", ob + 40));
    sim_ev_put(z, "resp_pkts", sim_printf(&w->arena, "%llu", 1 + rb / 500));
    sim_ev_put(z, "resp_ip_bytes", sim_printf(&w->arena, "%llu", rb + 40));
    sim_ev_put(z, "tunnel_parents", "(empty)");
}

sim_noise *sim_noise_new(sim_world *w, int host, int64_t from, int64_t to, double per_hour,
                         uint64_t seed)
{
    if (per_hour <= 0)
        return NULL;
    sim_noise *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->host = host;
    n->t = from;
    n->to = to;
    n->mean_gap = 3600.0 * SIM_TICKS / per_hour;
    sim_world *s = &n->shell;
    s->o = w->o;
    s->cat = w->cat;
    s->dns_domain = w->dns_domain;
    s->netbios = w->netbios;
    s->domain_sid = w->domain_sid;
    /* hosts and accounts are copied: the builders move ports and logon ids forward */
    s->hosts = malloc((w->nhosts ? w->nhosts : 1) * sizeof *s->hosts);
    s->accounts = malloc((w->naccounts + 2) * sizeof *s->accounts);
    s->procs = malloc((w->nprocs + RING + 8) * sizeof *s->procs);
    if (!s->hosts || !s->accounts || !s->procs) {
        sim_noise_free(n);
        return NULL;
    }
    memcpy(s->hosts, w->hosts, w->nhosts * sizeof *s->hosts);
    memcpy(s->accounts, w->accounts, w->naccounts * sizeof *s->accounts);
    memcpy(s->procs, w->procs, w->nprocs * sizeof *s->procs);
    s->nhosts = s->hosts_cap = w->nhosts;
    /* the accounts of background logons: the domain controller's machine account (group
     * policy, Kerberos), and SYSTEM for service logons */
    n->acct_dc = (int)w->naccounts;
    n->acct_system = (int)w->naccounts + 1;
    s->accounts[n->acct_dc] = (sim_account){"dc", "DC01$", w->netbios, NULL, 0, 1};
    snprintf(n->dc_sid, sizeof n->dc_sid, "%s-1000", w->domain_sid);
    s->accounts[n->acct_dc].sid = n->dc_sid;
    s->accounts[n->acct_system] =
        (sim_account){"system", "SYSTEM", "NT AUTHORITY", "S-1-5-18", 0, 1};
    s->naccounts = s->accounts_cap = w->naccounts + 2;
    s->nprocs = w->nprocs;
    s->procs_cap = w->nprocs + RING + 8;
    n->base_procs = (int)w->nprocs;
    char salt[64];
    snprintf(salt, sizeof salt, "noise:%s", host >= 0 ? w->hosts[host].name : "network");
    sim_rng_seed(&s->rng, seed, salt);
    if (host >= 0) {
        /* the noise's own ports and logon ids, well away from the scenarios' */
        s->hosts[host].next_port = 50000 + (uint32_t)sim_rng_below(&s->rng, 10000);
        s->hosts[host].next_logon += 0x10000000;
        s->hosts[host].next_pid = 20000 + (uint32_t)sim_rng_below(&s->rng, 2000) * 4;
    }
    return n;
}

const sim_ev *sim_noise_next(sim_noise *n)
{
    if (!n)
        return NULL;
    sim_world *s = &n->shell;
    for (;;) {
        while (n->next < s->nevs) {
            sim_ev *e = &s->evs[n->next++];
            if (n->host >= 0 && (e->src == SRC_ZEEK_CONN || e->src == SRC_ZEEK_DCE))
                continue; /* the network sensor has its own stream */
            n->out = *e;
            n->count++;
            return &n->out;
        }
        if (n->stopped || n->t > n->to)
            return NULL;
        /* the previous batch has been handed out: its strings can go */
        s->nevs = 0;
        n->next = 0;
        sim_arena_reset(&s->arena);
        n->t += gap(n);
        if (n->host >= 0)
            host_event(n);
        else
            wire_event(n);
        /* events of one batch leave in time order (a logoff may be later: fine) */
    }
}

void sim_noise_stop(sim_noise *n)
{
    if (n)
        n->stopped = 1;
}

uint64_t sim_noise_count(const sim_noise *n)
{
    return n ? n->count : 0;
}

void sim_noise_free(sim_noise *n)
{
    if (!n)
        return;
    free(n->shell.hosts);
    free(n->shell.accounts);
    free(n->shell.procs);
    free(n->shell.evs);
    sim_arena_free(&n->shell.arena);
    free(n);
}
