/* privdrop.h -- giving up root after a capture is open (tcpdump -Z). */
#ifndef TL_CLI_PRIVDROP_H
#define TL_CLI_PRIVDROP_H

#include "tcplens/tcplens.h"

/* When running as root: switch to `user`, else $SUDO_USER, else "nobody",
 * with every capability gone (bounding set cleared, no_new_privs). A no-op
 * when not root. Fails (errbuf says why) if root could not be left. */
TL_MUST_USE int tl_drop_privileges(const char *user, char *errbuf);

#endif
