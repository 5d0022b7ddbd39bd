/*
 * stream_echo.c - a SOCK_STREAM echo server and its client, two threads.
 *
 * The server binds /tmp/server, listens and accepts one connection; the
 * client connects, sends "Hello" and reads the echo back.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mk.h"

static struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = "/tmp/server" };

static void *client(void *arg)
{
	char buf[64];
	ssize_t n;

	(void)arg;
	int client_fd = mk_socket(AF_UNIX, SOCK_STREAM, 0);
	if (mk_connect(client_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		printf("client: connect: errno %d\n", mk_errno);
		return NULL;
	}
	mk_send(client_fd, "Hello", 5, 0);
	n = mk_recv(client_fd, buf, sizeof(buf) - 1, 0);
	if (n >= 0) {
		buf[n] = '\0';
		printf("client: echo \"%s\"\n", buf);
	}
	mk_close(client_fd);
	return NULL;
}

int main(void)
{
	pthread_t t;
	char buf[64];
	ssize_t n;

	mk_init();

	int server_fd = mk_socket(AF_UNIX, SOCK_STREAM, 0);
	if (mk_bind(server_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    mk_listen(server_fd, 5) < 0) {
		printf("server: bind/listen: errno %d\n", mk_errno);
		return 1;
	}
	/* a second bind of the same path: the name is taken */
	int other = mk_socket(AF_UNIX, SOCK_STREAM, 0);
	if (mk_bind(other, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		printf("server: second bind of %s: errno %d (EADDRINUSE)\n",
		       addr.sun_path, mk_errno);
	mk_close(other);

	pthread_create(&t, NULL, client, NULL);

	int client_fd = mk_accept(server_fd, NULL, NULL);
	if (client_fd < 0) {
		printf("server: accept: errno %d\n", mk_errno);
		return 1;
	}
	n = mk_recv(client_fd, buf, sizeof(buf) - 1, 0);
	if (n < 0) {
		printf("server: recv: errno %d\n", mk_errno);
		return 1;
	}
	buf[n] = '\0';
	printf("server: received \"%s\" (%zd bytes)\n", buf, n);
	mk_send(client_fd, buf, (size_t)n, 0);

	/* the client closes its end: the next read is end of file */
	n = mk_recv(client_fd, buf, sizeof(buf), 0);
	printf("server: recv after the client closed: %zd\n", n);
	pthread_join(t, NULL);

	mk_close(client_fd);
	mk_close(server_fd);
	mk_unlink(addr.sun_path);
	printf("sockets left: %ld\n", mk_fini());
	return 0;
}
