/* JSON writing: string escaping that keeps output valid UTF-8 and inert in a terminal,
 * and the event object of `dcomhunt dump`. */
#ifndef DH_OUTPUT_JSON_H
#define DH_OUTPUT_JSON_H

#include "core/buf.h"
#include "dcomhunt/event.h"

/* Appends a quoted JSON string (docs/output-escaping.md). Control characters (C0, DEL,
 * C1, NUL included) and invisible or bidirectional formatting characters are \u-escaped
 * (the value is unchanged, the line reads as it is anywhere); each byte that is not valid
 * UTF-8 becomes U+FFFD, whatever the attacker wrote. */
dh_status dh_json_string(dh_buf *out, const char *s, size_t n);

enum { DH_JSON_FIELDS = 1 };

/* One event as a JSON object and a newline. */
dh_status dh_json_event(dh_buf *out, const dh_event *ev, unsigned flags);

/* The event as NXLog-style flat JSON (what OTRF datasets hold) and as Winlogbeat/ECS
 * JSON, one line each; dcomhunt reads both back. */
dh_status dh_json_event_otrf(dh_buf *out, const dh_event *ev);
dh_status dh_json_event_ecs(dh_buf *out, const dh_event *ev);

#endif
