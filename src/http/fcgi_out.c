#include "http/fcgi_out.h"

#include <errno.h>
#include <fastcgi.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>

#include "common/banned.h"

/* content bytes a record (FCGI_MAX_LENGTH is 65535; a multiple of 8 keeps
 * records aligned without padding) and records a system call */
#define RECORD_BYTES 65528
#define RECORDS_A_WRITE 8

/* Writes every byte the vector holds, past short writes. */
static bool writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return true;
}

int fcgi_out_stdout(int fd, int request_id, const void *src, size_t n)
{
	const char *p = src;
	FCGI_Header heads[RECORDS_A_WRITE];
	struct iovec iov[2 * RECORDS_A_WRITE];

	while (n) {
		int k = 0;
		for (; k < RECORDS_A_WRITE && n; k++) {
			size_t len = n < RECORD_BYTES ? n : RECORD_BYTES;
			heads[k] = (FCGI_Header){ .version = FCGI_VERSION_1,
						  .type = FCGI_STDOUT,
						  .requestIdB1 = (unsigned char)((request_id >> 8) & 0xff),
						  .requestIdB0 = (unsigned char)(request_id & 0xff),
						  .contentLengthB1 = (unsigned char)((len >> 8) & 0xff),
						  .contentLengthB0 = (unsigned char)(len & 0xff) };
			iov[2 * k] = (struct iovec){ &heads[k], sizeof(heads[k]) };
			iov[2 * k + 1] = (struct iovec){ (void *)p, len };
			p += len;
			n -= len;
		}
		if (!writev_all(fd, iov, 2 * k))
			return -1;
	}
	return 0;
}
