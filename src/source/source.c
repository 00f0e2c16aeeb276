/* source.c -- tl_source dispatch: numbering, BPF filter, counters.
 *
 * Offline sources apply the filter here with pcap_offline_filter() rather
 * than pcap_setfilter(), so that rejected records still get a number and
 * tl_frame.n matches tcpdump -# / Wireshark frame numbers. Live sources let
 * the kernel filter (pcap_setfilter) to keep unwanted packets out of
 * userspace; their numbering counts delivered packets, as tcpdump does.
 * A pcapng file may mix link types, so the offline filter is compiled once
 * per link type (pcap_open_dead) and picked by the frame's linktype.
 */
#include <stdlib.h>
#include <string.h>

#include "source/source_int.h"

/* The filter compiled for one link type; ok false = it does not compile
 * there (remembered so the error is reported once). */
struct tl__prog {
    int dlt;
    bool ok;
    struct bpf_program prog;
};

tl_source *tl__source_new(const struct tl_source_ops *ops, void *priv)
{
    tl_source *src = calloc(1, sizeof(*src));
    if (!src)
        return NULL;
    src->ops = ops;
    src->priv = priv;
    src->ts_digits = 6;
    src->probe_dlt = DLT_EN10MB;
    src->cur_dlt = -1;
    return src;
}

static void drop_progs(tl_source *src)
{
    for (size_t i = 0; i < src->nprogs; i++)
        if (src->progs[i].ok)
            pcap_freecode(&src->progs[i].prog);
    src->nprogs = 0;
    src->last_prog = 0;
}

/* Compile `filter` for dlt without a capture handle. */
static int compile_dead(const char *filter, int dlt, struct bpf_program *prog,
                        const char *name, char *errbuf)
{
    int loaded = tl__pcap_load(errbuf);
    if (loaded != 0)
        return loaded;
    pcap_t *dead = pcap_open_dead(dlt, 262144);
    if (!dead)
        return tl_err(errbuf, TL_ENOMEM, "filter: out of memory");
    int rc = 0;
    if (pcap_compile(dead, prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        rc = tl_err(errbuf, TL_EFILTER, "filter '%s'%s%s (link type %d): %s", filter,
                    name ? " for " : "", name ? name : "", dlt, pcap_geterr(dead));
    pcap_close(dead);
    return rc;
}

/* The cache entry for dlt, compiling it on first use; NULL only when out
 * of memory. */
static struct tl__prog *prog_for(tl_source *src, int dlt, const char *name,
                                 char *errbuf, int *rc)
{
    *rc = 0;
    if (src->last_prog < src->nprogs && src->progs[src->last_prog].dlt == dlt)
        return &src->progs[src->last_prog];
    for (size_t i = 0; i < src->nprogs; i++)
        if (src->progs[i].dlt == dlt) {
            src->last_prog = i;
            return &src->progs[i];
        }
    if (src->nprogs == src->progs_cap) {
        size_t cap = src->progs_cap ? src->progs_cap * 2 : 4;
        struct tl__prog *np = realloc(src->progs, cap * sizeof(*np));
        if (!np) {
            *rc = tl_err(errbuf, TL_ENOMEM, "filter: out of memory");
            return NULL;
        }
        src->progs = np;
        src->progs_cap = cap;
    }
    struct tl__prog *e = &src->progs[src->nprogs];
    e->dlt = dlt;
    *rc = compile_dead(src->filter, dlt, &e->prog, name, errbuf);
    if (*rc == TL_ENOMEM)
        return NULL;
    e->ok = *rc == 0;
    src->last_prog = src->nprogs++;
    return e;
}

int tl__source_dlt(tl_source *src, int dlt, const char *name, char *errbuf)
{
    if (src->cur_dlt < 0)
        src->cur_dlt = dlt;
    if (!src->filter)
        return 0;
    int rc;
    struct tl__prog *e = prog_for(src, dlt, name, errbuf, &rc);
    if (e && !e->ok && rc == 0)  /* known bad: say it again for this file */
        return compile_dead(src->filter, dlt, &(struct bpf_program){0}, name, errbuf);
    return rc;
}

int tl__source_attach(tl_source *src, pcap_t *p, const char *name, char *errbuf)
{
    src->handle = p;
    if (!p) {
        src->cur_dlt = -1;
        return 0;
    }
    if (!src->live)
        return tl__source_dlt(src, pcap_datalink(p), name, errbuf);
    src->cur_dlt = pcap_datalink(p);
    if (!src->filter)
        return 0;
    /* Live: the kernel runs the program; pcap_setfilter keeps its own copy. */
    struct bpf_program prog;
    if (pcap_compile(p, &prog, src->filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        return tl_err(errbuf, TL_EFILTER, "filter '%s'%s%s: %s", src->filter,
                      name ? " for " : "", name ? name : "", pcap_geterr(p));
    int rc = 0;
    if (pcap_setfilter(p, &prog) != 0)
        rc = tl_err(errbuf, TL_EFILTER, "filter '%s': %s", src->filter, pcap_geterr(p));
    pcap_freecode(&prog);
    return rc;
}

int tl_source_set_filter(tl_source *src, const char *filter, char *errbuf)
{
    if (!src)
        return tl_err(errbuf, TL_EINVAL, "set filter: no source");
    if (!filter || !*filter) {
        free(src->filter);
        src->filter = NULL;
        drop_progs(src);
        if (src->live && src->handle) {
            /* An always-true program replaces the kernel filter. */
            struct bpf_program all;
            if (pcap_compile(src->handle, &all, "", 1, PCAP_NETMASK_UNKNOWN) == 0) {
                int rc = pcap_setfilter(src->handle, &all);
                pcap_freecode(&all);
                if (rc != 0)
                    return tl_err(errbuf, TL_EFILTER, "clear filter: %s",
                                  pcap_geterr(src->handle));
            }
        }
        return 0;
    }
    char *copy = strdup(filter);
    if (!copy)
        return tl_err(errbuf, TL_ENOMEM, "set filter: out of memory");
    /* Validate against the current (or first file's) link type before
     * anything changes; other link types compile when they appear. */
    int dlt = src->cur_dlt >= 0 ? src->cur_dlt : src->probe_dlt;
    struct bpf_program check;
    int rc = compile_dead(copy, dlt, &check, NULL, errbuf);
    if (rc < 0) {
        free(copy);
        return rc;
    }
    pcap_freecode(&check);
    if (src->live && src->handle) {
        char *old = src->filter;
        src->filter = copy;
        rc = tl__source_attach(src, src->handle, NULL, errbuf);
        if (rc < 0) {
            src->filter = old;
            free(copy);
            return rc;
        }
        free(old);
        return 0;
    }
    free(src->filter);
    src->filter = copy;
    drop_progs(src);
    return 0;
}

/* Through the implementation, numbering, filtering and noting errors. */
static TL__NOINLINE int next_general(tl_source *src, tl_frame *frame, char *errbuf)
{
    for (;;) {
        if (src->brk)
            return 0;
        frame->file = NULL;
        frame->offset = -1;
        int rc = src->ops->next(src, frame, errbuf);
        if (rc < 0) {
            src->last_error.file = frame->file;
            src->last_error.offset = frame->offset;
            src->last_error.packet = frame->offset >= 0 ? src->records + 1 : 0;
        }
        if (rc <= 0)
            return rc;
        frame->n = ++src->records;
        if (src->filter && !src->live) {
            int frc;
            struct tl__prog *e = prog_for(src, frame->linktype, frame->file, errbuf, &frc);
            if (!e)
                return frc;
            if (!e->ok) {
                /* Filter set after this link type appeared and it does not
                 * compile there: skip its frames, say so once. */
                src->filtered++;
                if (frc < 0) {
                    src->last_error.file = frame->file;
                    src->last_error.offset = frame->offset;
                    src->last_error.packet = frame->n;
                    return frc;
                }
                continue;
            }
            struct pcap_pkthdr h;
            memset(&h, 0, sizeof(h));
            h.caplen = frame->caplen;
            h.len = frame->len;
            if (pcap_offline_filter(&e->prog, &h, frame->data) == 0) {
                src->filtered++;
                continue;
            }
        }
        return 1;
    }
}

int tl_source_next(tl_source *src, tl_frame *frame, char *errbuf)
{
    return tl_source_next_batch(src, frame, 1, errbuf);
}

int tl_source_next_batch(tl_source *src, tl_frame *frames, int max, char *errbuf)
{
    if (!src || !frames || max < 1)
        return tl_err(errbuf, TL_EINVAL, "next: no source");
    /* An in-place pcap or pcapng input without a filter: taking its next
     * records is all there is to do (measured on h1m: 200 -> 50
     * instructions per record one by one, 36 in batches). Its end or a
     * broken record goes the general way. */
    if (src->direct && !src->filter && !src->brk) {
        tl__reader *r = src->direct;
        int n = r->kind == TL__RD_PCAPNG ? tl__ng_take_many(r, frames, max, src->records)
                                         : tl__pcapbuf_take_many(r, frames, max, src->records);
        src->records += (uint64_t)n;
        if (n)
            return n;
    }
    return next_general(src, frames, errbuf);
}

void tl_source_break(tl_source *src)
{
    if (!src)
        return;
    src->brk = 1;
    /* pcap_breakloop only sets a flag (and on Linux writes an eventfd),
     * so it is safe from a signal handler. */
    if (src->live && src->handle)
        pcap_breakloop(src->handle);
}

void tl_source_set_idle(tl_source *src, tl_source_idle_fn fn, void *ud)
{
    src->idle_fn = fn;
    src->idle_ud = ud;
}

void tl_source_last_error(const tl_source *src, tl_source_where *where)
{
    tl_source_where none = {NULL, -1, 0};
    *where = src ? src->last_error : none;
}

int tl_source_linktype(const tl_source *src)
{
    return src ? src->cur_dlt : -1;
}

int tl_source_fd(const tl_source *src)
{
    if (!src || !src->live || !src->handle)
        return -1;
    return pcap_get_selectable_fd(src->handle);
}

int tl_source_ts_digits(const tl_source *src)
{
    return src ? src->ts_digits : 6;
}

void tl_source_stats_get(tl_source *src, tl_source_stats *st)
{
    if (!st)
        return;
    memset(st, 0, sizeof(*st));
    if (!src)
        return;
    st->records = src->records;
    st->filtered = src->filtered;
    if (src->ops->stats)
        src->ops->stats(src, st);
}

void tl_source_free(tl_source *src)
{
    if (!src)
        return;
    src->ops->close(src);
    drop_progs(src);
    free(src->progs);
    free(src->filter);
    free(src);
}
