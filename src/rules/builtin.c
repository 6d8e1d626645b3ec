/* The rule pack built into the binary: the YAML files of rules/, embedded at build time. */
#include <stdio.h>

#include "rules/sigma.h"

struct dh_builtin_rule {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct dh_builtin_rule dh_builtin_rules[];

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
