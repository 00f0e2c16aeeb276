/* source_offline.c -- capture-file probing and the offline reader shared
 * by the file and memory sources.
 *
 * Formats: pcap (tcpdump.org "PCAP Capture File Format", both byte orders,
 * microsecond magic 0xa1b2c3d4 and nanosecond magic 0xa1b23c4d) and pcapng
 * (IETF draft-ietf-opsawg-pcapng: SHB 0x0A0D0D0A, IDB type 1 with the
 * if_tsresol option, code 9). The probe learns what libpcap does not tell
 * us (timestamp resolution of the file). tl__reader dispatches to the
 * reader that fits: pcap_buf.c for classic pcap in a buffer, pcapng.c for
 * pcapng, libpcap for pipes and unusual classic variants.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source_int.h"

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_BOM 0x1A2B3C4Du
#define PCAPNG_IDB 1u
#define PCAPNG_PB 2u  /* obsolete Packet Block */
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u
#define LINKTYPE_RAW 101

static uint32_t rd32(const uint8_t *p, bool be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t rd16(const uint8_t *p, bool be)
{
    return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

/* LINKTYPE_ values equal DLT_ values except for a few historical ones
 * (libpcap's pcap-common.c map); RAW is the one seen in practice. */
int tl__linktype_to_dlt(uint32_t lt)
{
    switch (lt) {
    case LINKTYPE_RAW: return DLT_RAW;
    case 100: return DLT_ATM_RFC1483;
    case 102: return DLT_SLIP_BSDOS;
    case 103: return DLT_PPP_BSDOS;
    case 106: return DLT_ATM_CLIP;
    default: return (int)lt;
    }
}

/* Digits implied by an if_tsresol byte: MSB clear = 10^-v, set = 2^-v. */
static int tsresol_digits(uint8_t v)
{
    if (v & 0x80)
        return (v & 0x7f) >= 20 ? 9 : 6;  /* 2^-20 s is finer than 1 µs */
    return v > 6 ? 9 : 6;
}

/* Walks the options of an IDB body [p, p+n); returns the digits. */
static int idb_digits(const uint8_t *p, size_t n, bool be)
{
    size_t off = 0;
    int digits = 6;
    while (n - off >= 4) {
        uint16_t code = rd16(p + off, be);
        uint16_t olen = rd16(p + off + 2, be);
        off += 4;
        if (code == 0)  /* opt_endofopt */
            break;
        if (olen > n - off)
            break;
        if (code == 9 && olen >= 1)
            digits = tsresol_digits(p[off]);
        size_t padded = ((size_t)olen + 3u) & ~(size_t)3u;
        if (padded > n - off)
            break;
        off += padded;
    }
    return digits;
}

static int probe_pcapng(const uint8_t *buf, size_t n, tl__probe *pr)
{
    pr->pcapng = true;
    pr->known = true;
    if (n < 12)
        return 0;
    bool be = rd32(buf + 8, true) == PCAPNG_BOM;
    if (!be && rd32(buf + 8, false) != PCAPNG_BOM) {
        pr->known = false;
        return 1;
    }
    size_t off = rd32(buf + 4, be);
    if (off < 28 || off % 4)
        return 1;  /* libpcap will say what is wrong */
    bool seen_idb = false;
    /* Blocks after the SHB: IDBs give link type and resolution. Stop at the
     * first packet block (packets have started) or a new section; other
     * blocks (name resolution, custom...) are stepped over. */
    for (;;) {
        if (n < off || n - off < 8)
            return seen_idb;
        uint32_t type = rd32(buf + off, be);
        uint32_t blen = rd32(buf + off + 4, be);
        if (type == PCAPNG_EPB || type == PCAPNG_SPB || type == PCAPNG_PB ||
            type == PCAPNG_SHB || blen < 12 || blen % 4)
            return 1;
        if (n - off < blen)
            return seen_idb;
        if (type != PCAPNG_IDB || blen < 20) {
            off += blen;
            continue;
        }
        if (!seen_idb)
            pr->dlt = tl__linktype_to_dlt(rd16(buf + off + 8, be));
        int d = idb_digits(buf + off + 16, blen - 20, be);
        if (d > pr->ts_digits)
            pr->ts_digits = d;
        seen_idb = true;
        off += blen;
    }
}

int tl__probe_bytes(const uint8_t *buf, size_t n, tl__probe *pr)
{
    memset(pr, 0, sizeof(*pr));
    pr->ts_digits = 6;
    pr->dlt = -1;
    if (n < 4)
        return 0;
    uint32_t m = rd32(buf, true);
    if (m == PCAPNG_SHB)
        return probe_pcapng(buf, n, pr);

    bool be;
    if (m == 0xa1b2c3d4u || m == 0xa1b23c4du || m == 0xa1b2cd34u)
        be = true;
    else if (rd32(buf, false) == 0xa1b2c3d4u || rd32(buf, false) == 0xa1b23c4du ||
             rd32(buf, false) == 0xa1b2cd34u)
        be = false;
    else
        return 1;  /* unknown: libpcap gives the error */
    pr->known = true;
    pr->ts_digits = rd32(buf, be) == 0xa1b23c4du ? 9 : 6;
    if (n < 24)
        return 0;
    /* Upper bits of the link-type field carry FCS information. */
    pr->dlt = tl__linktype_to_dlt(rd32(buf + 20, be) & 0xffffu);
    return 1;
}

int tl__reader_open(tl__reader *r, FILE *fp, const char *name, bool pcapng,
                    bool seekable, char *errbuf)
{
    char pe[PCAP_ERRBUF_SIZE];

    memset(r, 0, sizeof(*r));
    r->kind = TL__RD_LIBPCAP;
    pe[0] = '\0';
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, pe);
    if (!p) {
        fclose(fp);  /* libpcap leaves the FILE open on failure */
        r->kind = TL__RD_NONE;
        return tl_err(errbuf, TL_EFORMAT, "%s: offset 0: %s", name, pe);
    }
    r->p = p;
    r->fp = fp;
    r->name = name;
    r->pcapng = pcapng;
    r->seekable = seekable;
    r->linktype = pcap_datalink(p);
    return 0;
}

/* pcapng: ftell before pcap_next_ex may point at an IDB or other block
 * libpcap skipped on the way, so find the packet block from its end: the
 * trailing Block Total Length repeats the leading one (pcapng §3.1). */
static int64_t pcapng_block_start(FILE *fp, int64_t before, int64_t after)
{
    uint8_t t[4], h[8];
    int64_t start = before;

    if (after - before < 16 || fseeko(fp, (off_t)(after - 4), SEEK_SET) != 0)
        return before;
    if (fread(t, 1, 4, fp) == 4) {
        for (int be = 0; be <= 1; be++) {
            uint32_t len = rd32(t, be);
            if (len < 16 || len % 4 || (int64_t)len > after - before)
                continue;
            if (fseeko(fp, (off_t)(after - len), SEEK_SET) != 0 || fread(h, 1, 8, fp) != 8)
                break;
            uint32_t type = rd32(h, be);
            if (rd32(h + 4, be) == len &&
                (type == PCAPNG_EPB || type == PCAPNG_SPB || type == PCAPNG_PB)) {
                start = after - len;
                break;
            }
        }
    }
    if (fseeko(fp, (off_t)after, SEEK_SET) != 0)
        return -1;
    return start;
}

static int libpcap_next(tl__reader *r, tl_frame *frame, uint64_t packet_no, char *errbuf)
{
    struct pcap_pkthdr *h;
    const u_char *data;

    int64_t before = (int64_t)ftello(r->fp);
    int rc = pcap_next_ex(r->p, &h, &data);
    if (rc == PCAP_ERROR_BREAK)
        return 0;
    if (rc != 1) {
        /* Offline reads never time out, so this is PCAP_ERROR. */
        const char *why = pcap_geterr(r->p);
        int err = strstr(why, "truncated") ? TL_ETRUNC : TL_EFORMAT;
        frame->file = r->name;
        frame->offset = before;
        return tl_err(errbuf, err, "%s: offset %lld, packet %llu: %s", r->name,
                      (long long)before, (unsigned long long)packet_no, why);
    }
    memset(frame, 0, sizeof(*frame));
    frame->data = data;
    frame->caplen = h->caplen;
    frame->len = h->len;
    frame->ts.sec = (int64_t)h->ts.tv_sec;
    frame->ts.nsec = (uint32_t)h->ts.tv_usec;  /* nanoseconds: opened with NANO */
    frame->linktype = r->linktype;
    frame->offset = before;
    frame->file = r->name;
    if (r->pcapng && r->seekable && before >= 0) {
        int64_t after = (int64_t)ftello(r->fp);
        if (after > before)
            frame->offset = pcapng_block_start(r->fp, before, after);
    }
    return 1;
}

int tl__reader_next(tl__reader *r, tl_frame *frame, uint64_t packet_no, char *errbuf)
{
    switch (r->kind) {
    case TL__RD_PCAP_BUF: return tl__pcapbuf_next(r, frame, packet_no, errbuf);
    case TL__RD_PCAPNG: return tl__ng_next(r, frame, packet_no, errbuf);
    case TL__RD_LIBPCAP: return libpcap_next(r, frame, packet_no, errbuf);
    default: return 0;
    }
}

int tl__reader_open_buf(tl__reader *r, tl_source *src, const uint8_t *buf,
                        size_t len, size_t map_len, const char *name, char *errbuf)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->src = src;
    r->buf = buf;
    r->len = len;
    r->linktype = -1;
    bool ng = len >= 4 && rd32(buf, true) == PCAPNG_SHB;
    int rc = ng ? tl__ng_open(r, errbuf) : tl__pcapbuf_open(r, errbuf);
    if (rc != 0) {
        /* Not ours (1) or broken: the caller still owns the mapping. */
        tl__ng_free(r);
        memset(r, 0, sizeof(*r));
        return rc;
    }
    r->kind = ng ? TL__RD_PCAPNG : TL__RD_PCAP_BUF;
    r->map_len = map_len;
    r->map_fd = -1;
    if (map_len)
        tl__map_guard_add(r);
    r->release_at = map_len ? TL__MAP_WINDOW : SIZE_MAX;
    if (src)
        src->direct = r;
    return 0;
}

int tl__reader_open_ngstream(tl__reader *r, tl_source *src, FILE *fp,
                             const char *name, char *errbuf)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->src = src;
    r->fp = fp;
    r->linktype = -1;
    int rc = tl__ng_open(r, errbuf);
    if (rc != 0) {
        tl__ng_free(r);
        fclose(fp);
        memset(r, 0, sizeof(*r));
        return rc < 0 ? rc : tl_err(errbuf, TL_EFORMAT, "%s: offset 0: not pcapng", name);
    }
    r->kind = TL__RD_PCAPNG;
    return 0;
}

/* The page cache may hold the file in folios of up to 2 MiB, and the
 * kernel maps a whole folio on one fault: by one page-middle entry where
 * the mapping's addresses line up with the file's 2 MiB boundaries, and
 * else by page-table entries, also those behind the read position. Peak
 * RSS then counted 2 to 4 MiB of the capture (kmem:rss_stat, h10m). One
 * page off the boundary, and with the drop-behind reaching back a folio
 * (tl__reader_drop_behind), the window bounds what is mapped. */
static void *map_off_huge_boundary(int fd, size_t len)
{
    const size_t huge = TL__MAP_FOLIO_MAX, page = (size_t)sysconf(_SC_PAGESIZE);
    if (len < huge || len > SIZE_MAX - 2 * huge)
        return mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    size_t span = len + 2 * huge;
    uint8_t *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (res == MAP_FAILED)
        return MAP_FAILED;
    uint8_t *at = (uint8_t *)(((uintptr_t)res + huge - 1) / huge * huge) + page;
    void *m = mmap(at, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        munmap(res, span);
        errno = e;
        return MAP_FAILED;
    }
    /* give back the reservation around the mapping */
    size_t head = (size_t)(at - res), tail_at = head + (len + page - 1) / page * page;
    munmap(res, head);
    if (tail_at < span)
        munmap(res + tail_at, span - tail_at);
    return m;
}

int tl__map_file(int fd, const uint8_t **out, size_t *len)
{
    struct stat st;
    *out = NULL;
    *len = 0;
    if (fstat(fd, &st) != 0)
        return -errno;
    if (st.st_size <= 0)
        return 0;
    if ((uint64_t)st.st_size > SIZE_MAX)
        return -EFBIG;
    /* A writer truncating the file under us raises SIGBUS on the lost
     * pages: map_guard.c turns that into an error. */
    void *m = map_off_huge_boundary(fd, (size_t)st.st_size);
    if (m == MAP_FAILED)
        return -errno;
    (void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
    *out = m;
    *len = (size_t)st.st_size;
    return 0;
}

void tl__reader_drop_behind(tl__reader *r)
{
    /* Frames before r->pos are no longer borrowed by anyone. */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t end = r->pos / page * page;
    if (end > r->dropped) {
        /* A fault may have mapped a whole folio again, also behind the
         * last drop (map_off_huge_boundary). */
        size_t from = r->dropped > TL__MAP_FOLIO_MAX ? r->dropped - TL__MAP_FOLIO_MAX : 0;
        (void)madvise((void *)(uintptr_t)(r->buf + from), end - from, MADV_DONTNEED);
        r->dropped = end;
    }
    r->release_at = r->dropped + TL__MAP_WINDOW;
}

void tl__reader_close(tl__reader *r)
{
    if (r->src && r->src->direct == r)
        r->src->direct = NULL;
    switch (r->kind) {
    case TL__RD_LIBPCAP:
        if (r->p)
            pcap_close(r->p);  /* also closes the FILE */
        break;
    case TL__RD_PCAPNG:
        tl__ng_free(r);
        if (r->fp)
            fclose(r->fp);
        break;
    default:
        break;
    }
    if (r->map_len) {
        tl__map_guard_remove(r);
        munmap((void *)(uintptr_t)r->buf, r->map_len);
    }
    if (r->map_fd >= 0 && r->map_len)
        close(r->map_fd);
    memset(r, 0, sizeof(*r));
}
