/* text_line.h -- a fixed-size line builder for the text sinks: appends text,
 * numbers and ANSI colour codes, and pads by visible width (colour codes do
 * not count). Overflow truncates; nothing is allocated. Also the one packet
 * line that `read`, `watch` and the lab's timeline print. Internal.
 */
#ifndef TL_TEXT_LINE_H
#define TL_TEXT_LINE_H

#include <stdio.h>
#include <string.h>

#include "decode/addr_fmt.h"
#include "sink/json_writer.h"
#include "tcplens/sink.h"

#define TL_LINE_CAP 1024

typedef struct tl_line {
    size_t len;     /* bytes in s */
    size_t vis;     /* visible characters (colour codes excluded) */
    char s[TL_LINE_CAP];
} tl_line;

static inline void tl_line_reset(tl_line *l)
{
    l->len = 0;
    l->vis = 0;
}

static inline void tl_line_raw(tl_line *l, const char *s, size_t n, size_t vis)
{
    /* the unclamped branch keeps a literal's length constant, so the copy
     * is a few moves instead of a memcpy call (measured) */
    if (n <= TL_LINE_CAP - l->len) {
        memcpy(l->s + l->len, s, n);
        l->len += n;
    } else {
        n = TL_LINE_CAP - l->len;
        memcpy(l->s + l->len, s, n);
        l->len += n;
    }
    l->vis += vis;
}

static inline void tl_line_mem(tl_line *l, const char *s, size_t n)
{
    tl_line_raw(l, s, n, n);
}

static inline void tl_line_str(tl_line *l, const char *s)
{
    size_t n = strlen(s);
    tl_line_raw(l, s, n, n);
}

/* A string literal: its length is known at compile time. */
#define TL_LINE_LIT(l, lit) tl_line_mem((l), "" lit, sizeof(lit) - 1)

static inline void tl_line_ch(tl_line *l, char c)
{
    if (l->len < TL_LINE_CAP) l->s[l->len++] = c;
    l->vis++;
}

/* Numbers and addresses are written in place when there is room (the
 * common case), through a temporary near the end (measured: the copies
 * were the text sink's largest cost). */
static inline void tl_line_u64(tl_line *l, uint64_t v)
{
    if (TL_LINE_CAP - l->len >= 21) {
        size_t n = tl_fmt_u64(l->s + l->len, v);
        l->len += n;
        l->vis += n;
        return;
    }
    char b[21];
    tl_line_mem(l, b, tl_fmt_u64(b, v));
}

static inline void tl_line_addr(tl_line *l, const tl_addr *a)
{
    if (TL_LINE_CAP - l->len >= TL__ADDR_TEXT_MAX) {
        size_t n = tl__addr_put(l->s + l->len, a);
        l->len += n;
        l->vis += n;
        return;
    }
    char b[TL__ADDR_TEXT_MAX];
    tl_line_mem(l, b, tl__addr_put(b, a));
}

/* ANSI SGR sequence (e.g. "1;31"), only when colour is on. */
static inline void tl_line_sgr(tl_line *l, bool color, const char *code)
{
    if (!color) return;
    tl_line_raw(l, "\033[", 2, 0);
    tl_line_raw(l, code, strlen(code), 0);
    tl_line_raw(l, "m", 1, 0);
}

static inline void tl_line_sgr_off(tl_line *l, bool color)
{
    if (color) tl_line_raw(l, "\033[0m", 4, 0);
}

/* Pad with spaces to visible column col (at least `min` spaces). */
static inline void tl_line_pad(tl_line *l, size_t col, size_t min)
{
    size_t n = l->vis < col ? col - l->vis : 0;
    if (n < min) n = min;
    size_t room = TL_LINE_CAP - l->len;
    if (n <= 32 && room >= 32) {
        /* fixed-size copy of 32 spaces; what lies past n is overwritten next */
        memcpy(l->s + l->len, "                                ", 32);
        l->len += n;
        l->vis += n;
        return;
    }
    memset(l->s + l->len, ' ', n < room ? n : room);
    l->len += n < room ? n : room;
    l->vis += n;
}

static inline void tl_line_write(const tl_line *l, FILE *fp)
{
    fwrite_unlocked(l->s, 1, l->len, fp);
}

/* Appends packet v's line as the text sink prints it, without the newline:
 * time (since base, or absolute with o->abs_time; o->ts_digits, 6 when out
 * of 1..9), connection, client and server with the arrow, flags, seq/ack/
 * win/len, each endpoint's state ("before -> after" when v's *_before
 * differs from its state after), SYN options, SACK blocks, analysis flags,
 * checksum. v must be a decoded segment (result OK, pkt set). The caller
 * may append its own suffix. In sink_text.c. */
void tl_text_packet_line(tl_line *l, const tl_pkt_view *v, const tl_output_opts *o, tl_time base);

#endif
