/* Format recognition by content: the containers libarchive opens are recognised here by
 * their magic; every other format by its reader's sniff, in the reader table's order
 * (input/reader.c), so a new reader adds its recognition with its row. */
#include "input/sniff.h"

#include <string.h>

#include "input/readers.h"

static const struct {
    const char *magic;
    size_t magic_len;
} archives[] = {
    {"PK\x03\x04", 4}, /* zip */
    {"\x1f\x8b", 2},   /* gzip */
    {"BZh", 3},        /* bzip2 */
    {"\xfd"
     "7zXZ\x00",
     6},                       /* xz */
    {"\x28\xb5\x2f\xfd", 4},   /* zstd */
    {"7z\xbc\xaf\x27\x1c", 6}, /* 7z */
};

static int is_archive(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof archives / sizeof archives[0]; i++)
        if (n >= archives[i].magic_len && memcmp(p, archives[i].magic, archives[i].magic_len) == 0)
            return 1;
    return n >= 262 && memcmp(p + 257, "ustar", 5) == 0; /* tar */
}

dh_format dh_sniff(const uint8_t *p, size_t n)
{
    /* Magic numbers are disjoint from every text row's first byte, so archives go first. */
    if (is_archive(p, n))
        return DH_FORMAT_ARCHIVE;
    /* Text starts after a UTF-8 BOM and blanks. */
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    size_t nrows;
    const dh_reader *const *rows = dh_reader_rows(&nrows);
    for (size_t r = 0; r < nrows; r++) {
        int text = rows[r]->cut != NULL;
        dh_format f = text ? rows[r]->sniff(p + i, n - i) : rows[r]->sniff(p, n);
        if (f != DH_FORMAT_UNKNOWN)
            return f;
    }
    return DH_FORMAT_UNKNOWN;
}

const char *dh_format_name(dh_format f)
{
    static const char *const names[] = {
#define DH_X(id, name) name,
        DH_FORMAT_LIST(DH_X)
#undef DH_X
    };
    return (unsigned)f < DH_FORMAT_COUNT ? names[f] : "unknown";
}

int dh_format_is_text(dh_format f)
{
    const dh_reader *r = dh_reader_for(f);
    return r && r->cut;
}
