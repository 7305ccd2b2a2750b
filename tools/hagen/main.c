/* hagen: renders haproxy.cfg from a service inventory. */
#include <stdio.h>
int main(void)
{
	puts("hagen " HAGEN_VERSION);
	return 0;
}
