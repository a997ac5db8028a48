package pickle

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestArguments checks that a callee said to call an argument has that
// argument recorded as called.
func TestArguments(t *testing.T) {
	// __generator_ctor('true', os.system), protocol 2.
	b := []byte("\x80\x02cnumpy.random._pickle\n__generator_ctor\nX\x04\x00\x00\x00truecos\nsystem\n\x86R.")
	args := func(callee string) (calls, builds []int) {
		if callee == "numpy.random._pickle.__generator_ctor" {
			return []int{2}, nil
		}
		if callee == "copyreg.__newobj__" {
			return nil, []int{1}
		}
		return nil, nil
	}
	tests := []struct {
		name string
		fn   func(string) ([]int, []int)
		want []string
	}{
		{"without_hook", nil, []string{"numpy.random._pickle.__generator_ctor"}},
		{"with_hook", args, []string{"numpy.random._pickle.__generator_ctor", "os.system"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), Options{Arguments: tc.fn})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range res.Calls {
				got = append(got, c.Callee)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("callees (-want +got):\n%s", d)
			}
			called := map[string]bool{}
			for _, im := range res.Imports {
				called[im.Module+"."+im.Name] = im.Called
			}
			if want := tc.fn != nil; called["os.system"] != want {
				t.Errorf("os.system import Called = %v, want %v", called["os.system"], want)
			}
		})
	}
}

// TestPersistentModule checks that torch's legacy persistent id for a
// module class resolves to the class, as torch's loader returns it.
func TestPersistentModule(t *testing.T) {
	b := []byte("\x80\x02(X\x06\x00\x00\x00modulec__main__\nNet\nX\x01\x00\x00\x00fX\x01\x00\x00\x00stQ)\x81.")
	res, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Malformed != nil || len(res.Calls) != 1 {
		t.Fatalf("calls = %+v, break = %v", res.Calls, res.Malformed)
	}
	if c := res.Calls[0]; c.Callee != "__main__.Net" || !c.Construct || c.Op != "NEWOBJ" {
		t.Errorf("call = %+v, want construction of __main__.Net", c)
	}
	if !res.Imports[0].Called {
		t.Error("the class's import is not marked called")
	}
}
