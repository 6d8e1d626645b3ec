/* Sigma rule levels: their names, both ways. Its own file so that the loader (which
 * parses a rule's level) and the matcher (which describes rules) both depend on it and not
 * on each other. */
#include <strings.h>

#include "dcomhunt/rules.h"

static const char *const level_names[] = {"informational", "low", "medium", "high", "critical"};

const char *dh_level_name(dh_level level)
{
    return (unsigned)level <= DH_LEVEL_CRITICAL ? level_names[level] : "unknown";
}

int dh_level_parse(const char *s, dh_level *level)
{
    for (int i = 0; i <= DH_LEVEL_CRITICAL; i++)
        if (!strcasecmp(s, level_names[i])) {
            *level = (dh_level)i;
            return 0;
        }
    return -1;
}
