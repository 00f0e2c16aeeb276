/* dumper.c -- write frames to a pcap file that tcpdump and Wireshark open
 * (watch -w, lab -w). libpcap writes the file; a dead handle carries the
 * link type and the timestamp precision (nanosecond magic for 9 digits).
 */
#include <stdlib.h>
#include <string.h>

#include "source/source_int.h"

struct tl_dumper {
    pcap_t *dead;
    pcap_dumper_t *dump;
    bool nano;
};

int tl_dumper_open(tl_dumper **out, const char *path, int linktype, int ts_digits,
                   char *errbuf)
{
    if (!out || !path)
        return tl_err(errbuf, TL_EINVAL, "pcap writer: no path");
    *out = NULL;
    tl_dumper *d = calloc(1, sizeof(*d));
    if (!d)
        return tl_err(errbuf, TL_ENOMEM, "%s: out of memory", path);
    int loaded = tl__pcap_load(errbuf);
    if (loaded != 0) {
        free(d);
        return loaded;
    }
    d->nano = ts_digits == 9;
    d->dead = pcap_open_dead_with_tstamp_precision(
        linktype, 262144, d->nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    if (!d->dead) {
        free(d);
        return tl_err(errbuf, TL_ENOMEM, "%s: out of memory", path);
    }
    d->dump = pcap_dump_open(d->dead, path);  /* "-" writes to stdout */
    if (!d->dump) {
        int rc = tl_err(errbuf, TL_EIO, "%s", pcap_geterr(d->dead));
        pcap_close(d->dead);
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void tl_dumper_write(tl_dumper *d, const tl_frame *f)
{
    if (!d || !f || !f->data)
        return;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = (time_t)f->ts.sec;
    /* A nanosecond dead handle makes pcap_dump store tv_usec as is. */
    h.ts.tv_usec = (suseconds_t)(d->nano ? f->ts.nsec : f->ts.nsec / 1000u);
    h.caplen = f->caplen;
    h.len = f->len < f->caplen ? f->caplen : f->len;
    pcap_dump((u_char *)d->dump, &h, f->data);
}

void tl_dumper_flush(tl_dumper *d)
{
    if (d)
        (void)pcap_dump_flush(d->dump);
}

void tl_dumper_close(tl_dumper *d)
{
    if (!d)
        return;
    pcap_dump_close(d->dump);
    pcap_close(d->dead);
    free(d);
}
