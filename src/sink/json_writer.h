/* json_writer.h -- minimal streaming JSON writer over a FILE * (RFC 8259).
 *
 * Values are written in document order; commas between members and array
 * elements are added automatically. Output is assembled in a buffer inside
 * the writer and handed to the FILE with one fwrite per tl_json_end_line()
 * (or when the buffer fills), so the hot path makes no stdio call per field
 * and never allocates. Strings are escaped so that the output is always
 * valid UTF-8 JSON: quotes, backslash and control characters are escaped,
 * and each byte that is not part of a valid UTF-8 sequence is written as
 * \u00XX (its Latin-1 reading). Numbers never use exponent notation.
 *
 * The writer is a plain struct the caller owns (stack or embedded); it holds
 * a borrowed FILE *. Nesting deeper than TL_JSON_MAX_DEPTH is ignored
 * (commas may then be wrong): records are shallow by design.
 */
#ifndef TL_JSON_WRITER_H
#define TL_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tcplens/tcplens.h"
#include "util/compiler.h"

#define TL_JSON_MAX_DEPTH 16
#define TL_JSON_BUF 8192

enum tl_json_batch {
    TL_JSON_PER_LINE,                 /* each line goes to the FILE at its end */
    TL_JSON_BATCH_UNDECIDED,          /* batched unless the FILE is line-buffered */
    TL_JSON_BATCH,                    /* lines go to the FILE in blocks */
};

typedef struct tl_json {
    FILE *fp;
    size_t len;                       /* bytes pending in buf */
    enum tl_json_batch batch;
    int depth;
    bool after_key;                   /* a key was written; the value follows */
    bool first[TL_JSON_MAX_DEPTH + 1];/* nothing written yet at this depth */
    char buf[TL_JSON_BUF];
} tl_json;

void tl_json_init(tl_json *j, FILE *fp);
/* The same, for a writer that owns its FILE while it runs (the JSON sink):
 * when the FILE is on a file descriptor and fully buffered (so it releases
 * bytes when its buffer fills, not per line), lines are handed to it a few
 * kilobytes at a time instead of one by one (measured: one fwrite per line
 * was 240 Ir/packet of `read --json`). The owner calls tl_json_flush()
 * before anything else writes to the FILE and at the end. */
void tl_json_init_batched(tl_json *j, FILE *fp);
/* Whether lines held back a while could not be seen: fp writes to a file
 * descriptor and is fully buffered, so it releases bytes when its own buffer
 * fills, not per line. A line-buffered or unbuffered FILE, or one in memory
 * (open_memstream, which its owner may read after each record), gets each
 * line at once. Only meaningful once fp has been written to (glibc settles
 * a stream's buffering then). Shared with the text sink. */
bool tl__file_batchable(FILE *fp);
/* Hand what is buffered to the FILE (does not fflush the FILE). */
void tl_json_flush(tl_json *j);
/* Ends a top-level value: writes '\n' and hands the line to the FILE
 * (batched writers: once enough lines are pending). */
void tl_json_end_line(tl_json *j);

void tl_json_obj_begin(tl_json *j);
void tl_json_obj_end(tl_json *j);
void tl_json_arr_begin(tl_json *j);
void tl_json_arr_end(tl_json *j);
/* Member name; the next call writes its value. Keys are written as given,
 * without escaping: they must be plain ASCII names (all of tcplens's are). */
void tl_json_key(tl_json *j, const char *key);

void tl_json_str(tl_json *j, const char *s);            /* NULL writes null */
void tl_json_strn(tl_json *j, const char *s, size_t n);
void tl_json_u64(tl_json *j, uint64_t v);
void tl_json_i64(tl_json *j, int64_t v);
void tl_json_bool(tl_json *j, bool v);
void tl_json_null(tl_json *j);
/* Fixed-point with `digits` fraction digits (0..9 typical, at most 17),
 * rounded as printf's "%.*f" does; NaN and infinities are written as null. */
void tl_json_double(tl_json *j, double v, int digits);
/* Timestamp: seconds since the epoch with `digits` (0..9) fraction digits,
 * exact (from the integer parts, no floating point). */
void tl_json_time(tl_json *j, tl_time t, int digits);

/* key + value shorthands */
void tl_json_kv_str(tl_json *j, const char *key, const char *s);
void tl_json_kv_u64(tl_json *j, const char *key, uint64_t v);
void tl_json_kv_i64(tl_json *j, const char *key, int64_t v);
void tl_json_kv_bool(tl_json *j, const char *key, bool v);
void tl_json_kv_null(tl_json *j, const char *key);
void tl_json_kv_double(tl_json *j, const char *key, double v, int digits);
void tl_json_kv_time(tl_json *j, const char *key, tl_time t, int digits);

/* Fast path for records of a fixed shape (measured: generic key/value calls
 * were over half of `read --json`). At the start of a line, the caller
 * reserves room for the whole record, writes it with the TL_JSON_PUT_* helpers
 * (keys, punctuation and commas included, nothing escaped: only for text
 * that needs no escaping) and commits before tl_json_end_line(). */
static inline char *tl_json_reserve_raw(tl_json *j, size_t n)
{
    if (n > TL_JSON_BUF - j->len) tl_json_flush(j);
    return j->buf + j->len;
}

static inline void tl_json_commit_raw(tl_json *j, char *end)
{
    j->len = (size_t)(end - j->buf);
}

/* Between a commit and the next reserve: s quoted and escaped as
 * tl_json_strn() writes it, without a comma (any length). */
void tl_json_put_string(tl_json *j, const char *s, size_t n);

/* A string literal (length known at compile time). */
#define TL_JSON_PUT_LIT(o, lit) ((o) = (char *)memcpy((o), "" lit, sizeof(lit) - 1) + sizeof(lit) - 1)

/* Decimal digits written forward at o, which needs room for the widest
 * value (10 digits for 32 bits, 20 for 64); each returns the new end. Split
 * into fixed groups of 8, 4 and 2 digits with divisions by constants and a
 * table of digit pairs: no digit count, no loop (measured: the old loop was
 * ~1,200 Ir/packet of `read --json`, a quarter of it). */
extern const char tl__digit_pairs[200];

static inline char *tl__put2(char *o, uint32_t v)   /* v < 100: "07" */
{
    memcpy(o, tl__digit_pairs + 2 * v, 2);
    return o + 2;
}

static inline char *tl__put4(char *o, uint32_t v)   /* v < 10^4: "0042" */
{
    uint32_t hi = v / 100;
    return tl__put2(tl__put2(o, hi), v - hi * 100);
}

static inline char *tl__put8(char *o, uint32_t v)   /* v < 10^8: 8 digits */
{
    uint32_t hi = v / 10000;
    return tl__put4(tl__put4(o, hi), v - hi * 10000);
}

/* The same without leading zeros. */
static inline char *tl__put_upto2(char *o, uint32_t v)
{
    if (v < 10) {
        *o = (char)('0' + v);
        return o + 1;
    }
    return tl__put2(o, v);
}

static inline char *tl__put_upto4(char *o, uint32_t v)
{
    if (v < 100) return tl__put_upto2(o, v);
    uint32_t hi = v / 100;
    return tl__put2(tl__put_upto2(o, hi), v - hi * 100);
}

static inline char *tl__put_upto8(char *o, uint32_t v)
{
    if (v < 10000) return tl__put_upto4(o, v);
    uint32_t hi = v / 10000;
    return tl__put4(tl__put_upto4(o, hi), v - hi * 10000);
}

/* tl_put_u32 and tl_put_u64 written out where called, for a caller that
 * wants no call (gcc keeps tl_put_u32 out of line: ~20 Ir a number with
 * the call; the connection row has seven). */
static TL__ALWAYS_INLINE char *tl__put_u32_inline(char *o, uint32_t v)
{
    if (v < 100000000) return tl__put_upto8(o, v);
    uint32_t hi = v / 100000000;   /* 1..42 */
    return tl__put8(tl__put_upto2(o, hi), v - hi * 100000000);
}

static inline char *tl_put_u32(char *o, uint32_t v) { return tl__put_u32_inline(o, v); }

char *tl__put_u64_wide(char *o, uint64_t v);   /* v > UINT32_MAX */

static TL__ALWAYS_INLINE char *tl__put_u64_inline(char *o, uint64_t v)
{
    if (v <= UINT32_MAX) return tl__put_u32_inline(o, (uint32_t)v);
    return tl__put_u64_wide(o, v);
}

static inline char *tl_put_u64(char *o, uint64_t v)
{
    if (v <= UINT32_MAX) return tl_put_u32(o, (uint32_t)v);
    return tl__put_u64_wide(o, v);
}

/* Formats v in decimal into buf (at least 21 bytes, not NUL-terminated);
 * returns the length. */
static inline size_t tl_fmt_u64(char *buf, uint64_t v)
{
    return (size_t)(tl_put_u64(buf, v) - buf);
}

/* v * 10^digits (p10 = 10^digits, digits 0..9) rounded as printf's "%.*f"
 * rounds it (to nearest, ties to even, on the exact binary value), for
 * 0 <= v < 1e9 with the sign bit clear: v = mant * 2^-shift (IEEE 754
 * binary64 fields), so v * 10^digits = mant * p10 * 2^-shift, which fits
 * 128 bits before the shift. The result is below 10^18. */
static inline uint64_t tl__fixed_scaled(double v, uint32_t p10)
{
    _Static_assert(sizeof(double) == 8, "binary64 doubles");
    __extension__ typedef unsigned __int128 u128;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int biased = (int)(bits >> 52);
    uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
    if (biased) mant |= UINT64_C(1) << 52;               /* normal */
    else biased = 1;                                     /* zero, subnormal */
    int shift = 1075 - biased;                           /* >= 23, as v < 2^30 */
    if (shift > 83) return 0;                            /* v < 2^-31: v * 10^9 < 0.5 */
    u128 x = (u128)mant * p10;                           /* < 2^83 */
    u128 r = x >> (shift - 1);                           /* the quotient and the half bit */
    uint64_t q = (uint64_t)(r >> 1);
    /* above half (a bit below the half bit is set), or a tie to an odd q */
    if ((r & 1) && ((x << (129 - shift)) != 0 || (q & 1))) q++;
    return q;
}

/* q (< 10^15, from tl__fixed_scaled(v, 10^6)) as "%.6f" prints v: the
 * divisions by constants only (measured: through tl_fmt_double a row's
 * time was ~158 Ir). Stores up to 19 bytes at o; returns the new end. */
static inline char *tl__put_scaled6(char *o, uint64_t q)
{
    uint32_t ip = (uint32_t)(q / 1000000);               /* <= 10^9 */
    uint32_t frac = (uint32_t)(q - (uint64_t)ip * 1000000), hi = frac / 10000;
    o = tl_put_u32(o, ip);
    *o++ = '.';
    return tl__put4(tl__put2(o, hi), frac - hi * 10000);
}

/* Room tl_fmt_double() needs: %f of any finite double fits. */
#define TL_JSON_DOUBLE_MAX 352
/* Formats v as tl_json_double() writes it ("null" when not finite) into buf
 * (TL_JSON_DOUBLE_MAX bytes, not NUL-terminated); returns the length. */
size_t tl_fmt_double(char *buf, double v, int digits);

/* Formats t as seconds with `digits` (0..9) fraction digits into buf (at
 * least 32 bytes, not NUL-terminated; bytes past the returned length may be
 * overwritten); returns the length. */
size_t tl_fmt_time(char *buf, tl_time t, int digits);

/* The digits of the last whole second formatted: a capture's records
 * mostly share their second with the one before (measured: 10-digit
 * seconds were ~45 Ir per record of `read --json`). Start with
 * tl_sec_text_init. */
typedef struct tl_sec_text {
    int64_t sec;                      /* -1: none yet */
    size_t n;
    char s[24];
} tl_sec_text;

static inline void tl_sec_text_init(tl_sec_text *c)
{
    c->sec = -1;
    c->n = 0;
    memset(c->s, 0, sizeof c->s);   /* copied whole: no indeterminate bytes */
}

/* tl_fmt_time through c: the same text. */
size_t tl_fmt_time_cached(char *buf, tl_time t, int digits, tl_sec_text *c);

#endif
