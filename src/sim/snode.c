/* Scenario files as a small tree of scalars, maps and sequences with their line numbers
 * (libyaml's document API, copied out so the step interpreter needs no libyaml types).
 * Bounded: a file of more than MAX_NODES nodes, or whose values copied out come to more
 * than MAX_TEXT bytes (aliases repeat a node: an alias bomb), is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sim/sim.h"

#define MAX_NODES 200000
#define MAX_DEPTH 64
#define MAX_TEXT  (16u << 20) /* four times the largest file read */

typedef struct conv {
    yaml_document_t *doc;
    unsigned nodes;
    size_t text; /* bytes of values and keys copied out so far */
    char *why;
    size_t whycap;
    int *line;
} conv;

void snode_free(snode *n)
{
    if (!n)
        return;
    free(n->text);
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            free(n->keys[i]);
        snode_free(n->vals[i]);
    }
    free(n->keys);
    free(n->vals);
    free(n);
}

static snode *convert(conv *c, yaml_node_t *y, int depth)
{
    if (!y || ++c->nodes > MAX_NODES || depth > MAX_DEPTH) {
        snprintf(c->why, c->whycap, "%s", !y ? "broken YAML node" : "YAML too large or too deep");
        return NULL;
    }
    snode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->line = (int)y->start_mark.line + 1;
    switch (y->type) {
    case YAML_SCALAR_NODE:
        n->type = SN_SCALAR;
        c->text += y->data.scalar.length + 1;
        if (c->text > MAX_TEXT) {
            snprintf(c->why, c->whycap, "YAML expands to more than 16 MiB of values (aliases?)");
            goto fail;
        }
        if (memchr(y->data.scalar.value, 0, y->data.scalar.length)) {
            /* C strings end there: the rest would be lost without a word */
            snprintf(c->why, c->whycap, "a value holds a NUL character");
            goto fail;
        }
        n->text = strndup((const char *)y->data.scalar.value, y->data.scalar.length);
        if (!n->text)
            goto fail;
        return n;
    case YAML_SEQUENCE_NODE: {
        n->type = SN_SEQ;
        size_t k = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
        n->vals = calloc(k ? k : 1, sizeof *n->vals);
        if (!n->vals)
            goto fail;
        for (size_t i = 0; i < k; i++) {
            n->vals[i] = convert(c, yaml_document_get_node(c->doc, y->data.sequence.items.start[i]),
                                 depth + 1);
            if (!n->vals[i])
                goto fail;
            n->n++;
        }
        return n;
    }
    case YAML_MAPPING_NODE: {
        n->type = SN_MAP;
        size_t k = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
        n->vals = calloc(k ? k : 1, sizeof *n->vals);
        n->keys = calloc(k ? k : 1, sizeof *n->keys);
        if (!n->vals || !n->keys)
            goto fail;
        for (size_t i = 0; i < k; i++) {
            yaml_node_pair_t *p = &y->data.mapping.pairs.start[i];
            yaml_node_t *key = yaml_document_get_node(c->doc, p->key);
            if (!key || key->type != YAML_SCALAR_NODE ||
                memchr(key->data.scalar.value, 0, key->data.scalar.length)) {
                snprintf(c->why, c->whycap, "a mapping key is not a plain value (or holds a NUL)");
                *c->line = key ? (int)key->start_mark.line + 1 : n->line;
                goto fail;
            }
            for (size_t j = 0; j < n->n; j++)
                if (!strcmp(n->keys[j], (const char *)key->data.scalar.value)) {
                    snprintf(c->why, c->whycap, "key '%.60s' given twice", n->keys[j]);
                    *c->line = (int)key->start_mark.line + 1;
                    goto fail;
                }
            c->text += key->data.scalar.length + 1;
            n->keys[i] = strdup((const char *)key->data.scalar.value);
            n->vals[i] = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1);
            if (!n->keys[i] || !n->vals[i]) {
                free(n->keys[i]);
                snode_free(n->vals[i]);
                goto fail;
            }
            n->n++;
        }
        return n;
    }
    default:
        snprintf(c->why, c->whycap, "empty YAML node");
        break;
    }
fail:
    if (!c->why[0])
        snprintf(c->why, c->whycap, "out of memory");
    if (!*c->line)
        *c->line = n->line;
    snode_free(n);
    return NULL;
}

snode *snode_parse(const char *text, size_t len, char *why, size_t whycap, int *line)
{
    yaml_parser_t p;
    yaml_document_t doc;
    why[0] = 0;
    *line = 0;
    if (!yaml_parser_initialize(&p)) {
        snprintf(why, whycap, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        snprintf(why, whycap, "YAML: %s", p.problem ? p.problem : "cannot parse");
        *line = (int)p.problem_mark.line + 1;
        yaml_parser_delete(&p);
        return NULL;
    }
    snode *root = NULL;
    yaml_node_t *r = yaml_document_get_root_node(&doc);
    if (!r) {
        snprintf(why, whycap, "empty file");
    } else {
        conv c = {&doc, 0, 0, why, whycap, line};
        root = convert(&c, r, 0);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return root;
}

snode *snode_get(const snode *map, const char *key)
{
    if (!map || map->type != SN_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key))
            return map->vals[i];
    return NULL;
}

const char *snode_str(const snode *map, const char *key)
{
    const snode *v = snode_get(map, key);
    return v && v->type == SN_SCALAR ? v->text : NULL;
}
