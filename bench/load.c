/* bench/load: one DICOMweb workload from several concurrent clients, the
 * same program against the emulator and against Orthanc.
 *
 *   load stow URL CLIENTS FILE...        POST each file as a one-part
 *                                        multipart/related to URL (FILE,FILE,...:
 *                                        one request with a part for each)
 *   load get URL CLIENTS ACCEPT PATH...  GET URL+PATH for each path
 *
 * Prints one line: requests, seconds, requests/s, MB/s, p50 and p99 in ms,
 * and the number of non-2xx answers. With BENCH_TRACE=FILE it also writes
 * FILE: a line a request, in the order of the items: its start (seconds
 * from the run's start), its latency in ms, and its item. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct job {
	const char *url, *accept;
	char **items;
	size_t nitems;
	int stow;
	size_t next;
	pthread_mutex_t lock;
	double *lat, *start, t0;
	unsigned long long bytes;
	unsigned errors;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
	*(unsigned long long *)ud += s * n;
	return s * n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st))
		exit(2);
	char *b = malloc((size_t)st.st_size);
	if (fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		exit(2);
	fclose(f);
	*len = (size_t)st.st_size;
	return b;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	CURL *c = curl_easy_init();
	unsigned long long got = 0;
	static const char boundary[] = "bench-boundary-7d3f";

	for (;;) {
		pthread_mutex_lock(&j->lock);
		size_t i = j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->nitems)
			break;
		struct curl_slist *h = NULL;
		char url[2048], *body = NULL;
		size_t blen = 0;
		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
		/* answers read 512 KiB a call, not libcurl's 16 KiB: on a machine
		 * the client shares with the server it measures, its 33 reads of
		 * a 516 KiB instance took about half of the CPU of a static file */
		curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
		h = curl_slist_append(h, "Expect:");
		if (j->stow) {
			char head[256], names[8192], *save = NULL;
			int hl = snprintf(head, sizeof(head), "--%s\r\nContent-Type: application/dicom\r\n\r\n", boundary);
			snprintf(names, sizeof(names), "%s", j->items[i]);
			for (char *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
				size_t flen;
				char *file = slurp(name, &flen);
				body = realloc(body, blen + (size_t)hl + flen + 2);
				memcpy(body + blen, head, (size_t)hl);
				memcpy(body + blen + hl, file, flen);
				memcpy(body + blen + hl + flen, "\r\n", 2);
				blen += (size_t)hl + flen + 2;
				free(file);
			}
			char tail[64];
			int tl = snprintf(tail, sizeof(tail), "--%s--\r\n", boundary);
			body = realloc(body, blen + (size_t)tl);
			memcpy(body + blen, tail, (size_t)tl);
			blen += (size_t)tl;
			snprintf(url, sizeof(url), "%s", j->url);
			h = curl_slist_append(h, "Accept: application/dicom+json");
			h = curl_slist_append(h, "Content-Type: multipart/related; type=\"application/dicom\"; boundary=bench-boundary-7d3f");
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
		} else {
			char acc[512];
			snprintf(url, sizeof(url), "%s%s", j->url, j->items[i]);
			snprintf(acc, sizeof(acc), "Accept: %s", j->accept);
			h = curl_slist_append(h, acc);
		}
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		double t0 = now();
		CURLcode rc = curl_easy_perform(c);
		double dt = now() - t0;
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		pthread_mutex_lock(&j->lock);
		j->lat[i] = dt;
		j->start[i] = t0 - j->t0;
		if (rc != CURLE_OK || status < 200 || status > 299)
			j->errors++;
		j->bytes += j->stow ? blen : 0;
		pthread_mutex_unlock(&j->lock);
		curl_slist_free_all(h);
		free(body);
	}
	pthread_mutex_lock(&j->lock);
	j->bytes += got;
	pthread_mutex_unlock(&j->lock);
	curl_easy_cleanup(c);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct job j;
	memset(&j, 0, sizeof(j));
	if (argc < 5 || (strcmp(argv[1], "stow") && strcmp(argv[1], "get"))) {
		fprintf(stderr, "usage: load stow URL CLIENTS FILE... | load get URL CLIENTS ACCEPT PATH...\n");
		return 2;
	}
	j.stow = !strcmp(argv[1], "stow");
	j.url = argv[2];
	int clients = atoi(argv[3]);
	int first = 4;
	if (!j.stow)
		j.accept = argv[first++];
	j.items = argv + first;
	j.nitems = (size_t)(argc - first);
	j.lat = calloc(j.nitems, sizeof(double));
	j.start = calloc(j.nitems, sizeof(double));
	pthread_mutex_init(&j.lock, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_t t[64];
	if (clients < 1 || clients > 64)
		clients = 4;
	double t0 = j.t0 = now();
	for (int i = 0; i < clients; i++)
		pthread_create(&t[i], NULL, worker, &j);
	for (int i = 0; i < clients; i++)
		pthread_join(t[i], NULL);
	double secs = now() - t0;
	const char *trace = getenv("BENCH_TRACE");
	FILE *tf = trace ? fopen(trace, "w") : NULL;
	for (size_t i = 0; tf && i < j.nitems; i++)
		fprintf(tf, "%.4f %.2f %s\n", j.start[i], j.lat[i] * 1000, j.items[i]);
	if (tf)
		fclose(tf);
	qsort(j.lat, j.nitems, sizeof(double), cmp);
	double p50 = j.lat[j.nitems / 2] * 1000, p99 = j.lat[(size_t)(j.nitems * 0.99)] * 1000;
	printf("%zu %.3f %.1f %.1f %.2f %.2f %u\n", j.nitems, secs, j.nitems / secs, j.bytes / secs / 1e6, p50, p99,
	       j.errors);
	return 0;
}
