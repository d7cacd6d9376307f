/* A large response body written to the web server in big FastCGI
 * records. libfcgi cuts its output into records of its 8 KiB buffer, one
 * write (and one wake of the web server) each; a body of tens of
 * kilobytes (study metadata, a QIDO page) cost several of each. */
#ifndef ADE_HTTP_FCGI_OUT_H
#define ADE_HTTP_FCGI_OUT_H

#include <stddef.h>

/* Bodies this long or longer are worth writing as records of their own. */
#define FCGI_OUT_DIRECT (16 * 1024)

/* Writes n bytes as FCGI_STDOUT records of request_id (up to 65528
 * content bytes each, several records a system call) to the web server's
 * connection fd. What libfcgi holds must have been flushed first. Returns
 * 0, or -1 when the connection is gone. */
int fcgi_out_stdout(int fd, int request_id, const void *src, size_t n);

#endif
