/* echo_mmsg.c - floor responder for scripts/bench: batched recvmmsg/sendmmsg, 64 datagrams per call.
 * Echoes each query with QR set and nothing else; no DNS work. Not part of the product. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define SIZE 4096

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
	static unsigned char bufs[BATCH][SIZE];
	struct mmsghdr msgs[BATCH];
	struct iovec iovs[BATCH];
	struct sockaddr_storage peers[BATCH];
	for (;;)
	{
		for (int i = 0; i < BATCH; ++i)
		{
			iovs[i].iov_base = bufs[i];
			iovs[i].iov_len = SIZE;
			memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
			msgs[i].msg_hdr.msg_iov = &iovs[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &peers[i];
			msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
		}
		/* Blocks for the first datagram, then takes whatever else is already queued. */
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		for (int i = 0; i < n; ++i)
		{
			bufs[i][2] |= 0x80;
			iovs[i].iov_len = msgs[i].msg_len;
		}
		sendmmsg(fd, msgs, (unsigned)n, 0);
	}
}
