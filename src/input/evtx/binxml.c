/* Walking a compiled template with one record's substitution values.
 *
 * The walk tracks where it is in the event (System/EventID, EventData/Data[@Name], a
 * UserData leaf...) with a small role per open element, converts only the values that the
 * envelope or the data items need (all of them when XML is asked for), and collects data
 * items as arena offsets. No XML is built unless asked for. */
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/timefmt.h"
#include "input/evtx/evtx.h"
#include "input/evtx/template.h"

static int content_wanted(const evtx_decoder *d, uint8_t role)
{
    return role == R_SYS_EVENTID || role == R_SYS_RECID || role == R_SYS_CHANNEL ||
           role == R_SYS_COMPUTER || (role == R_SYS_OTHER && d->want_sys) || role == R_ED_ITEM ||
           role == R_ED_DEEP || role == R_UD_ITEM;
}

static int attr_wanted(const evtx_decoder *d, uint8_t role, uint8_t known)
{
    return (role == R_SYS_PROVIDER && known == KN_NAME) ||
           (role == R_SYS_TIME && known == KN_SYSTEMTIME) ||
           (role == R_ED_ITEM && known == KN_NAME) || (d->want_sys && evtx_sys_attr(role, known));
}

void evtx_push_sys(evtx_decoder *d, const char *name, uint32_t name_len, uint32_t off, uint32_t len)
{
    if (d->nsys >= EVTX_MAX_SYS)
        return; /* a System element holds a dozen properties; more is not Windows' */
    d->sys[d->nsys++] = (evtx_sysitem){name, name_len, off, len};
}

static const char *grow_items(evtx_decoder *d)
{
    if (d->items_cap >= EVTX_MAX_ITEMS)
        return "too many data items in one event";
    size_t cap = d->items_cap ? d->items_cap * 2 : 64;
    evtx_item *n = realloc(d->items, cap * sizeof *n);
    if (!n)
        return "out of memory";
    d->items = n;
    d->items_cap = cap;
    return NULL;
}

/* Inline, the growth out of line: called for every data item of every record. */
static inline const char *push_item(evtx_decoder *d, const char *name, uint32_t name_len,
                                    const evtx_template *tpl, uint32_t name_op, uint32_t voff,
                                    uint32_t vlen)
{
    if (d->nitems == d->items_cap) {
        const char *why = grow_items(d);
        if (why)
            return why;
    }
    evtx_item *it = &d->items[d->nitems++];
    it->name_static = name;
    it->name_off = 0;
    it->name_len = name_len;
    it->tpl = tpl;
    it->name_op = name_op;
    it->value_off = voff;
    it->value_len = vlen;
    return NULL;
}

/* The text of a character reference (as UTF-8) and of an entity reference. */
static dh_status put_charref(dh_buf *b, uint32_t c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else {
        if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD;
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    }
    return dh_buf_append(b, u, n);
}

static dh_status put_entref(dh_buf *b, const char *name, size_t len)
{
    static const struct {
        const char *name, *text;
    } ents[] = {{"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}};
    for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++)
        if (strlen(ents[k].name) == len && memcmp(ents[k].name, name, len) == 0)
            return dh_buf_puts(b, ents[k].text);
    dh_status st = dh_buf_putc(b, '&');
    if (!st)
        st = dh_buf_append(b, name, len);
    if (!st)
        st = dh_buf_putc(b, ';');
    return st;
}

static const char *add_item(evtx_decoder *d, evtx_frame *f, uint32_t voff, uint32_t vlen)
{
    if (f->name_static || f->name_len || f->name_op != UINT32_MAX) {
        const char *why =
            push_item(d, f->name_static, f->name_len, f->name_tpl, f->name_op, voff, vlen);
        if (!why)
            d->items[d->nitems - 1].name_off = f->name_off; /* a name in the arena */
        return why;
    }
    /* No Name attribute: the element's own name (Binary, UserData leaves...). */
    const evtx_op *op = &f->tpl->ops[f->op];
    return push_item(d, f->tpl->pool + op->a, op->alen, f->tpl, f->op, voff, vlen);
}

static const char *end_attr(evtx_decoder *d)
{
    if (d->attr_skip) {
        d->attr_skip = 0;
        return NULL;
    }
    if (!d->attr_open)
        return NULL;
    d->attr_open = 0;
    evtx_frame *f = &d->frames[d->depth - 1];
    uint32_t off = d->attr_start, len = (uint32_t)(d->arena.len - d->attr_start);
    if (f->role == R_SYS_PROVIDER && d->attr_known == KN_NAME) {
        d->provider_off = off;
        d->provider_len = len;
    } else if (f->role == R_SYS_TIME && d->attr_known == KN_SYSTEMTIME && !d->time_set) {
        int64_t ft;
        if (dh_time_parse_iso(d->arena.data + off, len, &ft) == 0) {
            d->time = ft;
            d->time_set = 1;
        }
    } else if (d->want_sys && evtx_sys_attr(f->role, d->attr_known)) {
        const evtx_op *aop = &d->attr_tpl->ops[d->attr_op];
        evtx_push_sys(d, d->attr_tpl->pool + aop->a, aop->alen, off, len);
    } else if (f->role == R_ED_ITEM && d->attr_known == KN_NAME && !f->name_static) {
        f->name_off = off;
        f->name_len = len;
        f->name_op = UINT32_MAX;
        f->name_tpl = NULL;
        f->name_static = NULL;
        if (!len)
            f->name_static = ""; /* an empty Name is still a name */
    }
    if (d->want_xml && dh_buf_putc(&d->xml, '"'))
        return "XML output exceeds the size limit";
    return NULL;
}

static const char *finish_element(evtx_decoder *d, const evtx_op *op, const evtx_template *t,
                                  int empty)
{
    evtx_frame *f = &d->frames[d->depth - 1];
    uint32_t off = f->text_start, len = (uint32_t)(d->arena.len - f->text_start);
    if (empty) {
        off = (uint32_t)d->arena.len;
        len = 0;
    }
    switch (f->role) {
    case R_SYS_EVENTID:
        d->eventid_off = off;
        d->eventid_len = len;
        break;
    case R_SYS_RECID:
        d->recid_off = off;
        d->recid_len = len;
        break;
    case R_SYS_CHANNEL:
        d->channel_off = off;
        d->channel_len = len;
        break;
    case R_SYS_COMPUTER:
        d->computer_off = off;
        d->computer_len = len;
        break;
    case R_ED_ITEM:
        if (!f->emitted) {
            const char *why = add_item(d, f, off, len);
            if (why)
                return why;
        }
        break;
    case R_UD_ITEM:
        if (!f->has_child && !f->emitted) {
            const char *why = add_item(d, f, off, len);
            if (why)
                return why;
        }
        break;
    case R_SYS_OTHER:
        if (d->want_sys && !f->has_child && !empty) { /* Level, Task, Opcode, Keywords... */
            const evtx_op *o = &f->tpl->ops[f->op];
            evtx_push_sys(d, f->tpl->pool + o->a, o->alen, off, len);
        }
        break;
    }
    if (d->want_xml) {
        dh_status st;
        if (empty) {
            st = dh_buf_append(&d->xml, "/>", 2);
        } else {
            st = dh_buf_append(&d->xml, "</", 2);
            if (!st)
                st = dh_buf_append(&d->xml, t->pool + op->a, op->alen);
            if (!st)
                st = dh_buf_putc(&d->xml, '>');
        }
        if (st)
            return "XML output exceeds the size limit";
    }
    d->depth--;
    return NULL;
}

static const char *walk_fragment(evtx_decoder *d, uint32_t start, uint32_t end, uint8_t role);

#define EVTX_FEW_BIN 4 /* BinXML values of one instance whose places are kept */

/* Appends a value's text to the arena (and, escaped, to the XML). */
static const char *put_value(evtx_decoder *d, const evtx_value *v, int in_attr)
{
    size_t before = d->arena.len;
    if (evtx_value_text(&d->arena, v->type, v->p, v->len) != DH_OK)
        return "value text exceeds the size limit";
    if (d->want_xml &&
        dh_xml_escape(&d->xml, d->arena.data + before, d->arena.len - before, in_attr) != DH_OK)
        return "XML output exceeds the size limit";
    return NULL;
}

/* Is the substitution's value not there: an optional substitution of NULL (Windows does
 * not create the element or attribute, MS-EVEN6), or a value lost to a tear (left out
 * rather than shown empty)? */
static int absent(const evtx_op *op, const evtx_value *vals, uint32_t nvals)
{
    if (op->subst < nvals && vals[op->subst].lost)
        return 1;
    return op->optional && (op->subst >= nvals || vals[op->subst].type == 0x00);
}

/* The full walk of a template instance: one switch over the op list. long because: it
 * is the decoder's inner loop (every op of every record that takes no plan), and its
 * state (frame stack, attribute in progress, XML output) lives in locals and the decoder;
 * cutting it per opcode would pass that state through calls on every op. */
static const char *walk(evtx_decoder *d, const evtx_template *t, const evtx_value *vals,
                        uint32_t nvals)
{
    static const evtx_value null_value = {NULL, 0, 0, 0};
    const char *why;
    for (uint32_t i = 0; i < t->nops; i++) {
        const evtx_op *op = &t->ops[i];
        if (++d->ops_walked > 4u * EVTX_MAX_OPS)
            return "record expands to too many BinXML tokens";
        switch (op->code) {
        case OP_OPEN: {
            if (d->depth >= EVTX_MAX_DEPTH)
                return "elements nested too deeply";
            {
                /* An element whose only content is an optional substitution of a NULL
                 * value is not created (MS-EVEN6): skip it whole. */
                uint32_t end = op->close, cs = i + 1;
                while (cs < end && t->ops[cs].code != OP_CLOSE_START)
                    cs++;
                if (end < t->nops && cs + 2 == end && t->ops[cs + 1].code == OP_SUBST &&
                    absent(&t->ops[cs + 1], vals, nvals)) {
                    i = end;
                    break;
                }
            }
            uint8_t parent = R_NONE;
            if (d->depth > 0) {
                d->frames[d->depth - 1].has_child = 1;
                parent = d->frames[d->depth - 1].role;
            }
            evtx_frame *f = &d->frames[d->depth++];
            memset(f, 0, sizeof *f);
            f->role = evtx_classify_role(parent, op->known);
            f->text_start = (uint32_t)d->arena.len;
            f->tpl = t;
            f->op = i;
            f->name_op = UINT32_MAX;
            f->in_start = 1;
            f->xml_open = (uint32_t)d->xml.len;
            if (d->want_xml &&
                (dh_buf_putc(&d->xml, '<') || dh_buf_append(&d->xml, t->pool + op->a, op->alen)))
                return "XML output exceeds the size limit";
            break;
        }
        case OP_ATTR: {
            if ((why = end_attr(d)))
                return why;
            evtx_frame *f = &d->frames[d->depth - 1];
            /* Look at the value: an attribute whose pieces are all optional substitutions
             * of NULL values is not created; a single static text is kept by reference. */
            uint32_t j = i + 1, pieces = 0, nulls = 0;
            for (; j < t->nops && t->ops[j].code >= OP_TEXT && t->ops[j].code <= OP_ENTREF; j++) {
                const evtx_op *vo = &t->ops[j];
                pieces++;
                if (vo->code == OP_SUBST && absent(vo, vals, nvals))
                    nulls++;
            }
            if (pieces && nulls == pieces) {
                d->attr_skip = 1;
                break;
            }
            d->attr_open = 1;
            d->attr_known = op->known;
            d->attr_start = (uint32_t)d->arena.len;
            d->attr_tpl = t;
            d->attr_op = i;
            if (f->role == R_ED_ITEM && op->known == KN_NAME && pieces == 1 &&
                t->ops[i + 1].code == OP_TEXT) {
                f->name_static = t->pool + t->ops[i + 1].a;
                f->name_len = t->ops[i + 1].alen;
                f->name_op = i + 1;
                f->name_tpl = t;
            }
            if (d->want_xml &&
                (dh_buf_putc(&d->xml, ' ') || dh_buf_append(&d->xml, t->pool + op->a, op->alen) ||
                 dh_buf_append(&d->xml, "=\"", 2)))
                return "XML output exceeds the size limit";
            break;
        }
        case OP_CLOSE_START: {
            if ((why = end_attr(d)))
                return why;
            evtx_frame *f = &d->frames[d->depth - 1];
            f->in_start = 0;
            f->text_start = (uint32_t)d->arena.len;
            if (d->want_xml && dh_buf_putc(&d->xml, '>'))
                return "XML output exceeds the size limit";
            f->xml_content = (uint32_t)d->xml.len;
            break;
        }
        case OP_CLOSE_EMPTY:
            if ((why = end_attr(d)) || (why = finish_element(d, op, t, 1)))
                return why;
            break;
        case OP_END: {
            /* The matching OPEN names the element. */
            const evtx_frame *f = &d->frames[d->depth - 1];
            if (f->tpl != t)
                return "element closed by another template";
            if ((why = finish_element(d, &t->ops[f->op], t, 0)))
                return why;
            break;
        }
        default: {
            if (d->attr_skip || d->depth == 0)
                break;
            evtx_frame *f = &d->frames[d->depth - 1];
            int in_attr = d->attr_open;
            int wanted = d->want_xml || (in_attr ? attr_wanted(d, f->role, d->attr_known)
                                                 : content_wanted(d, f->role));
            if (op->code == OP_SUBST) {
                const evtx_value *v = op->subst < nvals ? &vals[op->subst] : &null_value;
                if (v->type == 0x21 && !in_attr) {
                    uint32_t start = (uint32_t)(v->p - d->chunk);
                    if ((why = walk_fragment(d, start, start + v->len, f->role)))
                        return why;
                    break;
                }
                if (in_attr && f->role == R_SYS_TIME && v->type == 0x11 && v->len == 8 &&
                    !d->time_set) {
                    d->time = (int64_t)rd64(v->p);
                    d->time_set = 1;
                    if (!d->want_xml)
                        break;
                }
                if (!wanted)
                    break;
                if ((v->type & 0x80) && !in_attr && !f->emitted &&
                    (f->role == R_ED_ITEM || f->role == R_UD_ITEM ||
                     (d->want_xml && f->tpl && !f->in_start))) {
                    /* An array fills one item per element, under the element's name. */
                    const uint8_t *ip;
                    size_t il, apos = 0;
                    for (size_t k = 0; evtx_array_next(v->type, v->p, v->len, &apos, &ip, &il);
                         k++) {
                        size_t before = d->arena.len;
                        evtx_value iv = {ip, (uint32_t)il, (uint8_t)(v->type & 0x7f), 0};
                        if (k && d->want_xml) {
                            /* Windows repeats the element for each item: close it and
                             * open it again with the same start tag. */
                            const evtx_op *oo = &f->tpl->ops[f->op];
                            uint32_t tag = f->xml_content - f->xml_open;
                            if (!dh_buf_reserve(&d->xml, 3 + oo->alen + tag) ||
                                dh_buf_append(&d->xml, "</", 2) ||
                                dh_buf_append(&d->xml, f->tpl->pool + oo->a, oo->alen) ||
                                dh_buf_putc(&d->xml, '>') ||
                                dh_buf_append(&d->xml, d->xml.data + f->xml_open, tag))
                                return "XML output exceeds the size limit";
                        }
                        if ((why = put_value(d, &iv, 0)))
                            return why;
                        if ((f->role == R_ED_ITEM || f->role == R_UD_ITEM) &&
                            (why = add_item(d, f, (uint32_t)before,
                                            (uint32_t)(d->arena.len - before))))
                            return why;
                    }
                    f->emitted = 1;
                    break;
                }
                if ((why = put_value(d, v, in_attr)))
                    return why;
                break;
            }
            if (!wanted)
                break;
            if (op->code == OP_TEXT || op->code == OP_CDATA) {
                if (dh_buf_append(&d->arena, t->pool + op->a, op->alen))
                    return "value text exceeds the size limit";
                if (d->want_xml) {
                    dh_status st;
                    if (op->code == OP_CDATA)
                        st = dh_buf_puts(&d->xml, "<![CDATA[") ||
                             dh_buf_append(&d->xml, t->pool + op->a, op->alen) ||
                             dh_buf_puts(&d->xml, "]]>");
                    else
                        st = dh_xml_escape(&d->xml, t->pool + op->a, op->alen, in_attr);
                    if (st)
                        return "XML output exceeds the size limit";
                }
            } else if (op->code == OP_CHARREF) {
                if (put_charref(&d->arena, op->a))
                    return "value text exceeds the size limit";
                if (d->want_xml && (dh_buf_puts(&d->xml, "&#") || dh_buf_put_u64(&d->xml, op->a) ||
                                    dh_buf_putc(&d->xml, ';')))
                    return "XML output exceeds the size limit";
            } else if (op->code == OP_ENTREF) {
                const char *name = t->pool + op->a;
                if (put_entref(&d->arena, name, op->alen))
                    return "value text exceeds the size limit";
                if (d->want_xml &&
                    (dh_buf_putc(&d->xml, '&') || dh_buf_append(&d->xml, name, op->alen) ||
                     dh_buf_putc(&d->xml, ';')))
                    return "XML output exceeds the size limit";
            } else if (op->code == OP_PI && d->want_xml) {
                if (dh_buf_puts(&d->xml, "<?") ||
                    dh_buf_append(&d->xml, t->pool + op->a, op->alen) ||
                    dh_buf_putc(&d->xml, ' ') ||
                    dh_buf_append(&d->xml, t->pool + op->b, op->blen) || dh_buf_puts(&d->xml, "?>"))
                    return "XML output exceeds the size limit";
            }
        }
        }
    }
    return NULL;
}

/* The fast path: a top-level template with only scalar values runs its plan. */
static const char *run_nested(evtx_decoder *d, const evtx_value *v, uint8_t role);

static const char *run_plan(evtx_decoder *d, const evtx_template *t, const evtx_plan *plan,
                            const evtx_value *vals, uint32_t nvals)
{
    const evtx_plan_entry *entries = d->want_sys ? plan->e : plan->e_nosys;
    uint32_t nentries = d->want_sys ? plan->n : plan->n_nosys;
    for (uint32_t k = 0; k < nentries; k++) {
        const evtx_plan_entry *e = &entries[k];
        uint32_t start;
        if (e->single) {
            /* Most entries: one substitution, its index kept in the entry. */
            const evtx_value *v = e->subst < nvals ? &vals[e->subst] : NULL;
            uint8_t ty = v ? v->type : 0x00;
            if (ty == 0x00 && e->opt_only)
                continue; /* the element is not there at all */
            if (e->target == P_TIME && ty == 0x11 && v->len == 8) {
                if (!d->time_set) {
                    d->time = (int64_t)rd64(v->p);
                    d->time_set = 1;
                }
                continue;
            }
            start = (uint32_t)d->arena.len;
            if (ty != 0x00 && evtx_value_text(&d->arena, ty, v->p, v->len) != DH_OK)
                return "value text exceeds the size limit";
        } else {
            if (e->opt_only) {
                uint16_t si = t->ops[e->first].subst;
                if (si >= nvals || vals[si].type == 0x00)
                    continue; /* the element is not there at all */
            }
            if (e->target == P_NESTED) {
                if (e->subst < nvals && vals[e->subst].type == 0x21) {
                    const char *why = run_nested(d, &vals[e->subst], e->role);
                    if (why)
                        return why;
                }
                continue;
            }
            start = (uint32_t)d->arena.len;
            for (uint32_t i = e->first; i < e->last; i++) {
                const evtx_op *op = &t->ops[i];
                dh_status st = DH_OK;
                switch (op->code) {
                case OP_TEXT:
                case OP_CDATA:
                    st = dh_buf_append(&d->arena, t->pool + op->a, op->alen);
                    break;
                case OP_SUBST:
                    if (op->subst < nvals && vals[op->subst].type != 0x00)
                        st = evtx_value_text(&d->arena, vals[op->subst].type, vals[op->subst].p,
                                             vals[op->subst].len);
                    break;
                case OP_CHARREF:
                    st = put_charref(&d->arena, op->a);
                    break;
                case OP_ENTREF:
                    st = put_entref(&d->arena, t->pool + op->a, op->alen);
                    break;
                }
                if (st)
                    return "value text exceeds the size limit";
            }
        }
        uint32_t len = (uint32_t)d->arena.len - start;
        const char *why = NULL;
        switch (e->target) {
        case P_PROVIDER:
            d->provider_off = start;
            d->provider_len = len;
            break;
        case P_TIME: {
            int64_t ft;
            if (!d->time_set && len && dh_time_parse_iso(d->arena.data + start, len, &ft) == 0) {
                d->time = ft;
                d->time_set = 1;
            }
            break;
        }
        case P_EVENTID:
            d->eventid_off = start;
            d->eventid_len = len;
            break;
        case P_RECID:
            d->recid_off = start;
            d->recid_len = len;
            break;
        case P_CHANNEL:
            d->channel_off = start;
            d->channel_len = len;
            break;
        case P_COMPUTER:
            d->computer_off = start;
            d->computer_len = len;
            break;
        case P_ITEM:
            why = push_item(d, t->pool + e->name_a, e->name_alen, t, e->name_op, start, len);
            break;
        case P_SYS:
            evtx_push_sys(d, t->pool + e->name_a, e->name_alen, start, len);
            break;
        }
        if (why)
            return why;
    }
    return NULL;
}

/* Can plan run with these values? Arrays and BinXML values the plan does not expect
 * need the full walk. */
static int values_fit(const evtx_plan *plan, const evtx_value *vals, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t ty = vals[i].type;
        if ((ty & 0x80) || (ty == 0x21 && !(i < plan->nnested && plan->nested[i])))
            return 0;
    }
    return 1;
}

/* Does plan fit values whose only BinXML ones are at the nbin indexes bin, with no array? */
static int bin_fit(const evtx_plan *plan, const uint32_t *bin, int nbin)
{
    for (int k = 0; k < nbin; k++)
        if (!(bin[k] < plan->nnested && plan->nested[bin[k]]))
            return 0;
    return 1;
}

/* Runs template t with its values in context `role`: the plan where it fits, else the full
 * walk (under a stand-in frame for the context when no element is open). nbin >= 0: no
 * value is an array and the BinXML ones are at the indexes bin[0, nbin) (0: any plan fits
 * without looking); nbin < 0: not known, every value is looked at. */
static const char *exec_instance(evtx_decoder *d, evtx_template *t, const evtx_value *vals,
                                 uint32_t n, uint8_t role, int nbin, const uint32_t *bin)
{
    if (!d->want_xml && !d->full_walk && !d->tear) {
        const evtx_plan *plan = evtx_plan_get(t, role);
        if (plan && plan->ok &&
            (nbin == 0 || (nbin > 0 ? bin_fit(plan, bin, nbin) : values_fit(plan, vals, n)))) {
            if (d->depth > 0)
                d->frames[d->depth - 1].has_child = 1;
            return run_plan(d, t, plan, vals, n);
        }
    }
    if (d->depth > 0 || role == R_NONE)
        return walk(d, t, vals, n);
    evtx_frame *f = &d->frames[d->depth++];
    memset(f, 0, sizeof *f);
    f->role = role;
    f->text_start = (uint32_t)d->arena.len;
    f->name_op = UINT32_MAX;
    const char *why = walk(d, t, vals, n);
    if (!why && d->depth != 1)
        why = "nested template leaves an element open";
    d->depth = 0;
    return why;
}

/* Parses a template instance at *pos and runs it in context `role`. */
static const char *walk_instance(evtx_decoder *d, uint32_t *pos, uint32_t end, uint8_t role)
{
    const uint8_t *c = d->chunk;
    if (end - *pos < 10)
        return "template instance runs past the record";
    uint32_t def_off = rd32(c + *pos + 6);
    *pos += 10;
    if (def_off == *pos) {
        if (end - *pos < 24)
            return "template definition runs past the record";
        uint32_t size = rd32(c + *pos + 20);
        if (size > end - *pos - 24)
            return "template definition runs past the record";
        if (d->tear && *pos + 24 + size > d->tear)
            return "torn inside its template definition";
        *pos += 24 + size;
    }
    const char *why = NULL;
    evtx_template *t = evtx_template_get(d, def_off, &why);
    if (!t)
        return why;
    if (end - *pos < 4)
        return "template values run past the record";
    uint32_t n = rd32(c + *pos);
    /* Torn before the value count: every substitution of the template is lost. */
    int count_lost = d->tear && *pos + 4 > d->tear;
    if (count_lost) {
        n = 0;
        for (uint32_t k = 0; k < t->nops; k++)
            if (t->ops[k].code == OP_SUBST && t->ops[k].subst + 1u > n)
                n = t->ops[k].subst + 1u;
    }
    *pos += 4;
    if (n > EVTX_MAX_VALUES)
        return "too many template values";
    if (!count_lost && (uint64_t)n * 4 > end - *pos)
        return "template value descriptors run past the record";
    if (d->tpl_depth >= EVTX_MAX_TPL_DEPTH)
        return "templates nested too deeply";
    evtx_value_level *lv = &d->levels[d->tpl_depth];
    if (lv->cap < n) {
        uint32_t cap = n < 64 ? 64 : n;
        evtx_value *nv = realloc(lv->v, cap * sizeof *nv);
        if (!nv)
            return "out of memory";
        lv->v = nv;
        lv->cap = cap;
    }
    const uint8_t *desc = c + *pos;
    uint32_t desc_pos = *pos;
    if (!count_lost)
        *pos += 4 * n;
    /* Where the BinXML values are (a record's own template holds one, EventData or
     * UserData, to be run as nested by the plan), so that whether the plan fits needs no
     * second pass over the values; -1 when there is an array or more than EVTX_FEW_BIN. */
    uint32_t bin[EVTX_FEW_BIN];
    int nbin = 0;
    if (!d->tear) {
        /* The usual record, whole: one pass over the descriptors. The position in a local
         * (through the pointer it was stored and reloaded per value: the stores to v may
         * alias it) and the plain test as one table lookup: this loop runs for every
         * value of every record, the branch is taken about once a record. */
#define O8  1, 1, 1, 1, 1, 1, 1, 1
#define O64 O8, O8, O8, O8, O8, O8, O8, O8
        static const uint8_t not_plain[256] = {[0x21] = 1, [0x80] = O64, O64};
#undef O64
#undef O8
        evtx_value *v = lv->v;
        uint32_t at = *pos, left = end - at;
        for (uint32_t i = 0; i < n; i++, v++) {
            uint32_t size = rd16(desc + 4 * i);
            uint8_t ty = desc[4 * i + 2];
            if (size > left)
                return "template value runs past the record";
            v->p = c + at;
            v->len = size;
            v->type = ty;
            v->lost = 0;
            if (not_plain[ty]) {
                if (ty == 0x21 && nbin >= 0 && nbin < EVTX_FEW_BIN)
                    bin[nbin++] = i;
                else
                    nbin = -1;
            }
            at += size;
            left -= size;
        }
        *pos = at;
    }
    for (uint32_t i = 0; d->tear && i < n; i++) {
        evtx_value *v = &lv->v[i];
        if (d->tear && (count_lost || desc_pos + 4 * i + 4 > d->tear)) {
            /* The descriptor itself was never written: the value is unknown. */
            *v = (evtx_value){NULL, 0, 0x00, 1};
            d->values_total++;
            d->values_lost++;
            continue;
        }
        uint32_t size = rd16(desc + 4 * i);
        if (size > end - *pos)
            return "template value runs past the record";
        v->p = c + *pos;
        v->len = size;
        v->type = desc[4 * i + 2];
        v->lost = 0;
        if (d->tear) {
            d->values_total++;
            if (size && *pos + size > d->tear) {
                v->p = NULL;
                v->len = 0;
                v->type = 0x00;
                v->lost = 1;
                d->values_lost++;
            }
        }
        *pos += size;
    }
    if (d->tear)
        nbin = -1;
    d->tpl_depth++;
    why = exec_instance(d, t, lv->v, n, role, nbin, bin);
    d->tpl_depth--;
    return why;
}

static const char *scratch_element(evtx_decoder *d, uint32_t *pos, uint32_t end, int no_depid,
                                   uint8_t role)
{
    const char *why = NULL;
    evtx_template *t = evtx_template_compile(
        d, *pos, end, (no_depid ? EVTX_COMPILE_NO_DEPID : 0) | EVTX_COMPILE_ONCE, &why);
    if (!t)
        return why;
    t->next = d->scratch;
    d->scratch = t;
    *pos += t->data_size;
    return exec_instance(d, t, NULL, 0, role, 0, NULL);
}

static const char *run_nested(evtx_decoder *d, const evtx_value *v, uint8_t role)
{
    uint32_t start = (uint32_t)(v->p - d->chunk);
    return walk_fragment(d, start, start + v->len, role);
}

/* A BinXML value (type 0x21): a fragment, a template instance, or a bare element, in
 * the context of an element with role `role`. */
static const char *walk_fragment(evtx_decoder *d, uint32_t start, uint32_t end, uint8_t role)
{
    uint32_t pos = start;
    while (pos < end) {
        uint8_t tok = d->chunk[pos];
        const char *why = NULL;
        if (tok == 0x0f) {
            pos += 4;
        } else if (tok == 0x0c) {
            why = walk_instance(d, &pos, end, role);
        } else if ((tok & 0x1f) == 0x01) {
            why = scratch_element(d, &pos, end, 1, role);
        } else if (tok == 0x00) {
            return NULL;
        } else {
            return "unexpected token in a BinXML value";
        }
        if (why)
            return why;
    }
    return NULL;
}

const char *evtx_decode_record_xml(evtx_decoder *d, uint32_t start, uint32_t end)
{
    uint32_t pos = start;
    int seen = 0;
    while (pos < end) {
        uint8_t tok = d->chunk[pos];
        const char *why = NULL;
        if (tok == 0x0f) {
            if (end - pos < 4)
                return "fragment header runs past the record";
            pos += 4;
            continue;
        } else if (tok == 0x0c) {
            why = walk_instance(d, &pos, end, R_NONE);
        } else if ((tok & 0x1f) == 0x01) {
            why = scratch_element(d, &pos, end, 0, R_NONE);
        } else if (tok == 0x00) {
            break;
        } else {
            return "unexpected BinXML token at record level";
        }
        if (why)
            return why;
        seen = 1;
    }
    if (!seen)
        return "record holds no event";
    if (d->depth != 0)
        return "record ends inside an element";
    return NULL;
}
