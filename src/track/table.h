/* table.h -- open-addressing hash table from tl_conn_key to a slot index.
 *
 * Linear probing with backward-shift deletion (no tombstones, so probe
 * lengths stay short under churn). The table stores 32-bit slot indices and
 * a hash tag; the keys live in the caller's connection slots, reached
 * through the key_of callback. Capacity is a power of two kept at <= 50 %
 * load. Internal to src/track/.
 */
#ifndef TL_TRACK_TABLE_H
#define TL_TRACK_TABLE_H

#include "track/conn_key.h"

typedef const tl_conn_key *(*tl_table_key_fn)(void *ctx, uint32_t slot);

typedef struct tl_table {
    uint32_t *slots;     /* slot index + 1; 0 = empty */
    uint32_t *tags;      /* low 32 bits of the hash */
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

#endif
