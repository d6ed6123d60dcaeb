/* policy.c - what a kTLS endpoint does with each record that is not application data: the one
 * policy the relay's kernel path and ktlscat share. */
#include "ktls.h"

#include <stdio.h>

enum ktls_action ktls_record_action(const struct ktls_record_info *ri, unsigned can,
				    uint8_t *alert, char *why, size_t whylen)
{
	char what[128];

	*alert = 0;
	ktls_record_format(ri, what, sizeof(what));
	switch (ri->kind) {
	case KTLS_REC_DATA:
		return KTLS_ACT_DATA;
	case KTLS_REC_NEW_SESSION_TICKET:
		/* A client's session cache is OpenSSL's business, and that SSL is gone. */
		return KTLS_ACT_SKIP;
	case KTLS_REC_CLOSE_NOTIFY:
		return KTLS_ACT_EOF;
	case KTLS_REC_KEY_UPDATE:
		if ((can & (KTLS_CAN_REKEY_KERNEL | KTLS_CAN_REKEY_SECRETS)) ==
		    (KTLS_CAN_REKEY_KERNEL | KTLS_CAN_REKEY_SECRETS)) {
			snprintf(why, whylen, "peer sent %s: followed", what);
			return KTLS_ACT_REKEY;
		}
		/* The kernel refuses reads after a KeyUpdate until it has the next RX key: what
		 * came before it is whole and can still be delivered, nothing after it can. */
		if (!(can & KTLS_CAN_REKEY_KERNEL))
			snprintf(why, whylen,
				 "peer sent %s: this kernel cannot take new receive keys (kTLS "
				 "rekey needs Linux 6.14; a newer kernel would have followed it); "
				 "every byte before it was delivered, none after",
				 what);
		else
			snprintf(why, whylen,
				 "peer sent %s: the traffic secrets were not kept for this "
				 "connection, so it cannot be followed; every byte before it was "
				 "delivered, none after",
				 what);
		return KTLS_ACT_END_AFTER;
	case KTLS_REC_MALFORMED:
		*alert = ri->reply_alert ? ri->reply_alert : KTLS_ALERT_DECODE_ERROR;
		snprintf(why, whylen, "peer sent %s: answered with alert %s", what,
			 ktls_alert_name(*alert));
		return KTLS_ACT_ALERT;
	case KTLS_REC_HANDSHAKE:
	case KTLS_REC_ALERT:
	case KTLS_REC_OTHER:
		break;
	}
	snprintf(why, whylen, "peer sent %s", what);
	return KTLS_ACT_END;
}
