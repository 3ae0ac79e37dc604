package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// A host-side socket that is missing or refusing is usually the gateway (re)starting: a new corral
// version replacing it, or a run starting it. Clients wait that long rather than get a 502. Tried
// often: a new gateway boots while its first sandbox starts, and a request should not wait much
// past that boot.
var (
	retryEvery = 20 * time.Millisecond
	retryFor   = 5 * time.Second
)

// Per direction, like the Node relay's reused read buffer (gateway/read-into.ts).
const bufferBytes = 256 * 1024

type dialer func() (net.Conn, error)

func unixDialer(path string) dialer {
	return func() (net.Conn, error) { return net.Dial("unix", path) }
}

func tcpDialer(addr string) dialer {
	return func() (net.Conn, error) { return net.Dial("tcp", addr) }
}

func accept(l net.Listener, dial dialer, what string, retry bool) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: wait a little rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go splice(c, dial, what, retry)
	}
}

func retryable(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EAGAIN)
}

// errnoText names a connect failure the way Node does ("connect ENOENT /path"), which is what the
// 502 said before this relay replaced the Node one.
func errnoText(err error, target string) string {
	names := map[syscall.Errno]string{
		syscall.ENOENT: "ENOENT", syscall.ECONNREFUSED: "ECONNREFUSED", syscall.EAGAIN: "EAGAIN",
		syscall.EACCES: "EACCES", syscall.ETIMEDOUT: "ETIMEDOUT", syscall.ENOTSOCK: "ENOTSOCK",
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name, ok := names[errno]; ok {
			return fmt.Sprintf("connect %s %s", name, target)
		}
	}
	return err.Error()
}

type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// splice pipes a client to what dial connects to; when that refuses (after retrying, if retry),
// an HTTP client gets a readable 502. Nothing the client sent is lost across retries: it is only
// read once the far side is connected.
func splice(client net.Conn, dial dialer, what string, retry bool) {
	started := time.Now()
	var upstream net.Conn
	for {
		var err error
		upstream, err = dial()
		if err == nil {
			break
		}
		if retry && retryable(err) && time.Since(started) < retryFor {
			time.Sleep(retryEvery)
			continue
		}
		refuse(client, fmt.Sprintf("corral: %s is not reachable (%s); `corral doctor` checks it.\n", what, errnoText(err, target(err))))
		return
	}
	pipe(client, upstream)
}

func target(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		return op.Addr.String()
	}
	return ""
}

// refuse answers a 502 and ends the connection in order: the client's unread request is drained
// first, as closing with unread bytes would reset the connection before it reads the answer.
func refuse(client net.Conn, reason string) {
	defer client.Close()
	_, _ = io.WriteString(client, "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n"+reason)
	if hc, ok := client.(halfCloser); ok {
		_ = hc.CloseWrite()
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, client)
}

// pipe relays both ways until both sides are done. An orderly end passes on after the last bytes
// (a half-close), so a client may still read the answer after it sent its end; a broken side
// breaks the other.
func pipe(client, upstream net.Conn) {
	done := make(chan struct{}, 2)
	one := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		_, err := io.CopyBuffer(dst, src, make([]byte, bufferBytes))
		if err != nil {
			client.Close()
			upstream.Close()
			return
		}
		if hc, ok := dst.(halfCloser); ok {
			_ = hc.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go one(upstream, client)
	go one(client, upstream)
	<-done
	<-done
	client.Close()
	upstream.Close()
}
