/* The System properties beyond the envelope (dh_event_system): their names as Windows
 * writes them, and how other schemas spell them: NXLog's flat keys (and dcomhunt's flat
 * layout), Winlogbeat's paths under `winlog`, and the spellings Sigma rules and flattening
 * tools use (Security_UserID...). Readers and writers share this table, so what one writes
 * the other reads. */
#ifndef DH_INPUT_MAPPINGS_SYSTEM_H
#define DH_INPUT_MAPPINGS_SYSTEM_H

#include <stddef.h>

typedef struct dh_sys_name {
    const char *name;   /* Level, UserID, ProcessID... */
    const char *nxlog;  /* its NXLog key, NULL where NXLog has none */
    const char *winlog; /* its path under winlog ("process.pid"), NULL where none */
} dh_sys_name;

extern const dh_sys_name dh_sys_names[];
extern const size_t dh_sys_count;

/* The property a name (any case) or another spelling of one names; NULL if none. */
const char *dh_sys_canonical(const char *name, size_t len);
/* The property an NXLog key (exact case) names; NULL if none. */
const char *dh_sys_from_nxlog(const char *key, size_t len);

#endif
