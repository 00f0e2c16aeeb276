/* wire.c -- the lab's userspace wire: relays IP packets between the client's
 * and the server's link, timestamps them and applies drop/delay/hold/reorder
 * rules (SPEC.md section 4.1). The rule logic (tl_wire_parse, tl_wire_decide)
 * is pure so that tests/unit/test_wire_rules.c checks it without namespaces.
 * Header layouts: RFC 791 (IPv4), RFC 8200 (IPv6), RFC 9293 section 3.1 (TCP).
 */
#include "lab/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tcplens/packet.h"
#include "util/cursor.h"

#define WIRE_BUF 65536
#define WIRE_MAX_PENDING 256
#define WIRE_DEFAULT_HOLD_MS 3000

/* ---- pure part: parsing and rule decisions ---------------------------- */

/* IPv6 extension headers we walk to reach TCP (RFC 8200 section 4). */
static bool ipv6_is_ext(uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 60 || nh == 51;
}

bool tl_wire_parse(const uint8_t *pkt, size_t len, tl_wire_pkt_info *info)
{
    memset(info, 0, sizeof *info);
    tl_cursor c = tl_cursor_make(pkt, len);
    uint8_t vihl = tl_rd_u8(&c);
    uint32_t l4_len;   /* bytes from the TCP header to the end of the IP payload */
    if (c.truncated) return false;
    if (vihl >> 4 == 4) {
        size_t ihl = (size_t)(vihl & 0x0f) * 4;
        tl_cur_skip(&c, 1);
        uint32_t tot = tl_rd_u16be(&c);
        tl_cur_skip(&c, 2);
        uint16_t frag = tl_rd_u16be(&c);
        tl_cur_skip(&c, 1);
        uint8_t proto = tl_rd_u8(&c);
        if (c.truncated || ihl < 20 || tot < ihl || !tl_cur_skip(&c, ihl - 10)) return false;
        if (proto != 6 || (frag & 0x1fff) != 0) return true;   /* not TCP, or a later fragment */
        l4_len = tot - (uint32_t)ihl;
    } else if (vihl >> 4 == 6) {
        tl_cur_skip(&c, 3);
        uint32_t left = tl_rd_u16be(&c);
        uint8_t nh = tl_rd_u8(&c);
        if (!tl_cur_skip(&c, 33)) return false;
        while (ipv6_is_ext(nh)) {
            tl_cursor e = c;
            uint8_t next = tl_rd_u8(&e);
            uint8_t hl = tl_rd_u8(&e);
            size_t elen = nh == 51 ? ((size_t)hl + 2) * 4 : ((size_t)hl + 1) * 8;
            if (e.truncated || elen > left || !tl_cur_skip(&c, elen)) return false;
            nh = next;
            left -= (uint32_t)elen;   /* elen >= 8: every pass advances */
        }
        if (nh != 6) return true;
        l4_len = left;
    } else {
        return false;
    }
    uint16_t sport = tl_rd_u16be(&c), dport = tl_rd_u16be(&c);
    tl_cur_skip(&c, 8);
    uint8_t off = tl_rd_u8(&c);
    uint8_t flags = tl_rd_u8(&c);
    uint32_t thlen = (uint32_t)(off >> 4) * 4;
    if (c.truncated || thlen < 20 || thlen > l4_len) return false;
    info->is_tcp = true;
    info->flags = flags;
    info->payload_len = l4_len - thlen;
    info->sport = sport;
    info->dport = dport;
    return true;
}

static bool rule_matches(const tl_wire_rule *r, tl_wire_dir dir, const tl_wire_pkt_info *info)
{
    if (r->dir != TL_WIRE_ANY && r->dir != dir) return false;
    if (!info->is_tcp) return r->flags_mask == 0 && r->payload < 0 && !r->port;
    if ((info->flags & r->flags_mask) != (r->flags_value & r->flags_mask)) return false;
    if (r->payload == 0 && info->payload_len != 0) return false;
    if (r->payload > 0 && info->payload_len == 0) return false;
    if (r->port && info->sport != r->port && info->dport != r->port) return false;
    return true;
}

tl_wire_decision tl_wire_decide(const tl_wire_rule *rules, size_t nrules,
                                tl_wire_rule_state *st, tl_wire_dir dir,
                                const tl_wire_pkt_info *info)
{
    tl_wire_decision d = { .action = TL_WIRE_PASS, .rule = -1 };
    if (nrules > TL_WIRE_MAX_RULES) nrules = TL_WIRE_MAX_RULES;
    for (size_t i = 0; i < nrules; i++) {
        const tl_wire_rule *r = &rules[i];
        if (!rule_matches(r, dir, info)) continue;
        uint32_t k = ++st->matched[i];   /* every match counts, decided or not */
        uint32_t first = r->first ? r->first : 1;
        if (k < first) continue;
        if (r->count && k - first >= r->count) continue;
        d.hit_mask |= 1u << i;
        if (r->action == TL_WIRE_HOLD && (st->spent >> i & 1u)) continue;
        if (d.rule < 0) {
            d.rule = (int)i;
            d.action = r->action;
            d.delay_ms = r->delay_ms;
        }
    }
    return d;
}

uint32_t tl_wire_passed(const tl_wire_rule *rules, size_t nrules, tl_wire_rule_state *st,
                        uint32_t hit_mask)
{
    uint32_t release = 0;
    if (nrules > TL_WIRE_MAX_RULES) nrules = TL_WIRE_MAX_RULES;
    for (size_t i = 0; i < nrules; i++) {
        int on = rules[i].release_on;
        if (rules[i].action != TL_WIRE_HOLD || on < 0 || on >= TL_WIRE_MAX_RULES) continue;
        if (hit_mask >> on & 1u) {
            release |= 1u << i;
            st->spent |= 1u << i;
        }
    }
    return release;
}

/* ---- the relay --------------------------------------------------------- */

typedef struct pending {
    uint8_t *buf;
    size_t len;
    uint64_t n;
    tl_wire_dir dir;
    tl_time ts_in;
    int64_t due_ns;      /* forward at this CLOCK_MONOTONIC time */
    tl_wire_action action;
    int rule;
    uint32_t hit_mask;
} pending;

struct tl_wire {
    tl_wire_port port[2];   /* indexed by the side the packet comes FROM */
    tl_wire_rule rules[TL_WIRE_MAX_RULES];
    size_t nrules;
    tl_wire_rule_state rst;
    tl_wire_cb cb;
    void *ud;
    int stop_fd;
    pthread_t thread;
    bool running;
    uint64_t n;
    pending q[WIRE_MAX_PENDING];
    size_t nq;
    pthread_mutex_t lock;   /* guards stats */
    tl_wire_stats stats;
    uint8_t rbuf[WIRE_BUF];
};

static tl_time now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tl_time){ .sec = ts.tv_sec, .nsec = (uint32_t)ts.tv_nsec };
}

static int64_t now_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stat_add(tl_wire *w, uint64_t *field)
{
    pthread_mutex_lock(&w->lock);
    (*field)++;
    pthread_mutex_unlock(&w->lock);
}

/* Sends an IP packet out of the port facing the receiver. */
static int port_send(const tl_wire_port *p, const uint8_t *buf, size_t len)
{
    ssize_t r;
    if (p->kind == TL_WIRE_LINK_TUN) {
        r = write(p->fd, buf, len);
    } else {
        struct sockaddr_ll sll;
        memset(&sll, 0, sizeof sll);
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons((buf[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP);
        sll.sll_ifindex = p->ifindex;
        sll.sll_halen = 6;
        memcpy(sll.sll_addr, p->dst_mac, 6);
        r = sendto(p->fd, buf, len, 0, (struct sockaddr *)&sll, sizeof sll);
    }
    return r == (ssize_t)len ? 0 : -1;
}

/* Reads one packet; 1 = got one, 0 = nothing more now, -1 = error. */
static int port_recv(const tl_wire_port *p, uint8_t *buf, size_t cap, size_t *len)
{
    for (;;) {
        ssize_t r;
        if (p->kind == TL_WIRE_LINK_TUN) {
            r = read(p->fd, buf, cap);
        } else {
            struct sockaddr_ll sll;
            socklen_t sl = sizeof sll;
            r = recvfrom(p->fd, buf, cap, 0, (struct sockaddr *)&sll, &sl);
            /* Our own injections show up as outgoing on the veth peer. */
            if (r >= 0 && sll.sll_pkttype == PACKET_OUTGOING) continue;
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        }
        if (r == 0) continue;
        *len = (size_t)r;
        return 1;
    }
}

static void release_triggered(tl_wire *w, tl_wire_dir dir, uint32_t hit_mask, uint64_t after_n);

/* Forwards a packet, reports it, then releases whatever waited for it. */
static void deliver(tl_wire *w, const uint8_t *buf, size_t len, uint64_t n, tl_wire_dir dir,
                    tl_time ts_in, tl_wire_action action, int rule, uint32_t hit_mask)
{
    const tl_wire_port *out = &w->port[dir == TL_WIRE_C2S ? 1 : 0];
    if (port_send(out, buf, len) < 0) stat_add(w, &w->stats.errors);
    stat_add(w, &w->stats.forwarded);
    tl_wire_packet p = { .n = n, .dir = dir, .data = buf, .len = len, .ts_in = ts_in,
                         .ts_out = now_real(), .fate = TL_WIRE_FORWARDED,
                         .action = action, .rule = rule };
    if (action == TL_WIRE_PASS) p.ts_out = ts_in;
    if (w->cb) w->cb(w->ud, &p);
    release_triggered(w, dir, hit_mask, n);
}

/* Takes entry i out of the queue and delivers it. */
static void deliver_pending(tl_wire *w, size_t i)
{
    pending e = w->q[i];
    memmove(&w->q[i], &w->q[i + 1], (w->nq - i - 1) * sizeof w->q[0]);
    w->nq--;
    deliver(w, e.buf, e.len, e.n, e.dir, e.ts_in, e.action, e.rule, e.hit_mask);
    free(e.buf);
}

/* A HOLD waits for its releasing rule; a REORDER for the next packet that
 * follows it in the same direction. */
static void release_triggered(tl_wire *w, tl_wire_dir dir, uint32_t hit_mask, uint64_t after_n)
{
    uint32_t release = tl_wire_passed(w->rules, w->nrules, &w->rst, hit_mask);
    for (size_t i = 0; i < w->nq;) {
        pending *e = &w->q[i];
        bool go = false;
        if (e->action == TL_WIRE_HOLD)
            go = release >> e->rule & 1u;
        else if (e->action == TL_WIRE_REORDER)
            go = e->dir == dir && e->n < after_n;
        if (go) {
            deliver_pending(w, i);
            i = 0;   /* the queue changed under us; rescan */
        } else {
            i++;
        }
    }
}

static void enqueue(tl_wire *w, const uint8_t *buf, size_t len, uint64_t n, tl_wire_dir dir,
                    tl_time ts_in, const tl_wire_decision *d)
{
    const tl_wire_rule *r = &w->rules[d->rule];
    uint8_t *copy = malloc(len);
    if (!copy || w->nq == WIRE_MAX_PENDING) {
        /* No room to keep it: forwarding late would break the scenario less
         * than losing it silently, so forward now and count an error. */
        free(copy);
        stat_add(w, &w->stats.errors);
        deliver(w, buf, len, n, dir, ts_in, TL_WIRE_PASS, d->rule, d->hit_mask);
        return;
    }
    memcpy(copy, buf, len);
    uint32_t wait_ms = d->action == TL_WIRE_DELAY ? d->delay_ms
                       : (r->max_hold_ms ? r->max_hold_ms : WIRE_DEFAULT_HOLD_MS);
    w->q[w->nq++] = (pending){ .buf = copy, .len = len, .n = n, .dir = dir, .ts_in = ts_in,
                               .due_ns = now_mono_ns() + (int64_t)wait_ms * 1000000,
                               .action = d->action, .rule = d->rule,
                               .hit_mask = d->hit_mask };
}

static void on_packet(tl_wire *w, tl_wire_dir dir, const uint8_t *buf, size_t len)
{
    tl_time ts_in = now_real();
    uint64_t n = ++w->n;
    stat_add(w, &w->stats.packets);
    tl_wire_pkt_info info;
    tl_wire_parse(buf, len, &info);
    tl_wire_decision d = tl_wire_decide(w->rules, w->nrules, &w->rst, dir, &info);
    switch (d.action) {
    case TL_WIRE_DROP: {
        stat_add(w, &w->stats.dropped);
        tl_wire_packet p = { .n = n, .dir = dir, .data = buf, .len = len, .ts_in = ts_in,
                             .ts_out = ts_in, .fate = TL_WIRE_DROPPED,
                             .action = TL_WIRE_DROP, .rule = d.rule };
        if (w->cb) w->cb(w->ud, &p);
        break;
    }
    case TL_WIRE_DELAY:
        stat_add(w, &w->stats.delayed);
        enqueue(w, buf, len, n, dir, ts_in, &d);
        break;
    case TL_WIRE_HOLD:
        stat_add(w, &w->stats.held);
        enqueue(w, buf, len, n, dir, ts_in, &d);
        break;
    case TL_WIRE_REORDER:
        stat_add(w, &w->stats.reordered);
        enqueue(w, buf, len, n, dir, ts_in, &d);
        break;
    case TL_WIRE_PASS:
        deliver(w, buf, len, n, dir, ts_in, TL_WIRE_PASS, d.rule, d.hit_mask);
        break;
    }
}

static void release_due(tl_wire *w, bool all)
{
    int64_t now = now_mono_ns();
    for (size_t i = 0; i < w->nq;) {
        if (all || w->q[i].due_ns <= now) {
            /* A hold that timed out is over: later matches pass. */
            if (w->q[i].action == TL_WIRE_HOLD) w->rst.spent |= 1u << w->q[i].rule;
            deliver_pending(w, i);
            i = 0;
        } else {
            i++;
        }
    }
}

static int next_timeout_ms(const tl_wire *w)
{
    if (w->nq == 0) return -1;
    int64_t now = now_mono_ns(), best = INT64_MAX;
    for (size_t i = 0; i < w->nq; i++)
        if (w->q[i].due_ns < best) best = w->q[i].due_ns;
    if (best <= now) return 0;
    return (int)((best - now + 999999) / 1000000);
}

static void *wire_thread(void *arg)
{
    tl_wire *w = arg;
    struct pollfd pfd[3] = {
        { .fd = w->port[0].fd, .events = POLLIN },
        { .fd = w->port[1].fd, .events = POLLIN },
        { .fd = w->stop_fd, .events = POLLIN },
    };
    for (;;) {
        int r = poll(pfd, 3, next_timeout_ms(w));
        if (r < 0) {
            if (errno == EINTR) continue;
            stat_add(w, &w->stats.errors);
            break;
        }
        if (pfd[2].revents) break;
        for (int side = 0; side < 2; side++) {
            if (!(pfd[side].revents & POLLIN)) continue;
            size_t len;
            int got;
            while ((got = port_recv(&w->port[side], w->rbuf, sizeof w->rbuf, &len)) == 1)
                on_packet(w, side == 0 ? TL_WIRE_C2S : TL_WIRE_S2C, w->rbuf, len);
            if (got < 0) stat_add(w, &w->stats.errors);
        }
        release_due(w, false);
    }
    release_due(w, true);
    return NULL;
}

int tl_wire_new(tl_wire **out, const tl_wire_port *client, const tl_wire_port *server,
                const tl_wire_rule *rules, size_t nrules, tl_wire_cb cb, void *ud,
                char *errbuf)
{
    *out = NULL;
    if (!client || !server || client->fd < 0 || server->fd < 0)
        return tl_err(errbuf, TL_EINVAL, "wire: both ports need a file descriptor");
    if (nrules > TL_WIRE_MAX_RULES)
        return tl_err(errbuf, TL_EINVAL, "wire: %zu rules, at most %d", nrules,
                      TL_WIRE_MAX_RULES);
    for (size_t i = 0; i < nrules; i++)
        if (rules[i].action == TL_WIRE_HOLD &&
            (rules[i].release_on < 0 || (size_t)rules[i].release_on >= nrules))
            return tl_err(errbuf, TL_EINVAL, "wire: rule %zu holds until rule %d, which "
                          "does not exist", i, rules[i].release_on);
    tl_wire *w = calloc(1, sizeof *w);
    if (!w) return tl_err(errbuf, TL_ENOMEM, "wire: out of memory");
    w->port[0] = *client;
    w->port[1] = *server;
    if (nrules) memcpy(w->rules, rules, nrules * sizeof *rules);
    w->nrules = nrules;
    w->cb = cb;
    w->ud = ud;
    pthread_mutex_init(&w->lock, NULL);
    w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->stop_fd < 0) {
        int e = errno;
        tl_wire_free(w);
        return tl_err(errbuf, TL_EIO, "wire: eventfd: %s", strerror(e));
    }
    /* The relay drains each port until EAGAIN. */
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(w->port[i].fd, F_GETFL);
        if (fl < 0 || fcntl(w->port[i].fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            int e = errno;
            tl_wire_free(w);
            return tl_err(errbuf, TL_EIO, "wire: fcntl O_NONBLOCK: %s", strerror(e));
        }
    }
    *out = w;
    return TL_OK;
}

int tl_wire_start(tl_wire *w, char *errbuf)
{
    if (w->running) return TL_OK;
    int e = pthread_create(&w->thread, NULL, wire_thread, w);
    if (e) return tl_err(errbuf, TL_EIO, "wire: pthread_create: %s", strerror(e));
    w->running = true;
    return TL_OK;
}

void tl_wire_stop(tl_wire *w)
{
    if (!w || !w->running) return;
    uint64_t one = 1;
    if (write(w->stop_fd, &one, sizeof one) < 0) { /* eventfd write cannot fail here */ }
    pthread_join(w->thread, NULL);
    w->running = false;
}

void tl_wire_stats_get(tl_wire *w, tl_wire_stats *st)
{
    pthread_mutex_lock(&w->lock);
    *st = w->stats;
    pthread_mutex_unlock(&w->lock);
}

void tl_wire_free(tl_wire *w)
{
    if (!w) return;
    tl_wire_stop(w);
    for (size_t i = 0; i < w->nq; i++) free(w->q[i].buf);
    if (w->stop_fd >= 0) close(w->stop_fd);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
