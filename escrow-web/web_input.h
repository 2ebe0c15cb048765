/*
 * web_input.h - checks of the values users type or URLs carry: e-mail
 * addresses, passwords, the "next" target after login.
 *
 * Pure: no I/O, no logging.
 */
#ifndef SEALGATE_WEB_INPUT_H
#define SEALGATE_WEB_INPUT_H

#include <stddef.h>

#include "web_limits.h"

/*
 * web_input_email - the address as escrow_users stores it: blanks
 * around it trimmed, local part as is, domain lower-cased (ASCII).
 * Refused (-1): empty, over WEB_EMAIL_MAX bytes, no '@' or an empty
 * side, blanks, control bytes, '<', '>', ',' or ';' inside.
 * 0 ok with out (outsz >= WEB_EMAIL_MAX + 1) filled.
 */
int web_input_email(const char *in, char *out, size_t outsz);

enum web_pw_check {
	WEB_PW_OK = 0,
	WEB_PW_SHORT,		/* fewer than WEB_PASSWORD_MIN characters */
	WEB_PW_LONG,		/* more than WEB_PASSWORD_MAX bytes */
	WEB_PW_MISMATCH,	/* the two fields differ */
	WEB_PW_MISSING,		/* a field was not sent */
};

/* web_input_password - a new password and its repetition. Characters
 * are code points (a malformed byte counts as one). */
enum web_pw_check web_input_password(const char *pw, const char *pw2);

/* web_input_password_text - the sentence shown for a failed check */
const char *web_input_password_text(enum web_pw_check c);

/* web_input_next - 1 if next is a local message path "/m/ID" (ID a
 * well-formed escrow id), the only place login may send back to */
int web_input_next(const char *next);

#endif
