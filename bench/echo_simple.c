/* echo_simple.c - floor responder for scripts/bench: one recvfrom, one sendto per datagram.
 * Echoes each query with QR set and nothing else; no DNS work. Not part of the product. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char** argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in addr = {0};
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0)
	{
		perror("bind");
		return 1;
	}
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
