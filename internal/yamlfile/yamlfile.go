// Package yamlfile reads the small YAML files people write for chainvet —
// .chainvet.yaml, ignore files, policies, approvals — within a size bound,
// with errors that name file:line.
//
// The callers' Parse functions return errors made by LineError or
// Syntax, which print as "N: message"; Load prefixes the file name, so
// the user reads "file:N: message".
package yamlfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Read returns the bytes of file, refusing one larger than max bytes.
// Errors name the file.
func Read(file string, max int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", file, max)
	}
	return b, nil
}

// Load reads file within max bytes and parses it with parse, whose errors
// (from LineError or Syntax) are given the file's name: "file:N: msg".
func Load[T any](file string, max int64, parse func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := Read(file, max)
	if err != nil {
		return zero, err
	}
	v, err := parse(b)
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return zero, fmt.Errorf("%s:%w", file, err)
		}
		return zero, fmt.Errorf("%s: %w", file, err)
	}
	return v, nil
}

// lineError is an error at a line of a file.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("%d: %s", e.line, e.msg) }

// LineError is an error at line of the file being parsed.
func LineError(line int, format string, args ...any) error {
	return &lineError{line, fmt.Sprintf(format, args...)}
}

// Syntax turns an error of yaml.Unmarshal into a LineError at the line
// the YAML library names (0 when it names none).
func Syntax(err error) error {
	line := 0
	fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line)
	return LineError(line, "%v", err)
}
