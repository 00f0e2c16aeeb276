/* sink_json.c -- JSON Lines output (SPEC.md 3.2): one object per line with
 * "type" packet, malformed, state, event, conn, error or stats. Field names
 * are stable interface; fields are only ever added.
 *
 * Conventions: "none" values (connection 0, packet number 0, no role) are
 * written as null; optional values that the segment simply lacks (rel_ack
 * without a known peer ISN, win_scaled without a known scale, absent TCP
 * options, unknown handshake RTT) are left out.
 */
#include <math.h>
#include <stdlib.h>

#include "decode/addr_fmt.h"
#include "sink/json_writer.h"
#include "tcplens/sink.h"

/* Longest program-defined name written (longer ones are cut, as before). */
#define PKT_NAME_MAX 48

/* A name with its quotes and length, copied with one fixed-size memcpy
 * instead of strlen and a variable one (measured: 160 Ir/packet). */
typedef struct qname {
    uint8_t n;
    char s[PKT_NAME_MAX + 2];
} qname;

typedef struct tl_json_sink {
    tl_json w;
    int digits;
    tl_sec_text sec;                  /* the last record's second */
    qname state[TL_ST_COUNT + 1];     /* the last: what an unknown value prints */
    qname event[TL_EV_COUNT + 1];
    qname role[2];                    /* client, server */
} tl_json_sink;

static void qname_set(qname *q, const char *name)
{
    size_t n = strnlen(name, PKT_NAME_MAX);
    memset(q->s, 0, sizeof q->s);
    q->s[0] = '"';
    memcpy(q->s + 1, name, n);
    q->s[n + 1] = '"';
    q->n = (uint8_t)(n + 2);
}

static void names_init(tl_json_sink *s)
{
    for (int i = 0; i <= TL_ST_COUNT; i++) qname_set(&s->state[i], tl_tcp_state_name((tl_tcp_state)i));
    for (int i = 0; i <= TL_EV_COUNT; i++) qname_set(&s->event[i], tl_event_name((tl_event_kind)i));
    qname_set(&s->role[0], tl_role_name(TL_ROLE_CLIENT));
    qname_set(&s->role[1], tl_role_name(TL_ROLE_SERVER));
}

static inline const qname *state_q(const tl_json_sink *s, tl_tcp_state st)
{
    return &s->state[(unsigned)st < TL_ST_COUNT ? (unsigned)st : TL_ST_COUNT];
}

static inline const qname *event_q(const tl_json_sink *s, tl_event_kind k)
{
    return &s->event[(unsigned)k < TL_EV_COUNT ? (unsigned)k : TL_EV_COUNT];
}

/* Room past a record's end that fixed-size copies may scribble on. */
#define PKT_SLACK (sizeof(qname) + 32)

static void kv_n(tl_json *w, uint64_t n)
{
    if (n) tl_json_kv_u64(w, "n", n);
    else tl_json_kv_null(w, "n");
}

/* ---- the packet record, written in place (measured: the generic writer
 * spent most of `read --json` on keys, commas and escaping) ------------- */

/* Worst case of one packet record: fixed text and numbers, two IPv6
 * addresses, every option, SACK block, unknown option and analysis name. */
#define PKT_RECORD_MAX (1024 + 2 * TL__ADDR_TEXT_MAX + TL_MAX_SACK * 26 + \
                        TL_MAX_UNKNOWN_OPTS * 12 + (TL_MAX_ANALYSIS + 2) * (PKT_NAME_MAX + 3) + PKT_SLACK)
_Static_assert(PKT_RECORD_MAX <= TL_JSON_BUF / 2, "a packet record fits the writer's buffer");

static inline char *put_u64(char *o, uint64_t v) { return tl_put_u64(o, v); }
static inline char *put_u32(char *o, uint32_t v) { return tl_put_u32(o, v); }

static inline char *put_q(char *o, const qname *q)
{
    memcpy(o, q->s, sizeof q->s);   /* the bytes past n are overwritten next */
    return o + q->n;
}

/* "client", "server" or null. */
static inline char *put_role(char *o, const tl_json_sink *s, tl_role r)
{
    if (r == TL_ROLE_CLIENT || r == TL_ROLE_SERVER) return put_q(o, &s->role[r - TL_ROLE_CLIENT]);
    TL_JSON_PUT_LIT(o, "null");
    return o;
}

/* A number, or null for 0 (connection and packet numbers). */
static inline char *put_u64_or_null(char *o, uint64_t v)
{
    if (v) return put_u64(o, v);
    TL_JSON_PUT_LIT(o, "null");
    return o;
}

static inline char *put_addr(char *o, const tl_addr *a)
{
    *o++ = '"';
    o += tl__addr_put(o, a);
    *o++ = '"';
    return o;
}

static char *put_options(char *o, const tl_tcp_options *op)
{
    bool first = true;
#define OPT_KEY(lit) do { if (!first) *o++ = ','; first = false; TL_JSON_PUT_LIT(o, lit); } while (0)
    TL_JSON_PUT_LIT(o, ",\"options\":{");
    if (op->present & TL_OPT_MSS) {
        OPT_KEY("\"mss\":");
        o = put_u64(o, op->mss);
    }
    if (op->present & TL_OPT_SACK_PERM) OPT_KEY("\"sack_perm\":true");
    if (op->present & TL_OPT_WSCALE) {
        OPT_KEY("\"wscale\":");
        o = put_u64(o, op->wscale);
    }
    if (op->present & TL_OPT_TIMESTAMP) {
        OPT_KEY("\"ts_val\":");
        o = put_u64(o, op->ts_val);
        TL_JSON_PUT_LIT(o, ",\"ts_ecr\":");
        o = put_u64(o, op->ts_ecr);
    }
    if (op->present & TL_OPT_SACK) {
        /* raw edges as they are on the wire */
        OPT_KEY("\"sack\":[");
        for (unsigned i = 0; i < op->n_sack && i < TL_MAX_SACK; i++) {
            if (i) *o++ = ',';
            *o++ = '[';
            o = put_u64(o, op->sack[i][0]);
            *o++ = ',';
            o = put_u64(o, op->sack[i][1]);
            *o++ = ']';
        }
        *o++ = ']';
    }
    if (op->n_unknown) {
        /* additive: kinds tcplens does not interpret, as [kind, len] */
        OPT_KEY("\"unknown\":[");
        for (unsigned i = 0; i < op->n_unknown && i < TL_MAX_UNKNOWN_OPTS; i++) {
            if (i) *o++ = ',';
            *o++ = '[';
            o = put_u64(o, op->unknown[i].kind);
            *o++ = ',';
            o = put_u64(o, op->unknown[i].len);
            *o++ = ']';
        }
        *o++ = ']';
    }
#undef OPT_KEY
    *o++ = '}';
    return o;
}

/* Same fields, order and text as the generic writer produced. */
static void write_packet(tl_json_sink *s, const tl_pkt_view *v)
{
    /* the flag names in bit order, each quoted with a comma after it */
    static const char flag_q[8][8] = {"\"FIN\",", "\"SYN\",", "\"RST\",", "\"PSH\",",
                                      "\"ACK\",", "\"URG\",", "\"ECE\",", "\"CWR\","};
    tl_json *w = &s->w;
    const tl_packet *p = v->pkt;
    const tl_frame *f = v->frame;
    char *o = tl_json_reserve_raw(w, PKT_RECORD_MAX);
    TL_JSON_PUT_LIT(o, "{\"type\":\"packet\",\"n\":");
    o = put_u64_or_null(o, f ? f->n : 0);
    if (f) {
        TL_JSON_PUT_LIT(o, ",\"ts\":");
        o += tl_fmt_time_cached(o, f->ts, s->digits, &s->sec);
    }
    TL_JSON_PUT_LIT(o, ",\"conn\":");
    o = put_u64_or_null(o, v->conn);
    TL_JSON_PUT_LIT(o, ",\"from\":");
    o = put_role(o, s, v->from);
    TL_JSON_PUT_LIT(o, ",\"src\":");
    o = put_addr(o, &p->src);
    TL_JSON_PUT_LIT(o, ",\"sport\":");
    o = put_u32(o, p->sport);
    TL_JSON_PUT_LIT(o, ",\"dst\":");
    o = put_addr(o, &p->dst);
    TL_JSON_PUT_LIT(o, ",\"dport\":");
    o = put_u32(o, p->dport);
    TL_JSON_PUT_LIT(o, ",\"flags\":[");
    for (unsigned fl = p->flags; fl; fl &= fl - 1) {
        memcpy(o, flag_q[__builtin_ctz(fl)], 8);
        o += 6;
    }
    if (p->flags) o--;   /* the last comma */
    TL_JSON_PUT_LIT(o, "],\"seq\":");
    o = put_u32(o, p->seq);
    TL_JSON_PUT_LIT(o, ",\"ack\":");
    o = put_u32(o, p->ack);
    TL_JSON_PUT_LIT(o, ",\"rel_seq\":");
    o = put_u32(o, v->rel_seq);
    if (v->rel_ack_valid) {
        TL_JSON_PUT_LIT(o, ",\"rel_ack\":");
        o = put_u32(o, v->rel_ack);
    }
    TL_JSON_PUT_LIT(o, ",\"win\":");
    o = put_u32(o, p->win);
    if (v->win_scaled >= 0) {
        TL_JSON_PUT_LIT(o, ",\"win_scaled\":");
        o = put_u64(o, (uint64_t)v->win_scaled);
    }
    TL_JSON_PUT_LIT(o, ",\"len\":");
    o = put_u32(o, p->payload_len);
    TL_JSON_PUT_LIT(o, ",\"ip_len\":");
    o = put_u32(o, p->ip_len);
    TL_JSON_PUT_LIT(o, ",\"ip_hlen\":");
    o = put_u32(o, p->ip_hlen);
    TL_JSON_PUT_LIT(o, ",\"tcp_hlen\":");
    o = put_u32(o, p->tcp_hlen);
    o = put_options(o, &p->opt);
    TL_JSON_PUT_LIT(o, ",\"client_state\":");
    o = put_q(o, state_q(s, v->client_state));
    TL_JSON_PUT_LIT(o, ",\"server_state\":");
    o = put_q(o, state_q(s, v->server_state));
    TL_JSON_PUT_LIT(o, ",\"analysis\":[");
    for (unsigned i = 0; i < v->n_analysis && i < TL_MAX_ANALYSIS; i++) {
        if (i) *o++ = ',';
        o = put_q(o, event_q(s, v->analysis[i]));
    }
    *o++ = ']';
    /* additive: only present when true */
    if (p->cksum_status == TL_CKSUM_BAD) TL_JSON_PUT_LIT(o, ",\"bad_checksum\":true");
    if (v->skipped) TL_JSON_PUT_LIT(o, ",\"skipped\":true");
    *o++ = '}';
    tl_json_commit_raw(w, o);
    tl_json_end_line(w);
}

static void on_packet(void *ctx, const tl_pkt_view *v)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    const tl_frame *f = v->frame;
    if (v->result == TL_DECODE_TRUNCATED || v->result == TL_DECODE_MALFORMED) {
        tl_json_obj_begin(w);
        tl_json_kv_str(w, "type", "malformed");
        kv_n(w, f ? f->n : 0);
        if (f) tl_json_kv_time(w, "ts", f->ts, s->digits);
        tl_json_kv_str(w, "reason", tl_decode_reason_name(v->reason));
        tl_json_kv_str(w, "result", tl_decode_result_name(v->result));
        tl_json_obj_end(w);
        tl_json_end_line(w);
        return;
    }
    if (v->result != TL_DECODE_OK || !v->pkt) return;   /* not TCP, fragments: counted only */

    write_packet(s, v);
}

/* Room for a state record, or an event record without its text and value. */
#define SMALL_RECORD_MAX (256 + 3 * sizeof(qname) + PKT_SLACK)

static void on_state(void *ctx, const tl_state_change *c)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    char *o = tl_json_reserve_raw(w, SMALL_RECORD_MAX);
    TL_JSON_PUT_LIT(o, "{\"type\":\"state\",\"ts\":");
    o += tl_fmt_time_cached(o, c->ts, s->digits, &s->sec);
    TL_JSON_PUT_LIT(o, ",\"n\":");
    o = put_u64_or_null(o, c->n);
    TL_JSON_PUT_LIT(o, ",\"conn\":");
    o = put_u64_or_null(o, c->conn);
    TL_JSON_PUT_LIT(o, ",\"endpoint\":");
    o = put_role(o, s, c->endpoint);
    TL_JSON_PUT_LIT(o, ",\"from\":");
    o = put_q(o, state_q(s, c->from));
    TL_JSON_PUT_LIT(o, ",\"to\":");
    o = put_q(o, state_q(s, c->to));
    *o++ = '}';
    tl_json_commit_raw(w, o);
    tl_json_end_line(w);
}

static void on_event(void *ctx, const tl_event *e)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    char *o = tl_json_reserve_raw(w, SMALL_RECORD_MAX);
    TL_JSON_PUT_LIT(o, "{\"type\":\"event\",\"ts\":");
    o += tl_fmt_time_cached(o, e->ts, s->digits, &s->sec);
    TL_JSON_PUT_LIT(o, ",\"n\":");
    o = put_u64_or_null(o, e->n);
    TL_JSON_PUT_LIT(o, ",\"conn\":");
    o = put_u64_or_null(o, e->conn);
    TL_JSON_PUT_LIT(o, ",\"event\":");
    o = put_q(o, event_q(s, e->kind));
    TL_JSON_PUT_LIT(o, ",\"by\":");
    o = put_role(o, s, e->by);
    TL_JSON_PUT_LIT(o, ",\"text\":");
    tl_json_commit_raw(w, o);
    /* the text may be anything the tracker wrote: escaped, any length */
    const char *text = e->text ? e->text : tl_event_explain(e->kind);
    tl_json_put_string(w, text, strlen(text));
    o = tl_json_reserve_raw(w, TL_JSON_DOUBLE_MAX + 16);
    if (!isnan(e->value)) {
        TL_JSON_PUT_LIT(o, ",\"value\":");
        o += tl_fmt_double(o, e->value, s->digits);
    }
    *o++ = '}';
    tl_json_commit_raw(w, o);
    tl_json_end_line(w);
}

/* A program-defined name given as a string (open and close kinds): quoted,
 * cut at PKT_NAME_MAX like the tables' names. */
static inline char *put_name(char *o, const char *name)
{
    size_t n = strnlen(name, PKT_NAME_MAX);
    *o++ = '"';
    memcpy(o, name, n);
    o += n;
    *o++ = '"';
    return o;
}

/* Room for each in-place part of a conn record. */
#define CONN_PART_MAX (512 + 2 * TL__ADDR_TEXT_MAX + 2 * TL_JSON_DOUBLE_MAX + 5 * sizeof(qname) + PKT_SLACK)
#define CONN_EVENTS_MAX (16 + TL_MAX_CONN_EVENTS * (sizeof(qname) + 1) + PKT_SLACK)
_Static_assert(CONN_PART_MAX <= TL_JSON_BUF && CONN_EVENTS_MAX <= TL_JSON_BUF, "conn parts fit the buffer");

/* Written in place like the packet record (measured: ~7,000 Ir per record
 * through the generic writer, 140 Ir/packet of `read --json` on h1m). */
static void on_conn(void *ctx, const tl_conn_record *r)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    char *o = tl_json_reserve_raw(w, CONN_PART_MAX);
    TL_JSON_PUT_LIT(o, "{\"type\":\"conn\",\"conn\":");
    o = put_u32(o, r->conn);
    TL_JSON_PUT_LIT(o, ",\"uid\":");
    tl_json_commit_raw(w, o);
    tl_json_put_string(w, r->uid, strnlen(r->uid, sizeof r->uid));

    o = tl_json_reserve_raw(w, CONN_PART_MAX);
    TL_JSON_PUT_LIT(o, ",\"ts\":");
    o += tl_fmt_time_cached(o, r->ts, s->digits, &s->sec);
    TL_JSON_PUT_LIT(o, ",\"duration\":");
    o += tl_fmt_double(o, r->duration, s->digits);
    TL_JSON_PUT_LIT(o, ",\"orig_h\":");
    o = put_addr(o, &r->orig_h);
    TL_JSON_PUT_LIT(o, ",\"orig_p\":");
    o = put_u32(o, r->orig_p);
    TL_JSON_PUT_LIT(o, ",\"resp_h\":");
    o = put_addr(o, &r->resp_h);
    TL_JSON_PUT_LIT(o, ",\"resp_p\":");
    o = put_u32(o, r->resp_p);
    TL_JSON_PUT_LIT(o, ",\"conn_state\":");
    tl_json_commit_raw(w, o);
    const char *cs = r->conn_state ? r->conn_state : "OTH";
    tl_json_put_string(w, cs, strlen(cs));
    o = tl_json_reserve_raw(w, 16);
    TL_JSON_PUT_LIT(o, ",\"history\":");
    tl_json_commit_raw(w, o);
    tl_json_put_string(w, r->history, strnlen(r->history, sizeof r->history));

    o = tl_json_reserve_raw(w, CONN_PART_MAX);
    TL_JSON_PUT_LIT(o, ",\"orig_pkts\":");
    o = put_u64(o, r->orig_pkts);
    TL_JSON_PUT_LIT(o, ",\"resp_pkts\":");
    o = put_u64(o, r->resp_pkts);
    TL_JSON_PUT_LIT(o, ",\"orig_bytes\":");
    o = put_u64(o, r->orig_bytes);
    TL_JSON_PUT_LIT(o, ",\"resp_bytes\":");
    o = put_u64(o, r->resp_bytes);
    TL_JSON_PUT_LIT(o, ",\"orig_ip_bytes\":");
    o = put_u64(o, r->orig_ip_bytes);
    TL_JSON_PUT_LIT(o, ",\"resp_ip_bytes\":");
    o = put_u64(o, r->resp_ip_bytes);
    TL_JSON_PUT_LIT(o, ",\"missed_bytes\":");
    o = put_u64(o, r->missed_bytes);
    TL_JSON_PUT_LIT(o, ",\"opened\":");
    if (r->opened != TL_OPEN_NONE) o = put_name(o, tl_open_kind_name(r->opened));
    else TL_JSON_PUT_LIT(o, "null");
    TL_JSON_PUT_LIT(o, ",\"closed\":");
    o = put_name(o, tl_close_kind_name(r->closed));
    TL_JSON_PUT_LIT(o, ",\"closed_by\":");
    o = put_role(o, s, r->closed_by);
    TL_JSON_PUT_LIT(o, ",\"client_state\":");
    o = put_q(o, state_q(s, r->client_state));
    TL_JSON_PUT_LIT(o, ",\"server_state\":");
    o = put_q(o, state_q(s, r->server_state));
    if (r->handshake_rtt >= 0) {
        TL_JSON_PUT_LIT(o, ",\"handshake_rtt\":");
        o += tl_fmt_double(o, r->handshake_rtt, s->digits);
    }
    TL_JSON_PUT_LIT(o, ",\"retransmissions\":");
    o = put_u32(o, r->retransmissions);
    if (r->evicted) TL_JSON_PUT_LIT(o, ",\"evicted\":true");
    else TL_JSON_PUT_LIT(o, ",\"evicted\":false");
    tl_json_commit_raw(w, o);

    o = tl_json_reserve_raw(w, CONN_EVENTS_MAX);
    TL_JSON_PUT_LIT(o, ",\"events\":[");
    for (unsigned i = 0; i < r->n_events && i < TL_MAX_CONN_EVENTS; i++) {
        if (i) *o++ = ',';
        o = put_q(o, event_q(s, r->events[i]));
    }
    TL_JSON_PUT_LIT(o, "]}");
    tl_json_commit_raw(w, o);
    tl_json_end_line(w);
}

static void on_error(void *ctx, const tl_error_record *e)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    tl_json_obj_begin(w);
    tl_json_kv_str(w, "type", "error");
    tl_json_kv_str(w, "file", e->file);
    if (e->offset >= 0) tl_json_kv_i64(w, "offset", e->offset);
    else tl_json_kv_null(w, "offset");
    if (e->packet) tl_json_kv_u64(w, "packet", e->packet);
    else tl_json_kv_null(w, "packet");
    tl_json_kv_str(w, "text", e->text ? e->text : "");
    tl_json_obj_end(w);
    tl_json_end_line(w);
}

static void on_finish(void *ctx, const tl_stats *st)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    tl_json_obj_begin(w);
    tl_json_kv_str(w, "type", "stats");
    tl_json_kv_u64(w, "packets", st->packets);
    tl_json_kv_u64(w, "tcp", st->tcp);
    tl_json_kv_u64(w, "other", st->other);
    tl_json_kv_u64(w, "fragments", st->fragments);
    tl_json_kv_u64(w, "malformed", st->malformed);
    tl_json_kv_u64(w, "truncated", st->truncated);
    tl_json_key(w, "by_reason");
    tl_json_obj_begin(w);
    for (int r = TL_REASON_NONE + 1; r < TL_REASON_COUNT; r++)
        if (st->by_reason[r]) tl_json_kv_u64(w, tl_decode_reason_name((tl_decode_reason)r), st->by_reason[r]);
    tl_json_obj_end(w);
    tl_json_kv_u64(w, "bad_checksum", st->bad_checksum);
    tl_json_kv_u64(w, "conns", st->conns);
    tl_json_kv_u64(w, "evicted", st->evicted);
    tl_json_kv_u64(w, "errors", st->errors);
    tl_json_kv_u64(w, "filtered", st->filtered);
    if (st->has_kernel_stats) {
        tl_json_kv_u64(w, "kernel_dropped", st->kernel_dropped);
        tl_json_kv_u64(w, "iface_dropped", st->iface_dropped);
    }
    tl_json_kv_u64(w, "peak_conns", st->peak_conns);
    tl_json_obj_end(w);
    tl_json_end_line(w);
    tl_json_flush(w);
    fflush(w->fp);
}

static void on_free(void *ctx)
{
    tl_json_sink *s = ctx;
    tl_json_flush(&s->w);
    free(s);
}

static const tl_sink_ops tl_json_ops = {
    .packet = on_packet,
    .state = on_state,
    .event = on_event,
    .conn = on_conn,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
};

/* -q: events (and the closing conn and stats records), as the text view. */
static const tl_sink_ops tl_json_quiet_ops = {
    .event = on_event,
    .conn = on_conn,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
};

/* --conns: the connection records only (and errors, stats). Without a
 * packet op the tracker builds no per-packet view. */
static const tl_sink_ops tl_json_conns_ops = {
    .conn = on_conn,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
};

int tl_sink_json_new(tl_sink *out, FILE *fp, const tl_output_opts *o)
{
    if (!out || !fp) return TL_EINVAL;
    tl_json_sink *s = malloc(sizeof *s);
    if (!s) return TL_ENOMEM;
    tl_json_init_batched(&s->w, fp);
    names_init(s);
    tl_sec_text_init(&s->sec);
    s->digits = o && o->ts_digits > 0 && o->ts_digits <= 9 ? o->ts_digits : 6;
    out->ops = o && o->conns_only ? &tl_json_conns_ops : o && o->quiet ? &tl_json_quiet_ops : &tl_json_ops;
    out->ctx = s;
    return TL_OK;
}
