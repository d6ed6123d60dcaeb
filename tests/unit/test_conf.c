/* test_conf.c - relay/conf*.c: stunnel's file format, one behaviour per test.
 *
 * Each test writes its configuration into a fresh temporary directory (or reads the seed's two
 * files from tests/unit/data/conf) and checks the parsed values, or the exact error line. */
#include "conf.h"
#include "conf_parse.h" /* the option table, walked by service_inherits_every_global_option */

#include <arpa/inet.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>

#include <openssl/ssl.h>

static char dir[64];
static char path[128];
static char err[1024];

/* A minimal valid service, so that each test adds only what it is about. */
#define SVC "[s]\naccept = 127.0.0.1:20001\nconnect = 127.0.0.1:20002\nclient = yes\n"

static int make_dir(void **state)
{
	strcpy(dir, "/tmp/test_conf.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	return 0;
}

static int remove_dir(void **state)
{
	unlink(path);
	return rmdir(dir);
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static struct conf *load_path(const char *file)
{
	struct conf *c = NULL;

	err[0] = '\0';
	if (conf_load(file, false, &c, err, sizeof(err)))
		fail_msg("conf_load failed: %s", err);
	assert_non_null(c);
	return c;
}

static struct conf *load(const char *text)
{
	write_text(text);
	return load_path(path);
}

/* what: the error after the file name, e.g. ":7: unknown option 'foo'" or ": no service ..." */
static void expect_error(const char *text, const char *what)
{
	struct conf *c = (struct conf *)1;
	char expected[1024];

	write_text(text);
	snprintf(expected, sizeof(expected), "%s%s", path, what);
	assert_int_equal(conf_load(path, false, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, expected);
}

__attribute__((format(printf, 2, 3))) static void expect_errorf(const char *text, const char *fmt,
								...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	expect_error(text, what);
}

static const char *data_file(const char *name)
{
	static char buf[512];
	const char *data = getenv("KTLSRELAY_TEST_DATA");

	if (data) {
		snprintf(buf, sizeof(buf), "%s/conf/%s", data, name);
	} else {
		/* run by hand: the data sits next to this source file */
		const char *slash = strrchr(__FILE__, '/');

		snprintf(buf, sizeof(buf), "%.*s/data/conf/%s", slash ? (int)(slash - __FILE__) : 1,
			 slash ? __FILE__ : ".", name);
	}
	return buf;
}

static int port_of(const struct conf_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

static void assert_ipv4(const struct conf_addr *a, const char *ip, int port)
{
	char text[INET_ADDRSTRLEN];

	assert_int_equal(a->ss.ss_family, AF_INET);
	assert_int_equal(a->len, sizeof(struct sockaddr_in));
	inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->ss)->sin_addr, text, sizeof(text));
	assert_string_equal(text, ip);
	assert_int_equal(port_of(a), port);
}

static void assert_ipv6(const struct conf_addr *a, const char *ip, int port)
{
	char text[INET6_ADDRSTRLEN];

	assert_int_equal(a->ss.ss_family, AF_INET6);
	assert_int_equal(a->len, sizeof(struct sockaddr_in6));
	inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, text, sizeof(text));
	assert_string_equal(text, ip);
	assert_int_equal(port_of(a), port);
}

static void assert_tcp_nodelay(const struct conf_sockopt *o, enum conf_sock_role role)
{
	assert_int_equal(o->role, role);
	assert_int_equal(o->level, IPPROTO_TCP);
	assert_int_equal(o->name, TCP_NODELAY);
	assert_int_equal(o->value, 1);
	assert_string_equal(o->text, "TCP_NODELAY=1");
}

static gid_t nobody_gid(void)
{
	struct group *gr = getgrnam("nobody");

	return gr ? gr->gr_gid : getpwnam("nobody")->pw_gid;
}

/* ---- the seed's files ------------------------------------------------------------------ */

static void seed_globals(const struct conf *c)
{
	assert_string_equal(c->chroot, "/var/run/stunnel");
	assert_string_equal(c->setuid, "nobody");
	assert_string_equal(c->setgid, "nobody");
	assert_int_equal(c->uid, getpwnam("nobody")->pw_uid);
	assert_int_equal(c->gid, nobody_gid());
	assert_string_equal(c->pid, "/stunnel.pid");
	assert_int_equal(c->n_services, 1);
}

static void seed_service(const struct conf_service *s)
{
	assert_string_equal(s->cert, "/etc/stunnel/xcom120.pem");
	assert_string_equal(s->key, "/etc/stunnel/xcom120.pem");
	assert_string_equal(s->ciphers, "ALL");
	assert_int_equal(s->version_min, TLS1_3_VERSION);
	assert_int_equal(s->version_max, TLS1_3_VERSION);
	assert_int_equal(s->n_sockopts, 2);
	assert_tcp_nodelay(&s->sockopts[0], CONF_SOCK_LOCAL);
	assert_tcp_nodelay(&s->sockopts[1], CONF_SOCK_REMOTE);
	assert_int_equal(s->n_connect, 1);
	assert_string_equal(s->connect[0].host, "127.0.0.1");
	assert_int_equal(s->connect[0].n_addrs, 1);
}

static void seed_client_parses(void **state)
{
	struct conf *c = load_path(data_file("seed_client.conf"));
	const struct conf_service *s = &c->services[0];

	seed_globals(c);
	seed_service(s);
	assert_string_equal(s->name, "xcom service");
	assert_string_equal(s->file, data_file("seed_client.conf"));
	assert_int_equal(s->line, 8);
	assert_true(s->client);
	assert_ipv4(&s->accept, "127.0.0.1", 12347);
	assert_string_equal(s->accept.text, "127.0.0.1:12347");
	assert_string_equal(s->connect[0].port, "12346");
	assert_ipv4(&s->connect[0].addrs[0], "127.0.0.1", 12346);
	assert_string_equal(s->connect[0].addrs[0].text, "127.0.0.1:12346");
	conf_free(c);
}

static void seed_server_parses(void **state)
{
	struct conf *c = load_path(data_file("seed_server.conf"));
	const struct conf_service *s = &c->services[0];

	seed_globals(c);
	seed_service(s);
	assert_string_equal(s->name, "txpi service");
	assert_false(s->client);
	/* a bare port listens on every address: IPv6 any, IPv4 mapped */
	assert_ipv6(&s->accept, "::", 12346);
	assert_string_equal(s->accept.text, "12346");
	assert_string_equal(s->connect[0].port, "8044");
	assert_ipv4(&s->connect[0].addrs[0], "127.0.0.1", 8044);
	conf_free(c);
}

/* ---- defaults -------------------------------------------------------------------------- */

static void defaults_when_not_given(void **state)
{
	struct conf *c = load(SVC);
	const struct conf_service *s = &c->services[0];

	assert_string_equal(c->path, path);
	assert_int_equal(c->foreground, CONF_FOREGROUND_NO);
	assert_null(c->pid);
	assert_null(c->chroot);
	assert_null(c->setuid);
	assert_null(c->setgid);
	assert_int_equal(c->uid, (uid_t)-1);
	assert_int_equal(c->gid, (gid_t)-1);
	assert_null(c->output);
	assert_int_equal(c->debug_level, 5);
	assert_int_equal(c->syslog_facility, LOG_DAEMON);
	assert_true(c->syslog);
	assert_int_equal(c->workers, 0);

	assert_int_equal(s->failover, CONF_FAILOVER_RR);
	assert_false(s->delay);
	assert_null(s->cert);
	assert_null(s->key);
	assert_null(s->ca_file);
	assert_null(s->ca_path);
	assert_false(s->request_cert);
	assert_false(s->require_cert);
	assert_false(s->verify_chain);
	assert_false(s->verify_peer);
	assert_null(s->check_host);
	assert_null(s->check_ip);
	assert_null(s->ciphers);
	assert_null(s->ciphersuites);
	assert_null(s->curves);
	/* stunnel's sslVersionMin = TLSv1 and sslVersionMax = all */
	assert_int_equal(s->version_min, TLS1_VERSION);
	assert_int_equal(s->version_max, 0);
	assert_true(conf_service_allows_version(s, TLS1_2_VERSION));
	assert_true(conf_service_allows_version(s, TLS1_3_VERSION));
	assert_int_equal(s->options_set, 0);
	assert_int_equal(s->options_clear, 0);
	assert_null(s->sni);
	assert_int_equal(s->n_sockopts, 0);
	assert_int_equal(s->timeouts.busy, 300);
	assert_int_equal(s->timeouts.close, 60);
	assert_int_equal(s->timeouts.connect, 10);
	assert_int_equal(s->timeouts.idle, 43200);
	assert_int_equal(s->session_cache_size, 1000);
	assert_int_equal(s->session_cache_timeout, 300);
	assert_true(s->session_resume);
	assert_int_equal(s->ktls, CONF_KTLS_AUTO);
	assert_int_equal(s->maxconn, 0);
	conf_free(c);
}

/* ---- global options -------------------------------------------------------------------- */

static void foreground_values(void **state)
{
	static const struct {
		const char *text;
		enum conf_foreground value;
	} cases[] = {
	    {"foreground = yes\n" SVC, CONF_FOREGROUND_YES},
	    {"foreground = quiet\n" SVC, CONF_FOREGROUND_QUIET},
	    {"foreground = no\n" SVC, CONF_FOREGROUND_NO},
	    {"foreground = YES\n" SVC, CONF_FOREGROUND_YES},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = load(cases[i].text);

		assert_int_equal(c->foreground, cases[i].value);
		conf_free(c);
	}
}

static void foreground_flag_forces_yes(void **state)
{
	struct conf *c = NULL;

	write_text("foreground = no\n" SVC);
	assert_int_equal(conf_load(path, true, &c, err, sizeof(err)), 0);
	assert_int_equal(c->foreground, CONF_FOREGROUND_YES);
	conf_free(c);
}

static void pid_chroot_output(void **state)
{
	struct conf *c = load("pid = /run/k.pid\nchroot = /var/empty\noutput = /tmp/k.log\n" SVC);

	assert_string_equal(c->pid, "/run/k.pid");
	assert_string_equal(c->chroot, "/var/empty");
	assert_string_equal(c->output, "/tmp/k.log");
	conf_free(c);
}

static void pid_empty_means_none(void **state)
{
	struct conf *c = load("pid = /x.pid\npid =\n" SVC);

	assert_null(c->pid);
	conf_free(c);
}

static void debug_number(void **state)
{
	struct conf *c = load("debug = 7\n" SVC);

	assert_int_equal(c->debug_level, 7);
	assert_int_equal(c->syslog_facility, LOG_DAEMON);
	conf_free(c);
}

static void debug_level_name(void **state)
{
	struct conf *c = load("debug = Warning\n" SVC);

	assert_int_equal(c->debug_level, LOG_WARNING);
	conf_free(c);
}

static void debug_facility_and_level(void **state)
{
	struct conf *c = load("debug = local3.info\n" SVC);

	assert_int_equal(c->debug_level, LOG_INFO);
	assert_int_equal(c->syslog_facility, LOG_LOCAL3);
	conf_free(c);
	c = load("debug = user.3\n" SVC);
	assert_int_equal(c->debug_level, 3);
	assert_int_equal(c->syslog_facility, LOG_USER);
	conf_free(c);
}

static void syslog_no(void **state)
{
	struct conf *c = load("syslog = no\n" SVC);

	assert_false(c->syslog);
	conf_free(c);
}

static void workers_count(void **state)
{
	struct conf *c = load("workers = 4\n" SVC);

	assert_int_equal(c->workers, 4);
	conf_free(c);
}

static void metrics_off_by_default(void **state)
{
	struct conf *c = load(SVC);

	assert_int_equal(c->metrics.len, 0);
	conf_free(c);
}

static void metrics_bare_port_listens_on_loopback_only(void **state)
{
	struct conf *c = load("metrics = 9911\n" SVC);

	assert_ipv4(&c->metrics, "127.0.0.1", 9911);
	assert_string_equal(c->metrics.text, "9911");
	conf_free(c);
}

static void metrics_host_and_port(void **state)
{
	struct conf *c = load("metrics = 0.0.0.0:9911\n" SVC);

	assert_ipv4(&c->metrics, "0.0.0.0", 9911);
	conf_free(c);
	c = load("metrics = [::1]:9912\n" SVC);
	assert_ipv6(&c->metrics, "::1", 9912);
	conf_free(c);
	c = load("metrics = ::1:9913\n" SVC);
	assert_ipv6(&c->metrics, "::1", 9913);
	conf_free(c);
}

static void metrics_bad_values_refused(void **state)
{
	expect_error("metrics = 0\n" SVC,
		     ":1: 'metrics': expected [HOST:]PORT with a port 1..65535, got '0'");
	expect_error("metrics = 127.0.0.1:http\n" SVC,
		     ":1: 'metrics': expected [HOST:]PORT with a port 1..65535, got "
		     "'127.0.0.1:http'");
	expect_error("metrics = :9911\n" SVC,
		     ":1: 'metrics': expected [HOST:]PORT with a port 1..65535, got ':9911'");
	expect_error("[svc]\nmetrics = 9911\n",
		     ":2: 'metrics' is a global option; it cannot be set in [svc]");
}

static void setuid_name_and_number(void **state)
{
	struct conf *c = load("setuid = nobody\n" SVC);

	assert_int_equal(c->uid, getpwnam("nobody")->pw_uid);
	conf_free(c);
	c = load("setuid = 1234\n" SVC);
	assert_string_equal(c->setuid, "1234");
	assert_int_equal(c->uid, 1234);
	conf_free(c);
}

/* On SIGHUP inside a chroot /etc/passwd is gone: names the running configuration resolved keep
 * their ids; a new name is still looked up (and refused when it does not exist). */
static void reload_keeps_resolved_setuid_setgid(void **state)
{
	struct conf running = {
	    .setuid = "ghost-user-x", .uid = 4242, .setgid = "ghost-group-x", .gid = 4343};
	struct conf *c = NULL;

	write_text("setuid = ghost-user-x\nsetgid = ghost-group-x\n" SVC);
	err[0] = '\0';
	if (conf_reload(path, false, &running, &c, err, sizeof(err)))
		fail_msg("conf_reload failed: %s", err);
	assert_int_equal(c->uid, 4242);
	assert_int_equal(c->gid, 4343);
	conf_free(c);
	write_text("setuid = other-ghost-x\n" SVC);
	assert_int_equal(conf_reload(path, false, &running, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'setuid': no user 'other-ghost-x'"));
}

static void setgid_group_name(void **state)
{
	struct conf *c = load("setgid = nogroup\nsetgid = 4321\nsetgid = nogroup\n" SVC);

	assert_string_equal(c->setgid, "nogroup");
	assert_int_equal(c->gid, getgrnam("nogroup")->gr_gid);
	conf_free(c);
}

/* Debian has no group "nobody"; the seed's `setgid = nobody` means nobody's primary group. */
static void setgid_user_name_means_primary_group(void **state)
{
	struct conf *c;

	if (getgrnam("nobody"))
		skip();
	c = load("setgid = nobody\n" SVC);
	assert_int_equal(c->gid, getpwnam("nobody")->pw_gid);
	conf_free(c);
}

/* ---- service options ------------------------------------------------------------------- */

static struct conf *load_svc(const char *lines)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", SVC, lines);
	return load(text);
}

static void accept_ipv4_host_port(void **state)
{
	struct conf *c = load("[s]\naccept = 127.0.0.2:443\nconnect = 9\nclient = yes\n");

	assert_ipv4(&c->services[0].accept, "127.0.0.2", 443);
	assert_string_equal(c->services[0].accept.text, "127.0.0.2:443");
	conf_free(c);
}

static void accept_bare_port_listens_on_ipv6_any(void **state)
{
	struct conf *c = load("[s]\naccept = 8443\nconnect = 9\nclient = yes\n");

	assert_ipv6(&c->services[0].accept, "::", 8443);
	conf_free(c);
}

static void accept_ipv6_bracketed(void **state)
{
	struct conf *c = load("[s]\naccept = [::1]:8443\nconnect = 9\nclient = yes\n");

	assert_ipv6(&c->services[0].accept, "::1", 8443);
	assert_string_equal(c->services[0].accept.text, "[::1]:8443");
	conf_free(c);
}

static void accept_ipv6_last_colon_splits(void **state)
{
	struct conf *c = load("[s]\naccept = ::1:8443\nconnect = 9\nclient = yes\n"
			      "[t]\naccept = :::8444\nconnect = 9\nclient = yes\n");

	assert_ipv6(&c->services[0].accept, "::1", 8443);
	assert_ipv6(&c->services[1].accept, "::", 8444);
	conf_free(c);
}

static void accept_service_name_port(void **state)
{
	struct conf *c = load("[s]\naccept = 127.0.0.1:https\nconnect = 9\nclient = yes\n");

	assert_ipv4(&c->services[0].accept, "127.0.0.1", 443);
	conf_free(c);
}

static void accept_host_name_is_resolved(void **state)
{
	struct conf *c = load("[s]\naccept = localhost:20001\nconnect = 9\nclient = yes\n");
	const struct conf_addr *a = &c->services[0].accept;

	if (a->ss.ss_family == AF_INET)
		assert_ipv4(a, "127.0.0.1", 20001);
	else
		assert_ipv6(a, "::1", 20001);
	conf_free(c);
}

static void connect_bare_port_means_localhost(void **state)
{
	struct conf *c = load("[s]\naccept = 20001\nconnect = 8044\nclient = yes\n");
	const struct conf_connect *k = &c->services[0].connect[0];

	assert_string_equal(k->host, "localhost");
	assert_string_equal(k->port, "8044");
	assert_true(k->n_addrs >= 1);
	assert_int_equal(port_of(&k->addrs[0]), 8044);
	conf_free(c);
}

static void connect_repeatable_in_order(void **state)
{
	struct conf *c = load("[s]\naccept = 20001\nclient = yes\nconnect = 127.0.0.1:1\n"
			      "connect = [::1]:2\nconnect = 127.0.0.3:https\n");
	const struct conf_service *s = &c->services[0];

	assert_int_equal(s->n_connect, 3);
	assert_string_equal(s->connect[0].host, "127.0.0.1");
	assert_string_equal(s->connect[1].host, "::1");
	assert_string_equal(s->connect[1].port, "2");
	assert_ipv6(&s->connect[1].addrs[0], "::1", 2);
	assert_string_equal(s->connect[1].addrs[0].text, "[::1]:2");
	assert_string_equal(s->connect[2].port, "https");
	assert_ipv4(&s->connect[2].addrs[0], "127.0.0.3", 443);
	conf_free(c);
}

static void delay_leaves_connect_unresolved(void **state)
{
	struct conf *c = load("[s]\naccept = 20001\nclient = yes\nconnect = nohost.invalid:1\n"
			      "delay = yes\n");
	const struct conf_service *s = &c->services[0];

	assert_true(s->delay);
	assert_string_equal(s->connect[0].host, "nohost.invalid");
	assert_int_equal(s->connect[0].n_addrs, 0);
	assert_null(s->connect[0].addrs);
	conf_free(c);
}

static void failover_prio(void **state)
{
	struct conf *c = load_svc("failover = prio\n");

	assert_int_equal(c->services[0].failover, CONF_FAILOVER_PRIO);
	conf_free(c);
}

static void client_no_is_server_mode(void **state)
{
	struct conf *c = load_svc("client = no\ncert = /c.pem\n");

	assert_false(c->services[0].client);
	conf_free(c);
}

static void key_defaults_to_cert(void **state)
{
	struct conf *c = load_svc("cert = /c.pem\n");

	assert_string_equal(c->services[0].cert, "/c.pem");
	assert_string_equal(c->services[0].key, "/c.pem");
	conf_free(c);
}

static void key_given(void **state)
{
	struct conf *c = load_svc("cert = /c.pem\nkey = /k.pem\n");

	assert_string_equal(c->services[0].key, "/k.pem");
	conf_free(c);
}

static void cafile_and_capath(void **state)
{
	struct conf *c = load_svc("CAfile = /ca.pem\nCApath = /etc/ssl/certs\n");

	assert_string_equal(c->services[0].ca_file, "/ca.pem");
	assert_string_equal(c->services[0].ca_path, "/etc/ssl/certs");
	conf_free(c);
}

static void crl_file_and_path(void **state)
{
	struct conf *c = load_svc("CRLfile = /etc/crl.pem\nCRLpath = /etc/crls\n");

	assert_string_equal(c->services[0].crl_file, "/etc/crl.pem");
	assert_string_equal(c->services[0].crl_path, "/etc/crls");
	conf_free(c);
	c = load_svc("");
	assert_null(c->services[0].crl_file);
	assert_null(c->services[0].crl_path);
	conf_free(c);
}

static void error_crl_file_empty(void **state)
{
	expect_error(SVC "CRLfile =\n", ":5: 'CRLfile' needs a value");
	expect_error(SVC "CRLpath =\n", ":5: 'CRLpath' needs a value");
}

static void verify_levels_as_stunnel(void **state)
{
	static const struct {
		const char *level;
		bool request, require, chain, peer;
	} cases[] = {
	    {"0", true, false, false, false}, {"1", true, false, true, false},
	    {"2", true, true, true, false},   {"3", true, true, true, true},
	    {"4", true, true, false, true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char lines[128];
		struct conf *c;

		snprintf(lines, sizeof(lines), "CAfile = /ca.pem\nverify = %s\n", cases[i].level);
		c = load_svc(lines);
		assert_int_equal(c->services[0].request_cert, cases[i].request);
		assert_int_equal(c->services[0].require_cert, cases[i].require);
		assert_int_equal(c->services[0].verify_chain, cases[i].chain);
		assert_int_equal(c->services[0].verify_peer, cases[i].peer);
		conf_free(c);
	}
}

static void verify_chain_requires_a_certificate(void **state)
{
	struct conf *c = load_svc("CAfile = /ca.pem\nverifyChain = yes\n");
	const struct conf_service *s = &c->services[0];

	assert_true(s->verify_chain && s->request_cert && s->require_cert);
	assert_false(s->verify_peer);
	conf_free(c);
}

static void verify_peer_requires_a_certificate(void **state)
{
	struct conf *c = load_svc("CApath = /ca\nverifyPeer = yes\n");
	const struct conf_service *s = &c->services[0];

	assert_true(s->verify_peer && s->request_cert && s->require_cert);
	assert_false(s->verify_chain);
	conf_free(c);
}

static void require_cert(void **state)
{
	struct conf *c = load_svc("requireCert = yes\n");

	assert_true(c->services[0].require_cert && c->services[0].request_cert);
	conf_free(c);
}

static void check_host_and_ip_repeatable(void **state)
{
	struct conf *c =
	    load_svc("CAfile = /ca.pem\nverifyChain = yes\ncheckHost = a.example\n"
		     "checkHost = b.example\ncheckIP = 192.0.2.1\ncheckIP = 2001:db8::1\n");
	const struct conf_service *s = &c->services[0];

	assert_string_equal(s->check_host[0], "a.example");
	assert_string_equal(s->check_host[1], "b.example");
	assert_null(s->check_host[2]);
	assert_string_equal(s->check_ip[0], "192.0.2.1");
	assert_string_equal(s->check_ip[1], "2001:db8::1");
	assert_null(s->check_ip[2]);
	conf_free(c);
}

static void cipher_strings(void **state)
{
	struct conf *c = load_svc("ciphers = ECDHE+AESGCM\nciphersuites = TLS_AES_128_GCM_SHA256\n"
				  "curves = X25519:P-256\n");
	const struct conf_service *s = &c->services[0];

	assert_string_equal(s->ciphers, "ECDHE+AESGCM");
	assert_string_equal(s->ciphersuites, "TLS_AES_128_GCM_SHA256");
	assert_string_equal(s->curves, "X25519:P-256");
	conf_free(c);
}

static void ssl_version_sets_both_bounds(void **state)
{
	struct conf *c = load_svc("sslVersion = TLSv1.2\n");

	assert_int_equal(c->services[0].version_min, TLS1_2_VERSION);
	assert_int_equal(c->services[0].version_max, TLS1_2_VERSION);
	conf_free(c);
}

static void ssl_version_all_removes_bounds(void **state)
{
	struct conf *c = load_svc("sslVersion = all\n");

	assert_int_equal(c->services[0].version_min, 0);
	assert_int_equal(c->services[0].version_max, 0);
	conf_free(c);
}

/* The seed's `sslVersion = TLSv1.3`: TLS 1.3 only, so no "allows TLS 1.2" notice at start. */
static void ssl_version_tls13_refuses_tls12(void **state)
{
	struct conf *c = load_svc("sslVersion = TLSv1.3\n");

	assert_false(conf_service_allows_version(&c->services[0], TLS1_2_VERSION));
	assert_true(conf_service_allows_version(&c->services[0], TLS1_3_VERSION));
	conf_free(c);
	c = load_svc("sslVersionMax = TLSv1.1\n");
	assert_false(conf_service_allows_version(&c->services[0], TLS1_2_VERSION));
	conf_free(c);
}

static void ssl_version_min_allows_tls12(void **state)
{
	struct conf *c = load_svc("sslVersionMin = TLSv1.2\n");

	assert_int_equal(c->services[0].version_min, TLS1_2_VERSION);
	assert_int_equal(c->services[0].version_max, 0);
	conf_free(c);
}

static void ssl_version_min_and_max(void **state)
{
	struct conf *c = load_svc("sslVersionMin = TLSv1\nsslVersionMax = tlsv1.1\n");

	assert_int_equal(c->services[0].version_min, TLS1_VERSION);
	assert_int_equal(c->services[0].version_max, TLS1_1_VERSION);
	conf_free(c);
	c = load_svc("sslVersionMax = all\n");
	assert_int_equal(c->services[0].version_max, 0);
	conf_free(c);
}

static void options_set_and_clear(void **state)
{
	struct conf *c =
	    load_svc("options = NO_TICKET\noptions = enable_ktls\n"
		     "options = -NO_RENEGOTIATION\noptions = CIPHER_SERVER_PREFERENCE\n"
		     "options = -CIPHER_SERVER_PREFERENCE\noptions = SINGLE_DH_USE\n");
	const struct conf_service *s = &c->services[0];

	assert_int_equal(s->options_set, SSL_OP_NO_TICKET | SSL_OP_ENABLE_KTLS);
	assert_int_equal(s->options_clear,
			 SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	conf_free(c);
}

static void sni_client_name(void **state)
{
	struct conf *c = load_svc("sni = zos.example\n");

	assert_string_equal(c->services[0].sni, "zos.example");
	conf_free(c);
}

static void sni_empty_sends_none(void **state)
{
	struct conf *c = load_svc("sni =\n");

	assert_string_equal(c->services[0].sni, "");
	conf_free(c);
}

static void socket_options_each_role(void **state)
{
	struct conf *c = load_svc("socket = a:SO_REUSEADDR=no\nsocket = l:SO_KEEPALIVE=yes\n"
				  "socket = r:SO_SNDBUF=65536\nsocket = r:TCP_KEEPIDLE=60\n"
				  "socket = l:tcp_keepintvl=10\nsocket = r:TCP_KEEPCNT=3\n"
				  "socket = a:SO_RCVBUF=131072\nsocket = r:IP_TOS=16\n");
	const struct conf_service *s = &c->services[0];
	static const struct {
		enum conf_sock_role role;
		int level, name, value;
		const char *text;
	} want[] = {
	    {CONF_SOCK_ACCEPT, SOL_SOCKET, SO_REUSEADDR, 0, "SO_REUSEADDR=no"},
	    {CONF_SOCK_LOCAL, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE=yes"},
	    {CONF_SOCK_REMOTE, SOL_SOCKET, SO_SNDBUF, 65536, "SO_SNDBUF=65536"},
	    {CONF_SOCK_REMOTE, IPPROTO_TCP, TCP_KEEPIDLE, 60, "TCP_KEEPIDLE=60"},
	    {CONF_SOCK_LOCAL, IPPROTO_TCP, TCP_KEEPINTVL, 10, "tcp_keepintvl=10"},
	    {CONF_SOCK_REMOTE, IPPROTO_TCP, TCP_KEEPCNT, 3, "TCP_KEEPCNT=3"},
	    {CONF_SOCK_ACCEPT, SOL_SOCKET, SO_RCVBUF, 131072, "SO_RCVBUF=131072"},
	    {CONF_SOCK_REMOTE, IPPROTO_IP, IP_TOS, 16, "IP_TOS=16"},
	};

	assert_int_equal(s->n_sockopts, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < s->n_sockopts; i++) {
		assert_int_equal(s->sockopts[i].role, want[i].role);
		assert_int_equal(s->sockopts[i].level, want[i].level);
		assert_int_equal(s->sockopts[i].name, want[i].name);
		assert_int_equal(s->sockopts[i].value, want[i].value);
		assert_string_equal(s->sockopts[i].text, want[i].text);
	}
	conf_free(c);
}

static void timeouts(void **state)
{
	struct conf *c = load_svc("TIMEOUTbusy = 1\nTIMEOUTclose = 0\nTIMEOUTconnect = 3\n"
				  "TIMEOUTidle = 4\n");
	const struct conf_service *s = &c->services[0];

	assert_int_equal(s->timeouts.busy, 1);
	assert_int_equal(s->timeouts.close, 0);
	assert_int_equal(s->timeouts.connect, 3);
	assert_int_equal(s->timeouts.idle, 4);
	conf_free(c);
}

static void session_cache_and_resume(void **state)
{
	struct conf *c = load_svc("sessionCacheSize = 0\nsessionCacheTimeout = 60\n"
				  "sessionResume = no\n");
	const struct conf_service *s = &c->services[0];

	assert_int_equal(s->session_cache_size, 0);
	assert_int_equal(s->session_cache_timeout, 60);
	assert_false(s->session_resume);
	conf_free(c);
}

#define KEY16 "00112233445566778899aabbccddeeff"
#define KEY32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void ticket_secrets_hex_16_or_32_bytes(void **state)
{
	struct conf *c =
	    load_svc("ticketKeySecret = " KEY32 "\n"
		     "ticketMacSecret = 00:11:22:33:44:55:66:77:88:99:AA:bb:cc:dd:ee:ff\n");
	const struct conf_service *s = &c->services[0];
	unsigned char mac[16];

	for (int i = 0; i < 16; i++)
		mac[i] = (unsigned char)(i * 0x11);
	assert_int_equal(s->ticket_key.len, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(s->ticket_key.bytes[i], i);
	assert_int_equal(s->ticket_mac.len, 16);
	assert_memory_equal(s->ticket_mac.bytes, mac, 16);
	conf_free(c);
	c = load_svc("");
	assert_int_equal(c->services[0].ticket_key.len, 0);
	assert_int_equal(c->services[0].ticket_mac.len, 0);
	conf_free(c);
}

static void error_ticket_secret_not_hex(void **state)
{
	expect_error(
	    SVC "ticketKeySecret = zz112233445566778899aabbccddeeff\n",
	    ":5: 'ticketKeySecret': expected 16 or 32 bytes in hexadecimal (32 or 64 digits, "
	    "colons allowed between bytes)");
	expect_error(
	    SVC "ticketMacSecret = 0011223\n",
	    ":5: 'ticketMacSecret': expected 16 or 32 bytes in hexadecimal (32 or 64 digits, "
	    "colons allowed between bytes)");
	expect_error(
	    SVC "ticketMacSecret = :00112233445566778899aabbccddeeff\n",
	    ":5: 'ticketMacSecret': expected 16 or 32 bytes in hexadecimal (32 or 64 digits, "
	    "colons allowed between bytes)");
	expect_error(
	    SVC "ticketKeySecret = " KEY32 "00\n",
	    ":5: 'ticketKeySecret': expected 16 or 32 bytes in hexadecimal (32 or 64 digits, "
	    "colons allowed between bytes)");
}

static void error_ticket_secret_length(void **state)
{
	expect_error(SVC "ticketKeySecret = 0011\n",
		     ":5: 'ticketKeySecret': 2 bytes; it must be 16 or 32 bytes (32 or 64 "
		     "hexadecimal digits)");
	expect_error(SVC "ticketMacSecret = " KEY16 "00\n",
		     ":5: 'ticketMacSecret': 17 bytes; it must be 16 or 32 bytes (32 or 64 "
		     "hexadecimal digits)");
}

/* stunnel: "ticketKeySecret" and "ticketMacSecret" must be set together */
static void error_ticket_secrets_together(void **state)
{
	expect_error(SVC "ticketKeySecret = " KEY16 "\n",
		     ":1: [s] 'ticketKeySecret' and 'ticketMacSecret' must be set together");
	expect_error("ticketMacSecret = " KEY16 "\n" SVC,
		     ":2: [s] 'ticketKeySecret' and 'ticketMacSecret' must be set together");
}

static void maxconn_global_default_and_service(void **state)
{
	struct conf *c =
	    load("maxconn = 100\n" SVC "[t]\naccept = 20003\nconnect = 9\nclient = yes\n"
		 "maxconn = 5\n");

	assert_int_equal(c->services[0].maxconn, 100);
	assert_int_equal(c->services[1].maxconn, 5);
	conf_free(c);
}

static void ktls_on_and_off(void **state)
{
	struct conf *c = load("ktls = off\n" SVC "[t]\naccept = 20003\nconnect = 9\nclient = yes\n"
			      "ktls = on\n");

	assert_int_equal(c->services[0].ktls, CONF_KTLS_OFF);
	assert_int_equal(c->services[1].ktls, CONF_KTLS_ON);
	conf_free(c);
}

/* ---- global defaults and overrides ----------------------------------------------------- */

/* Every row whose parser writes a field names one of the width that parser writes, in the struct
 * its section means (conf_field refuses the others at load time; this finds them without a
 * file that sets the option). */
static void option_rows_fit_their_parsers(void **state)
{
	static const struct {
		parse_fn parse;
		size_t size;
	} writes[] = {
	    {conf_parse_string, sizeof(char *)},    {conf_parse_bool, sizeof(bool)},
	    {conf_parse_verify_flag, sizeof(bool)}, {conf_parse_keyword, sizeof(int)},
	    {conf_parse_seconds, sizeof(int)},	    {conf_parse_version_bound, sizeof(int)},
	    {conf_parse_count, sizeof(long)},
	};
	size_t checked = 0;

	for (const struct conf_opt *o = conf_options; o->name; o++)
		for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
			if (o->parse != writes[i].parse)
				continue;
			if (o->size != writes[i].size ||
			    o->in != (o->where == IN_GLOBAL ? FIELD_CONF : FIELD_SERVICE))
				fail_msg(
				    "'%s': its row's field (%zu bytes) does not fit its parser "
				    "(%zu bytes)",
				    o->name, o->size, writes[i].size);
			checked++;
		}
	assert_true(checked > 20);
}

/* Every option a service may take from the global section, with a value that is not its
 * default, and (when the option needs company to load) the service lines to use instead of
 * INHERIT_BODY. service_inherits_every_global_option walks the option table and fails on a
 * global-and-service option missing here. */
#define INHERIT_BODY "accept = 127.0.0.1:20001\nconnect = 127.0.0.1:20002\nclient = yes\n"
#define INHERIT_CA   INHERIT_BODY "CAfile = /ca.pem\n"

static const struct {
	const char *name;
	const char *value;
	const char *body;
} inherit_values[] = {
    {"connect", "127.0.0.1:20003", "accept = 127.0.0.1:20001\nclient = yes\n"},
    {"failover", "prio", NULL},
    {"delay", "yes", NULL},
    {"client", "yes", "accept = 127.0.0.1:20001\nconnect = 127.0.0.1:20002\ncert = /c.pem\n"},
    {"cert", "/x.pem", NULL},
    {"key", "/k.pem", NULL},
    {"CAfile", "/ca.pem", NULL},
    {"CApath", "/capath", NULL},
    {"CRLfile", "/crl.pem", NULL},
    {"CRLpath", "/crls", NULL},
    {"verify", "2", INHERIT_CA},
    {"verifyChain", "yes", INHERIT_CA},
    {"verifyPeer", "yes", INHERIT_CA},
    {"requireCert", "yes", NULL},
    {"checkHost", "host.example", INHERIT_CA "verifyChain = yes\n"},
    {"checkIP", "10.0.0.1", INHERIT_CA "verifyChain = yes\n"},
    {"ciphers", "HIGH", NULL},
    {"ciphersuites", "TLS_AES_128_GCM_SHA256", NULL},
    {"curves", "X25519", NULL},
    {"sslVersion", "TLSv1.2", NULL},
    {"sslVersionMin", "TLSv1.2", NULL},
    {"sslVersionMax", "TLSv1.3", NULL},
    {"securityLevel", "0", NULL},
    {"options", "NO_TICKET", NULL},
    {"sni", "name.example", NULL},
    {"socket", "l:TCP_NODELAY=1", NULL},
    {"TIMEOUTbusy", "7", NULL},
    {"TIMEOUTclose", "7", NULL},
    {"TIMEOUTconnect", "7", NULL},
    {"TIMEOUTidle", "7", NULL},
    {"sessionCacheSize", "7", NULL},
    {"sessionCacheTimeout", "7", NULL},
    {"sessionResume", "no", NULL},
    {"ticketKeySecret", KEY16, INHERIT_BODY "ticketMacSecret = " KEY16 "\n"},
    {"ticketMacSecret", KEY32, INHERIT_BODY "ticketKeySecret = " KEY16 "\n"},
    {"ktls", "off", NULL},
    {"maxconn", "7", NULL},
};

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_list(char **a, char **b)
{
	size_t i;

	for (i = 0; a && b && a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return (!a || !a[i]) && (!b || !b[i]);
}

/* Two services are the same: the pointer fields compared by what they point to, then the whole
 * struct byte for byte with those cleared, so that a field added later is compared too (a new
 * pointer field fails here until it is added above, as its addresses differ). */
static bool same_service(const struct conf_service *a, const struct conf_service *b)
{
	struct conf_service x = *a, y = *b;

	if (!same_string(a->name, b->name) || !same_string(a->file, b->file) ||
	    !same_string(a->cert, b->cert) || !same_string(a->key, b->key) ||
	    !same_string(a->ca_file, b->ca_file) || !same_string(a->ca_path, b->ca_path) ||
	    !same_string(a->crl_file, b->crl_file) || !same_string(a->crl_path, b->crl_path) ||
	    !same_list(a->check_host, b->check_host) || !same_list(a->check_ip, b->check_ip) ||
	    !same_string(a->ciphers, b->ciphers) ||
	    !same_string(a->ciphersuites, b->ciphersuites) || !same_string(a->curves, b->curves) ||
	    !same_string(a->sni, b->sni) || a->n_connect != b->n_connect ||
	    a->n_sockopts != b->n_sockopts)
		return false;
	for (size_t i = 0; i < a->n_connect; i++) {
		const struct conf_connect *ca = &a->connect[i], *cb = &b->connect[i];

		if (!same_string(ca->host, cb->host) || !same_string(ca->port, cb->port) ||
		    ca->n_addrs != cb->n_addrs ||
		    (ca->n_addrs && memcmp(ca->addrs, cb->addrs, ca->n_addrs * sizeof(*ca->addrs))))
			return false;
	}
	for (size_t i = 0; i < a->n_sockopts; i++) {
		const struct conf_sockopt *sa = &a->sockopts[i], *sb = &b->sockopts[i];

		if (sa->role != sb->role || sa->level != sb->level || sa->name != sb->name ||
		    sa->value != sb->value || !same_string(sa->text, sb->text))
			return false;
	}
	x.name = y.name = NULL;
	x.file = y.file = NULL;
	x.connect = y.connect = NULL;
	x.cert = y.cert = x.key = y.key = x.ca_file = y.ca_file = x.ca_path = y.ca_path = NULL;
	x.crl_file = y.crl_file = x.crl_path = y.crl_path = NULL;
	x.check_host = y.check_host = x.check_ip = y.check_ip = NULL;
	x.ciphers = y.ciphers = x.ciphersuites = y.ciphersuites = NULL;
	x.curves = y.curves = x.sni = y.sni = NULL;
	x.sockopts = y.sockopts = NULL;
	return !memcmp(&x, &y, sizeof(x));
}

/* The service of a file, or NULL when the file does not load. */
static struct conf *try_load(const char *text)
{
	struct conf *c = NULL;

	write_text(text);
	return conf_load(path, false, &c, err, sizeof(err)) ? NULL : c;
}

/* For every option settable in the global section and in a service: set globally to a value
 * other than its default, the service has what the same line inside it gives, and not what the
 * service has without it. The [s] line is line 2 in all three files. */
static void service_inherits_every_global_option(void **state)
{
	size_t tested = 0;

	for (const struct conf_opt *o = conf_options; o->name; o++) {
		const char *value = NULL, *body = INHERIT_BODY;
		char global[1024], own[1024], none[1024];
		struct conf *g, *s, *n;

		/* include reads files and reset = yes is the only value: no field of their own */
		if (o->where != IN_BOTH || o->parse == conf_parse_include ||
		    o->parse == conf_parse_reset)
			continue;
		for (size_t i = 0; i < sizeof(inherit_values) / sizeof(inherit_values[0]); i++)
			if (!strcmp(inherit_values[i].name, o->name)) {
				value = inherit_values[i].value;
				body = inherit_values[i].body ?: INHERIT_BODY;
			}
		if (!value)
			fail_msg("'%s' has no value in inherit_values[]: add one that is not its "
				 "default",
				 o->name);
		snprintf(global, sizeof(global), "%s = %s\n[s]\n%s", o->name, value, body);
		snprintf(own, sizeof(own), "; %s in the service\n[s]\n%s = %s\n%s", o->name,
			 o->name, value, body);
		snprintf(none, sizeof(none), "; no %s\n[s]\n%s", o->name, body);
		s = try_load(own);
		if (!s)
			fail_msg("'%s = %s' in a service does not load: %s", o->name, value, err);
		g = try_load(global);
		if (!g)
			fail_msg("'%s = %s' in the global section does not load: %s", o->name,
				 value, err);
		n = try_load(none);
		if (n && same_service(&s->services[0], &n->services[0]))
			fail_msg("'%s = %s' is its default: inherit_values[] needs another value",
				 o->name, value);
		if (!same_service(&g->services[0], &s->services[0]))
			fail_msg("'%s = %s' in the global section is not inherited by [s]", o->name,
				 value);
		conf_free(g);
		conf_free(s);
		conf_free(n);
		tested++;
	}
	assert_int_equal(tested, sizeof(inherit_values) / sizeof(inherit_values[0]));
}

static void global_service_options_are_defaults(void **state)
{
	struct conf *c = load("client = yes\nciphers = HIGH\nTIMEOUTidle = 5\nktls = off\n"
			      "sslVersion = all\noptions = NO_TICKET\ncert = /c.pem\n"
			      "[a]\naccept = 20001\nconnect = 1\n"
			      "[b]\naccept = 20002\nconnect = 2\n");

	for (size_t i = 0; i < 2; i++) {
		const struct conf_service *s = &c->services[i];

		assert_true(s->client);
		assert_string_equal(s->ciphers, "HIGH");
		assert_int_equal(s->timeouts.idle, 5);
		assert_int_equal(s->ktls, CONF_KTLS_OFF);
		assert_int_equal(s->version_min, 0);
		assert_int_equal(s->options_set, SSL_OP_NO_TICKET);
		assert_string_equal(s->cert, "/c.pem");
		assert_string_equal(s->key, "/c.pem");
	}
	conf_free(c);
}

static void service_overrides_global(void **state)
{
	struct conf *c = load("client = yes\nciphers = HIGH\nTIMEOUTidle = 5\n"
			      "[a]\naccept = 20001\nconnect = 1\nciphers = ALL\nTIMEOUTidle = 6\n"
			      "[b]\naccept = 20002\nconnect = 2\n");

	assert_string_equal(c->services[0].ciphers, "ALL");
	assert_int_equal(c->services[0].timeouts.idle, 6);
	assert_string_equal(c->services[1].ciphers, "HIGH");
	assert_int_equal(c->services[1].timeouts.idle, 5);
	conf_free(c);
}

static void socket_global_first_then_service(void **state)
{
	struct conf *c = load("socket = l:TCP_NODELAY=1\n" SVC "socket = r:TCP_NODELAY=1\n"
			      "[t]\naccept = 20003\nconnect = 9\nclient = yes\n");

	assert_int_equal(c->services[0].n_sockopts, 2);
	assert_tcp_nodelay(&c->services[0].sockopts[0], CONF_SOCK_LOCAL);
	assert_tcp_nodelay(&c->services[0].sockopts[1], CONF_SOCK_REMOTE);
	assert_int_equal(c->services[1].n_sockopts, 1);
	assert_tcp_nodelay(&c->services[1].sockopts[0], CONF_SOCK_LOCAL);
	conf_free(c);
}

static void check_host_global_then_service(void **state)
{
	struct conf *c = load("CAfile = /ca.pem\nverifyChain = yes\ncheckHost = g.example\n" SVC
			      "checkHost = s.example\n");

	assert_string_equal(c->services[0].check_host[0], "g.example");
	assert_string_equal(c->services[0].check_host[1], "s.example");
	assert_null(c->services[0].check_host[2]);
	conf_free(c);
}

static void connect_in_service_replaces_global(void **state)
{
	struct conf *c = load("connect = 127.0.0.1:1\nconnect = 127.0.0.1:2\nclient = yes\n"
			      "[a]\naccept = 20001\nconnect = 127.0.0.1:3\n"
			      "[b]\naccept = 20002\n");

	assert_int_equal(c->services[0].n_connect, 1);
	assert_string_equal(c->services[0].connect[0].port, "3");
	assert_int_equal(c->services[1].n_connect, 2);
	assert_string_equal(c->services[1].connect[0].port, "1");
	assert_string_equal(c->services[1].connect[1].port, "2");
	assert_int_equal(c->services[1].connect[1].n_addrs, 1);
	conf_free(c);
}

/* ---- syntax ---------------------------------------------------------------------------- */

static void option_names_are_case_insensitive(void **state)
{
	struct conf *c = load("FOREGROUND = yes\n[s]\nACCEPT = 20001\nConnect = 9\nCLIENT = yes\n"
			      "timeoutidle = 7\ncafile = /ca.pem\n");

	assert_int_equal(c->foreground, CONF_FOREGROUND_YES);
	assert_int_equal(c->services[0].timeouts.idle, 7);
	assert_string_equal(c->services[0].ca_file, "/ca.pem");
	conf_free(c);
}

static void comments_blank_lines_and_spacing(void **state)
{
	struct conf *c = load("; stunnel comment\n# another\n\n   ; indented\n\t# tab\n"
			      "pid=/a.pid\n  chroot\t=\t/jail  \n[ s ]\naccept=20001\n"
			      "connect =9\nclient= yes\nciphers = A:B # not a comment\n");

	assert_string_equal(c->pid, "/a.pid");
	assert_string_equal(c->chroot, "/jail");
	assert_string_equal(c->services[0].name, "s");
	assert_string_equal(c->services[0].ciphers, "A:B # not a comment");
	conf_free(c);
}

static void crlf_and_byte_order_mark(void **state)
{
	struct conf *c = load("\xef\xbb\xbfpid = /a.pid\r\n[s]\r\naccept = 20001\r\n"
			      "connect = 9\r\nclient = yes\r\n");

	assert_string_equal(c->pid, "/a.pid");
	assert_string_equal(c->services[0].name, "s");
	conf_free(c);
}

static void several_services_keep_their_lines(void **state)
{
	struct conf *c = load("\n[a]\naccept = 20001\nconnect = 1\nclient = yes\n\n"
			      "[b c]\naccept = 20002\nconnect = 2\nclient = yes\n");

	assert_int_equal(c->n_services, 2);
	assert_string_equal(c->services[0].name, "a");
	assert_int_equal(c->services[0].line, 2);
	assert_string_equal(c->services[1].name, "b c");
	assert_int_equal(c->services[1].line, 7);
	assert_ptr_equal(c->services[1].file, c->path);
	conf_free(c);
}

/* ---- errors ---------------------------------------------------------------------------- */

static void error_unknown_option(void **state)
{
	expect_error("pid = /a\n\n\n\n\n\nfoo = 1\n" SVC, ":7: unknown option 'foo'");
}

static void error_port_not_a_number(void **state)
{
	expect_error("\n\n[s]\naccept = abc\n", ":4: 'accept': port 'abc' is not a number or a "
						"known service name");
	expect_error("[s]\naccept = 1.2.3.4:\n", ":2: 'accept': port '' is not a number or a "
						 "known service name");
	expect_error("[s]\naccept = 1\nconnect = host:x1\n",
		     ":3: 'connect': port 'x1' is not a number or a known service name");
}

static void error_port_out_of_range(void **state)
{
	expect_error("[s]\naccept = 0\n", ":2: 'accept': port '0' is out of range 1..65535");
	expect_error("[s]\naccept = 1\nconnect = 127.0.0.1:70000\n",
		     ":3: 'connect': port '70000' is out of range 1..65535");
}

static void error_not_yes_or_no(void **state)
{
	expect_error("\n\n\n\n[s]\nclient = maybe\n", ":6: 'client': expected yes or no, got "
						      "'maybe'");
	expect_error("syslog = true\n", ":1: 'syslog': expected yes or no, got 'true'");
}

static void error_bad_keyword(void **state)
{
	expect_error("foreground = always\n",
		     ":1: 'foreground': expected yes, quiet or no, got 'always'");
	expect_error("failover = random\n", ":1: 'failover': expected rr or prio, got 'random'");
	expect_error("ktls = yes\n", ":1: 'ktls': expected auto, on or off, got 'yes'");
}

static void error_section_not_closed(void **state)
{
	expect_error("\n\n\n\n\n\n\n\n[svc\n", ":9: section header '[svc' is not closed");
}

/* ---- include = DIRECTORY ---------------------------------------------------------------- */

static char inc[160];

/* Writes NAME in the directory `inc` (made on first use) with TEXT. */
static void write_inc(const char *name, const char *text)
{
	char file[256];
	FILE *f;

	snprintf(inc, sizeof(inc), "%s/inc", dir);
	mkdir(inc, 0700);
	snprintf(file, sizeof(file), "%s/%s", inc, name);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Empties and removes `inc`: each include test starts without it, even after one that failed. */
static void remove_inc(void)
{
	struct dirent **names;
	char file[512];
	int n;

	snprintf(inc, sizeof(inc), "%s/inc", dir);
	n = scandir(inc, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%s/%s", inc, names[i]->d_name);
		unlink(file);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	rmdir(inc);
}

#define INC_A "[a]\naccept = 127.0.0.1:20011\nconnect = 20012\nclient = yes\n"
#define INC_B "[b]\naccept = 127.0.0.1:20013\nconnect = 20012\nclient = yes\n"

/* Every *.conf, in ascending order of names, whatever the order they were written in; other
 * files and hidden ones are not read. */
static void include_reads_conf_files_in_order(void **state)
{
	char text[256], file[256];
	struct conf *c;

	remove_inc();
	write_inc("02-b.conf", INC_B);
	write_inc("01-a.conf", "; the first\n" INC_A);
	write_inc("notes.txt", "not a configuration\n");
	write_inc(".x.conf", "not read either\n");
	snprintf(text, sizeof(text), "debug = 7\ninclude = %s\nTIMEOUTidle = 9\n", inc);
	c = load(text);
	assert_int_equal(c->n_services, 2);
	assert_string_equal(c->services[0].name, "a");
	assert_string_equal(c->services[1].name, "b");
	snprintf(file, sizeof(file), "%s/01-a.conf", inc);
	assert_string_equal(c->services[0].file, file);
	assert_int_equal(c->services[0].line, 2);
	/* the lines after include are read too, in the section the included files ended in */
	assert_int_equal(c->debug_level, 7);
	assert_int_equal(c->services[0].timeouts.idle, 43200);
	assert_int_equal(c->services[1].timeouts.idle, 9);
	conf_free(c);
	remove_inc();
}

/* Inside a service, the included lines belong to it (as stunnel reads them). */
static void include_inside_a_service(void **state)
{
	char text[256];
	struct conf *c;

	remove_inc();
	write_inc("s.conf", "connect = 20022\nTIMEOUTidle = 9\n");
	snprintf(text, sizeof(text), "[s]\naccept = 127.0.0.1:20021\nclient = yes\ninclude = %s\n",
		 inc);
	c = load(text);
	assert_int_equal(c->services[0].n_connect, 1);
	assert_int_equal(c->services[0].timeouts.idle, 9);
	conf_free(c);
	remove_inc();
}

static void error_in_included_file_names_it(void **state)
{
	char text[256], expected[512];

	remove_inc();
	write_inc("01-a.conf", "[a]\naccept = 127.0.0.1:20011\nbogus = 1\n");
	snprintf(text, sizeof(text), "\ninclude = %s\n", inc);
	write_text(text);
	snprintf(expected, sizeof(expected), "%s/01-a.conf:3: unknown option 'bogus'", inc);
	assert_int_equal(conf_load(path, false, &(struct conf *){NULL}, err, sizeof(err)), -1);
	assert_string_equal(err, expected);
	/* found after the whole file is read: still the included file and the section's line */
	write_inc("01-a.conf", "\n[a]\naccept = 127.0.0.1:20011\nclient = yes\n");
	snprintf(expected, sizeof(expected), "%s/01-a.conf:2: [a] needs 'connect'", inc);
	assert_int_equal(conf_load(path, false, &(struct conf *){NULL}, err, sizeof(err)), -1);
	assert_string_equal(err, expected);
	remove_inc();
}

static void error_include_missing_directory(void **state)
{
	expect_error("\ninclude = /nonexistent/conf.d\n",
		     ":2: 'include': cannot read directory /nonexistent/conf.d: No such file or "
		     "directory");
}

static void error_include_itself(void **state)
{
	char text[256], expected[512];

	remove_inc();
	snprintf(text, sizeof(text), "include = %s/inc\n", dir);
	write_inc("loop.conf", text);
	write_text(text);
	snprintf(expected, sizeof(expected),
		 "%s/loop.conf:1: 'include': nested more than 8 deep (does %s include itself?)",
		 inc, inc);
	assert_int_equal(conf_load(path, false, &(struct conf *){NULL}, err, sizeof(err)), -1);
	assert_string_equal(err, expected);
	remove_inc();
}

static void security_level_default_2_and_set(void **state)
{
	struct conf *c = load_svc("securityLevel = 0\n");

	assert_int_equal(c->services[0].security_level, 0);
	conf_free(c);
	c = load_svc("");
	assert_int_equal(c->services[0].security_level, 2);
	conf_free(c);
}

static void error_security_level(void **state)
{
	expect_error(SVC "securityLevel = 6\n",
		     ":5: 'securityLevel': expected a level 0 to 5, got '6'");
	expect_error(SVC "securityLevel = high\n",
		     ":5: 'securityLevel': expected a level 0 to 5, got 'high'");
}

static void reset_yes_accepted(void **state)
{
	conf_free(load("reset = yes\n" SVC "reset = yes\n"));
}

static void error_reset_no_refused_with_reason(void **state)
{
	expect_error(
	    SVC "reset = no\n",
	    ":5: 'reset = no' is not supported: ktlsrelay always resets the other side after "
	    "an error, a timeout or a TLS end without close_notify, so that a truncated "
	    "transfer never ends cleanly");
	expect_error(SVC "reset = maybe\n", ":5: 'reset': expected yes or no, got 'maybe'");
}

static void error_empty_section_name(void **state)
{
	expect_error("[ ]\n", ":1: empty service name '[]'");
}

static void error_refused_stunnel_options(void **state)
{
	static const char *const names[] = {
	    "exec",	   "execArgs",	  "pty",	   "protocol",	     "protocolHost",
	    "engine",	   "engineId",	  "fips",	   "compression",    "EGD",
	    "RNDfile",	   "service",	  "OCSPnonce",	   "OCSP",	     "OCSPaia",
	    "OCSPflag",	   "PSKsecrets",  "renegotiation", "iconError",	     "retry",
	    "local",	   "transparent", "redirect",	   "libwrap",	     "ident",
	    "logId",	   "stack",	  "checkEmail",	   "config",	     "PSKidentity",
	    "log",	   "iconIdle",	  "taskbar",	   "sessiond",	     "CAengine",
	    "TIMEOUTocsp", "OCSPrequire", "engineNum",	   "protocolHeader",
	};

	expect_error("\nexec = /bin/sh\n",
		     ":2: 'exec' is a stunnel option that ktlsrelay does not support");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "%s = x\n", names[i]);
		expect_errorf(text, ":1: '%s' is a stunnel option that ktlsrelay does not support",
			      names[i]);
	}
	/* names are case-insensitive here too, and the message spells them as stunnel does */
	expect_error(SVC "EXEC = /bin/sh\n",
		     ":5: 'exec' is a stunnel option that ktlsrelay does not support");
}

static void error_accept_outside_service(void **state)
{
	expect_error("\n\n\naccept = 443\n", ":4: 'accept' must be inside a [service] section");
}

static void error_global_option_in_service(void **state)
{
	expect_error("[svc]\nforeground = yes\n",
		     ":2: 'foreground' is a global option; it cannot be set in [svc]");
	expect_error("[svc]\nsetuid = nobody\n",
		     ":2: 'setuid' is a global option; it cannot be set in [svc]");
}

static void error_duplicate_service(void **state)
{
	expect_error(SVC "[s]\n", ":5: duplicate service name '[s]' (first on line 1)");
}

static void error_file_unreadable(void **state)
{
	struct conf *c = (struct conf *)1;

	assert_int_equal(conf_load("/nonexistent/x.conf", false, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, "cannot read /nonexistent/x.conf: No such file or directory");
}

static void error_file_is_a_directory(void **state)
{
	struct conf *c = (struct conf *)1;
	char expected[256];

	snprintf(expected, sizeof(expected), "cannot read %s: not a regular file", dir);
	assert_int_equal(conf_load(dir, false, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, expected);
}

/* A FIFO would block start-up (or a reload) forever; /dev/zero would be read until memory ran
 * out (found by fuzz_conf_load's author). */
static void error_file_not_regular(void **state)
{
	struct conf *c = (struct conf *)1;
	char fifo[160], expected[256];

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(expected, sizeof(expected), "cannot read %s: not a regular file", fifo);
	assert_int_equal(conf_load(fifo, false, &c, err, sizeof(err)), -1);
	unlink(fifo);
	assert_null(c);
	assert_string_equal(err, expected);
	assert_int_equal(conf_load("/dev/zero", false, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot read /dev/zero: not a regular file");
}

static void error_file_too_large(void **state)
{
	struct conf *c = (struct conf *)1;
	char expected[256];
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fseek(f, 1024 * 1024, SEEK_SET), 0);
	assert_int_equal(fputc('\n', f), '\n');
	fclose(f);
	snprintf(expected, sizeof(expected), "cannot read %s: larger than 1048576 bytes", path);
	assert_int_equal(conf_load(path, false, &c, err, sizeof(err)), -1);
	assert_null(c);
	assert_string_equal(err, expected);
}

static void error_line_too_long(void **state)
{
	char *text = malloc(20000);
	size_t n;

	assert_non_null(text);
	strcpy(text, "foreground = yes\n; ");
	n = strlen(text);
	memset(text + n, 'a', 17000);
	strcpy(text + n + 17000, "\n");
	expect_error(text, ":2: line longer than 16384 bytes");
	free(text);
}

static void error_service_needs_accept(void **state)
{
	expect_error("pid = /a\n[s]\nconnect = 9\nclient = yes\n", ":2: [s] needs 'accept'");
}

static void error_service_needs_connect(void **state)
{
	expect_error("\n[s]\naccept = 9\nclient = yes\n", ":2: [s] needs 'connect'");
}

static void error_no_service(void **state)
{
	expect_error("pid = /a\n", ": no service defined");
	expect_error("", ": no service defined");
}

static void error_server_needs_cert(void **state)
{
	expect_error("\n\n[srv]\naccept = 9\nconnect = 8\n",
		     ":3: [srv] in server mode needs 'cert'");
}

static void error_check_host_needs_verification(void **state)
{
	expect_error(SVC "checkHost = a.example\n",
		     ":5: [s] checkHost requires verifyChain or verifyPeer");
	expect_error(SVC "checkIP = 127.0.0.1\n",
		     ":5: [s] checkIP requires verifyChain or verifyPeer");
}

static void error_verification_needs_ca(void **state)
{
	expect_error(SVC "verifyChain = yes\n", ":1: [s] verifyChain needs 'CAfile' or 'CApath'");
	expect_error(SVC "verify = 4\n", ":1: [s] verifyPeer needs 'CAfile' or 'CApath'");
}

static void error_connect_unresolvable(void **state)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int gai = getaddrinfo("nohost.invalid", "1", &hints, &res);

	assert_int_not_equal(gai, 0);
	expect_errorf("[s]\naccept = 9\nclient = yes\nconnect = nohost.invalid:1\n",
		      ":4: 'connect': cannot resolve 'nohost.invalid': %s", gai_strerror(gai));
}

static void error_accept_unresolvable(void **state)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL;
	int gai = getaddrinfo("nohost.invalid", NULL, &hints, &res);

	assert_int_not_equal(gai, 0);
	expect_errorf("[s]\naccept = nohost.invalid:1\n",
		      ":2: 'accept': cannot resolve 'nohost.invalid': %s", gai_strerror(gai));
}

static void error_missing_equals(void **state)
{
	expect_error("\n\n\ncert /a.pem\n", ":4: expected 'option = value', got 'cert /a.pem'");
	expect_error("= 3\n", ":1: expected 'option = value', got '= 3'");
}

static void error_empty_value(void **state)
{
	expect_error("\n\n[s]\ncert =\n", ":4: 'cert' needs a value");
	expect_error("chroot =   \n", ":1: 'chroot' needs a value");
}

static void error_accept_twice(void **state)
{
	expect_error(SVC "accept = 20009\n", ":5: 'accept' given twice in [s] (first on line 2)");
}

static void error_same_accept_in_two_services(void **state)
{
	expect_error(SVC "[t]\naccept = 127.0.0.1:20001\nconnect = 9\nclient = yes\n",
		     ":6: [t] accept 127.0.0.1:20001 clashes with [s] accept 127.0.0.1:20001 "
		     "(line 2)");
}

static void error_wildcard_accept_clashes(void **state)
{
	expect_error(SVC "[t]\naccept = 20001\nconnect = 9\nclient = yes\n",
		     ":6: [t] accept 20001 clashes with [s] accept 127.0.0.1:20001 (line 2)");
}

static void different_ports_do_not_clash(void **state)
{
	struct conf *c = load(SVC "[t]\naccept = 20002\nconnect = 9\nclient = yes\n"
				  "[u]\naccept = 127.0.0.2:20001\nconnect = 9\nclient = yes\n");

	assert_int_equal(c->n_services, 3);
	conf_free(c);
}

static void error_unknown_user_and_group(void **state)
{
	expect_error("setuid = no-such-user-x\n", ":1: 'setuid': no user 'no-such-user-x'");
	expect_error("\nsetgid = no-such-group-x\n", ":2: 'setgid': no group 'no-such-group-x'");
}

static void error_check_ip_not_an_address(void **state)
{
	expect_error(SVC "checkIP = host.example\n",
		     ":5: 'checkIP': 'host.example' is not an IP address");
}

static void error_ssl_versions(void **state)
{
	expect_error("sslVersion = SSLv3\n", ":1: 'sslVersion': SSLv3 is insecure and not "
					     "supported");
	expect_error("sslVersionMin = SSLv2\n", ":1: 'sslVersionMin': SSLv2 is insecure and not "
						"supported");
	expect_error("sslVersionMax = TLSv2\n",
		     ":1: 'sslVersionMax': expected all, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3, got "
		     "'TLSv2'");
}

static void error_version_max_below_min(void **state)
{
	expect_error(SVC "sslVersionMin = TLSv1.3\nsslVersionMax = TLSv1.2\n",
		     ":1: [s] sslVersionMax TLSv1.2 is below sslVersionMin TLSv1.3");
}

static void error_unknown_ssl_option(void **state)
{
	expect_error(SVC "options = NO_SUCH\n", ":5: 'options': unknown OpenSSL option 'NO_SUCH'");
	expect_error(SVC "options = -NO_SUCH\n", ":5: 'options': unknown OpenSSL option 'NO_SUCH'");
}

static void error_socket_options(void **state)
{
	expect_error("socket = l:TCP_FOO=1\n", ":1: 'socket': unknown socket option 'TCP_FOO'");
	expect_error("socket = l:SO_LINGER=1:60\n",
		     ":1: 'socket': SO_LINGER is a stunnel socket option that ktlsrelay does not "
		     "support");
	expect_error("socket = x:TCP_NODELAY=1\n",
		     ":1: 'socket': expected a:, l: or r: before the option, got "
		     "'x:TCP_NODELAY=1'");
	expect_error("socket = l:TCP_NODELAY\n",
		     ":1: 'socket': expected l:OPTION=VALUE, got 'l:TCP_NODELAY'");
	expect_error("socket = l:TCP_NODELAY=2\n",
		     ":1: 'socket': TCP_NODELAY expects yes, no, 1 or 0, got '2'");
	expect_error("socket = r:SO_SNDBUF=big\n",
		     ":1: 'socket': SO_SNDBUF expects a number, got 'big'");
}

static void error_sni_in_server_mode(void **state)
{
	expect_error("[s]\naccept = 9\nconnect = 8\ncert = /c.pem\nsni = other:*.example\n",
		     ":5: 'sni': in server mode (client = no) sni means a virtual service "
		     "(sni = service:pattern), which ktlsrelay does not support");
}

static void error_bad_numbers(void **state)
{
	expect_error("debug = 8\n", ":1: 'debug': expected a level 0..7 or emerg, alert, crit, "
				    "err, warning, notice, info or debug, got '8'");
	expect_error("debug = nosuch.5\n", ":1: 'debug': unknown syslog facility 'nosuch'");
	expect_error("workers = 257\n",
		     ":1: 'workers': expected 0 (one per CPU) or 1 to 256, got '257'");
	expect_error("TIMEOUTidle = -1\n",
		     ":1: 'TIMEOUTidle': expected a number of seconds (0 or more), got '-1'");
	expect_error("TIMEOUTbusy = 5s\n",
		     ":1: 'TIMEOUTbusy': expected a number of seconds (0 or more), got '5s'");
	expect_error("sessionCacheSize = lots\n",
		     ":1: 'sessionCacheSize': expected a number (0 or more), got 'lots'");
	expect_error("verify = 5\n", ":1: 'verify': expected a level 0 to 4, got '5'");
	expect_error("maxconn = -3\n", ":1: 'maxconn': expected a number (0 or more), got '-3'");
}

/* ---- help ------------------------------------------------------------------------------ */

/* Every supported option; a new one needs a line here (and a test above). */
static const char *const supported[] = {
    "foreground",
    "include",
    "pid",
    "chroot",
    "setuid",
    "setgid",
    "output",
    "debug",
    "syslog",
    "workers",
    "metrics",
    "accept",
    "connect",
    "failover",
    "delay",
    "client",
    "cert",
    "key",
    "CAfile",
    "CApath",
    "CRLfile",
    "CRLpath",
    "verify",
    "verifyChain",
    "verifyPeer",
    "requireCert",
    "checkHost",
    "checkIP",
    "ciphers",
    "ciphersuites",
    "curves",
    "sslVersion",
    "sslVersionMin",
    "sslVersionMax",
    "securityLevel",
    "options",
    "sni",
    "socket",
    "TIMEOUTbusy",
    "TIMEOUTclose",
    "TIMEOUTconnect",
    "TIMEOUTidle",
    "sessionCacheSize",
    "sessionCacheTimeout",
    "sessionResume",
    "ticketKeySecret",
    "ticketMacSecret",
    "reset",
    "ktls",
    "maxconn",
};

static char *print_options(enum conf_help_format format)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	conf_print_options(format, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void help_markdown_has_one_row_per_option(void **state)
{
	char *md = print_options(CONF_HELP_MARKDOWN);
	size_t rows = 0;

	assert_non_null(strstr(md, "| Option | Section | Value | Default | Meaning |\n"));
	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
		char row[64];

		snprintf(row, sizeof(row), "\n| %s | ", supported[i]);
		if (!strstr(md, row))
			fail_msg("no markdown row for %s", supported[i]);
	}
	for (const char *l = md; (l = strstr(l, "\n| ")); l++)
		rows++;
	/* header separator and the rows; "yes | no" stays in its cell */
	assert_int_equal(rows, 1 + sizeof(supported) / sizeof(supported[0]));
	assert_non_null(strstr(md, "| client | global, service | yes \\| no | no |"));
	assert_non_null(strstr(md, "| accept | service |"));
	assert_non_null(strstr(md, "| foreground | global |"));
	assert_non_null(strstr(md, "`exec`"));
	/* stunnel's version defaults */
	assert_non_null(strstr(md, "| sslVersionMin | global, service | all \\| TLSv1 \\| TLSv1.1 "
				   "\\| TLSv1.2 \\| TLSv1.3 | TLSv1 |"));
	assert_non_null(strstr(md, "\\| TLSv1.3 | all | highest TLS version |"));
	free(md);
}

static void help_text_lists_every_option(void **state)
{
	char *text = print_options(CONF_HELP_TEXT);

	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
		char row[64];

		snprintf(row, sizeof(row), "\n  %s = ", supported[i]);
		if (!strstr(text, row))
			fail_msg("no help line for %s", supported[i]);
	}
	assert_non_null(strstr(text, "default: 43200"));
	assert_non_null(strstr(text, "Refused stunnel options:"));
	assert_non_null(strstr(text, " exec "));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(seed_client_parses),
	    cmocka_unit_test(seed_server_parses),
	    cmocka_unit_test(defaults_when_not_given),
	    cmocka_unit_test(foreground_values),
	    cmocka_unit_test(foreground_flag_forces_yes),
	    cmocka_unit_test(pid_chroot_output),
	    cmocka_unit_test(pid_empty_means_none),
	    cmocka_unit_test(debug_number),
	    cmocka_unit_test(debug_level_name),
	    cmocka_unit_test(debug_facility_and_level),
	    cmocka_unit_test(syslog_no),
	    cmocka_unit_test(workers_count),
	    cmocka_unit_test(metrics_off_by_default),
	    cmocka_unit_test(metrics_bare_port_listens_on_loopback_only),
	    cmocka_unit_test(metrics_host_and_port),
	    cmocka_unit_test(metrics_bad_values_refused),
	    cmocka_unit_test(setuid_name_and_number),
	    cmocka_unit_test(reload_keeps_resolved_setuid_setgid),
	    cmocka_unit_test(setgid_group_name),
	    cmocka_unit_test(setgid_user_name_means_primary_group),
	    cmocka_unit_test(accept_ipv4_host_port),
	    cmocka_unit_test(accept_bare_port_listens_on_ipv6_any),
	    cmocka_unit_test(accept_ipv6_bracketed),
	    cmocka_unit_test(accept_ipv6_last_colon_splits),
	    cmocka_unit_test(accept_service_name_port),
	    cmocka_unit_test(accept_host_name_is_resolved),
	    cmocka_unit_test(connect_bare_port_means_localhost),
	    cmocka_unit_test(connect_repeatable_in_order),
	    cmocka_unit_test(delay_leaves_connect_unresolved),
	    cmocka_unit_test(failover_prio),
	    cmocka_unit_test(client_no_is_server_mode),
	    cmocka_unit_test(key_defaults_to_cert),
	    cmocka_unit_test(key_given),
	    cmocka_unit_test(cafile_and_capath),
	    cmocka_unit_test(verify_levels_as_stunnel),
	    cmocka_unit_test(verify_chain_requires_a_certificate),
	    cmocka_unit_test(verify_peer_requires_a_certificate),
	    cmocka_unit_test(require_cert),
	    cmocka_unit_test(check_host_and_ip_repeatable),
	    cmocka_unit_test(cipher_strings),
	    cmocka_unit_test(ssl_version_sets_both_bounds),
	    cmocka_unit_test(ssl_version_all_removes_bounds),
	    cmocka_unit_test(ssl_version_tls13_refuses_tls12),
	    cmocka_unit_test(ssl_version_min_allows_tls12),
	    cmocka_unit_test(ssl_version_min_and_max),
	    cmocka_unit_test(options_set_and_clear),
	    cmocka_unit_test(sni_client_name),
	    cmocka_unit_test(sni_empty_sends_none),
	    cmocka_unit_test(socket_options_each_role),
	    cmocka_unit_test(timeouts),
	    cmocka_unit_test(session_cache_and_resume),
	    cmocka_unit_test(reset_yes_accepted),
	    cmocka_unit_test(error_reset_no_refused_with_reason),
	    cmocka_unit_test(security_level_default_2_and_set),
	    cmocka_unit_test(error_security_level),
	    cmocka_unit_test(include_reads_conf_files_in_order),
	    cmocka_unit_test(include_inside_a_service),
	    cmocka_unit_test(error_in_included_file_names_it),
	    cmocka_unit_test(error_include_missing_directory),
	    cmocka_unit_test(error_include_itself),
	    cmocka_unit_test(crl_file_and_path),
	    cmocka_unit_test(error_crl_file_empty),
	    cmocka_unit_test(ticket_secrets_hex_16_or_32_bytes),
	    cmocka_unit_test(error_ticket_secret_not_hex),
	    cmocka_unit_test(error_ticket_secret_length),
	    cmocka_unit_test(error_ticket_secrets_together),
	    cmocka_unit_test(ktls_on_and_off),
	    cmocka_unit_test(global_service_options_are_defaults),
	    cmocka_unit_test(service_inherits_every_global_option),
	    cmocka_unit_test(option_rows_fit_their_parsers),
	    cmocka_unit_test(service_overrides_global),
	    cmocka_unit_test(socket_global_first_then_service),
	    cmocka_unit_test(check_host_global_then_service),
	    cmocka_unit_test(connect_in_service_replaces_global),
	    cmocka_unit_test(option_names_are_case_insensitive),
	    cmocka_unit_test(comments_blank_lines_and_spacing),
	    cmocka_unit_test(crlf_and_byte_order_mark),
	    cmocka_unit_test(several_services_keep_their_lines),
	    cmocka_unit_test(error_unknown_option),
	    cmocka_unit_test(error_port_not_a_number),
	    cmocka_unit_test(error_port_out_of_range),
	    cmocka_unit_test(error_not_yes_or_no),
	    cmocka_unit_test(error_bad_keyword),
	    cmocka_unit_test(error_section_not_closed),
	    cmocka_unit_test(error_empty_section_name),
	    cmocka_unit_test(error_refused_stunnel_options),
	    cmocka_unit_test(error_accept_outside_service),
	    cmocka_unit_test(error_global_option_in_service),
	    cmocka_unit_test(error_duplicate_service),
	    cmocka_unit_test(error_file_unreadable),
	    cmocka_unit_test(error_file_is_a_directory),
	    cmocka_unit_test(error_service_needs_accept),
	    cmocka_unit_test(error_service_needs_connect),
	    cmocka_unit_test(error_no_service),
	    cmocka_unit_test(error_server_needs_cert),
	    cmocka_unit_test(error_check_host_needs_verification),
	    cmocka_unit_test(error_verification_needs_ca),
	    cmocka_unit_test(error_connect_unresolvable),
	    cmocka_unit_test(error_accept_unresolvable),
	    cmocka_unit_test(error_missing_equals),
	    cmocka_unit_test(error_file_not_regular),
	    cmocka_unit_test(error_file_too_large),
	    cmocka_unit_test(error_line_too_long),
	    cmocka_unit_test(error_empty_value),
	    cmocka_unit_test(error_accept_twice),
	    cmocka_unit_test(error_same_accept_in_two_services),
	    cmocka_unit_test(error_wildcard_accept_clashes),
	    cmocka_unit_test(different_ports_do_not_clash),
	    cmocka_unit_test(error_unknown_user_and_group),
	    cmocka_unit_test(error_check_ip_not_an_address),
	    cmocka_unit_test(error_ssl_versions),
	    cmocka_unit_test(error_version_max_below_min),
	    cmocka_unit_test(error_unknown_ssl_option),
	    cmocka_unit_test(error_socket_options),
	    cmocka_unit_test(error_sni_in_server_mode),
	    cmocka_unit_test(error_bad_numbers),
	    cmocka_unit_test(maxconn_global_default_and_service),
	    cmocka_unit_test(help_markdown_has_one_row_per_option),
	    cmocka_unit_test(help_text_lists_every_option),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
