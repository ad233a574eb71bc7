// Package supervisor starts portsyncd the way SONiC's portsyncd starts
// (SONIC_SPEC.md section 2), then runs the actor pipeline under a supervisor
// actor that restarts failed actors and gives up, with an error, when
// restarts come too often.
//
// It owns the order of start-up and shutdown. It never decides what a link
// event means (portstate) nor how state is written (dbwriter).
package supervisor
