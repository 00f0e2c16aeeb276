/* sink_zeek.h -- the --zeek sink: connection records as a Zeek conn.log.
 *
 * Writes Zeek's TSV log format (header lines #separator ... #types, one row
 * per connection record, #close at the end) with the standard conn.log
 * columns, so zeek-cut and Zeek log pipelines read it as is. Only the conn
 * callback produces rows; packets, states and events are ignored.
 */
#ifndef TCPLENS_SINK_ZEEK_H
#define TCPLENS_SINK_ZEEK_H

#include <stdio.h>
#include "tcplens/sink.h"

/* fp is borrowed: the sink writes to it and never closes it. */
TL_MUST_USE int tl_sink_zeek_new(tl_sink *out, FILE *fp);

#endif
