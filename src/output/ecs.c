/* Events as Elastic Common Schema 9.4.0 documents (dcomhunt dump --to ecs), the way
 * Winlogbeat's ingest pipelines lay out Windows events: the normalised fields as ECS
 * fields (process.*, process.parent.*, user.*, source.*, destination.*, file.*,
 * registry.*, network.*, dns.*, service.*, related.*), the event's categorisation
 * (event.kind, category, type, outcome, action, code, provider), host.name and
 * ecs.version, and the record as Windows gave it under winlog (channel, computer_name,
 * event_id, record_id, provider_name, event_data), which dcomhunt reads back.
 *
 * Unlike the pipelines, nothing is taken out of winlog.event_data: the document is also
 * dcomhunt's own interchange format, so it keeps every field as read. Values that do not
 * fit their ECS type (an address that is not one, a port or process id that is not a
 * number) stay in winlog.event_data only. tests/conformance/ecs_events.py checks every
 * field written, from every input format, against ../shared/ecs. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "core/timefmt.h"
#include "event/mappings/system.h"
#include "output/json.h"
#include "output/jw.h"
#include "output/typed.h"

#define ECS_VERSION "9.4.0"
#define MAX_VALS    64

enum { V_STR, V_LONG, V_BOOL, V_LIST };

/* One ECS field: a dotted name and its value, written nested once all are known. */
typedef struct val {
    const char *name;
    int type;
    dh_str s;
    long long n;
    const dh_str *list;
    size_t nlist;
} val;

typedef struct doc {
    val v[MAX_VALS];
    size_t n;
    dh_str ips[2], users[1], hashes[5], regdata[1], transport[1];
    size_t nips, nusers, nhashes;
    char hashbuf[5][132]; /* digests lowercased, as Winlogbeat writes them */
    char transport_buf[16];
} doc;

static void add(doc *d, const char *name, int type, dh_str s, long long n)
{
    if (d->n == MAX_VALS || (type == V_STR && (!s.len || dh_typed_absent(s))))
        return;
    d->v[d->n++] = (val){name, type, s, n, NULL, 0};
}

static void add_list(doc *d, const char *name, const dh_str *list, size_t n)
{
    if (n && d->n < MAX_VALS)
        d->v[d->n++] = (val){name, V_LIST, {NULL, 0}, 0, list, n};
}

static dh_str zs(const char *s)
{
    return (dh_str){s, strlen(s)};
}

/* -- categorisation ------------------------------------------------------------------ */

/* By kind: ECS categories and types (each type one the category expects), and the outcome
 * the kind implies. */
typedef struct cls {
    const char *category[2];
    const char *type[3];
    const char *outcome;
} cls;

#define C(...)                                                                                     \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
static const cls by_kind[DH_KIND_COUNT] = {
    [DH_KIND_PROCESS_CREATION] = {C("process"), C("start"), NULL},
    [DH_KIND_NETWORK_CONNECTION] = {C("network"), C("start", "connection"), NULL},
    [DH_KIND_LOGON] = {C("authentication"), C("start"), "success"},
    [DH_KIND_LOGON_FAILED] = {C("authentication"), C("start"), "failure"},
    [DH_KIND_EXPLICIT_LOGON] = {C("authentication"), C("start"), NULL},
    [DH_KIND_SPECIAL_LOGON] = {C("iam"), C("admin"), NULL},
    [DH_KIND_PRIVILEGE_USE] = {C("iam"), C("admin"), NULL},
    [DH_KIND_SHARE_ACCESS] = {C("network", "file"), C("access"), NULL},
    [DH_KIND_IMAGE_LOAD] = {C("process"), C("change"), NULL},
    [DH_KIND_FILE_EVENT] = {C("file"), C("creation"), NULL},
    [DH_KIND_REGISTRY_ADD] = {C("configuration", "registry"), C("creation"), NULL},
    [DH_KIND_REGISTRY_DELETE] = {C("configuration", "registry"), C("deletion"), NULL},
    [DH_KIND_REGISTRY_SET] = {C("configuration", "registry"), C("change"), NULL},
    [DH_KIND_REGISTRY_RENAME] = {C("configuration", "registry"), C("change"), NULL},
    [DH_KIND_DCOM_ERROR] = {C(NULL), C(NULL), "failure"},
    [DH_KIND_SERVICE_INSTALL] = {C("configuration"), C("creation"), NULL},
    [DH_KIND_TASK_CREATE] = {C("configuration"), C("creation"), NULL},
    [DH_KIND_PS_SCRIPT] = {C("process"), C("info"), NULL},
    [DH_KIND_PS_MODULE] = {C("process"), C("info"), NULL},
    [DH_KIND_PROCESS_TERMINATION] = {C("process"), C("end"), NULL},
    [DH_KIND_PROCESS_ACCESS] = {C("process"), C("access"), NULL},
    [DH_KIND_CREATE_REMOTE_THREAD] = {C("process"), C("change"), NULL},
    [DH_KIND_DNS_QUERY] = {C("network"), C("connection", "protocol", "info"), NULL},
    [DH_KIND_PIPE_CREATED] = {C("file"), C("creation"), NULL},
    [DH_KIND_WMI_EVENT] = {C("process"), C("info"), NULL},
    [DH_KIND_FILE_DELETE] = {C("file"), C("deletion"), NULL},
    [DH_KIND_RPC_CALL] = {C("network"), C("protocol", "info"), NULL},
    [DH_KIND_CREATE_STREAM_HASH] = {C("file"), C("access"), NULL},
};

/* event.action as Winlogbeat's Sysmon and Security pipelines name it; other sources get
 * the kind's name. */
static const struct {
    const char *provider;
    unsigned id;
    const char *action;
} actions[] = {
    {"Microsoft-Windows-Sysmon", 1, "Process creation"},
    {"Microsoft-Windows-Sysmon", 3, "Network connection"},
    {"Microsoft-Windows-Sysmon", 5, "Process terminated"},
    {"Microsoft-Windows-Sysmon", 7, "Image loaded"},
    {"Microsoft-Windows-Sysmon", 8, "CreateRemoteThread"},
    {"Microsoft-Windows-Sysmon", 10, "ProcessAccess"},
    {"Microsoft-Windows-Sysmon", 11, "FileCreate"},
    {"Microsoft-Windows-Sysmon", 12, "RegistryEvent (Object create and delete)"},
    {"Microsoft-Windows-Sysmon", 13, "RegistryEvent (Value Set)"},
    {"Microsoft-Windows-Sysmon", 14, "RegistryEvent (Key and Value Rename)"},
    {"Microsoft-Windows-Sysmon", 15, "FileCreateStreamHash"},
    {"Microsoft-Windows-Sysmon", 17, "PipeEvent (Pipe Created)"},
    {"Microsoft-Windows-Sysmon", 18, "PipeEvent (Pipe Connected)"},
    {"Microsoft-Windows-Sysmon", 22, "DNSEvent (DNS query)"},
    {"Microsoft-Windows-Sysmon", 23, "FileDelete (File Delete archived)"},
    {"Microsoft-Windows-Sysmon", 26, "FileDeleteDetected (File Delete logged)"},
    {"Microsoft-Windows-Security-Auditing", 4624, "logged-in"},
    {"Microsoft-Windows-Security-Auditing", 4625, "logon-failed"},
    {"Microsoft-Windows-Security-Auditing", 4634, "logged-out"},
    {"Microsoft-Windows-Security-Auditing", 4647, "logged-out"},
    {"Microsoft-Windows-Security-Auditing", 4648, "logged-in-explicit"},
    {"Microsoft-Windows-Security-Auditing", 4672, "logged-in-special"},
    {"Microsoft-Windows-Security-Auditing", 4673, "privileged-service-called"},
    {"Microsoft-Windows-Security-Auditing", 4674, "privileged-operation"},
    {"Microsoft-Windows-Security-Auditing", 4688, "created-process"},
    {"Microsoft-Windows-Security-Auditing", 4689, "exited-process"},
    {"Microsoft-Windows-Security-Auditing", 4697, "service-installed"},
};

static const char *action(const dh_event *ev)
{
    dh_str p = dh_event_provider(ev);
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (actions[i].id == dh_event_id(ev) && p.len == strlen(actions[i].provider) &&
            !memcmp(p.ptr, actions[i].provider, p.len))
            return actions[i].action;
    return dh_event_kind(ev) == DH_KIND_OTHER ? NULL : dh_kind_name(dh_event_kind(ev));
}

/* -- fields -------------------------------------------------------------------------- */

enum { T_STR, T_IP, T_PORT, T_PID };

/* Taxonomy fields written as they are (after the type check). */
static const struct {
    dh_field f;
    const char *ecs;
    int type;
} direct[] = {
    {DH_FIELD_IMAGE, "process.executable", T_STR},
    {DH_FIELD_COMMAND_LINE, "process.command_line", T_STR},
    {DH_FIELD_CURRENT_DIRECTORY, "process.working_directory", T_STR},
    {DH_FIELD_PROCESS_GUID, "process.entity_id", T_STR},
    {DH_FIELD_PROCESS_ID, "process.pid", T_PID},
    {DH_FIELD_ORIGINAL_FILE_NAME, "process.pe.original_file_name", T_STR},
    {DH_FIELD_PARENT_IMAGE, "process.parent.executable", T_STR},
    {DH_FIELD_PARENT_COMMAND_LINE, "process.parent.command_line", T_STR},
    {DH_FIELD_PARENT_PROCESS_GUID, "process.parent.entity_id", T_STR},
    {DH_FIELD_PARENT_PROCESS_ID, "process.parent.pid", T_PID},
    {DH_FIELD_SOURCE_IP, "source.ip", T_IP},
    {DH_FIELD_SOURCE_PORT, "source.port", T_PORT},
    {DH_FIELD_SOURCE_HOSTNAME, "source.domain", T_STR},
    {DH_FIELD_DESTINATION_IP, "destination.ip", T_IP},
    {DH_FIELD_DESTINATION_PORT, "destination.port", T_PORT},
    {DH_FIELD_DESTINATION_HOSTNAME, "destination.domain", T_STR},
    {DH_FIELD_SIGNATURE, "file.code_signature.subject_name", T_STR},
    {DH_FIELD_SIGNATURE_STATUS, "file.code_signature.status", T_STR},
    {DH_FIELD_QUERY_NAME, "dns.question.name", T_STR},
    {DH_FIELD_SERVICE_NAME, "service.name", T_STR},
};

static void direct_fields(doc *d, const dh_event *ev)
{
    for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
        dh_str v = dh_typed_field(ev, direct[i].f);
        unsigned long long n;
        if (!v.len)
            continue;
        switch (direct[i].type) {
        case T_IP:
            if (dh_typed_ip(v)) {
                add(d, direct[i].ecs, V_STR, v, 0);
                if (d->nips < 2)
                    d->ips[d->nips++] = v;
            }
            break;
        case T_PORT:
            if (dh_typed_uint(v, 65535, &n))
                add(d, direct[i].ecs, V_LONG, v, (long long)n);
            break;
        case T_PID:
            if (dh_typed_uint(v, 0xFFFFFFFFULL, &n))
                add(d, direct[i].ecs, V_LONG, v, (long long)n);
            break;
        default:
            add(d, direct[i].ecs, V_STR, v, 0);
        }
    }
    if (d->nips == 2 && d->ips[0].len == d->ips[1].len &&
        !memcmp(d->ips[0].ptr, d->ips[1].ptr, d->ips[0].len))
        d->nips = 1;
    add_list(d, "related.ip", d->ips, d->nips);
}

/* process.name and process.parent.name: the file name of a path (a bare name is left as
 * the executable alone, as the pipeline does). */
static void names(doc *d, const dh_event *ev)
{
    static const struct {
        dh_field f;
        const char *ecs;
    } n[] = {{DH_FIELD_IMAGE, "process.name"}, {DH_FIELD_PARENT_IMAGE, "process.parent.name"}};
    for (size_t i = 0; i < 2; i++) {
        dh_str p = dh_typed_field(ev, n[i].f), b = dh_typed_basename(p);
        if (b.len && b.len < p.len)
            add(d, n[i].ecs, V_STR, b, 0);
    }
}

/* user.*: the logon's target account, else the subject, else the process's account
 * (DOMAIN\name split), as the Security and Sysmon pipelines pick it. */
static void user(doc *d, const dh_event *ev)
{
    dh_str name = dh_typed_field(ev, DH_FIELD_TARGET_USER_NAME), dom = {NULL, 0}, sid = {NULL, 0};
    if (name.len) {
        dom = dh_typed_field(ev, DH_FIELD_TARGET_DOMAIN_NAME);
        sid = dh_typed_field(ev, DH_FIELD_TARGET_USER_SID);
    } else if ((name = dh_typed_field(ev, DH_FIELD_SUBJECT_USER_NAME)).len) {
        dom = dh_typed_field(ev, DH_FIELD_SUBJECT_DOMAIN_NAME);
    } else {
        dh_typed_account(dh_typed_field(ev, DH_FIELD_USER), &dom, &name);
    }
    if (!name.len)
        return;
    add(d, "user.name", V_STR, name, 0);
    add(d, "user.domain", V_STR, dom, 0);
    add(d, "user.id", V_STR, sid, 0);
    d->users[0] = name;
    d->nusers = 1;
    add_list(d, "related.user", d->users, d->nusers);
}

/* file.path with its name, directory and extension: the loaded image, the file written. */
static void file(doc *d, const dh_event *ev)
{
    dh_str p = dh_typed_field(ev, DH_FIELD_IMAGE_LOADED);
    if (!p.len)
        p = dh_typed_field(ev, DH_FIELD_TARGET_FILENAME);
    if (!p.len)
        return;
    add(d, "file.path", V_STR, p, 0);
    dh_str b = dh_typed_basename(p);
    if (b.len < p.len && b.len) {
        add(d, "file.name", V_STR, b, 0);
        add(d, "file.directory", V_STR, (dh_str){p.ptr, p.len - b.len - 1}, 0);
        const char *dot = memchr(b.ptr, '.', b.len);
        for (const char *q = dot; q; q = memchr(q + 1, '.', b.len - (size_t)(q + 1 - b.ptr)))
            dot = q;
        if (dot && dot + 1 < b.ptr + b.len)
            add(d, "file.extension", V_STR, (dh_str){dot + 1, (size_t)(b.ptr + b.len - dot - 1)},
                0);
    }
    dh_str s = dh_typed_field(ev, DH_FIELD_SIGNED);
    if (s.len == 4 && !memcmp(s.ptr, "true", 4))
        add(d, "file.code_signature.exists", V_BOOL, s, 1);
    else if (s.len == 5 && !memcmp(s.ptr, "false", 5))
        add(d, "file.code_signature.exists", V_BOOL, s, 0);
    s = dh_typed_field(ev, DH_FIELD_SIGNATURE_STATUS);
    if (s.len)
        add(d, "file.code_signature.valid", V_BOOL, s, s.len == 5 && !memcmp(s.ptr, "Valid", 5));
}

/* registry.path, hive, key, value and data.strings from Sysmon's TargetObject. */
static void registry(doc *d, const dh_event *ev)
{
    static const char *const hives[] = {"HKLM", "HKCU", "HKU", "HKCR", "HKCC"};
    dh_str p = dh_typed_field(ev, DH_FIELD_TARGET_OBJECT);
    if (!p.len)
        return;
    add(d, "registry.path", V_STR, p, 0);
    const char *bs = memchr(p.ptr, '\\', p.len);
    size_t hl = bs ? (size_t)(bs - p.ptr) : p.len;
    for (size_t i = 0; i < sizeof hives / sizeof hives[0]; i++)
        if (hl == strlen(hives[i]) && !memcmp(p.ptr, hives[i], hl)) {
            add(d, "registry.hive", V_STR, (dh_str){p.ptr, hl}, 0);
            if (bs)
                add(d, "registry.key", V_STR, (dh_str){bs + 1, p.len - hl - 1}, 0);
        }
    add(d, "registry.value", V_STR, dh_typed_basename(p), 0);
    d->regdata[0] = dh_typed_field(ev, DH_FIELD_DETAILS);
    if (d->regdata[0].len)
        add_list(d, "registry.data.strings", d->regdata, 1);
}

/* Sysmon's Hashes ("SHA1=..,MD5=..,IMPHASH=..") as process.hash.* (file.hash.* for a
 * loaded image), lowercased; only hex digests of the algorithms ECS names. */
static void hashes(doc *d, const dh_event *ev)
{
    static const struct {
        const char *algo, *proc, *file;
    } known[] = {{"MD5", "process.hash.md5", "file.hash.md5"},
                 {"SHA1", "process.hash.sha1", "file.hash.sha1"},
                 {"SHA256", "process.hash.sha256", "file.hash.sha256"},
                 {"SHA384", "process.hash.sha384", "file.hash.sha384"},
                 {"SHA512", "process.hash.sha512", "file.hash.sha512"},
                 {"IMPHASH", "process.pe.imphash", "file.pe.imphash"}};
    dh_str h = dh_typed_field(ev, DH_FIELD_HASHES);
    int image = dh_event_kind(ev) == DH_KIND_IMAGE_LOAD;
    for (size_t i = 0; i < h.len && d->nhashes < 5;) {
        const char *end = memchr(h.ptr + i, ',', h.len - i);
        size_t n = end ? (size_t)(end - h.ptr) - i : h.len - i;
        const char *eq = memchr(h.ptr + i, '=', n);
        if (eq) {
            size_t kl = (size_t)(eq - h.ptr) - i, vl = n - kl - 1;
            const char *v = eq + 1;
            int hex = vl > 0 && vl < sizeof d->hashbuf[0];
            for (size_t k = 0; hex && k < vl; k++)
                hex = (v[k] >= '0' && v[k] <= '9') || (v[k] >= 'a' && v[k] <= 'f') ||
                      (v[k] >= 'A' && v[k] <= 'F');
            for (size_t a = 0; hex && a < sizeof known / sizeof known[0]; a++) {
                if (kl != strlen(known[a].algo) || strncasecmp(h.ptr + i, known[a].algo, kl))
                    continue;
                char *o = d->hashbuf[d->nhashes];
                for (size_t k = 0; k < vl; k++)
                    o[k] = (char)(v[k] >= 'A' && v[k] <= 'F' ? v[k] + 32 : v[k]);
                d->hashes[d->nhashes] = (dh_str){o, vl};
                add(d, image ? known[a].file : known[a].proc, V_STR, d->hashes[d->nhashes], 0);
                d->nhashes++;
            }
        }
        i += n + 1;
    }
    add_list(d, "related.hash", d->hashes, d->nhashes);
}

/* network.direction from Initiated, network.transport from the protocol's name. */
static void network(doc *d, const dh_event *ev)
{
    dh_str v = dh_typed_field(ev, DH_FIELD_INITIATED);
    if (v.len == 4 && !memcmp(v.ptr, "true", 4))
        add(d, "network.direction", V_STR, zs("egress"), 0);
    else if (v.len == 5 && !memcmp(v.ptr, "false", 5))
        add(d, "network.direction", V_STR, zs("ingress"), 0);
    v = dh_typed_field(ev, DH_FIELD_PROTOCOL);
    if (v.len && v.len < sizeof d->transport_buf) {
        for (size_t i = 0; i < v.len; i++) {
            char c = v.ptr[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                return;
            d->transport_buf[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        add(d, "network.transport", V_STR, (dh_str){d->transport_buf, v.len}, 0);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const val *)a)->name, ((const val *)b)->name);
}

/* Length of the common dotted prefix of two names, in whole segments ("a.b" of a.b.c and
 * a.b.d), and the number of segments it holds. */
static size_t common(const char *a, const char *b, int *segs)
{
    size_t last = 0;
    *segs = 0;
    for (size_t i = 0; a[i] && a[i] == b[i]; i++)
        if (a[i] == '.') {
            last = i + 1;
            (*segs)++;
        }
    return last;
}

/* The collected fields, sorted, as nested objects: a.b.c and a.b.d share "a":{"b":{..}}.
 * A name collected twice is written once. */
static void emit(dh_jw *w, doc *d)
{
    char key[64];
    qsort(d->v, d->n, sizeof d->v[0], by_name);
    const char *prev = "";
    int open = 0; /* objects open for prev */
    for (size_t i = 0; i < d->n; i++) {
        const val *v = &d->v[i];
        if (!strcmp(v->name, prev))
            continue;
        int keep;
        size_t at = common(prev, v->name, &keep);
        for (; open > keep; open--)
            dh_jw_end(w);
        /* open the new name's remaining segments but its last */
        const char *p = v->name + at;
        for (const char *dot; (dot = strchr(p, '.'));) {
            size_t n = (size_t)(dot - p) < sizeof key - 1 ? (size_t)(dot - p) : sizeof key - 1;
            memcpy(key, p, n);
            key[n] = 0;
            dh_jw_object(w, key);
            open++;
            p = dot + 1;
        }
        switch (v->type) {
        case V_LONG:
            dh_jw_int(w, p, v->n);
            break;
        case V_BOOL:
            dh_jw_bool(w, p, (int)v->n);
            break;
        case V_LIST:
            dh_jw_array(w, p);
            for (size_t k = 0; k < v->nlist; k++)
                dh_jw_str(w, NULL, v->list[k]);
            dh_jw_end(w);
            break;
        default:
            dh_jw_str(w, p, v->s);
        }
        prev = v->name;
    }
    for (; open > 0; open--)
        dh_jw_end(w);
}

/* The System properties where Winlogbeat keeps them under winlog (provider_guid, version,
 * task, opcode, keywords, activity_id, process.pid, process.thread.id, user.identifier...:
 * src/event/mappings/system.c), so dcomhunt reads them back. Level, Task, Opcode and
 * Keywords are the numbers the record holds: Winlogbeat writes the names a provider's
 * manifest gives them, which a log file does not carry. */
static const char *winlog_path(dh_str name)
{
    for (size_t k = 0; k < dh_sys_count; k++)
        if (strlen(dh_sys_names[k].name) == name.len &&
            !memcmp(dh_sys_names[k].name, name.ptr, name.len))
            return dh_sys_names[k].winlog;
    return NULL;
}

static void winlog_system(dh_jw *w, const dh_event *ev)
{
    size_t n;
    const dh_kv *sys = dh_event_system(ev, &n);
    for (size_t i = 0; i < n; i++) { /* winlog's own members */
        const char *p = winlog_path(sys[i].name);
        if (!p || strchr(p, '.'))
            continue;
        if (!strcmp(p, "keywords")) { /* an array, as Winlogbeat writes it */
            dh_jw_array(w, p);
            dh_jw_str(w, NULL, sys[i].value);
            dh_jw_end(w);
        } else {
            dh_jw_str(w, p, sys[i].value);
        }
    }
    static const char *const objects[] = {"process", "user"};
    for (size_t o = 0; o < sizeof objects / sizeof objects[0]; o++) {
        size_t pl = strlen(objects[o]);
        dh_jw_object(w, objects[o]); /* taken back if nothing goes in */
        for (size_t i = 0; i < n; i++) {
            const char *p = winlog_path(sys[i].name);
            if (!p || strncmp(p, objects[o], pl) || p[pl] != '.')
                continue;
            if (!strcmp(p + pl + 1, "thread.id")) {
                dh_jw_object(w, "thread");
                dh_jw_str(w, "id", sys[i].value);
                dh_jw_end(w);
            } else {
                dh_jw_str(w, p + pl + 1, sys[i].value);
            }
        }
        dh_jw_end(w);
    }
}

static void cstrs(const char *const *s, size_t max, dh_str *out, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < max && s[i]; i++)
        out[(*n)++] = zs(s[i]);
}

dh_status dh_json_event_ecs(dh_buf *b, const dh_event *ev)
{
    doc *d = calloc(1, sizeof *d);
    if (!d)
        return DH_ERR_NOMEM;
    dh_kind kind = dh_event_kind(ev);
    const cls *c = kind < DH_KIND_COUNT ? &by_kind[kind] : &by_kind[0];
    dh_str cats[3], types[3];
    size_t ncat, ntype;
    char code[16];
    dh_buf tb = {0};
    dh_buf_init(&tb, 64);
    dh_time_put_iso(&tb, dh_event_time(ev));

    add(d, "@timestamp", V_STR, (dh_str){tb.data, tb.len}, 0);
    add(d, "ecs.version", V_STR, zs(ECS_VERSION), 0);
    add(d, "event.kind", V_STR, zs("event"), 0);
    if (dh_event_id(ev)) {
        snprintf(code, sizeof code, "%u", dh_event_id(ev));
        add(d, "event.code", V_STR, zs(code), 0);
    }
    add(d, "event.provider", V_STR, dh_event_provider(ev), 0);
    cstrs(c->category, 2, cats, &ncat);
    cstrs(c->type, 3, types, &ntype);
    add_list(d, "event.category", cats, ncat);
    add_list(d, "event.type", types, ntype);
    if (c->outcome)
        add(d, "event.outcome", V_STR, zs(c->outcome), 0);
    const char *act = action(ev);
    if (act)
        add(d, "event.action", V_STR, zs(act), 0);
    add(d, "host.name", V_STR, dh_event_host(ev), 0);
    add(d, "log.file.path", V_STR, dh_event_file_str(ev), 0);
    direct_fields(d, ev);
    names(d, ev);
    user(d, ev);
    file(d, ev);
    registry(d, ev);
    hashes(d, ev);
    network(d, ev);

    dh_jw jw, *w = &jw;
    dh_jw_init(w, b);
    emit(w, d);
    dh_jw_object(w, "winlog");
    dh_jw_member(w, zs("channel"), dh_event_channel(ev));
    dh_jw_member(w, zs("computer_name"), dh_event_host(ev));
    char id[16];
    snprintf(id, sizeof id, "%u", dh_event_id(ev));
    dh_jw_member(w, zs("event_id"), zs(id));
    dh_jw_uint(w, "record_id", dh_event_record_id(ev));
    dh_jw_member(w, zs("provider_name"), dh_event_provider(ev));
    winlog_system(w, ev);
    const char *lt = dh_typed_logon_type(dh_typed_field(ev, DH_FIELD_LOGON_TYPE));
    dh_str lid = dh_typed_field(ev, DH_FIELD_LOGON_ID);
    if (lt || lid.len) {
        dh_jw_object(w, "logon");
        dh_jw_strz(w, "type", lt);
        dh_jw_str(w, "id", lid);
        dh_jw_end(w);
    }
    /* the record's own data, every name and value as read (repeated names repeated),
     * kept even when empty: dcomhunt reads the event back from here */
    dh_jw_object(w, "event_data");
    size_t n;
    const dh_kv *kv = dh_event_data(ev, &n);
    for (size_t i = 0; i < n; i++)
        dh_jw_member(w, kv[i].name, kv[i].value);
    dh_jw_end(w);
    dh_jw_end(w);
    dh_status st = dh_jw_finish(w);
    dh_buf_free(&tb);
    free(d);
    return st;
}
