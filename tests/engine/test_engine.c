/* Unit tests of the engine's public contract (dcomhunt/engine.h) on a corpus file (the
 * Impacket MMC20 capture: 9 Sysmon events, one DCOM chain): reading and pushing give the
 * same detections, time order holds them to the end, a sink's nonzero return cancels,
 * options that contradict each other are refused, input after finish is refused; a buffer
 * gives what the file holding its bytes gives (EVTX, event XML, JSON lines, Zeek, Defender
 * CSV, a zip archive), an empty or damaged one is reported under its name and offset. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream, mkdtemp */
#endif
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dcomhunt/correlate.h"
#include "dcomhunt/engine.h"
#include "dcomhunt/finding.h"
#include "dcomhunt/rules.h"
#include "dcomhunt/scan.h"
#include "dcomhunt/simulate.h"

#include "core/buf.h"

static const char *const mmc[] = {
    DH_CORPUS_DIR "/EVTX-ATTACK-SAMPLES/Lateral Movement/LM_impacket_docmexec_mmc_sysmon_01.evtx"};

static dh_ruleset *pack(void)
{
    dh_ruleset *rs = NULL;
    assert_int_equal(dh_ruleset_new(&rs), DH_OK);
    assert_int_equal(dh_ruleset_add_builtin(rs, NULL, NULL), DH_OK);
    assert_int_equal(dh_ruleset_finish(rs), DH_OK);
    return rs;
}

typedef struct seen {
    size_t n, stop_at; /* stop_at: return nonzero on that detection (0: never) */
    int64_t last_time;
    int out_of_order;
    size_t findings, lateral;
    int finished; /* set by the test once dh_engine_finish is called */
    size_t before_finish;
} seen;

static int on_detection(void *ctx, const dh_detection *d)
{
    seen *s = ctx;
    assert_non_null(d->rule);
    assert_true(d->file.len > 0 && d->kind.len > 0);
    if (s->n && d->time < s->last_time)
        s->out_of_order = 1;
    s->last_time = d->time;
    s->n++;
    s->before_finish += !s->finished;
    return s->stop_at && s->n == s->stop_at;
}

static int on_finding(void *ctx, const dh_finding *f)
{
    seen *s = ctx;
    s->findings++;
    s->lateral += f->kind == DH_FINDING_LATERAL_MOVEMENT;
    return 0;
}

static dh_engine *engine(const dh_ruleset *rs, dh_engine_mode mode, seen *s)
{
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = mode;
    o.sink = (dh_engine_sink){.ctx = s, .on_detection = on_detection, .on_finding = on_finding};
    dh_engine *e = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    return e;
}

static void test_free_null_and_bad_options(void **state)
{
    (void)state;
    dh_engine_free(NULL);
    dh_ruleset *rs = pack(), *other = pack();
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    dh_engine *e = (dh_engine *)&o; /* must be reset to NULL on failure */
    o.have_from = o.have_to = 1;
    o.from = 2;
    o.to = 1;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_ERR_ARG);
    assert_null(e);
    dh_engine_opts_init(&o);
    const dh_rule *foreign = dh_ruleset_rule(other, 0);
    o.rules = &foreign;
    o.nrules = 1;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_ERR_ARG);
    dh_engine_opts_init(&o);
    o.window_s = -1;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_ERR_ARG);
    assert_int_equal(dh_engine_new(NULL, rs, NULL), DH_ERR_ARG);
    dh_ruleset_free(other);
    dh_ruleset_free(rs);
}

/* dh_engine_push, one event at a time from the scanner, gives what dh_engine_run gives. */
typedef struct pusher {
    dh_engine *e;
    dh_status st;
} pusher;

static dh_status push_event(void *ctx, const dh_event *ev, dh_buf *out)
{
    (void)out;
    pusher *p = ctx;
    if (p->st == DH_OK)
        p->st = dh_engine_push(p->e, ev);
    return p->st;
}

static void *one_worker(void *ctx)
{
    return ctx; /* the pusher: one worker (threads = 1), so one thread at a time */
}

static void test_run_and_push_agree(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    seen ran = {0}, pushed = {0};
    dh_engine *a = engine(rs, DH_ENGINE_DETECTIONS, &ran);
    assert_int_equal(dh_engine_run(a, mmc, 1), DH_OK);
    assert_int_equal(dh_engine_finish(a), DH_OK);
    dh_engine_counts ca;
    assert_int_equal(dh_engine_stats(a, &ca), DH_OK);
    assert_int_equal(ca.input.records, 9);
    assert_int_equal(ca.events, 9);
    assert_true(ran.n > 0);
    assert_int_equal(ca.detections, ran.n);
    const dh_channel_count *ch;
    assert_int_equal(dh_engine_channels(a, &ch), 2); /* Sysmon 1 (5 events), then 3 (4) */
    assert_int_equal(ch[0].event_id, 1);
    assert_int_equal(ch[0].count, 5);
    assert_int_equal(ch[0].kind, DH_KIND_PROCESS_CREATION);
    assert_int_equal(ch[1].event_id, 3);
    assert_int_equal(ch[1].count, 4);

    pusher p = {engine(rs, DH_ENGINE_DETECTIONS, &pushed), DH_OK};
    dh_scan_opts so;
    dh_scan_opts_init(&so);
    so.threads = 1;
    dh_scan_callbacks cb = {.ctx = &p, .worker_new = one_worker, .on_event = push_event};
    dh_scan_stats ss;
    assert_int_equal(dh_scan_run(mmc, 1, &so, &cb, &ss), DH_OK);
    assert_int_equal(p.st, DH_OK);
    assert_int_equal(dh_engine_finish(p.e), DH_OK);
    dh_engine_counts cp;
    assert_int_equal(dh_engine_stats(p.e, &cp), DH_OK);
    assert_int_equal(cp.events, 9);
    assert_int_equal(pushed.n, ran.n);
    assert_int_equal(cp.detections, ca.detections);
    for (size_t i = 0; i < dh_ruleset_count(rs); i++)
        assert_int_equal(dh_engine_rule_detections(p.e, dh_ruleset_rule(rs, i)),
                         dh_engine_rule_detections(a, dh_ruleset_rule(rs, i)));
    /* no input after the end */
    assert_int_equal(dh_engine_run(a, mmc, 1), DH_ERR_ARG);
    assert_int_equal(dh_engine_error(a)->status, DH_ERR_ARG);
    dh_engine_free(p.e);
    dh_engine_free(a);
    dh_ruleset_free(rs);
}

static void test_time_order_holds_until_finish(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    seen s = {0};
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_DETECTIONS;
    o.time_order = 1;
    o.sink = (dh_engine_sink){.ctx = &s, .on_detection = on_detection};
    dh_engine *e = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_OK);
    assert_int_equal(s.n, 0);
    s.finished = 1;
    assert_int_equal(dh_engine_finish(e), DH_OK);
    assert_true(s.n > 1);
    assert_int_equal(s.before_finish, 0);
    assert_false(s.out_of_order);
    dh_engine_free(e);
    dh_ruleset_free(rs);
}

static void test_sink_cancels(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    seen s = {0};
    s.stop_at = 1;
    dh_engine *e = engine(rs, DH_ENGINE_DETECTIONS, &s);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_ERR_CANCELLED);
    assert_int_equal(s.n, 1); /* nothing after the callback said stop */
    assert_int_equal(dh_engine_error(e)->status, DH_ERR_CANCELLED);
    assert_int_equal(dh_engine_finish(e), DH_ERR_CANCELLED);
    dh_engine_free(e);
    dh_ruleset_free(rs);
}

static void test_findings_and_selection(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    seen s = {0};
    dh_engine *e = engine(rs, DH_ENGINE_FINDINGS, &s);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_OK);
    assert_int_equal(dh_engine_finish(e), DH_OK);
    assert_int_equal(s.lateral, 1);
    dh_engine_counts c;
    assert_int_equal(dh_engine_stats(e, &c), DH_OK);
    assert_true(c.kept > 0 && c.detections > 0);
    dh_engine_free(e);

    /* a host no event has: nothing considered, nothing found */
    seen none = {0};
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    const char *host = "NOSUCHHOST";
    o.hosts = &host;
    o.nhosts = 1;
    o.sink = (dh_engine_sink){.ctx = &none, .on_finding = on_finding};
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_OK);
    assert_int_equal(dh_engine_finish(e), DH_OK);
    assert_int_equal(dh_engine_stats(e, &c), DH_OK);
    assert_int_equal(c.events, 9);
    assert_int_equal(c.events_considered, 0);
    assert_int_equal(none.findings, 0);
    dh_engine_free(e);
    dh_ruleset_free(rs);
}

/* ---- buffers ------------------------------------------------------------------------ */

/* Everything a run gives, as text: each detection and error as it comes, then the findings
 * as the JSON lines writer prints them. */
typedef struct transcript {
    FILE *f;
    char *text;
    size_t len;
    dh_findings_writer *fw;
    size_t detections, findings, errors;
    char first_error_file[1024];
    uint64_t first_error_offset;
} transcript;

static int tr_detection(void *ctx, const dh_detection *d)
{
    transcript *t = ctx;
    t->detections++;
    fprintf(t->f, "D %s %lld %llu %u %d %.*s|%.*s|%.*s|%.*s|%.*s\n", dh_rule_id(d->rule),
            (long long)d->time, (unsigned long long)d->record_id, d->event_id, d->undecided,
            (int)d->host.len, d->host.ptr, (int)d->file.len, d->file.ptr, (int)d->channel.len,
            d->channel.ptr, (int)d->kind.len, d->kind.ptr, (int)d->fields.len, d->fields.ptr);
    return 0;
}

static int tr_finding(void *ctx, const dh_finding *f)
{
    transcript *t = ctx;
    t->findings++;
    dh_findings_writer_add(t->fw, f);
    return 0;
}

static void tr_error(void *ctx, const dh_error *e)
{
    transcript *t = ctx;
    if (!t->errors++) {
        snprintf(t->first_error_file, sizeof t->first_error_file, "%s", e->file);
        t->first_error_offset = e->offset;
    }
    fprintf(t->f, "E %d %lld %llu %llu %s|%s\n", (int)e->status, (long long)e->chunk,
            (unsigned long long)e->offset, (unsigned long long)e->record_id, e->file, e->message);
}

/* One run over the file at path (data NULL) or over data, named path. Returns the run's
 * status (the finish's when the run was DH_OK). */
static dh_status hunt(const dh_ruleset *rs, dh_engine_mode mode, const char *path, const void *data,
                      size_t len, transcript *t)
{
    memset(t, 0, sizeof *t);
    t->f = open_memstream(&t->text, &t->len);
    assert_non_null(t->f);
    assert_int_equal(dh_findings_writer_new(DH_FINDINGS_JSONL, 0, &t->fw), DH_OK);
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = mode;
    o.time_order = mode == DH_ENGINE_DETECTIONS;
    o.sink = (dh_engine_sink){
        .ctx = t, .on_detection = tr_detection, .on_finding = tr_finding, .on_error = tr_error};
    dh_engine *e = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    dh_status st = data ? dh_engine_run_buffer(e, data, len, path) : dh_engine_run(e, &path, 1);
    dh_status fin = dh_engine_finish(e);
    if (st == DH_OK)
        st = fin;
    dh_findings_writer_print(t->fw, t->f);
    dh_findings_writer_free(t->fw);
    dh_engine_free(e);
    assert_int_equal(fclose(t->f), 0);
    return st;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The file and its bytes as a buffer give the same transcript, in both modes; returns the
 * detections mode's count of detections. */
static size_t same_as_file(const dh_ruleset *rs, const char *path)
{
    size_t len, detections = 0;
    char *data = slurp(path, &len);
    for (int mode = 0; mode < 2; mode++) {
        transcript file, buf;
        dh_status fst = hunt(rs, (dh_engine_mode)mode, path, NULL, 0, &file);
        dh_status bst = hunt(rs, (dh_engine_mode)mode, path, len ? data : "", len, &buf);
        assert_int_equal(bst, fst);
        assert_string_equal(buf.text, file.text);
        assert_int_equal(buf.detections, file.detections);
        assert_int_equal(buf.findings, file.findings);
        if (mode == DH_ENGINE_DETECTIONS)
            detections = file.detections;
        free(file.text);
        free(buf.text);
    }
    free(data);
    return detections;
}

/* The events of an EVTX file as event XML, one element after another. */
typedef struct xml_doc {
    FILE *f;
} xml_doc;

static dh_status xml_event(void *wctx, const dh_event *ev, dh_buf *out)
{
    (void)out;
    dh_str x = dh_event_xml(ev);
    fwrite(x.ptr, 1, x.len, ((xml_doc *)wctx)->f);
    fputc('\n', ((xml_doc *)wctx)->f);
    return DH_OK;
}

static void *xml_worker(void *ctx)
{
    return ctx;
}

static void write_xml(const char *evtx, const char *xml)
{
    xml_doc d = {fopen(xml, "wb")};
    assert_non_null(d.f);
    dh_scan_opts so;
    dh_scan_opts_init(&so);
    so.threads = 1;
    so.want_xml = 1;
    dh_scan_callbacks cb = {.ctx = &d, .worker_new = xml_worker, .on_event = xml_event};
    assert_int_equal(dh_scan_run(&evtx, 1, &so, &cb, NULL), DH_OK);
    assert_int_equal(fclose(d.f), 0);
}

/* Every regular file under dir, compared; returns the detections of all of them. */
static size_t same_under(const dh_ruleset *rs, const char *dir, size_t *files)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            n += same_under(rs, path, files);
        } else if (strcmp(de->d_name, "truth.jsonl")) {
            n += same_as_file(rs, path);
            (*files)++;
        }
    }
    closedir(d);
    return n;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            rm_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Simulated telemetry of one scenario (JSON lines, Zeek, Defender CSV) into dir. */
static void simulate(const char *dir, const char *sensors, int format)
{
    dh_sim_catalog *cat = NULL;
    assert_int_equal(dh_sim_catalog_load(NULL, NULL, NULL, &cat), DH_OK);
    dh_sim_opts so;
    dh_sim_opts_init(&so);
    const char *scenario = "impacket-dcomexec-mmc20";
    so.scenarios = &scenario;
    so.nscenarios = 1;
    so.format = format;
    so.defender_format = DH_SIM_DEFENDER_CSV;
    so.sensor_set = dh_sim_sensor_set_find(sensors);
    assert_true(so.sensor_set >= 0);
    so.threads = 1;
    /* stats may be NULL (the files the tests read show it still writes); cat may not */
    dh_error err;
    assert_int_equal(dh_sim_run(NULL, &so, dir, NULL, &err), DH_ERR_ARG);
    assert_int_equal(err.status, DH_ERR_ARG);
    assert_int_equal(dh_sim_run(cat, &so, dir, NULL, NULL), DH_OK);
    dh_sim_catalog_free(cat);
}

static void test_buffer_same_as_file(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    /* EVTX: the MMC20 capture, and a larger one with several chunks (time order) */
    assert_true(same_as_file(rs, mmc[0]) > 0);
    same_as_file(rs, DH_CORPUS_DIR "/EVTX-ATTACK-SAMPLES/UACME_59_Sysmon.evtx");
    /* a zip archive of JSON, opened in memory */
    assert_true(same_as_file(rs, DH_CORPUS_DIR "/Security-Datasets/datasets/atomic/windows/"
                                               "lateral_movement/host/"
                                               "empire_dcom_shellwindows_stager.zip") > 0);
    char dir[] = "/tmp/dh_engine_buffer_XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* event XML, made from the MMC20 capture */
    char xml[1100];
    snprintf(xml, sizeof xml, "%s/mmc.xml", dir);
    write_xml(mmc[0], xml);
    assert_true(same_as_file(rs, xml) > 0);
    unlink(xml);
    /* JSON lines (Winlogbeat) and Zeek, then Defender CSV, from the simulator */
    simulate(dir, "full", DH_SIM_FMT_ECS);
    size_t files = 0;
    assert_true(same_under(rs, dir, &files) > 0);
    assert_true(files >= 3);
    rm_tree(dir);
    memcpy(dir + sizeof dir - 7, "XXXXXX", 6);
    assert_non_null(mkdtemp(dir));
    simulate(dir, "defender", DH_SIM_FMT_ECS);
    files = 0;
    assert_true(same_under(rs, dir, &files) > 0);
    assert_true(files >= 1);
    rm_tree(dir);
    dh_ruleset_free(rs);
}

/* Candidates, serialised as another process would get them: each rule by its id, the
 * event packed whole. */
typedef struct cand_log {
    const dh_ruleset *rs;
    dh_buf bytes; /* [u32 nrules][nrules x (u8 undecided, NUL-terminated id)][u32 len][packed] */
    size_t n;
} cand_log;

static int on_cand(void *ctx, const dh_candidate *c)
{
    cand_log *l = ctx;
    uint32_t n = (uint32_t)c->nrules;
    assert_int_equal(dh_buf_append(&l->bytes, &n, 4), DH_OK);
    for (size_t i = 0; i < c->nrules; i++) {
        const char *id = dh_rule_id(c->rules[i]);
        assert_int_equal(dh_buf_append(&l->bytes, &c->undecided[i], 1), DH_OK);
        assert_int_equal(dh_buf_append(&l->bytes, id, strlen(id) + 1), DH_OK);
    }
    dh_buf ev;
    dh_buf_init(&ev, (size_t)1 << 30);
    assert_int_equal(dh_event_pack(c->event, 1, &ev), DH_OK);
    uint32_t len = (uint32_t)ev.len;
    assert_int_equal(dh_buf_append(&l->bytes, &len, 4), DH_OK);
    assert_int_equal(dh_buf_append(&l->bytes, ev.data, ev.len), DH_OK);
    dh_buf_free(&ev);
    l->n++;
    return 0;
}

/* Findings mode split in two engines (candidates, then dh_engine_push_candidate from their
 * serialised form) gives the findings one engine gives, byte for byte. Returns the
 * findings. */
static size_t split_same_as_whole(const dh_ruleset *rs, const char *path)
{
    transcript whole;
    dh_status wst = hunt(rs, DH_ENGINE_FINDINGS, path, NULL, 0, &whole);
    cand_log l;
    memset(&l, 0, sizeof l);
    l.rs = rs;
    dh_buf_init(&l.bytes, (size_t)1 << 30);
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_CANDIDATES;
    o.sink = (dh_engine_sink){.ctx = &l, .on_candidate = on_cand};
    dh_engine *first = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &first), DH_OK);
    dh_status fst = dh_engine_run(first, &path, 1);
    assert_int_equal(dh_engine_finish(first), DH_OK);
    dh_engine_counts fc;
    assert_int_equal(dh_engine_stats(first, &fc), DH_OK);
    assert_int_equal(fc.kept, l.n);
    dh_engine_free(first);
    assert_int_equal(fst, wst);

    transcript t;
    memset(&t, 0, sizeof t);
    t.f = open_memstream(&t.text, &t.len);
    assert_non_null(t.f);
    assert_int_equal(dh_findings_writer_new(DH_FINDINGS_JSONL, 0, &t.fw), DH_OK);
    dh_engine_opts_init(&o);
    o.sink = (dh_engine_sink){.ctx = &t, .on_finding = tr_finding, .on_error = tr_error};
    dh_engine *second = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &second), DH_OK);
    const char *p = l.bytes.data, *end = p + l.bytes.len;
    const dh_rule *rules[256];
    unsigned char und[256];
    while (p < end) {
        uint32_t n, len;
        memcpy(&n, p, 4);
        p += 4;
        assert_true(n <= 256);
        for (uint32_t i = 0; i < n; i++) {
            und[i] = (unsigned char)*p++;
            rules[i] = dh_ruleset_find(rs, p);
            assert_non_null(rules[i]);
            p += strlen(p) + 1;
        }
        memcpy(&len, p, 4);
        p += 4;
        size_t used = 0;
        dh_event *ev = dh_event_unpack(p, len, &used);
        assert_non_null(ev);
        assert_int_equal(used, len);
        p += len;
        dh_candidate c = {ev, rules, und, n};
        assert_int_equal(dh_engine_push_candidate(second, &c), DH_OK);
        dh_event_free(ev);
    }
    assert_int_equal(dh_engine_finish(second), DH_OK);
    dh_findings_writer_print(t.fw, t.f);
    dh_findings_writer_free(t.fw);
    dh_engine_free(second);
    assert_int_equal(fclose(t.f), 0);
    assert_string_equal(t.text, whole.text);
    assert_int_equal(t.findings, whole.findings);
    size_t findings = whole.findings;
    free(t.text);
    free(whole.text);
    dh_buf_free(&l.bytes);
    return findings;
}

static void test_candidates_split(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    assert_true(split_same_as_whole(rs, mmc[0]) > 0);
    assert_true(split_same_as_whole(rs, DH_CORPUS_DIR "/Security-Datasets/datasets/atomic/"
                                                      "windows/lateral_movement/host/"
                                                      "empire_dcom_shellwindows_stager.zip") > 0);
    /* an estate of several hosts: cross-host chains */
    char dir[] = "/tmp/dh_engine_split_XXXXXX";
    assert_non_null(mkdtemp(dir));
    simulate(dir, "full", DH_SIM_FMT_ECS);
    assert_true(split_same_as_whole(rs, dir) > 0);
    rm_tree(dir);
    /* the mode's contract: candidates only go to a findings engine, rules of its ruleset */
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_DETECTIONS;
    dh_engine *e = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    dh_candidate c = {NULL, NULL, NULL, 0};
    assert_int_equal(dh_engine_push_candidate(e, &c), DH_ERR_ARG);
    dh_engine_free(e);
    dh_ruleset_free(rs);
}

/* Every public constructor refuses a NULL out pointer (and the required inputs) with
 * DH_ERR_ARG instead of writing through it; every _free accepts NULL. */
static void test_public_api_null_arguments(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    assert_int_equal(dh_ruleset_new(NULL), DH_ERR_ARG);
    assert_int_equal(dh_matcher_new(rs, NULL), DH_ERR_ARG);
    dh_matcher *m = (dh_matcher *)1;
    assert_int_equal(dh_matcher_new(NULL, &m), DH_ERR_ARG);
    assert_int_equal(dh_correlator_new(NULL, rs, NULL), DH_ERR_ARG);
    assert_int_equal(dh_comdb_new(NULL), DH_ERR_ARG);
    assert_int_equal(dh_findings_writer_new(DH_FINDINGS_JSONL, 0, NULL), DH_ERR_ARG);
    assert_int_equal(dh_sim_catalog_load(NULL, NULL, NULL, NULL), DH_ERR_ARG);
    assert_int_equal(dh_engine_new(NULL, rs, NULL), DH_ERR_ARG);
    dh_selftest_opts so;
    dh_selftest_opts_init(&so);
    assert_int_equal(dh_selftest_run(NULL, rs, &so, NULL, NULL, NULL), DH_ERR_ARG);
    dh_matcher_free(NULL);
    dh_correlator_free(NULL);
    dh_comdb_free(NULL);
    dh_findings_writer_free(NULL);
    dh_sim_catalog_free(NULL);
    dh_engine_free(NULL);
    dh_tuning_free(NULL);
    dh_event_free(NULL);
    dh_ruleset_free(NULL);
    dh_ruleset_free(rs);
}

static void test_buffer_empty_and_null(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    transcript t;
    /* an empty buffer is an empty file: said under its name, nothing else */
    assert_int_equal(hunt(rs, DH_ENGINE_DETECTIONS, "empty input", "", 0, &t), DH_ERR_FORMAT);
    assert_int_equal(t.errors, 1);
    assert_string_equal(t.first_error_file, "empty input");
    assert_int_equal(t.detections, 0);
    free(t.text);

    seen s = {0};
    dh_engine *e = engine(rs, DH_ENGINE_DETECTIONS, &s);
    assert_int_equal(dh_engine_run_buffer(NULL, "x", 1, "x"), DH_ERR_ARG);
    assert_int_equal(dh_engine_run_buffer(e, NULL, 1, "x"), DH_ERR_ARG);
    assert_int_equal(dh_engine_run_buffer(e, "x", 1, NULL), DH_ERR_ARG);
    assert_int_equal(dh_engine_run_buffer(e, NULL, 0, "nothing"), DH_ERR_FORMAT);
    /* buffers and paths mix in one engine */
    size_t len;
    char *data = slurp(mmc[0], &len);
    assert_int_equal(dh_engine_run_buffer(e, data, len, "mmc in memory"), DH_OK);
    size_t once = s.n;
    assert_true(once > 0);
    assert_int_equal(dh_engine_run(e, mmc, 1), DH_OK);
    assert_int_equal(s.n, 2 * once);
    /* a buffer named "-" is the buffer, not standard input */
    assert_int_equal(dh_engine_run_buffer(e, data, len, "-"), DH_OK);
    assert_int_equal(s.n, 3 * once);
    assert_int_equal(dh_engine_finish(e), DH_OK);
    /* no input after the end */
    assert_int_equal(dh_engine_run_buffer(e, data, len, "late"), DH_ERR_ARG);
    /* findings mode plans a buffer named "-" as the buffer too */
    assert_int_equal(hunt(rs, DH_ENGINE_FINDINGS, "-", data, len, &t), DH_OK);
    assert_int_equal(t.findings, 1);
    assert_int_equal(t.errors, 0);
    free(t.text);
    dh_engine_free(e);
    free(data);
    dh_ruleset_free(rs);
}

static void test_buffer_damaged(void **state)
{
    (void)state;
    dh_ruleset *rs = pack();
    size_t len;
    char *data = slurp(mmc[0], &len);
    transcript whole, t;
    assert_int_equal(hunt(rs, DH_ENGINE_DETECTIONS, "mmc", data, len, &whole), DH_OK);
    assert_true(whole.detections > 0);
    assert_int_equal(whole.errors, 0);

    /* garbage over the first record's header: that record is reported under the buffer's
     * name at its offset, the others are still read */
    size_t rec = 4096 + 512; /* the first record of chunk 0 */
    assert_true(len > rec + 64);
    char *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, data, len);
    memset(bad + rec, 0x5a, 24);
    assert_int_equal(hunt(rs, DH_ENGINE_DETECTIONS, "damaged mmc", bad, len, &t), DH_ERR_FORMAT);
    assert_true(t.errors >= 1);
    assert_string_equal(t.first_error_file, "damaged mmc");
    assert_true(t.first_error_offset >= 4096 && t.first_error_offset < len);
    assert_true(t.detections > 0);
    free(t.text);

    /* cut short inside the chunk's records (they run to offset 14088): said under the
     * name with the offset where the bytes end, the records before the cut are read */
    assert_int_equal(hunt(rs, DH_ENGINE_DETECTIONS, "cut mmc", data, 12000, &t), DH_ERR_FORMAT);
    assert_true(t.errors >= 1);
    assert_string_equal(t.first_error_file, "cut mmc");
    assert_int_equal(t.first_error_offset, 12000);
    assert_true(t.detections > 0 && t.detections < whole.detections);
    free(t.text);

    /* JSON lines with a line of garbage between two events: the line is reported with its
     * offset, both events are read */
    static const char jl[] =
        "{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
        "\"SRV01\",\"EventTime\":\"2019-04-30 20:35:11\",\"Image\":\"C:\\\\Windows\\\\System32\\\\"
        "mmc.exe\",\"CommandLine\":\"mmc.exe -Embedding\",\"ParentImage\":\"C:\\\\Windows\\\\"
        "System32\\\\svchost.exe\",\"ParentCommandLine\":\"svchost.exe -k DcomLaunch\"}\n"
        "{\"EventID\": garbage\n"
        "{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Hostname\":"
        "\"SRV01\",\"EventTime\":\"2019-04-30 20:35:12\",\"Image\":\"C:\\\\Windows\\\\System32\\\\"
        "cmd.exe\",\"CommandLine\":\"cmd.exe /Q /c whoami\",\"ParentImage\":\"C:\\\\Windows\\\\"
        "System32\\\\mmc.exe\",\"ParentCommandLine\":\"mmc.exe -Embedding\"}\n";
    dh_engine_counts c;
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.mode = DH_ENGINE_DETECTIONS;
    memset(&t, 0, sizeof t);
    t.f = open_memstream(&t.text, &t.len);
    o.sink = (dh_engine_sink){.ctx = &t, .on_detection = tr_detection, .on_error = tr_error};
    dh_engine *e = NULL;
    assert_int_equal(dh_engine_new(&o, rs, &e), DH_OK);
    assert_int_equal(dh_engine_run_buffer(e, jl, sizeof jl - 1, "lines"), DH_ERR_FORMAT);
    assert_int_equal(dh_engine_stats(e, &c), DH_OK);
    assert_int_equal(c.events, 2);
    assert_int_equal(c.input.records_damaged, 1);
    assert_int_equal(t.errors, 1);
    assert_string_equal(t.first_error_file, "lines");
    assert_int_equal(t.first_error_offset, (uint64_t)(strchr(jl, '\n') - jl + 1));
    dh_engine_free(e);
    fclose(t.f);
    free(t.text);

    /* bytes of no format dcomhunt reads: said under the name, nothing read */
    unsigned char noise[5000];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(i * 131u + 7u);
    assert_int_equal(hunt(rs, DH_ENGINE_FINDINGS, "noise", noise, sizeof noise, &t), DH_ERR_FORMAT);
    assert_int_equal(t.errors, 1);
    assert_string_equal(t.first_error_file, "noise");
    assert_int_equal(t.findings, 0);
    free(t.text);

    /* a zip cut in half, opened in memory: the archive's error under the buffer's name */
    free(data);
    data = slurp(DH_CORPUS_DIR "/Security-Datasets/datasets/atomic/windows/lateral_movement/host/"
                               "empire_dcom_shellwindows_stager.zip",
                 &len);
    assert_int_equal(hunt(rs, DH_ENGINE_DETECTIONS, "half.zip", data, len / 2, &t), DH_ERR_FORMAT);
    assert_true(t.errors >= 1);
    assert_true(!strncmp(t.first_error_file, "half.zip", 8));
    free(t.text);

    free(whole.text);
    free(bad);
    free(data);
    dh_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_null_and_bad_options),
        cmocka_unit_test(test_run_and_push_agree),
        cmocka_unit_test(test_time_order_holds_until_finish),
        cmocka_unit_test(test_sink_cancels),
        cmocka_unit_test(test_findings_and_selection),
        cmocka_unit_test(test_buffer_same_as_file),
        cmocka_unit_test(test_buffer_empty_and_null),
        cmocka_unit_test(test_public_api_null_arguments),
        cmocka_unit_test(test_buffer_damaged),
        cmocka_unit_test(test_candidates_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
