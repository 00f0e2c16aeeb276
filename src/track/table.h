/* table.h -- open-addressing hash table from tl_conn_key to a slot index.
 *
 * Linear probing with backward-shift deletion (no tombstones, so probe
 * lengths stay short under churn). Each entry is a {hash tag, slot index}
 * pair of 8 bytes, so a probe reads one cache line (measured: separate tag
 * and slot arrays cost a second miss per packet); the keys live in the
 * caller's connection slots, reached through the key_of callback or, on the
 * tracker's hot path, tl_table_find_probe(). Capacity is a power of two kept at
 * <= 50 % load. Internal to src/track/.
 */
#ifndef TL_TRACK_TABLE_H
#define TL_TRACK_TABLE_H

#include "track/conn_key.h"

typedef const tl_conn_key *(*tl_table_key_fn)(void *ctx, uint32_t slot);

typedef struct tl_table_entry {
    uint32_t tag;        /* low 32 bits of the hash */
    uint32_t slot;       /* slot index + 1; 0 = empty */
} tl_table_entry;

/* Entries 0 to TL_TABLE_MIRROR - 1 are repeated after the last: a reader
 * looks at entries i to i + TL_TABLE_MIRROR (the tracker's look-ahead,
 * four) without wrapping each index (h10m: 9 Ir per segment). */
#define TL_TABLE_MIRROR 3u

typedef struct tl_table {
    tl_table_entry *e;   /* mask + 1 + TL_TABLE_MIRROR entries */
    uint32_t mask;
    uint32_t count;
    uint64_t seed;
    tl_table_key_fn key_of;
    void *ctx;
} tl_table;

TL_MUST_USE int tl_table_init(tl_table *t, uint32_t initial, uint64_t seed,
                              tl_table_key_fn key_of, void *ctx);
void tl_table_release(tl_table *t);
/* Slot index for key, or UINT32_MAX. */
uint32_t tl_table_find(const tl_table *t, const tl_conn_key *k, uint64_t hash);
TL_MUST_USE int tl_table_insert(tl_table *t, uint64_t hash, uint32_t slot);
void tl_table_remove(tl_table *t, const tl_conn_key *k, uint64_t hash);
/* Removes the entry of `slot`, inserted with `hash`: a slot is in the
 * table at most once, so the slot numbers alone are compared, no keys
 * read (the tracker's finalize: 68 -> 35 Ir per connection). */
void tl_table_remove_slot(tl_table *t, uint64_t hash, uint32_t slot);

/* tl_table_find() of a packet's connection, for slots that are elements
 * of `stride` bytes at `base` with their key first: no key built, no
 * callback, inlined into the per-packet path. `hash` is
 * tl_conn_probe_hash(q), equal to the stored key's tl_conn_key_hash(). */
static inline uint32_t tl_table_find_probe(const tl_table *t, const tl_conn_probe *q, uint64_t hash,
                                           const void *base, size_t stride)
{
    uint32_t tag = (uint32_t)hash;
    for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
        tl_table_entry en = t->e[i];
        if (!en.slot) return UINT32_MAX;
        if (en.tag == tag &&
            tl_conn_key_is((const tl_conn_key *)((const char *)base + (size_t)(en.slot - 1) * stride), q))
            return en.slot - 1;
    }
}

#endif
