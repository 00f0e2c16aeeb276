/* html_conn.c -- one connection's section of the `--html` report: facts
 * from its record, the ladder diagram (SVG), the state timeline of both
 * endpoints, the packet table and the decode panel's data.
 *
 * The ladder is the textbook picture (RFC 9293 section 3.5's figures): two
 * lifelines, one arrow per segment going down from sender to receiver,
 * labelled with flags, seq, ack, len and window; the sender's new state is
 * written at the arrow's tail, the receiver's at its head. Vertical space
 * grows with the logarithm of the time between segments, so bursts stay
 * compact and pauses are visible.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sink/html_int.h"

#define SVG_W 1120
#define X_TIME 6
#define X_C 300          /* client lifeline */
#define X_S 720          /* server lifeline */
#define X_EV 900         /* events column */
#define Y0 58
#define SLANT 16         /* how far an arrow drops between the lines */

static const char *state_name(uint8_t s)
{
    return tl_tcp_state_name((tl_tcp_state)s);
}

/* The state changes to show, per drawn packet in order: the records that
 * came for it, and for an endpoint without a record whose state still
 * differs before and after the packet (a feeder that sends no state
 * records, as the lab for endpoints it has no inference for), that
 * difference. Records are in packet order, as the tracker emits them. */
static tl_html_change *changes_of(const tl_html_conn *c, size_t *n)
{
    tl_html_change *d = malloc((c->nch + 2 * c->npkts + 1) * sizeof *d);
    size_t k = 0, r = 0;
    for (size_t i = 0; d && i < c->npkts; i++) {
        const tl_html_pkt *p = &c->pkts[i];
        bool had[2] = { false, false };
        while (r < c->nch && c->ch[r].n < p->n) r++;
        for (; r < c->nch && c->ch[r].n == p->n; r++) {
            had[c->ch[r].endpoint == TL_ROLE_SERVER] = true;
            d[k++] = c->ch[r];
        }
        for (int e = 0; e < 2; e++)
            if (!had[e] && p->before[e] != p->after[e])
                d[k++] = (tl_html_change){ .n = p->n, .ts = p->ts,
                                           .endpoint = (uint8_t)(e ? TL_ROLE_SERVER : TL_ROLE_CLIENT),
                                           .from = p->before[e], .to = p->after[e] };
    }
    *n = k;
    return d;
}

/* "FIN-WAIT-2 → TIME-WAIT": the states endpoint e entered on packet n. */
static void path_of(const tl_html_change *ch, size_t nch, uint64_t n, int role, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < nch && len + 1 < size; i++) {
        if (ch[i].n != n || ch[i].endpoint != role) continue;
        int w = snprintf(buf + len, size - len, "%s%s", len ? " \xe2\x86\x92 " : "", state_name(ch[i].to));
        if (w < 0) break;
        len += (size_t)w;
    }
    if (len >= size) buf[size - 1] = '\0';
}

/* Non-analysis events and analysis flags of packet n, comma separated. */
static void notes_of(const tl_html_conn *c, const tl_html_pkt *p, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->nev && len + 1 < size; i++) {
        if (c->ev[i].n != p->n || tl_event_is_analysis((tl_event_kind)c->ev[i].kind)) continue;
        int w = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", tl_event_name((tl_event_kind)c->ev[i].kind));
        if (w < 0) break;
        len += (size_t)w;
    }
    for (unsigned i = 0; i < p->n_analysis && len + 1 < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                         tl_event_name((tl_event_kind)p->analysis[i]));
        if (w < 0) break;
        len += (size_t)w;
    }
    if (len >= size) buf[size - 1] = '\0';
}

static const char *pkt_class(const tl_html_pkt *p)
{
    if (p->flags & TL_TH_RST) return p->n_analysis ? " rst warn" : " rst";
    if (p->flags & TL_TH_SYN) return p->n_analysis ? " syn warn" : " syn";
    if (p->flags & TL_TH_FIN) return p->n_analysis ? " fin warn" : " fin";
    return p->n_analysis ? " warn" : "";
}

static void arrow_label(const tl_html *h, const tl_html_pkt *p, char *buf, size_t size)
{
    char fl[12];
    tl__html_flags(p->flags, fl);
    uint32_t seq = h->o.abs_seq ? p->seq : p->rel_seq, ack = h->o.abs_seq ? p->ack : p->rel_ack;
    int n = snprintf(buf, size, "%s seq=%u", fl[0] ? fl : "none", seq);
    if (p->rel_ack_valid && n > 0 && (size_t)n < size) n += snprintf(buf + n, size - (size_t)n, " ack=%u", ack);
    if (n > 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, " len=%u win=%u", p->len, p->win);
}

static double y_step(const tl_html_pkt *prev, const tl_html_pkt *p)
{
    if (!prev) return 0;
    double gap_us = tl_time_diff(prev->ts, p->ts) * 1e6;
    if (!(gap_us > 0)) gap_us = 0;
    double extra = 6 * log10(1 + gap_us);
    return 30 + (extra > 36 ? 36 : extra);
}

static void write_ladder(tl_html *h, const tl_html_conn *c, const tl_html_change *ch, size_t nch,
                         const char *client, const char *server, const tl_conn_record *rec)
{
    FILE *fp = h->fp;
    double y = Y0 + 8, ys[TL_HTML_MAX_PKTS];
    for (size_t i = 0; i < c->npkts; i++) {
        y += y_step(i ? &c->pkts[i - 1] : NULL, &c->pkts[i]);
        ys[i] = y;
    }
    double y_end = (c->npkts ? y + SLANT : Y0) + 30;
    double height = y_end + (c->more ? 44 : 22);
    fprintf(fp, "<svg class=\"ladder-svg\" width=\"%d\" height=\"%.0f\" "
                "viewBox=\"0 0 %d %.0f\" role=\"img\" aria-label=\"ladder diagram\">\n",
            SVG_W, height, SVG_W, height);
    fprintf(fp, "<text class=\"hd tm\" x=\"%d\" y=\"24\">time (s)</text>\n", X_TIME);
    fprintf(fp, "<text class=\"hd cs\" x=\"%d\" y=\"24\" text-anchor=\"middle\">client %s</text>\n", X_C, client);
    fprintf(fp, "<text class=\"hd ss\" x=\"%d\" y=\"24\" text-anchor=\"middle\">server %s</text>\n", X_S, server);
    fprintf(fp, "<text class=\"hd tm\" x=\"%d\" y=\"24\">events</text>\n", X_EV);
    fprintf(fp, "<line class=\"life\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\"/>\n", X_C, Y0 - 22, X_C, y_end - 14);
    fprintf(fp, "<line class=\"life\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\"/>\n", X_S, Y0 - 22, X_S, y_end - 14);
    for (size_t i = 0; i < c->npkts; i++) {
        const tl_html_pkt *p = &c->pkts[i];
        bool from_server = p->from == TL_ROLE_SERVER;
        double x1 = from_server ? X_S : X_C, x2 = from_server ? X_C : X_S;
        double y1 = ys[i], y2 = ys[i] + SLANT;
        /* arrowhead: 9 px long, 8 px wide, along the arrow */
        double dx = x2 - x1, dy = y2 - y1, len = sqrt(dx * dx + dy * dy);
        double ux = dx / len, uy = dy / len, bx = x2 - 9 * ux, by = y2 - 9 * uy;
        char label[96], notes[256], path[2][96];
        arrow_label(h, p, label, sizeof label);
        notes_of(c, p, notes, sizeof notes);
        path_of(ch, nch, p->n, TL_ROLE_CLIENT, path[0], sizeof path[0]);
        path_of(ch, nch, p->n, TL_ROLE_SERVER, path[1], sizeof path[1]);
        fprintf(fp, "<g class=\"pk%s\" data-i=\"%zu\"><title>packet %llu</title>", pkt_class(p), i,
                (unsigned long long)p->n);
        fprintf(fp, "<line class=\"hit\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x1, y1, x2, y2);
        fprintf(fp, "<line class=\"a\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x1, y1, bx, by);
        fprintf(fp, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>", x2, y2, bx - 4 * uy, by + 4 * ux,
                bx + 4 * uy, by - 4 * ux);
        fprintf(fp, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", (X_C + X_S) / 2,
                y1 + SLANT / 2.0 - 7, label);
        fprintf(fp, "<text class=\"tm\" x=\"%d\" y=\"%.1f\">%.6f</text>", X_TIME, y1 + 4,
                tl__html_time(h, p->ts));
        if (notes[0]) fprintf(fp, "<text class=\"ev\" x=\"%d\" y=\"%.1f\">%s</text>", X_EV, y1 + SLANT / 2.0 + 4, notes);
        fputs("</g>\n", fp);
        /* the sender's state changes as it sends, the receiver's as it receives */
        double yc = (from_server ? y2 : y1) + 4, ysv = (from_server ? y1 : y2) + 4;
        if (path[0][0])
            fprintf(fp, "<text class=\"st cs\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", X_C - 8, yc, path[0]);
        if (path[1][0])
            fprintf(fp, "<text class=\"st ss\" x=\"%d\" y=\"%.1f\">%s</text>\n", X_S + 8, ysv, path[1]);
    }
    uint8_t fin[2] = { TL_ST_UNKNOWN, TL_ST_UNKNOWN };
    if (rec) {
        fin[0] = (uint8_t)rec->client_state;
        fin[1] = (uint8_t)rec->server_state;
    } else if (c->npkts) {
        fin[0] = c->pkts[c->npkts - 1].after[0];
        fin[1] = c->pkts[c->npkts - 1].after[1];
    }
    fprintf(fp, "<text class=\"tm\" x=\"%d\" y=\"%.1f\">%s</text>\n", X_TIME, y_end, c->more ? "last drawn" : "final");
    fprintf(fp, "<text class=\"st cs\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", X_C - 8, y_end, state_name(fin[0]));
    fprintf(fp, "<text class=\"st ss\" x=\"%d\" y=\"%.1f\">%s</text>\n", X_S + 8, y_end, state_name(fin[1]));
    if (c->more)
        fprintf(fp, "<text class=\"ev\" x=\"%d\" y=\"%.1f\">%llu more packets not drawn (at most %d per connection)</text>\n",
                X_TIME, y_end + 24, (unsigned long long)c->more, TL_HTML_MAX_PKTS);
    fputs("</svg>\n", fp);
}

/* One bar per state of an endpoint, as wide as the time spent in it. */
static void write_timeline_row(tl_html *h, const tl_html_conn *c, const tl_html_change *ch, size_t nch,
                               int role, tl_time t_end)
{
    FILE *fp = h->fp;
    tl_time t0 = c->pkts[0].ts;
    double total = tl_time_diff(t0, t_end);
    uint8_t cur = c->pkts[0].before[role == TL_ROLE_SERVER];
    tl_time since = t0;
    fprintf(fp, "<div class=\"row\"><span class=\"who\">%s</span><div class=\"bars\">", tl_role_name((tl_role)role));
    for (size_t i = 0; i <= nch; i++) {
        if (i < nch && ch[i].endpoint != role) continue;
        tl_time until = i < nch ? ch[i].ts : t_end;
        double d = tl_time_diff(since, until);
        if (d < 0) d = 0;
        if (!(cur == TL_ST_UNKNOWN && d == 0)) {
            double grow = total > 0 ? d / total * 1000 : 1;
            fprintf(fp, "<div class=\"bar b-%s\" style=\"flex:%.3f 1 0\" title=\"%s: %.6f to %.6f (%.6f s)\">%s</div>",
                    state_name(cur), grow, state_name(cur), tl__html_time(h, since), tl__html_time(h, until), d,
                    state_name(cur));
        }
        if (i < nch) {
            cur = ch[i].to;
            since = until;
        }
    }
    fputs("</div></div>\n", fp);
}

static void write_timeline(tl_html *h, const tl_html_conn *c, const tl_html_change *ch, size_t nch)
{
    if (!c->npkts) return;
    tl_time t_end = c->pkts[c->npkts - 1].ts;
    fprintf(h->fp, "<div class=\"tl\"><h4>States over time <span class=\"mut\">(%.6f s to %.6f s)</span></h4>\n",
            tl__html_time(h, c->pkts[0].ts), tl__html_time(h, t_end));
    write_timeline_row(h, c, ch, nch, TL_ROLE_CLIENT, t_end);
    write_timeline_row(h, c, ch, nch, TL_ROLE_SERVER, t_end);
    fputs("</div>\n", h->fp);
}

static void table_head(FILE *fp)
{
    fputs("<table class=\"pkts\"><thead><tr><th>#</th><th>time</th><th>dir</th><th>flags</th><th>seq</th>"
          "<th>ack</th><th>win</th><th>len</th><th>client</th><th>server</th><th>events</th></tr></thead>"
          "<tbody>\n", fp);
}

/* The state after the packet: bold when it changed here, grey otherwise. */
static void state_cell(FILE *fp, const char *path, uint8_t after)
{
    if (path[0]) fprintf(fp, "<td><b>%s</b></td>", path);
    else fprintf(fp, "<td class=\"mut\">%s</td>", state_name(after));
}

static void table_row(tl_html *h, const tl_html_conn *c, const tl_html_change *ch, size_t nch, size_t i,
                      const tl_html_pkt *p)
{
    FILE *fp = h->fp;
    char fl[12], notes[256], path[2][96];
    tl__html_flags(p->flags, fl);
    notes[0] = path[0][0] = path[1][0] = '\0';
    if (c) {
        notes_of(c, p, notes, sizeof notes);
        path_of(ch, nch, p->n, TL_ROLE_CLIENT, path[0], sizeof path[0]);
        path_of(ch, nch, p->n, TL_ROLE_SERVER, path[1], sizeof path[1]);
    }
    const char *dir = p->from == TL_ROLE_SERVER ? "C&#8592;S" : p->from == TL_ROLE_CLIENT ? "C&#8594;S" : "";
    const char *cls = pkt_class(p);
    fprintf(fp, "<tr data-i=\"%zu\" tabindex=\"0\"%s%s%s><td class=\"num\">%llu</td><td class=\"num\">%.6f</td>"
                "<td>%s</td><td class=\"fl\">%s</td><td class=\"num\">%u</td><td class=\"num\">",
            i, cls[0] ? " class=\"" : "", cls[0] ? cls + 1 : "", cls[0] ? "\"" : "", (unsigned long long)p->n,
            tl__html_time(h, p->ts), dir, fl, h->o.abs_seq ? p->seq : p->rel_seq);
    if (p->rel_ack_valid || h->o.abs_seq) fprintf(fp, "%u", h->o.abs_seq ? p->ack : p->rel_ack);
    fprintf(fp, "</td><td class=\"num\">%u</td><td class=\"num\">%u</td>", p->win, p->len);
    if (c) {
        state_cell(fp, path[0], p->after[0]);
        state_cell(fp, path[1], p->after[1]);
    } else {
        fputs("<td></td><td></td>", fp);
    }
    fprintf(fp, "<td class=\"nt\">%s</td></tr>\n", notes);
}

static void write_facts(tl_html *h, const tl_conn_record *r)
{
    FILE *fp = h->fp;
    fputs("<p class=\"facts\"><span>uid <code>", fp);
    tl__html_esc(fp, r->uid);
    fputs("</code></span><span>conn_state <b>", fp);
    tl__html_esc(fp, r->conn_state ? r->conn_state : "OTH");
    fputs("</b></span><span>history <code>", fp);
    tl__html_esc(fp, r->history);
    fprintf(fp, "</code></span><span>opened: %s</span><span>closed: %s%s%s</span>",
            r->opened ? tl_open_kind_name(r->opened) : "-", tl_close_kind_name(r->closed),
            r->closed_by ? " by " : "", r->closed_by ? tl_role_name(r->closed_by) : "");
    fprintf(fp, "<span>duration %.6f s</span><span>packets %llu/%llu</span><span>bytes %llu/%llu</span>",
            r->duration, (unsigned long long)r->orig_pkts, (unsigned long long)r->resp_pkts,
            (unsigned long long)r->orig_bytes, (unsigned long long)r->resp_bytes);
    if (r->handshake_rtt >= 0) fprintf(fp, "<span>handshake RTT %.6f s</span>", r->handshake_rtt);
    if (r->retransmissions) fprintf(fp, "<span>%u retransmissions</span>", r->retransmissions);
    if (r->missed_bytes) fprintf(fp, "<span>%llu bytes missed</span>", (unsigned long long)r->missed_bytes);
    fprintf(fp, "<span>final client %s, server %s</span>", tl_tcp_state_name(r->client_state),
            tl_tcp_state_name(r->server_state));
    if (r->evicted) fputs("<span class=\"more\">evicted early</span>", fp);
    fputs("</p>\n", fp);
    if (r->n_events) {
        fputs("<p class=\"facts\"><span class=\"mut\">events:</span> ", fp);
        for (unsigned i = 0; i < r->n_events && i < TL_MAX_CONN_EVENTS; i++) {
            fprintf(fp, "%s<span title=\"", i ? ", " : "");
            tl__html_esc(fp, tl_event_explain(r->events[i]));
            fprintf(fp, "\">%s</span>", tl_event_name(r->events[i]));
        }
        fputs("</p>\n", fp);
    }
}

static void add_index(tl_html *h, unsigned section, const tl_conn_record *r)
{
    if (h->nindex % 64 == 0) {
        tl_html_index *x = realloc(h->index, (h->nindex + 64) * sizeof *x);
        if (!x) return;
        h->index = x;
    }
    tl_html_index *x = &h->index[h->nindex++];
    memset(x, 0, sizeof *x);
    x->section = section;
    x->conn = r->conn;
    snprintf(x->uid, sizeof x->uid, "%s", r->uid);
    tl_addr_format(&r->orig_h, x->client, sizeof x->client);
    tl_addr_format(&r->resp_h, x->server, sizeof x->server);
    x->cport = r->orig_p;
    x->sport = r->resp_p;
    snprintf(x->conn_state, sizeof x->conn_state, "%s", r->conn_state ? r->conn_state : "OTH");
    snprintf(x->history, sizeof x->history, "%s", r->history);
    x->opened = (uint8_t)r->opened;
    x->closed = (uint8_t)r->closed;
    x->closed_by = (uint8_t)r->closed_by;
    x->duration = r->duration;
    x->pkts[0] = r->orig_pkts;
    x->pkts[1] = r->resp_pkts;
    x->bytes[0] = r->orig_bytes;
    x->bytes[1] = r->resp_bytes;
}

/* "127.0.0.1:45364", "[::1]:8000" */
static void endpoint_text(const tl_addr *a, uint16_t port, char *buf, size_t size)
{
    char ab[64];
    tl_addr_format(a, ab, sizeof ab);
    snprintf(buf, size, a->family == 6 ? "[%s]:%u" : "%s:%u", ab, port);
}

void tl__html_conn_section(tl_html *h, tl_html_conn *c, const tl_conn_record *rec)
{
    FILE *fp = h->fp;
    unsigned k = ++h->section;
    char client[80] = "?", server[80] = "?";
    if (rec) {
        add_index(h, k, rec);
        endpoint_text(&rec->orig_h, rec->orig_p, client, sizeof client);
        endpoint_text(&rec->resp_h, rec->resp_p, server, sizeof server);
    } else if (c->npkts) {
        const tl_html_pkt *p = &c->pkts[0];
        bool from_server = p->from == TL_ROLE_SERVER;
        endpoint_text(from_server ? &p->dst : &p->src, from_server ? p->dport : p->sport, client, sizeof client);
        endpoint_text(from_server ? &p->src : &p->dst, from_server ? p->sport : p->dport, server, sizeof server);
    }
    fprintf(fp, "<section class=\"conn\" id=\"s%u\">\n<h2>Connection #%u: client %s &#8596; server %s</h2>\n", k,
            c->id, client, server);
    if (rec) write_facts(h, rec);
    else fputs("<p class=\"facts mut\">no connection record (the input ended early)</p>\n", fp);
    size_t nch;
    tl_html_change *ch = changes_of(c, &nch);
    fputs("<div class=\"body\"><div>\n<div class=\"ladder\">\n", fp);
    write_ladder(h, c, ch, nch, client, server, rec);
    fputs("</div>\n", fp);
    write_timeline(h, c, ch, nch);
    fputs("</div>\n<aside class=\"decode\"><p class=\"mut\">Click an arrow or a table row: the packet's "
          "decode and explanation appear here.</p></aside></div>\n", fp);
    table_head(fp);
    for (size_t i = 0; i < c->npkts; i++) table_row(h, c, ch, nch, i, &c->pkts[i]);
    fputs("</tbody></table>\n", fp);
    if (c->more)
        fprintf(fp, "<p class=\"more\">%llu more packets not drawn (at most %d per connection).</p>\n",
                (unsigned long long)c->more, TL_HTML_MAX_PKTS);
    if (c->ev_more)
        fprintf(fp, "<p class=\"more\">%llu more events not kept.</p>\n", (unsigned long long)c->ev_more);
    tl__html_json_block(h, k, c->id, c->pkts, c->npkts, c->ev, c->nev);
    fputs("</section>\n", fp);
    free(ch);
}

void tl__html_misc_section(tl_html *h)
{
    if (!h->nmisc) return;
    FILE *fp = h->fp;
    unsigned k = ++h->section;
    size_t ntcp = 0;
    tl_html_pkt *pk = malloc(h->nmisc * sizeof *pk);
    for (size_t i = 0; pk && i < h->nmisc; i++)
        if (h->misc[i].is_tcp) pk[ntcp++] = h->misc[i].pkt;
    fprintf(fp, "<section class=\"conn\" id=\"s%u\">\n<h2>Outside any connection</h2>\n", k);
    if (ntcp) {
        fputs("<div class=\"body\"><div><p>TCP segments the tracker did not assign to a connection.</p>\n", fp);
        table_head(fp);
        for (size_t i = 0; i < ntcp; i++) table_row(h, NULL, NULL, 0, i, &pk[i]);
        fputs("</tbody></table></div>\n<aside class=\"decode\"><p class=\"mut\">Click a row.</p></aside></div>\n", fp);
    }
    if (ntcp < h->nmisc) {
        fputs("<h3>Frames not decoded as TCP segments</h3>\n<table class=\"bad\"><thead><tr><th>#</th><th>time</th>"
              "<th>result</th><th>reason</th></tr></thead><tbody>\n", fp);
        for (size_t i = 0; i < h->nmisc; i++) {
            const tl_html_misc *m = &h->misc[i];
            if (m->is_tcp) continue;
            fprintf(fp, "<tr><td class=\"num\">%llu</td><td class=\"num\">%.6f</td><td>%s</td><td>%s</td></tr>\n",
                    (unsigned long long)m->n, tl__html_time(h, m->ts),
                    tl_decode_result_name((tl_decode_result)m->result),
                    tl_decode_reason_name((tl_decode_reason)m->reason));
        }
        fputs("</tbody></table>\n", fp);
    }
    if (h->misc_more)
        fprintf(fp, "<p class=\"more\">%llu more packets not drawn (at most %d here).</p>\n",
                (unsigned long long)h->misc_more, TL_HTML_MAX_MISC);
    tl__html_json_block(h, k, 0, pk ? pk : NULL, ntcp, NULL, 0);
    fputs("</section>\n", fp);
    free(pk);
    h->nmisc = 0;
    h->misc_more = 0;
}
