/* Building one finding: its records, rules, processes and values, within the caps of
 * dcomhunt/finding.h.
 *
 * Everything of the finding is collected first (its records, the processes it ran, its
 * rules); fb_finish then applies the caps: the records a finding lists are the ones that
 * say what happened first (activations, logons, connections, the source side), then the
 * rest in time order; commands are the earliest processes. What passes a cap still
 * belongs to the finding: its time, rules and severity count, and none of it becomes a
 * finding of its own; it is only not listed, and counted (commands_dropped,
 * evidence_dropped, rules_dropped). A value an owned event copy cut at DH_VALUE_CAP is
 * noted with its length in the log (dh_cut). Values point into the held events, which
 * live while the sink runs; composed text lives in the builder's arena. */
#include <stdlib.h>
#include <string.h>

#include "correlate/corr.h"
#include "findings/evidence.h"

static const dh_str none = {"", 0};

void fb_init(fb *b)
{
    memset(b, 0, sizeof *b);
    b->f.com_object = b->f.clsid = none;
    b->f.target_host = b->f.target_ip = b->f.source_host = b->f.source_ip = none;
    b->f.user = b->f.logon_id = none;
    b->tmin = INT64_MAX;
    b->tmax = INT64_MIN;
}

void fb_free(fb *b)
{
    arena_free(&b->a);
}

/* Room for one more in an arena array that doubles. */
static int room(arena *a, void *pv, size_t n, size_t *cap, size_t size)
{
    void **p = pv;
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *v = arena_grow(a, *p, n * size, nc * size);
    if (!v)
        return -1;
    *p = v;
    *cap = nc;
    return 0;
}

void fb_reason(fb *b, const char *r)
{
    for (size_t i = 0; i < b->f.nreasons; i++)
        if (b->reasons[i] == r || !strcmp(b->reasons[i], r))
            return;
    if (b->f.nreasons < sizeof b->reasons / sizeof b->reasons[0])
        b->reasons[b->f.nreasons++] = r;
}

const char *fb_text(fb *b, const char *s, size_t n)
{
    char *d = arena_strdup(&b->a, (dh_str){s, n});
    return d ? d : "";
}

static void add_rule(fb *b, const dh_rule *r, int undecided)
{
    size_t j;
    for (j = 0; j < b->f.nrules && b->rules[j] != r; j++)
        ;
    if (j == b->f.nrules) {
        if (b->f.nrules >= DH_FINDING_MAX_RULES) {
            /* counted once per rule: a rule seen again past the cap is the same rule */
            for (size_t k = 0; k < b->nover; k++)
                if (b->over[k] == r)
                    return;
            if (!room(&b->a, &b->over, b->nover, &b->capover, sizeof *b->over))
                b->over[b->nover++] = r;
            b->f.rules_dropped++;
            return;
        }
        if (room(&b->a, &b->rules, b->f.nrules, &b->caprules, sizeof *b->rules))
            return;
        b->rules[b->f.nrules++] = r;
    }
    if (!undecided)
        return;
    for (size_t k = 0; k < b->f.nundecided; k++)
        if (b->undecided[k] == r)
            return;
    if (!room(&b->a, &b->undecided, b->f.nundecided, &b->capundecided, sizeof *b->undecided))
        b->undecided[b->f.nundecided++] = r;
}

int fb_record(fb *b, const char *role, item *it, dh_level *sev)
{
    if (room(&b->a, &b->ev, b->nev, &b->capev, sizeof *b->ev))
        return -1;
    b->ev[b->nev].role = role;
    b->ev[b->nev].ev = it->ev;
    b->nev++;
    if (it->t < b->tmin)
        b->tmin = it->t;
    if (it->t > b->tmax)
        b->tmax = it->t;
    for (size_t k = 0; k < it->nrules; k++) {
        add_rule(b, it->rules[k], it->undecided && it->undecided[k]);
        if (sev && dh_rule_level(it->rules[k]) > *sev)
            *sev = dh_rule_level(it->rules[k]);
    }
    return 0;
}

void fb_rule(fb *b, const dh_rule *r)
{
    add_rule(b, r, 0);
}

int fb_process(fb *b, int list, const pnode *pn, int32_t node, const dh_event *ev)
{
    fb_list *l = &b->lists[list];
    if (node >= 0) {
        if (u64map_get(&l->seen, (uint64_t)node + 1) >= 0)
            return 0; /* one per process, however many sensors logged it */
        if (u64map_put(&b->a, &l->seen, (uint64_t)node + 1, 1))
            return -1;
    }
    dh_str s = pn ? (pn->cmdline.len ? pn->cmdline : pn->image_path) : none;
    if (ev) {
        s = corr_field(ev, DH_FIELD_COMMAND_LINE);
        if (!s.len)
            s = corr_field(ev, DH_FIELD_IMAGE);
    }
    if (!s.len)
        return 0;
    if (room(&b->a, &l->v, l->n, &l->cap, sizeof *l->v))
        return -1;
    fb_proc *x = &l->v[l->n++];
    x->s = s;
    x->pn = pn;
    x->ev = ev;
    x->t = pn ? pn->t : ev ? dh_event_time(ev) : 0;
    x->seq = pn && pn->nrecs ? pn->recs[0]->seq : b->nproc;
    b->nproc++;
    return 0;
}

static void note_cut(fb *b, const char *what, size_t index, size_t length, size_t kept)
{
    if (length <= kept || room(&b->a, &b->cuts, b->f.ncuts, &b->capcuts, sizeof *b->cuts))
        return;
    b->cuts[b->f.ncuts++] = (dh_cut){what, index, length, kept};
}

/* The length in the log of v, a value of ev (or, ev unknown, of one of the finding's
 * records): more than v.len only when an owned copy cut it. */
static size_t log_length(const fb *b, dh_str v, const dh_event *ev)
{
    if (v.len != DH_VALUE_CAP)
        return v.len; /* only a value exactly at the cap can have been cut */
    if (ev)
        return dh_event_value_length(ev, v);
    for (size_t i = 0; i < b->nev; i++) {
        size_t l = dh_event_value_length(b->ev[i].ev, v);
        if (l > v.len)
            return l;
    }
    return v.len;
}

dh_str fb_val(fb *b, const char *what, dh_str v, const dh_event *ev)
{
    if (!v.ptr)
        return none;
    note_cut(b, what, 0, log_length(b, v, ev), v.len);
    return v;
}

dh_str fb_account(fb *b, const dh_event *ev, dh_field domain, dh_field name)
{
    dh_str d = corr_field(ev, domain), u = corr_field(ev, name);
    dh_field from = name;
    if (!u.len && name != DH_FIELD_USER) {
        u = corr_field(ev, DH_FIELD_USER);
        from = DH_FIELD_USER;
    }
    /* The generic user field is already DOMAIN\name; a bare name field is taken whole,
     * whatever it holds (an account name may carry a backslash of its own). */
    int qualified = from == DH_FIELD_USER && u.len && memchr(u.ptr, '\\', u.len);
    if (!d.len || (d.len == 1 && d.ptr[0] == '-') || qualified)
        return fb_val(b, "user", u, ev);
    char *s = arena_alloc(&b->a, d.len + 1 + u.len + 1);
    if (!s)
        return fb_val(b, "user", u, ev);
    memcpy(s, d.ptr, d.len);
    s[d.len] = '\\';
    if (u.len)
        memcpy(s + d.len + 1, u.ptr, u.len);
    size_t n = d.len + 1 + u.len;
    note_cut(b, "user", 0, log_length(b, d, ev) + 1 + log_length(b, u, ev), n);
    return (dh_str){s, n};
}

static int proc_cmp(const void *pa, const void *pb)
{
    const fb_proc *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The path of a process's value in the finding: which list and index. */
static const char *const list_names[FB_NLISTS] = {"commands", "servers", "session_commands"};

static size_t proc_log_length(const fb *b, const fb_proc *x)
{
    if (x->s.len != DH_VALUE_CAP)
        return x->s.len;
    if (x->ev)
        return dh_event_value_length(x->ev, x->s);
    for (size_t k = 0; x->pn && k < x->pn->nrecs; k++) {
        size_t l = dh_event_value_length(x->pn->recs[k]->ev, x->s);
        if (l > x->s.len)
            return l;
    }
    return log_length(b, x->s, NULL);
}

int fb_finish(fb *b)
{
    /* processes: time order, then the caps (count, and bytes together) */
    size_t bytes = 0;
    dh_str *out[FB_NLISTS];
    for (int k = 0; k < FB_NLISTS; k++) {
        fb_list *l = &b->lists[k];
        if (l->n > 1)
            qsort(l->v, l->n, sizeof *l->v, proc_cmp);
        out[k] = arena_alloc(&b->a, (l->n ? l->n : 1) * sizeof *out[k]);
        if (!out[k])
            return -1;
        size_t kept = 0;
        for (size_t i = 0; i < l->n; i++) {
            const fb_proc *x = &l->v[i];
            if (kept >= DH_FINDING_MAX_COMMANDS ||
                bytes + x->s.len > DH_FINDING_MAX_COMMAND_BYTES) {
                b->f.commands_dropped++;
                continue;
            }
            bytes += x->s.len;
            note_cut(b, list_names[k], kept, proc_log_length(b, x), x->s.len);
            out[k][kept++] = x->s;
        }
        l->kept = kept;
    }
    b->f.commands = out[FB_COMMANDS];
    b->f.ncommands = b->lists[FB_COMMANDS].kept;
    b->f.servers = out[FB_SERVERS];
    b->f.nservers = b->lists[FB_SERVERS].kept;
    b->f.session_commands = out[FB_SESSION];
    b->f.nsession_commands = b->lists[FB_SESSION].kept;
    /* records: past the cap, the minor roles and the latest go */
    b->f.evidence_dropped += dh_evidence_keep(b->ev, &b->nev, DH_FINDING_MAX_EVIDENCE);
    b->f.evidence = b->ev;
    b->f.nevidence = b->nev;
    if (b->tmin != INT64_MAX) {
        b->f.first_seen = b->tmin;
        b->f.last_seen = b->tmax;
    }
    b->f.reasons = b->reasons;
    b->f.rules = b->rules;
    b->f.undecided = b->undecided;
    b->f.cuts = b->cuts;
    b->f.objects = b->objects;
    return b->a.failed ? -1 : 0;
}
