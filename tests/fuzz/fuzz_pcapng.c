/* fuzz_pcapng.c -- libFuzzer target for the capture readers behind the mem
 * source: pcapng.c (and pcap_buf.c for inputs with a pcap magic).
 *
 * The first byte picks a mode: bit 0 puts a section header and two
 * interface blocks of different link types (little- or big-endian by bit
 * 1) in front of the rest, so an empty corpus reaches the block parsers at
 * once; bit 2 sets a filter, which compiles per link type. Checks: every
 * frame lies inside the buffer, offsets grow, errors name the buffer, and
 * the stream reader (used for stdin) yields exactly what the in-place
 * reader yields, frame for frame and error for error.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t put32(uint8_t *p, uint32_t v, int be)
{
    for (int i = 0; i < 4; i++)
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    return 4;
}

static size_t put16(uint8_t *p, uint16_t v, int be)
{
    p[be ? 1 : 0] = (uint8_t)v;
    p[be ? 0 : 1] = (uint8_t)(v >> 8);
    return 2;
}

/* SHB + IDB(Ethernet, µs) + IDB(raw IP, if_tsresol 2^-20). */
static size_t prefix(uint8_t *p, int be)
{
    size_t o = 0;
    o += put32(p + o, 0x0A0D0D0Au, be);
    o += put32(p + o, 28, be);
    o += put32(p + o, 0x1A2B3C4Du, be);
    o += put16(p + o, 1, be);
    o += put16(p + o, 0, be);
    o += put32(p + o, 0xffffffffu, be);
    o += put32(p + o, 0xffffffffu, be);
    o += put32(p + o, 28, be);
    o += put32(p + o, 1, be);
    o += put32(p + o, 20, be);
    o += put16(p + o, 1, be);
    o += put16(p + o, 0, be);
    o += put32(p + o, 0, be);
    o += put32(p + o, 20, be);
    o += put32(p + o, 1, be);
    o += put32(p + o, 32, be);
    o += put16(p + o, 101, be);
    o += put16(p + o, 0, be);
    o += put32(p + o, 96, be);
    o += put16(p + o, 9, be);
    o += put16(p + o, 1, be);
    p[o++] = 0x80 | 20;
    p[o++] = 0;
    p[o++] = 0;
    p[o++] = 0;
    o += put32(p + o, 0, be);
    o += put32(p + o, 32, be);
    return o;
}

/* The stream reader over the same bytes must agree with the in-place one. */
static void differential(const uint8_t *buf, size_t len)
{
    if (len < 4 || memcmp(buf, "\x0a\x0d\x0d\x0a", 4) != 0)
        return;
    tl__reader a, s;
    char ea[TL_ERRBUF_SIZE], es[TL_ERRBUF_SIZE];
    int oa = tl__reader_open_buf(&a, NULL, buf, len, 0, "x", ea);
    FILE *fp = fmemopen((void *)(uintptr_t)buf, len, "r");
    if (!fp)
        abort();
    int os = tl__reader_open_ngstream(&s, NULL, fp, "x", es);
    if ((oa == 0) != (os == 0))
        abort();
    if (oa != 0) {
        if (os == 0)
            tl__reader_close(&s);
        return;
    }
    for (uint64_t k = 1;; k++) {
        tl_frame fa, fs;
        memset(&fa, 0, sizeof(fa));
        memset(&fs, 0, sizeof(fs));
        int ra = tl__reader_next(&a, &fa, k, ea);
        int rs = tl__reader_next(&s, &fs, k, es);
        if (ra != rs)
            abort();
        if (ra != 1) {
            /* ENOMEM can only differ (the stream buffers a block). */
            if (ra < 0 && (fa.offset != fs.offset || strcmp(ea, es) != 0))
                abort();
            break;
        }
        if (fa.caplen != fs.caplen || fa.len != fs.len || fa.ts.sec != fs.ts.sec ||
            fa.ts.nsec != fs.ts.nsec || fa.linktype != fs.linktype ||
            fa.offset != fs.offset || memcmp(fa.data, fs.data, fa.caplen) != 0)
            abort();
        if (fa.ts.nsec >= 1000000000u)
            abort();
    }
    tl__reader_close(&a);
    tl__reader_close(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    size_t pre = 0;
    uint8_t *buf = malloc(128 + size);
    if (!buf)
        return 0;
    if (mode & 1)
        pre = prefix(buf, mode & 2);
    if (size)
        memcpy(buf + pre, data, size);
    size_t len = pre + size;

    differential(buf, len);

    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE];
    if (len == 0 || tl_source_open_mem(&src, buf, len, err) != 0) {
        free(buf);
        return 0;
    }
    if (mode & 4)
        (void)tl_source_set_filter(src, "tcp or ip6", err);
    /* mode & 8: batches of 1 + (mode >> 4) % 8 frames (tl_source_next_batch,
     * whose in-place runs must obey the same bounds), else single calls. */
    int max = (mode & 8) ? 1 + (mode >> 4) % 8 : 0;
    tl_frame fs[8];
    int64_t last = -1;
    volatile uint8_t sink = 0;
    bool ng = len >= 4 && memcmp(buf, "\x0a\x0d\x0d\x0a", 4) == 0;
    for (int i = 0; i < 100000; i++) {
        int rc = max ? tl_source_next_batch(src, fs, max, err) : tl_source_next(src, &fs[0], err);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (!strstr(err, "<memory>") && rc != TL_EFILTER)
                abort();
            continue;
        }
        if (rc > (max ? max : 1))
            abort();
        for (int j = 0; j < rc; j++) {
            const tl_frame *f = &fs[j];
            /* Zero-copy: a pcapng frame is a slice of the buffer. */
            if (ng && (f->data < buf || f->caplen > len || (size_t)(f->data - buf) > len - f->caplen))
                abort();
            if (f->offset <= last || f->offset < 0 || (uint64_t)f->offset >= len)
                abort();
            last = f->offset;
            for (uint32_t k = 0; k < f->caplen; k++)
                sink ^= f->data[k];
        }
    }
    (void)sink;
    tl_source_free(src);
    free(buf);
    return 0;
}
