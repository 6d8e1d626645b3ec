/* The candidate wire encoding (wire.h has the layout): encoding a dh_candidate, decoding
 * one against a ruleset. It never talks to Kafka. */
#include "stream/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

dh_status dh_wire_encode(const dh_candidate *c, dh_buf *out)
{
    if (!c || !c->event || !out || c->nrules > DH_WIRE_MAX_RULES)
        return DH_ERR_ARG;
    unsigned char head[4] = {DH_WIRE_VERSION, 0, 0, 0};
    put16(head + 2, c->nrules);
    dh_buf_append(out, head, sizeof head);
    for (size_t i = 0; i < c->nrules; i++) {
        const char *id = dh_rule_id(c->rules[i]);
        size_t n = strlen(id);
        if (n > 0xffff)
            return DH_ERR_LIMIT;
        unsigned char r[3] = {c->undecided && c->undecided[i] ? 1 : 0, 0, 0};
        put16(r + 1, n);
        dh_buf_append(out, r, sizeof r);
        dh_buf_append(out, id, n);
    }
    /* the length goes before the event: reserve it, pack, then fill it in */
    size_t at = out->len;
    unsigned char len[4] = {0, 0, 0, 0};
    dh_buf_append(out, len, sizeof len);
    dh_status st = dh_buf_status(out);
    if (st != DH_OK)
        return st;
    st = dh_event_pack(c->event, 1, out);
    if (st != DH_OK)
        return st;
    size_t evlen = out->len - at - 4;
    if (evlen > 0xffffffffu)
        return DH_ERR_LIMIT;
    put32((unsigned char *)out->data + at, evlen);
    return dh_buf_status(out);
}

void dh_wire_clear(dh_wire_cand *c)
{
    if (!c)
        return;
    dh_event_free(c->event);
    free(c->rules);
    free(c->undecided);
    memset(c, 0, sizeof *c);
}

static dh_status refuse(char why[256], dh_status st, const char *text, size_t at)
{
    snprintf(why, 256, "%s (byte %zu)", text, at);
    return st;
}

dh_status dh_wire_decode(const void *data, size_t len, const dh_ruleset *rs, dh_wire_cand *out,
                         char why[256])
{
    memset(out, 0, sizeof *out);
    const unsigned char *p = data, *start = data, *end = p + len;
    if (!data || len < 4)
        return refuse(why, DH_ERR_FORMAT, "candidate shorter than its header", 0);
    if (p[0] != DH_WIRE_VERSION) {
        snprintf(why, 256, "candidate encoding version %u (this build reads %u)", p[0],
                 DH_WIRE_VERSION);
        return DH_ERR_UNSUPPORTED;
    }
    if (p[1] != 0)
        return refuse(why, DH_ERR_UNSUPPORTED, "candidate flags this build does not know", 1);
    size_t n = (size_t)p[2] << 8 | p[3];
    p += 4;
    if (n > DH_WIRE_MAX_RULES)
        return refuse(why, DH_ERR_FORMAT, "candidate names too many rules", 2);
    out->rules = calloc(n ? n : 1, sizeof *out->rules);
    out->undecided = calloc(n ? n : 1, 1);
    if (!out->rules || !out->undecided) {
        dh_wire_clear(out);
        return DH_ERR_NOMEM;
    }
    char id[0x10000];
    for (size_t i = 0; i < n; i++) {
        if (end - p < 3) {
            dh_wire_clear(out);
            return refuse(why, DH_ERR_FORMAT, "candidate cut inside its rules",
                          (size_t)(p - start));
        }
        if (p[0] > 1) {
            dh_wire_clear(out);
            return refuse(why, DH_ERR_FORMAT, "candidate rule flag not 0 or 1",
                          (size_t)(p - start));
        }
        out->undecided[i] = p[0];
        size_t idlen = (size_t)p[1] << 8 | p[2];
        p += 3;
        if ((size_t)(end - p) < idlen) {
            dh_wire_clear(out);
            return refuse(why, DH_ERR_FORMAT, "candidate cut inside a rule id",
                          (size_t)(p - start));
        }
        memcpy(id, p, idlen);
        id[idlen] = 0;
        out->rules[i] = memchr(id, 0, idlen) ? NULL : dh_ruleset_find(rs, id);
        if (!out->rules[i]) {
            dh_wire_clear(out);
            return refuse(why, DH_ERR_FORMAT, "candidate names a rule this ruleset lacks",
                          (size_t)(p - start));
        }
        p += idlen;
    }
    out->nrules = n;
    if (end - p < 4) {
        dh_wire_clear(out);
        return refuse(why, DH_ERR_FORMAT, "candidate cut before its event", (size_t)(p - start));
    }
    size_t evlen = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    p += 4;
    if ((size_t)(end - p) != evlen) {
        dh_wire_clear(out);
        return refuse(why, DH_ERR_FORMAT, "candidate event length does not match the message",
                      (size_t)(p - start));
    }
    size_t used = 0;
    out->event = evlen ? dh_event_unpack(p, evlen, &used) : NULL;
    if (!out->event || used != evlen) {
        dh_wire_clear(out);
        return refuse(why, DH_ERR_FORMAT, "candidate event does not unpack", (size_t)(p - start));
    }
    return DH_OK;
}
