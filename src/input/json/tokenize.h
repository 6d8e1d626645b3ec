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

/* Deepest nesting the fast pass follows (deeper input goes to jsmn, which has no limit
 * but its token count). */
#define JSONL_TOK_DEPTH 64

/* Tokens of js[0, n) into tok[0, max): the count, or a JSMN_ERROR_* (NOMEM: more than
 * max tokens; INVAL, PART: not JSON). Fast pass first, jsmn where it gives up. */
int jsonl_tokenize(const char *js, size_t n, jsmntok_t *tok, unsigned max);
/* The fast pass alone: the count, or -1 where it gives up (then jsmn decides). */
int jsonl_tokenize_fast(const char *js, size_t n, jsmntok_t *tok, unsigned max);
/* jsmn alone (the reference). */
int jsonl_tokenize_jsmn(const char *js, size_t n, jsmntok_t *tok, unsigned max);

#endif
