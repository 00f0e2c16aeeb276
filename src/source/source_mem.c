/* source_mem.c -- pcap/pcapng bytes in a caller's buffer: tests and fuzz
 * targets read captures without temp files (STYLE.md §4).
 *
 * glibc's fmemopen() turns the buffer into a seekable FILE that libpcap
 * reads like any file, so all formats libpcap knows work here too.
 */
#include <stdlib.h>

#include "source/source_int.h"

#define MEM_NAME "<memory>"

typedef struct mem_priv {
    tl__reader rd;  /* rd.p == NULL once the buffer is used up or broken */
} mem_priv;

static int mem_next(tl_source *src, tl_frame *frame, char *errbuf)
{
    mem_priv *mp = src->priv;
    if (!mp->rd.p)
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
    if (!mp)
        return tl_err(errbuf, TL_ENOMEM, MEM_NAME ": out of memory");
    /* "r" mode never writes, so casting away const is safe. */
    FILE *fp = fmemopen((void *)(uintptr_t)buf, len, "r");
    if (!fp) {
        free(mp);
        return tl_err(errbuf, TL_ENOMEM, MEM_NAME ": fmemopen failed");
    }
    int rc = tl__reader_open(&mp->rd, fp, MEM_NAME, probe.pcapng, true, errbuf);
    if (rc < 0) {
        free(mp);
        return rc;
    }
    tl_source *src = tl__source_new(&mem_ops, mp);
    if (!src) {
        tl__reader_close(&mp->rd);
        free(mp);
        return tl_err(errbuf, TL_ENOMEM, MEM_NAME ": out of memory");
    }
    src->ts_digits = probe.ts_digits;
    src->probe_dlt = mp->rd.linktype;
    (void)tl__source_attach(src, mp->rd.p, MEM_NAME, errbuf);  /* no filter yet */
    *out = src;
    return 0;
}
