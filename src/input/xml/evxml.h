/* Windows event XML (wevtutil qe /f:xml, Get-WinEvent ... ToXml(), SIEM exports). */
#ifndef DH_INPUT_EVXML_H
#define DH_INPUT_EVXML_H

#include <stddef.h>
#include <stdint.h>

#include "event/event_impl.h"

typedef struct evxml_reader evxml_reader;
typedef dh_status (*evxml_event_fn)(void *ctx, const dh_event *ev);
typedef void (*evxml_error_fn)(void *ctx, uint64_t offset, const char *why);

evxml_reader *evxml_reader_new(void);
void evxml_reader_free(evxml_reader *r);
/* Decodes the <Event> elements in [buf, buf+len) (concatenated, or inside any wrapper);
 * each event is parsed on its own, so a malformed one costs only itself. */
dh_status evxml_decode(evxml_reader *r, const char *buf, size_t len, const char *file,
                       uint64_t base_offset, evxml_event_fn on_event, void *ectx,
                       evxml_error_fn on_error, void *errctx, uint64_t *events, uint64_t *bad);
/* Where the last complete </Event> ends in buf (0 if none): batches are cut there. */
size_t evxml_cut(const char *buf, size_t len);

#endif
