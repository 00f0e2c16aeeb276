/* privdrop.c -- drop root and all capabilities after opening a capture. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli/privdrop.h"

int tl_drop_privileges(const char *user, char *errbuf)
{
    if (geteuid() != 0 && getuid() != 0) {
        /* Not root, but file capabilities may have given us some: shed them. */
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        return TL_OK;
    }
    if (!user || !*user) user = getenv("SUDO_USER");
    if (!user || !*user || !strcmp(user, "root")) user = "nobody";
    struct passwd *pw = getpwnam(user);
    if (!pw) return tl_err(errbuf, TL_ENOTFOUND, "drop privileges: no user '%s'", user);
    if (pw->pw_uid == 0)
        return tl_err(errbuf, TL_EPERM, "drop privileges: user '%s' is root", user);

    /* The bounding set can only shrink while we still hold CAP_SETPCAP. */
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 && setgroups(0, NULL) < 0)
        return tl_err(errbuf, TL_EPERM, "drop privileges: setgroups: %s", strerror(errno));
    if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
        return tl_err(errbuf, TL_EPERM, "drop privileges: setgid: %s", strerror(errno));
    /* Leaving uid 0 without SECBIT_KEEP_CAPS clears permitted and effective. */
    if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
        return tl_err(errbuf, TL_EPERM, "drop privileges: setuid: %s", strerror(errno));
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (getuid() == 0 || geteuid() == 0 || setuid(0) == 0)
        return tl_err(errbuf, TL_EPERM, "drop privileges: still root after switching to '%s'", user);
    return TL_OK;
}
