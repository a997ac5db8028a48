package rules

import "github.com/chainvet/chainvet/internal/inventory"

// pkgcodeRules are the rules of code that runs when a package is installed
// or imported.
var pkgcodeRules = []Rule{
	{ID: "package/install-script", Severity: inventory.High,
		Summary: "A package runs a command or build script at install time that uses the network or spawns processes",
		Help: "setup.py, hatch_build.py, in-tree build backends and npm preinstall/install/postinstall/prepare scripts run with the installing user's rights. " +
			"Network use or downloads piped to a shell are high or critical; plain scripts are low and routine native builds (node-gyp rebuild, prebuild-install) info. " +
			"Read the script before installing; install npm packages with --ignore-scripts and Python packages from reviewed wheels where scripts are not needed."},
	{ID: "package/install-decode-exec", Severity: inventory.Critical,
		Summary: "An install script decodes data and runs it (exec/eval of base64, hex, zlib or chr joins; base64 -d piped to sh)",
		Help:    "Code hidden as data at install time has no legitimate use: do not install the package and report it to the index or registry."},
	{ID: "package/install-credentials", Severity: inventory.High,
		Summary: "An install script reads credential files (~/.ssh, ~/.aws, ~/.npmrc…) or dumps the environment; critical with network use",
		Help:    "Reading secrets at install is how packages steal tokens. Do not install; rotate every credential on machines that did."},
	{ID: "package/pth-exec", Severity: inventory.High,
		Summary: "A .pth file has an import line, which Python runs at every start; critical when it execs, decodes or fetches code",
		Help: "site.py executes .pth lines that start with import before any program's own code. Known tool shims (_distutils_hack, _virtualenv) are low; " +
			"anything else should be traced to the package that installed it."},
	{ID: "package/native-in-pure", Severity: inventory.High,
		Summary: "A wheel tagged pure Python (none-any) carries a native ELF, Mach-O or PE binary",
		Help:    "No installer builds or needs a binary in a pure wheel: find what loads it (ctypes, subprocess) before installing."},
	{ID: "package/malformed", Severity: inventory.Medium,
		Summary: "A build script or package.json cannot be parsed: the installer may read it differently than the scan",
		Help:    "Review the file by hand."},
}
