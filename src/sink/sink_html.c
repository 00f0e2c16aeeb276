/* sink_html.c -- `--html FILE` (SPEC.md 3.5): one self-contained HTML page
 * with, per connection, a ladder diagram (SVG), a state timeline of both
 * endpoints, the packet table and a click-to-decode panel.
 *
 * The tracker hands records over as they happen; a connection's section
 * can only be drawn once it is complete, so its packets, state changes and
 * events are collected while it is open and written out (then freed) when
 * its connection record arrives. Memory is bounded by the caps in
 * html_int.h. The connection index is written last but shown first (CSS
 * order), so nothing has to be held back for it but one short row per
 * drawn connection.
 */
#include <stdlib.h>
#include <string.h>

#include "sink/html_int.h"
#include "sink/sink_html.h"

/* ---- the open connections: open addressing on the connection number ---- */

static size_t slot_of(const tl_html *h, uint32_t id)
{
    return (size_t)(id * 2654435761u) & (h->nslots - 1);
}

static tl_html_conn *conn_find(const tl_html *h, uint32_t id)
{
    if (!h->nslots) return NULL;
    for (size_t i = slot_of(h, id);; i = (i + 1) & (h->nslots - 1)) {
        if (!h->slots[i]) return NULL;
        if (h->slots[i]->id == id) return h->slots[i];
    }
}

static void slot_put(tl_html *h, tl_html_conn *c)
{
    size_t i = slot_of(h, c->id);
    while (h->slots[i]) i = (i + 1) & (h->nslots - 1);
    h->slots[i] = c;
}

static tl_html_conn *conn_add(tl_html *h, uint32_t id)
{
    if ((h->nopen + 1) * 2 > h->nslots) {
        size_t n = h->nslots ? h->nslots * 2 : 64;
        tl_html_conn **old = h->slots;
        size_t oldn = h->nslots;
        h->slots = calloc(n, sizeof *h->slots);
        if (!h->slots) {
            h->slots = old;
            return NULL;
        }
        h->nslots = n;
        for (size_t i = 0; i < oldn; i++)
            if (old[i]) slot_put(h, old[i]);
        free(old);
    }
    tl_html_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->id = id;
    slot_put(h, c);
    h->nopen++;
    return c;
}

/* Removes c from the table (backward-shift deletion keeps probes intact). */
static void conn_remove(tl_html *h, const tl_html_conn *c)
{
    size_t i = slot_of(h, c->id);
    while (h->slots[i] != c) i = (i + 1) & (h->nslots - 1);
    h->slots[i] = NULL;
    for (size_t j = (i + 1) & (h->nslots - 1); h->slots[j]; j = (j + 1) & (h->nslots - 1)) {
        size_t home = slot_of(h, h->slots[j]->id);
        /* move j back to i when its home is not in (i, j] (cyclically) */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        h->slots[i] = h->slots[j];
        h->slots[j] = NULL;
        i = j;
    }
    h->nopen--;
}

static void conn_free(tl_html *h, tl_html_conn *c)
{
    for (size_t i = 0; i < c->nev; i++) free(c->ev[i].text);
    h->held -= c->npkts;
    free(c->ev);
    free(c->ch);
    free(c->pkts);
    free(c);
}

static bool grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, nc * size);
    if (!p) return false;
    *items = p;
    *cap = nc;
    return true;
}

/* ---- collecting ---------------------------------------------------------- */

double tl__html_time(const tl_html *h, tl_time ts)
{
    return h->o.abs_time ? tl_time_to_double(ts) : tl_time_diff(h->t0, ts);
}

static void copy_pkt(const tl_html *h, const tl_pkt_view *v, tl_html_pkt *d)
{
    const tl_packet *p = v->pkt;
    memset(d, 0, sizeof *d);
    d->n = v->frame->n;
    d->ts = v->frame->ts;
    d->src = p->src;
    d->dst = p->dst;
    d->sport = p->sport;
    d->dport = p->dport;
    d->win = p->win;
    d->urg_ptr = p->urg_ptr;
    d->cksum = p->cksum;
    d->n_vlan = p->n_vlan > 2 ? 2 : p->n_vlan;
    memcpy(d->vlan, p->vlan, sizeof d->vlan);
    d->seq = p->seq;
    d->ack = p->ack;
    d->rel_seq = v->rel_seq;
    d->rel_ack = v->rel_ack;
    d->rel_ack_valid = v->rel_ack_valid;
    d->len = p->payload_len;
    d->caplen = p->payload_caplen;
    d->ip_len = p->ip_len;
    d->ip_hlen = p->ip_hlen;
    d->tcp_hlen = p->tcp_hlen;
    d->win_scaled = v->win_scaled;
    d->flags = p->flags;
    d->from = (uint8_t)v->from;
    d->ip_version = p->ip_version;
    d->ttl = p->ttl;
    d->cksum_status = (uint8_t)p->cksum_status;
    d->ip_options = p->ip_options;
    d->skipped = v->skipped;
    d->before[0] = (uint8_t)v->client_before;
    d->before[1] = (uint8_t)v->server_before;
    d->after[0] = (uint8_t)v->client_state;
    d->after[1] = (uint8_t)v->server_state;
    d->n_analysis = v->n_analysis > TL_MAX_ANALYSIS ? TL_MAX_ANALYSIS : v->n_analysis;
    for (unsigned i = 0; i < d->n_analysis; i++) d->analysis[i] = (uint8_t)v->analysis[i];
    d->opt = p->opt;
    if ((h->o.hex || h->o.ascii) && p->payload) {
        uint32_t n = p->payload_caplen < TL_HTML_PAYLOAD ? p->payload_caplen : TL_HTML_PAYLOAD;
        memcpy(d->pl, p->payload, n);
        d->npl = (uint8_t)n;
    }
}

static void add_misc(tl_html *h, const tl_pkt_view *v)
{
    if (h->nmisc >= TL_HTML_MAX_MISC) {
        h->misc_more++;
        return;
    }
    if (!h->misc && !(h->misc = calloc(TL_HTML_MAX_MISC, sizeof *h->misc))) return;
    tl_html_misc *m = &h->misc[h->nmisc++];
    memset(m, 0, sizeof *m);
    m->n = v->frame ? v->frame->n : 0;
    if (v->frame) m->ts = v->frame->ts;
    m->result = (uint8_t)v->result;
    m->reason = (uint8_t)v->reason;
    m->is_tcp = v->result == TL_DECODE_OK && v->pkt;
    if (m->is_tcp) copy_pkt(h, v, &m->pkt);
}

static void on_packet(void *ctx, const tl_pkt_view *v)
{
    tl_html *h = ctx;
    if (!h->have_t0 && v->frame) {
        h->t0 = v->frame->ts;
        h->have_t0 = true;
    }
    if (v->result == TL_DECODE_TRUNCATED || v->result == TL_DECODE_MALFORMED) {
        add_misc(h, v);
        return;
    }
    if (v->result != TL_DECODE_OK || !v->pkt || !v->frame) return;
    if (v->conn == 0) {
        add_misc(h, v);
        return;
    }
    tl_html_conn *c = conn_find(h, v->conn);
    if (!c) {
        if (h->section + h->nopen >= TL_HTML_MAX_SECTIONS || !(c = conn_add(h, v->conn))) {
            h->pkts_not_drawn++;
            return;
        }
    }
    if (c->npkts >= TL_HTML_MAX_PKTS || h->held >= TL_HTML_BUDGET ||
        !grow((void **)&c->pkts, &c->cap, c->npkts, sizeof *c->pkts)) {
        c->more++;
        return;
    }
    copy_pkt(h, v, &c->pkts[c->npkts++]);
    h->held++;
}

static void on_state(void *ctx, const tl_state_change *sc)
{
    tl_html *h = ctx;
    tl_html_conn *c = conn_find(h, sc->conn);
    if (!c) return;
    if (c->nch >= TL_HTML_MAX_CHANGES || !grow((void **)&c->ch, &c->chcap, c->nch, sizeof *c->ch))
        return;
    c->ch[c->nch++] = (tl_html_change){ .n = sc->n, .ts = sc->ts, .endpoint = (uint8_t)sc->endpoint,
                                        .from = (uint8_t)sc->from, .to = (uint8_t)sc->to };
}

static void on_event(void *ctx, const tl_event *e)
{
    tl_html *h = ctx;
    tl_html_conn *c = conn_find(h, e->conn);
    if (!c) return;
    if (c->nev >= TL_HTML_MAX_EVENTS || !grow((void **)&c->ev, &c->evcap, c->nev, sizeof *c->ev)) {
        c->ev_more++;
        return;
    }
    tl_html_event *d = &c->ev[c->nev++];
    d->n = e->n;
    d->ts = e->ts;
    d->value = e->value;
    d->kind = (uint8_t)e->kind;
    d->by = (uint8_t)e->by;
    /* The fixed explanation is not copied; a filled-in one is. */
    d->text = e->text && strcmp(e->text, tl_event_explain(e->kind)) ? strdup(e->text) : NULL;
}

static void on_conn(void *ctx, const tl_conn_record *r)
{
    tl_html *h = ctx;
    tl_html_conn *c = conn_find(h, r->conn);
    if (!c) {
        h->conns_not_drawn++;
        return;
    }
    tl__html_conn_section(h, c, r);
    conn_remove(h, c);
    conn_free(h, c);
}

static void on_error(void *ctx, const tl_error_record *e)
{
    tl_html *h = ctx;
    if (h->nerrs >= TL_HTML_MAX_ERRORS) {
        h->errs_more++;
        return;
    }
    if (!h->errs && !(h->errs = calloc(TL_HTML_MAX_ERRORS, sizeof *h->errs))) return;
    tl_error_record *d = &h->errs[h->nerrs++];
    *d = *e;
    d->file = e->file ? strdup(e->file) : NULL;
    d->text = e->text ? strdup(e->text) : NULL;
}

/* ---- writing what is left ------------------------------------------------- */

/* Connections that never got a record (finish not called) are drawn as they are. */
static void flush_open(tl_html *h)
{
    for (size_t i = 0; h->nopen && i < h->nslots; i++) {
        tl_html_conn *c = h->slots[i];
        if (!c) continue;
        tl__html_conn_section(h, c, NULL);
        conn_remove(h, c);
        conn_free(h, c);
        i = (size_t)-1;   /* the table shifted: start over */
    }
}

static void write_errors(tl_html *h)
{
    if (!h->nerrs) return;
    fputs("<section class=\"errors\"><h2>Errors in the input</h2><ul>\n", h->fp);
    for (size_t i = 0; i < h->nerrs; i++) {
        tl_error_record *e = &h->errs[i];
        fputs("<li><code>", h->fp);
        tl__html_esc(h->fp, e->file ? e->file : "(input)");
        fputs("</code>", h->fp);
        if (e->offset >= 0) fprintf(h->fp, " offset %lld", (long long)e->offset);
        if (e->packet) fprintf(h->fp, ", packet %llu", (unsigned long long)e->packet);
        fputs(": ", h->fp);
        tl__html_esc(h->fp, e->text);
        fputs("</li>\n", h->fp);
        free((char *)e->file);
        free((char *)e->text);
    }
    if (h->errs_more) fprintf(h->fp, "<li class=\"more\">%llu more errors not listed</li>\n",
                              (unsigned long long)h->errs_more);
    fputs("</ul></section>\n", h->fp);
    h->nerrs = 0;
    h->errs_more = 0;
}

static void on_finish(void *ctx, const tl_stats *st)
{
    tl_html *h = ctx;
    flush_open(h);
    tl__html_misc_section(h);
    write_errors(h);
    FILE *fp = h->fp;
    fprintf(fp, "<section class=\"summary\"><h2>Summary</h2><p>%llu packets: %llu TCP, %llu other, "
                "%llu IP fragments, %llu malformed, %llu truncated",
            (unsigned long long)st->packets, (unsigned long long)st->tcp, (unsigned long long)st->other,
            (unsigned long long)st->fragments, (unsigned long long)st->malformed,
            (unsigned long long)st->truncated);
    if (st->bad_checksum) fprintf(fp, ", %llu with bad checksums skipped", (unsigned long long)st->bad_checksum);
    if (st->filtered) fprintf(fp, ", %llu filtered out", (unsigned long long)st->filtered);
    fprintf(fp, ".<br>%llu connections (at most %llu at once)", (unsigned long long)st->conns,
            (unsigned long long)st->peak_conns);
    if (st->evicted) fprintf(fp, ", %llu evicted early", (unsigned long long)st->evicted);
    if (st->errors) fprintf(fp, "; %llu input errors", (unsigned long long)st->errors);
    if (st->has_kernel_stats)
        fprintf(fp, "; %llu dropped by the kernel, %llu by the interface",
                (unsigned long long)st->kernel_dropped, (unsigned long long)st->iface_dropped);
    fputs(".</p></section>\n", fp);
}

static void write_index(tl_html *h)
{
    FILE *fp = h->fp;
    if (h->nindex < 2 && !h->conns_not_drawn) return;
    fprintf(fp, "<nav class=\"index\"><h2>Connections (%zu drawn)</h2>\n", h->nindex);
    if (h->nindex) {
        fputs("<table><thead><tr><th>#</th><th>uid</th><th>client</th><th>server</th><th>conn_state</th>"
              "<th>history</th><th>opened</th><th>closed</th><th>duration</th><th>pkts c/s</th>"
              "<th>bytes c/s</th></tr></thead><tbody>\n", fp);
        for (size_t i = 0; i < h->nindex; i++) {
            const tl_html_index *x = &h->index[i];
            fprintf(fp, "<tr><td><a href=\"#s%u\">%u</a></td><td><code>", x->section, x->conn);
            tl__html_esc(fp, x->uid);
            fprintf(fp, "</code></td><td>%s:%u</td><td>%s:%u</td><td>", x->client, x->cport, x->server, x->sport);
            tl__html_esc(fp, x->conn_state);
            fputs("</td><td><code>", fp);
            tl__html_esc(fp, x->history);
            fprintf(fp, "</code></td><td>%s</td><td>%s%s%s</td><td class=\"num\">%.6f</td>"
                        "<td class=\"num\">%llu/%llu</td><td class=\"num\">%llu/%llu</td></tr>\n",
                    x->opened ? tl_open_kind_name((tl_open_kind)x->opened) : "-",
                    tl_close_kind_name((tl_close_kind)x->closed), x->closed_by ? " by " : "",
                    x->closed_by ? tl_role_name((tl_role)x->closed_by) : "", x->duration,
                    (unsigned long long)x->pkts[0], (unsigned long long)x->pkts[1],
                    (unsigned long long)x->bytes[0], (unsigned long long)x->bytes[1]);
        }
        fputs("</tbody></table>\n", fp);
    }
    if (h->conns_not_drawn || h->pkts_not_drawn)
        fprintf(fp, "<p class=\"more\">%llu more connections (%llu packets) not drawn: the page draws "
                    "at most %d connections.</p>\n",
                (unsigned long long)h->conns_not_drawn, (unsigned long long)h->pkts_not_drawn,
                TL_HTML_MAX_SECTIONS);
    fputs("</nav>\n", fp);
}

static void on_free(void *ctx)
{
    tl_html *h = ctx;
    flush_open(h);
    tl__html_misc_section(h);
    write_errors(h);
    write_index(h);
    fprintf(h->fp, "<script>\n%s</script>\n</body>\n</html>\n", tl__html_js);
    fflush(h->fp);
    free(h->slots);
    free(h->index);
    free(h->misc);
    free(h->errs);
    free(h);
}

static const tl_sink_ops tl_html_ops = {
    .packet = on_packet,
    .state = on_state,
    .event = on_event,
    .conn = on_conn,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
};

void tl__sink_html_heading(tl_sink *s, const char *title, const char *text)
{
    if (!s || s->ops != &tl_html_ops) return;
    tl_html *h = s->ctx;
    h->have_t0 = false;   /* times restart at the first packet of what follows */
    fputs("<section class=\"scenario\"><h2>", h->fp);
    tl__html_esc(h->fp, title);
    fputs("</h2>", h->fp);
    if (text && *text) {
        fputs("<p>", h->fp);
        tl__html_esc(h->fp, text);
        fputs("</p>", h->fp);
    }
    fputs("</section>\n", h->fp);
}

int tl_sink_html_new(tl_sink *out, FILE *fp, const tl_output_opts *o)
{
    if (!out || !fp) return TL_EINVAL;
    tl_html *h = calloc(1, sizeof *h);
    if (!h) return TL_ENOMEM;
    h->fp = fp;
    if (o) h->o = *o;
    fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>tcplens report</title>\n<style>\n%s</style>\n</head>\n<body>\n"
                "<header><h1>tcplens report</h1><p class=\"mut\">Each connection: its ladder "
                "(client left, server right, each endpoint's RFC 9293 state written where it "
                "changes), the states over time, and its packets. Click an arrow or a row to see "
                "that packet's decode and what it did.</p></header>\n",
            tl__html_css);
    out->ops = &tl_html_ops;
    out->ctx = h;
    return TL_OK;
}
