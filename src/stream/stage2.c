/* Stage 2: the candidates of one partition correlated by a findings-mode engine, in event
 * time. A candidate waits behind the partition's watermark (the newest event time seen
 * minus the skew tolerance) and reaches the engine in (time, arrival) order, so the
 * correlator sees time order as in a batch hunt; one older than the watermark when it
 * arrives is late: counted and still given to the engine, which judges it.
 *
 * Windows close in event time, as the watermark moves: the engine is flushed whenever the
 * watermark has moved FLUSH_STEP_S on (its correlator then emits what nothing later can
 * join, as a batch hunt's passes do), and when a candidate released is later than
 * everything the open engine holds by the gap (3 x window + 4 x skew + GAP_SLACK_S + the
 * longest Sigma correlation timespan: past what a batch hunt's correlator keeps behind its
 * newest event, so nothing across it joins in a batch hunt either) the engine is finished
 * and a new one opened, so the commit offset moves on. A partition
 * quiet for the idle time (wall clock) has its windows closed too. Findings are
 * rendered (JSON lines or OCSF) and produced keyed by their id, once: ids already in the
 * output topic (read at assignment) or produced before are suppressed, which is what makes
 * a rebuilt window (a new owner re-reading from the committed offset) publish nothing
 * twice.
 *
 * The published ids are bounded: each carries the engine generation current when it was
 * published (or read back), and once every assigned partition has committed an offset past
 * the engines of that generation (their first message is no longer re-read by a rebuild)
 * the ids are evicted. At assignment the output topic is read back only from the time of
 * the committed candidates' first message (less a margin for clocks), found with
 * rd_kafka_offsets_for_times: what a rebuild can reproduce was published after it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stream/stream_impl.h"

#define TICKS          10000000LL /* FILETIME ticks per second */
#define FLUSH_STEP_S   10         /* the watermark moves this much between engine flushes */
#define GAP_SLACK_S    600        /* the correlator's own slack behind the newest event */
#define EVICT_MIN      4096       /* ids held before an eviction is tried */
#define CLOCK_SLACK_MS 300000     /* read-back: producers' clocks may differ this much */
#define READ_WAIT_MS   10000      /* read-back: one request's timeout */
#define TAIL_CHECK     16         /* read-back: offsets read to check a "none after" */

static s2_part *part_of(dh_stream *s, int32_t partition)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i].partition == partition)
            return &s->parts[i];
    s2_part *p = realloc(s->parts, (s->nparts + 1) * sizeof *p);
    if (!p)
        return NULL;
    s->parts = p;
    p = &s->parts[s->nparts++];
    memset(p, 0, sizeof *p);
    p->partition = partition;
    p->max_time = p->eng_newest = p->flushed_mark = INT64_MIN;
    p->first_offset = p->next_offset = -1;
    dh_idset_init(&p->seen, (size_t)1 << 24);
    return p;
}

/* ---- the heap behind the watermark ---------------------------------------------------- */

static int before(const s2_pending *a, const s2_pending *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static int heap_push(s2_part *p, s2_pending *x)
{
    if (p->nheap == p->capheap) {
        size_t cap = p->capheap ? p->capheap * 2 : 64;
        s2_pending *h = realloc(p->heap, cap * sizeof *h);
        if (!h)
            return -1;
        p->heap = h;
        p->capheap = cap;
    }
    size_t i = p->nheap++;
    while (i > 0 && before(x, &p->heap[(i - 1) / 2])) {
        p->heap[i] = p->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    p->heap[i] = *x;
    return 0;
}

static s2_pending heap_pop(s2_part *p)
{
    s2_pending top = p->heap[0], last = p->heap[--p->nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= p->nheap)
            break;
        if (c + 1 < p->nheap && before(&p->heap[c + 1], &p->heap[c]))
            c++;
        if (!before(&p->heap[c], &last))
            break;
        p->heap[i] = p->heap[c];
        i = c;
    }
    if (p->nheap)
        p->heap[i] = last;
    return top;
}

/* ---- findings ------------------------------------------------------------------------ */

static void remember_txn_id(dh_stream *s, const char *id)
{
    if (s->ntxn_ids == s->captxn_ids) {
        size_t cap = s->captxn_ids ? s->captxn_ids * 2 : 64;
        char(*v)[17] = realloc(s->txn_ids, cap * sizeof *v);
        if (!v)
            return;
        s->txn_ids = v;
        s->captxn_ids = cap;
    }
    snprintf(s->txn_ids[s->ntxn_ids++], 17, "%s", id);
}

static int on_finding(void *ctx, const dh_finding *f)
{
    dh_stream *s = ctx;
    size_t idlen = strnlen(f->id, sizeof f->id);
    if (dh_idset_has(&s->published, f->id, idlen)) {
        dh_stream_count(s, &s->counts.findings_suppressed, 1);
        return 0;
    }
    if (s->tuning && dh_tuning_check(s->tuning, f)) {
        dh_stream_count(s, &s->counts.findings_tuned, 1);
        return 0;
    }
    dh_findings_writer *w = NULL;
    if (dh_findings_writer_new(s->cfg->ocsf ? DH_FINDINGS_OCSF : DH_FINDINGS_JSONL, 0, &w) != DH_OK)
        return 0;
    dh_findings_writer_add(w, f);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        dh_findings_writer_print(w, mem);
        fclose(mem);
    }
    dh_findings_writer_free(w);
    if (!text)
        return 0;
    if (len && dh_stream_produce_msg(s, s->output_topic, f->id, idlen, text, len, NULL) == DH_OK) {
        /* tagged with the newest generation: no older than the engine that made it */
        dh_idset_add_tagged(&s->published, f->id, idlen, s->s2_gen);
        remember_txn_id(s, f->id);
        dh_stream_count(s, &s->counts.findings_out, 1);
    }
    free(text);
    return 0;
}

/* The event-time gap across which nothing joins (ticks). */
static int64_t gap_ticks(dh_stream *s)
{
    if (!s->s2_gap_ticks) {
        int64_t w = s->cfg->window_s > 0 ? s->cfg->window_s : 300;
        int64_t k = s->cfg->skew_s > 0 ? s->cfg->skew_s : 120, span = 0;
        for (size_t i = 0; i < dh_ruleset_count(s->rs); i++) {
            int64_t t = dh_rule_correlation_timespan(dh_ruleset_rule(s->rs, i));
            if (t > span)
                span = t;
        }
        /* what the correlator still holds behind its newest event: its horizon (window,
         * 2 x skew, slack), a group open before it (window + skew) and what that group's
         * window reaches (window + skew); and a Sigma correlation's timespan */
        s->s2_gap_ticks = (3 * w + 4 * k + GAP_SLACK_S + span) * TICKS;
    }
    return s->s2_gap_ticks;
}

static dh_engine *engine_of(dh_stream *s, s2_part *p)
{
    if (p->eng)
        return p->eng;
    dh_engine_opts o;
    dh_engine_opts_init(&o);
    o.threads = 1;
    if (s->cfg->window_s > 0)
        o.window_s = s->cfg->window_s;
    if (s->cfg->skew_s > 0)
        o.skew_s = s->cfg->skew_s;
    o.sink = (dh_engine_sink){.ctx = s, .on_finding = on_finding};
    if (dh_engine_new(&o, s->rs, &p->eng) != DH_OK)
        return NULL;
    p->gen = ++s->s2_gen;
    p->first_offset = -1;
    p->eng_newest = p->flushed_mark = INT64_MIN;
    return p->eng;
}

/* To the engine (made when none is open); the engine's first offset is the smallest of
 * the messages it holds. */
static void push(dh_stream *s, s2_part *p, s2_pending *x)
{
    if (!engine_of(s, p)) {
        dh_stream_report(s, DH_ERR_NOMEM, s->candidates_topic, 0, "partition %d: no engine",
                         (int)p->partition);
        dh_wire_clear(&x->c);
        return;
    }
    if (p->first_offset < 0 || x->offset < p->first_offset)
        p->first_offset = x->offset;
    if (x->time > p->eng_newest)
        p->eng_newest = x->time;
    dh_candidate c = {x->c.event, x->c.rules, x->c.undecided, x->c.nrules};
    dh_status st = dh_engine_push_candidate(p->eng, &c);
    if (st != DH_OK)
        dh_stream_report(s, st, s->candidates_topic, 0, "partition %d: %s", (int)p->partition,
                         dh_status_str(st));
    dh_wire_clear(&x->c);
}

/* The open engine finished: its windows closed, its findings out. */
static void close_engine(s2_part *p)
{
    if (p->eng) {
        dh_engine_finish(p->eng);
        dh_engine_free(p->eng);
        p->eng = NULL;
    }
    p->first_offset = -1;
    p->eng_newest = p->flushed_mark = INT64_MIN;
}

/* Everything held goes to the engine, which finishes: the windows are closed. */
static void close_windows(dh_stream *s, s2_part *p)
{
    while (p->nheap) {
        s2_pending x = heap_pop(p);
        push(s, p, &x);
    }
    close_engine(p);
}

void dh_stage2_take(dh_stream *s, const rd_kafka_message_t *m)
{
    dh_stream_count(s, &s->counts.candidates_in, 1);
    s2_part *p = part_of(s, m->partition);
    if (!p)
        return;
    p->next_offset = m->offset + 1;
    p->last_ms = dh_stream_now_ms();
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t n = 0;
    if (!rd_kafka_message_headers(m, &h) && !rd_kafka_header_get_last(h, DH_HDR_ORIGIN, &v, &n) &&
        v && n) {
        if (dh_idset_has(&p->seen, v, n))
            return; /* a copy of one taken (stage 1 redone after a move) */
        dh_idset_add(&p->seen, v, n);
    }
    s2_pending x;
    memset(&x, 0, sizeof x);
    char why[256];
    dh_status st = dh_wire_decode(m->payload, m->len, s->rs, &x.c, why);
    if (st != DH_OK) {
        dh_stream_dead_letter(s, m, why);
        return;
    }
    x.offset = m->offset;
    x.time = dh_event_time(x.c.event);
    x.seq = p->seq++;
    if (p->max_time != INT64_MIN && x.time < p->max_time - s->skew_ticks) {
        /* behind the watermark: the engine judges it with what its windows still hold */
        dh_stream_count(s, &s->counts.late, 1);
        push(s, p, &x);
        return;
    }
    if (x.time > p->max_time)
        p->max_time = x.time;
    if (heap_push(p, &x)) {
        push(s, p, &x);
        return;
    }
}

/* Whether the consumer's position in the partition is known and at its end (the high
 * watermark its fetches last brought; no request). */
static int caught_up(dh_stream *s, const rd_kafka_topic_partition_t *e)
{
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, e->topic, e->partition);
    int64_t lo = -1, hi = -1, pos = -1;
    if (!rd_kafka_position(s->consumer, one))
        pos = one->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(one);
    if (rd_kafka_get_watermark_offsets(s->consumer, e->topic, e->partition, &lo, &hi))
        return 0;
    return pos >= 0 && hi >= 0 && pos >= hi;
}

/* The smallest generation a rebuild of any assigned candidates partition may still
 * reproduce findings of (committed), 0 when one is not known yet. */
static uint64_t safe_gen(dh_stream *s)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (!s->consumer || rd_kafka_assignment(s->consumer, &a) || !a)
        return 0;
    uint64_t safe = UINT64_MAX;
    for (int i = 0; i < a->cnt && safe; i++) {
        if (strcmp(a->elems[i].topic, s->candidates_topic))
            continue;
        int have = 0;
        uint64_t g = 0;
        for (size_t j = 0; j < s->nparts; j++)
            if (s->parts[j].partition == a->elems[i].partition) {
                g = s->parts[j].safe_gen;
                have = 1;
            }
        /* a partition nothing was taken from: no constraint once the consumer is at its
         * end (an empty one, or all candidates went elsewhere); else its rebuild has not
         * begun */
        if (!have && caught_up(s, &a->elems[i]))
            continue;
        if (g < safe)
            safe = g;
    }
    rd_kafka_topic_partition_list_destroy(a);
    return safe == UINT64_MAX ? 0 : safe;
}

/* Evicts the published ids no rebuild can reproduce, when the set has doubled since the
 * last time. */
static void evict(dh_stream *s)
{
    size_t n = s->published.n;
    if (n < EVICT_MIN || n < 2 * s->s2_published_kept)
        return;
    uint64_t safe = safe_gen(s);
    if (safe)
        dh_idset_evict_below(&s->published, safe);
    /* nothing to evict yet: try again when it has doubled once more */
    s->s2_published_kept = s->published.n;
}

void dh_stage2_tick(dh_stream *s, int64_t now_ms)
{
    for (size_t i = 0; i < s->nparts; i++) {
        s2_part *p = &s->parts[i];
        if (!p->eng && !p->nheap)
            continue;
        int64_t mark = p->max_time - s->skew_ticks;
        while (p->nheap && p->heap[0].time <= mark) {
            s2_pending x = heap_pop(p);
            /* an event-time gap: nothing before it joins anything after it */
            if (p->eng && p->eng_newest != INT64_MIN && x.time - p->eng_newest > gap_ticks(s))
                close_engine(p);
            push(s, p, &x);
        }
        /* the windows the watermark passed close: their findings come out in a busy
         * partition too */
        if (p->eng &&
            (p->flushed_mark == INT64_MIN || mark - p->flushed_mark >= FLUSH_STEP_S * TICKS)) {
            dh_engine_flush(p->eng);
            p->flushed_mark = mark;
        }
        if (now_ms - p->last_ms >= s->idle_ms)
            close_windows(s, p);
    }
    evict(s);
}

int64_t dh_stage2_commit_offset(dh_stream *s, int32_t partition)
{
    for (size_t i = 0; i < s->nparts; i++) {
        s2_part *p = &s->parts[i];
        if (p->partition != partition)
            continue;
        int64_t off = p->eng ? p->first_offset : -1;
        for (size_t j = 0; j < p->nheap; j++)
            if (off < 0 || p->heap[j].offset < off)
                off = p->heap[j].offset;
        if (off < 0)
            off = p->next_offset;
        if (off >= 0) {
            /* this call's offsets reach the broker only if their transaction commits: the
             * previous call's are committed now (an abort drops the parts instead) */
            p->safe_gen = p->pending_gen;
            p->pending_gen = p->eng ? p->gen : s->s2_gen + 1;
        }
        return off;
    }
    return -1;
}

void dh_stage2_drop(dh_stream *s)
{
    for (size_t i = 0; i < s->nparts; i++) {
        s2_part *p = &s->parts[i];
        while (p->nheap) {
            s2_pending x = heap_pop(p);
            dh_wire_clear(&x.c);
        }
        free(p->heap);
        dh_engine_free(p->eng);
        dh_idset_clear(&p->seen);
    }
    free(s->parts);
    s->parts = NULL;
    s->nparts = 0;
}

/* The wall-clock time (ms since 1970) from which the output topic is read back: the
 * creation time of the first candidate a rebuild of the assigned partitions re-reads (a
 * finding it can reproduce was published after that message was read), less
 * CLOCK_SLACK_MS. 0: from the beginning (a partition without a committed offset is rebuilt
 * from its first message, or the time is not known). */
static int64_t read_back_from(dh_stream *s, rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *a = NULL, *c;
    if (rd_kafka_assignment(s->consumer, &a) || !a)
        return 0;
    c = rd_kafka_topic_partition_list_new(a->cnt);
    for (int i = 0; i < a->cnt; i++)
        if (!strcmp(a->elems[i].topic, s->candidates_topic))
            rd_kafka_topic_partition_list_add(c, a->elems[i].topic, a->elems[i].partition);
    rd_kafka_topic_partition_list_destroy(a);
    int64_t since = INT64_MAX;
    if (!c->cnt || rd_kafka_committed(s->consumer, c, READ_WAIT_MS))
        since = 0;
    for (int i = 0; i < c->cnt && since > 0; i++) {
        rd_kafka_topic_partition_t *e = &c->elems[i];
        int64_t lo = 0, hi = 0, ts = -1;
        if (e->offset < 0 ||
            rd_kafka_query_watermark_offsets(rk, e->topic, e->partition, &lo, &hi, READ_WAIT_MS)) {
            since = 0;
            break;
        }
        if (e->offset >= hi) { /* nothing to re-read: what is published from now on */
            ts = (int64_t)time(NULL) * 1000;
        } else {
            rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(one, e->topic, e->partition)->offset =
                e->offset > lo ? e->offset : lo;
            rd_kafka_assign(rk, one);
            rd_kafka_topic_partition_list_destroy(one);
            int64_t until = dh_stream_now_ms() + READ_WAIT_MS;
            while (ts < 0 && dh_stream_now_ms() < until) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
                if (!m)
                    continue;
                if (!m->err && m->partition == e->partition)
                    ts = rd_kafka_message_timestamp(m, NULL);
                else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) /* all aborted */
                    ts = (int64_t)time(NULL) * 1000;
                rd_kafka_message_destroy(m);
            }
            rd_kafka_assign(rk, NULL);
        }
        if (ts < 0) {
            since = 0;
            break;
        }
        if (ts < since)
            since = ts;
    }
    rd_kafka_topic_partition_list_destroy(c);
    if (since == INT64_MAX || since <= CLOCK_SLACK_MS)
        return 0;
    return since - CLOCK_SLACK_MS;
}

/* Whether the last messages of a partition (up to TAIL_CHECK offsets) include one at or
 * after `since`, or cannot be read: then a by-time lookup that answered "none" is not
 * believed (librdkafka's mock cluster answers every such lookup with "none"). */
static int newer_tail(rd_kafka_t *rk, const char *topic, int32_t id, int64_t lo, int64_t hi,
                      int64_t since)
{
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, topic, id)->offset =
        hi - TAIL_CHECK > lo ? hi - TAIL_CHECK : lo;
    rd_kafka_assign(rk, one);
    rd_kafka_topic_partition_list_destroy(one);
    int newer = 1, seen = 0;
    int64_t until = dh_stream_now_ms() + READ_WAIT_MS;
    while (dh_stream_now_ms() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        int eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        if (!m->err && m->partition == id) {
            int64_t ts = rd_kafka_message_timestamp(m, NULL);
            newer = seen ? newer || ts < 0 || ts >= since : ts < 0 || ts >= since;
            seen = 1;
        }
        rd_kafka_message_destroy(m);
        if (eof)
            break;
    }
    rd_kafka_assign(rk, NULL);
    return newer;
}

/* A consumer of its own, outside the group, reads the output topic read_committed from
 * read_back_from's time (the beginning when that is 0) to its end as it is now; the ids
 * are tagged with the current generation. */
void dh_stage2_load_published(dh_stream *s)
{
    char errstr[512];
    rd_kafka_conf_t *c = rd_kafka_conf_dup(s->base_conf);
    rd_kafka_conf_set(c, "isolation.level", "read_committed", errstr, sizeof errstr);
    rd_kafka_conf_set(c, "enable.partition.eof", "true", errstr, sizeof errstr);
    /* never joins (partitions are assigned), but rd_kafka_consumer_poll wants a group */
    rd_kafka_conf_set(c, "group.id", "dcomhunt-published-reader", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(c);
        return;
    }
    int64_t since = read_back_from(s, rk);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, s->output_topic, NULL);
    if (rd_kafka_metadata(rk, 0, t, &md, READ_WAIT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt && !md->topics[0].err) {
        int np = md->topics[0].partition_cnt;
        rd_kafka_topic_partition_list_t *a = rd_kafka_topic_partition_list_new(np);
        for (int i = 0; i < np; i++)
            rd_kafka_topic_partition_list_add(a, s->output_topic, md->topics[0].partitions[i].id)
                ->offset = since;
        /* the first offset at or after the time; without a time, the beginning */
        if (since <= 0 || rd_kafka_offsets_for_times(rk, a, READ_WAIT_MS))
            for (int i = 0; i < a->cnt; i++)
                a->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_topic_partition_list_t *from = rd_kafka_topic_partition_list_new(np);
        int waiting = 0;
        for (int i = 0; i < a->cnt; i++) {
            int64_t lo = 0, hi = 0, at = a->elems[i].offset;
            int32_t id = a->elems[i].partition;
            if (rd_kafka_query_watermark_offsets(rk, s->output_topic, id, &lo, &hi, READ_WAIT_MS) ||
                hi <= lo)
                continue;
            if (at == -1 && newer_tail(rk, s->output_topic, id, lo, hi, since))
                at = lo; /* "nothing after the time", yet there is: a lookup not kept */
            if (at == RD_KAFKA_OFFSET_BEGINNING || (at >= 0 && at < lo))
                at = lo;
            if (at < 0 || at >= hi) /* -1: nothing at or after the time */
                continue;
            rd_kafka_topic_partition_list_add(from, s->output_topic, id)->offset = at;
            waiting++;
        }
        rd_kafka_assign(rk, from);
        int64_t until = dh_stream_now_ms() + 2 * READ_WAIT_MS;
        while (waiting > 0 && dh_stream_now_ms() < until) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
            if (!m)
                continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                waiting--;
            else if (!m->err && m->key && m->key_len && m->key_len <= 16)
                dh_idset_add_tagged(&s->published, m->key, m->key_len, s->s2_gen);
            rd_kafka_message_destroy(m);
        }
        rd_kafka_topic_partition_list_destroy(from);
        rd_kafka_topic_partition_list_destroy(a);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}
