/*
 * web_input.c - e-mail, password and next-path checks.
 *
 * Implements: RFC 5321 4.5.3.1.3 (path length).
 * Trust: form fields and query strings, any bytes. No I/O, no logging.
 */
#include <string.h>

#include "token.h"
#include "web_input.h"
#include "lib/json.h"		/* utf8_seq_len */

int
web_input_email(const char *in, char *out, size_t outsz)
{
	size_t len, s = 0, e, i, at;

	if (in == NULL)
		return -1;
	len = strlen(in);
	e = len;
	while (s < e && (in[s] == ' ' || in[s] == '\t'))
		s++;
	while (e > s && (in[e - 1] == ' ' || in[e - 1] == '\t'))
		e--;
	if (e == s || e - s > WEB_EMAIL_MAX || e - s + 1 > outsz)
		return -1;
	at = e;
	for (i = s; i < e; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= 0x20 || c == 0x7f || strchr("<>,;", c) != NULL)
			return -1;
		if (c == '@')
			at = i;
	}
	if (at == e || at == s || at + 1 == e)
		return -1;
	/* the database speaks UTF-8: refuse what it would refuse */
	if (!utf8_valid(in + s, e - s))
		return -1;
	for (i = s; i < e; i++) {
		char c = in[i];
		if (i > at && c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		out[i - s] = c;
	}
	out[e - s] = '\0';
	return 0;
}

enum web_pw_check
web_input_password(const char *pw, const char *pw2)
{
	size_t len, i = 0, chars = 0, n;

	if (pw == NULL || pw2 == NULL)
		return WEB_PW_MISSING;
	len = strlen(pw);
	if (len > WEB_PASSWORD_MAX)
		return WEB_PW_LONG;
	while (i < len) {
		n = utf8_seq_len((const unsigned char *)pw + i, len - i);
		i += n == 0 ? 1 : n;
		chars++;
	}
	if (chars < WEB_PASSWORD_MIN)
		return WEB_PW_SHORT;
	if (strcmp(pw, pw2) != 0)
		return WEB_PW_MISMATCH;
	return WEB_PW_OK;
}

const char *
web_input_password_text(enum web_pw_check c)
{
	switch (c) {
	case WEB_PW_OK:
		return "";
	case WEB_PW_SHORT:
		return "The password must have at least 10 characters.";
	case WEB_PW_LONG:
		return "The password is too long.";
	case WEB_PW_MISMATCH:
		return "The two passwords are not the same.";
	case WEB_PW_MISSING:
		break;
	}
	return "Please enter the password twice.";
}

int
web_input_next(const char *next)
{
	return next != NULL && strncmp(next, "/m/", 3) == 0 &&
	    token_valid_syntax(next + 3);
}
