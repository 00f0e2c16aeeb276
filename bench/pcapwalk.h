/* pcapwalk.h -- the record walk shared by bench/walk.c and bench/walk_hash.c:
 * the floor any classic-pcap reader pays. The file is read in 4 MiB blocks
 * (read(2), no mmap, so peak RSS stays small and honest); a record split
 * across two blocks is moved to the front of the next. Microsecond and
 * nanosecond, either byte order. */
#ifndef BENCH_PCAPWALK_H
#define BENCH_PCAPWALK_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WALK_BLOCK (4u << 20)

static uint32_t walk_u32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

/* Calls FN(ctx, frame, caplen, linktype) for each record; returns the
 * number of records, or -1 on errors (printed). */
static long long walk_file(const char *path,
                           void (*fn)(void *ctx, const uint8_t *frame, uint32_t caplen,
                                      uint32_t linktype),
                           void *ctx)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return -1; }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint8_t *buf = malloc(WALK_BLOCK + 65536 + 16);
    if (!buf) { close(fd); return -1; }
    size_t have = 0, pos = 0;
    long long n = 0;
    int swap = -1;
    uint32_t link = 0;
    for (;;) {
        /* Keep the unread tail, refill behind it. */
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        pos = 0;
        ssize_t r = read(fd, buf + have, WALK_BLOCK);
        if (r < 0) { perror(path); n = -1; break; }
        have += (size_t)r;
        if (swap < 0) {
            if (have < 24) { fprintf(stderr, "%s: short file\n", path); n = -1; break; }
            uint32_t m = walk_u32(buf, 0);
            if (m == 0xa1b2c3d4u || m == 0xa1b23c4du) swap = 0;
            else if (m == 0xd4c3b2a1u || m == 0x4d3cb2a1u) swap = 1;
            else { fprintf(stderr, "%s: not a classic pcap\n", path); n = -1; break; }
            link = walk_u32(buf + 20, swap) & 0xffff;
            pos = 24;
        }
        while (have - pos >= 16) {
            uint32_t cap = walk_u32(buf + pos + 8, swap);
            if (cap > 262144) { fprintf(stderr, "%s: bad record\n", path); n = -1; goto out; }
            if (have - pos - 16 < cap) break;
            fn(ctx, buf + pos + 16, cap, link);
            pos += 16 + cap;
            n++;
        }
        if (r == 0) break;
    }
out:
    free(buf);
    close(fd);
    return n;
}

#endif
