/* Building one finding (build.h): the lists grow with realloc and are freed with the
 * builder; text lives in blocks that never move, since the finding points into them. A
 * failed allocation is remembered (b->failed) and reported once by dh_fb_finish, so the
 * calls that add to a finding need not unwind partial state. */
#include "findings/build.h"

#include <stdlib.h>
#include <string.h>

#include "findings/evidence.h"

static const dh_str none = {"", 0};

struct dh_fb_block {
    dh_fb_block *next;
    size_t used, cap;
    char data[];
};

/* A block holds the text of a few findings' worth of reasons and accounts; a longer text
 * gets a block of its own. */
#define TEXT_BLOCK 4096u

void dh_fb_init(dh_fb *b)
{
    memset(b, 0, sizeof *b);
    b->f.com_object = b->f.clsid = none;
    b->f.target_host = b->f.target_ip = b->f.source_host = b->f.source_ip = none;
    b->f.user = b->f.logon_id = none;
    b->tmin = INT64_MAX;
    b->tmax = INT64_MIN;
}

void dh_fb_free(dh_fb *b)
{
    if (!b)
        return;
    free(b->ev);
    for (int k = 0; k < DH_FB_NLISTS; k++) {
        free(b->lists[k].v);
        free(b->lists[k].seen);
        free(b->out[k]);
    }
    free(b->rules);
    free(b->undecided);
    free(b->over);
    free(b->cuts);
    for (dh_fb_block *t = b->text, *n; t; t = n) {
        n = t->next;
        free(t);
    }
    memset(b, 0, sizeof *b);
}

/* Room for one more in an array that doubles (from 16). */
static int room(dh_fb *b, void *pv, size_t n, size_t *cap, size_t size)
{
    void **p = pv;
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *v = nc <= SIZE_MAX / size ? realloc(*p, nc * size) : NULL;
    if (!v) {
        b->failed = 1;
        return -1;
    }
    *p = v;
    *cap = nc;
    return 0;
}

/* n bytes of text storage that never move; NULL (and b->failed) when memory ran out. */
static char *text_alloc(dh_fb *b, size_t n)
{
    dh_fb_block *t = b->text;
    if (!t || t->cap - t->used < n) {
        size_t cap = n > TEXT_BLOCK ? n : TEXT_BLOCK;
        t = cap <= SIZE_MAX - sizeof *t ? malloc(sizeof *t + cap) : NULL;
        if (!t) {
            b->failed = 1;
            return NULL;
        }
        t->used = 0;
        t->cap = cap;
        if (b->text && n > TEXT_BLOCK) {
            /* a long text's block goes behind the current one, which keeps its room */
            t->next = b->text->next;
            b->text->next = t;
        } else {
            t->next = b->text;
            b->text = t;
        }
    }
    char *p = t->data + t->used;
    t->used += n;
    return p;
}

void dh_fb_reason(dh_fb *b, const char *r)
{
    for (size_t i = 0; i < b->f.nreasons; i++)
        if (b->reasons[i] == r || !strcmp(b->reasons[i], r))
            return;
    if (b->f.nreasons < DH_FB_MAX_REASONS)
        b->reasons[b->f.nreasons++] = r;
}

const char *dh_fb_text(dh_fb *b, const char *s, size_t n)
{
    char *d = n < SIZE_MAX ? text_alloc(b, n + 1) : NULL;
    if (!d)
        return "";
    if (n)
        memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void add_rule(dh_fb *b, const dh_rule *r, int undecided)
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
            if (!room(b, &b->over, b->nover, &b->capover, sizeof *b->over))
                b->over[b->nover++] = r;
            b->f.rules_dropped++;
            return;
        }
        if (room(b, &b->rules, b->f.nrules, &b->caprules, sizeof *b->rules))
            return;
        b->rules[b->f.nrules++] = r;
    }
    if (!undecided)
        return;
    for (size_t k = 0; k < b->f.nundecided; k++)
        if (b->undecided[k] == r)
            return;
    if (!room(b, &b->undecided, b->f.nundecided, &b->capundecided, sizeof *b->undecided))
        b->undecided[b->f.nundecided++] = r;
}

int dh_fb_record(dh_fb *b, const char *role, const dh_fb_rec *r, dh_level *sev)
{
    if (room(b, &b->ev, b->nev, &b->capev, sizeof *b->ev))
        return -1;
    b->ev[b->nev].role = role;
    b->ev[b->nev].ev = r->ev;
    b->nev++;
    if (r->t < b->tmin)
        b->tmin = r->t;
    if (r->t > b->tmax)
        b->tmax = r->t;
    for (size_t k = 0; k < r->nrules; k++) {
        add_rule(b, r->rules[k], r->undecided && r->undecided[k]);
        if (sev && dh_rule_level(r->rules[k]) > *sev)
            *sev = dh_rule_level(r->rules[k]);
    }
    return 0;
}

void dh_fb_rule(dh_fb *b, const dh_rule *r)
{
    add_rule(b, r, 0);
}

void dh_fb_object(dh_fb *b, dh_finding_object o)
{
    for (size_t i = 0; i < b->f.nobjects; i++)
        if (!strcmp(b->objects[i].name, o.name))
            return;
    if (b->f.nobjects < DH_FB_MAX_OBJECTS)
        b->objects[b->f.nobjects++] = o;
}

static size_t seen_slot(uint64_t key, size_t cap)
{
    uint64_t h = key * 0xff51afd7ed558ccdULL;
    return (size_t)(h ^ (h >> 32)) & (cap - 1);
}

/* Marks id listed in l: 1 when it already was, 0 when it is now, -1 when memory ran out. */
static int seen_add(dh_fb *b, dh_fb_list *l, int64_t id)
{
    uint64_t key = (uint64_t)id + 1; /* never 0: ids are >= 0 */
    if ((l->nseen + 1) * 2 > l->capseen) {
        size_t cap = l->capseen ? l->capseen * 2 : 64;
        uint64_t *keys = calloc(cap, sizeof *keys);
        if (!keys) {
            b->failed = 1;
            return -1;
        }
        for (size_t i = 0; i < l->capseen; i++) {
            if (!l->seen[i])
                continue;
            size_t j = seen_slot(l->seen[i], cap);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = l->seen[i];
        }
        free(l->seen);
        l->seen = keys;
        l->capseen = cap;
    }
    size_t i = seen_slot(key, l->capseen);
    while (l->seen[i] && l->seen[i] != key)
        i = (i + 1) & (l->capseen - 1);
    if (l->seen[i])
        return 1;
    l->seen[i] = key;
    l->nseen++;
    return 0;
}

/* The length in the log of a process's value s, as far as its own records tell (0: they
 * do not; the finding's records are asked at the end). */
static size_t proc_log_length(const dh_fb_proc *p, dh_str s)
{
    if (s.len != DH_VALUE_CAP)
        return s.len; /* only a value exactly at the cap can have been cut */
    if (p->one)
        return dh_event_value_length(p->one, s);
    for (size_t k = 0; k < p->nrecs; k++) {
        size_t l = dh_event_value_length(p->recs[k], s);
        if (l > s.len)
            return l;
    }
    return 0;
}

int dh_fb_process(dh_fb *b, int list, const dh_fb_proc *p)
{
    dh_fb_list *l = &b->lists[list];
    if (p->id >= 0) {
        int r = seen_add(b, l, p->id);
        if (r)
            return r < 0 ? -1 : 0; /* one per process, however many sensors logged it */
    }
    dh_str s = p->cmdline.len ? p->cmdline : p->image;
    if (!s.len)
        return 0;
    if (room(b, &l->v, l->n, &l->cap, sizeof *l->v))
        return -1;
    dh_fb_entry *x = &l->v[l->n++];
    x->s = s;
    x->t = p->t;
    x->seq = p->has_seq ? p->seq : b->nproc;
    x->loglen = proc_log_length(p, s);
    b->nproc++;
    return 0;
}

static void note_cut(dh_fb *b, const char *what, size_t index, size_t length, size_t kept)
{
    if (length <= kept || room(b, &b->cuts, b->f.ncuts, &b->capcuts, sizeof *b->cuts))
        return;
    b->cuts[b->f.ncuts++] = (dh_cut){what, index, length, kept};
}

/* The length in the log of v, a value of ev (or, ev unknown, of one of the finding's
 * records): more than v.len only when an owned copy cut it. */
static size_t log_length(const dh_fb *b, dh_str v, const dh_event *ev)
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

dh_str dh_fb_value(dh_fb *b, const char *what, dh_str v, const dh_event *ev)
{
    if (!v.ptr)
        return none;
    note_cut(b, what, 0, log_length(b, v, ev), v.len);
    return v;
}

static dh_str field(const dh_event *ev, dh_field id)
{
    dh_str s = none;
    dh_event_field(ev, id, &s);
    return s;
}

dh_str dh_fb_account(dh_fb *b, const dh_event *ev, dh_field domain, dh_field name)
{
    dh_str d = field(ev, domain), u = field(ev, name);
    dh_field from = name;
    if (!u.len && name != DH_FIELD_USER) {
        u = field(ev, DH_FIELD_USER);
        from = DH_FIELD_USER;
    }
    /* The generic user field is already DOMAIN\name; a bare name field is taken whole,
     * whatever it holds (an account name may carry a backslash of its own). */
    int qualified = from == DH_FIELD_USER && u.len && memchr(u.ptr, '\\', u.len);
    if (!d.len || (d.len == 1 && d.ptr[0] == '-') || qualified)
        return dh_fb_value(b, "user", u, ev);
    char *s = text_alloc(b, d.len + 1 + u.len + 1);
    if (!s)
        return dh_fb_value(b, "user", u, ev);
    memcpy(s, d.ptr, d.len);
    s[d.len] = '\\';
    if (u.len)
        memcpy(s + d.len + 1, u.ptr, u.len);
    size_t n = d.len + 1 + u.len;
    s[n] = 0;
    note_cut(b, "user", 0, log_length(b, d, ev) + 1 + log_length(b, u, ev), n);
    return (dh_str){s, n};
}

static int entry_cmp(const void *pa, const void *pb)
{
    const dh_fb_entry *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The path of a process's value in the finding: which list and index. */
static const char *const list_names[DH_FB_NLISTS] = {"commands", "servers", "session_commands"};

int dh_fb_finish(dh_fb *b)
{
    /* processes: time order, then the caps (count, and bytes together) */
    size_t bytes = 0;
    for (int k = 0; k < DH_FB_NLISTS; k++) {
        dh_fb_list *l = &b->lists[k];
        if (l->n > 1)
            qsort(l->v, l->n, sizeof *l->v, entry_cmp);
        free(b->out[k]);
        b->out[k] = malloc((l->n ? l->n : 1) * sizeof *b->out[k]);
        if (!b->out[k]) {
            b->failed = 1;
            return -1;
        }
        size_t kept = 0;
        for (size_t i = 0; i < l->n; i++) {
            const dh_fb_entry *x = &l->v[i];
            if (kept >= DH_FINDING_MAX_COMMANDS ||
                bytes + x->s.len > DH_FINDING_MAX_COMMAND_BYTES) {
                b->f.commands_dropped++;
                continue;
            }
            bytes += x->s.len;
            size_t length = x->loglen ? x->loglen : log_length(b, x->s, NULL);
            note_cut(b, list_names[k], kept, length, x->s.len);
            b->out[k][kept++] = x->s;
        }
        l->kept = kept;
    }
    b->f.commands = b->out[DH_FB_COMMANDS];
    b->f.ncommands = b->lists[DH_FB_COMMANDS].kept;
    b->f.servers = b->out[DH_FB_SERVERS];
    b->f.nservers = b->lists[DH_FB_SERVERS].kept;
    b->f.session_commands = b->out[DH_FB_SESSION];
    b->f.nsession_commands = b->lists[DH_FB_SESSION].kept;
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
    return b->failed ? -1 : 0;
}
