package dbconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// DefaultPath is where SONiC's database container publishes the host's
// database_config.json.
const DefaultPath = "/var/run/redis/sonic-db/database_config.json"

// Instance is one Redis server from the INSTANCES section.
type Instance struct {
	// Name is the key of the instance in INSTANCES, e.g. "redis".
	Name string
	// Hostname is the TCP host, never empty.
	Hostname string
	// Port is the TCP port, in 1..65535.
	Port int
	// UnixSocketPath is the server's unix socket, or "" if it has none.
	UnixSocketPath string
}

// Database is one logical database from the DATABASES section.
type Database struct {
	// Name is the key of the database in DATABASES, e.g. "STATE_DB".
	Name string
	// ID is the Redis database number selected on connect, in 0..65535.
	ID int
	// Separator joins a table name and a key, e.g. "|" for STATE_DB.
	Separator string
	// Instance is a copy of the instance the database lives in.
	Instance Instance
}

// Config is a validated database_config.json. Every database's instance is
// present in Instances.
type Config struct {
	// Instances maps instance names to instances.
	Instances map[string]Instance
	// Databases maps database names to databases.
	Databases map[string]Database
}

// Parse decodes and validates the contents of a database_config.json. Unknown
// fields are ignored; anything missing, mistyped, out of range or dangling is
// an error matching ErrInvalid. Parse does no I/O.
func Parse(data []byte) (*Config, error) {
	c, err := parse(data)
	if err != nil {
		return nil, &invalidError{err: err}
	}
	return c, nil
}

// Load reads and parses the database_config.json at path. Its errors start
// with "dbconfig: " followed by path.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	c, err := parse(data)
	if err != nil {
		return nil, &invalidError{path: path, err: err}
	}
	return c, nil
}

func parse(data []byte) (*Config, error) {
	doc, err := document(data)
	if err != nil {
		return nil, err
	}
	instances, err := section(doc, "INSTANCES")
	if err != nil {
		return nil, err
	}
	databases, err := section(doc, "DATABASES")
	if err != nil {
		return nil, err
	}
	if len(databases) == 0 {
		return nil, errors.New("DATABASES defines no databases")
	}

	c := &Config{
		Instances: make(map[string]Instance, len(instances)),
		Databases: make(map[string]Database, len(databases)),
	}
	// Sorted so that, of several problems, the same one is always reported.
	for _, name := range slices.Sorted(maps.Keys(instances)) {
		inst, err := parseInstance(name, instances[name])
		if err != nil {
			return nil, fmt.Errorf("instance %s: %w", quote(name), err)
		}
		c.Instances[name] = inst
	}
	for _, name := range slices.Sorted(maps.Keys(databases)) {
		db, err := c.parseDatabase(name, databases[name])
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", quote(name), err)
		}
		c.Databases[name] = db
	}
	return c, nil
}

// section returns the required top-level object called key.
func section(doc map[string]json.RawMessage, key string) (map[string]json.RawMessage, error) {
	raw, ok := doc[key]
	if !ok {
		return nil, fmt.Errorf("missing %s", key)
	}
	return object(raw, key)
}

func parseInstance(name string, raw json.RawMessage) (Instance, error) {
	if name == "" {
		return Instance{}, errors.New("name must not be empty")
	}
	obj, err := object(raw, "value")
	if err != nil {
		return Instance{}, err
	}
	inst := Instance{Name: name}
	if inst.Hostname, err = requiredString(obj, "hostname"); err != nil {
		return Instance{}, err
	}
	if inst.Port, err = requiredInt(obj, "port", 1, 65535); err != nil {
		return Instance{}, err
	}
	if inst.UnixSocketPath, _, err = stringField(obj, "unix_socket_path"); err != nil {
		return Instance{}, err
	}
	return inst, nil
}

// parseDatabase validates one database against the instances parsed so far.
func (c *Config) parseDatabase(name string, raw json.RawMessage) (Database, error) {
	if name == "" {
		return Database{}, errors.New("name must not be empty")
	}
	obj, err := object(raw, "value")
	if err != nil {
		return Database{}, err
	}
	db := Database{Name: name}
	if db.ID, err = requiredInt(obj, "id", 0, 65535); err != nil {
		return Database{}, err
	}
	if db.Separator, err = requiredString(obj, "separator"); err != nil {
		return Database{}, err
	}
	instance, err := requiredString(obj, "instance")
	if err != nil {
		return Database{}, err
	}
	var ok bool
	if db.Instance, ok = c.Instances[instance]; !ok {
		return Database{}, fmt.Errorf("instance %s not defined", quote(instance))
	}
	return db, nil
}

// Database returns the database called name, or an error matching ErrInvalid
// if the configuration does not define it.
func (c *Config) Database(name string) (Database, error) {
	db, ok := c.Databases[name]
	if !ok {
		return Database{}, &invalidError{err: fmt.Errorf("database %s not defined", quote(name))}
	}
	return db, nil
}

// Require reports the first of names that the configuration does not define,
// so a daemon can refuse to start before it touches Redis.
func (c *Config) Require(names ...string) error {
	for _, name := range names {
		if _, err := c.Database(name); err != nil {
			return err
		}
	}
	return nil
}

// RedisOptions returns go-redis options selecting the database. It uses the
// instance's unix socket when it has one, as SONiC's own clients do, and TCP
// otherwise. Callers may adjust timeouts and pool sizes on the result.
func (db Database) RedisOptions() *redis.Options {
	if db.Instance.UnixSocketPath != "" {
		return &redis.Options{Network: "unix", Addr: db.Instance.UnixSocketPath, DB: db.ID}
	}
	addr := net.JoinHostPort(db.Instance.Hostname, strconv.Itoa(db.Instance.Port))
	return &redis.Options{Network: "tcp", Addr: addr, DB: db.ID}
}

// Key returns the Redis key of key in table, joined by the database's
// separator, e.g. "PORT_TABLE|Ethernet0" in STATE_DB.
func (db Database) Key(table, key string) string {
	return table + db.Separator + key
}
