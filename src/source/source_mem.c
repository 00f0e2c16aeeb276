/* source_mem.c -- pcap/pcapng bytes in a caller's buffer: tests and fuzz
 * targets read captures without temp files (STYLE.md §4).
 *
 * Classic pcap and pcapng are walked in place (pcap_buf.c, pcapng.c), as
 * mapped files are; for the unusual pcap variants glibc's fmemopen() turns
 * the buffer into a seekable FILE that libpcap reads like any file.
 */
#include <stdlib.h>

#include "source/source_int.h"

#define MEM_NAME "<memory>"

typedef struct mem_priv {
    tl__reader rd;  /* rd.kind == TL__RD_NONE once the buffer is used up or broken */
} mem_priv;

static int mem_next(tl_source *src, tl_frame *frame, char *errbuf)
{
    mem_priv *mp = src->priv;
    if (mp->rd.kind == TL__RD_NONE)
        return 0;
    int rc = tl__reader_next(&mp->rd, frame, src->records + 1, errbuf);
    if (rc != 1) {
        (void)tl__source_attach(src, NULL, NULL, NULL);
        tl__reader_close(&mp->rd);
    }
    return rc;
}

static void mem_close(tl_source *src)
{
    mem_priv *mp = src->priv;
    tl__reader_close(&mp->rd);
    free(mp);
}

static const struct tl_source_ops mem_ops = {mem_next, NULL, mem_close};

int tl_source_open_mem(tl_source **out, const uint8_t *buf, size_t len, char *errbuf)
{
    if (!out || (!buf && len))
        return tl_err(errbuf, TL_EINVAL, MEM_NAME ": no buffer");
    *out = NULL;
    if (len == 0)
        return tl_err(errbuf, TL_EFORMAT, MEM_NAME ": offset 0: empty capture");

    tl__probe probe;
    (void)tl__probe_bytes(buf, len, &probe);

    mem_priv *mp = calloc(1, sizeof(*mp));
    tl_source *src = mp ? tl__source_new(&mem_ops, mp) : NULL;
    if (!src) {
        free(mp);
        return tl_err(errbuf, TL_ENOMEM, MEM_NAME ": out of memory");
    }
    src->ts_digits = probe.ts_digits;
    if (probe.dlt >= 0)
        src->probe_dlt = probe.dlt;
    int rc = tl__reader_open_buf(&mp->rd, src, buf, len, 0, MEM_NAME, errbuf);
    if (rc == 1) {
        /* A variant only libpcap reads: "r" mode never writes, so casting
         * away const is safe. */
        FILE *fp = fmemopen((void *)(uintptr_t)buf, len, "r");
        rc = fp ? tl__reader_open(&mp->rd, fp, MEM_NAME, false, true, errbuf)
                : tl_err(errbuf, TL_ENOMEM, MEM_NAME ": fmemopen failed");
        if (rc == 0)
            (void)tl__source_attach(src, mp->rd.p, MEM_NAME, errbuf);  /* no filter yet */
    }
    if (rc < 0) {
        tl_source_free(src);
        return rc;
    }
    *out = src;
    return 0;
}
