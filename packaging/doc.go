// Package packaging holds the files that install and run portsyncd outside
// the Go build: the systemd units (portsyncd.service, and portsyncd@.service
// for one instance per ASIC namespace), kernel settings
// (sysctl.d/50-portsyncd.conf), the supervisord block SONiC's swss container
// uses (supervisord/portsyncd.conf), and the Debian package's control
// template, maintainer scripts, copyright and lintian overrides (debian/),
// which scripts/package.sh assembles.
//
// It has no Go code to import; its tests check those files with the tools
// that read them (systemd-analyze verify, dpkg-deb, lintian, dpkg itself)
// and against the running kernel.
package packaging
