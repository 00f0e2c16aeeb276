/* test_sink_text.c -- the text sink: tcpdump flag letters, relative and raw
 * sequence numbers, both endpoints' states "before -> after" as the packet's
 * view gives them, multi-step paths under their packet, events under their
 * packet, payload dumps, quiet/conns modes, the closing table and
 * statistics, no colour codes unless asked; and the shared packet line
 * (tl_text_packet_line) is the sink's line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>
#include <sys/stat.h>

#include "sink/text_line.h"
#include "sink/text_table.h"
#include "tcplens/sink.h"
#include "test_sink_file.h"

typedef struct out {
    FILE *fp;
    char *buf;
    size_t len;
    tl_sink sink;
    tl_frame f;
    tl_packet p;
    tl_pkt_view v;
    bool started;               /* the start op had its first frame */
} out;

static void out_open(out *o, const tl_output_opts *opts)
{
    memset(o, 0, sizeof *o);
    o->fp = open_memstream(&o->buf, &o->len);
    assert_non_null(o->fp);
    assert_int_equal(tl_sink_text_new(&o->sink, o->fp, opts), TL_OK);
}

/* Frees the sink (flushing any pending line) and returns everything written;
 * the caller frees the text. */
static char *out_close(out *o)
{
    tl_sink_free(&o->sink);
    fclose(o->fp);
    return o->buf;
}

static void set_v4(tl_addr *a, uint8_t last)
{
    memset(a, 0, sizeof *a);
    a->family = 4;
    a->bytes[0] = 10;
    a->bytes[3] = last;
}

/* Client 10.0.0.1:40000, server 10.0.0.2:80; ISNs 1000 (client), 5000 (server).
 * Fills o->v (states before: cb, sb; after: cs, ss) without sending it. */
static void make_view(out *o, uint64_t n, uint32_t usec, tl_role from, uint8_t flags, uint32_t rel_seq,
                      uint32_t rel_ack, const char *payload, tl_tcp_state cb, tl_tcp_state sb,
                      tl_tcp_state cs, tl_tcp_state ss)
{
    tl_packet *p = &o->p;
    tl_pkt_view *v = &o->v;
    memset(p, 0, sizeof *p);
    memset(v, 0, sizeof *v);
    o->f.n = n;
    o->f.ts = (tl_time){1700000000, 250000000 + usec * 1000};
    p->ip_version = 4;
    bool c = from == TL_ROLE_CLIENT;
    set_v4(&p->src, c ? 1 : 2);
    set_v4(&p->dst, c ? 2 : 1);
    p->sport = c ? 40000 : 80;
    p->dport = c ? 80 : 40000;
    p->flags = flags;
    p->seq = (c ? 1000 : 5000) + rel_seq;
    p->ack = (c ? 5000 : 1000) + rel_ack;
    p->win = 342;
    p->payload_len = payload ? (uint32_t)strlen(payload) : 0;
    p->payload = (const uint8_t *)payload;
    p->payload_caplen = p->payload_len;
    v->frame = &o->f;
    v->result = TL_DECODE_OK;
    v->pkt = p;
    v->conn = 1;
    v->from = from;
    v->rel_seq = rel_seq;
    v->rel_ack = rel_ack;
    v->rel_ack_valid = (flags & TL_TH_ACK) != 0;
    v->win_scaled = -1;
    v->client_before = cb;
    v->server_before = sb;
    v->client_state = cs;
    v->server_state = ss;
}

/* A frame's view as the tracker hands it over: the start op first with
 * the first frame, and only the ops the sink has (sink.h). */
static void send_view(out *o, const tl_pkt_view *v)
{
    if (!o->started && o->sink.ops->start) o->sink.ops->start(o->sink.ctx, v->frame);
    o->started = true;
    if (o->sink.ops->packet) o->sink.ops->packet(o->sink.ctx, v);
}

static void packet(out *o, uint64_t n, uint32_t usec, tl_role from, uint8_t flags, uint32_t rel_seq,
                   uint32_t rel_ack, const char *payload, tl_tcp_state cb, tl_tcp_state sb, tl_tcp_state cs,
                   tl_tcp_state ss)
{
    make_view(o, n, usec, from, flags, rel_seq, rel_ack, payload, cb, sb, cs, ss);
    send_view(o, &o->v);
}

static void change(out *o, uint64_t n, tl_role ep, tl_tcp_state from, tl_tcp_state to)
{
    tl_state_change c = {o->f.ts, n, 1, ep, from, to};
    if (o->sink.ops->state) o->sink.ops->state(o->sink.ctx, &c);
}

static void event(out *o, uint64_t n, tl_event_kind k, tl_role by)
{
    tl_event e = {k, o->f.ts, n, 1, by, NULL, NAN};
    if (o->sink.ops->event) o->sink.ops->event(o->sink.ctx, &e);
}

static void conn_record(out *o)
{
    tl_conn_record r;
    memset(&r, 0, sizeof r);
    r.conn = 1;
    r.ts = (tl_time){1700000000, 250000000};
    r.duration = 0.5;
    set_v4(&r.orig_h, 1);
    set_v4(&r.resp_h, 2);
    r.orig_p = 40000;
    r.resp_p = 80;
    r.conn_state = "SF";
    strcpy(r.history, "ShADadFf");
    r.orig_pkts = 5;
    r.resp_pkts = 4;
    r.orig_bytes = 5;
    r.opened = TL_OPEN_HANDSHAKE;
    r.closed = TL_CLOSE_3WAY;
    r.closed_by = TL_ROLE_CLIENT;
    r.client_state = TL_ST_TIME_WAIT;
    r.server_state = TL_ST_CLOSED;
    r.handshake_rtt = 0.000018;
    if (o->sink.ops->conn) o->sink.ops->conn(o->sink.ctx, &r);
}

static void finish(out *o)
{
    tl_stats st;
    memset(&st, 0, sizeof st);
    st.packets = 9;
    st.tcp = 8;
    st.other = 1;
    st.malformed = 1;
    st.by_reason[TL_REASON_TCP_DATA_OFFSET] = 1;
    st.conns = 1;
    if (o->sink.ops->finish) o->sink.ops->finish(o->sink.ctx, &st);
}

/* Connection rows for the table's edge cases: IPv6 endpoints that push the
 * later columns, unknown values ('-'), out-of-range kinds, the largest
 * counters, times that take printf's path, every close kind and role, and
 * last a row longer than a line holds (cut at TL_LINE_CAP, no newline). */
#define EDGE_ROWS 17

static void edge_record(int i, tl_conn_record *r, char *long_state)
{
    memset(r, 0, sizeof *r);
    r->conn = (uint32_t)i + 1;
    r->duration = 0.5;
    set_v4(&r->orig_h, 1);
    set_v4(&r->resp_h, 2);
    r->orig_p = 40000;
    r->resp_p = 80;
    r->conn_state = "SF";
    strcpy(r->history, "ShADadFf");
    r->orig_pkts = 5;
    r->resp_pkts = 4;
    r->orig_bytes = 5;
    r->opened = TL_OPEN_HANDSHAKE;
    r->closed = TL_CLOSE_3WAY;
    r->closed_by = TL_ROLE_CLIENT;
    r->client_state = TL_ST_TIME_WAIT;
    r->server_state = TL_ST_CLOSED;
    r->handshake_rtt = 0.000018;
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                   0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78};
    switch (i) {
    case 0: break;
    case 1: /* the longest endpoints, counters and names */
        r->conn = UINT32_MAX;
        r->orig_h.family = 6;
        memcpy(r->orig_h.bytes, v6, 16);
        r->resp_h.family = 6;
        memset(r->resp_h.bytes, 0, 16);
        memset(r->resp_h.bytes + 10, 0xff, 6);
        r->resp_h.bytes[12] = 192;
        r->resp_h.bytes[13] = 168;
        r->resp_h.bytes[14] = 100;
        r->resp_h.bytes[15] = 200;
        r->orig_p = r->resp_p = 65535;
        r->duration = 123456.789012345;
        r->handshake_rtt = 0.0078125;   /* an exact tie: to even */
        r->opened = TL_OPEN_SIMULTANEOUS_OPEN;
        r->closed = TL_CLOSE_SIMULTANEOUS;
        r->closed_by = TL_ROLE_SERVER;
        r->conn_state = "RSTOS0";
        memset(r->history, 'd', TL_HISTORY_MAX - 1);
        r->history[TL_HISTORY_MAX - 1] = 0;
        r->orig_pkts = r->resp_pkts = r->orig_bytes = r->resp_bytes = UINT64_MAX;
        r->client_state = r->server_state = TL_ST_SYN_RECEIVED;
        r->evicted = true;
        break;
    case 2: /* nothing known */
        r->duration = NAN;
        r->handshake_rtt = -1;
        r->opened = TL_OPEN_NONE;
        r->closed = TL_CLOSE_OPEN;
        r->closed_by = TL_ROLE_NONE;
        r->conn_state = NULL;
        r->history[0] = 0;
        r->client_state = r->server_state = TL_ST_UNKNOWN;
        r->evicted = true;
        break;
    case 3: /* out of range, printf's own forms */
        r->duration = -0.0;
        r->handshake_rtt = INFINITY;
        r->opened = (tl_open_kind)99;
        r->closed = (tl_close_kind)99;
        r->closed_by = (tl_role)7;
        r->client_state = (tl_tcp_state)99;
        r->server_state = TL_ST_COUNT;
        r->orig_h.family = 0;
        r->orig_p = 0;
        r->orig_pkts = r->resp_pkts = r->orig_bytes = 0;
        r->resp_bytes = (uint64_t)UINT32_MAX + 1;
        break;
    case 4: /* times at the fast path's edges, a long Zeek state */
        r->duration = 1e9;
        r->handshake_rtt = 5e-324;
        r->conn_state = "A_CONN_STATE_LONGER_THAN_ITS_COLUMN_XXXX";
        r->opened = TL_OPEN_MIDSTREAM;
        r->closed = TL_CLOSE_RST_ABORT;
        break;
    case 5:
        r->duration = 999999999.9999996;
        r->handshake_rtt = 0.0000005;
        r->orig_pkts = 4294967295u;
        r->resp_pkts = 100000000;
        break;
    case 16: /* past TL_LINE_CAP: cut */
        r->duration = 1e20;
        r->handshake_rtt = 1e300;
        memset(long_state, 'Z', 600);
        long_state[600] = 0;
        r->conn_state = long_state;
        break;
    default: /* 6..15: every close kind and role, open kinds, states */
        r->closed = (tl_close_kind)(i - 6);
        r->closed_by = (tl_role)(i % 3);
        r->opened = (tl_open_kind)(i % 4);
        r->client_state = (tl_tcp_state)(i % 12);
        r->server_state = (tl_tcp_state)((i * 5) % 12);
        r->duration = (i - 5) * 1.37e-3 * pow(10, i - 6);
        r->handshake_rtt = (i - 5) * 0.0000015;
        r->orig_p = (uint16_t)(i * 997);
        r->resp_pkts = (uint64_t)i * 123456789;
        break;
    }
}

/* made by the tl_line version of the row (before the direct writer) */
static const char edge_table_text[] =
    "conn  client                  server                  duration    opened            closed    "
    "                zeek  history       pkts c/s      bytes c/s         final client/server       "
    "rtt\n"
    "#1    10.0.0.1.40000          10.0.0.2.80             0.500000    handshake         close_3way"
    " by client      SF    ShADadFf      5/4           5/0               TIME-WAIT/CLOSED          "
    "0.000018\n"
    "#4294967295 2001:db8:1234:5678:9abc:def0:1234:5678.65535 ::ffff:192.168.100.200.65535 123456.7"
    "89012 simultaneous_open simultaneous_close by server RSTOS0 dddddddddddddddddddddddddddddddddd"
    "ddddddddddddddddddddddddddddd 18446744073709551615/18446744073709551615 18446744073709551615/1"
    "8446744073709551615 SYN-RECEIVED/SYN-RECEIVED 0.007812  (evicted)\n"
    "#3    10.0.0.1.40000          10.0.0.2.80             -           -                 open      "
    "                -     -             5/4           5/0               UNKNOWN/UNKNOWN           "
    "-  (evicted)\n"
    "#4    ?.0                     10.0.0.2.80             -0.000000                     open      "
    "                SF    ShADadFf      0/0           0/4294967296      UNKNOWN/UNKNOWN           "
    "inf\n"
    "#5    10.0.0.1.40000          10.0.0.2.80             1000000000.000000 midstream   rst_abort "
    "by client       A_CONN_STATE_LONGER_THAN_ITS_COLUMN_XXXX ShADadFf 5/4 5/0 TIME-WAIT/CLOSED    "
    "0.000000\n"
    "#6    10.0.0.1.40000          10.0.0.2.80             1000000000.000000 handshake   close_3way"
    " by client      SF    ShADadFf      4294967295/100000000 5/0        TIME-WAIT/CLOSED          "
    "0.000000\n"
    "#7    10.0.0.1.5982           10.0.0.2.80             0.001370    simultaneous_open open      "
    "                SF    ShADadFf      5/740740734   5/0               FIN-WAIT-1/FIN-WAIT-1     "
    "0.000002\n"
    "#8    10.0.0.1.6979           10.0.0.2.80             0.027400    midstream         close_4way"
    " by client      SF    ShADadFf      5/864197523   5/0               FIN-WAIT-2/TIME-WAIT      "
    "0.000003\n"
    "#9    10.0.0.1.7976           10.0.0.2.80             0.411000    -                 close_3way"
    " by server      SF    ShADadFf      5/987654312   5/0               CLOSE-WAIT/SYN-RECEIVED   "
    "0.000005\n"
    "#10   10.0.0.1.8973           10.0.0.2.80             5.480000    handshake         simultaneo"
    "us_close        SF    ShADadFf      5/1111111101  5/0               CLOSING/CLOSING           "
    "0.000006\n"
    "#11   10.0.0.1.9970           10.0.0.2.80             68.500000   simultaneous_open rst_abort "
    "by client       SF    ShADadFf      5/1234567890  5/0               LAST-ACK/LISTEN           "
    "0.000008\n"
    "#12   10.0.0.1.10967          10.0.0.2.80             822.000000  midstream         refused by"
    " server         SF    ShADadFf      5/1358024679  5/0               TIME-WAIT/FIN-WAIT-2      "
    "0.000009\n"
    "#13   10.0.0.1.11964          10.0.0.2.80             9590.000000 -                 syn_unansw"
    "ered            SF    ShADadFf      5/1481481468  5/0               UNKNOWN/UNKNOWN           "
    "0.000011\n"
    "#14   10.0.0.1.12961          10.0.0.2.80             109600.000000 handshake       half_close"
    "d by client     SF    ShADadFf      5/1604938257  5/0               CLOSED/ESTABLISHED        "
    "0.000012\n"
    "#15   10.0.0.1.13958          10.0.0.2.80             1233000.000000 simultaneous_open open by"
    " server         SF    ShADadFf      5/1728395046  5/0               LISTEN/LAST-ACK           "
    "0.000013\n"
    "#16   10.0.0.1.14955          10.0.0.2.80             13700000.000000 midstream     open      "
    "                SF    ShADadFf      5/1851851835  5/0               SYN-SENT/SYN-SENT         "
    "0.000015\n"
    "#17   10.0.0.1.40000          10.0.0.2.80             100000000000000000000.000000 handshake c"
    "lose_3way by client ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ ShADadFf 5/4 5/0 TIME-WAIT/CLOSED 100"
    "0000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447"
    "8640437044438328838781769425232353604305756447921847867069828483872009265758037378302337947880"
    "900593689532349707999450811190389676408800746527427801424945792587888200568428381156";

/* A connection table writing into *buf (a memory stream). */
static FILE *table_stream(char **buf, size_t *len, tl_text_table *t)
{
    *buf = NULL;
    *len = 0;
    FILE *fp = open_memstream(buf, len);
    assert_non_null(fp);
    tl_text_table_init(t);
    return fp;
}

/* Every edge row printed at once (print) or kept and dumped (!print). */
static char *edge_table(bool print)
{
    char *buf;
    size_t len;
    tl_text_table t;
    FILE *fp = table_stream(&buf, &len, &t);
    char long_state[601];
    for (int i = 0; i < EDGE_ROWS; i++) {
        tl_conn_record r;
        edge_record(i, &r, long_state);
        if (print) tl_text_table_print_row(&t, fp, &r);
        else tl_text_table_add(&t, fp, &r);
    }
    if (!print) tl_text_table_dump(&t, fp);
    tl_text_table_release(&t);
    fclose(fp);
    return buf;
}

/* A whole connection: handshake, 5 bytes of data, a 3-way close, an RST. */
static void conversation(out *o)
{
    packet(o, 1, 0, TL_ROLE_CLIENT, TL_TH_SYN, 0, 0, NULL, TL_ST_UNKNOWN, TL_ST_UNKNOWN, TL_ST_SYN_SENT,
           TL_ST_LISTEN);
    change(o, 1, TL_ROLE_CLIENT, TL_ST_UNKNOWN, TL_ST_SYN_SENT);
    change(o, 1, TL_ROLE_SERVER, TL_ST_UNKNOWN, TL_ST_LISTEN);
    packet(o, 2, 10, TL_ROLE_SERVER, TL_TH_SYN | TL_TH_ACK, 0, 1, NULL, TL_ST_SYN_SENT, TL_ST_LISTEN,
           TL_ST_SYN_SENT, TL_ST_SYN_RECEIVED);
    change(o, 2, TL_ROLE_SERVER, TL_ST_LISTEN, TL_ST_SYN_RECEIVED);
    packet(o, 3, 18, TL_ROLE_CLIENT, TL_TH_ACK, 1, 1, NULL, TL_ST_SYN_SENT, TL_ST_SYN_RECEIVED,
           TL_ST_ESTABLISHED, TL_ST_ESTABLISHED);
    event(o, 3, TL_EV_HANDSHAKE, TL_ROLE_CLIENT);
    packet(o, 4, 100, TL_ROLE_CLIENT, TL_TH_PSH | TL_TH_ACK, 1, 1, "hello", TL_ST_ESTABLISHED,
           TL_ST_ESTABLISHED, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED);
    packet(o, 5, 200, TL_ROLE_CLIENT, TL_TH_FIN | TL_TH_ACK, 6, 1, NULL, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED,
           TL_ST_FIN_WAIT_1, TL_ST_CLOSE_WAIT);
    packet(o, 6, 300, TL_ROLE_SERVER, TL_TH_FIN | TL_TH_ACK, 1, 7, NULL, TL_ST_FIN_WAIT_1, TL_ST_CLOSE_WAIT,
           TL_ST_TIME_WAIT, TL_ST_LAST_ACK);
    change(o, 6, TL_ROLE_CLIENT, TL_ST_FIN_WAIT_1, TL_ST_FIN_WAIT_2);
    change(o, 6, TL_ROLE_CLIENT, TL_ST_FIN_WAIT_2, TL_ST_TIME_WAIT);
    change(o, 6, TL_ROLE_SERVER, TL_ST_CLOSE_WAIT, TL_ST_LAST_ACK);
    event(o, 6, TL_EV_CLOSE_3WAY, TL_ROLE_CLIENT);
    packet(o, 7, 400, TL_ROLE_SERVER, TL_TH_RST | TL_TH_ACK, 2, 7, NULL, TL_ST_TIME_WAIT, TL_ST_LAST_ACK,
           TL_ST_CLOSED, TL_ST_CLOSED);
    packet(o, 8, 500, TL_ROLE_SERVER, TL_TH_RST, 2, 0, NULL, TL_ST_CLOSED, TL_ST_CLOSED, TL_ST_CLOSED,
           TL_ST_CLOSED);
    conn_record(o);
    finish(o);
}

/* The output line that contains `needle`, copied into line (or fails). */
static void line_with(const char *text, const char *needle, char *line, size_t cap)
{
    const char *hit = strstr(text, needle);
    assert_non_null(hit);
    const char *b = hit;
    while (b > text && b[-1] != '\n') b--;
    const char *e = strchr(hit, '\n');
    size_t n = e ? (size_t)(e - b) : strlen(b);
    assert_true(n < cap);
    memcpy(line, b, n);
    line[n] = 0;
}

/* The text sink's output for the whole conversation; the caller frees it. */
static char *conversation_text(tl_output_opts opts)
{
    out o;
    out_open(&o, &opts);
    conversation(&o);
    return out_close(&o);
}

/* The line that contains needle also contains a and (unless NULL) b. */
static void line_has(const char *text, const char *needle, const char *a, const char *b)
{
    char l[1024];
    line_with(text, needle, l, sizeof l);
    assert_non_null(strstr(l, a));
    if (b) assert_non_null(strstr(l, b));
}

static void text_packet_lines_use_tcpdump_flag_letters(void **st)
{
    (void)st;
    char *t = conversation_text((tl_output_opts){.ts_digits = 6});
    char l[1024];
    line_has(t, "[S] ", "seq 0, win 342, len 0", NULL);
    line_has(t, "[S.]", "seq 0, ack 1,", NULL);
    line_has(t, "[P.]", "seq 1:6, ack 1, win 342, len 5", NULL);
    line_with(t, "[F.]", l, sizeof l);
    line_with(t, "[R.]", l, sizeof l);
    line_with(t, "[R] ", l, sizeof l);
    assert_null(strstr(l, "ack"));     /* no ACK flag: no ack number */
    /* a pure ACK shows no seq, as tcpdump */
    line_with(t, "[.] ", l, sizeof l);
    assert_null(strstr(l, "seq"));
    assert_non_null(strstr(l, "ack 1, win 342, len 0"));
    free(t);
}

static void text_client_is_left_and_arrow_gives_direction(void **st)
{
    (void)st;
    char *t = conversation_text((tl_output_opts){.ts_digits = 6});
    line_has(t, "[S] ", "  0.000000 #1  C 10.0.0.1.40000", "> S 10.0.0.2.80");
    line_has(t, "[S.]", "  0.000010 #1  C 10.0.0.1.40000", "< S 10.0.0.2.80");
    free(t);
}

static void text_shows_both_states_and_the_transitions_of_the_segment(void **st)
{
    (void)st;
    char *t = conversation_text((tl_output_opts){.ts_digits = 6});
    char l[1024];
    line_has(t, "[S] ", "client UNKNOWN -> SYN-SENT", "server UNKNOWN -> LISTEN");
    line_has(t, "[S.]", "client SYN-SENT ", "server LISTEN -> SYN-RECEIVED");
    /* changes the line showed are not repeated */
    assert_null(strstr(t, "\n     server LISTEN -> SYN-RECEIVED"));
    line_has(t, "[P.]", "client ESTABLISHED", "server ESTABLISHED");
    line_with(t, "seq 1, ack 7", l, sizeof l);
    assert_non_null(strstr(l, "client FIN-WAIT-1 -> TIME-WAIT"));
    assert_non_null(strstr(l, "server CLOSE-WAIT -> LAST-ACK"));
    /* one FIN+ACK moved the client twice: the whole path is spelt out below
     * the line, in RFC order; the server's single step is not repeated */
    const char *below = strstr(t, l) + strlen(l);
    const char *steps = "\n     client FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT\n  -> close_3way";
    assert_true(strncmp(below, steps, strlen(steps)) == 0);
    free(t);
}

static void text_events_are_indented_under_their_packet(void **st)
{
    (void)st;
    char *t = conversation_text((tl_output_opts){.ts_digits = 6});
    const char *pkt = strstr(t, "seq 1, ack 7");
    assert_non_null(pkt);
    const char *next = strchr(pkt, '\n');
    assert_non_null(next);
    char want[512];
    snprintf(want, sizeof want, "\n  -> close_3way (client): %s\n", tl_event_explain(TL_EV_CLOSE_3WAY));
    /* under the packet: after its state steps, before the next packet */
    const char *ev = strstr(next, want);
    assert_non_null(ev);
    assert_true(ev < strstr(next, "[R.]"));
    free(t);
}

static void text_raw_sequence_numbers_with_S(void **st)
{
    (void)st;
    char *t = conversation_text((tl_output_opts){.ts_digits = 9, .abs_seq = true, .abs_time = true});
    char l[1024];
    line_with(t, "[P.]", l, sizeof l);
    assert_non_null(strstr(l, "seq 1001:1006, ack 5001, win 342, len 5"));
    assert_true(strncmp(l, "1700000000.250100000 #1 ", 24) == 0);
    free(t);
}

static void text_without_color_has_no_escape_bytes(void **st)
{
    (void)st;
    tl_output_opts opts = {.ts_digits = 6};
    out o;
    out_open(&o, &opts);
    conversation(&o);
    tl_error_record e = {"a.pcap", 24, 1, "bad"};
    o.sink.ops->error(o.sink.ctx, &e);
    char *t = out_close(&o);
    assert_null(strchr(t, '\033'));
    free(t);

    t = conversation_text((tl_output_opts){.ts_digits = 6, .color = true});
    assert_non_null(strchr(t, '\033'));
    assert_non_null(strstr(t, "\033[1;31m[R.]\033[0m"));
    free(t);
}

static void text_hex_dump_is_like_tcpdump_X(void **st)
{
    (void)st;
    tl_output_opts opts = {.ts_digits = 6, .hex = true};
    out o;
    out_open(&o, &opts);
    packet(&o, 1, 0, TL_ROLE_CLIENT, TL_TH_PSH | TL_TH_ACK, 1, 1, "hello world\n0123456789",
           TL_ST_ESTABLISHED, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED);
    event(&o, 1, TL_EV_DATA, TL_ROLE_CLIENT);
    char *t = out_close(&o);
    assert_non_null(strstr(t, "len 22"));
    assert_non_null(strstr(t, "\n\t0x0000:  6865 6c6c 6f20 776f 726c 640a 3031 3233  hello world.0123\n"
                              "\t0x0010:  3435 3637 3839                           456789\n"
                              "  -> data (client): "));
    free(t);
}

static void text_ascii_dump_keeps_lines(void **st)
{
    (void)st;
    tl_output_opts opts = {.ts_digits = 6, .ascii = true};
    out o;
    out_open(&o, &opts);
    packet(&o, 1, 0, TL_ROLE_CLIENT, TL_TH_PSH | TL_TH_ACK, 1, 1, "GET / HTTP/1.1\r\nHost: x\x01\r\n",
           TL_ST_ESTABLISHED, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED);
    char *t = out_close(&o);
    assert_non_null(strstr(t, "\nGET / HTTP/1.1\nHost: x.\n"));
    free(t);
}

static void text_quiet_prints_only_events(void **st)
{
    (void)st;
    char *t = conversation_text((tl_output_opts){.ts_digits = 6, .quiet = true});
    assert_null(strstr(t, "[S]"));
    assert_null(strstr(t, "ShADadFf"));      /* no connection table */
    char l[1024];
    line_with(t, "handshake (client)", l, sizeof l);
    assert_true(strncmp(l, "  0.000018 #1  handshake (client): ", 35) == 0);
    assert_non_null(strstr(t, "9 packets, 8 TCP, 1 other"));
    free(t);
}

/* The connection table needs no packet (its rows have no times): without
 * a packet op the tracker builds no per-packet view. */
static void text_conns_only_asks_for_no_packets(void **st)
{
    (void)st;
    out o;
    tl_output_opts opts = {.ts_digits = 6, .conns_only = true};
    out_open(&o, &opts);
    assert_null(o.sink.ops->packet);
    assert_null(o.sink.ops->state);
    assert_null(o.sink.ops->event);
    assert_non_null(o.sink.ops->conn);
    free(out_close(&o));
    opts.conns_only = false;
    out_open(&o, &opts);
    assert_non_null(o.sink.ops->packet);
    free(out_close(&o));
}

/* -q stamps events from the first frame, which the start op gives even
 * when it is no TCP segment (no packet op: no views built). */
static void text_quiet_times_start_at_the_first_frame(void **st)
{
    (void)st;
    out o;
    tl_output_opts opts = {.ts_digits = 6, .quiet = true};
    out_open(&o, &opts);
    assert_null(o.sink.ops->packet);
    tl_frame f = {.n = 1, .ts = {1700000000, 0}};
    tl_pkt_view v = {.frame = &f, .result = TL_DECODE_NOT_TCP};
    send_view(&o, &v);
    packet(&o, 2, 0, TL_ROLE_CLIENT, TL_TH_SYN, 0, 0, NULL, TL_ST_UNKNOWN, TL_ST_UNKNOWN, TL_ST_SYN_SENT,
           TL_ST_LISTEN);
    event(&o, 2, TL_EV_HANDSHAKE, TL_ROLE_CLIENT);
    char *t = out_close(&o);
    assert_true(strncmp(t, "  0.250000 #1  handshake (client): ", 35) == 0);
    free(t);
}

static void text_conns_only_prints_the_table(void **st)
{
    (void)st;
    char *t = conversation_text((tl_output_opts){.ts_digits = 6, .conns_only = true});
    assert_true(strncmp(t, "conn  client", 12) == 0);
    assert_null(strstr(t, "[S]"));
    assert_null(strstr(t, "->"));
    assert_null(strstr(t, "packets,"));
    char l[1024];
    line_with(t, "#1 ", l, sizeof l);
    assert_non_null(strstr(l, "10.0.0.1.40000"));
    assert_non_null(strstr(l, "close_3way by client"));
    assert_non_null(strstr(l, "ShADadFf"));
    assert_non_null(strstr(l, "TIME-WAIT/CLOSED"));
    assert_non_null(strstr(l, "0.000018"));
    free(t);
}

static void text_finish_prints_table_after_packets_and_stats(void **st)
{
    (void)st;
    char *t = conversation_text((tl_output_opts){.ts_digits = 6});
    const char *last_pkt = strstr(t, "[R] ");
    const char *table = strstr(t, "\nconn  client");
    const char *stats = strstr(t, "9 packets, 8 TCP, 1 other, 1 malformed (tcp_data_offset 1)\n1 connection\n");
    assert_non_null(last_pkt);
    assert_non_null(table);
    assert_non_null(stats);
    assert_true(last_pkt < table && table < stats);
    free(t);
}

static void text_malformed_frame_shows_its_reason(void **st)
{
    (void)st;
    tl_output_opts opts = {.ts_digits = 6};
    out o;
    out_open(&o, &opts);
    tl_frame f = {.n = 3, .ts = {5, 0}};
    tl_packet p;
    memset(&p, 0, sizeof p);
    p.ip_version = 4;
    set_v4(&p.src, 1);
    set_v4(&p.dst, 2);
    tl_pkt_view v = {.frame = &f, .result = TL_DECODE_MALFORMED, .reason = TL_REASON_IPV4_IHL, .pkt = &p};
    send_view(&o, &v);
    v.result = TL_DECODE_NOT_TCP;    /* not TCP: nothing */
    send_view(&o, &v);
    char *t = out_close(&o);
    assert_string_equal(t, "  0.000000 -   malformed: ipv4_ihl  10.0.0.1 > 10.0.0.2  (packet 3)\n");
    free(t);
}

/* The "before" states are the view's, not what earlier packets left: a
 * connection first seen mid-close, and a packet whose before differs from
 * the previous packet's after (a sink that remembered states would show
 * FIN-WAIT-1 and CLOSE-WAIT there). */
static void text_states_before_come_from_the_view(void **st)
{
    (void)st;
    tl_output_opts opts = {.ts_digits = 6};
    out o;
    out_open(&o, &opts);
    packet(&o, 1, 0, TL_ROLE_CLIENT, TL_TH_FIN | TL_TH_ACK, 6, 1, NULL, TL_ST_ESTABLISHED, TL_ST_ESTABLISHED,
           TL_ST_FIN_WAIT_1, TL_ST_CLOSE_WAIT);
    packet(&o, 2, 10, TL_ROLE_SERVER, TL_TH_FIN | TL_TH_ACK, 1, 7, NULL, TL_ST_CLOSING, TL_ST_FIN_WAIT_1,
           TL_ST_TIME_WAIT, TL_ST_CLOSING);
    packet(&o, 3, 20, TL_ROLE_CLIENT, TL_TH_ACK, 7, 2, NULL, TL_ST_TIME_WAIT, TL_ST_CLOSING, TL_ST_TIME_WAIT,
           TL_ST_CLOSING);
    char *t = out_close(&o);
    char l[1024];
    line_has(t, "seq 6, ack 1", "client ESTABLISHED -> FIN-WAIT-1", "server ESTABLISHED -> CLOSE-WAIT");
    line_has(t, "seq 1, ack 7", "client CLOSING -> TIME-WAIT", "server FIN-WAIT-1 -> CLOSING");
    /* no change: the state alone */
    line_with(t, "ack 2, win", l, sizeof l);
    assert_non_null(strstr(l, "client TIME-WAIT  "));
    assert_non_null(strstr(l, "server CLOSING"));
    assert_null(strstr(l, "->"));
    free(t);
}

/* Change records of one packet that interleave the endpoints still give
 * each endpoint's path on one line; a single step the line showed gives
 * none, and a change of another packet (a timeout) has its own stamp. */
static void text_path_lines_follow_each_endpoint(void **st)
{
    (void)st;
    tl_output_opts opts = {.ts_digits = 6};
    out o;
    out_open(&o, &opts);
    packet(&o, 1, 0, TL_ROLE_SERVER, TL_TH_FIN | TL_TH_ACK, 1, 7, NULL, TL_ST_FIN_WAIT_1, TL_ST_CLOSE_WAIT,
           TL_ST_TIME_WAIT, TL_ST_LAST_ACK);
    change(&o, 1, TL_ROLE_CLIENT, TL_ST_FIN_WAIT_1, TL_ST_FIN_WAIT_2);
    change(&o, 1, TL_ROLE_SERVER, TL_ST_CLOSE_WAIT, TL_ST_LAST_ACK);
    change(&o, 1, TL_ROLE_CLIENT, TL_ST_FIN_WAIT_2, TL_ST_TIME_WAIT);
    change(&o, 0, TL_ROLE_CLIENT, TL_ST_TIME_WAIT, TL_ST_CLOSED);
    char *t = out_close(&o);
    const char *below = strchr(t, '\n');
    assert_non_null(below);
    assert_string_equal(below, "\n     client FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT\n"
                               "  0.000000 #1    client TIME-WAIT -> CLOSED\n");
    free(t);
}

/* The lab prints packets with tl_text_packet_line: it must be the sink's
 * line to the byte (colour too), with time since the base it is given. */
static void text_packet_line_is_the_sinks_line(void **st)
{
    (void)st;
    tl_output_opts opts = {.ts_digits = 6, .color = true};
    out o;
    out_open(&o, &opts);
    packet(&o, 1, 0, TL_ROLE_CLIENT, TL_TH_SYN, 0, 0, NULL, TL_ST_UNKNOWN, TL_ST_UNKNOWN, TL_ST_SYN_SENT,
           TL_ST_LISTEN);
    make_view(&o, 2, 10, TL_ROLE_SERVER, TL_TH_SYN | TL_TH_ACK, 0, 1, NULL, TL_ST_SYN_SENT, TL_ST_LISTEN,
              TL_ST_ESTABLISHED, TL_ST_SYN_RECEIVED);
    o.p.opt.present = TL_OPT_MSS;
    o.p.opt.mss = 1460;
    o.v.n_analysis = 1;
    o.v.analysis[0] = TL_EV_RETRANSMISSION;
    send_view(&o, &o.v);
    tl_line l;
    tl_line_reset(&l);
    tl_text_packet_line(&l, &o.v, &opts, (tl_time){1700000000, 250000000});
    char *t = out_close(&o);
    const char *second = strchr(t, '\n') + 1;
    assert_int_equal(strlen(second), l.len + 1);
    assert_memory_equal(second, l.s, l.len);
    assert_true(strncmp(l.s, "  0.000010 #1  C 10.0.0.1.40000", 31) == 0);
    assert_non_null(strstr(second, "opts [mss 1460]"));
    /* another base shifts the time column only */
    tl_line l2;
    tl_line_reset(&l2);
    tl_text_packet_line(&l2, &o.v, &opts, (tl_time){1700000000, 249000000});
    assert_true(strncmp(l2.s, "  0.001010 #1 ", 14) == 0);
    assert_int_equal(l2.len, l.len);
    assert_memory_equal(l2.s + 10, l.s + 10, l.len - 10);
    free(t);
}

/* A fully buffered FILE on a descriptor gets the lines in blocks and a
 * line-buffered one each line as it is made (a live terminal), both with
 * the very bytes written to memory; and -x output, written to the FILE
 * directly, stays in order. */
static void text_file_output_has_the_same_bytes_batched_or_not(void **st)
{
    (void)st;
    tl_output_opts opts = {.ts_digits = 6, .hex = true};
    char *want = conversation_text(opts);
    for (int line_buffered = 0; line_buffered < 2; line_buffered++) {
        out o;
        memset(&o, 0, sizeof o);
        o.fp = tmpfile();
        assert_non_null(o.fp);
        if (line_buffered) assert_int_equal(setvbuf(o.fp, NULL, _IOLBF, 0), 0);
        assert_int_equal(tl_sink_text_new(&o.sink, o.fp, &opts), TL_OK);
        packet(&o, 1, 0, TL_ROLE_CLIENT, TL_TH_SYN, 0, 0, NULL, TL_ST_UNKNOWN, TL_ST_UNKNOWN,
               TL_ST_SYN_SENT, TL_ST_LISTEN);
        if (line_buffered) {
            /* the line is in the file before the next record comes */
            struct stat sb;
            assert_int_equal(fstat(fileno(o.fp), &sb), 0);
            const char *nl = strchr(want, '\n');
            assert_int_equal((size_t)sb.st_size, (size_t)(nl - want) + 1);
        }
        tl_sink_free(&o.sink);
        char *got = file_text(o.fp);
        fclose(o.fp);
        /* the first packet's line, then the rest of the conversation */
        assert_memory_equal(got, want, strlen(got));
        free(got);

        o.fp = tmpfile();
        assert_non_null(o.fp);
        if (line_buffered) assert_int_equal(setvbuf(o.fp, NULL, _IOLBF, 0), 0);
        assert_int_equal(tl_sink_text_new(&o.sink, o.fp, &opts), TL_OK);
        conversation(&o);
        tl_sink_free(&o.sink);
        got = file_text(o.fp);
        fclose(o.fp);
        assert_string_equal(got, want);
        free(got);
    }
    free(want);
}

/* Rows to the byte, as the table has always printed them (the expected
 * text was made by the tl_line version of the row): long endpoints push
 * the later columns, unknown values are '-', and a kept row is the row
 * printed at once. */
static void text_table_rows_keep_their_bytes(void **st)
{
    (void)st;
    char *got = edge_table(true);
    assert_string_equal(got, edge_table_text);
    char *kept = edge_table(false);
    assert_int_equal(kept[0], '\n');
    assert_string_equal(kept + 1, got);
    free(kept);
    free(got);
}

/* Duration and rtt are printf's "%.6f" to the digit, ties included
 * (odd multiples of 2^-7 are exact halves of a millionth), from 0 up
 * past the range the table formats without printf. */
static void text_table_times_are_printf_digits(void **st)
{
    (void)st;
    uint64_t x = 88172645463325252u;   /* xorshift64 */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        switch (i % 4) {
        case 0: v = (double)(x >> 11) * 0x1p-53 * pow(10, (int)(x % 12) - 3); break;  /* 0 .. 1e9 */
        case 1: v = (double)(2 * (x % 1000000) + 1) * 0x1p-7; break;              /* ties */
        case 2: {
            uint64_t bits = x % UINT64_C(0x41E0000000000000);   /* any double below 2^31 */
            memcpy(&v, &bits, sizeof v);
            break;
        }
        default: v = floor((double)(x % 2000000000)) + (double)(x % 1000001) * 1e-6; break;
        }
        tl_conn_record r;
        edge_record(0, &r, NULL);
        r.duration = r.handshake_rtt = v;
        char *buf;
        size_t len;
        tl_text_table t;
        FILE *fp = table_stream(&buf, &len, &t);
        t.header_done = true;
        tl_text_table_print_row(&t, fp, &r);
        fclose(fp);
        char want[400];
        snprintf(want, sizeof want, " %.6f ", v);
        if (strstr(buf, want) != buf + 53) fail_msg("%a: %s", v, buf);
        snprintf(want, sizeof want, " %.6f\n", v);
        assert_non_null(strstr(buf, want));
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_packet_lines_use_tcpdump_flag_letters),
        cmocka_unit_test(text_client_is_left_and_arrow_gives_direction),
        cmocka_unit_test(text_shows_both_states_and_the_transitions_of_the_segment),
        cmocka_unit_test(text_events_are_indented_under_their_packet),
        cmocka_unit_test(text_raw_sequence_numbers_with_S),
        cmocka_unit_test(text_without_color_has_no_escape_bytes),
        cmocka_unit_test(text_hex_dump_is_like_tcpdump_X),
        cmocka_unit_test(text_ascii_dump_keeps_lines),
        cmocka_unit_test(text_quiet_prints_only_events),
        cmocka_unit_test(text_conns_only_prints_the_table),
        cmocka_unit_test(text_quiet_times_start_at_the_first_frame),
        cmocka_unit_test(text_conns_only_asks_for_no_packets),
        cmocka_unit_test(text_finish_prints_table_after_packets_and_stats),
        cmocka_unit_test(text_malformed_frame_shows_its_reason),
        cmocka_unit_test(text_states_before_come_from_the_view),
        cmocka_unit_test(text_path_lines_follow_each_endpoint),
        cmocka_unit_test(text_packet_line_is_the_sinks_line),
        cmocka_unit_test(text_file_output_has_the_same_bytes_batched_or_not),
        cmocka_unit_test(text_table_rows_keep_their_bytes),
        cmocka_unit_test(text_table_times_are_printf_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
