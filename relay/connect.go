package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
)

var statusLine = regexp.MustCompile(`^HTTP/1\.[01] (\d{3})`)

// runConnect is `--connect SOCKET HOST PORT`: a byte stream to HOST:PORT through the gateway's
// CONNECT, on stdin/stdout, for tools that speak no HTTP proxy (ssh's ProxyCommand, git over ssh).
// The gateway judges it like any tunnel; a refusal's reason goes to stderr (ssh shows it) and the
// exit status is 1. Returns the exit status.
func runConnect(t *tunnel, stdin io.Reader, stdout, stderr io.Writer) int {
	port, err := strconv.Atoi(t.port)
	if t.host == "" || err != nil || port < 1 || port > 65535 {
		fmt.Fprint(stderr, "usage: corral-relay --connect SOCKET HOST PORT\n")
		return 2
	}
	target := fmt.Sprintf("%s:%d", t.host, port)
	if strings.Contains(t.host, ":") {
		target = fmt.Sprintf("[%s]:%d", t.host, port)
	}
	c, err := net.Dial("unix", t.socket)
	if err != nil {
		fmt.Fprintf(stderr, "corral: cannot reach the egress gateway at %s: %s\n", t.socket, errnoText(err, t.socket))
		return 1
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		fmt.Fprintf(stderr, "corral: cannot reach the egress gateway at %s: %s\n", t.socket, err)
		return 1
	}
	var head []byte
	buf := make([]byte, 16*1024)
	end := -1
	for end == -1 {
		n, err := c.Read(buf)
		head = append(head, buf[:n]...)
		end = bytes.Index(head, []byte("\r\n\r\n"))
		if err != nil && end == -1 {
			fmt.Fprintf(stderr, "corral: %s refused (no answer)\n", target)
			return 1
		}
	}
	status := "no answer"
	if m := statusLine.FindSubmatch(head); m != nil {
		status = string(m[1])
	}
	if status != "200" {
		// The body says why (and how to allow it); it comes whole, the gateway closes after it.
		rest, _ := io.ReadAll(c)
		fmt.Fprintf(stderr, "corral: %s refused (%s)\n%s%s", target, status, head[end+4:], rest)
		return 1
	}
	if _, err := stdout.Write(head[end+4:]); err != nil {
		return 1
	}
	go func() {
		_, _ = io.Copy(c, stdin)
		if hc, ok := c.(halfCloser); ok {
			_ = hc.CloseWrite()
		}
	}()
	_, _ = io.Copy(stdout, c)
	return 0
}
