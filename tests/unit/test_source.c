/* test_source.c -- the source stage: pcap/pcapng reading in both byte
 * orders and precisions, record numbering under a filter, errors with file,
 * offset and packet number, file timelines, stdin, the pcap dumper, and a
 * live capture on loopback when permitted.
 *
 * Captures are built byte by byte here, so every expected value comes from
 * the test, not from another tool.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "tcplens/source.h"
#include "test_source_build.h"

/* ---- building captures ------------------------------------------------ */

static void pcap_header(bytes *b, bool nano, uint32_t linktype)
{
    pcap_header_snap(b, nano ? 0xa1b23c4du : 0xa1b2c3d4u, 65535, linktype);
}

/* Three TCP records at 1000.000001, 1000.5 and 1001.999999 (µs) or the
 * same fractions ×1000 + 7 ns (ns). */
static void three_records(bytes *b, bool nano)
{
    uint8_t f[64];
    size_t n = make_frame(f, 6, 40000, 80);
    pcap_header(b, nano, 1);
    pcap_rec(b, 1000, nano ? 1007 : 1, f, (uint32_t)n, (uint32_t)n);
    pcap_rec(b, 1000, nano ? 500000007 : 500000, f, (uint32_t)n, (uint32_t)n + 100);
    f[0] = 0xaa;
    pcap_rec(b, 1001, nano ? 999999007 : 999999, f, (uint32_t)n, (uint32_t)n);
}

static tl_source *open_mem_ok(const bytes *b)
{
    char err[TL_ERRBUF_SIZE] = "";
    tl_source *src = NULL;
    int rc = tl_source_open_mem(&src, b->p, b->len, err);
    if (rc != 0)
        fail_msg("open_mem: %d %s", rc, err);
    return src;
}

/* ---- pcap ------------------------------------------------------------- */

static void pcap_both_byte_orders_give_identical_frames(void **state)
{
    (void)state;
    bytes le = {0}, be = {.be = true};
    three_records(&le, false);
    three_records(&be, false);
    assert_int_equal(le.len, be.len);
    assert_memory_not_equal(le.p, be.p, 24);

    tl_source *a = open_mem_ok(&le), *b = open_mem_ok(&be);
    char err[TL_ERRBUF_SIZE];
    tl_frame fa, fb;
    static const uint32_t want_nsec[] = {1000, 500000000, 999999000};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tl_source_next(a, &fa, err), 1);
        assert_int_equal(tl_source_next(b, &fb, err), 1);
        assert_int_equal(fa.n, (uint64_t)i + 1);
        assert_int_equal(fb.n, fa.n);
        assert_int_equal(fa.ts.sec, fb.ts.sec);
        assert_int_equal(fa.ts.nsec, want_nsec[i]);
        assert_int_equal(fb.ts.nsec, want_nsec[i]);
        assert_int_equal(fa.caplen, 54);
        assert_int_equal(fb.caplen, 54);
        assert_int_equal(fa.len, fb.len);
        assert_int_equal(fa.linktype, 1);
        assert_int_equal(fb.linktype, 1);
        assert_memory_equal(fa.data, fb.data, fa.caplen);
        assert_int_equal(fa.offset, 24 + i * (16 + 54));
        assert_int_equal(fb.offset, fa.offset);
    }
    assert_int_equal(fa.data[0], 0xaa);
    assert_int_equal(fb.ts.sec, 1001);
    assert_int_equal(tl_source_next(a, &fa, err), 0);
    assert_int_equal(tl_source_next(b, &fb, err), 0);
    assert_int_equal(tl_source_ts_digits(a), 6);
    assert_int_equal(tl_source_ts_digits(b), 6);
    tl_source_free(a);
    tl_source_free(b);
    free(le.p);
    free(be.p);
}

static void pcap_nanosecond_timestamps_exact_and_digits_nine(void **state)
{
    (void)state;
    for (int be = 0; be <= 1; be++) {
        bytes b = {.be = be};
        three_records(&b, true);
        tl_source *src = open_mem_ok(&b);
        char err[TL_ERRBUF_SIZE];
        tl_frame f;
        assert_int_equal(tl_source_ts_digits(src), 9);
        assert_int_equal(tl_source_next(src, &f, err), 1);
        assert_int_equal(f.ts.sec, 1000);
        assert_int_equal(f.ts.nsec, 1007);
        assert_int_equal(tl_source_next(src, &f, err), 1);
        assert_int_equal(f.ts.nsec, 500000007);
        assert_int_equal(f.len, 154);
        assert_int_equal(tl_source_next(src, &f, err), 1);
        assert_int_equal(f.ts.nsec, 999999007);
        assert_int_equal(tl_source_next(src, &f, err), 0);
        tl_source_free(src);
        free(b.p);
    }
}

/* ---- pcapng ----------------------------------------------------------- */

static void pcapng_two_interfaces_yield_frames_from_both(void **state)
{
    (void)state;
    for (int be = 0; be <= 1; be++) {
        bytes b = {.be = be};
        uint8_t f1[64], f2[64];
        size_t n1 = make_frame(f1, 6, 1111, 80);
        size_t n2 = make_frame(f2, 17, 2222, 53);
        ng_shb(&b);
        ng_idb(&b, 1, -1);  /* default resolution: µs */
        ng_idb(&b, 1, 9);   /* ns */
        size_t o1 = ng_epb(&b, 0, 1700000000ull * 1000000u + 250000u, f1, (uint32_t)n1, (uint32_t)n1);
        size_t o2 = ng_epb(&b, 1, 1700000001ull * 1000000000u + 123456789u, f2, (uint32_t)n2, (uint32_t)n2);

        tl_source *src = open_mem_ok(&b);
        char err[TL_ERRBUF_SIZE];
        tl_frame f;
        assert_int_equal(tl_source_ts_digits(src), 9);
        assert_int_equal(tl_source_next(src, &f, err), 1);
        assert_int_equal(f.caplen, n1);
        assert_memory_equal(f.data, f1, n1);
        assert_int_equal(f.ts.sec, 1700000000);
        assert_int_equal(f.ts.nsec, 250000000);
        /* libpcap read the second IDB on the way; the offset is the EPB's. */
        assert_int_equal(f.offset, (int64_t)o1);
        assert_int_equal(tl_source_next(src, &f, err), 1);
        assert_int_equal(f.caplen, n2);
        assert_memory_equal(f.data, f2, n2);
        assert_int_equal(f.ts.sec, 1700000001);
        assert_int_equal(f.ts.nsec, 123456789);
        assert_int_equal(f.offset, (int64_t)o2);
        assert_int_equal(f.n, 2);
        assert_int_equal(tl_source_next(src, &f, err), 0);
        tl_source_free(src);
        free(b.p);
    }
}

static void pcapng_second_section_is_read(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 1, 2);
    ng_shb(&b);
    ng_idb(&b, 1, -1);
    ng_epb(&b, 0, 5000000, fr, (uint32_t)n, (uint32_t)n);
    ng_shb(&b);
    ng_idb(&b, 1, -1);
    size_t o2 = ng_epb(&b, 0, 6000000, fr, (uint32_t)n, (uint32_t)n);

    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE];
    tl_frame f;
    assert_int_equal(tl_source_ts_digits(src), 6);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.ts.sec, 5);
    int rc = tl_source_next(src, &f, err);
    if (rc != 1)
        fail_msg("second section: %d %s", rc, err);
    assert_int_equal(f.ts.sec, 6);
    assert_int_equal(f.offset, (int64_t)o2);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    free(b.p);
}

/* ---- damaged input ---------------------------------------------------- */

static void truncated_last_record_gives_frames_then_etrunc(void **state)
{
    (void)state;
    bytes b = {0};
    three_records(&b, false);
    b.len -= 20;  /* cut the third record's data short */
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(tl_source_next(src, &f, err), TL_ETRUNC);
    assert_non_null(strstr(err, "offset 164,"));  /* 24 + 2 * (16 + 54) */
    assert_non_null(strstr(err, "packet 3:"));
    assert_non_null(strstr(err, "<memory>"));
    tl_source_where w;
    tl_source_last_error(src, &w);
    assert_string_equal(w.file, "<memory>");
    assert_int_equal(w.offset, 164);
    assert_int_equal(w.packet, 3);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    assert_int_equal(st.records, 2);
    tl_source_free(src);
    free(b.p);
}

static void truncated_record_header_gives_etrunc(void **state)
{
    (void)state;
    bytes b = {0};
    three_records(&b, false);
    b.len = 24 + 16 + 54 + 7;  /* second record header cut after 7 bytes */
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(tl_source_next(src, &f, err), TL_ETRUNC);
    assert_non_null(strstr(err, "offset 94,"));
    assert_non_null(strstr(err, "packet 2:"));
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    free(b.p);
}

static void absurd_caplen_is_an_error_not_an_allocation(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 1, 2);
    pcap_header(&b, false, 1);
    pcap_rec(&b, 1, 0, fr, (uint32_t)n, (uint32_t)n);
    put32(&b, 2);
    put32(&b, 0);
    put32(&b, 0x7fffffffu);
    put32(&b, 0x7fffffffu);
    put(&b, fr, n);
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    int rc = tl_source_next(src, &f, err);
    assert_true(rc < 0);
    assert_non_null(strstr(err, "packet 2:"));
    assert_non_null(strstr(err, "offset 94,"));
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    free(b.p);
}

static void pcapng_absurd_block_length_is_an_error(void **state)
{
    (void)state;
    bytes b = {0};
    ng_shb(&b);
    ng_idb(&b, 1, -1);
    put32(&b, 6);
    put32(&b, 0xfffffff0u);  /* block claims ~4 GiB */
    put32(&b, 0);
    put32(&b, 0);
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    tl_frame f;
    assert_true(tl_source_next(src, &f, err) < 0);
    assert_non_null(strstr(err, "packet 1:"));
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    free(b.p);
}

static void garbage_and_empty_buffers_are_format_errors(void **state)
{
    (void)state;
    static const uint8_t junk[64] = "this is not a capture file at all, not even close";
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_open_mem(&src, junk, sizeof(junk), err), TL_EFORMAT);
    assert_null(src);
    assert_true(strlen(err) > 0);
    assert_int_equal(tl_source_open_mem(&src, junk, 0, err), TL_EFORMAT);
    assert_null(src);
}

/* ---- filter ----------------------------------------------------------- */

static void filter_keeps_numbering_rejected_records(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    static const struct { int proto; uint16_t dport; } rec[] = {
        {6, 80}, {17, 53}, {6, 80}, {17, 53}, {6, 443}};
    pcap_header(&b, false, 1);
    for (uint32_t i = 0; i < 5; i++) {
        size_t n = make_frame(fr, rec[i].proto, 40000, rec[i].dport);
        pcap_rec(&b, 10 + i, 0, fr, (uint32_t)n, (uint32_t)n);
    }
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_set_filter(src, "tcp port 80", err), 0);
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.ts.sec, 10);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.ts.sec, 12);
    assert_int_equal(f.offset, 24 + (16 + 54) + (16 + 42));
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.filtered, 3);
    assert_false(st.has_kernel_stats);
    tl_source_free(src);
    free(b.p);
}

/* Records are taken directly from a mapped pcap until a filter is set,
 * then through the filter, then directly again once it is cleared: the
 * numbering and offsets run on across the switches. */
static void filter_set_and_cleared_between_records(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    static const struct { int proto; uint16_t dport; } rec[] = {
        {17, 53}, {6, 80}, {17, 53}, {6, 80}, {17, 53}, {6, 443}};
    pcap_header(&b, false, 1);
    size_t off[6], at = 24;
    for (uint32_t i = 0; i < 6; i++) {
        size_t n = make_frame(fr, rec[i].proto, 40000, rec[i].dport);
        pcap_rec(&b, 10 + i, 0, fr, (uint32_t)n, (uint32_t)n);
        off[i] = at;
        at += 16 + n;
    }
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.offset, off[0]);
    assert_int_equal(tl_source_set_filter(src, "tcp port 80", err), 0);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 2);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 4); /* 3 filtered out */
    assert_int_equal(f.offset, off[3]);
    assert_int_equal(tl_source_set_filter(src, NULL, err), 0);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 5);
    assert_int_equal(f.offset, off[4]);
    assert_int_equal(f.ts.sec, 14);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 6);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    assert_int_equal(st.records, 6);
    assert_int_equal(st.filtered, 1);
    tl_source_free(src);
    free(b.p);
}

static void bad_filter_returns_efilter_naming_the_filter(void **state)
{
    (void)state;
    bytes b = {0};
    three_records(&b, false);
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_set_filter(src, "tcp port", err), TL_EFILTER);
    assert_non_null(strstr(err, "'tcp port'"));
    assert_int_equal(tl_source_set_filter(src, "host 999.1.1.1 and", err), TL_EFILTER);
    assert_non_null(strstr(err, "999.1.1.1"));
    /* A rejected filter leaves the source unfiltered. */
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 1);
    tl_source_free(src);
    free(b.p);
}

/* ---- files ------------------------------------------------------------ */

static char tmpdir[64];

static void tmp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void several_files_are_one_timeline(void **state)
{
    (void)state;
    char a[128], b2[128];
    tmp_path(a, sizeof(a), "a.pcap");
    tmp_path(b2, sizeof(b2), "b.pcap");
    bytes ba = {0}, bb = {.be = true};
    three_records(&ba, false);
    three_records(&bb, true);
    write_bytes(a, &ba);
    write_bytes(b2, &bb);

    const char *paths[] = {a, b2};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_open_files(&src, paths, 2, err), 0);
    assert_int_equal(tl_source_ts_digits(src), 9);  /* one file is ns */
    static const uint32_t want_nsec[] = {1000, 500000000, 999999000,
                                         1007, 500000007, 999999007};
    tl_frame f;
    for (uint64_t i = 1; i <= 6; i++) {
        int rc = tl_source_next(src, &f, err);
        if (rc != 1)
            fail_msg("frame %llu: %d %s", (unsigned long long)i, rc, err);
        assert_int_equal(f.n, i);
        assert_string_equal(f.file, i <= 3 ? a : b2);
        assert_int_equal(f.offset, 24 + ((i - 1) % 3) * 70);
        assert_int_equal(f.ts.nsec, want_nsec[i - 1]);
    }
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    free(ba.p);
    free(bb.p);
}

static void missing_file_is_named_and_next_file_still_reads(void **state)
{
    (void)state;
    char a[128], missing[128], c[128];
    tmp_path(a, sizeof(a), "one.pcap");
    tmp_path(missing, sizeof(missing), "does-not-exist.pcap");
    tmp_path(c, sizeof(c), "three.pcap");
    bytes b = {0};
    three_records(&b, false);
    write_bytes(a, &b);
    write_bytes(c, &b);

    const char *paths[] = {a, missing, c};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_open_files(&src, paths, 3, err), 0);
    tl_frame f;
    for (int i = 0; i < 3; i++)
        assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(tl_source_next(src, &f, err), TL_ENOTFOUND);
    assert_non_null(strstr(err, missing));
    for (uint64_t i = 4; i <= 6; i++) {
        assert_int_equal(tl_source_next(src, &f, err), 1);
        assert_int_equal(f.n, i);
        assert_string_equal(f.file, c);
    }
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);

    /* Only missing files: the open itself fails and names the file. */
    const char *only[] = {missing};
    assert_int_equal(tl_source_open_files(&src, only, 1, err), TL_ENOTFOUND);
    assert_null(src);
    assert_non_null(strstr(err, missing));
    free(b.p);
}

static void corrupt_file_is_reported_and_next_file_still_reads(void **state)
{
    (void)state;
    char bad[128], good[128];
    tmp_path(bad, sizeof(bad), "bad.pcap");
    tmp_path(good, sizeof(good), "good.pcap");
    bytes junk = {0}, b = {0};
    put(&junk, "garbage garbage garbage garbage", 31);
    three_records(&b, false);
    write_bytes(bad, &junk);
    write_bytes(good, &b);
    const char *paths[] = {bad, good};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_open_files(&src, paths, 2, err), 0);
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), TL_EFORMAT);
    assert_non_null(strstr(err, bad));
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.file, good);
    tl_source_free(src);
    free(junk.p);
    free(b.p);
}

static void filter_is_recompiled_for_each_file(void **state)
{
    (void)state;
    /* The same filter over an Ethernet file and a raw-IP file (DLT_RAW,
     * LINKTYPE 101) must match the same TCP packet in both. */
    char eth[128], raw[128];
    tmp_path(eth, sizeof(eth), "eth.pcap");
    tmp_path(raw, sizeof(raw), "raw.pcap");
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 1234, 80);
    bytes be = {0}, br = {0};
    pcap_header(&be, false, 1);
    pcap_rec(&be, 1, 0, fr, (uint32_t)n, (uint32_t)n);
    pcap_header(&br, false, 101);
    pcap_rec(&br, 2, 0, fr + 14, (uint32_t)n - 14, (uint32_t)n - 14);
    write_bytes(eth, &be);
    write_bytes(raw, &br);
    const char *paths[] = {eth, raw};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_open_files(&src, paths, 2, err), 0);
    assert_int_equal(tl_source_set_filter(src, "tcp dst port 80", err), 0);
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.linktype, 1);
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_int_equal(f.n, 2);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    assert_int_equal(st.filtered, 0);
    tl_source_free(src);
    free(be.p);
    free(br.p);
}

/* Child: stdin is a pipe holding `b`; read it as "-" and check offsets. */
static int stdin_child(const bytes *b, bool pcapng)
{
    int pfd[2];
    if (pipe(pfd) != 0 || write(pfd[1], b->p, b->len) != (ssize_t)b->len)
        return 10;
    close(pfd[1]);
    if (dup2(pfd[0], 0) < 0)
        return 11;
    close(pfd[0]);
    const char *paths[] = {"-"};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    if (tl_source_open_files(&src, paths, 1, err) != 0)
        return 12;
    if (tl_source_ts_digits(src) != 9)
        return 13;
    tl_frame f;
    int64_t want = pcapng ? 28 + 32 : 24;  /* SHB + IDB with if_tsresol */
    for (int i = 0; i < 3; i++) {
        if (tl_source_next(src, &f, err) != 1)
            return 20 + i;
        if (f.offset != want || strcmp(f.file, "-") != 0 || f.n != (uint64_t)i + 1)
            return 30 + i;
        want += pcapng ? 32 + 56 : 16 + 54;
    }
    if (tl_source_next(src, &f, err) != 0)
        return 40;
    tl_source_free(src);
    return 0;
}

static void stdin_pipe_reads_with_counted_offsets(void **state)
{
    (void)state;
    bytes pc = {0}, ng = {.be = true};
    three_records(&pc, true);
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 5, 6);
    ng_shb(&ng);
    ng_idb(&ng, 1, 9);
    for (int i = 0; i < 3; i++)
        ng_epb(&ng, 0, 1000 + (uint64_t)i, fr, (uint32_t)n, (uint32_t)n);

    const bytes *inputs[] = {&pc, &ng};
    for (int k = 0; k < 2; k++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(stdin_child(inputs[k], k == 1));
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) != 0)
            fail_msg("%s via stdin: child check %d failed", k ? "pcapng" : "pcap",
                     WEXITSTATUS(status));
    }
    free(pc.p);
    free(ng.p);
}

/* ---- dumper ----------------------------------------------------------- */

static void dumper_round_trip_keeps_frames_and_precision(void **state)
{
    (void)state;
    for (int nano = 0; nano <= 1; nano++) {
        char path[128];
        tmp_path(path, sizeof(path), nano ? "dump-ns.pcap" : "dump-us.pcap");
        bytes b = {0};
        three_records(&b, nano);
        tl_source *in = open_mem_ok(&b);
        tl_dumper *d = NULL;
        char err[TL_ERRBUF_SIZE] = "";
        assert_int_equal(tl_dumper_open(&d, path, 1, tl_source_ts_digits(in), err), 0);
        tl_frame f;
        while (tl_source_next(in, &f, err) == 1)
            tl_dumper_write(d, &f);
        tl_dumper_flush(d);
        tl_dumper_close(d);
        tl_source_free(in);

        /* Same records, same bytes: the file equals the one we built,
         * apart from the header's snaplen field. */
        FILE *fp = fopen(path, "rb");
        assert_non_null(fp);
        uint8_t *got = malloc(b.len + 1);
        assert_int_equal(fread(got, 1, b.len + 1, fp), b.len);
        fclose(fp);
        assert_memory_equal(got, b.p, 16);
        assert_memory_equal(got + 24, b.p + 24, b.len - 24);
        free(got);

        const char *paths[] = {path};
        tl_source *back = NULL;
        assert_int_equal(tl_source_open_files(&back, paths, 1, err), 0);
        assert_int_equal(tl_source_ts_digits(back), nano ? 9 : 6);
        int count = 0;
        while (tl_source_next(back, &f, err) == 1)
            count++;
        assert_int_equal(count, 3);
        assert_int_equal(f.ts.nsec, nano ? 999999007 : 999999000);
        tl_source_free(back);
        free(b.p);
    }
}

static void dumper_open_fails_for_unwritable_path(void **state)
{
    (void)state;
    tl_dumper *d = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_dumper_open(&d, "/nonexistent-dir/x.pcap", 1, 6, err), TL_EIO);
    assert_null(d);
    assert_non_null(strstr(err, "nonexistent-dir"));
}

/* ---- live ------------------------------------------------------------- */

static void live_unknown_interface_is_not_found(void **state)
{
    (void)state;
    tl_live_config cfg = {.iface = "tlnosuch0"};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    int rc = tl_source_open_live(&src, &cfg, err);
    if (rc == TL_EPERM)
        skip();
    assert_int_equal(rc, TL_ENOTFOUND);
    assert_null(src);
    assert_non_null(strstr(err, "tlnosuch0"));
}

static void live_loopback_capture_filters_and_breaks(void **state)
{
    (void)state;
    tl_live_config cfg = {.iface = "lo", .immediate = true};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    int rc = tl_source_open_live(&src, &cfg, err);
    if (rc == TL_EPERM || rc == TL_ENOTFOUND) {
        print_message("live capture unavailable: %s\n", err);
        skip();
    }
    assert_int_equal(rc, 0);
    assert_true(tl_source_fd(src) >= 0);
    assert_int_equal(tl_source_set_filter(src, "udp dst port 47999", err), 0);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(47999)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sendto(s, "tcplens", 7, 0, (struct sockaddr *)&to, sizeof(to)), 7);
    close(s);

    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), 1);
    assert_int_equal(f.offset, -1);
    assert_string_equal(f.file, "lo");
    assert_true(f.caplen >= 7);
    assert_memory_equal(f.data + f.caplen - 7, "tcplens", 7);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    assert_true(st.has_kernel_stats);
    assert_int_equal(st.records, 1);

    tl_source_break(src);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
}

static int setup_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/tl-source-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pcap_both_byte_orders_give_identical_frames),
        cmocka_unit_test(pcap_nanosecond_timestamps_exact_and_digits_nine),
        cmocka_unit_test(pcapng_two_interfaces_yield_frames_from_both),
        cmocka_unit_test(pcapng_second_section_is_read),
        cmocka_unit_test(truncated_last_record_gives_frames_then_etrunc),
        cmocka_unit_test(truncated_record_header_gives_etrunc),
        cmocka_unit_test(absurd_caplen_is_an_error_not_an_allocation),
        cmocka_unit_test(pcapng_absurd_block_length_is_an_error),
        cmocka_unit_test(garbage_and_empty_buffers_are_format_errors),
        cmocka_unit_test(filter_keeps_numbering_rejected_records),
        cmocka_unit_test(filter_set_and_cleared_between_records),
        cmocka_unit_test(bad_filter_returns_efilter_naming_the_filter),
        cmocka_unit_test(several_files_are_one_timeline),
        cmocka_unit_test(missing_file_is_named_and_next_file_still_reads),
        cmocka_unit_test(corrupt_file_is_reported_and_next_file_still_reads),
        cmocka_unit_test(filter_is_recompiled_for_each_file),
        cmocka_unit_test(stdin_pipe_reads_with_counted_offsets),
        cmocka_unit_test(dumper_round_trip_keeps_frames_and_precision),
        cmocka_unit_test(dumper_open_fails_for_unwritable_path),
        cmocka_unit_test(live_unknown_interface_is_not_found),
        cmocka_unit_test(live_loopback_capture_filters_and_breaks),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
