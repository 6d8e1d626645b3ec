/* dcomhunt: status codes and the error record.
 *
 * Ownership: a dh_error is a plain value filled by the callee; it owns no memory.
 * Status numbers are pinned: never renumber, only append. */
#ifndef DCOMHUNT_STATUS_H
#define DCOMHUNT_STATUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dh_status {
    DH_OK = 0,
    DH_ERR_NOMEM = -1,       /* an allocation failed or a cap was reached */
    DH_ERR_IO = -2,          /* open/read failed */
    DH_ERR_FORMAT = -3,      /* input is not what it claims, or is damaged */
    DH_ERR_LIMIT = -4,       /* input exceeds a hard bound (depth, size, count) */
    DH_ERR_ARG = -5,         /* bad argument from the caller */
    DH_ERR_UNSUPPORTED = -6, /* valid input of a kind this build cannot read */
    DH_ERR_CHECKSUM = -7,    /* a stored checksum does not match the data */
    DH_ERR_CANCELLED = -8,   /* a callback asked to stop */
} dh_status;

/* Where and why something failed. `chunk` is -1 and `record_id` 0 where not applicable. */
typedef struct dh_error {
    dh_status status;
    int64_t chunk;
    uint64_t offset; /* byte offset in the file */
    uint64_t record_id;
    char file[1024];
    char message[256];
} dh_error;

/* Static English text for a status; never NULL. */
const char *dh_status_str(dh_status status);

#ifdef __cplusplus
}
#endif
#endif
