/* walk_hash.c -- the "limit with a table" row of `make bench`: walk every
 * record, find the TCP 4-tuple (Ethernet, IPv4 or IPv6 without extension
 * headers), and look it up in an open-addressing table (linear probing,
 * direction-agnostic key, doubling at 50% load), counting packets per
 * connection. What any connection tracker pays at least.
 *   walk_hash FILE   prints records, TCP packets and distinct 4-tuples */
#include "pcapwalk.h"

typedef struct key {
    uint8_t a[16], b[16];   /* lower (address, port) first */
    uint16_t pa, pb;
} key;

typedef struct slot {
    key k;
    uint32_t used, pkts;
} slot;

typedef struct table {
    slot *s;
    size_t cap, n;
    long long tcp;
} table;

static uint64_t hash_key(const key *k)
{
    /* FNV-1a over the key bytes, then a final mix. */
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < sizeof *k; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static void grow(table *t);

static void insert(table *t, const key *k)
{
    size_t m = t->cap - 1, i = hash_key(k) & m;
    while (t->s[i].used) {
        if (!memcmp(&t->s[i].k, k, sizeof *k)) { t->s[i].pkts++; return; }
        i = (i + 1) & m;
    }
    t->s[i].k = *k;
    t->s[i].used = 1;
    t->s[i].pkts = 1;
    if (++t->n * 2 > t->cap) grow(t);
}

static void grow(table *t)
{
    slot *old = t->s;
    size_t oldcap = t->cap;
    t->cap *= 2;
    t->s = calloc(t->cap, sizeof *t->s);
    if (!t->s) { perror("walk_hash"); exit(1); }
    t->n = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].used) continue;
        size_t m = t->cap - 1, j = hash_key(&old[i].k) & m;
        while (t->s[j].used) j = (j + 1) & m;
        t->s[j] = old[i];
        t->n++;
    }
    free(old);
}

static void visit(void *ctx, const uint8_t *f, uint32_t cap, uint32_t linktype)
{
    table *t = ctx;
    if (linktype != 1 || cap < 14) return;
    uint16_t et = (uint16_t)(f[12] << 8 | f[13]);
    const uint8_t *ip = f + 14, *tcp, *src, *dst;
    size_t alen;
    cap -= 14;
    if (et == 0x0800) {
        if (cap < 20 || ip[9] != 6) return;
        size_t hl = (size_t)(ip[0] & 15) * 4;
        if (hl < 20 || cap < hl + 4) return;
        tcp = ip + hl; src = ip + 12; dst = ip + 16; alen = 4;
    } else if (et == 0x86dd) {
        if (cap < 44 || ip[6] != 6) return;
        tcp = ip + 40; src = ip + 8; dst = ip + 24; alen = 16;
    } else {
        return;
    }
    key k;
    memset(&k, 0, sizeof k);
    uint16_t sp = (uint16_t)(tcp[0] << 8 | tcp[1]), dp = (uint16_t)(tcp[2] << 8 | tcp[3]);
    int c = memcmp(src, dst, alen);
    if (c < 0 || (c == 0 && sp < dp)) {
        memcpy(k.a, src, alen); memcpy(k.b, dst, alen); k.pa = sp; k.pb = dp;
    } else {
        memcpy(k.a, dst, alen); memcpy(k.b, src, alen); k.pa = dp; k.pb = sp;
    }
    t->tcp++;
    insert(t, &k);
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: walk_hash FILE\n"); return 2; }
    table t = {calloc(1024, sizeof(slot)), 1024, 0, 0};
    if (!t.s) return 1;
    long long n = walk_file(argv[1], visit, &t);
    if (n < 0) return 1;
    printf("%lld records, %lld TCP, %zu connections\n", n, t.tcp, t.n);
    free(t.s);
    return 0;
}
