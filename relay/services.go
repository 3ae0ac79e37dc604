package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

var (
	loopback   = regexp.MustCompile(`^127\.\d+\.\d+\.\d+$`)
	socketName = regexp.MustCompile(`^[\w.-]+$`)
)

type route struct {
	address string
	port    int
	socket  string
}

// readRoutes reads the services file; ok is false when it is missing or mid-write (keep what is
// served then: the next change reads it again). Entries that are not a loopback address, a port
// and a plain file name are left out.
func readRoutes(file string) (map[string]route, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, false
	}
	var parsed map[string]any
	if json.Unmarshal(data, &parsed) != nil {
		return nil, false
	}
	list, _ := parsed["services"].([]any)
	wanted := map[string]route{}
	for _, item := range list {
		r, _ := item.(map[string]any)
		address, _ := r["address"].(string)
		port, _ := r["port"].(float64)
		socket, _ := r["socket"].(string)
		if !loopback.MatchString(address) || port != math.Trunc(port) || port < 0 || port > 65535 || !socketName.MatchString(socket) {
			continue
		}
		x := route{address, int(port), socket}
		wanted[fmt.Sprintf("%s:%d", address, x.port)] = x
	}
	return wanted, true
}

type services struct {
	mu      sync.Mutex
	file    string
	serving map[string]net.Listener // nil: could not listen, kept so it is not retried every second
}

func (s *services) sync() {
	s.mu.Lock()
	defer s.mu.Unlock()
	wanted, ok := readRoutes(s.file)
	if !ok {
		return
	}
	for key, l := range s.serving {
		if _, keep := wanted[key]; !keep {
			if l != nil {
				l.Close()
			}
			delete(s.serving, key)
		}
	}
	for key, r := range wanted {
		if _, have := s.serving[key]; have {
			continue
		}
		l, err := net.Listen("tcp", key)
		if err != nil {
			fmt.Fprintf(os.Stderr, "corral forwarder: cannot serve %s: %s\n", key, err)
			s.serving[key] = nil
			continue
		}
		s.serving[key] = l
		go accept(l, unixDialer(filepath.Join(filepath.Dir(s.file), r.socket)), "service "+key, true)
	}
}

// watchServices serves the file's services now and whenever it changes: inotify on its folder sees
// the host's rename at once; a poll every second covers mounts where inotify sees nothing.
func watchServices(file string) {
	s := &services{file: file, serving: map[string]net.Listener{}}
	s.sync()
	go func() {
		for range time.Tick(time.Second) {
			s.sync()
		}
	}()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		return
	}
	mask := uint32(syscall.IN_CREATE | syscall.IN_MODIFY | syscall.IN_CLOSE_WRITE | syscall.IN_MOVED_TO |
		syscall.IN_MOVED_FROM | syscall.IN_DELETE | syscall.IN_ATTRIB)
	if _, err := syscall.InotifyAddWatch(fd, filepath.Dir(file), mask); err != nil {
		syscall.Close(fd)
		return
	}
	go func() {
		buf := make([]byte, 64*1024)
		for {
			if _, err := syscall.Read(fd, buf); err != nil && err != syscall.EINTR {
				return
			}
			s.sync()
		}
	}()
}
