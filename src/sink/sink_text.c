/* sink_text.c -- the default human-readable output (SPEC.md 3.1): one
 * tcpdump-like line per packet with both endpoints' states, events as
 * indented lines under the packet that caused them, and at the end the
 * connection table and capture statistics (text_table.c).
 *
 * The tracker calls packet, then that packet's state changes, then its
 * events (tracker.h), and gives no signal when a frame is done; so that live
 * captures show each packet at once, the line is written when the packet
 * arrives. Its state columns show "before -> after" for each endpoint, both
 * taken from the packet's view. When one segment moved an endpoint more
 * than one step (FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT from a FIN+ACK), the
 * whole path gets its own indented line below the packet.
 *
 * The packet line itself (tl_text_packet_line, text_line.h) is shared with
 * the lab's timeline, so that both print a packet the same way.
 *
 * Line layout (time relative to the first packet unless -tt):
 *   0.000023 #1  C 127.0.0.1.55068  < S 127.0.0.1.9000  [S.]  seq 0, ack 1, win 65483, len 0
 *       client SYN-SENT -> ESTABLISHED  server LISTEN -> SYN-RECEIVED  opts [mss 65495,...]
 * (one line; wrapped here). Columns are padded so that lines align.
 * The client is always on the left; the arrow gives the direction.
 * Flag letters are tcpdump's (print-tcp.c): F S R P . U E W in bit order.
 */
#include <stdlib.h>

#include "sink/text_line.h"
#include "sink/text_table.h"
#include "tcplens/sink.h"

/* Colours (SGR codes). */
#define C_SYN "32"
#define C_FIN "33"
#define C_RST "1;31"
#define C_STATE "1;36"
#define C_EVENT "1;35"
#define C_ANALYSIS "31"
#define C_ERROR "1;31"
#define C_WARN "33"

/* States kept for one endpoint's path within one packet. */
#define TL_PATH_MAX 8

typedef struct tl_text_sink {
    FILE *fp;
    tl_output_opts o;
    bool have_base;
    tl_time base;               /* first timestamp seen: time origin */

    /* The last packet line, to tell which of its state changes it showed:
     * each endpoint's "before -> after", and the steps its change records
     * have taken so far (a path of more than one step is printed whole). */
    uint64_t last_n;
    uint32_t last_conn;
    tl_tcp_state before[2], after[2];     /* client, server */
    tl_tcp_state path[2][TL_PATH_MAX];
    unsigned npath[2];                    /* states in path; 0 = no steps yet */
    tl_text_table table;        /* connection rows until the end */
} tl_text_sink;

/* The time column: absolute with -tt, else since base, right-aligned so
 * that times up to 999 s line up. */
static void stamp(tl_line *l, tl_time t, const tl_output_opts *o, tl_time base)
{
    char b[48];
    size_t n;
    int digits = o->ts_digits > 0 && o->ts_digits <= 9 ? o->ts_digits : 6;
    if (o->abs_time) {
        n = tl_fmt_time(b, t, digits);
    } else {
        tl_time d;
        d.sec = t.sec - base.sec;
        if (t.nsec >= base.nsec) d.nsec = t.nsec - base.nsec;
        else {
            d.sec--;
            d.nsec = t.nsec + 1000000000u - base.nsec;
        }
        n = tl_fmt_time(b, d, digits);
        size_t width = (size_t)digits + 4;
        for (size_t i = n; i < width; i++) tl_line_ch(l, ' ');
    }
    tl_line_mem(l, b, n);
}

/* The sink's stamp: the first timestamp it sees is the origin. */
static void sink_stamp(tl_text_sink *s, tl_line *l, tl_time t)
{
    if (!s->have_base) {
        s->base = t;
        s->have_base = true;
    }
    stamp(l, t, &s->o, s->base);
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
    tl_line_addr(l, a);
    tl_line_ch(l, '.');
    tl_line_u64(l, port);
}

static void flags_col(tl_line *l, uint8_t f, const tl_output_opts *o)
{
    static const char letters[8] = {'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'};
    size_t start = l->vis;
    const char *c = (f & TL_TH_RST) ? C_RST : (f & TL_TH_FIN) ? C_FIN : (f & TL_TH_SYN) ? C_SYN : NULL;
    if (c) tl_line_sgr(l, o->color, c);
    tl_line_ch(l, '[');
    if (!f) TL_LINE_LIT(l, "none");
    for (int b = 0; b < 8; b++)
        if (f & (1u << b)) tl_line_ch(l, letters[b]);
    tl_line_ch(l, ']');
    if (c) tl_line_sgr_off(l, o->color);
    tl_line_pad(l, start + 6, 1);
}

/* Relative SACK edges as tcpdump shows them: the blocks are in the peer's
 * sequence space, the same space as our ACK number. */
static void sack_blocks(tl_line *l, const tl_pkt_view *v, const tl_output_opts *o)
{
    const tl_packet *p = v->pkt;
    bool rel = !o->abs_seq && v->rel_ack_valid;
    uint32_t base = p->ack - v->rel_ack;
    TL_LINE_LIT(l, "  sack");
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
    TL_LINE_LIT(l, "  opts [");
    if (o->present & TL_OPT_MSS) {
        TL_LINE_LIT(l, "mss ");
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
static void seq_col(tl_line *l, const tl_pkt_view *v, const tl_output_opts *o)
{
    const tl_packet *p = v->pkt;
    size_t start = l->vis;
    uint32_t seq = o->abs_seq ? p->seq : v->rel_seq;
    bool comma = false;
    if (p->payload_len > 0 || (p->flags & (TL_TH_SYN | TL_TH_FIN | TL_TH_RST))) {
        TL_LINE_LIT(l, "seq ");
        tl_line_u64(l, seq);
        if (p->payload_len > 0) {
            tl_line_ch(l, ':');
            tl_line_u64(l, (uint32_t)(seq + p->payload_len));
        }
        comma = true;
    }
    if (p->flags & TL_TH_ACK) {
        if (comma) TL_LINE_LIT(l, ", ack ");
        else TL_LINE_LIT(l, "ack ");
        tl_line_u64(l, (!o->abs_seq && v->rel_ack_valid) ? v->rel_ack : p->ack);
        comma = true;
    }
    if (comma) TL_LINE_LIT(l, ", win ");
    else TL_LINE_LIT(l, "win ");
    tl_line_u64(l, p->win);
    TL_LINE_LIT(l, ", len ");
    tl_line_u64(l, p->payload_len);
    tl_line_pad(l, start + 34, 2);
}

/* One endpoint's state: "client ESTABLISHED", or "client SYN-SENT ->
 * ESTABLISHED" when this packet changed it. */
static void state_col(tl_line *l, int ep, tl_tcp_state before, tl_tcp_state after, const tl_output_opts *o)
{
    if (ep == 0) TL_LINE_LIT(l, "client ");
    else TL_LINE_LIT(l, "server ");
    if (before != after) {
        tl_line_str(l, tl_tcp_state_name(before));
        TL_LINE_LIT(l, " -> ");
        tl_line_sgr(l, o->color, C_STATE);
        tl_line_str(l, tl_tcp_state_name(after));
        tl_line_sgr_off(l, o->color);
    } else
        tl_line_str(l, tl_tcp_state_name(after));
}

void tl_text_packet_line(tl_line *l, const tl_pkt_view *v, const tl_output_opts *o, tl_time base)
{
    const tl_packet *p = v->pkt;
    stamp(l, v->frame->ts, o, base);
    conn_col(l, v->conn);

    /* client on the left, arrow for the direction */
    const tl_addr *left = &p->src, *right = &p->dst;
    uint16_t lport = p->sport, rport = p->dport;
    char arrow = '>';
    if (v->from == TL_ROLE_SERVER) {
        left = &p->dst;
        right = &p->src;
        lport = p->dport;
        rport = p->sport;
        arrow = '<';
    }
    bool roles = v->from == TL_ROLE_CLIENT || v->from == TL_ROLE_SERVER;
    size_t start = l->vis;
    if (roles) TL_LINE_LIT(l, "C ");
    else TL_LINE_LIT(l, "  ");
    endpoint(l, left, lport);
    tl_line_pad(l, start + 24, 1);
    tl_line_ch(l, arrow);
    start = l->vis;
    if (roles) TL_LINE_LIT(l, " S ");
    else TL_LINE_LIT(l, "   ");
    endpoint(l, right, rport);
    tl_line_pad(l, start + 25, 2);
    flags_col(l, p->flags, o);
    seq_col(l, v, o);

    /* the state columns stay aligned unless the client's column is long */
    start = l->vis;
    state_col(l, 0, v->client_before, v->client_state, o);
    tl_line_pad(l, start + 20, 2);
    state_col(l, 1, v->server_before, v->server_state, o);

    /* options after the states so that the state columns stay aligned */
    if ((p->flags & TL_TH_SYN) && (p->opt.present & (TL_OPT_MSS | TL_OPT_WSCALE | TL_OPT_SACK_PERM | TL_OPT_TIMESTAMP)))
        syn_options(l, &p->opt);
    if ((p->opt.present & TL_OPT_SACK) && p->opt.n_sack) sack_blocks(l, v, o);
    for (unsigned i = 0; i < v->n_analysis && i < TL_MAX_ANALYSIS; i++) {
        TL_LINE_LIT(l, " ");
        tl_line_sgr(l, o->color, C_ANALYSIS);
        tl_line_ch(l, '[');
        tl_line_str(l, tl_event_name(v->analysis[i]));
        tl_line_ch(l, ']');
        tl_line_sgr_off(l, o->color);
    }
    if (p->cksum_status == TL_CKSUM_BAD || v->skipped) {
        tl_line_sgr(l, o->color, C_WARN);
        tl_line_str(l, p->cksum_status == TL_CKSUM_BAD ? " [bad checksum" : " [");
        tl_line_str(l, v->skipped ? (p->cksum_status == TL_CKSUM_BAD ? ", ignored]" : "ignored]") : "]");
        tl_line_sgr_off(l, o->color);
    }
}

/* tcpdump -X: offset, 16 bytes in groups of two, then the ASCII column. */
static void hex_dump(FILE *fp, const uint8_t *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t off = 0; off < n; off += 16) {
        tl_line l;
        tl_line_reset(&l);
        TL_LINE_LIT(&l, "\t0x");
        for (int sh = 12; sh >= 0; sh -= 4) tl_line_ch(&l, hx[(off >> sh) & 15]);
        TL_LINE_LIT(&l, ": ");
        size_t row = n - off < 16 ? n - off : 16;
        for (size_t i = 0; i < 16; i++) {
            if (i % 2 == 0) tl_line_ch(&l, ' ');
            if (i < row) {
                tl_line_ch(&l, hx[b[off + i] >> 4]);
                tl_line_ch(&l, hx[b[off + i] & 15]);
            } else
                TL_LINE_LIT(&l, "  ");
        }
        TL_LINE_LIT(&l, "  ");
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

/* "A -> B -> C", each state after an arrow in the state colour. */
static void state_path(tl_line *l, const tl_tcp_state *st, unsigned n, bool color)
{
    for (unsigned i = 0; i < n; i++) {
        if (i) {
            TL_LINE_LIT(l, " -> ");
            tl_line_sgr(l, color, C_STATE);
        }
        tl_line_str(l, tl_tcp_state_name(st[i]));
        if (i) tl_line_sgr_off(l, color);
    }
}

/* Prints an endpoint's pending path from the last packet (steps its "before
 * -> after" did not show) and forgets it. */
static void flush_path(tl_text_sink *s, int ep)
{
    unsigned n = s->npath[ep];
    s->npath[ep] = 0;
    if (n < 2) return;
    /* one step, and the line showed it */
    if (n == 2 && s->path[ep][0] == s->before[ep] && s->path[ep][1] == s->after[ep]) return;
    tl_line l;
    tl_line_reset(&l);
    tl_line_str(&l, ep == 0 ? "     client " : "     server ");
    state_path(&l, s->path[ep], n, s->o.color);
    tl_line_ch(&l, '\n');
    tl_line_write(&l, s->fp);
}

static void flush_paths(tl_text_sink *s)
{
    flush_path(s, 0);
    flush_path(s, 1);
}

/* A frame that is not a TCP segment but is worth a line. */
static void odd_frame(tl_text_sink *s, const tl_pkt_view *v)
{
    tl_line l;
    tl_line_reset(&l);
    sink_stamp(s, &l, v->frame->ts);
    conn_col(&l, 0);
    tl_line_sgr(&l, s->o.color, C_WARN);
    if (v->result == TL_DECODE_FRAGMENT) TL_LINE_LIT(&l, "IP fragment (counted, not reassembled)");
    else {
        tl_line_str(&l, v->result == TL_DECODE_TRUNCATED ? "truncated: " : "malformed: ");
        tl_line_str(&l, tl_decode_reason_name(v->reason));
    }
    tl_line_sgr_off(&l, s->o.color);
    const tl_packet *p = v->pkt;
    if (p && (p->ip_version == 4 || p->ip_version == 6)) {
        char b[64];
        TL_LINE_LIT(&l, "  ");
        tl_line_str(&l, tl_addr_format(&p->src, b, sizeof b));
        TL_LINE_LIT(&l, " > ");
        tl_line_str(&l, tl_addr_format(&p->dst, b, sizeof b));
    }
    TL_LINE_LIT(&l, "  (packet ");
    tl_line_u64(&l, v->frame->n);
    TL_LINE_LIT(&l, ")\n");
    tl_line_write(&l, s->fp);
}

static void on_packet(void *ctx, const tl_pkt_view *v)
{
    tl_text_sink *s = ctx;
    if (!v->frame) return;
    if (!s->have_base) {
        s->base = v->frame->ts;
        s->have_base = true;
    }
    if (s->o.quiet || s->o.conns_only) return;
    flush_paths(s);
    s->last_n = 0;
    if (v->result != TL_DECODE_OK) {
        if (v->result != TL_DECODE_NOT_TCP) odd_frame(s, v);
        return;
    }
    if (!v->pkt) return;

    tl_line l;
    tl_line_reset(&l);
    tl_text_packet_line(&l, v, &s->o, s->base);
    tl_line_ch(&l, '\n');
    tl_line_write(&l, s->fp);
    s->last_n = v->frame->n;
    s->last_conn = v->conn;
    s->before[0] = v->client_before;
    s->before[1] = v->server_before;
    s->after[0] = v->client_state;
    s->after[1] = v->server_state;

    const tl_packet *p = v->pkt;
    if ((s->o.hex || s->o.ascii) && p->payload && p->payload_caplen) {
        if (s->o.hex) hex_dump(s->fp, p->payload, p->payload_caplen);
        else ascii_dump(s->fp, p->payload, p->payload_caplen);
        if (p->payload_caplen < p->payload_len)
            fprintf(s->fp, "\t(%u of %u payload bytes captured)\n", p->payload_caplen, p->payload_len);
    }
}

static void on_state(void *ctx, const tl_state_change *c)
{
    tl_text_sink *s = ctx;
    if (s->o.quiet || s->o.conns_only) return;
    if (c->n && c->n == s->last_n && c->conn == s->last_conn &&
        (c->endpoint == TL_ROLE_CLIENT || c->endpoint == TL_ROLE_SERVER)) {
        /* a step of the last packet: gather its endpoint's path, and print
         * the path once it reaches the state the line showed */
        int ep = c->endpoint == TL_ROLE_CLIENT ? 0 : 1;
        if (s->npath[ep] == TL_PATH_MAX) flush_path(s, ep);   /* then a new path */
        if (s->npath[ep] == 0) s->path[ep][s->npath[ep]++] = c->from;
        s->path[ep][s->npath[ep]++] = c->to;
        if (c->to == s->after[ep]) flush_path(s, ep);
        return;
    }
    flush_paths(s);
    /* a change with no packet line (e.g. a timeout): time and connection too */
    tl_line l;
    tl_line_reset(&l);
    sink_stamp(s, &l, c->ts);
    conn_col(&l, c->conn);
    TL_LINE_LIT(&l, "  ");
    tl_line_str(&l, tl_role_name(c->endpoint));
    tl_line_ch(&l, ' ');
    tl_tcp_state st[2] = {c->from, c->to};
    state_path(&l, st, 2, s->o.color);
    tl_line_ch(&l, '\n');
    tl_line_write(&l, s->fp);
}

static void on_event(void *ctx, const tl_event *e)
{
    tl_text_sink *s = ctx;
    if (s->o.conns_only) return;
    flush_paths(s);
    tl_line l;
    tl_line_reset(&l);
    if (s->o.quiet) {
        sink_stamp(s, &l, e->ts);
        conn_col(&l, e->conn);
    } else
        TL_LINE_LIT(&l, "  -> ");
    tl_line_sgr(&l, s->o.color, C_EVENT);
    tl_line_str(&l, tl_event_name(e->kind));
    tl_line_sgr_off(&l, s->o.color);
    if (e->by == TL_ROLE_CLIENT || e->by == TL_ROLE_SERVER) {
        TL_LINE_LIT(&l, " (");
        tl_line_str(&l, tl_role_name(e->by));
        tl_line_ch(&l, ')');
    }
    TL_LINE_LIT(&l, ": ");
    tl_line_write(&l, s->fp);
    /* the text may be longer than a line buffer */
    fputs_unlocked(e->text ? e->text : tl_event_explain(e->kind), s->fp);
    putc_unlocked('\n', s->fp);
}

static void on_conn(void *ctx, const tl_conn_record *r)
{
    tl_text_sink *s = ctx;
    flush_paths(s);
    if (s->o.conns_only) {
        tl_text_table_print_row(&s->table, s->fp, r);
        return;
    }
    if (!s->o.quiet) tl_text_table_add(&s->table, s->fp, r);
}

static void on_error(void *ctx, const tl_error_record *e)
{
    tl_text_sink *s = ctx;
    flush_paths(s);
    tl_line l;
    tl_line_reset(&l);
    tl_line_sgr(&l, s->o.color, C_ERROR);
    TL_LINE_LIT(&l, "error:");
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
    flush_paths(s);
    if (!s->o.conns_only) {
        if (!s->o.quiet) tl_text_table_dump(&s->table, s->fp);
        tl_text_stats(s->fp, st);
    }
    fflush(s->fp);
}

static void on_free(void *ctx)
{
    tl_text_sink *s = ctx;
    tl_text_table_release(&s->table);
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
    tl_text_table_init(&s->table);
    out->ops = &tl_text_ops;
    out->ctx = s;
    return TL_OK;
}
