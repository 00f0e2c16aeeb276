/* lab_timeline.c -- the merged timeline of one lab scenario (SPEC.md 4.3):
 * the wire's packets through the real tracker, both sides' socket calls,
 * the kernel's own states and the events, in time order; text or JSON Lines
 * with "scenario" in every record; the scenario's pcap.
 *
 * Endpoint states. A capture point in the middle of a link sees a segment
 * once, yet the two endpoints meet it at different times when the wire
 * holds or delays it. The lab knows both times (ts_in: the sender's kernel
 * handed it over; ts_out: the receiver got it), so each endpoint's state is
 * inferred by a tracker fed with the packets in the order that endpoint
 * sent and received them. With FINs crossing, a single capture order would
 * put one side through CLOSE-WAIT; the endpoint order gives what the kernel
 * does (RFC 9293 3.6, "simultaneous close": FIN-WAIT-1 -> CLOSING). The main
 * tracker, fed in delivery order, supplies packet numbers, relative
 * sequence numbers, analysis flags, events and connection records.
 */
#include "lab/lab_int.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lab/sockdiag.h"
#include "sink/json_writer.h"
#include "sink/sink_html.h"
#include "sink/text_line.h"
#include "tcplens/tracker.h"

#define DLT_RAW_IP 12
#define MAX_CONNS 16

typedef enum item_kind { IT_PKT, IT_STATE, IT_WIRE, IT_REC, IT_KSTATE } item_kind;

typedef struct item {
    tl_time ts;
    int prio;
    size_t seq;
    item_kind kind;
    size_t idx;
    bool consumed;
} item;

/* Everything the printing side needs while the main tracker runs. */
typedef struct printer {
    tl_lab_result *r;
    const tl_lab_opts *o;
    FILE *out;
    const char *scen;
    tl_time base;
    /* JSON: the tracker's records go through sink_json into mem, then get
     * "scenario" added and go to out. */
    tl_sink json;
    FILE *mem;
    char *membuf;
    size_t memlen;
    /* the connection table: tuple <-> main tracker's number */
    tl_lab_tuple tuple[MAX_CONNS];
    uint32_t conn_no[MAX_CONNS];
    size_t nconns;
    tl_tcp_state shown[MAX_CONNS][2];   /* endpoint states shown: client, server */
    bool inferred_any[MAX_CONNS][2];
    /* the packet being fed */
    const tl_lab_pkt *cur;
    const tl_lab_inferred *fold[8];
    size_t nfold;
    tl_dumper *dumper;
} printer;

/* ---- small helpers -------------------------------------------------------- */

int tl__lab_addr_side(const tl_addr *a)
{
    char b[64];
    tl_addr_format(a, b, sizeof b);
    if (!strcmp(b, TL_LAB_CLIENT_V4) || !strcmp(b, TL_LAB_CLIENT_V6)) return TL_LAB_CLIENT;
    if (!strcmp(b, TL_LAB_SERVER_V4) || !strcmp(b, TL_LAB_SERVER_V6)) return TL_LAB_SERVER;
    return -1;
}

void tl__lab_path_format(const tl_tcp_state *st, size_t n, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o < len; i++) {
        int w = snprintf(buf + o, len - o, "%s%s", i ? " -> " : "", tl_tcp_state_name(st[i]));
        if (w < 0) break;
        o += (size_t)w;
    }
    if (n == 0) snprintf(buf, len, "(none)");
}

static bool tuple_of(const tl_packet *p, tl_lab_tuple *t)
{
    int s = tl__lab_addr_side(&p->src);
    if (s < 0 || tl__lab_addr_side(&p->dst) < 0) return false;
    memset(t, 0, sizeof *t);
    if (s == TL_LAB_CLIENT) {
        t->caddr = p->src, t->cport = p->sport, t->saddr = p->dst, t->sport = p->dport;
    } else {
        t->caddr = p->dst, t->cport = p->dport, t->saddr = p->src, t->sport = p->sport;
    }
    return true;
}

static bool tuple_eq(const tl_lab_tuple *a, const tl_lab_tuple *b)
{
    return a->cport == b->cport && a->sport == b->sport && tl_addr_equal(&a->caddr, &b->caddr) &&
           tl_addr_equal(&a->saddr, &b->saddr);
}

static int conn_slot(printer *pr, const tl_lab_tuple *t, uint32_t conn)
{
    for (size_t i = 0; i < pr->nconns; i++)
        if (tuple_eq(&pr->tuple[i], t)) {
            if (conn) pr->conn_no[i] = conn;
            return (int)i;
        }
    if (pr->nconns == MAX_CONNS) return -1;
    pr->tuple[pr->nconns] = *t;
    pr->conn_no[pr->nconns] = conn;
    return (int)pr->nconns++;
}

static tl_frame frame_of(const tl_lab_pkt *p, tl_time ts)
{
    return (tl_frame){ .data = p->data, .caplen = (uint32_t)p->len, .len = (uint32_t)p->len,
                       .ts = ts, .linktype = DLT_RAW_IP, .n = p->n, .offset = -1, .file = "wire" };
}

/* Seconds since the first record, truncated to microseconds as the packet
 * lines' times are (tl_text_packet_line), so that the column never steps
 * back between a packet and the record after it. */
static void rel_time(printer *pr, tl_time ts, char *buf, size_t len)
{
    int64_t ns = (ts.sec - pr->base.sec) * 1000000000 + ((int64_t)ts.nsec - (int64_t)pr->base.nsec);
    if (ns < 0) ns = 0;   /* base is the earliest record */
    snprintf(buf, len, "%3lld.%06lld", (long long)(ns / 1000000000), (long long)(ns % 1000000000 / 1000));
}

/* ---- the endpoint-view trackers ------------------------------------------ */

typedef struct view_ctx {
    tl_lab_result *r;
    int side;                    /* the endpoint whose changes we keep */
    tl_lab_tuple cur;            /* tuple of the packet being fed */
    bool cur_ok;
    tl_addr role_addr[3];        /* address of each tracker role, by conn of cur */
} view_ctx;

static void view_packet(void *ctx, const tl_pkt_view *v)
{
    view_ctx *c = ctx;
    c->cur_ok = v->result == TL_DECODE_OK && v->pkt && tuple_of(v->pkt, &c->cur);
    if (c->cur_ok && (v->from == TL_ROLE_CLIENT || v->from == TL_ROLE_SERVER)) {
        c->role_addr[v->from] = v->pkt->src;
        c->role_addr[v->from == TL_ROLE_CLIENT ? TL_ROLE_SERVER : TL_ROLE_CLIENT] = v->pkt->dst;
    }
}

static void view_state(void *ctx, const tl_state_change *sc)
{
    view_ctx *c = ctx;
    if (!c->cur_ok || sc->endpoint == TL_ROLE_NONE) return;
    if (tl__lab_addr_side(&c->role_addr[sc->endpoint]) != c->side) return;
    tl_lab_inferred in = { .ts = sc->ts, .n = sc->n, .t = c->cur,
                           .endpoint = c->side == TL_LAB_CLIENT ? TL_ROLE_CLIENT : TL_ROLE_SERVER,
                           .from = sc->from, .to = sc->to };
    tl__lab_vec_push(&c->r->inferred, &in);
}

static const tl_sink_ops view_ops = { .packet = view_packet, .state = view_state };

typedef struct order {
    tl_time ts;
    size_t idx;
} order;

static int order_cmp(const void *a, const void *b)
{
    const order *x = a, *y = b;
    int c = tl_time_cmp(x->ts, y->ts);
    if (c) return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Feeds one endpoint's tracker in the order that endpoint met the packets. */
static int infer_side(tl_lab_result *r, int side, char *errbuf)
{
    size_t n = r->pkts.n;
    order *ord = calloc(n ? n : 1, sizeof *ord);
    if (!ord) return tl_err(errbuf, TL_ENOMEM, "lab timeline: out of memory");
    size_t k = 0;
    tl_wire_dir sent = side == TL_LAB_CLIENT ? TL_WIRE_C2S : TL_WIRE_S2C;
    for (size_t i = 0; i < n; i++) {
        const tl_lab_pkt *p = TL_LAB_AT(r->pkts, tl_lab_pkt, i);
        if (p->dir == sent) ord[k++] = (order){ p->ts_in, i };
        else if (!p->dropped) ord[k++] = (order){ p->ts_out, i };
    }
    qsort(ord, k, sizeof *ord, order_cmp);
    view_ctx vc = { .r = r, .side = side };
    tl_sink sink = { &view_ops, &vc };
    tl_tracker *tr;
    tl_tracker_config cfg = { .hash_seed = 1 };
    int err = tl_tracker_new(&tr, &cfg, &sink, errbuf);
    if (err < 0) {
        free(ord);
        return err;
    }
    for (size_t i = 0; i < k; i++) {
        const tl_lab_pkt *p = TL_LAB_AT(r->pkts, tl_lab_pkt, ord[i].idx);
        tl_frame f = frame_of(p, ord[i].ts);
        tl_packet pkt;
        tl_decode_reason why;
        tl_decode_result res = tl_decode(DLT_RAW_IP, p->data, (uint32_t)p->len, false, &pkt, &why);
        tl_tracker_feed(tr, &f, res, why, &pkt);
    }
    tl_tracker_free(tr);
    free(ord);
    return TL_OK;
}

/* ---- JSON output ------------------------------------------------------------ */

/* Copies what sink_json wrote into mem to out, adding "scenario" (and extra
 * members) right after each record's "type". */
static void json_drain(printer *pr, const char *extra)
{
    fflush(pr->mem);
    size_t len = pr->memlen;
    const char *s = pr->membuf;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) + 1 : len;
        const char *line = s + i;
        size_t llen = end - i;
        const char *comma = NULL;
        if (llen > 10 && !strncmp(line, "{\"type\":\"", 9))
            comma = memchr(line + 9, ',', llen - 9);
        if (comma) {
            size_t head = (size_t)(comma - line) + 1;
            fwrite(line, 1, head, pr->out);
            fprintf(pr->out, "\"scenario\":\"%s\",%s", pr->scen, extra ? extra : "");
            fwrite(line + head, 1, llen - head, pr->out);
        } else {
            fwrite(line, 1, llen, pr->out);
        }
        i = end;
    }
    rewind(pr->mem);
    fflush(pr->mem);
}

static void json_head(tl_json *j, const printer *pr, const char *type)
{
    tl_json_obj_begin(j);
    tl_json_kv_str(j, "type", type);
    tl_json_kv_str(j, "scenario", pr->scen);
}

/* ---- the main tracker's sink ------------------------------------------------- */

static const char *action_name(const tl_lab_pkt *p)
{
    if (p->dropped) return "dropped";
    switch (p->action) {
    case TL_WIRE_DELAY: return "delayed";
    case TL_WIRE_HOLD: return "held";
    case TL_WIRE_REORDER: return "reordered";
    default: return NULL;
    }
}

static void flags_text(uint8_t f, char *b)
{
    static const char letters[8] = { 'F', 'S', 'R', 'P', '.', 'U', 'E', 'W' };
    size_t o = 0;
    b[o++] = '[';
    for (int i = 0; i < 8; i++)
        if (f & (1u << i)) b[o++] = letters[i];
    b[o++] = ']';
    b[o] = '\0';
}

/* The packet as `tcplens read` prints it, then what the wire did to it. */
static void print_packet_text(printer *pr, const tl_pkt_view *v)
{
    tl_output_opts oo = { .color = pr->o->color, .ts_digits = 6 };
    tl_line l;
    tl_line_reset(&l);
    tl_text_packet_line(&l, v, &oo, pr->base);
    const char *act = action_name(pr->cur);
    if (act) {
        tl_line_str(&l, "  (");
        tl_line_str(&l, act);
        tl_line_str(&l, " by the wire)");
    }
    tl_line_ch(&l, '\n');
    tl_line_write(&l, pr->out);
}

/* --html: the page is given the packets with the same endpoint-view states
 * as the timeline, and this packet's inferred changes as state records. */
static void html_packet(printer *pr, const tl_pkt_view *shown)
{
    tl_sink *h = pr->o->html;
    if (h->ops->packet) h->ops->packet(h->ctx, shown);
    for (size_t i = 0; i < pr->nfold && h->ops->state; i++) {
        tl_state_change sc = { .ts = shown->frame->ts, .n = shown->frame->n, .conn = shown->conn,
                               .endpoint = pr->fold[i]->endpoint, .from = pr->fold[i]->from,
                               .to = pr->fold[i]->to };
        h->ops->state(h->ctx, &sc);
    }
}

static void lab_packet(void *ctx, const tl_pkt_view *v)
{
    printer *pr = ctx;
    if (v->result != TL_DECODE_OK || !v->pkt) return;
    tl_lab_tuple t;
    if (!tuple_of(v->pkt, &t)) return;
    int slot = conn_slot(pr, &t, v->conn);
    tl_pkt_view shown = *v;
    tl_tcp_state before[2] = { v->client_state, v->server_state };
    if (slot >= 0) {
        before[0] = pr->shown[slot][0];
        before[1] = pr->shown[slot][1];
        for (size_t i = 0; i < pr->nfold; i++) {
            int e = pr->fold[i]->endpoint == TL_ROLE_SERVER;
            if (!pr->inferred_any[slot][e]) before[e] = pr->fold[i]->from;
            pr->shown[slot][e] = pr->fold[i]->to;
            pr->inferred_any[slot][e] = true;
        }
        /* Endpoints without inferred changes yet show the main tracker's view. */
        for (int e = 0; e < 2; e++)
            if (!pr->inferred_any[slot][e]) before[e] = pr->shown[slot][e] = e ? v->server_state : v->client_state;
        shown.client_state = pr->shown[slot][0];
        shown.server_state = pr->shown[slot][1];
    }
    shown.client_before = before[0];
    shown.server_before = before[1];
    if (pr->o->html) html_packet(pr, &shown);
    if (pr->o->json) {
        char extra[64] = "";
        const char *act = action_name(pr->cur);
        if (act) snprintf(extra, sizeof extra, "\"wire\":\"%s\",", act);
        pr->json.ops->packet(pr->json.ctx, &shown);
        json_drain(pr, extra);
        for (size_t i = 0; i < pr->nfold; i++) {
            tl_state_change sc = { .ts = v->frame->ts, .n = v->frame->n, .conn = v->conn,
                                   .endpoint = pr->fold[i]->endpoint, .from = pr->fold[i]->from,
                                   .to = pr->fold[i]->to };
            pr->json.ops->state(pr->json.ctx, &sc);
            json_drain(pr, NULL);
        }
    } else {
        print_packet_text(pr, &shown);
    }
}

static void lab_event(void *ctx, const tl_event *e)
{
    printer *pr = ctx;
    tl_lab_event_rec er = { .kind = e->kind, .by = e->by, .ts = e->ts, .value = e->value };
    tl__lab_vec_push(&pr->r->events, &er);
    if (pr->o->html && pr->o->html->ops->event) pr->o->html->ops->event(pr->o->html->ctx, e);
    if (pr->o->json) {
        pr->json.ops->event(pr->json.ctx, e);
        json_drain(pr, NULL);
        return;
    }
    fprintf(pr->out, "%*s-> %s", 16, "", tl_event_name(e->kind));
    if (e->by != TL_ROLE_NONE) fprintf(pr->out, " (%s)", tl_role_name(e->by));
    fprintf(pr->out, ": %s\n", e->text ? e->text : tl_event_explain(e->kind));
}

/* A read that returned bytes of several of the peer's writes: the lab's
 * own event, as only the calls show it (the wire carries the bytes however
 * the sender's stack cut them). */
static void print_coalesced(printer *pr, const tl_call_rec *c, int writes)
{
    bool server = c->side == TL_LAB_SERVER;
    tl_lab_tuple t;
    memset(&t, 0, sizeof t);
    t.caddr = server ? c->remote : c->local;
    t.cport = server ? c->rport : c->lport;
    t.saddr = server ? c->local : c->remote;
    t.sport = server ? c->lport : c->rport;
    uint32_t conn = 0;
    for (size_t i = 0; i < pr->nconns; i++)
        if (tuple_eq(&pr->tuple[i], &t)) conn = pr->conn_no[i];
    char text[200];
    snprintf(text, sizeof text,
             "%d writes arrived in one read of %lld bytes: TCP is a byte stream and keeps no "
             "message boundaries.", writes, (long long)c->ret);
    tl_event e = { .kind = TL_EV_COALESCED, .ts = c->ts, .conn = conn,
                   .by = server ? TL_ROLE_SERVER : TL_ROLE_CLIENT, .text = text, .value = writes };
    lab_event(pr, &e);
}

static void lab_conn(void *ctx, const tl_conn_record *c)
{
    printer *pr = ctx;
    if (pr->o->html && pr->o->html->ops->conn) pr->o->html->ops->conn(pr->o->html->ctx, c);
    if (pr->o->json) {
        pr->json.ops->conn(pr->json.ctx, c);
        json_drain(pr, NULL);
        return;
    }
    fprintf(pr->out, "%*sconnection #%u: %s, closed by %s: %s; history %s, conn_state %s\n", 16, "",
            c->conn, tl_open_kind_name(c->opened), c->closed_by ? tl_role_name(c->closed_by) : "-",
            tl_close_kind_name(c->closed), c->history, c->conn_state);
}

static void lab_finish(void *ctx, const tl_stats *st)
{
    printer *pr = ctx;
    if (pr->o->html && pr->o->html->ops->finish) pr->o->html->ops->finish(pr->o->html->ctx, st);
}

static const tl_sink_ops lab_ops = { .packet = lab_packet, .event = lab_event, .conn = lab_conn,
                                     .finish = lab_finish };

/* ---- the other records ------------------------------------------------------ */

static void print_state(printer *pr, const tl_lab_inferred *in)
{
    int slot = conn_slot(pr, &in->t, 0);
    int e = in->endpoint == TL_ROLE_SERVER;
    if (slot >= 0) {
        pr->shown[slot][e] = in->to;
        pr->inferred_any[slot][e] = true;
    }
    uint32_t conn = slot >= 0 ? pr->conn_no[slot] : 0;
    if (pr->o->json) {
        tl_state_change sc = { .ts = in->ts, .n = in->n, .conn = conn, .endpoint = in->endpoint,
                               .from = in->from, .to = in->to };
        pr->json.ops->state(pr->json.ctx, &sc);
        json_drain(pr, NULL);
        return;
    }
    char t[32];
    rel_time(pr, in->ts, t, sizeof t);
    fprintf(pr->out, "%s #%-3u   %s %s -> %s\n", t, conn, tl_role_name(in->endpoint),
            tl_tcp_state_name(in->from), tl_tcp_state_name(in->to));
}

static void print_wire(printer *pr, const tl_lab_pkt *p)
{
    const char *who = p->dir == TL_WIRE_C2S ? "client" : "server";
    char fl[16];
    flags_text(p->info.flags, fl);
    double wait = tl_time_diff(p->ts_in, p->ts_out);
    if (pr->o->json) {
        tl_json j;
        tl_json_init(&j, pr->out);
        json_head(&j, pr, "wire");
        tl_json_kv_time(&j, "ts", p->ts_in, 9);
        tl_json_kv_u64(&j, "n", p->n);
        tl_json_kv_str(&j, "from", who);
        tl_json_kv_str(&j, "action", action_name(p));
        tl_json_kv_double(&j, "delivered_after", wait, 6);
        tl_json_obj_end(&j);
        tl_json_end_line(&j);
        return;
    }
    char t[32];
    rel_time(pr, p->ts_in, t, sizeof t);
    fprintf(pr->out, "%s      wire    %s's %s (len %u) %s; delivered %.6f s later as #%llu\n", t, who,
            fl, p->info.payload_len, action_name(p), wait, (unsigned long long)p->n);
}

static void print_rec(printer *pr, const tl_call_rec *c)
{
    const char *side = c->side == TL_LAB_SERVER ? "server" : "client";
    char text[256];
    if (pr->o->json) {
        tl_json j;
        tl_json_init(&j, pr->out);
        char l[64], rem[64];
        if (c->type == TL_REC_CALL) {
            json_head(&j, pr, "call");
            tl_json_kv_time(&j, "ts", c->ts, 9);
            tl_json_kv_str(&j, "side", side);
            tl_json_kv_str(&j, "call", c->call);
            bool bytes = !strcmp(c->call, "send") || !strcmp(c->call, "recv");
            snprintf(text, sizeof text, "%s%s", c->args, bytes ? " bytes" : "");
            tl_json_kv_str(&j, "args", text);
            tl_json_kv_i64(&j, "ret", c->ret);
            if (c->err) tl_json_kv_str(&j, "errno", tl_errno_name(c->err));
            else tl_json_kv_null(&j, "errno");
            if (c->sig == SIGPIPE) tl_json_kv_str(&j, "signal", "SIGPIPE");
            else if (c->sig) tl_json_kv_i64(&j, "signal", c->sig);
            else tl_json_kv_null(&j, "signal");
            tl_json_kv_str(&j, "text", tl_call_format(c, text, sizeof text));
        } else if (c->type == TL_REC_SNAP) {
            json_head(&j, pr, "kstate");
            tl_json_kv_time(&j, "ts", c->ts, 9);
            tl_json_kv_str(&j, "side", c->snap_ns == TL_LAB_SERVER ? "server" : "client");
            tl_json_kv_str(&j, "local", tl_sockdiag_endpoint(&c->local, c->lport, false, l, sizeof l));
            tl_json_kv_str(&j, "remote", tl_sockdiag_endpoint(&c->remote, c->rport, true, rem, sizeof rem));
            tl_json_kv_null(&j, "from");
            tl_json_kv_str(&j, "to", tl_tcp_state_name((tl_tcp_state)c->state));
            tl_json_kv_str(&j, "source", "sock_diag");
            tl_json_kv_bool(&j, "snapshot", true);
            tl_json_kv_str(&j, "why", c->note);
        } else {
            json_head(&j, pr, "note");
            tl_json_kv_time(&j, "ts", c->ts, 9);
            tl_json_kv_str(&j, "side", side);
            tl_json_kv_str(&j, "text", c->note);
        }
        tl_json_obj_end(&j);
        tl_json_end_line(&j);
        return;
    }
    char t[32];
    rel_time(pr, c->ts, t, sizeof t);
    if (c->type == TL_REC_SNAP) side = c->snap_ns == TL_LAB_SERVER ? "server" : "client";
    fprintf(pr->out, "%s      %-7s %s%s\n", t, side, c->type == TL_REC_NOTE ? "# " : "",
            tl_call_format(c, text, sizeof text));
}

static void print_kstate(printer *pr, const tl_kstate_event *k)
{
    int side = tl__lab_addr_side(&k->local);
    const char *sname = side == TL_LAB_SERVER ? "server" : "client";
    char l[64], rem[64];
    tl_sockdiag_endpoint(&k->local, k->lport, false, l, sizeof l);
    tl_sockdiag_endpoint(&k->remote, k->rport, true, rem, sizeof rem);
    if (pr->o->json) {
        tl_json j;
        tl_json_init(&j, pr->out);
        json_head(&j, pr, "kstate");
        tl_json_kv_time(&j, "ts", k->ts, 9);
        tl_json_kv_str(&j, "side", sname);
        tl_json_kv_str(&j, "local", l);
        tl_json_kv_str(&j, "remote", rem);
        tl_json_kv_str(&j, "from", tl_tcp_state_name(k->from));
        tl_json_kv_str(&j, "to", tl_tcp_state_name(k->to));
        tl_json_kv_str(&j, "source", tl_kstate_source_name(k->source));
        tl_json_obj_end(&j);
        tl_json_end_line(&j);
        return;
    }
    char t[32];
    rel_time(pr, k->ts, t, sizeof t);
    fprintf(pr->out, "%s      %-7s kernel: %s %s %s -> %s (%s)\n", t, sname, l, rem,
            tl_tcp_state_name(k->from), tl_tcp_state_name(k->to), tl_kstate_source_name(k->source));
}

/* ---- the merge --------------------------------------------------------------- */

static int item_cmp(const void *a, const void *b)
{
    const item *x = a, *y = b;
    int c = tl_time_cmp(x->ts, y->ts);
    if (c) return c;
    if (x->prio != y->prio) return x->prio - y->prio;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int build_items(tl_lab_result *r, item **out, size_t *nout)
{
    size_t cap = r->pkts.n * 2 + r->inferred.n + r->recs.n + r->kev.n + 1, n = 0;
    item *it = calloc(cap, sizeof *it);
    if (!it) return TL_ENOMEM;
    for (size_t i = 0; i < r->pkts.n; i++) {
        const tl_lab_pkt *p = TL_LAB_AT(r->pkts, tl_lab_pkt, i);
        tl_time ts = p->dropped ? p->ts_in : p->ts_out;
        it[n] = (item){ ts, 0, n, IT_PKT, i, false }, n++;
        if (!p->dropped && p->action != TL_WIRE_PASS) it[n] = (item){ p->ts_in, 2, n, IT_WIRE, i, false }, n++;
    }
    for (size_t i = 0; i < r->inferred.n; i++)
        it[n] = (item){ TL_LAB_AT(r->inferred, tl_lab_inferred, i)->ts, 1, n, IT_STATE, i, false }, n++;
    for (size_t i = 0; i < r->recs.n; i++)
        it[n] = (item){ TL_LAB_AT(r->recs, tl_call_rec, i)->ts, 2, n, IT_REC, i, false }, n++;
    for (size_t i = 0; i < r->kev.n; i++)
        it[n] = (item){ TL_LAB_AT(r->kev, tl_kstate_event, i)->ts, 2, n, IT_KSTATE, i, false }, n++;
    qsort(it, n, sizeof *it, item_cmp);
    *out = it;
    *nout = n;
    return TL_OK;
}

static void print_header(printer *pr)
{
    tl_lab_result *r = pr->r;
    const char *ks = !r->have_kstate ? "none" : tl_kstate_source_name(r->ksource);
    if (pr->o->json) {
        tl_json j;
        tl_json_init(&j, pr->out);
        json_head(&j, pr, "scenario");
        tl_json_kv_str(&j, "summary", r->sc->summary);
        tl_json_kv_time(&j, "ts", pr->base, 9);
        tl_json_kv_str(&j, "kernel_source", ks);
        tl_json_kv_i64(&j, "ip_version", r->family == AF_INET6 ? 6 : 4);
        if (r->kstate_why[0]) tl_json_kv_str(&j, "kernel_source_why", r->kstate_why);
        tl_json_obj_end(&j);
        tl_json_end_line(&j);
        return;
    }
    fprintf(pr->out, "\n=== lab %s: %s\n", r->sc->name, r->sc->summary);
    bool v6 = r->family == AF_INET6;
    fprintf(pr->out, "    client %s, server %s%s%s:%d; kernel states from %s%s%s\n\n",
            tl_lab_addr(TL_LAB_CLIENT, r->family), v6 ? "[" : "", tl_lab_addr(TL_LAB_SERVER, r->family),
            v6 ? "]" : "", TL_LAB_PORT, ks, r->kstate_why[0] ? ": " : "", r->kstate_why);
}

static int open_dumper(printer *pr, char *errbuf)
{
    if (!pr->o->pcap_dir) return TL_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.pcap", pr->o->pcap_dir, pr->scen);
    return tl_dumper_open(&pr->dumper, path, DLT_RAW_IP, 9, errbuf);
}

int tl__lab_timeline(tl_lab_result *r, const tl_lab_opts *o, char *errbuf)
{
    /* Number packets in delivery order, as the pcap will. */
    for (size_t i = 0; i < r->pkts.n; i++) TL_LAB_AT(r->pkts, tl_lab_pkt, i)->n = i + 1;
    int err;
    if ((err = infer_side(r, TL_LAB_CLIENT, errbuf)) < 0 || (err = infer_side(r, TL_LAB_SERVER, errbuf)) < 0)
        return err;
    item *it;
    size_t n;
    if ((err = build_items(r, &it, &n)) < 0) return tl_err(errbuf, err, "lab timeline: out of memory");
    int *writes = malloc((r->recs.n ? r->recs.n : 1) * sizeof *writes);
    if (!writes) {
        free(it);
        return tl_err(errbuf, TL_ENOMEM, "lab timeline: out of memory");
    }
    tl__lab_writes_per_read(r, writes);
    printer pr;
    memset(&pr, 0, sizeof pr);
    pr.r = r;
    pr.o = o;
    pr.out = o->out;
    pr.scen = r->sc->name;
    pr.base = n ? it[0].ts : (tl_time){ 0, 0 };
    if (o->json) {
        tl_output_opts jo = { .ts_digits = 9 };
        pr.mem = open_memstream(&pr.membuf, &pr.memlen);
        if (!pr.mem || tl_sink_json_new(&pr.json, pr.mem, &jo) < 0) {
            if (pr.mem) fclose(pr.mem);
            free(pr.membuf);
            free(it);
            free(writes);
            return tl_err(errbuf, TL_ENOMEM, "lab timeline: JSON sink");
        }
    }
    if ((err = open_dumper(&pr, errbuf)) < 0) goto out;
    print_header(&pr);
    if (o->html) tl__sink_html_heading(o->html, pr.scen, r->sc->summary);
    tl_sink sink = { &lab_ops, &pr };
    tl_tracker *tr;
    tl_tracker_config cfg = { .hash_seed = 1 };
    if ((err = tl_tracker_new(&tr, &cfg, &sink, errbuf)) < 0) goto out;
    for (size_t i = 0; i < n; i++) {
        if (it[i].consumed) continue;
        switch (it[i].kind) {
        case IT_PKT: {
            const tl_lab_pkt *p = TL_LAB_AT(r->pkts, tl_lab_pkt, it[i].idx);
            /* This packet's own state changes are shown on its line. */
            pr.nfold = 0;
            for (size_t j = i + 1; j < n && tl_time_cmp(it[j].ts, it[i].ts) == 0; j++) {
                if (it[j].kind != IT_STATE || pr.nfold == 8) continue;
                const tl_lab_inferred *in = TL_LAB_AT(r->inferred, tl_lab_inferred, it[j].idx);
                if (in->n != p->n) continue;
                pr.fold[pr.nfold++] = in;
                it[j].consumed = true;
            }
            pr.cur = p;
            tl_frame f = frame_of(p, it[i].ts);
            tl_packet pkt;
            tl_decode_reason why;
            tl_decode_result res = tl_decode(DLT_RAW_IP, p->data, (uint32_t)p->len, false, &pkt, &why);
            tl_tracker_feed(tr, &f, res, why, &pkt);
            if (pr.dumper) tl_dumper_write(pr.dumper, &f);
            pr.nfold = 0;
            break;
        }
        case IT_STATE: print_state(&pr, TL_LAB_AT(r->inferred, tl_lab_inferred, it[i].idx)); break;
        case IT_WIRE: print_wire(&pr, TL_LAB_AT(r->pkts, tl_lab_pkt, it[i].idx)); break;
        case IT_REC:
            print_rec(&pr, TL_LAB_AT(r->recs, tl_call_rec, it[i].idx));
            if (writes[it[i].idx] >= 2)
                print_coalesced(&pr, TL_LAB_AT(r->recs, tl_call_rec, it[i].idx), writes[it[i].idx]);
            break;
        case IT_KSTATE: print_kstate(&pr, TL_LAB_AT(r->kev, tl_kstate_event, it[i].idx)); break;
        }
    }
    tl_tracker_finish(tr, NULL);
    tl_tracker_free(tr);
    err = TL_OK;
out:
    if (pr.dumper) tl_dumper_close(pr.dumper);
    if (o->json) {
        tl_sink_free(&pr.json);
        fclose(pr.mem);
        free(pr.membuf);
    }
    free(it);
    free(writes);
    return err;
}

/* ---- checks and skips ---------------------------------------------------------- */

int tl__lab_print_checks(const tl_lab_result *r, const tl_lab_opts *o)
{
    int failed = 0;
    if (!o->json) fprintf(o->out, "\n--- checks (%s)\n", r->sc->name);
    for (size_t i = 0; i < r->checks.n; i++) {
        const tl_lab_check_rec *c = TL_LAB_AT(r->checks, tl_lab_check_rec, i);
        failed += !c->ok;
        if (o->json) {
            tl_json j;
            tl_json_init(&j, o->out);
            tl_json_obj_begin(&j);
            tl_json_kv_str(&j, "type", "check");
            tl_json_kv_str(&j, "scenario", r->sc->name);
            tl_json_kv_str(&j, "name", c->name);
            tl_json_kv_bool(&j, "ok", c->ok);
            tl_json_kv_str(&j, "text", c->text);
            tl_json_obj_end(&j);
            tl_json_end_line(&j);
        } else {
            const char *tag = c->ok ? "PASS" : "FAIL";
            if (o->color) tag = c->ok ? "\033[32mPASS\033[0m" : "\033[1;31mFAIL\033[0m";
            fprintf(o->out, "%s  %s: %s\n", tag, c->name, c->text);
        }
    }
    if (!o->json)
        fprintf(o->out, "=== %s: %s (%zu checks, %d failed)\n", r->sc->name, failed ? "FAILED" : "passed",
                r->checks.n, failed);
    return failed;
}

void tl__lab_print_skip(const tl_scenario *sc, const tl_lab_opts *o, const char *why)
{
    if (o->json) {
        tl_json j;
        tl_json_init(&j, o->out);
        tl_json_obj_begin(&j);
        tl_json_kv_str(&j, "type", "skip");
        tl_json_kv_str(&j, "scenario", sc->name);
        tl_json_kv_str(&j, "reason", why);
        tl_json_obj_end(&j);
        tl_json_end_line(&j);
        return;
    }
    fprintf(o->out, "SKIPPED  %s: %s\n", sc->name, why);
}
