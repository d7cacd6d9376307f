#include "client.h"
#include "dicom/dcm.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *base;

void e2e_init(void)
{
	base = getenv("EMULATOR_URL");
	if (!base || !*base) {
		const char *req = getenv("EMULATOR_REQUIRE_STACK");
		if (req && !strcmp(req, "1")) {
			fprintf(stderr, "EMULATOR_URL is not set but a stack is required\n");
			exit(1);
		}
		fprintf(stderr, "no stack (EMULATOR_URL unset): skipped; scripts/check runs these\n");
		exit(77);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *e2e_base(void)
{
	return base;
}

void e2e_use_base(const char *url)
{
	base = url;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	buf_add(ud, p, size * n);
	return size * n;
}

static size_t on_file_body(char *p, size_t size, size_t n, void *ud)
{
	return fwrite(p, size, n, ud) * size;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
	return fread(p, size, n, ud) * size;
}

static CURL *prepare(const char *method, const char *path, const char *const *headers, struct resp *r,
		     struct curl_slist **hl)
{
	CURL *c = curl_easy_init();
	char url[4096];

	snprintf(url, sizeof(url), "%s%s", base, path);
	buf_init(&r->headers, 0);
	buf_init(&r->body, 0);
	r->status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	*hl = NULL;
	/* libcurl adds its own Accept unless told otherwise: tests say what they send */
	*hl = curl_slist_append(*hl, "Accept:");
	*hl = curl_slist_append(*hl, "Expect:");
	for (size_t i = 0; headers && headers[i]; i++)
		*hl = curl_slist_append(*hl, headers[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hl);
	return c;
}

static int finish(CURL *c, struct curl_slist *hl, struct resp *r)
{
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else
		fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

int http_do(const char *method, const char *path, const char *const *headers, const void *body, size_t len,
	    struct resp *r)
{
	struct curl_slist *hl;
	CURL *c = prepare(method, path, headers, r, &hl);

	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	return finish(c, hl, r);
}

static int post_file(const char *path, const char *const *headers, const char *file, struct resp *r, bool chunked)
{
	struct curl_slist *hl;
	struct stat st;
	FILE *f = fopen(file, "rb");
	int rc;

	if (!f || fstat(fileno(f), &st)) {
		if (f)
			fclose(f);
		return -1;
	}
	CURL *c = prepare("POST", path, headers, r, &hl);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, f);
	if (chunked)
		hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
	else
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = finish(c, hl, r);
	fclose(f);
	return rc;
}

int http_post_file_chunked(const char *path, const char *const *headers, const char *file, struct resp *r)
{
	return post_file(path, headers, file, r, true);
}

int http_post_file(const char *path, const char *const *headers, const char *file, struct resp *r)
{
	return post_file(path, headers, file, r, false);
}

int post_dicom_file(const char *path, const char *file, struct resp *r)
{
	const char *h[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
	return post_file(path, h, file, r, false);
}

int http_get_to_file(const char *path, const char *const *headers, const char *file, struct resp *r)
{
	struct curl_slist *hl;
	FILE *f = fopen(file, "wb");
	int rc;

	if (!f)
		return -1;
	CURL *c = prepare("GET", path, headers, r, &hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	rc = finish(c, hl, r);
	fclose(f);
	return rc;
}

void resp_release(struct resp *r)
{
	buf_release(&r->headers);
	buf_release(&r->body);
}

const char *resp_header(const struct resp *r, const char *name, char *out, size_t outlen)
{
	const char *p = buf_str(&r->headers);
	size_t n = strlen(name);

	/* the last header block wins (after a 100 Continue, say) */
	const char *last = p, *q;
	while ((q = strstr(last, "\r\nHTTP/")))
		last = q + 2;
	for (p = last; *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		if (ll > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			size_t vl = ll - (size_t)(v - p);
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return out;
		}
		if (!eol)
			break;
		p = eol + 2;
	}
	return NULL;
}

cJSON *resp_json(const struct resp *r)
{
	return cJSON_ParseWithLength(buf_str(&r->body), r->body.len);
}

const char *uid_new(void)
{
	static char ring[16][65];
	static unsigned next;
	unsigned char rnd[8];
	unsigned long long v = 0;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		abort();
	memcpy(&v, rnd, sizeof(v));
	char *s = ring[next++ % 16];
	snprintf(s, 65, "2.25.%llu%u%llu", (unsigned long long)getpid() + 1, next, v % 100000000000000ULL + 1);
	return s;
}

char *make_dcm(const char *fmt, ...)
{
	const char *mk = getenv("MKDCM");
	char args[4096], path[256];
	va_list ap;
	static unsigned n;

	if (!mk)
		mk = "tests/fixtures/mkdcm";
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/ade-e2e-%d-%u.dcm", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(),
		 n++);
	if (run_cmd("'%s' -o '%s' %s", mk, path, args) != 0 || access(path, R_OK)) {
		fprintf(stderr, "mkdcm failed: %s -o %s %s\n", mk, path, args);
		return NULL;
	}
	return strdup(path);
}

int store_made(const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	char *f = make_dcm("%s", args);
	if (!f)
		return -1;
	const char *h[] = { "Accept: application/dicom+json", "Content-Type: application/dicom", NULL };
	struct resp r = { 0 };
	int rc = http_post_file("/v2/studies", h, f, &r) || r.status != 200;
	if (rc)
		fprintf(stderr, "storing mkdcm %s: %ld %s\n", args, r.status, buf_str(&r.body));
	resp_release(&r);
	unlink(f);
	free(f);
	return rc ? -1 : 0;
}

long http_status(const char *method, const char *path, const char *const *headers, const void *body, size_t len)
{
	struct resp r = { 0 };
	long status = http_do(method, path, headers, body, len, &r) ? -1 : r.status;
	resp_release(&r);
	return status;
}

long delete_study(const char *study)
{
	char path[256];

	snprintf(path, sizeof(path), "/v2/studies/%s", study);
	return http_status("DELETE", path, NULL, NULL, 0);
}

int file_write(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int file_read(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	buf_init(out, 0);
	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
	return 0;
}

void multipart_body(struct buf *out, const char *boundary, const char *const *files, size_t n, bool part_lengths,
		    bool final_crlf)
{
	buf_init(out, 0);
	for (size_t i = 0; i < n; i++) {
		struct buf f;
		file_read(files[i], &f);
		buf_addf(out, "--%s\r\nContent-Type: application/dicom\r\n", boundary);
		if (part_lengths)
			buf_addf(out, "Content-Length: %zu\r\n", f.len);
		buf_adds(out, "\r\n");
		buf_add(out, f.data, f.len);
		buf_adds(out, "\r\n");
		buf_release(&f);
	}
	buf_addf(out, "--%s--%s", boundary, final_crlf ? "\r\n" : "");
}

size_t multipart_split(const struct resp *r, const char **parts, size_t *lens, size_t max, char (*ctypes)[128])
{
	char ct[512], boundary[200], delim[210];
	const char *b;
	size_t count = 0;

	if (!resp_header(r, "Content-Type", ct, sizeof(ct)) || !(b = strstr(ct, "boundary=")))
		return 0;
	b += 9;
	size_t bl = strcspn(b, ";");
	if (*b == '"') {
		b++;
		bl = strcspn(b, "\"");
	}
	snprintf(boundary, sizeof(boundary), "%.*s", (int)bl, b);
	snprintf(delim, sizeof(delim), "--%s", boundary);
	const char *body = r->body.data, *end = body + r->body.len;
	const char *p = memmem(body, r->body.len, delim, strlen(delim));
	while (p && count < max) {
		p += strlen(delim);
		if (p + 2 <= end && p[0] == '-' && p[1] == '-')
			break;
		p += 2; /* CRLF */
		const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend)
			break;
		if (ctypes) {
			const char *c = memmem(p, (size_t)(hend - p), "Content-Type: ", 14);
			ctypes[count][0] = '\0';
			if (c) {
				c += 14;
				size_t cl = strcspn(c, "\r");
				snprintf(ctypes[count], 128, "%.*s", (int)cl, c);
			}
		}
		const char *data = hend + 4;
		char nd[220];
		snprintf(nd, sizeof(nd), "\r\n%s", delim);
		const char *q = memmem(data, (size_t)(end - data), nd, strlen(nd));
		if (!q)
			break;
		parts[count] = data;
		lens[count] = (size_t)(q - data);
		count++;
		p = q + 2;
	}
	return count;
}

long long db_scalar(const char *sql, const char *p1, const char *p2)
{
	const char *ci = getenv("EMULATOR_DB_CONNINFO");
	PGconn *c = PQconnectdb(ci ? ci : "");
	long long v = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		const char *params[2] = { p1, p2 };
		int np = p2 ? 2 : p1 ? 1 : 0;
		PGresult *r = PQexecParams(c, sql, np, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		else if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fprintf(stderr, "db: %s", PQresultErrorMessage(r));
		PQclear(r);
	} else {
		fprintf(stderr, "db: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return v;
}

void store_file_path(long long watermark, char *out, size_t outlen)
{
	const char *d = getenv("EMULATOR_STORE_DIR");
	snprintf(out, outlen, "%s/%02x/%lld.dcm", d ? d : ".", (unsigned)(watermark & 0xff), watermark);
}

const char *dj_str(const cJSON *obj, const char *tag)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, tag);
	const cJSON *v = e ? cJSON_GetObjectItemCaseSensitive(e, "Value") : NULL;
	const cJSON *first = v ? cJSON_GetArrayItem(v, 0) : NULL;
	return cJSON_IsString(first) ? first->valuestring : NULL;
}

long dj_int(const cJSON *obj, const char *tag, long dflt)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, tag);
	const cJSON *v = e ? cJSON_GetObjectItemCaseSensitive(e, "Value") : NULL;
	const cJSON *first = v ? cJSON_GetArrayItem(v, 0) : NULL;
	return cJSON_IsNumber(first) ? (long)first->valuedouble : dflt;
}

const cJSON *dj_seq(const cJSON *obj, const char *tag)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, tag);
	return e ? cJSON_GetObjectItemCaseSensitive(e, "Value") : NULL;
}

int run_cmd(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int us_value(const struct dcm_element *e)
{
	const unsigned char *p = (const unsigned char *)e->value;
	return e->len >= 2 ? p[0] | p[1] << 8 : 0;
}

static int on_image_attr(void *ctx, const struct dcm_element *e)
{
	struct native *n = ctx;
	switch (e->tag) {
	case DCM_TAG(0x0028, 0x0002): n->spp = us_value(e); break;
	case DCM_TAG(0x0028, 0x0006): n->planar = us_value(e); break;
	case DCM_TAG(0x0028, 0x0010): n->rows = us_value(e); break;
	case DCM_TAG(0x0028, 0x0011): n->cols = us_value(e); break;
	case DCM_TAG(0x0028, 0x0100): n->bits = us_value(e); break;
	default: break;
	}
	return 0;
}

int native_read(const char *file, struct native *n)
{
	char err[256];
	struct buf ranges;
	memset(n, 0, sizeof(*n));
	buf_init(&n->px, 0);
	struct dcm_file *f = dcm_open(file, err, sizeof(err));
	if (!f)
		return -1;
	dcm_foreach(f, on_image_attr, n);
	dcm_get_string(f, DCM_TAG(0x0028, 0x0004), n->pi, sizeof(n->pi));
	snprintf(n->ts, sizeof(n->ts), "%s", dcm_transfer_syntax(f));
	dcm_free(f);
	buf_init(&ranges, 0);
	n->frames = dcm_frame_ranges(file, &ranges);
	FILE *fp = fopen(file, "rb");
	int rc = n->frames > 0 && fp ? 0 : -1;
	for (const char *p = buf_str(&ranges); !rc && *p;) {
		long long o, l;
		if (sscanf(p, "%lld:%lld", &o, &l) != 2 || fseeko(fp, (off_t)o, SEEK_SET)) {
			rc = -1;
			break;
		}
		char *tmp = malloc((size_t)l + 1);
		if (!tmp || fread(tmp, 1, (size_t)l, fp) != (size_t)l || buf_add(&n->px, tmp, (size_t)l))
			rc = -1;
		free(tmp);
		p += strcspn(p, ",;");
		if (*p)
			p++;
	}
	if (fp)
		fclose(fp);
	buf_release(&ranges);
	return rc;
}

void native_interleave(struct native *n)
{
	if (n->spp == 3 && n->planar == 1 && n->bits % 8 == 0) {
		size_t b = (size_t)n->bits / 8, plane = (size_t)n->rows * n->cols * b, fsz = plane * 3;
		char *tmp = malloc(fsz);
		for (size_t fo = 0; tmp && fo + fsz <= n->px.len; fo += fsz) {
			for (size_t i = 0; i < (size_t)n->rows * n->cols; i++)
				for (size_t c = 0; c < 3; c++)
					memcpy(tmp + (i * 3 + c) * b, n->px.data + fo + c * plane + i * b, b);
			memcpy(n->px.data + fo, tmp, fsz);
		}
		free(tmp);
		n->planar = 0;
	}
}

void native_release(struct native *n)
{
	buf_release(&n->px);
}

int pnm_read(const char *file, struct buf *px, int *width, int *height, int *channels)
{
	struct buf b;
	buf_init(&b, 0);
	buf_init(px, 0);
	if (file_read(file, &b))
		return -1;
	char magic[3];
	int w, h, max, used = 0;
	buf_addch(&b, '\0');
	if (sscanf(b.data, "%2s %d %d %d%n", magic, &w, &h, &max, &used) != 4 || max != 255 ||
	    (strcmp(magic, "P5") && strcmp(magic, "P6"))) {
		buf_release(&b);
		return -1;
	}
	int ch = magic[1] == '6' ? 3 : 1;
	size_t need = (size_t)w * h * ch, at = (size_t)used + 1;
	if (b.len - 1 < at + need) {
		buf_release(&b);
		return -1;
	}
	buf_add(px, b.data + at, need);
	buf_release(&b);
	*width = w;
	*height = h;
	*channels = ch;
	return 0;
}
