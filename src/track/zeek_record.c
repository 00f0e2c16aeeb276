/* zeek_record.c -- what Zeek's conn.log says of a connection at the end:
 * payload sizes by sequence space (TCP_Endpoint::Size), conn_state from
 * both endpoints' Zeek states, the history, packet and IP byte counts, and
 * the duration. Reads the tl_zeek that zeek.c kept up to date per segment.
 */
#include <string.h>

#include "track/zeek_int.h"
#include "util/compiler.h"
#include "util/time_inline.h"

static bool no_data_acked(const tl_zeek_ep *e)
{
    uint64_t ack = full_seq(e->ack_seq, e->ack_wraps);
    uint64_t start = (uint64_t)e->start_seq;
    return ack == start || ack == start + 1;
}

/* TCP_Endpoint::Size(): bytes by sequence space, the larger of what was
 * sent and what was acknowledged, minus the SYN and FIN octets. */
/* ep_size and conn_state inlined into tl_zeek_finish: gcc called them
 * (h10m -c 1M: ~40 Ir per record in calls and spills). */
static TL__ALWAYS_INLINE uint64_t ep_size(const tl_zeek_ep *e, const tl_zeek_ep *peer)
{
    if (e->prev_state == TL_ZK_SYN_SENT && e->state == TL_ZK_RESET &&
        peer->state == TL_ZK_INACTIVE && !no_data_acked(e))
        return 0;  /* a half-open connection discovered and aborted */
    uint64_t last = full_seq(e->last_seq, e->seq_wraps);
    uint64_t ack = full_seq(e->ack_seq, e->ack_wraps);
    uint64_t size = (last > ack ? last : ack) - (uint64_t)e->start_seq;
    if (size != 0) --size;                        /* SYN octet */
    if (e->fin_seen && size != 0) --size;      /* FIN octet */
    return size;
}

/* History matches /^\^?S[^HAFGIQ]*R.* /: the originator's SYN then its RST
 * with nothing from the originator in between but data and repeats. */
static bool history_syn_then_rst(const char *h)
{
    size_t i = h[0] == '^' ? 1 : 0;
    if (h[i] != 'S') return false;
    for (i++; h[i]; i++) {
        if (h[i] == 'R') return true;
        if (strchr("HAFGIQ", h[i])) return false;
    }
    return false;
}

static TL__ALWAYS_INLINE const char *conn_state(const tl_zeek *z, uint64_t osize, uint64_t rsize)
{
    uint8_t os = z->ep[orig_slot(z)].state, rs = z->ep[orig_slot(z) ^ 1].state;
    bool o_inactive = os == TL_ZK_INACTIVE || os == TL_ZK_PARTIAL;
    bool r_inactive = rs == TL_ZK_INACTIVE || rs == TL_ZK_PARTIAL;
    if (rs == TL_ZK_RESET) {
        if (os == TL_ZK_SYN_SENT || os == TL_ZK_SYN_ACK_SENT ||
            (os == TL_ZK_RESET && osize == 0 && rsize == 0))
            return "REJ";
        return o_inactive ? "RSTRH" : "RSTR";
    }
    if (os == TL_ZK_RESET) {
        if (r_inactive) return history_syn_then_rst(history(z)) ? "RSTOS0" : "OTH";
        return "RSTO";
    }
    if (rs == TL_ZK_CLOSED && os == TL_ZK_CLOSED) return "SF";
    if (os == TL_ZK_CLOSED) return r_inactive ? "SH" : "S2";
    if (rs == TL_ZK_CLOSED) return o_inactive ? "SHR" : "S3";
    if (os == TL_ZK_SYN_SENT && rs == TL_ZK_INACTIVE) return "S0";
    if (os == TL_ZK_ESTABLISHED && rs == TL_ZK_ESTABLISHED) return "S1";
    return "OTH";
}

const char *tl_zeek_conn_state(const tl_zeek *z)
{
    const tl_zeek_ep *o = &z->ep[orig_slot(z)], *r = &z->ep[orig_slot(z) ^ 1];
    return conn_state(z, ep_size(o, r), ep_size(r, o));
}

void tl_zeek_finish(const tl_zeek *z, tl_conn_record *r)
{
    const tl_zeek_ep *o = &z->ep[orig_slot(z)], *rp = &z->ep[orig_slot(z) ^ 1];
    if (z->swapped) {
        tl_addr h = r->orig_h;
        uint16_t port = r->orig_p;
        r->orig_h = r->resp_h;
        r->orig_p = r->resp_p;
        r->resp_h = h;
        r->resp_p = port;
    }
    r->orig_bytes = ep_size(o, rp);
    r->resp_bytes = ep_size(rp, o);
    r->conn_state = conn_state(z, r->orig_bytes, r->resp_bytes);
    if (z->hist_len < TL_ZK_HIST_INLINE) {
        /* the in-place letters, the bytes past them masked off, with
         * fixed-size moves (measured: memcpy and memset of variable sizes
         * were ~80 Ir per record) */
        static const unsigned char keep[2 * TL_ZK_HIST_INLINE] = {
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        _Static_assert(TL_ZK_HIST_INLINE == 16 && sizeof r->history >= 16, "two words");
        uint64_t w[2], m[2];
        memcpy(w, z->hist.in, sizeof w);
        memcpy(m, keep + TL_ZK_HIST_INLINE - z->hist_len, sizeof m);
        w[0] &= m[0];
        w[1] &= m[1];
        memcpy(r->history, w, sizeof w);
        memset(r->history + sizeof w, 0, sizeof r->history - sizeof w);
    } else {
        memcpy(r->history, z->hist.heap, (size_t)z->hist_len + 1);
        memset(r->history + z->hist_len + 1, 0, sizeof r->history - z->hist_len - 1);
    }
    r->orig_pkts = o->pkts;
    r->resp_pkts = rp->pkts;
    r->orig_ip_bytes = o->ip_bytes;
    r->resp_ip_bytes = rp->ip_bytes;
    r->missed_bytes = o->missed + rp->missed;
    if (z->have_time) {
        /* Zeek's start_time is the first packet's, even a bad-checksum one. */
        tl_time start = (r->ts.sec || r->ts.nsec) ? r->ts : z->start;
        double d = tl__time_diff(start, tl__time_at(z->start, z->last));
        r->duration = d > 0 ? d : 0;
    } else {
        r->duration = 0;
    }
}
