/* echo_mmsg.c - floor responder for scripts/bench: batched recvmmsg/sendmmsg, 64 datagrams per call.
 * Echoes each query with QR set and nothing else; no DNS work. Not part of the product. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>

#include "echo_socket.h"

#define BATCH 64
#define SIZE 4096

int main(int argc, char** argv)
{
	int status = 0;
	int fd = echo_bind(argc, argv, &status);
	if (fd < 0)
		return status;
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
