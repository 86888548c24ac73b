#include "validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

bool valid_dns_name(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 255)
		return false;
	const char *label = s;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t l = (size_t)(p - label);
			if (l == 0 || l > 63 || label[0] == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-') {
			return false;
		}
	}
}

bool valid_ipv4(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

bool valid_ipv6(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, s, &a) == 1;
}

bool valid_ip(const char *s) { return valid_ipv4(s) || valid_ipv6(s); }

static bool split_cidr(const char *s, char *addr, size_t size, uint64_t max_prefix,
		       bool (*check)(const char *))
{
	const char *slash = strchr(s, '/');
	uint64_t prefix;
	if (!slash || (size_t)(slash - s) >= size)
		return false;
	snprintf(addr, size, "%.*s", (int)(slash - s), s);
	return check(addr) && parse_u64(slash + 1, 0, max_prefix, &prefix) == 0 &&
	       strlen(slash + 1) <= 3;
}

bool valid_cidr4(const char *s)
{
	char addr[64];
	return split_cidr(s, addr, sizeof(addr), 32, valid_ipv4);
}

bool valid_cidr6(const char *s)
{
	char addr[64];
	return split_cidr(s, addr, sizeof(addr), 128, valid_ipv6);
}

bool valid_cidr(const char *s) { return valid_cidr4(s) || valid_cidr6(s); }

bool valid_storage(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

bool ipv4_in_subnet(const char *cidr, const char *gw)
{
	char addr[64];
	struct in_addr a, g;
	if (!valid_cidr4(cidr) || inet_pton(AF_INET, gw, &g) != 1)
		return false;
	const char *slash = strchr(cidr, '/');
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - cidr), cidr);
	inet_pton(AF_INET, addr, &a);
	unsigned prefix = (unsigned)atoi(slash + 1);
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
	return (ntohl(a.s_addr) & mask) == (ntohl(g.s_addr) & mask);
}
