/* The analyst's side of a finding: investigation steps in order, response steps and pivot
 * queries (Defender / Sentinel KQL and the dcomhunt command line), written with the
 * finding's own values (hosts, addresses, account, logon id, COM object, commands, times).
 *
 * Steps are plain text holding what the attacker wrote (host names, commands): every
 * renderer escapes them for its medium. Inside the queries, values are KQL string
 * literals and shell words, quoted so that no value can end the literal. */
#ifndef DH_OUTPUT_GUIDE_H
#define DH_OUTPUT_GUIDE_H

#include <stddef.h>

#include "dcomhunt/correlate.h"

#define DH_GUIDE_MAX_STEPS  24
#define DH_GUIDE_MAX_PIVOTS 8

typedef struct dh_pivot {
    const char *title;    /* static */
    const char *language; /* "kql" or "dcomhunt" */
    char *query;
} dh_pivot;

typedef struct dh_guide {
    char *investigate[DH_GUIDE_MAX_STEPS];
    size_t ninvestigate;
    char *respond[DH_GUIDE_MAX_STEPS];
    size_t nrespond;
    dh_pivot pivots[DH_GUIDE_MAX_PIVOTS];
    size_t npivots;
    size_t lost; /* while building: pieces that could not be built (never set in a guide
                  * dh_guide_build returned) */
} dh_guide;

/* Builds the guide of f. `paths` are the hunt's inputs (for the dcomhunt command line),
 * NULL when unknown. The guide owns its strings: dh_guide_free. DH_ERR_NOMEM when any step,
 * value or query could not be built whole: g is then empty (never a guide with a piece
 * missing) and needs no dh_guide_free. */
dh_status dh_guide_build(const dh_finding *f, const char *const *paths, size_t npaths, dh_guide *g);
void dh_guide_free(dh_guide *g);

#endif
