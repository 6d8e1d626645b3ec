/* The finding model's names and small questions (model.h; dh_finding_kind_name is public,
 * dcomhunt/finding.h). */
#include "findings/model.h"

#include <stdio.h>
#include <string.h>

const char *dh_finding_kind_name(dh_finding_kind k)
{
    static const char *const names[] = {"lateral_movement", "attempt", "source_activity", "signal"};
    return (unsigned)k < 4 ? names[k] : "signal";
}

const char *dh_confidence_name(int c)
{
    return c >= 3 ? "high" : c == 2 ? "medium" : "low";
}

const char *dh_rule_label(const dh_rule *r)
{
    return *dh_rule_name(r)    ? dh_rule_name(r)
           : *dh_rule_title(r) ? dh_rule_title(r)
                               : dh_rule_ref(r);
}

int dh_cut_listed(const char *value)
{
    return !strcmp(value, "commands") || !strcmp(value, "servers") ||
           !strcmp(value, "session_commands");
}

void dh_cut_name(const dh_cut *c, char *out, size_t size)
{
    if (dh_cut_listed(c->value))
        snprintf(out, size, "%s[%zu]", c->value, c->index);
    else
        snprintf(out, size, "%s", c->value);
}

size_t dh_finding_command_cut(const dh_finding *f, size_t i)
{
    for (size_t k = 0; k < f->ncuts; k++)
        if (f->cuts[k].index == i && !strcmp(f->cuts[k].value, "commands"))
            return f->cuts[k].length;
    return 0;
}

int dh_finding_is_undecided(const dh_finding *f, const dh_rule *r)
{
    for (size_t i = 0; i < f->nundecided; i++)
        if (f->undecided[i] == r)
            return 1;
    return 0;
}
