/* wire.h -- the lab's userspace wire between the client's and server's links.
 *
 * The lab network (netns.h) gives each host one link whose far end is a file
 * descriptor in tcplens: a TUN device (raw IP packets) or, where /dev/net/tun
 * may not be opened, the peer of a veth pair read through an AF_PACKET
 * SOCK_DGRAM socket (also raw IP packets). The wire relays every packet from
 * one port to the other, timestamps it, hands it to a callback (the capture
 * point) and applies the scenario's rules: drop, delay, hold until another
 * rule's packet has passed (crossing FINs), or swap with the next packet.
 *
 * Ownership: tl_wire_new() returns an owned wire; the ports' fds stay owned by
 * the caller (the lab network). Packets handed to the callback are borrowed
 * for the duration of the call. The callback runs on the wire's thread.
 */
#ifndef TL_LAB_WIRE_H
#define TL_LAB_WIRE_H

#include "tcplens/tcplens.h"

typedef enum tl_wire_dir {
    TL_WIRE_C2S = 0,  /* client -> server */
    TL_WIRE_S2C = 1,  /* server -> client */
    TL_WIRE_ANY = 2,  /* rules only: either direction */
} tl_wire_dir;

typedef enum tl_wire_action {
    TL_WIRE_PASS = 0, /* forward (a marker rule: counts, may release holds) */
    TL_WIRE_DROP,     /* the packet is lost */
    TL_WIRE_DELAY,    /* forwarded delay_ms later; later packets may overtake */
    TL_WIRE_HOLD,     /* kept until a packet matched by rule `release_on` passed */
    TL_WIRE_REORDER,  /* kept until the next packet in the same direction passed */
} tl_wire_action;

/* One rule. A packet matches when its direction, TCP flags and payload agree;
 * every matching packet advances the rule's counter, and the action applies
 * to matches number first .. first+count-1 (1-based; count 0 = no end).
 * "The 1st FIN from the client": dir C2S, mask FIN, value FIN, first 1, count 1.
 * Rules are tried in order; the first one whose window contains the packet
 * decides the action. Non-TCP packets match only rules with flags_mask 0 and
 * payload -1. */
typedef struct tl_wire_rule {
    tl_wire_dir dir;
    uint8_t flags_mask;   /* TL_TH_* bits to look at */
    uint8_t flags_value;  /* required values of those bits */
    int8_t payload;       /* -1 any, 0 no TCP payload, 1 some TCP payload */
    uint32_t first;       /* 0 is read as 1 */
    uint32_t count;       /* 0 = every match from `first` on */
    tl_wire_action action;
    uint32_t delay_ms;    /* TL_WIRE_DELAY */
    int release_on;       /* TL_WIRE_HOLD: index of the releasing rule */
    uint32_t max_hold_ms; /* HOLD/REORDER: give up and forward after this; 0 = 3000 */
    uint16_t port;        /* 0 any; else TCP segments with this source or destination
                           * port only (one connection, whatever the others retransmit) */
} tl_wire_rule;

#define TL_WIRE_MAX_RULES 32

/* What the wire learnt from a packet's IP and TCP headers. */
typedef struct tl_wire_pkt_info {
    bool is_tcp;
    uint8_t flags;         /* TL_TH_*; 0 when not TCP */
    uint32_t payload_len;  /* TCP payload length from the IP lengths */
    uint16_t sport, dport; /* 0 when not TCP */
} tl_wire_pkt_info;

/* Parses an IPv4/IPv6 packet (no link header). Returns false for anything it
 * cannot read safely (then info says "not TCP"). Pure; for tests. */
bool tl_wire_parse(const uint8_t *pkt, size_t len, tl_wire_pkt_info *info);

/* Per-rule match counters, zeroed at start. A HOLD rule is spent (matches
 * still count, but it holds nothing more) once its releasing rule's packet
 * has passed: "hold the client's FIN, and its retransmissions, until the
 * server's FIN has been sent" is one rule with count 0. */
typedef struct tl_wire_rule_state {
    uint32_t matched[TL_WIRE_MAX_RULES];
    uint32_t spent;    /* bit i: HOLD rule i is spent */
} tl_wire_rule_state;

typedef struct tl_wire_decision {
    tl_wire_action action;
    int rule;          /* index of the deciding rule, -1 = none (plain pass) */
    uint32_t delay_ms;
    uint32_t hit_mask; /* bit i: rule i matched and the packet is in its window */
} tl_wire_decision;

/* Decide what to do with one packet travelling in `dir` and advance the
 * counters. Pure; for tests. nrules above TL_WIRE_MAX_RULES are ignored. */
tl_wire_decision tl_wire_decide(const tl_wire_rule *rules, size_t nrules,
                                tl_wire_rule_state *st, tl_wire_dir dir,
                                const tl_wire_pkt_info *info);

/* Records that a packet with this hit_mask has been forwarded: HOLD rules
 * released by one of its rules become spent. Returns the mask of HOLD rules
 * whose held packets are to be released now. Pure; for tests. */
uint32_t tl_wire_passed(const tl_wire_rule *rules, size_t nrules, tl_wire_rule_state *st,
                        uint32_t hit_mask);

/* One end of the wire. */
typedef enum tl_wire_link {
    TL_WIRE_LINK_TUN = 0,    /* read/write raw IP on a TUN fd (IFF_NO_PI) */
    TL_WIRE_LINK_PACKET,     /* AF_PACKET SOCK_DGRAM on a veth peer */
} tl_wire_link;

typedef struct tl_wire_port {
    int fd;
    tl_wire_link kind;
    int ifindex;           /* PACKET: interface to send on */
    uint8_t dst_mac[6];    /* PACKET: MAC of the host's addressed interface */
} tl_wire_port;

typedef enum tl_wire_fate {
    TL_WIRE_FORWARDED = 0,
    TL_WIRE_DROPPED,
} tl_wire_fate;

typedef struct tl_wire_packet {
    uint64_t n;            /* 1-based, in order of arrival on the wire */
    tl_wire_dir dir;
    const uint8_t *data;   /* IP packet (borrowed) */
    size_t len;
    tl_time ts_in;         /* when the sender's kernel handed it to the wire */
    tl_time ts_out;        /* when it was delivered (== ts_in unless held/delayed) */
    tl_wire_fate fate;
    tl_wire_action action; /* what the rules did */
    int rule;              /* deciding rule, -1 none */
} tl_wire_packet;

/* Called once per packet, in delivery order, when its fate is settled. */
typedef void (*tl_wire_cb)(void *ud, const tl_wire_packet *p);

typedef struct tl_wire_stats {
    uint64_t packets, forwarded, dropped, delayed, held, reordered, errors;
} tl_wire_stats;

typedef struct tl_wire tl_wire;

/* rules are copied. */
TL_MUST_USE int tl_wire_new(tl_wire **out, const tl_wire_port *client,
                            const tl_wire_port *server, const tl_wire_rule *rules,
                            size_t nrules, tl_wire_cb cb, void *ud, char *errbuf);
/* Starts the relay thread. */
TL_MUST_USE int tl_wire_start(tl_wire *w, char *errbuf);
/* Stops the thread; packets still held or delayed are forwarded first. */
void tl_wire_stop(tl_wire *w);
void tl_wire_stats_get(tl_wire *w, tl_wire_stats *st);
void tl_wire_free(tl_wire *w);

#endif
