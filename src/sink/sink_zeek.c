/* sink_zeek.c -- Zeek conn.log writer (TSV, Zeek's ASCII log format).
 *
 * Header and column order follow Zeek's base/protocols/conn/main.zeek
 * Conn::Info. Zeek's conventions: "-" for unset fields, "(empty)" for an
 * empty string or set; duration, orig_bytes and resp_bytes are unset unless
 * the duration is positive (set_conn); service, local_orig, local_resp and
 * tunnel_parents are unset (no application analyzers, no Site::local_nets,
 * no tunnels).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "tcplens/sink_zeek.h"

typedef struct tl_zeek_sink {
    FILE *fp;
    bool header_done;
} tl_zeek_sink;

static void write_stamp(FILE *fp, const char *tag)
{
    char buf[32];
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d-%H-%M-%S", &tm))
        fprintf(fp, "#%s\t%s\n", tag, buf);
    else
        fprintf(fp, "#%s\t-\n", tag);
}

static void header(tl_zeek_sink *s)
{
    if (s->header_done) return;
    s->header_done = true;
    fputs("#separator \\x09\n"
          "#set_separator\t,\n"
          "#empty_field\t(empty)\n"
          "#unset_field\t-\n"
          "#path\tconn\n", s->fp);
    write_stamp(s->fp, "open");
    fputs("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
          "duration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\t"
          "missed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\t"
          "tunnel_parents\n"
          "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t"
          "string\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
          s->fp);
}

/* Zeek prints times and intervals with six decimals, rounded. */
static void put_time(FILE *fp, tl_time t)
{
    int64_t sec = t.sec;
    uint32_t us = (t.nsec + 500u) / 1000u;
    if (us >= 1000000u) {
        sec++;
        us -= 1000000u;
    }
    fprintf(fp, "%" PRId64 ".%06" PRIu32, sec, us);
}

static void zeek_conn(void *ctx, const tl_conn_record *r)
{
    tl_zeek_sink *s = ctx;
    FILE *fp = s->fp;
    char oh[64], rh[64];
    header(s);
    tl_addr_format(&r->orig_h, oh, sizeof oh);
    tl_addr_format(&r->resp_h, rh, sizeof rh);
    put_time(fp, r->ts);
    fprintf(fp, "\t%s\t%s\t%u\t%s\t%u\ttcp\t-\t", r->uid[0] ? r->uid : "-", oh,
            (unsigned)r->orig_p, rh, (unsigned)r->resp_p);
    if (r->duration > 0)
        fprintf(fp, "%.6f\t%" PRIu64 "\t%" PRIu64, r->duration, r->orig_bytes, r->resp_bytes);
    else
        fputs("-\t-\t-", fp);
    fprintf(fp, "\t%s\t-\t-\t%" PRIu64 "\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t-\n",
            r->conn_state ? r->conn_state : "-", r->missed_bytes,
            r->history[0] ? r->history : "-", r->orig_pkts, r->orig_ip_bytes, r->resp_pkts,
            r->resp_ip_bytes);
}

static void zeek_finish(void *ctx, const tl_stats *st)
{
    tl_zeek_sink *s = ctx;
    (void)st;
    header(s);
    write_stamp(s->fp, "close");
    fflush(s->fp);
}

static void zeek_free(void *ctx)
{
    free(ctx);
}

static const tl_sink_ops tl_zeek_ops = {
    .conn = zeek_conn,
    .finish = zeek_finish,
    .free = zeek_free,
    .no_analysis = true,   /* conn.log has no column for it */
};

int tl_sink_zeek_new(tl_sink *out, FILE *fp)
{
    if (!out || !fp) return TL_EINVAL;
    tl_zeek_sink *s = calloc(1, sizeof *s);
    if (!s) return TL_ENOMEM;
    s->fp = fp;
    out->ops = &tl_zeek_ops;
    out->ctx = s;
    return TL_OK;
}
