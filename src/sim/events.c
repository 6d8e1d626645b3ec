/* The events each action leaves, as Windows and Zeek write them: the data items of each
 * event id in Windows' order, with values shaped as real logs show them (read off the
 * corpus: Sysmon 13 on Windows 10, Security auditing on Windows 10 / Server 2016+, the
 * DistributedCOM and PowerShell providers, Zeek 4). Values that depend on the logged time
 * (Sysmon's UtcTime, Zeek's ts) are the marker sim_logged_time, rendered when written,
 * after clock skew. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim.h"

const char sim_logged_time[] = "\x01time";

const sim_source sim_sources[SRC_COUNT] = {
    [SRC_SYSMON] = {"Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational",
                    "Microsoft-Windows-Sysmon%4Operational.evtx", SEN_SYSMON, "sysmon"},
    [SRC_SECURITY] = {"Microsoft-Windows-Security-Auditing", "Security", "Security.evtx",
                      SEN_SECURITY, "security"},
    [SRC_WFP] = {"Microsoft-Windows-Security-Auditing", "Security", "Security.evtx", SEN_WFP,
                 "security"},
    [SRC_SYSTEM] = {"Microsoft-Windows-DistributedCOM", "System", "System.evtx", SEN_SYSTEM,
                    "system"},
    [SRC_POWERSHELL] = {"Microsoft-Windows-PowerShell", "Microsoft-Windows-PowerShell/Operational",
                        "Microsoft-Windows-PowerShell%4Operational.evtx", SEN_POWERSHELL,
                        "powershell"},
    [SRC_ZEEK_CONN] = {"Zeek", "Zeek/conn", "conn.log", 0, "zeek"},
    [SRC_ZEEK_DCE] = {"Zeek", "Zeek/dce_rpc", "dce_rpc.log", 0, "zeek"},
};

const char *sim_ev_provider(const sim_ev *e)
{
    if (e->src == SRC_SYSTEM && (e->id == 7036 || e->id == 7045))
        return "Service Control Manager";
    return sim_sources[e->src].provider;
}

sim_ev *sim_ev_new(sim_world *w, int host, int src, uint16_t id, int64_t t, size_t nkv)
{
    if (w->nevs == w->evs_cap) {
        size_t cap = w->evs_cap ? w->evs_cap * 2 : 256;
        sim_ev *v = realloc(w->evs, cap * sizeof *v);
        if (!v)
            return NULL;
        w->evs = v;
        w->evs_cap = cap;
    }
    sim_ev *e = &w->evs[w->nevs++];
    memset(e, 0, sizeof *e);
    e->t = t;
    e->host = host;
    e->src = (uint8_t)src;
    e->id = id;
    e->kv = sim_alloc(&w->arena, nkv * sizeof *e->kv);
    e->seq = w->seq++;
    if (t > w->end)
        w->end = t;
    if (host >= 0 && host < (int)w->nhosts && !w->hosts[host].linux_os) {
        const sim_host *h = &w->hosts[host];
        switch (src) {
        case SRC_SYSMON:
            e->pid = w->procs[h->p_sysmon].pid;
            e->tid = w->procs[h->p_sysmon].pid + 4 + (uint32_t)(sim_rng_below(&w->rng, 3) * 4);
            e->user_sid = "S-1-5-18";
            break;
        case SRC_SECURITY:
        case SRC_WFP:
            e->pid =
                id == 4624 || id == 4634 || id == 4672 || id == 4648 ? w->procs[h->p_lsass].pid : 4;
            e->tid = h->lsass_tid;
            break;
        default:
            e->pid = w->procs[h->p_rpcss].pid;
            e->tid = e->pid + 40;
            break;
        }
    }
    return e->kv ? e : NULL;
}

void sim_ev_put(sim_ev *e, const char *name, const char *value)
{
    e->kv[e->nkv].name = name;
    e->kv[e->nkv].value = value ? value : "-";
    e->nkv++;
}

static const char *num(sim_world *w, unsigned long long v)
{
    return sim_printf(&w->arena, "%llu", v);
}

static const char *hex(sim_world *w, unsigned long long v)
{
    return sim_printf(&w->arena, "0x%llx", v);
}

static void tag(sim_ev *e, int hop, int side, int evc)
{
    if (!e)
        return;
    e->hop = (uint16_t)hop;
    e->side = (uint8_t)side;
    e->evc = (uint8_t)evc;
}

/* A stable fake of the file hashes Sysmon writes for an image. */
static const char *hashes(sim_world *w, const char *image)
{
    uint64_t a = sim_hash(image, strlen(image), 0x84222325cbf29ce4ULL),
             b = a * 0x9E3779B97F4A7C15ULL, c = b ^ (a >> 17), d = c * 0xBF58476D1CE4E5B9ULL,
             e = d ^ (d >> 29);
    return sim_printf(
        &w->arena,
        "SHA1=%016llX%016llX%08X,MD5=%016llX%016llX,SHA256=%016llX%016llX%016llX%016llX,"
        "IMPHASH=%016llX%016llX",
        (unsigned long long)a, (unsigned long long)b, (unsigned)c, (unsigned long long)c,
        (unsigned long long)d, (unsigned long long)e, (unsigned long long)a, (unsigned long long)d,
        (unsigned long long)b, (unsigned long long)e, (unsigned long long)c);
}

static const char *label_sid(const char *integrity)
{
    return !strcmp(integrity, "Low")      ? "S-1-16-4096"
           : !strcmp(integrity, "High")   ? "S-1-16-12288"
           : !strcmp(integrity, "System") ? "S-1-16-16384"
                                          : "S-1-16-8192";
}

/* The account that 4688 names as the creator: SYSTEM and the service accounts appear as
 * the machine account. */
static void subject(sim_world *w, int host, int user, const char **sid, const char **name,
                    const char **domain)
{
    if (user < 0) {
        *sid = sim_user_sid(w, user);
        *name = user == USER_SYSTEM            ? sim_printf(&w->arena, "%s$", w->hosts[host].name)
                : user == USER_NETWORK_SERVICE ? "NETWORK SERVICE"
                                               : "LOCAL SERVICE";
        *domain = user == USER_SYSTEM ? w->netbios : "NT AUTHORITY";
    } else {
        *sid = w->accounts[user].sid;
        *name = w->accounts[user].name;
        *domain = w->accounts[user].domain;
    }
}

static const char *device_path(sim_world *w, const char *image)
{
    /* 5156 names the program by its device path, lower case */
    char *d = sim_printf(&w->arena, "\\device\\harddiskvolume2%s",
                         strlen(image) > 2 && image[1] == ':' ? image + 2 : image);
    for (char *c = d; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
    return d;
}

void ev_process_start(sim_world *w, int proc, int hop, int side, int evc)
{
    const sim_proc *p = &w->procs[proc];
    const sim_host *h = &w->hosts[p->host];
    if (h->linux_os)
        return;
    const sim_proc *pp = p->parent >= 0 ? &w->procs[p->parent] : NULL;
    const char *user = sim_user_name(w, p->user, p->host);
    int session = p->user >= 0 && p->logon_id == h->desktop_logon ? 1 : 0;
    sim_ev *e = sim_ev_new(w, p->host, SRC_SYSMON, 1, p->start, 23);
    if (!e)
        return;
    sim_ev_put(e, "RuleName", "-");
    sim_ev_put(e, "UtcTime", sim_logged_time);
    sim_ev_put(e, "ProcessGuid", p->guid);
    sim_ev_put(e, "ProcessId", num(w, p->pid));
    sim_ev_put(e, "Image", p->image);
    sim_ev_put(e, "FileVersion", p->version);
    sim_ev_put(e, "Description", p->desc);
    sim_ev_put(e, "Product", p->product);
    sim_ev_put(e, "Company", p->company);
    sim_ev_put(e, "OriginalFileName", p->orig);
    sim_ev_put(e, "CommandLine", p->cmd);
    sim_ev_put(e, "CurrentDirectory", p->cwd);
    sim_ev_put(e, "User", user);
    sim_ev_put(e, "LogonGuid", p->logon_guid);
    sim_ev_put(e, "LogonId", hex(w, p->logon_id));
    sim_ev_put(e, "TerminalSessionId", session ? "1" : "0");
    sim_ev_put(e, "IntegrityLevel", p->integrity);
    sim_ev_put(e, "Hashes", hashes(w, p->image));
    sim_ev_put(e, "ParentProcessGuid", pp ? pp->guid : "-");
    sim_ev_put(e, "ParentProcessId", pp ? num(w, pp->pid) : "0");
    sim_ev_put(e, "ParentImage", pp ? pp->image : "-");
    sim_ev_put(e, "ParentCommandLine", pp ? pp->cmd : "-");
    sim_ev_put(e, "ParentUser", pp ? sim_user_name(w, pp->user, pp->host) : "-");
    tag(e, hop, side, evc);

    const char *ssid, *sname, *sdom;
    subject(w, p->host, pp ? pp->user : USER_SYSTEM, &ssid, &sname, &sdom);
    int same = pp && pp->user == p->user && pp->logon_id == p->logon_id;
    const char *tsid = "S-1-0-0", *tname = "-", *tdom = "-";
    if (!same)
        subject(w, p->host, p->user, &tsid, &tname, &tdom);
    e = sim_ev_new(w, p->host, SRC_SECURITY, 4688, p->start, 15);
    if (!e)
        return;
    sim_ev_put(e, "SubjectUserSid", ssid);
    sim_ev_put(e, "SubjectUserName", sname);
    sim_ev_put(e, "SubjectDomainName", sdom);
    sim_ev_put(e, "SubjectLogonId", hex(w, pp ? pp->logon_id : 0x3e7));
    sim_ev_put(e, "NewProcessId", hex(w, p->pid));
    sim_ev_put(e, "NewProcessName", p->image);
    sim_ev_put(e, "TokenElevationType",
               !strcmp(p->integrity, "High") && p->user >= 0 && p->logon_id == h->desktop_logon
                   ? "%%1937"
               : !strcmp(p->integrity, "Medium") ? "%%1938"
                                                 : "%%1936");
    sim_ev_put(e, "ProcessId", hex(w, pp ? pp->pid : 0));
    sim_ev_put(e, "CommandLine", p->cmd);
    sim_ev_put(e, "TargetUserSid", tsid);
    sim_ev_put(e, "TargetUserName", tname);
    sim_ev_put(e, "TargetDomainName", tdom);
    sim_ev_put(e, "TargetLogonId", hex(w, same ? 0 : p->logon_id));
    sim_ev_put(e, "ParentProcessName", pp ? pp->image : "");
    sim_ev_put(e, "MandatoryLabel", label_sid(p->integrity));
    tag(e, hop, side, evc);
}

void ev_process_end(sim_world *w, int proc, int64_t t)
{
    const sim_proc *p = &w->procs[proc];
    if (w->hosts[p->host].linux_os)
        return;
    sim_ev *e = sim_ev_new(w, p->host, SRC_SYSMON, 5, t, 6);
    if (!e)
        return;
    sim_ev_put(e, "RuleName", "-");
    sim_ev_put(e, "UtcTime", sim_logged_time);
    sim_ev_put(e, "ProcessGuid", p->guid);
    sim_ev_put(e, "ProcessId", num(w, p->pid));
    sim_ev_put(e, "Image", p->image);
    sim_ev_put(e, "User", sim_user_name(w, p->user, p->host));
    const char *ssid, *sname, *sdom;
    subject(w, p->host, p->user, &ssid, &sname, &sdom);
    e = sim_ev_new(w, p->host, SRC_SECURITY, 4689, t, 7);
    if (!e)
        return;
    sim_ev_put(e, "SubjectUserSid", ssid);
    sim_ev_put(e, "SubjectUserName", sname);
    sim_ev_put(e, "SubjectDomainName", sdom);
    sim_ev_put(e, "SubjectLogonId", hex(w, p->logon_id));
    sim_ev_put(e, "Status", "0x0");
    sim_ev_put(e, "ProcessId", hex(w, p->pid));
    sim_ev_put(e, "ProcessName", p->image);
}

static const char *port_name(uint16_t port)
{
    switch (port) {
    case 135:
        return "epmap";
    case 445:
        return "microsoft-ds";
    case 80:
        return "http";
    case 443:
        return "https";
    case 5985:
        return "-";
    case 88:
        return "kerberos";
    case 389:
        return "ldap";
    case 53:
        return "domain";
    default:
        return "-";
    }
}

/* One Sysmon 3 record: the initiator is the source, as Sysmon writes it. */
static sim_ev *sysmon3(sim_world *w, int host, const sim_proc *p, int initiated, const char *sip,
                       uint16_t sport, const char *dip, uint16_t dport, int64_t t)
{
    sim_ev *e = sim_ev_new(w, host, SRC_SYSMON, 3, t, 18);
    if (!e)
        return NULL;
    sim_ev_put(e, "RuleName", "-");
    sim_ev_put(e, "UtcTime", sim_logged_time);
    sim_ev_put(e, "ProcessGuid", p->guid);
    sim_ev_put(e, "ProcessId", num(w, p->pid));
    sim_ev_put(e, "Image", p->image);
    sim_ev_put(e, "User", sim_user_name(w, p->user, p->host));
    sim_ev_put(e, "Protocol", "tcp");
    sim_ev_put(e, "Initiated", initiated ? "true" : "false");
    sim_ev_put(e, "SourceIsIpv6", "false");
    sim_ev_put(e, "SourceIp", sip);
    sim_ev_put(e, "SourceHostname", "-");
    sim_ev_put(e, "SourcePort", num(w, sport));
    sim_ev_put(e, "SourcePortName", "-");
    sim_ev_put(e, "DestinationIsIpv6", "false");
    sim_ev_put(e, "DestinationIp", dip);
    sim_ev_put(e, "DestinationHostname", "-");
    sim_ev_put(e, "DestinationPort", num(w, dport));
    sim_ev_put(e, "DestinationPortName", port_name(dport));
    return e;
}

/* A Filtering Platform 5156: the local end is the source, inbound or outbound. */
static sim_ev *wfp5156(sim_world *w, int host, const sim_proc *p, int inbound, const char *lip,
                       uint16_t lport, const char *rip, uint16_t rport, int64_t t)
{
    sim_ev *e = sim_ev_new(w, host, SRC_WFP, 5156, t, 13);
    if (!e)
        return NULL;
    sim_ev_put(e, "ProcessID", num(w, p->pid));
    sim_ev_put(e, "Application", p->pid == 4 ? "System" : device_path(w, p->image));
    sim_ev_put(e, "Direction", inbound ? "%%14592" : "%%14593");
    sim_ev_put(e, "SourceAddress", lip);
    sim_ev_put(e, "SourcePort", num(w, lport));
    sim_ev_put(e, "DestAddress", rip);
    sim_ev_put(e, "DestPort", num(w, rport));
    sim_ev_put(e, "Protocol", "6");
    sim_ev_put(e, "FilterRTID", num(w, inbound ? 79512 + (lport % 7) : 0));
    sim_ev_put(e, "LayerName", inbound ? "%%14610" : "%%14611");
    sim_ev_put(e, "LayerRTID", inbound ? "44" : "48");
    sim_ev_put(e, "RemoteUserID", "S-1-0-0");
    sim_ev_put(e, "RemoteMachineID", "S-1-0-0");
    return e;
}

static const char *zeek_uid(sim_world *w)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char u[19];
    u[0] = 'C';
    for (int i = 1; i < 18; i++)
        u[i] = b62[sim_rng_below(&w->rng, 62)];
    u[18] = 0;
    return sim_strdup(&w->arena, u);
}

/* The uid of the last connection recorded for a pair of ports, for dce_rpc records. */
static const char *last_uid(sim_world *w, const char *sip, uint16_t sport, const char *dip,
                            uint16_t dport)
{
    char sp[8], dp[8];
    snprintf(sp, sizeof sp, "%u", sport);
    snprintf(dp, sizeof dp, "%u", dport);
    for (size_t i = w->nevs; i-- > 0;) {
        const sim_ev *e = &w->evs[i];
        if (e->src != SRC_ZEEK_CONN)
            continue;
        if (!strcmp(e->kv[2].value, sip) && !strcmp(e->kv[3].value, sp) &&
            !strcmp(e->kv[4].value, dip) && !strcmp(e->kv[5].value, dp))
            return e->kv[1].value;
    }
    return zeek_uid(w);
}

void ev_connection(sim_world *w, int client, int server, int dst_host, uint16_t sport,
                   uint16_t dport, int64_t t, int hop, int evc_src, int evc_dst,
                   const char *zeek_service, int answered)
{
    int src_host = w->procs[client].host;
    const char *sip = w->hosts[src_host].ip, *dip = w->hosts[dst_host].ip;
    const sim_proc *cp = &w->procs[client];
    if (!w->hosts[src_host].linux_os) {
        /* Sysmon logs established connections; the firewall permits the attempt either way */
        if (answered)
            tag(sysmon3(w, src_host, cp, 1, sip, sport, dip, dport, t), hop, SIDE_SOURCE, evc_src);
        tag(wfp5156(w, src_host, cp, 0, sip, sport, dip, dport, t), hop, SIDE_SOURCE, evc_src);
    }
    int64_t ta =
        t + 2000 + (int64_t)sim_rng_below(&w->rng, 30000); /* the target logs a little later */
    if (answered && server >= 0 && !w->hosts[dst_host].linux_os) {
        const sim_proc *sp = &w->procs[server];
        tag(sysmon3(w, dst_host, sp, 0, sip, sport, dip, dport, ta), hop, SIDE_TARGET, evc_dst);
        tag(wfp5156(w, dst_host, sp, 1, dip, dport, sip, sport, ta), hop, SIDE_TARGET, evc_dst);
    }
    /* the network sensor */
    sim_ev *z = sim_ev_new(w, -1, SRC_ZEEK_CONN, 0, t, 21);
    if (!z)
        return;
    unsigned long long ob = 200 + sim_rng_below(&w->rng, 4000),
                       rb = 150 + sim_rng_below(&w->rng, 3000);
    sim_ev_put(z, "ts", sim_logged_time);
    sim_ev_put(z, "uid", zeek_uid(w));
    sim_ev_put(z, "id.orig_h", sip);
    sim_ev_put(z, "id.orig_p", num(w, sport));
    sim_ev_put(z, "id.resp_h", dip);
    sim_ev_put(z, "id.resp_p", num(w, dport));
    sim_ev_put(z, "proto", "tcp");
    sim_ev_put(z, "service", answered && zeek_service ? zeek_service : "-");
    sim_ev_put(z, "duration",
               answered ? sim_printf(&w->arena, "%.6f", 0.01 + sim_rng_unit(&w->rng) * 3)
                        : "21.034512");
    sim_ev_put(z, "orig_bytes", answered ? num(w, ob) : "0");
    sim_ev_put(z, "resp_bytes", answered ? num(w, rb) : "0");
    sim_ev_put(z, "conn_state", answered ? "SF" : "S0");
    sim_ev_put(z, "local_orig", "T");
    sim_ev_put(z, "local_resp", "T");
    sim_ev_put(z, "missed_bytes", "0");
    sim_ev_put(z, "history", answered ? "ShADadFf" : "S");
    sim_ev_put(z, "orig_pkts", answered ? num(w, 6 + ob / 300) : "3");
    sim_ev_put(z, "orig_ip_bytes", answered ? num(w, ob + 300) : "156");
    sim_ev_put(z, "resp_pkts", answered ? num(w, 5 + rb / 300) : "0");
    sim_ev_put(z, "resp_ip_bytes", answered ? num(w, rb + 260) : "0");
    sim_ev_put(z, "tunnel_parents", "(empty)");
    tag(z, hop, SIDE_WIRE, EVC_WIRE_CONN);
}

void ev_rpc_calls(sim_world *w, int src_host, int dst_host, uint16_t sport, uint16_t dport,
                  int64_t t, const char *const *calls, size_t ncalls, int hop)
{
    const char *sip = w->hosts[src_host].ip, *dip = w->hosts[dst_host].ip;
    const char *uid = last_uid(w, sip, sport, dip, dport);
    for (size_t i = 0; i + 1 < ncalls * 2; i += 2) {
        sim_ev *z = sim_ev_new(w, -1, SRC_ZEEK_DCE, 0, t + (int64_t)i * 20000, 10);
        if (!z)
            return;
        sim_ev_put(z, "ts", sim_logged_time);
        sim_ev_put(z, "uid", uid);
        sim_ev_put(z, "id.orig_h", sip);
        sim_ev_put(z, "id.orig_p", num(w, sport));
        sim_ev_put(z, "id.resp_h", dip);
        sim_ev_put(z, "id.resp_p", num(w, dport));
        sim_ev_put(
            z, "rtt",
            sim_printf(&w->arena, "0.%06u", (unsigned)(200 + sim_rng_below(&w->rng, 20000))));
        sim_ev_put(z, "named_pipe", num(w, dport));
        sim_ev_put(z, "endpoint", calls[i]);
        sim_ev_put(z, "operation", calls[i + 1]);
        int act = !strcmp(calls[i], "ISystemActivator") || !strcmp(calls[i], "IRemoteSCMActivator");
        tag(z, hop, SIDE_WIRE, act ? EVC_WIRE_ACT : EVC_WIRE_CONN);
    }
}

void ev_logon(sim_world *w, const sim_logon *l, int hop)
{
    const sim_account *a = &w->accounts[l->account];
    const sim_host *h = &w->hosts[l->host];
    if (h->linux_os)
        return;
    int remote = l->type == 3;
    sim_ev *e = sim_ev_new(w, l->host, SRC_SECURITY, 4624, l->t, 27);
    if (!e)
        return;
    int local_logon = l->type == 2 || l->type == 10 || l->type == 11;
    sim_ev_put(e, "SubjectUserSid",
               local_logon || l->type == 4 || l->type == 5 ? "S-1-5-18" : "S-1-0-0");
    sim_ev_put(e, "SubjectUserName",
               local_logon || l->type == 4 || l->type == 5 ? sim_printf(&w->arena, "%s$", h->name)
                                                           : "-");
    sim_ev_put(e, "SubjectDomainName",
               local_logon || l->type == 4 || l->type == 5 ? w->netbios : "-");
    sim_ev_put(e, "SubjectLogonId", local_logon || l->type == 4 || l->type == 5 ? "0x3e7" : "0x0");
    sim_ev_put(e, "TargetUserSid", a->sid);
    sim_ev_put(e, "TargetUserName", a->name);
    /* Kerberos names the realm, NTLM the NetBIOS domain */
    char *realm = sim_strdup(&w->arena, w->dns_domain);
    for (char *c = realm; c && *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 32);
    sim_ev_put(e, "TargetDomainName", l->kerberos && remote ? realm : a->domain);
    sim_ev_put(e, "TargetLogonId", hex(w, l->id));
    sim_ev_put(e, "LogonType", num(w, (unsigned)l->type));
    sim_ev_put(e, "LogonProcessName", l->kerberos ? (remote ? "Kerberos" : "User32 ") : "NtLmSsp ");
    sim_ev_put(e, "AuthenticationPackageName",
               l->kerberos ? (remote ? "Kerberos" : "Negotiate") : "NTLM");
    sim_ev_put(e, "WorkstationName", l->workstation);
    sim_ev_put(e, "LogonGuid", l->guid);
    sim_ev_put(e, "TransmittedServices", "-");
    sim_ev_put(e, "LmPackageName", l->kerberos ? "-" : "NTLM V2");
    sim_ev_put(e, "KeyLength", l->kerberos ? "0" : "128");
    sim_ev_put(e, "ProcessId", local_logon ? hex(w, w->procs[h->p_winlogon].pid) : "0x0");
    sim_ev_put(e, "ProcessName", local_logon ? "C:\\Windows\\System32\\svchost.exe" : "-");
    sim_ev_put(e, "IpAddress", l->src_ip);
    sim_ev_put(e, "IpPort", remote && l->src_port ? num(w, l->src_port) : local_logon ? "0" : "-");
    sim_ev_put(e, "ImpersonationLevel", "%%1833");
    sim_ev_put(e, "RestrictedAdminMode", "-");
    sim_ev_put(e, "TargetOutboundUserName", "-");
    sim_ev_put(e, "TargetOutboundDomainName", "-");
    sim_ev_put(e, "VirtualAccount", "%%1843");
    sim_ev_put(e, "TargetLinkedLogonId", "0x0");
    sim_ev_put(e, "ElevatedToken", a->admin ? "%%1842" : "%%1843");
    tag(e, hop, SIDE_TARGET, hop ? EVC_LOGON : EVC_NONE);
    if (a->admin) {
        e = sim_ev_new(w, l->host, SRC_SECURITY, 4672, l->t, 5);
        if (!e)
            return;
        sim_ev_put(e, "SubjectUserSid", a->sid);
        sim_ev_put(e, "SubjectUserName", a->name);
        sim_ev_put(e, "SubjectDomainName", l->kerberos && remote ? realm : a->domain);
        sim_ev_put(e, "SubjectLogonId", hex(w, l->id));
        sim_ev_put(e, "PrivilegeList",
                   "SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\t"
                   "SeRestorePrivilege\r\n\t\t\tSeTakeOwnershipPrivilege\r\n\t\t\t"
                   "SeDebugPrivilege\r\n\t\t\tSeSystemEnvironmentPrivilege\r\n\t\t\t"
                   "SeLoadDriverPrivilege\r\n\t\t\tSeImpersonatePrivilege\r\n\t\t\t"
                   "SeDelegateSessionUserImpersonatePrivilege\r\n\t\t\t"
                   "SeEnableDelegationPrivilege");
    }
}

void ev_logoff(sim_world *w, const sim_logon *l, int64_t t)
{
    const sim_account *a = &w->accounts[l->account];
    if (w->hosts[l->host].linux_os)
        return;
    sim_ev *e = sim_ev_new(w, l->host, SRC_SECURITY, 4634, t, 5);
    if (!e)
        return;
    sim_ev_put(e, "TargetUserSid", a->sid);
    sim_ev_put(e, "TargetUserName", a->name);
    sim_ev_put(e, "TargetDomainName", a->domain);
    sim_ev_put(e, "TargetLogonId", hex(w, l->id));
    sim_ev_put(e, "LogonType", num(w, (unsigned)l->type));
}

void ev_explicit_logon(sim_world *w, int proc, int account, int dst_host, int64_t t)
{
    const sim_proc *p = &w->procs[proc];
    const sim_account *a = &w->accounts[account];
    const char *ssid, *sname, *sdom;
    subject(w, p->host, p->user, &ssid, &sname, &sdom);
    sim_ev *e = sim_ev_new(w, p->host, SRC_SECURITY, 4648, t, 14);
    if (!e)
        return;
    sim_ev_put(e, "SubjectUserSid", ssid);
    sim_ev_put(e, "SubjectUserName", sname);
    sim_ev_put(e, "SubjectDomainName", sdom);
    sim_ev_put(e, "SubjectLogonId", hex(w, p->logon_id));
    sim_ev_put(e, "LogonGuid", "{00000000-0000-0000-0000-000000000000}");
    sim_ev_put(e, "TargetUserName", a->name);
    sim_ev_put(e, "TargetDomainName", a->domain);
    sim_ev_put(e, "TargetLogonGuid", "{00000000-0000-0000-0000-000000000000}");
    sim_ev_put(e, "TargetServerName", w->hosts[dst_host].name);
    sim_ev_put(e, "TargetInfo", w->hosts[dst_host].name);
    sim_ev_put(e, "ProcessId", hex(w, p->pid));
    sim_ev_put(e, "ProcessName", p->image);
    sim_ev_put(e, "IpAddress", w->hosts[dst_host].ip);
    sim_ev_put(e, "IpPort", "135");
}

void ev_dcom_error(sim_world *w, int host, uint16_t id, const char *const *params, size_t n,
                   int64_t t, const char *user_sid, int hop, int side)
{
    static const char *const names[] = {"param1", "param2", "param3", "param4",  "param5", "param6",
                                        "param7", "param8", "param9", "param10", "param11"};
    if (w->hosts[host].linux_os)
        return;
    sim_ev *e = sim_ev_new(w, host, SRC_SYSTEM, id, t, n);
    if (!e)
        return;
    for (size_t i = 0; i < n && i < 11; i++)
        sim_ev_put(e, names[i], params[i]);
    e->user_sid = user_sid;
    tag(e, hop, side, EVC_FAILURE);
}

void ev_script(sim_world *w, int proc, const char *text, const char *path, int64_t t, int hop)
{
    const sim_proc *p = &w->procs[proc];
    if (w->hosts[p->host].linux_os)
        return;
    sim_ev *e = sim_ev_new(w, p->host, SRC_POWERSHELL, 4104, t, 5);
    if (!e)
        return;
    uint64_t a = sim_rng_next(&w->rng), b = sim_rng_next(&w->rng);
    sim_ev_put(e, "MessageNumber", "1");
    sim_ev_put(e, "MessageTotal", "1");
    sim_ev_put(e, "ScriptBlockText", text);
    sim_ev_put(e, "ScriptBlockId",
               sim_printf(&w->arena, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)a,
                          (unsigned)((a >> 32) & 0xFFFF), (unsigned)((a >> 48) & 0xFFF),
                          (unsigned)((b & 0x3FFF) | 0x8000), (unsigned long long)(b >> 16)));
    sim_ev_put(e, "Path", path ? path : "");
    e->pid = p->pid;
    e->tid = p->pid + 8;
    e->user_sid = sim_user_sid(w, p->user);
    e->activity = sim_printf(&w->arena, "{%08X-%04X-0000-%04X-%012llX}",
                             (unsigned)(p->guid[3] * 31 + p->pid), (unsigned)(p->pid & 0xFFFF),
                             (unsigned)(a & 0xFFFF), (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
    tag(e, hop, SIDE_SOURCE, hop ? EVC_SCRIPT : EVC_NONE);
}

void ev_image_load(sim_world *w, int proc, const char *dll, int signed_, int64_t t, int hop)
{
    const sim_proc *p = &w->procs[proc];
    if (w->hosts[p->host].linux_os)
        return;
    const char *base = strrchr(dll, '\\');
    sim_ev *e = sim_ev_new(w, p->host, SRC_SYSMON, 7, t, 16);
    if (!e)
        return;
    sim_ev_put(e, "RuleName", "-");
    sim_ev_put(e, "UtcTime", sim_logged_time);
    sim_ev_put(e, "ProcessGuid", p->guid);
    sim_ev_put(e, "ProcessId", num(w, p->pid));
    sim_ev_put(e, "Image", p->image);
    sim_ev_put(e, "ImageLoaded", dll);
    sim_ev_put(e, "FileVersion", signed_ ? "11.0.19041.1 (WinBuild.160101.0800)" : "-");
    sim_ev_put(e, "Description", signed_ ? "Run time utility for Internet Explorer" : "-");
    sim_ev_put(e, "Product", signed_ ? "Internet Explorer" : "-");
    sim_ev_put(e, "Company", signed_ ? "Microsoft Corporation" : "-");
    sim_ev_put(e, "OriginalFileName", signed_ ? (base ? base + 1 : dll) : "-");
    sim_ev_put(e, "Hashes", hashes(w, dll));
    sim_ev_put(e, "Signed", signed_ ? "true" : "false");
    sim_ev_put(e, "Signature", signed_ ? "Microsoft Windows" : "-");
    sim_ev_put(e, "SignatureStatus", signed_ ? "Valid" : "Unavailable");
    sim_ev_put(e, "User", sim_user_name(w, p->user, p->host));
    tag(e, hop, SIDE_TARGET, hop ? EVC_LOAD : EVC_NONE);
}

void ev_file(sim_world *w, int proc, const char *path, int64_t t, int hop)
{
    const sim_proc *p = &w->procs[proc];
    if (w->hosts[p->host].linux_os)
        return;
    sim_ev *e = sim_ev_new(w, p->host, SRC_SYSMON, 11, t, 8);
    if (!e)
        return;
    sim_ev_put(e, "RuleName", "-");
    sim_ev_put(e, "UtcTime", sim_logged_time);
    sim_ev_put(e, "ProcessGuid", p->guid);
    sim_ev_put(e, "ProcessId", num(w, p->pid));
    sim_ev_put(e, "Image", p->image);
    sim_ev_put(e, "TargetFilename", path);
    sim_ev_put(e, "CreationUtcTime", sim_logged_time);
    sim_ev_put(e, "User", sim_user_name(w, p->user, p->host));
    tag(e, hop, SIDE_TARGET, hop ? EVC_FILE : EVC_NONE);
}

void ev_registry(sim_world *w, int proc, const char *key, const char *details, int64_t t, int hop)
{
    const sim_proc *p = &w->procs[proc];
    if (w->hosts[p->host].linux_os)
        return;
    sim_ev *e = sim_ev_new(w, p->host, SRC_SYSMON, 13, t, 9);
    if (!e)
        return;
    sim_ev_put(e, "RuleName", "-");
    sim_ev_put(e, "EventType", "SetValue");
    sim_ev_put(e, "UtcTime", sim_logged_time);
    sim_ev_put(e, "ProcessGuid", p->guid);
    sim_ev_put(e, "ProcessId", num(w, p->pid));
    sim_ev_put(e, "Image", p->image);
    sim_ev_put(e, "TargetObject", key);
    sim_ev_put(e, "Details", details);
    sim_ev_put(e, "User", sim_user_name(w, p->user, p->host));
    tag(e, hop, SIDE_TARGET, EVC_NONE);
}

/* The items 5140 and 5145 begin with: the account, the share, where it is on disk. */
static void share_items(sim_world *w, sim_ev *e, const sim_logon *l, const char *share,
                        const char *local)
{
    const sim_account *a = &w->accounts[l->account];
    sim_ev_put(e, "SubjectUserSid", a->sid);
    sim_ev_put(e, "SubjectUserName", a->name);
    sim_ev_put(e, "SubjectDomainName", a->domain);
    sim_ev_put(e, "SubjectLogonId", hex(w, l->id));
    sim_ev_put(e, "ObjectType", "File");
    sim_ev_put(e, "IpAddress", l->src_ip);
    sim_ev_put(e, "IpPort", num(w, l->src_port));
    sim_ev_put(e, "ShareName", sim_printf(&w->arena, "\\\\*\\%s", share));
    sim_ev_put(e, "ShareLocalPath", local);
}

void ev_share(sim_world *w, int host, const sim_logon *l, const char *share, const char *rel,
              int64_t t, int hop)
{
    if (w->hosts[host].linux_os)
        return;
    const char *local = !strcasecmp(share, "ADMIN$") ? "\\??\\C:\\Windows"
                        : !strcasecmp(share, "C$")   ? "\\??\\C:\\"
                                                     : "\\??\\C:\\Shares";
    sim_ev *e = sim_ev_new(w, host, SRC_SECURITY, 5140, t, 11);
    if (!e)
        return;
    share_items(w, e, l, share, local);
    sim_ev_put(e, "AccessMask", "0x1");
    sim_ev_put(e, "AccessList", "%%4416\r\n\t\t\t\t");
    if (!rel)
        return;
    e = sim_ev_new(w, host, SRC_SECURITY, 5145, t + 3000, 13);
    if (!e)
        return;
    share_items(w, e, l, share, local);
    sim_ev_put(e, "RelativeTargetName", rel);
    sim_ev_put(e, "AccessMask", "0x12019f");
    sim_ev_put(e, "AccessList",
               "%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t%%4417\r\n\t\t"
               "\t\t%%4418\r\n\t\t\t\t%%4419\r\n\t\t\t\t%%4420\r\n\t\t\t\t%%4423\r\n\t"
               "\t\t\t%%4424\r\n\t\t\t\t");
    sim_ev_put(e, "AccessReason", "-");
    tag(e, hop, SIDE_TARGET, hop ? EVC_FILE : EVC_NONE);
}

void ev_service(sim_world *w, int host, const char *name, const char *state, int64_t t)
{
    if (w->hosts[host].linux_os)
        return;
    sim_ev *e = sim_ev_new(w, host, SRC_SYSTEM, 7036, t, 2);
    if (!e)
        return;
    e->pid = w->procs[w->hosts[host].p_services].pid;
    sim_ev_put(e, "param1", name);
    sim_ev_put(e, "param2", state);
}
