/* test_wire_rules.c -- the lab wire's packet classification and rule
 * decisions (src/lab/wire.c), without namespaces: hand-built IPv4/IPv6 TCP
 * packets go through tl_wire_parse(), tl_wire_decide() and tl_wire_passed(),
 * and through the relay itself with SOCK_SEQPACKET socketpairs standing in
 * for the two TUN devices (same read/write of whole packets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/wire.h"
#include "tcplens/packet.h"

/* IPv4 + TCP (20-byte headers); returns the number of bytes written. */
static size_t ipv4_tcp(uint8_t *b, uint8_t flags, uint16_t payload, uint8_t doff_words)
{
    memset(b, 0, 40 + payload);
    uint16_t tot = (uint16_t)(40 + payload);
    b[0] = 0x45;
    b[2] = (uint8_t)(tot >> 8);
    b[3] = (uint8_t)tot;
    b[8] = 64;
    b[9] = 6;
    b[20 + 12] = (uint8_t)(doff_words << 4);
    b[20 + 13] = flags;
    return tot;
}

/* IPv6 (+ optional 8-byte hop-by-hop header) + 20-byte TCP header. */
static size_t ipv6_tcp(uint8_t *b, uint8_t flags, uint16_t payload, bool hbh)
{
    size_t ext = hbh ? 8 : 0;
    uint16_t plen = (uint16_t)(ext + 20 + payload);
    memset(b, 0, 40 + plen);
    b[0] = 0x60;
    b[4] = (uint8_t)(plen >> 8);
    b[5] = (uint8_t)plen;
    b[6] = hbh ? 0 : 6;
    b[7] = 64;
    if (hbh) {
        b[40] = 6;   /* next header: TCP */
        b[41] = 0;   /* (0 + 1) * 8 bytes */
    }
    b[40 + ext + 12] = 5 << 4;
    b[40 + ext + 13] = flags;
    return 40 + plen;
}

static void parse_ipv4_syn_has_flags_and_no_payload(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = ipv4_tcp(b, TL_TH_SYN, 0, 5);
    tl_wire_pkt_info in;
    assert_true(tl_wire_parse(b, n, &in));
    assert_true(in.is_tcp);
    assert_int_equal(in.flags, TL_TH_SYN);
    assert_int_equal(in.payload_len, 0);
    assert_int_equal(in.sport, 0);
    b[20] = 0x9c;   /* source port 40000 */
    b[21] = 0x40;
    b[23] = 80;     /* destination port 80 */
    assert_true(tl_wire_parse(b, n, &in));
    assert_int_equal(in.sport, 40000);
    assert_int_equal(in.dport, 80);
}

static void parse_ipv4_payload_comes_from_total_length(void **state)
{
    (void)state;
    uint8_t b[128];
    ipv4_tcp(b, TL_TH_PSH | TL_TH_ACK, 11, 5);
    tl_wire_pkt_info in;
    /* Only the headers are in the buffer: the length still comes from IP. */
    assert_true(tl_wire_parse(b, 40, &in));
    assert_int_equal(in.payload_len, 11);
}

static void parse_ipv4_options_in_tcp_header_are_not_payload(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = ipv4_tcp(b, TL_TH_ACK, 12, 8);   /* 32-byte TCP header, 12 bytes after IP+20 */
    tl_wire_pkt_info in;
    assert_true(tl_wire_parse(b, n, &in));
    assert_int_equal(in.payload_len, 0);
}

static void parse_rejects_tcp_data_offset_below_five(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = ipv4_tcp(b, TL_TH_ACK, 0, 4);
    tl_wire_pkt_info in;
    assert_false(tl_wire_parse(b, n, &in));
    assert_false(in.is_tcp);
}

static void parse_rejects_truncated_ipv4_header(void **state)
{
    (void)state;
    uint8_t b[64];
    ipv4_tcp(b, TL_TH_SYN, 0, 5);
    tl_wire_pkt_info in;
    assert_false(tl_wire_parse(b, 19, &in));
    assert_false(tl_wire_parse(b, 30, &in));   /* TCP header cut short */
}

static void parse_udp_is_valid_but_not_tcp(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = ipv4_tcp(b, 0, 0, 5);
    b[9] = 17;
    tl_wire_pkt_info in;
    assert_true(tl_wire_parse(b, n, &in));
    assert_false(in.is_tcp);
}

static void parse_ipv6_walks_hop_by_hop_to_tcp(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = ipv6_tcp(b, TL_TH_FIN | TL_TH_ACK, 5, true);
    tl_wire_pkt_info in;
    assert_true(tl_wire_parse(b, n, &in));
    assert_true(in.is_tcp);
    assert_int_equal(in.flags, TL_TH_FIN | TL_TH_ACK);
    assert_int_equal(in.payload_len, 5);
}

static void parse_ipv6_extension_longer_than_payload_is_rejected(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = ipv6_tcp(b, TL_TH_ACK, 0, true);
    b[41] = 200;   /* claims 1608 bytes */
    tl_wire_pkt_info in;
    assert_false(tl_wire_parse(b, n, &in));
}

static const tl_wire_pkt_info syn = { .is_tcp = true, .flags = TL_TH_SYN };
static const tl_wire_pkt_info synack = { .is_tcp = true, .flags = TL_TH_SYN | TL_TH_ACK };
static const tl_wire_pkt_info fin = { .is_tcp = true, .flags = TL_TH_FIN | TL_TH_ACK };
static const tl_wire_pkt_info data = { .is_tcp = true, .flags = TL_TH_PSH | TL_TH_ACK, .payload_len = 100 };
static const tl_wire_pkt_info ack = { .is_tcp = true, .flags = TL_TH_ACK };
static const tl_wire_pkt_info icmp = { .is_tcp = false };

static void decide_first_fin_from_client_acts_once(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN,
                       .payload = -1, .first = 1, .count = 1, .action = TL_WIRE_DROP };
    tl_wire_rule_state st = { 0 };
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &ack).action, TL_WIRE_PASS);
    tl_wire_decision d = tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &fin);
    assert_int_equal(d.action, TL_WIRE_DROP);
    assert_int_equal(d.rule, 0);
    /* The retransmitted FIN is the 2nd match: it passes. */
    d = tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &fin);
    assert_int_equal(d.action, TL_WIRE_PASS);
    assert_int_equal(d.rule, -1);
    assert_int_equal(st.matched[0], 2);
}

/* A rule with a port sees one connection only: another connection's FINs
 * (a retransmitted one included) neither act nor count (labnet_check: a
 * FIN retransmitted under load once moved the crossing-FINs rule). */
static void decide_port_rule_ignores_other_connections(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN,
                       .payload = -1, .first = 1, .count = 1, .action = TL_WIRE_DROP, .port = 6003 };
    tl_wire_rule_state st = { 0 };
    tl_wire_pkt_info other = fin, mine = fin, mine_back = fin;
    other.sport = 40000;
    other.dport = 6001;
    mine.sport = 40002;
    mine.dport = 6003;
    mine_back.sport = 6003;
    mine_back.dport = 40002;
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &other).action, TL_WIRE_PASS);
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &other).action, TL_WIRE_PASS);
    assert_int_equal(st.matched[0], 0);
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &mine).action, TL_WIRE_DROP);
    /* either port: the rule's port as the source matches too */
    tl_wire_rule_state st2 = { 0 };
    assert_int_equal(tl_wire_decide(&r, 1, &st2, TL_WIRE_C2S, &mine_back).action, TL_WIRE_DROP);
    /* a port rule never matches what is not TCP */
    tl_wire_rule any = { .dir = TL_WIRE_ANY, .payload = -1, .action = TL_WIRE_DROP, .port = 6003 };
    tl_wire_rule_state st3 = { 0 };
    assert_int_equal(tl_wire_decide(&any, 1, &st3, TL_WIRE_C2S, &icmp).action, TL_WIRE_PASS);
}

static void decide_other_direction_neither_matches_nor_counts(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN,
                       .payload = -1, .first = 1, .count = 1, .action = TL_WIRE_DROP };
    tl_wire_rule_state st = { 0 };
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_S2C, &fin).action, TL_WIRE_PASS);
    assert_int_equal(st.matched[0], 0);
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &fin).action, TL_WIRE_DROP);
}

static void decide_flags_mask_separates_syn_from_synack(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_ANY, .flags_mask = TL_TH_SYN | TL_TH_ACK,
                       .flags_value = TL_TH_SYN, .payload = -1, .action = TL_WIRE_DROP };
    tl_wire_rule_state st = { 0 };
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_S2C, &synack).action, TL_WIRE_PASS);
    /* count 0: every SYN from then on (syn-timeout drops them all). */
    for (int i = 0; i < 5; i++)
        assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &syn).action, TL_WIRE_DROP);
}

static void decide_payload_filter_picks_data_segments(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_C2S, .payload = 1, .first = 2, .count = 1,
                       .action = TL_WIRE_DROP };
    tl_wire_rule_state st = { 0 };
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &ack).action, TL_WIRE_PASS);
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &data).action, TL_WIRE_PASS);
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &ack).action, TL_WIRE_PASS);
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &data).action, TL_WIRE_DROP);
    assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &data).action, TL_WIRE_PASS);
    tl_wire_rule nopay = { .dir = TL_WIRE_C2S, .payload = 0, .action = TL_WIRE_DELAY,
                           .delay_ms = 40 };
    tl_wire_rule_state st2 = { 0 };
    assert_int_equal(tl_wire_decide(&nopay, 1, &st2, TL_WIRE_C2S, &data).action, TL_WIRE_PASS);
    tl_wire_decision d = tl_wire_decide(&nopay, 1, &st2, TL_WIRE_C2S, &ack);
    assert_int_equal(d.action, TL_WIRE_DELAY);
    assert_int_equal(d.delay_ms, 40);
}

static void decide_window_first_two_count_two(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_ANY, .payload = -1, .first = 2, .count = 2,
                       .action = TL_WIRE_REORDER };
    tl_wire_rule_state st = { 0 };
    tl_wire_action want[] = { TL_WIRE_PASS, TL_WIRE_REORDER, TL_WIRE_REORDER, TL_WIRE_PASS };
    for (int i = 0; i < 4; i++)
        assert_int_equal(tl_wire_decide(&r, 1, &st, TL_WIRE_C2S, &ack).action, want[i]);
}

static void decide_first_rule_in_window_wins_but_all_count(void **state)
{
    (void)state;
    tl_wire_rule r[2] = {
        { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN,
          .payload = -1, .first = 1, .count = 1, .action = TL_WIRE_DROP },
        { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_ACK, .flags_value = TL_TH_ACK,
          .payload = -1, .action = TL_WIRE_DELAY, .delay_ms = 5 },
    };
    tl_wire_rule_state st = { 0 };
    tl_wire_decision d = tl_wire_decide(r, 2, &st, TL_WIRE_C2S, &fin);
    assert_int_equal(d.action, TL_WIRE_DROP);
    assert_int_equal(d.hit_mask, 3u);
    d = tl_wire_decide(r, 2, &st, TL_WIRE_C2S, &fin);
    assert_int_equal(d.action, TL_WIRE_DELAY);
    assert_int_equal(d.rule, 1);
    assert_int_equal(d.hit_mask, 2u);
    assert_int_equal(st.matched[0], 2);
    assert_int_equal(st.matched[1], 2);
}

static void decide_non_tcp_matches_only_wildcard_rules(void **state)
{
    (void)state;
    tl_wire_rule r[2] = {
        { .dir = TL_WIRE_ANY, .flags_mask = TL_TH_ACK, .flags_value = 0, .payload = -1,
          .action = TL_WIRE_DROP },
        { .dir = TL_WIRE_ANY, .payload = -1, .action = TL_WIRE_DELAY, .delay_ms = 1 },
    };
    tl_wire_rule_state st = { 0 };
    tl_wire_decision d = tl_wire_decide(r, 2, &st, TL_WIRE_S2C, &icmp);
    assert_int_equal(d.action, TL_WIRE_DELAY);
    assert_int_equal(st.matched[0], 0);
}

/* Crossing FINs: the client's FINs are held until the server's FIN passed;
 * after that the hold is spent and later client FINs pass at once. */
static void hold_is_released_by_its_rule_then_spent(void **state)
{
    (void)state;
    tl_wire_rule r[2] = {
        { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN,
          .payload = -1, .action = TL_WIRE_HOLD, .release_on = 1 },
        { .dir = TL_WIRE_S2C, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN,
          .payload = -1, .first = 1, .count = 1, .action = TL_WIRE_PASS },
    };
    tl_wire_rule_state st = { 0 };
    tl_wire_decision d = tl_wire_decide(r, 2, &st, TL_WIRE_C2S, &fin);
    assert_int_equal(d.action, TL_WIRE_HOLD);
    assert_int_equal(tl_wire_passed(r, 2, &st, d.hit_mask), 0u);   /* a held FIN frees nothing */
    d = tl_wire_decide(r, 2, &st, TL_WIRE_C2S, &fin);             /* retransmission: held too */
    assert_int_equal(d.action, TL_WIRE_HOLD);
    d = tl_wire_decide(r, 2, &st, TL_WIRE_S2C, &ack);
    assert_int_equal(tl_wire_passed(r, 2, &st, d.hit_mask), 0u);
    d = tl_wire_decide(r, 2, &st, TL_WIRE_S2C, &fin);
    assert_int_equal(d.action, TL_WIRE_PASS);
    assert_int_equal(d.rule, 1);
    assert_int_equal(tl_wire_passed(r, 2, &st, d.hit_mask), 1u);   /* release rule 0's packets */
    d = tl_wire_decide(r, 2, &st, TL_WIRE_C2S, &fin);
    assert_int_equal(d.action, TL_WIRE_PASS);
    assert_int_equal(st.matched[0], 3);
}

/* ---- the relay over socketpairs ---- */

typedef struct relay {
    int c[2], s[2];   /* [0] is the wire's port, [1] plays the host's kernel */
    tl_wire *w;
    pthread_mutex_t lock;
    tl_wire_packet seen[16];
    int nseen;
} relay;

static void relay_cb(void *ud, const tl_wire_packet *p)
{
    relay *r = ud;
    pthread_mutex_lock(&r->lock);
    if (r->nseen < 16) {
        r->seen[r->nseen] = *p;
        r->seen[r->nseen].data = NULL;
        r->nseen++;
    }
    pthread_mutex_unlock(&r->lock);
}

static void relay_open(relay *r, const tl_wire_rule *rules, size_t n)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, r->c), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, r->s), 0);
    tl_wire_port cp = { .fd = r->c[0], .kind = TL_WIRE_LINK_TUN };
    tl_wire_port sp = { .fd = r->s[0], .kind = TL_WIRE_LINK_TUN };
    char err[TL_ERRBUF_SIZE];
    assert_int_equal(tl_wire_new(&r->w, &cp, &sp, rules, n, relay_cb, r, err), 0);
    assert_int_equal(tl_wire_start(r->w, err), 0);
}

static void relay_close(relay *r)
{
    tl_wire_free(r->w);
    for (int i = 0; i < 2; i++) {
        close(r->c[i]);
        close(r->s[i]);
    }
    pthread_mutex_destroy(&r->lock);
}

/* Sends an IPv4 TCP packet whose payload length tags it. */
static void host_send(int fd, uint8_t flags, uint16_t tag)
{
    uint8_t b[128];
    size_t n = ipv4_tcp(b, flags, tag, 5);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
}

/* Tag of the next packet delivered to a host within ms, -1 if none. */
static int host_recv(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, ms) <= 0) return -1;
    uint8_t b[256];
    ssize_t n = read(fd, b, sizeof b);
    tl_wire_pkt_info in;
    if (n <= 0 || !tl_wire_parse(b, (size_t)n, &in)) return -1;
    return (int)in.payload_len;
}

static void relay_reorder_swaps_a_packet_with_the_next(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_C2S, .payload = 1, .first = 1, .count = 1,
                       .action = TL_WIRE_REORDER };
    relay rl;
    relay_open(&rl, &r, 1);
    host_send(rl.c[1], TL_TH_ACK, 1);
    host_send(rl.c[1], TL_TH_ACK, 2);
    assert_int_equal(host_recv(rl.s[1], 1000), 2);
    assert_int_equal(host_recv(rl.s[1], 1000), 1);
    relay_close(&rl);
}

static void relay_delay_lets_later_packets_overtake(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_C2S, .payload = 1, .first = 1, .count = 1,
                       .action = TL_WIRE_DELAY, .delay_ms = 80 };
    relay rl;
    relay_open(&rl, &r, 1);
    host_send(rl.c[1], TL_TH_ACK, 1);
    host_send(rl.c[1], TL_TH_ACK, 2);
    assert_int_equal(host_recv(rl.s[1], 1000), 2);
    assert_int_equal(host_recv(rl.s[1], 20), -1);   /* still on the wire */
    assert_int_equal(host_recv(rl.s[1], 1000), 1);
    tl_wire_stop(rl.w);
    assert_int_equal(rl.nseen, 2);
    const tl_wire_packet *late = rl.seen[0].n == 1 ? &rl.seen[0] : &rl.seen[1];
    assert_int_equal(late->action, TL_WIRE_DELAY);
    assert_true(tl_time_diff(late->ts_in, late->ts_out) >= 0.075);
    relay_close(&rl);
}

static void relay_hold_waits_for_the_other_sides_fin(void **state)
{
    (void)state;
    tl_wire_rule r[2] = {
        { .dir = TL_WIRE_C2S, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN,
          .payload = -1, .action = TL_WIRE_HOLD, .release_on = 1, .max_hold_ms = 5000 },
        { .dir = TL_WIRE_S2C, .flags_mask = TL_TH_FIN, .flags_value = TL_TH_FIN,
          .payload = -1, .first = 1, .count = 1, .action = TL_WIRE_PASS },
    };
    relay rl;
    relay_open(&rl, r, 2);
    host_send(rl.c[1], TL_TH_FIN | TL_TH_ACK, 7);
    assert_int_equal(host_recv(rl.s[1], 150), -1);    /* held */
    host_send(rl.s[1], TL_TH_FIN | TL_TH_ACK, 9);
    assert_int_equal(host_recv(rl.c[1], 1000), 9);    /* the server's FIN passes */
    assert_int_equal(host_recv(rl.s[1], 1000), 7);    /* and releases the client's */
    host_send(rl.c[1], TL_TH_FIN | TL_TH_ACK, 8);     /* the hold is spent */
    assert_int_equal(host_recv(rl.s[1], 1000), 8);
    relay_close(&rl);
}

static void relay_drop_reports_the_lost_packet(void **state)
{
    (void)state;
    tl_wire_rule r = { .dir = TL_WIRE_S2C, .payload = -1, .first = 1, .count = 1,
                       .action = TL_WIRE_DROP };
    relay rl;
    relay_open(&rl, &r, 1);
    host_send(rl.s[1], TL_TH_ACK, 3);
    host_send(rl.s[1], TL_TH_ACK, 4);
    assert_int_equal(host_recv(rl.c[1], 1000), 4);
    assert_int_equal(host_recv(rl.c[1], 50), -1);
    tl_wire_stop(rl.w);
    assert_int_equal(rl.nseen, 2);
    assert_int_equal(rl.seen[0].fate, TL_WIRE_DROPPED);
    assert_int_equal(rl.seen[0].dir, TL_WIRE_S2C);
    assert_int_equal(rl.seen[1].fate, TL_WIRE_FORWARDED);
    tl_wire_stats st;
    tl_wire_stats_get(rl.w, &st);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.forwarded, 1);
    relay_close(&rl);
}

static void wire_new_rejects_hold_without_a_releasing_rule(void **state)
{
    (void)state;
    tl_wire_rule r = { .action = TL_WIRE_HOLD, .release_on = 3 };
    tl_wire_port p = { .fd = 0 };
    tl_wire *w = NULL;
    char err[TL_ERRBUF_SIZE];
    assert_int_equal(tl_wire_new(&w, &p, &p, &r, 1, NULL, NULL, err), TL_EINVAL);
    assert_null(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ipv4_syn_has_flags_and_no_payload),
        cmocka_unit_test(parse_ipv4_payload_comes_from_total_length),
        cmocka_unit_test(parse_ipv4_options_in_tcp_header_are_not_payload),
        cmocka_unit_test(parse_rejects_tcp_data_offset_below_five),
        cmocka_unit_test(parse_rejects_truncated_ipv4_header),
        cmocka_unit_test(parse_udp_is_valid_but_not_tcp),
        cmocka_unit_test(parse_ipv6_walks_hop_by_hop_to_tcp),
        cmocka_unit_test(parse_ipv6_extension_longer_than_payload_is_rejected),
        cmocka_unit_test(decide_first_fin_from_client_acts_once),
        cmocka_unit_test(decide_other_direction_neither_matches_nor_counts),
        cmocka_unit_test(decide_port_rule_ignores_other_connections),
        cmocka_unit_test(decide_flags_mask_separates_syn_from_synack),
        cmocka_unit_test(decide_payload_filter_picks_data_segments),
        cmocka_unit_test(decide_window_first_two_count_two),
        cmocka_unit_test(decide_first_rule_in_window_wins_but_all_count),
        cmocka_unit_test(decide_non_tcp_matches_only_wildcard_rules),
        cmocka_unit_test(hold_is_released_by_its_rule_then_spent),
        cmocka_unit_test(relay_reorder_swaps_a_packet_with_the_next),
        cmocka_unit_test(relay_delay_lets_later_packets_overtake),
        cmocka_unit_test(relay_hold_waits_for_the_other_sides_fin),
        cmocka_unit_test(relay_drop_reports_the_lost_packet),
        cmocka_unit_test(wire_new_rejects_hold_without_a_releasing_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
