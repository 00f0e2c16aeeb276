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
#include <threads.h>

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

/* RFC 9293 state names with their lengths (the longest, SYN-RECEIVED, has
 * 12), copied with one fixed-size memcpy instead of strlen and a variable
 * one; the last entry is what an unknown value prints. */
typedef struct state_text {
    uint8_t n;
    char s[15];
} state_text;

static void state_texts_make(state_text *t)
{
    for (int i = 0; i <= TL_ST_COUNT; i++) {
        const char *name = tl_tcp_state_name((tl_tcp_state)i);
        size_t n = strnlen(name, sizeof t[i].s);
        memcpy(t[i].s, name, n);
        t[i].n = (uint8_t)n;
    }
}

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
    state_text states[TL_ST_COUNT + 1];

    /* Lines waiting for the FILE (see tl__file_batchable); anything that
     * writes to fp itself goes through direct() first. */
    enum tl_json_batch batch;
    size_t out_len;
    char out[16384];
} tl_text_sink;

static void out_flush(tl_text_sink *s)
{
    if (s->out_len) {
        fwrite_unlocked(s->out, 1, s->out_len, s->fp);
        s->out_len = 0;
    }
}

/* The FILE, for writing to it directly: what is pending goes first. */
static FILE *direct(tl_text_sink *s)
{
    out_flush(s);
    return s->fp;
}

/* Bytes for the output: kept while the FILE is batchable (measured: one
 * fwrite per line was ~130 Ir/packet of `read`), else handed over. */
static void emit_mem(tl_text_sink *s, const char *b, size_t n)
{
    if (s->batch == TL_JSON_BATCH) {
        if (n > sizeof s->out - s->out_len) {
            out_flush(s);
            if (n > sizeof s->out) {
                fwrite_unlocked(b, 1, n, s->fp);
                return;
            }
        }
        memcpy(s->out + s->out_len, b, n);
        s->out_len += n;
        return;
    }
    fwrite_unlocked(b, 1, n, s->fp);
    /* decided once the FILE has been written to, as tl_json_end_line does */
    if (s->batch == TL_JSON_BATCH_UNDECIDED)
        s->batch = tl__file_batchable(s->fp) ? TL_JSON_BATCH : TL_JSON_PER_LINE;
}

static void emit(tl_text_sink *s, const tl_line *l)
{
    emit_mem(s, l->s, l->len);
}

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

/* ---- the packet line, written in place (measured: appending piece by
 * piece with a bounds check per piece and strlen per name was ~1,000
 * Ir/packet of `read`) ------------------------------------------------ */

/* A cursor over room known to be enough for the whole line: o is where the
 * next byte goes, hidden counts colour-code bytes (not visible). */
typedef struct pl {
    char *o;
    size_t hidden;
    const state_text *states;   /* state_texts_make's table */
} pl;

/* Room the line needs apart from its analysis flags, and per flag; every
 * fixed-size copy past the end included. */
#define PL_NAME_MAX 48
#define PL_FIXED_MAX 640
#define PL_PER_ANALYSIS (PL_NAME_MAX + 24)
#define PL_MAX (PL_FIXED_MAX + TL_MAX_ANALYSIS * PL_PER_ANALYSIS)
/* PL_FIXED_MAX: 45 time, 13 connection, 54 + 1 + 56 endpoints, 22 flags, 70
 * seq/ack/win/len, 94 states, 39 options, 6 + 23 per SACK block + 1, 33
 * checksum, and 48 that fixed-size copies may write past the end */
_Static_assert(TL_MAX_SACK <= 4 && 526 + 48 <= PL_FIXED_MAX && PL_FIXED_MAX <= TL_LINE_CAP,
               "the packet line's bound");

#define PL_LIT(c, lit) TL_JSON_PUT_LIT((c)->o, lit)

static inline void pl_mem(pl *c, const char *s, size_t n)
{
    memcpy(c->o, s, n);
    c->o += n;
}

static inline void pl_ch(pl *c, char ch) { *c->o++ = ch; }

static inline void pl_u32(pl *c, uint32_t v) { c->o = tl_put_u32(c->o, v); }

static inline void pl_sgr(pl *c, bool color, const char *code)
{
    if (!color) return;
    char *start = c->o;
    PL_LIT(c, "\033[");
    pl_mem(c, code, strlen(code));
    pl_ch(c, 'm');
    c->hidden += (size_t)(c->o - start);
}

static inline void pl_sgr_off(pl *c, bool color)
{
    if (!color) return;
    PL_LIT(c, "\033[0m");
    c->hidden += 4;
}

/* Where a column starts: its first byte and the colour bytes before it. */
typedef struct pl_col {
    const char *o;
    size_t hidden;
} pl_col;

static inline pl_col pl_start(const pl *c) { return (pl_col){c->o, c->hidden}; }

/* Pad with spaces to `width` visible characters from col (at least `min`). */
static inline void pl_pad(pl *c, pl_col col, size_t width, size_t min)
{
    size_t vis = (size_t)(c->o - col.o) - (c->hidden - col.hidden);
    size_t n = vis < width ? width - vis : 0;
    if (n < min) n = min;
    /* at most 22 (the shortest seq column is "win 0, len 0"): one fixed-size
     * copy, the excess overwritten next */
    if (n <= 32) memcpy(c->o, "                                ", 32);
    else memset(c->o, ' ', n);
    c->o += n;
}

static inline void pl_state(pl *c, tl_tcp_state st)
{
    const state_text *t = &c->states[(unsigned)st < TL_ST_COUNT ? (unsigned)st : TL_ST_COUNT];
    memcpy(c->o, t->s, sizeof t->s);
    c->o += t->n;
}

/* The time column: absolute with -tt, else since base, right-aligned so
 * that times up to 999 s line up. */
static void pl_stamp(pl *c, tl_time t, const tl_output_opts *o, tl_time base)
{
    int digits = o->ts_digits > 0 && o->ts_digits <= 9 ? o->ts_digits : 6;
    if (o->abs_time) {
        c->o += tl_fmt_time(c->o, t, digits);
        return;
    }
    tl_time d;
    d.sec = t.sec - base.sec;
    if (t.nsec >= base.nsec) d.nsec = t.nsec - base.nsec;
    else {
        d.sec--;
        d.nsec = t.nsec + 1000000000u - base.nsec;
    }
    char b[32] = {0};   /* copied whole below */
    size_t n = tl_fmt_time(b, d, digits);
    size_t width = (size_t)digits + 4;   /* at most 13 */
    size_t pad = n < width ? width - n : 0;
    memcpy(c->o, "                ", 16);
    memcpy(c->o + pad, b, sizeof b);
    c->o += pad + n;
}

static void pl_conn(pl *c, uint32_t conn)
{
    pl_col col = pl_start(c);
    pl_ch(c, ' ');
    if (conn) {
        pl_ch(c, '#');
        pl_u32(c, conn);
    } else
        pl_ch(c, '-');
    pl_pad(c, col, 5, 1);
}

static void pl_endpoint(pl *c, const tl_addr *a, uint16_t port)
{
    c->o += tl__addr_put(c->o, a);
    pl_ch(c, '.');
    pl_u32(c, port);
}

static void pl_flags(pl *c, uint8_t f, const tl_output_opts *o)
{
    static const char letters[8] = {'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'};
    pl_col col = pl_start(c);
    const char *code = (f & TL_TH_RST) ? C_RST : (f & TL_TH_FIN) ? C_FIN : (f & TL_TH_SYN) ? C_SYN : NULL;
    if (code) pl_sgr(c, o->color, code);
    pl_ch(c, '[');
    if (!f) PL_LIT(c, "none");
    for (unsigned b = f; b; b &= b - 1) pl_ch(c, letters[__builtin_ctz(b)]);
    pl_ch(c, ']');
    if (code) pl_sgr_off(c, o->color);
    pl_pad(c, col, 6, 1);
}

/* "seq 1:6, ack 1, win 342, len 5" as tcpdump prints it: seq only when the
 * segment occupies sequence space or carries SYN/FIN/RST. */
static void pl_seq(pl *c, const tl_pkt_view *v, const tl_output_opts *o)
{
    const tl_packet *p = v->pkt;
    pl_col col = pl_start(c);
    uint32_t seq = o->abs_seq ? p->seq : v->rel_seq;
    bool comma = false;
    if (p->payload_len > 0 || (p->flags & (TL_TH_SYN | TL_TH_FIN | TL_TH_RST))) {
        PL_LIT(c, "seq ");
        pl_u32(c, seq);
        if (p->payload_len > 0) {
            pl_ch(c, ':');
            pl_u32(c, (uint32_t)(seq + p->payload_len));
        }
        comma = true;
    }
    if (p->flags & TL_TH_ACK) {
        if (comma) PL_LIT(c, ", ack ");
        else PL_LIT(c, "ack ");
        pl_u32(c, (!o->abs_seq && v->rel_ack_valid) ? v->rel_ack : p->ack);
        comma = true;
    }
    if (comma) PL_LIT(c, ", win ");
    else PL_LIT(c, "win ");
    pl_u32(c, p->win);
    PL_LIT(c, ", len ");
    pl_u32(c, p->payload_len);
    pl_pad(c, col, 34, 2);
}

/* One endpoint's state: "client ESTABLISHED", or "client SYN-SENT ->
 * ESTABLISHED" when this packet changed it. */
static inline void pl_state_col(pl *c, int ep, tl_tcp_state before, tl_tcp_state after, const tl_output_opts *o)
{
    if (ep == 0) PL_LIT(c, "client ");
    else PL_LIT(c, "server ");
    if (before != after) {
        pl_state(c, before);
        PL_LIT(c, " -> ");
        pl_sgr(c, o->color, C_STATE);
        pl_state(c, after);
        pl_sgr_off(c, o->color);
    } else
        pl_state(c, after);
}

static void pl_syn_options(pl *c, const tl_tcp_options *op)
{
    bool any = false;
    PL_LIT(c, "  opts [");
    if (op->present & TL_OPT_MSS) {
        PL_LIT(c, "mss ");
        pl_u32(c, op->mss);
        any = true;
    }
    if (op->present & TL_OPT_SACK_PERM) {
        if (any) pl_ch(c, ',');
        PL_LIT(c, "sackOK");
        any = true;
    }
    if (op->present & TL_OPT_TIMESTAMP) {
        if (any) pl_ch(c, ',');
        PL_LIT(c, "TS");
        any = true;
    }
    if (op->present & TL_OPT_WSCALE) {
        if (any) pl_ch(c, ',');
        PL_LIT(c, "wscale ");
        pl_u32(c, op->wscale);
    }
    pl_ch(c, ']');
}

/* Relative SACK edges as tcpdump shows them: the blocks are in the peer's
 * sequence space, the same space as our ACK number. */
static void pl_sack(pl *c, const tl_pkt_view *v, const tl_output_opts *o)
{
    const tl_packet *p = v->pkt;
    bool rel = !o->abs_seq && v->rel_ack_valid;
    uint32_t base = p->ack - v->rel_ack;
    PL_LIT(c, "  sack");
    for (unsigned i = 0; i < p->opt.n_sack && i < TL_MAX_SACK; i++) {
        if (i) pl_ch(c, ' ');
        else PL_LIT(c, " {");
        pl_u32(c, rel ? (uint32_t)(p->opt.sack[i][0] - base) : p->opt.sack[i][0]);
        pl_ch(c, ':');
        pl_u32(c, rel ? (uint32_t)(p->opt.sack[i][1] - base) : p->opt.sack[i][1]);
    }
    pl_ch(c, '}');
}

static void pl_packet(pl *c, const tl_pkt_view *v, const tl_output_opts *o, tl_time base)
{
    const tl_packet *p = v->pkt;
    pl_stamp(c, v->frame->ts, o, base);
    pl_conn(c, v->conn);

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
    pl_col col = pl_start(c);
    if (roles) PL_LIT(c, "C ");
    else PL_LIT(c, "  ");
    pl_endpoint(c, left, lport);
    pl_pad(c, col, 24, 1);
    pl_ch(c, arrow);
    col = pl_start(c);
    if (roles) PL_LIT(c, " S ");
    else PL_LIT(c, "   ");
    pl_endpoint(c, right, rport);
    pl_pad(c, col, 25, 2);
    pl_flags(c, p->flags, o);
    pl_seq(c, v, o);

    /* the state columns stay aligned unless the client's column is long */
    col = pl_start(c);
    pl_state_col(c, 0, v->client_before, v->client_state, o);
    pl_pad(c, col, 20, 2);
    pl_state_col(c, 1, v->server_before, v->server_state, o);

    /* options after the states so that the state columns stay aligned */
    if ((p->flags & TL_TH_SYN) && (p->opt.present & (TL_OPT_MSS | TL_OPT_WSCALE | TL_OPT_SACK_PERM | TL_OPT_TIMESTAMP)))
        pl_syn_options(c, &p->opt);
    if ((p->opt.present & TL_OPT_SACK) && p->opt.n_sack) pl_sack(c, v, o);
    for (unsigned i = 0; i < v->n_analysis && i < TL_MAX_ANALYSIS; i++) {
        const char *name = tl_event_name(v->analysis[i]);
        pl_ch(c, ' ');
        pl_sgr(c, o->color, C_ANALYSIS);
        pl_ch(c, '[');
        pl_mem(c, name, strnlen(name, PL_NAME_MAX));
        pl_ch(c, ']');
        pl_sgr_off(c, o->color);
    }
    if (p->cksum_status == TL_CKSUM_BAD || v->skipped) {
        pl_sgr(c, o->color, C_WARN);
        if (p->cksum_status == TL_CKSUM_BAD) PL_LIT(c, " [bad checksum");
        else PL_LIT(c, " [");
        if (!v->skipped) PL_LIT(c, "]");
        else if (p->cksum_status == TL_CKSUM_BAD) PL_LIT(c, ", ignored]");
        else PL_LIT(c, "ignored]");
        pl_sgr_off(c, o->color);
    }
}

/* Room v's line may take, fixed-size copies past its end included. */
static inline size_t pl_room(const tl_pkt_view *v)
{
    unsigned n = v->n_analysis < TL_MAX_ANALYSIS ? v->n_analysis : TL_MAX_ANALYSIS;
    return PL_FIXED_MAX + (size_t)n * PL_PER_ANALYSIS;
}

/* The state table of tl_text_packet_line's callers without a sink. */
static state_text shared_states[TL_ST_COUNT + 1];
static once_flag shared_states_once = ONCE_FLAG_INIT;

static void shared_states_make(void) { state_texts_make(shared_states); }

void tl_text_packet_line(tl_line *l, const tl_pkt_view *v, const tl_output_opts *o, tl_time base)
{
    call_once(&shared_states_once, shared_states_make);
    /* in place when the line has room for the longest such line (the usual
     * case: a fresh line), else through a temporary, cut where it ends */
    size_t need = pl_room(v);
    char tmp[PL_MAX];
    bool in_place = TL_LINE_CAP - l->len >= need;
    pl c = {in_place ? l->s + l->len : tmp, 0, shared_states};
    char *start = c.o;
    pl_packet(&c, v, o, base);
    size_t n = (size_t)(c.o - start);
    if (in_place) {
        l->len += n;
        l->vis += n - c.hidden;
    } else
        tl_line_raw(l, tmp, n, n - c.hidden);
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
    emit(s, &l);
}

/* Called per packet: most packets have no path pending. */
static inline void flush_paths(tl_text_sink *s)
{
    if (s->npath[0]) flush_path(s, 0);
    if (s->npath[1]) flush_path(s, 1);
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
    emit(s, &l);
}

static void on_packet(void *ctx, const tl_pkt_view *v)
{
    tl_text_sink *s = ctx;
    if (!v->frame) return;
    if (!s->have_base) {
        s->base = v->frame->ts;
        s->have_base = true;
    }
    flush_paths(s);
    s->last_n = 0;
    if (v->result != TL_DECODE_OK) {
        if (v->result != TL_DECODE_NOT_TCP) odd_frame(s, v);
        return;
    }
    if (!v->pkt) return;

    if (s->batch == TL_JSON_BATCH) {
        /* straight into the output (a line is at most ~900 bytes: never
         * cut at TL_LINE_CAP as a tl_line would cut it) */
        size_t need = pl_room(v) + 1;
        if (need > sizeof s->out - s->out_len) out_flush(s);
        pl c = {s->out + s->out_len, 0, s->states};
        pl_packet(&c, v, &s->o, s->base);
        *c.o++ = '\n';
        s->out_len = (size_t)(c.o - s->out);
    } else {
        tl_line l;
        tl_line_reset(&l);
        tl_text_packet_line(&l, v, &s->o, s->base);
        tl_line_ch(&l, '\n');
        emit(s, &l);
    }
    s->last_n = v->frame->n;
    s->last_conn = v->conn;
    s->before[0] = v->client_before;
    s->before[1] = v->server_before;
    s->after[0] = v->client_state;
    s->after[1] = v->server_state;

    const tl_packet *p = v->pkt;
    if ((s->o.hex || s->o.ascii) && p->payload && p->payload_caplen) {
        FILE *fp = direct(s);
        if (s->o.hex) hex_dump(fp, p->payload, p->payload_caplen);
        else ascii_dump(fp, p->payload, p->payload_caplen);
        if (p->payload_caplen < p->payload_len)
            fprintf(fp, "\t(%u of %u payload bytes captured)\n", p->payload_caplen, p->payload_len);
    }
}

static void on_state(void *ctx, const tl_state_change *c)
{
    tl_text_sink *s = ctx;
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
    emit(s, &l);
}

static void on_event(void *ctx, const tl_event *e)
{
    tl_text_sink *s = ctx;
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
    emit(s, &l);
    /* the text may be longer than a line buffer */
    const char *text = e->text ? e->text : tl_event_explain(e->kind);
    emit_mem(s, text, strlen(text));
    emit_mem(s, "\n", 1);
}

static void on_conn(void *ctx, const tl_conn_record *r)
{
    tl_text_sink *s = ctx;
    flush_paths(s);
    if (s->o.conns_only) {
        if (s->batch == TL_JSON_BATCH && s->table.header_done) {
            /* straight into the output, as packet lines are (measured: an
             * fwrite per row was ~120 of a row's ~1,000 Ir), handed over
             * past 4 KiB: glibc copies blocks over 8 KiB with rep movsb,
             * which callgrind counts per byte (read --conns h10m: 14 KiB
             * blocks 803.7 M, 4 KiB 797.3 M Ir) */
            if (TL_TEXT_ROW_CAP > sizeof s->out - s->out_len) out_flush(s);
            s->out_len += tl_text_table_row(&s->table, s->out + s->out_len, r);
            if (s->out_len >= 4096) out_flush(s);
            return;
        }
        tl_text_table_print_row(&s->table, direct(s), r);
        /* decided once the FILE has been written to, as in emit_mem */
        if (s->batch == TL_JSON_BATCH_UNDECIDED)
            s->batch = tl__file_batchable(s->fp) ? TL_JSON_BATCH : TL_JSON_PER_LINE;
        return;
    }
    tl_text_table_add(&s->table, direct(s), r);
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
    emit(s, &l);
    FILE *fp = direct(s);
    fprintf(fp, "%s", e->file ? e->file : "-");
    if (e->offset >= 0) fprintf(fp, ", offset %lld", (long long)e->offset);
    if (e->packet) fprintf(fp, ", packet %llu", (unsigned long long)e->packet);
    fprintf(fp, ": %s\n", e->text ? e->text : "");
}

static void on_finish(void *ctx, const tl_stats *st)
{
    tl_text_sink *s = ctx;
    flush_paths(s);
    if (!s->o.conns_only) {
        if (!s->o.quiet) tl_text_table_dump(&s->table, direct(s));
        tl_text_stats(direct(s), st);
    }
    fflush(direct(s));
}

static void on_free(void *ctx)
{
    tl_text_sink *s = ctx;
    out_flush(s);
    tl_text_table_release(&s->table);
    free(s);
}

/* The time of the first frame, for -q's relative times. */
static void on_start(void *ctx, const tl_frame *first)
{
    tl_text_sink *s = ctx;
    s->base = first->ts;
    s->have_base = true;
}

/* One set of ops per view, with only what that view prints: a packet op
 * makes the tracker build a view of every packet. */
static const tl_sink_ops tl_text_ops = {
    .packet = on_packet,
    .state = on_state,
    .event = on_event,
    .conn = on_conn,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
    .no_uid = true,        /* no line shows it */
};

/* -q: events, errors and the statistics; times since the first frame,
 * from the start op (measured: read -q h1m 1,041 -> 956 Ir/packet). */
static const tl_sink_ops tl_text_quiet_ops = {
    .start = on_start,
    .event = on_event,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
    .no_uid = true,        /* no line shows it */
};

/* --conns: the table's rows (no times in them) and errors; no packet op
 * (measured: read --conns h1m 1,018 -> 929 Ir/packet). */
static const tl_sink_ops tl_text_conns_ops = {
    .conn = on_conn,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
    .no_analysis = true,   /* no column shows it */
    .no_uid = true,        /* no line shows it */
};

int tl_sink_text_new(tl_sink *out, FILE *fp, const tl_output_opts *o)
{
    if (!out || !fp) return TL_EINVAL;
    tl_text_sink *s = calloc(1, sizeof *s);
    if (!s) return TL_ENOMEM;
    s->fp = fp;
    s->batch = TL_JSON_BATCH_UNDECIDED;
    state_texts_make(s->states);
    if (o) s->o = *o;
    tl_text_table_init(&s->table);
    out->ops = s->o.conns_only ? &tl_text_conns_ops : s->o.quiet ? &tl_text_quiet_ops : &tl_text_ops;
    out->ctx = s;
    return TL_OK;
}
