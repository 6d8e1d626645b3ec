/* An ordered pipeline: tasks are produced in sequence, processed on worker threads, and
 * delivered on the calling thread in the order they were produced, with at most `window`
 * tasks in flight (so memory is bounded by the window, never by the input). */
#ifndef DH_CORE_POOL_H
#define DH_CORE_POOL_H

#include <stddef.h>

#include "dcomhunt/status.h"

typedef struct dh_pipeline_ops {
    void *ctx;
    size_t task_size;
    size_t result_size;
    /* Called with the pipeline lock held, one call at a time: fill *task and return 1, or
     * return 0 when there are no more tasks. */
    int (*next)(void *ctx, void *task);
    void *(*worker_new)(void *ctx); /* worker thread; may return NULL */
    void (*worker_free)(void *ctx, void *wctx);
    void (*work)(void *ctx, void *wctx, void *task, void *result);
    /* Calling thread, in task order. A non-OK status stops the pipeline. */
    dh_status (*deliver)(void *ctx, void *task, void *result);
    void (*result_init)(void *result);
    void (*result_fini)(void *result);
} dh_pipeline_ops;

/* threads <= 1 runs everything on the calling thread. Returns the first non-OK status of
 * deliver, DH_ERR_NOMEM if the pipeline could not be set up, else DH_OK. */
dh_status dh_pipeline_run(const dh_pipeline_ops *ops, unsigned threads, unsigned window);

#endif
