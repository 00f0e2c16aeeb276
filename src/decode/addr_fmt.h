/* addr_fmt.h -- an address's text written straight into an output buffer
 * (no NUL, no copy through a temporary): the sinks format two addresses per
 * packet. Same text as tl_addr_format(). Internal.
 */
#ifndef TL_DECODE_ADDR_FMT_H
#define TL_DECODE_ADDR_FMT_H

#include <stddef.h>

#include "tcplens/packet.h"

/* Room an address's text may need at o (IPv6 with an IPv4 tail is 45;
 * the writers store up to 4 bytes past the text's end, always within 48). */
#define TL__ADDR_TEXT_MAX 48

/* Writes a's text at o (TL__ADDR_TEXT_MAX bytes of room); returns its length. */
size_t tl__addr_put(char *o, const tl_addr *a);

#endif
