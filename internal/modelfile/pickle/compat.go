package pickle

import "strings"

// CPython's unpickler maps Python 2 names to their Python 3 homes when it
// reads a pickle of protocol 0, 1 or 2 (fix_imports, on by default): a
// stream that says __builtin__.eval or commands.getoutput gets
// builtins.eval and subprocess.getoutput. The tables below hold those
// mappings; names first, then whole modules.

// compatNames maps module and name pairs.
var compatNames = map[[2]string][2]string{
	{"__builtin__", "xrange"}:                  {"builtins", "range"},
	{"__builtin__", "reduce"}:                  {"functools", "reduce"},
	{"__builtin__", "intern"}:                  {"sys", "intern"},
	{"__builtin__", "unichr"}:                  {"builtins", "chr"},
	{"__builtin__", "unicode"}:                 {"builtins", "str"},
	{"__builtin__", "long"}:                    {"builtins", "int"},
	{"__builtin__", "basestring"}:              {"builtins", "str"},
	{"itertools", "izip"}:                      {"builtins", "zip"},
	{"itertools", "imap"}:                      {"builtins", "map"},
	{"itertools", "ifilter"}:                   {"builtins", "filter"},
	{"itertools", "ifilterfalse"}:              {"itertools", "filterfalse"},
	{"itertools", "izip_longest"}:              {"itertools", "zip_longest"},
	{"UserDict", "IterableUserDict"}:           {"collections", "UserDict"},
	{"UserDict", "UserDict"}:                   {"collections", "UserDict"},
	{"UserList", "UserList"}:                   {"collections", "UserList"},
	{"UserString", "UserString"}:               {"collections", "UserString"},
	{"whichdb", "whichdb"}:                     {"dbm", "whichdb"},
	{"_socket", "fromfd"}:                      {"socket", "fromfd"},
	{"socket", "_socketobject"}:                {"socket", "SocketType"},
	{"_multiprocessing", "Connection"}:         {"multiprocessing.connection", "Connection"},
	{"multiprocessing.process", "Process"}:     {"multiprocessing.context", "Process"},
	{"multiprocessing.forking", "Popen"}:       {"multiprocessing.popen_fork", "Popen"},
	{"urllib", "ContentTooShortError"}:         {"urllib.error", "ContentTooShortError"},
	{"urllib", "getproxies"}:                   {"urllib.request", "getproxies"},
	{"urllib", "pathname2url"}:                 {"urllib.request", "pathname2url"},
	{"urllib", "quote_plus"}:                   {"urllib.parse", "quote_plus"},
	{"urllib", "quote"}:                        {"urllib.parse", "quote"},
	{"urllib", "unquote_plus"}:                 {"urllib.parse", "unquote_plus"},
	{"urllib", "unquote"}:                      {"urllib.parse", "unquote"},
	{"urllib", "url2pathname"}:                 {"urllib.request", "url2pathname"},
	{"urllib", "urlcleanup"}:                   {"urllib.request", "urlcleanup"},
	{"urllib", "urlencode"}:                    {"urllib.parse", "urlencode"},
	{"urllib", "urlopen"}:                      {"urllib.request", "urlopen"},
	{"urllib", "urlretrieve"}:                  {"urllib.request", "urlretrieve"},
	{"urllib2", "HTTPError"}:                   {"urllib.error", "HTTPError"},
	{"urllib2", "URLError"}:                    {"urllib.error", "URLError"},
	{"exceptions", "StandardError"}:            {"builtins", "Exception"},
	{"multiprocessing", "AuthenticationError"}: {"multiprocessing.context", "AuthenticationError"},
	{"multiprocessing", "BufferTooShort"}:      {"multiprocessing.context", "BufferTooShort"},
	{"multiprocessing", "ProcessError"}:        {"multiprocessing.context", "ProcessError"},
	{"multiprocessing", "TimeoutError"}:        {"multiprocessing.context", "TimeoutError"},
}

// compatModules maps whole modules.
var compatModules = map[string]string{
	"__builtin__":        "builtins",
	"copy_reg":           "copyreg",
	"commands":           "subprocess",
	"cPickle":            "pickle",
	"cStringIO":          "io",
	"StringIO":           "io",
	"thread":             "_thread",
	"dummy_thread":       "_dummy_thread",
	"Queue":              "queue",
	"SocketServer":       "socketserver",
	"ConfigParser":       "configparser",
	"repr":               "reprlib",
	"httplib":            "http.client",
	"urllib2":            "urllib.request",
	"urlparse":           "urllib.parse",
	"robotparser":        "urllib.robotparser",
	"BaseHTTPServer":     "http.server",
	"SimpleHTTPServer":   "http.server",
	"CGIHTTPServer":      "http.server",
	"Cookie":             "http.cookies",
	"cookielib":          "http.cookiejar",
	"htmlentitydefs":     "html.entities",
	"HTMLParser":         "html.parser",
	"markupbase":         "_markupbase",
	"xmlrpclib":          "xmlrpc.client",
	"SimpleXMLRPCServer": "xmlrpc.server",
	"DocXMLRPCServer":    "xmlrpc.server",
	"anydbm":             "dbm",
	"whichdb":            "dbm",
	"dbhash":             "dbm.bsd",
	"dumbdbm":            "dbm.dumb",
	"dbm":                "dbm.ndbm",
	"gdbm":               "dbm.gnu",
	"UserDict":           "collections",
	"UserList":           "collections",
	"UserString":         "collections",
	"_abcoll":            "collections.abc",
	"_elementtree":       "xml.etree.ElementTree",
	"_winreg":            "winreg",
	"test.test_support":  "test.support",
	"Tkinter":            "tkinter",
	"Tkconstants":        "tkinter.constants",
	"Tkdnd":              "tkinter.dnd",
	"Tix":                "tkinter.tix",
	"ttk":                "tkinter.ttk",
	"Dialog":             "tkinter.dialog",
	"FileDialog":         "tkinter.filedialog",
	"SimpleDialog":       "tkinter.simpledialog",
	"ScrolledText":       "tkinter.scrolledtext",
	"tkColorChooser":     "tkinter.colorchooser",
	"tkCommonDialog":     "tkinter.commondialog",
	"tkFileDialog":       "tkinter.filedialog",
	"tkFont":             "tkinter.font",
	"tkMessageBox":       "tkinter.messagebox",
	"tkSimpleDialog":     "tkinter.simpledialog",
}

// exceptionsModule is Python 2's home of the built-in exceptions; CPython
// maps each of them (and no other name) to builtins.
const exceptionsModule = "exceptions"

// compat returns the module and name CPython imports for a Python 2 pair.
func compat(mod, name string) (string, string, bool) {
	if to, ok := compatNames[[2]string{mod, name}]; ok {
		return to[0], to[1], true
	}
	if mod == exceptionsModule && builtinException(name) {
		return "builtins", name, true
	}
	if to, ok := compatModules[mod]; ok {
		return to, name, true
	}
	return mod, name, false
}

func builtinException(name string) bool {
	switch name {
	case "BaseException", "Exception", "GeneratorExit", "KeyboardInterrupt", "StopIteration", "SystemExit":
		return true
	}
	return strings.HasSuffix(name, "Error") || strings.HasSuffix(name, "Warning")
}
