package actors

import "github.com/sonic-go/portsyncd/messages"

// Fail carries out an injected fault inside the target actor's Receive.
func Fail(f *messages.InjectFault) {
	if f.Wedge {
		select {}
	}
	panic("injected fault: " + f.Target)
}
