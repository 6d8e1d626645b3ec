/* A claim list: the records an activation or a group says are its evidence, with how
 * strongly (rank, then distance in time). activations.c, source.c and assemble.c all add
 * to such lists; assemble.c then gives every record to its strongest claim. Kept apart
 * from those three so none of them depends on another for it. */
#include "correlate/corr.h"

int claim_add(arena *a, claim **v, size_t *n, size_t *cap, size_t *dropped, item *it,
              const char *role, int rank, int64_t dt, unsigned fam, int32_t node)
{
    if (*n >= CLAIM_CAP) {
        (*dropped)++;
        return 0;
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        claim *nv = arena_grow(a, *v, *n * sizeof *nv, nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    claim *c = &(*v)[(*n)++];
    c->it = it;
    c->role = role;
    c->rank = rank;
    c->dt = dt < 0 ? -dt : dt;
    c->fam = fam;
    c->node = node;
    return 0;
}
