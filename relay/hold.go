package main

import (
	"io"
	"net"
	"time"
)

// The gateway lingers after its last sandbox; the presence request, open as long as this process
// lives and made again if the gateway restarts, is how it knows one is still there.
var holdAgain = time.Second

func hold(socket string) {
	for {
		if c, err := net.Dial("unix", socket); err == nil {
			if _, err := io.WriteString(c, "GET /corral/presence HTTP/1.1\r\nHost: corral\r\n\r\n"); err == nil {
				_, _ = io.Copy(io.Discard, c)
			}
			c.Close()
		}
		time.Sleep(holdAgain)
	}
}
