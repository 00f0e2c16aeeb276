/* sink_text.c -- the default human-readable output (SPEC.md 3.1): one
 * tcpdump-like line per packet with both endpoints' states, events as
 * indented lines under the packet that caused them, and at the end the
 * connection table and capture statistics (text_table.c).
 *
 * The tracker calls packet, then that packet's state changes, then its
 * events (tracker.h). The packet line is held until its state changes have
 * arrived, so a line can show "client SYN-SENT -> ESTABLISHED", including
 * two steps from one segment (FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT).
 *
 * Line layout (time relative to the first packet unless -tt):
 *   0.000012 #1  C 127.0.0.1.48604 < S 127.0.0.1.8079  [S.]  seq 0, ack 1, win 65483, len 0   client SYN-SENT  server LISTEN -> SYN-RECEIVED
 * The client is always on the left; the arrow gives the direction.
 * Flag letters are tcpdump's (print-tcp.c): F S R P . U E W in bit order.
 */
#include <stdlib.h>
#include <string.h>

#include "sink/text_line.h"
#include "sink/text_table.h"
#include "tcplens/sink.h"

#define TL_PEND_CHANGES 8

/* Colours (SGR codes). */
#define C_SYN "32"
#define C_FIN "33"
#define C_RST "1;31"
#define C_STATE "1;36"
#define C_EVENT "1;35"
#define C_ANALYSIS "31"
#define C_ERROR "1;31"
#define C_WARN "33"
#define C_DIM "2"

typedef struct tl_text_sink {
    FILE *fp;
    tl_output_opts o;
    int digits;
    bool have_base;
    tl_time base;               /* first timestamp seen: time origin */

    /* the packet line waiting for its state changes */
    bool pending;
    uint64_t pend_n;
    uint32_t pend_conn;
    tl_tcp_state pend_state[2]; /* client, server after the packet */
    uint8_t n_changes;
    tl_state_change changes[TL_PEND_CHANGES];
    tl_line head;               /* everything before the states */
    tl_line tail;               /* analysis flags, notes after the states */
    uint8_t *payload;           /* copy of the captured payload for -x / -A */
    size_t payload_len, payload_cap;
    uint32_t payload_total;     /* length on the wire */

    tl_text_table table;        /* connection rows until the end */
} tl_text_sink;

static void stamp(tl_text_sink *s, tl_line *l, tl_time t)
{
    char b[48];
    size_t n;
    if (!s->have_base) {
        s->base = t;
        s->have_base = true;
    }
    if (s->o.abs_time) {
        n = tl_fmt_time(b, t, s->digits);
    } else {
        tl_time d;
        d.sec = t.sec - s->base.sec;
        if (t.nsec >= s->base.nsec) d.nsec = t.nsec - s->base.nsec;
        else {
            d.sec--;
            d.nsec = t.nsec + 1000000000u - s->base.nsec;
        }
        n = tl_fmt_time(b, d, s->digits);
        /* right-align so that times up to 999 s line up */
        size_t width = (size_t)s->digits + (s->digits ? 4 : 3);
        for (size_t i = n; i < width; i++) tl_line_ch(l, ' ');
    }
    tl_line_mem(l, b, n);
}

static void conn_col(tl_line *l, uint32_t conn)
{
    size_t start = l->vis;
    tl_line_ch(l, ' ');
    if (conn) {
        tl_line_ch(l, '#');
        tl_line_u64(l, conn);
    } else
        tl_line_ch(l, '-');
    tl_line_pad(l, start + 5, 1);
}

static void endpoint(tl_line *l, const tl_addr *a, uint16_t port)
{
    char b[64];
    tl_line_str(l, tl_addr_format(a, b, sizeof b));
    tl_line_ch(l, '.');
    tl_line_u64(l, port);
}

static void flags_col(tl_text_sink *s, tl_line *l, uint8_t f)
{
    static const char letters[8] = {'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'};
    size_t start = l->vis;
    const char *c = (f & TL_TH_RST) ? C_RST : (f & TL_TH_FIN) ? C_FIN : (f & TL_TH_SYN) ? C_SYN : NULL;
    if (c) tl_line_sgr(l, s->o.color, c);
    tl_line_ch(l, '[');
    if (!f) tl_line_str(l, "none");
    for (int b = 0; b < 8; b++)
        if (f & (1u << b)) tl_line_ch(l, letters[b]);
    tl_line_ch(l, ']');
    if (c) tl_line_sgr_off(l, s->o.color);
    tl_line_pad(l, start + 6, 1);
}

/* Relative SACK edges as tcpdump shows them: the blocks are in the peer's
 * sequence space, the same space as our ACK number. */
static void sack_blocks(tl_text_sink *s, tl_line *l, const tl_pkt_view *v)
{
    const tl_packet *p = v->pkt;
    bool rel = !s->o.abs_seq && v->rel_ack_valid;
    uint32_t base = p->ack - v->rel_ack;
    tl_line_str(l, "  sack");
    for (unsigned i = 0; i < p->opt.n_sack && i < TL_MAX_SACK; i++) {
        tl_line_str(l, i ? " " : " {");
        tl_line_u64(l, rel ? (uint32_t)(p->opt.sack[i][0] - base) : p->opt.sack[i][0]);
        tl_line_ch(l, ':');
        tl_line_u64(l, rel ? (uint32_t)(p->opt.sack[i][1] - base) : p->opt.sack[i][1]);
    }
    tl_line_ch(l, '}');
}

static void syn_options(tl_line *l, const tl_tcp_options *o)
{
    bool any = false;
    tl_line_str(l, "  opts [");
    if (o->present & TL_OPT_MSS) {
        tl_line_str(l, "mss ");
        tl_line_u64(l, o->mss);
        any = true;
    }
    if (o->present & TL_OPT_SACK_PERM) {
        tl_line_str(l, any ? ",sackOK" : "sackOK");
        any = true;
    }
    if (o->present & TL_OPT_TIMESTAMP) {
        tl_line_str(l, any ? ",TS" : "TS");
        any = true;
    }
    if (o->present & TL_OPT_WSCALE) {
        tl_line_str(l, any ? ",wscale " : "wscale ");
        tl_line_u64(l, o->wscale);
    }
    tl_line_ch(l, ']');
}

/* "seq 1:6, ack 1, win 342, len 5" as tcpdump prints it: seq only when the
 * segment occupies sequence space or carries SYN/FIN/RST. */
static void seq_col(tl_text_sink *s, tl_line *l, const tl_pkt_view *v)
{
    const tl_packet *p = v->pkt;
    size_t start = l->vis;
    uint32_t seq = s->o.abs_seq ? p->seq : v->rel_seq;
    bool comma = false;
    if (p->payload_len > 0 || (p->flags & (TL_TH_SYN | TL_TH_FIN | TL_TH_RST))) {
        tl_line_str(l, "seq ");
        tl_line_u64(l, seq);
        if (p->payload_len > 0) {
            tl_line_ch(l, ':');
            tl_line_u64(l, (uint32_t)(seq + p->payload_len));
        }
        comma = true;
    }
    if (p->flags & TL_TH_ACK) {
        tl_line_str(l, comma ? ", ack " : "ack ");
        tl_line_u64(l, (!s->o.abs_seq && v->rel_ack_valid) ? v->rel_ack : p->ack);
        comma = true;
    }
    tl_line_str(l, comma ? ", win " : "win ");
    tl_line_u64(l, p->win);
    tl_line_str(l, ", len ");
    tl_line_u64(l, p->payload_len);
    tl_line_pad(l, start + 34, 2);
}

/* Options go after the states so that the state columns stay aligned. */
static void options_tail(tl_text_sink *s, tl_line *l, const tl_pkt_view *v)
{
    const tl_packet *p = v->pkt;
    if ((p->flags & TL_TH_SYN) && (p->opt.present & (TL_OPT_MSS | TL_OPT_WSCALE | TL_OPT_SACK_PERM | TL_OPT_TIMESTAMP)))
        syn_options(l, &p->opt);
    if ((p->opt.present & TL_OPT_SACK) && p->opt.n_sack) sack_blocks(s, l, v);
}

static void keep_payload(tl_text_sink *s, const tl_packet *p)
{
    s->payload_len = 0;
    s->payload_total = p->payload_len;
    if (!(s->o.hex || s->o.ascii) || !p->payload || !p->payload_caplen) return;
    size_t n = p->payload_caplen;
    if (n > s->payload_cap) {
        uint8_t *nb = realloc(s->payload, n);
        if (!nb) return;     /* the dump is left out; the line is still printed */
        s->payload = nb;
        s->payload_cap = n;
    }
    memcpy(s->payload, p->payload, n);
    s->payload_len = n;
}

/* tcpdump -X: offset, 16 bytes in groups of two, then the ASCII column. */
static void hex_dump(FILE *fp, const uint8_t *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t off = 0; off < n; off += 16) {
        tl_line l;
        tl_line_reset(&l);
        tl_line_str(&l, "\t0x");
        for (int sh = 12; sh >= 0; sh -= 4) tl_line_ch(&l, hx[(off >> sh) & 15]);
        tl_line_str(&l, ": ");
        size_t row = n - off < 16 ? n - off : 16;
        for (size_t i = 0; i < 16; i++) {
            if (i % 2 == 0) tl_line_ch(&l, ' ');
            if (i < row) {
                tl_line_ch(&l, hx[b[off + i] >> 4]);
                tl_line_ch(&l, hx[b[off + i] & 15]);
            } else
                tl_line_str(&l, "  ");
        }
        tl_line_str(&l, "  ");
        for (size_t i = 0; i < row; i++) {
            uint8_t c = b[off + i];
            tl_line_ch(&l, c >= 0x20 && c < 0x7f ? (char)c : '.');
        }
        tl_line_ch(&l, '\n');
        tl_line_write(&l, fp);
    }
}

/* tcpdump -A: printable ASCII and line breaks, '.' for anything else. */
static void ascii_dump(FILE *fp, const uint8_t *b, size_t n)
{
    bool at_bol = true;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = b[i];
        if (c == '\r') continue;
        if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) putc_unlocked(c, fp);
        else putc_unlocked('.', fp);
        at_bol = c == '\n';
    }
    if (!at_bol) putc_unlocked('\n', fp);
}

/* One endpoint's state: "client ESTABLISHED" or with the path it took on
 * this packet, "client FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT". */
static void state_col(tl_text_sink *s, tl_line *l, tl_role ep, tl_tcp_state final)
{
    bool first = true;
    tl_line_str(l, tl_role_name(ep));
    tl_line_ch(l, ' ');
    for (unsigned i = 0; i < s->n_changes; i++) {
        const tl_state_change *c = &s->changes[i];
        if (c->endpoint != ep) continue;
        if (first) {
            tl_line_str(l, tl_tcp_state_name(c->from));
            first = false;
        }
        tl_line_str(l, " -> ");
        tl_line_sgr(l, s->o.color, C_STATE);
        tl_line_str(l, tl_tcp_state_name(c->to));
        tl_line_sgr_off(l, s->o.color);
    }
    if (first) tl_line_str(l, tl_tcp_state_name(final));
}

static void flush_pending(tl_text_sink *s)
{
    if (!s->pending) return;
    s->pending = false;
    tl_line *l = &s->head;
    /* the server column stays aligned unless the client's path is long */
    size_t start = l->vis;
    state_col(s, l, TL_ROLE_CLIENT, s->pend_state[0]);
    tl_line_pad(l, start + 20, 2);
    state_col(s, l, TL_ROLE_SERVER, s->pend_state[1]);
    tl_line_raw(l, s->tail.s, s->tail.len, s->tail.vis);
    tl_line_ch(l, '\n');
    tl_line_write(l, s->fp);
    if (s->payload_len) {
        if (s->o.hex) hex_dump(s->fp, s->payload, s->payload_len);
        else ascii_dump(s->fp, s->payload, s->payload_len);
        if (s->payload_len < s->payload_total)
            fprintf(s->fp, "\t(%zu of %u payload bytes captured)\n", s->payload_len, s->payload_total);
    }
    s->payload_len = 0;
}

/* A frame that is not a TCP segment but is worth a line. */
static void odd_frame(tl_text_sink *s, const tl_pkt_view *v)
{
    tl_line l;
    tl_line_reset(&l);
    stamp(s, &l, v->frame->ts);
    conn_col(&l, 0);
    tl_line_sgr(&l, s->o.color, C_WARN);
    if (v->result == TL_DECODE_FRAGMENT) tl_line_str(&l, "IP fragment (counted, not reassembled)");
    else {
        tl_line_str(&l, v->result == TL_DECODE_TRUNCATED ? "truncated: " : "malformed: ");
        tl_line_str(&l, tl_decode_reason_name(v->reason));
    }
    tl_line_sgr_off(&l, s->o.color);
    const tl_packet *p = v->pkt;
    if (p && (p->ip_version == 4 || p->ip_version == 6)) {
        char b[64];
        tl_line_str(&l, "  ");
        tl_line_str(&l, tl_addr_format(&p->src, b, sizeof b));
        tl_line_str(&l, " > ");
        tl_line_str(&l, tl_addr_format(&p->dst, b, sizeof b));
    }
    tl_line_str(&l, "  (packet ");
    tl_line_u64(&l, v->frame->n);
    tl_line_str(&l, ")\n");
    tl_line_write(&l, s->fp);
}

static void on_packet(void *ctx, const tl_pkt_view *v)
{
    tl_text_sink *s = ctx;
    flush_pending(s);
    if (!v->frame) return;
    if (!s->have_base) {
        s->base = v->frame->ts;
        s->have_base = true;
    }
    if (s->o.quiet || s->o.conns_only) return;
    if (v->result != TL_DECODE_OK) {
        if (v->result != TL_DECODE_NOT_TCP) odd_frame(s, v);
        return;
    }
    if (!v->pkt) return;

    const tl_packet *p = v->pkt;
    tl_line *l = &s->head;
    tl_line_reset(l);
    tl_line_reset(&s->tail);
    stamp(s, l, v->frame->ts);
    conn_col(l, v->conn);

    /* client on the left, arrow for the direction */
    const tl_addr *left = &p->src, *right = &p->dst;
    uint16_t lport = p->sport, rport = p->dport;
    const char *arrow = ">";
    if (v->from == TL_ROLE_SERVER) {
        left = &p->dst;
        right = &p->src;
        lport = p->dport;
        rport = p->sport;
        arrow = "<";
    }
    bool roles = v->from == TL_ROLE_CLIENT || v->from == TL_ROLE_SERVER;
    size_t start = l->vis;
    tl_line_str(l, roles ? "C " : "  ");
    endpoint(l, left, lport);
    tl_line_pad(l, start + 24, 1);
    tl_line_str(l, arrow);
    start = l->vis;
    tl_line_str(l, roles ? " S " : "   ");
    endpoint(l, right, rport);
    tl_line_pad(l, start + 25, 2);
    flags_col(s, l, p->flags);
    seq_col(s, l, v);

    options_tail(s, &s->tail, v);
    for (unsigned i = 0; i < v->n_analysis && i < TL_MAX_ANALYSIS; i++) {
        tl_line_str(&s->tail, " ");
        tl_line_sgr(&s->tail, s->o.color, C_ANALYSIS);
        tl_line_ch(&s->tail, '[');
        tl_line_str(&s->tail, tl_event_name(v->analysis[i]));
        tl_line_ch(&s->tail, ']');
        tl_line_sgr_off(&s->tail, s->o.color);
    }
    if (p->cksum_status == TL_CKSUM_BAD || v->skipped) {
        tl_line_sgr(&s->tail, s->o.color, C_WARN);
        tl_line_str(&s->tail, p->cksum_status == TL_CKSUM_BAD ? " [bad checksum" : " [");
        tl_line_str(&s->tail, v->skipped ? (p->cksum_status == TL_CKSUM_BAD ? ", ignored]" : "ignored]") : "]");
        tl_line_sgr_off(&s->tail, s->o.color);
    }

    s->pending = true;
    s->pend_n = v->frame->n;
    s->pend_conn = v->conn;
    s->pend_state[0] = v->client_state;
    s->pend_state[1] = v->server_state;
    s->n_changes = 0;
    keep_payload(s, p);
}

static void on_state(void *ctx, const tl_state_change *c)
{
    tl_text_sink *s = ctx;
    if (s->o.quiet || s->o.conns_only) return;
    if (s->pending && c->n == s->pend_n && c->conn == s->pend_conn && s->n_changes < TL_PEND_CHANGES) {
        s->changes[s->n_changes++] = *c;
        return;
    }
    /* a change with no packet line to carry it (e.g. a timeout at the end) */
    flush_pending(s);
    tl_line l;
    tl_line_reset(&l);
    stamp(s, &l, c->ts);
    conn_col(&l, c->conn);
    tl_line_str(&l, "  ");
    tl_line_str(&l, tl_role_name(c->endpoint));
    tl_line_ch(&l, ' ');
    tl_line_str(&l, tl_tcp_state_name(c->from));
    tl_line_str(&l, " -> ");
    tl_line_sgr(&l, s->o.color, C_STATE);
    tl_line_str(&l, tl_tcp_state_name(c->to));
    tl_line_sgr_off(&l, s->o.color);
    tl_line_ch(&l, '\n');
    tl_line_write(&l, s->fp);
}

static void on_event(void *ctx, const tl_event *e)
{
    tl_text_sink *s = ctx;
    if (s->o.conns_only) return;
    flush_pending(s);
    tl_line l;
    tl_line_reset(&l);
    if (s->o.quiet) {
        stamp(s, &l, e->ts);
        conn_col(&l, e->conn);
    } else
        tl_line_str(&l, "  -> ");
    tl_line_sgr(&l, s->o.color, C_EVENT);
    tl_line_str(&l, tl_event_name(e->kind));
    tl_line_sgr_off(&l, s->o.color);
    if (e->by == TL_ROLE_CLIENT || e->by == TL_ROLE_SERVER) {
        tl_line_str(&l, " (");
        tl_line_str(&l, tl_role_name(e->by));
        tl_line_ch(&l, ')');
    }
    tl_line_str(&l, ": ");
    tl_line_write(&l, s->fp);
    /* the text may be longer than a line buffer */
    fputs_unlocked(e->text ? e->text : tl_event_explain(e->kind), s->fp);
    putc_unlocked('\n', s->fp);
}

static void on_conn(void *ctx, const tl_conn_record *r)
{
    tl_text_sink *s = ctx;
    flush_pending(s);
    if (s->o.conns_only) {
        tl_text_table_print_row(&s->table, s->fp, r);
        return;
    }
    if (!s->o.quiet) tl_text_table_add(&s->table, s->fp, r);
}

static void on_error(void *ctx, const tl_error_record *e)
{
    tl_text_sink *s = ctx;
    flush_pending(s);
    tl_line l;
    tl_line_reset(&l);
    tl_line_sgr(&l, s->o.color, C_ERROR);
    tl_line_str(&l, "error:");
    tl_line_sgr_off(&l, s->o.color);
    tl_line_ch(&l, ' ');
    tl_line_write(&l, s->fp);
    fprintf(s->fp, "%s", e->file ? e->file : "-");
    if (e->offset >= 0) fprintf(s->fp, ", offset %lld", (long long)e->offset);
    if (e->packet) fprintf(s->fp, ", packet %llu", (unsigned long long)e->packet);
    fprintf(s->fp, ": %s\n", e->text ? e->text : "");
}

static void on_finish(void *ctx, const tl_stats *st)
{
    tl_text_sink *s = ctx;
    flush_pending(s);
    if (!s->o.conns_only) {
        if (!s->o.quiet) tl_text_table_dump(&s->table, s->fp);
        tl_text_stats(s->fp, st);
    }
    fflush(s->fp);
}

static void on_free(void *ctx)
{
    tl_text_sink *s = ctx;
    flush_pending(s);
    tl_text_table_release(&s->table);
    free(s->payload);
    free(s);
}

static const tl_sink_ops tl_text_ops = {
    .packet = on_packet,
    .state = on_state,
    .event = on_event,
    .conn = on_conn,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
};

int tl_sink_text_new(tl_sink *out, FILE *fp, const tl_output_opts *o)
{
    if (!out || !fp) return TL_EINVAL;
    tl_text_sink *s = calloc(1, sizeof *s);
    if (!s) return TL_ENOMEM;
    s->fp = fp;
    if (o) s->o = *o;
    s->digits = s->o.ts_digits > 0 && s->o.ts_digits <= 9 ? s->o.ts_digits : 6;
    tl_text_table_init(&s->table);
    out->ops = &tl_text_ops;
    out->ctx = s;
    return TL_OK;
}
