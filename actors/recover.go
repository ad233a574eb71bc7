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

// Recover is a receiver middleware that attaches the stack to a panic
// before protoactor-go's mailbox recovers it and tells the parent.
func Recover(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(*Panic); ok {
					panic(v)
				}
				panic(&Panic{Value: v, Stack: debug.Stack()})
			}
		}()
		next(c, env)
	}
}
