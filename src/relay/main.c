/* outbox-relay: delivers the events that store and delete wrote to the
 * outbox, to every subscription of its configuration, at least once.
 * Several relays may run: they share the work through row locks and leases. */
#include "config.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/relay.h"
#include "db/eqt.h"
#include "events/envelope.h"
#include "relay/provider.h"
#include "relay/settings.h"
#include "relay/export.h"
#include "relay/update.h"
#include "store/store.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/banned.h"

static const char usage[] =
	"usage: outbox-relay [-c FILE] [--user NAME] [--help] [--version]\n"
	"\n"
	"Delivers the events of azure-dicom-emulator (DicomImageCreated, ...Deleted,\n"
	"...Updated) from the outbox table to the subscriptions of its configuration:\n"
	"[subscription:NAME] sections of the INI file, and the EVENT_PROVIDERS\n"
	"environment variable (a JSON array). Runs until SIGTERM or SIGINT.\n"
	"\n"
	"  -c, --config FILE  configuration file (default: $DICOM_CONFIG, else\n"
	"                     " SYSCONFDIR "/azure-dicom-emulator/dicom.ini if present)\n"
	"      --user NAME    started as root: run as the user NAME (its groups too)\n"
	"  -h, --help         show this help and exit\n"
	"  -V, --version      show the version and exit\n"
	"\n"
	"The database comes from the [database] section or DICOM_DB_CONNINFO, as for\n"
	"dicom-fcgi; [relay] holds poll_interval_ms, gather_ms (while events come\n"
	"faster, at least this long between two wakes by them, so that they go\n"
	"out together; 10), batch, lease_seconds, retry_schedule, retry_scale,\n"
	"operation_batch, operation_pause_ms, update_retry_seconds (a bulk update's\n"
	"instance whose new version the store has no room for fails after this long;\n"
	"780, the service's retries),\n"
	"temp_max_age_seconds (upload temp files older than this are removed),\n"
	"orphan_max_age_seconds (stored files no row points at, older than this,\n"
	"are removed; a day by default, 0 keeps them) and event_max_age_hours\n"
	"(events older than this, with no delivery pending, are removed from the\n"
	"outbox with their delivery records; a week by default, 0 keeps them).\n"
	"\n"
	"It also carries out the long-running operations (extended query tag\n"
	"reindexing; bulk update and export, which need the [store] directory),\n"
	"claimed by lease, so a relay that dies leaves the rest of the work to\n"
	"another, from where it stopped; and it deletes the studies whose expiry\n"
	"time (msdicom-expiry-* headers on STOW) has passed.\n";

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct relay {
	struct config cfg;
	struct relay_config rc;
	struct db *db; /* registration, LISTEN, operations, expiry: commits flushed */
	struct db *ev; /* deliveries (db_relay_delivery_session) */
	struct store store; /* for sweeping upload temp files, when this host has it */
	bool have_store;
	time_t last_sweep, last_orphan_sweep;
	const char **names; /* enabled subscriptions */
	size_t nnames;
	char owner[128];
	struct update_state update; /* the bulk update operation held */
	struct update_state export; /* the export operation held */
	uint64_t expiry_at; /* when the next study expires (util_now_ms), as last read */
	uint64_t delivery_at; /* when the next delivery of ours is due, as last read */
	uint64_t due_read_at; /* when both were read (wait_ms) */
	bool due_stale; /* a delivery was put off since: its time is not among them */
	uint64_t events_woke_at; /* the last wake by new events (gather) */
	bool heads_done;   /* no instance without its head was found (fill_heads) */
	long heads_filled; /* instances given their head so far */
};

static struct subscription *find_sub(struct relay *r, const char *name)
{
	for (size_t i = 0; i < r->rc.nsubs; i++)
		if (!strcmp(r->rc.subs[i].name, name))
			return &r->rc.subs[i];
	return NULL;
}

/* Event Grid's schedule, scaled for tests, with a little jitter. */
static double retry_delay(const struct relay_config *rc, int attempt)
{
	size_t i = attempt - 1 < (int)rc->nretry ? (size_t)(attempt - 1) : rc->nretry - 1;
	double d = rc->retry_schedule[i] * rc->retry_scale;
	return d * (0.95 + 0.1 * (rand() / (double)RAND_MAX));
}

/* What became of one claimed delivery, to be recorded. */
struct result {
	const struct db_claim *c;
	struct subscription *s; /* NULL: not ours after all (the lease runs out, another relay takes it) */
	struct buf body;        /* the event in the subscription's schema */
	bool send;              /* to be delivered (else decided already) */
	struct outcome o;
	const char *status, *reason;
	double retry_in;
};

/* Before delivery: the event in its subscription's schema, or a status
 * decided without a delivery (time to live passed, an unreadable event). */
static void prepare(struct relay *r, const struct db_claim *c, struct result *res)
{
	struct subscription *s = find_sub(r, c->subscription);
	struct outcome *o = &res->o;

	memset(res, 0, sizeof(*res));
	res->c = c;
	res->s = s;
	o->kind = OUTCOME_RETRY;
	buf_init(&res->body, 0);
	if (!s)
		return;
	if (c->age_seconds > s->ttl_minutes * 60.0) {
		/* Event Grid checks the time to live at the next scheduled attempt */
		res->status = s->dead_letter ? "dead" : "dropped";
		res->reason = "TimeToLiveExceeded";
		snprintf(o->text, sizeof(o->text), "TimeToLiveExceeded");
	} else if (envelope_event(s->schema, c->payload, &res->body)) {
		o->kind = OUTCOME_FATAL;
		snprintf(o->text, sizeof(o->text), "BadEvent");
	} else {
		res->send = true;
	}
}

/* Each subscription's share of the batch, at once where its provider
 * takes several (a webhook: several in flight), else one by one. */
static void deliver_all(struct relay *r, struct result *res, long n)
{
	struct event_out *ev = xcalloc((size_t)(n ? n : 1), sizeof(*ev));
	struct outcome *out = xcalloc((size_t)(n ? n : 1), sizeof(*out));
	long *at = xcalloc((size_t)(n ? n : 1), sizeof(*at));

	for (size_t j = 0; j < r->rc.nsubs; j++) {
		struct subscription *s = &r->rc.subs[j];
		const struct provider *p = provider_find(s->provider ? s->provider : "");
		size_t k = 0;
		for (long i = 0; i < n; i++) {
			if (res[i].s != s || !res[i].send)
				continue;
			ev[k] = (struct event_out){ res[i].body.data, res[i].body.len, res[i].c->attempt };
			out[k] = (struct outcome){ OUTCOME_RETRY, 0, "" };
			at[k++] = i;
		}
		if (!k || !p)
			continue;
		if (p->deliver_many)
			p->deliver_many(s, ev, k, out);
		else
			for (size_t i = 0; i < k; i++)
				p->deliver(s, &ev[i], &out[i]);
		for (size_t i = 0; i < k; i++)
			res[at[i]].o = out[i];
	}
	free(at);
	free(out);
	free(ev);
}

/* After delivery: the new status, as Event Grid's retry policy says. */
static void decide(struct relay *r, struct result *res)
{
	const struct outcome *o = &res->o;
	const struct subscription *s = res->s;

	if (!s || res->status)
		return;
	if (o->kind == OUTCOME_DELIVERED) {
		res->status = "delivered";
	} else if (o->kind == OUTCOME_FATAL) {
		res->status = s->dead_letter ? "dead" : "dropped";
		res->reason = o->text;
	} else if (res->c->attempt >= s->max_attempts) {
		res->status = s->dead_letter ? "dead" : "dropped";
		res->reason = "MaxDeliveryAttemptsExceeded";
	} else {
		res->status = "pending";
		res->retry_in = retry_delay(&r->rc, res->c->attempt);
	}
}

/* The outcomes of a batch, in one statement: one commit (one flush of the
 * WAL) a batch rather than one a delivery. A batch that cannot be
 * recorded is delivered again once its leases run out (at least once). */
static int record(struct relay *r, const struct result *res, long n)
{
	struct db_record *rec = xcalloc((size_t)(n ? n : 1), sizeof(*rec));
	size_t k = 0;

	for (long i = 0; i < n; i++) {
		const struct result *x = &res[i];
		if (!x->s)
			continue;
		log_info("delivery subscription='%s' outbox=%lld attempt=%d outcome=%s http=%d status=%s", x->s->name,
			 (long long)x->c->outbox_id, x->c->attempt, x->o.text, x->o.http_status, x->status);
		rec[k++] = (struct db_record){ x->c->outbox_id, x->s->name, x->status, x->retry_in, x->o.http_status,
					       x->o.text, x->reason };
	}
	int rc = k ? db_relay_record(r->ev, r->owner, rec, k) : 0;
	if (rc)
		log_error("cannot record the outcomes of %zu deliveries (they will be made again)", k);
	free(rec);
	return rc;
}

static int register_all(struct relay *r)
{
	for (size_t i = 0; i < r->rc.nsubs; i++) {
		struct subscription *s = &r->rc.subs[i];
		if (!s->enabled)
			continue;
		struct db_subscription d = { s->name,
					     s->provider,
					     (const char *const *)s->event_types,
					     s->ntypes,
					     s->begins_with,
					     s->ends_with,
					     s->case_sensitive };
		if (db_relay_register(r->db, &d))
			return -1;
	}
	return db_listen(r->db, "outbox");
}

/* Sleeps ms milliseconds, or less when a signal comes. */
static void sleep_ms(int64_t ms)
{
	if (ms > 0) {
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Rests between steps of an operation, as [relay] operation_pause_ms says. */
static void operation_pause(struct relay *r)
{
	sleep_ms(r->rc.operation_pause_ms);
}

/* While commits come faster than the relay's rounds (a STOW run), each
 * round would take one or two events: a wake by events less than [relay]
 * gather_ms after the one before waits out the rest, so that the events
 * of those milliseconds share one fan-out, one claim and one record of
 * outcomes. The first event after a quiet spell goes at once. */
static void gather(struct relay *r)
{
	uint64_t since = util_now_ms() - r->events_woke_at;
	if (since < (uint64_t)r->rc.gather_ms && !stopping)
		sleep_ms(r->rc.gather_ms - (int64_t)since);
	r->events_woke_at = util_now_ms();
}

/* A slice of operation work: claims a job when none is held, then takes
 * steps for at most 200 ms so that events keep flowing. Returns 1 when work
 * remains, 0 when idle, -1 on a database error. */
static int operations(struct relay *r, struct db_reindex *job, bool *held)
{
	if (!*held) {
		int c = db_reindex_claim(r->db, r->owner, r->rc.lease_seconds, job);
		if (c <= 0)
			return c;
		*held = true;
		log_info("operation id=%s reindex tags=%zu from=%lld to=%lld", job->id, job->ntags, (long long)job->cursor,
			 (long long)job->end);
	}
	uint64_t until = util_now_ms() + 200;
	while (!stopping && util_now_ms() < until) {
		int more = db_reindex_step(r->db, r->owner, r->rc.lease_seconds, r->rc.operation_batch, job);
		if (more <= 0) {
			if (more == 0)
				log_info("operation id=%s finished", job->id);
			db_reindex_release(job);
			*held = false;
			return more < 0 ? -1 : 1; /* look for the next one */
		}
		operation_pause(r);
	}
	return 1;
}

/* A slice of bulk update and export work (this host must have the store):
 * steps of operation_batch instances (10 at most) for at most 200 ms. Returns 1 when work
 * remains, 0 when idle, -1 on a database error. */
static int updates(struct relay *r)
{
	/* each instance is a file rewritten: small steps keep the lease fresh */
	long batch = r->rc.operation_batch < 10 ? (long)r->rc.operation_batch : 10;
	struct update_ctx u = { .db = r->db, .store = &r->store, .owner = r->owner,
				.lease_seconds = (int)r->rc.lease_seconds, .batch = batch,
				.host = r->cfg.events_service_host, .topic = r->cfg.events_topic,
				.export_identity = r->cfg.export_identity,
				.retry_seconds = r->rc.update_retry_seconds };
	if (!r->have_store)
		return 0;
	uint64_t until = util_now_ms() + 200;
	int more = 1, emore = 1;
	while (!stopping && (more > 0 || emore > 0) && util_now_ms() < until) {
		if (more > 0)
			more = update_work(&u, &r->update);
		if (emore > 0 && more >= 0)
			emore = export_work(&u, &r->export);
		if (more < 0 || emore < 0)
			return -1;
		if (more > 0 || emore > 0)
			operation_pause(r);
	}
	return more > 0 || emore > 0;
}

/* Until there is nothing left: fan out, claim, deliver. */
static int work(struct relay *r)
{
	long n;

	do {
		n = db_relay_fanout(r->ev, 200);
		if (n < 0)
			return -1;
	} while (n == 200 && !stopping);
	if (!r->nnames)
		return 0;
	do {
		struct db_claim *claims;
		n = db_relay_claim(r->ev, r->names, r->nnames, r->owner, r->rc.lease_seconds, r->rc.batch, &claims);
		if (n < 0)
			return -1;
		struct result *res = xcalloc((size_t)(n ? n : 1), sizeof(*res));
		for (long i = 0; i < n; i++)
			prepare(r, &claims[i], &res[i]);
		deliver_all(r, res, n);
		for (long i = 0; i < n; i++)
			decide(r, &res[i]);
		for (long i = 0; i < n; i++)
			if (!res[i].s || !strcmp(res[i].status, "pending"))
				r->due_stale = true; /* a retry, or a lease that will run out */
		int rc = record(r, res, n);
		for (long i = 0; i < n; i++)
			buf_release(&res[i].body);
		free(res);
		db_claims_free(claims, n);
		if (rc)
			return -1;
	} while (n == r->rc.batch && !stopping);
	return 0;
}

/* Opens every enabled subscription's provider. Returns 0, or -1 with the
 * reason in err. */
static int open_subscriptions(struct relay *r, char *err, size_t errlen)
{
	r->names = calloc(r->rc.nsubs + 1, sizeof(*r->names));
	for (size_t i = 0; i < r->rc.nsubs; i++) {
		struct subscription *s = &r->rc.subs[i];
		if (!s->enabled)
			continue;
		const struct provider *p = provider_find(s->provider);
		if (!p) {
			snprintf(err, errlen, "[subscription:%s] provider: '%s' is not available in this version", s->name,
				 s->provider);
			return -1;
		}
		if (p->open(s, err, errlen))
			return -1;
		r->names[r->nnames++] = s->name;
	}
	return 0;
}

static void close_subscriptions(struct relay *r)
{
	for (size_t i = 0; i < r->rc.nsubs; i++) {
		const struct provider *p = provider_find(r->rc.subs[i].provider ? r->rc.subs[i].provider : "");
		if (p && r->rc.subs[i].state)
			p->close(&r->rc.subs[i]);
	}
	free(r->names);
}

/* The database went away: reconnect and listen again, until stopped. */
static void reconnect(struct relay *r)
{
	r->due_stale = true;
	while (!stopping && (db_ensure(r->db) || db_ensure(r->ev) || register_all(r)))
		sleep(1);
}

/* Whether a sweep of files older than max_age is due: this host has the
 * store, the sweep is on (max_age > 0), and its last one is at least
 * max_age / part (at most cap) seconds ago. */
static bool sweep_due(struct relay *r, time_t *last, int64_t max_age, long part, long cap)
{
	time_t now = time(NULL);
	long every = max_age / part > cap ? cap : (long)(max_age / part);

	if (!r->have_store || !max_age || now - *last < (every ? every : 1))
		return false;
	*last = now;
	return true;
}

/* Upload temp files older than [relay] temp_max_age_seconds (a responder
 * killed mid-request leaves its own), looked for a few times that period;
 * and stored files no row points at (a crash between a file's rename and
 * its commit, or between a delete's commit and the removal), older than
 * [relay] orphan_max_age_seconds (a day: far longer than any upload takes
 * between its first part's rename and its commit), looked for every hour
 * or a quarter of that age when shorter. */
static void sweep(struct relay *r)
{
	if (sweep_due(r, &r->last_sweep, r->rc.temp_max_age, 5, 60))
		store_sweep_temp(&r->store, (long)r->rc.temp_max_age);
	if (sweep_due(r, &r->last_orphan_sweep, r->rc.orphan_max_age, 4, 3600)) {
		long n = store_sweep_orphans(&r->store, (long)r->rc.orphan_max_age, db_store_known, r->db);
		if (n > 0)
			log_info("removed %ld stored files no row points at", n);
	}
}

/* Instances stored before schema step 017 are given their head (the
 * attributes searches return by default; until then searches read their
 * whole metadata), a batch a turn of the loop, until a batch finds fewer:
 * then again only at the next heartbeat (rows another transaction held
 * are skipped), a lookup of an index that is empty once all have one. A
 * failure is logged and tried again at the next heartbeat: it is not the
 * deliveries' business. */
static void fill_heads(struct relay *r)
{
	enum { HEADS_BATCH = 500 };
	long n = db_relay_fill_heads(r->db, HEADS_BATCH);
	if (n < 0)
		log_warn("instances stored before schema step 017 cannot be given their head; tried again in a minute");
	else
		r->heads_filled += n;
	if (n < HEADS_BATCH) {
		r->heads_done = true;
		if (r->heads_filled > 0)
			log_info("gave %ld instances stored before schema step 017 their head", r->heads_filled);
		r->heads_filled = 0;
	}
}

/* Studies whose expiry time has passed (msdicom-expiry-* headers), deleted
 * as DELETE deletes them: rows, change feed and events in one transaction,
 * then the files. Returns 0, or -1 on a database error. */
static int expire(struct relay *r)
{
	for (int k = 0; k < 100 && !stopping; k++) {
		int64_t *wms;
		size_t n;
		if (db_expire(r->db, r->cfg.events_service_host, r->cfg.events_topic, &wms, &n))
			return -1;
		for (size_t i = 0; i < n && r->have_store; i++)
			store_remove(&r->store, wms[i]);
		free(wms);
		if (n == 0)
			break;
		log_info("expired study: deleted instances=%zu%s", n, r->have_store ? "" : " (files left: no [store] dir)");
	}
	return 0;
}

/* The time util_now_ms() gives seconds from now (-1: never). */
static uint64_t at(double seconds)
{
	return seconds >= 0 ? util_now_ms() + (uint64_t)(seconds * 1000) : UINT64_MAX;
}

/* Milliseconds to wait at most: the poll interval, or sooner the next
 * delivery or study expiry due (which expire() then waits for). Both are
 * read from the database once a poll interval, and sooner when one has
 * come (its work is done: the next one is wanted) or a delivery of ours
 * was put off, not at every wake by new events: those are delivered at
 * once, and the due times change only by retries and leases (another
 * relay's that run out are found within a poll interval, as before). */
static int wait_ms(struct relay *r)
{
	uint64_t now = util_now_ms();
	if (r->due_stale || now - r->due_read_at >= (uint64_t)r->rc.poll_interval_ms || r->delivery_at <= now ||
	    r->expiry_at <= now) {
		r->delivery_at = at(r->nnames ? db_relay_next_due(r->ev, r->names, r->nnames) : -1);
		r->expiry_at = at(db_expiry_next_due(r->db));
		r->due_read_at = now = util_now_ms();
		r->due_stale = false;
	}
	uint64_t ms = (uint64_t)r->rc.poll_interval_ms;
	uint64_t due[2] = { r->delivery_at, r->expiry_at };
	for (int i = 0; i < 2; i++)
		if (due[i] != UINT64_MAX && (due[i] > now ? due[i] - now : 0) < ms)
			ms = (due[i] > now ? due[i] - now : 0) + 1;
	return (int)ms;
}

/* Events done with and older than [relay] event_max_age_hours leave the
 * outbox, with their delivery records: a batch at a time, for at most a
 * second each heartbeat (the outbox grows by as many rows as are stored,
 * and the rest waits for the next minute). */
static void prune(struct relay *r)
{
	enum { PRUNE_BATCH = 5000 };
	long n, total = 0;

	if (!r->rc.event_max_age)
		return;
	uint64_t until = util_now_ms() + 1000;
	do {
		n = db_relay_prune(r->db, (int)r->rc.event_max_age, PRUNE_BATCH);
		if (n > 0)
			total += n;
	} while (n == PRUNE_BATCH && !stopping && util_now_ms() < until);
	if (total)
		log_info("removed %ld events older than %lld hours, delivered or given up, from the outbox", total,
			 (long long)r->rc.event_max_age);
}

/* Until SIGTERM: operations, expiries, deliveries, then a wait for NOTIFY
 * or the next due time. A wake by new events delivers them and looks at
 * nothing else: operations are looked for when one is under way, when
 * one was started (its NOTIFY says "operation"), at every time-out and at
 * least once a poll interval (a peer's lease that ran out), expiries when
 * one is due. */
static void run(struct relay *r)
{
	time_t last_beat = 0; /* at once, then every minute */
	struct db_reindex job;
	bool held = false;
	bool look = true; /* for operations and expiries */
	uint64_t looked = 0;

	memset(&job, 0, sizeof(job));
	while (!stopping) {
		if (look)
			looked = util_now_ms();
		int busy = look || held ? operations(r, &job, &held) : 0;
		int ubusy = busy < 0 || !look ? 0 : updates(r);
		bool due = look || util_now_ms() >= r->expiry_at;
		if (busy < 0 || ubusy < 0 || (due && expire(r)) || work(r)) {
			db_reindex_release(&job);
			held = false;
			update_release(&r->update);
			update_release(&r->export);
			log_warn("database error; reconnecting");
			reconnect(r);
			look = true;
			continue;
		}
		if (time(NULL) - last_beat >= 60) {
			db_relay_heartbeat(r->db, r->names, r->nnames);
			long dropped = db_relay_drop_unserved(r->db);
			if (dropped > 0)
				log_info("dropped %ld pending deliveries of subscriptions no relay serves (TimeToLiveExceeded)",
					 dropped);
			prune(r);
			r->heads_done = false;
			last_beat = time(NULL);
		}
		sweep(r);
		if (!r->heads_done)
			fill_heads(r);
		look = busy > 0 || ubusy > 0 || !r->heads_done;
		if (look)
			continue; /* an operation, or heads to give, under way: no waiting */
		int woke = stopping ? 0 : db_wait(r->db, wait_ms(r));
		if (woke < 0) {
			log_warn("database connection lost; reconnecting");
			reconnect(r);
		} else if (woke & DB_WOKE_EVENTS) {
			gather(r);
		}
		look = woke <= 0 || (woke & DB_WOKE_OPERATION) || util_now_ms() - looked >= (uint64_t)r->rc.poll_interval_ms;
	}
	db_reindex_release(&job);
	update_release(&r->update);
	update_release(&r->export);
}

static void on_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a wait returns at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The relay's subscriptions, its two connections (the schema migrated),
 * its registrations and the store when this host has it; -1 (said why)
 * when it cannot run. */
static int start(struct relay *r)
{
	char err[1024];
	if (open_subscriptions(r, err, sizeof(err))) {
		fprintf(stderr, "outbox-relay: %s\n", err);
		return -1;
	}
	char *conninfo = config_conninfo(&r->cfg, "outbox-relay");
	r->db = db_connect_wait(conninfo, 30, &stopping, err, sizeof(err));
	r->ev = r->db ? db_connect_wait(conninfo, 30, &stopping, err, sizeof(err)) : NULL;
	free(conninfo);
	if (!r->db || !r->ev) {
		if (!stopping)
			log_error("%s", err);
		return -1;
	}
	if (db_relay_delivery_session(r->ev))
		return -1; /* logged */
	if (db_migrate(r->db, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	if (register_all(r)) {
		log_error("cannot register the subscriptions");
		return -1;
	}
	/* the store, when this host has it (a relay may run elsewhere) */
	r->have_store = access(r->cfg.store_dir, W_OK) == 0 &&
			!(r->cfg.store_require_mount && store_check_mount(r->cfg.store_require_mount, err, sizeof(err))) &&
			store_open(&r->store, r->cfg.store_dir, err, sizeof(err)) == 0;
	if (!r->have_store && r->cfg.store_require_mount)
		log_warn("%s: no store work on this host (bulk update, export, sweeps)", err);
	if (r->have_store) /* its expiries and updates, for the responders' kept lookups */
		db_count_changes(r->db, r->store.changes, false);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "user", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = getenv("DICOM_CONFIG"), *user = NULL;
	struct relay r;
	char err[1024], host[64] = "localhost";
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'U': user = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("outbox-relay (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (user && util_become_user(user, err, sizeof(err))) {
		fprintf(stderr, "outbox-relay: %s\n", err);
		return 1;
	}
	if (!config_path && access(SYSCONFDIR "/azure-dicom-emulator/dicom.ini", R_OK) == 0)
		config_path = SYSCONFDIR "/azure-dicom-emulator/dicom.ini";

	memset(&r, 0, sizeof(r));
	log_set_ident("outbox-relay");
	if (relay_config_load(&r.cfg, &r.rc, config_path, err, sizeof(err))) {
		fprintf(stderr, "outbox-relay: %s\n", err);
		return 1;
	}
	enum log_level lvl;
	if (!log_level_parse(r.cfg.log_level, &lvl))
		log_set_level(lvl);
	gethostname(host, sizeof(host) - 1);
	snprintf(r.owner, sizeof(r.owner), "%s:%ld", host, (long)getpid());
	srand((unsigned)(time(NULL) ^ getpid()));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	on_signals();

	if (start(&r))
		goto out;
	log_info("ready subscriptions=%zu owner='%s'", r.nnames, r.owner);
	run(&r);
	log_info("shutting down");
	rc = 0;
out:
	close_subscriptions(&r);
	if (r.have_store)
		store_release(&r.store);
	db_free(r.ev);
	db_free(r.db);
	relay_config_release(&r.rc);
	config_release(&r.cfg);
	curl_global_cleanup();
	return rc;
}
