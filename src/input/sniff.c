/* Format recognition by content. One row per format; new readers add a row. */
#include "input/sniff.h"

#include <string.h>

static const struct {
    dh_format format;
    const char *name;
    const char *magic;
    size_t magic_len;
} formats[] = {
    {DH_FORMAT_EVTX, "evtx", "ElfFile\0", 8},
    {DH_FORMAT_EVTX_CHUNK, "evtx-chunks", "ElfChnk\0", 8},
};

dh_format dh_sniff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (n >= formats[i].magic_len && memcmp(p, formats[i].magic, formats[i].magic_len) == 0)
            return formats[i].format;
    return DH_FORMAT_UNKNOWN;
}

const char *dh_format_name(dh_format f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].format == f)
            return formats[i].name;
    return "unknown";
}
