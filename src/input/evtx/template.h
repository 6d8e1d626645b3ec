/* The template compiler (template.c): BinXML template definitions compiled once per
 * decoder into op lists and plans. Used by the record walker (binxml.c) and the chunk
 * decoder (chunk.c); it needs neither of them. */
#ifndef DH_INPUT_EVTX_TEMPLATE_H
#define DH_INPUT_EVTX_TEMPLATE_H

#include "input/evtx/evtx.h"

/* Compiles the BinXML at [start, end) of the chunk: a template definition's data, or with
 * EVTX_COMPILE_NO_DEPID an ad-hoc fragment (an element that may lack dependency ids).
 * EVTX_COMPILE_ONCE: the result is run once and never cached, so what verifying a cache
 * hit needs (name fields, copies of names stored elsewhere) is not kept. */
#define EVTX_COMPILE_NO_DEPID 1
#define EVTX_COMPILE_ONCE     2
evtx_template *evtx_template_compile(evtx_decoder *d, uint32_t start, uint32_t end, int flags,
                                     const char **why);
void evtx_template_free(evtx_template *t);
/* Finds or compiles the template whose definition header is at def_off. */
evtx_template *evtx_template_get(evtx_decoder *d, uint32_t def_off, const char **why);
void evtx_template_cache_clear(evtx_decoder *d);

/* Builds (once) and returns t's plan for instantiation in `role`; NULL on no memory. */
const evtx_plan *evtx_plan_get(evtx_template *t, uint8_t role);

#endif
