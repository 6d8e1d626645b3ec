/* Findings as OCSF 1.8.0 Detection Findings (class_uid 2004), one JSON object per line,
 * with the profiles they use declared in metadata.profiles (security_control: action,
 * disposition, attacks, is_alert; host: actor); docs/findings.md lists every attribute.
 * Every attribute written is one the
 * class defines, or one of the two profiles named in metadata.profiles, with its
 * dictionary type and its enum caption; unknown values are left out, never written empty.
 * tests/conformance/ocsf_findings.py checks every finding kind against the schema's own
 * source (../shared/ocsf-schema). What OCSF has no place for (the COM object, the
 * resolved source, the guide's steps and pivots) is under `unmapped`, as the standard
 * says. */
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
#include "findings/model.h"
#include "output/findings_format.h"
#include "output/jw.h"
#include "output/typed.h"

#define DH_OCSF_VERSION "1.8.0"
#define INT32_MAXV      2147483647ULL

/* severity_id by dh_level, with the schema's captions */
static const struct {
    int id;
    const char *caption;
} severities[] = {
    [DH_LEVEL_INFORMATIONAL] = {1, "Informational"},
    [DH_LEVEL_LOW] = {2, "Low"},
    [DH_LEVEL_MEDIUM] = {3, "Medium"},
    [DH_LEVEL_HIGH] = {4, "High"},
    [DH_LEVEL_CRITICAL] = {5, "Critical"},
};

static const char *const confidences[] = {"Unknown", "Low", "Medium", "High"};

static long long ms(int64_t filetime)
{
    return (filetime - DH_FILETIME_UNIX_EPOCH) / 10000;
}

/* user: {name, domain, uid}; "DOMAIN\name" split when no domain is given apart. */
static void user(dh_jw *w, const char *key, dh_str name, dh_str domain, dh_str sid)
{
    if (!domain.len) {
        dh_str d, n;
        dh_typed_account(name, &d, &n);
        name = n;
        domain = d;
    }
    if (!name.len)
        return; /* the object needs a name (or uid): a domain alone says nothing */
    dh_jw_object(w, key);
    dh_jw_str(w, "name", name);
    dh_jw_str(w, "domain", domain);
    dh_jw_str(w, "uid", sid);
    dh_jw_end(w);
}

/* process (or, parent set, its parent_process): written only with a pid or a uid, which
 * the object requires one of. */
static void process(dh_jw *w, const dh_event *ev, int parent)
{
    static const dh_field own[] = {DH_FIELD_IMAGE, DH_FIELD_COMMAND_LINE, DH_FIELD_PROCESS_ID,
                                   DH_FIELD_PROCESS_GUID, DH_FIELD_USER};
    static const dh_field up[] = {DH_FIELD_PARENT_IMAGE, DH_FIELD_PARENT_COMMAND_LINE,
                                  DH_FIELD_PARENT_PROCESS_ID, DH_FIELD_PARENT_PROCESS_GUID,
                                  DH_FIELD_PARENT_USER};
    const dh_field *f = parent ? up : own;
    dh_str image = dh_typed_field(ev, f[0]), guid = dh_typed_field(ev, f[3]);
    unsigned long long pid = 0;
    int have_pid = dh_typed_uint(dh_typed_field(ev, f[2]), INT32_MAXV, &pid) && pid > 0;
    if (!have_pid && !guid.len)
        return;
    dh_jw_object(w, parent ? "parent_process" : "process");
    dh_jw_str(w, "name", dh_typed_basename(image));
    dh_jw_str(w, "path", image);
    dh_jw_str(w, "cmd_line", dh_typed_field(ev, f[1]));
    if (have_pid)
        dh_jw_int(w, "pid", (long long)pid);
    dh_jw_str(w, "uid", guid);
    if (!parent && dh_event_kind(ev) == DH_KIND_PROCESS_CREATION && dh_event_time(ev))
        dh_jw_int(w, "created_time", ms(dh_event_time(ev)));
    user(w, "user", dh_typed_field(ev, f[4]), (dh_str){NULL, 0}, (dh_str){NULL, 0});
    if (!parent)
        process(w, ev, 1);
    dh_jw_end(w);
}

/* network_endpoint: a port only beside an address or a name (the object needs one). */
static void endpoint(dh_jw *w, const char *key, dh_str ip, dh_str port, dh_str host, dh_str name)
{
    unsigned long long p;
    dh_jw_object(w, key);
    dh_jw_str(w, "hostname", host);
    if (!(name.len == host.len && name.len && !memcmp(name.ptr, host.ptr, name.len)))
        dh_jw_str(w, "name", name); /* the workstation, when the host name is not it already */
    if (dh_typed_ip(ip))
        dh_jw_str(w, "ip", ip);
    if (dh_jw_count(w) && dh_typed_uint(port, 65535, &p))
        dh_jw_int(w, "port", (long long)p);
    dh_jw_end(w);
}

/* device: the host; type_id is required and the type is not known from a log. */
static void device(dh_jw *w, const char *key, dh_str host, dh_str ip)
{
    dh_jw_object(w, key);
    dh_jw_str(w, "hostname", host);
    if (dh_typed_ip(ip))
        dh_jw_str(w, "ip", ip);
    if (dh_jw_count(w)) {
        dh_jw_int(w, "type_id", 0);
        dh_jw_strz(w, "type", "Unknown");
    }
    dh_jw_end(w);
}

/* One evidence record: its provenance under data, and what OCSF has objects for. */
static void evidence(dh_jw *w, const dh_evidence *e)
{
    const dh_event *ev = e->ev;
    dh_kind kind = dh_event_kind(ev);
    dh_jw_object(w, NULL);
    dh_jw_strz(w, "name", e->role);
    device(w, "device", dh_event_host(ev), (dh_str){NULL, 0});
    size_t before = dh_jw_count(w);
    process(w, ev, 0);
    int have_process = dh_jw_count(w) > before;
    dh_str tu = dh_typed_field(ev, DH_FIELD_TARGET_USER_NAME);
    if (tu.len)
        user(w, "user", tu, dh_typed_field(ev, DH_FIELD_TARGET_DOMAIN_NAME),
             dh_typed_field(ev, DH_FIELD_TARGET_USER_SID));
    else if (!have_process)
        user(w, "user", dh_typed_field(ev, DH_FIELD_USER), (dh_str){NULL, 0}, (dh_str){NULL, 0});
    endpoint(w, "src_endpoint", dh_typed_field(ev, DH_FIELD_SOURCE_IP),
             dh_typed_field(ev, DH_FIELD_SOURCE_PORT), dh_typed_field(ev, DH_FIELD_SOURCE_HOSTNAME),
             dh_typed_field(ev, DH_FIELD_WORKSTATION_NAME));
    endpoint(w, "dst_endpoint", dh_typed_field(ev, DH_FIELD_DESTINATION_IP),
             dh_typed_field(ev, DH_FIELD_DESTINATION_PORT),
             dh_typed_field(ev, DH_FIELD_DESTINATION_HOSTNAME), (dh_str){NULL, 0});
    dh_jw_object(w, "data");
    dh_jw_str(w, "file", dh_event_file_str(ev));
    dh_jw_int(w, "record_id", (long long)dh_event_record_id(ev));
    dh_jw_int(w, "event_id", dh_event_id(ev));
    dh_jw_str(w, "channel", dh_event_channel(ev));
    dh_jw_str(w, "provider", dh_event_provider(ev));
    dh_jw_time(w, "time", dh_event_time(ev));
    dh_jw_strz(w, "kind", dh_kind_name(kind));
    dh_jw_end(w);
    dh_jw_end(w);
}

/* ATT&CK: DCOM is sub-technique T1021.003 of Remote Services, tactic Lateral Movement. */
static void attacks(dh_jw *w)
{
    dh_jw_array(w, "attacks");
    dh_jw_object(w, NULL);
    dh_jw_object(w, "tactic");
    dh_jw_strz(w, "uid", "TA0008");
    dh_jw_strz(w, "name", "Lateral Movement");
    dh_jw_end(w);
    dh_jw_object(w, "technique");
    dh_jw_strz(w, "uid", "T1021");
    dh_jw_strz(w, "name", "Remote Services");
    dh_jw_end(w);
    dh_jw_object(w, "sub_technique");
    dh_jw_strz(w, "uid", "T1021.003");
    dh_jw_strz(w, "name", "Distributed Component Object Model");
    dh_jw_end(w);
    dh_jw_end(w);
    dh_jw_end(w);
}

/* resource_details: the target (role Target) and the source (role Actor) hosts. */
static void resource(dh_jw *w, dh_str h, dh_str a, int role_id, const char *role)
{
    int have_ip = dh_typed_ip(a);
    if (!h.len && !have_ip)
        return;
    dh_jw_object(w, NULL);
    dh_jw_str(w, "name", h.len ? h : a);
    dh_jw_str(w, "hostname", h);
    if (have_ip)
        dh_jw_str(w, "ip", a);
    dh_jw_strz(w, "type", "Host");
    dh_jw_int(w, "role_id", role_id);
    dh_jw_strz(w, "role", role);
    dh_jw_end(w);
}

static void observable(dh_jw *w, const char *name, int type_id, const char *type, dh_str v)
{
    if (!v.len)
        return;
    dh_jw_object(w, NULL);
    dh_jw_strz(w, "name", name);
    dh_jw_int(w, "type_id", type_id);
    dh_jw_strz(w, "type", type);
    dh_jw_str(w, "value", v);
    dh_jw_end(w);
}

static void strings(dh_jw *w, const char *key, const char *const *v, size_t n)
{
    dh_jw_array(w, key);
    for (size_t i = 0; i < n; i++)
        dh_jw_strz(w, NULL, v[i]);
    dh_jw_end(w);
}

/* Values from the logs: byte strings (a NUL inside is kept). */
static void byte_strings(dh_jw *w, const char *key, const dh_str *v, size_t n)
{
    dh_jw_array(w, key);
    for (size_t i = 0; i < n; i++)
        dh_jw_str(w, NULL, v[i]);
    dh_jw_end(w);
}

/* What OCSF has no attribute for, under unmapped (an open object). */
static void unmapped(dh_jw *w, const dh_finding *f, const dh_guide *g, const dh_rule *sup)
{
    dh_jw_object(w, "unmapped");
    dh_jw_strz(w, "kind", dh_finding_kind_name(f->kind));
    dh_jw_str(w, "com_object", f->com_object);
    dh_jw_str(w, "clsid", f->clsid);
    dh_jw_str(w, "logon_id", f->logon_id);
    dh_jw_object(w, "source");
    dh_jw_str(w, "host", f->source_host);
    dh_jw_str(w, "ip", f->source_ip);
    dh_jw_end(w);
    dh_jw_object(w, "target");
    dh_jw_str(w, "host", f->target_host);
    dh_jw_str(w, "ip", f->target_ip);
    dh_jw_end(w);
    byte_strings(w, "commands", f->commands, f->ncommands);
    /* what the finding could not hold whole or decide (docs/findings.md, Limits) */
    dh_jw_array(w, "truncated");
    for (size_t i = 0; i < f->ncuts; i++) {
        char what[64];
        dh_cut_name(&f->cuts[i], what, sizeof what);
        dh_jw_object(w, NULL);
        dh_jw_strz(w, "value", what);
        dh_jw_uint(w, "length", f->cuts[i].length);
        dh_jw_uint(w, "kept", f->cuts[i].kept);
        dh_jw_end(w);
    }
    dh_jw_end(w);
    if (f->commands_dropped || f->evidence_dropped || f->rules_dropped) {
        dh_jw_object(w, "dropped");
        dh_jw_uint(w, "commands", f->commands_dropped);
        dh_jw_uint(w, "evidence", f->evidence_dropped);
        dh_jw_uint(w, "rules", f->rules_dropped);
        dh_jw_end(w);
    }
    dh_jw_array(w, "undecided_rules");
    for (size_t i = 0; i < f->nundecided; i++)
        dh_jw_strz(w, NULL, dh_rule_id(f->undecided[i]));
    dh_jw_end(w);
    byte_strings(w, "servers", f->servers, f->nservers);
    byte_strings(w, "session_commands", f->session_commands, f->nsession_commands);
    dh_jw_array(w, "objects");
    for (size_t i = 0; i < f->nobjects; i++) {
        dh_jw_object(w, NULL);
        dh_jw_strz(w, "name", f->objects[i].name);
        dh_jw_strz(w, "clsid", f->objects[i].clsid);
        dh_jw_strz(w, "appid", f->objects[i].appid);
        dh_jw_end(w);
    }
    dh_jw_end(w);
    strings(w, "confidence_reasons", f->reasons, f->nreasons);
    dh_jw_array(w, "rule_names");
    for (size_t i = 0; i < f->nrules; i++)
        dh_jw_strz(w, NULL, dh_rule_name(f->rules[i]));
    dh_jw_end(w);
    strings(w, "investigate", (const char *const *)g->investigate, g->ninvestigate);
    strings(w, "respond", (const char *const *)g->respond, g->nrespond);
    dh_jw_array(w, "pivots");
    for (size_t i = 0; i < g->npivots; i++) {
        dh_jw_object(w, NULL);
        dh_jw_strz(w, "title", g->pivots[i].title);
        dh_jw_strz(w, "language", g->pivots[i].language);
        dh_jw_strz(w, "query", g->pivots[i].query);
        dh_jw_end(w);
    }
    dh_jw_end(w);
    if (sup) {
        dh_jw_object(w, "suppressed_by");
        dh_jw_strz(w, "filter", dh_rule_title(sup));
        dh_jw_strz(w, "id", dh_rule_id(sup));
        dh_jw_strz(w, "reason", dh_rule_filter_reason(sup));
        dh_jw_strz(w, "expires", dh_rule_filter_expires(sup));
        dh_jw_strz(w, "origin", dh_rule_origin(sup));
        dh_jw_end(w);
    }
    dh_jw_end(w);
}

/* Appends f as one line. g: its guide (remediation, and the steps and pivots kept under
 * unmapped); sup: the tuning filter that suppressed it, or NULL. */
static dh_status ocsf_finding(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup)
{
    dh_buf tb;
    dh_buf_init(&tb, 4 * (size_t)DH_VALUE_CAP);
    dh_buf_puts(&tb, "DCOM ");
    dh_buf_puts(&tb, dh_finding_kind_name(f->kind));
    if (f->com_object.len) {
        dh_buf_puts(&tb, " via ");
        dh_buf_append(&tb, f->com_object.ptr, f->com_object.len);
    }
    if (f->target_host.len) {
        dh_buf_puts(&tb, " on ");
        dh_buf_append(&tb, f->target_host.ptr, f->target_host.len);
    }
    dh_str title = {tb.data ? tb.data : "", tb.len};
    unsigned lvl = (unsigned)f->severity <= DH_LEVEL_CRITICAL ? (unsigned)f->severity : 0;
    int conf = f->confidence >= 1 && f->confidence <= 3 ? f->confidence : 0;
    dh_jw jw, *w = &jw;
    dh_jw_init(w, b);
    dh_jw_int(w, "class_uid", 2004);
    dh_jw_strz(w, "class_name", "Detection Finding");
    dh_jw_int(w, "category_uid", 2);
    dh_jw_strz(w, "category_name", "Findings");
    dh_jw_int(w, "activity_id", 1);
    dh_jw_strz(w, "activity_name", "Create");
    dh_jw_int(w, "type_uid", 200401);
    dh_jw_strz(w, "type_name", "Detection Finding: Create");
    dh_jw_int(w, "severity_id", severities[lvl].id);
    dh_jw_strz(w, "severity", severities[lvl].caption);
    dh_jw_int(w, "confidence_id", conf);
    dh_jw_strz(w, "confidence", confidences[conf]);
    dh_jw_int(w, "time", ms(f->first_seen));
    dh_jw_int(w, "start_time", ms(f->first_seen));
    dh_jw_int(w, "end_time", ms(f->last_seen));
    dh_jw_int(w, "status_id", sup ? 3 : 1);
    dh_jw_strz(w, "status", sup ? "Suppressed" : "New");
    if (sup) {
        dh_buf d;
        dh_buf_init(&d, 1u << 20);
        dh_buf_puts(&d, dh_rule_title(sup));
        dh_buf_puts(&d, ": ");
        dh_buf_puts(&d, dh_rule_filter_reason(sup));
        dh_jw_str(w, "status_detail", (dh_str){d.data ? d.data : "", d.len});
        dh_buf_free(&d);
    }
    dh_jw_str(w, "message", title);
    /* security_control: the engine observed and detected; it blocks nothing */
    dh_jw_int(w, "action_id", 3);
    dh_jw_strz(w, "action", "Observed");
    dh_jw_int(w, "disposition_id", 15);
    dh_jw_strz(w, "disposition", "Detected");
    dh_jw_bool(w, "is_alert", !sup);

    dh_jw_object(w, "metadata");
    dh_jw_strz(w, "version", DH_OCSF_VERSION);
    dh_jw_array(w, "profiles");
    dh_jw_strz(w, NULL, "security_control");
    dh_jw_strz(w, NULL, "host");
    dh_jw_end(w);
    dh_jw_object(w, "product");
    dh_jw_strz(w, "name", "dcomhunt");
    dh_jw_strz(w, "vendor_name", "dcomhunt");
    dh_jw_end(w);
    dh_jw_strz(w, "uid", f->id);
    dh_jw_end(w);

    dh_jw_object(w, "finding_info");
    dh_jw_strz(w, "uid", f->id);
    dh_jw_str(w, "title", title);
    dh_jw_array(w, "types");
    dh_jw_strz(w, NULL, dh_finding_kind_name(f->kind));
    dh_jw_end(w);
    dh_jw_int(w, "first_seen_time", ms(f->first_seen));
    dh_jw_int(w, "last_seen_time", ms(f->last_seen));
    dh_jw_object(w, "analytic");
    dh_jw_strz(w, "name", "dcomhunt chain");
    dh_jw_int(w, "type_id", 1);
    dh_jw_strz(w, "type", "Rule");
    dh_jw_end(w);
    dh_jw_array(w, "related_analytics");
    for (size_t i = 0; i < f->nrules; i++) {
        dh_jw_object(w, NULL);
        dh_jw_strz(w, "uid", dh_rule_ref(f->rules[i])); /* never "": id, name or file:line */
        dh_jw_strz(w, "name", dh_rule_title(f->rules[i]));
        dh_jw_int(w, "type_id", 1);
        dh_jw_strz(w, "type", "Rule");
        dh_jw_end(w);
    }
    dh_jw_end(w);
    attacks(w); /* the class asks security controls to repeat them here */
    dh_jw_end(w);
    attacks(w);

    device(w, "device", f->target_host, f->target_ip);
    if (f->user.len || f->logon_id.len) {
        dh_jw_object(w, "actor");
        user(w, "user", f->user, (dh_str){NULL, 0}, (dh_str){NULL, 0});
        dh_jw_object(w, "session");
        dh_jw_str(w, "uid", f->logon_id);
        if (dh_jw_count(w) && f->kind == DH_FINDING_LATERAL_MOVEMENT)
            dh_jw_bool(w, "is_remote", 1);
        dh_jw_end(w);
        dh_jw_end(w);
    }
    dh_jw_array(w, "resources");
    resource(w, f->target_host, f->target_ip, 1, "Target");
    resource(w, f->source_host, f->source_ip, 2, "Actor");
    dh_jw_end(w);
    dh_jw_array(w, "evidences");
    for (size_t i = 0; i < f->nevidence; i++)
        evidence(w, &f->evidence[i]);
    dh_jw_end(w);
    dh_jw_array(w, "observables");
    observable(w, "device.hostname", 1, "Hostname", f->target_host);
    if (dh_typed_ip(f->target_ip))
        observable(w, "device.ip", 2, "IP Address", f->target_ip);
    if (dh_typed_ip(f->source_ip))
        observable(w, "resources.ip", 2, "IP Address", f->source_ip);
    observable(w, "resources.hostname", 1, "Hostname", f->source_host);
    {
        dh_str d, n;
        dh_typed_account(f->user, &d, &n);
        observable(w, "actor.user.name", 4, "User Name", n);
    }
    dh_jw_end(w);

    if (g->nrespond) {
        dh_buf d;
        dh_buf_init(&d, 1u << 20);
        for (size_t i = 0; i < g->nrespond; i++) {
            if (i)
                dh_buf_putc(&d, '\n');
            dh_buf_puts(&d, g->respond[i]);
        }
        dh_jw_object(w, "remediation");
        dh_jw_str(w, "desc", (dh_str){d.data, d.len});
        dh_jw_end(w);
        dh_buf_free(&d);
    }
    unmapped(w, f, g, sup);
    dh_buf_free(&tb);
    return dh_jw_finish(w);
}

static void ocsf_render(dh_buf *b, const dh_finding *f, const dh_guide *g, const dh_rule *sup,
                        const dh_findings_style *st)
{
    static const dh_guide none; /* a guide that could not be built: nothing from it */
    (void)st;
    ocsf_finding(b, f, g ? g : &none, sup);
}

const dh_findings_format_ops dh_findings_ocsf_ops = {
    .format = DH_FINDINGS_OCSF,
    .name = "ocsf",
    .guide = DH_GUIDE_ALWAYS,
    .render = ocsf_render,
};
