/* Entities before chains: per host, which records are one process, one connection, one
 * logon session, built by identity and never by order.
 *
 * A process seen by several sensors (Sysmon 1, Security 4688, a Defender row) is one node:
 * records merge by process GUID; else by process id (4688's hex and Sysmon's decimal are
 * the same number) with the same image, creation times within the skew tolerance and
 * compatible parents; else (exports that drop Sysmon's ProcessId) by image and parent
 * process id within the tolerance. Parents link by GUID, else by parent id and image, to
 * the process with that id whose start is the latest at most the tolerance after the
 * child's (a parent never seen starting becomes a node known by reference). Connections,
 * image loads and files attach to their process the same way: a connection may be
 * stamped seconds before the creation record of the process that accepted it.
 *
 * Which end of a connection is this host: an address this host is seen to own (the source
 * of its outbound connections, the end with a well-known server port), else what a
 * Defender row says, a host name field naming this host, an address another host owns, a
 * well-known port, and last the usual convention (an inbound record's destination is
 * local). Captures disagree on the direction convention of inbound records, so what the
 * host's own traffic teaches comes first. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "correlate/corr.h"

/* Addresses are tied to hosts only near the time they were seen (12 hours): lab host names
 * and addresses are reused across unrelated captures. */
/* Candidates looked at in a chain of processes of one id or one image and parent: chains
 * run newest first; a long one (an id reused again and again, a parent starting thousands
 * of copies of one program at once) is not walked further, so a record costs O(1). */
#define CHAIN_WALK 64
#define IP_TTL     (12LL * 3600 * TICKS)

static int well_known_port(uint32_t p)
{
    return p == 135 || p == 139 || p == 445 || p == 3389 || p == 5985 || p == 5986 || p == 88 ||
           p == 389 || p == 636 || p == 53 || p == 80 || p == 443;
}

static uint32_t port_of(const dh_event *ev, dh_field f)
{
    uint64_t v = 0;
    return corr_num(corr_field(ev, f), &v) && v < 65536 ? (uint32_t)v : 0;
}

static int is_defender(const dh_event *ev)
{
    dh_str p = dh_event_provider(ev);
    return p.len >= 6 && !memcmp(p.ptr, "Device", 6);
}

/* ---- the host's own addresses ------------------------------------------------------------ */

static void learn(host *h, dh_str ip, int64_t t)
{
    if (!ip.len || corr_loopback(ip) || !dh_map_is_ip(ip))
        return;
    for (size_t i = 0; i < h->nips; i++)
        if (corr_ieq(h->ips[i].ip, ip) && h->ips[i].t / IP_TTL == t / IP_TTL)
            return;
    if (h->nips == h->capips) {
        size_t cap = h->capips ? h->capips * 2 : 8;
        if (cap > 256)
            return; /* a host with more addresses than that is a sensor, not a host */
        localip *v = arena_grow(&h->p->a, h->ips, h->nips * sizeof *v, cap * sizeof *v);
        if (!v)
            return;
        h->ips = v;
        h->capips = cap;
    }
    h->ips[h->nips].ip = ip;
    h->ips[h->nips].t = t;
    h->nips++;
}

static void learn_host(host *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const dh_event *ev = h->v[i]->ev;
        if (dh_event_kind(ev) != DH_KIND_NETWORK_CONNECTION)
            continue;
        dh_str s = corr_field(ev, DH_FIELD_SOURCE_IP), d = corr_field(ev, DH_FIELD_DESTINATION_IP);
        uint32_t sp = port_of(ev, DH_FIELD_SOURCE_PORT),
                 dp = port_of(ev, DH_FIELD_DESTINATION_PORT);
        int64_t t = h->v[i]->t;
        int out = corr_true(corr_field(ev, DH_FIELD_INITIATED));
        if (out) {
            if (well_known_port(dp) || !well_known_port(sp))
                learn(h, s, t);
        } else if (well_known_port(sp) && !well_known_port(dp)) {
            learn(h, s, t);
        } else if (well_known_port(dp) && !well_known_port(sp)) {
            learn(h, d, t);
        }
    }
}

int host_owns_ip(const host *h, dh_str ip)
{
    for (size_t i = 0; i < h->nips; i++)
        if (corr_ieq(h->ips[i].ip, ip))
            return 1;
    return 0;
}

dh_str host_ip_near(const host *h, int64_t t)
{
    if (h->address_only)
        return h->name;
    dh_str best = {"", 0};
    int64_t bd = IP_TTL + 1;
    int best_v4 = 0;
    for (size_t i = 0; i < h->nips; i++) {
        int64_t dd = h->ips[i].t > t ? h->ips[i].t - t : t - h->ips[i].t;
        int v4 = memchr(h->ips[i].ip.ptr, ':', h->ips[i].ip.len) == NULL;
        if (dd > IP_TTL)
            continue;
        if ((v4 && !best_v4) || (v4 == best_v4 && dd < bd)) {
            best = h->ips[i].ip;
            bd = dd;
            best_v4 = v4;
        }
    }
    return best;
}

host *ip_owner(const pass *p, dh_str ip, int64_t t)
{
    host *best = NULL;
    int64_t bd = IP_TTL + 1;
    for (int32_t i = u64map_get(&p->ip_by_addr, corr_hash_ci(ip, CORR_HASH0)); i >= 0;
         i = p->ipents[i].next) {
        const ipent *e = &p->ipents[i];
        int64_t dd = e->t > t ? e->t - t : t - e->t;
        if (corr_ieq(e->ip, ip) && dd <= IP_TTL && dd < bd) {
            bd = dd;
            best = e->h;
        }
    }
    return best;
}

/* ---- processes --------------------------------------------------------------------------- */

static uint64_t guid_key(dh_str g)
{
    /* braces and case differ between sensors */
    while (g.len && (g.ptr[0] == '{' || g.ptr[0] == ' ')) {
        g.ptr++;
        g.len--;
    }
    while (g.len && (g.ptr[g.len - 1] == '}' || g.ptr[g.len - 1] == ' '))
        g.len--;
    if (!g.len || (g.len == 36 && !memcmp(g.ptr, "00000000-0000-0000-0000-000000000000", 36)))
        return 0;
    return corr_hash_ci(g, CORR_HASH0) | 1;
}

static uint64_t kin_key(const char *image, uint64_t ppid)
{
    uint64_t h = corr_hash(image, strlen(image), CORR_HASH0);
    return corr_hash(&ppid, sizeof ppid, h) | 1;
}

static int images_compatible(const char *a, const char *b)
{
    return !*a || !*b || !strcmp(a, b);
}

/* A host's nodes are one array that grows by realloc, not in the pass's arena: a node is
 * ~400 bytes and a pass may hold 16,384 process starts of one host (a Sysmon log read file
 * by file), so the arena's abandoned smaller copies cost as much again (6 MB of a 30 MB
 * hunt); realloc moves or extends in place and frees the old copy. Freed at the pass's
 * end (entities_free). */
static int32_t node_new(host *h)
{
    if (h->nnodes == h->capnodes) {
        size_t cap = h->capnodes ? h->capnodes * 2 : 64;
        pnode *v = realloc(h->nodes, cap * sizeof *v);
        if (!v) {
            h->p->a.failed = 1;
            return -1;
        }
        h->nodes = v;
        h->capnodes = cap;
    }
    pnode *n = &h->nodes[h->nnodes];
    memset(n, 0, sizeof *n);
    n->t = INT64_MAX;
    n->tref = INT64_MAX;
    n->parent = n->first_child = n->next_sibling = n->next_pid = n->next_kin = -1;
    n->next_kin_nopid = -1;
    n->next_logon = -1;
    n->first_conn = n->first_load = n->first_file = n->act = -1;
    return (int32_t)h->nnodes++;
}

static void set_pid(host *h, int32_t idx, uint64_t pid)
{
    pnode *n = &h->nodes[idx];
    if (!pid || n->pid)
        return;
    n->pid = pid;
    n->next_pid = u64map_get(&h->by_pid, pid);
    u64map_put(&h->p->a, &h->by_pid, pid, idx);
}

static void set_guid(host *h, int32_t idx, uint64_t guid)
{
    if (!guid || h->nodes[idx].guid)
        return;
    h->nodes[idx].guid = guid;
    u64map_put(&h->p->a, &h->by_guid, guid, idx);
}

/* The node a reference (GUID, process id, image, time) means; -1 if none is known. */
static int32_t lookup(host *h, uint64_t guid, uint64_t pid, const char *image, int64_t t)
{
    if (guid) {
        int32_t i = u64map_get(&h->by_guid, guid);
        if (i >= 0)
            return i;
    }
    if (!pid)
        return -1;
    int64_t S = h->p->S;
    int32_t best = -1, implicit = -1, walked = 0;
    for (int32_t i = u64map_get(&h->by_pid, pid); i >= 0 && walked++ < CHAIN_WALK;
         i = h->nodes[i].next_pid) {
        const pnode *n = &h->nodes[i];
        if (n->pid != pid || !images_compatible(n->image, image) ||
            (guid && n->guid && n->guid != guid))
            continue;
        if (!n->created) {
            if (implicit < 0)
                implicit = i;
            continue;
        }
        /* the latest process with that id started by then (pids are reused) */
        if (n->t <= t + S && (best < 0 || n->t > h->nodes[best].t))
            best = i;
    }
    return best >= 0 ? best : implicit;
}

pnode *node_of(host *h, dh_str guid, dh_str pid, dh_str image, int64_t t)
{
    uint64_t p = 0;
    corr_num(pid, &p);
    char base[64];
    comdb_base_lower(image, base, sizeof base);
    int32_t i = lookup(h, guid_key(guid), p, base, t);
    return i >= 0 ? &h->nodes[i] : NULL;
}

/* The node for a reference, made (known by reference) when none exists. */
static int32_t resolve(host *h, uint64_t guid, uint64_t pid, dh_str image, int64_t t)
{
    char base[64];
    comdb_base_lower(image, base, sizeof base);
    int32_t i = lookup(h, guid, pid, base, t);
    if (i < 0) {
        if (!guid && !pid)
            return -1;
        if ((i = node_new(h)) < 0)
            return -1;
        memcpy(h->nodes[i].image, base, sizeof base);
        h->nodes[i].image_path = image;
        set_guid(h, i, guid);
        set_pid(h, i, pid);
    } else {
        set_guid(h, i, guid);
        set_pid(h, i, pid);
        if (!h->nodes[i].image[0] && base[0]) {
            memcpy(h->nodes[i].image, base, sizeof base);
            h->nodes[i].image_path = image;
        }
    }
    if (t < h->nodes[i].tref)
        h->nodes[i].tref = t;
    return i;
}

static int same_sensor(const item *a, const item *b)
{
    return corr_ieq(dh_event_channel(a->ev), dh_event_channel(b->ev)) &&
           dh_event_id(a->ev) == dh_event_id(b->ev);
}

/* Command lines as two sensors write them: NXLog doubles a percent sign, some trim. */
static int cmdlines_compatible(dh_str a, dh_str b)
{
    if (!a.len || !b.len)
        return 1;
    size_t i = 0, j = 0;
    while (i < a.len && j < b.len) {
        if (a.ptr[i] == ' ' && b.ptr[j] == ' ') {
            while (i < a.len && a.ptr[i] == ' ')
                i++;
            while (j < b.len && b.ptr[j] == ' ')
                j++;
            continue;
        }
        char x = a.ptr[i], y = b.ptr[j];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return 0;
        i++;
        j++;
        if (x == '%' && i < a.len && a.ptr[i] == '%' && !(j < b.len && b.ptr[j] == '%'))
            i++;
        else if (x == '%' && j < b.len && b.ptr[j] == '%' && !(i < a.len && a.ptr[i] == '%'))
            j++;
    }
    while (i < a.len && a.ptr[i] == ' ')
        i++;
    while (j < b.len && b.ptr[j] == ' ')
        j++;
    /* a long value may be a copy cut at the kept length: agreeing up to the end of the
     * shorter is agreeing */
    return (i == a.len && j == b.len) || ((i == a.len || j == b.len) && (i >= 4000 || j >= 4000));
}

typedef struct rec {
    item *it;
    uint64_t guid, pid, pguid, ppid, logon;
    char image[64], pimage[64];
    dh_str cmdline;
} rec;

static void read_rec(item *it, rec *r)
{
    const dh_event *ev = it->ev;
    memset(r, 0, sizeof *r);
    r->it = it;
    r->guid = guid_key(corr_field(ev, DH_FIELD_PROCESS_GUID));
    r->pguid = guid_key(corr_field(ev, DH_FIELD_PARENT_PROCESS_GUID));
    corr_num(corr_field(ev, DH_FIELD_PROCESS_ID), &r->pid);
    corr_num(corr_field(ev, DH_FIELD_PARENT_PROCESS_ID), &r->ppid);
    corr_num(corr_field(ev, DH_FIELD_LOGON_ID), &r->logon);
    comdb_base_lower(corr_field(ev, DH_FIELD_IMAGE), r->image, sizeof r->image);
    comdb_base_lower(corr_field(ev, DH_FIELD_PARENT_IMAGE), r->pimage, sizeof r->pimage);
    r->cmdline = corr_field(ev, DH_FIELD_COMMAND_LINE);
}

/* Can this creation record be another sensor's record of node n? */
static int mergeable(const host *h, const pnode *n, const rec *r)
{
    if (!n->created || n->nrecs >= NODE_MAX_RECS)
        return 0;
    if (n->guid && r->guid)
        return n->guid == r->guid;
    int64_t dt = n->t > r->it->t ? n->t - r->it->t : r->it->t - n->t;
    if (dt > h->p->S || !images_compatible(n->image, r->image) || !n->image[0] || !r->image[0])
        return 0;
    if (n->pid && r->pid && n->pid != r->pid)
        return 0;
    if (n->ppid && r->ppid && n->ppid != r->ppid)
        return 0;
    if (!cmdlines_compatible(n->cmdline, r->cmdline))
        return 0;
    for (size_t k = 0; k < n->nrecs; k++)
        if (same_sensor(n->recs[k], r->it))
            return 0; /* one sensor logs a process once: this is another process */
    return 1;
}

static int32_t find_merge(host *h, const rec *r)
{
    if (r->guid) {
        int32_t i = u64map_get(&h->by_guid, r->guid);
        if (i >= 0 && mergeable(h, &h->nodes[i], r))
            return i;
    }
    int32_t best = -1, walked = 0;
    int64_t bd = INT64_MAX;
    if (r->pid) {
        for (int32_t i = u64map_get(&h->by_pid, r->pid); i >= 0 && walked++ < CHAIN_WALK;
             i = h->nodes[i].next_pid) {
            const pnode *n = &h->nodes[i];
            int64_t dt = n->t > r->it->t ? n->t - r->it->t : r->it->t - n->t;
            if (n->pid == r->pid && mergeable(h, n, r) && dt < bd) {
                best = i;
                bd = dt;
            }
        }
        if (best >= 0)
            return best;
    }
    if (r->ppid && r->image[0]) {
        /* no process id on one side (NXLog drops Sysmon's): same image, same parent id; a
         * record with an id looks among the processes without one, and the other way */
        int nopid = r->pid != 0;
        walked = 0;
        for (int32_t i =
                 u64map_get(nopid ? &h->by_kin_nopid : &h->by_kin, kin_key(r->image, r->ppid));
             i >= 0 && walked++ < CHAIN_WALK;
             i = nopid ? h->nodes[i].next_kin_nopid : h->nodes[i].next_kin) {
            const pnode *n = &h->nodes[i];
            int64_t dt = n->t > r->it->t ? n->t - r->it->t : r->it->t - n->t;
            if (n->ppid == r->ppid && (!n->pid || !r->pid) && mergeable(h, n, r) && dt < bd) {
                best = i;
                bd = dt;
            }
        }
    }
    return best;
}

static int better_source(const item *have, const item *cand)
{
    /* Sysmon and Defender log the command line, the parent's and the logon id of the
     * process itself; Security 4688 may lack them */
    dh_str p = dh_event_provider(cand->ev);
    dh_str q = dh_event_provider(have->ev);
    int cand_sec = p.len && corr_contains(p, "Security-Auditing");
    int have_sec = q.len && corr_contains(q, "Security-Auditing");
    return have_sec && !cand_sec;
}

static void take_attrs(host *h, int32_t idx, const rec *r, int prefer)
{
    pnode *n = &h->nodes[idx];
    const dh_event *ev = r->it->ev;
    if (!n->image[0] || prefer) {
        if (r->image[0]) {
            memcpy(n->image, r->image, sizeof n->image);
            n->image_path = corr_field(ev, DH_FIELD_IMAGE);
        }
    }
    dh_str cl = r->cmdline, u = corr_field(ev, DH_FIELD_USER),
           pcl = corr_field(ev, DH_FIELD_PARENT_COMMAND_LINE);
    if (cl.len && (!n->cmdline.len || prefer))
        n->cmdline = cl;
    if (u.len && (!n->user.len || prefer))
        n->user = u;
    if (pcl.len && (!n->pcmdline.len || prefer))
        n->pcmdline = pcl;
    if (r->logon && (!n->logon || prefer))
        n->logon = r->logon;
    if (r->pguid && !n->pguid)
        n->pguid = r->pguid;
    if (r->ppid && !n->ppid)
        n->ppid = r->ppid;
    if (r->pimage[0] && !n->pimage[0]) {
        memcpy(n->pimage, r->pimage, sizeof n->pimage);
        n->pimage_path = corr_field(ev, DH_FIELD_PARENT_IMAGE);
    }
}

static void add_creation(host *h, item *it)
{
    rec r;
    read_rec(it, &r);
    int32_t idx = find_merge(h, &r);
    int prefer = 0;
    if (idx < 0) {
        /* a node known by reference so far (a connection logged first) takes its record */
        idx = lookup(h, r.guid, r.pid, r.image, it->t);
        if (idx >= 0 && (h->nodes[idx].created ||
                         (r.guid && h->nodes[idx].guid && h->nodes[idx].guid != r.guid)))
            idx = -1;
        if (idx < 0 && (idx = node_new(h)) < 0)
            return;
    } else {
        prefer = better_source(h->nodes[idx].recs[0], it);
    }
    pnode *n = &h->nodes[idx];
    if (!n->created && r.ppid && r.image[0]) {
        /* register under (image, parent id) for sensors without a process id */
        uint64_t k = kin_key(r.image, r.ppid);
        n->next_kin = u64map_get(&h->by_kin, k);
        u64map_put(&h->p->a, &h->by_kin, k, idx);
        if (!r.pid) {
            n->next_kin_nopid = u64map_get(&h->by_kin_nopid, k);
            u64map_put(&h->p->a, &h->by_kin_nopid, k, idx);
        }
    }
    n = &h->nodes[idx];
    n->created = 1;
    if (n->nrecs < NODE_MAX_RECS)
        n->recs[n->nrecs++] = it;
    if (it->t < n->t)
        n->t = it->t;
    if (it->t < n->tref)
        n->tref = it->t;
    take_attrs(h, idx, &r, prefer);
    set_guid(h, idx, r.guid);
    set_pid(h, idx, r.pid);
}

/* Started by the DCOM launcher: svchost.exe with DcomLaunch in its command line (Security
 * 4688 does not log the parent's command line: svchost.exe is then enough for a server
 * the knowledge table knows). */
static void classify(host *h, int32_t idx)
{
    pnode *n = &h->nodes[idx];
    const dh_comdb *db = h->p->c->db;
    int embedding = 0;
    n->obj =
        comdb_by_start(db, n->image_path.len ? n->image_path : (dh_str){n->image, strlen(n->image)},
                       n->cmdline, &embedding);
    n->embedding = (unsigned)embedding;
    if (!n->created)
        return;
    const pnode *p = n->parent >= 0 ? &h->nodes[n->parent] : NULL;
    const char *pimage = p && p->image[0] ? p->image : n->pimage;
    dh_str pcl = p && p->cmdline.len ? p->cmdline : n->pcmdline;
    if (!*pimage) {
        n->parent_unknown = 1;
        return;
    }
    if (strcmp(pimage, "svchost.exe"))
        return;
    if (pcl.len)
        n->dcomlaunch = corr_contains(pcl, "dcomlaunch") != 0;
    else /* svchost.exe starting a process with a COM server marker is the launcher */
        n->dcomlaunch = n->embedding || (n->obj && n->obj->lateral);
}

int node_is_descendant(const host *h, int32_t n, int32_t ancestor, int depth)
{
    for (int d = 0; n >= 0 && d <= depth; d++) {
        n = h->nodes[n].parent;
        if (n == ancestor)
            return 1;
    }
    return 0;
}

static void link_parents(host *h)
{
    for (size_t i = 0; i < h->nnodes; i++) {
        pnode *n = &h->nodes[i];
        if (!n->created || (!n->pguid && !n->ppid))
            continue;
        int32_t p = resolve(h, n->pguid, n->ppid, h->nodes[i].pimage_path, h->nodes[i].t);
        n = &h->nodes[i]; /* resolve may have moved the array */
        if (p < 0 || p == (int32_t)i)
            continue;
        /* a parent started after its child is another process with that id */
        if (h->nodes[p].created && h->nodes[p].t > n->t + h->p->S)
            continue;
        if (!h->nodes[p].cmdline.len && n->pcmdline.len)
            h->nodes[p].cmdline = n->pcmdline;
        n->parent = p;
        n->next_sibling = h->nodes[p].first_child;
        h->nodes[p].first_child = (int32_t)i;
    }
}

/* ---- connections, loads, files, logons --------------------------------------------------- */

static int names_this_host(const host *h, dh_str name)
{
    return name.len && name.len != 1 && corr_ieq(corr_bare_host(name), h->bare);
}

static void classify_conn(host *h, conn *c)
{
    const dh_event *ev = c->it->ev;
    dh_str s = corr_field(ev, DH_FIELD_SOURCE_IP), d = corr_field(ev, DH_FIELD_DESTINATION_IP);
    uint32_t sp = port_of(ev, DH_FIELD_SOURCE_PORT), dp = port_of(ev, DH_FIELD_DESTINATION_PORT);
    c->inbound = !corr_true(corr_field(ev, DH_FIELD_INITIATED));
    int src_local;
    int sl = host_owns_ip(h, s) || corr_loopback(s), dl = host_owns_ip(h, d) || corr_loopback(d);
    host *so = sl ? NULL : ip_owner(h->p, s, c->it->t),
         *dof = dl ? NULL : ip_owner(h->p, d, c->it->t);
    if (sl != dl)
        src_local = sl;
    else if (is_defender(ev))
        src_local = !c->inbound;
    else if (names_this_host(h, corr_field(ev, DH_FIELD_SOURCE_HOSTNAME)))
        src_local = 1;
    else if (names_this_host(h, corr_field(ev, DH_FIELD_DESTINATION_HOSTNAME)))
        src_local = 0;
    else if ((so && so != h) != (dof && dof != h))
        src_local = !(so && so != h);
    else if (c->inbound && well_known_port(sp) != well_known_port(dp))
        src_local = well_known_port(sp);
    else
        src_local = !c->inbound;
    c->lip = src_local ? s : d;
    c->rip = src_local ? d : s;
    c->lport = src_local ? sp : dp;
    c->rport = src_local ? dp : sp;
}

static int is_logon_network(const dh_event *ev)
{
    dh_str lt;
    return dh_event_kind(ev) == DH_KIND_LOGON && dh_event_field(ev, DH_FIELD_LOGON_TYPE, &lt) &&
           lt.len == 1 && lt.ptr[0] == '3';
}

/* Images by basename: the node of an image the host ran once, for records that name only
 * the image (an export that dropped the process id and GUID). */
static int index_images(host *h)
{
    for (size_t i = 0; i < h->nnodes; i++) {
        const char *b = h->nodes[i].image;
        if (!*b)
            continue;
        uint64_t k = corr_hash_ci((dh_str){b, strlen(b)}, CORR_HASH0);
        int32_t cur = u64map_get(&h->by_image, k);
        if (u64map_put(&h->p->a, &h->by_image, k, cur == -1 ? (int32_t)i : -2))
            return -1;
    }
    return 0;
}

/* The one process of this image the host knows by then (started at most the skew after t,
 * or known by reference); -1 when none or several. */
static int32_t image_only(host *h, dh_str image, int64_t t)
{
    char base[64];
    comdb_base_lower(image, base, sizeof base);
    if (!*base)
        return -1;
    int32_t i = u64map_get(&h->by_image, corr_hash_ci((dh_str){base, strlen(base)}, CORR_HASH0));
    if (i < 0 || (h->nodes[i].created && h->nodes[i].t > t + h->p->S))
        return -1;
    return i;
}

static int attach(host *h, item *it)
{
    arena *a = &h->p->a;
    const dh_event *ev = it->ev;
    dh_kind k = dh_event_kind(ev);
    dh_str guid = corr_field(ev, DH_FIELD_PROCESS_GUID), image = corr_field(ev, DH_FIELD_IMAGE);
    uint64_t pid = 0;
    corr_num(corr_field(ev, DH_FIELD_PROCESS_ID), &pid);
    if (k == DH_KIND_NETWORK_CONNECTION) {
        if (h->nconns % 64 == 0) {
            conn *v = arena_grow(a, h->conns, h->nconns * sizeof *v, (h->nconns + 64) * sizeof *v);
            if (!v)
                return -1;
            h->conns = v;
        }
        conn *c = &h->conns[h->nconns];
        c->it = it;
        classify_conn(h, c);
        c->node = resolve(h, guid_key(guid), pid, image, it->t);
        if (c->node < 0 && !guid.len && !pid && image.len)
            c->node = image_only(h, image, it->t);
        c = &h->conns[h->nconns];
        if (c->node >= 0) {
            c->next_node = h->nodes[c->node].first_conn;
            h->nodes[c->node].first_conn = (int32_t)h->nconns;
        } else {
            c->next_node = -1;
        }
        c->next_rip = -1;
        h->nconns++;
        return 0;
    }
    if (k == DH_KIND_SERVICE_INSTALL || k == DH_KIND_TASK_CREATE) {
        if (h->nservices % 16 == 0) {
            item **v = arena_grow(a, h->services, h->nservices * sizeof *v,
                                  (h->nservices + 16) * sizeof *v);
            if (!v)
                return -1;
            h->services = v;
        }
        h->services[h->nservices++] = it;
        return 0;
    }
    aux **list = NULL;
    size_t *nlist = NULL;
    if (k == DH_KIND_IMAGE_LOAD) {
        list = &h->loads;
        nlist = &h->nloads;
    } else if (k == DH_KIND_FILE_EVENT || k == DH_KIND_SHARE_ACCESS) {
        list = &h->files;
        nlist = &h->nfiles;
    } else {
        return 0;
    }
    if (*nlist % 64 == 0) {
        aux *v = arena_grow(a, *list, *nlist * sizeof *v, (*nlist + 64) * sizeof *v);
        if (!v)
            return -1;
        *list = v;
    }
    int32_t node = k == DH_KIND_SHARE_ACCESS ? -1 : resolve(h, guid_key(guid), pid, image, it->t);
    aux *x = &(*list)[*nlist];
    x->it = it;
    x->next = x->next_name = -1;
    x->node = node;
    if (node >= 0) {
        int32_t *head =
            k == DH_KIND_IMAGE_LOAD ? &h->nodes[node].first_load : &h->nodes[node].first_file;
        x->next = *head;
        *head = (int32_t)*nlist;
    }
    if (list == &h->files) {
        /* files by their name: a DLL written over SMB, then loaded */
        dh_str name =
            corr_file_base(k == DH_KIND_SHARE_ACCESS ? corr_field(ev, DH_FIELD_RELATIVE_TARGET_NAME)
                                                     : corr_field(ev, DH_FIELD_TARGET_FILENAME));
        if (name.len) {
            uint64_t fk = corr_hash_ci(name, CORR_HASH0);
            x->next_name = u64map_get(&h->file_by_name, fk);
            u64map_put(a, &h->file_by_name, fk, (int32_t)*nlist);
        }
    }
    (*nlist)++;
    return 0;
}

/* Connections by remote address, each chain in time order. */
static int index_conns(host *h)
{
    for (size_t i = h->nconns; i-- > 0;) {
        uint64_t rk = corr_hash_ci(h->conns[i].rip, CORR_HASH0);
        h->conns[i].next_rip = u64map_get(&h->conn_by_rip, rk);
        if (u64map_put(&h->p->a, &h->conn_by_rip, rk, (int32_t)i))
            return -1;
    }
    return 0;
}

static int index_logons(host *h)
{
    arena *a = &h->p->a;
    h->logon_next = arena_alloc(a, (h->n ? h->n : 1) * sizeof *h->logon_next);
    h->logon_src_next = arena_alloc(a, (h->n ? h->n : 1) * sizeof *h->logon_src_next);
    if (!h->logon_next || !h->logon_src_next)
        return -1;
    h->net_logons = arena_alloc(a, (h->n ? h->n : 1) * sizeof *h->net_logons);
    if (!h->net_logons)
        return -1;
    for (size_t i = 0; i < h->n; i++) {
        dh_str src = corr_field(h->v[i]->ev, DH_FIELD_SOURCE_IP);
        if (is_logon_network(h->v[i]->ev) && src.len && !corr_loopback(src))
            h->net_logons[h->nnet_logons++] = (int32_t)i;
    }
    /* backwards, so each chain runs in time order */
    for (size_t i = h->n; i-- > 0;) {
        h->logon_next[i] = h->logon_src_next[i] = -1;
        const dh_event *ev = h->v[i]->ev;
        if (!is_logon_network(ev))
            continue;
        uint64_t id = 0;
        if (corr_num(corr_field(ev, DH_FIELD_LOGON_ID), &id) && !corr_system_logon(id)) {
            h->logon_next[i] = u64map_get(&h->logon_by_id, id);
            u64map_put(a, &h->logon_by_id, id, (int32_t)i);
        }
        dh_str src = corr_field(ev, DH_FIELD_SOURCE_IP);
        if (src.len && !corr_loopback(src)) {
            uint64_t k = corr_hash_ci(src, CORR_HASH0);
            h->logon_src_next[i] = u64map_get(&h->logon_by_src, k);
            u64map_put(a, &h->logon_by_src, k, (int32_t)i);
        }
    }
    return 0;
}

/* ---- hosts ------------------------------------------------------------------------------- */

host *pass_host_of(pass *p, uint64_t hostkey)
{
    for (size_t i = 0; i < p->nh; i++)
        if (p->hosts[i].key == hostkey)
            return &p->hosts[i];
    return NULL;
}

host *address_host(pass *p, dh_str ip)
{
    uint64_t key = corr_hash_ci(ip, CORR_HASH0) ^ 0x5a5a5a5a5a5a5a5aULL;
    host *h = pass_host_of(p, key);
    if (h)
        return h;
    if (p->nh % 16 == 0) {
        /* address hosts are made at the end of entities_build, before anything keeps a
         * pointer to a host */
        host *v = arena_grow(&p->a, p->hosts, p->nh * sizeof *v, (p->nh + 16) * sizeof *v);
        if (!v)
            return NULL;
        p->hosts = v;
    }
    h = &p->hosts[p->nh++];
    memset(h, 0, sizeof *h);
    h->p = p;
    h->key = key;
    h->name = h->bare = ip;
    h->address_only = 1;
    learn(h, ip, 0);
    return h;
}

void entities_free(pass *p)
{
    for (size_t k = 0; k < p->nh; k++) {
        free(p->hosts[k].nodes);
        p->hosts[k].nodes = NULL;
        p->hosts[k].nnodes = p->hosts[k].capnodes = 0;
    }
}

int entities_build(pass *p)
{
    dh_correlator *c = p->c;
    arena *a = &p->a;
    /* the network sensor's records apart; hosts from the rest (items are sorted by host) */
    p->wire = arena_alloc(a, (c->nwire ? c->nwire : 1) * sizeof *p->wire);
    if (!p->wire)
        return -1;
    for (size_t i = 0; i < c->n;) {
        if (c->v[i]->wire) {
            if (p->nwire < c->nwire)
                p->wire[p->nwire++] = c->v[i];
            i++;
            continue;
        }
        size_t j = i;
        while (j < c->n && !c->v[j]->wire && c->v[j]->hostkey == c->v[i]->hostkey &&
               corr_host_cmp(c->v[i]->ev, c->v[j]->ev) == 0)
            j++;
        if (p->nh % 16 == 0) {
            host *v = arena_grow(a, p->hosts, p->nh * sizeof *v, (p->nh + 16) * sizeof *v);
            if (!v)
                return -1;
            p->hosts = v;
        }
        host *h = &p->hosts[p->nh++];
        memset(h, 0, sizeof *h);
        h->p = p;
        h->v = &c->v[i];
        h->n = j - i;
        h->key = c->v[i]->hostkey;
        h->name = dh_event_host(h->v[0]->ev);
        for (size_t k = 0; k < h->n; k++)
            if (dh_event_host(h->v[k]->ev).len > h->name.len)
                h->name = dh_event_host(h->v[k]->ev);
        h->bare = corr_bare_host(h->name);
        i = j;
    }
    /* addresses first (all hosts), then what needs them */
    for (size_t k = 0; k < p->nh; k++) {
        host *h = &p->hosts[k];
        learn_host(h);
        for (size_t i = 0; i < h->nips; i++) {
            if (p->nipents == p->capipents) {
                size_t cap = p->capipents ? p->capipents * 2 : 64;
                ipent *v = arena_grow(a, p->ipents, p->nipents * sizeof *v, cap * sizeof *v);
                if (!v)
                    return -1;
                p->ipents = v;
                p->capipents = cap;
            }
            uint64_t key = corr_hash_ci(h->ips[i].ip, CORR_HASH0);
            ipent *e = &p->ipents[p->nipents];
            e->ip = h->ips[i].ip;
            e->h = h;
            e->t = h->ips[i].t;
            e->next = u64map_get(&p->ip_by_addr, key);
            u64map_put(a, &p->ip_by_addr, key, (int32_t)p->nipents);
            p->nipents++;
        }
    }
    for (size_t k = 0; k < p->nh; k++) {
        host *h = &p->hosts[k];
        for (size_t i = 0; i < h->n; i++)
            if (dh_event_kind(h->v[i]->ev) == DH_KIND_PROCESS_CREATION)
                add_creation(h, h->v[i]);
        link_parents(h);
        if (index_images(h))
            return -1;
        for (size_t i = 0; i < h->n; i++)
            if (attach(h, h->v[i]))
                return -1;
        for (size_t i = 0; i < h->nnodes; i++) {
            classify(h, (int32_t)i);
            pnode *n = &h->nodes[i];
            if (n->created && n->logon && !corr_system_logon(n->logon)) {
                n->next_logon = u64map_get(&h->node_by_logon, n->logon);
                u64map_put(a, &h->node_by_logon, n->logon, (int32_t)i);
            }
        }
        if (index_logons(h) || index_conns(h))
            return -1;
    }
    /* targets the network sensor saw activated that no host log owns get a host of their
     * own (by address) */
    for (size_t i = 0; i < c->n; i++) {
        const dh_event *ev = c->v[i]->ev;
        if (!c->v[i]->wire || !corr_wire_activation(ev))
            continue;
        dh_str d = corr_field(ev, DH_FIELD_DESTINATION_IP);
        if (d.len && dh_map_is_ip(d) && !ip_owner(p, d, c->v[i]->t) && !address_host(p, d))
            return -1;
    }
    /* the wire by originating address */
    p->wire_next = arena_alloc(a, (p->nwire ? p->nwire : 1) * sizeof *p->wire_next);
    if (!p->wire_next)
        return -1;
    for (size_t i = p->nwire; i-- > 0;) {
        uint64_t key = corr_hash_ci(corr_field(p->wire[i]->ev, DH_FIELD_SOURCE_IP), CORR_HASH0);
        p->wire_next[i] = u64map_get(&p->wire_by_orig, key);
        u64map_put(a, &p->wire_by_orig, key, (int32_t)i);
    }
    return a->failed ? -1 : 0;
}
