/* The step interpreter: each step of a scenario (docs/simulate.md lists them) becomes
 * processes, logons and the events they leave. A step's problems (an unknown key, a role
 * not declared, a process name not defined yet) stop the scenario with its file and line.
 *
 * `dcom` is the heart of it: the client's call to the target's endpoint mapper (135), the
 * caller's network logon, the COM server's start under DcomLaunch (or the running
 * explorer, or a service), the call to the server's own dynamic port; or, for failures,
 * what Windows logs instead (10016 access denied, 10028 target unreachable, 10036 the
 * authentication-level hardening). Each event is tagged with the hop and the evidence it
 * gives, for the ground truth. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/sim.h"

#define MAX_NAMES  256
#define MAX_VALUE  8191         /* bytes of one value, placeholders expanded */
#define MAX_EVENTS 2000000      /* records one run's scenarios may make (loops are in the files) */
#define MAX_BYTES  (256u << 20) /* and the memory they may take */

static const char *const auth_words[] = {"kerberos", "ntlm", NULL};

typedef struct run {
    sim_world *w;
    const dh_sim_scenario *s;
    struct {
        const char *name;
        int proc;
    } names[MAX_NAMES];
    size_t nnames;
    struct {
        const char *name, *value;
    } vars[8];
    size_t nvars;
    size_t first_ev; /* this scenario's first event */
} run;

static int fail(run *r, const snode *at, const char *fmt, const char *a)
{
    return sim_fail(r->w, at, fmt, a);
}

/* A step's scalar, with loop variables and ${...} placeholders expanded; at most
 * MAX_VALUE bytes (cmd.exe's own limit on a command line: a record holds several values
 * and must fit one 64 KiB EVTX chunk). */
static const char *arg(run *r, const snode *step, const char *key)
{
    const snode *v = snode_get(step, key);
    if (!v)
        return NULL;
    if (v->type != SN_SCALAR) {
        fail(r, v, "'%s' must be a single value", key);
        return NULL;
    }
    const char *t = v->text;
    /* ${var} of an enclosing for_each first: a plain textual substitution, each use
     * replaced once (a value that holds ${var} itself is not expanded again) */
    for (size_t i = 0; i < r->nvars && strstr(t, "${"); i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "${%s}", r->vars[i].name);
        size_t plen = strlen(pat), vlen = strlen(r->vars[i].value), from = 0;
        const char *hit;
        while ((hit = strstr(t + from, pat)) != NULL) {
            size_t at = (size_t)(hit - t);
            if (strlen(t) - plen + vlen > MAX_VALUE)
                break; /* reported below */
            t = sim_printf(&r->w->arena, "%.*s%s%s", (int)at, t, r->vars[i].value, hit + plen);
            if (!t)
                return NULL;
            from = at + vlen;
        }
    }
    const char *x = strlen(t) > MAX_VALUE ? t : sim_expand(r->w, r->s, t, v);
    if (x && strlen(x) > MAX_VALUE) {
        fail(r, v, "'%s' is longer than 8191 bytes", key);
        return NULL;
    }
    return x;
}

/* A setting that is one of a few words: its index in `words`, `dflt` when absent, -1 (the
 * mistake reported) otherwise. */
static int choice(run *r, const snode *st, const char *key, const char *const *words, int dflt)
{
    const char *v = arg(r, st, key);
    if (!v)
        return r->w->err[0] ? -1 : dflt;
    char list[160] = "";
    for (int i = 0; words[i]; i++) {
        if (!strcmp(v, words[i]))
            return i;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", words[i]);
    }
    char msg[240];
    snprintf(msg, sizeof msg, "'%s' is one of %s", key, list);
    return fail(r, snode_get(st, key), "%s", msg);
}

/* A whole number from lo to hi: the number, `dflt` when absent, -1 (reported) otherwise. */
static long number(run *r, const snode *st, const char *key, long lo, long hi, long dflt)
{
    const char *v = arg(r, st, key);
    if (!v)
        return r->w->err[0] ? -1 : dflt;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        char msg[200];
        snprintf(msg, sizeof msg, "'%.40s': '%.60s' is not a whole number from %ld to %ld", key, v,
                 lo, hi);
        return fail(r, snode_get(st, key), "%s", msg);
    }
    return n;
}

static int check_keys(run *r, const snode *step, const char *type, const char *const *allowed)
{
    if (!step || step->type != SN_MAP)
        return fail(r, step, "step '%s' takes a mapping of its settings", type);
    for (size_t i = 0; i < step->n; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = !strcmp(*a, step->keys[i]);
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof msg, "step '%s' has no setting '%%s'", type);
            return sim_fail(r->w, step->vals[i], msg, step->keys[i]);
        }
    }
    return 0;
}

static int host_arg(run *r, const snode *step, const char *key, int required)
{
    const char *role = arg(r, step, key);
    if (!role) {
        if (required && !r->w->err[0])
            fail(r, step, "this step needs '%s'", key);
        return -1;
    }
    if (!snode_get(r->s->hosts, role))
        return fail(r, snode_get(step, key), "host role '%s' is not declared under hosts:", role);
    return sim_host_for(r->w, r->s, role);
}

static int account_arg(run *r, const snode *step, const char *key)
{
    const char *role = arg(r, step, key);
    if (!role)
        return -1;
    if (!snode_get(r->s->accounts, role))
        return fail(r, snode_get(step, key),
                    "account role '%s' is not declared under accounts:", role);
    return sim_account_for(r->w, r->s, role);
}

static int named(run *r, const char *name)
{
    for (size_t i = r->nnames; i-- > 0;)
        if (!strcmp(r->names[i].name, name))
            return r->names[i].proc;
    return -1;
}

static int name_proc(run *r, const snode *at, const char *name, int proc)
{
    if (!name)
        return 0;
    if (r->nnames >= MAX_NAMES)
        return fail(r, at, "more than 256 named processes (%s)", name);
    r->names[r->nnames].name = name;
    r->names[r->nnames].proc = proc;
    r->nnames++;
    return 0;
}

/* A process by name, or one every Windows host runs. */
static int proc_ref(run *r, const snode *at, int host, const char *ref)
{
    int p = named(r, ref);
    if (p >= 0) {
        if (host >= 0 && r->w->procs[p].host != host)
            return fail(r, at, "process '%s' runs on another host", ref);
        return p;
    }
    if (host < 0)
        return fail(r, at, "no process named '%s' yet", ref);
    const sim_host *h = &r->w->hosts[host];
    if (h->linux_os)
        return fail(r, at, "'%s': a Linux host has no Windows processes", ref);
    if (!strcmp(ref, "dcomlaunch"))
        return h->p_dcomlaunch;
    if (!strcmp(ref, "rpcss"))
        return h->p_rpcss;
    if (!strcmp(ref, "services"))
        return h->p_services;
    if (!strcmp(ref, "netsvcs"))
        return h->p_netsvcs;
    if (!strcmp(ref, "winlogon"))
        return h->p_winlogon;
    if (!strcmp(ref, "system"))
        return h->p_system;
    if (!strcmp(ref, "wmiprvse"))
        return h->p_wmi;
    if (!strcmp(ref, "explorer")) {
        if (h->p_explorer < 0)
            return fail(r, at, "host '%s' has no desktop (give it desktop: ACCOUNT)", h->role);
        return h->p_explorer;
    }
    return fail(r, at,
                "no process named '%s' (nor a built-in one: dcomlaunch, rpcss, services, "
                "netsvcs, winlogon, system, wmiprvse, explorer)",
                ref);
}

/* How far the clock moves between steps: people and tools take a moment. */
static void tick(run *r)
{
    r->w->now += (int64_t)(200 + sim_rng_below(&r->w->rng, 900)) * 10000;
}

static int parse_seconds(run *r, const snode *at, const char *t, double *out)
{
    char *end;
    double v = t ? strtod(t, &end) : -1;
    if (!t || *end || v < 0 || v > 86400 * 7)
        return fail(r, at, "'%s' is not a number of seconds (0 to 604800)", t ? t : "");
    *out = v;
    return 0;
}

/* The latest logon session of an account on a host (or its desktop), else a new one. */
static uint64_t session_for(run *r, int host, int account)
{
    sim_world *w = r->w;
    if (w->hosts[host].desktop == account)
        return w->hosts[host].desktop_logon;
    for (size_t i = w->nlogons; i-- > 0;)
        if (w->logons[i].host == host && w->logons[i].account == account)
            return w->logons[i].id;
    sim_logon *l = sim_logon_new(w, host, account, 2, -1, 1, w->now - 60 * SIM_TICKS);
    if (!l)
        return 0;
    ev_logon(w, l, 0);
    return l->id;
}

static int step_process(run *r, const snode *st)
{
    static const char *const keys[] = {"host",        "as",        "parent",
                                       "user",        "image",     "command_line",
                                       "cwd",         "integrity", "original_file_name",
                                       "description", "company",   "product",
                                       "exit",        NULL};
    if (check_keys(r, st, "process", keys))
        return -1;
    sim_world *w = r->w;
    int host = host_arg(r, st, "host", 1);
    if (host < 0)
        return -1;
    const char *image = arg(r, st, "image");
    if (!image)
        return fail(r, st, "process: '%s' is required", "image");
    const char *pref = arg(r, st, "parent");
    if (!pref)
        pref = w->hosts[host].p_explorer >= 0 ? "explorer" : "services";
    int parent = proc_ref(r, snode_get(st, "parent"), host, pref);
    if (parent < 0)
        return -1;
    const char *cmd = arg(r, st, "command_line");
    if (!cmd)
        cmd = sim_printf(&w->arena, "\"%s\"", image);
    const sim_proc *pp = &w->procs[parent];
    int user = pp->user;
    uint64_t logon = pp->logon_id;
    const char *u = arg(r, st, "user");
    if (u) {
        if (!strcmp(u, "system"))
            user = USER_SYSTEM, logon = 0x3e7;
        else if (!strcmp(u, "network service"))
            user = USER_NETWORK_SERVICE, logon = 0x3e4;
        else if (!strcmp(u, "local service"))
            user = USER_LOCAL_SERVICE, logon = 0x3e5;
        else if (!strcmp(u, "desktop")) {
            if (w->hosts[host].desktop < 0)
                return fail(r, st, "host '%s' has no desktop user", w->hosts[host].role);
            user = w->hosts[host].desktop;
            logon = w->hosts[host].desktop_logon;
        } else {
            user = account_arg(r, st, "user");
            if (user < 0)
                return -1;
            logon = session_for(r, host, user);
        }
    }
    const char *integ = arg(r, st, "integrity");
    if (!integ)
        integ = user < 0 ? "System" : pp->user == user ? pp->integrity : "Medium";
    int p = sim_proc_new(w, host, parent, image, cmd, user, logon, integ, w->now);
    if (p < 0)
        return -1;
    sim_proc *np = &w->procs[p];
    const char *v;
    if ((v = arg(r, st, "cwd")))
        np->cwd = v;
    if ((v = arg(r, st, "original_file_name")))
        np->orig = v;
    if ((v = arg(r, st, "description")))
        np->desc = v;
    if ((v = arg(r, st, "company")))
        np->company = v;
    if ((v = arg(r, st, "product")))
        np->product = v;
    if (w->err[0])
        return -1;
    int hop = np->hop_child;
    ev_process_start(w, p, hop, hop ? SIDE_TARGET : SIDE_NONE, hop ? EVC_CHILD : EVC_NONE);
    const char *ex = arg(r, st, "exit");
    if (ex) {
        double secs;
        if (parse_seconds(r, snode_get(st, "exit"), ex, &secs))
            return -1;
        ev_process_end(w, p, w->now + (int64_t)(secs * SIM_TICKS));
    }
    if (name_proc(r, st, arg(r, st, "as"), p))
        return -1;
    tick(r);
    return 0;
}

static int step_logon(run *r, const snode *st)
{
    static const char *const keys[] = {"host", "from", "account", "type", "auth", "duration", NULL};
    if (check_keys(r, st, "logon", keys))
        return -1;
    int host = host_arg(r, st, "host", 1), from = host_arg(r, st, "from", 0);
    int acct = account_arg(r, st, "account");
    if (host < 0 || acct < 0)
        return r->w->err[0] ? -1 : fail(r, st, "logon: '%s' is required", "account");
    int type = (int)number(r, st, "type", 2, 13, 3);
    int auth = choice(r, st, "auth", auth_words, from >= 0 && r->w->hosts[from].linux_os);
    if (type < 0 || auth < 0)
        return -1;
    int kerb = auth == 0;
    sim_logon *l = sim_logon_new(r->w, host, acct, type, from, kerb, r->w->now);
    if (!l)
        return -1;
    if (from >= 0)
        l->src_port = sim_port(r->w, from, 0);
    ev_logon(r->w, l, 0);
    const char *d = arg(r, st, "duration");
    double secs = 60;
    if (d && parse_seconds(r, snode_get(st, "duration"), d, &secs))
        return -1;
    ev_logoff(r->w, l, r->w->now + (int64_t)(secs * SIM_TICKS));
    tick(r);
    return 0;
}

/* The process that makes calls from a host: a named process, or on a Linux host (which no
 * sensor watches) a stand-in that only carries the host. */
static int client_proc(run *r, const snode *st, const char *key)
{
    const char *ref = arg(r, st, key);
    if (!ref)
        return fail(r, st, "this step needs '%s'", key);
    int p = named(r, ref);
    if (p >= 0)
        return p;
    if (snode_get(r->s->hosts, ref)) {
        int h = sim_host_for(r->w, r->s, ref);
        if (h < 0)
            return -1;
        if (!r->w->hosts[h].linux_os)
            return fail(r, snode_get(st, key),
                        "'%s' is a Windows host: name the process that makes the calls", ref);
        return sim_proc_new(r->w, h, -1, "/usr/bin/python3", "python3", USER_SYSTEM, 0, "System",
                            r->w->now);
    }
    return fail(r, snode_get(st, key), "no process or Linux host named '%s'", ref);
}

static int parse_calls(run *r, const snode *list, const char **calls, size_t cap, size_t *n)
{
    *n = 0;
    if (!list)
        return 0;
    if (list->type != SN_SEQ)
        return fail(r, list, "'%s' is a list of ENDPOINT:OPERATION", "rpc");
    for (size_t i = 0; i < list->n && *n + 1 < cap; i++) {
        const snode *e = list->vals[i];
        const char *colon = e->type == SN_SCALAR ? strchr(e->text, ':') : NULL;
        if (!colon)
            return fail(r, e, "'%s' is not ENDPOINT:OPERATION",
                        e->type == SN_SCALAR ? e->text : "");
        if (strlen(e->text) > MAX_VALUE)
            return fail(r, e, "'%s' is longer than 8191 bytes", "rpc");
        calls[(*n)++] = sim_strndup(&r->w->arena, e->text, (size_t)(colon - e->text));
        calls[(*n)++] = colon + 1;
    }
    *n /= 2;
    return 0;
}

static int step_connect(run *r, const snode *st)
{
    static const char *const keys[] = {"from",    "to",     "port", "server",
                                       "service", "result", "rpc",  NULL};
    if (check_keys(r, st, "connect", keys))
        return -1;
    sim_world *w = r->w;
    int client = client_proc(r, st, "from");
    int to = host_arg(r, st, "to", 1);
    if (client < 0 || to < 0)
        return -1;
    const char *port = arg(r, st, "port");
    long pn = port && strcmp(port, "dynamic") ? number(r, st, "port", 1, 65535, 0) : 0;
    if (pn < 0 || r->w->err[0])
        return -1;
    uint16_t dport = pn ? (uint16_t)pn : sim_port(w, to, 1);
    const char *sref = arg(r, st, "server");
    int server = -1;
    if (!w->hosts[to].linux_os) {
        server = proc_ref(r, snode_get(st, "server"), to,
                          sref           ? sref
                          : dport == 135 ? "rpcss"
                          : dport == 445 ? "system"
                                         : "netsvcs");
        if (server < 0)
            return -1;
    }
    static const char *const results[] = {"ok", "unanswered", NULL};
    int res = choice(r, st, "result", results, 0);
    if (res < 0)
        return -1;
    int answered = res == 0;
    const char *calls[32];
    size_t ncalls;
    if (parse_calls(r, snode_get(st, "rpc"), calls, 32, &ncalls))
        return -1;
    uint16_t sport = sim_port(w, w->procs[client].host, 0);
    const char *svc = arg(r, st, "service");
    ev_connection(w, client, server, to, sport, dport, w->now, 0, EVC_NONE, EVC_NONE,
                  svc      ? svc
                  : ncalls ? "dce_rpc"
                           : NULL,
                  answered);
    if (ncalls && answered)
        ev_rpc_calls(w, w->procs[client].host, to, sport, dport, w->now + 50000, calls, ncalls, 0);
    tick(r);
    return 0;
}

/* Tags the client's earlier events (its start, its script blocks) with the hop. */
static void tag_client(run *r, int client, int hop)
{
    sim_world *w = r->w;
    const sim_proc *p = &w->procs[client];
    for (size_t i = r->first_ev; i < w->nevs; i++) {
        sim_ev *e = &w->evs[i];
        if (e->host != p->host || e->hop)
            continue;
        if (e->src == SRC_POWERSHELL && e->pid == p->pid) {
            e->hop = (uint16_t)hop, e->side = SIDE_SOURCE, e->evc = EVC_SCRIPT;
        } else if ((e->src == SRC_SYSMON && e->id == 1) ||
                   (e->src == SRC_SECURITY && e->id == 4688)) {
            const char *pid_name = e->src == SRC_SYSMON ? "ProcessId" : "NewProcessId";
            for (size_t k = 0; k < e->nkv; k++)
                if (!strcmp(e->kv[k].name, pid_name) &&
                    strtoull(e->kv[k].value, NULL, e->src == SRC_SYSMON ? 10 : 16) == p->pid &&
                    e->t == p->start)
                    e->hop = (uint16_t)hop, e->side = SIDE_SOURCE, e->evc = EVC_CLIENT;
        }
    }
}

static const char *const epm_calls[] = {"IObjectExporter", "ServerAlive2", "ISystemActivator",
                                        "RemoteCreateInstance"};
static const char *const object_calls[] = {"IRemUnknown2",
                                           "RemQueryInterface2",
                                           "00020400-0000-0000-c000-000000000046",
                                           "opnum-5",
                                           "00020400-0000-0000-c000-000000000046",
                                           "opnum-6"};

/* WMI rides the same activation, then calls its own interfaces (the network sensor names
 * them), not IDispatch. */
static const char *const wmi_calls[] = {"IRemUnknown2", "RemQueryInterface2", "IWbemLevel1Login",
                                        "NTLMLogin",    "IWbemServices",      "ExecMethod"};

/* A new, zeroed hop at the end of w->hops (not yet counted in w->nhops); NULL when out of
 * memory. */
static sim_hop *hop_slot(sim_world *w)
{
    if (w->nhops == w->hops_cap) {
        size_t cap = w->hops_cap ? w->hops_cap * 2 : 16;
        sim_hop *v = realloc(w->hops, cap * sizeof *v);
        if (!v)
            return NULL;
        w->hops = v;
        w->hops_cap = cap;
    }
    sim_hop *hop = &w->hops[w->nhops];
    memset(hop, 0, sizeof *hop);
    return hop;
}

/* result: ok (the default), denied, unreachable, hardening; -1 (said) when another word. */
static int dcom_result(run *r, const snode *st)
{
    const char *res = arg(r, st, "result");
    int result = !res || !strcmp(res, "ok")    ? RES_OK
                 : !strcmp(res, "denied")      ? RES_DENIED
                 : !strcmp(res, "unreachable") ? RES_UNREACHABLE
                 : !strcmp(res, "hardening")   ? RES_HARDENING
                                               : -1;
    if (result < 0)
        return fail(r, snode_get(st, "result"),
                    "result '%s': one of ok, denied, unreachable, hardening", res);
    return result;
}

/* Fills the hop's number, its place in the run and the scenario's expect entry for it:
 * `hop: N`, or one without hop for all. */
static void hop_place(run *r, sim_hop *hop)
{
    sim_world *w = r->w;
    int n = 0;
    for (size_t i = 0; i < w->nhops; i++)
        if (w->hops[i].scenario == r->s)
            n++;
    hop->n = n + 1;
    hop->scenario = r->s;
    hop->t0 = w->now;
    const snode *ex = r->s->expect;
    for (size_t i = 0; ex && ex->type == SN_SEQ && i < ex->n; i++) {
        const char *hn = snode_str(ex->vals[i], "hop");
        if (!hn || strtol(hn, NULL, 10) == (long)hop->n)
            hop->expect = ex->vals[i];
    }
}

/* The dcom step's arguments checked and its hop recorded in w->hops; the hop's evidence
 * tag (its index in w->hops, plus one), with the client process in *client_out, or -1. */
static int dcom_hop_new(run *r, const snode *st, int *client_out)
{
    static const char *const keys[] = {"from",        "to",   "account", "object",
                                       "result",      "auth", "as",      "explicit_credentials",
                                       "target_name", NULL};
    if (check_keys(r, st, "dcom", keys))
        return -1;
    sim_world *w = r->w;
    int client = client_proc(r, st, "from");
    int to = host_arg(r, st, "to", 1);
    int acct = account_arg(r, st, "account");
    if (client < 0 || to < 0)
        return -1;
    if (acct < 0)
        return w->err[0] ? -1 : fail(r, st, "dcom: '%s' is required", "account");
    const char *oname = arg(r, st, "object");
    const sim_object *obj = oname ? sim_object_find(w->cat, oname) : NULL;
    if (!obj)
        return fail(r, snode_get(st, "object"), "no COM object '%s' in scenarios/objects.yml",
                    oname ? oname : "(none given)");
    int result = dcom_result(r, st);
    if (result < 0)
        return -1;
    int src = w->procs[client].host;
    int auth = choice(r, st, "auth", auth_words, w->hosts[src].linux_os);
    static const char *const target_names[] = {"name", "fqdn", "ip", NULL};
    int tn = choice(r, st, "target_name", target_names, 0);
    if (auth < 0 || tn < 0)
        return -1;
    sim_hop *hop = hop_slot(w);
    if (!hop)
        return -1;
    hop_place(r, hop);
    hop->src_host = src;
    hop->dst_host = to;
    hop->account = acct;
    hop->client = w->hosts[src].linux_os ? -1 : client;
    hop->object = obj;
    hop->result = result;
    hop->kerberos = auth == 0;
    hop->server_proc = -1;
    hop->expected = !obj->technique || !strcmp(obj->technique, "T1021.003");
    hop->target_name_used = tn == 0   ? w->hosts[to].name
                            : tn == 1 ? w->hosts[to].fqdn
                                      : w->hosts[to].ip;
    int tagn = (int)w->nhops + 1;
    w->nhops++;
    w->procs[client].hop_client = tagn;
    *client_out = client;
    return tagn;
}

/* The target never answers: the client's connection to the endpoint mapper and, on
 * Windows, its DCOM error 10028. */
static int dcom_unreachable(run *r, sim_hop *hop, int client, int tagn, int64_t t, uint16_t sport)
{
    sim_world *w = r->w;
    int src = hop->src_host;
    ev_connection(w, client, -1, hop->dst_host, sport, 135, t, tagn, EVC_OUTBOUND, EVC_NONE, NULL,
                  0);
    if (!w->hosts[src].linux_os) {
        const sim_proc *cp = &w->procs[client];
        const char *params[] = {hop->target_name_used, sim_printf(&w->arena, "%u", cp->pid),
                                cp->image, hop->object->clsid};
        ev_dcom_error(w, src, 10028, params, 4, t + 21 * SIM_TICKS + 30000,
                      sim_user_sid(w, cp->user), tagn, SIDE_SOURCE);
        w->evs[w->nevs - 1].pid = cp->pid;
    }
    tag_client(r, client, tagn);
    w->now = t + 22 * SIM_TICKS;
    hop->t1 = w->now;
    return 0;
}

/* The target refuses the launch: DCOM error 10016 (denied) or 10036 (hardening) there,
 * then the network logon ends. */
static int dcom_refused(run *r, sim_hop *hop, int client, int tagn, sim_logon *l, int64_t tl)
{
    sim_world *w = r->w;
    const sim_object *obj = hop->object;
    const sim_account *a = &w->accounts[hop->account];
    int src = hop->src_host, to = hop->dst_host;
    if (hop->result == RES_DENIED) {
        const char *params[] = {"application-specific",
                                "Remote",
                                "Launch",
                                obj->clsid,
                                obj->appid ? obj->appid : obj->clsid,
                                a->domain,
                                a->name,
                                a->sid,
                                w->hosts[src].ip,
                                "Unavailable",
                                "Unavailable"};
        ev_dcom_error(w, to, 10016, params, 11, tl, a->sid, tagn, SIDE_TARGET);
    } else {
        const char *params[] = {a->domain, a->name, a->sid, w->hosts[src].ip};
        ev_dcom_error(w, to, 10036, params, 4, tl, "S-1-5-18", tagn, SIDE_TARGET);
    }
    ev_logoff(w, l, tl + 2 * SIM_TICKS);
    tag_client(r, client, tagn);
    w->now = tl + SIM_TICKS;
    hop->t1 = w->now;
    return 0;
}

/* The COM server on the target: explorer (a shell object), the netsvcs service host, or
 * a new process under DcomLaunch started at ts; its process index, or -1. */
static int dcom_server(run *r, const snode *st, sim_hop *hop, int tagn, uint64_t logon_id,
                       int64_t ts)
{
    sim_world *w = r->w;
    const sim_object *obj = hop->object;
    int to = hop->dst_host, acct = hop->account;
    int server;
    if (!strcmp(obj->server, "explorer")) {
        server = proc_ref(r, st, to, "explorer");
        if (server < 0)
            return -1;
    } else if (!strcmp(obj->server, "service")) {
        server = w->hosts[to].p_netsvcs;
    } else {
        server = sim_proc_new(w, to, w->hosts[to].p_dcomlaunch, obj->image, obj->command_line, acct,
                              logon_id, w->accounts[acct].admin ? "High" : "Medium", ts);
        if (server < 0)
            return -1;
        sim_proc *sp = &w->procs[server];
        sp->hop_server = tagn;
        if (obj->original_file_name)
            sp->orig = obj->original_file_name;
        if (obj->description)
            sp->desc = obj->description;
        if (obj->company)
            sp->company = obj->company;
        if (obj->product)
            sp->product = obj->product;
        ev_process_start(w, server, tagn, SIDE_TARGET, EVC_ACTIVATION);
    }
    if (strcmp(obj->server, "process"))
        w->procs[server].hop_server = tagn; /* what it starts now belongs to this hop */
    hop->server_proc = server;
    return server;
}

/* One DCOM activation from a client to a target, as its result calls for: the endpoint
 * mapper, the network logon, then a refusal or the COM server and the call on the object. */
static int step_dcom(run *r, const snode *st)
{
    int client = -1;
    int tagn = dcom_hop_new(r, st, &client);
    if (tagn < 0)
        return -1;
    sim_world *w = r->w;
    sim_hop *hop = &w->hops[tagn - 1];
    int src = hop->src_host, to = hop->dst_host, acct = hop->account;
    int64_t t = w->now;
    uint16_t sport = sim_port(w, src, 0);
    if (hop->result == RES_UNREACHABLE)
        return dcom_unreachable(r, hop, client, tagn, t, sport);
    ev_connection(w, client, w->hosts[to].p_rpcss, to, sport, 135, t, tagn, EVC_OUTBOUND, EVC_EPM,
                  "dce_rpc", 1);
    ev_rpc_calls(w, src, to, sport, 135, t + 40000, epm_calls, 2, tagn);
    if (snode_get(st, "explicit_credentials") && hop->client >= 0)
        ev_explicit_logon(w, client, acct, to, t - 10000);
    sim_logon *l = sim_logon_new(w, to, acct, 3, src, hop->kerberos, t + 60000);
    if (!l)
        return -1;
    l->src_port = sport;
    ev_logon(w, l, tagn);
    int64_t tl = t + (int64_t)(3 + sim_rng_below(&w->rng, 5)) * 1000000;
    if (hop->result == RES_DENIED || hop->result == RES_HARDENING)
        return dcom_refused(r, hop, client, tagn, l, tl);
    int server = dcom_server(r, st, hop, tagn, l->id, tl);
    if (server < 0)
        return -1;
    /* the call on the object, to the server's own port */
    uint16_t sport2 = sim_port(w, src, 0), dport = sim_port(w, to, 1);
    int64_t tc = tl + (int64_t)(2 + sim_rng_below(&w->rng, 6)) * 1000000;
    ev_connection(w, client, server, to, sport2, dport, tc, tagn, EVC_OUTBOUND, EVC_SERVER_IN,
                  "dce_rpc", 1);
    int wmi = hop->object->technique && !strcmp(hop->object->technique, "T1047");
    ev_rpc_calls(w, src, to, sport2, dport, tc + 30000, wmi ? wmi_calls : object_calls, 3, tagn);
    ev_logoff(w, l, tc + (int64_t)(60 + sim_rng_below(&w->rng, 120)) * SIM_TICKS);
    tag_client(r, client, tagn);
    if (name_proc(r, st, arg(r, st, "as"), server))
        return -1;
    w->now = tc + SIM_TICKS;
    hop->t1 = w->now;
    return 0;
}

static int step_script(run *r, const snode *st)
{
    static const char *const keys[] = {"process", "text", "path", NULL};
    if (check_keys(r, st, "script", keys))
        return -1;
    const char *ref = arg(r, st, "process");
    int p = ref ? proc_ref(r, snode_get(st, "process"), -1, ref) : -1;
    const char *text = arg(r, st, "text");
    if (p < 0 || !text)
        return r->w->err[0] ? -1 : fail(r, st, "script: '%s' and 'process' are required", "text");
    ev_script(r->w, p, text, arg(r, st, "path"), r->w->now, 0);
    tick(r);
    return 0;
}

static int proc_or_system(run *r, const snode *st, int host)
{
    const char *ref = arg(r, st, "process");
    return proc_ref(r, snode_get(st, "process"), host, ref ? ref : "system");
}

static int step_file(run *r, const snode *st)
{
    static const char *const keys[] = {"host",    "path",  "process",  "from",
                                       "account", "share", "relative", NULL};
    if (check_keys(r, st, "file", keys))
        return -1;
    sim_world *w = r->w;
    int host = host_arg(r, st, "host", 1);
    const char *path = arg(r, st, "path");
    if (host < 0 || !path)
        return w->err[0] ? -1 : fail(r, st, "file: '%s' is required", "path");
    int p = proc_or_system(r, st, host);
    if (p < 0)
        return -1;
    const char *from = arg(r, st, "from");
    if (from) {
        /* written over SMB from another host: the share access, the connection, the file */
        int client = client_proc(r, st, "from");
        int acct = account_arg(r, st, "account");
        if (client < 0 || acct < 0)
            return w->err[0] ? -1 : fail(r, st, "file: '%s' needs 'account'", "from");
        int src = w->procs[client].host;
        uint16_t sport = sim_port(w, src, 0);
        ev_connection(w, client, w->hosts[host].p_system, host, sport, 445, w->now, 0, EVC_NONE,
                      EVC_NONE, "smb", 1);
        sim_logon *l =
            sim_logon_new(w, host, acct, 3, src, !w->hosts[src].linux_os, w->now + 20000);
        if (!l)
            return -1;
        l->src_port = sport;
        ev_logon(w, l, 0);
        const char *share = arg(r, st, "share"), *rel = arg(r, st, "relative");
        ev_share(w, host, l, share ? share : "C$", rel, w->now + 50000, 0);
        ev_logoff(w, l, w->now + 30 * SIM_TICKS);
    }
    ev_file(w, p, path, w->now + 80000,
            w->procs[p].hop_server ? w->procs[p].hop_server : w->procs[p].hop_child);
    tick(r);
    return 0;
}

static int step_load(run *r, const snode *st)
{
    static const char *const keys[] = {"process", "image", "signed", NULL};
    if (check_keys(r, st, "load", keys))
        return -1;
    static const char *const yes_no[] = {"false", "true", NULL};
    const char *ref = arg(r, st, "process"), *dll = arg(r, st, "image");
    int sg = choice(r, st, "signed", yes_no, 0);
    if (sg < 0)
        return -1;
    int p = ref ? proc_ref(r, snode_get(st, "process"), -1, ref) : -1;
    if (p < 0 || !dll)
        return r->w->err[0] ? -1 : fail(r, st, "load: '%s' and 'process' are required", "image");
    const sim_proc *pp = &r->w->procs[p];
    ev_image_load(r->w, p, dll, sg, r->w->now, pp->hop_server ? pp->hop_server : pp->hop_child);
    tick(r);
    return 0;
}

static int step_registry(run *r, const snode *st)
{
    static const char *const keys[] = {"host", "process", "key", "details", NULL};
    if (check_keys(r, st, "registry", keys))
        return -1;
    int host = host_arg(r, st, "host", 1);
    const char *key = arg(r, st, "key"), *details = arg(r, st, "details");
    if (host < 0 || !key)
        return r->w->err[0] ? -1 : fail(r, st, "registry: '%s' is required", "key");
    int p = proc_or_system(r, st, host);
    if (p < 0)
        return -1;
    ev_registry(r->w, p, key, details ? details : "DWORD (0x00000001)", r->w->now, 0);
    tick(r);
    return 0;
}

static int step_service(run *r, const snode *st)
{
    static const char *const keys[] = {"host", "name", "state", NULL};
    if (check_keys(r, st, "service", keys))
        return -1;
    int host = host_arg(r, st, "host", 1);
    const char *name = arg(r, st, "name"), *state = arg(r, st, "state");
    if (host < 0 || !name)
        return r->w->err[0] ? -1 : fail(r, st, "service: '%s' is required", "name");
    ev_service(r->w, host, name, state ? state : "running", r->w->now);
    tick(r);
    return 0;
}

static int step_exit(run *r, const snode *st)
{
    if (st->type != SN_SCALAR)
        return fail(r, st, "'%s' takes the name of a process", "exit");
    int p = proc_ref(r, st, -1, st->text);
    if (p < 0)
        return -1;
    ev_process_end(r->w, p, r->w->now);
    tick(r);
    return 0;
}

static int run_steps(run *r, const snode *steps);

static int step_for_each(run *r, const snode *st)
{
    static const char *const keys[] = {"var", "in", "steps", NULL};
    if (check_keys(r, st, "for_each", keys))
        return -1;
    const char *var = snode_str(st, "var");
    const snode *in = snode_get(st, "in"), *steps = snode_get(st, "steps");
    if (!var || !in || in->type != SN_SEQ || !steps)
        return fail(r, st, "for_each needs var, in (a list) and steps%s", "");
    if (r->nvars >= sizeof r->vars / sizeof r->vars[0])
        return fail(r, st, "for_each nested too deep%s", "");
    size_t slot = r->nvars++;
    r->vars[slot].name = var;
    for (size_t i = 0; i < in->n; i++) {
        if (in->vals[i]->type != SN_SCALAR)
            return fail(r, in->vals[i], "for_each values are plain%s", "");
        r->vars[slot].value = in->vals[i]->text;
        if (run_steps(r, steps))
            return -1;
    }
    r->nvars--;
    return 0;
}

static int run_steps(run *r, const snode *steps)
{
    if (!steps || steps->type != SN_SEQ)
        return fail(r, steps, "'%s' must be a list of steps", "steps");
    for (size_t i = 0; i < steps->n; i++) {
        const snode *s = steps->vals[i];
        if (s->type != SN_MAP || s->n != 1)
            return fail(r, s,
                        "a step is one of process, logon, connect, dcom, script, file, "
                        "load, registry, service, exit, wait, for_each%s",
                        "");
        const char *type = s->keys[0];
        const snode *v = s->vals[0];
        int rc;
        if (!strcmp(type, "wait")) {
            double secs;
            rc = v->type != SN_SCALAR ? fail(r, v, "'%s' takes seconds", "wait")
                                      : parse_seconds(r, v, v->text, &secs);
            if (!rc)
                r->w->now += (int64_t)(secs * SIM_TICKS);
        } else if (!strcmp(type, "process"))
            rc = step_process(r, v);
        else if (!strcmp(type, "logon"))
            rc = step_logon(r, v);
        else if (!strcmp(type, "connect"))
            rc = step_connect(r, v);
        else if (!strcmp(type, "dcom"))
            rc = step_dcom(r, v);
        else if (!strcmp(type, "script"))
            rc = step_script(r, v);
        else if (!strcmp(type, "file"))
            rc = step_file(r, v);
        else if (!strcmp(type, "load"))
            rc = step_load(r, v);
        else if (!strcmp(type, "registry"))
            rc = step_registry(r, v);
        else if (!strcmp(type, "service"))
            rc = step_service(r, v);
        else if (!strcmp(type, "exit"))
            rc = step_exit(r, v);
        else if (!strcmp(type, "for_each"))
            rc = step_for_each(r, v);
        else
            rc = fail(r, s, "unknown step '%s'", type);
        if (rc || r->w->err[0])
            return -1;
        if (r->w->nevs > MAX_EVENTS)
            return fail(r, s, "the scenarios make more than 2,000,000 records (%s)",
                        "a loop too long?");
        if (r->w->arena.total > MAX_BYTES)
            return fail(r, s, "the scenarios' records take more than 256 MiB (%s)",
                        "a loop too long?");
    }
    return 0;
}

int sim_run_scenario(sim_world *w, const dh_sim_scenario *s, int64_t start)
{
    run *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->w = w;
    r->s = s;
    r->first_ev = w->nevs;
    w->now = start;
    w->err_origin = s->origin;
    /* Every declared host exists, even one no step names (it still has its logs). */
    for (size_t i = 0; s->hosts && i < s->hosts->n; i++)
        if (sim_host_for(w, s, s->hosts->keys[i]) < 0) {
            free(r);
            return -1;
        }
    int rc = run_steps(r, s->steps);
    /* Explorer and the service hosts outlive the scenario: what they start later is not
     * this scenario's hop's doing. */
    for (size_t i = 0; i < w->nhops; i++) {
        int sp = w->hops[i].server_proc;
        if (w->hops[i].scenario == s && sp >= 0 && strcmp(w->hops[i].object->server, "process"))
            w->procs[sp].hop_server = 0;
    }
    free(r);
    return rc;
}
