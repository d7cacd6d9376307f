#include "http/token.h"

#include <ctype.h>
#include <string.h>

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

bool http_list_next(const char **list, const char **item, size_t *len)
{
	const char *p = *list;
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	if (!*p) {
		*list = p;
		return false;
	}
	size_t n = strcspn(p, ",");
	*list = p + n;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*item = p;
	*len = n;
	return true;
}
