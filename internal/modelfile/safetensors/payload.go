package safetensors

import (
	"bytes"
	"encoding/binary"

	"github.com/chainvet/chainvet/internal/modelfile/pickle"
)

// magics are the leading bytes of formats that carry code or hide files,
// strong enough to name alone. Weak ones (lzma, zlib, a bare "MZ") are left
// out: tensor bytes match them by chance.
var magics = []struct {
	prefix, kind string
}{
	{"\x7fELF", "an ELF executable"},
	{"\xfe\xed\xfa\xce", "a Mach-O executable"},
	{"\xfe\xed\xfa\xcf", "a Mach-O executable"},
	{"\xce\xfa\xed\xfe", "a Mach-O executable"},
	{"\xcf\xfa\xed\xfe", "a Mach-O executable"},
	{"PK\x03\x04", "a zip archive"},
	{"PK\x05\x06", "a zip archive"},
	{"PK\x07\x08", "a zip archive"},
	{"7z\xbc\xaf\x27\x1c", "a 7z archive"},
	{"\x1f\x8b\x08", "a gzip stream"},
	{"\xfd7zXZ\x00", "an xz stream"},
	{"\x93NUMPY", "a NumPy array"},
	{"GGUF", "a GGUF model"},
	{"#!", "a script"},
}

// Payload names what b, the first bytes of a region no tensor claims,
// begins with when that is code, a model or a container: "a pickle", "a zip
// archive", "an ELF executable" and so on; "" when nothing is recognised.
// GGUF's checks use it too.
func Payload(b []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(b, []byte(m.prefix)) {
			return m.kind
		}
	}
	if len(b) >= 4 && string(b[:3]) == "BZh" && b[3] >= '1' && b[3] <= '9' {
		return "a bzip2 stream"
	}
	if len(b) >= 262 && string(b[257:262]) == "ustar" {
		return "a tar archive"
	}
	// A PE file is "MZ" and, where the DOS header points, "PE\0\0".
	if len(b) >= 0x40 && string(b[:2]) == "MZ" {
		if e := int(binary.LittleEndian.Uint32(b[0x3c:])); e >= 0x40 && e <= len(b)-4 && string(b[e:e+4]) == "PE\x00\x00" {
			return "a PE executable"
		}
	}
	if pickle.Sniff(b) {
		return "a pickle"
	}
	return ""
}
