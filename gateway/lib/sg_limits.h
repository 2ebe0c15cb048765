/*
 * sg_limits.h - every protocol ceiling in one place.
 * Runtime-configurable limits take their defaults from here.
 */
#ifndef SEALGATE_SG_LIMITS_H
#define SEALGATE_SG_LIMITS_H

#define SG_SMTP_CMD_LINE_MAX	512	/* RFC 5321 4.5.3.1.4, incl. CRLF */
#define SG_SMTP_TEXT_LINE_MAX	1000	/* RFC 5321 4.5.3.1.6, incl. CRLF */
#define SG_SMTP_REPLY_LINE_MAX	512	/* RFC 5321 4.5.3.1.5 */
#define SG_SMTP_AUTH_LINE_MAX	12288	/* AUTH initial response/continuation */
#define SG_SMTP_PATH_MAX	256	/* RFC 5321 4.5.3.1.3 */
#define SG_SMTP_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define SG_SMTP_DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */
#define SG_SMTP_EHLO_MAX	255
#define SG_SMTP_RCPT_MAX_DEFAULT 100	/* RFC 5321 4.5.3.1.8 minimum */
#define SG_SMTP_MSG_MAX_DEFAULT	(25u * 1024 * 1024)
#define SG_SMTP_ERRORS_MAX	10	/* hard error limit, then 421 */
#define SG_SMTP_PRE_AUTH_BUF	4096	/* buffered input before EHLO/TLS */
#define SG_SMTP_INPUT_BUF	65536	/* buffered input once talking */
#define SG_SMTP_OUTPUT_MAX	65536	/* pending replies per session */

/* RFC 5321 4.5.3.2 server timeout: 5 minutes */
#define SG_SMTP_IDLE_TIMEOUT_DEFAULT	300
#define SG_SMTP_DATA_TIMEOUT_DEFAULT	600

#define SG_LOG_VALUE_MAX	200	/* network text in a log line */
#define SG_CONFIG_LINE_MAX	4096
#define SG_CONFIG_FILE_MAX	(1024 * 1024)

#endif
