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
    {DH_FORMAT_ARCHIVE, "zip", "PK\x03\x04", 4},
    {DH_FORMAT_ARCHIVE, "gzip", "\x1f\x8b", 2},
    {DH_FORMAT_ARCHIVE, "bzip2", "BZh", 3},
    {DH_FORMAT_ARCHIVE, "xz",
     "\xfd"
     "7zXZ\x00",
     6},
    {DH_FORMAT_ARCHIVE, "zstd", "\x28\xb5\x2f\xfd", 4},
    {DH_FORMAT_ARCHIVE, "7z", "7z\xbc\xaf\x27\x1c", 6},
};

/* A Defender / Sentinel CSV header: comma-separated names on the first line, among them
 * a time column (Timestamp, or TimeGenerated with or without " [UTC]") and DeviceName (a
 * Defender table) or Computer and EventID (Sentinel's SecurityEvent). */
static int mde_csv_header(const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t end = nl ? (size_t)(nl - p) : n;
    int host = 0, time = 0, commas = 0, eventid = 0, computer = 0;
    size_t s = 0;
    for (size_t i = 0; i <= end; i++) {
        if (i < end && p[i] != ',')
            continue;
        size_t a = s, b = i;
        if (b > a && p[b - 1] == '\r')
            b--;
        if (b - a >= 2 && p[a] == '"' && p[b - 1] == '"') {
            a++;
            b--;
        }
        size_t len = b - a;
#define IS(lit) (len == sizeof(lit) - 1 && !memcmp(p + a, lit, len))
        if (IS("DeviceName"))
            host = 1;
        else if (IS("Computer"))
            computer = 1;
        else if (IS("EventID"))
            eventid = 1;
        else if (IS("Timestamp") || IS("TimeGenerated") || IS("Timestamp [UTC]") ||
                 IS("TimeGenerated [UTC]"))
            time = 1;
#undef IS
        commas += i < end;
        s = i + 1;
    }
    /* Sentinel's SecurityEvent: Computer and EventID */
    return (host || (computer && eventid)) && time && commas;
}

/* Does the object at p go on past the end of its first line (a pretty-printed document,
 * as evtx_dump and many exporters write), rather than end on it (JSON lines)? Strings
 * are skipped whole, so braces and newlines inside them do not count. */
static int json_object_spans_lines(const uint8_t *p, size_t n)
{
    unsigned depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') {
            for (i++; i < n && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
        } else if (p[i] == '{' || p[i] == '[') {
            depth++;
        } else if (p[i] == '}' || p[i] == ']') {
            if (--depth == 0)
                return 0;
        } else if (p[i] == '\n') {
            return 1;
        }
    }
    return 0; /* one long line, or cut short in the first bytes: read as lines */
}

dh_format dh_sniff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (n >= formats[i].magic_len && memcmp(p, formats[i].magic, formats[i].magic_len) == 0)
            return formats[i].format;
    if (n >= 262 && memcmp(p + 257, "ustar", 5) == 0)
        return DH_FORMAT_ARCHIVE; /* tar */
    /* JSON lines: the first non-blank byte opens an object (a UTF-8 BOM is allowed). */
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < n && p[i] == '{')
        return json_object_spans_lines(p + i, n - i) ? DH_FORMAT_JSON_DOC : DH_FORMAT_JSONL;
    if (i < n && p[i] == '[') {
        /* a JSON array: of objects, or empty */
        size_t k = i + 1;
        while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\n'))
            k++;
        if (k < n && (p[k] == '{' || p[k] == ']'))
            return DH_FORMAT_JSON_ARRAY;
    }
    if (n - i >= 11 && !memcmp(p + i, "#separator ", 11))
        return DH_FORMAT_ZEEK_TSV;
    if (mde_csv_header(p + i, n - i))
        return DH_FORMAT_MDE_CSV;
    if (i < n && p[i] == '<') {
        /* Windows event XML: an <Event> element near the start (after a declaration or a
         * wrapper such as <Events>). */
        for (size_t k = i; k + 7 <= n; k++)
            if (!memcmp(p + k, "<Event", 6) &&
                (p[k + 6] == '>' || p[k + 6] == ' ' || p[k + 6] == '\n' || p[k + 6] == '\r' ||
                 p[k + 6] == '\t'))
                return DH_FORMAT_XML;
    }
    return DH_FORMAT_UNKNOWN;
}

const char *dh_format_name(dh_format f)
{
    if (f == DH_FORMAT_JSONL)
        return "jsonl";
    if (f == DH_FORMAT_JSON_ARRAY)
        return "json-array";
    if (f == DH_FORMAT_JSON_DOC)
        return "json-document";
    if (f == DH_FORMAT_XML)
        return "xml";
    if (f == DH_FORMAT_MDE_CSV)
        return "mde-csv";
    if (f == DH_FORMAT_ZEEK_TSV)
        return "zeek-tsv";
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].format == f)
            return formats[i].name;
    return "unknown";
}

int dh_format_is_text(dh_format f)
{
    return f == DH_FORMAT_JSONL || f == DH_FORMAT_JSON_ARRAY || f == DH_FORMAT_JSON_DOC ||
           f == DH_FORMAT_XML || f == DH_FORMAT_MDE_CSV || f == DH_FORMAT_ZEEK_TSV;
}
