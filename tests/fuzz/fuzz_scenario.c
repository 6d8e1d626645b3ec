/* libFuzzer target for scenario files: the input is one YAML document, added to the
 * built-in catalog as a user's scenario; if it loads, it runs on a fresh world (every step,
 * placeholder and loop) and its ground truth is built from the records it made. Nothing is
 * written to disk. A scenario file is the user's, but it must never crash, hang or grow
 * without bound whatever it holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dh_sim_catalog *cat;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cat && dh_sim_catalog_load(NULL, NULL, NULL, &cat) != DH_OK)
        return 0;
    if (size > (1u << 16))
        return 0;
    /* refused or not: whatever was loaded (a new scenario, or one replacing a built-in
     * scenario of the same name) is the only one not built in */
    sim_catalog_add_text(cat, "fuzz.yml", (const char *)data, size, NULL, NULL);
    for (size_t i = 0; i < cat->n; i++) {
        dh_sim_scenario *s = cat->v[i];
        if (s->builtin)
            continue;
        dh_sim_opts o;
        dh_sim_opts_init(&o);
        o.start = 133600000000000000LL;
        sim_world w;
        sim_world_init(&w, &o, cat);
        sim_run_scenario(&w, s, o.start);
        sim_truth *t = sim_truth_build(&w);
        sim_truth_free(t);
        sim_world_free(&w);
        /* take it out again: the next input starts from the built-in catalog */
        snode_free(s->root);
        free(s);
        memmove(&cat->v[i], &cat->v[i + 1], (cat->n - i - 1) * sizeof *cat->v);
        cat->n--;
        i--;
    }
    return 0;
}
