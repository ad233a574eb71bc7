package dbconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// maxSize bounds the input; real files are a few KiB, so anything near this
// is not a database configuration and is refused before decoding.
const maxSize = 4 << 20

// ErrInvalid is matched by every error reporting a malformed or inconsistent
// configuration and by lookups of undefined databases or namespaces.
var ErrInvalid = errors.New("dbconfig: invalid configuration")

// invalidError prefixes a validation error with the package name and, when
// known, the file it came from, while matching ErrInvalid.
type invalidError struct {
	path string
	err  error
}

func (e *invalidError) Error() string {
	if e.path == "" {
		return "dbconfig: " + e.err.Error()
	}
	return "dbconfig: " + e.path + ": " + e.err.Error()
}

func (e *invalidError) Unwrap() error { return e.err }

func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// readFile reads at most maxSize+1 bytes so an oversized file (or a device
// such as /dev/zero) is rejected by the size check instead of exhausting
// memory.
func readFile(path string) ([]byte, error) {
	// Only a regular file: opening a named pipe would wait for a writer for
	// ever, and a device is no configuration. Checked before opening, and
	// again on what was opened (O_NONBLOCK, so a pipe swapped in meanwhile
	// does not block the open).
	if fi, err := os.Stat(path); err != nil {
		return nil, pathError(path, err)
	} else if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, pathError(path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, pathError(path, err)
	} else if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, pathError(path, err)
	}
	return data, nil
}

// ErrNotRegular marks a configuration path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

func notRegular(path string, m fs.FileMode) error {
	kind := "special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "named pipe"
	case m&fs.ModeCharDevice != 0:
		kind = "character device"
	case m&fs.ModeDevice != 0:
		kind = "block device"
	case m&fs.ModeSocket != 0:
		kind = "socket"
	case m.IsDir():
		kind = "directory"
	}
	return fmt.Errorf("dbconfig: %s: %w (a %s)", path, ErrNotRegular, kind)
}

// pathError drops the *fs.PathError layer, whose message would repeat the
// path, keeping the cause so errors.Is(err, fs.ErrNotExist) still works.
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("dbconfig: %s: %w", path, err)
}

// document checks size and syntax and returns the top-level JSON object.
func document(data []byte) (map[string]json.RawMessage, error) {
	if len(data) > maxSize {
		return nil, fmt.Errorf("document exceeds %d bytes", maxSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty document")
	}
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid JSON at offset %d: %w", se.Offset, err)
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return object(raw, "document")
}

// object decodes raw as a JSON object; what names it in errors. Decoding into
// a map rather than a struct keeps key matching exact (encoding/json matches
// struct fields case-insensitively) and lets unknown keys pass.
func object(raw json.RawMessage, what string) (map[string]json.RawMessage, error) {
	if k := kind(raw); k != "object" {
		return nil, fmt.Errorf("%s must be an object, got %s", what, k)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return m, nil
}

// array decodes raw as a JSON array; what names it in errors.
func array(raw json.RawMessage, what string) ([]json.RawMessage, error) {
	if k := kind(raw); k != "array" {
		return nil, fmt.Errorf("%s must be an array, got %s", what, k)
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return a, nil
}

// kind names the JSON type of an already validated value. It is checked
// before decoding because encoding/json silently accepts null for any type.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// stringField returns obj[key] as a string; ok reports whether key is present.
func stringField(obj map[string]json.RawMessage, key string) (s string, ok bool, err error) {
	raw, ok := obj[key]
	if !ok {
		return "", false, nil
	}
	if k := kind(raw); k != "string" {
		return "", true, fmt.Errorf("%s must be a string, got %s", key, k)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fmt.Errorf("%s: %w", key, err)
	}
	return s, true, nil
}

// requiredString returns obj[key], which must be a non-empty string.
func requiredString(obj map[string]json.RawMessage, key string) (string, error) {
	s, ok, err := stringField(obj, key)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", fmt.Errorf("missing %s", key)
	case s == "":
		return "", fmt.Errorf("%s must not be empty", key)
	}
	return s, nil
}

// requiredInt returns obj[key], which must be an integer in [lo, hi].
// Fractions and exponents are refused rather than truncated.
func requiredInt(obj map[string]json.RawMessage, key string, lo, hi int) (int, error) {
	raw, ok := obj[key]
	if !ok {
		return 0, fmt.Errorf("missing %s", key)
	}
	if k := kind(raw); k != "number" {
		return 0, fmt.Errorf("%s must be an integer, got %s", key, k)
	}
	text := string(bytes.TrimSpace(raw))
	v, err := strconv.ParseInt(text, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%s %s out of range %d..%d", key, clip(text), lo, hi)
	case err != nil:
		return 0, fmt.Errorf("%s must be an integer, got %s", key, clip(text))
	case v < int64(lo) || v > int64(hi):
		return 0, fmt.Errorf("%s %d out of range %d..%d", key, v, lo, hi)
	}
	return int(v), nil
}

// quote quotes a name taken from the input for an error message, shortened
// so an absurd input cannot produce an absurd message.
func quote(s string) string {
	return strconv.Quote(clip(s))
}

// clip shortens s to a length fit for an error message.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
