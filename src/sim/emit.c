/* Writing the simulated estate's logs: one job per host (its scenario events merged in time
 * with its background noise, through its sensors into EVTX per channel or JSON lines, and
 * Defender rows) and one for the network sensor (Zeek conn and dce_rpc logs). Jobs run on
 * a few threads; each writes only its own files and draws only from its own random
 * streams, so the bytes do not depend on the thread count.
 *
 * The writers are the project's own: the EVTX writer, the ECS and NXLog JSON writers of
 * `dump --to`, the Defender row writers, and the Zeek TSV writer. Events reach the JSON
 * and Defender writers as normalized dh_events, as a reader would have made them. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/timefmt.h"
#include "event/event_impl.h"
#include "event/mappings/mappings.h"
#include "output/evtx_schema.h"
#include "output/evtx_write.h"
#include "output/json.h"
#include "output/mde.h"
#include "output/zeek_write.h"
#include "sim/sim.h"

enum { CH_SYSMON, CH_SECURITY, CH_SYSTEM, CH_POWERSHELL, NCH };

static int channel_of(int src)
{
    switch (src) {
    case SRC_SYSMON:
        return CH_SYSMON;
    case SRC_SECURITY:
    case SRC_WFP:
        return CH_SECURITY;
    case SRC_SYSTEM:
        return CH_SYSTEM;
    case SRC_POWERSHELL:
        return CH_POWERSHELL;
    default:
        return -1;
    }
}

typedef struct job {
    sim_world *w;
    int host; /* -1: the network sensor */
    const char *dir;
    dh_evtx_writer *evtx[NCH];
    FILE *json, *mde;
    char json_path[4096], mde_path[4096];
    dh_buf line, scratch, zconn, zdce;
    uint64_t rid[NCH], mde_rid;
    sim_rng drop;
    uint64_t events, noise, bytes, files, dropped;
    uint64_t budget; /* noise bytes this job may write (0: by time) */
    dh_status st;
    char err[512];
    /* files written, for --duplicate */
    char **written;
    size_t nwritten;
} job;

/* a/b or a/b/c into out; -1 if it does not fit */
static int join(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    if (la + lb + lc + 3 > cap)
        return -1;
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb);
    size_t n = la + 1 + lb;
    if (c) {
        out[n++] = '/';
        memcpy(out + n, c, lc);
        n += lc;
    }
    out[n] = 0;
    return 0;
}

int sim_mkdirs(const char *path)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++)
        if (tmp[i] == '/' || tmp[i] == 0) {
            char c = tmp[i];
            tmp[i] = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            tmp[i] = c;
        }
    return 0;
}

static void job_fail(job *j, dh_status st, const char *what, const char *path)
{
    if (j->st)
        return;
    j->st = st;
    snprintf(j->err, sizeof j->err, "%s %.400s: %s", what, path, dh_status_str(st));
}

static int remember(job *j, const char *path)
{
    char **v = realloc(j->written, (j->nwritten + 1) * sizeof *v);
    if (!v)
        return -1;
    j->written = v;
    v[j->nwritten] = strdup(path);
    if (!v[j->nwritten])
        return -1;
    j->nwritten++;
    j->files++;
    return 0;
}

/* Renders the values that depend on the logged time. */
static void put_time_value(char *buf, size_t cap, const char *name, int64_t logged)
{
    if (!strcmp(name, "ts")) {
        dh_buf b = {.data = buf, .len = 0, .cap = cap, .limit = cap};
        if (dh_zeek_time(&b, logged) == DH_OK && b.len < cap)
            buf[b.len] = 0;
        else
            buf[0] = 0;
        return;
    }
    /* Sysmon's UtcTime: "YYYY-MM-DD HH:MM:SS.mmm" */
    char iso[40];
    dh_buf b = {.data = iso, .len = 0, .cap = sizeof iso, .limit = sizeof iso};
    if (dh_time_put_iso(&b, logged) != DH_OK || b.len < 23) {
        buf[0] = 0;
        return;
    }
    iso[10] = ' ';
    snprintf(buf, cap, "%.23s", iso);
}

typedef struct rendered {
    dh_kv kv[64];
    size_t n;
    char times[4][40];
} rendered;

static void render(const sim_ev *e, int64_t logged, rendered *r)
{
    int nt = 0;
    r->n = 0;
    for (size_t i = 0; i < e->nkv && i < 64; i++) {
        const char *v = e->kv[i].value;
        if (v == sim_logged_time && nt < 4) {
            put_time_value(r->times[nt], sizeof r->times[nt], e->kv[i].name, logged);
            v = r->times[nt++];
        }
        r->kv[r->n].name = (dh_str){e->kv[i].name, strlen(e->kv[i].name)};
        r->kv[r->n].value = (dh_str){v, strlen(v)};
        r->n++;
    }
}

/* The event as a reader would hand it over: envelope, data, taxonomy fields. */
static void as_event(dh_event *ev, const sim_ev *e, const sim_host *h, const rendered *r,
                     int64_t logged, uint64_t rid)
{
    memset(ev, 0, sizeof *ev);
    const char *prov = sim_ev_provider(e), *chan = sim_sources[e->src].channel;
    ev->provider = (dh_str){prov, strlen(prov)};
    ev->channel = (dh_str){chan, strlen(chan)};
    ev->host = (dh_str){h->fqdn, strlen(h->fqdn)};
    ev->event_id = e->id;
    ev->record_id = rid;
    ev->time = logged;
    ev->data = r->kv;
    ev->ndata = r->n;
    ev->chunk = -1;
    ev->file = "";
    dh_map_windows_apply(ev);
}

static int dropped(job *j)
{
    double p = j->w->o->drop;
    return p > 0 && sim_rng_unit(&j->drop) < p;
}

static dh_evtx_writer *evtx_for(job *j, int ch, int src)
{
    if (j->evtx[ch])
        return j->evtx[ch];
    const sim_host *h = &j->w->hosts[j->host];
    char path[4096], dir[4096];
    if (join(path, sizeof path, j->dir, h->name, sim_sources[src].file) ||
        join(dir, sizeof dir, j->dir, h->name, NULL) || sim_mkdirs(dir)) {
        job_fail(j, DH_ERR_IO, "cannot create", dir);
        return NULL;
    }
    dh_evtx_writer_opts o = {0, j->w->o->dirty};
    o.first_record_id = j->rid[ch];
    dh_status st = dh_evtx_writer_open(path, &o, &j->evtx[ch]);
    if (st) {
        job_fail(j, st, "cannot create", path);
        return NULL;
    }
    if (remember(j, path))
        job_fail(j, DH_ERR_NOMEM, "out of memory for", path);
    return j->evtx[ch];
}

static FILE *file_for(job *j, FILE **f, char *path, size_t cap, const char *sub, const char *name)
{
    if (*f)
        return *f;
    char dir[4096];
    if (join(dir, sizeof dir, j->dir, sub, NULL) || join(path, cap, dir, name, NULL) ||
        sim_mkdirs(dir)) {
        job_fail(j, DH_ERR_IO, "cannot create", dir);
        return NULL;
    }
    *f = fopen(path, "w");
    if (!*f) {
        job_fail(j, DH_ERR_IO, "cannot create", path);
        return NULL;
    }
    setvbuf(*f, NULL, _IOFBF, 1 << 20);
    if (remember(j, path))
        job_fail(j, DH_ERR_NOMEM, "out of memory for", path);
    return *f;
}

static void put_line(job *j, FILE *f, const char *path)
{
    dh_status st = dh_buf_status(&j->line);
    if (st) /* a piece did not fit (the error sticks): the line never goes out cut short */
        job_fail(j, st, "cannot hold a line of", path);
    else if (j->line.len && fwrite(j->line.data, 1, j->line.len, f) != j->line.len)
        job_fail(j, DH_ERR_IO, "cannot write", path);
    else
        j->bytes += j->line.len;
    dh_buf_reset(&j->line);
}

/* Is this event one Defender records (a table of the advanced-hunting schema)? */
static int defender_sees(const sim_ev *e)
{
    return (e->src == SRC_SYSMON && (e->id == 1 || e->id == 3 || e->id == 7 || e->id == 13)) ||
           (e->src == SRC_SECURITY && e->id == 4624);
}

static void write_windows(job *j, sim_ev *e, int scenario)
{
    sim_world *w = j->w;
    const sim_host *h = &w->hosts[j->host];
    const dh_sim_opts *o = w->o;
    int ch = channel_of(e->src);
    if (ch < 0)
        return;
    rendered r;
    if (h->sensors & sim_sources[e->src].sensor) {
        int64_t logged = e->t + h->skew[e->src];
        uint64_t rid = ++j->rid[ch];
        if (dropped(j)) {
            j->dropped++;
        } else {
            render(e, logged, &r);
            if (o->format == DH_SIM_FMT_EVTX) {
                dh_evtx_writer *wr = evtx_for(j, ch, e->src);
                if (!wr)
                    return;
                const char *prov = sim_ev_provider(e);
                dh_evtx_text_event te = {
                    {prov, strlen(prov)},
                    {sim_sources[e->src].channel, strlen(sim_sources[e->src].channel)},
                    {h->fqdn, strlen(h->fqdn)},
                    e->id,
                    rid,
                    logged,
                    r.kv,
                    r.n,
                    e->pid,
                    e->tid,
                    e->user_sid,
                    e->activity};
                dh_evtx_record rec;
                dh_evtx_item items[64];
                uint64_t before = dh_evtx_writer_bytes(wr);
                dh_status st = dh_evtx_record_from_text(&te, &rec, items, 64, &j->scratch);
                if (!st)
                    st = dh_evtx_writer_add(wr, &rec, NULL);
                if (st)
                    job_fail(j, st, "cannot write an event to", h->name);
                j->bytes += dh_evtx_writer_bytes(wr) - before;
            } else {
                FILE *f = file_for(j, &j->json, j->json_path, sizeof j->json_path, h->name,
                                   o->format == DH_SIM_FMT_ECS ? "winlogbeat.json" : "nxlog.json");
                if (!f)
                    return;
                dh_event ev;
                as_event(&ev, e, h, &r, logged, rid);
                dh_status st = o->format == DH_SIM_FMT_ECS ? dh_json_event_ecs(&j->line, &ev)
                                                           : dh_json_event_otrf(&j->line, &ev);
                if (st)
                    job_fail(j, st, "cannot write an event to", j->json_path);
                put_line(j, f, j->json_path);
            }
            j->events++;
            if (scenario) {
                e->written |= 1;
                e->record_id = rid;
            }
        }
    }
    if ((h->sensors & SEN_DEFENDER) && defender_sees(e)) {
        int64_t logged = e->t + h->skew[SRC_COUNT];
        uint64_t rid = ++j->mde_rid;
        if (dropped(j)) {
            j->dropped++;
            return;
        }
        int csv = o->defender_format == DH_SIM_DEFENDER_CSV;
        char name[160];
        snprintf(name, sizeof name, "%s.%s", h->name, csv ? "csv" : "json");
        int fresh = !j->mde;
        FILE *f = file_for(j, &j->mde, j->mde_path, sizeof j->mde_path, "defender", name);
        if (!f)
            return;
        if (fresh && csv) {
            dh_mde_csv_header(&j->line);
            put_line(j, f, j->mde_path);
        }
        render(e, logged, &r);
        dh_event ev;
        as_event(&ev, e, h, &r, logged, rid);
        int wrote = 0;
        dh_status st = csv ? dh_mde_csv_event(&j->line, &ev, &wrote)
                           : dh_mde_json_event(&j->line, &ev, &wrote);
        if (st)
            job_fail(j, st, "cannot write a row to", j->mde_path);
        put_line(j, f, j->mde_path);
        if (wrote) {
            j->events++;
            if (scenario) {
                e->written |= 2;
                e->mde_id = rid;
            }
        }
    }
}

static int cmp_ev(const void *a, const void *b)
{
    const sim_ev *x = *(sim_ev *const *)a, *y = *(sim_ev *const *)b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static sim_ev **events_of(sim_world *w, int host, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < w->nevs; i++)
        if (w->evs[i].host == host)
            k++;
    sim_ev **v = malloc((k ? k : 1) * sizeof *v);
    if (!v)
        return NULL;
    k = 0;
    for (size_t i = 0; i < w->nevs; i++)
        if (w->evs[i].host == host)
            v[k++] = &w->evs[i];
    qsort(v, k, sizeof *v, cmp_ev);
    *n = k;
    return v;
}

static const char *const conn_fields[] = {
    "ts",         "uid",           "id.orig_h",     "id.orig_p",  "id.resp_h",  "id.resp_p",
    "proto",      "service",       "duration",      "orig_bytes", "resp_bytes", "conn_state",
    "local_orig", "local_resp",    "missed_bytes",  "history",    "orig_pkts",  "orig_ip_bytes",
    "resp_pkts",  "resp_ip_bytes", "tunnel_parents"};
static const char *const conn_types[] = {
    "time",   "string",   "addr",  "port",  "addr",   "port",  "enum",
    "string", "interval", "count", "count", "string", "bool",  "bool",
    "count",  "string",   "count", "count", "count",  "count", "set[string]"};
static const char *const dce_fields[] = {"ts",        "uid",       "id.orig_h", "id.orig_p",
                                         "id.resp_h", "id.resp_p", "rtt",       "named_pipe",
                                         "endpoint",  "operation"};
static const char *const dce_types[] = {"time", "string",   "addr",   "port",   "addr",
                                        "port", "interval", "string", "string", "string"};

static void write_wire(job *j, sim_ev *e, int scenario, int64_t skew)
{
    int64_t logged = e->t + skew;
    if (dropped(j)) {
        j->dropped++;
        return;
    }
    rendered r;
    render(e, logged, &r);
    const char *vals[32];
    size_t lens[32];
    for (size_t i = 0; i < r.n && i < 32; i++) {
        vals[i] = r.kv[i].value.ptr;
        lens[i] = r.kv[i].value.len;
        if (lens[i] == 1 && vals[i][0] == '-')
            vals[i] = NULL;
    }
    dh_buf *b = e->src == SRC_ZEEK_CONN ? &j->zconn : &j->zdce;
    if (dh_zeek_row(b, vals, lens, r.n))
        job_fail(j, DH_ERR_NOMEM, "cannot hold the rows of", "zeek");
    j->events++;
    if (scenario)
        e->written |= 1;
    if (b->len > (8u << 20) && dh_buf_status(b) == DH_OK) {   /* never a row cut short */
        FILE *f = e->src == SRC_ZEEK_CONN ? j->json : j->mde; /* conn.log, dce_rpc.log */
        if (f && fwrite(b->data, 1, b->len, f) != b->len)
            job_fail(j, DH_ERR_IO, "cannot write", "zeek");
        j->bytes += b->len;
        b->len = 0;
    }
}

static void run_job(job *j)
{
    sim_world *w = j->w;
    const dh_sim_opts *o = w->o;
    int64_t from = o->start - 1800 * SIM_TICKS, to = w->end + 1800 * SIM_TICKS;
    char salt[128];
    snprintf(salt, sizeof salt, "drop:%s", j->host >= 0 ? w->hosts[j->host].name : "zeek");
    sim_rng_seed(&j->drop, o->seed, salt);
    double rate = o->noise_per_hour;
    if (o->noise_bytes && rate <= 0)
        rate = 2000;
    if (o->noise_bytes)
        to = INT64_MAX / 2;
    if (j->host >= 0) {
        const sim_host *h = &w->hosts[j->host];
        if (h->linux_os || !h->sensors)
            return;
        /* records are numbered from where a log that has run for a while would be */
        for (int c = 0; c < NCH; c++) {
            sim_rng r;
            char s2[160];
            snprintf(s2, sizeof s2, "rid:%s:%d", h->name, c);
            sim_rng_seed(&r, o->seed, s2);
            j->rid[c] = 1000 + sim_rng_below(&r, 400000) * (c == CH_SECURITY ? 7 : 1);
        }
    } else {
        if (!sim_sensor_sets[o->sensor_set].zeek)
            return;
        char dir[4096];
        if (join(dir, sizeof dir, j->dir, "zeek", NULL) || sim_mkdirs(dir)) {
            job_fail(j, DH_ERR_IO, "cannot create", dir);
            return;
        }
        file_for(j, &j->json, j->json_path, sizeof j->json_path, "zeek", "conn.log");
        file_for(j, &j->mde, j->mde_path, sizeof j->mde_path, "zeek", "dce_rpc.log");
        if (j->st)
            return;
        dh_zeek_header(&j->zconn, "conn", conn_fields, conn_types, 21, from);
        dh_zeek_header(&j->zdce, "dce_rpc", dce_fields, dce_types, 10, from);
        rate *= 0.5 * (double)(w->nhosts ? w->nhosts : 1);
    }
    size_t n;
    sim_ev **v = events_of(w, j->host, &n);
    if (!v) {
        job_fail(j, DH_ERR_NOMEM, "out of memory for", "events");
        return;
    }
    sim_noise *nz =
        rate > 0 ? sim_noise_new(w, j->host, from, to, rate, o->seed ^ 0x6e6f697365ULL) : NULL;
    if (rate > 0 && !nz)
        job_fail(j, DH_ERR_NOMEM, "out of memory for", "noise");
    int64_t zskew = 0;
    if (j->host < 0)
        for (size_t i = 0; i < o->nskews; i++)
            if (!strcmp(o->skews[i].key, "zeek"))
                zskew = (int64_t)(strtod(o->skews[i].value, NULL) * SIM_TICKS);
    const sim_ev *ne = sim_noise_next(nz);
    size_t i = 0;
    while (!j->st && (i < n || ne)) {
        int take_scenario = i < n && (!ne || v[i]->t <= ne->t);
        if (take_scenario) {
            if (j->host >= 0)
                write_windows(j, v[i], 1);
            else
                write_wire(j, v[i], 1, zskew);
            i++;
        } else {
            sim_ev copy = *ne;
            uint64_t before = j->events;
            if (j->host >= 0)
                write_windows(j, &copy, 0);
            else
                write_wire(j, &copy, 0, zskew);
            j->noise += j->events - before;
            if (j->budget && j->bytes >= j->budget)
                sim_noise_stop(nz);
            ne = sim_noise_next(nz);
        }
    }
    sim_noise_free(nz);
    free(v);
}

static void close_job(job *j)
{
    for (int c = 0; c < NCH; c++)
        if (j->evtx[c]) {
            dh_status st = dh_evtx_writer_close(j->evtx[c]);
            if (st)
                job_fail(j, st, "cannot finish", "an EVTX file");
        }
    if (j->host < 0 && j->json) {
        dh_zeek_close(&j->zconn, j->w->end + 3600 * SIM_TICKS);
        dh_zeek_close(&j->zdce, j->w->end + 3600 * SIM_TICKS);
        if (dh_buf_status(&j->zconn) || dh_buf_status(&j->zdce)) /* never a row cut short */
            job_fail(j, DH_ERR_NOMEM, "cannot hold the rows of", "zeek");
        else if (fwrite(j->zconn.data, 1, j->zconn.len, j->json) != j->zconn.len ||
                 fwrite(j->zdce.data, 1, j->zdce.len, j->mde) != j->zdce.len)
            job_fail(j, DH_ERR_IO, "cannot write", "zeek");
        j->bytes += j->zconn.len + j->zdce.len;
    }
    if (j->json && fclose(j->json) != 0)
        job_fail(j, DH_ERR_IO, "cannot write", j->json_path);
    if (j->mde && fclose(j->mde) != 0)
        job_fail(j, DH_ERR_IO, "cannot write", j->mde_path);
    j->json = j->mde = NULL;
    dh_buf_free(&j->line);
    dh_buf_free(&j->scratch);
    dh_buf_free(&j->zconn);
    dh_buf_free(&j->zdce);
}

typedef struct pool {
    job *jobs;
    size_t njobs;
    atomic_size_t next;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        size_t k = atomic_fetch_add(&p->next, 1);
        if (k >= p->njobs)
            return NULL;
        run_job(&p->jobs[k]);
        close_job(&p->jobs[k]);
    }
}

/* dup/: every file written, copied as it is (the same log collected twice). */
static dh_status duplicate(job *j, const char *dir)
{
    char buf[1 << 16];
    for (size_t i = 0; i < j->nwritten; i++) {
        const char *src = j->written[i];
        const char *rel = src + strlen(dir);
        char dst[4096], ddir[4096];
        if (join(dst, sizeof dst, dir, "dup", NULL) || strlen(dst) + strlen(rel) >= sizeof dst)
            return DH_ERR_IO;
        memcpy(dst + strlen(dst), rel, strlen(rel) + 1);
        memcpy(ddir, dst, strlen(dst) + 1);
        char *slash = strrchr(ddir, '/');
        if (slash)
            *slash = 0;
        if (sim_mkdirs(ddir))
            return DH_ERR_IO;
        FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
        size_t k;
        dh_status st = in && out ? DH_OK : DH_ERR_IO;
        while (!st && (k = fread(buf, 1, sizeof buf, in)) > 0)
            if (fwrite(buf, 1, k, out) != k)
                st = DH_ERR_IO;
        if (in)
            fclose(in);
        if (out && fclose(out) != 0)
            st = DH_ERR_IO;
        if (st)
            return st;
    }
    return DH_OK;
}

dh_status sim_emit(sim_world *w, const char *dir, dh_sim_stats *stats, dh_error *err)
{
    size_t njobs = w->nhosts + 1;
    job *jobs = calloc(njobs, sizeof *jobs);
    if (!jobs)
        return DH_ERR_NOMEM;
    size_t nwin = 0;
    for (size_t i = 0; i < w->nhosts; i++)
        nwin += !w->hosts[i].linux_os && w->hosts[i].sensors;
    for (size_t i = 0; i < njobs; i++) {
        job *j = &jobs[i];
        j->w = w;
        j->host = i < w->nhosts ? (int)i : -1;
        j->dir = dir;
        dh_buf_init(&j->line, 64u << 20);
        dh_buf_init(&j->scratch, 64u << 20);
        dh_buf_init(&j->zconn, 64u << 20);
        dh_buf_init(&j->zdce, 64u << 20);
        size_t nj = nwin + (sim_sensor_sets[w->o->sensor_set].zeek ? 1 : 0);
        if (w->o->noise_bytes)
            j->budget = w->o->noise_bytes / (nj ? nj : 1);
    }
    pool p = {jobs, njobs, 0};
    unsigned nt = w->o->threads ? w->o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (nt < 1)
        nt = 1;
    if (nt > 64)
        nt = 64;
    pthread_t th[64];
    unsigned started = 0;
    for (unsigned t = 1; t < nt && t < njobs; t++)
        if (pthread_create(&th[started], NULL, worker, &p) == 0)
            started++;
    worker(&p);
    for (unsigned t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    dh_status st = DH_OK;
    for (size_t i = 0; i < njobs; i++) {
        job *j = &jobs[i];
        if (j->st && !st) {
            st = j->st;
            if (err) {
                memset(err, 0, sizeof *err);
                err->status = st;
                err->chunk = -1;
                snprintf(err->file, sizeof err->file, "%.1000s", dir);
                snprintf(err->message, sizeof err->message, "%.250s", j->err);
            }
        }
        if (!st && w->o->duplicate && duplicate(j, dir)) {
            st = DH_ERR_IO;
            if (err) {
                memset(err, 0, sizeof *err);
                err->status = st;
                err->chunk = -1;
                snprintf(err->file, sizeof err->file, "%.1000s/dup", dir);
                snprintf(err->message, sizeof err->message, "cannot copy the logs to dup/");
            }
        }
        stats->events += j->events * (w->o->duplicate ? 2 : 1);
        stats->noise_events += j->noise;
        stats->bytes += j->bytes * (w->o->duplicate ? 2 : 1);
        stats->files += j->files * (w->o->duplicate ? 2 : 1);
        stats->dropped += j->dropped;
        if (w->o->duplicate)
            stats->duplicated += j->events;
        for (size_t k = 0; k < j->nwritten; k++)
            free(j->written[k]);
        free(j->written);
    }
    free(jobs);
    return st;
}
