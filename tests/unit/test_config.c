/* Unit tests of configuration loading (src/common/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"

static char *write_ini(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/ade-cfg-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void load__no_file__defaults(void **state)
{
	struct config c;
	char err[256];
	unsetenv("DICOM_STORE_DIR");
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.store_dir, "/var/lib/azure-dicom-emulator/store");
	assert_string_equal(c.cors_allow_origins, "");
	assert_int_equal(c.max_part_bytes, 2147483648LL);
	assert_false(c.x_sendfile);
	assert_false(c.transcode_all);
	assert_false(c.bulkdata_uri);
	config_release(&c);
}

static void load__values_and_env_override(void **state)
{
	struct config c;
	char err[256];
	char *p = write_ini("[store]\ndir = /srv/dicom\nx_sendfile = yes\n[database]\nhost = /run/pg\nport = 5499\n"
			    "[subscription.hook]\nprovider = webhook\n");
	assert_int_equal(config_load(&c, p, err, sizeof(err)), 0);
	assert_string_equal(c.store_dir, "/srv/dicom");
	assert_true(c.x_sendfile);
	char *ci = config_conninfo(&c, "outbox-relay");
	assert_non_null(strstr(ci, "host='/run/pg'"));
	assert_non_null(strstr(ci, "port='5499'"));
	assert_non_null(strstr(ci, "application_name='outbox-relay'"));
	free(ci);
	config_release(&c);

	setenv("DICOM_STORE_DIR", "/env/store", 1);
	setenv("DICOM_DB_CONNINFO", "postgresql://u@h/db?application_name=x&sslmode=disable&options=a-very-long-value-"
				    "that-would-not-fit-on-one-inih-line-because-inih-is-built-with-a-200-character-limit-"
				    "on-debian-so-long-connection-strings-come-from-the-environment",
	       1);
	assert_int_equal(config_load(&c, p, err, sizeof(err)), 0);
	assert_string_equal(c.store_dir, "/env/store");
	ci = config_conninfo(&c, "dicom-fcgi");
	assert_true(strlen(ci) > 200);
	assert_int_equal(strncmp(ci, "postgresql://", 13), 0);
	free(ci);
	config_release(&c);
	unsetenv("DICOM_STORE_DIR");
	unsetenv("DICOM_DB_CONNINFO");
	unlink(p);
}

static void load__bad_values__line_numbered_errors(void **state)
{
	struct config c;
	char err[256];
	char *p = write_ini("[store]\n\nmax_parts = lots\n");
	assert_int_equal(config_load(&c, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 3"));
	assert_non_null(strstr(err, "max_parts"));
	config_release(&c);
	unlink(p);

	p = write_ini("[server]\nlisten = :9000\nbogus = 1\n");
	assert_int_equal(config_load(&c, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 3"));
	assert_non_null(strstr(err, "unknown key 'bogus'"));
	config_release(&c);
	unlink(p);

	p = write_ini("[retrieve]\ntranscoding = everything\n");
	assert_int_equal(config_load(&c, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "transcoding must be azure or all"));
	config_release(&c);
	unlink(p);

	p = write_ini("[retrieve]\ntranscoding = all\nbulkdata_uri = on\n");
	assert_int_equal(config_load(&c, p, err, sizeof(err)), 0);
	assert_true(c.transcode_all);
	assert_true(c.bulkdata_uri);
	config_release(&c);
	unlink(p);

	p = write_ini("[store]\nx_sendfile = maybe\n");
	assert_int_equal(config_load(&c, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not true or false"));
	config_release(&c);
	unlink(p);

	assert_int_equal(config_load(&c, "/nonexistent/dicom.ini", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
	config_release(&c);
}

static void load__sample_file__valid(void **state)
{
	struct config c;
	char err[256], path[1024];
	const char *top = getenv("ABS_TOP_SRCDIR");
	snprintf(path, sizeof(path), "%s/conf/dicom.ini.sample", top ? top : ".");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.events_service_host, "localhost");
	config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load__no_file__defaults),
		cmocka_unit_test(load__values_and_env_override),
		cmocka_unit_test(load__bad_values__line_numbered_errors),
		cmocka_unit_test(load__sample_file__valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
