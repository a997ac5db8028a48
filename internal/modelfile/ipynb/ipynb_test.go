package ipynb

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string
		err  error
	}{
		{``, "", nil},
		{`null`, "", nil},
		{`"import os\nx = 1"`, "import os\nx = 1", nil},
		{`["import os\n", "x = 1"]`, "import os\nx = 1", nil},
		{`["a\u002db"]`, "a-b", nil},
		{`[]`, "", nil},
		{`42`, "", ErrText},
		{`["a", 1]`, "", ErrText},
		{`{"a": "b"}`, "", ErrText},
	} {
		got, err := Text(json.RawMessage(tc.raw))
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Text(%s) = %q, %v; want %q, %v", tc.raw, got, err, tc.want, tc.err)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{`"a"`, `["a\n","b"]`, `null`, `[1]`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Text(b)
		if err != nil && s != "" {
			t.Errorf("error %v with text %q", err, s)
		}
	})
}
