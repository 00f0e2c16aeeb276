/* zeek_reasm.c -- Zeek's content gaps (TCP_Reassembler as the conn.log sees
 * it): octets delivered in order, blocks held above a hole, and a 'G' with
 * missed_bytes for what was acknowledged but never seen. The fast path in
 * zeek.c does the in-order case of both inline. */
#include <stdlib.h>
#include <string.h>

#include "track/zeek_int.h"

/* A hole of len bytes: 'G' and missed_bytes only while both sides are
 * established or closing cleanly (other states give false gaps). */
static inline void gap(tl_zeek *z, tl_zeek_ep *e, tl_zeek_ep *peer, uint64_t len)
{
    if (is_clean(e) && is_clean(peer)) {
        scaled_history(z, e, TL_ZK_SC_GAP);
        e->missed += len;
    }
}

/* The block array exists only while data above a hole is held: most
 * connections never have one (measured: 192 bytes of every connection).
 * One array serves both endpoints, TL_ZK_MAX_BLOCKS each. */
static inline tl_zeek_block *blocks_of(tl_zeek *z, const tl_zeek_ep *e)
{
    return z->blocks + ep_slot(z, e) * TL_ZK_MAX_BLOCKS;
}

static void drop_blocks(tl_zeek *z, tl_zeek_ep *e)
{
    e->n_blocks = 0;
    if (!z->ep[0].n_blocks && !z->ep[1].n_blocks) {
        free(z->blocks);
        z->blocks = NULL;
    }
}

/* Deliver held blocks that now continue the stream. */
static void pull_blocks(tl_zeek *z, tl_zeek_ep *e)
{
    tl_zeek_block *b = blocks_of(z, e);
    uint8_t k = 0;
    for (uint8_t i = 0; i < e->n_blocks; i++) {
        if (b[i].seq <= e->reassem) {
            if (b[i].upper > e->reassem) e->reassem = b[i].upper;
        } else {
            b[k++] = b[i];
        }
    }
    e->n_blocks = k;
    if (!k) drop_blocks(z, e);
}

void tl__zk_data_sent(tl_zeek *z, tl_zeek_ep *e, uint64_t seq, uint64_t len)
{
    uint64_t acked = full_seq(e->ack_seq, e->ack_wraps) - (uint64_t)e->start_seq;
    uint64_t upper = seq + len;
    if (seq < acked) {
        if (upper <= acked) return;
        seq = acked;
    }
    if (upper <= e->trim) return;
    if (seq < e->trim) seq = e->trim;
    if (seq <= e->reassem) {
        if (upper > e->reassem) e->reassem = upper;
        if (e->n_blocks) pull_blocks(z, e);
        return;
    }
    /* Above a hole: keep it sorted; when full, the highest block is dropped. */
    if (!z->blocks && !(z->blocks = malloc(2 * TL_ZK_MAX_BLOCKS * sizeof *z->blocks)))
        return;   /* out of memory: the block is not held (a later gap is reported) */
    tl_zeek_block *b = blocks_of(z, e);
    uint8_t i = 0;
    while (i < e->n_blocks && b[i].seq < seq) i++;
    if (i < e->n_blocks && b[i].seq == seq) {
        if (upper > b[i].upper) b[i].upper = upper;
        return;
    }
    if (e->n_blocks == TL_ZK_MAX_BLOCKS) {
        if (i == TL_ZK_MAX_BLOCKS) return;
        e->n_blocks--;
    }
    memmove(&b[i + 1], &b[i], (size_t)(e->n_blocks - i) * sizeof b[0]);
    b[i].seq = seq;
    b[i].upper = upper;
    e->n_blocks++;
}

/* The holes below the held blocks that lie under an ack of seq. */
static void gaps_below_blocks(tl_zeek *z, tl_zeek_ep *e, tl_zeek_ep *peer, uint64_t seq)
{
    for (uint8_t i = 0; i < e->n_blocks; i++) {
        tl_zeek_block b = blocks_of(z, e)[i];
        if (b.seq < e->reassem) continue;
        if (b.seq >= seq) break;
        gap(z, e, peer, b.seq - e->reassem);
        e->reassem = b.seq;
        pull_blocks(z, e);
        i = (uint8_t)-1;  /* the list changed: rescan */
    }
}

/* Drops the held blocks wholly acknowledged (below seq). */
static void trim_blocks(tl_zeek *z, tl_zeek_ep *e, uint64_t seq)
{
    tl_zeek_block *b = blocks_of(z, e);
    uint8_t k = 0;
    for (uint8_t i = 0; i < e->n_blocks; i++)
        if (b[i].upper > seq) b[k++] = b[i];
    e->n_blocks = k;
    if (!k) drop_blocks(z, e);
}

void tl__zk_ack_received(tl_zeek *z, tl_zeek_ep *e, tl_zeek_ep *peer, uint64_t seq)
{
    if (e->fin_seen && seq >= e->fin_seq) seq = e->fin_seq - 1;  /* not the FIN octet */
    if (seq <= e->trim) return;
    if (seq > e->reassem) {
        /* A partial connection's first octets are not reported. */
        if (!(seq <= 2 && z->is_partial)) {
            if (e->n_blocks) gaps_below_blocks(z, e, peer, seq);
            if (seq > e->reassem) gap(z, e, peer, seq - e->reassem);
        }
        if (seq > e->reassem) e->reassem = seq;
    }
    e->trim = seq;
    if (e->n_blocks) trim_blocks(z, e, seq);
}
