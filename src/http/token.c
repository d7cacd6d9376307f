#include "http/token.h"

#include <ctype.h>

#include "common/banned.h"

char *http_token(struct arena *a, const char *s, size_t n, bool lower, bool unquote)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (unquote && n >= 2 && s[0] == '"' && s[n - 1] == '"')
		s++, n -= 2;
	char *r = arena_strndup(a, s, n);
	if (lower)
		for (char *p = r; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return r;
}
