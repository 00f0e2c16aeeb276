/* sink_ladder.c -- `--ladder`: each connection as a terminal sequence diagram.
 *
 * Two vertical lines (client, server), one arrow per segment with flags,
 * seq/ack, length and window, and each endpoint's state written beside its
 * line where it changes -- the picture textbooks draw of the handshake and
 * the close. A connection is drawn when its record arrives, so its rows are
 * kept until then (memory grows with the rows of open connections; this is
 * a view for reading, not for gigabyte captures).
 */
#include <stdlib.h>
#include <string.h>

#include "tcplens/sink.h"

#define ARROW_WIDTH 46
#define STATE_WIDTH 26

typedef struct ladder_row {
    double t;
    tl_role from;
    char label[64];
    char client_path[STATE_WIDTH + 8];   /* "FIN-WAIT-2 > TIME-WAIT" when it changed */
    char server_path[STATE_WIDTH + 8];
    char events[96];
} ladder_row;

typedef struct ladder_conn {
    uint32_t id;
    ladder_row *rows;
    size_t n, cap;
} ladder_conn;

typedef struct ladder {
    FILE *fp;
    tl_output_opts o;
    bool have_t0;
    tl_time t0;
    ladder_conn *conns;      /* indexed by id - 1 */
    size_t nconns;
} ladder;

static ladder_conn *conn_get(ladder *l, uint32_t id)
{
    if (id == 0) return NULL;
    if (id > l->nconns) {
        size_t n = l->nconns ? l->nconns : 16;
        while (n < id) n *= 2;
        ladder_conn *c = realloc(l->conns, n * sizeof *c);
        if (!c) return NULL;
        memset(c + l->nconns, 0, (n - l->nconns) * sizeof *c);
        l->conns = c;
        l->nconns = n;
    }
    ladder_conn *c = &l->conns[id - 1];
    c->id = id;
    return c;
}

static void flags_text(uint8_t f, char *buf)
{
    static const struct { uint8_t bit; char c; } map[] = {
        {TL_TH_SYN, 'S'}, {TL_TH_FIN, 'F'}, {TL_TH_PSH, 'P'}, {TL_TH_RST, 'R'},
        {TL_TH_URG, 'U'}, {TL_TH_ECE, 'E'}, {TL_TH_CWR, 'W'}, {TL_TH_ACK, '.'},
    };
    char *p = buf;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (f & map[i].bit) *p++ = map[i].c;
    *p = '\0';
}

static void on_packet(void *ctx, const tl_pkt_view *v)
{
    ladder *l = ctx;
    if (v->result != TL_DECODE_OK || v->skipped) return;
    ladder_conn *c = conn_get(l, v->conn);
    if (!c) return;
    if (!l->have_t0) {
        l->t0 = v->frame->ts;
        l->have_t0 = true;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        ladder_row *r = realloc(c->rows, cap * sizeof *r);
        if (!r) return;
        c->rows = r;
        c->cap = cap;
    }
    ladder_row *r = &c->rows[c->n++];
    memset(r, 0, sizeof *r);
    const tl_packet *p = v->pkt;
    r->t = l->o.abs_time ? tl_time_to_double(v->frame->ts) : tl_time_diff(l->t0, v->frame->ts);
    r->from = v->from;
    char fl[12];
    flags_text(p->flags, fl);
    uint32_t seq = l->o.abs_seq ? p->seq : v->rel_seq, ack = l->o.abs_seq ? p->ack : v->rel_ack;
    int n = snprintf(r->label, sizeof r->label, "%s seq=%u", fl, seq);
    if (v->rel_ack_valid && n < (int)sizeof r->label)
        n += snprintf(r->label + n, sizeof r->label - (size_t)n, " ack=%u", ack);
    if (n < (int)sizeof r->label)
        snprintf(r->label + n, sizeof r->label - (size_t)n, " len=%u", p->payload_len);
}

static void append_path(char *path, size_t size, tl_tcp_state to)
{
    size_t len = strlen(path);
    snprintf(path + len, size - len, "%s%s", len ? ">" : "", tl_tcp_state_name(to));
}

static void on_state(void *ctx, const tl_state_change *sc)
{
    ladder *l = ctx;
    ladder_conn *c = conn_get(l, sc->conn);
    if (!c || c->n == 0) return;
    ladder_row *r = &c->rows[c->n - 1];
    if (sc->endpoint == TL_ROLE_CLIENT) append_path(r->client_path, sizeof r->client_path, sc->to);
    else append_path(r->server_path, sizeof r->server_path, sc->to);
}

static void on_event(void *ctx, const tl_event *e)
{
    ladder *l = ctx;
    ladder_conn *c = conn_get(l, e->conn);
    if (!c || c->n == 0 || e->n == 0 || tl_event_is_analysis(e->kind)) return;
    ladder_row *r = &c->rows[c->n - 1];
    size_t len = strlen(r->events);
    snprintf(r->events + len, sizeof r->events - len, "%s%s", len ? ", " : "", tl_event_name(e->kind));
}

static void draw_arrow(FILE *fp, const ladder_row *r)
{
    char line[ARROW_WIDTH + 1];
    size_t lab = strlen(r->label);
    if (lab > ARROW_WIDTH - 6) lab = ARROW_WIDTH - 6;
    memset(line, '-', ARROW_WIDTH);
    line[ARROW_WIDTH] = '\0';
    size_t start = (ARROW_WIDTH - lab) / 2;
    line[start - 1] = ' ';
    memcpy(line + start, r->label, lab);
    line[start + lab] = ' ';
    if (r->from == TL_ROLE_CLIENT) line[ARROW_WIDTH - 1] = '>';
    else line[0] = '<';
    fprintf(fp, "|%s|", line);
}

static void on_conn(void *ctx, const tl_conn_record *rec)
{
    ladder *l = ctx;
    ladder_conn *c = conn_get(l, rec->conn);
    char a[64], b[64];
    tl_addr_format(&rec->orig_h, a, sizeof a);
    tl_addr_format(&rec->resp_h, b, sizeof b);
    fprintf(l->fp, "\nconnection %u: client %s:%u  <->  server %s:%u   (%s, %s)\n", rec->conn, a,
            rec->orig_p, b, rec->resp_p, tl_open_kind_name(rec->opened),
            tl_close_kind_name(rec->closed));
    fprintf(l->fp, "%11s %*s%-*s%*s\n", "time", STATE_WIDTH, "client ", ARROW_WIDTH + 2, "",
            0, "server");
    for (size_t i = 0; c && i < c->n; i++) {
        const ladder_row *r = &c->rows[i];
        fprintf(l->fp, "%11.6f %*s ", r->t, STATE_WIDTH - 1, r->client_path);
        draw_arrow(l->fp, r);
        fprintf(l->fp, " %-*s", STATE_WIDTH, r->server_path);
        if (r->events[0]) fprintf(l->fp, " %s", r->events);
        fputc('\n', l->fp);
    }
    fprintf(l->fp, "%11s %*s %*s %s\n", "final", STATE_WIDTH - 1, tl_tcp_state_name(rec->client_state),
            ARROW_WIDTH + 2, "", tl_tcp_state_name(rec->server_state));
    if (c) {
        free(c->rows);
        memset(c, 0, sizeof *c);
    }
}

static void on_free(void *ctx)
{
    ladder *l = ctx;
    for (size_t i = 0; i < l->nconns; i++) free(l->conns[i].rows);
    free(l->conns);
    free(l);
}

static const tl_sink_ops ladder_ops = {
    .packet = on_packet,
    .state = on_state,
    .event = on_event,
    .conn = on_conn,
    .free = on_free,
    .no_uid = true,
};

int tl_sink_ladder_new(tl_sink *out, FILE *fp, const tl_output_opts *o)
{
    ladder *l = calloc(1, sizeof *l);
    if (!l) return TL_ENOMEM;
    l->fp = fp;
    l->o = *o;
    out->ops = &ladder_ops;
    out->ctx = l;
    return TL_OK;
}
