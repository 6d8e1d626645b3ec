/* The rule pack built into the binary: the YAML files of rules/, embedded at build time. */
#include <stdio.h>

#include "rules/sigma.h"

struct dh_builtin_rule {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct dh_builtin_rule dh_builtin_rules[];

uint64_t dh_builtin_digest(size_t *nfiles)
{
    /* FNV-1a 64 over each file's name and bytes, in the order they were embedded */
    uint64_t h = 1469598103934665603ULL;
    size_t n = 0;
    for (const struct dh_builtin_rule *r = dh_builtin_rules; r->name; r++, n++) {
        for (const char *p = r->name; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ 0) * 1099511628211ULL;
        for (size_t i = 0; i < r->len; i++)
            h = (h ^ r->data[i]) * 1099511628211ULL;
    }
    if (nfiles)
        *nfiles = n;
    return h;
}

dh_status dh_ruleset_add_builtin(dh_ruleset *rs, dh_rule_diag_fn diag, void *ctx)
{
    dh_status st = DH_OK;
    for (const struct dh_builtin_rule *r = dh_builtin_rules; r->name; r++) {
        char origin[256];
        snprintf(origin, sizeof origin, "builtin:rules/%s", r->name);
        dh_status s = dh_ruleset_add_text(rs, (const char *)r->data, r->len, origin, diag, ctx);
        if (s == DH_ERR_NOMEM)
            return s;
        if (s != DH_OK && st == DH_OK)
            st = s;
    }
    return st;
}
