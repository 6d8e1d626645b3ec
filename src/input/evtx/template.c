/* BinXML templates: compile a definition into a flat op list once, and find it again.
 *
 * A chunk stores each template definition once; records refer to it by chunk offset.
 * The same definition reappears in many chunks at other offsets, with name references
 * that point elsewhere. The cache is keyed by (GUID, size) and an entry is reused only
 * when the bytes agree everywhere except the name-offset fields, and every name those
 * fields reach spells the same. Without the cache, compiling costs more than decoding:
 * a full Sysmon chunk holds ~90 records over 5-10 templates of ~100 ops each. */
#include <stdlib.h>
#include <string.h>

#include "core/utf16.h"
#include "input/evtx/evtx.h"
#include "input/evtx/template.h"

#define POOL_LIMIT (4u << 20)
#define MAX_CACHED 4096

typedef struct compiler {
    evtx_decoder *d;
    const uint8_t *c;
    uint32_t clen;
    uint32_t pos, end, data_start;
    int no_depid;
    int once; /* EVTX_COMPILE_ONCE: no verification data */
    evtx_template *t;
    uint32_t ops_cap, nf_cap, en_cap, eb_len, eb_cap;
    dh_buf pool;
    const char *why;
    /* Names already read in this template, by chunk offset: a chunk stores each name once
     * and every element and attribute refers to it, so a template of 700 ops (a bare
     * UserData element, compiled for each record) reads "Data" and "Name" hundreds of
     * times; converting and classifying each again was 5% of dump on the evtx-samples
     * chunks (callgrind, 2026-12-07). Direct-mapped; a miss only costs the conversion. */
    struct {
        uint32_t noff; /* chunk offset of the name structure, 0 = empty slot */
        uint32_t off, len, nchars, ext;
        uint8_t known;
    } memo[64];
} compiler;

#define KNOWN(s, id)                                                                               \
    {                                                                                              \
        s, sizeof s - 1, id                                                                        \
    }
static const struct {
    const char *name;
    uint8_t len, id;
} known_names[] = {
    KNOWN("Event", KN_EVENT),
    KNOWN("System", KN_SYSTEM),
    KNOWN("Provider", KN_PROVIDER),
    KNOWN("EventID", KN_EVENTID),
    KNOWN("TimeCreated", KN_TIMECREATED),
    KNOWN("EventRecordID", KN_EVENTRECORDID),
    KNOWN("Channel", KN_CHANNEL),
    KNOWN("Computer", KN_COMPUTER),
    KNOWN("EventData", KN_EVENTDATA),
    KNOWN("UserData", KN_USERDATA),
    KNOWN("Data", KN_DATA),
    KNOWN("Name", KN_NAME),
    KNOWN("SystemTime", KN_SYSTEMTIME),
};
#undef KNOWN

static uint8_t classify(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof known_names / sizeof known_names[0]; i++)
        if (known_names[i].len == n && memcmp(known_names[i].name, s, n) == 0)
            return known_names[i].id;
    return KN_NONE;
}

static evtx_op *push_op(compiler *cc, uint8_t code)
{
    evtx_template *t = cc->t;
    if (t->nops == cc->ops_cap) {
        if (cc->ops_cap >= EVTX_MAX_OPS) {
            cc->why = "template has too many BinXML tokens";
            return NULL;
        }
        uint32_t cap = cc->ops_cap ? cc->ops_cap * 2 : 64;
        evtx_op *n = realloc(t->ops, cap * sizeof *n);
        if (!n) {
            cc->why = "out of memory";
            return NULL;
        }
        t->ops = n;
        cc->ops_cap = cap;
    }
    evtx_op *op = &t->ops[t->nops++];
    memset(op, 0, sizeof *op);
    op->code = code;
    return op;
}

/* Appends UTF-16 text to the pool; sets off and len. */
static int pool_utf16(compiler *cc, const uint8_t *p, size_t nchars, uint32_t *off, uint32_t *len)
{
    size_t before = cc->pool.len;
    if (dh_utf16le_to_utf8(&cc->pool, p, nchars) != DH_OK) {
        cc->why = "template text exceeds the size limit";
        return -1;
    }
    *off = (uint32_t)before;
    *len = (uint32_t)(cc->pool.len - before);
    return 0;
}

static int need(compiler *cc, uint32_t n)
{
    if (cc->end - cc->pos < n) {
        cc->why = "BinXML token runs past its data";
        return -1;
    }
    return 0;
}

static int add_namefield(compiler *cc, uint32_t fieldpos, uint32_t ext)
{
    evtx_template *t = cc->t;
    if (t->nnamefields == cc->nf_cap) {
        uint32_t cap = cc->nf_cap ? cc->nf_cap * 2 : 32;
        evtx_namefield *n = realloc(t->namefields, cap * sizeof *n);
        if (!n)
            return -1;
        t->namefields = n;
        cc->nf_cap = cap;
    }
    t->namefields[t->nnamefields].relpos = fieldpos - cc->data_start;
    t->namefields[t->nnamefields].ext = ext;
    t->nnamefields++;
    return 0;
}

static int add_extname(compiler *cc, uint32_t off, uint32_t nbytes, uint32_t *index)
{
    evtx_template *t = cc->t;
    if (t->nextnames == cc->en_cap) {
        uint32_t cap = cc->en_cap ? cc->en_cap * 2 : 16;
        evtx_extname *n = realloc(t->extnames, cap * sizeof *n);
        if (!n)
            return -1;
        t->extnames = n;
        cc->en_cap = cap;
    }
    if (cc->eb_len + nbytes > cc->eb_cap) {
        uint32_t cap = cc->eb_cap ? cc->eb_cap : 256;
        while (cap < cc->eb_len + nbytes)
            cap *= 2;
        uint8_t *n = realloc(t->ext_bytes, cap);
        if (!n)
            return -1;
        t->ext_bytes = n;
        cc->eb_cap = cap;
    }
    if (nbytes)
        memcpy(t->ext_bytes + cc->eb_len, cc->c + off + 8, nbytes);
    evtx_extname *e = &t->extnames[t->nextnames];
    e->offset = off;
    e->nbytes = nbytes;
    e->copy = cc->eb_len;
    cc->eb_len += nbytes;
    *index = t->nextnames++;
    return 0;
}

/* Reads a name reference at pos (4-byte chunk offset), and the name itself when it is
 * stored inline right after the reference. */
static int read_name(compiler *cc, uint32_t *off, uint32_t *len, uint8_t *known)
{
    if (need(cc, 4))
        return -1;
    uint32_t fieldpos = cc->pos;
    uint32_t noff = rd32(cc->c + cc->pos);
    cc->pos += 4;
    if (noff > cc->clen - 8 || cc->clen < 8) {
        cc->why = "name offset outside the chunk";
        return -1;
    }
    uint32_t nchars = rd16(cc->c + noff + 6);
    if ((uint64_t)noff + 8 + 2ull * nchars > cc->clen) {
        cc->why = "name runs past the chunk";
        return -1;
    }
    unsigned slot = (noff * 2654435761u) >> 26; /* 64 slots */
    if (noff && cc->memo[slot].noff == noff) {
        /* The same bytes as last time: the same text, the same class. */
        *off = cc->memo[slot].off;
        *len = cc->memo[slot].len;
    } else {
        if (pool_utf16(cc, cc->c + noff + 8, nchars, off, len))
            return -1;
        cc->memo[slot].noff = noff;
        cc->memo[slot].off = *off;
        cc->memo[slot].len = *len;
        cc->memo[slot].nchars = nchars;
        cc->memo[slot].ext = UINT32_MAX;
        cc->memo[slot].known = classify(cc->pool.data + *off, *len);
    }
    if (known)
        *known = cc->memo[slot].known;
    uint32_t ext = UINT32_MAX;
    if (noff == cc->pos) {
        /* Inline: skip the name structure (header, characters, terminator). */
        if (need(cc, 8 + 2 * nchars + 2))
            return -1;
        cc->pos += 8 + 2 * nchars + 2;
    } else if (cc->once) {
        return 0; /* never verified: no name field, no copy */
    } else if (cc->memo[slot].noff == noff && cc->memo[slot].ext != UINT32_MAX) {
        ext = cc->memo[slot].ext; /* verified against the same copy */
    } else if (add_extname(cc, noff, 2 * nchars, &ext)) {
        cc->why = "out of memory";
        return -1;
    } else if (cc->memo[slot].noff == noff) {
        cc->memo[slot].ext = ext;
    }
    if (!cc->once && add_namefield(cc, fieldpos, ext)) {
        cc->why = "out of memory";
        return -1;
    }
    return 0;
}

static int parse_value_token(compiler *cc, uint8_t tok)
{
    evtx_op *op;
    switch (tok & 0x1f) {
    case 0x05: /* value text */
        if (need(cc, 4))
            return -1;
        if (cc->c[cc->pos + 1] != 0x01) {
            cc->why = "value text is not a string";
            return -1;
        }
        {
            uint32_t n = rd16(cc->c + cc->pos + 2);
            cc->pos += 4;
            if (need(cc, 2 * n))
                return -1;
            if (!(op = push_op(cc, OP_TEXT)))
                return -1;
            uint32_t o, l;
            if (pool_utf16(cc, cc->c + cc->pos, n, &o, &l))
                return -1;
            op = &cc->t->ops[cc->t->nops - 1];
            op->a = o;
            op->alen = l;
            cc->pos += 2 * n;
        }
        return 0;
    case 0x07: /* CDATA */
        if (need(cc, 3))
            return -1;
        {
            uint32_t n = rd16(cc->c + cc->pos + 1);
            cc->pos += 3;
            if (need(cc, 2 * n) || !push_op(cc, OP_CDATA))
                return -1;
            uint32_t o, l;
            if (pool_utf16(cc, cc->c + cc->pos, n, &o, &l))
                return -1;
            op = &cc->t->ops[cc->t->nops - 1];
            op->a = o;
            op->alen = l;
            cc->pos += 2 * n;
        }
        return 0;
    case 0x08: /* character reference */
        if (need(cc, 3) || !(op = push_op(cc, OP_CHARREF)))
            return -1;
        op->a = rd16(cc->c + cc->pos + 1);
        cc->pos += 3;
        return 0;
    case 0x09: { /* entity reference */
        if (need(cc, 1))
            return -1;
        cc->pos += 1;
        uint32_t o, l;
        if (read_name(cc, &o, &l, NULL) || !(op = push_op(cc, OP_ENTREF)))
            return -1;
        op->a = o;
        op->alen = l;
        return 0;
    }
    case 0x0d: /* normal substitution */
    case 0x0e: /* optional substitution */
        if (need(cc, 4) || !(op = push_op(cc, OP_SUBST)))
            return -1;
        op->subst = rd16(cc->c + cc->pos + 1);
        op->vtype = cc->c[cc->pos + 3];
        op->optional = (tok & 0x1f) == 0x0e;
        cc->pos += 4;
        return 0;
    }
    cc->why = "unexpected BinXML token in a value";
    return -1;
}

/* Is nameoff a plausible name reference for a field at fieldpos? A name is either inline
 * (right after its field) or stored earlier in the chunk, always past the 512-byte chunk
 * header (the header holds offsets, never names), with its characters inside the chunk and
 * its UTF-16 terminator in place. Logs forwarded by Windows Event Collector leave the
 * dependency id out of elements even at record level, so the layout is decided by this
 * test; a zero where a dependency id was expected reads as offset 0, the chunk signature. */
static int name_ref_ok(const compiler *cc, uint32_t fieldpos, uint32_t nameoff)
{
    if (nameoff != fieldpos + 4 && !(nameoff < fieldpos && nameoff >= EVTX_CHUNK_HEADER_SIZE))
        return 0;
    if (nameoff > cc->clen - 8 || cc->clen < 8)
        return 0;
    uint64_t term = (uint64_t)nameoff + 8 + 2ull * rd16(cc->c + nameoff + 6);
    return term + 2 <= cc->clen && rd16(cc->c + term) == 0;
}

static int parse_element(compiler *cc, int depth)
{
    if (depth >= EVTX_MAX_DEPTH) {
        cc->why = "elements nested too deeply";
        return -1;
    }
    if (need(cc, 1))
        return -1;
    uint8_t tok = cc->c[cc->pos];
    int has_attrs = (tok & 0x40) != 0;
    /* The dependency id is absent in fragments carried as BinXML values; trust the
     * layout whose name reference is plausible, the expected one first. */
    int with_dep = !cc->no_depid;
    uint32_t f1 = cc->pos + 1 + (with_dep ? 2 : 0) + 4;
    uint32_t f2 = cc->pos + 1 + (with_dep ? 0 : 2) + 4;
    if (!(f1 + 4 <= cc->end && name_ref_ok(cc, f1, rd32(cc->c + f1))) && f2 + 4 <= cc->end &&
        name_ref_ok(cc, f2, rd32(cc->c + f2)))
        with_dep = !with_dep;
    if (need(cc, 1 + (with_dep ? 2 : 0) + 4))
        return -1;
    cc->pos += 1 + (with_dep ? 2 : 0) + 4; /* token, dependency id, data size */
    uint32_t o, l;
    uint8_t known;
    if (read_name(cc, &o, &l, &known))
        return -1;
    evtx_op *op = push_op(cc, OP_OPEN);
    if (!op)
        return -1;
    uint32_t open_idx = cc->t->nops - 1;
    op->a = o;
    op->alen = l;
    op->known = known;
    if (has_attrs) {
        if (need(cc, 4))
            return -1;
        uint32_t asize = rd32(cc->c + cc->pos);
        cc->pos += 4;
        if (need(cc, asize))
            return -1;
        uint32_t aend = cc->pos + asize;
        while (cc->pos < aend) {
            uint8_t at = cc->c[cc->pos];
            if ((at & 0x1f) != 0x06) {
                cc->why = "expected an attribute";
                return -1;
            }
            cc->pos++;
            if (read_name(cc, &o, &l, &known) || !(op = push_op(cc, OP_ATTR)))
                return -1;
            op->a = o;
            op->alen = l;
            op->known = known;
            /* Attribute value: one or more value tokens until the next attribute or the
             * end of the list. */
            while (cc->pos < aend) {
                uint8_t vt = cc->c[cc->pos];
                if ((vt & 0x1f) == 0x06)
                    break;
                if (parse_value_token(cc, vt))
                    return -1;
            }
            if (!(at & 0x40))
                break;
        }
        if (cc->pos != aend) {
            cc->why = "attribute list size disagrees with its content";
            return -1;
        }
    }
    if (need(cc, 1))
        return -1;
    tok = cc->c[cc->pos++];
    if (tok == 0x03) {
        if (!push_op(cc, OP_CLOSE_EMPTY))
            return -1;
        cc->t->ops[open_idx].close = cc->t->nops - 1;
        return 0;
    }
    if (tok != 0x02) {
        cc->why = "expected the end of a start tag";
        return -1;
    }
    if (!push_op(cc, OP_CLOSE_START))
        return -1;
    for (;;) {
        if (need(cc, 1))
            return -1;
        tok = cc->c[cc->pos];
        switch (tok & 0x1f) {
        case 0x01:
            if (parse_element(cc, depth + 1))
                return -1;
            break;
        case 0x04:
            cc->pos++;
            if (!push_op(cc, OP_END))
                return -1;
            cc->t->ops[open_idx].close = cc->t->nops - 1;
            return 0;
        case 0x0a: { /* processing instruction: target then data */
            cc->pos++;
            if (read_name(cc, &o, &l, NULL))
                return -1;
            if (need(cc, 3) || cc->c[cc->pos] != 0x0b) {
                cc->why = "PI target without PI data";
                return -1;
            }
            uint32_t n = rd16(cc->c + cc->pos + 1);
            cc->pos += 3;
            if (need(cc, 2 * n) || !(op = push_op(cc, OP_PI)))
                return -1;
            uint32_t bo, bl;
            if (pool_utf16(cc, cc->c + cc->pos, n, &bo, &bl))
                return -1;
            op = &cc->t->ops[cc->t->nops - 1];
            op->a = o;
            op->alen = l;
            op->b = bo;
            op->blen = bl;
            cc->pos += 2 * n;
            break;
        }
        default:
            if (parse_value_token(cc, tok))
                return -1;
        }
    }
}

static int plan_add(evtx_plan *p, uint32_t *cap, uint8_t target, uint32_t first, uint32_t last)
{
    if (p->n == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 32;
        evtx_plan_entry *n = realloc(p->e, ncap * sizeof *n);
        if (!n)
            return -1;
        p->e = n;
        *cap = ncap;
    }
    evtx_plan_entry *e = &p->e[p->n++];
    memset(e, 0, sizeof *e);
    e->target = target;
    e->first = first;
    e->last = last;
    return 0;
}

static int is_value_op(uint8_t code)
{
    return code >= OP_TEXT && code <= OP_ENTREF;
}

static int range_has_nested(const evtx_template *t, uint32_t first, uint32_t last)
{
    for (uint32_t i = first; i < last; i++)
        if (t->ops[i].code == OP_SUBST && t->ops[i].vtype == 0x21)
            return 1;
    return 0;
}

/* Works out, once per context role, what a walk of t captures (see evtx_plan_entry).
 * Leaves ok at 0 for shapes the plan does not cover (a Data name made of substitutions,
 * mixed content in captured elements); those instances always take the full walk. One
 * function, long because: it mirrors walk() in binxml.c case by case, and the two must
 * agree (evtx_plan_equals_full_walk checks it), which is easiest to see side by side. */
static int build_plan(const evtx_template *t, uint8_t root, evtx_plan *p)
{
    struct {
        uint8_t role, has_child, has_name;
        uint32_t open, content, name_a, name_alen, name_op;
    } st[EVTX_MAX_DEPTH];
    int depth = 0;
    uint32_t cap = 0;
    p->ok = 0;
    for (uint32_t i = 0; i < t->nops; i++) {
        const evtx_op *op = &t->ops[i];
        switch (op->code) {
        case OP_OPEN: {
            if (depth >= EVTX_MAX_DEPTH)
                return 0;
            uint8_t parent = root;
            if (depth) {
                st[depth - 1].has_child = 1;
                parent = st[depth - 1].role;
            }
            memset(&st[depth], 0, sizeof st[depth]);
            st[depth].role = evtx_classify_role(parent, op->known);
            st[depth].open = i;
            st[depth].content = i + 1;
            depth++;
            break;
        }
        case OP_ATTR: {
            if (!depth)
                return 0;
            uint32_t j = i + 1;
            while (j < t->nops && is_value_op(t->ops[j].code))
                j++;
            uint8_t role = st[depth - 1].role;
            if (role == R_SYS_PROVIDER && op->known == KN_NAME) {
                if (plan_add(p, &cap, P_PROVIDER, i + 1, j))
                    return -1;
            } else if (role == R_SYS_TIME && op->known == KN_SYSTEMTIME) {
                if (plan_add(p, &cap, P_TIME, i + 1, j))
                    return -1;
            } else if (evtx_sys_attr(role, op->known)) {
                if (plan_add(p, &cap, P_SYS, i + 1, j))
                    return -1;
                evtx_plan_entry *e = &p->e[p->n - 1];
                e->name_a = op->a;
                e->name_alen = op->alen;
                e->opt_only =
                    j == i + 2 && t->ops[i + 1].code == OP_SUBST && t->ops[i + 1].optional;
            } else if (role == R_ED_ITEM && op->known == KN_NAME) {
                if (j != i + 2 || t->ops[i + 1].code != OP_TEXT)
                    return 0;
                st[depth - 1].has_name = 1;
                st[depth - 1].name_a = t->ops[i + 1].a;
                st[depth - 1].name_alen = t->ops[i + 1].alen;
                st[depth - 1].name_op = i + 1;
            }
            i = j - 1;
            break;
        }
        case OP_CLOSE_START:
            if (!depth)
                return 0;
            st[depth - 1].content = i + 1;
            break;
        case OP_SUBST:
            /* A nested BinXML value in element content becomes children of that element;
             * captured leaves never contain one (checked at their end). */
            if (op->vtype == 0x21) {
                uint8_t role = depth ? st[depth - 1].role : root;
                if (depth)
                    st[depth - 1].has_child = 1;
                if (plan_add(p, &cap, P_NESTED, i, i + 1))
                    return -1;
                p->e[p->n - 1].subst = op->subst;
                p->e[p->n - 1].role = role;
            }
            break;
        case OP_CLOSE_EMPTY:
        case OP_END: {
            if (!depth)
                return 0;
            uint32_t first = op->code == OP_END ? st[depth - 1].content : i;
            uint8_t role = st[depth - 1].role, target = 0xff;
            switch (role) {
            case R_SYS_EVENTID:
                target = P_EVENTID;
                break;
            case R_SYS_RECID:
                target = P_RECID;
                break;
            case R_SYS_CHANNEL:
                target = P_CHANNEL;
                break;
            case R_SYS_COMPUTER:
                target = P_COMPUTER;
                break;
            case R_ED_ITEM:
                target = P_ITEM;
                break;
            case R_UD_ITEM:
                if (!st[depth - 1].has_child)
                    target = P_ITEM;
                break;
            case R_ED_DEEP:
                return 0;
            case R_SYS_OTHER: /* Level, Task...: the text of a leaf, under its own name */
                if (op->code == OP_END && !st[depth - 1].has_child &&
                    !range_has_nested(t, first, i)) {
                    if (plan_add(p, &cap, P_SYS, first, i))
                        return -1;
                    evtx_plan_entry *e = &p->e[p->n - 1];
                    e->name_a = t->ops[st[depth - 1].open].a;
                    e->name_alen = t->ops[st[depth - 1].open].alen;
                    e->opt_only =
                        i == first + 1 && t->ops[first].code == OP_SUBST && t->ops[first].optional;
                }
                break;
            }
            if (target != 0xff) {
                if (st[depth - 1].has_child || range_has_nested(t, first, i))
                    return 0;
                if (plan_add(p, &cap, target, first, i))
                    return -1;
                evtx_plan_entry *e = &p->e[p->n - 1];
                e->opt_only =
                    i == first + 1 && t->ops[first].code == OP_SUBST && t->ops[first].optional;
                if (target == P_ITEM) {
                    if (st[depth - 1].has_name) {
                        e->name_a = st[depth - 1].name_a;
                        e->name_alen = st[depth - 1].name_alen;
                        e->name_op = st[depth - 1].name_op;
                    } else {
                        const evtx_op *o = &t->ops[st[depth - 1].open];
                        e->name_a = o->a;
                        e->name_alen = o->alen;
                        e->name_op = st[depth - 1].open;
                    }
                }
            }
            depth--;
            break;
        }
        default:
            break;
        }
    }
    if (depth != 0)
        return 0;
    for (uint32_t k = 0; k < p->n; k++) {
        p->e[k].single = p->e[k].target != P_NESTED && p->e[k].last == p->e[k].first + 1 &&
                         t->ops[p->e[k].first].code == OP_SUBST;
        if (p->e[k].single)
            p->e[k].subst = t->ops[p->e[k].first].subst;
    }
    p->e_nosys = malloc((p->n ? p->n : 1) * sizeof *p->e_nosys);
    if (!p->e_nosys)
        return -1;
    for (uint32_t k = 0; k < p->n; k++)
        if (p->e[k].target != P_SYS)
            p->e_nosys[p->n_nosys++] = p->e[k];
    uint32_t maxs = 0;
    for (uint32_t k = 0; k < p->n; k++)
        if (p->e[k].target == P_NESTED && p->e[k].subst + 1u > maxs)
            maxs = p->e[k].subst + 1u;
    if (maxs) {
        p->nested = calloc(maxs, 1);
        if (!p->nested)
            return -1;
        p->nnested = maxs;
        for (uint32_t k = 0; k < p->n; k++)
            if (p->e[k].target == P_NESTED)
                p->nested[p->e[k].subst] = 1;
    }
    p->ok = 1;
    return 0;
}

const evtx_plan *evtx_plan_get(evtx_template *t, uint8_t role)
{
    if (role >= R_COUNT)
        return NULL;
    evtx_plan *p = &t->plans[role];
    if (!p->built) {
        if (build_plan(t, role, p) < 0) {
            free(p->e);
            free(p->e_nosys);
            free(p->nested);
            memset(p, 0, sizeof *p);
            return NULL;
        }
        p->built = 1;
    }
    return p;
}

void evtx_template_free(evtx_template *t)
{
    if (!t)
        return;
    free(t->bytes);
    free(t->ext_bytes);
    free(t->namefields);
    free(t->extnames);
    free(t->ops);
    free(t->pool);
    free(t->cache_fields);
    for (int r = 0; r < R_COUNT; r++) {
        free(t->plans[r].e);
        free(t->plans[r].e_nosys);
        free(t->plans[r].nested);
    }
    free(t);
}

evtx_template *evtx_template_compile(evtx_decoder *d, uint32_t start, uint32_t end, int flags,
                                     const char **why)
{
    int no_depid = (flags & EVTX_COMPILE_NO_DEPID) != 0;
    compiler cc = {.d = d,
                   .c = d->chunk,
                   .clen = (uint32_t)d->chunk_len,
                   .pos = start,
                   .end = end,
                   .data_start = start,
                   .no_depid = no_depid,
                   .once = (flags & EVTX_COMPILE_ONCE) != 0};
    dh_buf_init(&cc.pool, POOL_LIMIT);
    cc.t = calloc(1, sizeof *cc.t);
    if (!cc.t) {
        *why = "out of memory";
        return NULL;
    }
    if (cc.pos + 4 <= cc.end && cc.c[cc.pos] == 0x0f)
        cc.pos += 4; /* fragment header */
    if (need(&cc, 1) || (cc.c[cc.pos] & 0x1f) != 0x01) {
        if (!cc.why)
            cc.why = "template does not start with an element";
        goto fail;
    }
    if (parse_element(&cc, 0))
        goto fail;
    cc.t->pool = cc.pool.data;
    cc.t->pool_len = (uint32_t)cc.pool.len;
    cc.t->data_size = cc.pos - start; /* bytes consumed, for fragments */
    return cc.t;
fail:
    *why = cc.why ? cc.why : "malformed template";
    dh_buf_free(&cc.pool);
    evtx_template_free(cc.t);
    return NULL;
}

static unsigned cache_slot(const uint8_t *guid, uint32_t size)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ guid[i]) * 16777619u;
    h = (h ^ size) * 16777619u;
    return h % (sizeof((evtx_decoder *)0)->cache / sizeof(void *));
}

/* Does the definition data at data_start in the current chunk equal t's? */
static int verify(const evtx_decoder *d, const evtx_template *t, uint32_t data_start)
{
    const uint8_t *c = d->chunk + data_start;
    uint32_t prev = 0;
    for (uint32_t i = 0; i < t->nnamefields; i++) {
        const evtx_namefield *nf = &t->namefields[i];
        if (memcmp(c + prev, t->bytes + prev, nf->relpos - prev) != 0)
            return 0;
        uint32_t field = rd32(c + nf->relpos);
        if (nf->ext == UINT32_MAX) {
            if (field != data_start + nf->relpos + 4)
                return 0;
        } else {
            const evtx_extname *e = &t->extnames[nf->ext];
            if (field > d->chunk_len - 8 || (uint64_t)field + 8 + e->nbytes > d->chunk_len)
                return 0;
            if (rd16(d->chunk + field + 6) * 2u != e->nbytes ||
                memcmp(d->chunk + field + 8, t->ext_bytes + e->copy, e->nbytes) != 0)
                return 0;
        }
        prev = nf->relpos + 4;
    }
    return memcmp(c + prev, t->bytes + prev, t->data_size - prev) == 0;
}

void evtx_template_cache_clear(evtx_decoder *d)
{
    for (size_t i = 0; i < sizeof d->cache / sizeof d->cache[0]; i++) {
        evtx_template *t = d->cache[i];
        while (t) {
            evtx_template *n = t->next;
            evtx_template_free(t);
            t = n;
        }
        d->cache[i] = NULL;
    }
    d->ncached = 0;
}

evtx_template *evtx_template_get(evtx_decoder *d, uint32_t def_off, const char **why)
{
    for (unsigned i = 0; i < d->nchunk_tpls; i++)
        if (d->chunk_tpls[i].def_off == def_off)
            return d->chunk_tpls[i].tpl;
    if (def_off < EVTX_CHUNK_HEADER_SIZE || def_off > d->chunk_len - 24 || d->chunk_len < 24) {
        *why = "template definition offset outside the chunk";
        return NULL;
    }
    const uint8_t *guid = d->chunk + def_off + 4;
    uint32_t size = rd32(d->chunk + def_off + 20);
    uint32_t data_start = def_off + 24;
    if (size > d->chunk_len - data_start) {
        *why = "template definition runs past the chunk";
        return NULL;
    }
    unsigned slot = cache_slot(guid, size);
    evtx_template *t;
    for (t = d->cache[slot]; t; t = t->next)
        if (t->data_size == size && memcmp(t->guid, guid, 16) == 0 && verify(d, t, data_start))
            break;
    if (!t) {
        t = evtx_template_compile(d, data_start, data_start + size, 0, why);
        if (!t)
            return NULL;
        t->data_size = size;
        memcpy(t->guid, guid, 16);
        t->bytes = malloc(size ? size : 1);
        if (!t->bytes) {
            evtx_template_free(t);
            *why = "out of memory";
            return NULL;
        }
        memcpy(t->bytes, d->chunk + data_start, size);
        t->next = d->cache[slot];
        d->cache[slot] = t;
        d->ncached++;
    }
    if (d->nchunk_tpls < sizeof d->chunk_tpls / sizeof d->chunk_tpls[0]) {
        d->chunk_tpls[d->nchunk_tpls].def_off = def_off;
        d->chunk_tpls[d->nchunk_tpls].tpl = t;
        d->nchunk_tpls++;
    }
    return t;
}
