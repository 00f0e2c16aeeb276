/* test_source_mmap.c -- classic pcap walked in place (src/source/pcap_buf.c
 * over an mmap'ed file): every field equals what libpcap gives for the same
 * bytes, in both byte orders and precisions and across the drop-behind
 * window; truncated and absurd records are errors with file, offset and
 * packet; variants only libpcap reads still read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "source/source_int.h"
#include "test_source_build.h"
#include "test_source_batch.h"

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du

/* Deterministic pseudo-random numbers (xorshift). */
static uint32_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

/* A capture of `count` records with varied sizes, lengths (caplen below,
 * equal to and above len) and time stamps; some records exceed the file's
 * snap length of 1600, which libpcap cuts to it. */
static void varied_capture(bytes *b, uint32_t magic, unsigned count, uint64_t seed)
{
    uint8_t d[2000];
    pcap_header_snap(b, magic, 1600, 1);
    for (unsigned i = 0; i < count; i++) {
        uint32_t caplen = rnd(&seed) % 1700;
        for (uint32_t k = 0; k < caplen; k++)
            d[k] = (uint8_t)(i * 7 + k);
        uint32_t len = caplen + (rnd(&seed) % 3 == 0 ? rnd(&seed) % 100 : 0);
        if (i % 11 == 5 && caplen > 0)
            len = caplen - 1;  /* some writers do this; accepted */
        uint32_t frac = magic == MAGIC_NS ? rnd(&seed) % 1000000000u : rnd(&seed) % 1000000u;
        pcap_rec(b, 1600000000u + i / 3, frac, d, caplen, len);
    }
}

/* Reads `path` through libpcap (the reference) and through the file source
 * (mapped) and compares every frame field. Returns the record count. */
static unsigned compare_with_libpcap(const char *path)
{
    tl__reader lib;
    char err[TL_ERRBUF_SIZE] = "";
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(tl__reader_open(&lib, fp, path, false, true, err), 0);

    tl_source *src = NULL;
    const char *paths[] = {path};
    assert_int_equal(tl_source_open_files(&src, paths, 1, err), 0);
    unsigned n = 0;
    for (;;) {
        tl_frame a, m;
        memset(&a, 0, sizeof(a));
        int ra = tl__reader_next(&lib, &a, n + 1, err);
        int rm = tl_source_next(src, &m, err);
        assert_int_equal(ra, rm);
        if (ra != 1)
            break;
        n++;
        assert_int_equal(m.caplen, a.caplen);
        assert_int_equal(m.len, a.len);
        assert_memory_equal(m.data, a.data, a.caplen);
        assert_int_equal(m.ts.sec, a.ts.sec);
        assert_int_equal(m.ts.nsec, a.ts.nsec);
        assert_int_equal(m.linktype, a.linktype);
        assert_int_equal(m.offset, a.offset);
        assert_int_equal(m.n, n);
        assert_string_equal(m.file, path);
    }
    tl__reader_close(&lib);
    tl_source_free(src);
    return n;
}

static void mapped_reader_matches_libpcap_in_every_field(void **state)
{
    (void)state;
    static const uint32_t magics[] = {MAGIC_US, MAGIC_NS};
    for (int be = 0; be <= 1; be++) {
        for (int m = 0; m < 2; m++) {
            bytes b = {.be = be};
            varied_capture(&b, magics[m], 3000, 0x1234567u + (uint64_t)(be * 2 + m));
            char path[128];
            tmp_name(path, sizeof(path), "varied.pcap");
            write_bytes(path, &b);
            assert_int_equal(compare_with_libpcap(path), 3000);
            unlink(path);
            free(b.p);
        }
    }
}

static void mapped_reader_matches_libpcap_past_the_drop_behind_window(void **state)
{
    (void)state;
    /* ~2.5 window lengths, so pages behind the reader are given back
     * twice while frames keep coming right. */
    bytes b = {0};
    unsigned count = (unsigned)(TL__MAP_WINDOW * 5 / 2 / 866);
    varied_capture(&b, MAGIC_US, count, 99);
    assert_true(b.len > 2 * TL__MAP_WINDOW);
    char path[128];
    tmp_name(path, sizeof(path), "window.pcap");
    write_bytes(path, &b);
    assert_int_equal(compare_with_libpcap(path), count);
    unlink(path);
    free(b.p);
}

/* Resident bytes of the mapping that holds addr (/proc/self/smaps), or -1. */
static long mapped_rss_of(const void *addr)
{
    FILE *fp = fopen("/proc/self/smaps", "r");
    if (!fp)
        return -1;
    char line[512];
    bool in = false;
    long rss = -1;
    while (fgets(line, sizeof line, fp)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
        } else if (in && strncmp(line, "Rss:", 4) == 0) {
            rss = strtol(line + 4, NULL, 10) * 1024;
            break;
        }
    }
    fclose(fp);
    return rss;
}

/* Memory stays flat in the file's size: of a capture 16 times the page
 * cache's largest folio, the reader keeps mapped at most the drop-behind
 * window and one folio, which the kernel may map whole on one fault
 * (map_off_huge_boundary in source_offline.c). */
static void mapped_reader_keeps_a_window_mapped(void **state)
{
    (void)state;
    bytes b = {0};
    unsigned count = (unsigned)(16 * TL__MAP_FOLIO_MAX / 866);
    varied_capture(&b, MAGIC_US, count, 5);
    char path[128];
    tmp_name(path, sizeof(path), "flat.pcap");
    write_bytes(path, &b);
    assert_int_equal(compare_with_libpcap(path), count);   /* now in the page cache */

    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    const char *paths[] = {path};
    assert_int_equal(tl_source_open_files(&src, paths, 1, err), 0);
    long most = 0;
    unsigned n = 0;
    tl_frame f;
    while (tl_source_next(src, &f, err) == 1) {
        if (++n % 64 == 0) {
            long rss = mapped_rss_of(f.data);
            assert_true(rss >= 0);
            if (rss > most)
                most = rss;
        }
    }
    assert_int_equal(n, count);
    print_message("# most of the capture mapped at once: %ld KiB of %zu KiB\n", most / 1024,
                  b.len / 1024);
    assert_true(most > 0);
    assert_true(most <= (long)(TL__MAP_WINDOW + TL__MAP_FOLIO_MAX));
    tl_source_free(src);
    unlink(path);
    free(b.p);
}

/* Three 54-byte records at offsets 24, 94, 164. */
static void three(bytes *b)
{
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 5555, 80);
    pcap_header_snap(b, MAGIC_US, 65535, 1);
    for (uint32_t i = 0; i < 3; i++)
        pcap_rec(b, 10 + i, 0, fr, (uint32_t)n, (uint32_t)n);
}

static tl_source *open_file_ok(const char *path, const bytes *b)
{
    write_bytes(path, b);
    const char *paths[] = {path};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    if (tl_source_open_files(&src, paths, 1, err) != 0)
        fail_msg("open %s: %s", path, err);
    return src;
}

static void expect_error_at(tl_source *src, int err_want, const char *path, long off,
                            unsigned pkt, const char *what)
{
    tl_frame f;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_next(src, &f, err), err_want);
    char want[256];
    snprintf(want, sizeof(want), "%s: offset %ld, packet %u: ", path, off, pkt);
    if (!strstr(err, want) || !strstr(err, what))
        fail_msg("'%s' / '%s' not in '%s'", want, what, err);
    tl_source_where w;
    tl_source_last_error(src, &w);
    assert_string_equal(w.file, path);
    assert_int_equal(w.offset, off);
    assert_int_equal(w.packet, pkt);
    assert_int_equal(tl_source_next(src, &f, err), 0);
}

static void mapped_truncated_last_record_gives_frames_then_etrunc(void **state)
{
    (void)state;
    char path[128];
    tmp_name(path, sizeof(path), "trunc.pcap");
    bytes b = {.be = true};
    three(&b);
    b.len -= 1;
    tl_source *src = open_file_ok(path, &b);
    tl_frame f;
    char err[TL_ERRBUF_SIZE];
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    expect_error_at(src, TL_ETRUNC, path, 164, 3, "truncated record (54 captured bytes, 53");
    tl_source_free(src);

    b.len = 24 + 70 + 9;  /* second header cut */
    src = open_file_ok(path, &b);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    expect_error_at(src, TL_ETRUNC, path, 94, 2, "truncated record header (9 of 16");
    tl_source_free(src);
    unlink(path);
    free(b.p);
}

/* Reads until the source stops; returns the frames, *last the last result,
 * err the last message. */
static unsigned read_all(tl_source *src, int *last, char *err)
{
    tl_frame f;
    unsigned n = 0;
    int rc;
    while ((rc = tl_source_next(src, &f, err)) == 1) n++;
    *last = rc;
    return n;
}

/* `count` records of 100 captured bytes (116 with the header) after the
 * 24-byte file header. */
static void hundreds(bytes *b, unsigned count, bool ng)
{
    uint8_t d[100];
    memset(d, 0xab, sizeof(d));
    if (ng) {
        ng_shb(b);
        ng_idb(b, 1, 6);
    } else {
        pcap_header_snap(b, MAGIC_US, 65535, 1);
    }
    for (unsigned i = 0; i < count; i++) {
        if (ng)
            ng_epb(b, 0, 1000000u + i, d, sizeof(d), sizeof(d));
        else
            pcap_rec(b, 1600000000u + i, i, d, sizeof(d), sizeof(d));
    }
}

/* Another process truncates the file while we read it: no SIGBUS, the
 * records before are read, then an error naming the shrink. Cut at a page
 * boundary, the next page faults (SIGBUS, map_guard.c); cut inside a page,
 * the rest of that page reads as zeros. Both for pcap and pcapng. */
static void file_truncated_while_mapped_is_an_error_not_a_crash(void **state)
{
    (void)state;
    static const long cuts[] = {0, 4096, 8192 + 300, 3 * 65536};
    for (int ng = 0; ng <= 1; ng++) {
        for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
            char path[128], err[TL_ERRBUF_SIZE] = "";
            tmp_name(path, sizeof(path), ng ? "shrink.pcapng" : "shrink.pcap");
            bytes b = {0};
            hundreds(&b, 20000, ng);  /* ~2.3 MB: also past a drop-behind window */
            tl_source *src = open_file_ok(path, &b);
            tl_frame f;
            for (int i = 0; i < 10; i++) assert_int_equal(tl_source_next(src, &f, err), 1);
            assert_int_equal(truncate(path, cuts[c]), 0);
            int last;
            unsigned more = read_all(src, &last, err);
            assert_int_equal(last, TL_EIO);
            if (!strstr(err, "shrank")) fail_msg("no shrink in '%s'", err);
            /* records after the cut are not made up from the zeros: at
             * most the one the cut goes through is read */
            long hdr = ng ? 28 + 32 : 24, rec = ng ? 132 : 116, read = 10 + (long)more;
            long upto = cuts[c] > hdr + 10 * rec ? cuts[c] : hdr + 10 * rec;
            assert_true(hdr + read * rec <= upto + rec);
            tl_source_free(src);
            unlink(path);
            free(b.p);
        }
    }
}

/* A record of 0 captured bytes is rare but valid: read, not an error. */
static void zero_length_record_in_a_whole_file_is_read(void **state)
{
    (void)state;
    char path[128], err[TL_ERRBUF_SIZE] = "";
    tmp_name(path, sizeof(path), "zero.pcap");
    bytes b = {0};
    uint8_t d[60] = {0};
    pcap_header_snap(&b, MAGIC_US, 65535, 1);
    pcap_rec(&b, 1600000000u, 0, d, 60, 60);
    pcap_rec(&b, 1600000001u, 0, d, 0, 0);
    pcap_rec(&b, 1600000002u, 0, d, 60, 60);
    tl_source *src = open_file_ok(path, &b);
    int last;
    assert_int_equal(read_all(src, &last, err), 3);
    assert_int_equal(last, 0);
    tl_source_free(src);
    unlink(path);
    free(b.p);
}

static void mapped_absurd_caplen_is_an_error_not_a_read(void **state)
{
    (void)state;
    char path[128];
    tmp_name(path, sizeof(path), "absurd.pcap");
    for (int be = 0; be <= 1; be++) {
        bytes b = {.be = be};
        three(&b);
        /* Record 2's caplen: 262145, one above libpcap's maximum; the file
         * even holds that many bytes, so only the check can refuse it. */
        size_t at = 94 + 8;
        b.len = at;
        put32(&b, 262145);
        put32(&b, 262145);
        uint8_t *zero = calloc(1, 262145);
        assert_non_null(zero);
        put(&b, zero, 262145);
        free(zero);
        tl_source *src = open_file_ok(path, &b);
        tl_frame f;
        char err[TL_ERRBUF_SIZE];
        assert_int_equal(tl_source_next(src, &f, err), 1);
        expect_error_at(src, TL_EFORMAT, path, 94, 2, "captured length 262145");
        tl_source_free(src);
        free(b.p);
    }
    unlink(path);
}

static void mapped_empty_and_short_files_are_format_errors(void **state)
{
    (void)state;
    char path[128];
    tmp_name(path, sizeof(path), "empty.pcap");
    bytes b = {0};
    put(&b, "", 0);
    write_bytes(path, &b);
    const char *paths[] = {path};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_open_files(&src, paths, 1, err), 0);
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), TL_EFORMAT);
    assert_non_null(strstr(err, path));
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    unlink(path);
    free(b.p);
}

static void modified_magic_falls_back_to_libpcap(void **state)
{
    (void)state;
    /* Kuznetzov's modified format: 0xa1b2cd34 and 24-byte record headers
     * (ifindex, protocol, packet type, pad). */
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 1, 80);
    bytes b = {0};
    pcap_header_snap(&b, 0xa1b2cd34u, 65535, 1);
    for (uint32_t i = 0; i < 2; i++) {
        put32(&b, 100 + i);
        put32(&b, 250000);
        put32(&b, (uint32_t)n);
        put32(&b, (uint32_t)n);
        put32(&b, 2);  /* ifindex */
        put16(&b, 0x0800);
        put16(&b, 0);
        put(&b, fr, n);
    }
    char path[128];
    tmp_name(path, sizeof(path), "kuznetzov.pcap");
    tl_source *src = open_file_ok(path, &b);
    tl_frame f;
    char err[TL_ERRBUF_SIZE] = "";
    for (uint32_t i = 0; i < 2; i++) {
        int rc = tl_source_next(src, &f, err);
        if (rc != 1)
            fail_msg("record %u: %d %s", i, rc, err);
        assert_int_equal(f.ts.sec, 100 + i);
        assert_int_equal(f.ts.nsec, 250000000);
        assert_int_equal(f.caplen, n);
        assert_memory_equal(f.data, fr, n);
    }
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);

    /* Memory buffers fall back the same way. */
    assert_int_equal(tl_source_open_mem(&src, b.p, b.len, err), 0);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.ts.sec, 100);
    tl_source_free(src);
    unlink(path);
    free(b.p);
}

static void fcs_bits_in_link_type_fall_back_to_libpcap(void **state)
{
    (void)state;
    /* Link type 1 with "FCS length 4 present" in the upper bits: libpcap
     * knows what to do with those, the walker leaves them to it. */
    tl__reader r;
    char err[TL_ERRBUF_SIZE] = "";
    bytes b = {0};
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 1, 80);
    pcap_header_snap(&b, MAGIC_US, 65535, 1u | 0x10000000u | 0x04000000u);
    pcap_rec(&b, 1, 0, fr, (uint32_t)n, (uint32_t)n);
    assert_int_equal(tl__reader_open_buf(&r, NULL, b.p, b.len, 0, "x", err), 1);
    b.len = 0;
    pcap_header_snap(&b, MAGIC_US, 65535, 1);
    pcap_rec(&b, 1, 0, fr, (uint32_t)n, (uint32_t)n);
    assert_int_equal(tl__reader_open_buf(&r, NULL, b.p, b.len, 0, "x", err), 0);
    assert_int_equal(r.kind, TL__RD_PCAP_BUF);
    tl__reader_close(&r);
    free(b.p);
}

static void mapped_file_filter_keeps_numbering(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t tcp[64], udp[64];
    size_t nt = make_frame(tcp, 6, 40000, 80);
    size_t nu = make_frame(udp, 17, 40000, 53);
    pcap_header_snap(&b, MAGIC_NS, 0, 1);  /* snap length 0 = maximum */
    pcap_rec(&b, 1, 1, udp, (uint32_t)nu, (uint32_t)nu);
    pcap_rec(&b, 2, 2, tcp, (uint32_t)nt, (uint32_t)nt);
    pcap_rec(&b, 3, 3, udp, (uint32_t)nu, (uint32_t)nu);
    char path[128];
    tmp_name(path, sizeof(path), "filter.pcap");
    tl_source *src = open_file_ok(path, &b);
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_linktype(src), -1);  /* nothing open yet */
    assert_int_equal(tl_source_set_filter(src, "tcp", err), 0);
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.ts.nsec, 2);
    assert_int_equal(f.offset, 24 + 16 + 42);
    assert_int_equal(tl_source_linktype(src), DLT_EN10MB);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.filtered, 2);
    tl_source_free(src);
    unlink(path);
    free(b.p);
}

/* The batches over the file at path match single calls (test_source_batch.h). */
static unsigned batches_over_file_match_single_calls(const char *path)
{
    const char *paths[] = {path};
    tl_source *one = NULL, *many = NULL;
    char err[TL_ERRBUF_SIZE];
    assert_int_equal(tl_source_open_files(&one, paths, 1, err), 0);
    assert_int_equal(tl_source_open_files(&many, paths, 1, err), 0);
    int most;
    unsigned n = batches_match_single_calls(one, many, &most);
    assert_true(most > 60);   /* the records came in batches, not one by one */
    tl_source_free(one);
    tl_source_free(many);
    return n;
}

static void batches_give_the_frames_of_single_calls(void **state)
{
    (void)state;
    /* past the window, and enough records for batches of every size */
    unsigned count = (unsigned)(TL__MAP_WINDOW * 5 / 2 / 866);
    if (count < 3000)
        count = 3000;
    for (int be = 0; be <= 1; be++) {
        bytes b = {.be = be};
        varied_capture(&b, be ? MAGIC_NS : MAGIC_US, count, 7u + (uint64_t)be);
        b.len -= 5;  /* the last record truncated: an error after the frames */
        char path[128];
        tmp_name(path, sizeof(path), "batch.pcap");
        write_bytes(path, &b);
        assert_int_equal(batches_over_file_match_single_calls(path), count - 1);
        unlink(path);
        free(b.p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mapped_reader_matches_libpcap_in_every_field),
        cmocka_unit_test(mapped_reader_matches_libpcap_past_the_drop_behind_window),
        cmocka_unit_test(mapped_reader_keeps_a_window_mapped),
        cmocka_unit_test(mapped_truncated_last_record_gives_frames_then_etrunc),
        cmocka_unit_test(mapped_absurd_caplen_is_an_error_not_a_read),
        cmocka_unit_test(mapped_empty_and_short_files_are_format_errors),
        cmocka_unit_test(modified_magic_falls_back_to_libpcap),
        cmocka_unit_test(fcs_bits_in_link_type_fall_back_to_libpcap),
        cmocka_unit_test(mapped_file_filter_keeps_numbering),
        cmocka_unit_test(file_truncated_while_mapped_is_an_error_not_a_crash),
        cmocka_unit_test(zero_length_record_in_a_whole_file_is_read),
        cmocka_unit_test(batches_give_the_frames_of_single_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
