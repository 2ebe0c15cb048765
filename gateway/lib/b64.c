/*
 * b64.c - strict base64 decoder/encoder.
 */
#include "b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
b64_decode(const char *in, size_t len, struct buf *out)
{
	size_t i, start = out->len;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], pad = 0, k;
		unsigned char o[3];

		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				goto bad;	/* data after '=' */
			v[k] = b64_val(c);
			if (v[k] < 0)
				goto bad;
		}
		o[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		o[1] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		o[2] = (unsigned char)((v[2] & 3) << 6 | v[3]);
		if (buf_append(out, o, (size_t)(3 - pad)) < 0)
			goto bad;
	}
	return 0;
bad:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}

int
b64_encode(const unsigned char *in, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		char o[4];
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		o[0] = alphabet[v >> 18 & 63];
		o[1] = alphabet[v >> 12 & 63];
		o[2] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		o[3] = i + 2 < len ? alphabet[v & 63] : '=';
		if (buf_append(out, o, 4) < 0)
			return -1;
	}
	return 0;
}
