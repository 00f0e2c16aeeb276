/* test_sink_html.c -- the --html sink's escaping (markup characters, bytes
 * that are not UTF-8, control characters; '<' in the embedded JSON), and
 * its bookkeeping of open connections: many connections open at once and
 * closed in a scrambled order each get exactly one section with exactly
 * their packets (the open-addressing table's deletion keeps lookups
 * right), the per-connection cap counts what it leaves out, and a page
 * whose connections never got a record is still complete. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "sink/html_int.h"
#include "tcplens/sink.h"

static char *esc(const char *s, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    tl__html_escn(fp, s, n);
    fclose(fp);
    return buf;
}

static void html_esc_escapes_markup_characters(void **state)
{
    (void)state;
    const char *s = "<script>a&b\"c'd</script>";
    char *e = esc(s, strlen(s));
    assert_string_equal(e, "&lt;script&gt;a&amp;b&quot;c&#39;d&lt;/script&gt;");
    free(e);
}

static void html_esc_keeps_valid_utf8_and_replaces_invalid_bytes(void **state)
{
    (void)state;
    /* é (2 bytes), € (3), 😀 (4) pass; a lone continuation byte, an overlong
     * '/', a surrogate and a cut sequence become U+FFFD each byte. */
    const char ok[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    char *e = esc(ok, sizeof ok - 1);
    assert_string_equal(e, ok);
    free(e);
    e = esc("a\x80z", 3);
    assert_string_equal(e, "a&#xFFFD;z");
    free(e);
    e = esc("\xc0\xaf", 2);
    assert_string_equal(e, "&#xFFFD;&#xFFFD;");
    free(e);
    e = esc("\xed\xa0\x80", 3);
    assert_string_equal(e, "&#xFFFD;&#xFFFD;&#xFFFD;");
    free(e);
    e = esc("\xe2\x82", 2);
    assert_string_equal(e, "&#xFFFD;&#xFFFD;");
    free(e);
}

static void html_esc_replaces_control_characters_but_not_tab_newline(void **state)
{
    (void)state;
    char *e = esc("a\x01\tb\nc\x1b\x7f" "d\0e", 11);
    assert_string_equal(e, "a&#xFFFD;\tb\nc&#xFFFD;&#xFFFD;d&#xFFFD;e");
    free(e);
}

static void html_json_copy_writes_every_lt_as_unicode_escape(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    const char *j = "{\"t\":\"</script><!--<\"}";
    tl__html_json_copy(fp, j, strlen(j));
    fclose(fp);
    assert_string_equal(buf, "{\"t\":\"\\u003c/script>\\u003c!--\\u003c\"}");
    free(buf);
}

/* ---- the sink over a memstream ---------------------------------------- */

typedef struct page {
    FILE *fp;
    char *buf;
    size_t len;
    tl_sink sink;
} page;

static void page_open(page *p)
{
    memset(p, 0, sizeof *p);
    p->fp = open_memstream(&p->buf, &p->len);
    assert_non_null(p->fp);
    tl_output_opts o = { .ts_digits = 6 };
    assert_int_equal(tl_sink_html_new(&p->sink, p->fp, &o), TL_OK);
}

static char *page_close(page *p)
{
    tl_sink_free(&p->sink);
    fclose(p->fp);
    return p->buf;
}

/* Segment n of connection conn (client 10.0.<conn>.1:40000 -> 10.1.0.1:80). */
static void send_pkt(page *p, uint32_t conn, uint64_t n)
{
    tl_frame f;
    tl_packet k;
    tl_pkt_view v;
    memset(&f, 0, sizeof f);
    memset(&k, 0, sizeof k);
    memset(&v, 0, sizeof v);
    f.n = n;
    f.ts.sec = 1700000000;
    f.ts.nsec = (uint32_t)(n * 1000);
    k.ip_version = 4;
    k.src.family = k.dst.family = 4;
    k.src.bytes[0] = 10;
    k.src.bytes[2] = (uint8_t)conn;
    k.src.bytes[3] = 1;
    k.dst.bytes[0] = 10;
    k.dst.bytes[1] = 1;
    k.dst.bytes[3] = 1;
    k.sport = 40000;
    k.dport = 80;
    k.flags = TL_TH_ACK;
    k.tcp_hlen = 20;
    k.ip_hlen = 20;
    k.ip_len = 40;
    v.frame = &f;
    v.result = TL_DECODE_OK;
    v.pkt = &k;
    v.conn = conn;
    v.from = TL_ROLE_CLIENT;
    v.win_scaled = -1;
    v.client_before = v.client_state = v.server_before = v.server_state = TL_ST_ESTABLISHED;
    p->sink.ops->packet(p->sink.ctx, &v);
}

static void send_record(page *p, uint32_t conn)
{
    tl_conn_record r;
    memset(&r, 0, sizeof r);
    r.conn = conn;
    snprintf(r.uid, sizeof r.uid, "Cuid%u", conn);
    r.orig_h.family = r.resp_h.family = 4;
    r.conn_state = "S1";
    r.handshake_rtt = -1;
    p->sink.ops->conn(p->sink.ctx, &r);
}

/* The number of table rows in the section of connection conn, -1 if it has
 * no section, -2 if it has two. */
static int rows_of(const char *html, uint32_t conn)
{
    char head[64];
    snprintf(head, sizeof head, "<h2>Connection #%u:", conn);
    const char *s = strstr(html, head);
    if (!s) return -1;
    if (strstr(s + 1, head)) return -2;
    const char *end = strstr(s, "</section>");
    int rows = 0;
    for (const char *r = strstr(s, "<tr data-i="); r && r < end; r = strstr(r + 1, "<tr data-i=")) rows++;
    return rows;
}

static void html_sink_many_open_connections_closed_in_scrambled_order(void **state)
{
    (void)state;
    enum { NC = 300 };
    page p;
    page_open(&p);
    /* Numbers that share their low bits (the table hashes on them) make
     * long probe chains, so removals have entries to shift back.
     * Connection i gets i % 5 + 1 packets, interleaved. */
#define ID(i) ((uint32_t)(i) * 1024 + (uint32_t)(i) % 4)
    uint64_t n = 1;
    for (int round = 0; round < 5; round++)
        for (uint32_t i = 1; i <= NC; i++)
            if ((uint32_t)round < i % 5 + 1) send_pkt(&p, ID(i), n++);
    /* close in a scrambled order (a permutation: 7 is prime to 300), with
     * a packet for a still-open connection after each close */
    for (uint32_t k = 0; k < NC; k++) {
        uint32_t i = (k * 7) % NC + 1;
        send_record(&p, ID(i));
        uint32_t j = ((k + 1) * 7) % NC + 1;
        if (k + 1 < NC) send_pkt(&p, ID(j), n++);
    }
    char *html = page_close(&p);
    for (uint32_t i = 1; i <= NC; i++) {
        uint32_t want = i % 5 + 1 + (i != 1);   /* every one but the first got one more */
        if (rows_of(html, ID(i)) != (int)want) fail_msg("connection %u: %d rows", ID(i), rows_of(html, ID(i)));
    }
#undef ID
    assert_non_null(strstr(html, "</html>"));
    free(html);
}

static void html_sink_counts_packets_beyond_the_per_connection_cap(void **state)
{
    (void)state;
    page p;
    page_open(&p);
    for (uint64_t n = 1; n <= TL_HTML_MAX_PKTS + 25; n++) send_pkt(&p, 1, n);
    send_record(&p, 1);
    char *html = page_close(&p);
    assert_int_equal(rows_of(html, 1), TL_HTML_MAX_PKTS);
    assert_non_null(strstr(html, "25 more packets not drawn"));
    free(html);
}

static void html_sink_draws_connections_without_record_when_freed(void **state)
{
    (void)state;
    page p;
    page_open(&p);
    send_pkt(&p, 4, 1);
    send_pkt(&p, 9, 2);
    send_pkt(&p, 4, 3);
    char *html = page_close(&p);
    assert_int_equal(rows_of(html, 4), 2);
    assert_int_equal(rows_of(html, 9), 1);
    assert_non_null(strstr(html, "no connection record"));
    assert_non_null(strstr(html, "</script>\n</body>\n</html>\n"));
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_esc_escapes_markup_characters),
        cmocka_unit_test(html_esc_keeps_valid_utf8_and_replaces_invalid_bytes),
        cmocka_unit_test(html_esc_replaces_control_characters_but_not_tab_newline),
        cmocka_unit_test(html_json_copy_writes_every_lt_as_unicode_escape),
        cmocka_unit_test(html_sink_many_open_connections_closed_in_scrambled_order),
        cmocka_unit_test(html_sink_counts_packets_beyond_the_per_connection_cap),
        cmocka_unit_test(html_sink_draws_connections_without_record_when_freed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
