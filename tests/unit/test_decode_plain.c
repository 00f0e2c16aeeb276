/* test_decode_plain.c -- tl_decode's one-pass path for the common layout
 * (decode.c decode_plain) against the layer by layer walk
 * (tl__decode_layers): for every frame, the same result, reason and
 * packet, byte for byte, also through the batch call tl_decode_frames.
 * Frames are the common layouts at every caplen, with every byte of the
 * link, IP and TCP headers mutated in turn, so each condition that must
 * send a frame to the walk is met at least once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "decode/decode_int.h"
#include "test_decode_build.h"

static unsigned compared;

/* tl_decode and the walk agree on [data, data + caplen) of linktype. */
static void same_as_walk(int linktype, const uint8_t *data, uint32_t caplen)
{
    tl_packet fast, walk;
    tl_decode_reason rf = TL_REASON_COUNT, rw = TL_REASON_NONE;
    /* garbage in: every byte of the result, padding too, must be written */
    memset(&fast, 0xa5, sizeof fast);
    tl_decode_result res_f = tl_decode(linktype, data, caplen, false, &fast, &rf);
    memset(&walk, 0, sizeof walk);
    /* the walk takes bytes; tl_decode reads NULL as no bytes */
    static const uint8_t none[1];
    tl_decode_result res_w = tl__decode_layers(linktype, data ? data : none, caplen, false, &walk, &rw);
    assert_int_equal(res_f, res_w);
    assert_int_equal(rf, rw);
    assert_memory_equal(&fast, &walk, sizeof fast);
    /* the pipeline's batch call, a frame between two others */
    tl_frame fs[3] = {{.data = data, .caplen = caplen, .linktype = linktype},
                      {.data = data, .caplen = caplen, .linktype = linktype},
                      {.data = data, .caplen = caplen, .linktype = linktype}};
    tl_decoded ds[3];
    memset(ds, 0xa5, sizeof ds);
    tl_decode_frames(fs, 3, false, ds);
    assert_int_equal(ds[1].res, res_w);
    assert_int_equal(ds[1].reason, rw);
    assert_memory_equal(&ds[1].pkt, &walk, sizeof walk);
    compared++;
}

/* Every caplen, and every header byte (up to hdr bytes) set to each of
 * its 256 values. */
static void mutations(int linktype, const tb *t, size_t hdr)
{
    for (size_t n = 0; n <= t->n; n++) same_as_walk(linktype, t->b, (uint32_t)n);
    for (size_t i = 0; i < hdr && i < t->n; i++) {
        tb m = *t;
        for (unsigned v = 0; v < 256; v++) {
            m.b[i] = (uint8_t)v;
            same_as_walk(linktype, m.b, (uint32_t)m.n);
        }
    }
}

static const uint8_t TS_OPTS[12] = {1, 1, 8, 10, 0, 0, 0x12, 0x34, 0xfe, 0xdc, 0xba, 0x98};

static void tcp_with(tb *t, const uint8_t *opts, size_t optlen, size_t plen)
{
    uint8_t payload[64];
    for (size_t i = 0; i < plen; i++) payload[i] = (uint8_t)('a' + i % 26);
    tb_tcp(t, 40000, 443, 0x01020304u, 0xa0b0c0d0u, 0x18, 501, opts, optlen, payload, plen);
}

static void ipv4_layouts_match_the_walk(void **state)
{
    (void)state;
    for (int ts = 0; ts <= 1; ts++) {
        size_t optlen = ts ? sizeof TS_OPTS : 0;
        for (size_t plen = 0; plen <= 9; plen += 9) {
            tb t = {.n = 0};
            tb_eth(&t, 0x0800);
            tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 20 + optlen + plen, NULL, 0);
            tcp_with(&t, ts ? TS_OPTS : NULL, optlen, plen);
            mutations(1, &t, 14 + 20 + 20 + optlen);
            /* Ethernet pads short frames: bytes beyond the IP length. */
            tb pad = t;
            for (int i = 0; i < 6; i++) tb_u8(&pad, 0);
            same_as_walk(1, pad.b, (uint32_t)pad.n);

            tb raw = {.n = 0};
            tb_ipv4(&raw, TB_V4_SRC, TB_V4_DST, 6, 20 + optlen + plen, NULL, 0);
            tcp_with(&raw, ts ? TS_OPTS : NULL, optlen, plen);
            for (size_t k = 0; k < 5; k++) {
                static const int raws[] = {12, 101, 228, 229, 113};
                mutations(raws[k], &raw, 20 + 20 + optlen);
            }
        }
    }
}

static void ipv6_layouts_match_the_walk(void **state)
{
    (void)state;
    for (int ts = 0; ts <= 1; ts++) {
        size_t optlen = ts ? sizeof TS_OPTS : 0;
        for (size_t plen = 0; plen <= 9; plen += 9) {
            tb t = {.n = 0};
            tb_eth(&t, 0x86dd);
            tb_ipv6(&t, TB_V6_SRC, TB_V6_DST, 6, 20 + optlen + plen);
            tcp_with(&t, ts ? TS_OPTS : NULL, optlen, plen);
            mutations(1, &t, 14 + 40 + 20 + optlen);

            tb raw = {.n = 0};
            tb_ipv6(&raw, TB_V6_SRC, TB_V6_DST, 6, 20 + optlen + plen);
            tcp_with(&raw, ts ? TS_OPTS : NULL, optlen, plen);
            for (size_t k = 0; k < 4; k++) {
                static const int raws[] = {12, 101, 228, 229};
                mutations(raws[k], &raw, 40 + 20 + optlen);
            }
        }
    }
}

/* Layouts the one pass leaves to the walk: still decoded the same. */
static void other_layouts_match_the_walk(void **state)
{
    (void)state;
    static const uint8_t mss_ts[20] = {2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1,
                                       0, 0, 0, 0, 1, 3, 3, 7};
    static const uint8_t ipopt[4] = {1, 1, 1, 0};
    tb t = {.n = 0};
    tb_eth(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 20 + sizeof mss_ts, NULL, 0);
    tcp_with(&t, mss_ts, sizeof mss_ts, 0);
    mutations(1, &t, 14 + 20 + 20 + sizeof mss_ts);

    t.n = 0;
    tb_eth(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 20, ipopt, sizeof ipopt);
    tcp_with(&t, NULL, 0, 0);
    mutations(1, &t, 14 + 24 + 20);

    t.n = 0;
    tb_eth(&t, 0x8100);
    tb_u16(&t, 42);
    tb_u16(&t, 0x0800);
    tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 20, NULL, 0);
    tcp_with(&t, NULL, 0, 0);
    mutations(1, &t, 18 + 20 + 20);

    /* no bytes: every link type the one pass knows, and one it does not */
    static const int lts[] = {1, 12, 101, 228, 229, 113};
    for (size_t k = 0; k < sizeof lts / sizeof lts[0]; k++) same_as_walk(lts[k], NULL, 0);
    assert_true(compared > 10000);
}

/* TCP options laid out other than NOP,NOP,timestamp: the one pass parses
 * the well-formed ones itself and leaves the malformed ones to the walk;
 * either way the packet is the walk's at every caplen (options cut short
 * included) and with every header and option byte changed. */
static const struct {
    uint8_t len;
    uint8_t b[40];
} OPT_LAYOUTS[] = {
    /* Linux SYN: MSS, SACK-permitted, timestamps, NOP, window scale */
    {20, {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 3, 3, 7}},
    /* Windows SYN-ACK: MSS, NOP, window scale, NOP, NOP, SACK-permitted */
    {12, {2, 4, 5, 0x84, 1, 3, 3, 8, 1, 1, 4, 2}},
    /* NOP, NOP, timestamps, NOP, NOP, two SACK blocks */
    {32, {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, 1, 1, 5, 18,
          0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0, 0x30, 0, 0, 0, 0x40, 0}},
    /* NOP, NOP, four SACK blocks: 36 bytes, then EOL padding */
    {36, {1, 1, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
          0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8}},
    /* MSS then EOL: what follows EOL is padding, even when not zero */
    {8, {2, 4, 5, 0xb4, 0, 3, 3, 7}},
    /* timestamps first, then NOP, NOP: not the aligned form */
    {12, {8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1}},
    /* known kinds with the wrong length, and more unknown kinds than kept */
    {24, {2, 3, 5, 3, 2, 1, 30, 2, 31, 2, 32, 2, 33, 2, 34, 2, 35, 2, 36, 2,
          37, 2, 38, 3}},
    /* malformed: a length below 2 */
    {8, {2, 4, 5, 0xb4, 8, 1, 0, 0}},
    /* malformed: an option running past the header */
    {8, {2, 4, 5, 0xb4, 8, 10, 0, 0}},
    /* malformed: no room for the length */
    {4, {1, 1, 1, 3}},
};

static void option_layouts_match_the_walk(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof OPT_LAYOUTS / sizeof OPT_LAYOUTS[0]; k++) {
        const uint8_t *o = OPT_LAYOUTS[k].b;
        size_t olen = OPT_LAYOUTS[k].len;
        for (size_t plen = 0; plen <= 5; plen += 5) {
            tb t = {.n = 0};
            tb_eth(&t, 0x0800);
            tb_ipv4(&t, TB_V4_SRC, TB_V4_DST, 6, 20 + olen + plen, NULL, 0);
            tcp_with(&t, o, olen, plen);
            mutations(1, &t, 14 + 20 + 20 + olen);

            tb raw = {.n = 0};
            tb_ipv6(&raw, TB_V6_SRC, TB_V6_DST, 6, 20 + olen + plen);
            tcp_with(&raw, o, olen, plen);
            mutations(12, &raw, 40 + 20 + olen);
        }
    }

    /* The SYN through tl_decode: what the options say. */
    tb syn = {.n = 0};
    tb_eth(&syn, 0x0800);
    tb_ipv4(&syn, TB_V4_SRC, TB_V4_DST, 6, 20 + OPT_LAYOUTS[0].len, NULL, 0);
    tb_tcp(&syn, 40000, 443, 1, 0, 0x02, 64240, OPT_LAYOUTS[0].b, OPT_LAYOUTS[0].len, NULL, 0);
    tl_packet p;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, syn.b, (uint32_t)syn.n, false, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.opt.present,
                     TL_OPT_MSS | TL_OPT_SACK_PERM | TL_OPT_TIMESTAMP | TL_OPT_WSCALE);
    assert_int_equal(p.opt.mss, 1460);
    assert_int_equal(p.opt.wscale, 7);
    assert_int_equal(p.opt.ts_val, 0x1234u);
    assert_int_equal(p.tcp_hlen, 40);
    assert_int_equal(p.flags, 0x02);
}

/* The one pass writes what the walk writes, and a packet reused for a
 * frame that takes the walk is cleared of the one-pass packet before. */
static void reused_packet_is_cleared_between_paths(void **state)
{
    (void)state;
    tb ts = {.n = 0};
    tb_eth(&ts, 0x86dd);
    tb_ipv6(&ts, TB_V6_SRC, TB_V6_DST, 6, 20 + sizeof TS_OPTS);
    tcp_with(&ts, TS_OPTS, sizeof TS_OPTS, 0);
    tl_packet p, ref;
    tl_decode_reason r;
    assert_int_equal(tl_decode(1, ts.b, (uint32_t)ts.n, false, &p, &r), TL_DECODE_OK);
    assert_int_equal(p.opt.present, TL_OPT_TIMESTAMP);
    assert_int_equal(p.opt.ts_val, 0x1234u);
    assert_int_equal(p.opt.ts_ecr, 0xfedcba98u);
    assert_int_equal(p.ttl, 61);

    tb udp = {.n = 0};
    tb_eth(&udp, 0x0800);
    tb_ipv4(&udp, TB_V4_SRC, TB_V4_DST, 17, 8, NULL, 0);
    for (int i = 0; i < 8; i++) tb_u8(&udp, 0);
    assert_int_equal(tl_decode(1, udp.b, (uint32_t)udp.n, false, &p, &r), TL_DECODE_NOT_TCP);
    memset(&ref, 0, sizeof ref);
    assert_int_equal(tl__decode_layers(1, udp.b, (uint32_t)udp.n, false, &ref, &r),
                     TL_DECODE_NOT_TCP);
    assert_memory_equal(&p, &ref, sizeof p);
}

/* A batch of different frames, checksums verified or not: each decoded as
 * tl_decode() alone decodes it. */
static void batch_decodes_each_frame_as_alone(void **state)
{
    (void)state;
    tb ts = {.n = 0}, udp = {.n = 0}, v4 = {.n = 0};
    tb_eth(&ts, 0x86dd);
    tb_ipv6(&ts, TB_V6_SRC, TB_V6_DST, 6, 20 + sizeof TS_OPTS);
    tcp_with(&ts, TS_OPTS, sizeof TS_OPTS, 0);
    tb_eth(&udp, 0x0800);
    tb_ipv4(&udp, TB_V4_SRC, TB_V4_DST, 17, 8, NULL, 0);
    for (int i = 0; i < 8; i++) tb_u8(&udp, 0);
    tb_eth(&v4, 0x0800);
    tb_ipv4(&v4, TB_V4_SRC, TB_V4_DST, 6, 20 + 5, NULL, 0);
    tcp_with(&v4, NULL, 0, 5);
    const tb *frames[] = {&ts, &udp, &v4, &ts};
    tl_frame fs[5];
    for (int i = 0; i < 4; i++)
        fs[i] = (tl_frame){.data = frames[i]->b, .caplen = (uint32_t)frames[i]->n, .linktype = 1};
    fs[4] = (tl_frame){.data = v4.b, .caplen = 30, .linktype = 1};   /* cut in the IP header */
    for (int verify = 0; verify < 2; verify++) {
        tl_decoded ds[5];
        memset(ds, 0xa5, sizeof ds);
        tl_decode_frames(fs, 5, verify, ds);
        for (int i = 0; i < 5; i++) {
            tl_packet p;
            tl_decode_reason r;
            memset(&p, 0x5a, sizeof p);
            assert_int_equal(ds[i].res, tl_decode(1, fs[i].data, fs[i].caplen, verify, &p, &r));
            assert_int_equal(ds[i].reason, r);
            assert_memory_equal(&ds[i].pkt, &p, sizeof p);
        }
        assert_int_equal(ds[1].res, TL_DECODE_NOT_TCP);
        assert_int_equal(ds[2].pkt.payload_len, 5);
        assert_int_equal(ds[2].pkt.cksum_status != TL_CKSUM_UNCHECKED, verify);   /* checked when asked */
        assert_int_equal(ds[4].res, TL_DECODE_TRUNCATED);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_layouts_match_the_walk),
        cmocka_unit_test(ipv6_layouts_match_the_walk),
        cmocka_unit_test(other_layouts_match_the_walk),
        cmocka_unit_test(option_layouts_match_the_walk),
        cmocka_unit_test(reused_packet_is_cleared_between_paths),
        cmocka_unit_test(batch_decodes_each_frame_as_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
