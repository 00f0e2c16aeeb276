/* table.c -- open-addressing connection table (see table.h). */
#include <stdlib.h>
#include <string.h>

#include "track/table.h"

int tl_table_init(tl_table *t, uint32_t initial, uint64_t seed, tl_table_key_fn key_of,
                  void *ctx)
{
    uint32_t cap = 1024;
    while (cap < initial * 2 && cap < (1u << 30)) cap <<= 1;
    t->e = calloc(cap + TL_TABLE_MIRROR, sizeof *t->e);
    if (!t->e) return TL_ENOMEM;
    t->mask = cap - 1;
    t->count = 0;
    t->seed = seed;
    t->key_of = key_of;
    t->ctx = ctx;
    return TL_OK;
}

void tl_table_release(tl_table *t)
{
    free(t->e);
    t->e = NULL;
}

uint32_t tl_table_find(const tl_table *t, const tl_conn_key *k, uint64_t hash)
{
    uint32_t tag = (uint32_t)hash;
    for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
        uint32_t s = t->e[i].slot;
        if (!s) return UINT32_MAX;
        if (t->e[i].tag == tag && tl_conn_key_equal(t->key_of(t->ctx, s - 1), k)) return s - 1;
    }
}

/* Every write of an entry: the first TL_TABLE_MIRROR are kept twice. */
static void put(tl_table *t, uint32_t i, tl_table_entry en)
{
    t->e[i] = en;
    if (i < TL_TABLE_MIRROR) t->e[t->mask + 1 + i] = en;
}

static int grow(tl_table *t)
{
    uint32_t old_cap = t->mask + 1, cap = old_cap * 2;
    tl_table_entry *e = calloc(cap + TL_TABLE_MIRROR, sizeof *e);
    if (!e) return TL_ENOMEM;
    for (uint32_t i = 0; i < old_cap; i++) {
        if (!t->e[i].slot) continue;
        uint32_t j = t->e[i].tag & (cap - 1);
        while (e[j].slot) j = (j + 1) & (cap - 1);
        e[j] = t->e[i];
    }
    memcpy(e + cap, e, TL_TABLE_MIRROR * sizeof *e);
    free(t->e);
    t->e = e;
    t->mask = cap - 1;
    return TL_OK;
}

int tl_table_insert(tl_table *t, uint64_t hash, uint32_t slot)
{
    if ((t->count + 1) * 2 > t->mask + 1) {
        int rc = grow(t);
        if (rc < 0) return rc;
    }
    uint32_t i = (uint32_t)hash & t->mask;
    while (t->e[i].slot) i = (i + 1) & t->mask;
    put(t, i, (tl_table_entry){.tag = (uint32_t)hash, .slot = slot + 1});
    t->count++;
    return TL_OK;
}

/* Backward-shift deletion of entry i: pull later entries of the cluster
 * into the hole when their home position is not between the hole and
 * themselves. */
static void remove_at(tl_table *t, uint32_t i)
{
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & t->mask; t->e[j].slot; j = (j + 1) & t->mask) {
        uint32_t home = t->e[j].tag & t->mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            put(t, hole, t->e[j]);
            hole = j;
        }
    }
    put(t, hole, (tl_table_entry){0, 0});
    t->count--;
}

void tl_table_remove(tl_table *t, const tl_conn_key *k, uint64_t hash)
{
    uint32_t i = (uint32_t)hash & t->mask;
    for (;; i = (i + 1) & t->mask) {
        uint32_t s = t->e[i].slot;
        if (!s) return;
        if (t->e[i].tag == (uint32_t)hash && tl_conn_key_equal(t->key_of(t->ctx, s - 1), k)) break;
    }
    remove_at(t, i);
}

void tl_table_remove_slot(tl_table *t, uint64_t hash, uint32_t slot)
{
    uint32_t i = (uint32_t)hash & t->mask;
    for (;; i = (i + 1) & t->mask) {
        uint32_t s = t->e[i].slot;
        if (!s) return;
        if (s == slot + 1) break;
    }
    remove_at(t, i);
}
