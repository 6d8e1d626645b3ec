/* Ground truth: per DCOM hop, the finding the surviving evidence supports, or why none can
 * be expected. It is decided from what was actually written (the host's sensors, the
 * events lost on the way), by what each piece of evidence can tell:
 *
 * - lateral_movement needs the activation on the target (the COM server's start; for the
 *   shell objects, which run inside the desktop user's explorer, explorer accepting the
 *   caller's connection) and something tying it to the caller (the network logon under
 *   which the server runs, or a connection from the caller). The source address comes
 *   with that tie; the source's name needs the source's own connection records or an NTLM
 *   logon naming its workstation; the account needs the logon or the server's own
 *   process record; the commands need the records of what the server started.
 * - attempt needs the target's refusal (10016 access denied, 10036 the hardening).
 * - source_activity needs the source's own record: a script block naming the object and
 *   the target, or 10028 (the target could not be reached).
 * - Connection records alone, on either side or on the wire, show that DCOM was spoken,
 *   not what was activated or what it ran: they support no finding (WMI and management
 *   tools make the same calls). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/timefmt.h"
#include "output/json.h"
#include "sim/sim.h"

typedef struct key_record {
    const char *host, *channel;
    uint64_t record_id;
    uint32_t event_id;
    const char *role;
} key_record;

typedef struct entry {
    sim_expected x;
    const char *scenario_kind;
    key_record keys[32];
    size_t nkeys;
} entry;

struct sim_truth {
    entry *v;
    size_t n;
};

static const char *evc_name(int evc)
{
    static const char *const names[EVC_COUNT] = {"",
                                                 "activation",
                                                 "logon",
                                                 "endpoint_mapper",
                                                 "server_connection",
                                                 "child",
                                                 "failure",
                                                 "script",
                                                 "client",
                                                 "outbound",
                                                 "load",
                                                 "file",
                                                 "wire_activation",
                                                 "wire"};
    return evc >= 0 && evc < EVC_COUNT ? names[evc] : "";
}

/* What survived of a hop: per evidence class, on which side. */
typedef struct seen {
    int any[EVC_COUNT];
    int generated[EVC_COUNT];
} seen;

static void gather(const sim_world *w, int tag, seen *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < w->nevs; i++) {
        const sim_ev *e = &w->evs[i];
        if (e->hop != tag)
            continue;
        s->generated[e->evc] = 1;
        if (e->written)
            s->any[e->evc] = 1;
    }
}

static const char *command_of(const sim_ev *e)
{
    for (size_t k = 0; k < e->nkv; k++)
        if (!strcmp(e->kv[k].name, "CommandLine"))
            return e->kv[k].value;
    return NULL;
}

static void add_key(entry *en, const sim_world *w, const sim_ev *e)
{
    if (en->nkeys >= sizeof en->keys / sizeof en->keys[0] || !e->written)
        return;
    key_record *k = &en->keys[en->nkeys++];
    k->host = e->host >= 0 ? w->hosts[e->host].name : "zeek";
    k->channel = (e->written & 1) ? sim_sources[e->src].channel : "Defender";
    k->record_id = (e->written & 1) ? e->record_id : e->mde_id;
    k->event_id = e->id;
    k->role = evc_name(e->evc);
}

static int sensor_any(const sim_world *w, int host)
{
    return host >= 0 && !w->hosts[host].linux_os && w->hosts[host].sensors;
}

/* Why no finding can be expected, from what the sensor set left: the target's side, the
 * source's side, the wire. */
static const char *reason(sim_world *w, const sim_hop *h, const seen *s)
{
    char buf[1200];
    size_t n = 0;
#define SAY(...) n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, __VA_ARGS__)
    const sim_host *dst = &w->hosts[h->dst_host], *src = &w->hosts[h->src_host];
    int explorer = !strcmp(h->object->server, "explorer");
    int lost = 0;
    for (int c = 1; c < EVC_COUNT; c++)
        lost |= s->generated[c] && !s->any[c] && w->o->drop > 0;
    if (lost)
        SAY("some of its records were lost on the way (drop rate %.2f); ", w->o->drop);
    switch (h->result) {
    case RES_OK:
        if (!sensor_any(w, h->dst_host))
            SAY("the target has no sensor in this set");
        else if (explorer && !s->any[EVC_SERVER_IN])
            SAY("%s runs inside the desktop user's explorer: without connection records "
                "(Sysmon 3, 5156 or Defender) on the target nothing ties explorer's child to the "
                "remote caller, and the child runs as the desktop user",
                h->object->name);
        else if (!explorer && !s->any[EVC_ACTIVATION])
            SAY("the COM server's start is not recorded on the target");
        else
            SAY("nothing on the target ties the activation to a remote caller");
        break;
    case RES_DENIED:
    case RES_HARDENING:
        if (!sensor_any(w, h->dst_host))
            SAY("the target has no sensor in this set");
        else if (!(dst->sensors & SEN_SYSTEM))
            SAY("the target logs the refusal only in its System log (DistributedCOM %d), which "
                "this sensor set does not collect",
                h->result == RES_DENIED ? 10016 : 10036);
        else
            SAY("the target's refusal was not recorded");
        break;
    default:
        SAY("the target never answered, so it logged nothing");
        if (sensor_any(w, h->src_host) && !(src->sensors & SEN_SYSTEM))
            SAY("; the source logs the failure only in its System log (DistributedCOM 10028), "
                "which this sensor set does not collect");
        break;
    }
    if (!s->any[EVC_SCRIPT]) {
        if (src->linux_os)
            SAY("; the source runs Impacket on Linux, which no Windows sensor watches");
        else if (!sensor_any(w, h->src_host))
            SAY("; the source has no sensor in this set");
        else if (s->any[EVC_OUTBOUND])
            SAY("; the source's connection records show RPC to the target (port 135 and a dynamic "
                "port), not what was activated or what it ran");
        else if (h->result != RES_UNREACHABLE)
            SAY("; the source's sensors record nothing that names the object or the target");
    }
    if (s->any[EVC_WIRE_ACT])
        SAY("; the network sensor sees the activation request (ISystemActivator on port 135) "
            "but not which object it asked for (WMI and management tools make the same call)");
    else if (s->any[EVC_WIRE_CONN] && h->result == RES_UNREACHABLE)
        SAY("; the network sensor sees only unanswered connection attempts to port 135");
#undef SAY
    return sim_strndup(&w->arena, buf, n < sizeof buf ? n : sizeof buf - 1);
}

static void fill_commands(entry *en, const sim_world *w, const sim_hop *h, int tag)
{
    const snode *cmds = h->expect ? snode_get(h->expect, "commands") : NULL;
    for (size_t i = 0; cmds && cmds->type == SN_SEQ && i < cmds->n && en->x.ncommands < 8; i++) {
        const char *want = cmds->vals[i]->type == SN_SCALAR ? cmds->vals[i]->text : NULL;
        if (!want)
            continue;
        /* expected only if a record of a process with that command line survived */
        for (size_t k = 0; k < w->nevs; k++) {
            const sim_ev *e = &w->evs[k];
            const char *cl;
            if (e->hop == tag && e->evc == EVC_CHILD && e->written && (cl = command_of(e)) &&
                strstr(cl, want)) {
                en->x.commands[en->x.ncommands++] = want;
                break;
            }
        }
    }
}

static const char *account_text(sim_world *w, int account)
{
    const sim_account *a = &w->accounts[account];
    return sim_printf(&w->arena, "%s\\%s", a->domain, a->name);
}

sim_truth *sim_truth_build(sim_world *w)
{
    sim_truth *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    size_t cap = w->nhops + (w->o->nscenarios ? w->o->nscenarios : w->cat->n) + 1;
    t->v = calloc(cap, sizeof *t->v);
    if (!t->v) {
        free(t);
        return NULL;
    }
    /* Scenarios with no hop that T1021.003 covers: nothing is to be found. */
    for (size_t i = 0; i < w->cat->n; i++) {
        const dh_sim_scenario *s = w->cat->v[i];
        int ran = 0, expected = 0;
        for (size_t k = 0; k < w->o->nscenarios; k++)
            ran |= !strcmp(w->o->scenarios[k], s->name);
        if (!w->o->nscenarios)
            ran = 1;
        for (size_t k = 0; k < w->nhops; k++)
            expected |= w->hops[k].scenario == s && w->hops[k].expected;
        if (!ran || expected || t->n >= cap)
            continue;
        entry *en = &t->v[t->n++];
        en->x.scenario = s->name;
        en->scenario_kind = s->kind;
        en->x.kind = NULL;
        en->x.reason =
            !strcmp(s->kind, "cousin")
                ? sim_printf(&w->arena,
                             "not DCOM lateral movement (%s): no "
                             "lateral_movement or attempt may be reported",
                             s->technique && *s->technique ? s->technique : "another technique")
                : "benign activity: no lateral_movement or attempt may be reported";
    }
    for (size_t k = 0; k < w->nhops && t->n < cap; k++) {
        const sim_hop *h = &w->hops[k];
        if (!h->expected)
            continue;
        int tag = (int)k + 1;
        seen s;
        gather(w, tag, &s);
        entry *en = &t->v[t->n++];
        sim_expected *x = &en->x;
        x->scenario = h->scenario->name;
        en->scenario_kind = h->scenario->kind;
        x->hop = h->n;
        const sim_host *src = &w->hosts[h->src_host], *dst = &w->hosts[h->dst_host];
        int explorer = !strcmp(h->object->server, "explorer");
        if (h->result == RES_OK) {
            int anchor = explorer ? s.any[EVC_SERVER_IN] : s.any[EVC_ACTIVATION];
            int link = explorer || s.any[EVC_LOGON] || s.any[EVC_SERVER_IN] || s.any[EVC_EPM];
            if (anchor && link) {
                x->kind = "lateral_movement";
                x->target_host = dst->name;
                x->target_ip = dst->ip;
                x->source_ip = src->ip;
                if ((s.any[EVC_OUTBOUND] && sensor_any(w, h->src_host)) ||
                    (s.any[EVC_LOGON] && !h->kerberos && !src->linux_os))
                    x->source_host = src->name;
                if (s.any[EVC_LOGON] || (!explorer && s.any[EVC_ACTIVATION]))
                    x->account = account_text(w, h->account);
                if (explorer) {
                    /* the two shell objects leave the same traces */
                    const sim_object *a = sim_object_find(w->cat, "ShellWindows"),
                                     *b = sim_object_find(w->cat, "ShellBrowserWindow");
                    x->objects[0] = "ShellWindows";
                    x->objects[1] = "ShellBrowserWindow";
                    x->clsids[0] = a ? a->clsid : NULL;
                    x->clsids[1] = b ? b->clsid : NULL;
                } else {
                    x->objects[0] = h->object->name;
                    x->clsids[0] = h->object->clsid;
                }
                fill_commands(en, w, h, tag);
            }
        } else if (h->result == RES_DENIED || h->result == RES_HARDENING) {
            if (s.any[EVC_FAILURE]) {
                x->kind = "attempt";
                x->target_host = dst->name;
                x->source_ip = src->ip;
                x->account = account_text(w, h->account);
                if (h->result == RES_DENIED) {
                    x->objects[0] = h->object->name;
                    x->clsids[0] = h->object->clsid;
                }
            }
        } else if (s.any[EVC_FAILURE]) {
            x->kind = "source_activity";
            x->source_host = src->name;
            x->target_host = h->target_name_used;
        }
        if (!x->kind && h->result == RES_OK && s.any[EVC_WIRE_ACT]) {
            /* The network sensor alone: the activation request to 135, then calls on the
             * server's dynamic port of the target. dcomhunt reports that as a low-confidence
             * lateral_movement naming both addresses and no object (docs/findings.md). */
            x->kind = "lateral_movement";
            x->target_ip = dst->ip;
            x->source_ip = src->ip;
        }
        if (!x->kind && s.any[EVC_SCRIPT]) {
            x->kind = "source_activity";
            x->source_host = src->name;
            x->target_host = h->target_name_used;
            x->objects[0] = h->object->name;
            x->clsids[0] = h->object->clsid;
        }
        if (!x->kind)
            x->reason = reason(w, h, &s);
        for (size_t i = 0; i < w->nevs; i++)
            if (w->evs[i].hop == tag && w->evs[i].evc != EVC_WIRE_CONN)
                add_key(en, w, &w->evs[i]);
    }
    return t;
}

void sim_truth_free(sim_truth *t)
{
    if (!t)
        return;
    free(t->v);
    free(t);
}

size_t sim_truth_count(const sim_truth *t)
{
    return t ? t->n : 0;
}

const sim_expected *sim_truth_get(const sim_truth *t, size_t i)
{
    return i < t->n ? &t->v[i].x : NULL;
}

static void jstr(dh_buf *b, const char *s)
{
    if (!s) {
        dh_buf_puts(b, "null");
        return;
    }
    dh_json_string(b, s, strlen(s));
}

dh_status sim_truth_write(const sim_truth *t, const sim_world *w, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return DH_ERR_IO;
    dh_buf b;
    dh_buf_init(&b, 64u << 20);
    /* The first line is a comment: hunt, walking the folder, skips the file as not one of
     * its formats instead of reading the truth as events. */
    dh_buf_puts(&b, "# dcomhunt simulate: ground truth, one JSON object per line "
                    "(docs/simulate.md#ground-truth)\n");
    dh_buf_puts(&b, "{\"sensor_set\":");
    jstr(&b, sim_sensor_sets[w->o->sensor_set].name);
    dh_buf_puts(&b, ",\"seed\":");
    dh_buf_put_u64(&b, w->o->seed);
    dh_buf_puts(&b, ",\"drop\":");
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.4f", w->o->drop);
    dh_buf_puts(&b, tmp);
    dh_buf_puts(&b, ",\"hosts\":[");
    for (size_t i = 0; i < w->nhosts; i++) {
        const sim_host *h = &w->hosts[i];
        if (i)
            dh_buf_putc(&b, ',');
        dh_buf_puts(&b, "{\"role\":");
        jstr(&b, h->role);
        dh_buf_puts(&b, ",\"name\":");
        jstr(&b, h->name);
        dh_buf_puts(&b, ",\"fqdn\":");
        jstr(&b, h->fqdn);
        dh_buf_puts(&b, ",\"ip\":");
        jstr(&b, h->ip);
        dh_buf_puts(&b, ",\"os\":");
        jstr(&b, h->linux_os ? "linux" : "windows");
        dh_buf_puts(&b, ",\"sensors\":[");
        static const char *const sn[] = {"sysmon", "security",   "wfp",
                                         "system", "powershell", "defender"};
        int first = 1;
        for (int k = 0; k < 6; k++)
            if (h->sensors & (1u << k)) {
                if (!first)
                    dh_buf_putc(&b, ',');
                first = 0;
                jstr(&b, sn[k]);
            }
        dh_buf_puts(&b, "]}");
    }
    dh_buf_puts(&b, "]}\n");
    for (size_t i = 0; i < t->n; i++) {
        const entry *en = &t->v[i];
        const sim_expected *x = &en->x;
        dh_buf_puts(&b, "{\"scenario\":");
        jstr(&b, x->scenario);
        dh_buf_puts(&b, ",\"scenario_kind\":");
        jstr(&b, en->scenario_kind);
        if (x->hop) {
            dh_buf_puts(&b, ",\"hop\":");
            dh_buf_put_u64(&b, (unsigned)x->hop);
        }
        dh_buf_puts(&b, ",\"expect\":");
        jstr(&b, x->kind);
        if (x->reason) {
            dh_buf_puts(&b, ",\"reason\":");
            jstr(&b, x->reason);
        }
        if (x->kind) {
            dh_buf_puts(&b, ",\"target\":{\"host\":");
            jstr(&b, x->target_host);
            dh_buf_puts(&b, ",\"ip\":");
            jstr(&b, x->target_ip);
            dh_buf_puts(&b, "},\"source\":{\"host\":");
            jstr(&b, x->source_host);
            dh_buf_puts(&b, ",\"ip\":");
            jstr(&b, x->source_ip);
            dh_buf_puts(&b, "},\"objects\":[");
            for (int k = 0; k < 2 && x->objects[k]; k++) {
                if (k)
                    dh_buf_putc(&b, ',');
                jstr(&b, x->objects[k]);
            }
            dh_buf_puts(&b, "],\"account\":");
            jstr(&b, x->account);
            dh_buf_puts(&b, ",\"commands\":[");
            for (size_t k = 0; k < x->ncommands; k++) {
                if (k)
                    dh_buf_putc(&b, ',');
                jstr(&b, x->commands[k]);
            }
            dh_buf_putc(&b, ']');
        }
        if (en->nkeys) {
            dh_buf_puts(&b, ",\"key_records\":[");
            for (size_t k = 0; k < en->nkeys; k++) {
                const key_record *kr = &en->keys[k];
                if (k)
                    dh_buf_putc(&b, ',');
                dh_buf_puts(&b, "{\"evidence\":");
                jstr(&b, kr->role);
                dh_buf_puts(&b, ",\"host\":");
                jstr(&b, kr->host);
                dh_buf_puts(&b, ",\"channel\":");
                jstr(&b, kr->channel);
                dh_buf_puts(&b, ",\"event_id\":");
                dh_buf_put_u64(&b, kr->event_id);
                if (kr->record_id) {
                    dh_buf_puts(&b, ",\"record_id\":");
                    dh_buf_put_u64(&b, kr->record_id);
                }
                dh_buf_putc(&b, '}');
            }
            dh_buf_putc(&b, ']');
        }
        dh_buf_puts(&b, "}\n");
    }
    /* the pieces were appended unchecked: the first failure stuck, so nothing cut short is
     * written */
    dh_status st = dh_buf_status(&b);
    if (!st && b.len != fwrite(b.data, 1, b.len, f))
        st = DH_ERR_IO;
    if (fclose(f) != 0 && !st)
        st = DH_ERR_IO;
    dh_buf_free(&b);
    return st;
}
