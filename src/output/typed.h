/* Values from the logs made fit for a typed field of a standard's schema (OCSF, ECS): an
 * address only when it is one, a number only when the whole text is one, the file name of a
 * path, the parts of DOMAIN\name. What fails these checks is left out of the typed field
 * (it is still in the event's own data), so hostile text never makes a document invalid. */
#ifndef DH_OUTPUT_TYPED_H
#define DH_OUTPUT_TYPED_H

#include "dcomhunt/event.h"

/* An IPv4 or IPv6 address, nothing else (no zone, no port, no spaces). */
int dh_typed_ip(dh_str s);
/* A whole decimal or 0x-hexadecimal number no greater than max. */
int dh_typed_uint(dh_str s, unsigned long long max, unsigned long long *out);
/* The part after the last '\' or '/'. */
dh_str dh_typed_basename(dh_str path);
/* "DOMAIN\name" into its parts; without a backslash, all of it is the name. */
void dh_typed_account(dh_str s, dh_str *domain, dh_str *name);
/* No value: empty, or "-" as Windows writes an absent one. */
int dh_typed_absent(dh_str s);
/* The event's taxonomy field, or an empty string when it is missing or absent ("-"). */
dh_str dh_typed_field(const dh_event *ev, dh_field id);
/* Windows' logon type number ("3") by the name Defender and Winlogbeat give it ("Network");
 * NULL for another text. */
const char *dh_typed_logon_type(dh_str number);

#endif
