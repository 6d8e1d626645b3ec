/* The self-test: every scenario under every sensor set is generated into a temporary
 * folder, hunted with the rules and the correlator through the public library calls (the
 * same pipeline as `dcomhunt hunt`: scan in time order, match, correlate with findings
 * finished as the window passes), and the findings are compared with the ground truth of
 * that run:
 *
 * - each finding the truth expects must come out once, with the target, the source, the
 *   object, the account and the commands the evidence supports;
 * - nothing else may be reported as lateral_movement or attempt (on a benign or cousin
 *   scenario, nothing at all);
 * - where the truth expects nothing (the evidence cannot support it), the cell says why. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcomhunt/engine.h"
#include "sim/sim.h"

/* ---- a finding, copied out of the correlator's callback ------------------------------- */

typedef struct found {
    dh_finding_kind kind;
    char target_host[256], target_ip[64], source_host[256], source_ip[64];
    char object[64], clsid[64], user[256];
    char *commands[16];
    size_t ncommands;
    int used;
} found;

typedef struct found_list {
    found *v;
    size_t n, cap;
} found_list;

/* A finding's byte string as text (the simulator writes no NUL into its values). */
static void copy(char *dst, size_t cap, dh_str s)
{
    snprintf(dst, cap, "%.*s", (int)(s.len < cap ? s.len : cap - 1), s.ptr ? s.ptr : "");
}

/* The engine's finding sink: keeps what judging needs of each finding. Returns nonzero
 * (which stops the run) when it cannot keep one, so a cell is never judged on findings
 * that went missing. */
static int on_finding(void *ctx, const dh_finding *f)
{
    found_list *l = ctx;
    if (f->kind == DH_FINDING_SIGNAL)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        found *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    found *x = &l->v[l->n++];
    memset(x, 0, sizeof *x);
    x->kind = f->kind;
    copy(x->target_host, sizeof x->target_host, f->target_host);
    copy(x->target_ip, sizeof x->target_ip, f->target_ip);
    copy(x->source_host, sizeof x->source_host, f->source_host);
    copy(x->source_ip, sizeof x->source_ip, f->source_ip);
    copy(x->object, sizeof x->object, f->com_object);
    copy(x->clsid, sizeof x->clsid, f->clsid);
    copy(x->user, sizeof x->user, f->user);
    for (size_t i = 0; i < f->ncommands && i < 16; i++) {
        if ((x->commands[x->ncommands] = malloc(f->commands[i].len + 1)) == NULL)
            return 1;
        copy(x->commands[x->ncommands++], f->commands[i].len + 1, f->commands[i]);
    }
    return 0;
}

static void found_free(found_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t k = 0; k < l->v[i].ncommands; k++)
            free(l->v[i].commands[k]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- the hunt: through the engine, as dcomhunt hunt does ---------------------------- */

typedef struct hunt {
    found_list *out;
    int damaged; /* the engine reported a problem with the simulated files */
} hunt;

static int hunt_finding(void *ctx, const dh_finding *f)
{
    return on_finding(((hunt *)ctx)->out, f);
}

static void hunt_error(void *ctx, const dh_error *e)
{
    (void)e;
    ((hunt *)ctx)->damaged = 1;
}

static dh_status hunt_dir(const char *dir, const dh_ruleset *rs, unsigned threads, found_list *out)
{
    hunt h = {out, 0};
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_FINDINGS;
    o.threads = threads;
    o.sink = (dh_engine_sink){.ctx = &h, .on_finding = hunt_finding, .on_error = hunt_error};
    dh_engine *eng = NULL;
    dh_status st = dh_engine_new(&o, rs, &eng);
    const char *paths[] = {dir};
    if (!st)
        st = dh_engine_run(eng, paths, 1);
    if (st == DH_ERR_FORMAT)
        st = DH_OK; /* truth.jsonl is not an input format: skipped, as hunt skips it */
    if (!st)
        st = dh_engine_finish(eng);
    if (st == DH_ERR_CANCELLED)
        st = DH_ERR_NOMEM; /* on_finding could not keep a finding */
    dh_engine_free(eng);
    if (!st && h.damaged)
        st = DH_ERR_FORMAT; /* what dcomhunt wrote itself must read back whole */
    return st;
}

/* ---- comparing ---------------------------------------------------------------------- */

static size_t bare_len(const char *h)
{
    if (h[0] >= '0' && h[0] <= '9')
        return strlen(h); /* an address is not cut at its dots */
    return strcspn(h, ".");
}

static int same_host(const char *a, const char *b)
{
    if (!a || !b || !*a || !*b)
        return 0;
    size_t la = bare_len(a), lb = bare_len(b);
    return la == lb && !strncasecmp(a, b, la);
}

/* The account's name part (after any DOMAIN\): Kerberos logons name the realm, Sysmon the
 * NetBIOS domain, for the same account. */
static int same_account(const char *want, const char *got)
{
    const char *w = strrchr(want, '\\'), *g = strrchr(got, '\\');
    w = w ? w + 1 : want;
    g = g ? g + 1 : got;
    return *g && !strcasecmp(w, g);
}

static int kind_fits(const sim_expected *x, const found *f)
{
    if (!strcmp(x->kind, "lateral_movement"))
        return f->kind == DH_FINDING_LATERAL_MOVEMENT;
    if (!strcmp(x->kind, "attempt"))
        return f->kind == DH_FINDING_ATTEMPT;
    /* source activity: the source's own record, or a chain that took it in */
    return f->kind == DH_FINDING_SOURCE_ACTIVITY || f->kind == DH_FINDING_LATERAL_MOVEMENT;
}

static int same_place(const sim_expected *x, const found *f)
{
    if (!strcmp(x->kind, "source_activity"))
        return same_host(x->source_host, f->source_host) &&
               (!*f->target_host || same_host(x->target_host, f->target_host) ||
                (x->target_ip && !strcmp(x->target_ip, f->target_host)));
    return same_host(x->target_host, f->target_host) ||
           (x->target_ip && *f->target_ip && !strcmp(x->target_ip, f->target_ip));
}

/* What differs between what the evidence supports and the finding; "" when nothing. */
static void differences(const sim_expected *x, const found *f, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
#define ADD(...) n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__)
    if (x->source_ip && strcmp(x->source_ip, f->source_ip))
        ADD("source address %s, found '%s'; ", x->source_ip, f->source_ip);
    if (x->source_host && !same_host(x->source_host, f->source_host))
        ADD("source host %s, found '%s'; ", x->source_host, f->source_host);
    int object_ok = !x->objects[0];
    for (int k = 0; k < 2 && !object_ok; k++)
        object_ok = (x->objects[k] && !strcmp(x->objects[k], f->object)) ||
                    (x->clsids[k] && !strcasecmp(x->clsids[k], f->clsid));
    if (!object_ok)
        ADD("object %s%s%s, found '%s'; ", x->objects[0], x->objects[1] ? " or " : "",
            x->objects[1] ? x->objects[1] : "", f->object);
    if (x->account && !same_account(x->account, f->user))
        ADD("account %s, found '%s'; ", x->account, f->user);
    for (size_t i = 0; i < x->ncommands; i++) {
        int hit = 0;
        for (size_t k = 0; k < f->ncommands && !hit; k++)
            hit = strstr(f->commands[k], x->commands[i]) != NULL;
        if (!hit)
            ADD("command '%s' not among the finding's; ", x->commands[i]);
    }
#undef ADD
    if (n >= 2 && n < cap)
        out[n - 2] = 0;
}

static const char *kind_text(dh_finding_kind k)
{
    return dh_finding_kind_name(k);
}

typedef struct cell_text {
    char buf[2048];
    size_t n;
} cell_text;

static void say(cell_text *c, const char *fmt, const char *a, const char *b, const char *d)
{
    if (c->n && c->n < sizeof c->buf - 2)
        c->n += (size_t)snprintf(c->buf + c->n, sizeof c->buf - c->n, " | ");
    if (c->n < sizeof c->buf)
        c->n += (size_t)snprintf(c->buf + c->n, sizeof c->buf - c->n, fmt, a ? a : "", b ? b : "",
                                 d ? d : "");
    if (c->n >= sizeof c->buf)
        c->n = sizeof c->buf - 1;
}

static dh_selftest_verdict judge(const sim_truth *t, const char *scenario, const char *kind,
                                 found_list *fl, cell_text *ct, size_t *nexp)
{
    int miss = 0, partial = 0, dup = 0, fp = 0, undetectable = 0;
    *nexp = 0;
    const char *why_none = NULL;
    for (size_t i = 0; i < sim_truth_count(t); i++) {
        const sim_expected *x = sim_truth_get(t, i);
        if (strcmp(x->scenario, scenario))
            continue;
        if (!x->kind) {
            if (x->hop) {
                undetectable++;
                why_none = x->reason;
                char hop[16];
                snprintf(hop, sizeof hop, "%d", x->hop);
                say(ct, "hop %s: nothing can be expected: %s%s", hop, x->reason, NULL);
            }
            continue;
        }
        (*nexp)++;
        size_t hits = 0;
        const found *best = NULL;
        for (size_t k = 0; k < fl->n; k++) {
            found *f = &fl->v[k];
            if (!kind_fits(x, f) || !same_place(x, f))
                continue;
            char diff[512];
            differences(x, f, diff, sizeof diff);
            if (!diff[0]) {
                hits++;
                f->used = 1;
                best = f;
            } else if (!best) {
                best = f;
                f->used = 1;
                say(ct, "%s on %s: %s", x->kind, x->target_host ? x->target_host : x->source_host,
                    diff);
            } else {
                f->used = 1;
            }
        }
        char hop[16];
        snprintf(hop, sizeof hop, "%d", x->hop);
        if (hits > 1) {
            dup++;
            char times[24];
            snprintf(times, sizeof times, "%zu", hits);
            say(ct, "hop %s: %s reported %s times", hop, x->kind, times);
        } else if (hits == 1) {
            say(ct, "hop %s: %s found%s", hop, x->kind, "");
        } else if (best) {
            partial++;
        } else {
            miss++;
            say(ct, "hop %s: expected %s, not found (%s)", hop, x->kind,
                x->target_host ? x->target_host : "");
        }
    }
    for (size_t k = 0; k < fl->n; k++) {
        const found *f = &fl->v[k];
        if (f->used || f->kind == DH_FINDING_SOURCE_ACTIVITY)
            continue;
        fp++;
        char what[600];
        snprintf(what, sizeof what, "%s -> %s", *f->source_host ? f->source_host : f->source_ip,
                 f->target_host);
        say(ct, "unexpected %s %s (%s)", kind_text(f->kind), what, f->object);
    }
    if (!strcmp(kind, "benign") || !strcmp(kind, "cousin"))
        return fp ? DH_SELFTEST_FALSE_POSITIVE : DH_SELFTEST_QUIET;
    if (miss)
        return DH_SELFTEST_MISS;
    if (partial)
        return DH_SELFTEST_PARTIAL;
    if (fp)
        return DH_SELFTEST_FALSE_POSITIVE;
    if (dup)
        return DH_SELFTEST_DUPLICATE;
    if (!*nexp && undetectable) {
        ct->n = 0;
        say(ct, "%s%s%s", why_none, NULL, NULL);
        return DH_SELFTEST_UNDETECTABLE;
    }
    return DH_SELFTEST_PASS;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void dh_selftest_opts_init(dh_selftest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->noise_per_hour = 120;
}

const char *dh_selftest_verdict_name(dh_selftest_verdict v)
{
    static const char *const names[] = {"pass",    "quiet",          "undetectable", "miss",
                                        "partial", "false_positive", "duplicate"};
    return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}

dh_status dh_selftest_run(const dh_sim_catalog *cat, const dh_ruleset *rs,
                          const dh_selftest_opts *o, dh_selftest_fn fn, void *ctx, dh_error *err)
{
    if (!cat || !rs || !o || !fn)
        return DH_ERR_ARG;
    char root[4096];
    const char *base = o->work_dir ? o->work_dir : getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((o->work_dir && sim_mkdirs(o->work_dir)) || /* --keep DIR: made if new */
        (size_t)snprintf(root, sizeof root, "%.3000s/dcomhunt-selftest-XXXXXX", base) >=
            sizeof root ||
        !mkdtemp(root)) {
        if (err) {
            memset(err, 0, sizeof *err);
            err->status = DH_ERR_IO;
            err->chunk = -1;
            snprintf(err->file, sizeof err->file, "%.1000s", base);
            snprintf(err->message, sizeof err->message, "cannot create a working folder");
        }
        return DH_ERR_IO;
    }
    dh_status st = DH_OK;
    size_t nsc = o->nscenarios ? o->nscenarios : dh_sim_catalog_count(cat);
    size_t nss = o->nsensor_sets ? o->nsensor_sets : dh_sim_sensor_set_count();
    for (size_t i = 0; i < nsc && !st; i++) {
        const dh_sim_scenario *s =
            o->nscenarios ? dh_sim_catalog_find(cat, o->scenarios[i]) : dh_sim_catalog_get(cat, i);
        if (!s) {
            if (err) {
                memset(err, 0, sizeof *err);
                err->status = DH_ERR_ARG;
                err->chunk = -1;
                snprintf(err->message, sizeof err->message, "no scenario named '%.200s'",
                         o->scenarios[i]);
            }
            st = DH_ERR_ARG;
            break;
        }
        for (size_t k = 0; k < nss && !st; k++) {
            int set = o->nsensor_sets ? o->sensor_sets[k] : (int)k;
            char dir[4200];
            snprintf(dir, sizeof dir, "%s/%s.%s", root, s->name,
                     dh_sim_sensor_set_name((size_t)set));
            dh_sim_opts so;
            dh_sim_opts_init(&so);
            const char *names[1] = {s->name};
            so.scenarios = names;
            so.nscenarios = 1;
            so.sensor_set = set;
            so.seed = o->seed;
            so.threads = o->threads;
            so.noise_per_hour = o->noise_per_hour;
            so.format = o->format;
            so.defender_format = o->defender_format;
            so.drop = o->drop;
            /* the skews of roles this scenario has (and of the network sensor) */
            dh_sim_setting skews[64];
            size_t nsk = 0;
            for (size_t q = 0; q < o->nskews && nsk < 64; q++) {
                const char *key = o->skews[q].key;
                size_t hl = strcspn(key, ":");
                int keep = !strcmp(key, "zeek");
                for (size_t r = 0; s->hosts && r < s->hosts->n && !keep; r++)
                    keep = strlen(s->hosts->keys[r]) == hl && !strncmp(s->hosts->keys[r], key, hl);
                if (keep)
                    skews[nsk++] = o->skews[q];
            }
            so.skews = skews;
            so.nskews = nsk;
            dh_sim_stats stats;
            sim_result *res = NULL;
            st = sim_run(cat, &so, dir, &stats, err, &res);
            if (st)
                break;
            found_list fl = {0};
            st = hunt_dir(dir, rs, o->threads, &fl);
            if (!st) {
                cell_text ct = {{0}, 0};
                size_t nexp = 0;
                dh_selftest_cell cell = {
                    s->name, dh_sim_sensor_set_name((size_t)set), DH_SELFTEST_PASS, NULL, 0, fl.n};
                cell.verdict = judge(res->t, s->name, s->kind, &fl, &ct, &nexp);
                cell.detail = ct.buf;
                cell.expected = nexp;
                fn(ctx, &cell);
            } else if (err) {
                memset(err, 0, sizeof *err);
                err->status = st;
                err->chunk = -1;
                snprintf(err->file, sizeof err->file, "%.1000s", dir);
                snprintf(err->message, sizeof err->message, "the hunt failed");
            }
            found_free(&fl);
            sim_result_free(res);
            if (!o->keep)
                nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
    }
    if (!o->keep)
        rmdir(root);
    return st;
}
