/* The JSON reader: one event per object, from JSON lines, arrays of objects or
 * pretty-printed documents; the object's shape picks the mapping (NXLog/OTRF Windows
 * events, dump's own layout, ECS/winlogbeat, Elastic Endpoint, Defender and Sentinel
 * exports, Zeek's JSON logs). Its rows in the reader table are at the end of jsonl.c. */
#ifndef DH_INPUT_JSONL_H
#define DH_INPUT_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "event/event_impl.h"
#include "input/reader.h"

typedef struct jsonl_reader jsonl_reader;

typedef dh_reader_event_fn jsonl_event_fn;
typedef dh_reader_line_error_fn jsonl_error_fn;

jsonl_reader *jsonl_reader_new(void);
void jsonl_reader_free(jsonl_reader *r);
/* Tokenize with jsmn alone, the reference the fast tokenizer is checked against
 * (tokenize.h; the differential fuzz target sets it on one of two readers). */
void jsonl_reader_use_reference(jsonl_reader *r, int on);
/* Records read but not used since the reader was made (Zeek logs without endpoints). */
uint64_t jsonl_reader_unused(const jsonl_reader *r);
/* Decodes complete lines in [buf, buf+len); `first_line` and `base_offset` number them
 * for provenance. A line that is not an event is reported and skipped. Returns the
 * number of events, or a negative status if a callback stopped it. */
dh_status jsonl_decode(jsonl_reader *r, const char *buf, size_t len, const char *file,
                       uint64_t first_line, uint64_t base_offset, jsonl_event_fn on_event,
                       void *ectx, jsonl_error_fn on_error, void *errctx, uint64_t *events,
                       uint64_t *bad);

/* JSON arrays of events ("[{...},{...}]", one line or pretty-printed). A stream is cut
 * into batches of whole elements: `jsonl_array_cut` returns how many leading bytes of
 * [buf, buf+len) hold complete elements (0: none yet). `at_start` says the bytes begin
 * the input (a BOM and the opening bracket come first). */
size_t jsonl_array_cut(const char *buf, size_t len, int at_start);
/* The same cut by a byte-by-byte scan alone: the reference the fuzz targets check
 * jsonl_array_cut against. */
size_t jsonl_array_cut_reference(const char *buf, size_t len, int at_start);
/* Decodes the elements of a batch cut as above; errors are reported with the line of
 * the element's first byte. Same results as jsonl_decode. */
dh_status jsonl_decode_array(jsonl_reader *r, const char *buf, size_t len, int at_start,
                             const char *file, uint64_t first_line, uint64_t base_offset,
                             jsonl_event_fn on_event, void *ectx, jsonl_error_fn on_error,
                             void *errctx, uint64_t *events, uint64_t *bad);

/* Is the first object of an input (JSON lines, an array, pretty-printed objects) an event
 * of a shape dcomhunt reads? 1 yes, 0 a JSON object of another kind (a manifest, a
 * configuration), -1 cannot tell from these bytes. */
enum { JSONL_LINES, JSONL_ARRAY, JSONL_DOC };
int jsonl_first_is_event(const char *buf, size_t len, int how);

#endif
