/* Stage 2: the candidates of one partition correlated by a findings-mode engine, in event
 * time. A candidate waits behind the partition's watermark (the newest event time seen
 * minus the skew tolerance) and reaches the engine in (time, arrival) order, so the
 * correlator sees time order as in a batch hunt; one older than the watermark when it
 * arrives is late: counted and still given to the engine, which judges it. A partition
 * quiet for the idle time has its windows closed (the engine finished). Findings are
 * rendered (JSON lines or OCSF) and produced keyed by their id, once: ids already in the
 * output topic (read at assignment) or produced before are suppressed, which is what makes
 * a rebuilt window (a new owner re-reading from the committed offset) publish nothing
 * twice. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream_impl.h"

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
    p->max_time = INT64_MIN;
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
        dh_idset_add(&s->published, f->id, idlen);
        remember_txn_id(s, f->id);
        dh_stream_count(s, &s->counts.findings_out, 1);
    }
    free(text);
    return 0;
}

static dh_engine *engine_of(dh_stream *s, s2_part *p, int64_t offset)
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
    p->first_offset = offset;
    return p->eng;
}

static void push(dh_stream *s, s2_part *p, s2_pending *x)
{
    dh_candidate c = {x->c.event, x->c.rules, x->c.undecided, x->c.nrules};
    dh_status st = dh_engine_push_candidate(p->eng, &c);
    if (st != DH_OK)
        dh_stream_report(s, st, s->candidates_topic, 0, "partition %d: %s", (int)p->partition,
                         dh_status_str(st));
    dh_wire_clear(&x->c);
}

/* Everything held goes to the engine, which finishes: the windows are closed. */
static void close_windows(dh_stream *s, s2_part *p)
{
    while (p->nheap) {
        s2_pending x = heap_pop(p);
        push(s, p, &x);
    }
    if (p->eng) {
        dh_engine_finish(p->eng);
        dh_engine_free(p->eng);
        p->eng = NULL;
    }
    p->first_offset = -1;
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
    if (!engine_of(s, p, m->offset)) {
        dh_wire_clear(&x.c);
        return;
    }
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

void dh_stage2_tick(dh_stream *s, int64_t now_ms)
{
    for (size_t i = 0; i < s->nparts; i++) {
        s2_part *p = &s->parts[i];
        if (!p->eng)
            continue;
        int64_t mark = p->max_time - s->skew_ticks;
        while (p->nheap && p->heap[0].time <= mark) {
            s2_pending x = heap_pop(p);
            push(s, p, &x);
        }
        if (now_ms - p->last_ms >= s->idle_ms)
            close_windows(s, p);
    }
}

int64_t dh_stage2_commit_offset(dh_stream *s, int32_t partition)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i].partition == partition)
            return s->parts[i].eng ? s->parts[i].first_offset : s->parts[i].next_offset;
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

/* A consumer of its own, outside the group, reads the output topic read_committed from
 * the beginning to its end as it is now. */
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
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, s->output_topic, NULL);
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt &&
        !md->topics[0].err) {
        rd_kafka_topic_partition_list_t *a =
            rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
        int waiting = 0;
        for (int i = 0; i < md->topics[0].partition_cnt; i++) {
            int64_t lo = 0, hi = 0;
            int32_t id = md->topics[0].partitions[i].id;
            if (rd_kafka_query_watermark_offsets(rk, s->output_topic, id, &lo, &hi, 10000) ||
                hi <= lo)
                continue;
            rd_kafka_topic_partition_list_add(a, s->output_topic, id)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
            waiting++;
        }
        rd_kafka_assign(rk, a);
        int64_t until = dh_stream_now_ms() + 20000;
        while (waiting > 0 && dh_stream_now_ms() < until) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
            if (!m)
                continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                waiting--;
            else if (!m->err && m->key && m->key_len && m->key_len <= 16)
                dh_idset_add(&s->published, m->key, m->key_len);
            rd_kafka_message_destroy(m);
        }
        rd_kafka_topic_partition_list_destroy(a);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}
