/* Reading findings back from their JSON lines (the layout findings_jsonl.c writes and
 * docs/findings.md describes): the one reader `report` (html.c) and `tune` use.
 *
 * A line is tokenized whole (jsmn, strict) into a dh_jdoc, then read through accessors by
 * key and index: nothing is copied until a value is asked for, so a line costs its tokens,
 * not a parsed finding. Every check a hostile line needs is here: nesting depth (jsmn's
 * closing walk is quadratic in it), token count, text after the object, and the two
 * members that make a line a finding ("id" and "kind", strings).
 *
 * Ownership: a dh_jdoc points into the caller's line and the reader's tokens; it is valid
 * until the reader reads the next line. Single-threaded. */
#ifndef DH_OUTPUT_FINDINGS_READ_H
#define DH_OUTPUT_FINDINGS_READ_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct dh_jdoc {
    const char *js; /* the line */
    void *tok;      /* the reader's tokens */
    int ntok;
} dh_jdoc;

/* A byte string of the input (or of a scratch buffer): not NUL-terminated. */
typedef struct dh_jstr {
    const char *p;
    size_t n;
} dh_jstr;

typedef struct dh_findings_reader dh_findings_reader;

dh_findings_reader *dh_findings_reader_new(void);
void dh_findings_reader_free(dh_findings_reader *r);

/* Tokenizes a line holding one JSON object into d; NULL, or why not (a static message:
 * "not valid JSON", "text after the JSON object", ...). */
const char *dh_findings_reader_parse(dh_findings_reader *r, const char *line, size_t len,
                                     dh_jdoc *d);
/* The same, and the object must be a finding: "id" and "kind" strings. */
const char *dh_findings_reader_finding(dh_findings_reader *r, const char *line, size_t len,
                                       dh_jdoc *d);

/* The next line of buf[0..len) from *pos (a byte-order mark at the start skipped; blanks,
 * tabs and carriage returns trimmed at both ends): 1 and its bounds [*s, *e), its first
 * byte *start and its 1-based number *lineno (blank lines are counted, not returned); 0 at
 * the end. */
int dh_findings_next_line(const char *buf, size_t len, size_t *pos, uint64_t *lineno, size_t *s,
                          size_t *e, size_t *start);

/* The value of key `key` of object token `obj`: a token index, or -1 (obj -1: -1). Keys
 * are compared as written (a key spelled with \u escapes is not found, which only hides
 * the writer's own field). Token 0 is the line's object. */
int dh_jdoc_get(const dh_jdoc *d, int obj, const char *key);
/* The element of array `arr` after `prev` (-1: the first), or -1. */
int dh_jdoc_next(const dh_jdoc *d, int arr, int prev);
/* Elements of array `arr` (0 when it is not an array). */
int dh_jdoc_len(const dh_jdoc *d, int arr);
/* Appends the text of token t to b: a string decoded, a number or true/false as written;
 * null, objects, arrays and t -1 give nothing. */
void dh_jdoc_text(const dh_jdoc *d, int t, dh_buf *b);
/* The text of token t in scratch buffer sc (reset first); valid until sc is used again. */
dh_jstr dh_jdoc_val(const dh_jdoc *d, int t, dh_buf *sc);
/* Is token t the literal true? */
int dh_jdoc_true(const dh_jdoc *d, int t);
/* Is token t a string? */
int dh_jdoc_is_string(const dh_jdoc *d, int t);
/* Is token t an array? */
int dh_jdoc_is_array(const dh_jdoc *d, int t);

#endif
