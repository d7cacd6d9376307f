/* A responder's warm-up before its first request. */
#include "api/app.h"
#include "common/util.h"
#include "db/db.h"
#include "db/eqt.h"
#include "dicom/sandbox.h"

#include <stdio.h>
#include <unistd.h>

#include "common/banned.h"

/* The first STOW a responder served took 20 - 25 ms more than the next
 * ones, and its first rendering 15 ms more: the kept children's start and
 * first runs (GDCM's, the JPEG encoder's), and PostgreSQL's first run of
 * dicom_store in that connection (the function compiled, its statements
 * planned), of the reservation and of the lookups. Here they run before
 * the first request: the children parse and render an instance made up for
 * them, and two made-up instances of one series are reserved and stored in
 * a transaction that is rolled back (the second takes the paths of an
 * existing study and series), then looked up. Nothing of them is kept or
 * announced, and the change feed's sequence is put back (db_warm_begin);
 * two watermarks are used up, as by stores that fail. */
int api_warm(struct app *app, char *err, size_t errlen)
{
	struct db_eqt tags[128];
	struct db_instance_list found;
	struct db_warm w;
	char study[64], series[72], sop[2][80];
	int64_t wm, seq, replaced[2];
	int rc = 0;

	if (sandbox_warm(&app->sandbox, err, errlen))
		return -1;
	/* a component 0 after 2.25: no UUID-derived UID begins so */
	snprintf(study, sizeof(study), "2.25.0.%ld.%llu", (long)getpid(), (unsigned long long)util_now_ms());
	snprintf(series, sizeof(series), "%s.1", study);
	if (db_eqt_list(app->db, tags, 128, 0) < 0 || db_warm_begin(app->db, &w)) {
		snprintf(err, errlen, "the database did not answer, or its change feed stayed locked");
		return -1;
	}
	for (int i = 0; i < 2 && !rc; i++) {
		snprintf(sop[i], sizeof(sop[i]), "%s.%d", series, i + 1);
		if ((rc = db_reserve_instance(app->db, "Microsoft.Default", study, series, sop[i], false, &wm)))
			break;
		struct db_new_instance in = { .partition = "Microsoft.Default", .study = study, .series = series,
					      .sop = sop[i], .sop_class = "1.2.840.10008.5.1.4.1.1.7",
					      .ts = "1.2.840.10008.1.2.1", .watermark = wm, .metadata = "{}",
					      .metadata_bulk = "{}", .modality = i ? "OT" : NULL,
					      .study_description = i ? "warm-up" : NULL, .host = "", .topic = "" };
		rc = db_store_instance(app->db, &in, &seq, replaced) == DB_STORED ? 0 : -1;
	}
	if (rc == 0 && db_list_instances(app->db, "Microsoft.Default", study, series, sop[0], false, &found) == 0)
		db_instance_list_release(&found);
	db_warm_end(app->db, &w);
	if (rc)
		snprintf(err, errlen, "the database did not store the warm-up's instances");
	return rc ? -1 : 0;
}
