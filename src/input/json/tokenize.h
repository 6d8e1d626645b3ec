/* Tokenizing one JSON value (a line, an array element) into jsmn's tokens: offsets into the
 * caller's bytes, parent links, no allocation. Two tokenizers give the same tokens:
 * - a single pass specialised for what event lines are (one object or array, members
 *   "key": value, strings that are mostly long runs of plain bytes): it accepts only
 *   well-formed input and gives up on anything else (bad escapes, NUL bytes, trailing
 *   bytes, too many tokens, nesting over JSONL_TOK_DEPTH);
 * - jsmn (Debian libjsmn-dev, strict, with parent links), the reference: it decides every
 *   input the fast pass gave up on, so results, tokens and errors stay jsmn's.
 * The differential fuzz target (tests/fuzz/fuzz_jsontok.c) checks that wherever the fast
 * pass answers, jsmn answers the same. */
#ifndef DH_INPUT_JSON_TOKENIZE_H
#define DH_INPUT_JSON_TOKENIZE_H

#include <stddef.h>

/* The token type only: jsmn's functions are compiled in tokenize.c alone. */
#ifndef JSMN_PARENT_LINKS
#define JSMN_PARENT_LINKS
#endif
#ifndef JSMN_HEADER
#define JSMN_HEADER
#endif
#include <jsmn.h>

/* Deepest nesting read: the fast pass follows it, deeper input is refused (below). */
#define JSONL_TOK_DEPTH 64

/* What jsonl_tokenize answers for a value nested deeper than JSONL_TOK_DEPTH, well-formed
 * or not: refused. Why: jsmn walks the parent links at every closing bracket, so a line of
 * 8,000 brackets cost 32 million steps (8 MB of such lines took 37 s); no event nests so. */
#define JSONL_ERROR_DEPTH (-10)

/* Tokens of js[0, n) into tok[0, max): the count, JSONL_ERROR_DEPTH, or a JSMN_ERROR_*
 * (NOMEM: more than max tokens; INVAL, PART: not JSON). Fast pass first; where it gives up,
 * the depth is checked (one linear pass), then jsmn decides. */
int jsonl_tokenize(const char *js, size_t n, jsmntok_t *tok, unsigned max);
/* The same answers with jsmn alone after the depth check (the reader's reference mode). */
int jsonl_tokenize_reference(const char *js, size_t n, jsmntok_t *tok, unsigned max);
/* The index of the quote that closes the string whose body starts at js[i] (a quote after an
 * even run of backslashes), or n when there is none; no other check. */
size_t jsonl_quote_close(const char *js, size_t n, size_t i);
/* The index of the bracket that closes the container whose body starts at js[i] (its
 * opening bracket just before, outside any string), as a byte-by-byte scan that skips
 * strings (jsonl_quote_close) and counts brackets finds it; -1 when it is not closed in
 * js[0, n); -2 where this scan gives up (a backslash outside strings): the caller scans
 * byte by byte. Brackets need not match in kind ({ ] closes), as in that scan. */
long jsonl_container_close(const char *js, size_t n, size_t i);
/* The same with the masks made 16 bytes a time (SSE2) whatever the processor: what
 * jsonl_container_close runs without AVX2, for the tests to compare on any machine. */
long jsonl_container_close_narrow(const char *js, size_t n, size_t i);
/* Is js[0, n) nested deeper than `limit` (brackets outside strings)? */
int jsonl_deeper_than(const char *js, size_t n, unsigned limit);
/* The fast pass alone: the count, or -1 where it gives up (then jsmn decides), as on a
 * primitive holding a quote or an opening bracket (see below). */
int jsonl_tokenize_fast(const char *js, size_t n, jsmntok_t *tok, unsigned max);
/* The fast pass on the value at js[0] alone, whatever follows it (an array's next element):
 * its tokens and, in *end, the index after it; -1 where it gives up, and also on a primitive
 * holding a quote or an opening bracket (jsmn reads 1"a" as one primitive, the array scan
 * as a string: the end found here would not be the element's). The tokens are those the
 * fast pass (and jsmn) give for js[0, *end). */
int jsonl_tokenize_fast_prefix(const char *js, size_t n, jsmntok_t *tok, unsigned max, size_t *end);
/* jsmn alone (the reference). */
int jsonl_tokenize_jsmn(const char *js, size_t n, jsmntok_t *tok, unsigned max);

#endif
