package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// netnsDir is where ip-netns(8), and SONiC, keep named network namespaces.
const netnsDir = "/run/netns"

// nsList is a repeatable --namespace.
type nsList []string

func (l *nsList) String() string { return strings.Join(*l, ",") }

func (l *nsList) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty namespace name")
	}
	*l = append(*l, v)
	return nil
}

// nsFlags are the multi-ASIC flags the daemon and "portsyncd status" share.
type nsFlags struct {
	names  nsList
	global string
}

// addNamespaceFlags defines --namespace (and SONiC's -n) and
// --db-global-config on fs.
func addNamespaceFlags(fs *flag.FlagSet) *nsFlags {
	nf := &nsFlags{}
	usage := "serve the ASIC network namespace `name` (repeatable; all: every namespace in --db-global-config), with its databases from --db-global-config; none: the process's own namespace with --db-config"
	fs.Var(&nf.names, "namespace", usage)
	fs.Var(&nf.names, "n", "same as --namespace")
	fs.StringVar(&nf.global, "db-global-config", dbconfig.DefaultGlobalPath, "path of SONiC's `database_global.json`, with --namespace")
	return nf
}

// namespace is one selected namespace: its databases and a handle on its
// network namespace, held open for the life of the process.
type namespace struct {
	dbconfig.Namespace
	Netns *os.File
}

// resolve reads --db-global-config, selects the namespaces asked for and
// opens each one's network namespace. The first problem is one line
// naming the namespace or file; nothing has been touched in any namespace
// yet.
func (nf *nsFlags) resolve() ([]namespace, error) {
	g, err := dbconfig.LoadGlobal(nf.global)
	if err != nil {
		return nil, fmt.Errorf("--db-global-config: %w", err)
	}
	sel, err := g.Select(nf.names, "APPL_DB", "CONFIG_DB", "STATE_DB")
	if err != nil {
		return nil, fmt.Errorf("--db-global-config %s: %w", nf.global, err)
	}
	out := make([]namespace, 0, len(sel))
	for _, ns := range sel {
		f, err := openNetns(netnsDir, ns.Name)
		if err != nil {
			closeNamespaces(out)
			return nil, fmt.Errorf("namespace %q: %w", ns.Name, err)
		}
		out = append(out, namespace{Namespace: ns, Netns: f})
	}
	return out, nil
}

func closeNamespaces(nss []namespace) {
	for _, ns := range nss {
		ns.Netns.Close()
	}
}

// target is one set of databases and links to serve or show: the process's
// own namespace's (--db-config) or a --namespace's.
type target struct {
	name  string // "" without --namespace
	dbs   *sonicdb.DBs
	netns int // file descriptor of its network namespace; 0: the process's
	close func()
}

// openTargets reads the configuration the flags name and opens the
// databases (no connection is made yet), before anything is touched in any
// namespace. The error is one line naming the file or namespace.
func openTargets(dbConfig string, nf *nsFlags) ([]target, error) {
	if len(nf.names) == 0 {
		cfg, err := dbconfig.Load(dbConfig)
		if err == nil {
			if err = cfg.Require("APPL_DB", "CONFIG_DB", "STATE_DB"); err != nil {
				err = fmt.Errorf("%s: %w", dbConfig, err)
			}
		}
		if err != nil {
			return nil, err
		}
		dbs, err := sonicdb.Open(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dbConfig, err)
		}
		return []target{{dbs: dbs, close: func() { dbs.Close() }}}, nil
	}
	nss, err := nf.resolve()
	if err != nil {
		return nil, err
	}
	var out []target
	for i, ns := range nss {
		dbs, err := sonicdb.Open(ns.Config)
		if err != nil {
			for _, tg := range out {
				tg.close()
			}
			closeNamespaces(nss[i:])
			return nil, fmt.Errorf("namespace %q: %s: %w", ns.Name, ns.Path, err)
		}
		f := ns.Netns
		out = append(out, target{name: ns.Name, dbs: dbs, netns: int(f.Fd()), close: func() { dbs.Close(); f.Close() }})
	}
	return out, nil
}
