/* libFuzzer target for what reads attacker-written text on the correlator's side: the
 * source-side parser of code and command lines (remote COM activations, encoded PowerShell)
 * and the knowledge table's loader (a --com-objects file). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/comdb.h"
#include "correlate/corr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dh_str text = {(const char *)data, size};
    dcom_mention m[16];
    size_t n = dcom_mentions(text, m, 16);
    for (size_t i = 0; i < n; i++) /* a target is a slice of the input (an object may be a
                                    * tool's default, a constant) */
        if (m[i].target.ptr < text.ptr || m[i].target.ptr + m[i].target.len > text.ptr + size)
            abort();
    char *buf = malloc(4096);
    if (buf) {
        size_t dn = ps_decode_encoded(text, buf, 4096);
        if (dn >= 4096)
            abort();
        dcom_mentions((dh_str){buf, dn}, m, 16);
        free(buf);
    }
    dh_comdb *db = NULL;
    if (dh_comdb_new(&db) == DH_OK) {
        dh_error e;
        dh_comdb_add_text(db, (const char *)data, size, "fuzz", &e);
        int emb;
        comdb_by_start(db, text, text, &emb);
        comdb_by_name(db, text);
        comdb_in_text(db, text);
        dh_comdb_free(db);
    }
    return 0;
}
