/* One intrusion, one finding.
 *
 * Activations on one target are grouped, in time order: the same network logon session, or
 * the same source address under a compatible account within the window, is one intrusion
 * (a helper broker and the real server, several objects tried one after the other). A
 * group spans at most GROUP_SPAN; different sources or accounts stay apart.
 *
 * Evidence is exclusive: every record claimed by several groups goes to the strongest claim
 * (identity before same-source-by-time before source side; then the nearest in time), so no
 * two findings share an activation, a logon or any other record. Remote activations the
 * target refused (10016, 10036) are grouped per source, account and object; source-side
 * records no target finding explains become source activity (DistributedCOM 10028, a try
 * that never reached the target, included); rule detections nothing explains become
 * signals. A group is emitted once every activation in it is settled
 * (nothing later can still join it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/corr.h"
#include "findings/ids.h"

#define GROUP_SPAN_S 3600 /* the longest a group runs: later activations start another */

static group *group_new(pass *p, enum group_kind kind, host *h, int64_t t)
{
    if (p->ngroups == p->capgroups) {
        size_t cap = p->capgroups ? p->capgroups * 2 : 32;
        group *v = arena_grow(&p->a, p->groups, p->ngroups * sizeof *v, cap * sizeof *v);
        if (!v)
            return NULL;
        p->groups = v;
        p->capgroups = cap;
    }
    group *g = &p->groups[p->ngroups++];
    memset(g, 0, sizeof *g);
    g->kind = kind;
    g->h = h;
    g->first_act = -1;
    g->tmin = g->tmax = t;
    g->src = g->account = g->tip = (dh_str){"", 0};
    return g;
}

static int group_add_act(pass *p, group *g, int32_t ai)
{
    if (g->nacts == g->capacts) {
        size_t cap = g->capacts ? g->capacts * 2 : 4;
        int32_t *v = arena_grow(&p->a, g->acts, g->nacts * sizeof *v, cap * sizeof *v);
        if (!v)
            return -1;
        g->acts = v;
        g->capacts = cap;
    }
    g->acts[g->nacts++] = ai;
    act *a = &p->acts[ai];
    a->group = (int32_t)(g - p->groups);
    if (g->first_act < 0)
        g->first_act = ai;
    if (a->t < g->tmin)
        g->tmin = a->t;
    if (a->tlast > g->tmax)
        g->tmax = a->tlast;
    if (!g->logon)
        g->logon = a->logon;
    if (!g->src.len)
        g->src = a->src;
    if (!g->account.len)
        g->account = a->account;
    g->families |= a->families;
    return 0;
}

static int accounts_fit(dh_str a, dh_str b)
{
    if (!a.len || !b.len)
        return 1;
    /* "CORP\bob" and "bob" are one account */
    const char *x = memchr(a.ptr, '\\', a.len), *y = memchr(b.ptr, '\\', b.len);
    dh_str an = x ? (dh_str){x + 1, a.len - (size_t)(x + 1 - a.ptr)} : a;
    dh_str bn = y ? (dh_str){y + 1, b.len - (size_t)(y + 1 - b.ptr)} : b;
    return corr_ieq(an, bn);
}

static const pass *sort_pass;

static int act_order(const void *pa, const void *pb)
{
    const act *a = &sort_pass->acts[*(const int32_t *)pa],
              *b = &sort_pass->acts[*(const int32_t *)pb];
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    uint64_t sa = a->anchor ? a->anchor->seq : 0, sb = b->anchor ? b->anchor->seq : 0;
    return sa < sb ? -1 : sa > sb;
}

static uint64_t key2(uint64_t a, dh_str s)
{
    return corr_hash_ci(s, corr_hash(&a, sizeof a, CORR_HASH0)) | 1;
}

/* Activations into groups, per target in time order. */
static int group_acts(pass *p)
{
    if (!p->nacts)
        return 0;
    int32_t *order = arena_alloc(&p->a, p->nacts * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < p->nacts; i++)
        order[i] = (int32_t)i;
    sort_pass = p;
    qsort(order, p->nacts, sizeof *order, act_order);
    u64map by_logon = {0}, by_src = {0};
    int64_t span = GROUP_SPAN_S * TICKS;
    for (size_t k = 0; k < p->nacts; k++) {
        act *a = &p->acts[order[k]];
        group *g = NULL;
        if (a->logon && !corr_system_logon(a->logon)) {
            uint64_t key = corr_hash(&a->logon, sizeof a->logon, a->h->key) | 1;
            int32_t gi = u64map_get(&by_logon, key);
            if (gi >= 0 && a->t - p->groups[gi].tmin <= span)
                g = &p->groups[gi];
        }
        if (!g && a->src.len) {
            int32_t gi = u64map_get(&by_src, key2(a->h->key, a->src));
            if (gi >= 0) {
                group *o = &p->groups[gi];
                if (a->t - o->tmax <= p->W && a->t - o->tmin <= span &&
                    accounts_fit(o->account, a->account))
                    g = o;
            }
        }
        if (!g && !(g = group_new(p, G_TARGET, a->h, a->t)))
            return -1;
        if (group_add_act(p, g, order[k]))
            return -1;
        int32_t gi = (int32_t)(g - p->groups);
        if (a->logon && !corr_system_logon(a->logon))
            u64map_put(&p->a, &by_logon, corr_hash(&a->logon, sizeof a->logon, a->h->key) | 1, gi);
        if (g->src.len)
            u64map_put(&p->a, &by_src, key2(a->h->key, g->src), gi);
    }
    return p->a.failed ? -1 : 0;
}

/* Remote activations the target refused: per source, account and object, within the window. */
static int attempt_groups(pass *p)
{
    u64map open = {0};
    for (size_t k = 0; k < p->nh; k++) {
        host *h = &p->hosts[k];
        for (size_t i = 0; i < h->n; i++) {
            item *it = h->v[i];
            const dh_event *ev = it->ev;
            if (it->used || it->decided || it->t >= p->horizon ||
                dh_event_kind(ev) != DH_KIND_DCOM_ERROR || dh_event_id(ev) == 10028)
                continue;
            dh_str src = corr_field(ev, DH_FIELD_SOURCE_IP);
            if (!src.len)
                continue; /* local (LRPC) noise */
            const dh_com_object *o = comdb_by_guid(p->c->db, corr_field(ev, DH_FIELD_CLSID));
            if (!o)
                o = comdb_by_guid(p->c->db, corr_field(ev, DH_FIELD_APPID));
            if (o && !o->lateral)
                continue; /* a cousin refused (remote WMI): not this technique */
            dh_str user = corr_field(ev, DH_FIELD_USER);
            uint64_t key = corr_hash_ci(user, key2(h->key, src));
            key = corr_hash(&o, sizeof o, key) | 1;
            int32_t gi = u64map_get(&open, key);
            group *g = gi >= 0 ? &p->groups[gi] : NULL;
            if (g && it->t - g->tmax > p->W)
                g = NULL;
            if (!g) {
                if (!(g = group_new(p, G_ATTEMPT, h, it->t)))
                    return -1;
                g->src = src;
                g->obj = o;
                u64map_put(&p->a, &open, key, (int32_t)(g - p->groups));
            }
            if (it->t > g->tmax)
                g->tmax = it->t;
            if (claim_add(&p->a, &g->claims, &g->nclaims, &g->capclaims, &g->dropped, it, "failure",
                          0, it->t - g->tmin, 0, -1))
                return -1;
        }
    }
    return 0;
}

/* ---- exclusive claims -------------------------------------------------------------------- */

static void offer(item *it, int32_t g, const claim *c)
{
    if (it->used)
        return;
    if (it->claim >= 0 &&
        (it->claim_rank < c->rank || (it->claim_rank == c->rank && it->claim_dt < c->dt) ||
         (it->claim_rank == c->rank && it->claim_dt == c->dt && it->claim <= g)))
        return;
    it->claim = g;
    it->claim_rank = c->rank;
    it->claim_dt = c->dt;
    it->claim_role = c->role;
}

static void resolve_claims(pass *p, size_t from)
{
    for (size_t gi = from; gi < p->ngroups; gi++) {
        group *g = &p->groups[gi];
        for (size_t k = 0; k < g->nacts; k++) {
            act *a = &p->acts[g->acts[k]];
            for (size_t i = 0; i < a->nclaims; i++)
                offer(a->claims[i].it, (int32_t)gi, &a->claims[i]);
        }
        for (size_t i = 0; i < g->nclaims; i++)
            offer(g->claims[i].it, (int32_t)gi, &g->claims[i]);
    }
}

/* Source-side candidates no target finding claimed: per source host and target. */
static int source_groups(pass *p)
{
    u64map open = {0};
    size_t first = p->ngroups;
    for (int pass_ = 0; pass_ < 2; pass_++) /* strong candidates open groups, then the rest */
        for (size_t i = 0; i < p->ncands; i++) {
            srcc *c = &p->cands[i];
            if (c->it->claim >= 0 || c->it->used || c->strong != !pass_)
                continue;
            uint64_t key = corr_hash(c->target, strlen(c->target), c->h->key) | 1;
            int32_t gi = u64map_get(&open, key);
            group *g = gi >= 0 ? &p->groups[gi] : NULL;
            if (g && (c->it->t < g->tmin - p->W - p->S || c->it->t > g->tmax + p->W))
                g = NULL;
            if (!g) {
                if (!c->strong)
                    continue; /* supporting records alone say too little */
                if (!(g = group_new(p, G_SOURCE, c->h, c->it->t)))
                    return -1;
                snprintf(g->target, sizeof g->target, "%s", c->target);
                snprintf(g->shown, sizeof g->shown, "%s", c->shown);
                u64map_put(&p->a, &open, key, (int32_t)(g - p->groups));
            }
            if (c->it->t < g->tmin)
                g->tmin = c->it->t;
            if (c->it->t > g->tmax)
                g->tmax = c->it->t;
            if (c->obj && (!g->obj || (!g->obj->lateral && c->obj->lateral)))
                g->obj = c->obj;
            if (c->failed)
                g->failed = 1;
            const char *role =
                c->failed ? "failure"
                : dh_event_kind(c->it->ev) == DH_KIND_PS_SCRIPT ||
                        dh_event_kind(c->it->ev) == DH_KIND_PS_MODULE
                    ? "script"
                : dh_event_kind(c->it->ev) == DH_KIND_EXPLICIT_LOGON     ? "explicit_logon"
                : dh_event_kind(c->it->ev) == DH_KIND_NETWORK_CONNECTION ? "source_network"
                                                                         : "source";
            if (claim_add(&p->a, &g->claims, &g->nclaims, &g->capclaims, &g->dropped, c->it, role,
                          c->strong ? 0 : 1, c->it->t - g->tmin, c->strong ? EV_SOURCE : 0, -1))
                return -1;
        }
    resolve_claims(p, first);
    return 0;
}

/* ---- building a finding (findings/build.c holds the lists and caps) ------------------ */

static void object(dh_fb *b, const dh_com_object *o)
{
    if (!o || !o->lateral)
        return;
    dh_fb_object(
        b, (dh_finding_object){o->name, o->nclsids ? o->clsids[0] : "", o->appid, o->hardening});
}

static int in_explorer(const dh_com_object *o)
{
    for (size_t i = 0; i < o->nservers; i++)
        if (o->servers[i].in_explorer)
            return 1;
    return 0;
}

static dh_str cstr(const char *s)
{
    return (dh_str){s, strlen(s)};
}

static void make_id(dh_fb *b, const char *kind, const item *anchor)
{
    dh_id_anchor a;
    if (anchor)
        a = dh_id_anchor_of(anchor->ev);
    dh_id_finding(b->f.id, kind, anchor ? &a : NULL);
}

/* The records the group won, as evidence (one entry per record, its strongest role). */
static int collect(pass *p, group *g, dh_fb *b, unsigned *fam, dh_level *rule_sev)
{
    int32_t gi = (int32_t)(g - p->groups);
    for (int round = 0; round < 2; round++) {
        for (size_t k = 0; k <= g->nacts; k++) {
            const claim *cl;
            size_t ncl;
            if (k < g->nacts) {
                cl = p->acts[g->acts[k]].claims;
                ncl = p->acts[g->acts[k]].nclaims;
                b->f.evidence_dropped += round ? 0 : p->acts[g->acts[k]].dropped;
            } else {
                cl = g->claims;
                ncl = g->nclaims;
                b->f.evidence_dropped += round ? 0 : g->dropped;
            }
            for (size_t i = 0; i < ncl; i++) {
                item *it = cl[i].it;
                if (it->claim != gi || it->used)
                    continue;
                if (round == 0) {
                    *fam |= cl[i].fam;
                    continue;
                }
                if (it->claim_role != cl[i].role)
                    continue; /* the record is listed once, under its strongest role */
                it->claim_role = NULL;
                /* processes: commands, servers and the session apart */
                if (cl[i].node >= 0 && k < g->nacts) {
                    const host *h = p->acts[g->acts[k]].h;
                    int list = !strcmp(cl[i].role, "child")        ? DH_FB_COMMANDS
                               : !strcmp(cl[i].role, "activation") ? DH_FB_SERVERS
                               : !strcmp(cl[i].role, "session")    ? DH_FB_SESSION
                                                                   : -1;
                    if (list >= 0 &&
                        corr_fb_process(b, list, &h->nodes[cl[i].node], cl[i].node, NULL))
                        return -1;
                }
                if (corr_fb_record(b, cl[i].role, it, rule_sev))
                    return -1;
                for (size_t r = 0; r < it->nrules; r++)
                    if (dh_rule_level(it->rules[r]) >= DH_LEVEL_HIGH)
                        *fam |= EV_RULE_HIGH;
            }
        }
    }
    return 0;
}

static void mark_used(pass *p, group *g)
{
    int32_t gi = (int32_t)(g - p->groups);
    for (size_t k = 0; k <= g->nacts; k++) {
        const claim *cl = k < g->nacts ? p->acts[g->acts[k]].claims : g->claims;
        size_t ncl = k < g->nacts ? p->acts[g->acts[k]].nclaims : g->nclaims;
        for (size_t i = 0; i < ncl; i++)
            if (cl[i].it->claim == gi) {
                cl[i].it->used = 1;
                cl[i].it->decided = 1;
            }
    }
}

/* The lists, caps and the main object; -1 when memory ran out. */
static int finish(dh_fb *b)
{
    if (dh_fb_finish(b))
        return -1;
    if (b->f.nobjects) {
        b->f.com_object = cstr(b->objects[0].name);
        b->f.clsid = cstr(b->objects[0].clsid);
    }
    if (b->f.commands_dropped || b->f.evidence_dropped || b->f.rules_dropped)
        dh_fb_reason(b,
                     "more records than a finding lists: the counts of those left out are given");
    return 0;
}

/* The event whose host name is h's (its longest spelling), for the value's length. */
static const dh_event *host_event(const host *h)
{
    for (size_t i = 0; i < h->n; i++)
        if (dh_event_host(h->v[i]->ev).ptr == h->name.ptr)
            return h->v[i]->ev;
    return NULL;
}

static void name_source(pass *p, dh_fb *b, dh_str src, dh_str workstation, const dh_event *wev,
                        int64_t t, group *g)
{
    if (workstation.len && !(workstation.len == 1 && workstation.ptr[0] == '-')) {
        b->f.source_host = dh_fb_value(b, "source_host", workstation, wev);
        return;
    }
    host *o = src.len ? ip_owner(p, src, t) : NULL;
    if (o && o != g->h) {
        b->f.source_host = dh_fb_value(b, "source_host", o->name, host_event(o));
        return;
    }
    /* a source-side record that joined the finding names its host */
    for (size_t i = 0; i < b->nev; i++) {
        const char *r = b->ev[i].role;
        if (!strcmp(r, "script") || !strcmp(r, "source") || !strcmp(r, "source_network") ||
            !strcmp(r, "explicit_logon")) {
            b->f.source_host =
                dh_fb_value(b, "source_host", dh_event_host(b->ev[i].ev), b->ev[i].ev);
            return;
        }
    }
}

static void emit(pass *p, dh_fb *b)
{
    if (p->fn)
        p->fn(p->fctx, &b->f);
}

/* A finding under construction from the records the group won: NULL when it won none (and
 * *err set when memory ran out). */
static dh_fb *fb_start(pass *p, group *g, unsigned *fam, dh_level *rule_sev, int *err)
{
    *err = 0;
    *fam = 0;
    *rule_sev = DH_LEVEL_INFORMATIONAL;
    dh_fb *b = malloc(sizeof *b);
    if (!b) {
        *err = 1;
        return NULL;
    }
    dh_fb_init(b);
    int r = collect(p, g, b, fam, rule_sev);
    if (r || !b->nev) {
        *err = r != 0;
        dh_fb_free(b);
        free(b);
        return NULL;
    }
    return b;
}

static void fb_drop(dh_fb *b)
{
    dh_fb_free(b);
    free(b);
}

/* Emits the finding and marks its records as used. */
static void fb_emit(pass *p, group *g, dh_fb *b)
{
    mark_used(p, g);
    emit(p, b);
    fb_drop(b);
}

static int build_target(pass *p, group *g)
{
    unsigned fam;
    dh_level rule_sev;
    int err;
    dh_fb *b = fb_start(p, g, &fam, &rule_sev, &err);
    if (!b)
        return -err;
    for (size_t k = 0; k < g->nacts; k++)
        fam |= p->acts[g->acts[k]].families;
    dh_score sc;
    dh_score_lateral(fam, &sc);
    int lateral = sc.confidence > 0;
    if (!lateral && !b->f.nrules) {
        /* a COM server with nothing remote behind it and nothing unusual about it: the
         * everyday -Embedding servers of an interactive session */
        for (size_t k = 0; k < g->nacts; k++)
            if (p->acts[g->acts[k]].anchor)
                p->acts[g->acts[k]].anchor->decided = 1;
        fb_drop(b);
        return 0;
    }
    b->f.kind = lateral ? DH_FINDING_LATERAL_MOVEMENT : DH_FINDING_SIGNAL;
    /* the source's code names the object where the target cannot tell it (explorer serves
     * both ShellWindows and ShellBrowserWindow) */
    const dh_com_object *named = NULL;
    for (size_t i = 0; i < p->ncands && !named; i++)
        if (p->cands[i].it->claim == (int32_t)(g - p->groups) && p->cands[i].obj &&
            p->cands[i].obj->lateral)
            named = p->cands[i].obj;
    const dh_com_object *main_obj = NULL;
    for (size_t k = 0; k < g->nacts && !main_obj; k++)
        main_obj = p->acts[g->acts[k]].obj;
    if (named && main_obj && in_explorer(main_obj) && in_explorer(named))
        object(b, named);
    for (size_t k = 0; k < g->nacts; k++)
        object(b, p->acts[g->acts[k]].obj);
    object(b, named);
    b->f.target_host = dh_fb_value(b, "target_host", g->h->name, host_event(g->h));
    b->f.target_ip =
        dh_fb_value(b, "target_ip", g->tip.len ? g->tip : host_ip_near(g->h, g->tmin), NULL);
    /* the logon: by logon id first, then from the source */
    const dh_event *logon = NULL;
    for (int pass_ = 0; pass_ < 2 && !logon; pass_++)
        for (size_t i = 0; i < b->nev && !logon; i++) {
            const dh_event *ev = b->ev[i].ev;
            if (dh_event_kind(ev) != DH_KIND_LOGON || strcmp(b->ev[i].role, "logon"))
                continue;
            uint64_t id = 0;
            corr_num(corr_field(ev, DH_FIELD_LOGON_ID), &id);
            if (pass_ == 1 || (g->logon && id == g->logon))
                logon = ev;
        }
    dh_str src = g->src, ws = {"", 0};
    if (logon) {
        dh_str ls = corr_field(logon, DH_FIELD_SOURCE_IP);
        if (ls.len && !corr_loopback(ls))
            src = ls;
        ws = corr_field(logon, DH_FIELD_SOURCE_HOSTNAME);
        b->f.user = dh_fb_account(b, logon, DH_FIELD_TARGET_DOMAIN_NAME, DH_FIELD_TARGET_USER_NAME);
        b->f.logon_id = dh_fb_value(b, "logon_id", corr_field(logon, DH_FIELD_LOGON_ID), logon);
    } else {
        b->f.user = dh_fb_value(b, "user", g->account, NULL);
        for (size_t k = 0; k < g->nacts && !b->f.logon_id.len; k++) {
            const act *a0 = &p->acts[g->acts[k]];
            if (a0->kind == ACT_SERVER && a0->h->nodes[a0->node].nrecs) {
                const dh_event *r = a0->h->nodes[a0->node].recs[0]->ev;
                b->f.logon_id = dh_fb_value(b, "logon_id", corr_field(r, DH_FIELD_LOGON_ID), r);
            }
        }
    }
    b->f.source_ip = dh_fb_value(b, "source_ip", src, logon);
    name_source(p, b, src, ws, logon, g->tmin, g);
    if (!lateral)
        dh_score_local(fam, &sc);
    b->f.confidence = sc.confidence;
    for (size_t i = 0; i < sc.nreasons; i++)
        dh_fb_reason(b, sc.reasons[i]);
    dh_level sev = score_severity(b->f.kind, fam, b->f.confidence, p->acts[g->first_act].obj);
    b->f.severity = sev > rule_sev ? sev : rule_sev;
    if (!lateral)
        b->f.severity = rule_sev;
    if (finish(b)) {
        fb_drop(b);
        return -1;
    }
    /* the anchor: the earliest activation's record */
    const act *first = &p->acts[g->first_act];
    for (size_t k = 0; k < g->nacts; k++)
        if (p->acts[g->acts[k]].t < first->t)
            first = &p->acts[g->acts[k]];
    make_id(b, dh_finding_kind_name(b->f.kind), first->anchor);
    fb_emit(p, g, b);
    return 0;
}

static int build_attempt(pass *p, group *g)
{
    unsigned fam;
    dh_level rule_sev;
    int err;
    dh_fb *b = fb_start(p, g, &fam, &rule_sev, &err);
    if (!b)
        return -err;
    b->f.kind = DH_FINDING_ATTEMPT;
    object(b, g->obj);
    const dh_event *first = NULL;
    for (size_t i = 0; i < b->nev && !first; i++)
        if (dh_event_kind(b->ev[i].ev) == DH_KIND_DCOM_ERROR)
            first = b->ev[i].ev;
    if (!first) {
        fb_drop(b);
        return 0;
    }
    b->f.target_host = dh_fb_value(b, "target_host", g->h->name, host_event(g->h));
    b->f.target_ip = dh_fb_value(b, "target_ip", host_ip_near(g->h, g->tmin), NULL);
    b->f.source_ip = dh_fb_value(b, "source_ip", g->src, first);
    b->f.user = dh_fb_account(b, first, DH_FIELD_TARGET_DOMAIN_NAME, DH_FIELD_USER);
    name_source(p, b, g->src, (dh_str){"", 0}, NULL, g->tmin, g);
    if (finish(b)) {
        fb_drop(b);
        return -1;
    }
    b->f.clsid = dh_fb_value(b, "clsid", corr_field(first, DH_FIELD_CLSID), first);
    /* the object counts when the table names it as one used for lateral movement (object()
     * lists no other) */
    dh_score sc;
    dh_score_attempt(dh_event_id(first), b->f.nobjects > 0, fam, &sc);
    b->f.confidence = sc.confidence;
    for (size_t i = 0; i < sc.nreasons; i++)
        dh_fb_reason(b, sc.reasons[i]);
    dh_level sev = score_severity(DH_FINDING_ATTEMPT, fam, b->f.confidence, g->obj);
    b->f.severity = sev > rule_sev ? sev : rule_sev;
    /* the id: the first refusal record */
    for (size_t k = 0; k < g->nclaims; k++)
        if (g->claims[k].it->ev == first) {
            make_id(b, "attempt", g->claims[k].it);
            break;
        }
    fb_emit(p, g, b);
    return 0;
}

static int build_source(pass *p, group *g)
{
    unsigned fam;
    dh_level rule_sev;
    int err;
    dh_fb *b = fb_start(p, g, &fam, &rule_sev, &err);
    if (!b)
        return -err;
    /* a source naming a target (DistributedCOM 10028 included: the source's own record of a
     * try that never reached the target) is source activity; attempts are refusals the
     * target logged */
    b->f.kind = DH_FINDING_SOURCE_ACTIVITY;
    object(b, g->obj);
    b->f.target_host = cstr(g->shown);
    b->f.target_ip = dh_map_is_ip(cstr(g->target)) ? b->f.target_host : (dh_str){"", 0};
    b->f.source_host = dh_fb_value(b, "source_host", g->h->name, host_event(g->h));
    b->f.source_ip = dh_fb_value(b, "source_ip", host_ip_near(g->h, g->tmin), NULL);
    for (size_t i = 0; i < b->nev && !b->f.user.len; i++) {
        dh_str u = corr_field(b->ev[i].ev, DH_FIELD_USER);
        if (u.len)
            b->f.user = dh_fb_value(b, "user", u, b->ev[i].ev);
    }
    if (finish(b)) {
        fb_drop(b);
        return -1;
    }
    /* scored on the records the finding lists (after the cap), in their order */
    dh_score sc;
    dh_score_source(b->ev, b->nev, g->obj && g->obj->lateral, &sc);
    b->f.confidence = sc.confidence;
    for (size_t i = 0; i < sc.nreasons; i++)
        dh_fb_reason(b, sc.reasons[i]);
    for (size_t i = 0; i < b->nev; i++)
        if (!strcmp(b->ev[i].role, "failure") && dh_event_kind(b->ev[i].ev) == DH_KIND_DCOM_ERROR &&
            !b->f.clsid.len)
            b->f.clsid =
                dh_fb_value(b, "clsid", corr_field(b->ev[i].ev, DH_FIELD_CLSID), b->ev[i].ev);
    dh_level sev = score_severity(b->f.kind, fam, b->f.confidence, g->obj);
    b->f.severity = sev > rule_sev ? sev : rule_sev;
    make_id(b, dh_finding_kind_name(b->f.kind), g->claims[0].it);
    fb_emit(p, g, b);
    return 0;
}

/* A rule detection nothing explains: one record, or the records several sensors made of
 * one process (its node; -1 for none), which are one signal. */
static int build_signal(pass *p, item *const *its, size_t n, host *h, int32_t node)
{
    size_t alone = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < its[i]->nrules; k++)
            alone += (size_t)dh_rule_reported_alone(its[i]->rules[k]);
        its[i]->decided = 1;
    }
    if (!alone)
        return 0; /* only correlation rules report these */
    dh_fb *b = malloc(sizeof *b);
    if (!b)
        return -1;
    dh_fb_init(b);
    item *it = its[0];
    for (size_t i = 1; i < n; i++) /* the earliest record names the signal */
        if (its[i]->t < it->t || (its[i]->t == it->t && its[i]->seq < it->seq))
            it = its[i];
    const dh_event *ev = it->ev;
    int script = dh_event_kind(ev) == DH_KIND_PS_SCRIPT || dh_event_kind(ev) == DH_KIND_PS_MODULE;
    b->f.kind = script ? DH_FINDING_SOURCE_ACTIVITY : DH_FINDING_SIGNAL;
    dh_level sev = DH_LEVEL_INFORMATIONAL;
    for (size_t i = 0; i < n; i++)
        if (corr_fb_record(b, script ? "script" : "detection", its[i], &sev)) {
            fb_drop(b);
            return -1;
        }
    b->f.severity = sev;
    dh_score sc;
    dh_score_signal(script, &sc);
    b->f.confidence = sc.confidence;
    /* the object an event names: a GUID (registry paths, 10016), a COM server parent */
    const dh_com_object *o = comdb_in_text(p->c->db, corr_field(ev, DH_FIELD_TARGET_OBJECT));
    if (!o)
        o = comdb_by_guid(p->c->db, corr_field(ev, DH_FIELD_CLSID));
    if (!o && dh_event_kind(ev) == DH_KIND_PROCESS_CREATION) {
        int emb;
        o = comdb_by_start(p->c->db, corr_field(ev, DH_FIELD_PARENT_IMAGE),
                           corr_field(ev, DH_FIELD_PARENT_COMMAND_LINE), &emb);
    }
    object(b, o);
    if (script)
        b->f.source_host = dh_fb_value(b, "source_host", dh_event_host(ev), ev);
    else
        b->f.target_host = dh_fb_value(b, "target_host", dh_event_host(ev), ev);
    b->f.user = dh_fb_value(b, "user", corr_field(ev, DH_FIELD_USER), ev);
    b->f.logon_id = dh_fb_value(b, "logon_id", corr_field(ev, DH_FIELD_LOGON_ID), ev);
    if (dh_event_kind(ev) == DH_KIND_PROCESS_CREATION &&
        corr_fb_process(b, DH_FB_COMMANDS, node >= 0 ? &h->nodes[node] : NULL, node,
                        node >= 0 ? NULL : ev)) {
        fb_drop(b);
        return -1;
    }
    for (size_t i = 0; i < sc.nreasons; i++)
        dh_fb_reason(b, sc.reasons[i]);
    if (finish(b)) {
        fb_drop(b);
        return -1;
    }
    make_id(b, dh_finding_kind_name(b->f.kind), it);
    for (size_t i = 0; i < n; i++)
        its[i]->used = 1;
    emit(p, b);
    fb_drop(b);
    return 0;
}

static int lone(const item *it)
{
    return !it->used && !it->decided && it->nrules && it->claim == -1;
}

/* Lone detections: the records of one process (a Sysmon 1 and a 4688 of it) are one
 * signal, made when all of them are settled; any other record is a signal of its own. */
static int build_signals(pass *p)
{
    for (size_t k = 0; k < p->nh; k++) {
        host *h = &p->hosts[k];
        for (size_t i = 0; i < h->nnodes; i++) {
            pnode *pn = &h->nodes[i];
            item *its[NODE_MAX_RECS];
            size_t n = 0, late = 0;
            for (size_t r = 0; r < pn->nrecs; r++)
                if (lone(pn->recs[r])) {
                    its[n++] = pn->recs[r];
                    late += pn->recs[r]->t >= p->settled;
                }
            if (n < 2)
                continue;
            if (late) { /* wait for the others: one signal for the process */
                for (size_t r = 0; r < n; r++)
                    its[r]->claim = -2;
                continue;
            }
            if (build_signal(p, its, n, h, (int32_t)i))
                return -1;
        }
        for (size_t i = 0; i < h->n; i++) {
            item *it = h->v[i];
            if (!lone(it) || it->t >= p->settled)
                continue;
            if (build_signal(p, &it, 1, h, -1))
                return -1;
        }
    }
    return 0;
}

static int group_order(const void *pa, const void *pb)
{
    const group *a = &sort_pass->groups[*(const int32_t *)pa],
                *b = &sort_pass->groups[*(const int32_t *)pb];
    if (a->tmin != b->tmin)
        return a->tmin < b->tmin ? -1 : 1;
    return *(const int32_t *)pa - *(const int32_t *)pb;
}

int assemble(pass *p)
{
    for (size_t k = 0; k < p->nh; k++)
        for (size_t i = 0; i < p->hosts[k].n; i++)
            p->hosts[k].v[i]->claim = -1;
    for (size_t i = 0; i < p->nwire; i++)
        p->wire[i]->claim = -1;
    if (group_acts(p) || attempt_groups(p))
        return -1;
    source_join(p);
    if (wire_join(p))
        return -1;
    resolve_claims(p, 0);
    if (source_groups(p))
        return -1;
    /* ready: nothing later can still join */
    p->open_min = INT64_MAX;
    int32_t *order = arena_alloc(&p->a, (p->ngroups ? p->ngroups : 1) * sizeof *order);
    if (!order)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < p->ngroups; i++) {
        group *g = &p->groups[i];
        g->ready = g->tmax < p->settled;
        if (g->ready)
            order[n++] = (int32_t)i;
        else if (g->tmin < p->open_min)
            p->open_min = g->tmin;
    }
    sort_pass = p;
    qsort(order, n, sizeof *order, group_order);
    for (size_t i = 0; i < n; i++) {
        group *g = &p->groups[order[i]];
        int r = g->kind == G_TARGET    ? build_target(p, g)
                : g->kind == G_ATTEMPT ? build_attempt(p, g)
                                       : build_source(p, g);
        if (r)
            return -1;
    }
    return build_signals(p);
}
