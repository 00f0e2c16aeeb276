/* json_writer.c -- streaming JSON writer with RFC 8259 escaping and exact
 * fixed-point numbers. UTF-8 validation follows RFC 3629 section 4 (no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
#include <math.h>
#include <stdio_ext.h>
#include <string.h>

#include "sink/json_writer.h"

void tl_json_init(tl_json *j, FILE *fp)
{
    j->fp = fp;
    j->len = 0;
    j->depth = 0;
    j->after_key = false;
    j->first[0] = true;
    j->batch = TL_JSON_PER_LINE;
}

void tl_json_init_batched(tl_json *j, FILE *fp)
{
    tl_json_init(j, fp);
    j->batch = TL_JSON_BATCH_UNDECIDED;
}

void tl_json_flush(tl_json *j)
{
    if (j->len) {
        fwrite_unlocked(j->buf, 1, j->len, j->fp);
        j->len = 0;
    }
}

/* Copy n bytes into the buffer; large pieces bypass it. */
static void put(tl_json *j, const char *s, size_t n)
{
    if (n > TL_JSON_BUF - j->len) {
        tl_json_flush(j);
        if (n > TL_JSON_BUF) {
            fwrite_unlocked(s, 1, n, j->fp);
            return;
        }
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

static inline void putch(tl_json *j, char c)
{
    if (j->len == TL_JSON_BUF) tl_json_flush(j);
    j->buf[j->len++] = c;
}

/* Room for n (<= TL_JSON_BUF) bytes; returns where to write them. The
 * caller sets j->len past what it wrote. */
static inline char *reserve(tl_json *j, size_t n)
{
    if (n > TL_JSON_BUF - j->len) tl_json_flush(j);
    return j->buf + j->len;
}

bool tl__file_batchable(FILE *fp)
{
    return fileno(fp) >= 0 && !__flbf(fp) && __fbufsize(fp) > 1;
}

void tl_json_end_line(tl_json *j)
{
    putch(j, '\n');
    if (j->batch != TL_JSON_BATCH || j->len > TL_JSON_BUF / 2) {
        tl_json_flush(j);
        /* A FILE's buffering is only settled once it has been written to
         * (glibc looks whether stdout is a terminal then): decided after the
         * first line. */
        if (j->batch == TL_JSON_BATCH_UNDECIDED)
            j->batch = tl__file_batchable(j->fp) ? TL_JSON_BATCH : TL_JSON_PER_LINE;
    }
    j->depth = 0;
    j->after_key = false;
    j->first[0] = true;
}

/* Called before every value: the comma rule for arrays and the top level. */
static void before_value(tl_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth <= TL_JSON_MAX_DEPTH) {
        if (!j->first[j->depth] && j->depth > 0) putch(j, ',');
        j->first[j->depth] = false;
    }
}

static void open_(tl_json *j, char c)
{
    before_value(j);
    putch(j, c);
    j->depth++;
    if (j->depth <= TL_JSON_MAX_DEPTH) j->first[j->depth] = true;
}

static void close_(tl_json *j, char c)
{
    putch(j, c);
    if (j->depth > 0) j->depth--;
    j->after_key = false;
}

void tl_json_obj_begin(tl_json *j) { open_(j, '{'); }
void tl_json_obj_end(tl_json *j) { close_(j, '}'); }
void tl_json_arr_begin(tl_json *j) { open_(j, '['); }
void tl_json_arr_end(tl_json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence starting at s (n bytes available,
 * s[0] >= 0x80), or 0 when s[0] does not start one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;         /* overlong */
        if (c == 0xED) hi = 0x9F;         /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;         /* overlong */
        if (c == 0xF4) hi = 0x8F;         /* above U+10FFFF */
    } else
        return 0;
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return len;
}

static inline bool plain(unsigned char c)
{
    return (unsigned)(c - 0x20) < 0x5fu && c != '"' && c != '\\';
}

/* Whether all 8 bytes of w are plain: none below 0x20, none 0x7f or above,
 * no quote, no backslash (the usual zero-byte tricks; exact as a whole). */
static inline bool word_plain(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t ctl = (w - ones * 0x20) & ~w;
    uint64_t high = (w + ones) | w;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    q = (q - ones) & ~q;
    b = (b - ones) & ~b;
    return !((ctl | high | q | b) & highs);
}

/* End of the run of plain bytes of s[i..n), 8 at a time (measured: event
 * texts byte by byte were 350 Ir/packet of `read --json`). */
static size_t plain_run(const unsigned char *s, size_t i, size_t n)
{
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (!word_plain(w)) break;
        i += 8;
    }
    while (i < n && plain(s[i])) i++;
    return i;
}

/* Writes one byte that is not plain (or the valid UTF-8 sequence it starts)
 * at o; returns the new end and advances *i. Room for 6 bytes is needed. */
static char *put_special(char *o, const unsigned char *s, size_t n, size_t *i)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[*i];
    if (c >= 0x80) {
        size_t u = utf8_len(s + *i, n - *i);
        if (u) {
            memcpy(o, s + *i, u);
            *i += u;
            return o + u;
        }
    }
    (*i)++;
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
        /* other control characters, DEL and invalid UTF-8 bytes */
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
    }
    return o;
}

/* Short strings (the common case: names, addresses, explanations) are
 * escaped straight into the buffer in one pass; long ones go piecewise. */
#define TL_JSON_SHORT 256

static void put_escaped(tl_json *j, const unsigned char *s, size_t n)
{
    if (n <= TL_JSON_SHORT) {
        char *o = reserve(j, n * 6 + 2);
        *o++ = '"';
        for (size_t i = 0; i < n;) {
            size_t run = plain_run(s, i, n);
            memcpy(o, s + i, run - i);
            o += run - i;
            i = run;
            if (i < n) o = put_special(o, s, n, &i);
        }
        *o++ = '"';
        j->len = (size_t)(o - j->buf);
        return;
    }
    putch(j, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = plain_run(s, i, n);
        if (run > i) {
            put(j, (const char *)s + i, run - i);
            i = run;
            if (i == n) break;
        }
        char *o = reserve(j, 6);
        o = put_special(o, s, n, &i);
        j->len = (size_t)(o - j->buf);
    }
    putch(j, '"');
}

void tl_json_put_string(tl_json *j, const char *s, size_t n)
{
    put_escaped(j, (const unsigned char *)s, n);
}

void tl_json_key(tl_json *j, const char *key)
{
    /* keys are the program's own ASCII names: copied without escaping */
    size_t n = strlen(key);
    if (n > TL_JSON_BUF - 4) n = TL_JSON_BUF - 4;
    char *o = reserve(j, n + 4);
    if (j->depth <= TL_JSON_MAX_DEPTH) {
        if (!j->first[j->depth]) *o++ = ',';
        j->first[j->depth] = false;
    }
    *o++ = '"';
    memcpy(o, key, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    j->len = (size_t)(o - j->buf);
    j->after_key = true;
}

void tl_json_strn(tl_json *j, const char *s, size_t n)
{
    before_value(j);
    put_escaped(j, (const unsigned char *)s, n);
}

void tl_json_str(tl_json *j, const char *s)
{
    if (!s) {
        tl_json_null(j);
        return;
    }
    tl_json_strn(j, s, strlen(s));
}

const char tl__digit_pairs[200] = {
#define TL_DIGIT_ROW(t) t, '0', t, '1', t, '2', t, '3', t, '4', t, '5', t, '6', t, '7', t, '8', t, '9'
    TL_DIGIT_ROW('0'), TL_DIGIT_ROW('1'), TL_DIGIT_ROW('2'), TL_DIGIT_ROW('3'), TL_DIGIT_ROW('4'),
    TL_DIGIT_ROW('5'), TL_DIGIT_ROW('6'), TL_DIGIT_ROW('7'), TL_DIGIT_ROW('8'), TL_DIGIT_ROW('9'),
#undef TL_DIGIT_ROW
};

char *tl__put_u64_wide(char *o, uint64_t v)
{
    if (v < 10000000000000000u) {
        uint32_t hi = (uint32_t)(v / 100000000);   /* < 10^8 */
        return tl__put8(tl__put_upto8(o, hi), (uint32_t)(v - (uint64_t)hi * 100000000));
    }
    uint32_t top = (uint32_t)(v / 10000000000000000u);   /* < 1845 */
    uint64_t rest = v - (uint64_t)top * 10000000000000000u;
    uint32_t mid = (uint32_t)(rest / 100000000);
    o = tl__put8(tl__put_upto4(o, top), mid);
    return tl__put8(o, (uint32_t)(rest - (uint64_t)mid * 100000000));
}

void tl_json_u64(tl_json *j, uint64_t v)
{
    before_value(j);
    char *o = reserve(j, 20);
    j->len += tl_fmt_u64(o, v);
}

void tl_json_i64(tl_json *j, int64_t v)
{
    char b[22];
    size_t n = 0;
    uint64_t u = (uint64_t)v;
    before_value(j);
    if (v < 0) {
        b[n++] = '-';
        u = 0 - u;    /* well defined for INT64_MIN too */
    }
    n += tl_fmt_u64(b + n, u);
    put(j, b, n);
}

void tl_json_bool(tl_json *j, bool v)
{
    before_value(j);
    if (v) put(j, "true", 4);
    else put(j, "false", 5);
}

void tl_json_null(tl_json *j)
{
    before_value(j);
    put(j, "null", 4);
}

/* v rounded to `digits` (0..9) fraction digits exactly as printf's "%.*f"
 * rounds (tl__fixed_scaled), for |v| < 10^9. Returns the length, 0 when v
 * is out of this range. */
static size_t fmt_fixed(char *b, double v, int digits)
{
    static const uint32_t pow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000,
                                       10000000, 100000000, 1000000000};
    double a = fabs(v);
    if (!(a < 1e9) || digits < 0 || digits > 9) return 0;
    char *o = b;
    if (digits == 6) {   /* the usual precision: divisions by constants */
        uint64_t q = tl__fixed_scaled(a, 1000000);
        if (q && signbit(v)) *o++ = '-';                 /* "-0.000" is written as 0 */
        return (size_t)(tl__put_scaled6(o, q) - b);
    }
    uint64_t q = tl__fixed_scaled(a, pow10[digits]);
    if (q && signbit(v)) *o++ = '-';
    uint64_t ip = q / pow10[digits], frac = q - ip * pow10[digits];
    o = tl_put_u64(o, ip);
    if (digits > 0) {
        /* frac as nine digits, of which the first `digits` are its own */
        uint32_t f9 = (uint32_t)frac * pow10[9 - digits];
        uint32_t first = f9 / 100000000;
        *o++ = '.';
        o[0] = (char)('0' + first);
        tl__put8(o + 1, f9 - first * 100000000);
        o += digits;
    }
    return (size_t)(o - b);
}

size_t tl_fmt_double(char *buf, double v, int digits)
{
    if (!isfinite(v)) {
        memcpy(buf, "null", 4);
        return 4;
    }
    if (digits < 0) digits = 0;
    if (digits > 17) digits = 17;
    size_t len = fmt_fixed(buf, v, digits);
    if (len) return len;
    /* %f never uses exponent notation; 330 bytes hold any finite double */
    int n = snprintf(buf, TL_JSON_DOUBLE_MAX, "%.*f", digits, v);
    if (n < 0) n = 0;
    if ((size_t)n >= TL_JSON_DOUBLE_MAX) n = (int)TL_JSON_DOUBLE_MAX - 1;
    /* "-0.000" rounds to zero: write it without the sign */
    if (buf[0] == '-' && strspn(buf + 1, "0.") == (size_t)n - 1) {
        memmove(buf, buf + 1, (size_t)n - 1);
        n--;
    }
    return (size_t)n;
}

void tl_json_double(tl_json *j, double v, int digits)
{
    before_value(j);
    char *o = reserve(j, TL_JSON_DOUBLE_MAX);
    j->len += tl_fmt_double(o, v, digits);
}

/* The fraction of a timestamp: '.' and the first `digits` (1..9) of the
 * nine digits of nsec, i.e. truncated to the capture's own precision
 * without a division by a variable. Writes 10 bytes at o. */
static char *put_frac(char *o, uint32_t nsec, int digits)
{
    uint32_t first = nsec / 100000000;
    *o++ = '.';
    o[0] = (char)('0' + first);
    tl__put8(o + 1, nsec - first * 100000000);
    return o + digits;
}

size_t tl_fmt_time(char *buf, tl_time t, int digits)
{
    if (digits < 0) digits = 0;
    if (digits > 9) digits = 9;
    char *o = buf;
    uint64_t sec;
    uint32_t nsec = t.nsec % 1000000000u;
    if (t.sec < 0) {
        /* -2.25 s is sec = -3, nsec = 750000000 */
        uint64_t mag = 0 - (uint64_t)t.sec;
        if (nsec) {
            sec = mag - 1;
            nsec = 1000000000u - nsec;
        } else
            sec = mag;
        if (sec || nsec) *o++ = '-';
    } else
        sec = (uint64_t)t.sec;
    o = tl_put_u64(o, sec);
    /* sign, 20 digits, point and 9 digits fit 32 bytes */
    if (digits > 0) o = put_frac(o, nsec, digits);
    return (size_t)(o - buf);
}

size_t tl_fmt_time_cached(char *buf, tl_time t, int digits, tl_sec_text *c)
{
    if (t.sec < 0 || t.nsec >= 1000000000u || digits <= 0 || digits > 9) return tl_fmt_time(buf, t, digits);
    if (t.sec != c->sec) {
        c->sec = t.sec;
        c->n = (size_t)(tl_put_u64(c->s, (uint64_t)t.sec) - c->s);
    }
    memcpy(buf, c->s, sizeof c->s);   /* 19 digits at most: the rest is overwritten */
    return (size_t)(put_frac(buf + c->n, t.nsec, digits) - buf);
}

void tl_json_time(tl_json *j, tl_time t, int digits)
{
    before_value(j);
    char *o = reserve(j, 32);
    j->len += tl_fmt_time(o, t, digits);
}

void tl_json_kv_str(tl_json *j, const char *key, const char *s)
{
    tl_json_key(j, key);
    tl_json_str(j, s);
}

void tl_json_kv_u64(tl_json *j, const char *key, uint64_t v)
{
    tl_json_key(j, key);
    tl_json_u64(j, v);
}

void tl_json_kv_i64(tl_json *j, const char *key, int64_t v)
{
    tl_json_key(j, key);
    tl_json_i64(j, v);
}

void tl_json_kv_bool(tl_json *j, const char *key, bool v)
{
    tl_json_key(j, key);
    tl_json_bool(j, v);
}

void tl_json_kv_null(tl_json *j, const char *key)
{
    tl_json_key(j, key);
    tl_json_null(j);
}

void tl_json_kv_double(tl_json *j, const char *key, double v, int digits)
{
    tl_json_key(j, key);
    tl_json_double(j, v, digits);
}

void tl_json_kv_time(tl_json *j, const char *key, tl_time t, int digits)
{
    tl_json_key(j, key);
    tl_json_time(j, t, digits);
}
