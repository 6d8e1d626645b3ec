/* Status codes to text. Owns nothing else. */
#include "dcomhunt/status.h"

const char *dh_status_str(dh_status status)
{
    switch (status) {
    case DH_OK:
        return "ok";
    case DH_ERR_NOMEM:
        return "out of memory or over a size cap";
    case DH_ERR_IO:
        return "input/output error";
    case DH_ERR_FORMAT:
        return "malformed input";
    case DH_ERR_LIMIT:
        return "input exceeds a limit";
    case DH_ERR_ARG:
        return "invalid argument";
    case DH_ERR_UNSUPPORTED:
        return "unsupported input";
    case DH_ERR_CHECKSUM:
        return "checksum mismatch";
    case DH_ERR_CANCELLED:
        return "cancelled";
    }
    return "unknown status";
}
