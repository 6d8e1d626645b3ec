/* Ordered pipeline on POSIX threads. Slots form a ring of `window` entries; the slot of
 * task number s is s % window, and a worker may claim task s only while
 * s - next_deliver < window, so a slot is never reused before it was delivered. */
#include "core/pool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

enum { SLOT_FREE, SLOT_BUSY, SLOT_DONE };

typedef struct slot {
    uint64_t seq;
    int state;
    void *task;
    void *result;
} slot;

typedef struct pipeline {
    const dh_pipeline_ops *ops;
    unsigned window;
    slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t done_cv;  /* a slot became DONE, or production ended */
    pthread_cond_t space_cv; /* a slot was delivered, or stop */
    uint64_t next_seq;
    uint64_t next_deliver;
    int exhausted;
    int stop;
    int go; /* every worker thread was created (or creation failed): claiming may begin */
} pipeline;

static void *worker_main(void *arg)
{
    pipeline *p = arg;
    const dh_pipeline_ops *ops = p->ops;
    void *wctx = ops->worker_new ? ops->worker_new(ops->ctx) : NULL;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->stop || p->exhausted)
            break;
        /* Workers claim only once all of them exist: with small units the first ones could
         * otherwise end the input before the last were created, and -j N would run fewer
         * than N workers. Creating them costs microseconds per thread. */
        if (!p->go || p->next_seq - p->next_deliver >= p->window) {
            pthread_cond_wait(&p->space_cv, &p->mu);
            continue;
        }
        slot *s = &p->slots[p->next_seq % p->window];
        if (!ops->next(ops->ctx, s->task)) {
            p->exhausted = 1;
            pthread_cond_broadcast(&p->done_cv);
            pthread_cond_broadcast(&p->space_cv);
            break;
        }
        s->seq = p->next_seq++;
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&p->mu);
        ops->work(ops->ctx, wctx, s->task, s->result);
        pthread_mutex_lock(&p->mu);
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    if (ops->worker_free)
        ops->worker_free(ops->ctx, wctx);
    return NULL;
}

static dh_status run_inline(const dh_pipeline_ops *ops)
{
    dh_status st = DH_OK;
    void *task = calloc(1, ops->task_size ? ops->task_size : 1);
    void *result = calloc(1, ops->result_size ? ops->result_size : 1);
    if (!task || !result) {
        free(task);
        free(result);
        return DH_ERR_NOMEM;
    }
    if (ops->result_init)
        ops->result_init(result);
    void *wctx = ops->worker_new ? ops->worker_new(ops->ctx) : NULL;
    while (st == DH_OK && ops->next(ops->ctx, task)) {
        ops->work(ops->ctx, wctx, task, result);
        st = ops->deliver(ops->ctx, task, result);
    }
    if (ops->worker_free)
        ops->worker_free(ops->ctx, wctx);
    if (ops->result_fini)
        ops->result_fini(result);
    free(task);
    free(result);
    return st;
}

dh_status dh_pipeline_run(const dh_pipeline_ops *ops, unsigned threads, unsigned window)
{
    if (threads <= 1)
        return run_inline(ops);
    if (window < threads)
        window = threads;
    pipeline p = {.ops = ops, .window = window};
    dh_status st = DH_OK;
    p.slots = calloc(window, sizeof *p.slots);
    if (!p.slots)
        return DH_ERR_NOMEM;
    unsigned made = 0;
    for (; made < window; made++) {
        slot *s = &p.slots[made];
        s->seq = UINT64_MAX;
        s->task = calloc(1, ops->task_size ? ops->task_size : 1);
        s->result = calloc(1, ops->result_size ? ops->result_size : 1);
        if (!s->task || !s->result) {
            free(s->task);
            free(s->result);
            st = DH_ERR_NOMEM;
            goto cleanup;
        }
        if (ops->result_init)
            ops->result_init(s->result);
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.done_cv, NULL);
    pthread_cond_init(&p.space_cv, NULL);

    pthread_t *tids = calloc(threads, sizeof *tids);
    unsigned started = 0;
    if (tids) {
        for (; started < threads; started++)
            if (pthread_create(&tids[started], NULL, worker_main, &p) != 0)
                break;
    }
    pthread_mutex_lock(&p.mu);
    p.go = 1;
    pthread_cond_broadcast(&p.space_cv);
    pthread_mutex_unlock(&p.mu);
    if (started == 0) {
        st = DH_ERR_NOMEM;
    } else {
        pthread_mutex_lock(&p.mu);
        for (;;) {
            slot *s = &p.slots[p.next_deliver % window];
            if (s->seq == p.next_deliver && s->state == SLOT_DONE) {
                pthread_mutex_unlock(&p.mu);
                dh_status d = p.stop ? DH_OK : ops->deliver(ops->ctx, s->task, s->result);
                pthread_mutex_lock(&p.mu);
                if (d != DH_OK && st == DH_OK) {
                    st = d;
                    p.stop = 1;
                }
                s->state = SLOT_FREE;
                p.next_deliver++;
                pthread_cond_broadcast(&p.space_cv);
            } else if ((p.exhausted || p.stop) && p.next_deliver == p.next_seq) {
                break;
            } else {
                pthread_cond_wait(&p.done_cv, &p.mu);
            }
        }
        p.stop = 1;
        pthread_cond_broadcast(&p.space_cv);
        pthread_mutex_unlock(&p.mu);
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    pthread_cond_destroy(&p.done_cv);
    pthread_cond_destroy(&p.space_cv);
    pthread_mutex_destroy(&p.mu);
cleanup:
    for (unsigned i = 0; i < made; i++) {
        if (ops->result_fini)
            ops->result_fini(p.slots[i].result);
        free(p.slots[i].task);
        free(p.slots[i].result);
    }
    free(p.slots);
    return st;
}
