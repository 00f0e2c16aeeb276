/* addr.c -- formatting and comparing IP addresses.
 *
 * The text is exactly what glibc's inet_ntop(3) prints, which is also what
 * tshark prints for ip.src / ipv6.src: a dotted quad for IPv4; for IPv6
 * the RFC 5952 form (lowercase, no leading zeros, the longest run of two or
 * more zero groups -- the first on a tie -- as "::"), with the IPv4 tail
 * for ::a.b.c.d and ::ffff:a.b.c.d. Written out rather than calling
 * inet_ntop because output sinks format an address per packet line.
 */
#include <string.h>

#include "tcplens/packet.h"

static const char hexdig[] = "0123456789abcdef";

static char *put_dec(char *o, unsigned v)
{
    if (v >= 100) *o++ = (char)('0' + v / 100);
    if (v >= 10) *o++ = (char)('0' + v / 10 % 10);
    *o++ = (char)('0' + v % 10);
    return o;
}

static char *put_v4(char *o, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        if (i) *o++ = '.';
        o = put_dec(o, b[i]);
    }
    return o;
}

static char *put_hex16(char *o, unsigned w)
{
    bool lead = true;
    for (int s = 12; s >= 0; s -= 4) {
        unsigned d = (w >> s) & 0xfu;
        if (lead && d == 0 && s) continue;
        lead = false;
        *o++ = hexdig[d];
    }
    return o;
}

static char *put_v6(char *o, const uint8_t *b)
{
    unsigned w[8];
    for (int i = 0; i < 8; i++) w[i] = ((unsigned)b[2 * i] << 8) | b[2 * i + 1];
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (w[i]) { i++; continue; }
        int j = i;
        while (j < 8 && w[j] == 0) j++;
        if (j - i > best_len) { best = i; best_len = j - i; }
        i = j;
    }
    if (best_len < 2) best = -1;
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best) *o++ = ':';
            continue;
        }
        if (i) *o++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffffu)))
            return put_v4(o, b + 12);
        o = put_hex16(o, w[i]);
    }
    if (best >= 0 && best + best_len == 8) *o++ = ':';
    return o;
}

char *tl_addr_format(const tl_addr *a, char *buf, size_t buflen)
{
    char tmp[48];
    char *end = tmp;
    if (a->family == 4) end = put_v4(tmp, a->bytes);
    else if (a->family == 6) end = put_v6(tmp, a->bytes);
    else *end++ = '?';
    size_t n = (size_t)(end - tmp);
    if (buflen == 0) return buf;
    if (n >= buflen) n = buflen - 1; /* cut rather than overflow */
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return buf;
}

bool tl_addr_equal(const tl_addr *a, const tl_addr *b)
{
    if (a->family != b->family) return false;
    size_t n = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
    return memcmp(a->bytes, b->bytes, n) == 0;
}
