#include "http/fcgi_out.h"

#include <fastcgi.h>
#include <string.h>
#include <sys/uio.h>

#include "common/util.h"

#include "common/banned.h"

/* content bytes a record (FCGI_MAX_LENGTH is 65535; a multiple of 8 keeps
 * records aligned without padding) and records a system call */
#define RECORD_BYTES 65528
#define RECORDS_A_WRITE 8

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
		if (!util_writev_full(fd, iov, 2 * k))
			return -1;
	}
	return 0;
}
