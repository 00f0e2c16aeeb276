/* test_source_pcapng.c -- tcplens's own pcapng reader (src/source/pcapng.c):
 * interfaces of different link types in one file (what libpcap refuses),
 * if_tsresol in both forms, if_tsoffset, SPB and the obsolete PB, sections
 * in different byte orders, every block-length check, truncation, the
 * filter compiled per link type, and the stream reader (stdin) agreeing
 * with the in-place one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "source/source_int.h"
#include "test_source_build.h"
#include "test_source_batch.h"

#define LT_RAW 101
#define LT_SLL2 276

static tl_source *open_mem_ok(const bytes *b)
{
    char err[TL_ERRBUF_SIZE] = "";
    tl_source *src = NULL;
    int rc = tl_source_open_mem(&src, b->p, b->len, err);
    if (rc != 0)
        fail_msg("open_mem: %d %s", rc, err);
    return src;
}

static void next_ok(tl_source *src, tl_frame *f)
{
    char err[TL_ERRBUF_SIZE] = "";
    int rc = tl_source_next(src, f, err);
    if (rc != 1)
        fail_msg("next: %d %s", rc, err);
}

/* A minimal SLL2 header (20 bytes) in front of the IPv4 part of an
 * Ethernet frame. */
static size_t make_sll2(uint8_t *out, const uint8_t *eth, size_t n)
{
    memset(out, 0, 20);
    out[0] = 0x08;  /* protocol IPv4 */
    out[9] = 1;     /* ARPHRD_ETHER */
    out[11] = 6;    /* address length */
    memcpy(out + 20, eth + 14, n - 14);
    return n - 14 + 20;
}

/* Ethernet, raw IP and SLL2 interfaces, other block types in between. */
static void mixed_file(bytes *b, size_t off[3], uint8_t fr[3][96], size_t n[3])
{
    uint8_t eth[64];
    size_t ne = make_frame(eth, 6, 1000, 80);
    memcpy(fr[0], eth, ne);
    n[0] = ne;
    memcpy(fr[1], eth + 14, ne - 14);
    n[1] = ne - 14;
    n[2] = make_sll2(fr[2], eth, ne);
    ng_shb(b);
    ng_idb(b, 1, -1);
    ng_other(b, 4, 8);          /* name resolution block */
    ng_idb(b, LT_RAW, -1);
    ng_idb(b, LT_SLL2, 9);
    off[0] = ng_epb(b, 0, 1000000, fr[0], (uint32_t)n[0], (uint32_t)n[0]);
    ng_other(b, 5, 20);         /* interface statistics block */
    off[1] = ng_epb(b, 1, 2000000, fr[1], (uint32_t)n[1], (uint32_t)n[1]);
    ng_other(b, 0x00000BADu, 4); /* custom block */
    off[2] = ng_epb(b, 2, 3000000000ull, fr[2], (uint32_t)n[2], (uint32_t)n[2]);
}

static void check_mixed(tl_source *src, const size_t off[3], uint8_t fr[3][96],
                        const size_t n[3], const char *file)
{
    static const int dlt[3] = {DLT_EN10MB, DLT_RAW, LT_SLL2};
    tl_frame f;
    char err[TL_ERRBUF_SIZE];
    for (int i = 0; i < 3; i++) {
        next_ok(src, &f);
        assert_int_equal(f.linktype, dlt[i]);
        assert_int_equal(f.caplen, n[i]);
        assert_memory_equal(f.data, fr[i], n[i]);
        assert_int_equal(f.ts.sec, i + 1);
        assert_int_equal(f.ts.nsec, 0);
        assert_int_equal(f.offset, (int64_t)off[i]);
        assert_int_equal(f.n, (uint64_t)i + 1);
        assert_string_equal(f.file, file);
    }
    assert_int_equal(tl_source_next(src, &f, err), 0);
}

static void pcapng_interfaces_of_different_link_types_yield_frames_of_each(void **state)
{
    (void)state;
    for (int be = 0; be <= 1; be++) {
        bytes b = {.be = be};
        size_t off[3], n[3];
        uint8_t fr[3][96];
        mixed_file(&b, off, fr, n);

        tl_source *src = open_mem_ok(&b);
        check_mixed(src, off, fr, n, "<memory>");
        tl_source_free(src);

        /* The same bytes as a file go through the mapped path. */
        char path[128];
        tmp_name(path, sizeof(path), "mixed.pcapng");
        write_bytes(path, &b);
        const char *paths[] = {path};
        char err[TL_ERRBUF_SIZE] = "";
        assert_int_equal(tl_source_open_files(&src, paths, 1, err), 0);
        assert_int_equal(tl_source_ts_digits(src), 9);
        check_mixed(src, off, fr, n, path);
        tl_source_free(src);
        unlink(path);
        free(b.p);
    }
}

/* One EPB per interface with the given if_tsresol byte and time stamp. */
static tl_time ts_of(int tsresol, bool has_off, int64_t tsoffset, uint64_t units)
{
    bytes b = {0};
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 1, 2);
    ng_shb(&b);
    ng_idb_full(&b, 1, 0, tsresol, has_off, tsoffset);
    ng_epb(&b, 0, units, fr, (uint32_t)n, (uint32_t)n);
    tl_source *src = open_mem_ok(&b);
    tl_frame f;
    next_ok(src, &f);
    tl_time t = f.ts;
    tl_source_free(src);
    free(b.p);
    return t;
}

static void pcapng_tsresol_nine_is_exact_nanoseconds(void **state)
{
    (void)state;
    tl_time t = ts_of(9, false, 0, 1700000001ull * 1000000000u + 123456789u);
    assert_int_equal(t.sec, 1700000001);
    assert_int_equal(t.nsec, 123456789);
    /* Default (no option) is microseconds. */
    t = ts_of(-1, false, 0, 1700000000ull * 1000000u + 999999u);
    assert_int_equal(t.sec, 1700000000);
    assert_int_equal(t.nsec, 999999000);
    /* 10^-12: finer than ns is cut, not rounded. */
    t = ts_of(12, false, 0, 7ull * 1000000000000u + 123456789999u);
    assert_int_equal(t.sec, 7);
    assert_int_equal(t.nsec, 123456789);
}

static void pcapng_tsresol_power_of_two_form(void **state)
{
    (void)state;
    /* 2^-20 s units: 5 s + half a second + one unit (953.67 ns). */
    uint64_t u = 5ull << 20 | 1u << 19 | 1u;
    tl_time t = ts_of(0x80 | 20, false, 0, u);
    assert_int_equal(t.sec, 5);
    assert_int_equal(t.nsec, 500000953);
    /* 2^-0: whole seconds. */
    t = ts_of(0x80, false, 0, 42);
    assert_int_equal(t.sec, 42);
    assert_int_equal(t.nsec, 0);
}

static void pcapng_tsoffset_adds_seconds(void **state)
{
    (void)state;
    tl_time t = ts_of(6, true, 1600000000, 1500000);
    assert_int_equal(t.sec, 1600000001);
    assert_int_equal(t.nsec, 500000000);
    t = ts_of(-1, true, -100, 1000000000ull * 1000000u);
    assert_int_equal(t.sec, 1000000000 - 100);
}

static void pcapng_resolution_beyond_64_bits_is_an_error(void **state)
{
    (void)state;
    bytes b = {0};
    ng_shb(&b);
    ng_idb(&b, 1, 20);  /* 10^-20 s: 64 bits cannot hold one second of it */
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    tl_frame f;
    assert_int_equal(tl_source_next(src, &f, err), TL_EFORMAT);
    assert_non_null(strstr(err, "if_tsresol"));
    assert_non_null(strstr(err, "offset 28,"));
    tl_source_free(src);
    free(b.p);
}

static void pcapng_spb_uses_interface_zero_snaplen(void **state)
{
    (void)state;
    bytes b = {.be = true};
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 7, 8);  /* 54 bytes */
    ng_shb(&b);
    ng_idb_full(&b, LT_RAW, 40, -1, true, 77);
    ng_idb(&b, 1, -1);
    size_t off = b.len;
    put32(&b, 3);
    put32(&b, 16 + 56);
    put32(&b, (uint32_t)n);  /* original length */
    put(&b, fr, n);
    pad4(&b);
    put32(&b, 16 + 56);

    tl_source *src = open_mem_ok(&b);
    tl_frame f;
    next_ok(src, &f);
    assert_int_equal(f.caplen, 40);
    assert_int_equal(f.len, n);
    assert_memory_equal(f.data, fr, 40);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_int_equal(f.ts.sec, 77);  /* no time stamp: only if_tsoffset */
    assert_int_equal(f.ts.nsec, 0);
    assert_int_equal(f.offset, (int64_t)off);
    char err[TL_ERRBUF_SIZE];
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    free(b.p);
}

static void pcapng_obsolete_packet_block_is_read(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n = make_frame(fr, 17, 9, 53);  /* 42 bytes */
    ng_shb(&b);
    ng_idb(&b, 1, -1);
    ng_idb(&b, LT_RAW, -1);
    put32(&b, 2);
    put32(&b, 32 + 28);
    put16(&b, 1);  /* interface 1 */
    put16(&b, 0);  /* drops */
    put32(&b, 0);
    put32(&b, 3500000);
    put32(&b, (uint32_t)n - 14);
    put32(&b, (uint32_t)n - 14 + 5);
    put(&b, fr + 14, n - 14);
    pad4(&b);
    put32(&b, 32 + 28);
    tl_source *src = open_mem_ok(&b);
    tl_frame f;
    next_ok(src, &f);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_int_equal(f.caplen, n - 14);
    assert_int_equal(f.len, n - 14 + 5);
    assert_int_equal(f.ts.sec, 3);
    assert_int_equal(f.ts.nsec, 500000000);
    tl_source_free(src);
    free(b.p);
}

static void pcapng_sections_in_different_byte_orders_restart_interfaces(void **state)
{
    (void)state;
    bytes b = {.be = false};
    uint8_t fr[64];
    size_t n = make_frame(fr, 6, 11, 22);
    ng_shb(&b);
    ng_idb(&b, 1, -1);
    ng_epb(&b, 0, 1000000, fr, (uint32_t)n, (uint32_t)n);
    b.be = true;
    ng_shb(&b);
    ng_idb(&b, LT_RAW, 9);  /* interface 0 again, now raw IP, ns */
    size_t o2 = ng_epb(&b, 0, 2000000005u, fr + 14, (uint32_t)n - 14, (uint32_t)n - 14);
    b.be = false;
    ng_shb(&b);
    ng_idb(&b, 1, -1);
    ng_epb(&b, 0, 3000000, fr, (uint32_t)n, (uint32_t)n);
    /* Interface 1 is not defined in this section. */
    size_t bad = ng_epb(&b, 1, 4000000, fr, (uint32_t)n, (uint32_t)n);

    tl_source *src = open_mem_ok(&b);
    tl_frame f;
    char err[TL_ERRBUF_SIZE] = "";
    next_ok(src, &f);
    assert_int_equal(f.linktype, DLT_EN10MB);
    assert_int_equal(f.ts.sec, 1);
    next_ok(src, &f);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_int_equal(f.ts.sec, 2);
    assert_int_equal(f.ts.nsec, 5);
    assert_int_equal(f.offset, (int64_t)o2);
    assert_memory_equal(f.data, fr + 14, n - 14);
    next_ok(src, &f);
    assert_int_equal(f.linktype, DLT_EN10MB);
    assert_int_equal(f.ts.sec, 3);
    assert_int_equal(tl_source_next(src, &f, err), TL_EFORMAT);
    assert_non_null(strstr(err, "interface 1"));
    char want[64];
    snprintf(want, sizeof(want), "offset %zu, packet 4:", bad);
    assert_non_null(strstr(err, want));
    tl_source_where w;
    tl_source_last_error(src, &w);
    assert_int_equal(w.offset, (int64_t)bad);
    assert_int_equal(w.packet, 4);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    free(b.p);
}

/* One good EPB, then the block that `spoil` damages; expects error err
 * with `what` in the message at the damaged block's offset. */
static void expect_second_block_error(bytes *b, size_t at, int err_want, const char *what)
{
    tl_source *src = open_mem_ok(b);
    tl_frame f;
    char err[TL_ERRBUF_SIZE] = "";
    next_ok(src, &f);
    assert_int_equal(tl_source_next(src, &f, err), err_want);
    if (!strstr(err, what))
        fail_msg("'%s' not in '%s'", what, err);
    char want[64];
    snprintf(want, sizeof(want), "<memory>: offset %zu, packet 2:", at);
    if (!strstr(err, want))
        fail_msg("'%s' not in '%s'", want, err);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    assert_int_equal(st.records, 1);
    tl_source_free(src);
}

static size_t good_then_epb(bytes *b, uint8_t *fr, size_t *n)
{
    *n = make_frame(fr, 6, 3, 4);
    ng_shb(b);
    ng_idb(b, 1, -1);
    ng_epb(b, 0, 1000000, fr, (uint32_t)*n, (uint32_t)*n);
    return ng_epb(b, 0, 2000000, fr, (uint32_t)*n, (uint32_t)*n);
}

static void pcapng_block_length_not_multiple_of_four_is_an_error(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n;
    size_t at = good_then_epb(&b, fr, &n);
    b.p[at + 4] += 2;  /* 88 -> 90 */
    expect_second_block_error(&b, at, TL_EFORMAT, "not a multiple of 4");
    free(b.p);
}

static void pcapng_trailing_length_mismatch_is_an_error(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n;
    size_t at = good_then_epb(&b, fr, &n);
    b.p[b.len - 4] = 0x50;  /* trailing 88 -> 80 */
    expect_second_block_error(&b, at, TL_EFORMAT, "trailing block length 80");
    free(b.p);
}

static void pcapng_block_length_beyond_maximum_is_an_error_not_a_read(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n;
    size_t at = good_then_epb(&b, fr, &n);
    uint32_t huge = TL__NG_MAX_BLOCK + 4;
    memcpy(b.p + at + 4, &huge, 4);  /* little-endian file on a LE host */
    if (b.p[at + 4] != (uint8_t)huge)
        skip();
    /* Not "truncated": the length itself is refused. */
    expect_second_block_error(&b, at, TL_EFORMAT, "exceeds the maximum");
    free(b.p);
}

static void pcapng_block_shorter_than_twelve_is_an_error(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n;
    size_t at = good_then_epb(&b, fr, &n);
    b.p[at + 4] = 8;
    expect_second_block_error(&b, at, TL_EFORMAT, "at least 12");
    free(b.p);
}

static void pcapng_caplen_past_its_block_is_an_error(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n;
    size_t at = good_then_epb(&b, fr, &n);
    b.p[at + 20] = 200;  /* caplen 54 -> 200 inside an 88-byte block */
    expect_second_block_error(&b, at, TL_EFORMAT, "runs past");
    free(b.p);
}

static void pcapng_truncated_last_block_gives_frames_then_etrunc(void **state)
{
    (void)state;
    bytes b = {0};
    uint8_t fr[64];
    size_t n;
    size_t at = good_then_epb(&b, fr, &n);
    b.len -= 10;
    expect_second_block_error(&b, at, TL_ETRUNC, "truncated block (78 of 88 bytes)");
    b.len = at + 7;
    expect_second_block_error(&b, at, TL_ETRUNC, "truncated block header");
    free(b.p);
}

/* Five frames on an Ethernet and a raw-IP interface, TCP port 80 or UDP. */
static void two_link_types(bytes *b)
{
    uint8_t tcp[64], udp[64];
    size_t nt = make_frame(tcp, 6, 40000, 80);
    size_t nu = make_frame(udp, 17, 40000, 53);
    ng_shb(b);
    ng_idb(b, 1, -1);
    ng_idb(b, LT_RAW, -1);
    ng_epb(b, 0, 1000000, tcp, (uint32_t)nt, (uint32_t)nt);
    ng_epb(b, 1, 2000000, udp + 14, (uint32_t)nu - 14, (uint32_t)nu - 14);
    ng_epb(b, 1, 3000000, tcp + 14, (uint32_t)nt - 14, (uint32_t)nt - 14);
    ng_epb(b, 0, 4000000, udp, (uint32_t)nu, (uint32_t)nu);
    ng_epb(b, 1, 5000000, tcp + 14, (uint32_t)nt - 14, (uint32_t)nt - 14);
}

static void pcapng_filter_is_compiled_per_link_type(void **state)
{
    (void)state;
    bytes b = {0};
    two_link_types(&b);
    tl_source *src = open_mem_ok(&b);
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_set_filter(src, "tcp dst port 80", err), 0);
    tl_frame f;
    next_ok(src, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.linktype, DLT_EN10MB);
    next_ok(src, &f);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.linktype, DLT_RAW);
    next_ok(src, &f);
    assert_int_equal(f.n, 5);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_stats st;
    tl_source_stats_get(src, &st);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.filtered, 2);
    tl_source_free(src);
    free(b.p);
}

static void pcapng_filter_invalid_for_a_later_link_type_is_named(void **state)
{
    (void)state;
    /* "ether" means nothing on raw IP: the file is read through its
     * Ethernet frames and stops at the raw interface, naming the filter. */
    bytes b = {0};
    uint8_t tcp[64];
    size_t nt = make_frame(tcp, 6, 40000, 80);
    ng_shb(&b);
    ng_idb(&b, 1, -1);
    ng_epb(&b, 0, 1000000, tcp, (uint32_t)nt, (uint32_t)nt);
    size_t idb = b.len;
    ng_idb(&b, LT_RAW, -1);
    ng_epb(&b, 1, 2000000, tcp + 14, (uint32_t)nt - 14, (uint32_t)nt - 14);
    char path[128];
    tmp_name(path, sizeof(path), "etherfilter.pcapng");
    write_bytes(path, &b);
    const char *paths[] = {path};
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_open_files(&src, paths, 1, err), 0);
    assert_int_equal(tl_source_set_filter(src, "ether src 0:0:0:0:0:0", err), 0);
    tl_frame f;
    next_ok(src, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(tl_source_next(src, &f, err), TL_EFILTER);
    assert_non_null(strstr(err, "ether src"));
    assert_non_null(strstr(err, path));
    tl_source_where w;
    tl_source_last_error(src, &w);
    assert_int_equal(w.offset, (int64_t)idb);
    assert_int_equal(tl_source_next(src, &f, err), 0);
    tl_source_free(src);
    unlink(path);
    free(b.p);
}

/* Every frame of the stream reader (used for stdin) equals the in-place
 * reader's, and both stop with the same error. */
static void pcapng_stream_reader_agrees_with_in_place_reader(void **state)
{
    (void)state;
    bytes b = {.be = true};
    size_t off[3], n[3];
    uint8_t fr[3][96];
    mixed_file(&b, off, fr, n);
    uint8_t big[3000];
    memset(big, 0x5a, sizeof(big));
    ng_epb(&b, 1, 9000000, big, sizeof(big), sizeof(big));  /* grows the block buffer */
    ng_epb(&b, 2, 9000001, big, 100, 100);
    b.len -= 3;  /* last block truncated */

    tl__reader a, s;
    char ea[TL_ERRBUF_SIZE] = "", es[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl__reader_open_buf(&a, NULL, b.p, b.len, 0, "x", ea), 0);
    FILE *fp = fmemopen(b.p, b.len, "r");
    assert_non_null(fp);
    assert_int_equal(tl__reader_open_ngstream(&s, NULL, fp, "x", es), 0);
    for (uint64_t k = 1;; k++) {
        tl_frame fa, fs;
        memset(&fa, 0, sizeof(fa));
        memset(&fs, 0, sizeof(fs));
        int ra = tl__reader_next(&a, &fa, k, ea);
        int rs = tl__reader_next(&s, &fs, k, es);
        assert_int_equal(ra, rs);
        if (ra != 1) {
            assert_int_equal(ra, TL_ETRUNC);
            assert_string_equal(ea, es);
            assert_int_equal(fa.offset, fs.offset);
            assert_int_equal(k, 5);
            break;
        }
        assert_int_equal(fa.caplen, fs.caplen);
        assert_int_equal(fa.len, fs.len);
        assert_memory_equal(fa.data, fs.data, fa.caplen);
        assert_int_equal(fa.ts.sec, fs.ts.sec);
        assert_int_equal(fa.ts.nsec, fs.ts.nsec);
        assert_int_equal(fa.linktype, fs.linktype);
        assert_int_equal(fa.offset, fs.offset);
    }
    tl__reader_close(&a);
    tl__reader_close(&s);
    free(b.p);
}

static void pcapng_bad_section_header_fails_at_open(void **state)
{
    (void)state;
    bytes b = {0};
    ng_shb(&b);
    b.p[8] = 0x11;  /* byte-order magic broken */
    tl_source *src = NULL;
    char err[TL_ERRBUF_SIZE] = "";
    assert_int_equal(tl_source_open_mem(&src, b.p, b.len, err), TL_EFORMAT);
    assert_null(src);
    assert_non_null(strstr(err, "byte-order magic"));
    b.len = 0;
    ng_shb(&b);
    b.p[12] = 2;  /* version 2.0 */
    assert_int_equal(tl_source_open_mem(&src, b.p, b.len, err), TL_EFORMAT);
    assert_non_null(strstr(err, "version 2.0"));
    free(b.p);
}

/* Two sections in both byte orders, interfaces of three resolutions and two
 * link types, other blocks between the packets, more than twice the mapped
 * window, and a damaged last block: the batch path (tl__ng_take_many) and
 * the block by block path agree, in memory and in a mapped file. */
static void pcapng_batches_give_the_frames_of_single_calls(void **state)
{
    (void)state;
    bytes b = {.be = false};
    uint8_t fr[14 + 120];   /* up to 119 bytes from fr or from fr + 14 */
    size_t fn = make_frame(fr, 6, 1234, 80);
    memset(fr + fn, 0x5a, sizeof fr - fn);
    unsigned count = 0;
    for (int sec = 0; sec < 2; sec++) {
        b.be = sec == 1;
        ng_shb(&b);
        ng_idb(&b, 1, -1);            /* microseconds */
        ng_idb(&b, LT_RAW, 9);        /* nanoseconds */
        ng_idb(&b, 1, sec ? 0x80 | 20 : 3);  /* 2^-20 s, or milliseconds */
        uint64_t ts = 1700000000ull * 1000000u;
        while (b.len < (size_t)(sec + 1) * 3 * TL__MAP_WINDOW / 2) {
            uint32_t ifid = count % 3, cap = 40 + count % 80;
            const uint8_t *d = ifid == 1 ? fr + 14 : fr;
            ng_epb(&b, ifid, ts + count * 7919u, d, cap, cap + count % 3);
            if (count % 97 == 0) ng_other(&b, 5, 16 + count % 5 * 4);   /* statistics */
            count++;
        }
    }
    size_t bad = ng_epb(&b, 0, 1, fr, 60, 60);
    b.p[bad + 4] ^= 4;   /* leading length no longer the trailing one */

    tl_source *one = open_mem_ok(&b), *many = open_mem_ok(&b);
    int most;
    assert_int_equal(batches_match_single_calls(one, many, &most), count);
    assert_int_equal(most, 70);   /* runs of blocks came in whole batches */
    tl_source_free(one);
    tl_source_free(many);

    char path[128], err[TL_ERRBUF_SIZE];
    tmp_name(path, sizeof(path), "batch.pcapng");
    write_bytes(path, &b);
    const char *paths[] = {path};
    assert_int_equal(tl_source_open_files(&one, paths, 1, err), 0);
    assert_int_equal(tl_source_open_files(&many, paths, 1, err), 0);
    assert_int_equal(batches_match_single_calls(one, many, &most), count);
    assert_int_equal(most, 70);
    tl_source_free(one);
    tl_source_free(many);
    unlink(path);
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pcapng_interfaces_of_different_link_types_yield_frames_of_each),
        cmocka_unit_test(pcapng_tsresol_nine_is_exact_nanoseconds),
        cmocka_unit_test(pcapng_tsresol_power_of_two_form),
        cmocka_unit_test(pcapng_tsoffset_adds_seconds),
        cmocka_unit_test(pcapng_resolution_beyond_64_bits_is_an_error),
        cmocka_unit_test(pcapng_spb_uses_interface_zero_snaplen),
        cmocka_unit_test(pcapng_obsolete_packet_block_is_read),
        cmocka_unit_test(pcapng_sections_in_different_byte_orders_restart_interfaces),
        cmocka_unit_test(pcapng_block_length_not_multiple_of_four_is_an_error),
        cmocka_unit_test(pcapng_trailing_length_mismatch_is_an_error),
        cmocka_unit_test(pcapng_block_length_beyond_maximum_is_an_error_not_a_read),
        cmocka_unit_test(pcapng_block_shorter_than_twelve_is_an_error),
        cmocka_unit_test(pcapng_caplen_past_its_block_is_an_error),
        cmocka_unit_test(pcapng_truncated_last_block_gives_frames_then_etrunc),
        cmocka_unit_test(pcapng_filter_is_compiled_per_link_type),
        cmocka_unit_test(pcapng_filter_invalid_for_a_later_link_type_is_named),
        cmocka_unit_test(pcapng_stream_reader_agrees_with_in_place_reader),
        cmocka_unit_test(pcapng_bad_section_header_fails_at_open),
        cmocka_unit_test(pcapng_batches_give_the_frames_of_single_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
