package main

import (
	"flag"
	"os/exec"
	"strings"
	"testing"

	"github.com/sonic-go/portsyncd/buildinfo"
)

// Every flag of the daemon, of status and of doctor is in the page, with its argument
// name and default, in the section of its command: the page is written from
// the flag sets, so a flag added to either shows up without anyone editing
// the page.
func TestManpageListsEveryFlag(t *testing.T) {
	daemonFS, _ := newDaemonFlagSet()
	statusFS, _ := newStatusFlagSet()
	doctorFS, _ := newDoctorFlagSet()
	page := manpage(buildinfo.Info{Version: "1.2.3", Date: "2026-01-25T09:00:00Z", GoVersion: "go1.26"}, daemonFS, statusFS, doctorFS)
	if !strings.HasPrefix(page, `.TH PORTSYNCD 8 "2026-01-25" "portsyncd 1.2.3"`) {
		t.Errorf("title line: %.80q", page)
	}
	options, statusOptions, ok := strings.Cut(page, ".SH \"STATUS OPTIONS\"\n")
	if !ok {
		t.Fatalf("no STATUS OPTIONS section")
	}
	statusOptions, doctorOptions, ok := strings.Cut(statusOptions, ".SH \"DOCTOR OPTIONS\"\n")
	if !ok {
		t.Fatalf("no DOCTOR OPTIONS section after STATUS OPTIONS")
	}
	doctorOptions, _, _ = strings.Cut(doctorOptions, ".SH ")
	for _, tt := range []struct {
		section string
		text    string
		fs      *flag.FlagSet
	}{{"OPTIONS", options, daemonFS}, {"STATUS OPTIONS", statusOptions, statusFS}, {"DOCTOR OPTIONS", doctorOptions, doctorFS}} {
		n := 0
		tt.fs.VisitAll(func(f *flag.Flag) {
			n++
			arg, _ := flag.UnquoteUsage(f)
			want := `\fB\-\-` + roffEscape(f.Name) + `\fR`
			if arg != "" {
				want += ` \fI` + roffEscape(arg) + `\fR`
			}
			if !strings.Contains(tt.text, ".TP\n"+want+"\n") {
				t.Errorf("%s: no entry %q", tt.section, want)
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" &&
				!strings.Contains(tt.text, "(default: "+roffEscape(f.DefValue)+")") {
				t.Errorf("%s: --%s without its default %q", tt.section, f.Name, f.DefValue)
			}
		})
		if got := strings.Count(tt.text, ".TP\n"); got != n {
			t.Errorf("%s: %d entries, want one per flag (%d)", tt.section, got, n)
		}
	}
}

// The page formats without a warning from groff (what lintian runs as
// well), when man is installed.
func TestManpageFormatsCleanly(t *testing.T) {
	man, err := exec.LookPath("man")
	if err != nil {
		t.Skip("man not installed")
	}
	daemonFS, _ := newDaemonFlagSet()
	statusFS, _ := newStatusFlagSet()
	doctorFS, _ := newDoctorFlagSet()
	page := manpage(buildinfo.Get(), daemonFS, statusFS, doctorFS)
	cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", "-")
	cmd.Stdin = strings.NewReader(page)
	cmd.Env = append(cmd.Environ(), "MANWIDTH=80")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("man: %v\n%s", err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("man --warnings:\n%s", stderr.String())
	}
	if !strings.Contains(string(out), "--db-config database_config.json") {
		t.Errorf("formatted page lacks the --db-config entry:\n%s", out)
	}
}

func TestManpageTakesNoArguments(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := runManpage([]string{"x"}, &stdout, &stderr); code != ExitUsage || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q; want %d and nothing", code, stdout.String(), ExitUsage)
	}
}
