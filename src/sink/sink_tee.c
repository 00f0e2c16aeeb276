/* sink_tee.c -- fan-out sink: every record goes to each of n sinks in the
 * order given (e.g. text on stdout plus JSON to a file). Owns its sinks.
 */
#include <stdlib.h>
#include <string.h>

#include "tcplens/sink.h"

typedef struct tl_tee {
    size_t n;
    tl_sink s[];
} tl_tee;

#define TL_TEE_FORWARD(op, arg)                                    \
    do {                                                           \
        tl_tee *t = ctx;                                           \
        for (size_t i = 0; i < t->n; i++)                          \
            if (t->s[i].ops && t->s[i].ops->op)                    \
                t->s[i].ops->op(t->s[i].ctx, arg);                 \
    } while (0)

static void on_packet(void *ctx, const tl_pkt_view *v) { TL_TEE_FORWARD(packet, v); }
static void on_state(void *ctx, const tl_state_change *c) { TL_TEE_FORWARD(state, c); }
static void on_event(void *ctx, const tl_event *e) { TL_TEE_FORWARD(event, e); }
static void on_conn(void *ctx, const tl_conn_record *r) { TL_TEE_FORWARD(conn, r); }
static void on_error(void *ctx, const tl_error_record *e) { TL_TEE_FORWARD(error, e); }
static void on_finish(void *ctx, const tl_stats *st) { TL_TEE_FORWARD(finish, st); }
static void on_start(void *ctx, const tl_frame *first) { TL_TEE_FORWARD(start, first); }

static void on_free(void *ctx)
{
    tl_tee *t = ctx;
    for (size_t i = 0; i < t->n; i++) tl_sink_free(&t->s[i]);
    free(t);
}

static const tl_sink_ops tl_tee_ops = {
    .packet = on_packet,
    .state = on_state,
    .event = on_event,
    .conn = on_conn,
    .error = on_error,
    .finish = on_finish,
    .free = on_free,
    .start = on_start,
};

int tl_sink_tee_new(tl_sink *out, const tl_sink *sinks, size_t n)
{
    if (!out || (n && !sinks)) return TL_EINVAL;
    if (n > (SIZE_MAX - sizeof(tl_tee)) / sizeof(tl_sink)) return TL_ENOMEM;
    tl_tee *t = malloc(sizeof *t + n * sizeof(tl_sink));
    if (!t) return TL_ENOMEM;
    t->n = n;
    if (n) memcpy(t->s, sinks, n * sizeof(tl_sink));
    out->ops = &tl_tee_ops;
    out->ctx = t;
    return TL_OK;
}
