/* What a finding is about, on the target: activations, and the target-side evidence each
 * one claims.
 *
 *   server    a COM server process started by the DCOM launcher (svchost -k DcomLaunch)
 *             with a COM server marker (-Embedding, /automation), not a cousin the
 *             knowledge table names (WMI, WinRM, local brokers);
 *   explorer  explorer.exe accepting a connection from another host (ShellWindows and
 *             ShellBrowserWindow run inside the running explorer.exe);
 *   ref       a process of a COM server image the table knows, whose start was not logged,
 *             accepting a connection from another host or running commands under a network
 *             logon.
 *
 * Evidence is claimed by identity where identity exists (the server's own records, the
 * network logon with its logon id, connections and loads of the server process, its
 * descendants by lineage) and by the same source within the window where it does not (the
 * endpoint mapper, logons from the source of an explorer connection). Every join tolerates
 * the clock skew on both sides: nothing assumes one record comes after another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/corr.h"

#define MAX_DEPTH 16 /* generations of descendants followed */
/* How long after the activation its descendants are followed: an attacker's semi-
 * interactive shell through the server (Impacket's) runs commands for as long as the
 * session lasts; the group stays open while they come (GROUP_SPAN in assemble.c). */
#define LINEAGE_SPAN_S 3600
/* Records looked at per activation in one index chain (logons from a source, connections
 * from it, a session's processes, explorer's children): a flood of records of one key at
 * one time is not walked further, so an activation costs O(1) lookups; what is left is
 * counted. */
#define WALK_CAP      65536
#define EXPLORER_WAIT 60 /* seconds after explorer's connection in which its child counts */
#define SAME_LOG_TOL  5  /* seconds of tolerance between records of one log */

static int64_t absdt(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

static int within(int64_t t, int64_t lo, int64_t hi)
{
    return t >= lo && t <= hi;
}

static int act_claim(pass *p, act *a, item *it, const char *role, int rank, int64_t dt,
                     unsigned fam, int32_t node)
{
    if (it->used)
        return 0;
    return claim_add(&p->a, &a->claims, &a->nclaims, &a->capclaims, &a->dropped, it, role, rank, dt,
                     fam, node);
}

static act *act_new(pass *p, enum act_kind kind, host *h, int32_t node, int64_t t, item *anchor)
{
    if (p->nacts == p->capacts) {
        size_t cap = p->capacts ? p->capacts * 2 : 64;
        act *v = arena_grow(&p->a, p->acts, p->nacts * sizeof *v, cap * sizeof *v);
        if (!v)
            return NULL;
        p->acts = v;
        p->capacts = cap;
    }
    act *a = &p->acts[p->nacts++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->h = h;
    a->node = node;
    a->t = a->tlast = t;
    a->anchor = anchor;
    a->group = -1;
    a->src = a->account = (dh_str){"", 0};
    return a;
}

/* DOMAIN\name of a logon, in the pass's arena. */
static dh_str account_of(pass *p, const dh_event *ev)
{
    dh_str d = corr_field(ev, DH_FIELD_TARGET_DOMAIN_NAME),
           u = corr_field(ev, DH_FIELD_TARGET_USER_NAME);
    if (!u.len)
        u = corr_field(ev, DH_FIELD_USER);
    if (!u.len)
        return (dh_str){"", 0};
    if (!d.len || (d.len == 1 && d.ptr[0] == '-') || memchr(u.ptr, '\\', u.len))
        return u;
    char *s = arena_alloc(&p->a, d.len + u.len + 2);
    if (!s)
        return u;
    memcpy(s, d.ptr, d.len);
    s[d.len] = '\\';
    memcpy(s + d.len + 1, u.ptr, u.len);
    return (dh_str){s, d.len + 1 + u.len};
}

/* The network logon whose logon id the activation runs under: every record of it within
 * the window before (the logon is written as the activation authenticates; two sensors may
 * both have logged it). */
static void logon_by_id(pass *p, act *a, uint64_t id)
{
    host *h = a->h;
    if (!id || corr_system_logon(id))
        return;
    const item *best = NULL;
    for (int32_t i = u64map_get(&h->logon_by_id, id); i >= 0; i = h->logon_next[i]) {
        item *it = h->v[i];
        uint64_t lid = 0;
        corr_num(corr_field(it->ev, DH_FIELD_LOGON_ID), &lid);
        if (lid != id || !within(it->t, a->t - p->W - p->S, a->t + p->S))
            continue;
        dh_str src = corr_field(it->ev, DH_FIELD_SOURCE_IP);
        unsigned fam = src.len && !corr_loopback(src) ? EV_LOGON_ID : 0;
        act_claim(p, a, it, "logon", 0, absdt(it->t, a->t), fam, -1);
        if (!best || it->t > best->t)
            best = it;
    }
    if (!best)
        return;
    a->logon = id;
    dh_str src = corr_field(best->ev, DH_FIELD_SOURCE_IP);
    if (src.len && !corr_loopback(src))
        a->src = src;
    a->account = account_of(p, best->ev);
}

/* Network logons from the source around the activation (when no logon id links them: the
 * explorer's child runs as the desktop user). */
static void logons_from_src(pass *p, act *a)
{
    host *h = a->h;
    if (!a->src.len)
        return;
    const item *best = NULL;
    size_t walked = 0;
    for (int32_t i = u64map_get(&h->logon_by_src, corr_hash_ci(a->src, CORR_HASH0)); i >= 0;
         i = h->logon_src_next[i]) {
        if (walked++ == WALK_CAP) {
            a->dropped++;
            break;
        }
        item *it = h->v[i];
        if (!corr_ieq(corr_field(it->ev, DH_FIELD_SOURCE_IP), a->src) ||
            !within(it->t, a->t - p->W - p->S, a->tlast + p->S))
            continue;
        act_claim(p, a, it, "logon", 1, absdt(it->t, a->t), EV_LOGON_SRC, -1);
        if (it->t <= a->t + p->S && (!best || it->t > best->t))
            best = it;
    }
    if (best && !a->account.len) {
        a->account = account_of(p, best->ev);
        corr_num(corr_field(best->ev, DH_FIELD_LOGON_ID), &a->logon);
    }
}

/* Inbound connections from the source to the endpoint mapper (135), and its SMB session
 * (reading the output of the commands), around the activation. */
static void epm_from_src(pass *p, act *a)
{
    host *h = a->h;
    if (!a->src.len)
        return;
    size_t walked = 0;
    for (int32_t i = u64map_get(&h->conn_by_rip, corr_hash_ci(a->src, CORR_HASH0)); i >= 0;
         i = h->conns[i].next_rip) {
        const conn *c = &h->conns[i];
        if (c->it->t > a->tlast + p->W + p->S)
            break; /* the chain runs in time order */
        if (walked++ == WALK_CAP) {
            a->dropped++;
            break;
        }
        if (!c->inbound || !corr_ieq(c->rip, a->src))
            continue;
        if (c->lport == 135 && within(c->it->t, a->t - p->W - p->S, a->tlast + p->S))
            act_claim(p, a, c->it, "network", 1, absdt(c->it->t, a->t), EV_EPM, -1);
        else if (c->lport == 445 && within(c->it->t, a->t - p->S, a->tlast + p->W + p->S))
            act_claim(p, a, c->it, "network", 1, absdt(c->it->t, a->t), 0, -1);
    }
}

/* Inbound connections from other hosts accepted by the process itself. */
static void conns_of(pass *p, act *a, int32_t node, int64_t lo, int64_t hi)
{
    host *h = a->h;
    for (int32_t i = h->nodes[node].first_conn; i >= 0; i = h->conns[i].next_node) {
        const conn *c = &h->conns[i];
        if (!c->inbound || !c->rip.len || corr_loopback(c->rip) || !within(c->it->t, lo, hi))
            continue;
        int same = !a->src.len || corr_ieq(c->rip, a->src);
        act_claim(p, a, c->it, "network", 0, absdt(c->it->t, a->t), same ? EV_NET : 0, -1);
        if (!a->src.len)
            a->src = c->rip;
    }
}

static void records_of(pass *p, act *a, int32_t node, const char *role, unsigned fam, int64_t dt)
{
    const pnode *n = &a->h->nodes[node];
    for (size_t k = 0; k < n->nrecs; k++)
        act_claim(p, a, n->recs[k], role, 0, dt, fam, node);
}

/* Files of that name written over the network (by System: SMB) or through a share (5145)
 * shortly before t. */
static int planted(pass *p, act *a, dh_str name, int64_t t)
{
    host *h = a->h;
    int found = 0;
    for (int32_t i = u64map_get(&h->file_by_name, corr_hash_ci(name, CORR_HASH0)); i >= 0;
         i = h->files[i].next_name) {
        item *it = h->files[i].it;
        if (!within(it->t, t - p->W - p->S, t + p->S))
            continue;
        const dh_event *ev = it->ev;
        dh_str fname = dh_event_kind(ev) == DH_KIND_SHARE_ACCESS
                           ? corr_field(ev, DH_FIELD_RELATIVE_TARGET_NAME)
                           : corr_field(ev, DH_FIELD_TARGET_FILENAME);
        if (!corr_ieq(corr_file_base(fname), name))
            continue;
        char img[64];
        comdb_base_lower(corr_field(ev, DH_FIELD_IMAGE), img, sizeof img);
        dh_str src = corr_field(ev, DH_FIELD_SOURCE_IP);
        int smb = dh_event_kind(ev) == DH_KIND_SHARE_ACCESS ? (src.len && !corr_loopback(src))
                                                            : !strcmp(img, "system");
        if (!smb)
            continue;
        act_claim(p, a, it, "file", 1, absdt(it->t, t), EV_PLANTED, -1);
        found = 1;
    }
    return found;
}

/* DLLs loaded by the server process: unsigned ones, and those written shortly before over
 * SMB (a planted DLL: the activation loads it). */
static void loads_of(pass *p, act *a, int32_t node, int64_t lo, int64_t hi)
{
    host *h = a->h;
    for (int32_t i = h->nodes[node].first_load; i >= 0; i = h->loads[i].next) {
        item *it = h->loads[i].it;
        if (!within(it->t, lo, hi))
            continue;
        dh_str dll = corr_field(it->ev, DH_FIELD_IMAGE_LOADED),
               sig = corr_field(it->ev, DH_FIELD_SIGNED);
        int unsigned_ = sig.len == 5 && corr_contains(sig, "false");
        if (planted(p, a, corr_file_base(dll), it->t))
            act_claim(p, a, it, "load", 0, absdt(it->t, a->t), EV_PLANTED | EV_EXEC, node);
        else if (unsigned_ || it->nrules)
            act_claim(p, a, it, "load", 0, absdt(it->t, a->t), 0, node);
    }
}

/* Files the process wrote (Impacket's output, payloads), with their names. */
static void files_of(pass *p, act *a, int32_t node, int64_t lo, int64_t hi)
{
    host *h = a->h;
    for (int32_t i = h->nodes[node].first_file; i >= 0; i = h->files[i].next)
        if (within(h->files[i].it->t, lo, hi))
            act_claim(p, a, h->files[i].it, "file", 0, absdt(h->files[i].it->t, a->t), 0, node);
}

/* The server's descendants by lineage (its own process identity), breadth first, bounded
 * in depth; every one is claimed (a finding lists a capped number and counts the rest). */
static void lineage(pass *p, act *a, int32_t root, int64_t lo, int64_t hi)
{
    host *h = a->h;
    size_t cap = 64, qh = 0, qt = 0;
    int32_t *queue = arena_alloc(&p->a, cap * sizeof *queue);
    int *depth = arena_alloc(&p->a, cap * sizeof *depth);
    if (!queue || !depth)
        return;
    queue[qt] = root;
    depth[qt++] = 0;
    while (qh < qt) {
        int32_t n = queue[qh];
        int d = depth[qh++];
        for (int32_t c = h->nodes[n].first_child; c >= 0; c = h->nodes[c].next_sibling) {
            const pnode *cn = &h->nodes[c];
            if (!cn->created || !within(cn->t, lo, hi) || c == root)
                continue;
            records_of(p, a, c, "child", EV_EXEC, absdt(cn->t, a->t));
            files_of(p, a, c, lo, hi);
            if (cn->t > a->tlast)
                a->tlast = cn->t;
            if (d + 1 >= MAX_DEPTH || qt > h->nnodes)
                continue; /* deeper generations, or a parent cycle, are not followed */
            if (qt == cap) {
                queue = arena_grow(&p->a, queue, cap * sizeof *queue, 2 * cap * sizeof *queue);
                depth = arena_grow(&p->a, depth, cap * sizeof *depth, 2 * cap * sizeof *depth);
                if (!queue || !depth)
                    return;
                cap *= 2;
            }
            queue[qt] = c;
            depth[qt++] = d + 1;
        }
    }
}

/* The first of n time-ordered items at or after t. */
static size_t first_at(item *const *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid]->t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A task's name as a command line writes it: the last part of its path (\Updater ->
 * Updater, as in schtasks /create /tn Updater). */
static dh_str task_name(const dh_event *ev)
{
    dh_str s = {"", 0};
    if (!dh_event_get(ev, "TaskName", 8, &s))
        return (dh_str){"", 0};
    size_t i = s.len;
    while (i > 0 && s.ptr[i - 1] != '\\')
        i--;
    return (dh_str){s.ptr + i, s.len - i};
}

/* Services and scheduled tasks its descendants created, within the window: a 7045 whose
 * name or binary a descendant's command line names (sc create NAME binPath= ...); a task
 * (Security 4698, TaskScheduler 106) whose name a descendant's command line names
 * (schtasks /create /tn NAME), or a 4698 made under the activation's own logon session
 * (a task registered through the COM API leaves no schtasks command). */
static void services_of(pass *p, act *a)
{
    host *h = a->h;
    size_t n = a->nclaims;
    for (size_t i = first_at(h->services, h->nservices, a->t - p->S), walked = 0;
         i < h->nservices && walked++ < WALK_CAP; i++) {
        item *svc = h->services[i];
        if (svc->t > a->tlast + p->W + p->S)
            break;
        if (dh_event_kind(svc->ev) == DH_KIND_TASK_CREATE) {
            dh_str name = task_name(svc->ev);
            uint64_t logon = 0;
            int mine = a->logon && !corr_system_logon(a->logon) &&
                       corr_num(corr_field(svc->ev, DH_FIELD_LOGON_ID), &logon) &&
                       logon == a->logon;
            for (size_t k = 0; k < n && !mine; k++) {
                const claim *c = &a->claims[k];
                mine = !strcmp(c->role, "child") && c->node >= 0 && name.len >= 3 &&
                       corr_find(h->nodes[c->node].cmdline, name);
            }
            if (mine)
                act_claim(p, a, svc, "task", 1, absdt(svc->t, a->t), EV_EXEC, -1);
            continue;
        }
        dh_str name = corr_field(svc->ev, DH_FIELD_SERVICE_NAME),
               bin = corr_field(svc->ev, DH_FIELD_SERVICE_FILE_NAME);
        for (size_t k = 0; k < n; k++) {
            const claim *c = &a->claims[k];
            if (strcmp(c->role, "child") || c->node < 0)
                continue;
            dh_str cl = h->nodes[c->node].cmdline;
            if ((name.len >= 3 && corr_find(cl, name)) || (bin.len >= 3 && corr_find(cl, bin))) {
                act_claim(p, a, svc, "service", 1, absdt(svc->t, a->t), EV_EXEC, -1);
                break;
            }
        }
    }
}

/* Other processes of the activation's network logon session that the server did not start:
 * shown apart (role "session"), never as the server's commands. */
static void session_of(pass *p, act *a, int32_t server)
{
    host *h = a->h;
    if (!a->logon || corr_system_logon(a->logon))
        return;
    size_t walked = 0;
    for (int32_t i = u64map_get(&h->node_by_logon, a->logon); i >= 0; i = h->nodes[i].next_logon) {
        const pnode *n = &h->nodes[i];
        if (walked++ == WALK_CAP) {
            a->dropped++;
            break;
        }
        if (i == server || n->logon != a->logon ||
            !within(n->t, a->t - p->S, a->tlast + p->W + p->S) ||
            (server >= 0 && node_is_descendant(h, i, server, MAX_DEPTH)))
            continue;
        for (size_t k = 0; k < n->nrecs; k++)
            act_claim(p, a, n->recs[k], "session", 1, absdt(n->t, a->t), 0, i);
    }
}

/* Impacket's output written to ADMIN$ by System (SMB over loopback) during the activation:
 * \Windows\__<digits>. */
static void admin_output(pass *p, act *a)
{
    host *h = a->h;
    size_t lo = 0, hi = h->nfiles;
    while (lo < hi) { /* the first file record at or after the activation (time order) */
        size_t mid = lo + (hi - lo) / 2;
        if (h->files[mid].it->t < a->t - p->S)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, walked = 0; i < h->nfiles && walked++ < WALK_CAP; i++) {
        item *it = h->files[i].it;
        if (it->t > a->tlast + p->W + p->S)
            break;
        const dh_event *ev = it->ev;
        dh_str name = corr_file_base(dh_event_kind(ev) == DH_KIND_SHARE_ACCESS
                                         ? corr_field(ev, DH_FIELD_RELATIVE_TARGET_NAME)
                                         : corr_field(ev, DH_FIELD_TARGET_FILENAME));
        if (name.len > 3 && name.ptr[0] == '_' && name.ptr[1] == '_' && name.ptr[2] >= '0' &&
            name.ptr[2] <= '9')
            act_claim(p, a, it, "file", 1, absdt(it->t, a->t), 0, -1);
    }
}

static int is_server_start(const pnode *n)
{
    if (!n->created || !n->embedding || (n->obj && !n->obj->lateral))
        return 0;
    return n->dcomlaunch || (n->parent_unknown && n->obj && n->obj->lateral);
}

/* Security 4688 of Windows before 10 has no Target fields: the logon id it gives is the
 * creator's (the launcher's SYSTEM session). For a server the table knows (which runs as
 * its caller, never as SYSTEM), the network logon from another host just before its start,
 * in the same log, stands in for the link by logon id. */
#define SAME_LOG_LOGON_S 30

static void logon_just_before(pass *p, act *a, const pnode *n)
{
    host *h = a->h;
    if (a->logon || !n->obj || !n->obj->lateral || (n->logon && !corr_system_logon(n->logon)))
        return;
    /* the last network logon at most 2 s after the start, then back at most 30 s (and at
     * most 64 logons: a flood of logons at one time is not walked) */
    size_t lo = 0, hi = h->nnet_logons;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->v[h->net_logons[mid]]->t <= a->t + 2 * TICKS)
            lo = mid + 1;
        else
            hi = mid;
    }
    const item *best = NULL;
    for (size_t k = lo, walked = 0; k-- > 0 && walked++ < 64 && !best;) {
        item *it = h->v[h->net_logons[k]];
        if (it->t < a->t - SAME_LOG_LOGON_S * TICKS)
            break;
        if (corr_ieq(dh_event_channel(it->ev), dh_event_channel(n->recs[0]->ev)))
            best = it;
    }
    if (!best)
        return;
    act_claim(p, a, (item *)best, "logon", 1, absdt(best->t, a->t), EV_LOGON_SRC, -1);
    corr_num(corr_field(best->ev, DH_FIELD_LOGON_ID), &a->logon);
    a->src = corr_field(best->ev, DH_FIELD_SOURCE_IP);
    a->account = account_of(p, best->ev);
}

static void server_act(pass *p, host *h, int32_t idx)
{
    pnode *n = &h->nodes[idx];
    act *a = act_new(p, ACT_SERVER, h, idx, n->t, n->recs[0]);
    if (!a)
        return;
    n = &h->nodes[idx];
    n->act = (int32_t)(a - p->acts);
    a->obj = n->obj;
    a->families = EV_START;
    records_of(p, a, idx, "activation", EV_START, 0);
    logon_by_id(p, a, n->logon);
    logon_just_before(p, a, &h->nodes[idx]);
    if (!a->account.len)
        a->account = n->user;
    int64_t lo = a->t - p->S, hi = a->t + p->W + p->S;
    conns_of(p, a, idx, lo, hi);
    epm_from_src(p, a);
    lineage(p, a, idx, lo, a->t + LINEAGE_SPAN_S * TICKS);
    hi = a->tlast + p->W + p->S; /* as long as it ran commands */
    services_of(p, a);
    loads_of(p, a, idx, lo, hi);
    files_of(p, a, idx, lo, hi);
    session_of(p, a, idx);
    admin_output(p, a);
}

/* explorer.exe accepting connections from one remote address: one activation per address
 * (a burst of connections within the window). */
static void explorer_acts(pass *p, host *h, int32_t idx)
{
    const pnode *n = &h->nodes[idx];
    const dh_com_object *obj = comdb_by_listener(
        p->c->db, n->image_path.len ? n->image_path : (dh_str){n->image, strlen(n->image)});
    u64map latest = {0}; /* remote address -> its latest activation */
    for (int32_t i = n->first_conn; i >= 0; i = h->conns[i].next_node) {
        const conn *c = &h->conns[i];
        if (!c->inbound || !c->rip.len || corr_loopback(c->rip) || c->it->used || c->it->decided ||
            c->it->t >= p->horizon || c->lport == 135)
            continue;
        uint64_t key = corr_hash_ci(c->rip, CORR_HASH0);
        int32_t k = u64map_get(&latest, key);
        if (k >= 0) {
            act *o = &p->acts[k];
            if (corr_ieq(o->src, c->rip) && within(c->it->t, o->t - p->W, o->tlast + p->W)) {
                if (c->it->t > o->tlast)
                    o->tlast = c->it->t;
                if (c->it->t < o->t) {
                    o->t = c->it->t;
                    o->anchor = c->it;
                }
                continue;
            }
        }
        act *a = act_new(p, ACT_EXPLORER, h, idx, c->it->t, c->it);
        if (!a || u64map_put(&p->a, &latest, key, (int32_t)(a - p->acts)))
            return;
        a->obj = obj;
        a->src = c->rip;
        a->families = EV_EXPLORER;
    }
}

static int command_like(const pnode *n)
{
    static const char *const lolbins[] = {
        "cmd.exe",      "powershell.exe",  "pwsh.exe",     "wscript.exe", "cscript.exe",
        "mshta.exe",    "rundll32.exe",    "regsvr32.exe", "whoami.exe",  "msiexec.exe",
        "certutil.exe", "bitsadmin.exe",   "schtasks.exe", "sc.exe",      "net.exe",
        "net1.exe",     "reg.exe",         "wmic.exe",     "hh.exe",      "forfiles.exe",
        "curl.exe",     "installutil.exe", "regasm.exe",   "msbuild.exe", "cmstp.exe",
        "conhost.exe"};
    for (size_t i = 0; i < sizeof lolbins / sizeof lolbins[0]; i++)
        if (!strcmp(n->image, lolbins[i]))
            return 1;
    /* a payload from a folder users can write */
    static const char *const writable[] = {"\\users\\",   "\\programdata\\", "\\temp\\",
                                           "\\appdata\\", "\\perflogs\\",    "\\public\\"};
    for (size_t i = 0; i < sizeof writable / sizeof writable[0]; i++)
        if (corr_contains(n->image_path, writable[i]))
            return 1;
    return 0;
}

static int high_rule(const pnode *n)
{
    for (size_t k = 0; k < n->nrecs; k++)
        for (size_t r = 0; r < n->recs[k]->nrules; r++)
            if (dh_rule_level(n->recs[k]->rules[r]) >= DH_LEVEL_HIGH)
                return 1;
    return 0;
}

static void explorer_evidence(pass *p, act *a)
{
    host *h = a->h;
    const pnode *e = &h->nodes[a->node];
    for (int32_t i = e->first_conn; i >= 0; i = h->conns[i].next_node) {
        const conn *c = &h->conns[i];
        if (c->inbound && corr_ieq(c->rip, a->src) && within(c->it->t, a->t, a->tlast))
            act_claim(p, a, c->it, "network", 0, absdt(c->it->t, a->t), EV_NET, -1);
    }
    logons_from_src(p, a);
    epm_from_src(p, a);
    /* explorer's command-like children around the connection (explorer starts everything
     * the user clicks: only shells, script hosts, LOLBins and programs from writable folders) */
    size_t walked = 0;
    for (int32_t c = e->first_child; c >= 0; c = h->nodes[c].next_sibling) {
        const pnode *cn = &h->nodes[c];
        if (walked++ == WALK_CAP) {
            a->dropped++;
            break;
        }
        if (!cn->created || !command_like(cn))
            continue;
        int same_log = corr_ieq(dh_event_channel(cn->recs[0]->ev), dh_event_channel(a->anchor->ev));
        int64_t tol = same_log ? SAME_LOG_TOL * TICKS : p->S;
        /* a shell right after the connection; later, only what a high-level rule marks as the
         * attacker's (Impacket's semi-interactive shell: one command at a time) */
        if (!within(cn->t, a->t - tol, a->tlast + EXPLORER_WAIT * TICKS + tol) &&
            !(within(cn->t, a->t - tol, a->t + LINEAGE_SPAN_S * TICKS) && high_rule(cn)))
            continue;
        records_of(p, a, c, "child", EV_EXEC, absdt(cn->t, a->t));
        lineage(p, a, c, cn->t - p->S, cn->t + p->W + p->S);
        if (cn->t > a->tlast)
            a->tlast = cn->t;
    }
    services_of(p, a);
    admin_output(p, a);
}

/* A COM server process known only by reference: connections from another host to it, or
 * children under a network logon. */
static void ref_act(pass *p, host *h, int32_t idx)
{
    const pnode *n = &h->nodes[idx];
    int64_t t = n->tref;
    if (t >= p->horizon)
        return;
    act *a = act_new(p, ACT_REF, h, idx, t, NULL);
    if (!a)
        return;
    a->obj =
        n->obj && n->obj->lateral
            ? n->obj
            : comdb_by_listener(p->c->db, n->image_path.len ? n->image_path
                                                            : (dh_str){n->image, strlen(n->image)});
    a->families = EV_REF;
    int64_t lo = t - p->S, hi = t + p->W + p->S;
    conns_of(p, a, idx, lo, hi);
    lineage(p, a, idx, lo, t + LINEAGE_SPAN_S * TICKS);
    services_of(p, a);
    /* its children run under the activation's logon */
    for (int32_t c = n->first_child; c >= 0 && !a->logon; c = h->nodes[c].next_sibling)
        if (h->nodes[c].created)
            logon_by_id(p, a, h->nodes[c].logon);
    logons_from_src(p, a);
    epm_from_src(p, a);
    loads_of(p, a, idx, lo, hi);
    admin_output(p, a);
    unsigned fam = 0;
    for (size_t i = 0; i < a->nclaims; i++)
        fam |= a->claims[i].fam;
    a->anchor = a->nclaims ? a->claims[0].it : NULL;
    for (size_t i = 0; i < a->nclaims; i++)
        if (a->claims[i].it->t < a->anchor->t)
            a->anchor = a->claims[i].it;
    /* an activation only with a remote side: a connection from another host, or commands
     * under a network logon from another host */
    if (!a->anchor || !((fam & EV_NET) || ((fam & EV_EXEC) && (fam & EV_LOGON_ID)))) {
        h->nodes[idx].act = -1;
        p->nacts--;
        return;
    }
    h->nodes[idx].act = (int32_t)(a - p->acts);
}

static int is_ref_server(const pass *p, const pnode *n)
{
    if (n->created || !n->image[0])
        return 0;
    if (n->obj && n->obj->lateral && n->embedding)
        return 1;
    const dh_com_object *o = comdb_by_listener(
        p->c->db, n->image_path.len ? n->image_path : (dh_str){n->image, strlen(n->image)});
    return o && o->lateral && !(o->nservers && o->servers[0].in_explorer);
}

static int is_explorer(const pass *p, const pnode *n)
{
    const dh_com_object *o = comdb_by_listener(
        p->c->db, n->image_path.len ? n->image_path : (dh_str){n->image, strlen(n->image)});
    for (size_t s = 0; o && s < o->nservers; s++)
        if (o->servers[s].in_explorer && !strcmp(o->servers[s].image, n->image))
            return 1;
    return 0;
}

/* A target whose address no log gives, activated from src around t (its own telemetry
 * names src): when src activated only one address then (the wire), that address is this
 * host. NULL when it cannot be told. */
static host *unaddressed_target(pass *p, dh_str src, int64_t t)
{
    host *only = NULL;
    for (size_t k = 0; k < p->nacts; k++) {
        act *a = &p->acts[k];
        if (a->kind == ACT_WIRE || a->h->nips || a->h->address_only || !corr_ieq(a->src, src) ||
            !within(a->t, t - p->S, t + p->W + p->S))
            continue;
        if (only && only != a->h)
            return NULL;
        only = a->h;
    }
    if (!only)
        return NULL;
    dh_str addr = {"", 0};
    for (int32_t j = u64map_get(&p->wire_by_orig, corr_hash_ci(src, CORR_HASH0)); j >= 0;
         j = p->wire_next[j]) {
        const dh_event *ev = p->wire[j]->ev;
        if (!corr_wire_activation(ev) || !corr_ieq(corr_field(ev, DH_FIELD_SOURCE_IP), src) ||
            !within(p->wire[j]->t, t - p->W - p->S, t + p->W + p->S))
            continue;
        dh_str d = corr_field(ev, DH_FIELD_DESTINATION_IP);
        if (addr.len && !corr_ieq(addr, d))
            return NULL;
        addr = d;
    }
    return only;
}

static int time_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : a > b;
}

/* Did the host's own logs record a cousin (an object the table marks as no lateral
 * movement: the WMI provider host, WinRM's host) started by the DCOM launcher within
 * [t0, t1]? The start times are sorted once per pass: O(log n) a question. -1: no memory. */
static int cousin_started(pass *p, host *h, int64_t t0, int64_t t1)
{
    if (!h->cousins_built) {
        size_t n = 0;
        for (size_t i = 0; i < h->nnodes; i++) {
            const pnode *x = &h->nodes[i];
            n += x->created && x->dcomlaunch && x->obj && !x->obj->lateral;
        }
        if (n && !(h->cousins = arena_alloc(&p->a, n * sizeof *h->cousins)))
            return -1;
        for (size_t i = 0; i < h->nnodes && n; i++) {
            const pnode *x = &h->nodes[i];
            if (x->created && x->dcomlaunch && x->obj && !x->obj->lateral)
                h->cousins[h->ncousins++] = x->t;
        }
        if (h->ncousins) /* no null pointer to qsort, even with nothing to sort */
            qsort(h->cousins, h->ncousins, sizeof *h->cousins, time_cmp);
        h->cousins_built = 1;
    }
    size_t lo = 0, hi = h->ncousins;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->cousins[mid] < t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->ncousins && h->cousins[lo] <= t1;
}

/* The target's own record of the connection a wire record w shows (the same source address
 * and port, the same local port, within the skew) names the process that served it: is it
 * one the table does not know as serving a lateral-movement object (svchost.exe for WMI)? */
static int served_by_other(pass *p, host *h, const item *w)
{
    dh_str src = corr_field(w->ev, DH_FIELD_SOURCE_IP);
    uint64_t sport = 0, dport = 0;
    corr_num(corr_field(w->ev, DH_FIELD_SOURCE_PORT), &sport);
    corr_num(corr_field(w->ev, DH_FIELD_DESTINATION_PORT), &dport);
    size_t walked = 0;
    for (int32_t i = u64map_get(&h->conn_by_rip, corr_hash_ci(src, CORR_HASH0)); i >= 0;
         i = h->conns[i].next_rip) {
        const conn *c = &h->conns[i];
        if (c->it->t > w->t + p->S || walked++ == WALK_CAP)
            break; /* the chain runs in time order */
        if (!c->inbound || c->lport != dport || (sport && c->rport != sport) ||
            !corr_ieq(c->rip, src) || c->it->t < w->t - p->S)
            continue;
        dh_str image = c->node >= 0 && h->nodes[c->node].image_path.len
                           ? h->nodes[c->node].image_path
                           : corr_field(c->it->ev, DH_FIELD_IMAGE);
        if (image.len)
            return !comdb_is_server_image(p->c->db, image) && !comdb_by_listener(p->c->db, image);
    }
    return 0;
}

/* The network sensor alone: an activation request to a host's endpoint mapper, then
 * automation calls (IDispatch) from the same source on another port of that host, within
 * the window. WMI rides the same activation but calls its own interfaces: it is left out.
 * One activation per source and target within the window. */
static void wire_acts(pass *p)
{
    u64map latest = {0};
    for (size_t i = 0; i < p->nwire; i++) {
        item *it = p->wire[i];
        const dh_event *ev = it->ev;
        if (it->used || it->t >= p->horizon || !corr_wire_activation(ev))
            continue;
        dh_str src = corr_field(ev, DH_FIELD_SOURCE_IP),
               dst = corr_field(ev, DH_FIELD_DESTINATION_IP);
        host *h = ip_owner(p, dst, it->t);
        if (!h)
            h = unaddressed_target(p, src, it->t);
        if (!h)
            h = pass_host_of(p, corr_hash_ci(dst, CORR_HASH0) ^ 0x5a5a5a5a5a5a5a5aULL);
        if (!h || !src.len || corr_loopback(src))
            continue;
        /* The target's own logs may tell what the request activated: a cousin started for
         * it (the WMI provider host for WMI) is no movement */
        int cousin = h->address_only ? 0 : cousin_started(p, h, it->t - p->S, it->t + p->W + p->S);
        if (cousin < 0)
            return;
        if (cousin)
            continue;
        uint64_t key = corr_hash_ci(src, h->key) | 1;
        int32_t k = u64map_get(&latest, key);
        if (k >= 0 && it->t - p->acts[k].tlast <= p->W) {
            p->acts[k].tlast = it->t;
            continue;
        }
        /* automation calls from the source to that host on another port */
        int automation = 0;
        for (int32_t j = u64map_get(&p->wire_by_orig, corr_hash_ci(src, CORR_HASH0));
             j >= 0 && !automation; j = p->wire_next[j]) {
            const item *w = p->wire[j];
            uint64_t port = 0;
            corr_num(corr_field(w->ev, DH_FIELD_DESTINATION_PORT), &port);
            dh_str wd = corr_field(w->ev, DH_FIELD_DESTINATION_IP);
            automation = corr_ieq(corr_field(w->ev, DH_FIELD_SOURCE_IP), src) &&
                         (corr_ieq(wd, dst) || host_owns_ip(h, wd)) && port != 135 &&
                         within(w->t, it->t, it->t + p->W) && corr_wire_automation(w->ev) &&
                         /* nor when the target's own record of those calls names a process
                          * serving no lateral-movement object (svchost.exe for WMI) */
                         (h->address_only || !served_by_other(p, h, w));
        }
        if (!automation)
            continue;
        act *a = act_new(p, ACT_WIRE, h, -1, it->t, it);
        if (!a || u64map_put(&p->a, &latest, key, (int32_t)(a - p->acts)))
            return;
        a->src = src;
        a->families = EV_WIRE_ONLY;
    }
    /* each activation's records: the source's RPC to that host within its window */
    for (size_t k = 0; k < p->nacts; k++) {
        act *a = &p->acts[k];
        if (a->kind != ACT_WIRE)
            continue;
        for (int32_t j = u64map_get(&p->wire_by_orig, corr_hash_ci(a->src, CORR_HASH0)); j >= 0;
             j = p->wire_next[j]) {
            item *w = p->wire[j];
            uint64_t port = 0;
            corr_num(corr_field(w->ev, DH_FIELD_DESTINATION_PORT), &port);
            dh_str wd = corr_field(w->ev, DH_FIELD_DESTINATION_IP);
            if (!corr_ieq(corr_field(w->ev, DH_FIELD_SOURCE_IP), a->src) ||
                !(host_owns_ip(a->h, wd) ||
                  corr_ieq(wd, corr_field(a->anchor->ev, DH_FIELD_DESTINATION_IP))) ||
                !within(w->t, a->t - p->S, a->tlast + p->W) ||
                !(port == 135 || port >= 49152 || corr_wire_automation(w->ev)))
                continue;
            act_claim(p, a, w, "wire", 1, absdt(w->t, a->t),
                      corr_wire_activation(w->ev) ? EV_WIRE : 0, -1);
        }
    }
}

int activations_find(pass *p)
{
    for (size_t k = 0; k < p->nh; k++) {
        host *h = &p->hosts[k];
        for (size_t i = 0; i < h->nnodes; i++) {
            const pnode *n = &h->nodes[i];
            if (is_server_start(n)) {
                if (n->t < p->horizon && !n->recs[0]->used && !n->recs[0]->decided)
                    server_act(p, h, (int32_t)i);
            } else if (is_explorer(p, n)) {
                size_t from = p->nacts;
                explorer_acts(p, h, (int32_t)i);
                for (size_t a = from; a < p->nacts; a++)
                    explorer_evidence(p, &p->acts[a]);
            } else if (is_ref_server(p, n)) {
                ref_act(p, h, (int32_t)i);
            }
        }
    }
    wire_acts(p);
    return p->a.failed ? -1 : 0;
}
