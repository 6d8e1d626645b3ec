/* Investigation steps, response steps and pivot queries written for one finding. */
#include "output/guide.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/timefmt.h"

#define HOUR (3600LL * 10000000LL)

/* The values a guide speaks of, taken once from the finding. */
typedef struct vals {
    const dh_finding *f;
    char target[256];  /* the host name as the finding gives it */
    char bare[256];    /* without its domain: what DeviceName starts with */
    char source[300];  /* "HOST (ip)", "ip", or "" */
    char account[256]; /* "DOMAIN\name" */
    char name[256];    /* the account's name alone */
    char server[128];  /* the COM server's image file name ("mmc.exe"), or "" */
    char t0[40], t1[40], from[40], to[40], from_day[40], to_day[40];
} vals;

static void iso(char *out, size_t cap, int64_t t)
{
    dh_buf b;
    dh_buf_init(&b, 64);
    out[0] = 0;
    if (dh_time_put_iso(&b, t) == DH_OK && b.len < cap) {
        /* whole seconds: what people type and KQL datetime() reads */
        char *dot = memchr(b.data, '.', b.len);
        size_t n = dot ? (size_t)(dot - b.data) : b.len;
        memcpy(out, b.data, n);
        if (dot)
            out[n++] = 'Z';
        out[n] = 0;
    }
    dh_buf_free(&b);
}

static void copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

static const char *base_name(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            b = p + 1;
    return b;
}

static void take_vals(const dh_finding *f, vals *v)
{
    memset(v, 0, sizeof *v);
    v->f = f;
    copy(v->target, sizeof v->target, f->target_host, strlen(f->target_host));
    size_t n = 0;
    while (f->target_host[n] && f->target_host[n] != '.')
        n++;
    int ip = f->target_host[0] >= '0' && f->target_host[0] <= '9';
    copy(v->bare, sizeof v->bare, f->target_host, ip ? strlen(f->target_host) : n);
    if (*f->source_host && *f->source_ip) {
        dh_buf b = {v->source, 0, sizeof v->source - 1, sizeof v->source - 1};
        dh_buf_puts(&b, f->source_host);
        dh_buf_puts(&b, " (");
        dh_buf_puts(&b, f->source_ip);
        dh_buf_puts(&b, ")");
        v->source[b.len] = 0;
    } else {
        const char *s = *f->source_host ? f->source_host : f->source_ip;
        copy(v->source, sizeof v->source, s, strlen(s));
    }
    copy(v->account, sizeof v->account, f->user, strlen(f->user));
    const char *bs = strrchr(f->user, '\\');
    const char *nm = bs ? bs + 1 : f->user;
    copy(v->name, sizeof v->name, nm, strlen(nm));
    for (size_t i = 0; i < f->nevidence; i++) {
        dh_str img;
        if (!strcmp(f->evidence[i].role, "activation") &&
            dh_event_field(f->evidence[i].ev, DH_FIELD_IMAGE, &img)) {
            char tmp[512];
            copy(tmp, sizeof tmp, img.ptr, img.len);
            const char *b = base_name(tmp);
            copy(v->server, sizeof v->server, b, strlen(b));
            for (char *p = v->server; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p + 32);
        }
    }
    iso(v->t0, sizeof v->t0, f->first_seen);
    iso(v->t1, sizeof v->t1, f->last_seen);
    iso(v->from, sizeof v->from, f->first_seen - HOUR);
    iso(v->to, sizeof v->to, f->last_seen + HOUR);
    iso(v->from_day, sizeof v->from_day, f->first_seen - 24 * HOUR);
    iso(v->to_day, sizeof v->to_day, f->last_seen + 24 * HOUR);
}

/* The concatenation of the NULL-terminated arguments, as an owned string. */
static char *cat(const char *first, ...)
{
    dh_buf b;
    dh_buf_init(&b, 1u << 16);
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        if (dh_buf_puts(&b, s))
            break;
    va_end(ap);
    if (dh_buf_putc(&b, 0)) {
        dh_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static void add(char **list, size_t *n, char *s)
{
    if (!s)
        return;
    if (*n >= DH_GUIDE_MAX_STEPS) {
        free(s);
        return;
    }
    list[(*n)++] = s;
}

/* ---- quoting for queries ------------------------------------------------------------- */

/* A KQL verbatim string literal: @"..." with quotes doubled; line ends and other control
 * characters (which no literal can hold) become spaces. */
static void kql_lit(dh_buf *b, const char *s)
{
    dh_buf_puts(b, "@\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"')
            dh_buf_puts(b, "\"\"");
        else if (c < 0x20 || c == 0x7f)
            dh_buf_putc(b, ' ');
        else
            dh_buf_putc(b, (char)c);
    }
    dh_buf_putc(b, '"');
}

/* A shell word: single quotes, a quote inside as '\''; control characters dropped. */
static void sh_word(dh_buf *b, const char *s)
{
    dh_buf_putc(b, '\'');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'')
            dh_buf_puts(b, "'\\''");
        else if (c >= 0x20 && c != 0x7f)
            dh_buf_putc(b, (char)c);
    }
    dh_buf_putc(b, '\'');
}

static void kql_window(dh_buf *b, const char *from, const char *to)
{
    dh_buf_puts(b, "\n| where Timestamp between (datetime(");
    dh_buf_puts(b, from);
    dh_buf_puts(b, ") .. datetime(");
    dh_buf_puts(b, to);
    dh_buf_puts(b, "))");
}

static void kql_device(dh_buf *b, const vals *v)
{
    dh_buf_puts(b, "\n| where DeviceName =~ ");
    kql_lit(b, v->bare);
    dh_buf_puts(b, " or DeviceName startswith ");
    char dotted[sizeof v->bare + 1];
    size_t n = strlen(v->bare);
    memcpy(dotted, v->bare, n);
    dotted[n] = '.';
    dotted[n + 1] = 0;
    kql_lit(b, dotted);
}

static char *done(dh_buf *b)
{
    if (dh_buf_putc(b, 0)) {
        dh_buf_free(b);
        return NULL;
    }
    return b->data;
}

/* A logon id as Windows writes it ("0x1ea3c6") or as a decimal number; 0 if neither. */
static int logon_number(const char *s, unsigned long long *out)
{
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *p = hex ? s + 2 : s;
    unsigned long long v = 0;
    if (!*p)
        return 0;
    for (; *p; p++) {
        int d = hex ? dh_hexval(*p) : (*p >= '0' && *p <= '9' ? *p - '0' : -1);
        if (d < 0 || v >> 59)
            return 0;
        v = v * (hex ? 16 : 10) + (unsigned)d;
    }
    *out = v;
    return v != 0;
}

static void add_pivot(dh_guide *g, const char *title, const char *lang, char *q)
{
    if (!q)
        return;
    if (g->npivots >= DH_GUIDE_MAX_PIVOTS) {
        free(q);
        return;
    }
    g->pivots[g->npivots].title = title;
    g->pivots[g->npivots].language = lang;
    g->pivots[g->npivots].query = q;
    g->npivots++;
}

static void pivots(dh_guide *g, const vals *v, const char *const *paths, size_t npaths)
{
    const dh_finding *f = v->f;
    dh_buf b;
    if (*v->bare) {
        dh_buf_init(&b, 1u << 16);
        dh_buf_puts(&b, "DeviceLogonEvents");
        kql_window(&b, v->from, v->to);
        kql_device(&b, v);
        dh_buf_puts(&b, "\n| where LogonType == \"Network\"");
        if (*f->source_ip || *v->name) {
            dh_buf_puts(&b, "\n| where ");
            if (*f->source_ip) {
                dh_buf_puts(&b, "RemoteIP == ");
                kql_lit(&b, f->source_ip);
            }
            if (*f->source_ip && *v->name)
                dh_buf_puts(&b, " or ");
            if (*v->name) {
                dh_buf_puts(&b, "AccountName =~ ");
                kql_lit(&b, v->name);
            }
        }
        dh_buf_puts(&b, "\n| project Timestamp, DeviceName, ActionType, AccountDomain, "
                        "AccountName, LogonType, Protocol, RemoteIP, RemoteDeviceName, LogonId");
        add_pivot(g, "Network logons on the target (the source and the account)", "kql", done(&b));

        dh_buf_init(&b, 1u << 16);
        dh_buf_puts(&b, "DeviceProcessEvents");
        kql_window(&b, v->from, v->to);
        kql_device(&b, v);
        if (*v->server) {
            dh_buf_puts(&b, "\n| where InitiatingProcessFileName =~ ");
            kql_lit(&b, v->server);
            dh_buf_puts(&b, " or InitiatingProcessParentFileName =~ ");
            kql_lit(&b, v->server);
            dh_buf_puts(&b, " or (FileName =~ ");
            kql_lit(&b, v->server);
            dh_buf_puts(&b, " and ProcessCommandLine has \"Embedding\")");
        } else {
            dh_buf_puts(&b, "\n| where InitiatingProcessFileName in~ (\"explorer.exe\", "
                            "\"svchost.exe\") and FileName in~ (\"cmd.exe\", \"powershell.exe\", "
                            "\"pwsh.exe\", \"mshta.exe\", \"rundll32.exe\", \"wscript.exe\", "
                            "\"cscript.exe\", \"regsvr32.exe\")");
        }
        dh_buf_puts(&b, "\n| project Timestamp, DeviceName, AccountName, FileName, "
                        "ProcessCommandLine, InitiatingProcessFileName, "
                        "InitiatingProcessCommandLine, InitiatingProcessParentFileName");
        add_pivot(g, "What the COM server started on the target, and what those started", "kql",
                  done(&b));
    }
    unsigned long long lid;
    if (*v->bare && logon_number(f->logon_id, &lid)) {
        /* Defender writes logon ids in decimal; Windows logs in hexadecimal */
        char num[24];
        snprintf(num, sizeof num, "%llu", lid);
        dh_buf_init(&b, 1u << 16);
        dh_buf_puts(&b, "DeviceProcessEvents");
        kql_window(&b, v->from, v->to);
        kql_device(&b, v);
        dh_buf_puts(&b, "\n| where LogonId == ");
        dh_buf_puts(&b, num);
        dh_buf_puts(&b, " or InitiatingProcessLogonId == ");
        dh_buf_puts(&b, num);
        dh_buf_puts(&b, "\n| project Timestamp, DeviceName, AccountName, FileName, "
                        "ProcessCommandLine, InitiatingProcessFileName, LogonId");
        add_pivot(g, "Everything the logon session ran on the target (its logon id)", "kql",
                  done(&b));
    }
    if (*f->source_ip) {
        dh_buf_init(&b, 1u << 16);
        dh_buf_puts(&b, "DeviceNetworkEvents");
        kql_window(&b, v->from, v->to);
        dh_buf_puts(&b, "\n| where ActionType == \"InboundConnectionAccepted\" and RemoteIP == ");
        kql_lit(&b, f->source_ip);
        dh_buf_puts(&b, "\n| where LocalPort == 135 or LocalPort >= 49152"
                        "\n| summarize Connections = count(), First = min(Timestamp), "
                        "Last = max(Timestamp), Ports = make_set(LocalPort) by DeviceName");
        add_pivot(g, "Every host the source reached over RPC (135, then a dynamic port)", "kql",
                  done(&b));
    }
    if (*v->name) {
        dh_buf_init(&b, 1u << 16);
        dh_buf_puts(&b, "DeviceLogonEvents");
        kql_window(&b, v->from_day, v->to_day);
        dh_buf_puts(&b, "\n| where LogonType == \"Network\" and AccountName =~ ");
        kql_lit(&b, v->name);
        dh_buf_puts(&b, "\n| summarize Logons = count(), Sources = make_set(RemoteIP), "
                        "First = min(Timestamp), Last = max(Timestamp) by DeviceName");
        add_pivot(g, "Where else the account logged on over the network (a day either side)", "kql",
                  done(&b));
    }
    /* dcomhunt itself, narrowed to the hosts and the time of this finding */
    dh_buf_init(&b, 1u << 16);
    dh_buf_puts(&b, "dcomhunt hunt");
    if (*f->target_host) {
        dh_buf_puts(&b, " --host ");
        sh_word(&b, v->bare);
    }
    if (*f->source_host) {
        dh_buf_puts(&b, " --host ");
        sh_word(&b, f->source_host);
    }
    dh_buf_puts(&b, " --from ");
    dh_buf_puts(&b, v->from);
    dh_buf_puts(&b, " --to ");
    dh_buf_puts(&b, v->to);
    for (size_t i = 0; i < npaths; i++) {
        dh_buf_putc(&b, ' ');
        sh_word(&b, paths[i]);
    }
    if (!npaths)
        dh_buf_puts(&b, " PATH...");
    add_pivot(g, "The same scope with dcomhunt (target and source, an hour either side)",
              "dcomhunt", done(&b));
}

/* ---- steps ---------------------------------------------------------------------------- */

static const char *or_unknown(const char *s, const char *unknown)
{
    return *s ? s : unknown;
}

/* The commands, "a"; "b", for a sentence. */
static char *commands_text(const dh_finding *f)
{
    dh_buf b;
    dh_buf_init(&b, 1u << 16);
    for (size_t i = 0; i < f->ncommands && i < 6; i++) {
        if (i)
            dh_buf_puts(&b, "; ");
        dh_buf_puts(&b, "`");
        /* the steps are text: a NUL inside a command is shown, not a cut */
        for (size_t k = 0; k < f->commands[i].len; k++) {
            if (f->commands[i].ptr[k])
                dh_buf_putc(&b, f->commands[i].ptr[k]);
            else
                dh_buf_puts(&b, "\\x00");
        }
        dh_buf_puts(&b, "`");
    }
    if (f->ncommands > 6)
        dh_buf_puts(&b, "; and more");
    return done(&b);
}

/* How to take remote activation away from the object that was used: the knowledge table's
 * advice for it (docs/com-objects.md). */
static char *lockdown(const vals *v)
{
    const dh_finding *f = v->f;
    if (f->nobjects && *f->objects[0].hardening)
        return cat("Take remote activation away from ", f->objects[0].name, ": ",
                   f->objects[0].hardening, NULL);
    if (*f->com_object)
        return cat("Take remote launch and activation away from ", f->com_object,
                   *f->clsid ? " (CLSID " : "", f->clsid, *f->clsid ? "; its AppID is named" : "",
                   *f->clsid ? " under HKCR\\CLSID\\" : "", f->clsid, *f->clsid ? "\\AppID)" : "",
                   " in DCOM Config (dcomcnfg) or by Group Policy: automation servers such as "
                   "Office need no remote activation on workstations.",
                   NULL);
    return cat("Find which COM object was used (the CLSID of the activation, DistributedCOM "
               "10016 or the server's command line) and take remote launch and activation "
               "away from it in DCOM Config.",
               NULL);
}

/* Rule guide steps with their placeholders filled from the finding. */
static char *fill(const char *tmpl, const vals *v)
{
    const dh_finding *f = v->f;
    char image[512] = "", parent[512] = "", cmdline[1024] = "";
    for (size_t i = 0; i < f->nevidence; i++) {
        const dh_event *ev = f->evidence[i].ev;
        dh_str s;
        if (!*image && dh_event_field(ev, DH_FIELD_IMAGE, &s) && s.len)
            copy(image, sizeof image, s.ptr, s.len);
        if (!*parent && dh_event_field(ev, DH_FIELD_PARENT_IMAGE, &s) && s.len)
            copy(parent, sizeof parent, s.ptr, s.len);
        if (!*cmdline && dh_event_field(ev, DH_FIELD_COMMAND_LINE, &s) && s.len)
            copy(cmdline, sizeof cmdline, s.ptr, s.len);
    }
    static const char *const keys[] = {"host",  "source_ip",    "user",         "logon_id", "time",
                                       "clsid", "command_line", "parent_image", "image"};
    const char *values[] = {or_unknown(v->target, "the target"),
                            or_unknown(f->source_ip, "the source (unknown)"),
                            or_unknown(v->account, "the account"),
                            or_unknown(f->logon_id, "(unknown)"),
                            v->t0,
                            or_unknown(f->clsid, "(unknown)"),
                            or_unknown(cmdline, "(none recorded)"),
                            or_unknown(parent, "(unknown)"),
                            or_unknown(image, "(unknown)")};
    dh_buf b;
    dh_buf_init(&b, 1u << 16);
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            size_t k;
            for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                size_t n = strlen(keys[k]);
                if (!strncmp(p + 1, keys[k], n) && p[1 + n] == '}') {
                    dh_buf_puts(&b, values[k]);
                    p += n + 2;
                    break;
                }
            }
            if (k < sizeof keys / sizeof keys[0])
                continue;
        }
        dh_buf_putc(&b, *p++);
    }
    return done(&b);
}

/* The rules' own steps after the finding's: those of the most severe rules first, at most
 * `max` of them (a chain that matched six rules would otherwise bury its five steps). */
static void rule_steps(dh_guide *g, const vals *v, int which, size_t max)
{
    const dh_finding *f = v->f;
    char **list = which ? g->respond : g->investigate;
    size_t *n = which ? &g->nrespond : &g->ninvestigate;
    size_t added = 0;
    const dh_rule *order[64];
    size_t nr = f->nrules < 64 ? f->nrules : 64;
    for (size_t i = 0; i < nr; i++)
        order[i] = f->rules[i];
    for (size_t i = 1; i < nr; i++) /* insertion sort by level, stable */
        for (size_t k = i; k > 0 && dh_rule_level(order[k]) > dh_rule_level(order[k - 1]); k--) {
            const dh_rule *t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    for (size_t r = 0; r < nr && added < max; r++) {
        const dh_rule *rule = order[r];
        for (size_t i = 0; i < dh_rule_guide_count(rule, which) && added < max; i++) {
            char *s = fill(dh_rule_guide_step(rule, which, i), v);
            if (!s)
                continue;
            int dup = 0;
            for (size_t k = 0; k < *n && !dup; k++)
                dup = strstr(list[k], s) != NULL;
            if (dup) {
                free(s);
                continue;
            }
            const char *nm = *dh_rule_name(rule) ? dh_rule_name(rule) : dh_rule_ref(rule);
            add(list, n, cat("[", nm, "] ", s, NULL));
            added++;
            free(s);
        }
    }
}

static void lateral_steps(dh_guide *g, const vals *v)
{
    const dh_finding *f = v->f;
    const char *T = or_unknown(v->target, "the target");
    const char *U = or_unknown(v->account, "the account");
    const char *S = v->source;
    char **I = g->investigate, **R = g->respond;
    size_t *ni = &g->ninvestigate, *nr = &g->nrespond;
    /* 1. the logon and its source */
    if (*f->logon_id && *S)
        add(I, ni,
            cat("Confirm the logon and its source: on ", T,
                ", find the network logon (Security 4624, logon type 3) with logon id ",
                f->logon_id, " of ", U, " at about ", v->t0,
                ". Its IpAddress and "
                "WorkstationName should name ",
                S,
                "; note the authentication package (NTLM where Kerberos is the norm stands "
                "out) and a 4672 with the same logon id (administrator rights).",
                NULL));
    else if (*S)
        add(I, ni,
            cat("Confirm the logon and its source: on ", T,
                ", list the network logons (Security 4624, logon type 3) from ", S,
                " in the minutes before ", v->t0,
                " and the inbound connections from it to TCP 135 and to the COM server's "
                "dynamic port; the logon names the account that activated the object.",
                NULL));
    else
        add(I, ni,
            cat("Find the source: no log named it. On ", T,
                ", list the network logons (Security 4624, logon type 3) and the inbound "
                "connections to TCP 135 in the minutes before ",
                v->t0,
                "; the address they share is the machine that activated the object. Collect "
                "the Security log and Sysmon network events of ",
                T, " if they are missing.", NULL));
    /* 2. what the COM server ran */
    char *cmds = f->ncommands ? commands_text(f) : NULL;
    const char *obj = or_unknown(f->com_object, "A COM server");
    if (cmds)
        add(I, ni,
            cat("See what the COM server ran: ", obj, " was started on ", T, " at ", v->t0,
                *v->server ? " (" : "", v->server,
                *v->server ? ", started by the DCOM launcher)" : "", " and ran ", cmds,
                ". Output redirected to \\\\127.0.0.1\\ADMIN$ is Impacket's dcomexec; "
                "PowerShell with -enc or a download cradle is a stager.",
                NULL));
    else
        add(I, ni,
            cat("See what the COM server ran: ", obj, " was started on ", T, " at ", v->t0,
                " but no process it started was recorded. Check the server's own activity "
                "(loaded DLLs, files, connections), whether process-creation logging covers ",
                T, ", and whether the run failed.", NULL));
    free(cmds);
    /* 3. what that did next */
    add(I, ni,
        cat("Follow what those processes did next on ", T, " from ", v->t0, " to ", v->to,
            ": services installed (7045), scheduled tasks, accounts created, files written under "
            "C:\\Windows or ADMIN$, handles to lsass.exe, outbound connections.",
            NULL));
    /* 4. the source elsewhere */
    if (*f->source_ip)
        add(I, ni,
            cat("Check whether ", S,
                " did the same to other hosts: inbound TCP 135 and network "
                "logons from ",
                f->source_ip, " on every host between ", v->from, " and ", v->to,
                " (the \"every host the source reached\" pivot), and COM servers started by the "
                "DCOM launcher under ",
                U, ". One source reaching several targets is an operator moving laterally.", NULL));
    else
        add(I, ni,
            cat("Once the source is known, check whether it did the same to other hosts: "
                "inbound TCP 135 and network logons from it on every host between ",
                v->from, " and ", v->to, ".", NULL));
    /* 5. is the account expected there */
    add(I, ni,
        cat("Check whether ", U, " is expected to administer ", T,
            ": its group memberships, whether it logged on to ", T,
            " in the last 30 days (the \"where else the account logged on\" pivot), and whether ",
            or_unknown(S, "the source"),
            " is a known administration host. An account new to the target, or a workstation "
            "as the source, is the strongest sign of an attacker.",
            NULL));
    rule_steps(g, v, 0, 5);

    add(R, nr,
        cat("Contain the target ", T,
            ": isolate it from the network (Defender: Isolate device), capture memory before "
            "any reboot, and keep its event logs.",
            NULL));
    if (*S)
        add(R, nr,
            cat("Contain the source ", S, ": it holds ", U,
                "'s credentials or a session of it. Isolate it and find out how it was reached "
                "(it is the previous hop).",
                NULL));
    else
        add(R, nr, cat("Find the source (the investigation's first step) and contain it.", NULL));
    add(R, nr,
        cat("Reset the credentials of ", U,
            " (for a domain account, also end its sessions and Kerberos tickets), and review every "
            "host it logged on to since ",
            v->from_day, ".", NULL));
    add(R, nr, lockdown(v));
    add(R, nr,
        cat("Where DCOM between machines is not needed, disable it (HKLM\\SOFTWARE\\Microsoft\\"
            "Ole, EnableDCOM = N) or block TCP 135 and the dynamic RPC range (49152-65535) "
            "between workstations at the host firewall; keep the DCOM hardening (KB5004442) "
            "enforced.",
            NULL));
    add(R, nr,
        cat("Search elsewhere for the same activity: the commands run here, the source ",
            or_unknown(S, "(once known)"), " and the account ", U,
            " on every host (the pivots below), and the rules of this finding as hunting "
            "queries (dcomhunt rules export --to kql).",
            NULL));
    rule_steps(g, v, 1, 3);
}

static void other_steps(dh_guide *g, const vals *v)
{
    const dh_finding *f = v->f;
    const char *T = or_unknown(v->target, "the host");
    const char *U = or_unknown(v->account, "the account");
    char **I = g->investigate, **R = g->respond;
    size_t *ni = &g->ninvestigate, *nr = &g->nrespond;
    switch (f->kind) {
    case DH_FINDING_ATTEMPT:
        add(I, ni,
            cat("A remote activation of ", or_unknown(f->com_object, "a COM object"),
                *f->clsid ? " (CLSID " : "", f->clsid, *f->clsid ? ")" : "", " by ", U, " from ",
                or_unknown(v->source, "an unknown source"), " was refused on ", T, " at ", v->t0,
                " (DistributedCOM 10016): someone tried DCOM against this host without the "
                "launch rights.",
                NULL));
        add(I, ni,
            cat("Check whether the same source succeeded on other hosts in the same hour (the "
                "pivots below), and whether ",
                U, " is expected to run remote COM automation at all.", NULL));
        add(R, nr,
            cat("If the attempt is not explained by administration software, treat ",
                or_unknown(v->source, "the source"), " as compromised: isolate it and reset ", U,
                "'s credentials.", NULL));
        break;
    case DH_FINDING_SOURCE_ACTIVITY: {
        /* the host that made the call is the finding's source; the target is what it named */
        const char *S = or_unknown(v->source, "the host");
        int script = f->nevidence && !strcmp(f->evidence[0].role, "script");
        add(I, ni,
            cat(S, " tried to activate ", or_unknown(f->com_object, "a COM object"), " on ",
                or_unknown(v->target, "another machine"), " at ", v->t0,
                script ? " (a PowerShell script block calls DCOM objects of another host)"
                       : " (DistributedCOM 10028: the target could not be reached)",
                ". Find the process that made the call and the account it ran as; look for the "
                "same host reaching other targets.",
                NULL));
        add(R, nr,
            cat("If no administration tool explains it, isolate ", S,
                " (it acts as a source of lateral movement) and reset the credentials used on "
                "it.",
                NULL));
        break;
    }
    default:
        add(I, ni,
            cat("A rule matched on ", T, " at ", v->t0,
                " but no DCOM chain was found around it: read the matching event, then look for "
                "a network logon and inbound RPC on ",
                T, " in the minutes before it.", NULL));
        break;
    }
    rule_steps(g, v, 0, 8);
    rule_steps(g, v, 1, 5);
}

dh_status dh_guide_build(const dh_finding *f, const char *const *paths, size_t npaths, dh_guide *g)
{
    memset(g, 0, sizeof *g);
    vals *v = malloc(sizeof *v);
    if (!v)
        return DH_ERR_NOMEM;
    take_vals(f, v);
    if (f->kind == DH_FINDING_LATERAL_MOVEMENT)
        lateral_steps(g, v);
    else
        other_steps(g, v);
    pivots(g, v, paths, npaths);
    free(v);
    return DH_OK;
}

void dh_guide_free(dh_guide *g)
{
    for (size_t i = 0; i < g->ninvestigate; i++)
        free(g->investigate[i]);
    for (size_t i = 0; i < g->nrespond; i++)
        free(g->respond[i]);
    for (size_t i = 0; i < g->npivots; i++)
        free(g->pivots[i].query);
    memset(g, 0, sizeof *g);
}
