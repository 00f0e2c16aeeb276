/* cursor.h -- the one bounds-checked reader every parser goes through.
 *
 * A cursor covers [p, end) where end is the captured length, never the
 * length a header claims. A read past end returns 0 and sets the sticky
 * `truncated` flag, so a parser can read a whole header and check once
 * (tcpdump's GET_U_1 / ND_TCHECK lesson, without longjmp). Lengths are
 * compared as remaining counts, never as pointer sums (CERT VU#162289).
 */
#ifndef TL_UTIL_CURSOR_H
#define TL_UTIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tl_cursor {
    const uint8_t *p;
    const uint8_t *end;
    bool truncated;
} tl_cursor;

static inline tl_cursor tl_cursor_make(const uint8_t *p, size_t len)
{
    tl_cursor c = {p, p + len, false};
    return c;
}

static inline size_t tl_cur_remaining(const tl_cursor *c)
{
    return (size_t)(c->end - c->p);
}

/* True when n more bytes can be read. */
static inline bool tl_cur_has(const tl_cursor *c, size_t n)
{
    return !c->truncated && tl_cur_remaining(c) >= n;
}

static inline bool tl_cur_need(tl_cursor *c, size_t n)
{
    if (tl_cur_has(c, n)) return true;
    c->truncated = true;
    return false;
}

static inline uint8_t tl_rd_u8(tl_cursor *c)
{
    if (!tl_cur_need(c, 1)) return 0;
    return *c->p++;
}

static inline uint16_t tl_rd_u16be(tl_cursor *c)
{
    if (!tl_cur_need(c, 2)) return 0;
    uint16_t v = (uint16_t)((c->p[0] << 8) | c->p[1]);
    c->p += 2;
    return v;
}

static inline uint16_t tl_rd_u16le(tl_cursor *c)
{
    if (!tl_cur_need(c, 2)) return 0;
    uint16_t v = (uint16_t)((c->p[1] << 8) | c->p[0]);
    c->p += 2;
    return v;
}

static inline uint32_t tl_rd_u32be(tl_cursor *c)
{
    if (!tl_cur_need(c, 4)) return 0;
    uint32_t v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) |
                 ((uint32_t)c->p[2] << 8) | c->p[3];
    c->p += 4;
    return v;
}

static inline uint32_t tl_rd_u32le(tl_cursor *c)
{
    if (!tl_cur_need(c, 4)) return 0;
    uint32_t v = ((uint32_t)c->p[3] << 24) | ((uint32_t)c->p[2] << 16) |
                 ((uint32_t)c->p[1] << 8) | c->p[0];
    c->p += 4;
    return v;
}

/* Copy n bytes into dst (zero-filled when short). */
static inline bool tl_rd_bytes(tl_cursor *c, void *dst, size_t n)
{
    uint8_t *d = (uint8_t *)dst;
    if (!tl_cur_need(c, n)) {
        for (size_t i = 0; i < n; i++) d[i] = 0;
        return false;
    }
    for (size_t i = 0; i < n; i++) d[i] = c->p[i];
    c->p += n;
    return true;
}

static inline bool tl_cur_skip(tl_cursor *c, size_t n)
{
    if (!tl_cur_need(c, n)) return false;
    c->p += n;
    return true;
}

/* The next n bytes in place, or NULL (marking the cursor truncated) when
 * fewer remain: one check for a whole fixed-size header, no copy. */
static inline const uint8_t *tl_cur_take(tl_cursor *c, size_t n)
{
    if (!tl_cur_need(c, n)) return NULL;
    const uint8_t *p = c->p;
    c->p += n;
    return p;
}

/* A sub-cursor over the next n bytes (or fewer, if fewer remain; then the
 * sub-cursor is exactly what was captured). The parent advances past them. */
static inline tl_cursor tl_cur_sub(tl_cursor *c, size_t n)
{
    size_t avail = tl_cur_remaining(c);
    size_t take = n < avail ? n : avail;
    tl_cursor s = {c->p, c->p + take, c->truncated};
    c->p += take;
    return s;
}

#endif
