package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// echoServer answers each connection with "got " and what it read up to the client's end.
func echoServer(t *testing.T, network, addr string) net.Listener {
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				body, _ := io.ReadAll(c)
				fmt.Fprintf(c, "got %s", body)
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l
}

// roundTrip sends msg, half-closes, and reads everything back.
func roundTrip(t *testing.T, network, addr, msg string) string {
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, msg)
	c.(interface{ CloseWrite() error }).CloseWrite()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestParseArgs(t *testing.T) {
	o, err := parseArgs(strings.Fields("--out 3128=/s/proxy.sock --hold /s/proxy.sock --out 3129=/s/b.sock --in /run/in 8080 --services /s/services.json --ready /tmp/r"))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.outs) != 2 || o.outs[1] != (out{3129, "/s/b.sock"}) || o.ins[0] != (in{"/run/in", 8080}) ||
		o.holds[0] != "/s/proxy.sock" || o.services != "/s/services.json" || o.ready != "/tmp/r" {
		t.Fatalf("parsed %+v", o)
	}
	for _, bad := range []string{"--out 3128", "--out x=/s", "--out 3128=", "--in /d", "--in /d x", "--hold", "--what"} {
		if _, err := parseArgs(strings.Fields(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	o, _ = parseArgs(strings.Fields("--connect /s/proxy.sock example.com 22"))
	if *o.connect != (tunnel{"/s/proxy.sock", "example.com", "22"}) {
		t.Fatalf("connect %+v", o.connect)
	}
}

func TestOutRelaysBothWaysWithHalfClose(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "proxy.sock")
	echoServer(t, "unix", sock)
	port := freePort(t)
	if err := serve(&options{outs: []out{{port, sock}}}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 3<<20)
	if got := roundTrip(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), big); got != "got "+big {
		t.Fatalf("got %d bytes back", len(got))
	}
}

func TestOutWaitsForTheSocketAndLosesNothing(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "proxy.sock")
	port := freePort(t)
	if err := serve(&options{outs: []out{{port, sock}}}); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(400 * time.Millisecond)
		echoServer(t, "unix", sock)
	}()
	t0 := time.Now()
	got := roundTrip(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "payload-1")
	if got != "got payload-1" || time.Since(t0) < 350*time.Millisecond {
		t.Fatalf("got %q after %s", got, time.Since(t0))
	}
}

func TestOutGivesUpWithA502(t *testing.T) {
	retryFor = 300 * time.Millisecond
	t.Cleanup(func() { retryFor = 5 * time.Second })
	port := freePort(t)
	if err := serve(&options{outs: []out{{port, "/nonexistent/corral/proxy.sock"}}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	got := roundTrip(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "POST /x HTTP/1.1\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 502 Bad Gateway\r\n") ||
		!strings.Contains(got, fmt.Sprintf("the host side of port %d is not reachable (connect ENOENT /nonexistent/corral/proxy.sock)", port)) {
		t.Fatalf("got %q", got)
	}
	if time.Since(t0) < 250*time.Millisecond {
		t.Fatalf("gave up after %s, before retrying", time.Since(t0))
	}
}

func TestInServesASocketForASandboxPortAndRefusesAtOnce(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	if err := serve(&options{ins: []in{{dir, port}}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%d.sock", port))
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o666 {
		t.Fatalf("socket %v %v", st, err)
	}
	t0 := time.Now()
	if got := roundTrip(t, "unix", path, "x"); !strings.Contains(got, fmt.Sprintf("sandbox port %d is not reachable", port)) || time.Since(t0) > time.Second {
		t.Fatalf("got %q after %s", got, time.Since(t0))
	}
	echoServer(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if got := roundTrip(t, "unix", path, "hello"); got != "got hello" {
		t.Fatalf("got %q", got)
	}
}

func TestReadyFileAndLine(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	if err := serve(&options{outs: []out{{freePort(t), "/nowhere"}}, ready: ready}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(ready); string(b) != "ready\n" {
		t.Fatalf("ready file %q", b)
	}
	// A port already taken is an error, not a silent half-start.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	if err := serve(&options{outs: []out{{l.Addr().(*net.TCPAddr).Port, "/nowhere"}}}); err == nil {
		t.Fatal("no error for a taken port")
	}
}

func TestServicesFollowTheFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "services.json")
	echoServer(t, "unix", filepath.Join(dir, "svc-db.sock"))
	port := freePort(t)
	write := func(body string) {
		tmp := file + ".tmp"
		os.WriteFile(tmp, []byte(body), 0o644)
		os.Rename(tmp, file)
	}
	watchServices(file)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	write(fmt.Sprintf(`{"services":[{"address":"127.0.0.1","port":%d,"socket":"svc-db.sock"},`+
		`{"address":"10.0.0.1","port":%d,"socket":"svc-db.sock"},{"address":"127.0.0.2","port":%d,"socket":"../x"}]}`, port, port, port))
	waitFor(t, func() bool { c, err := net.Dial("tcp", addr); return err == nil && c.Close() == nil })
	if got := roundTrip(t, "tcp", addr, "q"); got != "got q" {
		t.Fatalf("got %q", got)
	}
	// Not a loopback address, or a socket outside the folder: not served.
	for _, a := range []string{fmt.Sprintf("127.0.0.2:%d", port)} {
		if c, err := net.Dial("tcp", a); err == nil {
			c.Close()
			t.Fatalf("%s served", a)
		}
	}
	write(`{"services":[`) // mid-write: what is served stays
	time.Sleep(200 * time.Millisecond)
	if got := roundTrip(t, "tcp", addr, "still"); got != "got still" {
		t.Fatalf("got %q", got)
	}
	write(`{"services":[]}`)
	waitFor(t, func() bool { _, err := net.Dial("tcp", addr); return err != nil })
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("timed out")
}

func TestHoldStaysOpenAndComesBack(t *testing.T) {
	holdAgain = 50 * time.Millisecond
	sock := filepath.Join(t.TempDir(), "proxy.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go hold(sock)
	for i := 0; i < 2; i++ {
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		if line != "GET /corral/presence HTTP/1.1\r\n" {
			t.Fatalf("got %q", line)
		}
		c.Close() // the gateway restarting: the hold is made again
	}
}

// fakeGateway answers one CONNECT with answer, then echoes what follows.
func fakeGateway(t *testing.T, answer string) (string, chan string) {
	sock := filepath.Join(t.TempDir(), "proxy.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	asked := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		line, _ := r.ReadString('\n')
		asked <- line
		for l, _ := r.ReadString('\n'); l != "\r\n" && l != ""; l, _ = r.ReadString('\n') {
		}
		io.WriteString(c, answer)
		if strings.Contains(answer, " 200 ") {
			rest, _ := io.ReadAll(r)
			c.Write(bytes.ToUpper(rest))
		}
	}()
	return sock, asked
}

func TestConnectTunnels(t *testing.T) {
	sock, asked := fakeGateway(t, "HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0-early\r\n")
	var out, errs bytes.Buffer
	code := runConnect(&tunnel{sock, "git.example.com", "22"}, strings.NewReader("hello"), &out, &errs)
	if code != 0 || out.String() != "SSH-2.0-early\r\nHELLO" || <-asked != "CONNECT git.example.com:22 HTTP/1.1\r\n" {
		t.Fatalf("code %d out %q err %q", code, out.String(), errs.String())
	}
	sock, asked = fakeGateway(t, "HTTP/1.1 200 OK\r\n\r\n")
	runConnect(&tunnel{sock, "::1", "22"}, strings.NewReader(""), io.Discard, io.Discard)
	if got := <-asked; got != "CONNECT [::1]:22 HTTP/1.1\r\n" {
		t.Fatalf("asked %q", got)
	}
}

func TestConnectRefusedSaysWhy(t *testing.T) {
	sock, _ := fakeGateway(t, "HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\nnot allowed: add a rule\n")
	var out, errs bytes.Buffer
	code := runConnect(&tunnel{sock, "evil.example", "22"}, strings.NewReader(""), &out, &errs)
	if code != 1 || out.Len() != 0 || errs.String() != "corral: evil.example:22 refused (403)\nnot allowed: add a rule\n" {
		t.Fatalf("code %d out %q err %q", code, out.String(), errs.String())
	}
	errs.Reset()
	if code := runConnect(&tunnel{"/nonexistent/proxy.sock", "h", "22"}, nil, &out, &errs); code != 1 ||
		!strings.Contains(errs.String(), "cannot reach the egress gateway at /nonexistent/proxy.sock") {
		t.Fatalf("code %d err %q", code, errs.String())
	}
	if code := runConnect(&tunnel{sock, "h", "0"}, nil, &out, &errs); code != 2 {
		t.Fatalf("bad port: code %d", code)
	}
}
