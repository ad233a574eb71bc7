package dbconfig

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultGlobalPath is where SONiC's database container publishes
// database_global.json on multi-ASIC systems.
const DefaultGlobalPath = "/var/run/redis/sonic-db/database_global.json"

// Global is a validated database_global.json.
type Global struct {
	// Dir is the directory include paths were resolved against.
	Dir string
	// Includes maps a namespace to the cleaned path of its
	// database_config.json. The host's entry has the key "".
	Includes map[string]string
}

// ParseGlobal decodes and validates the contents of a database_global.json
// whose relative include paths are resolved against dir. Absolute include
// paths are kept as they are. Each namespace, including the host's (an entry
// with no or an empty namespace), may appear only once. Errors match
// ErrInvalid. ParseGlobal does no I/O.
func ParseGlobal(dir string, data []byte) (*Global, error) {
	g, err := parseGlobal(dir, data)
	if err != nil {
		return nil, &invalidError{err: err}
	}
	return g, nil
}

// LoadGlobal reads and parses the database_global.json at path, resolving
// includes against the absolute directory of path. Its errors start with
// "dbconfig: " followed by path.
func LoadGlobal(path string) (*Global, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("dbconfig: %s: %w", path, err)
	}
	g, err := parseGlobal(filepath.Dir(abs), data)
	if err != nil {
		return nil, &invalidError{path: path, err: err}
	}
	return g, nil
}

func parseGlobal(dir string, data []byte) (*Global, error) {
	doc, err := document(data)
	if err != nil {
		return nil, err
	}
	raw, ok := doc["INCLUDES"]
	if !ok {
		return nil, errors.New("missing INCLUDES")
	}
	entries, err := array(raw, "INCLUDES")
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.New("INCLUDES is empty")
	}

	g := &Global{Dir: dir, Includes: make(map[string]string, len(entries))}
	first := make(map[string]int, len(entries)) // namespace -> index of its entry
	for i, entry := range entries {
		where := fmt.Sprintf("INCLUDES[%d]", i)
		obj, err := object(entry, where)
		if err != nil {
			return nil, err
		}
		include, err := requiredString(obj, "include")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		ns, _, err := stringField(obj, "namespace")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if j, dup := first[ns]; dup {
			return nil, fmt.Errorf("%s: %s already defined in INCLUDES[%d]", where, describe(ns), j)
		}
		first[ns] = i
		if !filepath.IsAbs(include) {
			include = filepath.Join(dir, include)
		}
		g.Includes[ns] = filepath.Clean(include)
	}
	return g, nil
}

// ConfigPath returns the database_config.json path for namespace; "" is the
// host. An undefined namespace is an error matching ErrInvalid.
func (g *Global) ConfigPath(namespace string) (string, error) {
	path, ok := g.Includes[namespace]
	if !ok {
		return "", &invalidError{err: fmt.Errorf("%s not defined", describe(namespace))}
	}
	return path, nil
}

// describe names a namespace in messages, where "" would read poorly.
func describe(namespace string) string {
	if namespace == "" {
		return "host namespace"
	}
	return "namespace " + quote(namespace)
}

// AllNamespaces, given to Select, stands for every namespace the global
// file defines besides the host's (SONiC's CLIs spell it the same way).
const AllNamespaces = "all"

// Namespace is one network namespace's databases, as database_global.json
// includes them.
type Namespace struct {
	// Name is the namespace's name, also that of its Linux network
	// namespace (/run/netns/<Name>).
	Name string
	// Path is its database_config.json.
	Path string
	// Config is that file, loaded.
	Config *Config
}

// Select resolves names (each a namespace of g, or AllNamespaces) to the
// namespaces they name, sorted, each once, and loads each one's
// database_config.json, which must define every database in require.
// The first problem is the error, naming the namespace and the file: an
// undefined namespace or a name that cannot be a network namespace's
// (matching ErrInvalid), a missing include (matching fs.ErrNotExist), a
// malformed one or one that lacks a required database (ErrInvalid).
func (g *Global) Select(names []string, require ...string) ([]Namespace, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		if n != AllNamespaces {
			want[n] = true
			continue
		}
		for ns := range g.Includes {
			if ns != "" {
				want[ns] = true
			}
		}
	}
	out := make([]Namespace, 0, len(want))
	for _, n := range slices.Sorted(maps.Keys(want)) {
		if err := netnsName(n); err != nil {
			return nil, &invalidError{err: fmt.Errorf("%s: %w", describe(n), err)}
		}
		path, ok := g.Includes[n]
		if !ok {
			return nil, &invalidError{err: fmt.Errorf("%s not defined", describe(n))}
		}
		c, err := Load(path)
		if err == nil {
			if err = c.Require(require...); err != nil {
				err = fmt.Errorf("%s: %w", path, err)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", describe(n), err)
		}
		out = append(out, Namespace{Name: n, Path: path, Config: c})
	}
	if len(out) == 0 {
		return nil, &invalidError{err: errors.New("no namespace selected: database_global.json defines none besides the host's")}
	}
	return out, nil
}

// netnsName checks that n can name a network namespace under /run/netns:
// one path element, as ip-netns(8) requires.
func netnsName(n string) error {
	switch {
	case n == "":
		return errors.New("empty name")
	case n == "." || n == ".." || strings.ContainsAny(n, "/\x00"):
		return errors.New("not a network namespace name (ip-netns(8) takes one path element)")
	}
	return nil
}
