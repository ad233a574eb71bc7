package actors

import (
	"fmt"
	"runtime/debug"

	"github.com/asynkron/protoactor-go/actor"
)

// Panic is the failure reason of an actor that panicked: the value and the
// stack where it happened, which protoactor-go itself does not keep.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Inline runs an actor's mailbox on the goroutine of whoever sends to it,
// instead of starting a goroutine each time the mailbox goes from idle to
// busy (protoactor-go's default). The mailbox still lets one goroutine at a
// time in, so the actor stays single-threaded and its messages in order.
// Only for actors whose Receive never blocks nor waits for a goroutine: a
// sender would block with them.
var Inline = actor.NewSynchronizedDispatcher(300)

// Rethrow, deferred at the top of an actor's Receive, attaches the stack to
// a panic before protoactor-go's mailbox recovers it and tells the parent.
// (A receiver middleware would do the same at the cost of an allocation per
// message.)
func Rethrow() {
	if v := recover(); v != nil {
		if _, ok := v.(*Panic); ok {
			panic(v)
		}
		panic(&Panic{Value: v, Stack: debug.Stack()})
	}
}
