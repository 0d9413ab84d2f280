package peer

import (
	"context"
	"fmt"
	"runtime/debug"
)

// handlerPanic is the error safeCall returns when the handler panicked.
type handlerPanic struct {
	val   any
	stack []byte
}

func (p *handlerPanic) Error() string { return fmt.Sprintf("handler panicked: %v", p.val) }

// safeCall runs h, turning a panic into a *handlerPanic error.
func safeCall(ctx context.Context, h Handler, op byte, req []byte) (resp []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, &handlerPanic{val: r, stack: debug.Stack()}
		}
	}()
	return h(ctx, op, req)
}

// safeServeBatch runs b.ServeBatch, returning the panic, if any, as a
// *handlerPanic.
func safeServeBatch(ctx context.Context, b BatchHandler, reqs []Request) (p *handlerPanic) {
	defer func() {
		if r := recover(); r != nil {
			p = &handlerPanic{val: r, stack: debug.Stack()}
		}
	}()
	b.ServeBatch(ctx, reqs)
	return nil
}
