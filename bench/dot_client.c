/* dot_client.c - DNS-over-TLS load for the encrypted stage of scripts/bench. Not part of the product.
 *
 *   dot_client handshakes PORT SECONDS PROCS QNAME
 *     PROCS processes, each in a loop for SECONDS: connect to 127.0.0.1:PORT, full TLS handshake
 *     (no session cache, no tickets: every connection is a new client), one query for QNAME A,
 *     read the answer, close. Prints "handshakes N failed F seconds S per_second R".
 *   dot_client idle PORT COUNT PROCS QNAME
 *     PROCS processes open COUNT connections between them, one after the other in each process,
 *     each with a full handshake and one answered query, and keep them open without traffic.
 *     Prints "open N failed F" once they are all open (a process gives up after 20 failures),
 *     then holds them until stdin reaches EOF (or the processes are killed).
 *
 * The certificate is not verified (dnsperf does not either): this measures the server's cost.
 * TCP_NODELAY is set, the query goes out in one SSL_write and TCP_QUICKACK is set before every
 * read, so neither this client's Nagle nor its delayed ACKs set the pace: a server that writes
 * without TCP_NODELAY (its answer held until its TLS 1.3 session tickets are acknowledged) would
 * otherwise wait about 40 ms per connection. This favours such servers. Socket timeouts of 5 s
 * bound every step. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned char query[300];
static size_t queryLen;

/* build_query(name): the DoT message (2-byte length, header, question NAME A IN) in query. */
static int build_query(const char* name)
{
	unsigned char* p = query + 2;
	static const unsigned char header[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(p, header, sizeof header);
	p += sizeof header;
	const char* label = name;
	while (*label)
	{
		const char* dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);
		if (n == 0 || n > 63 || (size_t)(p - query) + n + 8 > sizeof query)
			return -1;
		*p++ = (unsigned char)n;
		memcpy(p, label, n);
		p += n;
		label += n + (dot ? 1 : 0);
	}
	static const unsigned char tail[5] = {0, 0, 1, 0, 1};
	memcpy(p, tail, sizeof tail);
	p += sizeof tail;
	queryLen = (size_t)(p - query);
	query[0] = (unsigned char)((queryLen - 2) >> 8);
	query[1] = (unsigned char)(queryLen - 2);
	return 0;
}

static SSL_CTX* make_ctx(void)
{
	SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	return ctx;
}

/* dot_open(ctx, port): a connected TLS session that has had one answered query, or NULL. */
static SSL* dot_open(SSL_CTX* ctx, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {5, 0};
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
	struct sockaddr_in addr = {0};
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	SSL* ssl = NULL;
	if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0 || !(ssl = SSL_new(ctx)))
	{
		close(fd);
		return NULL;
	}
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "dns.test");
	unsigned char answer[4096];
	int ok = SSL_connect(ssl) == 1 && SSL_write(ssl, query, (int)queryLen) == (int)queryLen;
	size_t got = 0, want = 2;
	while (ok && got < want)
	{
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
		int n = SSL_read(ssl, answer + got, (int)(sizeof answer - got));
		if (n <= 0)
			ok = 0;
		else
			got += (size_t)n;
		if (ok && got >= 2)
			want = 2 + (((size_t)answer[0] << 8) | answer[1]);
		if (want > sizeof answer)
			ok = 0;
	}
	ok = ok && got >= 4 && answer[2] == query[2] && answer[3] == query[3];
	if (!ok)
	{
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

static void dot_close(SSL* ssl)
{
	int fd = SSL_get_fd(ssl);
	SSL_free(ssl);
	close(fd);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One worker of "handshakes": writes "ok failed" to fd out. */
static void handshake_worker(int port, double seconds, int out)
{
	SSL_CTX* ctx = make_ctx();
	long ok = 0, failed = 0;
	double end = now_s() + seconds;
	while (now_s() < end)
	{
		SSL* ssl = dot_open(ctx, port);
		if (ssl)
		{
			ok++;
			SSL_shutdown(ssl);
			dot_close(ssl);
		}
		else
			failed++;
	}
	dprintf(out, "%ld %ld\n", ok, failed);
}

static int run_handshakes(int port, double seconds, int procs)
{
	int fds[2];
	if (pipe(fds) != 0)
		return 1;
	double start = now_s();
	for (int i = 0; i < procs; i++)
	{
		if (fork() == 0)
		{
			close(fds[0]);
			handshake_worker(port, seconds, fds[1]);
			_exit(0);
		}
	}
	close(fds[1]);
	while (wait(NULL) > 0)
		;
	double elapsed = now_s() - start;
	FILE* in = fdopen(fds[0], "r");
	long ok = 0, failed = 0, a, b;
	while (fscanf(in, "%ld %ld", &a, &b) == 2)
	{
		ok += a;
		failed += b;
	}
	printf("handshakes %ld failed %ld seconds %.2f per_second %.0f\n", ok, failed, elapsed, ok / elapsed);
	return ok > 0 ? 0 : 1;
}

/* One worker of "idle": opens COUNT connections, writes "open failed" to fd out, then holds them
 * until stdin reaches EOF. */
static void idle_worker(int port, int count, int out)
{
	SSL_CTX* ctx = make_ctx();
	SSL** open = calloc((size_t)count, sizeof *open);
	int n = 0, failed = 0;
	for (int i = 0; i < count && failed < 20; i++)
	{
		SSL* ssl = dot_open(ctx, port);
		if (ssl)
			open[n++] = ssl;
		else
			failed++;
	}
	dprintf(out, "%d %d\n", n, failed);
	close(out);
	char buf[256];
	while (read(0, buf, sizeof buf) > 0)
		;
	for (int i = 0; i < n; i++)
		dot_close(open[i]);
}

static int run_idle(int port, int count, int procs)
{
	int fds[2];
	if (procs < 1 || pipe(fds) != 0)
		return 1;
	for (int i = 0; i < procs; i++)
	{
		if (fork() == 0)
		{
			close(fds[0]);
			idle_worker(port, count / procs + (i < count % procs ? 1 : 0), fds[1]);
			_exit(0);
		}
	}
	close(fds[1]);
	FILE* in = fdopen(fds[0], "r");
	long n = 0, failed = 0, a, b;
	for (int i = 0; i < procs && fscanf(in, "%ld %ld", &a, &b) == 2; i++)
	{
		n += a;
		failed += b;
	}
	printf("open %ld failed %ld\n", n, failed);
	fflush(stdout);
	while (wait(NULL) > 0)
		;
	return 0;
}

int main(int argc, char** argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 6 && strcmp(argv[1], "handshakes") == 0 && build_query(argv[5]) == 0)
		return run_handshakes(atoi(argv[2]), atof(argv[3]), atoi(argv[4]));
	if (argc == 6 && strcmp(argv[1], "idle") == 0 && build_query(argv[5]) == 0)
		return run_idle(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: %s handshakes PORT SECONDS PROCS QNAME | idle PORT COUNT PROCS QNAME\n", argv[0]);
	return 2;
}
