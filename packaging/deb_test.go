package packaging

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/test/harness"
)

// wantContents are the paths the package installs, directories aside.
var wantContents = []string{
	"etc/sysctl.d/50-portsyncd.conf",
	"lib/systemd/system/portsyncd.service",
	"lib/systemd/system/portsyncd@.service",
	"usr/bin/portsyncd",
	"usr/share/doc/portsyncd/README.md",
	"usr/share/doc/portsyncd/SONIC.md",
	"usr/share/doc/portsyncd/changelog.gz",
	"usr/share/doc/portsyncd/copyright",
	"usr/share/doc/portsyncd/examples/supervisord/portsyncd.conf",
	"usr/share/lintian/overrides/portsyncd",
	"usr/share/man/man8/portsyncd.8.gz",
}

// conffiles are what dpkg -r leaves behind and dpkg -P removes.
var conffiles = []string{"/etc/sysctl.d/50-portsyncd.conf"}

// run runs a command and returns its combined output, failing the test
// when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dpkg runs dpkg, waiting out another dpkg or apt that holds its lock (the
// CI machine is shared).
func dpkg(t *testing.T, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err == nil {
			return string(out)
		}
		if !strings.Contains(string(out), "lock") || time.Now().After(deadline) {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		time.Sleep(2 * time.Second) // another package manager's run, not an event we can wait on
	}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// packageDeb runs scripts/package.sh and returns the package's path.
func packageDeb(t *testing.T) string {
	t.Helper()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, filepath.Join(root, "scripts", "package.sh"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return filepath.Join(root, lines[len(lines)-1])
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, os.ErrNotExist)
}

// Issue 16: the package, built twice (the same bytes), checked with
// dpkg-deb and lintian, installed on this machine with dpkg -i (its units
// verified by systemd, its binary run, the service enabled the Debian way),
// removed (only the conffiles stay) and purged (nothing stays).
func TestDebianPackage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installs a package: needs root")
	}
	for _, tool := range []string{"dpkg-deb", "dpkg", "systemd-analyze", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed", tool)
		}
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "portsyncd").Output(); err == nil && len(out) > 0 &&
		!strings.Contains(string(out), "not-installed") {
		t.Skipf("a portsyncd package is already on this machine (%s): not touching it", out)
	}

	deb := packageDeb(t)
	first := sha(t, deb)
	if again := sha(t, packageDeb(t)); again != first {
		t.Errorf("two builds of the same commit differ: %s, then %s", first, again)
	}
	root, _ := harness.ModuleRoot()
	version := strings.Fields(run(t, filepath.Join(root, "dist", "portsyncd"), "--version"))[1]
	debVersion := strings.ReplaceAll(version, "-", "+")
	arch := strings.TrimSpace(run(t, "dpkg", "--print-architecture"))
	if want := "portsyncd_" + debVersion + "_" + arch + ".deb"; filepath.Base(deb) != want {
		t.Errorf("package %s, want %s", filepath.Base(deb), want)
	}

	info := run(t, "dpkg-deb", "--info", deb)
	t.Logf("dpkg-deb --info:\n%s", info)
	for _, want := range []string{"Package: portsyncd\n", "Version: " + debVersion + "\n", "Architecture: " + arch + "\n",
		" conffiles", " postinst", " prerm", " postrm", " md5sums"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb --info lacks %q", strings.TrimSpace(want))
		}
	}
	if got := strings.TrimSpace(run(t, "sh", "-c", "dpkg-deb --ctrl-tarfile "+deb+" | tar -xO ./conffiles")); got != strings.Join(conffiles, "\n") {
		t.Errorf("conffiles %q, want %q", got, conffiles)
	}
	var files []string
	for line := range strings.Lines(run(t, "dpkg-deb", "--contents", deb)) {
		f := strings.Fields(line)
		if len(f) < 6 || strings.HasPrefix(f[0], "d") {
			continue
		}
		if f[1] != "root/root" {
			t.Errorf("%s owned by %s, want root/root", f[5], f[1])
		}
		files = append(files, strings.TrimPrefix(f[5], "./"))
	}
	slices.Sort(files)
	if diff := cmp.Diff(wantContents, files); diff != "" {
		t.Errorf("dpkg-deb --contents (-want +got):\n%s", diff)
	}

	if lintian, err := exec.LookPath("lintian"); err == nil {
		out, _ := exec.Command(lintian, "--tag-display-limit", "0", "--display-info", deb).CombinedOutput()
		t.Logf("lintian:\n%s", out)
		for line := range strings.Lines(string(out)) {
			if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
				t.Errorf("lintian: %s", strings.TrimSpace(line))
			}
		}
	} else {
		t.Logf("lintian not installed (scripts/test.sh installs it): not run")
	}

	t.Cleanup(func() {
		if exists("/usr/bin/portsyncd") || exists(conffiles[0]) {
			_, _ = exec.Command("dpkg", "--purge", "portsyncd").CombinedOutput()
		}
	})
	dpkg(t, "-i", deb)
	if got := strings.TrimSpace(run(t, "/usr/bin/portsyncd", "--version")); !strings.HasPrefix(got, "portsyncd "+version+" (commit ") {
		t.Errorf("installed portsyncd --version: %q, want version %s", got, version)
	}
	for _, u := range units {
		verifyUnit(t, "/lib/systemd/system/"+u.file, u.verifyAs, true)
	}
	if got := strings.TrimSpace(run(t, "man", "-w", "portsyncd")); got != "/usr/share/man/man8/portsyncd.8.gz" {
		t.Errorf("man -w portsyncd: %q", got)
	}
	// Enabled the Debian way, as deb-systemd-helper does even where
	// systemd is not running (a chroot, an image build, a container).
	wants := "/etc/systemd/system/multi-user.target.wants/portsyncd.service"
	if _, err := exec.LookPath("deb-systemd-helper"); err == nil {
		if target, err := os.Readlink(wants); err != nil || target != "/lib/systemd/system/portsyncd.service" {
			t.Errorf("after install: %s -> %q (%v), want the enablement link", wants, target, err)
		}
	}

	dpkg(t, "-r", "portsyncd")
	for _, f := range wantContents {
		path := "/" + f
		if slices.Contains(conffiles, path) {
			if !exists(path) {
				t.Errorf("dpkg -r removed the conffile %s", path)
			}
		} else if exists(path) {
			t.Errorf("dpkg -r left %s", path)
		}
	}
	if status := run(t, "dpkg-query", "-W", "-f=${Status}", "portsyncd"); status != "deinstall ok config-files" {
		t.Errorf("after dpkg -r: status %q, want only its config files left", status)
	}

	dpkg(t, "-P", "portsyncd")
	left := append([]string{wants, "/etc/systemd/system/portsyncd.service",
		"/var/lib/systemd/deb-systemd-helper-enabled/portsyncd.service.dsh-also",
		"/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/portsyncd.service",
		"/var/lib/systemd/deb-systemd-helper-masked/portsyncd.service"}, conffiles...)
	for _, path := range left {
		if exists(path) {
			t.Errorf("dpkg -P left %s", path)
		}
	}
}
