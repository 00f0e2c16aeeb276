/* source.c -- tl_source dispatch: numbering, BPF filter, counters.
 *
 * Offline sources apply the filter here with pcap_offline_filter() rather
 * than pcap_setfilter(), so that rejected records still get a number and
 * tl_frame.n matches tcpdump -# / Wireshark frame numbers. Live sources let
 * the kernel filter (pcap_setfilter) to keep unwanted packets out of
 * userspace; their numbering counts delivered packets, as tcpdump does.
 */
#include <stdlib.h>
#include <string.h>

#include "source/source_int.h"

tl_source *tl__source_new(const struct tl_source_ops *ops, void *priv)
{
    tl_source *src = calloc(1, sizeof(*src));
    if (!src)
        return NULL;
    src->ops = ops;
    src->priv = priv;
    src->ts_digits = 6;
    src->probe_dlt = DLT_EN10MB;
    return src;
}

static void drop_prog(tl_source *src)
{
    if (src->have_prog) {
        pcap_freecode(&src->prog);
        src->have_prog = false;
    }
}

/* Compile src->filter for handle p into src->prog. */
static int compile_for(tl_source *src, pcap_t *p, const char *name, char *errbuf)
{
    struct bpf_program prog;

    if (pcap_compile(p, &prog, src->filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        return tl_err(errbuf, TL_EFILTER, "filter '%s'%s%s: %s", src->filter,
                      name ? " for " : "", name ? name : "", pcap_geterr(p));
    drop_prog(src);
    src->prog = prog;
    src->have_prog = true;
    return 0;
}

int tl__source_attach(tl_source *src, pcap_t *p, const char *name, char *errbuf)
{
    src->handle = p;
    if (!p || !src->filter)
        return 0;
    int rc = compile_for(src, p, name, errbuf);
    if (rc == 0 && src->live && pcap_setfilter(p, &src->prog) != 0)
        return tl_err(errbuf, TL_EFILTER, "filter '%s': %s", src->filter,
                      pcap_geterr(p));
    return rc;
}

int tl_source_set_filter(tl_source *src, const char *filter, char *errbuf)
{
    if (!src)
        return tl_err(errbuf, TL_EINVAL, "set filter: no source");
    if (!filter || !*filter) {
        free(src->filter);
        src->filter = NULL;
        drop_prog(src);
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
    char *old = src->filter;
    src->filter = copy;

    int rc;
    if (src->handle) {
        rc = tl__source_attach(src, src->handle, NULL, errbuf);
    } else {
        /* No file open yet: validate against the first file's link type;
         * each file recompiles when it is opened. */
        pcap_t *dead = pcap_open_dead(src->probe_dlt, 262144);
        if (!dead) {
            rc = tl_err(errbuf, TL_ENOMEM, "set filter: out of memory");
        } else {
            rc = compile_for(src, dead, NULL, errbuf);
            pcap_close(dead);
        }
    }
    if (rc < 0) {
        src->filter = old;
        free(copy);
        return rc;
    }
    free(old);
    return 0;
}

int tl_source_next(tl_source *src, tl_frame *frame, char *errbuf)
{
    if (!src || !frame)
        return tl_err(errbuf, TL_EINVAL, "next: no source");
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
        if (src->have_prog && !src->live) {
            struct pcap_pkthdr h;
            memset(&h, 0, sizeof(h));
            h.caplen = frame->caplen;
            h.len = frame->len;
            if (pcap_offline_filter(&src->prog, &h, frame->data) == 0) {
                src->filtered++;
                continue;
            }
        }
        return 1;
    }
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

void tl_source_last_error(const tl_source *src, tl_source_where *where)
{
    tl_source_where none = {NULL, -1, 0};
    *where = src ? src->last_error : none;
}

int tl_source_linktype(const tl_source *src)
{
    return src && src->handle ? pcap_datalink(src->handle) : -1;
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
    drop_prog(src);
    free(src->filter);
    free(src);
}
