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

static void write_options(tl_json *w, const tl_tcp_options *o)
{
    tl_json_key(w, "options");
    tl_json_obj_begin(w);
    if (o->present & TL_OPT_MSS) tl_json_kv_u64(w, "mss", o->mss);
    if (o->present & TL_OPT_SACK_PERM) tl_json_kv_bool(w, "sack_perm", true);
    if (o->present & TL_OPT_WSCALE) tl_json_kv_u64(w, "wscale", o->wscale);
    if (o->present & TL_OPT_TIMESTAMP) {
        tl_json_kv_u64(w, "ts_val", o->ts_val);
        tl_json_kv_u64(w, "ts_ecr", o->ts_ecr);
    }
    if (o->present & TL_OPT_SACK) {
        /* raw edges as they are on the wire */
        tl_json_key(w, "sack");
        tl_json_arr_begin(w);
        for (unsigned i = 0; i < o->n_sack && i < TL_MAX_SACK; i++) {
            tl_json_arr_begin(w);
            tl_json_u64(w, o->sack[i][0]);
            tl_json_u64(w, o->sack[i][1]);
            tl_json_arr_end(w);
        }
        tl_json_arr_end(w);
    }
    if (o->n_unknown) {
        /* additive: kinds tcplens does not interpret, as [kind, len] */
        tl_json_key(w, "unknown");
        tl_json_arr_begin(w);
        for (unsigned i = 0; i < o->n_unknown && i < TL_MAX_UNKNOWN_OPTS; i++) {
            tl_json_arr_begin(w);
            tl_json_u64(w, o->unknown[i].kind);
            tl_json_u64(w, o->unknown[i].len);
            tl_json_arr_end(w);
        }
        tl_json_arr_end(w);
    }
    tl_json_obj_end(w);
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

    const tl_packet *p = v->pkt;
    tl_json_obj_begin(w);
    tl_json_kv_str(w, "type", "packet");
    kv_n(w, f ? f->n : 0);
    if (f) tl_json_kv_time(w, "ts", f->ts, s->digits);
    kv_conn(w, v->conn);
    kv_role(w, "from", v->from);
    kv_addr(w, "src", &p->src);
    tl_json_kv_u64(w, "sport", p->sport);
    kv_addr(w, "dst", &p->dst);
    tl_json_kv_u64(w, "dport", p->dport);
    tl_json_key(w, "flags");
    tl_json_arr_begin(w);
    for (int b = 0; b < 8; b++)
        if (p->flags & (1u << b)) tl_json_str(w, tl_flag_names[b]);
    tl_json_arr_end(w);
    tl_json_kv_u64(w, "seq", p->seq);
    tl_json_kv_u64(w, "ack", p->ack);
    tl_json_kv_u64(w, "rel_seq", v->rel_seq);
    if (v->rel_ack_valid) tl_json_kv_u64(w, "rel_ack", v->rel_ack);
    tl_json_kv_u64(w, "win", p->win);
    if (v->win_scaled >= 0) tl_json_kv_i64(w, "win_scaled", v->win_scaled);
    tl_json_kv_u64(w, "len", p->payload_len);
    tl_json_kv_u64(w, "ip_len", p->ip_len);
    tl_json_kv_u64(w, "ip_hlen", p->ip_hlen);
    tl_json_kv_u64(w, "tcp_hlen", p->tcp_hlen);
    write_options(w, &p->opt);
    tl_json_kv_str(w, "client_state", tl_tcp_state_name(v->client_state));
    tl_json_kv_str(w, "server_state", tl_tcp_state_name(v->server_state));
    tl_json_key(w, "analysis");
    tl_json_arr_begin(w);
    for (unsigned i = 0; i < v->n_analysis && i < TL_MAX_ANALYSIS; i++)
        tl_json_str(w, tl_event_name(v->analysis[i]));
    tl_json_arr_end(w);
    /* additive: only present when true */
    if (p->cksum_status == TL_CKSUM_BAD) tl_json_kv_bool(w, "bad_checksum", true);
    if (v->skipped) tl_json_kv_bool(w, "skipped", true);
    tl_json_obj_end(w);
    tl_json_end_line(w);
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
