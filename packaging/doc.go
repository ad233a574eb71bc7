// Package packaging holds the files that install and run portsyncd outside
// the Go build: the systemd unit (portsyncd.service), kernel settings
// (sysctl.d/50-portsyncd.conf) and the supervisord block SONiC's swss
// container uses (supervisord/portsyncd.conf).
//
// It has no Go code to import; its tests check those files with the tools
// that read them (systemd-analyze verify) and against the running kernel.
package packaging
