/* Events as Windows event XML (dcomhunt dump --to xml): one <Event> per line, read back by
 * dcomhunt's XML reader as the same event. */
#ifndef DH_OUTPUT_XML_H
#define DH_OUTPUT_XML_H

#include "core/buf.h"
#include "dcomhunt/event.h"

/* The record's own XML when the reader kept it (EVTX), else the event written in the
 * shape Windows gives it: System (provider, event id, the System properties, time, record
 * id, channel, computer) and EventData with one Data per item; a newline after it. */
dh_status dh_xml_event(dh_buf *out, const dh_event *ev);

#endif
