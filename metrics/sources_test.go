package metrics

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// notExported are the leaves of Sources that no series carries, each with
// why. Anything else a source returns must reach a scrape.
var notExported = map[string]string{
	"Kstats.NetlinkDrops":     "the sum of Sockets[].Drops, exported per socket",
	"Kstats.NetlinkQueued":    "the sum of Sockets[].Rmem, exported per socket",
	"Kstats.Sockets[].PortID": "identifies the socket, as the inode label already does",
	"Kstats.Sockets[].Groups": "the multicast groups joined: configuration, not a figure",
	"Kstats.Sockets[].Wmem":   "portsyncd sends little; the send queue is never the bottleneck",
}

// leaf is one settable scalar in the values Sources return.
type leaf struct {
	path string
	set  func(n int) // sets the leaf to a value derived from n
	// shows reports whether a scrape shows the value set(n) gave.
	shows func(n int, s map[string]float64) bool
}

// shaped gives v (zero) every pointer allocated, every slice of length 1
// and every map one entry, so that each scalar in it has a place, and
// appends those scalars to leaves.
func shaped(t *testing.T, path string, v reflect.Value, leaves *[]leaf) {
	t.Helper()
	hasValue := func(want float64) func(int, map[string]float64) bool {
		return func(_ int, s map[string]float64) bool {
			for _, got := range s {
				if got == want {
					return true
				}
			}
			return false
		}
	}
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		*leaves = append(*leaves, leaf{path: path,
			set:   func(n int) { v.Set(reflect.ValueOf(time.Unix(int64(n), 0))) },
			shows: func(n int, s map[string]float64) bool { return hasValue(float64(n))(n, s) }})
		return
	case v.Type() == reflect.TypeFor[time.Duration]():
		*leaves = append(*leaves, leaf{path: path,
			set:   func(n int) { v.SetInt(int64(time.Duration(n) * time.Second)) },
			shows: func(n int, s map[string]float64) bool { return hasValue(float64(n))(n, s) }})
		return
	}
	switch v.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		*leaves = append(*leaves, leaf{path: path,
			set:   func(n int) { v.SetUint(uint64(n)) },
			shows: func(n int, s map[string]float64) bool { return hasValue(float64(n))(n, s) || labelled(s, n) }})
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		*leaves = append(*leaves, leaf{path: path,
			set:   func(n int) { v.SetInt(int64(n)) },
			shows: func(n int, s map[string]float64) bool { return hasValue(float64(n))(n, s) || labelled(s, n) }})
	case reflect.Float32, reflect.Float64:
		*leaves = append(*leaves, leaf{path: path,
			set:   func(n int) { v.SetFloat(float64(n)) },
			shows: func(n int, s map[string]float64) bool { return hasValue(float64(n))(n, s) }})
	case reflect.Bool:
		// A bool has one value other than zero: the series that shows it
		// is the one that went from 0 (or absent) to 1, see changed.
		*leaves = append(*leaves, leaf{path: path,
			set:   func(n int) { v.SetBool(n != 0) },
			shows: func(_ int, s map[string]float64) bool { return hasValue(1)(0, s) }})
	case reflect.String:
		*leaves = append(*leaves, leaf{path: path,
			set: func(n int) { v.SetString("s" + strconv.Itoa(n)) },
			shows: func(n int, s map[string]float64) bool {
				for k := range s {
					if strings.Contains(k, "=s"+strconv.Itoa(n)+",") || strings.Contains(k, "=s"+strconv.Itoa(n)+"}") {
						return true
					}
				}
				return false
			}})
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			shaped(t, path+"."+f.Name, v.Field(i), leaves)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		shaped(t, path, v.Elem(), leaves)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		shaped(t, path+"[]", v.Index(0), leaves)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			t.Fatalf("%s: a map keyed by %s: teach this test to fill it", path, v.Type().Key())
		}
		// Map values are not addressable: keep the value in a variable
		// and store it again after each set.
		m := reflect.MakeMap(v.Type())
		v.Set(m)
		key := reflect.ValueOf("k").Convert(v.Type().Key())
		elem := reflect.New(v.Type().Elem()).Elem()
		m.SetMapIndex(key, elem)
		var inner []leaf
		shaped(t, path+"[v]", elem, &inner)
		for _, l := range inner {
			set := l.set
			l.set = func(n int) { set(n); m.SetMapIndex(key, elem) }
			*leaves = append(*leaves, l)
		}
	default:
		t.Fatalf("%s: a %s: teach this test to fill it", path, v.Type())
	}
}

// labelled reports whether a series has n as a label value (an inode, say).
func labelled(s map[string]float64, n int) bool {
	for k := range s {
		if strings.Contains(k, "="+strconv.Itoa(n)+",") || strings.Contains(k, "="+strconv.Itoa(n)+"}") {
			return true
		}
	}
	return false
}

// changed returns the series of got that base lacks or holds another value.
func changed(base, got map[string]float64) map[string]float64 {
	out := make(map[string]float64)
	for k, v := range got {
		if b, ok := base[k]; !ok || b != v {
			out[k] = v
		}
	}
	return out
}

// TestEverySourceFieldExported sets each scalar that a Sources field
// returns, one at a time, to a value of its own, and checks that the scrape
// shows it. A field added to Sources or to the structs its functions return
// fails here until it is exported (or listed in notExported, with why).
// It cannot check the daemon's wiring: only the daemon knows which actor
// counter feeds which field.
func TestEverySourceFieldExported(t *testing.T) {
	// One value per Sources field; each func field returns its value.
	var src Sources
	sv := reflect.ValueOf(&src).Elem()
	var leaves []leaf
	for i := range sv.NumField() {
		f := sv.Type().Field(i)
		fv := sv.Field(i)
		if f.Type.Kind() != reflect.Func {
			shaped(t, f.Name, fv, &leaves)
			continue
		}
		if f.Type.NumIn() != 0 || f.Type.NumOut() != 1 {
			t.Fatalf("Sources.%s is a %s: teach this test to call it", f.Name, f.Type)
		}
		val := reflect.New(f.Type.Out(0)).Elem()
		shaped(t, f.Name, val, &leaves)
		fv.Set(reflect.MakeFunc(f.Type, func([]reflect.Value) []reflect.Value { return []reflect.Value{val} }))
	}

	gather := func() map[string]float64 {
		t.Helper()
		fams, err := New(src).Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		byName := make(map[string]*dto.MetricFamily, len(fams))
		for _, f := range fams {
			byName[f.GetName()] = f
		}
		return series(byName)
	}
	zero := func() {
		for _, l := range leaves {
			l.set(0)
		}
	}

	seen := make(map[string]bool)
	for i, l := range leaves {
		seen[l.path] = true
		if _, skip := notExported[l.path]; skip {
			continue
		}
		t.Run(l.path, func(t *testing.T) {
			zero()
			base := gather()
			n := 7001 + i
			l.set(n)
			got := changed(base, gather())
			if !l.shows(n, got) {
				t.Errorf("%s set to %d: no series shows it; changed series: %v", l.path, n, got)
			}
		})
	}
	for p := range notExported {
		if !seen[p] {
			t.Errorf("notExported lists %s, which Sources does not have", p)
		}
	}
	if len(leaves) < 40 {
		t.Errorf("found %d leaves in Sources; the walk is broken", len(leaves))
	}
}
