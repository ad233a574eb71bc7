// Package buildinfo owns what a build of portsyncd says about itself: the
// version, the commit and the build date that scripts/build.sh stamps in
// with -ldflags -X, and the Go version that built it.
//
// It never reads the clock or the environment at run time: a binary built
// twice from the same commit by scripts/build.sh is the same, byte for byte,
// so the build date is the commit's date (SOURCE_DATE_EPOCH), not "now".
package buildinfo
