package globals

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// got is the part of a Class the table tests compare: Reason is prose.
type got struct {
	Verdict  Verdict
	Category string
	Entry    string
	Calls    []int
	Builds   []int
}

func project(c Class) got {
	return got{c.Verdict, c.Category, c.Entry, c.Calls, c.Builds}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		want got
	}{
		// Processes, code and imports.
		{"os.system", got{Dangerous, "process", "os.*", nil, nil}},
		{"posix.system", got{Dangerous, "process", "posix.*", nil, nil}},
		{"nt.spawnv", got{Dangerous, "process", "nt.*", nil, nil}},
		{"subprocess.check_output", got{Dangerous, "process", "subprocess.*", nil, nil}},
		{"pty.spawn", got{Dangerous, "process", "pty.*", nil, nil}},
		{"webbrowser.open", got{Dangerous, "process", "webbrowser.*", nil, nil}},
		{"uuid._get_command_stdout", got{Dangerous, "process", "uuid._get_command_stdout", nil, nil}},
		{"platform.popen", got{Dangerous, "process", "platform.popen", nil, nil}},
		{"builtins.eval", got{Dangerous, "exec", "builtins.eval", nil, nil}},
		{"builtins.exec", got{Dangerous, "exec", "builtins.exec", nil, nil}},
		{"builtins.compile", got{Dangerous, "code", "builtins.compile", nil, nil}},
		{"builtins.open", got{Dangerous, "filesystem", "builtins.open", nil, nil}},
		{"builtins.getattr", got{Dangerous, "introspection", "builtins.getattr", nil, nil}},
		{"builtins.__import__", got{Dangerous, "import", "builtins.__import__", nil, nil}},
		{"builtins.map", got{Dangerous, "code", "builtins.map", nil, nil}},
		{"runpy._run_code", got{Dangerous, "exec", "runpy.*", nil, nil}},
		{"timeit.timeit", got{Dangerous, "exec", "timeit.*", nil, nil}},
		{"cProfile.runctx", got{Dangerous, "exec", "cProfile.*", nil, nil}},
		{"pdb.run", got{Dangerous, "exec", "pdb.*", nil, nil}},
		{"bdb.Bdb.run", got{Dangerous, "exec", "bdb.*", nil, nil}},
		{"code.InteractiveInterpreter.runcode", got{Dangerous, "exec", "code.InteractiveInterpreter", nil, nil}},
		{"types.CodeType", got{Dangerous, "code", "types.CodeType", nil, nil}},
		{"ctypes.CDLL", got{Dangerous, "code", "ctypes.*", nil, nil}},
		{"importlib.import_module", got{Dangerous, "import", "importlib.*", nil, nil}},
		{"pkgutil.resolve_name", got{Dangerous, "import", "pkgutil.*", nil, nil}},
		{"sys.modules", got{Dangerous, "introspection", "sys.*", nil, nil}},
		{"operator.attrgetter", got{Dangerous, "introspection", "operator.attrgetter", nil, nil}},
		{"functools.reduce", got{Dangerous, "code", "functools.reduce", nil, nil}},
		{"weakref.finalize", got{Dangerous, "code", "weakref.*", nil, nil}},
		{"copyreg._inverted_registry", got{Dangerous, "import", "copyreg._inverted_registry", nil, nil}},
		{"numpy.testing._private.utils.runstring", got{Dangerous, "exec", "numpy.testing.*", nil, nil}},
		{"numpy.core._ufunc_reconstruct", got{Dangerous, "import", "numpy.core._ufunc_reconstruct", nil, nil}},
		{"torch.fx.graph_module.reduce_graph_module", got{Dangerous, "code", "torch.fx.*", nil, nil}},
		{"torch.jit.load", got{Dangerous, "code", "torch.jit.load", nil, nil}},
		{"torch.jit._serialization.load", got{Dangerous, "code", "torch.jit._serialization.*", nil, nil}},
		{"torch.jit._pickle.build_intlist", got{Safe, "torch", "torch.jit._pickle.build_intlist", nil, nil}},
		{"torch.hub.load", got{Dangerous, "network", "torch.hub.*", nil, nil}},

		// Nested deserializers, files and the network.
		{"pickle.loads", got{Dangerous, "deserialize", "pickle.*", nil, nil}},
		{"dill._dill._create_code", got{Dangerous, "deserialize", "dill.*", nil, nil}},
		{"yaml.unsafe_load", got{Dangerous, "deserialize", "yaml.unsafe_load", nil, nil}},
		{"joblib.load", got{Dangerous, "deserialize", "joblib.load", nil, nil}},
		{"joblib.numpy_pickle_compat.NDArrayWrapper", got{Dangerous, "deserialize", "joblib.numpy_pickle_compat", nil, nil}},
		{"sklearn.externals.joblib.load", got{Dangerous, "deserialize", "sklearn.externals.joblib.load", nil, nil}},
		{"sklearn.datasets.fetch_openml", got{Dangerous, "network", "sklearn.datasets.*", nil, nil}},
		{"pandas.read_pickle", got{Dangerous, "deserialize", "pandas.read_pickle", nil, nil}},
		{"torch.storage._load_from_bytes", got{Dangerous, "deserialize", "torch.storage._load_from_bytes", nil, nil}},
		{"torch.FloatStorage.from_file", got{Dangerous, "filesystem", "*.from_file", nil, nil}},
		{"transformers.AutoModel.from_pretrained", got{Dangerous, "network", "*.from_pretrained", nil, nil}},
		{"shutil.rmtree", got{Dangerous, "filesystem", "shutil.*", nil, nil}},
		{"pathlib.Path.write_text", got{Dangerous, "filesystem", "pathlib.Path.write_text", nil, nil}},
		{"logging.FileHandler", got{Dangerous, "filesystem", "logging.FileHandler", nil, nil}},
		{"logging.config.fileConfig", got{Dangerous, "exec", "logging.config.*", nil, nil}},
		{"logging.handlers.SocketHandler", got{Dangerous, "network", "logging.handlers.*", nil, nil}},
		{"socket.create_connection", got{Dangerous, "network", "socket.*", nil, nil}},
		{"ssl.get_server_certificate", got{Dangerous, "network", "ssl.*", nil, nil}},
		{"urllib.request.urlopen", got{Dangerous, "network", "urllib.request.*", nil, nil}},
		{"imaplib.IMAP4_stream", got{Dangerous, "network", "imaplib.*", nil, nil}},
		{"requests.get", got{Dangerous, "network", "requests.*", nil, nil}},

		// torch is safe in places and dangerous in others.
		{"torch.serialization.load", got{Dangerous, "deserialize", "torch.serialization.load", nil, nil}},
		{"torch.load", got{Dangerous, "deserialize", "torch.load", nil, nil}},
		{"torch.serialization._get_layout", got{Safe, "torch", "torch.serialization._get_layout", nil, nil}},
		{"torch._utils._rebuild_tensor_v2", got{Safe, "torch", "torch._utils._rebuild_tensor_v2", nil, nil}},
		{"torch._tensor._rebuild_from_type_v2", got{Safe, "torch", "torch._tensor._rebuild_from_type_v2", []int{1}, []int{2}}},
		{"torch.FloatStorage", got{Safe, "torch", "torch.FloatStorage", nil, nil}},
		{"torch.cuda.HalfStorage", got{Safe, "torch", "torch.cuda.HalfStorage", nil, nil}},
		{"torch.bfloat16", got{Safe, "torch", "torch.bfloat16", nil, nil}},
		{"torch.nn.modules.linear.Linear", got{Construct, "torch", "torch.nn.*", nil, nil}},
		{"torch.optim.adamw.AdamW", got{Construct, "torch", "torch.optim.*", nil, nil}},
		{"torch.nn.parallel.distributed.DistributedDataParallel", got{Dangerous, "network", "torch.nn.parallel.distributed.*", nil, nil}},

		// numpy.load is dangerous, its array rebuilders safe.
		{"numpy.load", got{Dangerous, "filesystem", "numpy.load", nil, nil}},
		{"numpy.lib.npyio.load", got{Dangerous, "deserialize", "numpy.lib.npyio", nil, nil}},
		{"numpy.core.multiarray._reconstruct", got{Safe, "numpy", "numpy.core.multiarray._reconstruct", nil, []int{1}}},
		{"numpy.dtype", got{Safe, "numpy", "numpy.dtype", nil, nil}},
		{"numpy.core._multiarray_umath.log1p", got{Safe, "numpy", "numpy.core._multiarray_umath.log1p", nil, nil}},
		{"numpy.random._pickle.__generator_ctor", got{Safe, "numpy", "numpy.random._pickle.__generator_ctor", []int{2}, nil}},
		{"numpy.random._pickle.__bit_generator_ctor", got{Safe, "numpy", "numpy.random._pickle.__bit_generator_ctor", nil, nil}},
		{"numpy.float64", got{Construct, "numpy", "numpy.float64", nil, nil}},

		// sklearn, joblib, scipy, pandas and the rest.
		{"sklearn.linear_model._logistic.LogisticRegression", got{Construct, "sklearn", "sklearn.*", nil, nil}},
		{"sklearn.tree._tree.Tree", got{Safe, "sklearn", "sklearn.tree._tree.Tree", nil, nil}},
		{"sklearn._loss._loss.__pyx_unpickle_CyHalfSquaredError", got{Safe, "sklearn", "sklearn.*.__pyx_unpickle_*", nil, []int{1}}},
		{"sklearn.neighbors._kd_tree.newObj", got{Safe, "sklearn", "sklearn.neighbors._kd_tree.newObj", nil, []int{1}}},
		{"joblib.numpy_pickle.NumpyArrayWrapper", got{Construct, "joblib", "joblib.numpy_pickle.NumpyArrayWrapper", nil, nil}},
		{"scipy.sparse._csr.csr_matrix", got{Construct, "scipy", "scipy.*", nil, nil}},
		{"scipy.io.loadmat", got{Dangerous, "filesystem", "scipy.io.*", nil, nil}},
		{"pandas.core.frame.DataFrame", got{Construct, "pandas", "pandas.*", nil, nil}},
		{"pandas.core.indexes.base._new_Index", got{Safe, "pandas", "pandas.core.indexes.base._new_Index", nil, []int{1}}},
		{"transformers.models.bert.modeling_bert.BertModel", got{Construct, "transformers", "transformers.models.*", nil, nil}},
		{"transformers.trainer_utils.IntervalStrategy", got{Safe, "transformers", "transformers.trainer_utils.IntervalStrategy", nil, nil}},

		// Python data.
		{"collections.OrderedDict", got{Safe, "python-data", "collections.OrderedDict", nil, nil}},
		{"builtins.set", got{Safe, "python-data", "builtins.set", nil, nil}},
		{"builtins.ValueError", got{Safe, "python-data", "builtins.ValueError", nil, nil}},
		{"copyreg._reconstructor", got{Safe, "python-data", "copyreg._reconstructor", []int{2}, []int{1}}},
		{"functools.partial", got{Safe, "python-data", "functools.partial", nil, nil}},
		{"pathlib.PurePosixPath", got{Safe, "python-data", "pathlib.PurePosixPath", nil, nil}},
		{"pathlib.Path", got{Safe, "python-data", "pathlib.Path", nil, nil}},
		{"io.BytesIO", got{Safe, "python-data", "io.BytesIO", nil, nil}},
		{"uuid.UUID", got{Safe, "python-data", "uuid.UUID", nil, nil}},
		{"re._compile", got{Safe, "python-data", "re._compile", nil, nil}},
		{"argparse.Namespace", got{Safe, "python-data", "argparse.Namespace", nil, nil}},

		// Attribute chains: a dangerous suffix wins, a safe one does not count.
		{"pathlib.os.system", got{Dangerous, "process", "os.*", nil, nil}},
		{"pathlib.os", got{Dangerous, "process", "os.*", nil, nil}},
		{"torch.nn.modules.module.torch.load", got{Dangerous, "deserialize", "torch.load", nil, nil}},
		{"sklearn.utils.validation.np.load", got{Dangerous, "filesystem", "numpy.load", nil, nil}},
		{"random._os.system", got{Dangerous, "process", "os.*", nil, nil}},
		{"x._operator.methodcaller", got{Dangerous, "introspection", "operator.methodcaller", nil, nil}},
		{"torch._utils._rebuild_tensor_v2.__globals__", got{Dangerous, "introspection", "*.__globals__", nil, nil}},
		{"collections.OrderedDict.__class__", got{Dangerous, "introspection", "*.__class__", nil, nil}},
		{"trace.Trace.run", got{Dangerous, "exec", "trace.Trace", nil, nil}},
		{"collections.OrderedDict.fromkeys", got{}},
		{"torch.nn.modules.module.collections.OrderedDict", got{Construct, "torch", "torch.nn.*", nil, nil}},
		{"mylib.torch._utils._rebuild_tensor_v2", got{}},

		// Whole modules cover their submodules.
		{"asyncio.subprocess.create_subprocess_shell", got{Dangerous, "process", "asyncio.*", nil, nil}},
		{"test.support.script_helper.assert_python_ok", got{Dangerous, "process", "test.support.*", nil, nil}},
		{"os.path.join", got{Dangerous, "process", "os.*", nil, nil}},
		{"multiprocessing.popen_fork.Popen", got{Dangerous, "process", "multiprocessing.*", nil, nil}},

		// Python 2 and NumPy 2 names.
		{"__builtin__.eval", got{Dangerous, "exec", "builtins.eval", nil, nil}},
		{"__builtin__.set", got{Safe, "python-data", "builtins.set", nil, nil}},
		{"__builtin__.xrange", got{Safe, "python-data", "builtins.range", nil, nil}},
		{"__builtin__.reduce", got{Dangerous, "code", "functools.reduce", nil, nil}},
		{"__builtin__.apply", got{Dangerous, "code", "builtins.apply", nil, nil}},
		{"copy_reg._reconstructor", got{Safe, "python-data", "copyreg._reconstructor", []int{2}, []int{1}}},
		{"exceptions.ValueError", got{Safe, "python-data", "builtins.ValueError", nil, nil}},
		{"commands.getoutput", got{Dangerous, "process", "subprocess.*", nil, nil}},
		{"cPickle.loads", got{Dangerous, "deserialize", "pickle.*", nil, nil}},
		{"_pickle.loads", got{Dangerous, "deserialize", "pickle.*", nil, nil}},
		{"httplib.HTTPSConnection", got{Dangerous, "network", "http.*", nil, nil}},
		{"_io.FileIO", got{Dangerous, "filesystem", "io.FileIO", nil, nil}},
		{"itertools.imap", got{Dangerous, "code", "builtins.map", nil, nil}},
		{"numpy._core.multiarray._reconstruct", got{Safe, "numpy", "numpy.core.multiarray._reconstruct", nil, []int{1}}},
		{"numpy._core.multiarray.scalar", got{Safe, "numpy", "numpy.core.multiarray.scalar", nil, nil}},

		// Unknown names, and names that only look like dangerous ones.
		{"mylib.helper", got{}},
		{"__main__.TinyNet", got{}},
		{"builtins.type", got{}},
		{"urllib.parse.urlparse", got{}},
		{"mypkg.code.Encoder", got{}},
		{"mypkg.commands.TrainArgs", got{}},
		{"scipy.signal.windows.hann", got{Construct, "scipy", "scipy.*", nil, nil}},
		{"lightning.fabric.utilities.data.AttributeDict", got{Construct, "lightning", "lightning.fabric.utilities.data.AttributeDict", nil, nil}},
		{"langchain.chains.base.Chain.invoke", got{}},
		{"numpy.random._pickle.__randomstate_ctor", got{Safe, "numpy", "numpy.random._pickle.__randomstate_ctor", []int{2}, nil}},
		{"eval", got{}},
		{"", got{}},
		{".", got{}},
		{"os", got{Dangerous, "process", "os.*", nil, nil}},
		{"..os.system", got{Dangerous, "process", "os.*", nil, nil}},

		// Over the limits.
		{strings.Repeat("a.", MaxSegments) + "b", got{Dangerous, "evasion", "", nil, nil}},
		{strings.Repeat("a", MaxNameBytes+1), got{Dangerous, "evasion", "", nil, nil}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, project(Classify(tt.name))); diff != "" {
			t.Errorf("Classify(%q) mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestClassifyReason(t *testing.T) {
	for _, name := range []string{"os.system", "torch._utils._rebuild_tensor_v2", "sklearn.svm._classes.SVC", strings.Repeat("a.", MaxSegments+1)} {
		if c := Classify(name); c.Reason == "" {
			t.Errorf("Classify(%q) = %+v: no reason", name, c)
		}
	}
	if c := Classify("mylib.helper"); c.Reason != "" || c.Entry != "" || c.Category != "" {
		t.Errorf("Classify(mylib.helper) = %+v, want the zero Class", c)
	}
}

// TestClassifyCopies checks that a caller cannot change the list through
// the slices it gets.
func TestClassifyCopies(t *testing.T) {
	c := Classify("copyreg._reconstructor")
	c.Calls[0], c.Builds[0] = 9, 9
	if diff := cmp.Diff(got{Safe, "python-data", "copyreg._reconstructor", []int{2}, []int{1}}, project(Classify("copyreg._reconstructor"))); diff != "" {
		t.Errorf("list changed through a returned slice (-want +got):\n%s", diff)
	}
}

func TestVerdictString(t *testing.T) {
	tests := []struct {
		v    Verdict
		want string
	}{
		{Unknown, "unknown"},
		{Safe, "safe"},
		{Construct, "construct"},
		{Dangerous, "dangerous"},
		{Verdict(7), "verdict(7)"},
		{Verdict(-1), "verdict(-1)"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("Verdict(%d).String() = %q, want %q", int(tt.v), got, tt.want)
		}
	}
}

// readNames reads a testdata list: one dotted name a line, # comments.
func readNames(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && line[0] != '#' {
			names = append(names, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("%s: no names", path)
	}
	return names
}

// TestBenign walks the globals that real benign pickles reference
// (testdata/gen_benign_globals.py writes the lists): each is Safe or
// Construct, and each one those pickles call is Safe.
func TestBenign(t *testing.T) {
	for _, name := range readNames(t, "testdata/benign_globals.txt") {
		if c := Classify(name); c.Verdict != Safe && c.Verdict != Construct {
			t.Errorf("benign global %s: %v (%s: %s)", name, c.Verdict, c.Entry, c.Reason)
		}
	}
	for _, name := range readNames(t, "testdata/benign_calls.txt") {
		if c := Classify(name); c.Verdict != Safe {
			t.Errorf("benign callee %s: %v (%s), want safe", name, c.Verdict, c.Entry)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	for _, bc := range []struct {
		name  string
		names []string
	}{
		{"benign", readNames(b, "testdata/benign_globals.txt")},
		{"dangerous", []string{"os.system", "builtins.eval", "pathlib.os.system", "torch.serialization.load", "sklearn.utils.np.load", "x.__globals__"}},
		{"unknown", []string{"__main__.TinyNet", "mylib.models.layers.Block", "a.b.c.d.e.f.g.h.i.j"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			Classify("") // parse the list outside the timing
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				Classify(bc.names[i%len(bc.names)])
				i++
			}
		})
	}
}
