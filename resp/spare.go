package resp

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// errMaxClients is Redis's reply to a client over maxclients.
const errMaxClients = "-ERR max number of clients reached\r\n"

// spareFile is a descriptor a Server holds so it can still answer a client
// when the process is out of file descriptors: accept then fails with
// EMFILE and leaves the client waiting in the listen queue, so the server
// closes the spare, accepts the client into its slot, tells it
// "max number of clients reached", closes it and takes the slot back (the
// reserve-descriptor trick of libev and nginx). The client gets an error
// instead of a hang.
type spareFile struct {
	mu      sync.Mutex
	f       *os.File  // nil if it could not be opened or is in use
	warned  time.Time // when refuse last asked for a warning
	refused int64     // clients refused since then
}

func (s *spareFile) open() {
	if f, err := os.Open(os.DevNull); err == nil {
		s.f = f
	}
}

func (s *spareFile) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// outOfFiles reports whether an accept error means the process or the
// system has no descriptor left.
func outOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// refuse accepts one waiting client of ln into the spare's slot, replies
// that the server is full and closes it. It reports whether it refused a
// client (false if there is no spare or accept failed again), and, at most
// once a second, how many it refused since it last said so, to be logged.
func (s *spareFile) refuse(ln net.Listener) (ok bool, warn int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return false, 0
	}
	s.f.Close()
	s.f = nil
	defer s.open()
	nc, err := ln.Accept()
	if err != nil {
		return false, 0
	}
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	nc.Write([]byte(errMaxClients))
	nc.Close()
	s.refused++
	if now := time.Now(); now.Sub(s.warned) >= time.Second {
		s.warned, warn, s.refused = now, s.refused, 0
	}
	return true, warn
}
