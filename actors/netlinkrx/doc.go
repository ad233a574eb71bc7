// Package netlinkrx owns portsyncd's rtnetlink sockets: a listen socket that
// joins RTNLGRP_LINK and a separate dump socket (a dump on a socket blocked
// in Receive stalls). Its listen socket is its pipeline's actors.Loop's
// Source: when every actor on the Loop is idle, the Loop waits in it, then
// netlinkrx decodes what was read and sends it to portstate as one
// LinkBatch. A dump is read on the same goroutine, between two reads.
//
// On ENOBUFS (the kernel dropped events), a dump marked NLM_F_DUMP_INTR, or a
// message it cannot decode, it resynchronises: it discards what is queued,
// dumps every link, and sends the dump as one snapshot batch, ahead of every
// event read after it, so an older entry never overwrites a newer one.
//
// Only the kernel may feed state: every datagram on either socket whose
// sender is not the kernel (nl_pid != 0) is dropped unread and counted
// (Stats.Forged), with a warning at most once a second. Reads and dumps use
// raw recvfrom for this, since netlink.Conn's Receive and Execute discard the
// sender; a dump also takes only replies with its own sequence number.
//
// It never interprets events (portstate does) and never touches Redis. It
// never sets NETLINK_NO_ENOBUFS: losing events silently is what it exists to
// prevent.
package netlinkrx
