/* The record walker (binxml.c): a record's BinXML, through its templates' op lists,
 * into the decoder's event. Used by the chunk decoder (chunk.c). */
#ifndef DH_INPUT_EVTX_BINXML_H
#define DH_INPUT_EVTX_BINXML_H

#include "input/evtx/evtx.h"

void evtx_push_sys(evtx_decoder *d, const char *name, uint32_t name_len, uint32_t off,
                   uint32_t len);
/* Decodes the record's BinXML at [start, end) into d->ev; NULL on success, else why. */
const char *evtx_decode_record_xml(evtx_decoder *d, uint32_t start, uint32_t end);

#endif
