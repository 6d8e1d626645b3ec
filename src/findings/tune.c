/* Tuning: each finding is seen by the filters as an event whose fields are the finding's
 * (below); a filter that applies to one of the finding's rules (or to every finding, when
 * it names none) and whose condition does not hold suppresses it. A finding with several
 * commands is one such event per command: a filter on CommandLine suppresses it when any
 * of its commands is one the filter removes.
 *
 * Fields a filter can test, by their Sigma names:
 *   ComputerName, Computer, TargetHostname  the target host
 *   TargetIp                                its address
 *   SourceIp, SourceHostname (WorkstationName)  the source
 *   User ("DOMAIN\name"), TargetUserName (the name alone), LogonId
 *   ComObject, CLSID                        the object activated
 *   Image, ParentImage                      the COM server and what started it
 *   CommandLine                             a command the server ran (or its own)
 *   ChildImage                              the image of the process that ran it
 *   FindingKind                             lateral_movement, attempt, source_activity, signal
 */
#include "dcomhunt/finding.h"

#include <stdlib.h>
#include <string.h>

#include "event/event_impl.h"

struct dh_tuning {
    const dh_ruleset *rs;
    dh_matcher *m;
    unsigned char *active; /* per filter: not expired */
};

dh_status dh_tuning_new(const dh_ruleset *filters, const char *today,
                        void (*expired)(void *ctx, const dh_rule *filter), void *ctx,
                        dh_tuning **out)
{
    dh_tuning *t = calloc(1, sizeof *t);
    if (!t)
        return DH_ERR_NOMEM;
    t->rs = filters;
    size_t n = dh_ruleset_count(filters);
    t->active = calloc(n ? n : 1, 1);
    if (!t->active || dh_matcher_new(filters, &t->m) != DH_OK) {
        dh_tuning_free(t);
        return DH_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const dh_rule *r = dh_ruleset_rule(filters, i);
        const char *e = dh_rule_filter_expires(r);
        t->active[i] = dh_rule_is_filter(r) && !(*e && today && strcmp(e, today) < 0);
        if (dh_rule_is_filter(r) && !t->active[i] && expired)
            expired(ctx, r);
    }
    *out = t;
    return DH_OK;
}

void dh_tuning_free(dh_tuning *t)
{
    if (!t)
        return;
    dh_matcher_free(t->m);
    free(t->active);
    free(t);
}

static int applies(const dh_rule *filter, const dh_finding *f)
{
    size_t n = dh_rule_filter_rule_count(filter);
    if (!n)
        return 1;
    for (size_t i = 0; i < n; i++) {
        const char *want = dh_rule_filter_rule(filter, i);
        if (!strcmp(want, dh_finding_kind_name(f->kind)))
            return 1; /* a finding kind names every finding of that kind */
        for (size_t k = 0; k < f->nrules; k++)
            if (!strcmp(want, dh_rule_id(f->rules[k])) || !strcmp(want, dh_rule_name(f->rules[k])))
                return 1;
    }
    return 0;
}

static dh_str S(const char *s)
{
    return (dh_str){s ? s : "", s ? strlen(s) : 0};
}

enum { MAX_KV = 24 };

typedef struct pseudo {
    dh_event ev;
    dh_kv kv[MAX_KV];
    size_t n;
} pseudo;

static void kv(pseudo *p, const char *name, dh_str v, int field)
{
    if (!v.len || p->n >= MAX_KV)
        return;
    p->kv[p->n].name = S(name);
    p->kv[p->n].value = v;
    p->n++;
    if (field >= 0 && !(p->ev.present & (1ULL << field))) {
        p->ev.fields[field] = v;
        p->ev.present |= 1ULL << field;
    }
}

/* The finding as an event, with one of its commands (or none). */
static void build(pseudo *p, const dh_finding *f, const dh_str *command)
{
    memset(p, 0, sizeof *p);
    p->ev.kind = DH_KIND_OTHER;
    p->ev.chunk = -1;
    p->ev.host = f->target_host;
    p->ev.channel = S("dcomhunt/finding");
    p->ev.provider = p->ev.channel;
    p->ev.time = f->first_seen;
    dh_str image = {"", 0}, parent = {"", 0}, own = {"", 0};
    for (size_t i = 0; i < f->nevidence; i++) {
        const dh_event *e = f->evidence[i].ev;
        if (strcmp(f->evidence[i].role, "activation") && strcmp(f->evidence[i].role, "network"))
            continue;
        dh_str v;
        if (!image.len && dh_event_field(e, DH_FIELD_IMAGE, &v))
            image = v;
        if (!parent.len && dh_event_field(e, DH_FIELD_PARENT_IMAGE, &v))
            parent = v;
        if (!own.len && dh_event_field(e, DH_FIELD_COMMAND_LINE, &v))
            own = v;
    }
    dh_str name = f->user; /* the account's name, after DOMAIN\ */
    const char *bs = memchr(f->user.ptr, '\\', f->user.len);
    if (bs)
        name = (dh_str){bs + 1, f->user.len - (size_t)(bs + 1 - f->user.ptr)};
    kv(p, "ComputerName", f->target_host, -1);
    kv(p, "Computer", f->target_host, -1);
    kv(p, "TargetHostname", f->target_host, DH_FIELD_DESTINATION_HOSTNAME);
    kv(p, "TargetIp", f->target_ip, DH_FIELD_DESTINATION_IP);
    kv(p, "SourceIp", f->source_ip, DH_FIELD_SOURCE_IP);
    kv(p, "SourceHostname", f->source_host, DH_FIELD_SOURCE_HOSTNAME);
    kv(p, "WorkstationName", f->source_host, DH_FIELD_WORKSTATION_NAME);
    kv(p, "User", f->user, DH_FIELD_USER);
    kv(p, "TargetUserName", name, DH_FIELD_TARGET_USER_NAME);
    kv(p, "LogonId", f->logon_id, DH_FIELD_LOGON_ID);
    kv(p, "ComObject", f->com_object, -1);
    kv(p, "CLSID", f->clsid, DH_FIELD_CLSID);
    kv(p, "Image", image, DH_FIELD_IMAGE);
    kv(p, "ParentImage", parent, DH_FIELD_PARENT_IMAGE);
    kv(p, "CommandLine", command ? *command : own, DH_FIELD_COMMAND_LINE);
    /* the child that ran this command: its image */
    for (size_t i = 0; command && i < f->nevidence; i++) {
        dh_str cl, img;
        if (!strcmp(f->evidence[i].role, "child") &&
            dh_event_field(f->evidence[i].ev, DH_FIELD_COMMAND_LINE, &cl) &&
            cl.len == command->len && !memcmp(cl.ptr, command->ptr, cl.len) &&
            dh_event_field(f->evidence[i].ev, DH_FIELD_IMAGE, &img)) {
            kv(p, "ChildImage", img, -1);
            break;
        }
    }
    kv(p, "FindingKind", S(dh_finding_kind_name(f->kind)), -1);
    p->ev.data = p->kv;
    p->ev.ndata = p->n;
}

const dh_rule *dh_tuning_check(dh_tuning *t, const dh_finding *f)
{
    size_t n = dh_ruleset_count(t->rs);
    pseudo *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    const dh_rule *hit = NULL;
    for (size_t i = 0; i < n && !hit; i++) {
        const dh_rule *r = dh_ruleset_rule(t->rs, i);
        if (!t->active[i] || !applies(r, f))
            continue;
        size_t variants = f->ncommands ? f->ncommands : 1;
        for (size_t k = 0; k < variants && !hit; k++) {
            build(p, f, f->ncommands ? &f->commands[k] : NULL);
            if (!dh_rule_filter_keeps(t->m, r, &p->ev))
                hit = r;
        }
    }
    free(p);
    return hit;
}
