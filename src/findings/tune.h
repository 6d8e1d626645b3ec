/* Tuning: Sigma filters applied to findings. A finding a filter removes is suppressed, not
 * dropped: it is counted, and shown on request, with the filter and its reason. */
#ifndef DH_FINDINGS_TUNE_H
#define DH_FINDINGS_TUNE_H

#include <stdint.h>

#include "dcomhunt/correlate.h"
#include "dcomhunt/rules.h"

typedef struct dh_tuning dh_tuning;

/* `filters`: a finished ruleset of filters (borrowed). Filters whose `expires` date is
 * before `today` ("YYYY-MM-DD") are not applied; each is named once to `expired`. */
dh_status dh_tuning_new(const dh_ruleset *filters, const char *today,
                        void (*expired)(void *ctx, const dh_rule *filter), void *ctx,
                        dh_tuning **out);
/* The filter that suppresses f, or NULL. */
const dh_rule *dh_tuning_check(dh_tuning *t, const dh_finding *f);
void dh_tuning_free(dh_tuning *t);

#endif
