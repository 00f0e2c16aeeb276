/* text_table.c -- connection table and capture statistics for the text
 * sink: one line per connection (Zeek's conn_state and history, how it
 * opened and closed, both final RFC 9293 states, handshake RTT) and a
 * tcpdump-like summary of what was read.
 */
#include <math.h>
#include <stdlib.h>

#include "sink/text_line.h"
#include "sink/text_table.h"

void tl_text_table_init(tl_text_table *t)
{
    t->tmp = NULL;
    t->no_tmp = false;
    t->header_done = false;
    t->rows = 0;
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

static void endpoint(tl_line *l, const tl_addr *a, uint16_t port)
{
    tl_line_addr(l, a);
    tl_line_ch(l, '.');
    tl_line_u64(l, port);
}

static void seconds(tl_line *l, double v)
{
    char b[64];
    if (!(v >= 0)) {
        tl_line_ch(l, '-');
        return;
    }
    if (isfinite(v) && !signbit(v)) {
        /* the same digits as "%.6f" (measured: snprintf was ~45 Ir/packet
         * of `read`, 2 per connection) */
        char d[TL_JSON_DOUBLE_MAX];
        tl_line_mem(l, d, tl_fmt_double(d, v, 6));
        return;
    }
    int n = snprintf(b, sizeof b, "%.6f", v);   /* inf, -0 */
    if (n > 0) tl_line_mem(l, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

static void row(tl_line *l, const tl_conn_record *r)
{
    tl_line_reset(l);
    tl_line_ch(l, '#');
    tl_line_u64(l, r->conn);
    tl_line_pad(l, 6, 1);
    endpoint(l, &r->orig_h, r->orig_p);
    tl_line_pad(l, 30, 1);
    endpoint(l, &r->resp_h, r->resp_p);
    tl_line_pad(l, 54, 1);
    seconds(l, r->duration);
    tl_line_pad(l, 66, 1);
    tl_line_str(l, r->opened != TL_OPEN_NONE ? tl_open_kind_name(r->opened) : "-");
    tl_line_pad(l, 84, 1);
    tl_line_str(l, tl_close_kind_name(r->closed));
    if (r->closed_by == TL_ROLE_CLIENT || r->closed_by == TL_ROLE_SERVER) {
        tl_line_str(l, " by ");
        tl_line_str(l, tl_role_name(r->closed_by));
    }
    tl_line_pad(l, 110, 1);
    tl_line_str(l, r->conn_state ? r->conn_state : "-");
    tl_line_pad(l, 116, 1);
    tl_line_str(l, r->history[0] ? r->history : "-");
    tl_line_pad(l, 130, 1);
    tl_line_u64(l, r->orig_pkts);
    tl_line_ch(l, '/');
    tl_line_u64(l, r->resp_pkts);
    tl_line_pad(l, 144, 1);
    tl_line_u64(l, r->orig_bytes);
    tl_line_ch(l, '/');
    tl_line_u64(l, r->resp_bytes);
    tl_line_pad(l, 162, 1);
    tl_line_str(l, tl_tcp_state_name(r->client_state));
    tl_line_ch(l, '/');
    tl_line_str(l, tl_tcp_state_name(r->server_state));
    tl_line_pad(l, 188, 1);
    seconds(l, r->handshake_rtt);
    if (r->evicted) tl_line_str(l, "  (evicted)");
    tl_line_ch(l, '\n');
}

void tl_text_table_print_row(tl_text_table *t, FILE *fp, const tl_conn_record *r)
{
    tl_line l;
    if (!t->header_done) {
        header(fp);
        t->header_done = true;
    }
    row(&l, r);
    tl_line_write(&l, fp);
    t->rows++;
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
    tl_line l;
    row(&l, r);
    tl_line_write(&l, t->tmp);
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
