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

typedef struct tl_json_sink {
    tl_json w;
    int digits;
} tl_json_sink;

static const char *const tl_flag_names[8] = {"FIN", "SYN", "RST", "PSH",
                                             "ACK", "URG", "ECE", "CWR"};

static void kv_conn(tl_json *w, uint32_t conn)
{
    if (conn) tl_json_kv_u64(w, "conn", conn);
    else tl_json_kv_null(w, "conn");
}

static void kv_n(tl_json *w, uint64_t n)
{
    if (n) tl_json_kv_u64(w, "n", n);
    else tl_json_kv_null(w, "n");
}

static void kv_role(tl_json *w, const char *key, tl_role r)
{
    if (r == TL_ROLE_CLIENT || r == TL_ROLE_SERVER) tl_json_kv_str(w, key, tl_role_name(r));
    else tl_json_kv_null(w, key);
}

static void kv_addr(tl_json *w, const char *key, const tl_addr *a)
{
    char buf[64];
    tl_json_kv_str(w, key, tl_addr_format(a, buf, sizeof buf));
}

/* ---- the packet record, written in place (measured: the generic writer
 * spent most of `read --json` on keys, commas and escaping) ------------- */

/* Worst case of one packet record: fixed text and numbers, two IPv6
 * addresses, every option, SACK block, unknown option and analysis name. */
#define PKT_NAME_MAX 48
#define PKT_RECORD_MAX (1024 + 2 * TL__ADDR_TEXT_MAX + TL_MAX_SACK * 26 + \
                        TL_MAX_UNKNOWN_OPTS * 12 + (TL_MAX_ANALYSIS + 2) * (PKT_NAME_MAX + 3))
_Static_assert(PKT_RECORD_MAX <= TL_JSON_BUF, "a packet record fits the writer's buffer");

static inline char *put_u64(char *o, uint64_t v) { return o + tl_fmt_u64(o, v); }

/* A program-defined name (flag, state, event): plain ASCII, quoted. */
static inline char *put_name(char *o, const char *name)
{
    size_t n = strnlen(name, PKT_NAME_MAX);
    *o++ = '"';
    memcpy(o, name, n);
    o += n;
    *o++ = '"';
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
static void write_packet(tl_json *w, const tl_pkt_view *v, int digits)
{
    const tl_packet *p = v->pkt;
    const tl_frame *f = v->frame;
    char *o = tl_json_reserve_raw(w, PKT_RECORD_MAX);
    TL_JSON_PUT_LIT(o, "{\"type\":\"packet\",\"n\":");
    if (f && f->n) o = put_u64(o, f->n);
    else TL_JSON_PUT_LIT(o, "null");
    if (f) {
        TL_JSON_PUT_LIT(o, ",\"ts\":");
        o += tl_fmt_time(o, f->ts, digits);
    }
    TL_JSON_PUT_LIT(o, ",\"conn\":");
    if (v->conn) o = put_u64(o, v->conn);
    else TL_JSON_PUT_LIT(o, "null");
    TL_JSON_PUT_LIT(o, ",\"from\":");
    if (v->from == TL_ROLE_CLIENT || v->from == TL_ROLE_SERVER) o = put_name(o, tl_role_name(v->from));
    else TL_JSON_PUT_LIT(o, "null");
    TL_JSON_PUT_LIT(o, ",\"src\":");
    o = put_addr(o, &p->src);
    TL_JSON_PUT_LIT(o, ",\"sport\":");
    o = put_u64(o, p->sport);
    TL_JSON_PUT_LIT(o, ",\"dst\":");
    o = put_addr(o, &p->dst);
    TL_JSON_PUT_LIT(o, ",\"dport\":");
    o = put_u64(o, p->dport);
    TL_JSON_PUT_LIT(o, ",\"flags\":[");
    bool first = true;
    for (int b = 0; b < 8; b++)
        if (p->flags & (1u << b)) {
            if (!first) *o++ = ',';
            first = false;
            o = put_name(o, tl_flag_names[b]);
        }
    TL_JSON_PUT_LIT(o, "],\"seq\":");
    o = put_u64(o, p->seq);
    TL_JSON_PUT_LIT(o, ",\"ack\":");
    o = put_u64(o, p->ack);
    TL_JSON_PUT_LIT(o, ",\"rel_seq\":");
    o = put_u64(o, v->rel_seq);
    if (v->rel_ack_valid) {
        TL_JSON_PUT_LIT(o, ",\"rel_ack\":");
        o = put_u64(o, v->rel_ack);
    }
    TL_JSON_PUT_LIT(o, ",\"win\":");
    o = put_u64(o, p->win);
    if (v->win_scaled >= 0) {
        TL_JSON_PUT_LIT(o, ",\"win_scaled\":");
        o = put_u64(o, (uint64_t)v->win_scaled);
    }
    TL_JSON_PUT_LIT(o, ",\"len\":");
    o = put_u64(o, p->payload_len);
    TL_JSON_PUT_LIT(o, ",\"ip_len\":");
    o = put_u64(o, p->ip_len);
    TL_JSON_PUT_LIT(o, ",\"ip_hlen\":");
    o = put_u64(o, p->ip_hlen);
    TL_JSON_PUT_LIT(o, ",\"tcp_hlen\":");
    o = put_u64(o, p->tcp_hlen);
    o = put_options(o, &p->opt);
    TL_JSON_PUT_LIT(o, ",\"client_state\":");
    o = put_name(o, tl_tcp_state_name(v->client_state));
    TL_JSON_PUT_LIT(o, ",\"server_state\":");
    o = put_name(o, tl_tcp_state_name(v->server_state));
    TL_JSON_PUT_LIT(o, ",\"analysis\":[");
    for (unsigned i = 0; i < v->n_analysis && i < TL_MAX_ANALYSIS; i++) {
        if (i) *o++ = ',';
        o = put_name(o, tl_event_name(v->analysis[i]));
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

    write_packet(w, v, s->digits);
}

static void on_state(void *ctx, const tl_state_change *c)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    tl_json_obj_begin(w);
    tl_json_kv_str(w, "type", "state");
    tl_json_kv_time(w, "ts", c->ts, s->digits);
    kv_n(w, c->n);
    kv_conn(w, c->conn);
    kv_role(w, "endpoint", c->endpoint);
    tl_json_kv_str(w, "from", tl_tcp_state_name(c->from));
    tl_json_kv_str(w, "to", tl_tcp_state_name(c->to));
    tl_json_obj_end(w);
    tl_json_end_line(w);
}

static void on_event(void *ctx, const tl_event *e)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    tl_json_obj_begin(w);
    tl_json_kv_str(w, "type", "event");
    tl_json_kv_time(w, "ts", e->ts, s->digits);
    kv_n(w, e->n);
    kv_conn(w, e->conn);
    tl_json_kv_str(w, "event", tl_event_name(e->kind));
    kv_role(w, "by", e->by);
    tl_json_kv_str(w, "text", e->text ? e->text : tl_event_explain(e->kind));
    if (!isnan(e->value)) tl_json_kv_double(w, "value", e->value, s->digits);
    tl_json_obj_end(w);
    tl_json_end_line(w);
}

static void on_conn(void *ctx, const tl_conn_record *r)
{
    tl_json_sink *s = ctx;
    tl_json *w = &s->w;
    tl_json_obj_begin(w);
    tl_json_kv_str(w, "type", "conn");
    tl_json_kv_u64(w, "conn", r->conn);
    tl_json_kv_str(w, "uid", r->uid);
    tl_json_kv_time(w, "ts", r->ts, s->digits);
    tl_json_kv_double(w, "duration", r->duration, s->digits);
    kv_addr(w, "orig_h", &r->orig_h);
    tl_json_kv_u64(w, "orig_p", r->orig_p);
    kv_addr(w, "resp_h", &r->resp_h);
    tl_json_kv_u64(w, "resp_p", r->resp_p);
    tl_json_kv_str(w, "conn_state", r->conn_state ? r->conn_state : "OTH");
    tl_json_kv_str(w, "history", r->history);
    tl_json_kv_u64(w, "orig_pkts", r->orig_pkts);
    tl_json_kv_u64(w, "resp_pkts", r->resp_pkts);
    tl_json_kv_u64(w, "orig_bytes", r->orig_bytes);
    tl_json_kv_u64(w, "resp_bytes", r->resp_bytes);
    tl_json_kv_u64(w, "orig_ip_bytes", r->orig_ip_bytes);
    tl_json_kv_u64(w, "resp_ip_bytes", r->resp_ip_bytes);
    tl_json_kv_u64(w, "missed_bytes", r->missed_bytes);
    if (r->opened != TL_OPEN_NONE) tl_json_kv_str(w, "opened", tl_open_kind_name(r->opened));
    else tl_json_kv_null(w, "opened");
    tl_json_kv_str(w, "closed", tl_close_kind_name(r->closed));
    kv_role(w, "closed_by", r->closed_by);
    tl_json_kv_str(w, "client_state", tl_tcp_state_name(r->client_state));
    tl_json_kv_str(w, "server_state", tl_tcp_state_name(r->server_state));
    if (r->handshake_rtt >= 0) tl_json_kv_double(w, "handshake_rtt", r->handshake_rtt, s->digits);
    tl_json_kv_u64(w, "retransmissions", r->retransmissions);
    tl_json_kv_bool(w, "evicted", r->evicted);
    tl_json_key(w, "events");
    tl_json_arr_begin(w);
    for (unsigned i = 0; i < r->n_events && i < TL_MAX_CONN_EVENTS; i++)
        tl_json_str(w, tl_event_name(r->events[i]));
    tl_json_arr_end(w);
    tl_json_obj_end(w);
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

int tl_sink_json_new(tl_sink *out, FILE *fp, const tl_output_opts *o)
{
    if (!out || !fp) return TL_EINVAL;
    tl_json_sink *s = malloc(sizeof *s);
    if (!s) return TL_ENOMEM;
    tl_json_init(&s->w, fp);
    s->digits = o && o->ts_digits > 0 && o->ts_digits <= 9 ? o->ts_digits : 6;
    out->ops = &tl_json_ops;
    out->ctx = s;
    return TL_OK;
}
