/* html_json.c -- the data behind the `--html` decode panel: one
 * <script type="application/json"> block per section with every drawn
 * packet (sink_json's field names, SPEC.md 3.2, plus the decode-only
 * fields) and the connection's events with their explanations.
 *
 * The JSON is built in memory first so that each '<' can be written as
 * \u003c: then no string from the capture can close the script block.
 */
#include <math.h>
#include <stdlib.h>

#include "sink/html_int.h"
#include "sink/json_writer.h"

static const char *const flag_names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};

static void kv_addr(tl_json *w, const char *key, const tl_addr *a)
{
    char buf[64];
    tl_json_kv_str(w, key, tl_addr_format(a, buf, sizeof buf));
}

static void kv_role(tl_json *w, const char *key, uint8_t r)
{
    if (r == TL_ROLE_CLIENT || r == TL_ROLE_SERVER) tl_json_kv_str(w, key, tl_role_name((tl_role)r));
    else tl_json_kv_null(w, key);
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

/* The kept payload bytes as `-x` shows them: hex, then ASCII. */
static void kv_payload(tl_json *w, const tl_html_pkt *p)
{
    char buf[TL_HTML_PAYLOAD * 4 + 8];
    size_t o = 0;
    for (unsigned i = 0; i < p->npl; i++) o += (size_t)snprintf(buf + o, sizeof buf - o, "%02x ", p->pl[i]);
    buf[o++] = ' ';
    for (unsigned i = 0; i < p->npl; i++) buf[o++] = p->pl[i] >= 0x20 && p->pl[i] < 0x7f ? (char)p->pl[i] : '.';
    if (p->caplen > p->npl) buf[o++] = '+';
    tl_json_key(w, "payload");
    tl_json_strn(w, buf, o);
}

static const char *cksum_name(uint8_t s)
{
    return s == TL_CKSUM_GOOD ? "good" : s == TL_CKSUM_BAD ? "bad" : "unchecked";
}

static void write_pkt(tl_json *w, const tl_html *h, const tl_html_pkt *p, uint32_t conn, int digits)
{
    tl_json_obj_begin(w);
    tl_json_kv_u64(w, "n", p->n);
    tl_json_kv_time(w, "ts", p->ts, digits);
    tl_json_kv_double(w, "t", tl__html_time(h, p->ts), digits);
    if (conn) tl_json_kv_u64(w, "conn", conn);
    else tl_json_kv_null(w, "conn");
    kv_role(w, "from", p->from);
    kv_addr(w, "src", &p->src);
    tl_json_kv_u64(w, "sport", p->sport);
    kv_addr(w, "dst", &p->dst);
    tl_json_kv_u64(w, "dport", p->dport);
    tl_json_key(w, "flags");
    tl_json_arr_begin(w);
    for (int b = 0; b < 8; b++)
        if (p->flags & (1u << b)) tl_json_str(w, flag_names[b]);
    tl_json_arr_end(w);
    tl_json_kv_u64(w, "seq", p->seq);
    tl_json_kv_u64(w, "ack", p->ack);
    tl_json_kv_u64(w, "rel_seq", p->rel_seq);
    if (p->rel_ack_valid) tl_json_kv_u64(w, "rel_ack", p->rel_ack);
    tl_json_kv_u64(w, "win", p->win);
    if (p->win_scaled >= 0) tl_json_kv_i64(w, "win_scaled", p->win_scaled);
    tl_json_kv_u64(w, "len", p->len);
    tl_json_kv_u64(w, "ip_len", p->ip_len);
    tl_json_kv_u64(w, "ip_hlen", p->ip_hlen);
    tl_json_kv_u64(w, "tcp_hlen", p->tcp_hlen);
    write_options(w, &p->opt);
    if (conn) {
        tl_json_kv_str(w, "client_before", tl_tcp_state_name((tl_tcp_state)p->before[0]));
        tl_json_kv_str(w, "server_before", tl_tcp_state_name((tl_tcp_state)p->before[1]));
        tl_json_kv_str(w, "client_state", tl_tcp_state_name((tl_tcp_state)p->after[0]));
        tl_json_kv_str(w, "server_state", tl_tcp_state_name((tl_tcp_state)p->after[1]));
    }
    tl_json_key(w, "analysis");
    tl_json_arr_begin(w);
    for (unsigned i = 0; i < p->n_analysis; i++) tl_json_str(w, tl_event_name((tl_event_kind)p->analysis[i]));
    tl_json_arr_end(w);
    /* decode-only fields */
    tl_json_kv_u64(w, "ip_version", p->ip_version);
    tl_json_kv_u64(w, "ttl", p->ttl);
    tl_json_kv_bool(w, "ip_options", p->ip_options);
    if (p->n_vlan) {
        tl_json_key(w, "vlan");
        tl_json_arr_begin(w);
        for (unsigned i = 0; i < p->n_vlan; i++) tl_json_u64(w, p->vlan[i]);
        tl_json_arr_end(w);
    }
    tl_json_kv_u64(w, "urg_ptr", p->urg_ptr);
    tl_json_kv_u64(w, "cksum", p->cksum);
    tl_json_kv_str(w, "cksum_status", cksum_name(p->cksum_status));
    tl_json_kv_u64(w, "caplen", p->caplen);
    tl_json_kv_bool(w, "skipped", p->skipped);
    if (p->npl) kv_payload(w, p);
    tl_json_obj_end(w);
}

void tl__html_json_block(tl_html *h, unsigned section, uint32_t conn, const tl_html_pkt *pkts, size_t n,
                         const tl_html_event *ev, size_t nev)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    tl_json *w = mem ? malloc(sizeof *w) : NULL;
    if (!w) {
        if (mem) fclose(mem);
        free(buf);
        fprintf(h->fp, "<p class=\"more\">out of memory: no packet data for the decode panel</p>\n");
        return;
    }
    int digits = h->o.ts_digits > 0 && h->o.ts_digits <= 9 ? h->o.ts_digits : 6;
    tl_json_init(w, mem);
    tl_json_obj_begin(w);
    if (conn) tl_json_kv_u64(w, "conn", conn);
    else tl_json_kv_null(w, "conn");
    tl_json_key(w, "pkts");
    tl_json_arr_begin(w);
    for (size_t i = 0; i < n; i++) write_pkt(w, h, &pkts[i], conn, digits);
    tl_json_arr_end(w);
    tl_json_key(w, "events");
    tl_json_arr_begin(w);
    for (size_t i = 0; i < nev; i++) {
        const tl_html_event *e = &ev[i];
        tl_json_obj_begin(w);
        if (e->n) tl_json_kv_u64(w, "n", e->n);
        else tl_json_kv_null(w, "n");
        tl_json_kv_time(w, "ts", e->ts, digits);
        tl_json_kv_str(w, "event", tl_event_name((tl_event_kind)e->kind));
        kv_role(w, "by", e->by);
        tl_json_kv_str(w, "text", e->text ? e->text : tl_event_explain((tl_event_kind)e->kind));
        if (!isnan(e->value)) tl_json_kv_double(w, "value", e->value, digits);
        tl_json_obj_end(w);
    }
    tl_json_arr_end(w);
    tl_json_obj_end(w);
    tl_json_flush(w);
    free(w);
    fclose(mem);
    fprintf(h->fp, "<script type=\"application/json\" id=\"s%u-data\">", section);
    tl__html_json_copy(h->fp, buf, len);
    fputs("</script>\n", h->fp);
    free(buf);
}
