package dbconfig_test

import (
	"fmt"

	"github.com/sonic-go/portsyncd/dbconfig"
)

func ExampleParse() {
	c, err := dbconfig.Parse([]byte(`{
		"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 6379,
		                        "unix_socket_path": "/var/run/redis/redis.sock"}},
		"DATABASES": {"STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}},
		"VERSION": "1.0"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Require("APPL_DB", "STATE_DB"); err != nil {
		fmt.Println(err)
	}
	db, err := c.Database("STATE_DB")
	if err != nil {
		fmt.Println(err)
		return
	}
	o := db.RedisOptions()
	fmt.Println(o.Network, o.Addr, o.DB)
	fmt.Println(db.Key("PORT_TABLE", "Ethernet0"))
	// Output:
	// dbconfig: database "APPL_DB" not defined
	// unix /var/run/redis/redis.sock 6
	// PORT_TABLE|Ethernet0
}
