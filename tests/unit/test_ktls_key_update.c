/* test_ktls_key_update.c - the KeyUpdate message (parse every malformed case, build), what a
 * classified record's alert answer is, the one control-record policy, and the probe line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ktls.h"

struct parse_case {
	const char *name;
	uint8_t msg[8];
	size_t len;
	int ret;
	uint8_t alert;	/* when ret < 0 */
	bool requested; /* when ret == 0 */
};

/* RFC 8446 §4.6.3 and §6.2: a body that is not one byte cannot be decoded (decode_error); a byte
 * outside KeyUpdateRequest's enum is an illegal value (illegal_parameter). */
static const struct parse_case parse_cases[] = {
    {"update_not_requested", {24, 0, 0, 1, 0}, 5, 0, 0, false},
    {"update_requested", {24, 0, 0, 1, 1}, 5, 0, 0, true},
    {"request value 2", {24, 0, 0, 1, 2}, 5, -EBADMSG, KTLS_ALERT_ILLEGAL_PARAMETER, false},
    {"request value 255", {24, 0, 0, 1, 255}, 5, -EBADMSG, KTLS_ALERT_ILLEGAL_PARAMETER, false},
    {"empty body", {24, 0, 0, 0}, 4, -EBADMSG, KTLS_ALERT_DECODE_ERROR, false},
    {"two-byte body", {24, 0, 0, 2, 0, 0}, 6, -EBADMSG, KTLS_ALERT_DECODE_ERROR, false},
    {"length 0x010001", {24, 1, 0, 1, 0}, 5, -EBADMSG, KTLS_ALERT_DECODE_ERROR, false},
    {"length 0x000101", {24, 0, 1, 1, 0}, 5, -EBADMSG, KTLS_ALERT_DECODE_ERROR, false},
    {"body cut", {24, 0, 0, 1}, 4, -EBADMSG, KTLS_ALERT_DECODE_ERROR, false},
    {"header cut", {24, 0, 0}, 3, -EBADMSG, KTLS_ALERT_DECODE_ERROR, false},
    {"nothing", {0}, 0, -EBADMSG, KTLS_ALERT_DECODE_ERROR, false},
    {"not a KeyUpdate", {4, 0, 0, 1, 0}, 5, -EBADMSG, KTLS_ALERT_DECODE_ERROR, false},
};

static void key_update_parse_every_case(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *pc = &parse_cases[i];
		bool requested = !pc->requested;
		uint8_t alert = 0xee;

		print_message("%s\n", pc->name);
		assert_int_equal(ktls_key_update_parse(pc->msg, pc->len, &requested, &alert),
				 pc->ret);
		if (pc->ret == 0) {
			assert_int_equal(requested, pc->requested);
			assert_int_equal(alert, 0xee);
		} else {
			assert_int_equal(alert, pc->alert);
		}
	}
}

static void key_update_build_parses_back(void **state)
{
	uint8_t msg[KTLS_KEY_UPDATE_LEN], alert;
	const uint8_t want[] = {24, 0, 0, 1, 1};
	bool requested;

	ktls_key_update_build(msg, true);
	assert_memory_equal(msg, want, sizeof(want));
	assert_int_equal(ktls_key_update_parse(msg, sizeof(msg), &requested, &alert), 0);
	assert_true(requested);
	ktls_key_update_build(msg, false);
	assert_int_equal(msg[4], 0);
	assert_int_equal(ktls_key_update_parse(msg, sizeof(msg), &requested, &alert), 0);
	assert_false(requested);
}

struct classify_case {
	const char *name;
	uint8_t type;
	uint8_t buf[16];
	size_t len;
	enum ktls_record_kind kind;
	uint8_t reply_alert;
};

/* Malformed records in a record layer that hands us one record at a time, and what each is
 * answered with (RFC 8446 §5.1, §6.2). */
static const struct classify_case classify_cases[] = {
    {"KeyUpdate value 2", 22, {24, 0, 0, 1, 2}, 5, KTLS_REC_MALFORMED, 47},
    {"KeyUpdate long body", 22, {24, 0, 0, 2, 0, 0}, 6, KTLS_REC_MALFORMED, 50},
    {"KeyUpdate empty body", 22, {24, 0, 0, 0}, 4, KTLS_REC_MALFORMED, 50},
    {"KeyUpdate then a ticket", 22, {24, 0, 0, 1, 0, 4, 0, 0, 0}, 9, KTLS_REC_MALFORMED, 10},
    {"two KeyUpdates", 22, {24, 0, 0, 1, 0, 24, 0, 0, 1, 0}, 10, KTLS_REC_MALFORMED, 10},
    {"KeyUpdate body beyond the record", 22, {24, 0, 0, 9, 0}, 5, KTLS_REC_MALFORMED, 50},
    {"empty handshake record", 22, {0}, 0, KTLS_REC_MALFORMED, 10},
    {"handshake header cut", 22, {4, 0, 0}, 3, KTLS_REC_MALFORMED, 50},
    {"alert of three bytes", 21, {2, 20, 0}, 3, KTLS_REC_MALFORMED, 50},
    {"ticket then KeyUpdate", 22, {4, 0, 0, 1, 0xaa, 24, 0, 0, 1, 1}, 10, KTLS_REC_KEY_UPDATE, 0},
};

static void malformed_records_say_which_alert(void **state)
{
	struct ktls_record_info ri;
	char text[128];
	size_t i;

	for (i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
		const struct classify_case *cc = &classify_cases[i];

		print_message("%s\n", cc->name);
		ktls_record_classify(cc->type, cc->buf, cc->len, &ri);
		assert_int_equal(ri.kind, cc->kind);
		assert_int_equal(ri.reply_alert, cc->reply_alert);
		ktls_record_format(&ri, text, sizeof(text));
		if (cc->kind == KTLS_REC_MALFORMED && cc->buf[0] == 24 && cc->type == 22)
			assert_string_equal(text, "malformed KeyUpdate");
	}
}

struct action_case {
	const char *name;
	uint8_t type;
	uint8_t buf[8];
	size_t len;
	unsigned can;
	enum ktls_action action;
	uint8_t alert;
	const char *why; /* a part of the reason */
};

#define BOTH (KTLS_CAN_REKEY_KERNEL | KTLS_CAN_REKEY_SECRETS)

/* The policy, row by row: what each record does on a kernel that can follow a KeyUpdate (with
 * the secrets kept), one that can but kept none, and one that cannot. */
static const struct action_case action_cases[] = {
    {"data", 23, {1, 2}, 2, 0, KTLS_ACT_DATA, 0, NULL},
    {"ticket", 22, {4, 0, 0, 1, 0}, 5, 0, KTLS_ACT_SKIP, 0, NULL},
    {"close_notify", 21, {1, 0}, 2, BOTH, KTLS_ACT_EOF, 0, NULL},
    {"KeyUpdate, rekey kernel", 22, {24, 0, 0, 1, 1}, 5, BOTH, KTLS_ACT_REKEY, 0, "followed"},
    {"KeyUpdate, 6.1", 22, {24, 0, 0, 1, 0}, 5, 0, KTLS_ACT_END_AFTER, 0,
     "peer sent KeyUpdate (update_not_requested): this kernel cannot take new receive keys "
     "(kTLS rekey needs Linux 6.14; a newer kernel would have followed it)"},
    {"KeyUpdate, 6.1 with secrets", 22, {24, 0, 0, 1, 0}, 5, KTLS_CAN_REKEY_SECRETS,
     KTLS_ACT_END_AFTER, 0, "a newer kernel would have followed it"},
    {"KeyUpdate, no secrets kept", 22, {24, 0, 0, 1, 1}, 5, KTLS_CAN_REKEY_KERNEL,
     KTLS_ACT_END_AFTER, 0, "secrets were not kept"},
    {"malformed KeyUpdate", 22, {24, 0, 0, 1, 7}, 5, BOTH, KTLS_ACT_ALERT, 47,
     "peer sent malformed KeyUpdate: answered with alert illegal_parameter"},
    {"KeyUpdate with a ticket after it", 22, {24, 0, 0, 1, 0, 4, 0, 0}, 8, BOTH, KTLS_ACT_ALERT,
     10, "unexpected_message"},
    {"fatal alert", 21, {2, 20}, 2, BOTH, KTLS_ACT_END, 0,
     "peer sent alert fatal bad_record_mac(20)"},
    {"CertificateRequest", 22, {13, 0, 0, 0}, 4, BOTH, KTLS_ACT_END, 0, "message type 13"},
    {"unknown type", 99, {0}, 1, BOTH, KTLS_ACT_END, 0, "record type 99"},
};

static void record_action_for_every_case(void **state)
{
	struct ktls_record_info ri;
	char why[256];
	uint8_t alert;
	size_t i;

	for (i = 0; i < sizeof(action_cases) / sizeof(action_cases[0]); i++) {
		const struct action_case *ac = &action_cases[i];

		print_message("%s\n", ac->name);
		ktls_record_classify(ac->type, ac->buf, ac->len, &ri);
		why[0] = '\0';
		alert = 0xee;
		assert_int_equal(ktls_record_action(&ri, ac->can, &alert, why, sizeof(why)),
				 ac->action);
		assert_int_equal(alert, ac->alert);
		if (ac->why)
			assert_non_null(strstr(why, ac->why));
	}
}

/* Without a kept secret nothing is derived; on a socket without kTLS the kernel's refusal is
 * the reason, and the kept secret is not advanced. */
static void rekey_refusals_say_why(void **state)
{
	struct ktls_rekey_state rk = {0};
	char why[256] = "";
	uint8_t before[KTLS_SECRET_MAX];
	int fds[2];

	assert_int_equal(ktls_rekey(-1, &rk, KTLS_DIR_RX, why, sizeof(why)), -ENOKEY);
	assert_string_equal(why, "cannot derive the next TLS_RX key: no traffic secret kept");
	rk.cipher = ktls_cipher_by_suite(0x1302);
	rk.secret_len = 48;
	memset(rk.secret, 7, sizeof(rk.secret));
	memcpy(before, rk.secret[KTLS_DIR_TX], sizeof(before));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	assert_true(ktls_rekey(fds[0], &rk, KTLS_DIR_TX, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "kernel refused TLS_TX for TLS_AES_256_GCM_SHA384"));
	/* ktls_rekey_next advanced it: the connection is dead after a refusal anyway. */
	assert_int_equal(rk.updates[KTLS_DIR_TX], 1);
	assert_memory_not_equal(rk.secret[KTLS_DIR_TX], before, sizeof(before));
	ktls_rekey_wipe(&rk);
	assert_null(rk.cipher);
	close(fds[0]);
	close(fds[1]);
}

static void probe_line_says_each_rekey_direction(void **state)
{
	struct ktls_probe p = {.ulp = true, .rx = true, .kernel = "7.2.13", .rekey_tx = true};
	char line[256];

	p.ciphers = 1;
	ktls_probe_format(&p, line, sizeof(line));
	assert_non_null(strstr(line, " rekey_tx=yes rekey_rx=no"));
	p.rekey_rx = true;
	ktls_probe_format(&p, line, sizeof(line));
	assert_non_null(strstr(line, " rekey_tx=yes rekey_rx=yes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(key_update_parse_every_case),
	    cmocka_unit_test(key_update_build_parses_back),
	    cmocka_unit_test(malformed_records_say_which_alert),
	    cmocka_unit_test(record_action_for_every_case),
	    cmocka_unit_test(rekey_refusals_say_why),
	    cmocka_unit_test(probe_line_says_each_rekey_direction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
