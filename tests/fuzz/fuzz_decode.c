/* fuzz_decode.c -- libFuzzer target for tl_decode().
 *
 * The first input byte picks a link type from the supported list, the rest
 * is the frame. Each frame is decoded with checksum verification on and
 * off; the two runs must agree on everything but cksum_status, and an OK
 * result must describe bytes inside the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcplens/packet.h"

static const int linktypes[] = {0, 1, 12, 101, 108, 113, 228, 229, 276, 147};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int dlt = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
    const uint8_t *frame = data + 1;
    uint32_t caplen = (uint32_t)(size - 1);

    tl_packet a, b;
    tl_decode_reason ra, rb;
    tl_decode_result res_a = tl_decode(dlt, frame, caplen, true, &a, &ra);
    tl_decode_result res_b = tl_decode(dlt, frame, caplen, false, &b, &rb);
    if (res_a != res_b || ra != rb) abort();
    if (b.cksum_status != TL_CKSUM_UNCHECKED) abort();
    a.cksum_status = TL_CKSUM_UNCHECKED;
    if (memcmp(&a, &b, sizeof a) != 0) abort();

    if (res_a == TL_DECODE_OK) {
        if (a.payload_caplen > a.payload_len) abort();
        if (a.payload < frame || a.payload + a.payload_caplen > frame + caplen) abort();
        if (a.tcp_hlen < 20 || a.tcp_hlen > 60) abort();
        if (a.opt.n_sack > TL_MAX_SACK || a.opt.n_unknown > TL_MAX_UNKNOWN_OPTS) abort();
        /* Touch every payload byte so ASan checks the range. */
        volatile uint8_t sink = 0;
        for (uint32_t i = 0; i < a.payload_caplen; i++) sink ^= a.payload[i];
        (void)sink;
    }
    if (tl_decode_reason_name(ra) == NULL || tl_decode_result_name(res_a) == NULL) abort();

    char buf[46];
    tl_addr_format(&a.src, buf, sizeof buf);
    tl_addr_format(&a.dst, buf, sizeof buf);

    tl_tcp_options opt;
    tl_decode_tcp_options(frame, caplen > 40 ? 40 : caplen, &opt);
    return 0;
}
