/* The template compiler (template.c): BinXML template definitions compiled once per
 * decoder into op lists and plans. Used by the record walker (binxml.c) and the chunk
 * decoder (chunk.c); it needs neither of them. */
#ifndef DH_INPUT_EVTX_TEMPLATE_H
#define DH_INPUT_EVTX_TEMPLATE_H

#include "input/evtx/evtx.h"

/* Compiles the BinXML at [start, end) of the chunk: a template definition's data when
 * is_template, else an ad-hoc fragment (an element that may lack dependency ids). */
evtx_template *evtx_template_compile(evtx_decoder *d, uint32_t start, uint32_t end, int no_depid,
                                     const char **why);
void evtx_template_free(evtx_template *t);
/* Finds or compiles the template whose definition header is at def_off. */
evtx_template *evtx_template_get(evtx_decoder *d, uint32_t def_off, const char **why);
void evtx_template_cache_clear(evtx_decoder *d);

/* Builds (once) and returns t's plan for instantiation in `role`; NULL on no memory. */
const evtx_plan *evtx_plan_get(evtx_template *t, uint8_t role);

#endif
