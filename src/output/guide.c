/* Investigation steps, response steps and pivot queries written for one finding. */
#include "output/guide.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/timefmt.h"
#include "core/utf8.h"
#include "event/mappings/defender.h"
#include "output/kql_text.h"

#define HOUR (3600LL * 10000000LL)

/* The values a guide speaks of, taken once from the finding: as prose (C strings for the
 * steps, where a NUL the attacker wrote reads \x00: the exact value is in the finding) and
 * as the exact slices the queries quote. */
typedef struct vals {
    const dh_finding *f;
    char *target;  /* the host name as the finding gives it */
    char *source;  /* "HOST (ip)", "ip", or "" */
    char *account; /* "DOMAIN\name" */
    char *ip, *logon, *clsid, *object;
    char *server;    /* the COM server's image file name, lowercase ("mmc.exe"), or "" */
    dh_str server_v; /* the same as a slice */
    dh_str bare;     /* the target without its domain: what DeviceName starts with */
    dh_str name;     /* the account's name alone */
    char t0[40], t1[40], from[40], to[40], from_day[40], to_day[40];
    char **owned; /* what prose() made */
    size_t nowned, owned_cap;
    size_t lost; /* values prose() could not build (out of memory) */
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

/* A value as prose: an owned C string where control characters (C0, NUL included, DEL
 * and C1) are written \xNN, so the only line ends of a step are the guide's own (every
 * renderer escapes the rest for its medium). "" when out of memory. */
static char *prose(vals *v, dh_str s)
{
    static char empty[1];
    if (!s.ptr) /* an empty value of a finding built by hand: {NULL, 0} */
        s = (dh_str){empty, 0};
    if (v->nowned == v->owned_cap) {
        size_t cap = v->owned_cap ? v->owned_cap * 2 : 32;
        char **o = realloc(v->owned, cap * sizeof *o);
        if (!o) {
            v->lost++;
            return empty;
        }
        v->owned = o;
        v->owned_cap = cap;
    }
    dh_buf b;
    dh_buf_init(&b, 4 * (size_t)DH_VALUE_CAP + 64);
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0, run = 0; i <= s.len;) {
        long cp = 0;
        size_t k = i < s.len ? dh_utf8_next((const unsigned char *)s.ptr + i, s.len - i, &cp) : 0;
        if (i == s.len || (cp >= 0 && dh_char_control(cp))) {
            dh_buf_append(&b, s.ptr + run, i - run);
            if (i == s.len)
                break;
            char e[4] = {'\\', 'x', hx[(cp >> 4) & 15], hx[cp & 15]};
            dh_buf_append(&b, e, 4);
            run = i + k;
        }
        i += k;
    }
    if (dh_buf_putc(&b, 0)) { /* a piece failed before (the error sticks) or this one */
        dh_buf_free(&b);
        v->lost++;
        return empty;
    }
    return v->owned[v->nowned++] = b.data;
}

static void take_vals(const dh_finding *f, vals *v)
{
    memset(v, 0, sizeof *v);
    v->f = f;
    v->target = prose(v, f->target_host);
    v->bare = f->target_host;
    int ip = f->target_host.len && f->target_host.ptr[0] >= '0' && f->target_host.ptr[0] <= '9';
    const char *dot = ip ? NULL : memchr(f->target_host.ptr, '.', f->target_host.len);
    if (dot)
        v->bare.len = (size_t)(dot - f->target_host.ptr);
    if (f->source_host.len && f->source_ip.len) {
        dh_buf b;
        dh_buf_init(&b, 4 * (size_t)DH_VALUE_CAP);
        dh_buf_append(&b, f->source_host.ptr, f->source_host.len);
        dh_buf_puts(&b, " (");
        dh_buf_append(&b, f->source_ip.ptr, f->source_ip.len);
        dh_buf_puts(&b, ")");
        v->source = prose(v, (dh_str){b.data ? b.data : "", b.len});
        dh_buf_free(&b);
    } else {
        v->source = prose(v, f->source_host.len ? f->source_host : f->source_ip);
    }
    v->account = prose(v, f->user);
    v->name = f->user; /* after DOMAIN\ (a domain holds no backslash; a name may, as written) */
    const char *bs = memchr(f->user.ptr, '\\', f->user.len);
    if (bs)
        v->name = (dh_str){bs + 1, f->user.len - (size_t)(bs + 1 - f->user.ptr)};
    v->ip = prose(v, f->source_ip);
    v->logon = prose(v, f->logon_id);
    v->clsid = prose(v, f->clsid);
    v->object = prose(v, f->com_object);
    v->server = prose(v, (dh_str){"", 0});
    v->server_v = (dh_str){"", 0};
    for (size_t i = 0; i < f->nevidence; i++) {
        dh_str img;
        if (!strcmp(f->evidence[i].role, "activation") &&
            dh_event_field(f->evidence[i].ev, DH_FIELD_IMAGE, &img)) {
            size_t b = 0;
            for (size_t k = 0; k < img.len; k++)
                if (img.ptr[k] == '\\' || img.ptr[k] == '/')
                    b = k + 1;
            char *low = prose(v, (dh_str){img.ptr + b, img.len - b});
            for (char *p = low; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p + 32);
            v->server = low;
            v->server_v = (dh_str){low, strlen(low)};
        }
    }
    iso(v->t0, sizeof v->t0, f->first_seen);
    iso(v->t1, sizeof v->t1, f->last_seen);
    iso(v->from, sizeof v->from, f->first_seen - HOUR);
    iso(v->to, sizeof v->to, f->last_seen + HOUR);
    iso(v->from_day, sizeof v->from_day, f->first_seen - 24 * HOUR);
    iso(v->to_day, sizeof v->to_day, f->last_seen + 24 * HOUR);
}

static void free_vals(vals *v)
{
    for (size_t i = 0; i < v->nowned; i++)
        free(v->owned[i]);
    free(v->owned);
}

/* The concatenation of the NULL-terminated arguments, as an owned string. */
static char *cat(const char *first, ...)
{
    dh_buf b;
    dh_buf_init(&b, 64u << 20);
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

/* A step for the investigation (which 0) or the response (which 1). NULL is a step that
 * could not be built (out of memory): counted, so the guide is refused whole rather than
 * shown with a step missing. */
static void add(dh_guide *g, int which, char *s)
{
    char **list = which ? g->respond : g->investigate;
    size_t *n = which ? &g->nrespond : &g->ninvestigate;
    if (!s) {
        g->lost++;
        return;
    }
    if (*n >= DH_GUIDE_MAX_STEPS) { /* more than any finding kind writes: never reached */
        free(s);
        return;
    }
    list[(*n)++] = s;
}

/* ---- quoting for queries ------------------------------------------------------------- */

/* A KQL verbatim string literal (docs/output-escaping.md): @"..." with quotes doubled.
 * Control characters (line ends, which no literal holds, and the rest, so that a query's
 * only line ends and tabs are its own) and bytes that are not UTF-8 become U+FFFD (as
 * Kusto stores invalid bytes): such a query may find nothing, but no value ever ends its
 * literal, and nothing is cut at a NUL. */
static void kql_lit(dh_buf *b, dh_str s)
{
    dh_buf_puts(b, "@\"");
    for (size_t i = 0; i < s.len;) {
        long cp;
        size_t k = dh_utf8_next((const unsigned char *)s.ptr + i, s.len - i, &cp);
        if (cp == '"')
            dh_buf_puts(b, "\"\"");
        else if (cp < 0 || dh_char_control(cp))
            dh_buf_puts(b, "\xEF\xBF\xBD");
        else
            dh_buf_append(b, s.ptr + i, k);
        i += k;
    }
    dh_buf_putc(b, '"');
}

/* A shell word: single quotes ('\'' for a quote inside) when the value is printable
 * UTF-8; else ANSI-C quoting, $'...' with \xNN for every byte of a control or hidden
 * character or not UTF-8 (bash, zsh, ksh). A NUL cannot be part of an argument: it is
 * left out. */
static void sh_word(dh_buf *b, dh_str s)
{
    int plain = 1;
    for (size_t i = 0; i < s.len && plain;) {
        long cp;
        size_t k = dh_utf8_next((const unsigned char *)s.ptr + i, s.len - i, &cp);
        plain = cp >= 0 && !dh_char_hidden(cp);
        i += k;
    }
    if (plain) {
        dh_buf_putc(b, '\'');
        for (size_t i = 0; i < s.len; i++) {
            if (s.ptr[i] == '\'')
                dh_buf_puts(b, "'\\''");
            else
                dh_buf_putc(b, s.ptr[i]);
        }
        dh_buf_putc(b, '\'');
        return;
    }
    static const char hx[] = "0123456789abcdef";
    dh_buf_puts(b, "$'");
    for (size_t i = 0; i < s.len;) {
        long cp;
        size_t k = dh_utf8_next((const unsigned char *)s.ptr + i, s.len - i, &cp);
        if (cp == '\'' || cp == '\\') {
            dh_buf_putc(b, '\\');
            dh_buf_putc(b, (char)cp);
        } else if (cp < 0 || (cp != 0 && dh_char_hidden(cp))) {
            for (size_t j = 0; j < k; j++) {
                unsigned char c = (unsigned char)s.ptr[i + j];
                char e[4] = {'\\', 'x', hx[c >> 4], hx[c & 15]};
                dh_buf_append(b, e, 4);
            }
        } else if (cp != 0) {
            dh_buf_append(b, s.ptr + i, k);
        }
        i += k;
    }
    dh_buf_putc(b, '\'');
}

/* The pivot queries are written through a txt (output/kql_text.h), whose templates name
 * Defender's columns as {Name} holes filled from the schema table; q->b is the query. */
static void kql_window(txt *q, const char *from, const char *to)
{
    dh_buf *b = q->b;
    txt_columns(q, "\n| where {Timestamp} between (datetime(");
    dh_buf_puts(b, from);
    dh_buf_puts(b, ") .. datetime(");
    dh_buf_puts(b, to);
    dh_buf_puts(b, "))");
}

static void kql_device(txt *q, const vals *v)
{
    dh_buf *b = q->b;
    txt_columns(q, "\n| where {DeviceName} =~ ");
    kql_lit(b, v->bare);
    txt_columns(q, " or {DeviceName} startswith ");
    /* the bare name and a dot, in one literal */
    size_t at = b->len;
    kql_lit(b, v->bare);
    if (dh_buf_status(b) == DH_OK && b->len > at && b->data[b->len - 1] == '"') {
        dh_buf_truncate(b, b->len - 1);
        dh_buf_puts(b, ".\"");
    }
}

/* "\n| project " and the columns, named by the schema (event/mappings/defender.h). */
#define C(name) DH_MDE_COL_##name
static void project(dh_buf *b, const dh_defender_col *cols, size_t n)
{
    dh_buf_puts(b, "\n| project ");
    for (size_t i = 0; i < n; i++) {
        if (i)
            dh_buf_puts(b, ", ");
        dh_buf_puts(b, dh_defender_name(cols[i]));
    }
}
#define PROJECT(b, ...)                                                                            \
    project((b), (const dh_defender_col[]){__VA_ARGS__},                                           \
            sizeof((const dh_defender_col[]){__VA_ARGS__}) / sizeof(dh_defender_col))

static char *done(dh_buf *b)
{
    if (dh_buf_putc(b, 0)) {
        dh_buf_free(b);
        return NULL;
    }
    return b->data;
}

/* done for a pivot query: NULL too when a template failed (q->oom); q is ready for the
 * next query. */
static char *query_done(txt *q)
{
    int failed = q->oom;
    q->oom = 0;
    if (failed) {
        dh_buf_free(q->b);
        return NULL;
    }
    return done(q->b);
}

/* A logon id as Windows writes it ("0x1ea3c6") or as a decimal number; 0 if neither. */
static int logon_number(dh_str s, unsigned long long *out)
{
    int hex = s.len > 2 && s.ptr[0] == '0' && (s.ptr[1] == 'x' || s.ptr[1] == 'X');
    const char *p = hex ? s.ptr + 2 : s.ptr, *end = s.ptr + s.len;
    unsigned long long v = 0;
    if (p == end)
        return 0;
    for (; p < end; p++) {
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
    if (!q) { /* a query with a piece missing never goes out: the guide is refused */
        g->lost++;
        return;
    }
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
    txt q = {&b, 0};
    if (v->bare.len) {
        dh_buf_init(&b, 16u << 20);
        dh_buf_puts(&b, dh_defender_table_name(DH_DEFENDER_LOGON_EVENTS));
        kql_window(&q, v->from, v->to);
        kql_device(&q, v);
        txt_columns(&q, "\n| where {LogonType} == \"Network\"");
        if (f->source_ip.len || v->name.len) {
            dh_buf_puts(&b, "\n| where ");
            if (f->source_ip.len) {
                txt_columns(&q, "{RemoteIP} == ");
                kql_lit(&b, f->source_ip);
            }
            if (f->source_ip.len && v->name.len)
                dh_buf_puts(&b, " or ");
            if (v->name.len) {
                txt_columns(&q, "{AccountName} =~ ");
                kql_lit(&b, v->name);
            }
        }
        PROJECT(&b, C(Timestamp), C(DeviceName), C(ActionType), C(AccountDomain), C(AccountName),
                C(LogonType), C(Protocol), C(RemoteIP), C(RemoteDeviceName), C(LogonId));
        add_pivot(g, "Network logons on the target (the source and the account)", "kql",
                  query_done(&q));

        dh_buf_init(&b, 16u << 20);
        dh_buf_puts(&b, dh_defender_table_name(DH_DEFENDER_PROCESS_EVENTS));
        kql_window(&q, v->from, v->to);
        kql_device(&q, v);
        if (v->server_v.len) {
            txt_columns(&q, "\n| where {InitiatingProcessFileName} =~ ");
            kql_lit(&b, v->server_v);
            txt_columns(&q, " or {InitiatingProcessParentFileName} =~ ");
            kql_lit(&b, v->server_v);
            txt_columns(&q, " or ({FileName} =~ ");
            kql_lit(&b, v->server_v);
            txt_columns(&q, " and {ProcessCommandLine} has \"Embedding\")");
        } else {
            txt_columns(&q, "\n| where {InitiatingProcessFileName} in~ (\"explorer.exe\", "
                            "\"svchost.exe\") and {FileName} in~ (\"cmd.exe\", \"powershell.exe\", "
                            "\"pwsh.exe\", \"mshta.exe\", \"rundll32.exe\", \"wscript.exe\", "
                            "\"cscript.exe\", \"regsvr32.exe\")");
        }
        PROJECT(&b, C(Timestamp), C(DeviceName), C(AccountName), C(FileName), C(ProcessCommandLine),
                C(InitiatingProcessFileName), C(InitiatingProcessCommandLine),
                C(InitiatingProcessParentFileName));
        add_pivot(g, "What the COM server started on the target, and what those started", "kql",
                  query_done(&q));
    }
    unsigned long long lid;
    if (v->bare.len && logon_number(f->logon_id, &lid)) {
        /* Defender writes logon ids in decimal; Windows logs in hexadecimal */
        char num[24];
        snprintf(num, sizeof num, "%llu", lid);
        dh_buf_init(&b, 16u << 20);
        dh_buf_puts(&b, dh_defender_table_name(DH_DEFENDER_PROCESS_EVENTS));
        kql_window(&q, v->from, v->to);
        kql_device(&q, v);
        txt_columns(&q, "\n| where {LogonId} == ");
        dh_buf_puts(&b, num);
        txt_columns(&q, " or {InitiatingProcessLogonId} == ");
        dh_buf_puts(&b, num);
        PROJECT(&b, C(Timestamp), C(DeviceName), C(AccountName), C(FileName), C(ProcessCommandLine),
                C(InitiatingProcessFileName), C(LogonId));
        add_pivot(g, "Everything the logon session ran on the target (its logon id)", "kql",
                  query_done(&q));
    }
    if (f->source_ip.len) {
        dh_buf_init(&b, 16u << 20);
        dh_buf_puts(&b, dh_defender_table_name(DH_DEFENDER_NETWORK_EVENTS));
        kql_window(&q, v->from, v->to);
        txt_columns(&q,
                    "\n| where {ActionType} == \"InboundConnectionAccepted\" and {RemoteIP} == ");
        kql_lit(&b, f->source_ip);
        txt_columns(&q, "\n| where {LocalPort} == 135 or {LocalPort} >= 49152"
                        "\n| summarize Connections = count(), First = min({Timestamp}), "
                        "Last = max({Timestamp}), Ports = make_set({LocalPort}) by {DeviceName}");
        add_pivot(g, "Every host the source reached over RPC (135, then a dynamic port)", "kql",
                  query_done(&q));
    }
    if (v->name.len) {
        dh_buf_init(&b, 16u << 20);
        dh_buf_puts(&b, dh_defender_table_name(DH_DEFENDER_LOGON_EVENTS));
        kql_window(&q, v->from_day, v->to_day);
        txt_columns(&q, "\n| where {LogonType} == \"Network\" and {AccountName} =~ ");
        kql_lit(&b, v->name);
        txt_columns(&q, "\n| summarize Logons = count(), Sources = make_set({RemoteIP}), "
                        "First = min({Timestamp}), Last = max({Timestamp}) by {DeviceName}");
        add_pivot(g, "Where else the account logged on over the network (a day either side)", "kql",
                  query_done(&q));
    }
    /* dcomhunt itself, narrowed to the hosts and the time of this finding */
    dh_buf_init(&b, 16u << 20);
    dh_buf_puts(&b, "dcomhunt hunt");
    if (f->target_host.len) {
        dh_buf_puts(&b, " --host ");
        sh_word(&b, v->bare);
    }
    if (f->source_host.len) {
        dh_buf_puts(&b, " --host ");
        sh_word(&b, f->source_host);
    }
    dh_buf_puts(&b, " --from ");
    dh_buf_puts(&b, v->from);
    dh_buf_puts(&b, " --to ");
    dh_buf_puts(&b, v->to);
    for (size_t i = 0; i < npaths; i++) {
        dh_buf_putc(&b, ' ');
        sh_word(&b, (dh_str){paths[i], strlen(paths[i])});
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
static char *commands_text(vals *v)
{
    const dh_finding *f = v->f;
    dh_buf b;
    dh_buf_init(&b, 32 * (size_t)DH_VALUE_CAP);
    for (size_t i = 0; i < f->ncommands && i < 6; i++) {
        if (i)
            dh_buf_puts(&b, "; ");
        dh_buf_puts(&b, "`");
        dh_buf_puts(&b, prose(v, f->commands[i]));
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
    const char *clsid = v->clsid;
    if (*v->object)
        return cat("Take remote launch and activation away from ", v->object,
                   *clsid ? " (CLSID " : "", clsid, *clsid ? "; its AppID is named" : "",
                   *clsid ? " under HKCR\\CLSID\\" : "", clsid, *clsid ? "\\AppID)" : "",
                   " in DCOM Config (dcomcnfg) or by Group Policy: automation servers such as "
                   "Office need no remote activation on workstations.",
                   NULL);
    return cat("Find which COM object was used (the CLSID of the activation, DistributedCOM "
               "10016 or the server's command line) and take remote launch and activation "
               "away from it in DCOM Config.",
               NULL);
}

/* Rule guide steps with their placeholders filled from the finding. */
static char *fill(const char *tmpl, vals *v)
{
    const dh_finding *f = v->f;
    const char *image = "", *parent = "", *cmdline = "";
    for (size_t i = 0; i < f->nevidence; i++) {
        const dh_event *ev = f->evidence[i].ev;
        dh_str s;
        if (!*image && dh_event_field(ev, DH_FIELD_IMAGE, &s) && s.len)
            image = prose(v, s);
        if (!*parent && dh_event_field(ev, DH_FIELD_PARENT_IMAGE, &s) && s.len)
            parent = prose(v, s);
        if (!*cmdline && dh_event_field(ev, DH_FIELD_COMMAND_LINE, &s) && s.len)
            cmdline = prose(v, s);
    }
    static const char *const keys[] = {"host",  "source_ip",    "user",         "logon_id", "time",
                                       "clsid", "command_line", "parent_image", "image"};
    const char *values[] = {or_unknown(v->target, "the target"),
                            or_unknown(v->ip, "the source (unknown)"),
                            or_unknown(v->account, "the account"),
                            or_unknown(v->logon, "(unknown)"),
                            v->t0,
                            or_unknown(v->clsid, "(unknown)"),
                            or_unknown(cmdline, "(none recorded)"),
                            or_unknown(parent, "(unknown)"),
                            or_unknown(image, "(unknown)")};
    dh_buf b;
    dh_buf_init(&b, 16u << 20);
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
static void rule_steps(dh_guide *g, vals *v, int which, size_t max)
{
    const dh_finding *f = v->f;
    char **list = which ? g->respond : g->investigate;
    size_t *n = which ? &g->nrespond : &g->ninvestigate;
    size_t added = 0;
    size_t nr = f->nrules;
    const dh_rule **order = malloc((nr ? nr : 1) * sizeof *order);
    if (!order) {
        g->lost++;
        return;
    }
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
            if (!s) {
                g->lost++;
                continue;
            }
            int dup = 0;
            for (size_t k = 0; k < *n && !dup; k++)
                dup = strstr(list[k], s) != NULL;
            if (dup) {
                free(s);
                continue;
            }
            const char *nm = *dh_rule_name(rule) ? dh_rule_name(rule) : dh_rule_ref(rule);
            add(g, which, cat("[", nm, "] ", s, NULL));
            added++;
            free(s);
        }
    }
    free(order);
}

static void lateral_steps(dh_guide *g, vals *v)
{
    const dh_finding *f = v->f;
    const char *T = or_unknown(v->target, "the target");
    const char *U = or_unknown(v->account, "the account");
    const char *S = v->source;
    /* 1. the logon and its source */
    if (*v->logon && *S)
        add(g, 0,
            cat("Confirm the logon and its source: on ", T,
                ", find the network logon (Security 4624, logon type 3) with logon id ", v->logon,
                " of ", U, " at about ", v->t0,
                ". Its IpAddress and "
                "WorkstationName should name ",
                S,
                "; note the authentication package (NTLM where Kerberos is the norm stands "
                "out) and a 4672 with the same logon id (administrator rights).",
                NULL));
    else if (*S)
        add(g, 0,
            cat("Confirm the logon and its source: on ", T,
                ", list the network logons (Security 4624, logon type 3) from ", S,
                " in the minutes before ", v->t0,
                " and the inbound connections from it to TCP 135 and to the COM server's "
                "dynamic port; the logon names the account that activated the object.",
                NULL));
    else
        add(g, 0,
            cat("Find the source: no log named it. On ", T,
                ", list the network logons (Security 4624, logon type 3) and the inbound "
                "connections to TCP 135 in the minutes before ",
                v->t0,
                "; the address they share is the machine that activated the object. Collect "
                "the Security log and Sysmon network events of ",
                T, " if they are missing.", NULL));
    /* 2. what the COM server ran */
    char *cmds = f->ncommands ? commands_text(v) : NULL;
    const char *obj = or_unknown(v->object, "A COM server");
    if (cmds)
        add(g, 0,
            cat("See what the COM server ran: ", obj, " was started on ", T, " at ", v->t0,
                *v->server ? " (" : "", v->server,
                *v->server ? ", started by the DCOM launcher)" : "", " and ran ", cmds,
                ". Output redirected to \\\\127.0.0.1\\ADMIN$ is Impacket's dcomexec; "
                "PowerShell with -enc or a download cradle is a stager.",
                NULL));
    else
        add(g, 0,
            cat("See what the COM server ran: ", obj, " was started on ", T, " at ", v->t0,
                " but no process it started was recorded. Check the server's own activity "
                "(loaded DLLs, files, connections), whether process-creation logging covers ",
                T, ", and whether the run failed.", NULL));
    free(cmds);
    /* 3. what that did next */
    add(g, 0,
        cat("Follow what those processes did next on ", T, " from ", v->t0, " to ", v->to,
            ": services installed (7045), scheduled tasks, accounts created, files written under "
            "C:\\Windows or ADMIN$, handles to lsass.exe, outbound connections.",
            NULL));
    /* 4. the source elsewhere */
    if (*v->ip)
        add(g, 0,
            cat("Check whether ", S,
                " did the same to other hosts: inbound TCP 135 and network "
                "logons from ",
                v->ip, " on every host between ", v->from, " and ", v->to,
                " (the \"every host the source reached\" pivot), and COM servers started by the "
                "DCOM launcher under ",
                U, ". One source reaching several targets is an operator moving laterally.", NULL));
    else
        add(g, 0,
            cat("Once the source is known, check whether it did the same to other hosts: "
                "inbound TCP 135 and network logons from it on every host between ",
                v->from, " and ", v->to, ".", NULL));
    /* 5. is the account expected there */
    add(g, 0,
        cat("Check whether ", U, " is expected to administer ", T,
            ": its group memberships, whether it logged on to ", T,
            " in the last 30 days (the \"where else the account logged on\" pivot), and whether ",
            or_unknown(S, "the source"),
            " is a known administration host. An account new to the target, or a workstation "
            "as the source, is the strongest sign of an attacker.",
            NULL));
    rule_steps(g, v, 0, 5);

    add(g, 1,
        cat("Contain the target ", T,
            ": isolate it from the network (Defender: Isolate device), capture memory before "
            "any reboot, and keep its event logs.",
            NULL));
    if (*S)
        add(g, 1,
            cat("Contain the source ", S, ": it holds ", U,
                "'s credentials or a session of it. Isolate it and find out how it was reached "
                "(it is the previous hop).",
                NULL));
    else
        add(g, 1, cat("Find the source (the investigation's first step) and contain it.", NULL));
    add(g, 1,
        cat("Reset the credentials of ", U,
            " (for a domain account, also end its sessions and Kerberos tickets), and review every "
            "host it logged on to since ",
            v->from_day, ".", NULL));
    add(g, 1, lockdown(v));
    add(g, 1,
        cat("Where DCOM between machines is not needed, disable it (HKLM\\SOFTWARE\\Microsoft\\"
            "Ole, EnableDCOM = N) or block TCP 135 and the dynamic RPC range (49152-65535) "
            "between workstations at the host firewall; keep the DCOM hardening (KB5004442) "
            "enforced.",
            NULL));
    add(g, 1,
        cat("Search elsewhere for the same activity: the commands run here, the source ",
            or_unknown(S, "(once known)"), " and the account ", U,
            " on every host (the pivots below), and the rules of this finding as hunting "
            "queries (dcomhunt rules export --to kql).",
            NULL));
    rule_steps(g, v, 1, 3);
}

static void other_steps(dh_guide *g, vals *v)
{
    const dh_finding *f = v->f;
    const char *T = or_unknown(v->target, "the host");
    const char *U = or_unknown(v->account, "the account");
    switch (f->kind) {
    case DH_FINDING_ATTEMPT:
        add(g, 0,
            cat("A remote activation of ", or_unknown(v->object, "a COM object"),
                *v->clsid ? " (CLSID " : "", v->clsid, *v->clsid ? ")" : "", " by ", U, " from ",
                or_unknown(v->source, "an unknown source"), " was refused on ", T, " at ", v->t0,
                " (DistributedCOM 10016): someone tried DCOM against this host without the "
                "launch rights.",
                NULL));
        add(g, 0,
            cat("Check whether the same source succeeded on other hosts in the same hour (the "
                "pivots below), and whether ",
                U, " is expected to run remote COM automation at all.", NULL));
        add(g, 1,
            cat("If the attempt is not explained by administration software, treat ",
                or_unknown(v->source, "the source"), " as compromised: isolate it and reset ", U,
                "'s credentials.", NULL));
        break;
    case DH_FINDING_SOURCE_ACTIVITY: {
        /* the host that made the call is the finding's source; the target is what it named */
        const char *S = or_unknown(v->source, "the host");
        int script = f->nevidence && !strcmp(f->evidence[0].role, "script");
        add(g, 0,
            cat(S, " tried to activate ", or_unknown(v->object, "a COM object"), " on ",
                or_unknown(v->target, "another machine"), " at ", v->t0,
                script ? " (a PowerShell script block calls DCOM objects of another host)"
                       : " (DistributedCOM 10028: the target could not be reached)",
                ". Find the process that made the call and the account it ran as; look for the "
                "same host reaching other targets.",
                NULL));
        add(g, 1,
            cat("If no administration tool explains it, isolate ", S,
                " (it acts as a source of lateral movement) and reset the credentials used on "
                "it.",
                NULL));
        break;
    }
    default:
        add(g, 0,
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
    size_t lost = g->lost + v->lost;
    free_vals(v);
    free(v);
    if (lost) { /* never a guide with a step, a value or a query missing */
        dh_guide_free(g);
        return DH_ERR_NOMEM;
    }
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
