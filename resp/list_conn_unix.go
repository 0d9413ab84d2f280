//go:build unix

package resp

import (
	"errors"
	"net"
	"syscall"
)

// connClosed reports whether the peer of nc has closed the connection (or
// nc is closed), without reading anything from it: a blocked client's
// connection is otherwise not read until its command ends, and a pop for
// a client that is gone would lose the item. It peeks at the socket; data
// waiting (a pipelined command) means open.
func connClosed(nc net.Conn) bool {
	if t, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = t.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			closed = n == 0 // an orderly shutdown reads as 0 bytes
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
		default:
			closed = true
		}
		return true // never wait for data
	})
	return closed || err != nil
}
