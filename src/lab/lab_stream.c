/* lab_stream.c -- the byte streams behind the lab's send and recv calls:
 * which of the peer's writes each read returned bytes of. TCP keeps no
 * message boundaries (RFC 9293 3.1), so one read may return several writes
 * (the `coalesced` event) and one write may take several reads. */
#include <string.h>

#include "lab/lab_int.h"

static bool is_data_call(const tl_call_rec *c, const char *call)
{
    return c->type == TL_REC_CALL && c->ret > 0 && c->lport && c->rport && !strcmp(c->call, call);
}

/* The same socket: same side and ports. */
static bool same_socket(const tl_call_rec *a, const tl_call_rec *b)
{
    return a->side == b->side && a->lport == b->lport && a->rport == b->rport;
}

/* b was sent by the peer of a's socket, into the stream a reads. */
static bool peer_of(const tl_call_rec *a, const tl_call_rec *b)
{
    return a->side != b->side && a->lport == b->rport && a->rport == b->lport;
}

void tl__lab_writes_per_read(const tl_lab_result *r, int *writes)
{
    size_t n = r->recs.n;
    for (size_t i = 0; i < n; i++) {
        writes[i] = 0;
        const tl_call_rec *rd = TL_LAB_AT(r->recs, tl_call_rec, i);
        if (!is_data_call(rd, "recv")) continue;
        /* Where this read starts: the bytes earlier reads of its socket
         * returned (each side's records are in the order it made them). */
        uint64_t start = 0;
        for (size_t j = 0; j < i; j++) {
            const tl_call_rec *c = TL_LAB_AT(r->recs, tl_call_rec, j);
            if (is_data_call(c, "recv") && same_socket(c, rd)) start += (uint64_t)c->ret;
        }
        uint64_t end = start + (uint64_t)rd->ret, off = 0;
        for (size_t j = 0; j < n && off < end; j++) {
            const tl_call_rec *s = TL_LAB_AT(r->recs, tl_call_rec, j);
            if (!is_data_call(s, "send") || !peer_of(rd, s)) continue;
            uint64_t s_end = off + (uint64_t)s->ret;
            writes[i] += s_end > start;
            off = s_end;
        }
    }
}
