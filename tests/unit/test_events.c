/* Unit tests of subscriptions and envelopes (src/events/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/envelope.h"
#include "relay/provider.h"
#include "relay/settings.h"

static char *write_ini(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/ade-relay-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void config__sample_and_defaults(void **state)
{
	struct relay_config rc;
	struct config cfg;
	char err[512], path[1024];
	const char *top = getenv("ABS_TOP_SRCDIR");
	unsetenv("EVENT_PROVIDERS");
	snprintf(path, sizeof(path), "%s/conf/dicom.ini.sample", top ? top : ".");
	assert_int_equal(relay_config_load(&cfg, &rc, path, err, sizeof(err)), 0);
	assert_int_equal(rc.nsubs, 0);
	assert_int_equal(rc.nretry, 10);
	assert_true(rc.retry_schedule[0] == 10 && rc.retry_schedule[9] == 43200);
	relay_config_release(&rc);
	config_release(&cfg);
}

static void config__subscriptions_parsed(void **state)
{
	struct relay_config rc;
	struct config cfg;
	char err[512];
	char *p = write_ini("[database]\nhost = /x\n[subscription:hook]\nprovider = webhook\nurl = http://h/e\n"
			    "header = Authorization: Bearer t\nevent_types = A, B\nschema = cloudevents\nmax_attempts = 3\n"
			    "[subscription:f]\nprovider = file\npath = /tmp/x.jsonl\n[relay]\nretry_schedule = 1,2\nretry_scale = 0.5\n");
	assert_int_equal(relay_config_load(&cfg, &rc, p, err, sizeof(err)), 0);
	assert_int_equal(rc.nsubs, 2);
	struct subscription *h = &rc.subs[0];
	assert_string_equal(h->name, "hook");
	assert_string_equal(h->url, "http://h/e");
	assert_int_equal(h->nheaders, 1);
	assert_int_equal(h->ntypes, 2);
	assert_string_equal(h->event_types[1], "B");
	assert_int_equal(h->schema, SCHEMA_CLOUDEVENTS);
	assert_int_equal(h->max_attempts, 3);
	assert_int_equal(h->ttl_minutes, 1440);
	assert_int_equal(rc.nretry, 2);
	assert_true(rc.retry_scale == 0.5);
	relay_config_release(&rc);
	config_release(&cfg);
	unlink(p);
}

static void config__bad_values__name_the_key(void **state)
{
	struct relay_config rc;
	struct config cfg;
	char err[512];
	struct {
		const char *ini, *msg;
	} cases[] = {
		{ "[subscription:a]\nprovider = carrier-pigeon\n", "[subscription:a] provider: 'carrier-pigeon' must be" },
		{ "[subscription:a]\nprovider = webhook\nmax_attempts = 31\n", "max_attempts: '31' must be a whole number from 1 to 30" },
		{ "[subscription:a]\nprovider = webhook\n", "[subscription:a] url: missing" },
		{ "[subscription:a]\nprovider = webhook\nurl = ftp://x\n", "url: 'ftp://x' must be an http:// or https:// URL" },
		{ "[subscription:a]\nprovider = webhook\nurl = http://x\nheader = aeg-event-type: x\n", "aeg- prefix" },
		{ "[relay]\nretry_scale = 0\n", "[relay] retry_scale" },
		{ "[subscription:q]\nprovider = azure_storage_queue\nconnection_string = UseDevelopmentStorage=true\n",
		  "queue_name: missing" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = write_ini(cases[i].ini);
		assert_int_equal(relay_config_load(&cfg, &rc, p, err, sizeof(err)), -1);
		if (!strstr(err, cases[i].msg))
			fprintf(stderr, "%s\n", err);
		assert_non_null(strstr(err, cases[i].msg));
		relay_config_release(&rc);
		config_release(&cfg);
		unlink(p);
	}
}

static void config__event_providers_env(void **state)
{
	struct relay_config rc;
	struct config cfg;
	char err[512];
	setenv("EVENT_PROVIDERS",
	       "[{\"type\":\"webhook\",\"enabled\":true,\"url\":\"http://h/x\",\"retry_attempts\":4},"
	       "{\"type\":\"file\",\"file_path\":\"/tmp/e.jsonl\"},{\"type\":\"in_memory\",\"enabled\":false},"
	       "{\"type\":\"azure_storage_queue\",\"connection_string\":\"UseDevelopmentStorage=true\",\"queue_name\":\"q\"}]",
	       1);
	assert_int_equal(relay_config_load(&cfg, &rc, NULL, err, sizeof(err)), 0);
	assert_int_equal(rc.nsubs, 4);
	assert_string_equal(rc.subs[0].provider, "webhook");
	assert_int_equal(rc.subs[0].max_attempts, 4);
	assert_string_equal(rc.subs[1].path, "/tmp/e.jsonl");
	assert_string_equal(rc.subs[2].provider, "debug");
	assert_false(rc.subs[2].enabled);
	assert_string_equal(rc.subs[3].queue_name, "q");
	relay_config_release(&rc);
	config_release(&cfg);
	setenv("EVENT_PROVIDERS", "[{\"url\":\"x\"}]", 1);
	assert_int_equal(relay_config_load(&cfg, &rc, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "EVENT_PROVIDERS[0]"));
	relay_config_release(&rc);
	config_release(&cfg);
	unsetenv("EVENT_PROVIDERS");
}

static void envelope__cloudevents_mapping(void **state)
{
	const char *eg = "{\"id\" : \"i1\", \"topic\" : \"/t\", \"subject\" : \"h/v1/s\", \"data\" : {\"sequenceNumber\" : 7}, "
			 "\"eventType\" : \"Microsoft.HealthcareApis.DicomImageCreated\", \"dataVersion\" : \"1\", "
			 "\"metadataVersion\" : \"1\", \"eventTime\" : \"2024-01-01T00:00:00.000001Z\"}";
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(envelope_event(SCHEMA_CLOUDEVENTS, eg, &out), 0);
	assert_string_equal(buf_str(&out),
			    "{\"source\":\"/t\",\"subject\":\"h/v1/s\",\"type\":\"Microsoft.HealthcareApis.DicomImageCreated\","
			    "\"time\":\"2024-01-01T00:00:00.000001Z\",\"id\":\"i1\",\"data\":{\"sequenceNumber\":7},"
			    "\"specversion\":\"1.0\"}");
	buf_reset(&out);
	assert_int_equal(envelope_event(SCHEMA_EVENTGRID, eg, &out), 0);
	assert_int_equal(strncmp(buf_str(&out), "{\"id\":\"i1\",\"topic\":\"/t\",\"subject\"", 33), 0);
	assert_int_equal(envelope_event(SCHEMA_EVENTGRID, "not json", &out), -1);
	buf_release(&out);
}

/* An AccountKey longer than the key buffer is refused, not decoded past
 * its end (no network is touched: the connection string fails first). */
static void queue__oversized_account_key__refused(void **state)
{
	struct subscription s;
	char err[256], cs[1024];
	char key[601];
	memset(&s, 0, sizeof(s));
	memset(key, 'A', 600);
	key[600] = '\0';
	snprintf(cs, sizeof(cs), "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=%s;QueueEndpoint=http://127.0.0.1:9/a",
		 key);
	s.name = "q";
	s.connection_string = cs;
	s.queue_name = "q";
	assert_int_equal(provider_queue.open(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "AccountKey is longer than 128 bytes"));
	provider_queue.close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config__sample_and_defaults),
		cmocka_unit_test(config__subscriptions_parsed),
		cmocka_unit_test(config__bad_values__name_the_key),
		cmocka_unit_test(config__event_providers_env),
		cmocka_unit_test(envelope__cloudevents_mapping),
		cmocka_unit_test(queue__oversized_account_key__refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
