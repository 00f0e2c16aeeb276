/* gen.c -- deterministic generator of realistic classic pcap files for `make bench`.
 *
 * Many interleaved TCP connections over IPv4 and IPv6, as seen from a capture
 * point next to the servers: handshake (RFC 9293 3.5), simultaneous open,
 * pick-up mid-stream, refused (SYN answered by RST, 3.10.7.1), unanswered SYN
 * with exponential backoff (RFC 6298 5.5), request/response data with delayed
 * ACKs (RFC 1122 4.2.3.2), a little loss (fast retransmit, RFC 5681 3.2, or
 * RTO) and a little reordering, then every ending: FIN in 4 and in 3
 * segments, simultaneous close, half-close (shutdown(SHUT_WR)), RST abort
 * by either side. IP and TCP lengths, checksums (RFC 1071) and sequence and
 * acknowledgment numbers are consistent; timestamps increase.
 *
 *   gen -o FILE [-n PACKETS] [-c CONNS] [-k CONCURRENT] [-s SEED] [-H]
 *       [-6 PERCENT] [-t THINK_MS] [-S PERMILLE] [-e SUMMARY]
 *
 * -H writes headers only (snap length 96: caplen cut, len and IP lengths
 * true). -S sets the share of simultaneous opens (default 10 per mille;
 * Zeek, and tcplens with it, record the crossing SYN as a new connection). The file has exactly PACKETS packets and CONNS connections, never
 * more than CONCURRENT at once. -e writes what tcplens should find (opening
 * and closing kinds per connection, event counts) as "key value" lines.
 * The same arguments always give the same bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAP_HEADERS 96
#define EPOCH 1700000000u
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define CLI 0
#define SRV 1
#define MS 1000ull
#define SEC 1000000ull

/* ---- PRNG: xoshiro256** seeded through splitmix64 ------------------------ */

typedef struct rng { uint64_t s[4]; } rng;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

static uint64_t next64(rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return out;
}

static void seed_rng(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

/* Uniform in [lo, hi]. */
static uint64_t rnd(rng *r, uint64_t lo, uint64_t hi)
{
    return lo + next64(r) % (hi - lo + 1);
}

static bool chance(rng *r, unsigned permille) { return next64(r) % 1000 < permille; }

static double unit(rng *r) { return ((next64(r) >> 11) + 1) * (1.0 / 9007199254740993.0); }

/* Exponentially distributed with the given mean. */
static uint64_t expo(rng *r, double mean) { return (uint64_t)(-log(unit(r)) * mean); }

/* ---- connection kinds ----------------------------------------------------- */

enum kind {
    K_CLOSE4_C, K_CLOSE4_S, K_CLOSE3_C, K_CLOSE3_S, K_SIMCLOSE, K_HALFCLOSE,
    K_RST_C, K_RST_S, K_REFUSED, K_UNANSWERED, K_SIMOPEN, K_NKINDS
};

/* Shares in per mille; tcplens's names for how each one ends and by whom. */
static struct {
    unsigned permille;
    const char *closed, *by;
} kinds[K_NKINDS] = {
    [K_CLOSE4_C] = {280, "close_4way", "client"},
    [K_CLOSE4_S] = {150, "close_4way", "server"},
    [K_CLOSE3_C] = {160, "close_3way", "client"},
    [K_CLOSE3_S] = {140, "close_3way", "server"},
    [K_SIMCLOSE] = {20, "simultaneous_close", "-"},
    [K_HALFCLOSE] = {50, "close_4way", "client"},
    [K_RST_C] = {50, "rst_abort", "client"},
    [K_RST_S] = {30, "rst_abort", "server"},
    [K_REFUSED] = {60, "refused", "server"},
    [K_UNANSWERED] = {50, "syn_unanswered", "-"},
    [K_SIMOPEN] = {10, "close_4way", "client"},
};

#define P_MIDSTREAM 0x10   /* plan flag: the handshake was before the capture */
#define P_NRETX 0x0f       /* plan: SYN retransmissions of an unanswered SYN */

static bool has_data(int k) { return k != K_REFUSED && k != K_UNANSWERED; }

/* Packets a connection sends besides its data phase. */
static uint32_t overhead(int k, uint8_t plan)
{
    uint32_t open = (plan & P_MIDSTREAM) ? 0 : k == K_SIMOPEN ? 4 : 3;
    switch (k) {
    case K_REFUSED: return 2;
    case K_UNANSWERED: return 1 + (plan & P_NRETX);
    case K_CLOSE3_C: case K_CLOSE3_S: return open + 3;
    case K_HALFCLOSE: return open + 7;
    case K_RST_C: case K_RST_S: return open + 1;
    default: return open + 4;
    }
}

/* ---- generation state ----------------------------------------------------- */

typedef struct pkt {
    uint64_t t;          /* microseconds since the capture began */
    uint32_t ord;        /* generation order: breaks ties deterministically */
    uint32_t conn;
    uint32_t seq, ack;
    uint16_t len;
    uint8_t flags, dir;
} pkt;

typedef struct conn {
    uint32_t host;       /* client host number (low bits of its address) */
    uint16_t cport, sport;
    uint8_t v6, srv, tsopt;
    uint8_t ipid_hi;
    uint32_t isn[2], tsbase[2], last_tsval[2];
    uint16_t ipid[2], salt[2];
    uint16_t mss;        /* payload bytes per full segment */
} conn;

typedef struct gen {
    rng r;
    pkt *pkts;
    uint32_t npkts, cap;
    conn *conns;
    double think_us;
    /* per connection while it is generated */
    uint32_t cur, nxt[2];
    uint64_t rtt, proc;
    /* expected summary */
    uint64_t opened_hs, opened_simopen, opened_mid, opened_none;
    uint64_t closed[K_NKINDS], syn_retx, retx, ooo, half_close, v6conns;
    uint64_t end_t;
} gen;

static void emit(gen *g, uint64_t t, int dir, uint32_t seq, uint32_t ack, uint16_t len,
                 uint8_t flags)
{
    if (g->npkts == g->cap) {
        fprintf(stderr, "gen: packet budget overrun (bug)\n");
        exit(1);
    }
    pkt *p = &g->pkts[g->npkts];
    p->t = t;
    p->ord = g->npkts++;
    p->conn = g->cur;
    p->seq = seq;
    p->ack = ack;
    p->len = len;
    p->flags = flags;
    p->dir = (uint8_t)dir;
    if (t > g->end_t) g->end_t = t;
}

/* Delay, at the capture point next to the server, before a packet from DIR
 * that answers the other side: the server answers at once, the client's
 * answer comes a round trip later. */
static uint64_t answer(gen *g, int dir) { return dir == SRV ? g->proc : g->rtt; }

/* Send LEN bytes from DIR. */
static void data(gen *g, uint64_t t, int dir, uint16_t len, uint8_t flags)
{
    emit(g, t, dir, g->nxt[dir], g->nxt[dir ^ 1], len, flags | F_ACK);
    g->nxt[dir] += len;
}

static void ack_only(gen *g, uint64_t t, int dir)
{
    emit(g, t, dir, g->nxt[dir], g->nxt[dir ^ 1], 0, F_ACK);
}

/* The server's answer: bursts of segments growing like slow start, the client
 * acknowledging every second one. With LOSS, one segment is lost after the
 * capture point: the client's ACKs stop at it (duplicates) and the server
 * resends it (fast retransmit after three duplicates, else after the RTO).
 * Uses exactly `*budget` packets or fewer; returns the time of the last one. */
static uint64_t response(gen *g, uint64_t t, uint32_t *budget)
{
    conn *c = &g->conns[g->cur];
    uint32_t r;
    unsigned u = (unsigned)rnd(&g->r, 0, 99);
    r = u < 55 ? (uint32_t)rnd(&g->r, 1, 2) : u < 90 ? (uint32_t)rnd(&g->r, 3, 10)
                                                     : (uint32_t)rnd(&g->r, 11, 80);
    while (r > 1 && r + (r + 1) / 2 > *budget) r--;
    uint32_t acks = (r + 1) / 2;
    if (r + acks > *budget) acks = *budget - r;   /* budget 1: no ACK */
    bool loss = r >= 4 && chance(&g->r, 60) && r + acks + 2 <= *budget;
    *budget -= r + acks + (loss ? 2 : 0);

    uint32_t cwnd = 10, sent = 0, acked = 0, lost_seq = 0, lost_len = 0;
    uint64_t last = t, lost_t = 0, dup_t = 0;
    unsigned dups = 0;
    int lost_at = loss ? (int)rnd(&g->r, 0, r - 2) : -1;
    t += g->proc;
    while (sent < r) {
        uint32_t burst = r - sent < cwnd ? r - sent : cwnd;
        uint64_t ts = t, ack_t = t;
        for (uint32_t i = 0; i < burst; i++, sent++) {
            bool lastseg = sent + 1 == r;
            uint16_t len = lastseg ? (uint16_t)rnd(&g->r, 60, c->mss) : c->mss;
            if ((int)sent == lost_at) {
                lost_seq = g->nxt[SRV];
                lost_len = len;
                lost_t = ts;
            }
            data(g, ts, SRV, len, lastseg ? F_PSH : 0);
            last = ts;
            /* Delayed ACK: every second segment, and the last one. */
            if (acked < acks && ((sent & 1) || lastseg)) {
                ack_t = ts + g->rtt + (lastseg && !(sent & 1) ? rnd(&g->r, 0, 200) : 0);
                uint32_t a = lost_len ? lost_seq : g->nxt[SRV];
                if (lost_len && ++dups == 3) dup_t = ack_t;
                emit(g, ack_t, CLI, g->nxt[CLI], a, 0, F_ACK);
                acked++;
                if (ack_t > last) last = ack_t;
            }
            ts += rnd(&g->r, 4, 30);
        }
        t = (ack_t > ts ? ack_t : ts) + g->proc;
        cwnd *= 2;
    }
    if (loss) {
        /* Fast retransmit on the third duplicate ACK, else the RTO (>= 200 ms). */
        uint64_t rt = dups >= 3 ? dup_t + g->proc : lost_t + 200 * MS + g->rtt;
        if (rt <= last) rt = last + 1;
        emit(g, rt, SRV, lost_seq, g->nxt[CLI], (uint16_t)lost_len, F_ACK);
        emit(g, rt + g->rtt, CLI, g->nxt[CLI], g->nxt[SRV], 0, F_ACK);
        last = rt + g->rtt;
        g->retx++;
    }
    return last;
}

/* Requests and answers until BUDGET packets are used; returns the last time. */
static uint64_t data_phase(gen *g, uint64_t t, uint32_t budget)
{
    bool first = true;
    while (budget > 0) {
        t += first ? rnd(&g->r, 10, 300) : expo(&g->r, g->think_us) + 1;
        first = false;
        /* The request: one segment, sometimes two, rarely arriving swapped. */
        if (budget >= 2 && chance(&g->r, 100)) {
            uint16_t l1 = g->conns[g->cur].mss, l2 = (uint16_t)rnd(&g->r, 20, 700);
            uint32_t s1 = g->nxt[CLI];
            if (chance(&g->r, 250)) {
                emit(g, t, CLI, s1 + l1, g->nxt[SRV], l2, F_ACK | F_PSH);
                t += rnd(&g->r, 5, 80);
                emit(g, t, CLI, s1, g->nxt[SRV], l1, F_ACK);
                g->ooo++;
            } else {
                emit(g, t, CLI, s1, g->nxt[SRV], l1, F_ACK);
                t += rnd(&g->r, 5, 30);
                emit(g, t, CLI, s1 + l1, g->nxt[SRV], l2, F_ACK | F_PSH);
            }
            g->nxt[CLI] += (uint32_t)l1 + l2;
            budget -= 2;
        } else {
            data(g, t, CLI, (uint16_t)rnd(&g->r, 20, 700), F_PSH);
            budget--;
        }
        if (budget == 0) break;
        t = response(g, t, &budget);
    }
    return t;
}

/* FIN from A; the passive side's ACK and FIN in one segment when THREE. */
static uint64_t close_fin(gen *g, uint64_t t, int a, bool three)
{
    int p = a ^ 1;
    emit(g, t, a, g->nxt[a], g->nxt[p], 0, F_FIN | F_ACK);
    g->nxt[a]++;
    t += answer(g, p);
    if (!three) {
        ack_only(g, t, p);
        t += rnd(&g->r, 20, 3000);   /* the application's close() comes later */
    }
    emit(g, t, p, g->nxt[p], g->nxt[a], 0, F_FIN | F_ACK);
    g->nxt[p]++;
    t += answer(g, a);
    ack_only(g, t, a);
    return t;
}

/* Both FINs cross: the client's FIN does not acknowledge the server's. */
static uint64_t close_simultaneous(gen *g, uint64_t t)
{
    uint32_t s = g->nxt[SRV], c = g->nxt[CLI];
    emit(g, t, SRV, s, c, 0, F_FIN | F_ACK);
    uint64_t tc = t + rnd(&g->r, 1, g->rtt / 2 + 1);
    emit(g, tc, CLI, c, s, 0, F_FIN | F_ACK);
    emit(g, tc + g->proc, SRV, s + 1, c + 1, 0, F_ACK);
    uint64_t ta = t + g->rtt;
    if (ta <= tc + g->proc) ta = tc + g->proc + 1;
    emit(g, ta, CLI, c + 1, s + 1, 0, F_ACK);
    g->nxt[SRV]++;
    g->nxt[CLI]++;
    return ta;
}

/* shutdown(SHUT_WR) by the client; the server still sends two segments,
 * which the client acknowledges, then closes. */
static uint64_t close_half(gen *g, uint64_t t)
{
    uint16_t mss = g->conns[g->cur].mss;
    emit(g, t, CLI, g->nxt[CLI], g->nxt[SRV], 0, F_FIN | F_ACK);
    g->nxt[CLI]++;
    t += g->proc;
    ack_only(g, t, SRV);
    t += rnd(&g->r, 50, 5000);
    data(g, t, SRV, mss, 0);
    t += rnd(&g->r, 4, 30);
    data(g, t, SRV, (uint16_t)rnd(&g->r, 1, mss), F_PSH);
    ack_only(g, t + g->rtt, CLI);
    t += rnd(&g->r, 20, 500);
    emit(g, t, SRV, g->nxt[SRV], g->nxt[CLI], 0, F_FIN | F_ACK);
    g->nxt[SRV]++;
    t += g->rtt + 1;
    ack_only(g, t, CLI);
    g->half_close++;
    return t;
}

/* One connection from START with DATA packets of data phase; returns its end. */
static uint64_t connection(gen *g, uint32_t i, int k, uint8_t plan, uint64_t t, uint32_t dp)
{
    conn *c = &g->conns[i];
    g->cur = i;
    double lo = log(200.0), hi = log(40000.0);
    g->rtt = (uint64_t)exp(lo + unit(&g->r) * (hi - lo));
    g->proc = rnd(&g->r, 8, 60);
    g->nxt[CLI] = c->isn[CLI] + 1;
    g->nxt[SRV] = c->isn[SRV] + 1;
    g->closed[k]++;

    if (k == K_REFUSED || k == K_UNANSWERED) {
        g->opened_none++;
        emit(g, t, CLI, c->isn[CLI], 0, 0, F_SYN);
        if (k == K_REFUSED) {
            t += g->proc;
            emit(g, t, SRV, 0, c->isn[CLI] + 1, 0, F_RST | F_ACK);
            return t;
        }
        uint64_t rto = SEC;   /* RFC 6298: 1 s, doubled each time */
        for (unsigned n = 0; n < (plan & P_NRETX); n++, rto *= 2) {
            t += rto;
            emit(g, t, CLI, c->isn[CLI], 0, 0, F_SYN);
            g->syn_retx++;
        }
        return t;
    }
    if (plan & P_MIDSTREAM) {
        g->opened_mid++;
        g->nxt[CLI] += (uint32_t)rnd(&g->r, 0, 1u << 20);
        g->nxt[SRV] += (uint32_t)rnd(&g->r, 0, 1u << 24);
    } else if (k == K_SIMOPEN) {
        g->opened_simopen++;
        emit(g, t, CLI, c->isn[CLI], 0, 0, F_SYN);
        t += rnd(&g->r, 2, 10);
        emit(g, t, SRV, c->isn[SRV], 0, 0, F_SYN);
        t += g->proc;
        emit(g, t, SRV, c->isn[SRV], c->isn[CLI] + 1, 0, F_SYN | F_ACK);
        t += g->rtt;
        emit(g, t, CLI, c->isn[CLI], c->isn[SRV] + 1, 0, F_SYN | F_ACK);
    } else {
        g->opened_hs++;
        emit(g, t, CLI, c->isn[CLI], 0, 0, F_SYN);
        t += g->proc;
        emit(g, t, SRV, c->isn[SRV], c->isn[CLI] + 1, 0, F_SYN | F_ACK);
        t += g->rtt;
        ack_only(g, t, CLI);
    }
    t = data_phase(g, t, dp);
    t += expo(&g->r, g->think_us / 2) + 1;
    switch (k) {
    case K_CLOSE4_C: case K_SIMOPEN: return close_fin(g, t, CLI, false);
    case K_CLOSE4_S: return close_fin(g, t, SRV, false);
    case K_CLOSE3_C: return close_fin(g, t, CLI, true);
    case K_CLOSE3_S: return close_fin(g, t, SRV, true);
    case K_SIMCLOSE: return close_simultaneous(g, t);
    case K_HALFCLOSE: return close_half(g, t);
    case K_RST_C: ack_only(g, t, CLI); g->pkts[g->npkts - 1].flags |= F_RST; return t;
    default: ack_only(g, t, SRV); g->pkts[g->npkts - 1].flags |= F_RST; return t;
    }
}

/* ---- slots: at most K connections at once ---------------------------------- */

/* Min-heap of the times at which the K slots become free. */
static void heap_down(uint64_t *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < n && h[l] < h[m]) m = l;
        if (l + 1 < n && h[l + 1] < h[m]) m = l + 1;
        if (m == i) return;
        uint64_t x = h[i]; h[i] = h[m]; h[m] = x;
        i = m;
    }
}

static void heap_up(uint64_t *h, uint32_t i)
{
    while (i > 0 && h[(i - 1) / 2] > h[i]) {
        uint64_t x = h[i]; h[i] = h[(i - 1) / 2]; h[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
}

/* ---- writing -------------------------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (; n > 1; p += 2, n -= 2) s += (uint32_t)p[0] << 8 | p[1];
    if (n) s += (uint32_t)p[0] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint8_t pattern[65536 + 2048];

/* Clients come from all over the address space, as on a server facing the
 * Internet (tools that hash on the first octets must not all collide):
 * first octet 11..110, the other 24 bits a bijection of the host number. */
static void addr_of(const conn *c, int dir, uint8_t *a)
{
    bool cli = dir == CLI;
    uint32_t low = (c->host * 0x9e3779u) & 0xffffffu;
    if (c->v6) {
        static const uint8_t pre[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0};
        memcpy(a, pre, 8);
        memset(a + 8, 0, 8);
        if (cli) {
            put16(a + 4, 1 + c->host % 1000);
            put32(a + 8, c->host * 2654435761u);
            put32(a + 12, low);
        } else {
            a[15] = (uint8_t)(0x10 + c->srv);
        }
    } else {
        put32(a, cli ? (11u + c->host * 7u % 100u) << 24 | low : 0x0a00000au + c->srv);
    }
}

/* Build the frame of P into BUF; returns its length on the wire. */
static size_t frame(gen *g, const pkt *p, uint8_t *buf)
{
    conn *c = &g->conns[p->conn];
    int d = p->dir;
    uint8_t *eth = buf, src[16], dst[16];
    static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    memcpy(eth, mac[d ^ 1], 6);
    memcpy(eth + 6, mac[d], 6);
    put16(eth + 12, c->v6 ? 0x86dd : 0x0800);
    addr_of(c, d, src);
    addr_of(c, d ^ 1, dst);
    size_t iph = c->v6 ? 40 : 20, alen = c->v6 ? 16 : 4;
    uint8_t *ip = buf + 14, *tcp = ip + iph, *o = tcp + 20;

    /* Options in Linux's order. */
    bool syn = p->flags & F_SYN, rst = p->flags & F_RST;
    uint32_t tsval = c->tsbase[d] + (uint32_t)(p->t / MS);
    size_t optlen = 0;
    if (syn) {
        o[0] = 2; o[1] = 4; put16(o + 2, c->v6 ? 1440 : 1460); optlen = 4;
        if (c->tsopt) {
            memcpy(o + 4, "\x04\x02\x08\x0a", 4);
            put32(o + 8, tsval);
            put32(o + 12, c->last_tsval[d ^ 1]);
            memcpy(o + 16, "\x01\x03\x03\x07", 4);
            optlen = 20;
        } else {
            memcpy(o + 4, "\x01\x03\x03\x07\x01\x01\x04\x02", 8);
            optlen = 12;
        }
    } else if (c->tsopt && !rst) {
        memcpy(o, "\x01\x01\x08\x0a", 4);
        put32(o + 4, tsval);
        put32(o + 8, c->last_tsval[d ^ 1]);
        optlen = 12;
    }
    if (c->tsopt && !rst) c->last_tsval[d] = tsval;
    size_t th = 20 + optlen, tcplen = th + p->len;
    uint8_t *pay = tcp + th;
    if (p->len) {
        uint32_t off = (p->seq - c->isn[d] - 1 + c->salt[d]) & 0xffff;
        memcpy(pay, pattern + off, p->len);
    }

    put16(tcp, d == CLI ? c->cport : c->sport);
    put16(tcp + 2, d == CLI ? c->sport : c->cport);
    put32(tcp + 4, p->seq);
    put32(tcp + 8, p->ack);
    tcp[12] = (uint8_t)(th / 4) << 4;
    tcp[13] = p->flags;
    uint32_t win = rst ? 0 : syn ? (d == CLI ? 64240 : 65160) : (d == CLI ? 502 : 509);
    put16(tcp + 14, win);
    put16(tcp + 16, 0);
    put16(tcp + 18, 0);

    c->ipid[d]++;
    if (c->v6) {
        put32(ip, 0x60000000u | (((uint32_t)c->host * 2654435761u + (uint32_t)d) & 0xfffff));
        put16(ip + 4, (uint32_t)tcplen);
        ip[6] = 6;
        ip[7] = d == CLI ? 52 : 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
    } else {
        ip[0] = 0x45; ip[1] = 0;
        put16(ip + 2, (uint32_t)(20 + tcplen));
        put16(ip + 4, (uint32_t)c->ipid_hi << 8 ^ c->ipid[d]);
        put16(ip + 6, 0x4000);
        ip[8] = d == CLI ? 52 : 64;
        ip[9] = 6;
        put16(ip + 10, 0);
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
    }
    /* RFC 793/8200 pseudo-header: addresses, protocol, TCP length. */
    uint32_t s = sum16(src, alen, 0);
    s = sum16(dst, alen, s);
    s += 6 + (uint32_t)tcplen;
    put16(tcp + 16, fold(sum16(tcp, tcplen, s)));
    return 14 + iph + tcplen;
}

static int cmp_pkt(const void *a, const void *b)
{
    const pkt *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: gen -o FILE [-n PACKETS] [-c CONNS] [-k CONCURRENT] [-s SEED] [-H]\n"
                    "           [-6 PERCENT] [-t THINK_MS] [-S PERMILLE] [-e SUMMARY]\n");
    exit(2);
}

static uint64_t num(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) usage();
    if (*end == 'k' || *end == 'K') v *= 1000, end++;
    else if (*end == 'M') v *= 1000000, end++;
    if (*end) usage();
    return v;
}

int main(int argc, char **argv)
{
    uint64_t npk = 100000, nconn = 2000, conc = 200, seed = 1, v6pct = 20, think_ms = 1000;
    uint64_t simopen = kinds[K_SIMOPEN].permille;
    bool headers = false;
    const char *out = NULL, *sumfile = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "o:n:c:k:s:H6:t:e:S:")) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'n': npk = num(optarg); break;
        case 'c': nconn = num(optarg); break;
        case 'k': conc = num(optarg); break;
        case 's': seed = num(optarg); break;
        case 'H': headers = true; break;
        case '6': v6pct = num(optarg); break;
        case 't': think_ms = num(optarg); break;
        case 'e': sumfile = optarg; break;
        case 'S': simopen = num(optarg); break;
        default: usage();
        }
    }
    if (!out || optind != argc || !nconn || !conc || v6pct > 100 || nconn > (1u << 22) ||
        npk > UINT32_MAX || simopen > kinds[K_SIMOPEN].permille + kinds[K_CLOSE4_C].permille)
        usage();
    if (conc > nconn) conc = nconn;

    gen g;
    memset(&g, 0, sizeof g);
    seed_rng(&g.r, seed);
    g.think_us = (double)think_ms * 1000.0;
    /* Payload byte at stream offset o is pattern[o + salt mod 64 Ki]: the
     * tail repeats the head so one memcpy serves segments across the wrap. */
    for (size_t i = 0; i < 65536; i++) pattern[i] = (uint8_t)(' ' + next64(&g.r) % 95);
    memcpy(pattern + 65536, pattern, sizeof pattern - 65536);
    if (simopen <= kinds[K_SIMOPEN].permille + kinds[K_CLOSE4_C].permille) {
        kinds[K_CLOSE4_C].permille += kinds[K_SIMOPEN].permille - (unsigned)simopen;
        kinds[K_SIMOPEN].permille = (unsigned)simopen;
    }

    /* Plan: the kind of every connection, then the data budget per connection
     * so that the file holds exactly NPK packets. */
    uint8_t *kind = malloc(nconn), *plan = malloc(nconn);
    g.conns = calloc(nconn, sizeof *g.conns);
    if (!kind || !plan || !g.conns) { perror("gen"); return 1; }
    uint64_t fixed = 0, ndata = 0;
    for (uint32_t i = 0; i < nconn; i++) {
        unsigned u = (unsigned)rnd(&g.r, 0, 999), k = 0;
        while (u >= kinds[k].permille) u -= kinds[k++].permille;
        kind[i] = (uint8_t)k;
        /* connect() given up after 1 or 2 retransmissions (1 s, 3 s): a 5 s
         * connect timeout, as clients set (curl --connect-timeout 5). */
        plan[i] = k == K_UNANSWERED ? (uint8_t)rnd(&g.r, 1, 2) : 0;
        /* The first connections were already running when the capture began. */
        if (i < conc && has_data((int)k) && k != K_SIMOPEN && chance(&g.r, 100))
            plan[i] |= P_MIDSTREAM;
        fixed += overhead((int)k, plan[i]);
        ndata += has_data((int)k);

        conn *c = &g.conns[i];
        uint32_t h = (uint32_t)(i * 0x2f5a3bu) & ((1u << 22) - 1);
        h ^= h >> 11;   /* bijective on 22 bits: each (host, port range) once */
        c->host = (h >> 5) + 1;
        c->cport = (uint16_t)(32768 + (h & 31) * 800 + rnd(&g.r, 0, 799));
        c->v6 = chance(&g.r, (unsigned)v6pct * 10);
        c->srv = (uint8_t)rnd(&g.r, 0, 3);
        static const uint16_t ports[] = {443, 443, 80, 8080, 5432, 443};
        c->sport = k == K_REFUSED ? 81 : ports[rnd(&g.r, 0, 5)];
        c->tsopt = chance(&g.r, 850);
        c->mss = (uint16_t)((c->v6 ? 1440 : 1460) - (c->tsopt ? 12 : 0));
        c->isn[0] = (uint32_t)next64(&g.r);
        c->isn[1] = (uint32_t)next64(&g.r);
        c->tsbase[0] = (uint32_t)next64(&g.r);
        c->tsbase[1] = (uint32_t)next64(&g.r);
        c->salt[0] = (uint16_t)next64(&g.r);
        c->salt[1] = (uint16_t)next64(&g.r);
        c->ipid_hi = (uint8_t)next64(&g.r);
        g.v6conns += c->v6;
    }
    if (fixed > npk || (!ndata && fixed != npk)) {
        fprintf(stderr, "gen: %llu connections need at least %llu packets\n",
                (unsigned long long)nconn, (unsigned long long)fixed);
        return 2;
    }
    g.cap = (uint32_t)npk;
    g.pkts = malloc(g.cap * sizeof *g.pkts);
    uint64_t *slots = malloc(conc * sizeof *slots);
    if (!g.pkts || !slots) { perror("gen"); return 1; }

    uint64_t budget = npk - fixed, left = ndata;
    for (uint32_t i = 0; i < nconn; i++) {
        uint32_t dp = 0;
        if (has_data(kind[i])) {
            /* Exponential sizes around what is left per connection; the last
             * one takes the rest, so the total is exact. */
            if (--left == 0) dp = (uint32_t)budget;
            else {
                uint64_t want = expo(&g.r, (double)budget / (double)(left + 1));
                dp = (uint32_t)(want < budget ? want : budget);
            }
            budget -= dp;
        }
        uint64_t start;
        if (i < conc) {
            start = (plan[i] & P_MIDSTREAM) ? rnd(&g.r, 0, 20 * MS)
                                             : rnd(&g.r, 0, (uint64_t)(2 * g.think_us));
        } else {
            start = slots[0] + rnd(&g.r, 20, 5000);
        }
        uint64_t end = connection(&g, i, kind[i], plan[i], start, dp);
        if (i < conc) {
            slots[i] = end;
            heap_up(slots, i);
        } else {
            slots[0] = end;
            heap_down(slots, (uint32_t)conc, 0);
        }
    }
    if (g.npkts != npk || budget) {
        fprintf(stderr, "gen: made %u packets, meant %llu (bug)\n", g.npkts,
                (unsigned long long)npk);
        return 1;
    }
    qsort(g.pkts, g.npkts, sizeof *g.pkts, cmp_pkt);

    /* Write to FILE.tmp, renamed at the end: a file that exists is whole. */
    size_t olen = strlen(out) + 5;
    char *tmp = malloc(olen);
    snprintf(tmp, olen, "%s.tmp", out);
    FILE *f = fopen(tmp, "wb");
    if (!f) { perror(tmp); return 1; }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    uint8_t hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
    uint32_t snap = headers ? SNAP_HEADERS : 65535;
    le32(hdr + 16, snap);
    le32(hdr + 20, 1);   /* LINKTYPE_ETHERNET */
    fwrite(hdr, 1, sizeof hdr, f);
    uint8_t buf[16 + 14 + 40 + 60 + 1500];
    uint64_t bytes = 24;
    for (uint32_t i = 0; i < g.npkts; i++) {
        const pkt *p = &g.pkts[i];
        size_t wire = frame(&g, p, buf + 16);
        size_t cap = wire < snap ? wire : snap;
        le32(buf, EPOCH + (uint32_t)(p->t / SEC));
        le32(buf + 4, (uint32_t)(p->t % SEC));
        le32(buf + 8, (uint32_t)cap);
        le32(buf + 12, (uint32_t)wire);
        fwrite(buf, 1, 16 + cap, f);
        bytes += 16 + cap;
    }
    if (fclose(f) != 0 || rename(tmp, out) != 0) { perror(out); return 1; }

    FILE *s = sumfile ? fopen(sumfile, "w") : NULL;
    if (sumfile && !s) { perror(sumfile); return 1; }
    if (s) {
        fprintf(s, "packets %u\nconns %llu\nconcurrent %llu\nipv6_conns %llu\nbytes %llu\n"
                   "duration_s %.3f\n",
                g.npkts, (unsigned long long)nconn, (unsigned long long)conc,
                (unsigned long long)g.v6conns, (unsigned long long)bytes, g.end_t / 1e6);
        fprintf(s, "opened handshake %llu\nopened simultaneous_open %llu\nopened midstream %llu\n"
                   "opened none %llu\n",
                (unsigned long long)g.opened_hs, (unsigned long long)g.opened_simopen,
                (unsigned long long)g.opened_mid, (unsigned long long)g.opened_none);
        /* Kinds sharing a name (half-close and simultaneous open end in 4 segments). */
        for (int k = 0; k < K_NKINDS; k++) {
            uint64_t n = 0;
            bool dup = false;
            for (int j = 0; j < K_NKINDS; j++) {
                if (strcmp(kinds[j].closed, kinds[k].closed) || strcmp(kinds[j].by, kinds[k].by))
                    continue;
                if (j < k) dup = true;
                n += g.closed[j];
            }
            if (!dup) fprintf(s, "closed %s %s %llu\n", kinds[k].closed, kinds[k].by,
                              (unsigned long long)n);
        }
        /* Resent segments of any kind (fast, after the RTO, a SYN), as
         * Wireshark's retransmission flags count them together. */
        fprintf(s, "event half_close %llu\nevent syn_retransmit %llu\nevent retransmission_any %llu\n"
                   "event out_of_order %llu\nevent simultaneous_close %llu\n",
                (unsigned long long)g.half_close, (unsigned long long)g.syn_retx,
                (unsigned long long)(g.retx + g.syn_retx), (unsigned long long)g.ooo,
                (unsigned long long)g.closed[K_SIMCLOSE]);
        fclose(s);
    }
    fprintf(stderr, "gen: %s: %u packets, %llu connections (%llu IPv6), <= %llu at once, "
                    "%.1f s, %.1f MB\n",
            out, g.npkts, (unsigned long long)nconn, (unsigned long long)g.v6conns,
            (unsigned long long)conc, g.end_t / 1e6, bytes / 1e6);
    free(tmp);
    free(slots);
    free(g.pkts);
    free(g.conns);
    free(kind);
    free(plan);
    return 0;
}
