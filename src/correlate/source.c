/* The source side: records on one host that name another host as the target of a remote
 * COM activation, and the network sensor's view of the activation.
 *
 * Strong candidates name the target and usually the object: a PowerShell script block
 * (4104) or module record (4103), a process command line (encoded PowerShell decoded), a
 * tool's arguments; DistributedCOM 10028 (the target could not be reached). Supporting
 * candidates only corroborate: explicit credentials for the target (4648), an outbound
 * connection to its endpoint mapper (135). A candidate joins the target's finding when
 * the target matches (its bare host name or one of its addresses), the time fits (just
 * before the activation, within the window and the skew) and the source is consistent
 * (when both the finding's source address and the candidate host's addresses are known,
 * they agree). What joins no target finding becomes, if strong, source activity naming the
 * target and the object. */
#include <stdio.h>
#include <string.h>

#include "correlate/corr.h"

#define MAX_MENTIONS 16
#define DECODE_CAP   (64u << 10)

static int local_name(dh_str t)
{
    static const char *const names[] = {"localhost", "127.0.0.1", ".", "::1", "0.0.0.0"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (t.len == strlen(names[i]) && corr_contains(t, names[i]))
            return 1;
    return 0;
}

/* A target as candidates and hosts are compared: the bare host name, lowercase, or an
 * address as written. 0 when it names no remote host. */
static int norm_target(dh_str t, const host *self, char out[128])
{
    while (t.len && (t.ptr[0] == '\\' || t.ptr[0] == '"' || t.ptr[0] == '\'' || t.ptr[0] == ' ')) {
        t.ptr++;
        t.len--;
    }
    while (t.len &&
           (t.ptr[t.len - 1] == '"' || t.ptr[t.len - 1] == '\'' || t.ptr[t.len - 1] == ' '))
        t.len--;
    if (!t.len || local_name(t) || t.ptr[0] == '$')
        return 0;
    if (!dh_map_is_ip(t))
        t = corr_bare_host(t);
    if (!t.len || t.len >= 128 || corr_ieq(t, self->bare))
        return 0;
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if ((unsigned char)c < 0x21)
            return 0;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[t.len] = 0;
    return 1;
}

static srcc *cand_new(pass *p, item *it, host *h, const char *target, dh_str raw, int strong)
{
    if (p->ncands == p->capcands) {
        size_t cap = p->capcands ? p->capcands * 2 : 64;
        srcc *v = arena_grow(&p->a, p->cands, p->ncands * sizeof *v, cap * sizeof *v);
        if (!v)
            return NULL;
        p->cands = v;
        p->capcands = cap;
    }
    srcc *c = &p->cands[p->ncands++];
    memset(c, 0, sizeof *c);
    c->it = it;
    c->h = h;
    c->strong = strong;
    c->group = -1;
    c->conn = -1;
    snprintf(c->target, sizeof c->target, "%s", target);
    /* shown as written, without quotes or a UNC prefix */
    while (raw.len &&
           (raw.ptr[0] == '\\' || raw.ptr[0] == '"' || raw.ptr[0] == '\'' || raw.ptr[0] == ' ')) {
        raw.ptr++;
        raw.len--;
    }
    while (raw.len && (raw.ptr[raw.len - 1] == '"' || raw.ptr[raw.len - 1] == '\'' ||
                       raw.ptr[raw.len - 1] == ' '))
        raw.len--;
    snprintf(c->shown, sizeof c->shown, "%.*s", (int)(raw.len < 127 ? raw.len : 127), raw.ptr);
    return c;
}

static void from_text(pass *p, host *h, item *it, dh_str text)
{
    dcom_mention m[MAX_MENTIONS];
    size_t n = dcom_mentions(text, m, MAX_MENTIONS);
    for (size_t i = 0; i < n; i++) {
        char target[128];
        if (!norm_target(m[i].target, h, target))
            continue;
        const dh_com_object *o = m[i].object.len ? comdb_by_name(p->c->db, m[i].object) : NULL;
        srcc *c = cand_new(p, it, h, target, m[i].target, 1);
        if (c)
            c->obj = o;
    }
}

static int worth_reading(dh_str s)
{
    static const char *const hints[] = {"gettypefrom", "createobject", "activexobject",
                                        "dcom",        "computername", "mmcexec",
                                        "-enc",        "-e ",          "-ec "};
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
        if (corr_contains(s, hints[i]))
            return 1;
    return 0;
}

int source_scan(pass *p)
{
    char *decoded = NULL;
    for (size_t k = 0; k < p->nh; k++) {
        host *h = &p->hosts[k];
        for (size_t i = 0; i < h->n; i++) {
            item *it = h->v[i];
            if (it->used || it->decided || it->t >= p->horizon)
                continue;
            const dh_event *ev = it->ev;
            switch (dh_event_kind(ev)) {
            case DH_KIND_PS_SCRIPT:
                from_text(p, h, it, corr_field(ev, DH_FIELD_SCRIPT_BLOCK_TEXT));
                break;
            case DH_KIND_PS_MODULE:
                from_text(p, h, it, corr_field(ev, DH_FIELD_PAYLOAD));
                break;
            case DH_KIND_PROCESS_CREATION: {
                dh_str cl = corr_field(ev, DH_FIELD_COMMAND_LINE);
                if (!worth_reading(cl))
                    break;
                from_text(p, h, it, cl);
                if (!decoded && !(decoded = arena_alloc(&p->a, DECODE_CAP)))
                    return -1;
                size_t dn = ps_decode_encoded(cl, decoded, DECODE_CAP);
                if (dn)
                    from_text(p, h, it, (dh_str){decoded, dn});
                break;
            }
            case DH_KIND_EXPLICIT_LOGON: {
                char target[128];
                if (norm_target(corr_field(ev, DH_FIELD_DESTINATION_HOSTNAME), h, target))
                    cand_new(p, it, h, target, corr_field(ev, DH_FIELD_DESTINATION_HOSTNAME), 0);
                break;
            }
            case DH_KIND_DCOM_ERROR: {
                char target[128];
                if (dh_event_id(ev) != 10028 ||
                    !norm_target(corr_field(ev, DH_FIELD_REMOTE_HOST), h, target))
                    break;
                srcc *c = cand_new(p, it, h, target, corr_field(ev, DH_FIELD_REMOTE_HOST), 1);
                if (c) {
                    c->failed = 1;
                    c->obj = comdb_by_guid(p->c->db, corr_field(ev, DH_FIELD_CLSID));
                }
                break;
            }
            default:
                break;
            }
        }
        /* outbound RPC to another host's endpoint mapper */
        for (size_t i = 0; i < h->nconns; i++) {
            const conn *c = &h->conns[i];
            char target[128];
            if (c->inbound || c->rport != 135 || c->it->used || c->it->decided ||
                c->it->t >= p->horizon || corr_loopback(c->rip) || !norm_target(c->rip, h, target))
                continue;
            srcc *sc = cand_new(p, c->it, h, target, c->rip, 0);
            if (sc)
                sc->conn = (int32_t)i;
        }
    }
    /* the candidates' local addresses are needed to tell their outbound connections apart */
    return p->a.failed ? -1 : 0;
}

/* ---- joining target findings ------------------------------------------------------------- */

static const conn *cand_conn(const srcc *c);

typedef struct tkey {
    int32_t group;
    int32_t next;
} tkey;

static int group_claim(pass *p, group *g, item *it, const char *role, int rank, int64_t dt,
                       unsigned fam)
{
    size_t dropped = 0;
    return claim_add(&p->a, &g->claims, &g->nclaims, &g->capclaims, &dropped, it, role, rank, dt,
                     fam, -1);
}

static const char *role_of(const srcc *c)
{
    switch (dh_event_kind(c->it->ev)) {
    case DH_KIND_PS_SCRIPT:
    case DH_KIND_PS_MODULE:
        return "script";
    case DH_KIND_EXPLICIT_LOGON:
        return "explicit_logon";
    case DH_KIND_NETWORK_CONNECTION:
        return "source_network";
    case DH_KIND_DCOM_ERROR:
        return "failure";
    default:
        return "source";
    }
}

/* Does the candidate's host fit the group's source address? */
static int source_fits(const pass *p, const srcc *c, const group *g)
{
    if (!g->src.len)
        return 1;
    if (dh_event_kind(c->it->ev) == DH_KIND_NETWORK_CONNECTION) {
        const conn *cn = cand_conn(c); /* the connection's own local end */
        if (cn)
            return corr_ieq(cn->lip, g->src);
    }
    if (!c->h->nips)
        return 1; /* the candidate host's addresses are unknown */
    (void)p;
    return host_owns_ip(c->h, g->src);
}

/* The conn record of a candidate that is an outbound connection. */
static const conn *cand_conn(const srcc *c)
{
    return c->conn >= 0 ? &c->h->conns[c->conn] : NULL;
}

/* A target whose addresses no log gives: the source host that named it (a script, a tool)
 * also connected to one endpoint mapper at that time, from the finding's source address:
 * that connection went to the target. With two such destinations nothing is inferred. */
static void outbound_join(pass *p)
{
    for (size_t gi = 0; gi < p->ngroups; gi++) {
        group *g = &p->groups[gi];
        if (!g->h || g->h->nips || !g->src.len)
            continue;
        for (size_t i = 0; i < p->ncands; i++) {
            const srcc *named = &p->cands[i];
            if (named->group != (int32_t)gi || !named->strong)
                continue;
            dh_str only = {"", 0};
            int ambiguous = 0;
            for (int round = 0; round < 2 && !ambiguous; round++)
                for (size_t k = 0; k < p->ncands; k++) {
                    srcc *c = &p->cands[k];
                    const conn *cn;
                    if (c->strong || c->h != named->h ||
                        dh_event_kind(c->it->ev) != DH_KIND_NETWORK_CONNECTION ||
                        c->it->t < g->tmin - p->W - p->S || c->it->t > g->tmax + p->S ||
                        !(cn = cand_conn(c)) || !corr_ieq(cn->lip, g->src))
                        continue;
                    if (round == 0) {
                        if (only.len && !corr_ieq(only, cn->rip))
                            ambiguous = 1;
                        only = cn->rip;
                        continue;
                    }
                    int64_t dt = c->it->t > g->tmin ? c->it->t - g->tmin : g->tmin - c->it->t;
                    group_claim(p, g, c->it, "source_network", 2, dt, EV_SOURCE);
                    c->group = (int32_t)gi;
                    if (!g->tip.len)
                        g->tip = cn->rip;
                }
            break;
        }
    }
}

void source_join(pass *p)
{
    /* target keys (bare name, every address of the target) -> groups */
    u64map by_target = {0};
    tkey *keys = NULL;
    size_t nkeys = 0, capkeys = 0;
    for (size_t gi = 0; gi < p->ngroups; gi++) {
        group *g = &p->groups[gi];
        if (!g->h)
            continue;
        for (size_t k = 0; k <= g->h->nips; k++) {
            dh_str name = k == 0 ? g->h->bare : g->h->ips[k - 1].ip;
            char low[128];
            if (!name.len || name.len >= sizeof low)
                continue;
            for (size_t i = 0; i < name.len; i++)
                low[i] = (char)(name.ptr[i] >= 'A' && name.ptr[i] <= 'Z' ? name.ptr[i] + 32
                                                                         : name.ptr[i]);
            uint64_t key = corr_hash(low, name.len, CORR_HASH0);
            if (nkeys == capkeys) {
                size_t cap = capkeys ? capkeys * 2 : 64;
                tkey *v = arena_grow(&p->a, keys, nkeys * sizeof *v, cap * sizeof *v);
                if (!v)
                    return;
                keys = v;
                capkeys = cap;
            }
            keys[nkeys].group = (int32_t)gi;
            keys[nkeys].next = u64map_get(&by_target, key);
            u64map_put(&p->a, &by_target, key, (int32_t)nkeys);
            nkeys++;
        }
    }
    for (size_t i = 0; i < p->ncands; i++) {
        srcc *c = &p->cands[i];
        if (c->failed)
            continue; /* a target that could not be reached is no part of a success */
        uint64_t key = corr_hash(c->target, strlen(c->target), CORR_HASH0);
        for (int32_t k = u64map_get(&by_target, key); k >= 0; k = keys[k].next) {
            group *g = &p->groups[keys[k].group];
            if (g->h == c->h || !source_fits(p, c, g) || c->it->t < g->tmin - p->W - p->S ||
                c->it->t > g->tmax + p->S)
                continue;
            int64_t dt = c->it->t > g->tmin ? c->it->t - g->tmin : g->tmin - c->it->t;
            group_claim(p, g, c->it, role_of(c), 2, dt, EV_SOURCE);
            c->group = keys[k].group;
        }
    }
    outbound_join(p);
}

/* ---- the network sensor ------------------------------------------------------------------ */

/* Wire records of a group: from its source address to the target (an address the target
 * owns; when none is known, the one address the source's activations went to). */
int wire_join(pass *p)
{
    for (size_t gi = 0; gi < p->ngroups; gi++) {
        group *g = &p->groups[gi];
        if (!g->h || !g->src.len)
            continue;
        int64_t lo = g->tmin - p->W - p->S, hi = g->tmax + p->W + p->S;
        uint64_t key = corr_hash_ci(g->src, CORR_HASH0);
        dh_str only = {"", 0};
        if (!g->h->nips) {
            int ambiguous = 0;
            for (int32_t i = u64map_get(&p->wire_by_orig, key); i >= 0; i = p->wire_next[i]) {
                const dh_event *ev = p->wire[i]->ev;
                if (!corr_wire_activation(ev) ||
                    !corr_ieq(corr_field(ev, DH_FIELD_SOURCE_IP), g->src) || p->wire[i]->t < lo ||
                    p->wire[i]->t > g->tmin + p->S)
                    continue;
                dh_str d = corr_field(ev, DH_FIELD_DESTINATION_IP);
                if (only.len && !corr_ieq(only, d))
                    ambiguous = 1;
                only = d;
            }
            if (ambiguous || !only.len)
                continue;
        }
        for (int32_t i = u64map_get(&p->wire_by_orig, key); i >= 0; i = p->wire_next[i]) {
            item *it = p->wire[i];
            const dh_event *ev = it->ev;
            if (it->used || it->t < lo || it->t > hi ||
                !corr_ieq(corr_field(ev, DH_FIELD_SOURCE_IP), g->src))
                continue;
            dh_str d = corr_field(ev, DH_FIELD_DESTINATION_IP);
            if (!(only.len ? corr_ieq(d, only) : host_owns_ip(g->h, d)))
                continue;
            uint64_t port = 0;
            int rpc = corr_num(corr_field(ev, DH_FIELD_DESTINATION_PORT), &port) &&
                      (port == 135 || port >= 49152);
            int activation = corr_wire_activation(ev);
            if (!rpc && !activation)
                continue;
            unsigned fam = activation && it->t <= g->tmin + p->S ? EV_WIRE : 0;
            int64_t dt = it->t > g->tmin ? it->t - g->tmin : g->tmin - it->t;
            group_claim(p, g, it, "wire", 1, dt, fam);
            if (fam && only.len)
                g->tip = only; /* the target's address, as the wire gives it */
        }
    }
    return p->a.failed ? -1 : 0;
}
