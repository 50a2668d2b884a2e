/* echo_socket.h - the one socket set-up of the bench floor responders (echo_simple.c, echo_mmsg.c):
 * parse the PORT argument and bind a UDP socket to 127.0.0.1:PORT. Not part of the product. */
#ifndef DNSPROXY_BENCH_ECHO_SOCKET_H
#define DNSPROXY_BENCH_ECHO_SOCKET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

/* echo_bind(argc, argv): the bound socket, or -1 after printing why (usage or bind error);
 * *status is then the exit status for main (2 for usage, 1 for a socket error). */
static int echo_bind(int argc, char** argv, int* status)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		*status = 2;
		return -1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in addr = {0};
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0)
	{
		perror("bind");
		*status = 1;
		return -1;
	}
	return fd;
}

#endif
