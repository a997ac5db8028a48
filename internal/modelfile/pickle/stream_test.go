package pickle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFixtures(t *testing.T) {
	// Pickles CPython, torch, numpy, sklearn and joblib wrote
	// (testdata/gen.py): each must parse cleanly to its end.
	tests := []struct {
		file    string
		pickles int // Options.Pickles
		want    int // Result.Pickles
		callees []string
	}{
		{file: "proto0_os_system.pkl", want: 1, callees: []string{"posix.system"}},
		{file: "proto1_os_system.pkl", want: 1, callees: []string{"posix.system"}},
		{file: "proto2_os_system.pkl", want: 1, callees: []string{"posix.system"}},
		{file: "proto3_os_system.pkl", want: 1, callees: []string{"posix.system"}},
		{file: "proto4_os_system.pkl", want: 1, callees: []string{"posix.system"}},
		{file: "proto5_os_system.pkl", want: 1, callees: []string{"posix.system"}},
		{file: "proto0_benign.pkl", want: 1, callees: []string{"_codecs.encode", "builtins.set", "builtins.frozenset", "collections.OrderedDict", "builtins.set", "builtins.complex"}},
		{file: "proto2_benign.pkl", want: 1, callees: []string{"_codecs.encode", "builtins.set", "builtins.frozenset", "collections.OrderedDict", "builtins.set", "builtins.complex"}},
		{file: "proto3_benign.pkl", want: 1, callees: []string{"builtins.set", "builtins.frozenset", "collections.OrderedDict", "builtins.set", "builtins.complex"}},
		{file: "proto5_benign.pkl", want: 1, callees: []string{"collections.OrderedDict", "builtins.complex"}},
		{file: "argparse_namespace.pkl", want: 1, callees: []string{"argparse.Namespace", "argparse.Namespace.__setstate__"}},
		{file: "numpy_array_p5.pkl", want: 1, callees: []string{"numpy.dtype", "numpy.dtype.__setstate__", "numpy.core.numeric._frombuffer"}},
		{file: "torch_state_dict.pkl", pickles: 1, want: 1, callees: []string{
			"collections.OrderedDict", "collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
			"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "collections.OrderedDict",
			"collections.OrderedDict.__setstate__",
		}},
		{file: "torch_legacy.pt", pickles: 5, want: 5, callees: []string{
			"collections.OrderedDict", "collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
			"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "collections.OrderedDict",
			"collections.OrderedDict.__setstate__",
		}},
		{file: "joblib_noalign.joblib", want: 1, callees: []string{
			"joblib.numpy_pickle.NumpyArrayWrapper", "numpy.dtype", "numpy.dtype.__setstate__",
			"joblib.numpy_pickle.NumpyArrayWrapper.__setstate__",
		}},
		{file: "joblib_old.joblib", want: 1, callees: []string{
			"joblib.numpy_pickle.NumpyArrayWrapper", "numpy.dtype", "numpy.dtype.__setstate__",
			"joblib.numpy_pickle.NumpyArrayWrapper.__setstate__",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := readFixture(t, tt.file)
			res := scan(t, b, Options{Pickles: tt.pickles})
			if res.Malformed != nil || res.Limit != "" || len(res.Anomalies) > 0 {
				t.Fatalf("not clean: break %v, limit %q, anomalies %v", res.Malformed, res.Limit, res.Anomalies)
			}
			if res.Pickles != tt.want {
				t.Errorf("Pickles = %d, want %d", res.Pickles, tt.want)
			}
			var got []string
			for _, c := range res.Calls {
				got = append(got, c.Callee)
			}
			if diff := cmp.Diff(tt.callees, got); diff != "" {
				t.Errorf("callees (-want +got):\n%s", diff)
			}
			if tt.pickles == 0 && res.End != int64(len(b)) {
				t.Errorf("End = %d, want %d", res.End, len(b))
			}
		})
	}
}

func TestEveryFixtureClean(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".py") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			opt := Options{}
			if strings.HasSuffix(name, ".pt") {
				opt.Pickles = 5
			}
			res := scan(t, readFixture(t, name), opt)
			if res.Malformed != nil || res.Limit != "" || len(res.Anomalies) > 0 || res.Pickles == 0 {
				t.Errorf("not clean: pickles %d, break %v, limit %q, anomalies %v", res.Pickles, res.Malformed, res.Limit, res.Anomalies)
			}
		})
	}
}

func TestTorchModule(t *testing.T) {
	// A whole nn.Module is made by NEWOBJ and BUILD, which run no
	// __init__: constructions, not calls.
	res := scan(t, readFixture(t, "torch_module.pkl"), Options{Pickles: 1})
	var constructed []string
	for _, c := range res.Calls {
		if c.Construct && c.Op == "NEWOBJ" {
			constructed = append(constructed, c.Callee)
		}
	}
	want := []string{"torch.nn.modules.container.Sequential", "torch.nn.modules.linear.Linear", "torch.nn.modules.activation.ReLU"}
	if diff := cmp.Diff(want, constructed); diff != "" {
		t.Errorf("constructed (-want +got):\n%s", diff)
	}
	if res.PersistentIDs != 2 {
		t.Errorf("PersistentIDs = %d, want 2", res.PersistentIDs)
	}
}

func TestFrames(t *testing.T) {
	hidden := glob("os", "system") + mark + str0("x") + tuple + reduce + stop
	tests := []struct {
		name      string
		in        []byte
		anomalies []string
		brk       string
		callees   []string
		pickles   int
	}{
		{
			// The Python unpickler runs a frame cut short.
			name:      "overrun_holding_a_pickle",
			in:        cat(proto(4), frame(100), sglobal("os", "system"), sbu("id"), tuple1, reduce, stop),
			anomalies: []string{"frame-overrun"},
			callees:   []string{"os.system"},
			pickles:   1,
		},
		{
			name:      "overrun_cut_short",
			in:        cat(proto(4), frame(100), none),
			anomalies: []string{"frame-overrun"},
			brk:       "data ends before STOP",
		},
		{
			name:      "opcode_straddles_frame_end",
			in:        cat(proto(4), frame(3), sglobal("os", "system"), sbu("id"), tuple1, reduce, stop),
			anomalies: []string{"frame-straddle"},
			callees:   []string{"os.system"},
			pickles:   1,
		},
		{
			name:      "frame_inside_frame",
			in:        cat(proto(4), frame(12), none, frame(2), pop, none, stop),
			anomalies: []string{"frame-nested"},
			pickles:   1,
		},
		{
			// The Python unpickler drops the rest of a frame after STOP;
			// the C one reads a next pickle from there.
			name:      "stop_before_frame_end_hides_a_pickle",
			in:        cat(proto(4), frame(uint64(2+len(hidden))), none, stop, hidden),
			anomalies: []string{"frame-unused"},
			callees:   []string{"os.system"},
			pickles:   2,
		},
		{
			name:    "empty_frame",
			in:      cat(proto(4), frame(0), none, stop),
			pickles: 1,
		},
		{
			name:    "frames_as_cpython_writes_them",
			in:      cat(proto(4), frame(2), none, pop, frame(2), none, stop),
			pickles: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := scan(t, tt.in, Options{})
			if diff := cmp.Diff(tt.anomalies, anomalies(res)); diff != "" {
				t.Errorf("anomalies (-want +got):\n%s", diff)
			}
			if got := breakReason(res); got != tt.brk {
				t.Errorf("break = %q, want %q", got, tt.brk)
			}
			var got []string
			for _, c := range res.Calls {
				got = append(got, c.Callee)
			}
			if diff := cmp.Diff(tt.callees, got); diff != "" {
				t.Errorf("callees (-want +got):\n%s", diff)
			}
			if res.Pickles != tt.pickles {
				t.Errorf("Pickles = %d, want %d", res.Pickles, tt.pickles)
			}
		})
	}
}

func TestConcatenated(t *testing.T) {
	benign := readFixture(t, "proto2_benign.pkl")
	evil := readFixture(t, "proto4_os_system.pkl")
	both := append(append([]byte(nil), benign...), evil...)

	res := scan(t, both, Options{})
	if res.Pickles != 2 || res.End != int64(len(both)) {
		t.Errorf("Pickles = %d, End = %d; want 2, %d", res.Pickles, res.End, len(both))
	}
	last := res.Calls[len(res.Calls)-1]
	if last.Callee != "posix.system" || last.Pickle != 1 {
		t.Errorf("last call = %+v, want posix.system in pickle 1", last)
	}
	if i := res.Imports[len(res.Imports)-1]; i.Pickle != 1 || i.Offset <= int64(len(benign)) {
		t.Errorf("last import = %+v, want it in pickle 1", i)
	}

	res = scan(t, both, Options{Pickles: 1})
	if res.Pickles != 1 || res.End != int64(len(benign)) || len(res.Anomalies) > 0 {
		t.Errorf("Pickles 1: got %d pickles, End %d, anomalies %v", res.Pickles, res.End, res.Anomalies)
	}
	for _, c := range res.Calls {
		if c.Callee == "posix.system" {
			t.Errorf("read past the first pickle: %v", c)
		}
	}
}

func TestTrailingData(t *testing.T) {
	benign := readFixture(t, "proto4_benign.pkl")
	for _, tail := range []string{"hello world\n", "\x00\x00\x00", "\n"} {
		res := scan(t, cat(string(benign), tail), Options{})
		if res.Malformed != nil || res.Pickles != 1 {
			t.Errorf("%q: break %v, pickles %d", tail, res.Malformed, res.Pickles)
		}
		want := []Anomaly{{Offset: int64(len(benign)), Kind: "trailing-data", Detail: fmt.Sprintf("%d bytes after the last STOP are no pickle", len(tail))}}
		if diff := cmp.Diff(want, res.Anomalies); diff != "" {
			t.Errorf("%q: anomalies (-want +got):\n%s", tail, diff)
		}
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".py") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			b := readFixture(t, name)
			opt := Options{}
			if strings.HasSuffix(name, ".pt") {
				opt.Pickles = 5
			}
			full := scan(t, b, opt)
			payload := int64(-1) // offset of the first call of posix.system
			for _, c := range full.Calls {
				if c.Callee == "posix.system" {
					payload = c.Offset
					break
				}
			}
			// Every cut of the small files; a sample of the larger ones,
			// to keep the suite fast.
			step := 1
			if len(b) > 2048 {
				step = 13
			}
			for i := 0; i < int(full.End); i += step {
				res := scan(t, b[:i], opt)
				if res.Malformed == nil || !res.Malformed.Truncated {
					t.Fatalf("cut at %d: break %v, want a truncation", i, res.Malformed)
				}
				if res.Malformed.Offset > int64(i) {
					t.Fatalf("cut at %d: break at %d", i, res.Malformed.Offset)
				}
				found := false
				for _, c := range res.Calls {
					found = found || c.Callee == "posix.system"
				}
				if payload >= 0 && found != (int64(i) > payload) {
					t.Fatalf("cut at %d: payload found %v, its REDUCE is at %d", i, found, payload)
				}
			}
		})
	}
}

func TestJoblib(t *testing.T) {
	for _, tt := range []struct {
		file    string
		pickles int
	}{
		{"sklearn_logreg.joblib", 1},
		{"joblib_object.joblib", 2},
		{"joblib_dtypes.joblib", 1},
		{"joblib_noalign.joblib", 1},
		{"joblib_old.joblib", 1},
	} {
		b := readFixture(t, tt.file)
		res := scan(t, b, Options{})
		if res.Malformed != nil || len(res.Anomalies) > 0 || res.Pickles != tt.pickles || res.End != int64(len(b)) {
			t.Errorf("%s: break %v, anomalies %v, pickles %d (want %d), end %d of %d",
				tt.file, res.Malformed, res.Anomalies, res.Pickles, tt.pickles, res.End, len(b))
		}
	}

	// The object array's own pickle runs too: its imports count.
	res := scan(t, readFixture(t, "joblib_object.joblib"), Options{})
	nested := false
	for _, i := range res.Imports {
		nested = nested || (i.Module+"."+i.Name == "numpy.core.multiarray._reconstruct" && i.Pickle == 1)
	}
	if !nested {
		t.Errorf("no import from the nested pickle: %v", res.Imports)
	}

	// Cut inside the first array's bytes.
	b := readFixture(t, "sklearn_logreg.joblib")
	cut := 0
	for _, c := range scan(t, b, Options{}).Calls {
		if strings.HasSuffix(c.Callee, "NumpyArrayWrapper.__setstate__") {
			cut = int(c.Offset) + 5
			break
		}
	}
	res = scan(t, b[:cut], Options{})
	if res.Malformed == nil || !res.Malformed.Truncated || !strings.Contains(res.Malformed.Reason, "joblib array") {
		t.Errorf("cut array: break %v", res.Malformed)
	}
}

// wrapper assembles a NumpyArrayWrapper as joblib pickles it, with the
// given dtype string and shape (the items of a tuple), then data.
func wrapper(dtype, shape, data string) []byte {
	dt := call(sglobal("numpy", "dtype"), sbu(dtype), "\x89", newTrue)
	return cat(proto(4), sglobal("joblib.numpy_pickle", "NumpyArrayWrapper"), emptyTup, newObj,
		emptyDict, mark, sbu("dtype"), dt, sbu("shape"), mark+shape+tuple, setItems, build, data, stop)
}

func TestJoblibCrafted(t *testing.T) {
	evil := call(glob("os", "system"), str0("x")) + stop
	tests := []struct {
		name      string
		in        []byte
		brk       string
		anomalies []string
		callees   []string
	}{
		{name: "numeric", in: wrapper("i2", binint1(3), "\x01\x00\x02\x00\x03\x00"), callees: []string{"numpy.dtype"}},
		{name: "zero_dim", in: wrapper("f8", "", "12345678"), callees: []string{"numpy.dtype"}},
		{name: "empty", in: wrapper("f8", binint1(0)+binint1(9), ""), callees: []string{"numpy.dtype"}},
		{name: "unicode", in: wrapper("U2", binint1(1), "abcdefgh"), callees: []string{"numpy.dtype"}},
		{name: "objects_run_their_pickle", in: wrapper("O8", binint1(1), evil), callees: []string{"numpy.dtype", "os.system"}},
		{name: "too_short", in: wrapper("i8", binint1(2), "1234567"), brk: "joblib array of 2 × 8 bytes, 8 left", callees: []string{"numpy.dtype"}},
		{name: "huge_shape", in: wrapper("i8", "J\xff\xff\xff\x7fJ\xff\xff\xff\x7fJ\xff\xff\xff\x7f", ""), brk: "joblib array", callees: []string{"numpy.dtype"}},
		{name: "unknown_dtype", in: wrapper("x9", binint1(1), "x"), brk: "unknown dtype", anomalies: []string{"joblib-array"}, callees: []string{"numpy.dtype"}},
		{name: "shape_not_ints", in: wrapper("i1", sbu("x"), "x"), brk: "shape is no tuple of ints", anomalies: []string{"joblib-array"}, callees: []string{"numpy.dtype"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := scan(t, tt.in, Options{})
			if got := breakReason(res); (tt.brk == "") != (got == "") || !strings.Contains(got, tt.brk) {
				t.Errorf("break = %q, want %q", got, tt.brk)
			}
			if diff := cmp.Diff(tt.anomalies, anomalies(res)); diff != "" {
				t.Errorf("anomalies (-want +got):\n%s", diff)
			}
			var got []string
			for _, c := range res.Calls {
				if !strings.Contains(c.Callee, "NumpyArrayWrapper") {
					got = append(got, c.Callee)
				}
			}
			if diff := cmp.Diff(tt.callees, got); diff != "" {
				t.Errorf("callees (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	benign := readFixture(t, "proto2_benign.pkl")
	two := cat(string(benign), string(benign))
	chain := cat(proto(4), call(call(sglobal("builtins", "getattr"), call(sglobal("importlib", "import_module"), sbu("os")), sbu("system")), sbu("id")), stop)
	tests := []struct {
		name string
		in   []byte
		lim  Limits
	}{
		{"opcodes", benign, Limits{Opcodes: 3}},
		{"memo", benign, Limits{Memo: 2}},
		{"stack", cat(none, none, none, none, none, stop), Limits{Stack: 3}},
		{"bytes", benign, Limits{Bytes: 16}},
		{"pickles", two, Limits{Pickles: 1}},
		{"values", benign, Limits{Values: 8}},
		{"records", chain, Limits{Records: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := scan(t, tt.in, Options{Limits: tt.lim})
			if res.Limit != tt.name {
				t.Errorf("Limit = %q, want %q", res.Limit, tt.name)
			}
			if res.Malformed != nil {
				t.Errorf("a limit is no break: %v", res.Malformed)
			}
		})
	}
	// And none of them is hit by the same streams with the defaults.
	for _, in := range [][]byte{benign, two, chain} {
		if res := scan(t, in, Options{}); res.Limit != "" {
			t.Errorf("default limits hit: %q", res.Limit)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	data := bigPickle(10000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Scan(ctx, bytes.NewReader(data), int64(len(data)), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res == nil || res.Opcodes == 0 || res.Opcodes > 4096 {
		t.Errorf("result %+v, want a few thousand opcodes read", res)
	}
}

type failingReader struct {
	data []byte
	at   int64 // reads reaching past this fail
}

var errDisk = errors.New("disk on fire")

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.at {
		return 0, errDisk
	}
	return copy(p, r.data[off:]), nil
}

func TestReadErrors(t *testing.T) {
	data := bigPickle(200000)
	_, err := Scan(context.Background(), failingReader{data, 300 << 10}, int64(len(data)), Options{})
	if !errors.Is(err, errDisk) {
		t.Errorf("err = %v, want %v", err, errDisk)
	}
	// A size larger than the data is a read error, not a truncation.
	_, err = Scan(context.Background(), bytes.NewReader(data[:100]), 200, Options{})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want io.ErrUnexpectedEOF", err)
	}
}

// sparseReader holds a stream whose middle is a payload of zeros that is
// never stored, and counts the bytes read.
type sparseReader struct {
	head, tail []byte
	gap        int64
	read       int64
}

func (r *sparseReader) size() int64 { return int64(len(r.head)) + r.gap + int64(len(r.tail)) }

func (r *sparseReader) ReadAt(p []byte, off int64) (int, error) {
	r.read += int64(len(p))
	for i := range p {
		o := off + int64(i)
		switch {
		case o < int64(len(r.head)):
			p[i] = r.head[o]
		case o < int64(len(r.head))+r.gap:
			p[i] = 0
		case o < r.size():
			p[i] = r.tail[o-int64(len(r.head))-r.gap]
		default:
			return i, io.EOF
		}
	}
	return len(p), nil
}

func TestPayloadsSkippedUnread(t *testing.T) {
	const gap = 8 << 30 // an 8 GiB BINBYTES8, as protocol 5 writes tensors
	head := cat(proto(5), sbu("os"), binput(0), pop, "\x8e"+le32(0)+le32(2), "")
	r := &sparseReader{
		head: head,
		gap:  gap,
		tail: cat(pop, binget(0), sbu("system"), stackGlob, sbu("id"), tuple1, reduce, stop),
	}
	res, err := Scan(context.Background(), r, r.size(), Options{})
	if err != nil || res.Malformed != nil {
		t.Fatalf("err %v, break %v", err, res.Malformed)
	}
	if len(res.Calls) != 1 || res.Calls[0].Callee != "os.system" {
		t.Errorf("calls = %v", res.Calls)
	}
	if r.read > 2*windowSize {
		t.Errorf("read %d bytes of a %d-byte stream", r.read, r.size())
	}
}

func TestWindowBoundaries(t *testing.T) {
	// Protocol-0 lines that cross window refills, one longer than the
	// window, and names memoized at the start and used at the end, long
	// after the window has moved past them.
	var b strings.Builder
	b.WriteString(proto(4) + bu("os") + binput(0) + bu("system") + binput(1) + pop + pop)
	b.WriteString(emptyList + mark)
	for i := range 700 {
		b.WriteString(str0(strings.Repeat(string(rune('a'+i%26)), 999)))
	}
	b.WriteString(appends + pop)
	b.WriteString(str0(strings.Repeat("z", windowSize+1000)) + pop)
	b.WriteString(binget(0) + binget(1) + stackGlob + str0("id") + tuple1 + reduce + stop)
	res := scan(t, []byte(b.String()), Options{})
	if res.Malformed != nil || res.Pickles != 1 {
		t.Fatalf("break %v", res.Malformed)
	}
	if diff := cmp.Diff([]callSum{{Callee: "os.system", Op: "REDUCE"}}, calls(res)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// heapGrowth runs f and reports how many bytes it allocated.
func heapGrowth(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestMemoExpansion(t *testing.T) {
	// One list appended into itself two million times through the memo:
	// CPython holds 2M references; the scanner must not.
	var b strings.Builder
	b.WriteString(emptyList + binput(0))
	for range 2000 {
		b.WriteString(mark + strings.Repeat(binget(0), 1000) + appends)
	}
	b.WriteString(stop)
	in := []byte(b.String())
	var res *Result
	grew := heapGrowth(func() { res = scan(t, in, Options{}) })
	if res.Malformed != nil || res.Limit != "" || res.Opcodes < 2_000_000 {
		t.Fatalf("break %v, limit %q, %d opcodes", res.Malformed, res.Limit, res.Opcodes)
	}
	if grew > 4<<20 {
		t.Errorf("allocated %d bytes for a %d-byte stream", grew, len(in))
	}
}

func TestValuesBoundMemory(t *testing.T) {
	// A chain of tuples, each holding the previous one: every object
	// stays live, so only Limits.Values stops the growth.
	var b strings.Builder
	b.WriteString(none)
	for range 1 << 20 {
		b.WriteString(dup + tuple2)
	}
	b.WriteString(stop)
	in := []byte(b.String())
	var res *Result
	lim := Limits{Values: 1 << 20}
	grew := heapGrowth(func() { res = scan(t, in, Options{Limits: lim}) })
	if res.Limit != "values" {
		t.Fatalf("Limit = %q, want values", res.Limit)
	}
	// About 40 bytes a unit, with room for the window and slices.
	if per := grew / uint64(lim.Values); per > 64 {
		t.Errorf("allocated %d bytes, %d per unit of Values", grew, per)
	}
}

func TestLargeStream(t *testing.T) {
	if testing.Short() {
		t.Skip("9M opcodes")
	}
	data := bigPickle(benchItems)
	res := scan(t, data, Options{})
	if res.Malformed != nil || res.Limit != "" || len(res.Anomalies) > 0 || res.Pickles != 1 || res.End != int64(len(data)) {
		t.Fatalf("break %v, limit %q, anomalies %v", res.Malformed, res.Limit, res.Anomalies)
	}
	if res.Opcodes < 9_000_000 {
		t.Errorf("%d opcodes, want some 9M", res.Opcodes)
	}
	if res.PayloadOps || len(res.Imports) > 0 || len(res.Calls) > 0 {
		t.Errorf("a list of numbers and strings imports or calls: %v %v", res.Imports, res.Calls)
	}
}

func TestConcurrentScans(t *testing.T) {
	// Scan keeps no shared state: the pipeline runs it on many files at
	// once (checked under -race).
	files, _ := filepath.Glob("testdata/*.pkl")
	done := make(chan []string)
	for range 4 {
		go func() {
			var got []string
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Error(err)
					continue
				}
				res, err := Scan(context.Background(), bytes.NewReader(b), int64(len(b)), Options{})
				got = append(got, fmt.Sprint(len(res.Calls), res.Malformed == nil, err))
			}
			done <- got
		}()
	}
	first := <-done
	for range 3 {
		if diff := cmp.Diff(first, <-done); diff != "" {
			t.Errorf("scans differ (-first +other):\n%s", diff)
		}
	}
}
