package actors

import (
	"fmt"
	"runtime/debug"
)

// Panic is the failure reason of an actor that panicked: the value and the
// stack where it happened, which protoactor-go itself does not keep.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

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
