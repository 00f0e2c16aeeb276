/* text_table.c -- connection table and capture statistics for the text
 * sink: one line per connection (Zeek's conn_state and history, how it
 * opened and closed, both final RFC 9293 states, handshake RTT) and a
 * tcpdump-like summary of what was read.
 */
#include <math.h>
#include <stdlib.h>

#include "sink/text_line.h"
#include "sink/text_table.h"

static void set_name(tl__row_name *d, const char *a, const char *b, const char *c)
{
    /* the names are under 20 characters; a longer one would be cut here */
    size_t n = 0;
    const char *parts[3] = {a, b, c};
    memset(d->s, 0, sizeof d->s);
    for (int i = 0; i < 3; i++)
        for (const char *p = parts[i]; p && *p && n < sizeof d->s - 1; p++) d->s[n++] = *p;
    d->n = (uint8_t)n;
}

void tl_text_table_init(tl_text_table *t)
{
    t->tmp = NULL;
    t->no_tmp = false;
    t->header_done = false;
    t->rows = 0;
    /* the last entry of each table is what the name functions give for a
     * value out of their range (their default) */
    for (int k = 0; k < TL__ROW_OPENS; k++)
        set_name(&t->open[k], k == TL_OPEN_NONE ? "-" : tl_open_kind_name((tl_open_kind)k), NULL, NULL);
    for (int k = 0; k < TL__ROW_CLOSES; k++) {
        const char *name = tl_close_kind_name((tl_close_kind)k);
        set_name(&t->close[k][0], name, NULL, NULL);
        set_name(&t->close[k][1], name, " by ", tl_role_name(TL_ROLE_CLIENT));
        set_name(&t->close[k][2], name, " by ", tl_role_name(TL_ROLE_SERVER));
    }
    for (int k = 0; k < TL__ROW_STATES; k++) set_name(&t->state[k], tl_tcp_state_name((tl_tcp_state)k), NULL, NULL);
}

static void header(FILE *fp)
{
    tl_line l;
    tl_line_reset(&l);
    tl_line_str(&l, "conn");
    tl_line_pad(&l, 6, 1);
    tl_line_str(&l, "client");
    tl_line_pad(&l, 30, 1);
    tl_line_str(&l, "server");
    tl_line_pad(&l, 54, 1);
    tl_line_str(&l, "duration");
    tl_line_pad(&l, 66, 1);
    tl_line_str(&l, "opened");
    tl_line_pad(&l, 84, 1);
    tl_line_str(&l, "closed");
    tl_line_pad(&l, 110, 1);
    tl_line_str(&l, "zeek");
    tl_line_pad(&l, 116, 1);
    tl_line_str(&l, "history");
    tl_line_pad(&l, 130, 1);
    tl_line_str(&l, "pkts c/s");
    tl_line_pad(&l, 144, 1);
    tl_line_str(&l, "bytes c/s");
    tl_line_pad(&l, 162, 1);
    tl_line_str(&l, "final client/server");
    tl_line_pad(&l, 188, 1);
    tl_line_str(&l, "rtt\n");
    tl_line_write(&l, fp);
}

/* A row is written straight into one buffer (measured: through the tl_line
 * helpers it was ~1,800 Ir, 36 Ir/packet of `read --conns` on h1m). Its
 * bytes are those tl_line made: columns padded to their start with at
 * least one space, a long field pushing the later ones, the line cut at
 * TL_LINE_CAP (the newline then too). Room: conn_state is copied up to
 * TL_LINE_CAP bytes and the row ends there once the line is full; the rest
 * is under 400 bytes besides the two times (up to TL_JSON_DOUBLE_MAX each
 * through printf) and the 32-byte stores of pad() and name(). */

static const char spaces[33] = "                                ";

/* Spaces up to column col, at least one. A column's field starts at its
 * column or later: no gap is over 26 spaces, within the one 32-byte store
 * (what lies past the gap is overwritten next); the memset is a guard. */
static inline char *pad(char *b, char *o, size_t col)
{
    char *to = b + col;
    memcpy(o, spaces, 32);
    if (to - o > 32) memset(o, ' ', (size_t)(to - o));
    return o < to ? to : o + 1;
}

static inline char *name(char *o, const tl__row_name *n)
{
    memcpy(o, n->s, sizeof n->s);
    return o + n->n;
}

static inline char *endpoint(char *o, const tl_addr *a, uint16_t port)
{
    o += tl__addr_put(o, a);
    *o++ = '.';
    return tl_put_u32(o, port);
}

/* Seconds as "%.6f", '-' when unknown (negative or NaN). Needs
 * TL_JSON_DOUBLE_MAX bytes of room at o. */
static inline char *seconds(char *o, double v)
{
    if (!(v >= 0)) {
        *o++ = '-';
        return o;
    }
    if (v < 1e9 && !signbit(v)) return tl__put_scaled6(o, tl__fixed_scaled(v, 1000000));
    int n = snprintf(o, TL_JSON_DOUBLE_MAX, "%.6f", v);   /* inf, -0, >= 1e9 */
    if (n > 0) o += (size_t)n < TL_JSON_DOUBLE_MAX ? (size_t)n : TL_JSON_DOUBLE_MAX - 1;
    return o;
}

static inline unsigned role_index(tl_role by)
{
    return by == TL_ROLE_CLIENT ? 1 : by == TL_ROLE_SERVER ? 2 : 0;
}

/* Writes r's row into b (TL_TEXT_ROW_CAP bytes); returns its length, at most
 * TL_LINE_CAP. */
static size_t row(const tl_text_table *t, char *b, const tl_conn_record *r)
{
    char *o = b;
    *o++ = '#';
    o = tl__put_u32_inline(o, r->conn);
    o = pad(b, o, 6);
    o = endpoint(o, &r->orig_h, r->orig_p);
    o = pad(b, o, 30);
    o = endpoint(o, &r->resp_h, r->resp_p);
    o = pad(b, o, 54);
    o = seconds(o, r->duration);
    o = pad(b, o, 66);
    unsigned op = (unsigned)r->opened, cl = (unsigned)r->closed, cs = (unsigned)r->client_state,
             ss = (unsigned)r->server_state;
    o = name(o, &t->open[op < TL__ROW_OPENS - 1 ? op : TL__ROW_OPENS - 1]);
    o = pad(b, o, 84);
    o = name(o, &t->close[cl < TL__ROW_CLOSES - 1 ? cl : TL__ROW_CLOSES - 1][role_index(r->closed_by)]);
    o = pad(b, o, 110);
    /* Zeek's codes are a few letters: a byte loop beats strlen + memcpy */
    const char *z = r->conn_state ? r->conn_state : "-";
    for (const char *lim = o + TL_LINE_CAP; *z && o < lim;) *o++ = *z++;
    if ((size_t)(o - b) >= TL_LINE_CAP) return TL_LINE_CAP;   /* the rest is cut */
    o = pad(b, o, 116);
    if (r->history[0]) {
        memcpy(o, r->history, sizeof r->history);
        o += strnlen(r->history, sizeof r->history);
    } else
        *o++ = '-';
    o = pad(b, o, 130);
    o = tl__put_u64_inline(o, r->orig_pkts);
    *o++ = '/';
    o = tl__put_u64_inline(o, r->resp_pkts);
    o = pad(b, o, 144);
    o = tl__put_u64_inline(o, r->orig_bytes);
    *o++ = '/';
    o = tl__put_u64_inline(o, r->resp_bytes);
    o = pad(b, o, 162);
    o = name(o, &t->state[cs < TL__ROW_STATES - 1 ? cs : TL__ROW_STATES - 1]);
    *o++ = '/';
    o = name(o, &t->state[ss < TL__ROW_STATES - 1 ? ss : TL__ROW_STATES - 1]);
    o = pad(b, o, 188);
    o = seconds(o, r->handshake_rtt);
    if (r->evicted) o = (char *)memcpy(o, "  (evicted)", 11) + 11;
    *o++ = '\n';
    size_t n = (size_t)(o - b);
    return n < TL_LINE_CAP ? n : TL_LINE_CAP;
}

void tl_text_table_print_row(tl_text_table *t, FILE *fp, const tl_conn_record *r)
{
    char b[TL_TEXT_ROW_CAP];
    if (!t->header_done) {
        header(fp);
        t->header_done = true;
    }
    fwrite_unlocked(b, 1, row(t, b, r), fp);
    t->rows++;
}

size_t tl_text_table_row(tl_text_table *t, char *b, const tl_conn_record *r)
{
    t->rows++;
    return row(t, b, r);
}

void tl_text_table_add(tl_text_table *t, FILE *fp, const tl_conn_record *r)
{
    if (!t->tmp && !t->no_tmp) {
        t->tmp = tmpfile();
        if (!t->tmp) t->no_tmp = true;
    }
    if (!t->tmp) {
        tl_text_table_print_row(t, fp, r);
        return;
    }
    char b[TL_TEXT_ROW_CAP];
    fwrite_unlocked(b, 1, row(t, b, r), t->tmp);
    t->rows++;
}

void tl_text_table_dump(tl_text_table *t, FILE *fp)
{
    if (t->rows == 0) {
        fputs("\nno TCP connections\n", fp);
        return;
    }
    if (!t->tmp) return;   /* rows were printed as they came */
    fputc('\n', fp);
    if (!t->header_done) {
        header(fp);
        t->header_done = true;
    }
    char buf[16384];
    size_t n;
    rewind(t->tmp);
    while ((n = fread(buf, 1, sizeof buf, t->tmp)) > 0) fwrite(buf, 1, n, fp);
    fclose(t->tmp);
    t->tmp = NULL;
    t->rows = 0;
}

void tl_text_table_release(tl_text_table *t)
{
    if (t->tmp) fclose(t->tmp);
    t->tmp = NULL;
}

void tl_text_stats(FILE *fp, const tl_stats *st)
{
    fprintf(fp, "\n%llu packets, %llu TCP, %llu other",
            (unsigned long long)st->packets, (unsigned long long)st->tcp,
            (unsigned long long)st->other);
    if (st->fragments)
        fprintf(fp, ", %llu IP fragments (not reassembled)", (unsigned long long)st->fragments);
    fprintf(fp, ", %llu malformed", (unsigned long long)st->malformed);
    if (st->truncated) fprintf(fp, ", %llu truncated", (unsigned long long)st->truncated);
    const char *sep = " (";
    for (int r = TL_REASON_NONE + 1; r < TL_REASON_COUNT; r++) {
        if (!st->by_reason[r]) continue;
        fprintf(fp, "%s%s %llu", sep, tl_decode_reason_name((tl_decode_reason)r),
                (unsigned long long)st->by_reason[r]);
        sep = ", ";
    }
    if (sep[0] == ',') fputc(')', fp);
    if (st->bad_checksum)
        fprintf(fp, ", %llu bad checksum (ignored)", (unsigned long long)st->bad_checksum);
    fprintf(fp, "\n%llu connection%s", (unsigned long long)st->conns, st->conns == 1 ? "" : "s");
    if (st->evicted) fprintf(fp, " (%llu evicted early)", (unsigned long long)st->evicted);
    if (st->peak_conns) fprintf(fp, ", at most %llu at once", (unsigned long long)st->peak_conns);
    if (st->errors) fprintf(fp, ", %llu input errors", (unsigned long long)st->errors);
    fputc('\n', fp);
    if (st->filtered)
        fprintf(fp, "%llu packets rejected by the filter\n", (unsigned long long)st->filtered);
    if (st->has_kernel_stats)
        fprintf(fp, "%llu packets dropped by kernel, %llu dropped by interface\n",
                (unsigned long long)st->kernel_dropped, (unsigned long long)st->iface_dropped);
}
