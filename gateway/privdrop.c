/*
 * privdrop.c - setgroups/setgid/setuid to an unprivileged account.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "privdrop.h"

static int
privdrop_fail(char **err_out, const char *what, const char *user)
{
	struct buf b;

	buf_init(&b, 512);
	(void)buf_printf(&b, "%s (user %s)", what, user);
	*err_out = buf_steal(&b, NULL);
	return -1;
}

int
privdrop(const char *user, char **err_out)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL)
		return privdrop_fail(err_out, "no such user", user);
	if (pw->pw_uid == 0)
		return privdrop_fail(err_out, "refusing to run as root", user);
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return privdrop_fail(err_out, "cannot change identity", user);
	/* paranoia: make sure root cannot be regained */
	if (setuid(0) == 0)
		return privdrop_fail(err_out, "root regained after setuid",
		    user);
	return 0;
}
