/*
 * A yardstick for bench/gateway.mjs (`--paths crelay`): the cheapest userspace TCP relay, in C.
 * Two threads per connection, each a blocking read/write loop with a 1 MiB buffer. No HTTP, no
 * policy. If this cannot reach a given fraction of direct loopback throughput on this machine,
 * no proxy written in anything can. Prints the port it listens on (127.0.0.1), then serves.
 *
 *   cc -O2 -pthread -o relay bench/relay.c && ./relay <upstream-port>
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
  int a, b;
  int halves; /* still running; the last one closes both sockets */
};

struct half {
  struct conn *conn;
  int from, to;
};

static void *pump(void *arg) {
  struct half *h = arg;
  char *buf = malloc(1 << 20);
  for (;;) {
    ssize_t n = read(h->from, buf, 1 << 20);
    if (n <= 0) break;
    for (char *p = buf; n > 0;) {
      ssize_t m = write(h->to, p, n);
      if (m <= 0) goto done;
      p += m;
      n -= m;
    }
  }
done:
  shutdown(h->to, SHUT_WR);
  free(buf);
  if (__atomic_sub_fetch(&h->conn->halves, 1, __ATOMIC_ACQ_REL) == 0) {
    close(h->conn->a);
    close(h->conn->b);
    free(h->conn);
  }
  free(h);
  return NULL;
}

static void start(struct conn *conn, int from, int to) {
  struct half *h = malloc(sizeof *h);
  h->conn = conn;
  h->from = from;
  h->to = to;
  pthread_t t;
  pthread_create(&t, NULL, pump, h);
  pthread_detach(t);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: relay <upstream-port>\n");
    return 2;
  }
  struct sockaddr_in up = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  struct sockaddr_in me = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &up.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  socklen_t len = sizeof me;
  if (bind(ls, (struct sockaddr *)&me, len) || listen(ls, 64) ||
      getsockname(ls, (struct sockaddr *)&me, &len)) {
    perror("relay");
    return 1;
  }
  printf("%d\n", ntohs(me.sin_port));
  fflush(stdout);
  for (int one = 1;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) continue;
    int u = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(u, (struct sockaddr *)&up, sizeof up)) {
      close(c);
      close(u);
      continue;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *conn = malloc(sizeof *conn);
    conn->a = c;
    conn->b = u;
    conn->halves = 2;
    start(conn, c, u);
    start(conn, u, c);
  }
}
