/* Unit: a body written as FastCGI records of our own (http/fcgi_out.h)
 * reads back, record by record, as the web server reads it: FCGI_STDOUT
 * records of the request, each at most 65535 bytes, with the body's bytes
 * in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fastcgi.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/fcgi_out.h"

struct writer {
	int fd, id;
	const char *body;
	size_t n;
	int rc;
};

static void *write_body(void *arg)
{
	struct writer *w = arg;
	w->rc = fcgi_out_stdout(w->fd, w->id, w->body, w->n);
	close(w->fd);
	return NULL;
}

static size_t read_all(int fd, unsigned char *p, size_t cap)
{
	size_t got = 0;
	ssize_t r;
	while (got < cap && (r = read(fd, p + got, cap - got)) > 0)
		got += (size_t)r;
	return got;
}

/* Writes n bytes through a socket pair (a writer thread: the pair's buffer
 * is smaller than the larger bodies) and checks the records read back. */
static void records_of(size_t n, int id)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	char *body = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 7 + i / 251);
	struct writer w = { sv[0], id, body, n, -2 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, write_body, &w), 0);
	size_t cap = n + (n / 1000 + 2) * FCGI_HEADER_LEN;
	unsigned char *wire = malloc(cap);
	size_t len = read_all(sv[1], wire, cap);
	pthread_join(t, NULL);
	assert_int_equal(w.rc, 0);
	close(sv[1]);

	size_t at = 0, seen = 0, records = 0;
	while (at < len) {
		assert_true(len - at >= FCGI_HEADER_LEN);
		FCGI_Header h;
		memcpy(&h, wire + at, sizeof(h));
		size_t clen = (size_t)h.contentLengthB1 << 8 | h.contentLengthB0;
		assert_int_equal(h.version, FCGI_VERSION_1);
		assert_int_equal(h.type, FCGI_STDOUT);
		assert_int_equal(h.requestIdB1 << 8 | h.requestIdB0, id);
		assert_int_equal(h.paddingLength, 0);
		assert_true(clen > 0); /* a record of 0 bytes would end the stream */
		at += FCGI_HEADER_LEN;
		assert_true(clen <= len - at);
		assert_memory_equal(wire + at, body + seen, clen);
		at += clen;
		seen += clen;
		records++;
	}
	assert_int_equal(seen, n);
	assert_int_equal(records, (n + 65527) / 65528);
	free(wire);
	free(body);
}

static void stdout__small_body_is_one_record(void **state)
{
	records_of(16 * 1024, 1);
}

static void stdout__large_body_is_records_in_order(void **state)
{
	records_of(65528, 2);
	records_of(65529, 300);
	records_of(3 * 1024 * 1024 + 17, 65535);
}

static void stdout__nothing_writes_nothing(void **state)
{
	records_of(0, 1);
}

static void stdout__gone_connection_fails(void **state)
{
	int sv[2];
	char body[70000] = { 0 };
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(fcgi_out_stdout(sv[0], 1, body, sizeof(body)), -1);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stdout__small_body_is_one_record),
		cmocka_unit_test(stdout__large_body_is_records_in_order),
		cmocka_unit_test(stdout__nothing_writes_nothing),
		cmocka_unit_test(stdout__gone_connection_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
