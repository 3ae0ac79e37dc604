// corral-relay: the in-sandbox side of corral's egress gateway, a static binary with no
// dependencies. It replaces src/gateway/forwarder.ts (run on the image's Node) with the same
// arguments and behaviour, and starts in a few milliseconds with a few MB of memory, where Node
// took ~80 ms and ~13 MB in every sandbox. Arguments, each repeatable:
//
//	--out <port>=<socket>   serve 127.0.0.1:<port>, relaying to <socket> (the proxy, the bridge)
//	--in <dir> <port>       serve <dir>/<port>.sock, relaying to 127.0.0.1:<port>
//	--services <file>       serve each service the file lists on its own loopback address and
//	                        port, relaying to the gateway's socket for it; the file is watched
//	--hold <socket>         keep one idle presence request open to the gateway at <socket>
//	--ready <file>          write "ready" to <file> once everything listens
//
// It also prints "ready" on stdout then. On its own instead:
//
//	--connect <socket> <host> <port>   one tunnel through the gateway's CONNECT on stdin/stdout
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

type out struct {
	port   int
	socket string
}

type in struct {
	dir  string
	port int
}

type options struct {
	outs     []out
	ins      []in
	holds    []string
	ready    string
	services string
	connect  *tunnel
	version  bool
}

type tunnel struct {
	socket string
	host   string
	port   string
}

const usage = "usage: corral-relay [--out PORT=SOCKET]… [--in DIR PORT]… [--services FILE] [--hold SOCKET]… [--ready FILE]\n" +
	"       corral-relay --connect SOCKET HOST PORT\n"

func isPort(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n <= 65535
}

func parseArgs(args []string) (*options, error) {
	o := &options{}
	next := func(i *int) string {
		*i++
		if *i < len(args) {
			return args[*i]
		}
		return ""
	}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--version":
			// The sandbox's start script runs this first: a binary that cannot run there (another
			// CPU, a noexec mount) makes it fall back to the Node forwarder.
			o.version = true
		case "--connect":
			o.connect = &tunnel{socket: next(&i), host: next(&i), port: next(&i)}
		case "--out":
			v := next(&i)
			port, socket, ok := strings.Cut(v, "=")
			n, valid := isPort(port)
			if !ok || socket == "" || !valid {
				return nil, fmt.Errorf("bad --out %s", v)
			}
			o.outs = append(o.outs, out{n, socket})
		case "--hold":
			s := next(&i)
			if s == "" {
				return nil, fmt.Errorf("bad --hold")
			}
			o.holds = append(o.holds, s)
		case "--in":
			dir := next(&i)
			n, valid := isPort(next(&i))
			if dir == "" || !valid {
				return nil, fmt.Errorf("bad --in")
			}
			o.ins = append(o.ins, in{dir, n})
		case "--ready":
			o.ready = next(&i)
		case "--services":
			o.services = next(&i)
		default:
			return nil, fmt.Errorf("unknown argument %q", args[i])
		}
	}
	return o, nil
}

func main() {
	o, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "corral forwarder: %s\n%s", err, usage)
		os.Exit(2)
	}
	if o.version {
		fmt.Println("corral-relay 1")
		return
	}
	if o.connect != nil {
		os.Exit(runConnect(o.connect, os.Stdin, os.Stdout, os.Stderr))
	}
	if err := serve(o); err != nil {
		fmt.Fprintf(os.Stderr, "corral forwarder: %s\n", err)
		os.Exit(1)
	}
	select {}
}

// serve starts everything the options ask for and returns once the --out and --in listeners
// listen (the services file is served as it comes, like the Node forwarder did).
func serve(o *options) error {
	for _, x := range o.outs {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", x.port))
		if err != nil {
			return err
		}
		what := fmt.Sprintf("the host side of port %d", x.port)
		go accept(l, unixDialer(x.socket), what, true)
	}
	for _, x := range o.ins {
		path := fmt.Sprintf("%s/%d.sock", x.dir, x.port)
		_ = os.Remove(path)
		l, err := net.Listen("unix", path)
		if err != nil {
			return err
		}
		// The relay container runs under another uid.
		if err := os.Chmod(path, 0o666); err != nil {
			return err
		}
		// No retry: a sandbox port nobody listens on should be refused at once.
		go accept(l, tcpDialer(fmt.Sprintf("127.0.0.1:%d", x.port)), fmt.Sprintf("sandbox port %d", x.port), false)
	}
	if o.services != "" {
		watchServices(o.services)
	}
	for _, h := range o.holds {
		go hold(h)
	}
	if o.ready != "" {
		if err := os.WriteFile(o.ready, []byte("ready\n"), 0o644); err != nil {
			return err
		}
	}
	_, err := os.Stdout.WriteString("ready\n")
	// A closed stdout (the start script sends it to a log file) is not a reason to stop serving.
	_ = err
	return nil
}
