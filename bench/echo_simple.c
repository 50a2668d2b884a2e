/* echo_simple.c - floor responder for scripts/bench: one recvfrom, one sendto per datagram.
 * Echoes each query with QR set and nothing else; no DNS work. Not part of the product. */
#include <sys/socket.h>

#include "echo_socket.h"

int main(int argc, char** argv)
{
	int status = 0;
	int fd = echo_bind(argc, argv, &status);
	if (fd < 0)
		return status;
	unsigned char buf[65536];
	for (;;)
	{
		struct sockaddr_storage peer;
		socklen_t peerLen = sizeof peer;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr*)&peer, &peerLen);
		if (n < 12)
			continue;
		buf[2] |= 0x80;
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr*)&peer, peerLen);
	}
}
