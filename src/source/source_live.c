/* source_live.c -- live capture on an interface (or "any") through
 * pcap_create / pcap_activate, immediate mode for watch.
 *
 * pcap_next_ex is called with a short read timeout so the break flag set
 * by tl_source_break() (possibly from a signal handler) is seen promptly
 * even where pcap_breakloop cannot wake a blocked read.
 */
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>

#include "source/source_int.h"

#define LIVE_TIMEOUT_MS 200

typedef struct live_priv {
    pcap_t *p;
    char *iface;
    int linktype;
    int fd;          /* selectable descriptor, polled while nothing is queued */
} live_priv;

static int live_next(tl_source *src, tl_frame *frame, char *errbuf)
{
    live_priv *lp = src->priv;
    struct pcap_pkthdr *h;
    const u_char *data;

    for (;;) {
        if (src->brk)
            return 0;
        int rc = pcap_next_ex(lp->p, &h, &data);
        if (rc == 0) {
            /* Non-blocking: nothing queued. Wait ourselves, so that quiet
             * periods reach the idle callback (libpcap's own read timeout
             * may block on TPACKET_V3 until a packet comes). A signal
             * (Ctrl-C) interrupts poll and the break flag is seen. */
            struct pollfd pfd = {lp->fd, POLLIN, 0};
            if (poll(&pfd, 1, LIVE_TIMEOUT_MS) == 0 && src->idle_fn) {
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                tl_time t = {(int64_t)now.tv_sec, (uint32_t)now.tv_nsec};
                src->idle_fn(src->idle_ud, t);
            }
            continue;
        }
        if (rc == PCAP_ERROR_BREAK)
            return 0;
        if (rc < 0)
            return tl_err(errbuf, TL_EIO, "%s: packet %llu: %s", lp->iface,
                          (unsigned long long)src->records + 1, pcap_geterr(lp->p));
        memset(frame, 0, sizeof(*frame));
        frame->data = data;
        frame->caplen = h->caplen;
        frame->len = h->len;
        frame->ts.sec = (int64_t)h->ts.tv_sec;
        frame->ts.nsec = src->ts_digits == 9 ? (uint32_t)h->ts.tv_usec
                                             : (uint32_t)h->ts.tv_usec * 1000u;
        frame->linktype = lp->linktype;
        frame->offset = -1;
        frame->file = lp->iface;
        return 1;
    }
}

static void live_stats(tl_source *src, tl_source_stats *st)
{
    live_priv *lp = src->priv;
    struct pcap_stat ps;
    if (pcap_stats(lp->p, &ps) != 0)
        return;
    st->kernel_dropped = ps.ps_drop;
    st->iface_dropped = ps.ps_ifdrop;
    st->has_kernel_stats = true;
}

static void live_priv_free(live_priv *lp)
{
    if (lp->p)
        pcap_close(lp->p);
    free(lp->iface);
    free(lp);
}

static void live_close(tl_source *src)
{
    live_priv_free(src->priv);
}

static const struct tl_source_ops live_ops = {live_next, live_stats, live_close};

/* pcap_activate status -> TL_E*, with a message that says what to do. */
static int activate_error(pcap_t *p, int status, const char *iface, char *errbuf)
{
    const char *detail = pcap_geterr(p);
    if (!detail || !*detail)
        detail = pcap_statustostr(status);
    switch (status) {
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return tl_err(errbuf, TL_EPERM,
                      "capture on %s: permission denied (%s); needs root or "
                      "CAP_NET_RAW and CAP_NET_ADMIN, e.g. setcap "
                      "cap_net_raw,cap_net_admin+eip tcplens",
                      iface, detail);
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return tl_err(errbuf, TL_ENOTFOUND, "capture on %s: no such interface (%s)",
                      iface, detail);
    default:
        return tl_err(errbuf, TL_EIO, "capture on %s: %s", iface, detail);
    }
}

int tl_source_open_live(tl_source **out, const tl_live_config *cfg, char *errbuf)
{
    char pe[PCAP_ERRBUF_SIZE];

    if (!out)
        return tl_err(errbuf, TL_EINVAL, "open live: no output");
    *out = NULL;
    const char *iface = cfg && cfg->iface && *cfg->iface ? cfg->iface : "any";
    int snaplen = cfg && cfg->snaplen > 0 ? cfg->snaplen : 262144;

    live_priv *lp = calloc(1, sizeof(*lp));
    if (!lp || !(lp->iface = strdup(iface))) {
        free(lp);
        return tl_err(errbuf, TL_ENOMEM, "capture on %s: out of memory", iface);
    }
    pe[0] = '\0';
    pcap_t *p = pcap_create(iface, pe);
    if (!p) {
        free(lp->iface);
        free(lp);
        return tl_err(errbuf, TL_EIO, "capture on %s: %s", iface, pe);
    }
    lp->p = p;
    (void)pcap_set_snaplen(p, snaplen);
    (void)pcap_set_promisc(p, cfg && cfg->promisc);
    (void)pcap_set_timeout(p, LIVE_TIMEOUT_MS);
    if (cfg && cfg->immediate)
        (void)pcap_set_immediate_mode(p, 1);
    if (cfg && cfg->buffer_kib > 0)
        (void)pcap_set_buffer_size(p, cfg->buffer_kib * 1024);
    /* Nanoseconds where the platform has them; stays micro otherwise. */
    (void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);

    int status = pcap_activate(p);
    if (status < 0) {
        int rc = activate_error(p, status, iface, errbuf);
        live_priv_free(lp);
        return rc;
    }
    /* status > 0 is a warning (e.g. promiscuous mode not supported). */
    lp->linktype = pcap_datalink(p);
    lp->fd = pcap_get_selectable_fd(p);
    if (lp->fd < 0 || pcap_setnonblock(p, 1, pe) < 0) {
        int rc = tl_err(errbuf, TL_EIO, "capture on %s: cannot wait for packets: %s", iface,
                        lp->fd < 0 ? "no selectable descriptor" : pe);
        live_priv_free(lp);
        return rc;
    }
    tl_source *src = tl__source_new(&live_ops, lp);
    if (!src) {
        live_priv_free(lp);
        return tl_err(errbuf, TL_ENOMEM, "capture on %s: out of memory", iface);
    }
    src->live = true;
    src->ts_digits = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO ? 9 : 6;
    src->probe_dlt = lp->linktype;
    (void)tl__source_attach(src, p, iface, errbuf);  /* no filter yet */
    *out = src;
    return 0;
}
